//! In-process workers: async handlers the engine calls directly (the fast path, no polling).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use serde_json::Value;

/// A task's failure as a handler reports it: the error name `Retry`/`Catch` route on and a
/// cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFailure {
    /// The error name (`Turnflow.ModelThrottled`, …).
    pub error: String,
    /// The human-readable cause.
    pub cause: String,
}

impl TaskFailure {
    /// A failure with a name and a cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        TaskFailure {
            error: error.into(),
            cause: cause.into(),
        }
    }
}

/// What a handler returns.
pub type TaskResult = Result<Value, TaskFailure>;

/// The future a handler returns.
pub type TaskFuture = Pin<Box<dyn Future<Output = TaskResult> + Send>>;

/// An in-process handler: the task's input in, its result out.
#[derive(Clone)]
pub struct Handler(Arc<dyn Fn(Value) -> TaskFuture + Send + Sync>);

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Handler")
    }
}

impl Handler {
    /// Wraps an async function.
    pub fn new<F, Fut>(f: F) -> Handler
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = TaskResult> + Send + 'static,
    {
        Handler(Arc::new(move |v| Box::pin(f(v))))
    }

    /// Calls the handler.
    pub fn call(&self, input: Value) -> TaskFuture {
        (self.0)(input)
    }
}

/// The registry of in-process handlers: activities by activity name, functions by Lambda
/// function name (for `lambda:invoke` and `arn:aws:lambda:…:function:NAME`).
#[derive(Debug, Default)]
pub struct Workers {
    activities: RwLock<HashMap<String, Handler>>,
    functions: RwLock<HashMap<String, Handler>>,
}

impl Workers {
    /// Registers the handler of an activity.
    pub fn add_activity(&self, name: &str, handler: Handler) {
        self.activities
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), handler);
    }

    /// Registers the handler of a Lambda function.
    pub fn add_function(&self, name: &str, handler: Handler) {
        self.functions
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), handler);
    }

    /// The handler of an activity.
    pub fn activity(&self, name: &str) -> Option<Handler> {
        self.activities
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    /// The handler of a function.
    pub fn function(&self, name: &str) -> Option<Handler> {
        self.functions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }
}
