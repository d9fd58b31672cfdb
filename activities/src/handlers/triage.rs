//! Triage: guardrails on the message, the model's triage, the route, the lifecycle.

use serde_json::json;
use turnflow_workflows::lifecycle::{Lifecycle, LifecycleEvent};
use turnflow_workflows::turn::TriageRoute;

use super::{Ports, StepResult, advance, customer_message, doc_id, facts, redact};
use crate::payload::{StepInput, TriageFacts};
use crate::ports::{Author, TriageRequest};

/// How many earlier messages the model sees.
const HISTORY: usize = 6;

/// `triage`: redacts the message, asks the model, and routes: refuse when blocked (firewall or a
/// denied topic), escalate when a human is needed (the model's signals, low confidence, very
/// negative sentiment, too many unresolved turns), else answer.
pub async fn triage(input: &StepInput, ports: &Ports) -> StepResult {
    let turn = &input.turn;
    let message = customer_message(turn, ports).await?;
    let verdict = ports.guardrails.check(&message.text).await?;
    let mut history = Vec::new();
    for m in ports
        .store
        .transcript(&turn.conversation_id, HISTORY + 1)
        .await?
    {
        if m.id != message.id {
            let prefix = match m.author {
                Author::Customer => "customer",
                Author::Bot => "bot",
                Author::Agent => "agent",
            };
            history.push(format!("{prefix}: {}", redact(&m.text, ports).await?));
        }
    }
    let result = ports
        .model
        .triage(&TriageRequest {
            customer_id: turn.customer_id.clone(),
            text: verdict.redacted.clone(),
            history,
        })
        .await?;

    let policy = &ports.policy;
    let unresolved = match ports.store.lifecycle(&turn.conversation_id).await? {
        Some(s) => Lifecycle::from_snapshot(s).unresolved_turns(),
        None => 0,
    };
    let (route, reasons) = if let Some(topic) = &verdict.denied_topic {
        (TriageRoute::Refuse, vec![format!("denied_topic:{topic}")])
    } else if let Some(block) = &result.blocked {
        (TriageRoute::Refuse, vec![block.clone()])
    } else {
        let mut reasons = result.escalate.clone();
        let mut add = |r: &str| {
            if !reasons.iter().any(|x| x == r) {
                reasons.push(r.to_owned());
            }
        };
        if result.confidence < policy.min_confidence {
            add("low_confidence");
        }
        if result.sentiment <= policy.very_negative_sentiment {
            add("very_negative");
        }
        // This message is one more unresolved turn.
        if unresolved + 1 > policy.max_unresolved_turns {
            add("too_many_turns");
        }
        if reasons.is_empty() {
            (TriageRoute::Answer, reasons)
        } else {
            (TriageRoute::Escalate, reasons)
        }
    };

    // The per-message facts the handoff's sentiment trend reads (no customer text).
    ports
        .store
        .put_document(
            &doc_id(&turn.conversation_id, "triage", &turn.message_id),
            &json!({
                "messageId": turn.message_id, "at": message.at, "language": result.language,
                "intent": result.intent, "sentiment": result.sentiment,
            }),
            Some(policy.document_ttl_seconds),
        )
        .await?;
    if let Some(customer) = &turn.customer_id {
        ports
            .store
            .remember(
                customer,
                "language",
                &json!(result.language),
                policy.memory_ttl_seconds,
            )
            .await?;
    }
    let mut events = vec![LifecycleEvent::CustomerMessage];
    if route == TriageRoute::Escalate {
        events.push(LifecycleEvent::Escalated);
    }
    advance(input, ports, &events).await?;

    facts(&TriageFacts {
        route,
        language: result.language,
        intent: result.intent,
        confidence: result.confidence,
        sentiment: result.sentiment,
        reasons,
        order_ids: result.order_ids,
        amounts: result.amounts,
        usage: result.usage,
    })
}
