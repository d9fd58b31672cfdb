//! The desk's routes (see [`super`] for the table). Errors are `{"error": "…"}` with a status
//! that says whose fault it is: 400 for a body to fix, 404, 409 for a decision that came too
//! late, 503 when a store failed (nothing was accepted; try again).

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use turnflow_activities::embedded::Embedded;
use turnflow_activities::ports::{Approval, Author, ConversationStore as _};
use turnflow_workflows::turn::ApprovalDecision;

use super::desk::{Desk, DeskError};
use super::ingest::{Ingest, IngestError};
use crate::engine::Engine;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Ingest.
    pub ingest: Arc<Ingest>,
    /// Approvals.
    pub desk: Arc<Desk>,
    /// The engine.
    pub engine: Engine,
    /// The stores.
    pub embedded: Embedded,
}

/// The largest event body accepted.
const EVENT_BODY_LIMIT: usize = 64 * 1024;

/// The desk's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/events", post(post_event))
        .route("/conversations/{id}", get(get_conversation))
        .route("/approvals", get(list_approvals))
        .route("/approvals/{id}", get(get_approval))
        .route("/approvals/{id}/{decision}", post(decide))
        .route("/dead-letters", get(dead_letters))
        .route("/outbox", get(outbox))
        .route("/health", get(health))
        .layer(axum::extract::DefaultBodyLimit::max(EVENT_BODY_LIMIT))
        .with_state(state)
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(json!({ "error": message.to_string() }))).into_response()
}

async fn post_event(State(s): State<AppState>, body: String) -> Response {
    match s.ingest.submit(&body).await {
        Ok(accepted) if accepted.duplicate => {
            (StatusCode::OK, Json(json!(accepted))).into_response()
        }
        Ok(accepted) => (StatusCode::ACCEPTED, Json(json!(accepted))).into_response(),
        Err(e @ (IngestError::Malformed(_) | IngestError::Invalid(_))) => {
            error(StatusCode::BAD_REQUEST, e)
        }
        Err(e @ IngestError::Unavailable(_)) => error(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

async fn get_conversation(State(s): State<AppState>, Path(id): Path<String>) -> Response {
    let store = &s.embedded.store;
    let transcript = match store.transcript(&id, 200).await {
        Ok(t) => t,
        Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e),
    };
    let turns = match s.ingest.turns(&id).await {
        Ok(t) => t,
        Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e),
    };
    if transcript.is_empty() && turns.is_empty() {
        return error(
            StatusCode::NOT_FOUND,
            format!("no conversation {id:?} (it starts with its first event)"),
        );
    }
    let mut enriched = Vec::new();
    for turn in turns {
        let mut turn = turn;
        if let Some(arn) = turn.get("executionArn").and_then(Value::as_str)
            && let Ok(d) = s.engine.describe_execution(arn).await
        {
            turn["status"] = json!(d.status);
            turn["error"] = json!(d.error);
        }
        if let Some(message) = turn.get("messageId").and_then(Value::as_str) {
            let handoff = store
                .document(&format!("{id}/handoff/{message}"))
                .await
                .ok()
                .flatten();
            if let Some(h) = handoff {
                turn["handoff"] = h;
            }
        }
        enriched.push(turn);
    }
    let status = store
        .lifecycle(&id)
        .await
        .ok()
        .flatten()
        .and_then(|snapshot| serde_json::to_value(snapshot).ok());
    let messages: Vec<Value> = transcript
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "author": match m.author { Author::Customer => "customer", Author::Bot => "bot", Author::Agent => "agent" },
                "text": m.text,
                "at": m.at,
            })
        })
        .collect();
    Json(json!({
        "conversationId": id,
        "lifecycle": status,
        "messages": messages,
        "turns": enriched,
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    status: Option<String>,
}

/// An approval as agents see it: everything but the task token.
fn shown(a: &Approval) -> Value {
    json!({
        "approvalId": a.approval_id,
        "conversationId": a.conversation_id,
        "customerId": a.customer_id,
        "proposal": a.proposal,
        "status": a.status,
        "approver": a.approver,
        "audit": a.audit,
    })
}

async fn list_approvals(State(s): State<AppState>, Query(q): Query<ListQuery>) -> Response {
    let status = q.status.as_deref().filter(|s| *s != "all");
    match s.desk.list(status) {
        Ok(list) => {
            Json(json!({ "approvals": list.iter().map(shown).collect::<Vec<_>>() })).into_response()
        }
        Err(e) => desk_error(&e),
    }
}

async fn get_approval(State(s): State<AppState>, Path(id): Path<String>) -> Response {
    let approval = match s.desk.get(&id).await {
        Ok(a) => a,
        Err(e) => return desk_error(&e),
    };
    let mut body = shown(&approval);
    if let Ok(transcript) = s
        .embedded
        .store
        .transcript(&approval.conversation_id, 20)
        .await
    {
        body["transcript"] =
            json!(transcript
            .iter()
            .map(|m| json!({"author": format!("{:?}", m.author).to_lowercase(), "text": m.text}))
            .collect::<Vec<_>>());
    }
    Json(body).into_response()
}

#[derive(Debug, Deserialize)]
struct DecisionBody {
    by: Option<String>,
}

async fn decide(
    State(s): State<AppState>,
    Path((id, decision)): Path<(String, String)>,
    body: Option<Json<DecisionBody>>,
) -> Response {
    let decision = match decision.as_str() {
        "approve" => ApprovalDecision::Approve,
        "reject" => ApprovalDecision::Reject,
        other => {
            return error(
                StatusCode::NOT_FOUND,
                format!("no decision {other:?}: POST /approvals/ID/approve or …/reject"),
            );
        }
    };
    let by = body.and_then(|Json(b)| b.by).unwrap_or_default();
    if by.trim().is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "by: say who decides ({\"by\": \"alice\"}); decisions are audited",
        );
    }
    match s.desk.decide(&id, decision, &by).await {
        Ok(facts) => Json(json!(facts)).into_response(),
        Err(e) => desk_error(&e),
    }
}

fn desk_error(e: &DeskError) -> Response {
    let status = match e {
        DeskError::NotFound(_) => StatusCode::NOT_FOUND,
        DeskError::Conflict(_) => StatusCode::CONFLICT,
        DeskError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    error(status, e)
}

async fn dead_letters(State(s): State<AppState>) -> Response {
    match s.ingest.dead_letters().await {
        Ok(list) => Json(json!({ "deadLetters": list })).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

async fn outbox(State(s): State<AppState>) -> Response {
    match s.embedded.outbox.deliveries() {
        Ok(list) => Json(json!({ "deliveries": list })).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

async fn health(State(s): State<AppState>) -> Response {
    let queued = s.ingest.queued().await.unwrap_or(-1);
    let pending = s.desk.list(Some("pending")).map(|l| l.len()).unwrap_or(0);
    Json(json!({ "ok": true, "queuedEvents": queued, "pendingApprovals": pending })).into_response()
}
