//! `turnflow ops trace`: one execution's step timeline with PII redacted — the timeline of
//! `turnflow executions history` (inputs, outputs, errors through the activities crate's
//! redaction), then each state visit's attempts, retries, errors and duration, and the model
//! calls found in the steps' outputs (`usage`: model, prompt version, tokens, cost, where the
//! step recorded them).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use aws_sdk_sfn::Client;
use serde_json::Value;
use turnflow_activities::embedded::guardrails::redact;
use turnflow_workflows::interp::replay::views;

use super::error::OpsError;
use super::fetch;
use crate::client;

/// One visit of a state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Visit {
    /// The state.
    pub state: String,
    /// Its type (`Task`, `Choice`, …).
    pub kind: String,
    /// Task attempts (0 for states that run no task).
    pub attempts: u32,
    /// The errors of the failed attempts, in order.
    pub errors: Vec<String>,
    /// Entered to exited (or to the end of the history), ms.
    pub duration_ms: Option<i64>,
    /// How the visit ended: `ok`, `caught`, `failed` or `open`.
    pub result: &'static str,
}

/// One model call recorded in a step's output.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelCall {
    /// The state whose output carried it.
    pub state: String,
    /// The model.
    pub model: String,
    /// The prompt version, when recorded.
    pub prompt_version: Option<String>,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// The cost in USD, when recorded.
    pub cost_usd: Option<f64>,
}

fn time_ms(e: &Value) -> Option<i64> {
    match e.get("timestamp")? {
        Value::Number(n) => n.as_f64().map(|s| (s * 1000.0).round() as i64),
        Value::String(s) => turnflow_workflows::interp::parse_timestamp(s),
        _ => None,
    }
}

/// The visits of a history, in order.
pub fn visits(events: &[Value]) -> Vec<Visit> {
    let views = views(events);
    let mut out: Vec<Visit> = Vec::new();
    let mut open: BTreeMap<String, (usize, Option<i64>)> = BTreeMap::new();
    let end = events.last().and_then(time_ms);
    for (v, raw) in views.iter().zip(events) {
        let t = v.event_type.as_str();
        let state = v.state.clone().unwrap_or_default();
        let at = time_ms(raw);
        if let Some(kind) = t.strip_suffix("StateEntered") {
            out.push(Visit {
                state: state.clone(),
                kind: kind.to_owned(),
                result: "open",
                ..Visit::default()
            });
            open.insert(state, (out.len() - 1, at));
            continue;
        }
        let Some(&(i, entered)) = open.get(&state) else {
            continue;
        };
        let visit = &mut out[i];
        if t.ends_with("Scheduled") && t != "MapStateScheduled" {
            visit.attempts += 1;
        } else if !t.starts_with("Execution")
            && !t.ends_with("StateFailed")
            && (t.ends_with("Failed") || t.ends_with("TimedOut"))
        {
            let error = v
                .payload
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("(no error name)");
            visit.errors.push(error.to_owned());
        } else if t.ends_with("StateExited") {
            visit.duration_ms = entered.zip(at).map(|(a, b)| b - a);
            visit.result = if visit.errors.len() >= visit.attempts as usize && visit.attempts > 0 {
                "caught"
            } else {
                "ok"
            };
            open.remove(&state);
        }
    }
    let failed = events
        .last()
        .is_some_and(|e| e.get("type").and_then(Value::as_str) != Some("ExecutionSucceeded"));
    for (_, (i, entered)) in open {
        let v = &mut out[i];
        v.duration_ms = entered.zip(end).map(|(a, b)| b - a);
        let terminal = events
            .last()
            .and_then(|e| e.get("type"))
            .and_then(Value::as_str);
        v.result = match terminal {
            Some("ExecutionFailed" | "ExecutionTimedOut" | "ExecutionAborted") if failed => {
                "failed"
            }
            _ => "open",
        };
    }
    out
}

/// The model calls recorded in task outputs (`usage` objects with a model id).
pub fn model_calls(events: &[Value]) -> Vec<ModelCall> {
    let mut out = Vec::new();
    for v in views(events) {
        if !v.event_type.ends_with("Succeeded") || v.event_type.starts_with("Execution") {
            continue;
        }
        if let Some(output) = v.payload.get("output") {
            collect_usage(output, v.state.as_deref().unwrap_or(""), &mut out);
        }
    }
    out
}

fn collect_usage(v: &Value, state: &str, out: &mut Vec<ModelCall>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Object(u)) = m.get("usage") {
                let text = |k: &str| u.get(k).and_then(Value::as_str).map(str::to_owned);
                let num = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
                if let Some(model) = text("modelId").or_else(|| text("model")) {
                    out.push(ModelCall {
                        state: state.to_owned(),
                        model,
                        prompt_version: text("promptVersion").or_else(|| {
                            m.get("promptVersion")
                                .and_then(Value::as_str)
                                .map(str::to_owned)
                        }),
                        input_tokens: num("inputTokens"),
                        output_tokens: num("outputTokens"),
                        cost_usd: u.get("costUsd").and_then(Value::as_f64),
                    });
                }
            }
            for (k, c) in m {
                if k != "usage" {
                    collect_usage(c, state, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| collect_usage(c, state, out)),
        _ => {}
    }
}

/// `turnflow ops trace`.
pub async fn trace(client: &Client, arn: &str) -> Result<String, OpsError> {
    let e = fetch::execution(client, arn).await?;
    let (events, typed) = fetch::history(client, arn).await?;
    let mut out = String::new();
    let _ = writeln!(out, "execution  {}", e.arn);
    let _ = writeln!(
        out,
        "version    {}",
        e.version_arn.as_deref().unwrap_or(&e.state_machine_arn)
    );
    let _ = write!(out, "status     {}", e.status);
    if let Some(error) = &e.error {
        let _ = write!(out, " ({error})");
    }
    out.push('\n');
    if let Some(input) = &e.input {
        let _ = writeln!(out, "input      {}", redact(input));
    }
    if let Some(root) = super::failed::root_of(&events).filter(|_| e.is_failed()) {
        let _ = writeln!(
            out,
            "first failure  {} in {}: {}",
            root.error,
            root.state,
            redact(&root.cause)
        );
    }
    out.push_str("\ntimeline (PII redacted):\n");
    out.push_str(&client::timeline_with(&typed, &|t| redact(t)));
    out.push_str("\nsteps:\n");
    let _ = writeln!(
        out,
        "  {:<20} {:<8} {:>8} {:>10}  {:<7} ERRORS",
        "STATE", "TYPE", "ATTEMPTS", "DURATION", "RESULT"
    );
    for v in visits(&events) {
        let duration = v
            .duration_ms
            .map_or_else(|| "-".to_owned(), |d| format!("{:.3}s", d as f64 / 1000.0));
        let retries = v.attempts.saturating_sub(1);
        let attempts = if v.attempts == 0 {
            "-".to_owned()
        } else if retries > 0 {
            format!("{} ({retries}r)", v.attempts)
        } else {
            v.attempts.to_string()
        };
        let _ = writeln!(
            out,
            "  {:<20} {:<8} {:>8} {:>10}  {:<7} {}",
            v.state,
            v.kind,
            attempts,
            duration,
            v.result,
            v.errors.join(", ")
        );
    }
    let calls = model_calls(&events);
    out.push_str("\nmodel calls:\n");
    if calls.is_empty() {
        out.push_str("  (none recorded in the step outputs)\n");
    }
    let (mut tin, mut tout, mut cost) = (0, 0, 0.0);
    for c in &calls {
        tin += c.input_tokens;
        tout += c.output_tokens;
        cost += c.cost_usd.unwrap_or(0.0);
        let _ = writeln!(
            out,
            "  {:<12} {:<40} prompt {:<8} tokens {:>6} in {:>6} out  cost {}",
            c.state,
            c.model,
            c.prompt_version.as_deref().unwrap_or("-"),
            c.input_tokens,
            c.output_tokens,
            c.cost_usd
                .map_or_else(|| "-".to_owned(), |x| format!("${x:.6}"))
        );
    }
    if !calls.is_empty() {
        let _ = writeln!(
            out,
            "  total: {} calls, {tin} input and {tout} output tokens, ${cost:.6}",
            calls.len()
        );
    }
    Ok(out)
}
