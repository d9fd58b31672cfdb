//! [`OpsError`]: why an ops command failed.

use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};
use turnflow_workflows::interp::replay::ReplayError;

/// Why an ops command failed.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The Step Functions API refused or could not be reached.
    #[error("failed to {op}: {message}")]
    Api {
        /// What was being done (`describe arn:…`).
        op: String,
        /// The service's `Code: message`, or the chain of causes.
        message: String,
    },
    /// A definition does not parse or does not fit what is asked of it.
    #[error("{0}")]
    Definition(String),
    /// The replayer could not run.
    #[error(transparent)]
    Replay(#[from] ReplayError),
    /// A file could not be read or written.
    #[error("failed to {op} {path}: {source}")]
    Io {
        /// Read or write.
        op: &'static str,
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The arguments or the recorded data do not allow what is asked.
    #[error("{0}")]
    Invalid(String),
}

/// Maps an SDK error to [`OpsError::Api`], with `op` saying what was being done.
pub(crate) fn api<E, R>(op: impl Into<String>) -> impl FnOnce(SdkError<E, R>) -> OpsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let op = op.into();
    move |e| OpsError::Api {
        op,
        message: crate::client::sdk_message(&e),
    }
}

/// The code of an SDK error, if the service answered.
pub(crate) fn code_of<E, R>(e: &SdkError<E, R>) -> Option<String>
where
    E: ProvideErrorMetadata,
{
    e.code().map(str::to_owned)
}
