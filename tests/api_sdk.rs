//! The AWS SDK for Rust (aws-sdk-sfn) against turnflow's Step Functions API, served in-process
//! on `127.0.0.1:0` by the real engine on a journal in a temporary directory, in virtual time
//! (a manual clock: timeouts and heartbeats happen when the test moves the clock).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_sfn::Client;
use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sfn::error::ProvideErrorMetadata;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use turnflow::api::server::{self, ServerConfig, Shutdown};
use turnflow::api::sigv4::Verifier;
use turnflow::engine::{Clock, Engine, EngineConfig, ManualClock};
use turnflow::journal::Durability;

const T0: i64 = 1_700_000_000_000;
const ROLE: &str = "arn:aws:iam::123456789012:role/turnflow";

struct Local {
    client: Client,
    engine: Arc<Engine>,
    clock: Arc<ManualClock>,
    addr: std::net::SocketAddr,
    shutdown: Shutdown,
    _dir: PathBuf,
}

impl Drop for Local {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "turnflow-api-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn client(addr: std::net::SocketAddr, key: &str, secret: &str) -> Client {
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(format!("http://{addr}"))
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(key, secret, None, None, "test"))
        .build();
    Client::from_conf(config)
}

async fn local_with(tag: &str, verifier: Option<Verifier>) -> Local {
    local_configured(
        tag,
        ServerConfig {
            verifier,
            ..ServerConfig::default()
        },
    )
    .await
}

async fn local_configured(tag: &str, server_config: ServerConfig) -> Local {
    let dir = temp_dir(tag);
    let clock = ManualClock::new(T0);
    let mut config = EngineConfig::new(dir.join("journal.db"));
    config.clock = Arc::clone(&clock) as Arc<dyn Clock>;
    config.durability = Durability::Process;
    let engine = Arc::new(Engine::open(config).expect("engine opens"));
    let shutdown = Shutdown::new();
    let (addr, _task) = server::spawn(
        "127.0.0.1:0".parse().expect("addr"),
        Arc::clone(&engine),
        server_config,
        shutdown.clone(),
    )
    .await
    .expect("server binds");
    Local {
        client: client(addr, "test", "test"),
        engine,
        clock,
        addr,
        shutdown,
        _dir: dir,
    }
}

async fn local(tag: &str) -> Local {
    local_with(tag, None).await
}

fn machine(states: Value) -> String {
    json!({"StartAt": "A", "States": states}).to_string()
}

/// An activity step with a timeout and a shorter heartbeat, then a Pass.
fn activity_machine(activity_arn: &str) -> String {
    machine(json!({
        "A": {"Type": "Task", "Resource": activity_arn, "TimeoutSeconds": 300,
              "HeartbeatSeconds": 30, "ResultPath": "$.work", "Next": "Done"},
        "Done": {"Type": "Pass", "End": true}
    }))
}

async fn status(l: &Local, arn: &str) -> ExecutionStatus {
    l.client
        .describe_execution()
        .execution_arn(arn)
        .send()
        .await
        .expect("describe")
        .status()
        .clone()
}

async fn history_types(l: &Local, arn: &str) -> Vec<HistoryEventType> {
    l.client
        .get_execution_history()
        .execution_arn(arn)
        .max_results(1000)
        .send()
        .await
        .expect("history")
        .events()
        .iter()
        .map(|e| e.r#type().clone())
        .collect()
}

async fn setup_activity(l: &Local, name: &str) -> (String, String) {
    let activity = l
        .client
        .create_activity()
        .name(name)
        .send()
        .await
        .expect("create activity")
        .activity_arn()
        .to_owned();
    let sm = l
        .client
        .create_state_machine()
        .name(format!("{name}-machine"))
        .definition(activity_machine(&activity))
        .role_arn(ROLE)
        .send()
        .await
        .expect("create state machine")
        .state_machine_arn()
        .to_owned();
    (activity, sm)
}

async fn poll(l: &Local, activity: &str, worker: &str) -> (String, Value) {
    let task = l
        .client
        .get_activity_task()
        .activity_arn(activity)
        .worker_name(worker)
        .send()
        .await
        .expect("poll");
    let token = task.task_token().expect("a task is waiting").to_owned();
    let input = serde_json::from_str(task.input().unwrap_or("null")).expect("input is JSON");
    (token, input)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_lifecycle_with_an_activity_worker_and_heartbeats() {
    let l = local("life").await;
    let (activity, sm) = setup_activity(&l, "triage").await;

    // Describe and list what was created.
    let described = l
        .client
        .describe_state_machine()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("describe state machine");
    assert_eq!(described.name(), "triage-machine");
    assert_eq!(described.role_arn(), ROLE);
    assert!(described.definition().contains(&activity));
    let activities = l.client.list_activities().send().await.expect("list");
    assert_eq!(activities.activities().len(), 1);
    assert_eq!(activities.activities()[0].name(), "triage");

    // Start three executions; a worker loop answers them, heartbeating across more than
    // HeartbeatSeconds of virtual time.
    let mut arns = Vec::new();
    for i in 0..3 {
        let started = l
            .client
            .start_execution()
            .state_machine_arn(&sm)
            .name(format!("turn-{i}"))
            .input(json!({"message": i}).to_string())
            .send()
            .await
            .expect("start");
        arns.push(started.execution_arn().to_owned());
    }
    for _ in 0..3 {
        let (token, input) = poll(&l, &activity, "worker-1").await;
        for _ in 0..3 {
            l.clock.advance(20_000);
            l.client
                .send_task_heartbeat()
                .task_token(&token)
                .send()
                .await
                .expect("heartbeat");
        }
        l.client
            .send_task_success()
            .task_token(&token)
            .output(json!({"handled": input["message"]}).to_string())
            .send()
            .await
            .expect("success");
    }
    for arn in &arns {
        l.engine.wait_for_execution(arn).await.expect("finishes");
        assert_eq!(status(&l, arn).await, ExecutionStatus::Succeeded);
    }
    let d = l
        .client
        .describe_execution()
        .execution_arn(&arns[1])
        .send()
        .await
        .expect("describe");
    let output: Value = serde_json::from_str(d.output().expect("output")).expect("json");
    assert_eq!(output, json!({"message": 1, "work": {"handled": 1}}));
    assert_eq!(d.name(), Some("turn-1"));
    assert!(d.stop_date().is_some());

    // List with a status filter and pagination.
    let page = l
        .client
        .list_executions()
        .state_machine_arn(&sm)
        .status_filter(ExecutionStatus::Succeeded)
        .max_results(2)
        .send()
        .await
        .expect("list");
    assert_eq!(page.executions().len(), 2);
    let next = page.next_token().expect("a second page").to_owned();
    let rest = l
        .client
        .list_executions()
        .state_machine_arn(&sm)
        .status_filter(ExecutionStatus::Succeeded)
        .max_results(2)
        .next_token(next)
        .send()
        .await
        .expect("list page 2");
    assert_eq!(rest.executions().len(), 1);
    assert!(rest.next_token().is_none());
    let running = l
        .client
        .list_executions()
        .state_machine_arn(&sm)
        .status_filter(ExecutionStatus::Running)
        .send()
        .await
        .expect("list running");
    assert!(running.executions().is_empty());

    // History: every page, in both orders, with and without data.
    let types = history_types(&l, &arns[0]).await;
    assert_eq!(types.first(), Some(&HistoryEventType::ExecutionStarted));
    assert_eq!(types.last(), Some(&HistoryEventType::ExecutionSucceeded));
    for expected in [
        HistoryEventType::ActivityScheduled,
        HistoryEventType::ActivityStarted,
        HistoryEventType::ActivitySucceeded,
    ] {
        assert!(types.contains(&expected), "{expected:?} in {types:?}");
    }
    let mut paged = Vec::new();
    let mut pages = l
        .client
        .get_execution_history()
        .execution_arn(&arns[0])
        .max_results(3)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        paged.extend(
            page.expect("page")
                .events()
                .iter()
                .map(|e| e.r#type().clone()),
        );
    }
    assert_eq!(paged, types);
    let reversed = l
        .client
        .get_execution_history()
        .execution_arn(&arns[0])
        .reverse_order(true)
        .max_results(1)
        .send()
        .await
        .expect("reverse");
    assert_eq!(
        reversed.events()[0].r#type(),
        &HistoryEventType::ExecutionSucceeded
    );
    let started = l
        .client
        .get_execution_history()
        .execution_arn(&arns[0])
        .include_execution_data(false)
        .send()
        .await
        .expect("no data");
    let details = started.events()[0]
        .execution_started_event_details()
        .expect("details");
    assert_eq!(details.input(), None);
    let with_data = history_types(&l, &arns[0]).await;
    assert_eq!(with_data, types);
    let worker = l
        .client
        .get_execution_history()
        .execution_arn(&arns[0])
        .send()
        .await
        .expect("history")
        .events()
        .iter()
        .find_map(|e| {
            e.activity_started_event_details()?
                .worker_name()
                .map(str::to_owned)
        });
    assert_eq!(worker.as_deref(), Some("worker-1"));

    // Update → a new version; publish; versions listed newest first; delete.
    let updated = l
        .client
        .update_state_machine()
        .state_machine_arn(&sm)
        .definition(machine(json!({"A": {"Type": "Pass", "End": true}})))
        .publish(true)
        .send()
        .await
        .expect("update");
    let v2 = updated
        .state_machine_version_arn()
        .expect("published")
        .to_owned();
    assert!(v2.ends_with(":2"), "{v2}");
    let published = l
        .client
        .publish_state_machine_version()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("publish");
    assert_eq!(published.state_machine_version_arn(), v2);
    let versions = l
        .client
        .list_state_machine_versions()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("versions");
    assert_eq!(versions.state_machine_versions().len(), 2);
    let old = l
        .client
        .describe_state_machine()
        .state_machine_arn(format!("{sm}:1"))
        .send()
        .await
        .expect("describe version 1");
    assert!(old.definition().contains(&activity));
    l.client
        .delete_state_machine()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("delete");
    let listed = l.client.list_state_machines().send().await.expect("list");
    assert!(
        listed
            .state_machines()
            .iter()
            .all(|m| m.state_machine_arn() != sm)
    );
    // The executions stay readable.
    assert_eq!(status(&l, &arns[0]).await, ExecutionStatus::Succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_are_idempotent_by_name() {
    let l = local("idem").await;
    let (_activity, sm) = setup_activity(&l, "respond").await;
    let start = |input: &'static str| {
        l.client
            .start_execution()
            .state_machine_arn(&sm)
            .name("event-42")
            .input(input)
            .send()
    };
    let first = start(r#"{"id":42}"#).await.expect("first start");
    let again = start(r#"{"id":42}"#).await.expect("same name and input");
    assert_eq!(first.execution_arn(), again.execution_arn());
    assert_eq!(first.start_date(), again.start_date());
    let other = start(r#"{"id":43}"#).await.expect_err("another input");
    assert_eq!(other.code(), Some("ExecutionAlreadyExists"));
    assert!(other.into_service_error().is_execution_already_exists());
    let listed = l
        .client
        .list_executions()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.executions().len(), 1);
}

fn approval_machine() -> String {
    machine(json!({
        "A": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
              "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/approvals",
                             "MessageBody": {"token.$": "$$.Task.Token", "id.$": "$.id"}},
              "TimeoutSeconds": 300, "HeartbeatSeconds": 120, "ResultPath": "$.approval", "End": true}
    }))
}

async fn token_of(l: &Local, id: &str) -> String {
    for _ in 0..500 {
        let msgs = l.engine.peek_messages("approvals").await.expect("peek");
        let found = msgs
            .iter()
            .filter_map(|m| serde_json::from_str::<Value>(&m.body).ok())
            .find(|b| b["id"] == id);
        if let Some(body) = found {
            return body["token"].as_str().expect("token").to_owned();
        }
        tokio::task::yield_now().await;
    }
    panic!("no approval message for {id}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_wait_answered_and_one_timed_out() {
    let l = local("tokens").await;
    let sm = l
        .client
        .create_state_machine()
        .name("approve")
        .definition(approval_machine())
        .role_arn(ROLE)
        .send()
        .await
        .expect("create")
        .state_machine_arn()
        .to_owned();
    let mut arns = Vec::new();
    for id in ["yes", "late"] {
        let e = l
            .client
            .start_execution()
            .state_machine_arn(&sm)
            .name(id)
            .input(json!({"id": id}).to_string())
            .send()
            .await
            .expect("start");
        arns.push(e.execution_arn().to_owned());
    }
    let yes = token_of(&l, "yes").await;
    let late = token_of(&l, "late").await;

    l.client
        .send_task_heartbeat()
        .task_token(&yes)
        .send()
        .await
        .expect("heartbeat");
    l.client
        .send_task_success()
        .task_token(&yes)
        .output(r#"{"decision":"approve"}"#)
        .send()
        .await
        .expect("answered");
    l.engine.wait_for_execution(&arns[0]).await.expect("done");
    let d = l
        .client
        .describe_execution()
        .execution_arn(&arns[0])
        .send()
        .await
        .expect("describe");
    assert_eq!(d.status(), &ExecutionStatus::Succeeded);
    assert!(d.output().unwrap_or_default().contains("approve"));

    // The other one is never answered: past its heartbeat, it fails.
    l.clock.advance(121_000);
    l.engine.wait_for_execution(&arns[1]).await.expect("done");
    let d = l
        .client
        .describe_execution()
        .execution_arn(&arns[1])
        .send()
        .await
        .expect("describe");
    assert_eq!(d.status(), &ExecutionStatus::Failed);
    assert_eq!(d.error(), Some("States.HeartbeatTimeout"));
    let types = history_types(&l, &arns[1]).await;
    assert!(types.contains(&HistoryEventType::TaskTimedOut), "{types:?}");

    // Answering either token now is refused as AWS refuses it.
    let again = l
        .client
        .send_task_success()
        .task_token(&late)
        .output("{}")
        .send()
        .await
        .expect_err("timed out");
    assert_eq!(again.code(), Some("TaskTimedOut"));
    let bogus = l
        .client
        .send_task_success()
        .task_token("not-a-token")
        .output("{}")
        .send()
        .await
        .expect_err("bogus");
    assert_eq!(bogus.code(), Some("InvalidToken"));
    let not_json = l
        .client
        .send_task_failure()
        .task_token(&yes)
        .error("X")
        .send()
        .await
        .expect_err("already answered");
    assert!(
        matches!(not_json.code(), Some("TaskTimedOut" | "TaskDoesNotExist")),
        "{:?}",
        not_json.code()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_and_a_redrive_after_a_fixed_failure() {
    let l = local("redrive").await;
    let (activity, sm) = setup_activity(&l, "act").await;
    let start = |name: &'static str| {
        l.client
            .start_execution()
            .state_machine_arn(&sm)
            .name(name)
            .input(r#"{"order":"A-1"}"#)
            .send()
    };

    // Stop: the execution is aborted with the given error and cause.
    let stopped = start("to-stop")
        .await
        .expect("start")
        .execution_arn()
        .to_owned();
    l.client
        .stop_execution()
        .execution_arn(&stopped)
        .error("Operator.Stop")
        .cause("customer withdrew")
        .send()
        .await
        .expect("stop");
    let d = l
        .client
        .describe_execution()
        .execution_arn(&stopped)
        .send()
        .await
        .expect("describe");
    assert_eq!(d.status(), &ExecutionStatus::Aborted);
    assert_eq!(d.error(), Some("Operator.Stop"));
    assert!(
        history_types(&l, &stopped)
            .await
            .contains(&HistoryEventType::ExecutionAborted)
    );

    // A worker fails the step (a bug); the execution fails.
    let failing = start("to-fix")
        .await
        .expect("start")
        .execution_arn()
        .to_owned();
    let (token, _) = poll(&l, &activity, "buggy").await;
    l.client
        .send_task_failure()
        .task_token(&token)
        .error("Turnflow.BackendUnavailable")
        .cause("the order service was down")
        .send()
        .await
        .expect("failure");
    l.engine.wait_for_execution(&failing).await.expect("done");
    let d = l
        .client
        .describe_execution()
        .execution_arn(&failing)
        .send()
        .await
        .expect("describe");
    assert_eq!(d.status(), &ExecutionStatus::Failed);
    assert_eq!(d.error(), Some("Turnflow.BackendUnavailable"));
    assert_eq!(d.redrive_status().map(|s| s.as_str()), Some("REDRIVABLE"));

    // An unknown execution cannot be redriven.
    let not = l
        .client
        .redrive_execution()
        .execution_arn(failing.replace(":to-fix", ":nope"))
        .send()
        .await
        .expect_err("no such execution");
    assert_eq!(not.code(), Some("ExecutionDoesNotExist"));

    // Fixed, redriven: the step runs again and the execution succeeds.
    l.client
        .redrive_execution()
        .execution_arn(&failing)
        .send()
        .await
        .expect("redrive");
    let (token, input) = poll(&l, &activity, "fixed").await;
    assert_eq!(input["order"], "A-1");
    l.client
        .send_task_success()
        .task_token(&token)
        .output(r#"{"ok":true}"#)
        .send()
        .await
        .expect("success");
    l.engine.wait_for_execution(&failing).await.expect("done");
    let d = l
        .client
        .describe_execution()
        .execution_arn(&failing)
        .send()
        .await
        .expect("describe");
    assert_eq!(d.status(), &ExecutionStatus::Succeeded);
    assert_eq!(d.redrive_count(), Some(1));
    let types = history_types(&l, &failing).await;
    assert!(types.contains(&HistoryEventType::ExecutionFailed));
    assert!(types.contains(&HistoryEventType::ExecutionRedriven));
    assert_eq!(types.last(), Some(&HistoryEventType::ExecutionSucceeded));
    let again = l
        .client
        .redrive_execution()
        .execution_arn(&failing)
        .send()
        .await
        .expect_err("succeeded");
    assert_eq!(again.code(), Some("ExecutionNotRedrivable"));
}

/// One raw HTTP/1.1 request; returns the status and the JSON body.
async fn raw(
    addr: std::net::SocketAddr,
    target: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut request = format!(
        "POST / HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-amz-json-1.0\r\n\
         content-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    if let Some(t) = target {
        request.push_str(&format!("x-amz-target: {t}\r\n"));
    }
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_aws_shape_and_change_nothing() {
    let l = local("errors").await;
    let (_activity, sm) = setup_activity(&l, "verify").await;
    let before = l.client.list_state_machines().send().await.expect("list");

    let (status, body) = raw(l.addr, Some("AWSStepFunctions.Nope"), &[], "{}").await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "UnknownOperationException");
    let (status, body) = raw(l.addr, None, &[], "{}").await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("UnknownOperationException"))
    );

    let (status, body) = raw(
        l.addr,
        Some("AWSStepFunctions.StartExecution"),
        &[],
        r#"{"stateMachineArn": "#,
    )
    .await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("SerializationException"))
    );

    let (status, body) = raw(
        l.addr,
        Some("AWSStepFunctions.StartExecution"),
        &[],
        r#"{"name":"x"}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "ValidationException");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("stateMachineArn")
    );

    let (status, body) = raw(
        l.addr,
        Some("AWSStepFunctions.StartExecution"),
        &[],
        &json!({"stateMachineArn": sm, "input": {"not": "a string"}}).to_string(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "SerializationException");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("input")
    );

    let (status, body) = raw(
        l.addr,
        Some("AWSStepFunctions.ListExecutions"),
        &[],
        &json!({"stateMachineArn": sm, "maxResults": 5000}).to_string(),
    )
    .await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("ValidationException"))
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("maxResults")
    );

    let (status, body) = raw(
        l.addr,
        Some("AWSStepFunctions.ListExecutions"),
        &[],
        &json!({"stateMachineArn": sm, "statusFilter": "SLEEPING"}).to_string(),
    )
    .await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("ValidationException"))
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("statusFilter")
    );

    // The SDK sees the same codes as typed errors.
    let bad_def = l
        .client
        .create_state_machine()
        .name("broken")
        .definition(r#"{"StartAt":"Missing","States":{"A":{"Type":"Pass","End":true}}}"#)
        .role_arn(ROLE)
        .send()
        .await
        .expect_err("invalid definition");
    assert_eq!(bad_def.code(), Some("InvalidDefinition"));
    assert!(bad_def.into_service_error().is_invalid_definition());
    let bad_input = l
        .client
        .start_execution()
        .state_machine_arn(&sm)
        .name("bad-input")
        .input("{not json")
        .send()
        .await
        .expect_err("invalid input");
    assert_eq!(bad_input.code(), Some("InvalidExecutionInput"));
    let missing = l
        .client
        .describe_execution()
        .execution_arn(format!(
            "{}:ghost",
            sm.replace(":stateMachine:", ":execution:")
        ))
        .send()
        .await
        .expect_err("missing");
    assert_eq!(missing.code(), Some("ExecutionDoesNotExist"));
    let bad_arn = l
        .client
        .describe_state_machine()
        .state_machine_arn("not-an-arn")
        .send()
        .await
        .expect_err("bad arn");
    assert_eq!(bad_arn.code(), Some("InvalidArn"));
    let no_machine = l
        .client
        .start_execution()
        .state_machine_arn(format!("{sm}-gone"))
        .send()
        .await
        .expect_err("no machine");
    assert_eq!(no_machine.code(), Some("StateMachineDoesNotExist"));
    let no_activity = l
        .client
        .describe_activity()
        .activity_arn("arn:aws:states:us-east-1:123456789012:activity:ghost")
        .send()
        .await
        .expect_err("no activity");
    assert_eq!(no_activity.code(), Some("ActivityDoesNotExist"));
    let bad_name = l
        .client
        .create_activity()
        .name("has space")
        .send()
        .await
        .expect_err("bad name");
    assert_eq!(bad_name.code(), Some("InvalidName"));

    // Nothing already accepted was lost or changed by the refusals.
    let after = l.client.list_state_machines().send().await.expect("list");
    assert_eq!(before.state_machines(), after.state_machines());
    let executions = l
        .client
        .list_executions()
        .state_machine_arn(&sm)
        .send()
        .await
        .expect("list");
    assert!(executions.executions().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_credentials_only_requests_signed_with_them_pass() {
    let l = local_with("auth", Some(Verifier::new("AKIDTURNFLOW", "s3cret"))).await;
    let good = client(l.addr, "AKIDTURNFLOW", "s3cret");
    good.create_activity()
        .name("signed")
        .send()
        .await
        .expect("signed with the configured key");

    let other_key = client(l.addr, "AKIDOTHER", "s3cret");
    let e = other_key
        .list_activities()
        .send()
        .await
        .expect_err("other key");
    assert_eq!(e.code(), Some("UnrecognizedClientException"));
    let other_secret = client(l.addr, "AKIDTURNFLOW", "guess");
    let e = other_secret
        .list_activities()
        .send()
        .await
        .expect_err("other secret");
    assert_eq!(e.code(), Some("InvalidSignatureException"));

    let (status, body) = raw(l.addr, Some("AWSStepFunctions.ListActivities"), &[], "{}").await;
    assert_eq!(status, 403);
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");
    let forged = "AWS4-HMAC-SHA256 Credential=AKIDTURNFLOW/20240101/us-east-1/states/aws4_request, \
                  SignedHeaders=host;x-amz-date, Signature=00";
    let (status, body) = raw(
        l.addr,
        Some("AWSStepFunctions.CreateActivity"),
        &[
            ("authorization", forged),
            ("x-amz-date", "20240101T000000Z"),
        ],
        r#"{"name":"forged"}"#,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body["__type"], "InvalidSignatureException");

    // The refused requests created nothing.
    let listed = good.list_activities().send().await.expect("list");
    let names: Vec<&str> = listed.activities().iter().map(|a| a.name()).collect();
    assert_eq!(names, ["signed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_reads_and_operates_executions() {
    let l = local("cli").await;
    let (activity, sm) = setup_activity(&l, "escalate").await;
    let arn = l
        .client
        .start_execution()
        .state_machine_arn(&sm)
        .name("cli-turn")
        .input(r#"{"conversation":"c-1"}"#)
        .send()
        .await
        .expect("start")
        .execution_arn()
        .to_owned();
    let (token, _) = poll(&l, &activity, "cli-worker").await;
    let url = format!("http://{}", l.addr);
    let cli = |args: Vec<String>| {
        let url = url.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                std::process::Command::new(env!("CARGO_BIN_EXE_turnflow"))
                    .args(&args)
                    .env("AWS_ENDPOINT_URL", &url)
                    .env_remove("AWS_ACCESS_KEY_ID")
                    .env_remove("AWS_PROFILE")
                    .output()
                    .expect("the binary runs")
            })
            .await
            .expect("joined")
        }
    };
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();

    let out = cli(s(&["tasks", "heartbeat", &token])).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(s(&[
        "tasks",
        "success",
        &token,
        "--output",
        r#"{"handoff":"h-1"}"#,
    ]))
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    l.engine.wait_for_execution(&arn).await.expect("done");

    let out = cli(s(&[
        "executions",
        "list",
        "--state-machine",
        "escalate-machine",
    ]))
    .await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("cli-turn") && text.contains("SUCCEEDED"),
        "{text}"
    );

    let out = cli(s(&["executions", "history", &arn])).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let activity_line = text
        .lines()
        .find(|l| l.contains("ActivityStarted"))
        .unwrap_or_default();
    assert!(
        activity_line.contains(" A ") && activity_line.contains("worker cli-worker"),
        "{text}"
    );
    assert!(
        text.lines().next().unwrap_or_default().contains("+0.000s"),
        "{text}"
    );

    let out = cli(s(&["executions", "history", &arn, "--json"])).await;
    let json: Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    let events = json["events"].as_array().expect("events");
    assert_eq!(events[0]["type"], "ExecutionStarted");
    assert!(events[0]["timestamp"].is_number());

    let out = cli(s(&["executions", "describe", &arn])).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("SUCCEEDED") && text.contains("h-1"), "{text}");

    let out = cli(s(&["executions", "redrive", &arn])).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ExecutionNotRedrivable"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_long_poll_is_answered_empty_and_shutdown_ends_polls() {
    let l = local_configured(
        "poll",
        ServerConfig {
            long_poll: std::time::Duration::from_millis(200),
            ..ServerConfig::default()
        },
    )
    .await;
    let activity = l
        .client
        .create_activity()
        .name("idle")
        .send()
        .await
        .expect("activity")
        .activity_arn()
        .to_owned();
    let empty = l
        .client
        .get_activity_task()
        .activity_arn(&activity)
        .send()
        .await
        .expect("an empty answer, not an error");
    assert_eq!(empty.task_token(), None);
    assert_eq!(empty.input(), None);

    // With the server's own 62 s limit, a shutdown answers a waiting poll at once.
    let l = local("poll-shutdown").await;
    let activity = l
        .client
        .create_activity()
        .name("idle")
        .send()
        .await
        .expect("activity")
        .activity_arn()
        .to_owned();
    let client = l.client.clone();
    let poll = tokio::spawn(async move {
        client
            .get_activity_task()
            .activity_arn(activity)
            .send()
            .await
    });
    // Real network: give the poll time to reach the server (nothing to observe it by).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let began = std::time::Instant::now();
    l.shutdown.trigger();
    let answered = tokio::time::timeout(std::time::Duration::from_secs(10), poll)
        .await
        .expect("the poll ends with the server")
        .expect("joined")
        .expect("an empty answer");
    assert_eq!(answered.task_token(), None);
    assert!(began.elapsed() < std::time::Duration::from_secs(10));
}
