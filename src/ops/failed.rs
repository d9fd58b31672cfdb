//! `turnflow ops failed`: the failed, timed-out and aborted turns, grouped by the error that
//! started the failure and the state it happened in.
//!
//! A turn's own error is seldom the interesting one: every step's failure is caught and sent
//! to Escalate, so a turn fails (`Turnflow.EscalationFailed`) only when the handoff fails too.
//! The *root* is the first task failure that no later attempt of its state recovered from;
//! the turn's own error is shown beside it.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use aws_sdk_sfn::Client;
use serde_json::Value;
use turnflow_workflows::interp::replay::views;

use super::error::OpsError;
use super::fetch::{self, Execution};

/// Where a failed turn failed first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    /// The error name (`Turnflow.BackendUnavailable`).
    pub error: String,
    /// The state whose task failed (or the last state entered).
    pub state: String,
    /// The cause recorded with it.
    pub cause: String,
}

/// Task events that end an attempt badly.
fn is_task_failure(t: &str) -> bool {
    !t.starts_with("Execution")
        && !t.ends_with("StateFailed")
        && (t.ends_with("Failed") || t.ends_with("TimedOut"))
}

fn is_task_success(t: &str) -> bool {
    !t.starts_with("Execution") && (t.ends_with("Succeeded") || t == "TaskSubmitted")
}

/// The root of a failure: the first task failure whose state never succeeded afterwards; else
/// the execution's own error in the last state entered.
pub fn root_of(events: &[Value]) -> Option<Root> {
    let mut pending: HashMap<String, (usize, Root)> = HashMap::new();
    let mut last_state = String::new();
    let mut own: Option<Root> = None;
    for (i, v) in views(events).into_iter().enumerate() {
        let state = v.state.clone().unwrap_or_default();
        let field = |k: &str| match v.payload.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        if v.event_type.ends_with("StateEntered") {
            last_state.clone_from(&state);
        }
        if is_task_failure(&v.event_type) {
            pending.entry(state.clone()).or_insert((
                i,
                Root {
                    error: field("error"),
                    state,
                    cause: field("cause"),
                },
            ));
        } else if is_task_success(&v.event_type) {
            pending.remove(&state);
        } else if matches!(
            v.event_type.as_str(),
            "ExecutionFailed" | "ExecutionTimedOut" | "ExecutionAborted"
        ) {
            own = Some(Root {
                error: field("error"),
                state: last_state.clone(),
                cause: field("cause"),
            });
        }
    }
    pending
        .into_values()
        .min_by_key(|(i, _)| *i)
        .map(|(_, r)| r)
        .or(own)
}

/// One failed turn with its root.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedTurn {
    /// The execution.
    pub execution: Execution,
    /// Where it failed first.
    pub root: Root,
}

/// A group of failed turns.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The root error name.
    pub error: String,
    /// The root state.
    pub state: String,
    /// The turns, newest first.
    pub turns: Vec<FailedTurn>,
}

/// Filters of `ops failed` (and of the bulk commands).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Stopped at or after this time (ms since the epoch).
    pub since_ms: i64,
    /// Only this root state.
    pub state: Option<String>,
    /// Only this root error name.
    pub error: Option<String>,
}

/// The failed turns that pass the filter, with their roots.
pub async fn failed_turns(client: &Client, filter: &Filter) -> Result<Vec<FailedTurn>, OpsError> {
    let executions = fetch::failed_executions(client, filter.since_ms).await?;
    let mut out = Vec::new();
    for mut e in executions {
        let (events, _) = fetch::history(client, &e.arn).await?;
        let root = root_of(&events).unwrap_or(Root {
            error: e.status.clone(),
            state: String::new(),
            cause: String::new(),
        });
        if filter.state.as_ref().is_some_and(|s| *s != root.state)
            || filter.error.as_ref().is_some_and(|x| *x != root.error)
        {
            continue;
        }
        if let Some(last) = events.last() {
            let details = last.get("executionFailedEventDetails").or_else(|| {
                last.get("executionTimedOutEventDetails")
                    .or_else(|| last.get("executionAbortedEventDetails"))
            });
            e.error = details
                .and_then(|d| d.get("error"))
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
        out.push(FailedTurn { execution: e, root });
    }
    Ok(out)
}

/// The turns grouped by root error and state, biggest group first.
pub fn group(turns: Vec<FailedTurn>) -> Vec<Group> {
    let mut by: BTreeMap<(String, String), Vec<FailedTurn>> = BTreeMap::new();
    for t in turns {
        by.entry((t.root.error.clone(), t.root.state.clone()))
            .or_default()
            .push(t);
    }
    let mut groups: Vec<Group> = by
        .into_iter()
        .map(|((error, state), turns)| Group {
            error,
            state,
            turns,
        })
        .collect();
    groups.sort_by_key(|g| std::cmp::Reverse(g.turns.len()));
    groups
}

/// The groups as a table.
pub fn render(groups: &[Group], since: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<34} {:<16} {:>6}  {:<30} EXAMPLES",
        "ERROR", "STATE", "TURNS", "STATUS (TURN ERROR)"
    );
    let mut total = 0;
    for g in groups {
        total += g.turns.len();
        let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
        for t in &g.turns {
            let key = match &t.execution.error {
                Some(e) => format!("{} ({e})", t.execution.status),
                None => t.execution.status.clone(),
            };
            *statuses.entry(key).or_default() += 1;
        }
        let statuses: Vec<String> = statuses
            .into_iter()
            .map(|(k, n)| {
                if n == g.turns.len() {
                    k
                } else {
                    format!("{k}×{n}")
                }
            })
            .collect();
        let examples: Vec<&str> = g
            .turns
            .iter()
            .take(3)
            .map(|t| t.execution.name.as_str())
            .collect();
        let _ = writeln!(
            out,
            "{:<34} {:<16} {:>6}  {:<30} {}",
            g.error,
            g.state,
            g.turns.len(),
            statuses.join(", "),
            examples.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "{total} failed, timed-out or aborted turns in the last {since}, {} groups",
        groups.len()
    );
    out
}
