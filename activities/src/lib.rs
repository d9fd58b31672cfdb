//! turnflow's step handlers and their ports.
//!
//! # Layout
//! - [`payload`]: the wire format between the turn's states (versioned, ids and small facts).
//! - [`ports`]: the async traits that are the handlers' only I/O (model, knowledge base, back
//!   office, guardrails, conversation store, outbox).
#![warn(missing_docs)]

pub mod brain;
pub mod kb;
pub mod payload;
pub mod ports;
