//! The engine's errors, named like the Step Functions API's error codes.

use crate::journal::JournalError;

/// Why an engine operation failed. Each variant maps to the AWS error code of the same
/// name ([`EngineError::code`]), so the API server can answer as Step Functions does.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A different execution with this name exists (or it is closed).
    #[error("execution already exists: {0}")]
    ExecutionAlreadyExists(String),
    /// No such execution.
    #[error("execution does not exist: {0}")]
    ExecutionDoesNotExist(String),
    /// The execution cannot be redriven (running, succeeded, or failed where redrive cannot
    /// resume).
    #[error("execution is not redrivable: {0}")]
    ExecutionNotRedrivable(String),
    /// No such state machine (or version).
    #[error("state machine does not exist: {0}")]
    StateMachineDoesNotExist(String),
    /// A state machine with this name exists with a different definition.
    #[error("state machine already exists: {0}")]
    StateMachineAlreadyExists(String),
    /// The state machine is being deleted.
    #[error("state machine is deleting: {0}")]
    StateMachineDeleting(String),
    /// The definition does not parse, check, or use only what the engine can run.
    #[error("invalid definition: {0}")]
    InvalidDefinition(String),
    /// A malformed ARN.
    #[error("invalid arn: {0}")]
    InvalidArn(String),
    /// A name breaking AWS's naming rules.
    #[error("invalid name: {0}")]
    InvalidName(String),
    /// Execution input that is not JSON or is too large.
    #[error("invalid execution input: {0}")]
    InvalidExecutionInput(String),
    /// Task output that is not JSON or is too large.
    #[error("invalid output: {0}")]
    InvalidOutput(String),
    /// A token (task token or page token) the engine did not hand out.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// A token whose execution no longer exists.
    #[error("task does not exist: {0}")]
    TaskDoesNotExist(String),
    /// The token's task was already closed: answered, timed out or cancelled.
    #[error("task timed out: {0}")]
    TaskTimedOut(String),
    /// No such activity.
    #[error("activity does not exist: {0}")]
    ActivityDoesNotExist(String),
    /// A request AWS would refuse for its shape (bad page token, value out of range…).
    #[error("validation: {0}")]
    ValidationException(String),
    /// The journal failed: the engine stopped and must be reopened.
    #[error("journal: {0}")]
    Journal(#[from] JournalError),
    /// The engine has stopped.
    #[error("engine is shut down")]
    ShutDown,
}

impl EngineError {
    /// The AWS error code (`__type`) of this error.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::ExecutionAlreadyExists(_) => "ExecutionAlreadyExists",
            EngineError::ExecutionDoesNotExist(_) => "ExecutionDoesNotExist",
            EngineError::ExecutionNotRedrivable(_) => "ExecutionNotRedrivable",
            EngineError::StateMachineDoesNotExist(_) => "StateMachineDoesNotExist",
            EngineError::StateMachineAlreadyExists(_) => "StateMachineAlreadyExists",
            EngineError::StateMachineDeleting(_) => "StateMachineDeleting",
            EngineError::InvalidDefinition(_) => "InvalidDefinition",
            EngineError::InvalidArn(_) => "InvalidArn",
            EngineError::InvalidName(_) => "InvalidName",
            EngineError::InvalidExecutionInput(_) => "InvalidExecutionInput",
            EngineError::InvalidOutput(_) => "InvalidOutput",
            EngineError::InvalidToken(_) => "InvalidToken",
            EngineError::TaskDoesNotExist(_) => "TaskDoesNotExist",
            EngineError::TaskTimedOut(_) => "TaskTimedOut",
            EngineError::ActivityDoesNotExist(_) => "ActivityDoesNotExist",
            EngineError::ValidationException(_) => "ValidationException",
            EngineError::Journal(_) | EngineError::ShutDown => "InternalFailure",
        }
    }
}
