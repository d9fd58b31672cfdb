//! The HTTP server: AWS JSON 1.0 on `POST /`, one operation per `X-Amz-Target`.
//!
//! A request goes through, in order: the body limit ([`ServerConfig::body_limit`], 413
//! `RequestEntityTooLarge`); the signature, when credentials are configured
//! ([`super::sigv4`]); the target (`AWSStepFunctions.<Operation>`, else 400
//! `UnknownOperationException`); parsing (`SerializationException` for a body that is not JSON
//! or has a field of the wrong type, `ValidationException` for a missing required field, both
//! naming the field); the documented constraints ([`Validate`]); then the engine.
//!
//! Every operation but `GetActivityTask` runs in its own task, so a client that hangs up
//! mid-request does not cut an accepted `StartExecution` in half. `GetActivityTask` runs in
//! the connection's task instead: when the client goes away the poll is dropped, so the engine
//! never hands a task to nobody. A poll is answered empty after [`LONG_POLL`] at most, and at
//! once when the server shuts down, so graceful shutdown does not wait a minute for pollers.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::model::{GetActivityTaskOutput, Validate};
use super::service::{ApiError, ApiResult, ErrorCode, StepFunctions};
use super::sigv4::Verifier;

/// The default address: loopback only, port 8083 (`turnflow engine serve --listen` changes it).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8083";

/// The content type of AWS JSON 1.0 requests and responses.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// The `X-Amz-Target` prefix of Step Functions operations.
pub const TARGET_PREFIX: &str = "AWSStepFunctions.";

/// How long a `GetActivityTask` may wait before it is answered empty (AWS: 60 s; clients are
/// told to allow 65 s, so the server answers within that).
pub const LONG_POLL: Duration = Duration::from_secs(62);

/// The largest request body accepted by default: a definition may be 1 MiB of characters, and
/// JSON escaping can double that.
pub const DEFAULT_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Signature verification; `None` accepts unsigned requests (loopback use).
    pub verifier: Option<Verifier>,
    /// The largest request body.
    pub body_limit: usize,
    /// The longest `GetActivityTask` wait.
    pub long_poll: Duration,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            verifier: None,
            body_limit: DEFAULT_BODY_LIMIT,
            long_poll: LONG_POLL,
        }
    }
}

struct Shared<S> {
    service: Arc<S>,
    config: ServerConfig,
    shutdown: watch::Receiver<bool>,
    requests: AtomicU64,
}

/// A server that is being shut down: flip it with [`Shutdown::trigger`].
#[derive(Debug, Clone)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
}

impl Shutdown {
    /// A new, untriggered switch.
    pub fn new() -> Shutdown {
        let (tx, _rx) = watch::channel(false);
        Shutdown { tx: Arc::new(tx) }
    }

    /// Starts the graceful shutdown: no new connections, open polls answered empty, in-flight
    /// requests finished.
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    fn subscribe(&self) -> watch::Receiver<bool> {
        self.tx.subscribe()
    }

    /// Resolves once the shutdown is triggered (for servers that share the switch).
    pub async fn wait(self) {
        triggered(self.subscribe()).await;
    }
}

impl Default for Shutdown {
    fn default() -> Shutdown {
        Shutdown::new()
    }
}

async fn triggered(mut rx: watch::Receiver<bool>) {
    // An error means the sender is gone: nobody can shut down any more, so never finish.
    if rx.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The router: `POST /` with an `X-Amz-Target`; anything else gets AWS's
/// `UnknownOperationException`.
pub fn router<S: StepFunctions>(
    service: Arc<S>,
    config: ServerConfig,
    shutdown: &Shutdown,
) -> Router {
    let shared = Arc::new(Shared {
        service,
        config,
        shutdown: shutdown.subscribe(),
        requests: AtomicU64::new(0),
    });
    Router::new().fallback(any(handle::<S>)).with_state(shared)
}

/// Serves `service` on `listener` until `shutdown` is triggered, then finishes the requests in
/// flight and returns.
///
/// # Errors
/// When accepting connections fails.
pub async fn serve<S: StepFunctions>(
    listener: TcpListener,
    service: Arc<S>,
    config: ServerConfig,
    shutdown: Shutdown,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let auth = if config.verifier.is_some() {
        "signed requests only"
    } else {
        "unsigned requests accepted"
    };
    tracing::info!(%addr, auth, "step functions api listening");
    let app = router(service, config, &shutdown);
    axum::serve(listener, app)
        .with_graceful_shutdown(triggered(shutdown.subscribe()))
        .await
}

/// Binds `addr` and serves in the background; returns the bound address (useful with port 0)
/// and the task.
///
/// # Errors
/// When the address cannot be bound.
pub async fn spawn<S: StepFunctions>(
    addr: SocketAddr,
    service: Arc<S>,
    config: ServerConfig,
    shutdown: Shutdown,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let task = tokio::spawn(serve(listener, service, config, shutdown));
    Ok((bound, task))
}

async fn handle<S: StepFunctions>(
    State(shared): State<Arc<Shared<S>>>,
    request: Request,
) -> Response {
    let started = Instant::now();
    let n = shared.requests.fetch_add(1, Ordering::Relaxed);
    let request_id = request_id(n);
    let (parts, body) = request.into_parts();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let operation = target
        .strip_prefix(TARGET_PREFIX)
        .unwrap_or(&target)
        .to_owned();

    let result = async {
        let body = axum::body::to_bytes(body, shared.config.body_limit)
            .await
            .map_err(|_| {
                ApiError::new(
                    ErrorCode::RequestEntityTooLarge,
                    format!(
                        "request body is larger than {} bytes",
                        shared.config.body_limit
                    ),
                )
            })?;
        if let Some(verifier) = &shared.config.verifier {
            verifier.verify(&parts.method, &parts.uri, &parts.headers, &body)?;
        }
        if parts.method != axum::http::Method::POST || parts.uri.path() != "/" {
            return Err(ApiError::new(
                ErrorCode::UnknownOperationException,
                format!(
                    "{} {} is not an operation: AWS JSON 1.0 requests are POST / with an \
                     X-Amz-Target header",
                    parts.method,
                    parts.uri.path()
                ),
            ));
        }
        if !target.starts_with(TARGET_PREFIX) {
            return Err(ApiError::new(
                ErrorCode::UnknownOperationException,
                format!("X-Amz-Target '{target}' does not name a Step Functions operation"),
            ));
        }
        dispatch(&shared, &operation, body).await
    }
    .await;

    let elapsed_ms = started.elapsed().as_millis();
    match result {
        Ok(json) => {
            tracing::info!(op = %operation, status = 200, elapsed_ms, request_id, "request");
            respond(StatusCode::OK, &request_id, json, None)
        }
        Err(e) => {
            tracing::info!(
                op = %operation,
                status = e.status(),
                code = %e.code,
                detail = %e.message,
                elapsed_ms,
                request_id,
                "request refused"
            );
            error_response(&e, &request_id)
        }
    }
}

/// The response to an error: `{"__type": CODE, "message": …}` with the code's status, and the
/// code in `x-amzn-ErrorType` too (which the Rust SDK reads first).
pub fn error_response(e: &ApiError, request_id: &str) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = serde_json::json!({"__type": e.code.as_str(), "message": e.message});
    respond(
        status,
        request_id,
        Bytes::from(body.to_string()),
        Some(e.code),
    )
}

fn respond(status: StatusCode, request_id: &str, body: Bytes, code: Option<ErrorCode>) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v);
    }
    if let Some(code) = code {
        headers.insert("x-amzn-errortype", HeaderValue::from_static(code.as_str()));
    }
    (status, headers, Body::from(body)).into_response()
}

fn request_id(n: u64) -> String {
    // Unique per server run and per request; shaped like AWS's (a UUID).
    let pid = u64::from(std::process::id());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    #[expect(clippy::cast_possible_truncation, reason = "only the low bits matter")]
    let low = nanos as u64;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (low >> 32) as u32,
        (low >> 16) & 0xffff,
        pid & 0xfff,
        n & 0xfff,
        (n >> 12) ^ (low & 0xffff_ffff_ffff)
    )
}

/// Parses the body as the operation's input, naming the field that does not fit.
///
/// # Errors
/// `SerializationException` for a body that is not a JSON object or a field of the wrong type,
/// `ValidationException` for a missing required field.
pub fn parse<I: DeserializeOwned>(body: &[u8]) -> ApiResult<I> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed: Result<I, _> = serde_path_to_error::deserialize(&mut de);
    let value = match parsed {
        Ok(v) => v,
        Err(e) => return Err(parse_error(&e)),
    };
    de.end().map_err(|e| {
        ApiError::new(
            ErrorCode::SerializationException,
            format!("request body is not valid JSON: {e}"),
        )
    })?;
    Ok(value)
}

fn parse_error(e: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = e.inner();
    let path = e.path().to_string();
    let message = inner.to_string();
    // serde_json appends " at line L column C"; keep the message short and about the field.
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(m, _)| m)
        .to_owned();
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.strip_suffix('`'))
    {
        let at = if path == "." {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        };
        return ApiError::validation(format!(
            "1 validation error detected: Value null at '{at}' failed to satisfy constraint: \
             Member must not be null"
        ));
    }
    if inner.is_syntax() || inner.is_eof() {
        return ApiError::new(
            ErrorCode::SerializationException,
            format!("request body is not valid JSON: {message}"),
        );
    }
    if path == "." {
        return ApiError::new(
            ErrorCode::SerializationException,
            format!("request body must be a JSON object: {message}"),
        );
    }
    if message.starts_with("unknown variant") {
        return ApiError::validation(format!(
            "1 validation error detected: Value at '{path}' failed to satisfy constraint: \
             {message}"
        ));
    }
    ApiError::new(
        ErrorCode::SerializationException,
        format!("field '{path}': {message}"),
    )
}

async fn run<I, O, F, Fut>(body: &[u8], spawn: bool, call: F) -> ApiResult<Bytes>
where
    I: DeserializeOwned + Validate,
    O: Serialize + Send + 'static,
    F: FnOnce(I) -> Fut,
    Fut: Future<Output = ApiResult<O>> + Send + 'static,
{
    let input: I = parse(body)?;
    input.validate()?;
    let output = if spawn {
        tokio::spawn(call(input))
            .await
            .map_err(|e| ApiError::internal(format!("the operation stopped: {e}")))??
    } else {
        call(input).await?
    };
    serde_json::to_vec(&output)
        .map(Bytes::from)
        .map_err(|e| ApiError::internal(format!("failed to write the response: {e}")))
}

async fn dispatch<S: StepFunctions>(
    shared: &Shared<S>,
    operation: &str,
    body: Bytes,
) -> ApiResult<Bytes> {
    let svc = Arc::clone(&shared.service);
    macro_rules! op {
        ($method:ident) => {
            run(&body, true, move |i| async move { svc.$method(i).await }).await
        };
    }
    match operation {
        "CreateStateMachine" => op!(create_state_machine),
        "UpdateStateMachine" => op!(update_state_machine),
        "DescribeStateMachine" => op!(describe_state_machine),
        "ListStateMachines" => op!(list_state_machines),
        "DeleteStateMachine" => op!(delete_state_machine),
        "PublishStateMachineVersion" => op!(publish_state_machine_version),
        "ListStateMachineVersions" => op!(list_state_machine_versions),
        "DeleteStateMachineVersion" => op!(delete_state_machine_version),
        "CreateActivity" => op!(create_activity),
        "DescribeActivity" => op!(describe_activity),
        "ListActivities" => op!(list_activities),
        "DeleteActivity" => op!(delete_activity),
        "StartExecution" => op!(start_execution),
        "DescribeExecution" => op!(describe_execution),
        "ListExecutions" => op!(list_executions),
        "GetExecutionHistory" => op!(get_execution_history),
        "StopExecution" => op!(stop_execution),
        "RedriveExecution" => op!(redrive_execution),
        "SendTaskSuccess" => op!(send_task_success),
        "SendTaskFailure" => op!(send_task_failure),
        "SendTaskHeartbeat" => op!(send_task_heartbeat),
        "GetActivityTask" => {
            let long_poll = shared.config.long_poll;
            let shutdown = shared.shutdown.clone();
            run(&body, false, move |i| async move {
                tokio::select! {
                    r = tokio::time::timeout(long_poll, svc.get_activity_task(i)) => {
                        r.unwrap_or_else(|_| Ok(GetActivityTaskOutput::default()))
                    }
                    () = triggered(shutdown) => Ok(GetActivityTaskOutput::default()),
                }
            })
            .await
        }
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("AWSStepFunctions.{operation} is not an operation turnflow serves"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::model::{SendTaskSuccessInput, StartExecutionInput};

    fn code<T: std::fmt::Debug>(r: ApiResult<T>) -> Option<(ErrorCode, String)> {
        r.err().map(|e| (e.code, e.message))
    }

    #[test]
    fn a_missing_field_is_a_validation_error_naming_it() {
        let r = code(parse::<StartExecutionInput>(br#"{"name":"x"}"#));
        assert!(
            matches!(&r, Some((ErrorCode::ValidationException, m)) if m.contains("'stateMachineArn'")),
            "{r:?}"
        );
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named() {
        let r = code(parse::<StartExecutionInput>(
            br#"{"stateMachineArn":"a","input":{"x":1}}"#,
        ));
        assert!(
            matches!(&r, Some((ErrorCode::SerializationException, m)) if m.contains("'input'")),
            "{r:?}"
        );
    }

    #[test]
    fn broken_json_is_a_serialization_error() {
        let r = code(parse::<SendTaskSuccessInput>(br#"{"taskToken":"#));
        assert!(
            matches!(r, Some((ErrorCode::SerializationException, _))),
            "{r:?}"
        );
        let r = code(parse::<SendTaskSuccessInput>(br#"[1]"#));
        assert!(
            matches!(r, Some((ErrorCode::SerializationException, _))),
            "{r:?}"
        );
    }

    #[test]
    fn an_empty_body_is_an_empty_object() {
        let r = parse::<crate::api::model::ListActivitiesInput>(b"");
        assert!(r.is_ok());
    }

    #[test]
    fn request_ids_differ() {
        assert_ne!(request_id(1), request_id(2));
    }
}
