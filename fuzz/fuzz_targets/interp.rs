//! Fuzz target: arbitrary bytes → `asl::parse` → `asl::check` → the interpreter.
//!
//! The input is `DEFINITION [\0 INPUT [\0 CHOICES]]`: the definition text; the execution input
//! (JSON text, or when it is not JSON, a value built from its bytes); and the bytes that choose
//! what the simulated runtime does at each step — which task to answer and how (success with
//! its input or a fuzzed value, failure with a fuzzed error, timeout, heartbeat timeout, a token
//! answer), which timer to fire, a stop, or a stray event. A plain definition file is therefore
//! a valid seed. The run is capped at a step budget; it must never panic or hang, and a replay
//! of the same events must give the same history.

#![no_main]

use std::sync::Arc;

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use turnflow_workflows::asl::{self, Severity};
use turnflow_workflows::interp::{
    Command, Event, ExecutionInfo, Interpreter, Millis, TaskOutcome, TaskRequest,
};

/// Events applied after `ExecutionStarted`, at most.
const STEP_BUDGET: usize = 400;
const T0: Millis = 1_700_000_000_000;

const ERRORS: &[&str] = &[
    "States.ALL",
    "States.TaskFailed",
    "States.Timeout",
    "States.HeartbeatTimeout",
    "States.Runtime",
    "Lambda.ServiceException",
    "Turnflow.ModelThrottled",
    "Custom",
    "",
];

fuzz_target!(|data: &[u8]| run(data));

fn run(data: &[u8]) {
    let mut parts = data.splitn(3, |b| *b == 0);
    let definition = parts.next().unwrap_or_default();
    let input = parts.next().unwrap_or_default();
    let choices = parts.next().unwrap_or_default();
    let Ok(text) = std::str::from_utf8(definition) else {
        return;
    };
    let Ok(machine) = asl::parse(text) else {
        return;
    };
    if asl::check(&machine)
        .iter()
        .any(|d| d.severity == Severity::Error)
    {
        return;
    }
    let input = match serde_json::from_slice::<Value>(input) {
        Ok(v) => v,
        Err(_) if input.is_empty() => json!({}),
        Err(_) => arbitrary_value(&mut Unstructured::new(input), 3),
    };
    let machine = Arc::new(machine);
    let mut u = Unstructured::new(choices);
    let events = simulate(&machine, input, &mut u);
    // Replaying the same events into a fresh interpreter gives the same history.
    let mut first = Interpreter::new(machine.clone());
    let mut again = Interpreter::new(machine);
    for e in &events {
        let a = first.apply(e.clone()).map_err(|e| e.to_string());
        let b = again.apply(e.clone()).map_err(|e| e.to_string());
        assert_eq!(a, b, "replay gave different commands");
    }
    assert_eq!(
        first.history(),
        again.history(),
        "replay gave a different history"
    );
}

/// Runs the execution with runtime choices drawn from `u`; returns the events applied.
fn simulate(machine: &Arc<asl::StateMachine>, input: Value, u: &mut Unstructured) -> Vec<Event> {
    let mut interp = Interpreter::new(machine.clone());
    let mut now = T0;
    let mut tasks: Vec<TaskRequest> = Vec::new();
    let mut timers: Vec<(String, Millis)> = Vec::new();
    let mut applied = Vec::new();
    let mut next = Some(Event::ExecutionStarted {
        at: now,
        input,
        execution: ExecutionInfo {
            name: "fuzz".into(),
            arn: "arn:aws:states:us-east-1:111111111111:execution:Fuzz:fuzz".into(),
            state_machine_arn: "arn:aws:states:us-east-1:111111111111:stateMachine:Fuzz".into(),
            state_machine_name: "Fuzz".into(),
            role_arn: "arn:aws:iam::111111111111:role/Fuzz".into(),
            redrive_count: 0,
        },
        seed: u.arbitrary().unwrap_or(42),
    });
    for _ in 0..STEP_BUDGET {
        let Some(event) = next.take() else { break };
        applied.push(event.clone());
        let Ok(commands) = interp.apply(event) else {
            break;
        };
        for c in commands {
            match c {
                Command::ScheduleTask(t) => tasks.push(t),
                Command::CancelTask { task_id } => tasks.retain(|t| t.task_id != task_id),
                Command::StartTimer { timer_id, fire_at } => timers.push((timer_id, fire_at)),
                Command::CancelTimer { timer_id } => timers.retain(|t| t.0 != timer_id),
                Command::Finish(_) => {}
            }
        }
        if interp.outcome().is_some() {
            break;
        }
        now += Millis::from(u.int_in_range(0..=3u8).unwrap_or(0)) * 1000;
        next = choose(u, now, &mut tasks, &mut timers);
    }
    applied
}

/// The runtime's next event: drawn from `u`, or when `u` is used up, the oldest task
/// succeeding with its input, else the earliest timer firing.
fn choose(
    u: &mut Unstructured,
    now: Millis,
    tasks: &mut Vec<TaskRequest>,
    timers: &mut Vec<(String, Millis)>,
) -> Option<Event> {
    let pick = |u: &mut Unstructured, n: usize| -> usize {
        if n <= 1 {
            0
        } else {
            u.choose_index(n).unwrap_or(0)
        }
    };
    if u.is_empty() {
        if !tasks.is_empty() {
            let t = tasks.remove(0);
            return Some(Event::TaskCompleted {
                at: now,
                task_id: t.task_id,
                outcome: TaskOutcome::Succeeded(t.input),
            });
        }
        timers.sort_by_key(|t| t.1);
        if timers.is_empty() {
            return None;
        }
        let (timer_id, fire_at) = timers.remove(0);
        return Some(Event::TimerFired {
            at: now.max(fire_at),
            timer_id,
        });
    }
    let action: u8 = u.int_in_range(0..=9).unwrap_or(0);
    let task = (!tasks.is_empty()).then(|| pick(u, tasks.len()));
    Some(match (action, task) {
        (0 | 1, Some(i)) => {
            let t = tasks.remove(i);
            let result = if u.arbitrary().unwrap_or(true) {
                t.input
            } else {
                arbitrary_value(u, 3)
            };
            let outcome = TaskOutcome::Succeeded(result);
            match t.task_token {
                Some(token) if u.arbitrary().unwrap_or(false) => Event::TokenAnswered {
                    at: now,
                    token,
                    outcome,
                },
                _ => Event::TaskCompleted {
                    at: now,
                    task_id: t.task_id,
                    outcome,
                },
            }
        }
        (2, Some(i)) => {
            let t = tasks.remove(i);
            Event::TaskCompleted {
                at: now,
                task_id: t.task_id,
                outcome: TaskOutcome::Failed {
                    error: fuzzed_error(u),
                    cause: u.arbitrary::<Option<String>>().unwrap_or(None),
                },
            }
        }
        (3, Some(i)) => Event::TaskTimedOut {
            at: now,
            task_id: tasks.remove(i).task_id,
        },
        (4, Some(i)) => Event::HeartbeatTimedOut {
            at: now,
            task_id: tasks.remove(i).task_id,
        },
        (5, Some(i)) => Event::TaskStarted {
            at: now,
            task_id: tasks[i].task_id.clone(),
            worker_name: Some("fuzz-worker".into()),
        },
        (6, Some(i)) => Event::TaskSubmitted {
            at: now,
            task_id: tasks[i].task_id.clone(),
            output: arbitrary_value(u, 2),
        },
        (7, _) => Event::StopRequested {
            at: now,
            error: fuzzed_error(u),
            cause: None,
        },
        (8, _) => {
            // A stray answer: an id or token the interpreter never handed out, or a task
            // answered twice.
            let task_id = u.arbitrary::<String>().unwrap_or_default();
            if u.arbitrary().unwrap_or(false) {
                Event::TokenAnswered {
                    at: now,
                    token: task_id,
                    outcome: TaskOutcome::Succeeded(Value::Null),
                }
            } else {
                Event::TaskCompleted {
                    at: now,
                    task_id,
                    outcome: TaskOutcome::Succeeded(Value::Null),
                }
            }
        }
        _ if !timers.is_empty() => {
            let i = pick(u, timers.len());
            let (timer_id, fire_at) = timers.remove(i);
            Event::TimerFired {
                at: now.max(fire_at),
                timer_id,
            }
        }
        (_, Some(i)) => {
            let t = tasks.remove(i);
            Event::TaskCompleted {
                at: now,
                task_id: t.task_id,
                outcome: TaskOutcome::Succeeded(t.input),
            }
        }
        _ => return None,
    })
}

fn fuzzed_error(u: &mut Unstructured) -> Option<String> {
    match u.int_in_range(0..=ERRORS.len()).unwrap_or(0) {
        i if i < ERRORS.len() => Some(ERRORS[i].to_string()),
        _ => u.arbitrary::<Option<String>>().unwrap_or(None),
    }
}

/// A JSON value built from fuzz bytes, at most `depth` levels deep.
fn arbitrary_value(u: &mut Unstructured, depth: u32) -> Value {
    let kind: u8 = u.int_in_range(0..=7).unwrap_or(0);
    match kind {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary().unwrap_or(false)),
        2 => json!(u.arbitrary::<i64>().unwrap_or(0)),
        3 => serde_json::Number::from_f64(u.arbitrary::<f64>().unwrap_or(0.0))
            .map_or(Value::Null, Value::Number),
        4 => Value::String(u.arbitrary().unwrap_or_default()),
        5 if depth > 0 => {
            let n = u.int_in_range(0..=4u8).unwrap_or(0);
            Value::Array((0..n).map(|_| arbitrary_value(u, depth - 1)).collect())
        }
        6 if depth > 0 => {
            let n = u.int_in_range(0..=4u8).unwrap_or(0);
            let mut m = Map::new();
            for _ in 0..n {
                let key = match u.int_in_range(0..=3u8).unwrap_or(0) {
                    0 => u.arbitrary().unwrap_or_default(),
                    1 => "items".to_string(),
                    2 => "value".to_string(),
                    _ => "input".to_string(),
                };
                m.insert(key, arbitrary_value(u, depth - 1));
            }
            Value::Object(m)
        }
        _ => json!(u.int_in_range(-3..=10i64).unwrap_or(0)),
    }
}
