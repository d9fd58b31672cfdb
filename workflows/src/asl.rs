//! The Amazon States Language: model, parser, checker and emitter.

pub mod model;

pub use model::*;
