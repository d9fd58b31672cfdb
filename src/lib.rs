//! The turnflow runtime and command line.
//!
//! # Layout
//! - [`cli`]: the `turnflow` command: argument parsing and dispatch, nothing else.
//! - [`cloud`]: the AWS-mode commands (`ingest sqs|lambda`, `deploy`, `worker`).
//! - [`compile`]: generates `state-machines/` from the turn graph and checks it is up to date.
//! - [`graph`]: prints a definition's states, transitions and paths.
#![warn(missing_docs)]

pub mod cli;
pub mod cloud;
pub mod compile;
pub mod graph;
