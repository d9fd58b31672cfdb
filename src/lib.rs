//! The turnflow runtime and command line.
//!
//! # Layout
//! - [`api`]: the Step Functions API served on loopback: model, service trait, server.
//! - [`bench`]: `turnflow bench`: the interpreter's and the engine's speed.
//! - [`cli`]: the `turnflow` command: argument parsing and dispatch, nothing else.
//! - [`client`]: the operator commands (`executions`, `tasks`) as clients of the API.
//! - [`eval_cmd`]: `turnflow eval` and `turnflow kb index`.
//! - [`engine`]: the durable engine — core thread, interpreters, timers, workers, tokens.
//! - [`harness`]: the engine bench and the crash-torture child, on the real turn.
//! - [`journal`]: the SQLite journal, group commit and the durability rule.
//! - [`ops`]: `turnflow ops`: failed turns found, traced, replayed, redriven and rerun; deploy
//!   safety by replaying recorded histories.
//! - [`cloud`]: the AWS-mode commands (`ingest sqs|lambda`, `deploy`, `worker`).
//! - [`compile`]: generates `state-machines/` from the turn graph and checks it is up to date.
//! - [`graph`]: prints a definition's states, transitions and paths.
//! - [`serve`]: `turnflow serve`, the support desk on one machine, and its clients (`chat`,
//!   `approvals`, `trace`).
#![warn(missing_docs)]

pub mod api;
pub mod bench;
pub mod cli;
pub mod client;
pub mod cloud;
pub mod compile;
pub mod engine;
pub mod eval_cmd;
pub mod graph;
pub mod harness;
pub mod journal;
pub mod ops;
pub mod serve;
