//! The Amazon States Language: model, parser, checker and emitter.

pub mod check;
pub mod diag;
pub mod emit;
pub mod model;
pub mod parse;

pub use check::{check, validate};
pub use diag::{Diagnostic, Diagnostics, Location, Severity};
pub use emit::{to_json_pretty, to_value};
pub use model::*;
pub use parse::{from_value, parse, parse_json};
