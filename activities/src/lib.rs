//! turnflow's step handlers and their ports.
#![warn(missing_docs)]
pub mod kb;
