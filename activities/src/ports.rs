//! The ports: the only I/O the step handlers see.
//!
//! Each port is a small async trait with an embedded adapter (one machine, no network) and an AWS
//! adapter (Bedrock, DynamoDB, SQS). Handlers take `&dyn Port`s, so the same handler code runs in
//! the embedded engine's in-process workers, in `turnflow worker` and in a Lambda function.
//! Adapters map their failures to [`PortError`], whose [`PortError::error_name`] is the catalog
//! name the step fails with — so `Retry` and `Catch` in the definition route on it.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use turnflow_workflows::errors::ErrorName;
use turnflow_workflows::lifecycle::Snapshot;

use crate::payload::{ProposalKind, Usage};

/// A port's failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PortError {
    /// The service behind the port failed or could not be reached; retrying may help.
    #[error("{port} is unavailable: {message}")]
    Unavailable {
        /// Which port.
        port: Port,
        /// What happened.
        message: String,
    },
    /// The model provider throttled the call.
    #[error("the model provider throttled the call: {0}")]
    Throttled(String),
    /// The customer's or plan's token budget does not allow the call.
    #[error("token budget exceeded: {0}")]
    BudgetExceeded(String),
    /// The service refused the operation (not worth retrying).
    #[error("{port} refused the operation: {message}")]
    Rejected {
        /// Which port.
        port: Port,
        /// Why.
        message: String,
    },
    /// A guardrail blocked the input or the output.
    #[error("a guardrail blocked the text: {0}")]
    GuardrailBlocked(String),
    /// A write needs a verified identity and the customer's is not.
    #[error("the customer's identity is not verified")]
    IdentityNotVerified,
    /// The model answered with something unusable.
    #[error("the model's output cannot be used: {0}")]
    InvalidModelOutput(String),
}

/// Which port failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Port {
    /// The model.
    Model,
    /// The knowledge base.
    KnowledgeBase,
    /// The back office.
    BackOffice,
    /// The conversation store.
    Store,
    /// The outbox.
    Outbox,
}

impl std::fmt::Display for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Port::Model => "the model",
            Port::KnowledgeBase => "the knowledge base",
            Port::BackOffice => "the back office",
            Port::Store => "the conversation store",
            Port::Outbox => "the outbox",
        })
    }
}

impl PortError {
    /// The catalog name a step fails with when this error is not handled.
    pub fn error_name(&self) -> ErrorName {
        match self {
            PortError::Unavailable {
                port: Port::Model, ..
            } => ErrorName::ModelUnavailable,
            PortError::Unavailable {
                port: Port::KnowledgeBase,
                ..
            } => ErrorName::KnowledgeBaseUnavailable,
            PortError::Unavailable {
                port: Port::BackOffice,
                ..
            } => ErrorName::BackendUnavailable,
            PortError::Unavailable {
                port: Port::Store | Port::Outbox,
                ..
            } => ErrorName::StoreUnavailable,
            PortError::Throttled(_) => ErrorName::ModelThrottled,
            PortError::BudgetExceeded(_) => ErrorName::BudgetExceeded,
            PortError::Rejected { .. } => ErrorName::BackendRejected,
            PortError::GuardrailBlocked(_) => ErrorName::GuardrailBlocked,
            PortError::IdentityNotVerified => ErrorName::IdentityNotVerified,
            PortError::InvalidModelOutput(_) => ErrorName::ModelInvalidOutput,
        }
    }
}

/// The result of a port call.
pub type PortResult<T> = Result<T, PortError>;

/// Which model a call is routed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelRoute {
    /// A fast, cheap model: triage and simple turns.
    Fast,
    /// A strong model: complex turns.
    Strong,
}

/// What the model is asked to triage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriageRequest {
    /// The customer, for budgets.
    pub customer_id: Option<String>,
    /// The customer's message, PII already redacted.
    pub text: String,
    /// The last few turns of the conversation, redacted, oldest first.
    pub history: Vec<String>,
}

/// The model's triage of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriageResult {
    /// `en`, `es`, `zh`, `fr`, `de`, …
    pub language: String,
    /// The intent (the brain's intent names).
    pub intent: String,
    /// Calibrated confidence, 0 to 1.
    pub confidence: f64,
    /// Sentiment, -1 to 1.
    pub sentiment: f64,
    /// Blocked by the firewall, with the reason (`prompt_attack`, `abuse`, `off_topic`).
    pub blocked: Option<String>,
    /// Reasons a human is needed (`human_request`, `legal_threat`, `very_negative`,
    /// `low_confidence`, …); empty when the bot may go on.
    pub escalate: Vec<String>,
    /// Order ids mentioned.
    pub order_ids: Vec<String>,
    /// Emails mentioned (kept out of the journal: used to find the customer, then dropped).
    pub emails: Vec<String>,
    /// Amounts mentioned.
    pub amounts: Vec<f64>,
    /// Metered usage, when the model is metered.
    pub usage: Option<Usage>,
}

/// What the model is asked to write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftRequest {
    /// The customer, for budgets.
    pub customer_id: Option<String>,
    /// Fast or strong.
    pub route: ModelRoute,
    /// The reply's language.
    pub language: String,
    /// The intent being answered.
    pub intent: String,
    /// The customer's message, redacted.
    pub text: String,
    /// The passages to ground the reply in.
    pub passages: Vec<Passage>,
    /// Facts from the back office to state (order status, amounts, what was done).
    pub facts: Value,
    /// What kind of reply: `answer`, `refusal`, `proposal`, `approved`, `rejected`, `handoff`.
    pub purpose: String,
}

/// A drafted reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// The text.
    pub text: String,
    /// The passage ids it cites.
    pub citations: Vec<String>,
    /// Metered usage.
    pub usage: Option<Usage>,
}

/// The model: triage, planning the back-office calls, and writing replies.
#[async_trait]
pub trait Model: Send + Sync {
    /// Triage a message.
    async fn triage(&self, request: &TriageRequest) -> PortResult<TriageResult>;
    /// Draft a reply.
    async fn draft(&self, request: &DraftRequest) -> PortResult<Draft>;
}

/// A knowledge-base passage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Passage {
    /// `docid#n`.
    pub id: String,
    /// The document's title.
    pub title: String,
    /// The passage text.
    pub text: String,
    /// Its language.
    pub language: String,
    /// The retrieval score.
    pub score: f64,
}

/// The knowledge base.
#[async_trait]
pub trait KnowledgeBase: Send + Sync {
    /// The best `k` passages for a query in a language.
    async fn search(&self, query: &str, language: &str, k: usize) -> PortResult<Vec<Passage>>;
    /// Like [`KnowledgeBase::search`], with words naming the topic the question is about (from
    /// triage's intent) weighing in at `topic_weight` against the query's 1. A knowledge base
    /// that cannot weigh query parts searches the query alone.
    async fn search_on_topic(
        &self,
        query: &str,
        topic: &str,
        topic_weight: f32,
        language: &str,
        k: usize,
    ) -> PortResult<Vec<Passage>> {
        let _ = (topic, topic_weight);
        self.search(query, language, k).await
    }
    /// One passage by id.
    async fn passage(&self, id: &str) -> PortResult<Option<Passage>>;
}

/// A customer of the back office.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Zip code.
    pub zip: String,
    /// Plan (`standard`, `premium`).
    pub plan: String,
}

/// An order line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderItem {
    /// Item id.
    pub id: String,
    /// Product name.
    pub name: String,
    /// Price.
    pub price: f64,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Id.
    pub id: String,
    /// The customer who placed it.
    pub customer_id: String,
    /// Status: `pending`, `processed`, `delivered`, `cancelled`, `returned`, …
    pub status: String,
    /// Lines.
    pub items: Vec<OrderItem>,
    /// Total.
    pub total: f64,
}

/// A write to perform in the back office, at most once per key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Write {
    /// What.
    pub kind: ProposalKind,
    /// The order.
    pub order_id: String,
    /// The items (return, exchange).
    pub item_ids: Vec<String>,
    /// The amount (refund).
    pub amount: Option<f64>,
    /// Free parameters (new address, replacement items).
    pub details: Value,
    /// The idempotency key: a second write with the same key returns the first's result.
    pub idempotency_key: String,
}

/// The result of a write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteResult {
    /// The back office's operation id.
    pub operation_id: String,
    /// True when the key had already been used and nothing was done again.
    pub replayed: bool,
}

/// The back office: customers, orders, and idempotent writes.
#[async_trait]
pub trait BackOffice: Send + Sync {
    /// A customer by email.
    async fn find_customer_by_email(&self, email: &str) -> PortResult<Option<Customer>>;
    /// A customer by name and zip code.
    async fn find_customer_by_name_zip(
        &self,
        name: &str,
        zip: &str,
    ) -> PortResult<Option<Customer>>;
    /// A customer by id.
    async fn customer(&self, id: &str) -> PortResult<Option<Customer>>;
    /// An order by id.
    async fn order(&self, id: &str) -> PortResult<Option<Order>>;
    /// A customer's orders, newest first.
    async fn orders_of(&self, customer_id: &str) -> PortResult<Vec<Order>>;
    /// Performs a write at most once per idempotency key.
    async fn write(&self, write: &Write) -> PortResult<WriteResult>;
}

/// What the guardrails say about a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardrailVerdict {
    /// The text with PII replaced by placeholders (`[email]`, `[phone]`, `[card]`, `[iban]`).
    pub redacted: String,
    /// The denied topic it touches, if any.
    pub denied_topic: Option<String>,
}

/// PII redaction and denied topics, applied before anything is stored, logged or journaled.
#[async_trait]
pub trait Guardrails: Send + Sync {
    /// Checks and redacts a text.
    async fn check(&self, text: &str) -> PortResult<GuardrailVerdict>;
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    /// The customer.
    Customer,
    /// The bot.
    Bot,
    /// A human agent.
    Agent,
}

/// A message of a conversation, as stored (redacted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Id.
    pub id: String,
    /// The conversation.
    pub conversation_id: String,
    /// Who wrote it.
    pub author: Author,
    /// The text, PII redacted.
    pub text: String,
    /// When, in milliseconds since the epoch.
    pub at: i64,
}

/// An approval waiting for (or given by) a human.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    /// The short id agents act on.
    pub approval_id: String,
    /// The task token that resumes the turn (never shown to agents).
    pub task_token: String,
    /// The conversation.
    pub conversation_id: String,
    /// The customer.
    pub customer_id: Option<String>,
    /// The proposal, as sent on the approval queue.
    pub proposal: Value,
    /// `pending`, `approved`, `edited`, `rejected`, `expired`.
    pub status: String,
    /// Who decided.
    pub approver: Option<String>,
    /// Every change, oldest first (`{at, who, what}`).
    pub audit: Vec<Value>,
}

/// Conversations, messages, memory, approvals and idempotency records.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Saves a message (already redacted).
    async fn append_message(&self, message: &Message) -> PortResult<()>;
    /// A message by id.
    async fn message(&self, id: &str) -> PortResult<Option<Message>>;
    /// The last `limit` messages of a conversation, oldest first.
    async fn transcript(&self, conversation_id: &str, limit: usize) -> PortResult<Vec<Message>>;
    /// Stores a document by id (drafts, handoff packages), with a time to live in seconds.
    async fn put_document(
        &self,
        id: &str,
        document: &Value,
        ttl_seconds: Option<u64>,
    ) -> PortResult<()>;
    /// A document by id.
    async fn document(&self, id: &str) -> PortResult<Option<Value>>;
    /// Remembers something about a customer for `ttl_seconds` (90 days by default).
    async fn remember(
        &self,
        customer_id: &str,
        key: &str,
        value: &Value,
        ttl_seconds: u64,
    ) -> PortResult<()>;
    /// What is remembered about a customer and not expired.
    async fn memory(&self, customer_id: &str) -> PortResult<Vec<(String, Value)>>;
    /// Records an approval.
    async fn put_approval(&self, approval: &Approval) -> PortResult<()>;
    /// An approval by its short id.
    async fn approval(&self, approval_id: &str) -> PortResult<Option<Approval>>;
    /// Records a decision, only if the approval is still pending (a conditional write).
    async fn decide(&self, approval_id: &str, status: &str, approver: &str)
    -> PortResult<Approval>;
    /// Records `result` under `key` unless the key exists; returns the stored result either way
    /// and whether it was already there.
    async fn record_once(&self, key: &str, result: &Value) -> PortResult<(Value, bool)>;
    /// Everything held about a customer (GDPR export).
    async fn export_customer(&self, customer_id: &str) -> PortResult<Value>;
    /// Deletes everything held about a customer (GDPR erasure); returns how many items went.
    async fn delete_customer(&self, customer_id: &str) -> PortResult<u64>;
    /// The conversation's lifecycle snapshot, if the conversation has one.
    async fn lifecycle(&self, conversation_id: &str) -> PortResult<Option<Snapshot>>;
    /// Saves the conversation's lifecycle snapshot (and links the conversation to its customer,
    /// for GDPR export and erasure).
    async fn put_lifecycle(
        &self,
        conversation_id: &str,
        customer_id: Option<&str>,
        snapshot: &Snapshot,
    ) -> PortResult<()>;
}

/// A reply to deliver to the helpdesk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// Id (idempotent: the same id is delivered once).
    pub id: String,
    /// The conversation.
    pub conversation_id: String,
    /// The message to send.
    pub message_id: String,
}

/// The outbox: replies handed to the helpdesk, exactly once.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Queues a delivery; queuing the same id again does nothing.
    async fn enqueue(&self, delivery: &Delivery) -> PortResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_port_failure_maps_to_a_catalog_name_the_definition_routes_on() {
        let transient = PortError::Unavailable {
            port: Port::BackOffice,
            message: "x".into(),
        };
        assert_eq!(transient.error_name(), ErrorName::BackendUnavailable);
        assert!(transient.error_name().is_transient());
        assert_eq!(
            PortError::Throttled("x".into()).error_name(),
            ErrorName::ModelThrottled
        );
        let refused = PortError::Rejected {
            port: Port::BackOffice,
            message: "shipped".into(),
        };
        assert!(!refused.error_name().is_transient());
        assert_eq!(
            refused.to_string(),
            "the back office refused the operation: shipped"
        );
    }
}
