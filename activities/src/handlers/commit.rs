//! Commit: the proposed write, at most once per idempotency key.

use serde_json::json;
use turnflow_workflows::errors::ErrorName;
use turnflow_workflows::turn::ApprovalDecision;

use super::{Ports, StepError, StepResult, facts};
use crate::payload::{CommitFacts, StepInput};
use crate::ports::Write;

/// `commit`: performs the proposal with its idempotency key; a replay (retry, redrive) returns
/// the recorded result and does nothing again. Refuses when the identity is not verified or a
/// human rejected the proposal.
pub async fn commit(input: &StepInput, ports: &Ports) -> StepResult {
    let turn = &input.turn;
    let action = turn
        .action
        .as_ref()
        .ok_or_else(|| StepError::missing("turn.action"))?;
    let proposal = action
        .proposal
        .as_ref()
        .ok_or_else(|| StepError::missing("turn.action.proposal"))?;
    if proposal.idempotency_key.is_empty() {
        return Err(StepError::missing("turn.action.proposal.idempotencyKey"));
    }
    if let Some(approval) = &turn.approval
        && approval.decision != ApprovalDecision::Approve
    {
        return Err(StepError::invalid(
            "turn.approval.decision",
            format!("commit runs on approve, not {}", approval.decision.as_str()),
        ));
    }
    if !action.identity_verified {
        return Err(StepError {
            error: ErrorName::IdentityNotVerified,
            cause: "the customer's identity is not verified".into(),
        });
    }
    let result = ports
        .back_office
        .write(&Write {
            kind: proposal.kind,
            order_id: proposal.order_id.clone(),
            item_ids: proposal.item_ids.clone(),
            amount: proposal.amount,
            details: json!({}),
            idempotency_key: proposal.idempotency_key.clone(),
        })
        .await?;
    facts(&CommitFacts {
        operation_id: result.operation_id,
        replayed: result.replayed,
    })
}
