//! The desk's ingest: `POST /events` puts a validated event on a durable queue in the engine's
//! journal, and one dispatcher starts a turn for each, in order per conversation.
//!
//! - **Durable.** An event is acknowledged (202) only after it is on the queue, which the
//!   engine answers after its commit is fsynced; a crash after that loses nothing, because the
//!   dispatcher reads the queue again at start.
//! - **Once.** An event id seen before is answered `duplicate` and not queued. The check and the
//!   queueing are not one transaction; an event slipping through twice (two concurrent
//!   deliveries, or a crash between the two) still starts one turn, because the execution is
//!   named after the event and `StartExecution` is idempotent by name.
//! - **In order.** A conversation's next event waits until its previous turn has finished or
//!   parked on a human (or [`TURN_GAP`] has passed), so a customer's messages are answered in
//!   the order they were written.
//! - **Dead letters.** A start that keeps failing is retried with backoff and, after
//!   `max_attempts`, moved to the dead-letter queue with its reason ([`DEAD_LETTER_QUEUE`],
//!   `GET /dead-letters`). The message is deleted from the ingest queue only after its turn's
//!   start was acknowledged or it was dead-lettered.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::Notify;
use turnflow_activities::embedded::Embedded;
use turnflow_activities::event::{self, EventError, EventKind, HelpdeskEvent};
use turnflow_activities::intake::{self, IdentityCheck, Intake};
use turnflow_activities::ports::ConversationStore as _;

use crate::engine::{Engine, EngineError, QueueMessage};

/// The embedded queue of accepted events.
pub const INGEST_QUEUE: &str = "turnflow-ingest";
/// Where events ingest gave up on go, with their reason.
pub const DEAD_LETTER_QUEUE: &str = "turnflow-ingest-dead";
/// After how many failed starts an event is dead-lettered, by default.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
/// The longest a conversation's next event waits for its previous turn.
pub const TURN_GAP: Duration = Duration::from_secs(60);
/// The largest message text accepted, in bytes.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// How long event ids are remembered for deduplication.
const DEDUP_TTL_SECONDS: u64 = 90 * 24 * 3600;

/// Why an event was refused.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The event cannot be read (the reason names the field).
    #[error(transparent)]
    Malformed(#[from] EventError),
    /// The event reads but breaks a rule of the desk.
    #[error("invalid event: {0}")]
    Invalid(String),
    /// The queue or the store failed; nothing was accepted.
    #[error("the event could not be queued: {0}")]
    Unavailable(String),
}

/// What became of an accepted event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    /// The event's id as normalized (its execution's name).
    pub execution_name: String,
    /// Its conversation.
    pub conversation_id: String,
    /// True when the event was seen before (and not queued again).
    pub duplicate: bool,
}

#[derive(Debug)]
struct Busy {
    execution_arn: String,
    since: Instant,
}

#[derive(Debug, Default)]
struct State {
    /// Conversations whose turn is running, by conversation id.
    busy: HashMap<String, Busy>,
    /// Failed attempts, and when the next may be made, by queue message id.
    attempts: HashMap<String, (u32, Instant)>,
}

/// The ingest queue and its dispatcher.
#[derive(Debug)]
pub struct Ingest {
    engine: Engine,
    embedded: Embedded,
    state_machine_arn: String,
    max_attempts: u32,
    wake: Notify,
    state: Mutex<State>,
}

impl Ingest {
    /// Ingest into `state_machine_arn` on `engine`.
    pub fn new(
        engine: Engine,
        embedded: Embedded,
        state_machine_arn: String,
        max_attempts: u32,
    ) -> Ingest {
        Ingest {
            engine,
            embedded,
            state_machine_arn,
            max_attempts: max_attempts.max(1),
            wake: Notify::new(),
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Validates a webhook body and queues it durably.
    ///
    /// # Errors
    /// [`IngestError::Malformed`] or [`IngestError::Invalid`] for a body to fix (nothing was
    /// queued); [`IngestError::Unavailable`] when the queue or store failed (try again).
    pub async fn submit(&self, body: &str) -> Result<Accepted, IngestError> {
        let event = event::normalize(body)?;
        validate(&event)?;
        let name = event.execution_name();
        let accepted = Accepted {
            execution_name: name.clone(),
            conversation_id: event.conversation_id.clone(),
            duplicate: false,
        };
        let key = dedup_key(&name);
        let store = &self.embedded.store;
        if store
            .document(&key)
            .await
            .map_err(|e| IngestError::Unavailable(e.to_string()))?
            .is_some()
        {
            return Ok(Accepted {
                duplicate: true,
                ..accepted
            });
        }
        let queued = serde_json::to_string(&event)
            .map_err(|e| IngestError::Unavailable(format!("unserializable event: {e}")))?;
        self.engine
            .send_message(INGEST_QUEUE, &queued)
            .await
            .map_err(|e| IngestError::Unavailable(e.to_string()))?;
        let seen = json!({ "conversationId": event.conversation_id, "at": now_ms() });
        if let Err(e) = store
            .put_document(&key, &seen, Some(DEDUP_TTL_SECONDS))
            .await
        {
            // The event is queued (durable); only the duplicate check will miss it, and a
            // second delivery starts no second turn (the execution is named after the event).
            tracing::warn!(event = %name, error = %e, "failed to remember an event id");
        }
        self.wake.notify_one();
        Ok(accepted)
    }

    /// Tells the dispatcher that a turn waits on a human: its conversation's next event may go.
    pub fn parked(&self, execution_arn: &str) {
        let mut state = self.state();
        state.busy.retain(|_, b| b.execution_arn != execution_arn);
        drop(state);
        self.wake.notify_one();
    }

    /// The executions started for a conversation, oldest first.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn turns(&self, conversation_id: &str) -> Result<Vec<Value>, String> {
        let doc = self
            .embedded
            .store
            .document(&turns_key(conversation_id))
            .await
            .map_err(|e| e.to_string())?;
        Ok(doc
            .and_then(|d| d.get("turns").and_then(Value::as_array).cloned())
            .unwrap_or_default())
    }

    /// The events ingest gave up on, with their reasons.
    ///
    /// # Errors
    /// When the journal fails.
    pub async fn dead_letters(&self) -> Result<Vec<Value>, EngineError> {
        Ok(self
            .engine
            .peek_messages(DEAD_LETTER_QUEUE)
            .await?
            .into_iter()
            .map(|m| serde_json::from_str(&m.body).unwrap_or(Value::String(m.body)))
            .collect())
    }

    /// How many events wait on the ingest queue.
    ///
    /// # Errors
    /// When the journal fails.
    pub async fn queued(&self) -> Result<i64, EngineError> {
        self.engine.queue_length(INGEST_QUEUE).await
    }

    /// The dispatcher: runs until its task is aborted.
    pub async fn run(self: Arc<Self>) {
        loop {
            if let Err(e) = self.pass().await {
                tracing::warn!(error = %e, "ingest pass failed");
            }
            // Woken by a new event, a finished or parked turn, or the tick (backoffs, gaps).
            let _ = tokio::time::timeout(Duration::from_millis(250), self.wake.notified()).await;
        }
    }

    /// One pass over the queue, oldest first.
    async fn pass(self: &Arc<Self>) -> Result<(), EngineError> {
        let messages = self.engine.peek_messages(INGEST_QUEUE).await?;
        let mut held: HashSet<String> = HashSet::new();
        for message in messages {
            let event: HelpdeskEvent = match serde_json::from_str(&message.body) {
                Ok(e) => e,
                Err(e) => {
                    self.dead_letter(&message, None, format!("unreadable queued event: {e}"))
                        .await?;
                    continue;
                }
            };
            let conversation = event.conversation_id.clone();
            if held.contains(&conversation) || !self.ready(&conversation, &message.message_id) {
                held.insert(conversation);
                continue;
            }
            match self.start(&event).await {
                Ok(started) => {
                    self.engine
                        .delete_message(INGEST_QUEUE, &message.message_id)
                        .await?;
                    self.state().attempts.remove(&message.message_id);
                    if let Some(arn) = started {
                        held.insert(conversation.clone());
                        self.follow(conversation, arn);
                    }
                }
                Err(Failure::Permanent(reason)) => {
                    self.dead_letter(&message, Some(&event), reason).await?;
                }
                Err(Failure::Transient(reason)) => {
                    held.insert(conversation);
                    let attempts = self.failed(&message.message_id);
                    if attempts >= self.max_attempts {
                        let reason = format!("gave up after {attempts} attempts: {reason}");
                        self.dead_letter(&message, Some(&event), reason).await?;
                    } else {
                        tracing::warn!(event = %event.execution_name(), attempts, %reason, "start failed; will retry");
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether a conversation may start its next turn, and the message's backoff has passed.
    fn ready(&self, conversation: &str, message_id: &str) -> bool {
        let mut state = self.state();
        if let Some(b) = state.busy.get(conversation) {
            if b.since.elapsed() < TURN_GAP {
                return false;
            }
            state.busy.remove(conversation);
        }
        state
            .attempts
            .get(message_id)
            .is_none_or(|(_, next)| Instant::now() >= *next)
    }

    fn failed(&self, message_id: &str) -> u32 {
        let mut state = self.state();
        let entry = state
            .attempts
            .entry(message_id.to_owned())
            .or_insert((0, Instant::now()));
        entry.0 += 1;
        let backoff = Duration::from_millis(250u64.saturating_mul(1 << entry.0.min(8)));
        entry.1 = Instant::now() + backoff;
        entry.0
    }

    /// Marks the conversation busy until its turn finishes (or parks, or the gap passes).
    fn follow(self: &Arc<Self>, conversation: String, execution_arn: String) {
        self.state().busy.insert(
            conversation.clone(),
            Busy {
                execution_arn: execution_arn.clone(),
                since: Instant::now(),
            },
        );
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let _ = tokio::time::timeout(TURN_GAP, this.engine.wait_for_execution(&execution_arn))
                .await;
            let mut state = this.state();
            if state
                .busy
                .get(&conversation)
                .is_some_and(|b| b.execution_arn == execution_arn)
            {
                state.busy.remove(&conversation);
            }
            drop(state);
            this.wake.notify_one();
        });
    }

    /// Saves the event's message and starts its turn; the execution's ARN when one started.
    async fn start(&self, event: &HelpdeskEvent) -> Result<Option<String>, Failure> {
        let store = self.embedded.store.as_ref();
        let ports = &self.embedded.ports;
        let identity = IdentityCheck {
            back_office: ports.back_office.as_ref(),
            ttl_seconds: ports.policy.document_ttl_seconds,
        };
        let intake = intake::accept(
            event,
            store,
            Some(&ports.guardrails),
            Some(identity),
            now_ms(),
        )
        .await
        .map_err(|e| Failure::Transient(e.to_string()))?;
        let Intake::Turn(turn) = intake else {
            return Ok(None);
        };
        let input = serde_json::to_string(&turn)
            .map_err(|e| Failure::Permanent(format!("unserializable turn input: {e}")))?;
        let name = event.execution_name();
        let arn = match self
            .engine
            .start_execution(&self.state_machine_arn, Some(&name), Some(&input))
            .await
        {
            Ok(started) => started.execution_arn,
            // Started before (a redelivery after a crash): the start is acknowledged.
            Err(EngineError::ExecutionAlreadyExists(_)) => {
                return Ok(None);
            }
            Err(
                e @ (EngineError::InvalidExecutionInput(_)
                | EngineError::InvalidName(_)
                | EngineError::ValidationException(_)),
            ) => {
                return Err(Failure::Permanent(format!(
                    "the engine refused the start: {e}"
                )));
            }
            Err(e) => return Err(Failure::Transient(format!("start execution failed: {e}"))),
        };
        self.record_turn(event, &arn).await;
        tracing::info!(event = %name, execution = %arn, "turn started");
        Ok(Some(arn))
    }

    /// Adds the execution to its conversation's list of turns (the dispatcher is the only
    /// writer, so read-modify-write is safe).
    async fn record_turn(&self, event: &HelpdeskEvent, execution_arn: &str) {
        let store = &self.embedded.store;
        let key = turns_key(&event.conversation_id);
        let mut turns = match store.document(&key).await {
            Ok(Some(doc)) => doc
                .get("turns")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let message_id = match &event.kind {
            EventKind::Message { message_id, .. } => Some(message_id.clone()),
            _ => None,
        };
        turns.push(json!({
            "executionArn": execution_arn,
            "eventId": event.execution_name(),
            "messageId": message_id,
            "at": now_ms(),
        }));
        let doc = json!({ "conversationId": event.conversation_id, "turns": turns });
        if let Err(e) = store.put_document(&key, &doc, None).await {
            tracing::warn!(execution = %execution_arn, error = %e, "failed to record a turn");
        }
    }

    async fn dead_letter(
        &self,
        message: &QueueMessage,
        event: Option<&HelpdeskEvent>,
        reason: String,
    ) -> Result<(), EngineError> {
        tracing::warn!(message = %message.message_id, %reason, "dead-lettering an event");
        let body = json!({
            "reason": reason,
            "eventId": event.map(HelpdeskEvent::execution_name),
            "conversationId": event.map(|e| e.conversation_id.clone()),
            "event": serde_json::from_str::<Value>(&message.body).unwrap_or(Value::String(message.body.clone())),
            "at": now_ms(),
        });
        self.engine
            .send_message(DEAD_LETTER_QUEUE, &body.to_string())
            .await?;
        self.engine
            .delete_message(INGEST_QUEUE, &message.message_id)
            .await?;
        self.state().attempts.remove(&message.message_id);
        Ok(())
    }
}

enum Failure {
    /// Will never succeed: dead-letter now.
    Permanent(String),
    /// May succeed later: retry with backoff.
    Transient(String),
}

fn validate(event: &HelpdeskEvent) -> Result<(), IngestError> {
    if let EventKind::Message { text, .. } = &event.kind
        && text.len() > MAX_TEXT_BYTES
    {
        return Err(IngestError::Invalid(format!(
            "text: {} bytes, over the limit of {MAX_TEXT_BYTES}",
            text.len()
        )));
    }
    if event.conversation_id.len() > 256 {
        return Err(IngestError::Invalid(
            "conversationId: longer than 256 characters".into(),
        ));
    }
    Ok(())
}

fn dedup_key(execution_name: &str) -> String {
    format!("ingest/{execution_name}")
}

fn turns_key(conversation_id: &str) -> String {
    format!("{conversation_id}/turns/all")
}

/// The time now, in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    use turnflow_activities::handlers::Clock as _;
    turnflow_activities::handlers::SystemClock.now_ms()
}
