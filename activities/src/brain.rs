//! The embedded brain: an honest classical NLP pipeline for triage, with no network and no
//! downloaded weights.
//!
//! # Layout
//! - [`language`]: language identification (en, es, zh, fr, de).
//! - [`intent`]: the intents, with their stable wire names.
//! - [`corpus`]: the project's own training examples, embedded from `activities/brain/train/`.
//! - [`features`]: normalisation, tokens, word and character n-gram features.
//! - [`classifier`]: logistic regression trained at startup, temperature calibration.
//! - [`rules`]: high-precision patterns (prompt attacks, abuse, legal threats, requests for a
//!   person).
//! - [`entity`]: order ids, e-mails, amounts, dates, phone numbers.
//! - [`sentiment`]: lexicon-based sentiment.
//! - [`triage`]: [`Brain::analyze`] and its result, [`Triage`].
//! - [`eval`]: measurement on external corpora (bitext, clinc150).
//! - [`error`]: the error type, [`BrainError`].

pub mod classifier;
pub mod corpus;
pub mod entity;
pub mod error;
pub mod eval;
pub mod features;
pub mod intent;
pub mod language;
pub mod rules;
pub mod sentiment;
pub mod triage;

pub use error::BrainError;
pub use intent::Intent;
pub use language::Language;
pub use triage::{Brain, Triage};
