//! The operator commands (`turnflow executions …`, `turnflow tasks …`): clients of a Step
//! Functions API — the local engine's by default, AWS's or any other with `--endpoint-url`.
//!
//! They use the AWS SDK for Rust, so what they do is exactly what any AWS client does. The
//! endpoint comes from `--endpoint-url` or `AWS_ENDPOINT_URL` (default: the local engine,
//! `http://127.0.0.1:8083`), the region from `AWS_REGION` (default `us-east-1`). Credentials
//! come from the usual AWS environment (`AWS_ACCESS_KEY_ID`…, `AWS_PROFILE`) when set, else
//! from `TURNFLOW_ACCESS_KEY_ID`/`TURNFLOW_SECRET_ACCESS_KEY` (what a local server with auth
//! was given), else a dummy local pair that a server without auth accepts.
//!
//! `--json` prints the server's own JSON (captured from the HTTP response, pages merged), not
//! a re-serialization; without it the commands print for people: the history as a timeline of
//! time offset, event type, state name and a short detail.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, bail};
use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_sdk_sfn::Client;
use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sfn::operation::get_execution_history::GetExecutionHistoryError;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::Value;

use crate::api::server::DEFAULT_LISTEN;

/// Where the API is and how to reach it.
#[derive(Debug, Clone, Default)]
pub struct Endpoint {
    /// The API's URL; `None` is the local engine's default address.
    pub url: Option<String>,
    /// The region; `None` is `AWS_REGION`, else `us-east-1`.
    pub region: Option<String>,
}

impl Endpoint {
    /// The URL used.
    pub fn url(&self) -> String {
        self.url
            .clone()
            .unwrap_or_else(|| format!("http://{DEFAULT_LISTEN}"))
    }
}

/// An SDK client for the endpoint (see the module docs for credentials).
pub async fn connect(endpoint: &Endpoint) -> Client {
    let region = endpoint
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .unwrap_or_else(|| "us-east-1".to_owned());
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint.url())
        .region(aws_config::Region::new(region));
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let aws_env = env("AWS_ACCESS_KEY_ID").is_some() || env("AWS_PROFILE").is_some();
    if !aws_env {
        let creds = match (
            env("TURNFLOW_ACCESS_KEY_ID"),
            env("TURNFLOW_SECRET_ACCESS_KEY"),
        ) {
            (Some(id), Some(secret)) => Credentials::new(id, secret, None, None, "turnflow"),
            _ => Credentials::new("turnflow-local", "turnflow-local", None, None, "turnflow"),
        };
        loader = loader.credentials_provider(creds);
    }
    Client::new(&loader.load().await)
}

/// Captures the JSON bodies of the responses of the calls it is attached to.
#[derive(Debug, Clone, Default)]
pub struct RawJson {
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl RawJson {
    /// The bodies captured so far, in order.
    pub fn take(&self) -> Vec<Value> {
        self.bodies
            .lock()
            .map(|mut b| std::mem::take(&mut *b))
            .unwrap_or_default()
    }
}

impl Intercept for RawJson {
    fn name(&self) -> &'static str {
        "RawJson"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(bytes) = context.response().body().bytes() {
            let value: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
            if let Ok(mut bodies) = self.bodies.lock() {
                bodies.push(value);
            }
        }
        Ok(())
    }
}

/// An SDK error as `Code: message` when the service answered, else the whole chain.
fn explain<E, R>(e: SdkError<E, R>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    anyhow::anyhow!("{}", sdk_message(&e))
}

/// The text of an SDK error: `Code: message` when the service answered, else the chain of
/// causes, each once ("dispatch failure: io error: … refused").
pub fn sdk_message<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match (e.code(), e.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                let part = s.to_string();
                if !text.ends_with(&part) {
                    text.push_str(": ");
                    text.push_str(&part);
                }
                source = s.source();
            }
            text
        }
    }
}

/// Resolves a state machine given by ARN or by name.
async fn state_machine_arn(client: &Client, given: &str) -> anyhow::Result<String> {
    if given.starts_with("arn:") {
        return Ok(given.to_owned());
    }
    let mut pages = client.list_state_machines().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(explain)
            .context("failed to list state machines")?;
        if let Some(m) = page.state_machines().iter().find(|m| m.name() == given) {
            return Ok(m.state_machine_arn().to_owned());
        }
    }
    bail!("no state machine named '{given}'")
}

/// `turnflow executions list`.
pub async fn list_executions(
    client: &Client,
    state_machine: Option<&str>,
    status: Option<&str>,
    max: Option<usize>,
    json: bool,
) -> anyhow::Result<String> {
    let machines = match state_machine {
        Some(m) => vec![state_machine_arn(client, m).await?],
        None => {
            let mut arns = Vec::new();
            let mut pages = client.list_state_machines().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page
                    .map_err(explain)
                    .context("failed to list state machines")?;
                arns.extend(
                    page.state_machines()
                        .iter()
                        .map(|m| m.state_machine_arn().to_owned()),
                );
            }
            arns
        }
    };
    let status = status.map(|s| ExecutionStatus::from(s.to_ascii_uppercase().as_str()));
    let raw = RawJson::default();
    let mut rows = Vec::new();
    let limit = max.unwrap_or(usize::MAX);
    'machines: for arn in machines {
        let mut token: Option<String> = None;
        loop {
            let page = client
                .list_executions()
                .state_machine_arn(&arn)
                .set_status_filter(status.clone())
                .set_next_token(token.take())
                .customize()
                .interceptor(raw.clone())
                .send()
                .await
                .map_err(explain)
                .with_context(|| format!("failed to list the executions of {arn}"))?;
            for e in page.executions() {
                if rows.len() >= limit {
                    break 'machines;
                }
                rows.push(e.clone());
            }
            match page.next_token() {
                Some(t) => token = Some(t.to_owned()),
                None => break,
            }
        }
    }
    if json {
        let mut executions: Vec<Value> = raw
            .take()
            .into_iter()
            .flat_map(|b| match b.get("executions") {
                Some(Value::Array(a)) => a.clone(),
                _ => Vec::new(),
            })
            .collect();
        executions.truncate(limit);
        return pretty(&serde_json::json!({ "executions": executions }));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<40} {:<16} {:<24} {:<24} STATE MACHINE",
        "NAME", "STATUS", "STARTED", "STOPPED"
    );
    for e in &rows {
        let machine = e.state_machine_arn().rsplit(':').next().unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<40} {:<16} {:<24} {:<24} {machine}",
            e.name(),
            e.status().as_str(),
            date(Some(e.start_date())),
            date(e.stop_date()),
        );
    }
    if rows.is_empty() {
        out.push_str("(no executions)\n");
    }
    Ok(out)
}

/// `turnflow executions describe`.
pub async fn describe_execution(client: &Client, arn: &str, json: bool) -> anyhow::Result<String> {
    let raw = RawJson::default();
    let d = client
        .describe_execution()
        .execution_arn(arn)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await
        .map_err(explain)
        .with_context(|| format!("failed to describe {arn}"))?;
    if json {
        return pretty(&raw.take().pop().unwrap_or(Value::Null));
    }
    let mut out = String::new();
    let mut line = |k: &str, v: Option<&str>| {
        if let Some(v) = v {
            let _ = writeln!(out, "{k:<16}{v}");
        }
    };
    line("name", d.name());
    line("execution", Some(d.execution_arn()));
    line("state machine", Some(d.state_machine_arn()));
    line("version", d.state_machine_version_arn());
    line("status", Some(d.status().as_str()));
    line("started", Some(&date(Some(d.start_date()))));
    line("stopped", d.stop_date().map(|t| date(Some(t))).as_deref());
    line("input", d.input());
    line("output", d.output());
    line("error", d.error());
    line("cause", d.cause());
    line(
        "redrives",
        d.redrive_count().map(|n| n.to_string()).as_deref(),
    );
    line("redrive status", d.redrive_status().map(|s| s.as_str()));
    line("redrive reason", d.redrive_status_reason());
    Ok(out)
}

/// `turnflow executions history`.
pub async fn history(
    client: &Client,
    arn: &str,
    reverse: bool,
    include_data: bool,
    json: bool,
) -> anyhow::Result<String> {
    let raw = RawJson::default();
    let events = history_pages(client, arn, reverse, include_data, &raw)
        .await
        .map_err(explain)
        .with_context(|| format!("failed to read the history of {arn}"))?;
    if json {
        let all: Vec<Value> = raw
            .take()
            .into_iter()
            .flat_map(|b| match b.get("events") {
                Some(Value::Array(a)) => a.clone(),
                _ => Vec::new(),
            })
            .collect();
        return pretty(&serde_json::json!({ "events": all }));
    }
    Ok(timeline(&events))
}

/// Every page of `GetExecutionHistory`, the response bodies captured by `raw`.
pub async fn history_pages(
    client: &Client,
    arn: &str,
    reverse: bool,
    include_data: bool,
    raw: &RawJson,
) -> Result<Vec<HistoryEvent>, SdkError<GetExecutionHistoryError, HttpResponse>> {
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .get_execution_history()
            .execution_arn(arn)
            .reverse_order(reverse)
            .include_execution_data(include_data)
            .max_results(1000)
            .set_next_token(token.take())
            .customize()
            .interceptor(raw.clone())
            .send()
            .await?;
        events.extend(page.events().iter().cloned());
        match page.next_token() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    Ok(events)
}

/// The history as a timeline: offset from the first event, type, state, short detail.
pub fn timeline(events: &[HistoryEvent]) -> String {
    timeline_with(events, &|text| text.to_owned())
}

/// [`timeline`] with every input, output, error and cause passed through `filter` before it
/// is shortened (`turnflow ops trace` redacts PII with it).
pub fn timeline_with(events: &[HistoryEvent], filter: &dyn Fn(&str) -> String) -> String {
    let start = events
        .iter()
        .map(|e| e.timestamp().as_secs_f64())
        .fold(f64::INFINITY, f64::min);
    // Events other than state entered/exited name no state: they follow (by previousEventId)
    // from the event that does.
    let mut states: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
    let mut by_id: Vec<&HistoryEvent> = events.iter().collect();
    by_id.sort_by_key(|e| e.id());
    for e in &by_id {
        let own = e
            .state_entered_event_details()
            .map(|d| d.name().to_owned())
            .or_else(|| e.state_exited_event_details().map(|d| d.name().to_owned()));
        let name = own.or_else(|| {
            if e.r#type().as_str().ends_with("StateEntered") {
                None
            } else {
                states.get(&e.previous_event_id()).cloned()
            }
        });
        if let Some(name) = name {
            states.insert(e.id(), name);
        }
    }
    let mut out = String::new();
    for e in events {
        let offset = e.timestamp().as_secs_f64() - start;
        let state = match e.r#type() {
            HistoryEventType::ExecutionStarted
            | HistoryEventType::ExecutionSucceeded
            | HistoryEventType::ExecutionFailed
            | HistoryEventType::ExecutionAborted
            | HistoryEventType::ExecutionTimedOut
            | HistoryEventType::ExecutionRedriven => "",
            _ => states.get(&e.id()).map_or("", String::as_str),
        };
        let line = format!(
            "{:>4} {:>+10.3}s  {:<28} {:<20} {}",
            e.id(),
            offset,
            e.r#type().as_str(),
            state,
            detail(e, filter)
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn short(text: &str) -> String {
    const MAX: usize = 72;
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX {
        one_line
    } else {
        let cut: String = one_line.chars().take(MAX - 1).collect();
        format!("{cut}…")
    }
}

fn error_cause(
    error: Option<&str>,
    cause: Option<&str>,
    filter: &dyn Fn(&str) -> String,
) -> String {
    let cause = cause.map(filter);
    let cause = cause.as_deref();
    match (error, cause) {
        (Some(e), Some(c)) => short(&format!("{e}: {c}")),
        (Some(e), None) => e.to_owned(),
        (None, Some(c)) => short(c),
        (None, None) => String::new(),
    }
}

fn io(label: &str, value: Option<&str>, filter: &dyn Fn(&str) -> String) -> String {
    value.map_or_else(String::new, |v| short(&format!("{label} {}", filter(v))))
}

/// A short description of one event.
fn detail(e: &HistoryEvent, filter: &dyn Fn(&str) -> String) -> String {
    if let Some(d) = e.execution_started_event_details() {
        return io("input", d.input(), filter);
    }
    if let Some(d) = e.execution_succeeded_event_details() {
        return io("output", d.output(), filter);
    }
    if let Some(d) = e.execution_failed_event_details() {
        return error_cause(d.error(), d.cause(), filter);
    }
    if let Some(d) = e.execution_aborted_event_details() {
        return error_cause(d.error(), d.cause(), filter);
    }
    if let Some(d) = e.execution_timed_out_event_details() {
        return error_cause(d.error(), d.cause(), filter);
    }
    if let Some(d) = e.execution_redriven_event_details() {
        return format!("redrive {}", d.redrive_count().unwrap_or_default());
    }
    if let Some(d) = e.state_exited_event_details() {
        return io("output", d.output(), filter);
    }
    if let Some(d) = e.activity_scheduled_event_details() {
        let name = d.resource().rsplit(':').next().unwrap_or_default();
        return format!("activity {name}");
    }
    if let Some(d) = e.activity_started_event_details() {
        return d
            .worker_name()
            .map_or_else(String::new, |w| format!("worker {w}"));
    }
    if let Some(d) = e.activity_succeeded_event_details() {
        return io("output", d.output(), filter);
    }
    if let Some(d) = e.activity_failed_event_details() {
        return error_cause(d.error(), d.cause(), filter);
    }
    if let Some(d) = e.activity_timed_out_event_details() {
        return error_cause(d.error(), d.cause(), filter);
    }
    if let Some(d) = e.activity_schedule_failed_event_details() {
        return error_cause(d.error(), d.cause(), filter);
    }
    if let Some(d) = e.task_scheduled_event_details() {
        return format!("{}:{}", d.resource_type(), d.resource());
    }
    if let Some(d) = e.task_submitted_event_details() {
        return io("output", d.output(), filter);
    }
    if let Some(d) = e.task_succeeded_event_details() {
        return io("output", d.output(), filter);
    }
    if let Some(d) = e.task_failed_event_details() {
        return error_cause(d.error(), d.cause(), filter);
    }
    if let Some(d) = e.task_timed_out_event_details() {
        return error_cause(d.error(), d.cause(), filter);
    }
    if let Some(d) = e.task_start_failed_event_details() {
        return error_cause(d.error(), d.cause(), filter);
    }
    if let Some(d) = e.task_submit_failed_event_details() {
        return error_cause(d.error(), d.cause(), filter);
    }
    if let Some(d) = e.lambda_function_scheduled_event_details() {
        return format!("function {}", d.resource());
    }
    if let Some(d) = e.lambda_function_succeeded_event_details() {
        return io("output", d.output(), filter);
    }
    if let Some(d) = e.lambda_function_failed_event_details() {
        return error_cause(d.error(), d.cause(), filter);
    }
    if let Some(d) = e.lambda_function_timed_out_event_details() {
        return error_cause(d.error(), d.cause(), filter);
    }
    if let Some(d) = e.map_state_started_event_details() {
        return format!("{} items", d.length());
    }
    if let Some(d) = e.map_iteration_started_event_details() {
        return format!("iteration {}", d.index());
    }
    if let Some(d) = e.evaluation_failed_event_details() {
        return error_cause(d.error(), d.cause(), filter);
    }
    String::new()
}

/// `turnflow executions stop`.
pub async fn stop(
    client: &Client,
    arn: &str,
    error: Option<String>,
    cause: Option<String>,
) -> anyhow::Result<String> {
    let out = client
        .stop_execution()
        .execution_arn(arn)
        .set_error(error)
        .set_cause(cause)
        .send()
        .await
        .map_err(explain)
        .with_context(|| format!("failed to stop {arn}"))?;
    Ok(format!(
        "stopped {arn} at {}\n",
        date(Some(out.stop_date()))
    ))
}

/// `turnflow executions redrive`.
pub async fn redrive(client: &Client, arn: &str) -> anyhow::Result<String> {
    let out = client
        .redrive_execution()
        .execution_arn(arn)
        .send()
        .await
        .map_err(explain)
        .with_context(|| format!("failed to redrive {arn}"))?;
    Ok(format!(
        "redrove {arn} at {}\n",
        date(Some(out.redrive_date()))
    ))
}

/// `turnflow tasks success`: `output` must be JSON.
pub async fn task_success(client: &Client, token: &str, output: &str) -> anyhow::Result<String> {
    serde_json::from_str::<Value>(output).context("the output is not JSON")?;
    client
        .send_task_success()
        .task_token(token)
        .output(output)
        .send()
        .await
        .map_err(explain)
        .context("failed to send the task's success")?;
    Ok("task succeeded\n".to_owned())
}

/// `turnflow tasks failure`.
pub async fn task_failure(
    client: &Client,
    token: &str,
    error: Option<String>,
    cause: Option<String>,
) -> anyhow::Result<String> {
    client
        .send_task_failure()
        .task_token(token)
        .set_error(error)
        .set_cause(cause)
        .send()
        .await
        .map_err(explain)
        .context("failed to send the task's failure")?;
    Ok("task failed\n".to_owned())
}

/// `turnflow tasks heartbeat`.
pub async fn task_heartbeat(client: &Client, token: &str) -> anyhow::Result<String> {
    client
        .send_task_heartbeat()
        .task_token(token)
        .send()
        .await
        .map_err(explain)
        .context("failed to send the heartbeat")?;
    Ok("heartbeat sent\n".to_owned())
}

fn date(t: Option<&aws_smithy_types::DateTime>) -> String {
    let Some(t) = t else {
        return "-".to_owned();
    };
    let millis = t.to_millis().unwrap_or_default();
    chrono::DateTime::from_timestamp_millis(millis).map_or_else(
        || "-".to_owned(),
        |d| d.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
    )
}

fn pretty(value: &Value) -> anyhow::Result<String> {
    let mut text = serde_json::to_string_pretty(value).context("failed to write JSON")?;
    text.push('\n');
    Ok(text)
}
