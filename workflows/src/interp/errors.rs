//! State errors and the rules for matching them against `ErrorEquals`.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// An error raised by a state: what `Retry` and `Catch` route on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateError {
    /// The error name (`States.Timeout`, a worker's error type, …); `None` when a Fail
    /// state or a task gave none.
    pub error: Option<String>,
    /// The human-readable cause.
    pub cause: Option<String>,
    /// The field whose evaluation failed (JSONata), reported in `EvaluationFailed`.
    pub location: Option<String>,
}

impl StateError {
    /// An error with a name and a cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        StateError {
            error: Some(error.into()),
            cause: Some(cause.into()),
            location: None,
        }
    }

    /// The same error, reported as a failed evaluation of `field`.
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.location = Some(field.into());
        self
    }

    /// `States.Runtime` with a cause.
    pub fn runtime(cause: impl Into<String>) -> Self {
        StateError::new(names::RUNTIME, cause)
    }

    /// The error output `{"Error": …, "Cause": …}` handed to a catcher.
    pub fn output(&self) -> Value {
        json!({"Error": self.error, "Cause": self.cause})
    }

    /// The name used for matching (an absent name matches like an empty one).
    fn name(&self) -> &str {
        self.error.as_deref().unwrap_or("")
    }

    /// Whether a retrier or catcher with these `ErrorEquals` handles this error.
    ///
    /// `States.ALL` matches every error except `States.Runtime`; `States.TaskFailed` matches
    /// every error except `States.Timeout` and `States.Runtime`; other names match exactly.
    /// (AWS's documentation calls `States.DataLimitExceeded` uncatchable by `States.ALL`, but
    /// recorded executions show a task's oversized result caught by it.) The interpreter never
    /// retries nor catches `States.Runtime`: see [`StateError::is_terminal`].
    pub fn matches(&self, error_equals: &[String]) -> bool {
        let name = self.name();
        error_equals.iter().any(|e| match e.as_str() {
            names::ALL => !is_terminal(name),
            names::TASK_FAILED => {
                name == names::TASK_FAILED || (!is_terminal(name) && name != names::TIMEOUT)
            }
            other => other == name,
        })
    }
}

fn is_terminal(name: &str) -> bool {
    name == names::RUNTIME
}

impl StateError {
    /// Whether no retrier or catcher may handle this error: a `States.Runtime` failure of the
    /// state's own processing (a bad path, an invalid value) fails the execution, even with a
    /// catcher naming `States.Runtime` (as recorded on AWS).
    pub fn is_terminal(&self) -> bool {
        is_terminal(self.name())
    }
}

/// The error names of the language.
pub mod names {
    /// Matches any error but the terminal ones.
    pub const ALL: &str = "States.ALL";
    /// A runtime failure (bad path, no choice matched, …): never retried nor caught by ALL.
    pub const RUNTIME: &str = "States.Runtime";
    /// A payload over 256 KB.
    pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
    /// A task or the execution ran too long.
    pub const TIMEOUT: &str = "States.Timeout";
    /// A task sent no heartbeat in time.
    pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
    /// A task failed (also the wildcard for everything but timeouts).
    pub const TASK_FAILED: &str = "States.TaskFailed";
    /// A branch of a Parallel state failed.
    pub const BRANCH_FAILED: &str = "States.BranchFailed";
    /// ResultPath could not be applied to the input.
    pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
    /// A JSONata expression failed.
    pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
    /// A Map state failed more items than it tolerates.
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn all_skips_terminal_errors() {
        assert!(StateError::new("Custom", "c").matches(&eq(&["States.ALL"])));
        assert!(!StateError::runtime("c").matches(&eq(&["States.ALL"])));
        assert!(StateError::new(names::DATA_LIMIT_EXCEEDED, "c").matches(&eq(&["States.ALL"])));
        assert!(StateError::runtime("c").is_terminal());
    }

    #[test]
    fn task_failed_skips_timeout() {
        assert!(StateError::new("Lambda.Unknown", "c").matches(&eq(&["States.TaskFailed"])));
        assert!(!StateError::new(names::TIMEOUT, "c").matches(&eq(&["States.TaskFailed"])));
        assert!(StateError::new(names::TIMEOUT, "c").matches(&eq(&["States.Timeout"])));
    }
}
