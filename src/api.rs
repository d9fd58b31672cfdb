//! The Step Functions API (AWS JSON 1.0) that turnflow serves on loopback.
//!
//! # Layout
//! - [`model`]: the requests and responses, with AWS's field names and constraints.
//! - [`service`]: the [`StepFunctions`](service::StepFunctions) trait the engine implements,
//!   one method per operation, and [`ApiError`](service::ApiError) with AWS's error codes.
//! - [`server`]: the HTTP server: `POST /` dispatched by `X-Amz-Target`, AWS's error shape,
//!   long polls, graceful shutdown.
//! - [`adapter`]: the trait implemented by the embedded [`Engine`](crate::engine::Engine).
//! - [`daemon`]: `turnflow engine serve`: the engine and the server until a signal.
//! - [`sigv4`]: signature verification when the server is given credentials.

pub mod adapter;
pub mod daemon;
pub mod model;
pub mod server;
pub mod service;
pub mod sigv4;
