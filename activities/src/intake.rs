//! Intake: what every ingest path (SQS on AWS, `POST /events` on one machine) does with a
//! helpdesk event before a turn starts — the customer's message saved to the conversation
//! (redacted first), the conversation linked to its customer, and the turn's input built.
//!
//! Everything here is idempotent: a redelivered event overwrites the same message and document
//! ids and yields the same turn input, so the same-named `StartExecution` that follows finds the
//! execution it started before.

use std::sync::Arc;

use crate::event::{EventKind, HelpdeskEvent};
use crate::handlers::act::identify;
use crate::handlers::doc_id;
use crate::payload::TurnState;
use crate::ports::{Author, BackOffice, ConversationStore, Guardrails, Message, PortError};

/// What an event asks of ingest.
#[derive(Debug, Clone, PartialEq)]
pub enum Intake {
    /// A customer's message: start a turn with this input.
    Turn(Box<TurnState>),
    /// An event that starts no turn (a rating, a closed ticket); it was recorded.
    Recorded,
}

/// The turn input of a message event: ids only (the text is in the store).
pub fn turn_input(event: &HelpdeskEvent, message_id: &str) -> TurnState {
    TurnState {
        conversation_id: event.conversation_id.clone(),
        message_id: message_id.to_owned(),
        customer_id: event.customer_id.clone(),
        event_id: Some(event.execution_name()),
        ..TurnState::default()
    }
}

/// Where intake verifies a customer's identity before the message is redacted.
#[derive(Clone, Copy)]
pub struct IdentityCheck<'a> {
    /// The back office to look the customer up in.
    pub back_office: &'a dyn BackOffice,
    /// How long the verification holds for the conversation.
    pub ttl_seconds: u64,
}

impl std::fmt::Debug for IdentityCheck<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityCheck")
            .field("ttl_seconds", &self.ttl_seconds)
            .finish_non_exhaustive()
    }
}

/// Saves what `event` carries into `store` (a message is redacted by `guardrails` when given)
/// and says what to do next. `now_ms` stamps the message.
///
/// The text is redacted before it is stored, so the e-mail a customer proves who they are with
/// would be gone by the time the turn's Act step reads it: with `identity`, intake looks the
/// customer up first and records only the verified customer's id for the conversation (the
/// document Act reads).
///
/// # Errors
/// When the store, the back office or the guardrails fail (transient: try again later).
pub async fn accept(
    event: &HelpdeskEvent,
    store: &dyn ConversationStore,
    guardrails: Option<&Arc<dyn Guardrails>>,
    identity: Option<IdentityCheck<'_>>,
    now_ms: i64,
) -> Result<Intake, PortError> {
    match &event.kind {
        EventKind::Message { message_id, text } => {
            if let Some(check) = identity {
                let (customer, _) = identify(text, event.customer_id.as_deref(), check.back_office)
                    .await
                    .map_err(|e| PortError::Unavailable {
                        port: crate::ports::Port::BackOffice,
                        message: e.cause,
                    })?;
                if let Some(c) = customer {
                    store
                        .put_document(
                            &doc_id(&event.conversation_id, "identity", "verified"),
                            &serde_json::json!({ "customerId": c.id }),
                            Some(check.ttl_seconds),
                        )
                        .await?;
                }
            }
            let text = match guardrails {
                Some(g) => g.check(text).await?.redacted,
                None => text.clone(),
            };
            if let Some(customer) = &event.customer_id {
                // The owner of the conversation, so a GDPR request finds it.
                let owner = serde_json::json!({
                    "conversationId": event.conversation_id,
                    "customerId": customer,
                });
                store
                    .put_document(
                        &format!("conversation/{}", event.conversation_id),
                        &owner,
                        None,
                    )
                    .await?;
            }
            store
                .append_message(&Message {
                    id: message_id.clone(),
                    conversation_id: event.conversation_id.clone(),
                    author: Author::Customer,
                    text,
                    at: now_ms,
                })
                .await?;
            Ok(Intake::Turn(Box::new(turn_input(event, message_id))))
        }
        EventKind::CsatRating { .. } | EventKind::Closed => {
            let doc = serde_json::to_value(event).map_err(|e| PortError::Unavailable {
                port: crate::ports::Port::Store,
                message: format!("unserializable event: {e}"),
            })?;
            store
                .put_document(&format!("event/{}", event.execution_name()), &doc, None)
                .await?;
            Ok(Intake::Recorded)
        }
    }
}
