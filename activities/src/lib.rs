//! turnflow's step handlers and their ports.
//!
//! # Layout
//! - [`event`]: helpdesk events (turnflow's own, Zendesk-like, Intercom-like), normalized.
//! - [`aws`]: the AWS adapters (SQS ingest, DynamoDB store, approvals, Bedrock, Step Functions).
//! - [`payload`]: the wire format between the turn's states (versioned, ids and small facts).
//! - [`ports`]: the async traits that are the handlers' only I/O (model, knowledge base, back
//!   office, guardrails, conversation store, outbox).
#![warn(missing_docs)]

pub mod aws;
pub mod event;
pub mod payload;
pub mod ports;
