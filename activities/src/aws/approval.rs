//! The approval desk on AWS: task tokens parked by `sqs:sendMessage.waitForTaskToken` become
//! approvals in the store under a short id, and an agent's decision resumes the turn.
//!
//! The turn's `AwaitApproval` state puts `{v, taskToken, executionId, conversationId, messageId,
//! customerId, proposal, reason}` on the approval queue. [`ApprovalDesk::collect`] records each
//! as a pending [`Approval`](crate::ports::Approval) (its id derived from the token, so a redelivered request is the same
//! approval) and deletes the message. [`ApprovalDesk::decide`] records the decision by a
//! conditional write — only a pending approval accepts one, so two agents cannot both decide —
//! and then sends `SendTaskSuccess` with the turn's `$.approval` facts.

use std::sync::Arc;

use aws_sdk_sfn::error::ProvideErrorMetadata as _;
use turnflow_workflows::turn::ApprovalDecision;

use crate::approvals::{self, ApprovalRequest};
use crate::payload::ApprovalFacts;
use crate::ports::{ConversationStore, PortError};

/// The desk's failures.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// SQS or Step Functions failed.
    #[error("{operation} failed: {message}")]
    Aws {
        /// Which call.
        operation: &'static str,
        /// What it said.
        message: String,
    },
    /// The store failed or refused (e.g. the approval was already decided).
    #[error(transparent)]
    Store(#[from] PortError),
    /// No approval has this id.
    #[error("no approval {0}")]
    NotFound(String),
}

/// Collects approval requests and resumes turns with decisions.
#[derive(Clone)]
pub struct ApprovalDesk {
    sqs: aws_sdk_sqs::Client,
    sfn: aws_sdk_sfn::Client,
    store: Arc<dyn ConversationStore>,
}

impl std::fmt::Debug for ApprovalDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApprovalDesk").finish_non_exhaustive()
    }
}

pub use crate::approvals::approval_id;

impl ApprovalDesk {
    /// A desk over these clients and store.
    pub fn new(
        sqs: aws_sdk_sqs::Client,
        sfn: aws_sdk_sfn::Client,
        store: Arc<dyn ConversationStore>,
    ) -> ApprovalDesk {
        ApprovalDesk { sqs, sfn, store }
    }

    /// Receives one batch from the approval queue (waiting up to `wait_seconds`), records each
    /// request as a pending approval and deletes it; returns the approval ids. A request that
    /// cannot be read is left for the queue's dead-letter policy.
    pub async fn collect(
        &self,
        queue_url: &str,
        wait_seconds: i32,
    ) -> Result<Vec<String>, ApprovalError> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_seconds)
            .send()
            .await
            .map_err(|e| ApprovalError::Aws {
                operation: "ReceiveMessage",
                message: format!(
                    "{}",
                    aws_smithy_types::error::display::DisplayErrorContext(e)
                ),
            })?;
        let mut ids = Vec::new();
        for m in out.messages.unwrap_or_default() {
            let request = match ApprovalRequest::parse(m.body().unwrap_or_default()) {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "unreadable approval request");
                    continue;
                }
            };
            let id = approvals::record_request(self.store.as_ref(), request, now_ms()).await?;
            if let Some(handle) = m.receipt_handle() {
                self.sqs
                    .delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .map_err(|e| ApprovalError::Aws {
                        operation: "DeleteMessage",
                        message: format!(
                            "{}",
                            aws_smithy_types::error::display::DisplayErrorContext(e)
                        ),
                    })?;
            }
            ids.push(id);
        }
        Ok(ids)
    }

    /// Records an agent's decision and resumes the turn with it.
    pub async fn decide(
        &self,
        approval_id: &str,
        decision: ApprovalDecision,
        approver: &str,
        reply_id: Option<String>,
    ) -> Result<ApprovalFacts, ApprovalError> {
        let (approval, facts) = approvals::decide(
            self.store.as_ref(),
            approval_id,
            decision,
            approver,
            reply_id,
        )
        .await?;
        let output = serde_json::to_string(&facts).map_err(|e| ApprovalError::Aws {
            operation: "SendTaskSuccess",
            message: e.to_string(),
        })?;
        self.sfn
            .send_task_success()
            .task_token(&approval.task_token)
            .output(output)
            .send()
            .await
            .map_err(|e| ApprovalError::Aws {
                operation: "SendTaskSuccess",
                message: format!(
                    "{}: {}",
                    e.code().unwrap_or("error"),
                    e.message().unwrap_or_default()
                ),
            })?;
        Ok(facts)
    }
}

fn now_ms() -> i64 {
    use crate::handlers::Clock as _;
    crate::handlers::SystemClock.now_ms()
}
