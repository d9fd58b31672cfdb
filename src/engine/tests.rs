//! Engine tests in virtual time: a manual clock, a real journal in a temporary directory.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::journal::Durability;

const T0: i64 = 1_700_000_000_000;

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "turnflow-engine-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn config(dir: &std::path::Path, clock: &Arc<ManualClock>) -> EngineConfig {
    let mut c = EngineConfig::new(dir.join("journal.db"));
    c.clock = Arc::clone(clock) as Arc<dyn Clock>;
    c.durability = Durability::Process;
    c
}

fn ok(v: Value) -> Handler {
    Handler::new(move |_| {
        let v = v.clone();
        async move { Ok(v) }
    })
}

async fn history_types(engine: &Engine, arn: &str) -> Vec<String> {
    let page = engine
        .get_execution_history(arn, Some(1000), false, None)
        .await
        .expect("history");
    page.items
        .iter()
        .map(|e| e["type"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Waits (in real time, bounded) until the history has an event of type `ty` `n` times.
async fn until_event(engine: &Engine, arn: &str, ty: &str, n: usize) {
    for _ in 0..5000 {
        let count = history_types(engine, arn)
            .await
            .iter()
            .filter(|t| *t == ty)
            .count();
        if count >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("{arn} never had {n} {ty}");
}

fn machine(states: Value) -> String {
    json!({"StartAt": "A", "States": states}).to_string()
}

async fn setup(tag: &str) -> (PathBuf, Arc<ManualClock>, Engine) {
    let dir = temp_dir(tag);
    let clock = ManualClock::new(T0);
    let engine = Engine::open(config(&dir, &clock)).expect("open");
    (dir, clock, engine)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_of_an_activity_execution() {
    let (_dir, _clock, engine) = setup("life").await;
    let act = engine.create_activity("greet").await.expect("activity");
    engine.register_activity("greet", ok(json!({"hello": "world"})));
    let def = machine(json!({
        "A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.pass", "Next": "B"},
        "B": {"Type": "Task", "Resource": act.activity_arn, "TimeoutSeconds": 10, "HeartbeatSeconds": 5, "ResultPath": "$.greeting", "End": true}
    }));
    let sm = engine
        .create_state_machine("life", &def, "arn:aws:iam::123456789012:role/r")
        .await
        .expect("create");
    // Idempotent create; a different definition conflicts.
    assert!(
        engine
            .create_state_machine("life", &def, "arn:aws:iam::123456789012:role/r")
            .await
            .is_ok()
    );
    let conflict = engine
        .create_state_machine("life", &machine(json!({"A": {"Type": "Succeed"}})), "r")
        .await;
    assert_eq!(
        conflict.err().map(|e| e.code()),
        Some("StateMachineAlreadyExists")
    );
    let started = engine
        .start_execution(&sm.state_machine_arn, Some("m-1"), Some(r#"{"q": "hi"}"#))
        .await
        .expect("start");
    let done = engine
        .wait_for_execution(&started.execution_arn)
        .await
        .expect("wait");
    assert_eq!(done.status, "SUCCEEDED");
    let d = engine
        .describe_execution(&started.execution_arn)
        .await
        .expect("describe");
    assert_eq!(d.input, r#"{"q":"hi"}"#);
    let out: Value = serde_json::from_str(d.output.as_deref().unwrap_or("null")).expect("json");
    assert_eq!(
        out,
        json!({"q": "hi", "pass": {"x": 1}, "greeting": {"hello": "world"}})
    );
    assert_eq!(
        d.state_machine_version_arn,
        format!("{}:1", sm.state_machine_arn)
    );
    let types = history_types(&engine, &started.execution_arn).await;
    assert_eq!(types.first().map(String::as_str), Some("ExecutionStarted"));
    assert!(types.contains(&"ActivityScheduled".to_string()));
    assert!(types.contains(&"ActivitySucceeded".to_string()));
    assert_eq!(types.last().map(String::as_str), Some("ExecutionSucceeded"));
    // Reverse order and paging.
    let rev = engine
        .get_execution_history(&started.execution_arn, Some(2), true, None)
        .await
        .expect("history");
    assert_eq!(rev.items[0]["type"], "ExecutionSucceeded");
    assert_eq!(rev.items.len(), 2);
    assert!(rev.next_token.is_some());
    let list = engine
        .list_executions(&sm.state_machine_arn, Some("SUCCEEDED"), None, None)
        .await
        .expect("list");
    assert_eq!(list.items.len(), 1);
    let missing = engine
        .describe_execution(&engine.arns().execution("life", "nope"))
        .await;
    assert_eq!(
        missing.err().map(|e| e.code()),
        Some("ExecutionDoesNotExist")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_what_it_cannot_run() {
    let (_dir, _clock, engine) = setup("refuse").await;
    let dynamo = machine(
        json!({"A": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "Parameters": {}, "End": true}}),
    );
    let e = engine.create_state_machine("d", &dynamo, "r").await.err();
    assert_eq!(e.as_ref().map(|e| e.code()), Some("InvalidDefinition"));
    assert!(e.is_some_and(|e| e.to_string().contains("dynamodb:putItem")));
    let placeholder =
        machine(json!({"A": {"Type": "Task", "Resource": "${TriageActivityArn}", "End": true}}));
    let e = engine
        .create_state_machine("p", &placeholder, "r")
        .await
        .err();
    assert!(e.is_some_and(|e| e.to_string().contains("${TriageActivityArn}")));
    let e = engine
        .create_state_machine("bad name", &machine(json!({"A": {"Type": "Succeed"}})), "r")
        .await
        .err();
    assert_eq!(e.map(|e| e.code()), Some("InvalidName"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_and_retry_timers_fire_in_virtual_time() {
    let (_dir, clock, engine) = setup("timers").await;
    let act = engine.create_activity("flaky").await.expect("activity");
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    engine.register_activity(
        "flaky",
        Handler::new(move |_| {
            let n = c.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    Err(TaskFailure::new("Flaky", "first try"))
                } else {
                    Ok(json!("ok"))
                }
            }
        }),
    );
    let def = machine(json!({
        "A": {"Type": "Wait", "Seconds": 3600, "Next": "B"},
        "B": {"Type": "Task", "Resource": act.activity_arn, "TimeoutSeconds": 10,
              "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 30, "MaxAttempts": 2}], "End": true}
    }));
    let sm = engine
        .create_state_machine("timers", &def, "r")
        .await
        .expect("create");
    let ex = engine
        .start_execution(&sm.state_machine_arn, Some("t"), None)
        .await
        .expect("start");
    clock.advance(3_599_000);
    assert_eq!(calls.load(Ordering::SeqCst), 0, "the Wait has not elapsed");
    clock.advance(1_000);
    until_event(&engine, &ex.execution_arn, "ActivityFailed", 1).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    clock.advance(29_000);
    assert_eq!(
        history_types(&engine, &ex.execution_arn)
            .await
            .iter()
            .filter(|t| *t == "ActivityScheduled")
            .count(),
        1
    );
    clock.advance(1_000);
    let done = engine
        .wait_for_execution(&ex.execution_arn)
        .await
        .expect("wait");
    assert_eq!(done.status, "SUCCEEDED");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let d = engine
        .describe_execution(&ex.execution_arn)
        .await
        .expect("describe");
    assert_eq!(d.stop_date, Some(T0 + 3_630_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_workers_heartbeats_and_timeouts() {
    let (_dir, clock, engine) = setup("external").await;
    let act = engine.create_activity("ext").await.expect("activity");
    let def = machine(json!({
        "A": {"Type": "Task", "Resource": act.activity_arn, "TimeoutSeconds": 20, "HeartbeatSeconds": 5, "End": true}
    }));
    let sm = engine
        .create_state_machine("ext", &def, "r")
        .await
        .expect("create");
    // Heartbeats keep the task alive; a lapse fails it with States.HeartbeatTimeout.
    let ex = engine
        .start_execution(&sm.state_machine_arn, Some("hb"), Some(r#"{"n":1}"#))
        .await
        .expect("start");
    let task = engine
        .get_activity_task(&act.activity_arn, Some("w1"), Duration::from_secs(5))
        .await
        .expect("poll")
        .expect("a task");
    assert_eq!(task.input, r#"{"n":1}"#);
    assert_eq!(task.task_token.len(), TOKEN_LEN);
    clock.advance(4_000);
    engine
        .send_task_heartbeat(&task.task_token)
        .await
        .expect("heartbeat");
    clock.advance(4_000);
    engine
        .send_task_heartbeat(&task.task_token)
        .await
        .expect("heartbeat");
    clock.advance(5_001);
    let done = engine
        .wait_for_execution(&ex.execution_arn)
        .await
        .expect("wait");
    assert_eq!(
        (done.status, done.error.as_deref()),
        ("FAILED", Some("States.HeartbeatTimeout"))
    );
    let late = engine.send_task_success(&task.task_token, "{}").await;
    assert_eq!(late.err().map(|e| e.code()), Some("TaskTimedOut"));
    // TimeoutSeconds bounds the task even with heartbeats.
    let ex = engine
        .start_execution(&sm.state_machine_arn, Some("to"), None)
        .await
        .expect("start");
    let task = engine
        .get_activity_task(&act.activity_arn, None, Duration::from_secs(5))
        .await
        .expect("poll")
        .expect("a task");
    for _ in 0..5 {
        clock.advance(4_000);
        let _ = engine.send_task_heartbeat(&task.task_token).await;
    }
    let done = engine
        .wait_for_execution(&ex.execution_arn)
        .await
        .expect("wait");
    assert_eq!(
        (done.status, done.error.as_deref()),
        ("FAILED", Some("States.Timeout"))
    );
    // A worker that answers in time.
    let ex = engine
        .start_execution(&sm.state_machine_arn, Some("ok"), None)
        .await
        .expect("start");
    let task = engine
        .get_activity_task(&act.activity_arn, None, Duration::from_secs(5))
        .await
        .expect("poll")
        .expect("a task");
    engine
        .send_task_success(&task.task_token, r#"{"done":true}"#)
        .await
        .expect("success");
    let done = engine
        .wait_for_execution(&ex.execution_arn)
        .await
        .expect("wait");
    assert_eq!(done.output.as_deref(), Some(r#"{"done":true}"#));
    // Nothing to do: the long poll returns empty.
    let none = engine
        .get_activity_task(&act.activity_arn, None, Duration::from_millis(20))
        .await
        .expect("poll");
    assert!(none.is_none());
    let missing = engine
        .get_activity_task(
            &engine.arns().activity("nope"),
            None,
            Duration::from_millis(20),
        )
        .await;
    assert_eq!(
        missing.err().map(|e| e.code()),
        Some("ActivityDoesNotExist")
    );
}

fn approval_machine() -> String {
    machine(json!({
        "A": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
              "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/approvals",
                             "MessageBody": {"token.$": "$$.Task.Token", "id.$": "$.id"}},
              "TimeoutSeconds": 300, "HeartbeatSeconds": 60, "ResultPath": "$.approval", "End": true}
    }))
}

async fn token_of(engine: &Engine, id: &str) -> String {
    let msgs = engine.peek_messages("approvals").await.expect("peek");
    let body = msgs
        .iter()
        .map(|m| serde_json::from_str::<Value>(&m.body).expect("json"))
        .find(|b| b["id"] == id)
        .expect("the message");
    body["token"].as_str().expect("token").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_tokens_resume_and_refuse_like_aws() {
    let (_dir, clock, engine) = setup("tokens").await;
    let sm = engine
        .create_state_machine("approve", &approval_machine(), "r")
        .await
        .expect("create");
    let arn = sm.state_machine_arn;
    let ex = engine
        .start_execution(&arn, Some("a1"), Some(r#"{"id":"a1"}"#))
        .await
        .expect("start");
    let token = token_of(&engine, "a1").await;
    assert_eq!(token.len(), TOKEN_LEN);
    assert!(
        !token.contains("a1"),
        "the token must not be the readable interpreter token"
    );
    engine.send_task_heartbeat(&token).await.expect("heartbeat");
    engine
        .send_task_success(&token, r#"{"decision":"approve"}"#)
        .await
        .expect("success");
    let done = engine
        .wait_for_execution(&ex.execution_arn)
        .await
        .expect("wait");
    assert_eq!(done.status, "SUCCEEDED");
    assert!(done.output.is_some_and(|o| o.contains("approve")));
    // Used token, unknown token, malformed token.
    let used = engine.send_task_success(&token, "{}").await;
    assert_eq!(used.err().map(|e| e.code()), Some("TaskTimedOut"));
    let unknown = engine
        .send_task_success("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "{}")
        .await;
    assert_eq!(unknown.err().map(|e| e.code()), Some("InvalidToken"));
    let malformed = engine.send_task_failure("a1:task-1", None, None).await;
    assert_eq!(malformed.err().map(|e| e.code()), Some("InvalidToken"));
    let bad_output = engine.send_task_success(&token, "{not json").await;
    assert_eq!(bad_output.err().map(|e| e.code()), Some("InvalidOutput"));
    // The history shows the engine's token.
    let h = engine
        .get_execution_history(&ex.execution_arn, None, false, None)
        .await
        .expect("history");
    let text = serde_json::to_string(&h.items).expect("json");
    assert!(text.contains(&token) && !text.contains("a1:task-1"));
    // Failure.
    let ex = engine
        .start_execution(&arn, Some("a2"), Some(r#"{"id":"a2"}"#))
        .await
        .expect("start");
    let token = token_of(&engine, "a2").await;
    engine
        .send_task_failure(&token, Some("Rejected"), Some("no"))
        .await
        .expect("failure");
    let done = engine
        .wait_for_execution(&ex.execution_arn)
        .await
        .expect("wait");
    assert_eq!(
        (done.status, done.error.as_deref()),
        ("FAILED", Some("Rejected"))
    );
    // Expired: no heartbeat for 60 s.
    let ex = engine
        .start_execution(&arn, Some("a3"), Some(r#"{"id":"a3"}"#))
        .await
        .expect("start");
    let token = token_of(&engine, "a3").await;
    clock.advance(61_000);
    let done = engine
        .wait_for_execution(&ex.execution_arn)
        .await
        .expect("wait");
    assert_eq!(done.error.as_deref(), Some("States.HeartbeatTimeout"));
    let expired = engine.send_task_success(&token, "{}").await;
    assert_eq!(expired.err().map(|e| e.code()), Some("TaskTimedOut"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_is_idempotent_by_name_and_input() {
    let (_dir, _clock, engine) = setup("idem").await;
    let sm = engine
        .create_state_machine("idem", &approval_machine(), "r")
        .await
        .expect("create");
    let a = engine
        .start_execution(&sm.state_machine_arn, Some("e"), Some(r#"{"id":"e"}"#))
        .await
        .expect("start");
    let b = engine
        .start_execution(&sm.state_machine_arn, Some("e"), Some(r#"{ "id" : "e" }"#))
        .await
        .expect("same");
    assert_eq!(a, b);
    let c = engine
        .start_execution(&sm.state_machine_arn, Some("e"), Some(r#"{"id":"other"}"#))
        .await;
    assert_eq!(c.err().map(|e| e.code()), Some("ExecutionAlreadyExists"));
    let bad = engine
        .start_execution(&sm.state_machine_arn, Some("f"), Some("{"))
        .await;
    assert_eq!(bad.err().map(|e| e.code()), Some("InvalidExecutionInput"));
    let nosm = engine
        .start_execution(&engine.arns().state_machine("none"), None, None)
        .await;
    assert_eq!(
        nosm.err().map(|e| e.code()),
        Some("StateMachineDoesNotExist")
    );
    assert_eq!(
        engine.peek_messages("approvals").await.expect("peek").len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executions_stay_on_their_version() {
    let (_dir, clock, engine) = setup("versions").await;
    let def = |v: &str| {
        machine(json!({
            "A": {"Type": "Wait", "Seconds": 10, "Next": "B"},
            "B": {"Type": "Pass", "Result": v, "End": true}
        }))
    };
    let sm = engine
        .create_state_machine("ver", &def("v1"), "r")
        .await
        .expect("create");
    let first = engine
        .start_execution(&sm.state_machine_arn, Some("one"), None)
        .await
        .expect("start");
    let up = engine
        .update_state_machine(&sm.state_machine_arn, Some(&def("v2")), None)
        .await
        .expect("update");
    assert_eq!(
        up.state_machine_version_arn,
        format!("{}:2", sm.state_machine_arn)
    );
    let second = engine
        .start_execution(&sm.state_machine_arn, Some("two"), None)
        .await
        .expect("start");
    let pinned = engine
        .start_execution(&format!("{}:1", sm.state_machine_arn), Some("three"), None)
        .await
        .expect("start v1");
    clock.advance(10_000);
    let out = |f: Finished| f.output.unwrap_or_default();
    assert_eq!(
        out(engine
            .wait_for_execution(&first.execution_arn)
            .await
            .expect("1")),
        r#""v1""#
    );
    assert_eq!(
        out(engine
            .wait_for_execution(&second.execution_arn)
            .await
            .expect("2")),
        r#""v2""#
    );
    assert_eq!(
        out(engine
            .wait_for_execution(&pinned.execution_arn)
            .await
            .expect("3")),
        r#""v1""#
    );
    let versions = engine
        .list_state_machine_versions(&sm.state_machine_arn)
        .await
        .expect("versions");
    assert_eq!(versions.len(), 2);
    let d = engine
        .describe_state_machine(&sm.state_machine_arn)
        .await
        .expect("describe");
    assert_eq!(d.version, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_aborts_a_running_execution() {
    let (_dir, _clock, engine) = setup("stop").await;
    let sm = engine
        .create_state_machine("stop", &approval_machine(), "r")
        .await
        .expect("create");
    let ex = engine
        .start_execution(&sm.state_machine_arn, Some("s"), Some(r#"{"id":"s"}"#))
        .await
        .expect("start");
    let token = token_of(&engine, "s").await;
    engine
        .stop_execution(&ex.execution_arn, Some("Ops"), Some("stopped by test"))
        .await
        .expect("stop");
    let done = engine
        .wait_for_execution(&ex.execution_arn)
        .await
        .expect("wait");
    assert_eq!(
        (done.status, done.error.as_deref()),
        ("ABORTED", Some("Ops"))
    );
    let late = engine.send_task_success(&token, "{}").await;
    assert_eq!(late.err().map(|e| e.code()), Some("TaskTimedOut"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redrive_resumes_from_the_failed_state() {
    let (_dir, _clock, engine) = setup("redrive").await;
    let first = engine.create_activity("first").await.expect("activity");
    let second = engine.create_activity("second").await.expect("activity");
    let firsts = Arc::new(AtomicUsize::new(0));
    let seconds = Arc::new(AtomicUsize::new(0));
    let f = Arc::clone(&firsts);
    engine.register_activity(
        "first",
        Handler::new(move |_| {
            f.fetch_add(1, Ordering::SeqCst);
            async { Ok(json!(1)) }
        }),
    );
    let s = Arc::clone(&seconds);
    engine.register_activity(
        "second",
        Handler::new(move |_| {
            let n = s.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    Err(TaskFailure::new("Backend.Down", "down"))
                } else {
                    Ok(json!(2))
                }
            }
        }),
    );
    let def = machine(json!({
        "A": {"Type": "Task", "Resource": first.activity_arn, "TimeoutSeconds": 10, "ResultPath": "$.a", "Next": "B"},
        "B": {"Type": "Task", "Resource": second.activity_arn, "TimeoutSeconds": 10, "ResultPath": "$.b", "End": true}
    }));
    let sm = engine
        .create_state_machine("redrive", &def, "r")
        .await
        .expect("create");
    let ex = engine
        .start_execution(&sm.state_machine_arn, Some("r1"), None)
        .await
        .expect("start");
    let done = engine
        .wait_for_execution(&ex.execution_arn)
        .await
        .expect("wait");
    assert_eq!(done.status, "FAILED");
    let running = engine
        .redrive_execution(&engine.arns().execution("redrive", "nope"))
        .await;
    assert_eq!(
        running.err().map(|e| e.code()),
        Some("ExecutionDoesNotExist")
    );
    engine
        .redrive_execution(&ex.execution_arn)
        .await
        .expect("redrive");
    let done = engine
        .wait_for_execution(&ex.execution_arn)
        .await
        .expect("wait");
    assert_eq!(done.status, "SUCCEEDED");
    assert_eq!(done.output.as_deref(), Some(r#"{"a":1,"b":2}"#));
    assert_eq!(
        firsts.load(Ordering::SeqCst),
        1,
        "the succeeded step is not re-run"
    );
    assert_eq!(seconds.load(Ordering::SeqCst), 2);
    let d = engine
        .describe_execution(&ex.execution_arn)
        .await
        .expect("describe");
    assert_eq!(d.redrive_count, 1);
    let types = history_types(&engine, &ex.execution_arn).await;
    let pos = |t: &str| types.iter().position(|x| x == t);
    assert!(pos("ExecutionFailed") < pos("ExecutionRedriven"));
    assert_eq!(types.last().map(String::as_str), Some("ExecutionSucceeded"));
    let again = engine.redrive_execution(&ex.execution_arn).await;
    assert_eq!(
        again.err().map(|e| e.code()),
        Some("ExecutionNotRedrivable")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_invoke_calls_the_in_process_function() {
    let (_dir, _clock, engine) = setup("lambda").await;
    engine.register_function(
        "double",
        Handler::new(|v: Value| async move { Ok(json!(v["n"].as_i64().unwrap_or(0) * 2)) }),
    );
    let def = machine(json!({
        "A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:double", "Payload.$": "$"},
              "ResultSelector": {"r.$": "$.Payload"}, "Next": "B"},
        "B": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:missing", "End": true}
    }));
    let sm = engine
        .create_state_machine("lambda", &def, "r")
        .await
        .expect("create");
    let ex = engine
        .start_execution(&sm.state_machine_arn, None, Some(r#"{"n":21}"#))
        .await
        .expect("start");
    let done = engine
        .wait_for_execution(&ex.execution_arn)
        .await
        .expect("wait");
    assert_eq!(
        done.error.as_deref(),
        Some("Lambda.ResourceNotFoundException")
    );
    let types = history_types(&engine, &ex.execution_arn).await;
    assert!(types.contains(&"TaskSucceeded".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_resumes_without_rerunning_completed_tasks() {
    let dir = temp_dir("recover");
    let clock = ManualClock::new(T0);
    let keys: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let recorder = |step: &'static str, keys: &Arc<Mutex<Vec<(String, String)>>>, block: bool| {
        let keys = Arc::clone(keys);
        Handler::new(move |v: Value| {
            let key = v["key"].as_str().unwrap_or("").to_string();
            keys.lock().expect("keys").push((step.to_string(), key));
            async move {
                if block {
                    std::future::pending::<()>().await;
                }
                Ok(json!(step))
            }
        })
    };
    let def = |a: &str, b: &str| {
        machine(json!({
            "A": {"Type": "Task", "Resource": a, "TimeoutSeconds": 100,
                  "Parameters": {"key.$": "States.Format('{}/A', $$.Execution.Name)"}, "ResultPath": "$.a", "Next": "B"},
            "B": {"Type": "Task", "Resource": b, "TimeoutSeconds": 100,
                  "Parameters": {"key.$": "States.Format('{}/B', $$.Execution.Name)"}, "ResultPath": "$.b", "End": true}
        }))
    };
    let arns;
    {
        let engine = Engine::open(config(&dir, &clock)).expect("open");
        let a = engine.create_activity("a").await.expect("a").activity_arn;
        let b = engine.create_activity("b").await.expect("b").activity_arn;
        engine.register_activity("a", recorder("A", &keys, false));
        engine.register_activity("b", recorder("B", &keys, true));
        let sm = engine
            .create_state_machine("rec", &def(&a, &b), "r")
            .await
            .expect("create");
        let mut v = Vec::new();
        for i in 0..3 {
            let ex = engine
                .start_execution(&sm.state_machine_arn, Some(&format!("e{i}")), None)
                .await
                .expect("start");
            until_event(&engine, &ex.execution_arn, "ActivityScheduled", 2).await;
            v.push(ex.execution_arn);
        }
        arns = v;
        engine.shutdown().await;
    }
    let before: Vec<(String, String)> = keys.lock().expect("keys").clone();
    assert_eq!(before.iter().filter(|(s, _)| s == "A").count(), 3);
    assert_eq!(before.iter().filter(|(s, _)| s == "B").count(), 3);
    let engine = Engine::open(config(&dir, &clock)).expect("reopen");
    assert_eq!(engine.recovered(), 3);
    engine.register_activity("a", recorder("A", &keys, false));
    engine.register_activity("b", recorder("B", &keys, false));
    for arn in &arns {
        let done = engine.wait_for_execution(arn).await.expect("wait");
        assert_eq!(done.status, "SUCCEEDED");
    }
    let after = keys.lock().expect("keys").clone();
    let a_runs = after.iter().filter(|(s, _)| s == "A").count();
    assert_eq!(a_runs, 3, "completed tasks are not re-run");
    let mut b_keys: Vec<&String> = after
        .iter()
        .filter(|(s, _)| s == "B")
        .map(|(_, k)| k)
        .collect();
    b_keys.sort();
    assert_eq!(
        b_keys,
        vec!["e0/B", "e0/B", "e1/B", "e1/B", "e2/B", "e2/B"],
        "in-flight tasks come back with the same key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_wait_while_max_active_executions_run() {
    let dir = temp_dir("admission");
    let clock = ManualClock::new(T0);
    let mut c = config(&dir, &clock);
    c.max_active = 2;
    let engine = Engine::open(c).expect("open");
    let act = engine.create_activity("slow").await.expect("activity");
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let (entered_tx, mut entered) = tokio::sync::mpsc::unbounded_channel::<Value>();
    {
        let (running, peak, release) = (running.clone(), peak.clone(), release.clone());
        engine.register_activity(
            "slow",
            Handler::new(move |input| {
                let (running, peak, release) = (running.clone(), peak.clone(), release.clone());
                let entered_tx = entered_tx.clone();
                async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    let _ = entered_tx.send(input);
                    release.acquire().await.map(|p| p.forget()).ok();
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok(json!({}))
                }
            }),
        );
    }
    let def = machine(json!({"A": {"Type": "Task", "Resource": act.activity_arn,
        "TimeoutSeconds": 60, "HeartbeatSeconds": 30, "End": true}}));
    let sm = engine
        .create_state_machine("admission", &def, "arn:aws:iam::123456789012:role/r")
        .await
        .expect("create");
    let mut starts = tokio::task::JoinSet::new();
    for i in 0..5 {
        let (engine, sm) = (engine.clone(), sm.state_machine_arn.clone());
        starts.spawn(async move {
            engine
                .start_execution(
                    &sm,
                    Some(&format!("a-{i}")),
                    Some(&json!({"i": i}).to_string()),
                )
                .await
        });
    }
    // One at a time: each release lets exactly one more execution in.
    let mut order = Vec::new();
    for _ in 0..5 {
        let input = entered.recv().await.expect("a step ran");
        order.push(input["i"].as_i64().unwrap_or(-1));
        release.add_permits(1);
    }
    while let Some(r) = starts.join_next().await {
        let started = r.expect("join").expect("start");
        let done = engine
            .wait_for_execution(&started.execution_arn)
            .await
            .expect("wait");
        assert_eq!(done.status, "SUCCEEDED");
    }
    assert_eq!(
        peak.load(Ordering::SeqCst),
        2,
        "at most max_active ran at once"
    );
    order.sort_unstable();
    assert_eq!(order, [0, 1, 2, 3, 4]);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn until_idle_names_the_next_deadline() {
    let (_dir, clock, engine) = setup("idle").await;
    let def = machine(json!({
        "A": {"Type": "Wait", "Seconds": 30, "Next": "B"},
        "B": {"Type": "Wait", "Seconds": 5, "End": true}
    }));
    let sm = engine
        .create_state_machine("idle", &def, "arn:aws:iam::123456789012:role/r")
        .await
        .expect("create");
    let started = engine
        .start_execution(&sm.state_machine_arn, Some("i-1"), None)
        .await
        .expect("start");
    assert_eq!(engine.until_idle().await.expect("idle"), Some(T0 + 30_000));
    clock.advance(30_000);
    assert_eq!(engine.until_idle().await.expect("idle"), Some(T0 + 35_000));
    clock.advance(5_000);
    let done = engine
        .wait_for_execution(&started.execution_arn)
        .await
        .expect("wait");
    assert_eq!(done.status, "SUCCEEDED");
    assert_eq!(engine.until_idle().await.expect("idle"), None);
    engine.shutdown().await;
}
