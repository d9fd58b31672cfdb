//! Ingest from SQS: helpdesk events on a FIFO queue (grouped by conversation) become turns.
//!
//! For each message: normalize the event ([`crate::event`]), store the customer's message,
//! `StartExecution` named after the event (so a redelivered event names the same execution and
//! starts nothing new), and only then delete the message. A message that can never succeed (not
//! an event, an unsupported kind, an input Step Functions refuses) goes to the dead-letter queue
//! with its reason in the `TurnflowReason` attribute; one that keeps failing for a transient
//! reason goes there after `max_receives` receives. Within a batch, once a conversation's message
//! fails, its later messages are not started either, so turns of one conversation start in order.
//!
//! The same [`Ingestor`] serves the long-running poller ([`Ingestor::run`], `turnflow ingest
//! sqs`) and a Lambda function behind an SQS event source mapping ([`Ingestor::handle_sqs_event`],
//! which reports `batchItemFailures`).

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use aws_sdk_sfn::error::ProvideErrorMetadata as _;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageAttributeValue, MessageSystemAttributeName,
};

use crate::event::{self, EventKind, HelpdeskEvent};
use crate::intake::{self, Intake};
use crate::payload::TurnState;
use crate::ports::{ConversationStore, Guardrails};

/// The message attribute that carries why a message was dead-lettered.
pub const REASON_ATTRIBUTE: &str = "TurnflowReason";

/// A message as received, from either the SQS API or a Lambda event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// SQS's message id.
    pub message_id: String,
    /// The body.
    pub body: String,
    /// How many times it has been received (`ApproximateReceiveCount`), 1 the first time.
    pub receive_count: u32,
    /// Its FIFO message group, if any.
    pub group_id: Option<String>,
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A turn was started (or had already been started by an earlier delivery).
    Started {
        /// The execution's ARN.
        execution_arn: String,
        /// True when the execution already existed.
        already: bool,
    },
    /// An event that starts no turn (a rating, a closed ticket) was recorded.
    Recorded,
    /// Sent to the dead-letter queue.
    DeadLettered {
        /// Why.
        reason: String,
    },
    /// Left on the queue, to be received again.
    Retry {
        /// Why.
        reason: String,
    },
}

impl Outcome {
    /// Whether the message is done with and may be deleted from the source queue.
    pub fn is_done(&self) -> bool {
        !matches!(self, Outcome::Retry { .. })
    }
}

/// Ingest's failures outside one message (receiving, deleting).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// SQS failed.
    #[error("sqs {operation} failed: {message}")]
    Sqs {
        /// Which call.
        operation: &'static str,
        /// What it said.
        message: String,
    },
}

/// Turns SQS messages into executions.
#[derive(Clone)]
pub struct Ingestor {
    sqs: aws_sdk_sqs::Client,
    sfn: aws_sdk_sfn::Client,
    state_machine_arn: String,
    dead_letter_url: Option<String>,
    max_receives: u32,
    store: Option<Arc<dyn ConversationStore>>,
    guardrails: Option<Arc<dyn Guardrails>>,
}

impl std::fmt::Debug for Ingestor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingestor")
            .field("state_machine_arn", &self.state_machine_arn)
            .field("dead_letter_url", &self.dead_letter_url)
            .field("max_receives", &self.max_receives)
            .finish_non_exhaustive()
    }
}

/// Counts over a run of the poller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestStats {
    /// Executions started (or found started).
    pub started: u64,
    /// Events recorded without a turn.
    pub recorded: u64,
    /// Messages sent to the dead-letter queue.
    pub dead_lettered: u64,
    /// Messages left for another receive.
    pub retried: u64,
}

impl IngestStats {
    fn add(&mut self, outcomes: &[Outcome]) {
        for o in outcomes {
            match o {
                Outcome::Started { .. } => self.started += 1,
                Outcome::Recorded => self.recorded += 1,
                Outcome::DeadLettered { .. } => self.dead_lettered += 1,
                Outcome::Retry { .. } => self.retried += 1,
            }
        }
    }
}

impl Ingestor {
    /// An ingestor starting executions of `state_machine_arn` (a state machine, or a version or
    /// alias ARN). Clients are built once by the caller and shared.
    pub fn new(
        sqs: aws_sdk_sqs::Client,
        sfn: aws_sdk_sfn::Client,
        state_machine_arn: impl Into<String>,
    ) -> Ingestor {
        Ingestor {
            sqs,
            sfn,
            state_machine_arn: state_machine_arn.into(),
            dead_letter_url: None,
            max_receives: 5,
            store: None,
            guardrails: None,
        }
    }

    /// Where messages that cannot succeed go, with their reason.
    pub fn dead_letter_queue(mut self, url: impl Into<String>) -> Ingestor {
        self.dead_letter_url = Some(url.into());
        self
    }

    /// After how many receives a message failing for a transient reason is dead-lettered.
    pub fn max_receives(mut self, n: u32) -> Ingestor {
        self.max_receives = n.max(1);
        self
    }

    /// Stores customers' messages (redacted by `guardrails` when given) before starting turns.
    pub fn store(
        mut self,
        store: Arc<dyn ConversationStore>,
        guardrails: Option<Arc<dyn Guardrails>>,
    ) -> Ingestor {
        self.store = Some(store);
        self.guardrails = guardrails;
        self
    }

    /// Handles a batch in order; one outcome per message.
    pub async fn process(&self, batch: &[Incoming]) -> Vec<Outcome> {
        let mut failed_groups: HashSet<String> = HashSet::new();
        let mut outcomes = Vec::with_capacity(batch.len());
        for message in batch {
            let group = message.group_id.clone();
            if let Some(g) = &group
                && failed_groups.contains(g)
            {
                outcomes.push(Outcome::Retry {
                    reason: "an earlier message of its conversation is not done".into(),
                });
                continue;
            }
            let outcome = match self.one(message).await {
                Ok(outcome) => outcome,
                Err(Failure::Permanent(reason)) => self.dead_letter(message, reason).await,
                Err(Failure::Transient(reason)) if message.receive_count >= self.max_receives => {
                    let reason =
                        format!("gave up after {} receives: {reason}", message.receive_count);
                    self.dead_letter(message, reason).await
                }
                Err(Failure::Transient(reason)) => Outcome::Retry { reason },
            };
            if !outcome.is_done()
                && let Some(g) = group
            {
                failed_groups.insert(g);
            }
            outcomes.push(outcome);
        }
        outcomes
    }

    async fn one(&self, message: &Incoming) -> Result<Outcome, Failure> {
        let event = event::normalize(&message.body)
            .map_err(|e| Failure::Permanent(format!("malformed event: {e}")))?;
        let intake = match &self.store {
            Some(store) => intake::accept(
                &event,
                store.as_ref(),
                self.guardrails.as_ref(),
                None,
                now_ms(),
            )
            .await
            .map_err(|e| Failure::Transient(e.to_string()))?,
            None => match &event.kind {
                EventKind::Message { message_id, .. } => {
                    Intake::Turn(Box::new(intake::turn_input(&event, message_id)))
                }
                EventKind::CsatRating { .. } | EventKind::Closed => Intake::Recorded,
            },
        };
        match intake {
            Intake::Turn(turn) => self.start(&event, &turn).await,
            Intake::Recorded => Ok(Outcome::Recorded),
        }
    }

    async fn start(&self, event: &HelpdeskEvent, turn: &TurnState) -> Result<Outcome, Failure> {
        let input = serde_json::to_string(turn)
            .map_err(|e| Failure::Permanent(format!("unserializable turn input: {e}")))?;
        let name = event.execution_name();
        let result = self
            .sfn
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(&name)
            .input(input)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Outcome::Started {
                execution_arn: out.execution_arn,
                already: false,
            }),
            Err(err) => {
                let code = err.code().unwrap_or("").to_owned();
                let message = err.message().unwrap_or("").to_owned();
                match code.as_str() {
                    // The event was started before (same name); the start is acknowledged.
                    "ExecutionAlreadyExists" => Ok(Outcome::Started {
                        execution_arn: self.execution_arn(&name),
                        already: true,
                    }),
                    "InvalidExecutionInput" | "InvalidName" | "InvalidArn" => {
                        Err(Failure::Permanent(format!(
                            "step functions refused the start: {code}: {message}"
                        )))
                    }
                    _ => Err(Failure::Transient(format!(
                        "start execution failed: {}",
                        describe(&err, &code, &message)
                    ))),
                }
            }
        }
    }

    fn execution_arn(&self, name: &str) -> String {
        // arn:aws:states:region:account:stateMachine:Name[:version] → …:execution:Name:name
        let mut parts: Vec<&str> = self.state_machine_arn.split(':').collect();
        if parts.len() >= 7 {
            parts.truncate(7);
            parts[5] = "execution";
            format!("{}:{name}", parts.join(":"))
        } else {
            name.to_owned()
        }
    }

    async fn dead_letter(&self, message: &Incoming, reason: String) -> Outcome {
        let Some(url) = &self.dead_letter_url else {
            // Without a queue of our own, leave it for the source queue's redrive policy.
            return Outcome::Retry { reason };
        };
        tracing::warn!(message_id = %message.message_id, %reason, "dead-lettering a message");
        let attribute = |value: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
        };
        let (Ok(reason_attr), Ok(id_attr)) = (attribute(&reason), attribute(&message.message_id))
        else {
            return Outcome::Retry { reason };
        };
        let mut send = self
            .sqs
            .send_message()
            .queue_url(url)
            .message_body(&message.body)
            .message_attributes(REASON_ATTRIBUTE, reason_attr)
            .message_attributes("TurnflowSourceMessageId", id_attr);
        if url.ends_with(".fifo") {
            send = send
                .message_group_id(message.group_id.as_deref().unwrap_or("dead-letter"))
                .message_deduplication_id(&message.message_id);
        }
        match send.send().await {
            Ok(_) => Outcome::DeadLettered { reason },
            Err(err) => Outcome::Retry {
                reason: format!("{reason}; and the dead-letter queue failed: {err}"),
            },
        }
    }

    /// Receives one long-poll batch (up to 10 messages, waiting up to 20 s), processes it, and
    /// deletes the messages that are done.
    pub async fn poll_once(&self, queue_url: &str) -> Result<Vec<Outcome>, IngestError> {
        let received = self
            .sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(20)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(|e| IngestError::Sqs {
                operation: "ReceiveMessage",
                message: describe(&e, e.code().unwrap_or(""), e.message().unwrap_or("")),
            })?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let mut batch = Vec::with_capacity(messages.len());
        let mut handles = Vec::with_capacity(messages.len());
        for m in &messages {
            let attrs = m.attributes();
            let attr = |name: MessageSystemAttributeName| attrs.and_then(|a| a.get(&name)).cloned();
            batch.push(Incoming {
                message_id: m.message_id().unwrap_or_default().to_owned(),
                body: m.body().unwrap_or_default().to_owned(),
                receive_count: attr(MessageSystemAttributeName::ApproximateReceiveCount)
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1),
                group_id: attr(MessageSystemAttributeName::MessageGroupId),
            });
            handles.push(m.receipt_handle().unwrap_or_default().to_owned());
        }
        let outcomes = self.process(&batch).await;
        let mut entries = Vec::new();
        for (i, (outcome, handle)) in outcomes.iter().zip(&handles).enumerate() {
            if outcome.is_done() {
                let entry = DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(handle)
                    .build()
                    .map_err(|e| IngestError::Sqs {
                        operation: "DeleteMessageBatch",
                        message: e.to_string(),
                    })?;
                entries.push(entry);
            }
        }
        if !entries.is_empty() {
            let out = self
                .sqs
                .delete_message_batch()
                .queue_url(queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| IngestError::Sqs {
                    operation: "DeleteMessageBatch",
                    message: describe(&e, e.code().unwrap_or(""), e.message().unwrap_or("")),
                })?;
            for failed in out.failed() {
                // The execution exists; a redelivery will find it by name and delete again.
                tracing::warn!(id = failed.id(), code = failed.code(), "delete failed");
            }
        }
        Ok(outcomes)
    }

    /// Polls until `shutdown` completes; a batch in hand is finished before returning.
    pub async fn run(
        &self,
        queue_url: &str,
        shutdown: impl Future<Output = ()>,
    ) -> Result<IngestStats, IngestError> {
        let mut stats = IngestStats::default();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => return Ok(stats),
                batch = self.poll_once(queue_url) => match batch {
                    Ok(outcomes) => stats.add(&outcomes),
                    Err(e) => {
                        tracing::warn!(error = %e, "ingest poll failed; backing off");
                        tokio::select! {
                            () = &mut shutdown => return Ok(stats),
                            () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                        }
                    }
                },
            }
        }
    }

    /// The Lambda entry behind an SQS event source mapping (with `ReportBatchItemFailures`):
    /// the messages not done are reported as failures and only they are received again.
    pub async fn handle_sqs_event(&self, event: SqsEvent) -> SqsBatchResponse {
        let batch: Vec<Incoming> = event
            .records
            .iter()
            .map(|r| Incoming {
                message_id: r.message_id.clone().unwrap_or_default(),
                body: r.body.clone().unwrap_or_default(),
                receive_count: r
                    .attributes
                    .get("ApproximateReceiveCount")
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1),
                group_id: r.attributes.get("MessageGroupId").cloned(),
            })
            .collect();
        let outcomes = self.process(&batch).await;
        let mut response = SqsBatchResponse::default();
        for (incoming, outcome) in batch.iter().zip(&outcomes) {
            if !outcome.is_done() {
                response.batch_item_failures.push(BatchItemFailure {
                    item_identifier: incoming.message_id.clone(),
                });
            }
        }
        response
    }

    /// Runs as a Lambda function (`lambda_runtime`) until the runtime stops.
    pub async fn run_lambda(self) -> Result<(), lambda_runtime::Error> {
        let ingestor = Arc::new(self);
        lambda_runtime::run(lambda_runtime::service_fn(
            move |event: lambda_runtime::LambdaEvent<SqsEvent>| {
                let ingestor = ingestor.clone();
                async move {
                    Ok::<_, lambda_runtime::Error>(ingestor.handle_sqs_event(event.payload).await)
                }
            },
        ))
        .await
    }
}

/// Why a message failed.
enum Failure {
    /// It will never succeed: dead-letter it.
    Permanent(String),
    /// It may succeed on another receive.
    Transient(String),
}

fn describe<E: std::fmt::Display>(err: &E, code: &str, message: &str) -> String {
    if code.is_empty() {
        err.to_string()
    } else {
        format!("{code}: {message}")
    }
}

fn now_ms() -> i64 {
    use crate::handlers::Clock as _;
    crate::handlers::SystemClock.now_ms()
}
