//! The error-name catalog: every error name turnflow raises or routes on, in one enum.
//!
//! The compiler uses it for `Retry` and `Catch`; the activities raise these names (and the
//! Lambda entry reports them as `errorType`), so a name is never typed twice.

use std::fmt;

macro_rules! catalog {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, transient = $transient:literal; )*) => {
        /// An error name, as it appears in `ErrorEquals`, `TaskFailed.error` and `errorType`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorName {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorName {
            /// Every name of the catalog.
            pub const ALL: &'static [ErrorName] = &[$(ErrorName::$variant),*];

            /// The name as written in definitions and task failures.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorName::$variant => $name,)* }
            }

            /// Whether the failure is worth retrying with backoff (the cause may go away).
            pub fn is_transient(self) -> bool {
                match self { $(ErrorName::$variant => $transient,)* }
            }

            /// The catalog entry with this name, if there is one.
            pub fn from_name(name: &str) -> Option<ErrorName> {
                match name { $($name => Some(ErrorName::$variant),)* _ => None }
            }
        }
    };
}

catalog! {
    /// The model provider throttled the call (Bedrock `ThrottlingException`).
    ModelThrottled = "Turnflow.ModelThrottled", transient = true;
    /// The model provider failed or could not be reached.
    ModelUnavailable = "Turnflow.ModelUnavailable", transient = true;
    /// The model answered with something that cannot be used (malformed, refused tool call).
    ModelInvalidOutput = "Turnflow.ModelInvalidOutput", transient = false;
    /// The customer's or plan's token budget would be exceeded by the call.
    BudgetExceeded = "Turnflow.BudgetExceeded", transient = false;
    /// The back office (orders, returns, refunds) failed or could not be reached.
    BackendUnavailable = "Turnflow.BackendUnavailable", transient = true;
    /// The back office refused the operation (e.g. the order can no longer be cancelled).
    BackendRejected = "Turnflow.BackendRejected", transient = false;
    /// The knowledge base failed or could not be reached.
    KnowledgeBaseUnavailable = "Turnflow.KnowledgeBaseUnavailable", transient = true;
    /// The conversation store failed or could not be reached.
    StoreUnavailable = "Turnflow.StoreUnavailable", transient = true;
    /// A write was attempted for a customer whose identity is not verified.
    IdentityNotVerified = "Turnflow.IdentityNotVerified", transient = false;
    /// A guardrail blocked the input or the output.
    GuardrailBlocked = "Turnflow.GuardrailBlocked", transient = false;
    /// The step's input did not match its schema (a bug or an incompatible definition).
    InvalidInput = "Turnflow.InvalidInput", transient = false;
    /// The handoff to a human could not be made: the last resort failed.
    EscalationFailed = "Turnflow.EscalationFailed", transient = false;
    /// Lambda: the service failed (AWS recommends retrying).
    LambdaServiceException = "Lambda.ServiceException", transient = true;
    /// Lambda: the service was throttled.
    LambdaTooManyRequests = "Lambda.TooManyRequestsException", transient = true;
    /// Lambda: the function could not be reached.
    LambdaSdkClientException = "Lambda.SdkClientException", transient = true;
    /// Lambda: AWS's internal error.
    LambdaAwsLambdaException = "Lambda.AWSLambdaException", transient = true;
    /// Step Functions: matches every error.
    StatesAll = "States.ALL", transient = false;
    /// Step Functions: a task ran past `TimeoutSeconds`.
    StatesTimeout = "States.Timeout", transient = true;
    /// Step Functions: a task sent no heartbeat within `HeartbeatSeconds`.
    StatesHeartbeatTimeout = "States.HeartbeatTimeout", transient = true;
    /// Step Functions: a task failed (matches every task error but `States.Timeout`).
    StatesTaskFailed = "States.TaskFailed", transient = false;
    /// Step Functions: a payload exceeded the 256 KB limit.
    StatesDataLimitExceeded = "States.DataLimitExceeded", transient = false;
    /// Step Functions: a runtime error such as a path that selects nothing.
    StatesRuntime = "States.Runtime", transient = false;
}

impl fmt::Display for ErrorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The names that a step's activity retries with backoff (the transient turnflow names).
pub fn transient_activity_errors() -> Vec<ErrorName> {
    ErrorName::ALL
        .iter()
        .copied()
        .filter(|e| e.is_transient() && e.as_str().starts_with("Turnflow."))
        .collect()
}

/// The Lambda service errors AWS recommends retrying for Lambda-backed tasks.
pub fn transient_lambda_errors() -> Vec<ErrorName> {
    ErrorName::ALL
        .iter()
        .copied()
        .filter(|e| e.is_transient() && e.as_str().starts_with("Lambda."))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for e in ErrorName::ALL {
            assert_eq!(ErrorName::from_name(e.as_str()), Some(*e));
            assert!(seen.insert(e.as_str()), "duplicate {e}");
        }
    }

    #[test]
    fn custom_names_never_use_the_reserved_prefix() {
        for e in ErrorName::ALL {
            let reserved = e.as_str().starts_with("States.");
            assert_eq!(reserved, format!("{e:?}").starts_with("States"), "{e}");
        }
    }

    #[test]
    fn transient_sets_are_disjoint_families() {
        assert!(transient_activity_errors().contains(&ErrorName::ModelThrottled));
        assert!(!transient_activity_errors().contains(&ErrorName::BackendRejected));
        assert!(
            transient_lambda_errors()
                .iter()
                .all(|e| e.as_str().starts_with("Lambda."))
        );
    }
}
