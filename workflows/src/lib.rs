//! The pure core of turnflow: no tokio, no AWS, no I/O.
//!
//! # Layout
//! - [`asl`]: the Amazon States Language — the typed model, the parser (errors name the JSON path
//!   of the problem), the static checker and the deterministic emitter.
//! - [`errors`]: the error-name catalog, shared by the compiler and the activities.
//! - [`lifecycle`]: the conversation lifecycle across turns (a `statig` machine).
//! - [`turn`]: the turn workflow as data, lowered to ASL.
//! - [`jsonpath`]: JSONPath as Step Functions reads it — query, and `ResultPath`-style set.
//! - [`intrinsics`]: the `States.*` intrinsic functions — parse and evaluate.
//! - [`template`]: JSONPath-mode payload templates (`Parameters`, `ResultSelector`, `Assign`…).
//! - [`choice`]: JSONPath-mode Choice rules.
//! - [`interp`]: the pure interpreter — events in, commands out, the history recorded — and
//!   the conformance runners.
#![warn(missing_docs)]

pub mod asl;
pub mod choice;
pub mod errors;
pub mod interp;
pub mod intrinsics;
pub mod jsonpath;
pub mod lifecycle;
pub mod template;
#[cfg(test)]
mod testing;
pub mod turn;
