//! The AWS adapters against moto server: SQS FIFO ingest → StartExecution → an execution parked
//! on `sqs:sendMessage.waitForTaskToken` → the approval recorded in DynamoDB → SendTaskSuccess →
//! SUCCEEDED; a malformed message dead-lettered with its reason; the Lambda entry's partial batch
//! failures; idempotency by conditional write; a GDPR delete that leaves nothing of the customer.
//!
//! moto has no activities, so the flow runs a small definition of its own around the turn's
//! `AwaitApproval` state; the real turn runs against turnflow's own Step Functions API.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_sfn::types::ExecutionStatus;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};
use turnflow_activities::aws::approval::{ApprovalDesk, ApprovalError};
use turnflow_activities::aws::config::AwsSettings;
use turnflow_activities::aws::dynamodb::{DynamoStore, StoreTables};
use turnflow_activities::aws::sqs_ingest::{Ingestor, Outcome, REASON_ATTRIBUTE};
use turnflow_activities::ports::{ConversationStore, PortError};
use turnflow_testdata::moto::Moto;
use turnflow_workflows::turn::ApprovalDecision;

const ROLE: &str = "arn:aws:iam::123456789012:role/turnflow-states";

struct World {
    _moto: Moto,
    sqs: aws_sdk_sqs::Client,
    sfn: aws_sdk_sfn::Client,
    store: Arc<DynamoStore>,
    ingest_url: String,
    dead_letter_url: String,
    approval_url: String,
    state_machine_arn: String,
}

async fn fifo(sqs: &aws_sdk_sqs::Client, name: &str) -> anyhow::Result<String> {
    let out = sqs
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::VisibilityTimeout, "30")
        .send()
        .await?;
    out.queue_url.context("no queue url")
}

/// The turn's approval park, alone: what moto can execute.
fn approval_definition(queue_url: &str) -> Value {
    json!({
        "Comment": "the turn's AwaitApproval state, for moto (which has no activities)",
        "StartAt": "AwaitApproval",
        "States": {
            "AwaitApproval": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {
                    "QueueUrl": queue_url,
                    "MessageBody": {
                        "v": 1,
                        "taskToken.$": "$$.Task.Token",
                        "executionId.$": "$$.Execution.Id",
                        "conversationId.$": "$.conversationId",
                        "messageId.$": "$.messageId",
                        "customerId.$": "$.customerId",
                        "proposal": {"kind": "refund", "orderId": "W1001", "amount": 25.0},
                        "reason": "refund_above_limit"
                    }
                },
                "ResultPath": "$.approval",
                "TimeoutSeconds": 300,
                "HeartbeatSeconds": 60,
                "Next": "Approved"
            },
            "Approved": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.approval.decision", "StringEquals": "approve", "Next": "Commit"}],
                "Default": "Rejected"
            },
            "Commit": {"Type": "Succeed"},
            "Rejected": {"Type": "Fail", "Error": "Turnflow.Rejected"}
        }
    })
}

async fn world(suite: &str) -> anyhow::Result<Option<World>> {
    let Some(moto) = Moto::start(suite) else {
        return Ok(None);
    };
    let config = AwsSettings::local(&moto.endpoint()).load().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let sfn = aws_sdk_sfn::Client::new(&config);
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let ingest_url = fifo(&sqs, "turnflow-events.fifo").await?;
    let dead_letter_url = fifo(&sqs, "turnflow-events-dlq.fifo").await?;
    let approval_url = sqs
        .create_queue()
        .queue_name("turnflow-approvals")
        .send()
        .await?
        .queue_url
        .context("no queue url")?;
    let store = Arc::new(DynamoStore::new(
        dynamodb,
        StoreTables::with_prefix("turnflow"),
    ));
    store.create_tables().await?;
    let state_machine_arn = sfn
        .create_state_machine()
        .name("turnflow-approval")
        .role_arn(ROLE)
        .definition(approval_definition(&approval_url).to_string())
        .send()
        .await?
        .state_machine_arn;
    Ok(Some(World {
        _moto: moto,
        sqs,
        sfn,
        store,
        ingest_url,
        dead_letter_url,
        approval_url,
        state_machine_arn,
    }))
}

fn zendesk_comment(
    event_id: &str,
    ticket: &str,
    customer: &str,
    comment: u64,
    text: &str,
) -> String {
    json!({
        "id": event_id, "type": "zen:event-type:ticket.comment_added",
        "zendesk_event_version": "2022-11-06", "subject": format!("zen:ticket:{ticket}"),
        "detail": {"id": ticket, "requester_id": customer},
        "event": {"comment": {"id": comment, "body": text, "author": {"id": customer, "is_staff": false}}}
    })
    .to_string()
}

async fn send(w: &World, body: &str, group: &str, dedup: &str) -> anyhow::Result<()> {
    w.sqs
        .send_message()
        .queue_url(&w.ingest_url)
        .message_body(body)
        .message_group_id(group)
        .message_deduplication_id(dedup)
        .send()
        .await?;
    Ok(())
}

async fn wait_for_status(
    w: &World,
    arn: &str,
    want: ExecutionStatus,
) -> anyhow::Result<aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput> {
    for _ in 0..100 {
        let d = w.sfn.describe_execution().execution_arn(arn).send().await?;
        if d.status == want {
            return Ok(d);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("execution {arn} never reached {want:?}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_ingest_to_approval_to_success_and_gdpr_on_moto() -> anyhow::Result<()> {
    let Some(w) = world("aws_moto").await? else {
        return Ok(());
    };
    let store: Arc<dyn ConversationStore> = w.store.clone();
    let ingestor = Ingestor::new(w.sqs.clone(), w.sfn.clone(), &w.state_machine_arn)
        .dead_letter_queue(&w.dead_letter_url)
        .store(store.clone(), None);

    // A customer message, a malformed body, and the same event delivered again (a helpdesk
    // retrying its webhook: another SQS message, the same event id).
    let event = zendesk_comment(
        "evt-7f3a",
        "5158",
        "cust-42",
        91011,
        "please refund order W1001",
    );
    send(&w, &event, "zd-5158", "d1").await?;
    send(&w, "{\"hello\": \"not an event\"", "zd-9999", "d2").await?;
    send(&w, &event, "zd-5158", "d3").await?;

    let mut outcomes = Vec::new();
    for _ in 0..5 {
        outcomes.extend(ingestor.poll_once(&w.ingest_url).await?);
        if outcomes.len() >= 3 {
            break;
        }
    }
    let started: Vec<&String> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Started { execution_arn, .. } => Some(execution_arn),
            _ => None,
        })
        .collect();
    ensure!(
        started.len() == 2,
        "two deliveries of one event: {outcomes:?}"
    );
    ensure!(
        started[0] == started[1],
        "one execution for one event: {outcomes:?}"
    );
    ensure!(
        started[0].ends_with(":zd-evt-7f3a"),
        "named after the event: {}",
        started[0]
    );
    ensure!(
        outcomes
            .iter()
            .any(|o| matches!(o, Outcome::DeadLettered { .. })),
        "{outcomes:?}"
    );
    let executions = w
        .sfn
        .list_executions()
        .state_machine_arn(&w.state_machine_arn)
        .send()
        .await?;
    ensure!(executions.executions().len() == 1, "exactly one execution");

    // Every message was deleted from the source queue.
    let left = w
        .sqs
        .receive_message()
        .queue_url(&w.ingest_url)
        .wait_time_seconds(0)
        .send()
        .await?;
    ensure!(
        left.messages().is_empty(),
        "messages left: {:?}",
        left.messages()
    );

    // The malformed one is on the dead-letter queue, with its reason.
    let dead = w
        .sqs
        .receive_message()
        .queue_url(&w.dead_letter_url)
        .message_attribute_names("All")
        .wait_time_seconds(1)
        .send()
        .await?;
    let dead = dead.messages().first().context("nothing dead-lettered")?;
    ensure!(dead.body() == Some("{\"hello\": \"not an event\""));
    let reason = dead
        .message_attributes()
        .and_then(|a| a.get(REASON_ATTRIBUTE))
        .and_then(|v| v.string_value())
        .context("no reason attribute")?;
    ensure!(
        reason.starts_with("malformed event: the body is not JSON"),
        "{reason}"
    );

    // The customer's message is in the store, owned by the customer.
    let message = store
        .message("91011")
        .await?
        .context("message not stored")?;
    ensure!(message.text == "please refund order W1001");

    // The execution parks on the approval queue; the desk records the approval in DynamoDB.
    let execution_arn = started[0].clone();
    let desk = ApprovalDesk::new(w.sqs.clone(), w.sfn.clone(), store.clone());
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.extend(desk.collect(&w.approval_url, 1).await?);
        if !ids.is_empty() {
            break;
        }
    }
    let approval_id = ids.first().context("no approval request arrived")?.clone();
    let pending = store
        .approval(&approval_id)
        .await?
        .context("approval not recorded")?;
    ensure!(pending.status == "pending" && !pending.task_token.is_empty());
    ensure!(pending.customer_id.as_deref() == Some("cust-42"));
    ensure!(pending.proposal["orderId"] == "W1001");
    wait_for_status(&w, &execution_arn, ExecutionStatus::Running).await?;

    // The agent approves: conditional write, then SendTaskSuccess; the execution succeeds.
    let facts = desk
        .decide(&approval_id, ApprovalDecision::Approve, "agent-ann", None)
        .await?;
    ensure!(facts.approval_id == approval_id);
    let done = wait_for_status(&w, &execution_arn, ExecutionStatus::Succeeded).await?;
    let output: Value = serde_json::from_str(done.output().unwrap_or("{}"))?;
    ensure!(output["approval"]["decision"] == "approve", "{output}");
    ensure!(output["approval"]["approver"] == "agent-ann", "{output}");
    let decided = store
        .approval(&approval_id)
        .await?
        .context("approval gone")?;
    ensure!(decided.status == "approved" && decided.approver.as_deref() == Some("agent-ann"));
    ensure!(decided.audit.len() == 2, "audit trail: {:?}", decided.audit);

    // A second decision on the same approval is refused by the conditional write.
    let again = desk
        .decide(&approval_id, ApprovalDecision::Reject, "agent-bob", None)
        .await;
    ensure!(
        matches!(&again, Err(ApprovalError::Store(PortError::Rejected { message, .. })) if message.contains("already approved")),
        "{again:?}"
    );

    // Idempotency records: the first result wins, the second write is a replay.
    let first = json!({"operationId": "op-1", "customerId": "cust-42"});
    let (stored, replayed) = store.record_once("evt-7f3a/Commit", &first).await?;
    ensure!(stored == first && !replayed);
    let (stored, replayed) = store
        .record_once("evt-7f3a/Commit", &json!({"operationId": "op-2"}))
        .await?;
    ensure!(stored == first && replayed, "{stored}");

    // Memory with a TTL, a document of the customer's, then GDPR export and delete.
    store
        .remember("cust-42", "preferred_language", &json!("es"), 3600)
        .await?;
    store
        .put_document(
            "handoff/evt-7f3a",
            &json!({"customerId": "cust-42", "summary": "refund"}),
            Some(3600),
        )
        .await?;
    // The lifecycle snapshot round-trips and is the customer's too.
    let mut life = turnflow_workflows::lifecycle::Lifecycle::new();
    life.apply(turnflow_workflows::lifecycle::LifecycleEvent::CustomerMessage)?;
    store
        .put_lifecycle("5158", Some("cust-42"), &life.snapshot())
        .await?;
    ensure!(store.lifecycle("5158").await? == Some(life.snapshot()));
    let export = store.export_customer("cust-42").await?;
    ensure!(
        export["lifecycles"]
            .as_array()
            .is_some_and(|l| l.len() == 1),
        "{export}"
    );
    ensure!(
        export["messages"].as_array().is_some_and(|m| m.len() == 1),
        "{export}"
    );
    ensure!(export["memory"][0]["value"] == "es", "{export}");
    ensure!(
        export["approvals"].as_array().is_some_and(|a| a.len() == 1),
        "{export}"
    );
    ensure!(
        export["idempotencyRecords"]
            .as_array()
            .is_some_and(|a| a.len() == 1),
        "{export}"
    );
    ensure!(
        export["approvals"][0]["task_token"] == "",
        "no token in an export"
    );

    let deleted = store.delete_customer("cust-42").await?;
    ensure!(deleted >= 7, "deleted {deleted}");
    let after = store.export_customer("cust-42").await?;
    for field in [
        "conversations",
        "messages",
        "documents",
        "memory",
        "lifecycles",
        "approvals",
        "idempotencyRecords",
    ] {
        ensure!(
            after[field].as_array().is_some_and(Vec::is_empty),
            "{field} left: {after}"
        );
    }
    ensure!(store.message("91011").await?.is_none());
    ensure!(store.approval(&approval_id).await?.is_none());
    ensure!(store.memory("cust-42").await?.is_empty());
    ensure!(store.transcript("5158", 10).await?.is_empty());
    ensure!(store.lifecycle("5158").await?.is_none());
    // Nothing anywhere in the tables mentions the customer.
    let dynamodb =
        aws_sdk_dynamodb::Client::new(&AwsSettings::local(&w._moto.endpoint()).load().await);
    for table in [
        &w.store.tables().conversations,
        &w.store.tables().approvals,
        &w.store.tables().idempotency,
    ] {
        let scan = dynamodb.scan().table_name(table).send().await?;
        let text = format!("{:?}", scan.items());
        ensure!(
            !text.contains("cust-42"),
            "{table} still mentions the customer: {text}"
        );
    }
    Ok(())
}

fn sqs_record(id: &str, body: &str, group: &str, receives: u32) -> SqsMessage {
    SqsMessage {
        message_id: Some(id.into()),
        body: Some(body.into()),
        attributes: [
            ("ApproximateReceiveCount".to_owned(), receives.to_string()),
            ("MessageGroupId".to_owned(), group.to_owned()),
        ]
        .into_iter()
        .collect(),
        ..SqsMessage::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_entry_reports_partial_batch_failures_in_conversation_order() -> anyhow::Result<()> {
    let Some(w) = world("aws_moto lambda").await? else {
        return Ok(());
    };
    let good = |id: &str, ticket: &str, comment: u64| {
        zendesk_comment(id, ticket, "cust-7", comment, "hello")
    };
    let event = SqsEvent {
        records: vec![
            sqs_record("m1", &good("e1", "100", 1), "zd-100", 1),
            sqs_record("m2", "not json", "zd-200", 1),
            sqs_record("m3", &good("e3", "300", 3), "zd-300", 1),
        ],
    };
    let ok = Ingestor::new(w.sqs.clone(), w.sfn.clone(), &w.state_machine_arn)
        .dead_letter_queue(&w.dead_letter_url);
    let response = ok.handle_sqs_event(event).await;
    ensure!(response.batch_item_failures.is_empty(), "{response:?}");

    // A state machine that does not exist: every start fails transiently; the failed message's
    // conversation stops there, and a message past its last receive is dead-lettered.
    let broken = Ingestor::new(
        w.sqs.clone(),
        w.sfn.clone(),
        "arn:aws:states:us-east-1:123456789012:stateMachine:missing",
    )
    .dead_letter_queue(&w.dead_letter_url)
    .max_receives(3);
    let event = SqsEvent {
        records: vec![
            sqs_record("n1", &good("f1", "400", 11), "zd-400", 1),
            sqs_record("n2", &good("f2", "400", 12), "zd-400", 1),
            sqs_record("n3", &good("f3", "500", 13), "zd-500", 3),
        ],
    };
    let response = broken.handle_sqs_event(event).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    ensure!(failed == ["n1", "n2"], "{failed:?}");
    let dead = w
        .sqs
        .receive_message()
        .queue_url(&w.dead_letter_url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .wait_time_seconds(1)
        .send()
        .await?;
    let reasons: Vec<String> = dead
        .messages()
        .iter()
        .filter_map(|m| {
            m.message_attributes()?
                .get(REASON_ATTRIBUTE)?
                .string_value()
                .map(str::to_owned)
        })
        .collect();
    ensure!(
        reasons.iter().any(|r| r.starts_with("malformed event")),
        "{reasons:?}"
    );
    ensure!(
        reasons
            .iter()
            .any(|r| r.starts_with("gave up after 3 receives")),
        "{reasons:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_creates_then_updates_and_publishes_versions() -> anyhow::Result<()> {
    use turnflow_activities::aws::deploy::{Deployment, deploy};
    let Some(moto) = Moto::start("aws_moto deploy") else {
        return Ok(());
    };
    let sfn = aws_sdk_sfn::Client::new(&AwsSettings::local(&moto.endpoint()).load().await);
    let definition = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../state-machines/turn.asl.json"),
    )?;
    let mut substitutions: std::collections::BTreeMap<String, String> = [
        "Triage", "Retrieve", "Act", "Verify", "Commit", "Respond", "Escalate",
    ]
    .iter()
    .map(|s| {
        (
            format!("{s}ActivityArn"),
            format!(
                "arn:aws:states:us-east-1:123456789012:activity:turnflow-{}",
                s.to_lowercase()
            ),
        )
    })
    .collect();
    substitutions.insert(
        "ApprovalQueueUrl".into(),
        "https://sqs.us-east-1.amazonaws.com/123456789012/turnflow-approvals".into(),
    );
    let mut deployment = Deployment {
        name: "turnflow-turn".into(),
        role_arn: ROLE.into(),
        definition,
        substitutions,
        description: Some("first".into()),
    };
    let first = deploy(&sfn, &deployment).await?;
    ensure!(first.created, "{first:?}");
    let described = sfn
        .describe_state_machine()
        .state_machine_arn(&first.state_machine_arn)
        .send()
        .await?;
    ensure!(!described.definition.contains("${"), "placeholders left");
    ensure!(described.definition.contains("activity:turnflow-triage"));

    deployment.description = Some("second".into());
    let second = deploy(&sfn, &deployment).await?;
    ensure!(!second.created && second.state_machine_arn == first.state_machine_arn);
    // Each deploy publishes a version; executions started on version 1 stay on it.
    ensure!(
        first.version_arn.as_deref()
            == Some("arn:aws:states:us-east-1:123456789012:stateMachine:turnflow-turn:1")
            && second.version_arn.as_deref()
                == Some("arn:aws:states:us-east-1:123456789012:stateMachine:turnflow-turn:2"),
        "{first:?} {second:?}"
    );

    deployment.substitutions.remove("ApprovalQueueUrl");
    let missing = deploy(&sfn, &deployment).await;
    ensure!(
        missing.as_ref().err().map(ToString::to_string)
            == Some("the definition's placeholder ${ApprovalQueueUrl} has no substitution".into()),
        "{missing:?}"
    );
    Ok(())
}
