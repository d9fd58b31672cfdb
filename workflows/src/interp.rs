//! The pure ASL interpreter: events in, commands out, the execution history recorded.
//!
//! The interpreter owns no clock, randomness or I/O. Every [`Event`] carries its time; UUIDs,
//! `States.MathRandom` and retry jitter are drawn from a generator seeded by
//! [`Event::ExecutionStarted`]. Feeding the same events into a fresh [`Interpreter`] gives
//! the same commands, history and state: that is how the durable engine recovers and
//! how recorded histories are replayed.
//!
//! # Layout
//! - [`event`]: [`Event`], [`Command`] and their payloads.
//! - `engine`: [`Interpreter`] — the walk of the state machine.
//! - [`scope`]: runs (the execution, Parallel branches, Map iterations) and their phases.
//! - `io`: JSONPath input/output processing; `jsonata`: the JSONata query language.
//! - [`errors`]: state errors and `ErrorEquals` matching; [`history`]: the history format.
//! - [`rng`]: the seeded generator; [`conformance`]: the conformance runners.
//! - [`replay`]: the replayer — a recorded history re-run with its task results fed back, and
//!   the first divergence.

pub mod conformance;
mod engine;
pub mod errors;
pub mod event;
pub mod history;
mod io;
mod jsonata;
pub mod replay;
pub mod rng;
pub mod scope;

pub use conformance::{ConformanceReport, HistoryReport, run_conformance, run_histories};
pub use engine::{
    DATA_LIMIT_BYTES, ExecutionState, HISTORY_LIMIT_EVENTS, InterpError, Interpreter,
    classify_resource, parse_timestamp,
};
pub use errors::StateError;
pub use event::{
    Command, Event, ExecutionInfo, Millis, Outcome, ResourceKind, TaskOutcome, TaskRequest,
};
pub use history::HistoryEvent;

#[cfg(test)]
mod tests;
