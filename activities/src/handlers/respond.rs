//! Respond: the reply saved to the conversation (redacted) and delivered through the outbox.

use serde_json::json;
use turnflow_workflows::lifecycle::LifecycleEvent;
use turnflow_workflows::turn::{ApprovalDecision, TriageRoute, VerifyOutcome};

use super::verify::purpose;
use super::{
    Ports, StepError, StepResult, advance, customer_message, doc_id, facts, language_of, redact,
};
use crate::payload::{ReplyFacts, StepInput};
use crate::ports::{Author, Delivery, DraftRequest, Message, ModelRoute};

/// `respond`: chooses the reply (a refusal for a blocked message; after a human's decision the
/// approved, rejected or edited text; else Verify's draft), saves it redacted, queues its
/// delivery (ids derived from the idempotency key, so a retry sends nothing twice) and marks the
/// conversation as answered.
pub async fn respond(input: &StepInput, ports: &Ports) -> StepResult {
    let turn = &input.turn;
    let triage = turn
        .triage
        .as_ref()
        .ok_or_else(|| StepError::missing("turn.triage"))?;
    let language = language_of(turn);
    let draft = |purpose: &str, facts: serde_json::Value| DraftRequest {
        customer_id: turn.customer_id.clone(),
        route: ModelRoute::Fast,
        language: language.clone(),
        intent: triage.intent.clone(),
        text: String::new(),
        passages: Vec::new(),
        facts,
        purpose: purpose.to_owned(),
    };
    let mut events = Vec::new();
    let text = if triage.route == TriageRoute::Refuse {
        let message = customer_message(turn, ports).await?;
        let mut request = draft(purpose::REFUSAL, json!({ "reasons": triage.reasons }));
        request.text = redact(&message.text, ports).await?;
        ports.model.draft(&request).await?.text
    } else if let Some(approval) = &turn.approval {
        events.push(LifecycleEvent::ApprovalDecided);
        let proposal = turn.action.as_ref().and_then(|a| a.proposal.clone());
        match approval.decision {
            ApprovalDecision::Approve => {
                let commit = turn
                    .commit
                    .as_ref()
                    .ok_or_else(|| StepError::missing("turn.commit"))?;
                let facts = json!({ "proposal": proposal, "operationId": commit.operation_id });
                ports
                    .model
                    .draft(&draft(purpose::APPROVED, facts))
                    .await?
                    .text
            }
            ApprovalDecision::Reject => {
                let facts = json!({ "proposal": proposal });
                ports
                    .model
                    .draft(&draft(purpose::REJECTED, facts))
                    .await?
                    .text
            }
            ApprovalDecision::Edit => {
                let id = approval
                    .reply_id
                    .as_ref()
                    .ok_or_else(|| StepError::missing("turn.approval.replyId"))?;
                document_text(ports, id, "turn.approval.replyId").await?
            }
        }
    } else {
        let verdict = turn
            .verdict
            .as_ref()
            .ok_or_else(|| StepError::missing("turn.verdict"))?;
        if !matches!(
            verdict.outcome,
            VerifyOutcome::Respond | VerifyOutcome::Commit
        ) {
            return Err(StepError::invalid(
                "turn.verdict.outcome",
                format!("respond does not send a {} draft", verdict.outcome.as_str()),
            ));
        }
        if verdict.outcome == VerifyOutcome::Commit && turn.commit.is_none() {
            return Err(StepError::missing("turn.commit"));
        }
        document_text(ports, &verdict.draft_id, "turn.verdict.draftId").await?
    };
    events.push(LifecycleEvent::BotReplied);

    let text = redact(&text, ports).await?;
    let reply = Message {
        id: doc_id(&turn.conversation_id, "reply", &turn.message_id),
        conversation_id: turn.conversation_id.clone(),
        author: Author::Bot,
        text,
        at: ports.clock.now_ms(),
    };
    ports.store.append_message(&reply).await?;
    let delivery = Delivery {
        id: format!("{}/delivery", input.idempotency_key),
        conversation_id: turn.conversation_id.clone(),
        message_id: reply.id.clone(),
    };
    ports.outbox.enqueue(&delivery).await?;
    advance(input, ports, &events).await?;
    facts(&ReplyFacts {
        message_id: reply.id,
        delivery_id: delivery.id,
    })
}

/// The `text` of a stored document.
pub(crate) async fn document_text(
    ports: &Ports,
    id: &str,
    field: &str,
) -> Result<String, StepError> {
    let doc = ports
        .store
        .document(id)
        .await?
        .ok_or_else(|| StepError::invalid(field, format!("no document {id:?} in the store")))?;
    doc.get("text")
        .and_then(|t| t.as_str())
        .map(str::to_owned)
        .ok_or_else(|| StepError::invalid(field, format!("document {id:?} has no text")))
}
