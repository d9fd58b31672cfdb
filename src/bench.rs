//! Benchmarks behind `turnflow bench …`.
//!
//! # Layout
//! - [`interp`]: the pure interpreter over the conformance definitions, against moto's
//!   Step Functions interpreter (`moto_driver.py` beside it drives moto with boto3).

pub mod interp;
