//! The conversation store on DynamoDB, behind the same [`ConversationStore`] port as the
//! embedded one.
//!
//! Three tables (names in [`StoreTables`]), each with a `byCustomer` index on `customerId` for
//! GDPR requests and a TTL attribute `expiresAt` (epoch seconds; DynamoDB deletes expired items
//! within days, so reads also filter them out):
//! - **conversations** (`pk`, `sk`): messages (`CONV#{conversation}` / `MSG#{at}#{id}`, with a
//!   pointer `MSG#{id}` for lookups by id), documents (`DOC#{id}`), memory (`CUST#{customer}` /
//!   `MEM#{key}`). A document with a top-level `customerId` belongs to that customer; the
//!   document `conversation/{id}` names a conversation's owner, whose messages are then tagged.
//! - **approvals** (`approvalId`): task token, status, approver and the audit trail; a decision
//!   is a conditional update that only a pending approval accepts.
//! - **idempotency** (`idempotencyKey`): results recorded once by a conditional put.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_sdk_dynamodb::error::ProvideErrorMetadata as _;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use serde_json::{Value, json};

use turnflow_workflows::lifecycle::Snapshot;

use crate::ports::{Approval, ConversationStore, Message, Port, PortError, PortResult};

/// The name of the index on `customerId` every table has.
pub const CUSTOMER_INDEX: &str = "byCustomer";

/// How long idempotency records are kept.
const IDEMPOTENCY_TTL_SECONDS: u64 = 30 * 24 * 3600;

/// The tables' names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreTables {
    /// Messages, documents and memory.
    pub conversations: String,
    /// Approvals.
    pub approvals: String,
    /// Idempotency records.
    pub idempotency: String,
}

impl StoreTables {
    /// The tables named `{prefix}-conversations`, `{prefix}-approvals`, `{prefix}-idempotency`.
    pub fn with_prefix(prefix: &str) -> StoreTables {
        StoreTables {
            conversations: format!("{prefix}-conversations"),
            approvals: format!("{prefix}-approvals"),
            idempotency: format!("{prefix}-idempotency"),
        }
    }
}

/// The DynamoDB conversation store.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    tables: StoreTables,
}

type Item = HashMap<String, AttributeValue>;

fn unavailable(operation: &str, err: impl std::fmt::Display) -> PortError {
    PortError::Unavailable {
        port: Port::Store,
        message: format!("dynamodb {operation}: {err}"),
    }
}

fn sdk_error<E, R>(operation: &str, err: &aws_sdk_dynamodb::error::SdkError<E, R>) -> PortError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err.code() {
        Some(code) => unavailable(
            operation,
            format!("{code}: {}", err.message().unwrap_or_default()),
        ),
        None => unavailable(
            operation,
            aws_smithy_types::error::display::DisplayErrorContext(err),
        ),
    }
}

fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

fn get_json(item: &Item, name: &str) -> PortResult<Value> {
    let text = get_s(item, name).ok_or_else(|| unavailable("read", format!("no `{name}`")))?;
    serde_json::from_str(text).map_err(|e| unavailable("read", e))
}

fn expired(item: &Item, now: u64) -> bool {
    item.get("expiresAt")
        .and_then(|v| v.as_n().ok())
        .and_then(|t| t.parse::<u64>().ok())
        .is_some_and(|t| t <= now)
}

fn to_json<T: serde::Serialize>(v: &T) -> PortResult<String> {
    serde_json::to_string(v).map_err(|e| unavailable("write", e))
}

impl DynamoStore {
    /// A store on these tables; the client is built once by the caller.
    pub fn new(client: aws_sdk_dynamodb::Client, tables: StoreTables) -> DynamoStore {
        DynamoStore { client, tables }
    }

    /// The tables.
    pub fn tables(&self) -> &StoreTables {
        &self.tables
    }

    /// Creates the three tables (pay per request, `byCustomer` index, TTL on `expiresAt`) when
    /// they do not exist: for tests and `turnflow deploy` without CloudFormation.
    pub async fn create_tables(&self) -> PortResult<()> {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
            Projection, ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
        };
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| unavailable("CreateTable", e))
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(|e| unavailable("CreateTable", e))
        };
        let specs: [(&str, Vec<&str>); 3] = [
            (&self.tables.conversations, vec!["pk", "sk"]),
            (&self.tables.approvals, vec!["approvalId"]),
            (&self.tables.idempotency, vec!["idempotencyKey"]),
        ];
        for (table, keys) in specs {
            let mut create = self
                .client
                .create_table()
                .table_name(table)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(attr("customerId")?)
                .global_secondary_indexes(
                    GlobalSecondaryIndex::builder()
                        .index_name(CUSTOMER_INDEX)
                        .key_schema(key("customerId", KeyType::Hash)?)
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::KeysOnly)
                                .build(),
                        )
                        .build()
                        .map_err(|e| unavailable("CreateTable", e))?,
                );
            for (i, k) in keys.iter().enumerate() {
                let kind = if i == 0 {
                    KeyType::Hash
                } else {
                    KeyType::Range
                };
                create = create
                    .attribute_definitions(attr(k)?)
                    .key_schema(key(k, kind)?);
            }
            match create.send().await {
                Ok(_) => {}
                Err(e) if e.code() == Some("ResourceInUseException") => continue,
                Err(e) => return Err(sdk_error("CreateTable", &e)),
            }
            self.client
                .update_time_to_live()
                .table_name(table)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .enabled(true)
                        .attribute_name("expiresAt")
                        .build()
                        .map_err(|e| unavailable("UpdateTimeToLive", e))?,
                )
                .send()
                .await
                .map_err(|e| sdk_error("UpdateTimeToLive", &e))?;
        }
        Ok(())
    }

    async fn get(&self, table: &str, key: Item) -> PortResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", &e))?;
        Ok(out.item)
    }

    async fn put(&self, table: &str, item: Item) -> PortResult<()> {
        self.client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| sdk_error("PutItem", &e))?;
        Ok(())
    }

    async fn delete(&self, table: &str, key: Item) -> PortResult<()> {
        self.client
            .delete_item()
            .table_name(table)
            .set_key(Some(key))
            .send()
            .await
            .map_err(|e| sdk_error("DeleteItem", &e))?;
        Ok(())
    }

    /// Every item of a query, following pages.
    async fn query_all(
        &self,
        table: &str,
        index: Option<&str>,
        condition: &str,
        values: Item,
    ) -> PortResult<Vec<Item>> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(table)
                .set_index_name(index.map(str::to_owned))
                .key_condition_expression(condition)
                .set_expression_attribute_values(Some(values.clone()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("Query", &e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    fn pk_sk(pk: String, sk: &str) -> Item {
        HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
    }

    async fn owner_of(&self, conversation_id: &str) -> PortResult<Option<String>> {
        let doc = self
            .get(
                &self.tables.conversations,
                Self::pk_sk(format!("DOC#conversation/{conversation_id}"), "DOC"),
            )
            .await?;
        if let Some(c) = doc.as_ref().and_then(|d| get_s(d, "customerId")) {
            return Ok(Some(c.to_owned()));
        }
        // The lifecycle snapshot links a conversation to its customer too.
        let life = self
            .get(
                &self.tables.conversations,
                Self::pk_sk(format!("LIFE#{conversation_id}"), "LIFE"),
            )
            .await?;
        Ok(life.and_then(|l| get_s(&l, "customerId").map(str::to_owned)))
    }

    /// The keys of every item of a customer in `table`, by the `byCustomer` index.
    async fn customer_keys(&self, table: &str, customer_id: &str) -> PortResult<Vec<Item>> {
        self.query_all(
            table,
            Some(CUSTOMER_INDEX),
            "customerId = :c",
            HashMap::from([(":c".to_owned(), s(customer_id))]),
        )
        .await
    }

    /// The conversations a customer owns, and every item (keys) of theirs in the conversations
    /// table, messages of those conversations included.
    async fn customer_conversation_items(
        &self,
        customer_id: &str,
    ) -> PortResult<(Vec<String>, Vec<Item>)> {
        let mut keys = self
            .customer_keys(&self.tables.conversations, customer_id)
            .await?;
        let mut conversations = Vec::new();
        for k in &keys {
            let pk = get_s(k, "pk").unwrap_or_default();
            if let Some(conv) = pk
                .strip_prefix("DOC#conversation/")
                .or_else(|| pk.strip_prefix("LIFE#"))
                && !conversations.iter().any(|c| c == conv)
            {
                conversations.push(conv.to_owned());
            }
        }
        for conv in &conversations {
            // Messages appended before the owner was known carry no customerId: find them by
            // conversation, with their pointers.
            let messages = self
                .query_all(
                    &self.tables.conversations,
                    None,
                    "pk = :p",
                    HashMap::from([(":p".to_owned(), s(format!("CONV#{conv}")))]),
                )
                .await?;
            for m in messages {
                if let Some(id) = get_s(&m, "id") {
                    keys.push(Self::pk_sk(format!("MSG#{id}"), "MSG"));
                }
                if let (Some(pk), Some(sk)) = (get_s(&m, "pk"), get_s(&m, "sk")) {
                    keys.push(Self::pk_sk(pk.to_owned(), sk));
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        keys.retain(|k| {
            seen.insert((
                get_s(k, "pk").unwrap_or_default().to_owned(),
                get_s(k, "sk").unwrap_or_default().to_owned(),
            ))
        });
        Ok((conversations, keys))
    }

    fn only_key(item: &Item, names: &[&str]) -> Item {
        names
            .iter()
            .filter_map(|n| item.get(*n).map(|v| ((*n).to_owned(), v.clone())))
            .collect()
    }
}

fn approval_from(item: &Item) -> PortResult<Approval> {
    let audit = match item.get("audit") {
        Some(AttributeValue::L(entries)) => entries
            .iter()
            .filter_map(|e| e.as_s().ok())
            .map(|t| serde_json::from_str(t).map_err(|e| unavailable("read", e)))
            .collect::<PortResult<Vec<Value>>>()?,
        _ => Vec::new(),
    };
    Ok(Approval {
        approval_id: get_s(item, "approvalId").unwrap_or_default().to_owned(),
        task_token: get_s(item, "taskToken").unwrap_or_default().to_owned(),
        conversation_id: get_s(item, "conversationId").unwrap_or_default().to_owned(),
        customer_id: get_s(item, "customerId").map(str::to_owned),
        proposal: get_json(item, "proposal")?,
        status: get_s(item, "status").unwrap_or_default().to_owned(),
        approver: get_s(item, "approver").map(str::to_owned),
        audit,
    })
}

#[async_trait]
impl ConversationStore for DynamoStore {
    async fn append_message(&self, message: &Message) -> PortResult<()> {
        let body = to_json(message)?;
        let owner = self.owner_of(&message.conversation_id).await?;
        let at = u64::try_from(message.at).unwrap_or(0);
        let mut item = Self::pk_sk(
            format!("CONV#{}", message.conversation_id),
            &format!("MSG#{at:020}#{}", message.id),
        );
        item.insert("id".into(), s(&message.id));
        item.insert("body".into(), s(&body));
        let mut pointer = Self::pk_sk(format!("MSG#{}", message.id), "MSG");
        pointer.insert("body".into(), s(body));
        if let Some(c) = owner {
            item.insert("customerId".into(), s(&c));
            pointer.insert("customerId".into(), s(c));
        }
        // The pointer first, conditionally: a message delivered twice is stored once.
        let first = self
            .client
            .put_item()
            .table_name(&self.tables.conversations)
            .set_item(Some(pointer))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match first {
            Ok(_) => self.put(&self.tables.conversations, item).await,
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(()),
            Err(e) => Err(sdk_error("PutItem", &e)),
        }
    }

    async fn message(&self, id: &str) -> PortResult<Option<Message>> {
        let item = self
            .get(
                &self.tables.conversations,
                Self::pk_sk(format!("MSG#{id}"), "MSG"),
            )
            .await?;
        item.map(|i| {
            serde_json::from_value(get_json(&i, "body")?).map_err(|e| unavailable("read", e))
        })
        .transpose()
    }

    async fn transcript(&self, conversation_id: &str, limit: usize) -> PortResult<Vec<Message>> {
        let items = self
            .query_all(
                &self.tables.conversations,
                None,
                "pk = :p AND begins_with(sk, :m)",
                HashMap::from([
                    (":p".to_owned(), s(format!("CONV#{conversation_id}"))),
                    (":m".to_owned(), s("MSG#")),
                ]),
            )
            .await?;
        let mut messages = items
            .iter()
            .map(|i| {
                serde_json::from_value(get_json(i, "body")?).map_err(|e| unavailable("read", e))
            })
            .collect::<PortResult<Vec<Message>>>()?;
        let skip = messages.len().saturating_sub(limit);
        Ok(messages.split_off(skip))
    }

    async fn put_document(
        &self,
        id: &str,
        document: &Value,
        ttl_seconds: Option<u64>,
    ) -> PortResult<()> {
        let mut item = Self::pk_sk(format!("DOC#{id}"), "DOC");
        item.insert("body".into(), s(to_json(document)?));
        if let Some(c) = document.get("customerId").and_then(Value::as_str) {
            item.insert("customerId".into(), s(c));
        }
        if let Some(ttl) = ttl_seconds {
            item.insert("expiresAt".into(), n(now_seconds() + ttl));
        }
        self.put(&self.tables.conversations, item).await
    }

    async fn document(&self, id: &str) -> PortResult<Option<Value>> {
        let item = self
            .get(
                &self.tables.conversations,
                Self::pk_sk(format!("DOC#{id}"), "DOC"),
            )
            .await?;
        match item {
            Some(i) if !expired(&i, now_seconds()) => Ok(Some(get_json(&i, "body")?)),
            _ => Ok(None),
        }
    }

    async fn remember(
        &self,
        customer_id: &str,
        key: &str,
        value: &Value,
        ttl_seconds: u64,
    ) -> PortResult<()> {
        let mut item = Self::pk_sk(format!("CUST#{customer_id}"), &format!("MEM#{key}"));
        item.insert("body".into(), s(to_json(value)?));
        item.insert("customerId".into(), s(customer_id));
        item.insert("expiresAt".into(), n(now_seconds() + ttl_seconds));
        self.put(&self.tables.conversations, item).await
    }

    async fn memory(&self, customer_id: &str) -> PortResult<Vec<(String, Value)>> {
        let now = now_seconds();
        let items = self
            .query_all(
                &self.tables.conversations,
                None,
                "pk = :p AND begins_with(sk, :m)",
                HashMap::from([
                    (":p".to_owned(), s(format!("CUST#{customer_id}"))),
                    (":m".to_owned(), s("MEM#")),
                ]),
            )
            .await?;
        items
            .iter()
            .filter(|i| !expired(i, now))
            .map(|i| {
                let key = get_s(i, "sk")
                    .and_then(|k| k.strip_prefix("MEM#"))
                    .unwrap_or_default()
                    .to_owned();
                Ok((key, get_json(i, "body")?))
            })
            .collect()
    }

    async fn put_approval(&self, approval: &Approval) -> PortResult<()> {
        let mut item: Item = HashMap::from([
            ("approvalId".to_owned(), s(&approval.approval_id)),
            ("taskToken".to_owned(), s(&approval.task_token)),
            ("conversationId".to_owned(), s(&approval.conversation_id)),
            ("proposal".to_owned(), s(to_json(&approval.proposal)?)),
            ("status".to_owned(), s(&approval.status)),
            (
                "audit".to_owned(),
                AttributeValue::L(
                    approval
                        .audit
                        .iter()
                        .map(|a| to_json(a).map(s))
                        .collect::<PortResult<_>>()?,
                ),
            ),
        ]);
        if let Some(c) = &approval.customer_id {
            item.insert("customerId".into(), s(c));
        }
        if let Some(a) = &approval.approver {
            item.insert("approver".into(), s(a));
        }
        // A redelivered approval request must not reset a decision already taken.
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.approvals)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(approvalId)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(()),
            Err(e) => Err(sdk_error("PutItem", &e)),
        }
    }

    async fn approval(&self, approval_id: &str) -> PortResult<Option<Approval>> {
        let item = self
            .get(
                &self.tables.approvals,
                HashMap::from([("approvalId".to_owned(), s(approval_id))]),
            )
            .await?;
        item.as_ref().map(approval_from).transpose()
    }

    async fn decide(
        &self,
        approval_id: &str,
        status: &str,
        approver: &str,
    ) -> PortResult<Approval> {
        let entry = json!({"at": now_seconds(), "who": approver, "what": status});
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.approvals)
            .key("approvalId", s(approval_id))
            .update_expression(
                "SET #status = :status, approver = :approver, audit = list_append(audit, :entry)",
            )
            .condition_expression("attribute_exists(approvalId) AND #status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(status))
            .expression_attribute_values(":approver", s(approver))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":entry", AttributeValue::L(vec![s(to_json(&entry)?)]))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => approval_from(&out.attributes.unwrap_or_default()),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                let current = self.approval(approval_id).await?;
                Err(PortError::Rejected {
                    port: Port::Store,
                    message: match current {
                        Some(a) => format!("approval {approval_id} is already {}", a.status),
                        None => format!("no approval {approval_id}"),
                    },
                })
            }
            Err(e) => Err(sdk_error("UpdateItem", &e)),
        }
    }

    async fn record_once(&self, key: &str, result: &Value) -> PortResult<(Value, bool)> {
        let now = now_seconds();
        let mut item: Item = HashMap::from([
            ("idempotencyKey".to_owned(), s(key)),
            ("result".to_owned(), s(to_json(result)?)),
            ("recordedAt".to_owned(), n(now)),
            ("expiresAt".to_owned(), n(now + IDEMPOTENCY_TTL_SECONDS)),
        ]);
        if let Some(c) = result.get("customerId").and_then(Value::as_str) {
            item.insert("customerId".into(), s(c));
        }
        let put = self
            .client
            .put_item()
            .table_name(&self.tables.idempotency)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(idempotencyKey)")
            .send()
            .await;
        match put {
            Ok(_) => Ok((result.clone(), false)),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                let stored = self
                    .get(
                        &self.tables.idempotency,
                        HashMap::from([("idempotencyKey".to_owned(), s(key))]),
                    )
                    .await?
                    .ok_or_else(|| unavailable("GetItem", "the record vanished"))?;
                Ok((get_json(&stored, "result")?, true))
            }
            Err(e) => Err(sdk_error("PutItem", &e)),
        }
    }

    async fn export_customer(&self, customer_id: &str) -> PortResult<Value> {
        let (conversations, keys) = self.customer_conversation_items(customer_id).await?;
        let mut messages = Vec::new();
        let mut documents = Vec::new();
        let mut memory = Vec::new();
        let mut lifecycles = Vec::new();
        for k in &keys {
            let key = Self::only_key(k, &["pk", "sk"]);
            let Some(item) = self.get(&self.tables.conversations, key).await? else {
                continue;
            };
            let pk = get_s(&item, "pk").unwrap_or_default();
            let body = get_json(&item, "body")?;
            if pk.starts_with("CONV#") {
                messages.push(body);
            } else if pk.starts_with("DOC#") {
                documents.push(json!({"id": pk.trim_start_matches("DOC#"), "document": body}));
            } else if let Some(conv) = pk.strip_prefix("LIFE#") {
                lifecycles.push(json!({"conversationId": conv, "lifecycle": body}));
            } else if pk.starts_with("CUST#") {
                memory.push(json!({"key": get_s(&item, "sk").unwrap_or_default().trim_start_matches("MEM#"), "value": body}));
            }
        }
        let mut approvals = Vec::new();
        for k in self
            .customer_keys(&self.tables.approvals, customer_id)
            .await?
        {
            if let Some(id) = get_s(&k, "approvalId")
                && let Some(mut a) = self.approval(id).await?
            {
                a.task_token = String::new();
                approvals.push(serde_json::to_value(a).map_err(|e| unavailable("read", e))?);
            }
        }
        let mut records = Vec::new();
        for k in self
            .customer_keys(&self.tables.idempotency, customer_id)
            .await?
        {
            let key = Self::only_key(&k, &["idempotencyKey"]);
            if let Some(item) = self.get(&self.tables.idempotency, key).await? {
                records.push(json!({"key": get_s(&item, "idempotencyKey"), "result": get_json(&item, "result")?}));
            }
        }
        Ok(json!({
            "customerId": customer_id,
            "conversations": conversations,
            "messages": messages,
            "documents": documents,
            "memory": memory,
            "lifecycles": lifecycles,
            "approvals": approvals,
            "idempotencyRecords": records,
        }))
    }

    async fn lifecycle(&self, conversation_id: &str) -> PortResult<Option<Snapshot>> {
        let item = self
            .get(
                &self.tables.conversations,
                Self::pk_sk(format!("LIFE#{conversation_id}"), "LIFE"),
            )
            .await?;
        match item {
            Some(i) => serde_json::from_value(get_json(&i, "body")?)
                .map(Some)
                .map_err(|e| unavailable("read", e)),
            None => Ok(None),
        }
    }

    async fn put_lifecycle(
        &self,
        conversation_id: &str,
        customer_id: Option<&str>,
        snapshot: &Snapshot,
    ) -> PortResult<()> {
        let mut item = Self::pk_sk(format!("LIFE#{conversation_id}"), "LIFE");
        item.insert("body".into(), s(to_json(snapshot)?));
        let owner = match customer_id {
            Some(c) => Some(c.to_owned()),
            None => self.owner_of(conversation_id).await?,
        };
        if let Some(c) = owner {
            item.insert("customerId".into(), s(c));
        }
        self.put(&self.tables.conversations, item).await
    }

    async fn delete_customer(&self, customer_id: &str) -> PortResult<u64> {
        let (_, keys) = self.customer_conversation_items(customer_id).await?;
        let mut deleted = 0;
        for k in keys {
            self.delete(
                &self.tables.conversations,
                Self::only_key(&k, &["pk", "sk"]),
            )
            .await?;
            deleted += 1;
        }
        for (table, key) in [
            (&self.tables.approvals, "approvalId"),
            (&self.tables.idempotency, "idempotencyKey"),
        ] {
            for k in self.customer_keys(table, customer_id).await? {
                self.delete(table, Self::only_key(&k, &[key])).await?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }
}
