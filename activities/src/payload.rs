//! The wire format between the turn's states: what each activity receives and returns.
//!
//! A step receives [`StepInput`] (built by the definition's `Parameters`) and returns its own
//! facts, which the definition stores under the step's field of [`TurnState`] (`ResultPath`).
//! Everything here is small: ids and facts. Texts (messages, passages, drafts, handoff
//! packages) stay in the conversation store and travel by id. Every type carries or sits under a
//! schema version (`v`); readers accept older versions and refuse newer ones with a clear error.
//!
//! No field may hold personal data in clear: customer texts are referenced by id, and free-text
//! facts (reasons) are written by the project, not copied from the customer.

use serde::{Deserialize, Serialize};
use turnflow_workflows::turn::{ApprovalDecision, TriageRoute, VerifyOutcome};

/// The payload version this build writes (the definition's `v`).
pub const PAYLOAD_VERSION: u32 = turnflow_workflows::turn::PAYLOAD_VERSION as u32;

/// What an activity receives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepInput {
    /// Payload version.
    pub v: u32,
    /// The activity name (`triage`, …).
    pub step: String,
    /// `{execution name}/{state name}`: the same for every attempt and every redrive of this step.
    pub idempotency_key: String,
    /// The retry count of this attempt (0 for the first).
    #[serde(default)]
    pub attempt: u32,
    /// The turn so far.
    pub turn: TurnState,
}

/// The turn's state as it flows between states: its ids, then each step's facts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnState {
    /// The conversation the message belongs to.
    pub conversation_id: String,
    /// The customer message this turn answers (its text is in the conversation store).
    pub message_id: String,
    /// The customer, when the helpdesk knows them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The helpdesk event that started the turn (the execution's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Triage's facts (`$.triage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage: Option<TriageFacts>,
    /// Retrieve's facts (`$.retrieval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrieval: Option<RetrievalFacts>,
    /// Act's facts (`$.action`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ActionFacts>,
    /// Verify's facts (`$.verdict`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<VerdictFacts>,
    /// The human's decision (`$.approval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalFacts>,
    /// Commit's facts (`$.commit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitFacts>,
    /// Respond's facts (`$.reply`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<ReplyFacts>,
    /// Escalate's facts (`$.handoff`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<HandoffFacts>,
    /// The error of the step that failed, as Step Functions' `Catch` writes it (`$.failure`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureFacts>,
}

/// Triage's facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriageFacts {
    /// Where the turn goes next.
    pub route: TriageRoute,
    /// The message's language (`en`, `es`, `zh`, `fr`, `de`).
    pub language: String,
    /// The intent (see the brain's intent list).
    pub intent: String,
    /// Calibrated confidence in the intent, 0 to 1.
    pub confidence: f64,
    /// Sentiment, -1 (very negative) to 1.
    pub sentiment: f64,
    /// Why a human is needed or the message is refused (project-written reason codes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// Order ids found in the message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_ids: Vec<String>,
    /// Amounts found in the message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amounts: Vec<f64>,
    /// The model call's usage, when a metered model was called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

/// A passage retrieved for the turn, by reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PassageRef {
    /// The passage id (`docid#n`), what the reply cites.
    pub id: String,
    /// The retrieval score.
    pub score: f64,
}

/// Retrieve's facts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetrievalFacts {
    /// The best passages, best first.
    pub passages: Vec<PassageRef>,
    /// Memory items about the customer that were used, by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub memory_ids: Vec<String>,
}

/// The kinds of write a turn may propose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalKind {
    /// Cancel a pending order.
    Cancel,
    /// Change a pending order's shipping address.
    ChangeAddress,
    /// Change a pending order's items (another size, colour, model).
    ModifyItems,
    /// Return delivered items.
    Return,
    /// Exchange delivered items.
    Exchange,
    /// Refund an amount.
    Refund,
}

/// A write proposed by Act, performed by Commit once allowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Proposal {
    /// What to do.
    pub kind: ProposalKind,
    /// The order it applies to.
    pub order_id: String,
    /// The items it applies to (return, exchange).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub item_ids: Vec<String>,
    /// The amount at stake (refund, return).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    /// The key that makes the write happen at most once (derived from execution and step).
    pub idempotency_key: String,
}

/// A few facts about an order, enough to decide and to answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFacts {
    /// The order id.
    pub id: String,
    /// Its status (`pending`, `processed`, `delivered`, `cancelled`, …).
    pub status: String,
    /// Its total.
    pub total: f64,
}

/// Act's facts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionFacts {
    /// The back-office tools called, in order (reads, and the write proposed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<String>,
    /// Whether the customer's identity is verified for this conversation.
    #[serde(default)]
    pub identity_verified: bool,
    /// The back office's id of the customer identified, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// Whether that customer is on the premium plan (policy treats them apart).
    #[serde(default)]
    pub premium: bool,
    /// The order the turn is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderFacts>,
    /// The write proposed, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposal: Option<Proposal>,
}

/// Verify's facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictFacts {
    /// Where the turn goes next.
    pub outcome: VerifyOutcome,
    /// Why (a project-written reason code such as `refund_above_limit`).
    pub reason: String,
    /// The drafted reply, in the conversation store.
    pub draft_id: String,
    /// The passages the draft cites.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub citations: Vec<String>,
    /// The model call's usage, when a metered model was called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

/// The answer to a task token parked on approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalFacts {
    /// What the human decided.
    pub decision: ApprovalDecision,
    /// The short approval id the human acted on.
    pub approval_id: String,
    /// Who decided.
    pub approver: String,
    /// The agent's edited reply, in the conversation store (decision `edit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_id: Option<String>,
}

/// Commit's facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitFacts {
    /// The back office's id for the operation performed.
    pub operation_id: String,
    /// Whether the write was performed now or found already done under its key.
    pub replayed: bool,
}

/// Respond's facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyFacts {
    /// The reply saved to the conversation.
    pub message_id: String,
    /// The outbox delivery that sends it to the helpdesk.
    pub delivery_id: String,
}

/// Escalate's facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HandoffFacts {
    /// The handoff package, in the conversation store.
    pub handoff_id: String,
    /// Why the turn went to a human.
    pub reason: String,
}

/// A failed step's error, as `Catch` with `ResultPath: $.failure` writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureFacts {
    /// The error name.
    #[serde(rename = "Error")]
    pub error: String,
    /// The cause.
    #[serde(rename = "Cause", default)]
    pub cause: String,
}

/// Tokens used by one model call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// The model that answered.
    pub model_id: String,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_input_reads_what_the_definition_sends() {
        let json = serde_json::json!({
            "v": 1, "step": "verify", "idempotencyKey": "evt-1/Verify", "attempt": 0,
            "turn": {
                "conversationId": "c1", "messageId": "m1",
                "triage": {"route": "answer", "language": "es", "intent": "refund_request",
                           "confidence": 0.91, "sentiment": -0.2, "orderIds": ["W1001"]},
                "failure": {"Error": "Turnflow.BackendUnavailable", "Cause": "timeout"}
            }
        });
        let input: StepInput = serde_json::from_value(json.clone()).expect("reads");
        let triage = input.turn.triage.as_ref().expect("triage");
        assert_eq!(triage.route, TriageRoute::Answer);
        assert_eq!(
            input.turn.failure.as_ref().map(|f| f.error.as_str()),
            Some("Turnflow.BackendUnavailable")
        );
        assert_eq!(serde_json::to_value(&input).expect("writes"), json);
    }

    #[test]
    fn an_unknown_route_is_refused_with_the_known_ones() {
        let err = serde_json::from_value::<TriageFacts>(serde_json::json!({
            "route": "maybe", "language": "en", "intent": "x", "confidence": 1.0, "sentiment": 0.0
        }))
        .expect_err("unknown route");
        assert!(
            err.to_string()
                .contains("expected one of answer, refuse, escalate"),
            "{err}"
        );
    }
}
