//! Approvals, for every desk: the request the turn's `AwaitApproval` state puts on the
//! approval queue becomes a pending [`Approval`] under a short id; a human's decision becomes
//! the `$.approval` facts the turn resumes with.
//!
//! The desks differ only in their queue and their Step Functions (SQS and AWS in
//! [`crate::aws::approval`], the embedded queue and engine in turnflow's `serve`); what an
//! approval is, and how a decision is recorded, is here once.

use serde::Deserialize;
use serde_json::{Value, json};
use turnflow_workflows::turn::ApprovalDecision;

use crate::payload::ApprovalFacts;
use crate::ports::{Approval, ConversationStore, PortError};

/// An approval request as the turn definition sends it (`AwaitApproval`'s `MessageBody`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRequest {
    /// The token that resumes the turn.
    pub task_token: String,
    /// The conversation.
    pub conversation_id: String,
    /// The customer.
    #[serde(default)]
    pub customer_id: Option<String>,
    /// The proposed write.
    #[serde(default)]
    pub proposal: Value,
    /// Why it needs a human.
    #[serde(default)]
    pub reason: Option<String>,
    /// The execution that waits.
    #[serde(default)]
    pub execution_id: Option<String>,
    /// The customer's message.
    #[serde(default)]
    pub message_id: Option<String>,
    /// Act's facts (`$.action`: the verified customer and the proposal), as the turn sends
    /// them since it stopped sending `customerId` and `proposal` on their own.
    #[serde(default)]
    pub action: Option<Value>,
}

impl ApprovalRequest {
    /// Reads a request from a queue message's body.
    ///
    /// # Errors
    /// When the body is not a request (the field is named).
    pub fn parse(body: &str) -> Result<ApprovalRequest, serde_json::Error> {
        serde_json::from_str(body)
    }
}

/// The short id of the approval a task token belongs to (agents never see the token).
pub fn approval_id(task_token: &str) -> String {
    let h = task_token.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("ap-{h:016x}")
}

/// Records `request` as a pending approval, unless its approval exists already (a redelivered
/// request is the same approval, and must not reopen one that was decided). Returns the id.
///
/// # Errors
/// When the store fails.
pub async fn record_request(
    store: &dyn ConversationStore,
    request: ApprovalRequest,
    now_ms: i64,
) -> Result<String, PortError> {
    let id = approval_id(&request.task_token);
    if store.approval(&id).await?.is_some() {
        return Ok(id);
    }
    let action = request.action.as_ref();
    store
        .put_approval(&Approval {
            approval_id: id.clone(),
            task_token: request.task_token,
            conversation_id: request.conversation_id,
            customer_id: request.customer_id.or_else(|| {
                action
                    .and_then(|a| a.get("customerId"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            }),
            proposal: if request.proposal.is_null() {
                action
                    .and_then(|a| a.get("proposal"))
                    .cloned()
                    .unwrap_or(Value::Null)
            } else {
                request.proposal
            },
            status: "pending".into(),
            approver: None,
            audit: vec![json!({
                "at": now_ms,
                "what": "requested",
                "who": "turnflow",
                "reason": request.reason,
                "executionId": request.execution_id,
                "messageId": request.message_id,
            })],
        })
        .await?;
    Ok(id)
}

/// The status an approval takes on a decision.
pub fn status_of(decision: ApprovalDecision) -> &'static str {
    match decision {
        ApprovalDecision::Approve => "approved",
        ApprovalDecision::Edit => "edited",
        ApprovalDecision::Reject => "rejected",
    }
}

/// Records a decision on a pending approval (a conditional write: a decided approval takes no
/// other) and returns the approval, whose token resumes the turn, with the facts to resume it
/// with.
///
/// # Errors
/// When there is no such approval, it is decided already, or the store fails.
pub async fn decide(
    store: &dyn ConversationStore,
    approval_id: &str,
    decision: ApprovalDecision,
    approver: &str,
    reply_id: Option<String>,
) -> Result<(Approval, ApprovalFacts), PortError> {
    let approval = store
        .decide(approval_id, status_of(decision), approver)
        .await?;
    let facts = ApprovalFacts {
        decision,
        approval_id: approval_id.to_owned(),
        approver: approver.to_owned(),
        reply_id,
    };
    Ok((approval, facts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_the_field_it_lacks() {
        let err = ApprovalRequest::parse(r#"{"conversationId": "c"}"#).expect_err("no token");
        assert!(err.to_string().contains("taskToken"), "{err}");
        let ok = ApprovalRequest::parse(
            r#"{"v": 1, "taskToken": "t", "conversationId": "c", "proposal": {"kind": "refund"}}"#,
        )
        .expect("a request");
        assert_eq!(ok.proposal["kind"], "refund");
    }

    #[test]
    fn a_request_of_the_current_turn_carries_customer_and_proposal_in_its_action() {
        let r = ApprovalRequest::parse(
            r#"{"v": 1, "taskToken": "t", "conversationId": "c",
                "action": {"customerId": "C0001", "proposal": {"kind": "refund", "amount": 900}}}"#,
        )
        .expect("a request");
        let store = crate::embedded::SqliteStore::in_memory(std::sync::Arc::new(
            crate::handlers::FixedClock::at(0),
        ))
        .expect("a store");
        let id = crate::embedded::block_on(record_request(&store, r, 0)).expect("recorded");
        let a = crate::embedded::block_on(store.approval(&id))
            .expect("read")
            .expect("there");
        assert_eq!(a.customer_id.as_deref(), Some("C0001"));
        assert_eq!(a.proposal["amount"], 900);
        assert_eq!(a.status, "pending");
    }

    #[test]
    fn ids_are_short_stable_and_differ_by_token() {
        assert_eq!(approval_id("abc"), approval_id("abc"));
        assert_ne!(approval_id("abc"), approval_id("abd"));
        assert_eq!(approval_id("abc").len(), 19);
    }
}
