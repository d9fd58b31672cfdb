//! The Step Functions operations as one trait, and the errors they answer with.
//!
//! The server ([`super::server`]) parses and checks a request, then calls the one method of
//! [`StepFunctions`] that the `X-Amz-Target` names; the engine implements the trait with AWS's
//! semantics. The trait is the whole boundary: the server knows nothing of the journal, the
//! engine nothing of HTTP.
//!
//! What the server guarantees before a method is called:
//! - the request parsed, with every required field present and of the right type;
//! - [`Validate`](super::model::Validate) passed (lengths, `maxResults` in 0–1000, payloads
//!   within 256 KiB, exactly one of `stateMachineArn`/`mapRunArn` in `ListExecutions`).
//!
//! What the engine is expected to do (AWS's semantics, which the API tests check):
//! - `StartExecution` is idempotent by name: the same name and the same input return the same
//!   execution (same ARN and `startDate`); another input gives
//!   [`ErrorCode::ExecutionAlreadyExists`]. A malformed ARN is [`ErrorCode::InvalidArn`], an
//!   unknown machine [`ErrorCode::StateMachineDoesNotExist`], an input that is not JSON
//!   [`ErrorCode::InvalidExecutionInput`], a bad name [`ErrorCode::InvalidName`].
//! - `CreateStateMachine` checks the definition ([`ErrorCode::InvalidDefinition`], with the
//!   checker's JSON paths in the message); the same name with the same definition and role
//!   returns the existing machine, another gives [`ErrorCode::StateMachineAlreadyExists`].
//! - `GetActivityTask` long-polls: it returns as soon as a task is there, or an empty
//!   response after about 60 seconds. The server lets a call run 65 s and drops it after (the
//!   client's connection is then gone; the engine must not hand the task to nobody — hand out
//!   a task only when it can be delivered, or make it schedulable again).
//! - `SendTask*` with an unknown or malformed token: [`ErrorCode::InvalidToken`]; with a token
//!   whose task already ended: [`ErrorCode::TaskDoesNotExist`]; after its timeout:
//!   [`ErrorCode::TaskTimedOut`]. Output that is not JSON: [`ErrorCode::InvalidOutput`].
//! - `RedriveExecution` of an execution that did not fail, time out or abort (or too old, or
//!   redriven by the same `clientToken` already): [`ErrorCode::ExecutionNotRedrivable`].
//! - Pagination tokens are opaque strings the engine makes; a token it did not make is
//!   [`ErrorCode::InvalidToken`] (AWS's code for a bad `nextToken` too).
//! - Nothing already accepted is lost or changed by a refused request.

use std::fmt;
use std::future::Future;

use serde::{Deserialize, Serialize};

use super::model::{
    CreateActivityInput, CreateActivityOutput, CreateStateMachineInput, CreateStateMachineOutput,
    DeleteActivityInput, DeleteStateMachineInput, DeleteStateMachineVersionInput,
    DescribeActivityInput, DescribeActivityOutput, DescribeExecutionInput, DescribeExecutionOutput,
    DescribeStateMachineInput, DescribeStateMachineOutput, Empty, GetActivityTaskInput,
    GetActivityTaskOutput, GetExecutionHistoryInput, GetExecutionHistoryOutput,
    ListActivitiesInput, ListActivitiesOutput, ListExecutionsInput, ListExecutionsOutput,
    ListStateMachineVersionsInput, ListStateMachineVersionsOutput, ListStateMachinesInput,
    ListStateMachinesOutput, PublishStateMachineVersionInput, PublishStateMachineVersionOutput,
    RedriveExecutionInput, RedriveExecutionOutput, SendTaskFailureInput, SendTaskHeartbeatInput,
    SendTaskSuccessInput, StartExecutionInput, StartExecutionOutput, StopExecutionInput,
    StopExecutionOutput, UpdateStateMachineInput, UpdateStateMachineOutput,
};

/// The error codes the Step Functions API answers with (the `__type` of an error response).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorCode {
    /// The activity does not exist.
    ActivityDoesNotExist,
    /// Too many activities.
    ActivityLimitExceeded,
    /// Too many workers polling the activity.
    ActivityWorkerLimitExceeded,
    /// A conflicting change (e.g. `revisionId` no longer current).
    ConflictException,
    /// An execution of that name exists with another input (or is closed, past its window).
    ExecutionAlreadyExists,
    /// The execution does not exist.
    ExecutionDoesNotExist,
    /// Too many running executions.
    ExecutionLimitExceeded,
    /// The execution cannot be redriven (status, age, or the same `clientToken`).
    ExecutionNotRedrivable,
    /// An ARN that is malformed or names the wrong kind of resource.
    InvalidArn,
    /// The ASL definition is not valid.
    InvalidDefinition,
    /// The execution input is not valid JSON (or too large).
    InvalidExecutionInput,
    /// The logging configuration is not valid.
    InvalidLoggingConfiguration,
    /// A name that breaks AWS's naming rules.
    InvalidName,
    /// The task output is not valid JSON (or too large).
    InvalidOutput,
    /// A task token (or `nextToken`) that is malformed or unknown.
    InvalidToken,
    /// The tracing configuration is not valid.
    InvalidTracingConfiguration,
    /// A required parameter is missing.
    MissingRequiredParameter,
    /// A resource (e.g. a version) does not exist.
    ResourceNotFound,
    /// Too many versions or aliases.
    ServiceQuotaExceededException,
    /// A state machine of that name exists with another definition or role.
    StateMachineAlreadyExists,
    /// The state machine is being deleted.
    StateMachineDeleting,
    /// The state machine does not exist.
    StateMachineDoesNotExist,
    /// Too many state machines.
    StateMachineLimitExceeded,
    /// The operation is not supported for this state machine type.
    StateMachineTypeNotSupported,
    /// The task of that token has already ended.
    TaskDoesNotExist,
    /// The task of that token timed out.
    TaskTimedOut,
    /// Too many tags.
    TooManyTags,
    /// A request that breaks a documented constraint, naming the field.
    ValidationException,
    /// The request body is not JSON of the operation's shape.
    SerializationException,
    /// `X-Amz-Target` names no operation this service has.
    UnknownOperationException,
    /// An unsigned request when credentials are required.
    MissingAuthenticationTokenException,
    /// A request signed with an access key the server does not know.
    UnrecognizedClientException,
    /// A request whose signature does not match (or has expired).
    InvalidSignatureException,
    /// The request could not be read (e.g. too large).
    RequestEntityTooLarge,
    /// Too many requests.
    ThrottlingException,
    /// A failure inside the service; the request may be retried.
    InternalFailure,
}

impl ErrorCode {
    /// The code as AWS writes it in `__type`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ActivityDoesNotExist => "ActivityDoesNotExist",
            ErrorCode::ActivityLimitExceeded => "ActivityLimitExceeded",
            ErrorCode::ActivityWorkerLimitExceeded => "ActivityWorkerLimitExceeded",
            ErrorCode::ConflictException => "ConflictException",
            ErrorCode::ExecutionAlreadyExists => "ExecutionAlreadyExists",
            ErrorCode::ExecutionDoesNotExist => "ExecutionDoesNotExist",
            ErrorCode::ExecutionLimitExceeded => "ExecutionLimitExceeded",
            ErrorCode::ExecutionNotRedrivable => "ExecutionNotRedrivable",
            ErrorCode::InvalidArn => "InvalidArn",
            ErrorCode::InvalidDefinition => "InvalidDefinition",
            ErrorCode::InvalidExecutionInput => "InvalidExecutionInput",
            ErrorCode::InvalidLoggingConfiguration => "InvalidLoggingConfiguration",
            ErrorCode::InvalidName => "InvalidName",
            ErrorCode::InvalidOutput => "InvalidOutput",
            ErrorCode::InvalidToken => "InvalidToken",
            ErrorCode::InvalidTracingConfiguration => "InvalidTracingConfiguration",
            ErrorCode::MissingRequiredParameter => "MissingRequiredParameter",
            ErrorCode::ResourceNotFound => "ResourceNotFound",
            ErrorCode::ServiceQuotaExceededException => "ServiceQuotaExceededException",
            ErrorCode::StateMachineAlreadyExists => "StateMachineAlreadyExists",
            ErrorCode::StateMachineDeleting => "StateMachineDeleting",
            ErrorCode::StateMachineDoesNotExist => "StateMachineDoesNotExist",
            ErrorCode::StateMachineLimitExceeded => "StateMachineLimitExceeded",
            ErrorCode::StateMachineTypeNotSupported => "StateMachineTypeNotSupported",
            ErrorCode::TaskDoesNotExist => "TaskDoesNotExist",
            ErrorCode::TaskTimedOut => "TaskTimedOut",
            ErrorCode::TooManyTags => "TooManyTags",
            ErrorCode::ValidationException => "ValidationException",
            ErrorCode::SerializationException => "SerializationException",
            ErrorCode::UnknownOperationException => "UnknownOperationException",
            ErrorCode::MissingAuthenticationTokenException => "MissingAuthenticationTokenException",
            ErrorCode::UnrecognizedClientException => "UnrecognizedClientException",
            ErrorCode::InvalidSignatureException => "InvalidSignatureException",
            ErrorCode::RequestEntityTooLarge => "RequestEntityTooLarge",
            ErrorCode::ThrottlingException => "ThrottlingException",
            ErrorCode::InternalFailure => "InternalFailure",
        }
    }

    /// The HTTP status AWS answers the code with: 400 for every client error of the service
    /// (Step Functions models all of its own errors as 400), 403 for a missing or refused
    /// signature, 413 for a body over the limit, 500 for an internal failure.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::MissingAuthenticationTokenException
            | ErrorCode::UnrecognizedClientException
            | ErrorCode::InvalidSignatureException => 403,
            ErrorCode::RequestEntityTooLarge => 413,
            ErrorCode::InternalFailure => 500,
            _ => 400,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error answer: the code (`__type`), the message, and through the code the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// What went wrong, as AWS names it.
    pub code: ErrorCode,
    /// For people: which field or resource, and why.
    pub message: String,
}

impl ApiError {
    /// An error with this code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// A `ValidationException`.
    pub fn validation(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::ValidationException, message)
    }

    /// An `InternalFailure` (HTTP 500; clients retry it).
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::InternalFailure, message)
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        self.code.status()
    }
}

/// The result of an operation.
pub type ApiResult<T> = Result<T, ApiError>;

/// The Step Functions operations, one method each, with AWS's semantics (see the module docs).
///
/// Methods return `Send` futures so the server can run them on any tokio worker; an
/// implementation may write them as `async fn`.
pub trait StepFunctions: Send + Sync + 'static {
    /// `CreateStateMachine`.
    fn create_state_machine(
        &self,
        input: CreateStateMachineInput,
    ) -> impl Future<Output = ApiResult<CreateStateMachineOutput>> + Send;
    /// `UpdateStateMachine`.
    fn update_state_machine(
        &self,
        input: UpdateStateMachineInput,
    ) -> impl Future<Output = ApiResult<UpdateStateMachineOutput>> + Send;
    /// `DescribeStateMachine`.
    fn describe_state_machine(
        &self,
        input: DescribeStateMachineInput,
    ) -> impl Future<Output = ApiResult<DescribeStateMachineOutput>> + Send;
    /// `ListStateMachines`.
    fn list_state_machines(
        &self,
        input: ListStateMachinesInput,
    ) -> impl Future<Output = ApiResult<ListStateMachinesOutput>> + Send;
    /// `DeleteStateMachine`.
    fn delete_state_machine(
        &self,
        input: DeleteStateMachineInput,
    ) -> impl Future<Output = ApiResult<Empty>> + Send;
    /// `PublishStateMachineVersion`.
    fn publish_state_machine_version(
        &self,
        input: PublishStateMachineVersionInput,
    ) -> impl Future<Output = ApiResult<PublishStateMachineVersionOutput>> + Send;
    /// `ListStateMachineVersions`.
    fn list_state_machine_versions(
        &self,
        input: ListStateMachineVersionsInput,
    ) -> impl Future<Output = ApiResult<ListStateMachineVersionsOutput>> + Send;
    /// `DeleteStateMachineVersion`.
    fn delete_state_machine_version(
        &self,
        input: DeleteStateMachineVersionInput,
    ) -> impl Future<Output = ApiResult<Empty>> + Send;

    /// `CreateActivity`.
    fn create_activity(
        &self,
        input: CreateActivityInput,
    ) -> impl Future<Output = ApiResult<CreateActivityOutput>> + Send;
    /// `DescribeActivity`.
    fn describe_activity(
        &self,
        input: DescribeActivityInput,
    ) -> impl Future<Output = ApiResult<DescribeActivityOutput>> + Send;
    /// `ListActivities`.
    fn list_activities(
        &self,
        input: ListActivitiesInput,
    ) -> impl Future<Output = ApiResult<ListActivitiesOutput>> + Send;
    /// `DeleteActivity`.
    fn delete_activity(
        &self,
        input: DeleteActivityInput,
    ) -> impl Future<Output = ApiResult<Empty>> + Send;

    /// `StartExecution`.
    fn start_execution(
        &self,
        input: StartExecutionInput,
    ) -> impl Future<Output = ApiResult<StartExecutionOutput>> + Send;
    /// `DescribeExecution`.
    fn describe_execution(
        &self,
        input: DescribeExecutionInput,
    ) -> impl Future<Output = ApiResult<DescribeExecutionOutput>> + Send;
    /// `ListExecutions`.
    fn list_executions(
        &self,
        input: ListExecutionsInput,
    ) -> impl Future<Output = ApiResult<ListExecutionsOutput>> + Send;
    /// `GetExecutionHistory`.
    fn get_execution_history(
        &self,
        input: GetExecutionHistoryInput,
    ) -> impl Future<Output = ApiResult<GetExecutionHistoryOutput>> + Send;
    /// `StopExecution`.
    fn stop_execution(
        &self,
        input: StopExecutionInput,
    ) -> impl Future<Output = ApiResult<StopExecutionOutput>> + Send;
    /// `RedriveExecution`.
    fn redrive_execution(
        &self,
        input: RedriveExecutionInput,
    ) -> impl Future<Output = ApiResult<RedriveExecutionOutput>> + Send;

    /// `GetActivityTask` (a long poll of up to about 60 s).
    fn get_activity_task(
        &self,
        input: GetActivityTaskInput,
    ) -> impl Future<Output = ApiResult<GetActivityTaskOutput>> + Send;
    /// `SendTaskSuccess`.
    fn send_task_success(
        &self,
        input: SendTaskSuccessInput,
    ) -> impl Future<Output = ApiResult<Empty>> + Send;
    /// `SendTaskFailure`.
    fn send_task_failure(
        &self,
        input: SendTaskFailureInput,
    ) -> impl Future<Output = ApiResult<Empty>> + Send;
    /// `SendTaskHeartbeat`.
    fn send_task_heartbeat(
        &self,
        input: SendTaskHeartbeatInput,
    ) -> impl Future<Output = ApiResult<Empty>> + Send;
}
