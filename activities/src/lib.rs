//! turnflow's step handlers and their ports.
//!
//! # Layout
//! - [`brain`]: the embedded brain — language, intent and firewall, entities, sentiment.
//! - [`kb`]: the knowledge base — tantivy BM25 with per-language analysis, cited passages.
//! - [`language`]: the languages turnflow answers in, and language identification.
//! - [`event`]: helpdesk events (turnflow's own, Zendesk-like, Intercom-like), normalized.
//! - [`intake`]: what every ingest path does with an event before its turn starts.
//! - [`approvals`]: approval requests from the approval queue, and decisions, for every desk.
//! - [`aws`]: the AWS adapters (SQS ingest, DynamoDB store, approvals, Bedrock, Step Functions).
//! - [`payload`]: the wire format between the turn's states (versioned, ids and small facts).
//! - [`ports`]: the async traits that are the handlers' only I/O (model, knowledge base, back
//!   office, guardrails, conversation store, outbox).
//! - [`handlers`]: one async function per step, and [`handlers::handle`] to dispatch.
//! - [`policy`]: the support policy, read from `activities/policy/default.toml`.
//! - [`embedded`]: the one-machine adapters (SQLite, regex guardrails, brain + templates, tantivy).
//! - [`brain`], [`kb`]: the embedded brain and knowledge base.
//! - [`eval`]: measurement on the τ-bench retail tasks.
#![warn(missing_docs)]

pub mod approvals;
pub mod aws;
pub mod brain;
pub mod embedded;
pub mod eval;
pub mod event;
pub mod handlers;
pub mod intake;
pub mod kb;
pub mod language;
pub mod payload;
pub mod policy;
pub mod ports;
