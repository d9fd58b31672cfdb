//! The pure core of turnflow: no tokio, no AWS, no I/O.
//!
//! # Layout
//! - [`asl`]: the Amazon States Language — the typed model, the parser (errors name the JSON path
//!   of the problem), the static checker and the deterministic emitter.
#![warn(missing_docs)]

pub mod asl;
