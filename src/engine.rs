//! The durable engine: runs ASL state machines on the pure interpreter, journaled in SQLite.
//!
//! Restate's shape: the interpreter applies an event and returns its effects as data
//! (commands); the core thread journals the event and performs the effects — after the
//! batch's commit for everything a caller or a worker can observe. Requests from callers,
//! results of in-process handlers and fired timers all enter one channel; the core takes
//! them in batches, one SQLite transaction per batch (group commit), and answers callers
//! when the batch is durable (see [`crate::journal`] for exactly when).
//!
//! Recovery: at open, every RUNNING execution is replayed from its journaled events; the
//! tasks still outstanding are dispatched again with the same idempotency keys (a task
//! whose result was journaled is never re-run); tokens handed out stay valid; timers are
//! re-armed from the events' times. Executions waiting only on tokens, timers or external
//! workers leave memory and are replayed when something arrives for them.
//!
//! # Layout
//! - [`Engine`] (`handle`): the async operations, named after the Step Functions API.
//! - `core`: the core thread — batches, interpreters, timers, dispatch.
//! - `live`: an execution in memory and its replay; the journal entry format.
//! - `history`: `GetExecutionHistory`, rebuilt by replay.
//! - `integration`: what the engine can run, and where each task goes.
//! - [`clock`]: the injectable clock; [`worker`]: in-process handlers; [`arn`]: ARNs and
//!   names; [`model`]: responses; [`EngineError`] (`error`): AWS-named errors;
//!   `token`: task tokens; `timers`: the armed deadlines.

pub mod arn;
pub mod clock;
mod core;
mod error;
mod handle;
mod history;
mod integration;
mod live;
pub mod model;
mod timers;
mod token;
pub mod worker;

pub use arn::Arns;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::EngineError;
pub use handle::{Engine, EngineConfig, MAX_POLL};
pub use integration::{SUPPORTED, check_definition};
pub use live::Entry;
pub use model::*;
pub use token::TOKEN_LEN;
pub use worker::{Handler, TaskFailure, TaskResult, Workers};

#[cfg(test)]
mod tests;
