//! The Step Functions API (AWS JSON 1.0) that turnflow serves on loopback.
//!
//! # Layout
//! - [`model`]: the requests and responses, with AWS's field names and constraints.
//! - [`service`]: the [`StepFunctions`](service::StepFunctions) trait the engine implements,
//!   one method per operation, and [`ApiError`](service::ApiError) with AWS's error codes.

pub mod model;
pub mod service;
