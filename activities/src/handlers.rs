//! The step handlers: one async function per activity of the turn, over the ports.
//!
//! [`handle`] dispatches a [`StepInput`] to the handler its step names (`triage` ↔ state
//! `Triage` ↔ [`triage::triage`]). Every handler reads the customer's message from the
//! conversation store by `messageId` (never from the payload), returns its facts as JSON (what
//! the definition stores under the step's field), and fails with a [`StepError`] whose name is
//! one of the catalog's, so `Retry` and `Catch` route on it. No handler panics: malformed input is
//! `Turnflow.InvalidInput` with the field named.
//!
//! The same function serves the embedded engine's in-process workers, an activity poller and a
//! Lambda function: none of them depends on a runtime.

pub mod act;
pub mod commit;
pub mod escalate;
pub mod respond;
pub mod retrieve;
pub mod triage;
pub mod verify;

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use turnflow_workflows::errors::ErrorName;
use turnflow_workflows::lifecycle::{Lifecycle, LifecycleEvent};

use crate::payload::{PAYLOAD_VERSION, StepInput, TurnState};
use crate::policy::Policy;
use crate::ports::{
    BackOffice, ConversationStore, Guardrails, KnowledgeBase, Message, Model, Outbox, PortError,
};

/// The steps a worker handles, named as the activities are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// `triage`.
    Triage,
    /// `retrieve`.
    Retrieve,
    /// `act`.
    Act,
    /// `verify`.
    Verify,
    /// `commit`.
    Commit,
    /// `respond`.
    Respond,
    /// `escalate`.
    Escalate,
}

impl Step {
    /// Every step.
    pub const ALL: [Step; 7] = [
        Step::Triage,
        Step::Retrieve,
        Step::Act,
        Step::Verify,
        Step::Commit,
        Step::Respond,
        Step::Escalate,
    ];

    /// The activity name.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Triage => "triage",
            Step::Retrieve => "retrieve",
            Step::Act => "act",
            Step::Verify => "verify",
            Step::Commit => "commit",
            Step::Respond => "respond",
            Step::Escalate => "escalate",
        }
    }

    /// The step of an activity name.
    pub fn from_name(name: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A step's failure: the catalog name it fails with and a cause (never customer text).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct StepError {
    /// The error name `Retry`/`Catch` route on.
    pub error: ErrorName,
    /// What happened.
    pub cause: String,
}

impl StepError {
    /// `Turnflow.InvalidInput` naming the field.
    pub fn invalid(field: &str, what: impl fmt::Display) -> StepError {
        StepError {
            error: ErrorName::InvalidInput,
            cause: format!("{field}: {what}"),
        }
    }

    /// A required field that is missing.
    pub fn missing(field: &str) -> StepError {
        StepError::invalid(field, "missing")
    }
}

impl From<PortError> for StepError {
    fn from(e: PortError) -> StepError {
        StepError {
            error: e.error_name(),
            cause: e.to_string(),
        }
    }
}

/// The result of a handler.
pub type StepResult = Result<Value, StepError>;

/// The time, injectable so tests control it.
pub trait Clock: Send + Sync {
    /// Milliseconds since the epoch.
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// A clock that says what it is told (tests).
#[derive(Debug, Default)]
pub struct FixedClock(pub std::sync::atomic::AtomicI64);

impl FixedClock {
    /// A clock at `ms`.
    pub fn at(ms: i64) -> FixedClock {
        FixedClock(std::sync::atomic::AtomicI64::new(ms))
    }

    /// Moves the clock forward.
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Everything a handler may touch: the ports, the clock and the policy. Built once, shared.
#[derive(Clone)]
pub struct Ports {
    /// The model (triage, drafts).
    pub model: Arc<dyn Model>,
    /// The knowledge base.
    pub kb: Arc<dyn KnowledgeBase>,
    /// The back office.
    pub back_office: Arc<dyn BackOffice>,
    /// PII redaction and denied topics.
    pub guardrails: Arc<dyn Guardrails>,
    /// Conversations, documents, memory, approvals, idempotency records, lifecycles.
    pub store: Arc<dyn ConversationStore>,
    /// Replies to the helpdesk.
    pub outbox: Arc<dyn Outbox>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// The policy in force.
    pub policy: Arc<Policy>,
}

impl fmt::Debug for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ports")
            .field("now_ms", &self.clock.now_ms())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Runs one step. The step must match `input.step`.
pub async fn handle(step: Step, input: StepInput, ports: &Ports) -> StepResult {
    if input.v > PAYLOAD_VERSION {
        return Err(StepError::invalid(
            "v",
            format!(
                "payload version {} is newer than this build reads ({PAYLOAD_VERSION})",
                input.v
            ),
        ));
    }
    if input.step != step.as_str() {
        return Err(StepError::invalid(
            "step",
            format!("this worker handles {step}, not {:?}", input.step),
        ));
    }
    if input.idempotency_key.is_empty() {
        return Err(StepError::missing("idempotencyKey"));
    }
    if input.turn.conversation_id.is_empty() {
        return Err(StepError::missing("turn.conversationId"));
    }
    if input.turn.message_id.is_empty() {
        return Err(StepError::missing("turn.messageId"));
    }
    match step {
        Step::Triage => triage::triage(&input, ports).await,
        Step::Retrieve => retrieve::retrieve(&input, ports).await,
        Step::Act => act::act(&input, ports).await,
        Step::Verify => verify::verify(&input, ports).await,
        Step::Commit => commit::commit(&input, ports).await,
        Step::Respond => respond::respond(&input, ports).await,
        Step::Escalate => escalate::escalate(&input, ports).await,
    }
}

/// Runs the step an activity task names, from its raw JSON input (what a poller or a Lambda
/// function receives).
pub async fn handle_json(activity: &str, input: Value, ports: &Ports) -> StepResult {
    let step = Step::from_name(activity)
        .ok_or_else(|| StepError::invalid("step", format!("unknown activity {activity:?}")))?;
    let input: StepInput = serde_json::from_value(input).map_err(|e| {
        StepError::invalid("input", format!("does not match the step payload: {e}"))
    })?;
    handle(step, input, ports).await
}

/// Serialises a handler's facts.
pub(crate) fn facts<T: Serialize>(value: &T) -> StepResult {
    serde_json::to_value(value).map_err(|e| StepError {
        error: ErrorName::InvalidInput,
        cause: format!("facts do not serialise: {e}"),
    })
}

/// The customer's message of the turn, from the store.
pub(crate) async fn customer_message(
    turn: &TurnState,
    ports: &Ports,
) -> Result<Message, StepError> {
    ports.store.message(&turn.message_id).await?.ok_or_else(|| {
        StepError::invalid(
            "turn.messageId",
            format!("no message {:?} in the conversation store", turn.message_id),
        )
    })
}

/// Applies a lifecycle event once per step (a retried step does not apply it twice). An event
/// the conversation's status does not take is skipped: the turn goes on.
pub(crate) async fn advance(
    input: &StepInput,
    ports: &Ports,
    events: &[LifecycleEvent],
) -> Result<(), StepError> {
    let marker = format!("{}/lifecycle", input.idempotency_key);
    let (_, already) = ports
        .store
        .record_once(&marker, &serde_json::json!({ "events": events }))
        .await?;
    if already {
        return Ok(());
    }
    let conversation = &input.turn.conversation_id;
    let mut lifecycle = match ports.store.lifecycle(conversation).await? {
        Some(snapshot) => Lifecycle::from_snapshot(snapshot),
        None => Lifecycle::new(),
    };
    for event in events {
        // An illegal event leaves the lifecycle as it was (e.g. a message to a closed
        // conversation); the turn itself still answers.
        let _ = lifecycle.apply(*event);
    }
    ports
        .store
        .put_lifecycle(
            conversation,
            input.turn.customer_id.as_deref(),
            &lifecycle.snapshot(),
        )
        .await?;
    Ok(())
}

/// Redacts a text through the guardrails.
pub(crate) async fn redact(text: &str, ports: &Ports) -> Result<String, StepError> {
    Ok(ports.guardrails.check(text).await?.redacted)
}

/// A document or message id derived from the conversation and a suffix (documents of a
/// conversation share its prefix, so GDPR export finds them).
pub(crate) fn doc_id(conversation_id: &str, kind: &str, key: &str) -> String {
    format!("{conversation_id}/{kind}/{key}")
}

/// The triage's language, or English.
pub(crate) fn language_of(turn: &TurnState) -> String {
    turn.triage
        .as_ref()
        .map(|t| t.language.clone())
        .unwrap_or_else(|| "en".to_owned())
}
