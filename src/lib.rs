//! The turnflow runtime and command line.
//!
//! # Layout
//! - [`cli`]: the `turnflow` command: argument parsing and dispatch, nothing else.
//! - [`engine`]: the durable engine — core thread, interpreters, timers, workers, tokens.
//! - [`harness`]: the engine bench and the crash-torture child, on the real turn.
//! - [`journal`]: the SQLite journal, group commit and the durability rule.
//! - [`compile`]: generates `state-machines/` from the turn graph and checks it is up to date.
//! - [`graph`]: prints a definition's states, transitions and paths.
#![warn(missing_docs)]

pub mod cli;
pub mod compile;
pub mod engine;
pub mod graph;
pub mod harness;
pub mod journal;
