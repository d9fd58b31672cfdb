//! The activity workers against a small local stand-in of the Step Functions activity protocol
//! (AWS JSON 1.0: GetActivityTask, SendTaskHeartbeat, SendTaskSuccess, SendTaskFailure):
//! concurrent polls, heartbeats while a task runs, success and failure answers, graceful stop.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::ensure;
use async_trait::async_trait;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use turnflow_activities::aws::config::AwsSettings;
use turnflow_activities::aws::worker::{self, StepFailure, StepHandler, WorkerSettings};

#[derive(Default)]
struct Sfn {
    tasks: VecDeque<(String, Value)>,
    polls: usize,
    heartbeats: Vec<String>,
    answers: Vec<(String, Value)>,
}

type Shared = Arc<Mutex<Sfn>>;

async fn api(State(sfn): State<Shared>, headers: HeaderMap, body: String) -> Response {
    // AWS JSON 1.0 bodies come as application/x-amz-json-1.0, which axum's Json refuses.
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim_start_matches("AWSStepFunctions.")
        .to_owned();
    let task = {
        let mut s = sfn.lock().unwrap_or_else(|p| p.into_inner());
        match target.as_str() {
            "GetActivityTask" => {
                s.polls += 1;
                s.tasks.pop_front()
            }
            "SendTaskHeartbeat" => {
                s.heartbeats
                    .push(body["taskToken"].as_str().unwrap_or_default().to_owned());
                None
            }
            _ => {
                s.answers.push((target.clone(), body.clone()));
                None
            }
        }
    };
    let out = match (target.as_str(), task) {
        ("GetActivityTask", Some((token, input))) => {
            json!({"taskToken": token, "input": input.to_string()})
        }
        ("GetActivityTask", None) => {
            // A long poll that found nothing.
            tokio::time::sleep(Duration::from_millis(100)).await;
            json!({})
        }
        _ => json!({}),
    };
    (
        [("content-type", "application/x-amz-json-1.0")],
        out.to_string(),
    )
        .into_response()
}

struct Steps;

#[async_trait]
impl StepHandler for Steps {
    async fn handle(&self, activity: &str, input: Value) -> Result<Value, StepFailure> {
        // Long enough for heartbeats.
        tokio::time::sleep(Duration::from_millis(350)).await;
        if input["fail"] == true {
            return Err(StepFailure {
                error: "Turnflow.BackendUnavailable".into(),
                cause: "the back office is down".into(),
            });
        }
        Ok(json!({"activity": activity, "echo": input["n"]}))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_poll_heartbeat_answer_and_stop() -> anyhow::Result<()> {
    let state: Shared = Arc::default();
    {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        s.tasks.push_back(("tok-1".into(), json!({"n": 1})));
        s.tasks.push_back(("tok-2".into(), json!({"fail": true})));
    }
    let app = axum::Router::new()
        .route("/", axum::routing::post(api))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    let config = AwsSettings::local(&format!("http://{addr}")).load().await;
    let settings = WorkerSettings {
        activities: vec![(
            "triage".into(),
            "arn:aws:states:us-east-1:123456789012:activity:turnflow-triage".into(),
        )],
        polls_per_activity: 3,
        heartbeat: Duration::from_millis(100),
        worker_name: "test".into(),
    };
    let watched = state.clone();
    let done = async move {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if watched.lock().map(|s| s.answers.len() >= 2).unwrap_or(true) {
                return;
            }
        }
    };
    let stats = tokio::time::timeout(
        Duration::from_secs(20),
        worker::run(
            worker::poll_client(&config),
            settings,
            Arc::new(Steps),
            done,
        ),
    )
    .await??;
    ensure!(stats.succeeded == 1 && stats.failed == 1, "{stats:?}");
    let s = state.lock().unwrap_or_else(|p| p.into_inner());
    let success = s
        .answers
        .iter()
        .find(|(t, _)| t == "SendTaskSuccess")
        .map(|(_, b)| b.clone())
        .unwrap_or_default();
    ensure!(success["taskToken"] == "tok-1", "{success}");
    let output: Value = serde_json::from_str(success["output"].as_str().unwrap_or("null"))?;
    ensure!(
        output == json!({"activity": "triage", "echo": 1}),
        "{output}"
    );
    let failure = s
        .answers
        .iter()
        .find(|(t, _)| t == "SendTaskFailure")
        .map(|(_, b)| b.clone())
        .unwrap_or_default();
    ensure!(
        failure["error"] == "Turnflow.BackendUnavailable",
        "{failure}"
    );
    ensure!(
        s.heartbeats.iter().filter(|t| *t == "tok-1").count() >= 2,
        "{:?}",
        s.heartbeats
    );
    ensure!(s.polls >= 3, "several concurrent polls: {}", s.polls);
    Ok(())
}
