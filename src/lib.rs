//! The turnflow runtime and command line.
//!
//! # Layout
//! - [`bench`]: `turnflow bench`: the interpreter's speed, against moto's.
//! - [`cli`]: the `turnflow` command: argument parsing and dispatch, nothing else.
//! - [`compile`]: generates `state-machines/` from the turn graph and checks it is up to date.
//! - [`graph`]: prints a definition's states, transitions and paths.
#![warn(missing_docs)]

pub mod bench;
pub mod cli;
pub mod compile;
pub mod graph;
