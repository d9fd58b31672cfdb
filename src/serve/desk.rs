//! The approval desk on one machine: the turn's `AwaitApproval` state puts its request (with
//! the task token) on the embedded approval queue; the desk records it as a pending approval
//! under a short id and deletes it; an agent's decision is recorded by a conditional write
//! (only a pending approval takes one, so two agents cannot both decide) and resumes the turn
//! with `SendTaskSuccess`. Agents see approval ids, never tokens.

use std::sync::Arc;
use std::time::Duration;

use turnflow_activities::approvals::{self, ApprovalRequest};
use turnflow_activities::embedded::SqliteStore;
use turnflow_activities::payload::ApprovalFacts;
use turnflow_activities::ports::{Approval, PortError};
use turnflow_workflows::turn::ApprovalDecision;

use super::ingest::{Ingest, now_ms};
use crate::engine::{Engine, EngineError};
use crate::harness::turn::APPROVAL_QUEUE;

/// Requests that cannot be read go here, with the reason.
pub const APPROVAL_DEAD_LETTERS: &str = "turnflow-approvals-dead";

/// Why a decision was refused.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// No approval has this id.
    #[error("no approval {0}")]
    NotFound(String),
    /// The approval was decided already, or the turn no longer waits for it.
    #[error("{0}")]
    Conflict(String),
    /// The store or the engine failed.
    #[error("{0}")]
    Unavailable(String),
}

/// The desk.
#[derive(Debug)]
pub struct Desk {
    engine: Engine,
    store: Arc<SqliteStore>,
    ingest: Arc<Ingest>,
}

impl Desk {
    /// A desk over the engine's approval queue and the store.
    pub fn new(engine: Engine, store: Arc<SqliteStore>, ingest: Arc<Ingest>) -> Desk {
        Desk {
            engine,
            store,
            ingest,
        }
    }

    /// Collects requests until the task is aborted.
    pub async fn run(self: Arc<Self>) {
        loop {
            match self.collect().await {
                Ok(0) => tokio::time::sleep(Duration::from_millis(100)).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "collecting approval requests failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Records every request on the approval queue; returns how many.
    ///
    /// # Errors
    /// When the engine or the store fails (the requests stay queued).
    pub async fn collect(&self) -> Result<usize, DeskError> {
        let messages = self
            .engine
            .receive_messages(APPROVAL_QUEUE, 10, Duration::from_secs(30))
            .await
            .map_err(unavailable)?;
        let n = messages.len();
        for m in messages {
            match ApprovalRequest::parse(&m.body) {
                Ok(request) => {
                    let execution = request.execution_id.clone();
                    let id = approvals::record_request(self.store.as_ref(), request, now_ms())
                        .await
                        .map_err(store_error)?;
                    tracing::info!(approval = %id, "approval requested");
                    if let Some(arn) = execution {
                        self.ingest.parked(&arn);
                    }
                }
                Err(e) => {
                    let body = serde_json::json!({
                        "reason": format!("unreadable approval request: {e}"),
                        "body": m.body,
                    });
                    self.engine
                        .send_message(APPROVAL_DEAD_LETTERS, &body.to_string())
                        .await
                        .map_err(unavailable)?;
                }
            }
            self.engine
                .delete_message(APPROVAL_QUEUE, &m.message_id)
                .await
                .map_err(unavailable)?;
        }
        Ok(n)
    }

    /// The approvals with `status` (all when `None`), oldest first.
    ///
    /// # Errors
    /// When the store fails.
    pub fn list(&self, status: Option<&str>) -> Result<Vec<Approval>, DeskError> {
        self.store.approvals(status).map_err(store_error)
    }

    /// One approval.
    ///
    /// # Errors
    /// When there is none by that id, or the store fails.
    pub async fn get(&self, id: &str) -> Result<Approval, DeskError> {
        use turnflow_activities::ports::ConversationStore as _;
        self.store
            .approval(id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| DeskError::NotFound(id.to_owned()))
    }

    /// Records `approver`'s decision and resumes the turn.
    ///
    /// # Errors
    /// [`DeskError::NotFound`], [`DeskError::Conflict`] when it was decided already or the turn
    /// stopped waiting (timed out, stopped), [`DeskError::Unavailable`] otherwise.
    pub async fn decide(
        &self,
        id: &str,
        decision: ApprovalDecision,
        approver: &str,
    ) -> Result<ApprovalFacts, DeskError> {
        let approver = approver.trim();
        if approver.is_empty() {
            return Err(DeskError::Conflict(
                "say who decides (`by`): decisions are audited".into(),
            ));
        }
        self.get(id).await?;
        let (approval, facts) =
            approvals::decide(self.store.as_ref(), id, decision, approver, None)
                .await
                .map_err(store_error)?;
        let output = serde_json::to_string(&facts)
            .map_err(|e| DeskError::Unavailable(format!("unserializable decision: {e}")))?;
        match self
            .engine
            .send_task_success(&approval.task_token, &output)
            .await
        {
            Ok(()) => {
                tracing::info!(approval = %id, %approver, decision = decision.as_str(), "approval decided");
                Ok(facts)
            }
            Err(e @ (EngineError::TaskTimedOut(_) | EngineError::InvalidToken(_))) => Err(
                DeskError::Conflict(format!("the turn no longer waits for this approval: {e}")),
            ),
            Err(e) => Err(unavailable(e)),
        }
    }
}

fn unavailable(e: EngineError) -> DeskError {
    DeskError::Unavailable(e.to_string())
}

fn store_error(e: PortError) -> DeskError {
    match e {
        PortError::Rejected { message, .. } => DeskError::Conflict(message),
        other => DeskError::Unavailable(other.to_string()),
    }
}
