//! `turnflow ops redrive` and `turnflow ops rerun`.
//!
//! **Redrive** is AWS's `RedriveExecution`: the same execution continues from the state whose
//! task failed (for a turn, the failed Escalate), succeeded steps are not re-run, and the
//! re-run step presents the same idempotency key (`execution name/state name`).
//!
//! **Rerun** is what redrive cannot do: a *new* execution, under a fixed definition, that starts
//! from a chosen state (by default the state where the turn first failed) with that state's
//! recorded input. Its state machine is `NAME-from-STATE` (the original's name; one published
//! version per distinct definition), its name `ORIGINAL-rerun-K` — the link to the original.
//!
//! Idempotency keys in a rerun: the turn's keys are `execution name/state name`, so every step
//! the rerun runs presents a fresh key (`ORIGINAL-rerun-K/Act`). That is safe because the rerun
//! never runs a step that succeeded in the original: the states before the start are not in the
//! rerun's definition at all, and a rerun is refused when a Task state that succeeded in the
//! original is reachable from the start (`--repeat-succeeded` overrides, for steps known to have
//! no side effect). A step that failed in the original made no side effect under its key by
//! the activities' contract, so running it again under a new key repeats nothing.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use aws_sdk_sfn::Client;
use serde_json::Value;
use turnflow_workflows::interp::replay::{
    Recording, reachable_from, resolve_placeholders, start_at, views,
};

use super::error::{OpsError, api, code_of};
use super::failed::root_of;
use super::fetch::{self, Recorded};

/// The Task states whose task succeeded in a recorded run (up to a redrive).
pub fn succeeded_tasks(rec: &Recorded) -> BTreeSet<String> {
    let recording = Recording::new(&rec.events);
    views(recording.events())
        .into_iter()
        .filter(|v| !v.event_type.starts_with("Execution") && v.event_type.ends_with("Succeeded"))
        .filter_map(|v| v.state)
        .collect()
}

/// The recorded input of the last entry into `state`.
pub fn last_input(rec: &Recorded, state: &str) -> Option<Value> {
    views(&rec.events).into_iter().rev().find_map(|v| {
        let entered = v.event_type.ends_with("StateEntered");
        (entered && v.state.as_deref() == Some(state))
            .then(|| v.payload.get("input").cloned())
            .flatten()
    })
}

/// `turnflow ops redrive`: where it resumes, then `RedriveExecution`.
pub async fn redrive(client: &Client, arn: &str) -> Result<String, OpsError> {
    let (events, _) = fetch::history(client, arn).await?;
    let out = client
        .redrive_execution()
        .execution_arn(arn)
        .send()
        .await
        .map_err(api(format!("redrive {arn}")))?;
    let resumes = views(&events)
        .into_iter()
        .rev()
        .find(|v| {
            !v.event_type.starts_with("Execution")
                && (v.event_type.ends_with("Failed") || v.event_type.ends_with("TimedOut"))
        })
        .and_then(|v| v.state)
        .unwrap_or_else(|| "the state that was running".to_owned());
    let millis = out.redrive_date().to_millis().unwrap_or_default();
    Ok(format!(
        "redrove {arn} at {millis} ms: it resumes in {resumes}, with the same idempotency keys; \
         succeeded steps are not re-run\n"
    ))
}

/// Creates the state machine `name` with `definition`, or publishes `definition` as its new
/// version when it differs; returns the ARN of the version that holds `definition`.
pub async fn ensure_state_machine(
    client: &Client,
    name: &str,
    definition: &str,
    role_arn: &str,
) -> Result<String, OpsError> {
    let created = client
        .create_state_machine()
        .name(name)
        .definition(definition)
        .role_arn(role_arn)
        .publish(true)
        .send()
        .await;
    match created {
        Ok(c) => Ok(c
            .state_machine_version_arn()
            .map_or_else(|| c.state_machine_arn().to_owned(), str::to_owned)),
        Err(e) if code_of(&e).as_deref() == Some("StateMachineAlreadyExists") => {
            let arn = find_state_machine(client, name).await?;
            let current = client
                .describe_state_machine()
                .state_machine_arn(&arn)
                .send()
                .await
                .map_err(api(format!("describe {arn}")))?;
            let same = serde_json::from_str::<Value>(current.definition()).ok()
                == serde_json::from_str::<Value>(definition).ok();
            if same {
                let versions = client
                    .list_state_machine_versions()
                    .state_machine_arn(&arn)
                    .send()
                    .await
                    .map_err(api(format!("list the versions of {arn}")))?;
                if let Some(v) = versions.state_machine_versions().first() {
                    return Ok(v.state_machine_version_arn().to_owned());
                }
            }
            let up = client
                .update_state_machine()
                .state_machine_arn(&arn)
                .definition(definition)
                .publish(true)
                .send()
                .await
                .map_err(api(format!("update {arn}")))?;
            Ok(up.state_machine_version_arn().map_or(arn, str::to_owned))
        }
        Err(e) => Err(api(format!("create the state machine {name}"))(e)),
    }
}

async fn find_state_machine(client: &Client, name: &str) -> Result<String, OpsError> {
    let mut pages = client.list_state_machines().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(api("list state machines"))?;
        if let Some(m) = page.state_machines().iter().find(|m| m.name() == name) {
            return Ok(m.state_machine_arn().to_owned());
        }
    }
    Err(OpsError::Invalid(format!(
        "no state machine named `{name}`"
    )))
}

fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// What to rerun.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RerunRequest {
    /// The state to start from; the state where the turn first failed when `None`.
    pub from: Option<String>,
    /// The fixed definition; the recorded one when `None`.
    pub definition: Option<Value>,
    /// Run even when a Task state that succeeded in the original is reachable from the start.
    pub repeat_succeeded: bool,
}

/// A started rerun.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rerun {
    /// The original execution.
    pub original: String,
    /// The new execution.
    pub execution_arn: String,
    /// The state machine version it runs.
    pub version_arn: String,
    /// The state it starts from.
    pub from: String,
}

/// The derived definition and input of a rerun (no API call).
pub fn plan(rec: &Recorded, request: &RerunRequest) -> Result<(Value, String, Value), OpsError> {
    let from = match &request.from {
        Some(s) => s.clone(),
        None => root_of(&rec.events)
            .map(|r| r.state)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                OpsError::Invalid(format!(
                    "{}: no failed state to rerun from; give --from",
                    rec.execution.arn
                ))
            })?,
    };
    let recording = Recording::new(&rec.events);
    let definition = match &request.definition {
        Some(d) => resolve_placeholders(d, Some(&rec.definition), &recording),
        None => rec.definition.clone(),
    };
    let text = definition.to_string();
    if let Some(at) = text.find("${") {
        let rest: String = text[at..].chars().take(40).collect();
        return Err(OpsError::Definition(format!(
            "the definition has a placeholder the recorded definition does not fill: {rest}…"
        )));
    }
    if !request.repeat_succeeded {
        let again: Vec<String> = reachable_from(&definition, &from)
            .intersection(&succeeded_tasks(rec))
            .cloned()
            .collect();
        if !again.is_empty() {
            return Err(OpsError::Invalid(format!(
                "a rerun from {from} could run {} again, which succeeded in {} (under new \
                 idempotency keys: its side effects would repeat); start later or pass \
                 --repeat-succeeded",
                again.join(", "),
                rec.execution.name
            )));
        }
    }
    let derived = start_at(&definition, &from)?;
    let checked = turnflow_workflows::asl::validate(&derived.to_string());
    if let Some(d) = checked
        .iter()
        .find(|d| d.severity == turnflow_workflows::asl::Severity::Error)
    {
        return Err(OpsError::Definition(format!(
            "the definition started at {from} is not valid: {d}"
        )));
    }
    let input = last_input(rec, &from).ok_or_else(|| {
        OpsError::Invalid(format!(
            "{} never entered {from}: no recorded input to start from",
            rec.execution.name
        ))
    })?;
    Ok((derived, from, input))
}

/// `turnflow ops rerun`: starts the rerun (it does not wait for it).
pub async fn rerun(
    client: &Client,
    rec: &Recorded,
    request: &RerunRequest,
) -> Result<Rerun, OpsError> {
    let (derived, from, input) = plan(rec, request)?;
    let machine = format!(
        "{}-from-{from}",
        clip(rec.execution.state_machine_name(), 60)
    );
    let machine: String = clip(&machine, 80);
    let version =
        ensure_state_machine(client, &machine, &derived.to_string(), &rec.role_arn).await?;
    let base = clip(&rec.execution.name, 66);
    for k in 1..=100u32 {
        let name = format!("{base}-rerun-{k}");
        let started = client
            .start_execution()
            .state_machine_arn(&version)
            .name(&name)
            .input(input.to_string())
            .send()
            .await;
        match started {
            Ok(s) => {
                return Ok(Rerun {
                    original: rec.execution.arn.clone(),
                    execution_arn: s.execution_arn().to_owned(),
                    version_arn: version,
                    from,
                });
            }
            Err(e) if code_of(&e).as_deref() == Some("ExecutionAlreadyExists") => continue,
            Err(e) => return Err(api(format!("start the rerun of {}", rec.execution.arn))(e)),
        }
    }
    Err(OpsError::Invalid(format!(
        "{} has been rerun 100 times already",
        rec.execution.arn
    )))
}

/// The report of a started rerun.
pub fn render(r: &Rerun) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "rerun of   {}", r.original);
    let _ = writeln!(out, "execution  {}", r.execution_arn);
    let _ = writeln!(out, "version    {}", r.version_arn);
    let _ = writeln!(
        out,
        "starts at  {} with its recorded input; steps before it are not re-run",
        r.from
    );
    out
}
