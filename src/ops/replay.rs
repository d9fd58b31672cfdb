//! `turnflow ops replay`: a recorded execution re-run by the pure replayer
//! ([`turnflow_workflows::interp::replay`]) with its task results — model outputs included —
//! fed back from the history, against the recorded definition or another one. Nothing is
//! executed and no side effect happens, except for the `--live` states: their tasks run for
//! real through the API ([`ApiLive`]), with the recorded idempotency keys.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::{Value, json};
use turnflow_activities::embedded::guardrails::redact;
use turnflow_workflows::asl;
use turnflow_workflows::interp::replay::{
    self as core, Divergence, LiveTasks, Recording, ReplayOptions, Replayed, resolve_placeholders,
};
use turnflow_workflows::interp::{Outcome, TaskOutcome, TaskRequest};

use super::error::{OpsError, api};
use super::fetch::{self, Recorded};

/// Which definition to replay against.
#[derive(Debug, Clone, PartialEq)]
pub enum Against {
    /// The one the execution ran.
    Recorded,
    /// This definition (`${…}` placeholders are filled from the recorded one).
    Definition(Value),
    /// Version `n` of the execution's state machine.
    Version(u32),
}

/// Replays a recorded execution against `definition` (the recorded one when `None`).
pub fn replay_recorded(
    rec: &Recorded,
    definition: Option<&Value>,
    live_states: &BTreeSet<String>,
    live: &mut dyn LiveTasks,
) -> Result<Replayed, OpsError> {
    let recording = Recording::new(&rec.events);
    let definition = match definition {
        Some(d) => resolve_placeholders(d, Some(&rec.definition), &recording),
        None => rec.definition.clone(),
    };
    let machine = asl::from_value(&definition)
        .map_err(|d| OpsError::Definition(format!("definition rejected: {d}")))?;
    let input = recording
        .input()
        .or_else(|| {
            rec.execution
                .input
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok())
        })
        .unwrap_or_else(|| json!({}));
    let options = ReplayOptions {
        execution: rec.execution_info(),
        live: live_states.clone(),
        ..ReplayOptions::default()
    };
    Ok(core::replay(
        Arc::new(machine),
        &input,
        &recording,
        &options,
        live,
    )?)
}

/// The definition to replay against, fetched.
pub async fn resolve(
    client: &Client,
    rec: &Recorded,
    against: &Against,
) -> Result<Option<Value>, OpsError> {
    Ok(match against {
        Against::Recorded => None,
        Against::Definition(v) => Some(v.clone()),
        Against::Version(n) => {
            Some(fetch::version_definition(client, &rec.execution.state_machine_arn, *n).await?)
        }
    })
}

/// The status a replay ended in, as the API names statuses.
pub fn status_of(r: &Replayed) -> &'static str {
    match &r.outcome {
        None => "RUNNING",
        Some(Outcome::Succeeded(_)) => "SUCCEEDED",
        Some(Outcome::Failed { .. }) => "FAILED",
        Some(Outcome::TimedOut) => "TIMED_OUT",
        Some(Outcome::Aborted { .. }) => "ABORTED",
    }
}

/// The report of one replay.
pub fn render(rec: &Recorded, r: &Replayed, against: &Against) -> String {
    let mut out = String::new();
    let what = match against {
        Against::Recorded => "the recorded definition".to_owned(),
        Against::Definition(_) => "the given definition".to_owned(),
        Against::Version(n) => format!("version {n}"),
    };
    let _ = writeln!(out, "replayed {} against {what}", rec.execution.arn);
    let _ = writeln!(
        out,
        "recorded {} events, {}; replay {} events, {}",
        rec.events.len(),
        rec.execution.status,
        r.history.len(),
        status_of(r)
    );
    if r.live_calls > 0 {
        let _ = writeln!(out, "{} tasks ran live", r.live_calls);
    }
    for u in &r.unanswered {
        let _ = writeln!(
            out,
            "no recorded result for {} (attempt {}): the replay stops there",
            u.state, u.attempt
        );
    }
    match &r.divergence {
        None => {
            let _ = writeln!(out, "identical: the replay reproduces the recorded history");
        }
        Some(d) => {
            let _ = writeln!(out, "{}", redacted(d));
        }
    }
    out
}

/// A divergence as text, every string of its payloads redacted first (before the display
/// shortens them, so no PII survives half-cut).
pub fn redacted(d: &Divergence) -> String {
    fn walk(v: &mut Value) {
        match v {
            Value::String(s) => *s = redact(s),
            Value::Array(a) => a.iter_mut().for_each(walk),
            Value::Object(m) => m.values_mut().for_each(walk),
            _ => {}
        }
    }
    let mut d = d.clone();
    for e in [d.recorded.as_mut(), d.replayed.as_mut()]
        .into_iter()
        .flatten()
    {
        walk(&mut e.payload);
    }
    d.to_string()
}

/// Runs the live states' tasks through a Step Functions API: each task becomes an execution
/// of a one-state machine (`ops-live-NAME`) with the task's resource, started with the task's
/// effective input — which carries the recorded idempotency key, so a side effect the recorded
/// run already made is not made twice by a backend that honours keys. Waits (polling) for it.
#[derive(Debug)]
pub struct ApiLive {
    client: Client,
    role_arn: String,
    runtime: tokio::runtime::Handle,
    poll: Duration,
}

impl ApiLive {
    /// A runner on `client`; create it inside a tokio runtime and replay on a blocking thread
    /// (`spawn_blocking`).
    pub fn new(client: Client, role_arn: String) -> Result<ApiLive, OpsError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| OpsError::Invalid("live tasks need a tokio runtime".into()))?;
        Ok(ApiLive {
            client,
            role_arn,
            runtime,
            poll: Duration::from_millis(20),
        })
    }

    async fn run_async(&self, task: &TaskRequest) -> Result<TaskOutcome, OpsError> {
        let short = task.resource.rsplit(':').next().unwrap_or("task");
        let name: String = format!("ops-live-{short}")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .take(80)
            .collect();
        let mut state = json!({"Type": "Task", "Resource": task.resource, "End": true});
        if let Some(t) = task.timeout_seconds {
            state["TimeoutSeconds"] = json!(t);
        }
        let definition = json!({"StartAt": "Live", "States": {"Live": state}}).to_string();
        let sm =
            super::rerun::ensure_state_machine(&self.client, &name, &definition, &self.role_arn)
                .await?;
        let started = self
            .client
            .start_execution()
            .state_machine_arn(&sm)
            .input(task.input.to_string())
            .send()
            .await
            .map_err(api(format!("start a live task on {sm}")))?;
        let arn = started.execution_arn().to_owned();
        loop {
            let d = self
                .client
                .describe_execution()
                .execution_arn(&arn)
                .send()
                .await
                .map_err(api(format!("describe {arn}")))?;
            match d.status() {
                ExecutionStatus::Running | ExecutionStatus::PendingRedrive => {
                    tokio::time::sleep(self.poll).await;
                }
                ExecutionStatus::Succeeded => {
                    let output = d
                        .output()
                        .and_then(|o| serde_json::from_str(o).ok())
                        .unwrap_or(Value::Null);
                    return Ok(TaskOutcome::Succeeded(output));
                }
                _ => {
                    return Ok(TaskOutcome::Failed {
                        error: d.error().map(str::to_owned),
                        cause: d.cause().map(str::to_owned),
                    });
                }
            }
        }
    }
}

impl LiveTasks for ApiLive {
    fn run(&mut self, _state: &str, task: &TaskRequest) -> Option<TaskOutcome> {
        let runtime = self.runtime.clone();
        // The replay runs on a blocking thread (see `replay_one`), where blocking on the
        // runtime is allowed.
        let outcome = runtime.block_on(self.run_async(task));
        match outcome {
            Ok(o) => Some(o),
            Err(e) => {
                tracing::warn!("live task of {} failed to run: {e}", task.state_path);
                None
            }
        }
    }
}

/// `turnflow ops replay EXECUTION`.
pub async fn replay_one(
    client: &Client,
    arn: &str,
    against: &Against,
    live_states: &BTreeSet<String>,
) -> Result<(Recorded, Replayed), OpsError> {
    let rec = fetch::recorded(client, arn).await?;
    let definition = resolve(client, &rec, against).await?;
    let replayed = if live_states.is_empty() {
        replay_recorded(&rec, definition.as_ref(), live_states, &mut core::NoLive)?
    } else {
        let mut live = ApiLive::new(client.clone(), rec.role_arn.clone())?;
        let rec = rec.clone();
        let live_states = live_states.clone();
        tokio::task::spawn_blocking(move || {
            replay_recorded(&rec, definition.as_ref(), &live_states, &mut live)
        })
        .await
        .map_err(|e| OpsError::Invalid(format!("the replay panicked: {e}")))??
    };
    Ok((rec, replayed))
}
