//! Escalate: the handoff package for a human agent, and a short acknowledgement to the customer.
//!
//! Escalate is the last resort (every Catch leads here), so it asks for as little as it can:
//! only the turn's ids. A port failure that retrying may cure keeps its transient name; any
//! other becomes `Turnflow.EscalationFailed`.

use serde_json::{Value, json};
use turnflow_workflows::errors::ErrorName;
use turnflow_workflows::lifecycle::LifecycleEvent;
use turnflow_workflows::turn::{TriageRoute, VerifyOutcome};

use super::respond::document_text;
use super::verify::purpose;
use super::{Ports, StepError, StepResult, advance, doc_id, facts, language_of, redact};
use crate::payload::{HandoffFacts, StepInput, TurnState};
use crate::ports::{Author, Delivery, DraftRequest, Message, ModelRoute};

/// How many messages of the transcript the package holds.
const TRANSCRIPT: usize = 50;

/// Why the turn goes to a human: the failure, else Verify's reason, else Triage's.
pub fn reason(turn: &TurnState) -> String {
    if let Some(f) = &turn.failure {
        return format!("failure:{}", f.error);
    }
    if let Some(v) = &turn.verdict {
        if v.outcome == VerifyOutcome::Escalate {
            return v.reason.clone();
        }
        if v.outcome == VerifyOutcome::NeedsApproval && turn.approval.is_none() {
            return format!("approval_not_given:{}", v.reason);
        }
    }
    if let Some(t) = &turn.triage
        && t.route == TriageRoute::Escalate
        && !t.reasons.is_empty()
    {
        return t.reasons.join(",");
    }
    "unspecified".to_owned()
}

/// The sentiment trend of a series (oldest first): `falling`, `rising`, `steady` or `unknown`.
pub fn trend(series: &[f64]) -> &'static str {
    match (series.first(), series.last()) {
        (Some(a), Some(b)) if series.len() >= 2 => {
            if b - a <= -0.2 {
                "falling"
            } else if b - a >= 0.2 {
                "rising"
            } else {
                "steady"
            }
        }
        _ => "unknown",
    }
}

fn last_resort(e: StepError) -> StepError {
    if e.error.is_transient() {
        e
    } else {
        StepError {
            error: ErrorName::EscalationFailed,
            cause: format!("escalation: {}", e.cause),
        }
    }
}

/// `escalate`: see the module documentation.
pub async fn escalate(input: &StepInput, ports: &Ports) -> StepResult {
    escalate_inner(input, ports).await.map_err(last_resort)
}

async fn escalate_inner(input: &StepInput, ports: &Ports) -> StepResult {
    let turn = &input.turn;
    let reason = reason(turn);
    let language = language_of(turn);

    let mut transcript = Vec::new();
    let mut sentiments: Vec<Value> = Vec::new();
    let mut series = Vec::new();
    for m in ports
        .store
        .transcript(&turn.conversation_id, TRANSCRIPT)
        .await?
    {
        let who = match m.author {
            Author::Customer => "customer",
            Author::Bot => "bot",
            Author::Agent => "agent",
        };
        transcript.push(json!({
            "id": m.id, "author": who, "at": m.at, "text": redact(&m.text, ports).await?,
        }));
        if m.author == Author::Customer
            && let Some(doc) = ports
                .store
                .document(&doc_id(&turn.conversation_id, "triage", &m.id))
                .await?
            && let Some(s) = doc.get("sentiment").and_then(Value::as_f64)
        {
            series.push(s);
            sentiments.push(json!({ "messageId": m.id, "sentiment": s }));
        }
    }
    let suggested = match &turn.verdict {
        Some(v) => document_text(ports, &v.draft_id, "turn.verdict.draftId")
            .await
            .unwrap_or_default(),
        None => String::new(),
    };
    let triage = turn.triage.as_ref();
    let action = turn.action.as_ref();
    let order = action.and_then(|a| a.order.as_ref());
    let summary = format!(
        "{} customer, intent {} (confidence {:.2}); {}; identity {}; escalated because {}.",
        language,
        triage.map_or("unknown", |t| t.intent.as_str()),
        triage.map_or(0.0, |t| t.confidence),
        order.map_or_else(
            || "no order identified".to_owned(),
            |o| format!("order {} is {} ({:.2})", o.id, o.status, o.total)
        ),
        if action.is_some_and(|a| a.identity_verified) {
            "verified"
        } else {
            "not verified"
        },
        reason,
    );
    let package = json!({
        "v": 1,
        "conversationId": turn.conversation_id,
        "messageId": turn.message_id,
        "customerId": turn.customer_id,
        "summary": summary,
        "suggestedReply": suggested,
        "sources": turn.retrieval.as_ref().map(|r| r.passages.iter().map(|p| p.id.clone()).collect::<Vec<_>>()).unwrap_or_default(),
        "order": order,
        "proposal": action.and_then(|a| a.proposal.as_ref()),
        "reason": reason,
        "failure": turn.failure,
        "sentiment": { "trend": trend(&series), "series": sentiments },
        "transcript": transcript,
    });
    let handoff_id = doc_id(&turn.conversation_id, "handoff", &turn.message_id);
    ports
        .store
        .put_document(
            &handoff_id,
            &package,
            Some(ports.policy.document_ttl_seconds),
        )
        .await?;

    let ack = ports
        .model
        .draft(&DraftRequest {
            customer_id: turn.customer_id.clone(),
            route: ModelRoute::Fast,
            language,
            intent: triage.map_or_else(String::new, |t| t.intent.clone()),
            text: String::new(),
            passages: Vec::new(),
            facts: json!({ "reason": reason }),
            purpose: purpose::HANDOFF.to_owned(),
        })
        .await?;
    let reply = Message {
        id: doc_id(&turn.conversation_id, "reply", &turn.message_id),
        conversation_id: turn.conversation_id.clone(),
        author: Author::Bot,
        text: redact(&ack.text, ports).await?,
        at: ports.clock.now_ms(),
    };
    ports.store.append_message(&reply).await?;
    ports
        .outbox
        .enqueue(&Delivery {
            id: format!("{}/delivery", input.idempotency_key),
            conversation_id: turn.conversation_id.clone(),
            message_id: reply.id,
        })
        .await?;
    advance(input, ports, &[LifecycleEvent::Escalated]).await?;
    facts(&HandoffFacts { handoff_id, reason })
}
