//! The pure core of turnflow: no tokio, no AWS, no I/O.
//!
//! # Layout
//! - [`asl`]: the Amazon States Language — the typed model, the parser (errors name the JSON path
//!   of the problem), the static checker and the deterministic emitter.
//! - [`errors`]: the error-name catalog, shared by the compiler and the activities.
//! - [`lifecycle`]: the conversation lifecycle across turns (a `statig` machine).
//! - [`turn`]: the turn workflow as data, lowered to ASL.
#![warn(missing_docs)]

pub mod asl;
pub mod errors;
pub mod lifecycle;
pub mod turn;
