//! Reading recorded executions through the Step Functions API (`DescribeExecution`,
//! `GetExecutionHistory`, the definition the execution ran) and from fixture files.
//!
//! A fixture (`tests/fixtures/histories/*.json`) is one recorded execution, version 1:
//! `{"v": 1, "execution": {…}, "definition": {…}, "events": [GetExecutionHistory's events]}`,
//! the events exactly as the API returned them.

use std::path::Path;

use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use turnflow_workflows::interp::ExecutionInfo;

use super::error::{OpsError, api};
use crate::client::RawJson;

/// The fixture format version this code writes (and the newest it reads).
pub const FIXTURE_VERSION: u64 = 1;

/// What `DescribeExecution` says of an execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    /// The execution's ARN.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// Its state machine's ARN.
    pub state_machine_arn: String,
    /// The version it ran, when the API says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_arn: Option<String>,
    /// RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED.
    pub status: String,
    /// The input (JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The error it failed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// When it started (ms since the epoch).
    pub start_ms: i64,
    /// When it stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_ms: Option<i64>,
}

impl Execution {
    /// Whether it ended failed, timed out or aborted.
    pub fn is_failed(&self) -> bool {
        matches!(self.status.as_str(), "FAILED" | "TIMED_OUT" | "ABORTED")
    }

    /// The state machine's name (the last part of its ARN).
    pub fn state_machine_name(&self) -> &str {
        self.state_machine_arn
            .rsplit(':')
            .next()
            .unwrap_or(&self.state_machine_arn)
    }
}

/// A recorded execution: what it is, the definition it ran and its history.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// The execution.
    pub execution: Execution,
    /// The definition it ran (parsed JSON).
    pub definition: Value,
    /// The role it ran as.
    pub role_arn: String,
    /// `GetExecutionHistory`'s events, as the API returned them, oldest first.
    pub events: Vec<Value>,
}

impl Recorded {
    /// `$$.Execution` and `$$.StateMachine` of the recorded run, for the replayer.
    pub fn execution_info(&self) -> ExecutionInfo {
        ExecutionInfo {
            name: self.execution.name.clone(),
            arn: self.execution.arn.clone(),
            state_machine_arn: self.execution.state_machine_arn.clone(),
            state_machine_name: self.execution.state_machine_name().to_owned(),
            role_arn: self.role_arn.clone(),
            redrive_count: 0,
        }
    }

    /// The fixture JSON.
    pub fn to_fixture(&self) -> Value {
        serde_json::json!({
            "v": FIXTURE_VERSION,
            "execution": self.execution,
            "roleArn": self.role_arn,
            "definition": self.definition,
            "events": self.events,
        })
    }

    /// Reads a fixture (any version up to [`FIXTURE_VERSION`]).
    pub fn from_fixture(value: &Value) -> Result<Recorded, OpsError> {
        let v = value.get("v").and_then(Value::as_u64).unwrap_or(0);
        if v == 0 || v > FIXTURE_VERSION {
            return Err(OpsError::Invalid(format!(
                "fixture version {v} is not one this turnflow reads (1..={FIXTURE_VERSION})"
            )));
        }
        let execution: Execution =
            serde_json::from_value(value.get("execution").cloned().unwrap_or(Value::Null))
                .map_err(|e| OpsError::Invalid(format!("fixture `execution`: {e}")))?;
        let events = value
            .get("events")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| OpsError::Invalid("fixture has no `events`".into()))?;
        Ok(Recorded {
            execution,
            definition: value.get("definition").cloned().unwrap_or(Value::Null),
            role_arn: value
                .get("roleArn")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            events,
        })
    }

    /// Reads a fixture file.
    pub fn read_fixture(path: &Path) -> Result<Recorded, OpsError> {
        let text = std::fs::read_to_string(path).map_err(|source| OpsError::Io {
            op: "read",
            path: path.display().to_string(),
            source,
        })?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| OpsError::Invalid(format!("{}: not JSON: {e}", path.display())))?;
        Recorded::from_fixture(&value)
            .map_err(|e| OpsError::Invalid(format!("{}: {e}", path.display())))
    }
}

fn millis(t: &aws_smithy_types::DateTime) -> i64 {
    t.to_millis().unwrap_or_default()
}

/// `DescribeExecution`.
pub async fn execution(client: &Client, arn: &str) -> Result<Execution, OpsError> {
    let d = client
        .describe_execution()
        .execution_arn(arn)
        .send()
        .await
        .map_err(api(format!("describe {arn}")))?;
    Ok(Execution {
        arn: d.execution_arn().to_owned(),
        name: d.name().unwrap_or_default().to_owned(),
        state_machine_arn: d.state_machine_arn().to_owned(),
        version_arn: d.state_machine_version_arn().map(str::to_owned),
        status: d.status().as_str().to_owned(),
        input: d.input().map(str::to_owned),
        error: d.error().map(str::to_owned),
        cause: d.cause().map(str::to_owned),
        start_ms: millis(d.start_date()),
        stop_ms: d.stop_date().map(millis),
    })
}

/// `GetExecutionHistory`, every page: the API's JSON events and the SDK's.
pub async fn history(
    client: &Client,
    arn: &str,
) -> Result<(Vec<Value>, Vec<HistoryEvent>), OpsError> {
    let raw = RawJson::default();
    let typed = crate::client::history_pages(client, arn, false, true, &raw)
        .await
        .map_err(api(format!("read the history of {arn}")))?;
    let events = raw
        .take()
        .into_iter()
        .flat_map(|b| match b.get("events") {
            Some(Value::Array(a)) => a.clone(),
            _ => Vec::new(),
        })
        .collect();
    Ok((events, typed))
}

/// The definition an execution ran and its role: the version it is pinned to when the API
/// names one (turnflow's engine always does), else `DescribeStateMachineForExecution` (AWS),
/// else the state machine's current definition.
pub async fn definition(client: &Client, e: &Execution) -> Result<(Value, String), OpsError> {
    let (text, role) = match &e.version_arn {
        Some(version) => {
            let d = client
                .describe_state_machine()
                .state_machine_arn(version)
                .send()
                .await
                .map_err(api(format!("describe {version}")))?;
            (d.definition().to_owned(), d.role_arn().to_owned())
        }
        None => match client
            .describe_state_machine_for_execution()
            .execution_arn(&e.arn)
            .send()
            .await
        {
            Ok(d) => (d.definition().to_owned(), d.role_arn().to_owned()),
            Err(_) => {
                let d = client
                    .describe_state_machine()
                    .state_machine_arn(&e.state_machine_arn)
                    .send()
                    .await
                    .map_err(api(format!("describe {}", e.state_machine_arn)))?;
                (d.definition().to_owned(), d.role_arn().to_owned())
            }
        },
    };
    let value = serde_json::from_str(&text).map_err(|err| {
        OpsError::Definition(format!("the definition of {} is not JSON: {err}", e.arn))
    })?;
    Ok((value, role))
}

/// The definition of version `n` of a state machine.
pub async fn version_definition(
    client: &Client,
    state_machine_arn: &str,
    n: u32,
) -> Result<Value, OpsError> {
    let arn = format!("{state_machine_arn}:{n}");
    let d = client
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .map_err(api(format!("describe {arn}")))?;
    serde_json::from_str(d.definition())
        .map_err(|err| OpsError::Definition(format!("the definition of {arn} is not JSON: {err}")))
}

/// Everything recorded of an execution.
pub async fn recorded(client: &Client, arn: &str) -> Result<Recorded, OpsError> {
    let execution = execution(client, arn).await?;
    let (definition, role_arn) = definition(client, &execution).await?;
    let (events, _) = history(client, arn).await?;
    Ok(Recorded {
        execution,
        definition,
        role_arn,
        events,
    })
}

/// The failed, timed-out and aborted executions of every state machine that stopped at
/// `since_ms` or later, newest first.
pub async fn failed_executions(client: &Client, since_ms: i64) -> Result<Vec<Execution>, OpsError> {
    let mut machines = Vec::new();
    let mut pages = client.list_state_machines().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(api("list state machines"))?;
        machines.extend(
            page.state_machines()
                .iter()
                .map(|m| m.state_machine_arn().to_owned()),
        );
    }
    let mut out = Vec::new();
    for arn in machines {
        for status in [
            ExecutionStatus::Failed,
            ExecutionStatus::TimedOut,
            ExecutionStatus::Aborted,
        ] {
            let mut token: Option<String> = None;
            loop {
                let page = client
                    .list_executions()
                    .state_machine_arn(&arn)
                    .status_filter(status.clone())
                    .max_results(1000)
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(api(format!("list the executions of {arn}")))?;
                for e in page.executions() {
                    let stop = e.stop_date().map(millis);
                    if stop.is_some_and(|s| s < since_ms) {
                        continue;
                    }
                    out.push(Execution {
                        arn: e.execution_arn().to_owned(),
                        name: e.name().to_owned(),
                        state_machine_arn: e.state_machine_arn().to_owned(),
                        version_arn: None,
                        status: e.status().as_str().to_owned(),
                        input: None,
                        error: None,
                        cause: None,
                        start_ms: millis(e.start_date()),
                        stop_ms: stop,
                    });
                }
                match page.next_token() {
                    Some(t) => token = Some(t.to_owned()),
                    None => break,
                }
            }
        }
    }
    out.sort_by(|a, b| b.stop_ms.cmp(&a.stop_ms).then_with(|| a.arn.cmp(&b.arn)));
    Ok(out)
}
