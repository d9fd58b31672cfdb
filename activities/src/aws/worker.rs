//! `turnflow worker`: activity workers for Step Functions (AWS, or turnflow's own Step Functions
//! API, which speaks the same protocol).
//!
//! Each activity gets several concurrent long polls (`GetActivityTask` holds a request up to
//! 60 s, so the client's timeout is above 65 s). While a task runs, a heartbeat is sent every
//! `heartbeat` interval so the state's `HeartbeatSeconds` does not expire; the handler's result
//! is sent with `SendTaskSuccess`, its failure with `SendTaskFailure` under the catalog error
//! name. On shutdown no new poll starts and tasks in hand finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sfn::config::timeout::TimeoutConfig;
use aws_sdk_sfn::error::ProvideErrorMetadata as _;
use serde_json::Value;
use tokio::sync::watch;

/// The client-side timeout of a poll: above the 60 s the service may hold it.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(70);

/// A step's failure, as Step Functions records it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct StepFailure {
    /// The error name `Retry`/`Catch` route on.
    pub error: String,
    /// A human-readable cause.
    pub cause: String,
}

/// What runs a step: the activity name and its input, to its output.
#[async_trait]
pub trait StepHandler: Send + Sync {
    /// Runs one step.
    async fn handle(&self, activity: &str, input: Value) -> Result<Value, StepFailure>;
}

/// The workers' settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSettings {
    /// `(activity name, activity ARN)` pairs to poll.
    pub activities: Vec<(String, String)>,
    /// Concurrent long polls per activity.
    pub polls_per_activity: usize,
    /// How often a running task sends a heartbeat.
    pub heartbeat: Duration,
    /// The name reported to Step Functions (`workerName`).
    pub worker_name: String,
}

/// Worker failures that end a poll loop.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// A poll loop panicked or was cancelled.
    #[error("a poll loop ended abnormally: {0}")]
    Join(String),
}

/// Counts over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Tasks answered with success.
    pub succeeded: u64,
    /// Tasks answered with failure.
    pub failed: u64,
}

/// An SFN client whose timeouts suit long polls, derived from the shared SDK configuration.
pub fn poll_client(config: &aws_config::SdkConfig) -> aws_sdk_sfn::Client {
    let conf = aws_sdk_sfn::config::Builder::from(config)
        .timeout_config(
            TimeoutConfig::builder()
                .read_timeout(POLL_TIMEOUT)
                .operation_attempt_timeout(POLL_TIMEOUT)
                .operation_timeout(POLL_TIMEOUT + Duration::from_secs(5))
                .connect_timeout(Duration::from_secs(5))
                .build(),
        )
        .build();
    aws_sdk_sfn::Client::from_conf(conf)
}

/// Runs the workers until `shutdown` completes.
pub async fn run(
    sfn: aws_sdk_sfn::Client,
    settings: WorkerSettings,
    handler: Arc<dyn StepHandler>,
    shutdown: impl Future<Output = ()>,
) -> Result<WorkerStats, WorkerError> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut loops = tokio::task::JoinSet::new();
    for (name, arn) in &settings.activities {
        for _ in 0..settings.polls_per_activity.max(1) {
            loops.spawn(poll_loop(
                sfn.clone(),
                name.clone(),
                arn.clone(),
                settings.worker_name.clone(),
                settings.heartbeat,
                handler.clone(),
                stop_rx.clone(),
            ));
        }
    }
    shutdown.await;
    let _ = stop_tx.send(true);
    let mut stats = WorkerStats::default();
    while let Some(done) = loops.join_next().await {
        let s = done.map_err(|e| WorkerError::Join(e.to_string()))?;
        stats.succeeded += s.succeeded;
        stats.failed += s.failed;
    }
    Ok(stats)
}

async fn poll_loop(
    sfn: aws_sdk_sfn::Client,
    activity: String,
    arn: String,
    worker_name: String,
    heartbeat: Duration,
    handler: Arc<dyn StepHandler>,
    mut stop: watch::Receiver<bool>,
) -> WorkerStats {
    let mut stats = WorkerStats::default();
    loop {
        if *stop.borrow() {
            return stats;
        }
        let poll = sfn
            .get_activity_task()
            .activity_arn(&arn)
            .worker_name(&worker_name)
            .send();
        let task = tokio::select! {
            _ = stop.changed() => return stats,
            task = poll => task,
        };
        let task = match task {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(%activity, error = %aws_smithy_types::error::display::DisplayErrorContext(&e), "poll failed");
                tokio::select! {
                    _ = stop.changed() => return stats,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        let Some(token) = task
            .task_token()
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
        else {
            continue; // the long poll ended with no task
        };
        let input: Value = task
            .input()
            .and_then(|i| serde_json::from_str(i).ok())
            .unwrap_or(Value::Null);
        let result =
            with_heartbeats(&sfn, &token, heartbeat, handler.handle(&activity, input)).await;
        let sent = match result {
            Ok(output) => {
                stats.succeeded += 1;
                sfn.send_task_success()
                    .task_token(&token)
                    .output(output.to_string())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| e.code().unwrap_or("error").to_owned())
            }
            Err(failure) => {
                stats.failed += 1;
                sfn.send_task_failure()
                    .task_token(&token)
                    .error(&failure.error)
                    .cause(&failure.cause)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| e.code().unwrap_or("error").to_owned())
            }
        };
        if let Err(code) = sent {
            // TaskTimedOut / InvalidToken: the state moved on (timed out, retried elsewhere).
            tracing::warn!(%activity, %code, "the task's answer was refused");
        }
    }
}

async fn with_heartbeats<T>(
    sfn: &aws_sdk_sfn::Client,
    token: &str,
    every: Duration,
    work: impl Future<Output = T>,
) -> T {
    tokio::pin!(work);
    let mut ticks = tokio::time::interval(every.max(Duration::from_millis(100)));
    ticks.tick().await; // the first tick is immediate
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = ticks.tick() => {
                if let Err(e) = sfn.send_task_heartbeat().task_token(token).send().await {
                    tracing::debug!(code = e.code().unwrap_or("error"), "heartbeat refused");
                }
            }
        }
    }
}

/// Runs the step handlers as a Lambda function (the turn's Lambda target): each event is a step
/// payload naming its step; a failure reaches Step Functions with the catalog's error name as
/// its `errorType`, which the definition's `Retry` and `Catch` route on.
///
/// # Errors
/// When the Lambda runtime cannot start.
pub async fn run_lambda(ports: crate::handlers::Ports) -> Result<(), lambda_runtime::Error> {
    let ports = Arc::new(ports);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let ports = Arc::clone(&ports);
            async move { lambda_step(event.payload, &ports).await }
        },
    ))
    .await
}

/// One Lambda invocation: the step named in the payload, run by its handler.
///
/// # Errors
/// The step's failure, as a diagnostic whose type is the catalog error name.
pub async fn lambda_step(
    payload: serde_json::Value,
    ports: &crate::handlers::Ports,
) -> Result<serde_json::Value, lambda_runtime::Diagnostic> {
    let step = payload
        .get("step")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    crate::handlers::handle_json(&step, payload, ports)
        .await
        .map_err(|e| lambda_runtime::Diagnostic {
            error_type: e.error.as_str().to_owned(),
            error_message: e.cause,
        })
}
