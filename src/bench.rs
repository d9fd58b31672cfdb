//! Benchmarks behind `turnflow bench …`.
//!
//! # Layout
//! - [`interp`]: the pure interpreter over the conformance definitions, against moto's
//!   Step Functions interpreter (`moto_driver.py` beside it drives moto with boto3).
//! - [`replay`]: the replayer on a recorded history of about 1,000 events.

pub mod interp;
pub mod replay;
