//! Unit tests of the interpreter: task flow, retries, tokens, Map concurrency, replay.

use std::sync::Arc;

use serde_json::{Value, json};

use super::engine::Interpreter;
use super::event::{Command, Event, ExecutionInfo, Outcome, TaskOutcome, TaskRequest};

const T0: i64 = 1_700_000_000_000;

fn machine(def: Value) -> Arc<crate::asl::StateMachine> {
    match crate::asl::from_value(&def) {
        Ok(m) => Arc::new(m),
        Err(d) => panic!("definition rejected: {d}"),
    }
}

fn start(input: Value) -> Event {
    Event::ExecutionStarted {
        at: T0,
        input,
        execution: ExecutionInfo {
            name: "e1".into(),
            arn: "arn:aws:states:eu-west-1:1:execution:m:e1".into(),
            ..Default::default()
        },
        seed: 7,
    }
}

fn tasks(cmds: &[Command]) -> Vec<TaskRequest> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::ScheduleTask(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

fn timers(cmds: &[Command]) -> Vec<(String, i64)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::StartTimer { timer_id, fire_at } => Some((timer_id.clone(), *fire_at)),
            _ => None,
        })
        .collect()
}

fn types(i: &Interpreter) -> Vec<String> {
    i.history().iter().map(|e| e.event_type.clone()).collect()
}

#[test]
fn task_result_goes_through_result_selector_result_path_output_path() {
    let def = machine(json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:eu-west-1:1:activity:work",
        "InputPath": "$.in", "Parameters": {"x.$": "$.v"},
        "ResultSelector": {"r.$": "$.out"}, "ResultPath": "$.res", "OutputPath": "$.res", "End": true}}}));
    let mut i = Interpreter::new(def);
    let cmds = i.apply(start(json!({"in": {"v": 1}}))).unwrap_or_default();
    let t = tasks(&cmds);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].input, json!({"x": 1}));
    let cmds = i
        .apply(Event::TaskCompleted {
            at: T0 + 5,
            task_id: t[0].task_id.clone(),
            outcome: TaskOutcome::Succeeded(json!({"out": 2})),
        })
        .unwrap_or_default();
    assert!(cmds.contains(&Command::Finish(Outcome::Succeeded(json!({"r": 2})))));
    assert_eq!(
        types(&i),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "ActivityScheduled",
            "ActivityStarted",
            "ActivitySucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[test]
fn retry_waits_with_backoff_then_catches() {
    let def = machine(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
              "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 2}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "C"}]},
        "C": {"Type": "Pass", "End": true}}}));
    let mut i = Interpreter::new(def);
    let mut cmds = i.apply(start(json!({}))).unwrap_or_default();
    let mut delays = Vec::new();
    let mut now = T0;
    for attempt in 0..3 {
        let t = tasks(&cmds);
        assert_eq!(t[0].attempt, attempt);
        let fail = TaskOutcome::Failed {
            error: Some("Boom".into()),
            cause: Some("c".into()),
        };
        cmds = i
            .apply(Event::TaskCompleted {
                at: now,
                task_id: t[0].task_id.clone(),
                outcome: fail,
            })
            .unwrap_or_default();
        if let Some((id, at)) = timers(&cmds).first().cloned() {
            delays.push(at - now);
            now = at;
            cmds = i
                .apply(Event::TimerFired { at, timer_id: id })
                .unwrap_or_default();
        }
    }
    assert_eq!(delays, [2000, 6000]);
    let done = cmds.iter().find_map(|c| match c {
        Command::Finish(Outcome::Succeeded(v)) => Some(v.clone()),
        _ => None,
    });
    assert_eq!(done, Some(json!({"err": {"Error": "Boom", "Cause": "c"}})));
}

#[test]
fn task_token_is_answered_by_token() {
    let def = machine(json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "TimeoutSeconds": 60, "HeartbeatSeconds": 10,
        "Parameters": {"MessageBody": {"token.$": "$$.Task.Token"}}, "End": true}}}));
    let mut i = Interpreter::new(def);
    let cmds = i.apply(start(json!({}))).unwrap_or_default();
    let t = tasks(&cmds);
    let token = t[0].task_token.clone().unwrap_or_default();
    assert_eq!(t[0].input["MessageBody"]["token"], json!(token));
    assert_eq!(
        (t[0].timeout_seconds, t[0].heartbeat_seconds),
        (Some(60), Some(10))
    );
    let cmds = i
        .apply(Event::TokenAnswered {
            at: T0 + 1,
            token,
            outcome: TaskOutcome::Succeeded(json!({"ok": true})),
        })
        .unwrap_or_default();
    assert!(cmds.contains(&Command::Finish(Outcome::Succeeded(json!({"ok": true})))));
}

#[test]
fn heartbeat_timeout_is_not_a_task_failed() {
    let def = machine(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "HeartbeatSeconds": 5, "End": true,
              "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "H"}]},
        "H": {"Type": "Pass", "Result": "timed out", "End": true}}}));
    let mut i = Interpreter::new(def);
    let cmds = i.apply(start(json!({}))).unwrap_or_default();
    let id = tasks(&cmds)[0].task_id.clone();
    let cmds = i
        .apply(Event::HeartbeatTimedOut {
            at: T0 + 5000,
            task_id: id,
        })
        .unwrap_or_default();
    assert!(cmds.contains(&Command::Finish(Outcome::Succeeded(json!("timed out")))));
}

#[test]
fn map_runs_at_most_max_concurrency_tasks_at_once() {
    let def = machine(json!({"StartAt": "M", "States": {"M": {
        "Type": "Map", "MaxConcurrency": 2, "End": true,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}}}}));
    let mut i = Interpreter::new(def);
    let cmds = i.apply(start(json!([1, 2, 3, 4, 5]))).unwrap_or_default();
    let mut pending = tasks(&cmds);
    assert_eq!(pending.len(), 2);
    let mut finished = None;
    while let Some(t) = pending.pop() {
        let out = t.input.clone();
        let cmds = i
            .apply(Event::TaskCompleted {
                at: T0,
                task_id: t.task_id,
                outcome: TaskOutcome::Succeeded(out),
            })
            .unwrap_or_default();
        pending.extend(tasks(&cmds));
        assert!(pending.len() <= 2);
        finished = finished.or(cmds.into_iter().find(|c| matches!(c, Command::Finish(_))));
    }
    assert_eq!(
        finished,
        Some(Command::Finish(Outcome::Succeeded(json!([1, 2, 3, 4, 5]))))
    );
}

#[test]
fn replaying_the_same_events_rebuilds_the_same_state() {
    let def = machine(json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Parameters": {"id.$": "States.UUID()", "r.$": "States.MathRandom(1, 1000)"}, "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 3, "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
              "Retry": [{"ErrorEquals": ["States.ALL"], "JitterStrategy": "FULL"}]}}}));
    let mut first = Interpreter::new(Arc::clone(&def));
    let mut events = vec![start(json!({}))];
    let cmds = first.apply(events[0].clone()).unwrap_or_default();
    let (timer, at) = timers(&cmds)[0].clone();
    events.push(Event::TimerFired {
        at,
        timer_id: timer,
    });
    let cmds = first.apply(events[1].clone()).unwrap_or_default();
    let task = tasks(&cmds)[0].clone();
    events.push(Event::TaskCompleted {
        at: at + 10,
        task_id: task.task_id.clone(),
        outcome: TaskOutcome::Failed {
            error: Some("E".into()),
            cause: None,
        },
    });
    let retry_cmds = first.apply(events[2].clone()).unwrap_or_default();

    let mut second = Interpreter::new(def);
    let mut last = Vec::new();
    for e in events {
        last = second.apply(e).unwrap_or_default();
    }
    assert_eq!(last, retry_cmds);
    assert_eq!(first.state(), second.state());
    assert_eq!(first.history(), second.history());
    let restored: super::engine::ExecutionState =
        serde_json::from_value(serde_json::to_value(first.state()).unwrap_or(Value::Null))
            .unwrap_or_default();
    assert_eq!(&restored, first.state());
}

#[test]
fn stop_aborts_and_cancels_the_task() {
    let def = machine(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}),
    );
    let mut i = Interpreter::new(def);
    let cmds = i.apply(start(json!({}))).unwrap_or_default();
    let id = tasks(&cmds)[0].task_id.clone();
    let cmds = i
        .apply(Event::StopRequested {
            at: T0 + 1,
            error: Some("E".into()),
            cause: None,
        })
        .unwrap_or_default();
    assert!(cmds.contains(&Command::CancelTask { task_id: id }));
    assert!(matches!(i.outcome(), Some(Outcome::Aborted { .. })));
    assert_eq!(
        types(&i).last().map(String::as_str),
        Some("ExecutionAborted")
    );
}

#[test]
fn oversized_output_fails_with_data_limit_exceeded() {
    let big = "x".repeat(super::engine::DATA_LIMIT_BYTES + 1);
    let def = machine(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": big, "End": true}}}),
    );
    let mut i = Interpreter::new(def);
    let _ = i.apply(start(json!({})));
    assert!(
        matches!(i.outcome(), Some(Outcome::Failed { error: Some(e), .. }) if e == "States.DataLimitExceeded")
    );
}

/// Found by the fuzz target: a Pass/Map/Choice loop that never waits kept `apply` from
/// returning. It now fails at AWS's history quota.
#[test]
fn a_loop_that_never_waits_fails_at_the_history_limit() {
    let def = machine(json!({"StartAt": "Again", "States": {
        "Again": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, -0)", "xs.$": "$.xs"},
                  "Next": "Each"},
        "Each": {"Type": "Map", "ItemsPath": "$.xs", "ResultPath": "$.xs", "Next": "Done?",
                 "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}},
        "Done?": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 0, "Next": "End"}],
                  "Default": "Again"},
        "End": {"Type": "Succeed"}}}));
    let mut i = Interpreter::new(def);
    let cmds = i
        .apply(start(json!({"n": 2, "xs": [1, 2]})))
        .unwrap_or_default();
    let cause = format!(
        "The execution reached the maximum number of history events ({}).",
        super::engine::HISTORY_LIMIT_EVENTS
    );
    assert!(cmds.contains(&Command::Finish(Outcome::Failed {
        error: Some("States.Runtime".into()),
        cause: Some(cause),
    })));
    // The check comes between steps; a step (here a Map's start) records a few events.
    let len = i.history().len();
    let limit = super::engine::HISTORY_LIMIT_EVENTS;
    assert!(len > limit && len <= limit + 10, "{len} events");
    assert_eq!(
        types(&i).last().map(String::as_str),
        Some("ExecutionFailed")
    );
}

/// Drives an interpreter to its end: tasks answered in order (a task whose input has
/// `"fail": true` fails the first time), timers fired in order. Returns every `apply`'s
/// commands.
fn drive(mut i: Interpreter, input: Value) -> Vec<Vec<Command>> {
    let mut all = Vec::new();
    let mut pending: std::collections::VecDeque<Command> = Default::default();
    let mut failed = std::collections::HashSet::new();
    let mut at = T0;
    let first = i.apply(start(input)).unwrap_or_default();
    pending.extend(first.iter().cloned());
    all.push(first);
    while let Some(c) = pending.pop_front() {
        at += 10;
        let event = match c {
            Command::ScheduleTask(t) => {
                let fail = t.input["fail"] == json!(true) && failed.insert(t.state_path.clone());
                Event::TaskCompleted {
                    at,
                    task_id: t.task_id.clone(),
                    outcome: if fail {
                        TaskOutcome::Failed {
                            error: Some("Work.Flaky".into()),
                            cause: Some("first try".into()),
                        }
                    } else {
                        TaskOutcome::Succeeded(json!({"done": t.state_path}))
                    },
                }
            }
            Command::StartTimer { timer_id, fire_at } => Event::TimerFired {
                at: fire_at.max(at),
                timer_id,
            },
            _ => continue,
        };
        let cmds = i.apply(event).unwrap_or_default();
        pending.extend(cmds.iter().cloned());
        all.push(cmds);
    }
    all
}

#[test]
fn without_history_commands_and_outcome_are_the_same() {
    let def = machine(json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Task",
                "Resource": "arn:aws:states:eu-west-1:1:activity:a",
                "Parameters": {"fail": true, "at.$": "$$.State.EnteredTime"},
                "Retry": [{"ErrorEquals": ["Work.Flaky"], "IntervalSeconds": 2}], "End": true}}},
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3, "Next": "B"},
                "B": {"Type": "Task", "Resource": "arn:aws:states:eu-west-1:1:activity:b", "End": true}}}
        ], "ResultPath": "$.p", "Next": "M"},
        "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "ItemProcessor": {
            "StartAt": "C", "States": {"C": {"Type": "Task",
                "Resource": "arn:aws:states:eu-west-1:1:activity:c", "End": true}}},
            "ResultPath": "$.m", "Next": "Ch"},
        "Ch": {"Type": "Choice", "Choices": [
            {"Variable": "$.items[0]", "NumericEquals": 1, "Next": "Bad"}], "Default": "Done"},
        "Bad": {"Type": "Pass", "Parameters": {"x.$": "$.missing.path"}, "End": true},
        "Done": {"Type": "Succeed"}
    }}));
    let input = json!({"items": [1, 2, 3]});
    let with = drive(Interpreter::new(Arc::clone(&def)), input.clone());
    let without = drive(Interpreter::without_history(Arc::clone(&def)), input);
    assert_eq!(with, without);
    // The run went through retries, timers and a Map, and failed in `Bad` with a cause that
    // names the event id the state was entered at: ids are counted in both modes.
    let last = with.last().cloned().unwrap_or_default();
    let cause = last.iter().find_map(|c| match c {
        Command::Finish(Outcome::Failed { cause, .. }) => cause.clone(),
        _ => None,
    });
    assert!(
        cause
            .as_deref()
            .is_some_and(|c| c.contains("entered at the event id #")),
        "{last:?}"
    );
    let mut i = Interpreter::without_history(def);
    let _ = i.apply(start(json!({"items": []})));
    assert!(i.history().is_empty());
}
