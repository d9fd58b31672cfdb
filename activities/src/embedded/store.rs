//! The conversation store on SQLite: messages, documents and memory with TTLs, approvals with a
//! conditional decision, idempotency records, lifecycle snapshots, GDPR export and erasure.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};
use turnflow_workflows::lifecycle::Snapshot;

use crate::handlers::Clock;
use crate::ports::{Approval, Author, ConversationStore, Message, Port, PortError, PortResult};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
  id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, author TEXT NOT NULL,
  text TEXT NOT NULL, at INTEGER NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages (conversation_id, seq);
CREATE TABLE IF NOT EXISTS documents (id TEXT PRIMARY KEY, body TEXT NOT NULL, expires_at INTEGER);
CREATE TABLE IF NOT EXISTS memory (
  customer_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires_at INTEGER NOT NULL,
  PRIMARY KEY (customer_id, key));
CREATE TABLE IF NOT EXISTS approvals (
  approval_id TEXT PRIMARY KEY, customer_id TEXT, conversation_id TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, result TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (
  conversation_id TEXT PRIMARY KEY, customer_id TEXT, lifecycle TEXT NOT NULL);
";

/// The SQLite conversation store.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

const ERR: fn(rusqlite::Error) -> PortError = |e| PortError::Unavailable {
    port: Port::Store,
    message: e.to_string(),
};
const JSON: fn(serde_json::Error) -> PortError = |e| PortError::Unavailable {
    port: Port::Store,
    message: format!("stored json: {e}"),
};

impl SqliteStore {
    /// A store in a file (WAL).
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> PortResult<SqliteStore> {
        let conn = Connection::open(path).map_err(ERR)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(ERR)?;
        SqliteStore::with(conn, clock)
    }

    /// A store in memory (tests, evaluation).
    pub fn in_memory(clock: Arc<dyn Clock>) -> PortResult<SqliteStore> {
        SqliteStore::with(Connection::open_in_memory().map_err(ERR)?, clock)
    }

    fn with(conn: Connection, clock: Arc<dyn Clock>) -> PortResult<SqliteStore> {
        conn.execute_batch(SCHEMA).map_err(ERR)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            clock,
        })
    }

    fn conn(&self) -> PortResult<MutexGuard<'_, Connection>> {
        self.conn.lock().map_err(|_| PortError::Unavailable {
            port: Port::Store,
            message: "the store's lock is poisoned".into(),
        })
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The approvals with `status` (all when `None`), oldest first.
    pub fn approvals(&self, status: Option<&str>) -> PortResult<Vec<Approval>> {
        let c = self.conn()?;
        let mut stmt = c
            .prepare("SELECT body FROM approvals ORDER BY rowid")
            .map_err(ERR)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(ERR)?;
        let mut out = Vec::new();
        for row in rows {
            let approval: Approval = serde_json::from_str(&row.map_err(ERR)?).map_err(JSON)?;
            if status.is_none_or(|s| approval.status == s) {
                out.push(approval);
            }
        }
        Ok(out)
    }

    /// Deletes what has expired; returns how many rows went.
    pub fn sweep(&self) -> PortResult<usize> {
        let now = self.now();
        let c = self.conn()?;
        let a = c
            .execute(
                "DELETE FROM documents WHERE expires_at IS NOT NULL AND expires_at <= ?1",
                [now],
            )
            .map_err(ERR)?;
        let b = c
            .execute("DELETE FROM memory WHERE expires_at <= ?1", [now])
            .map_err(ERR)?;
        Ok(a + b)
    }
}

fn author_str(a: Author) -> &'static str {
    match a {
        Author::Customer => "customer",
        Author::Bot => "bot",
        Author::Agent => "agent",
    }
}

fn author_of(s: &str) -> Author {
    match s {
        "bot" => Author::Bot,
        "agent" => Author::Agent,
        _ => Author::Customer,
    }
}

fn expiry(now: i64, ttl_seconds: u64) -> i64 {
    now.saturating_add(
        i64::try_from(ttl_seconds)
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000),
    )
}

type Row = (String, String, String, String, i64);

fn message_of((id, conversation_id, author, text, at): Row) -> Message {
    Message {
        id,
        conversation_id,
        author: author_of(&author),
        text,
        at,
    }
}

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn append_message(&self, m: &Message) -> PortResult<()> {
        let c = self.conn()?;
        c.execute(
            "INSERT OR IGNORE INTO messages (id, conversation_id, author, text, at, seq)
             VALUES (?1, ?2, ?3, ?4, ?5, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages))",
            params![m.id, m.conversation_id, author_str(m.author), m.text, m.at],
        )
        .map_err(ERR)?;
        Ok(())
    }

    async fn message(&self, id: &str) -> PortResult<Option<Message>> {
        let c = self.conn()?;
        let row: Option<Row> = c
            .query_row(
                "SELECT id, conversation_id, author, text, at FROM messages WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .map_err(ERR)?;
        Ok(row.map(message_of))
    }

    async fn transcript(&self, conversation_id: &str, limit: usize) -> PortResult<Vec<Message>> {
        let c = self.conn()?;
        let mut stmt = c
            .prepare(
                "SELECT id, conversation_id, author, text, at FROM messages
                 WHERE conversation_id = ?1 ORDER BY seq DESC LIMIT ?2",
            )
            .map_err(ERR)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![conversation_id, limit], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .map_err(ERR)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(message_of(row.map_err(ERR)?));
        }
        out.reverse();
        Ok(out)
    }

    async fn put_document(&self, id: &str, document: &Value, ttl: Option<u64>) -> PortResult<()> {
        let expires = ttl.map(|t| expiry(self.now(), t));
        let body = serde_json::to_string(document).map_err(JSON)?;
        self.conn()?
            .execute(
                "INSERT INTO documents (id, body, expires_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET body = excluded.body, expires_at = excluded.expires_at",
                params![id, body, expires],
            )
            .map_err(ERR)?;
        Ok(())
    }

    async fn document(&self, id: &str) -> PortResult<Option<Value>> {
        let now = self.now();
        let body: Option<String> = self
            .conn()?
            .query_row(
                "SELECT body FROM documents WHERE id = ?1 AND (expires_at IS NULL OR expires_at > ?2)",
                params![id, now],
                |r| r.get(0),
            )
            .optional()
            .map_err(ERR)?;
        body.map(|b| serde_json::from_str(&b).map_err(JSON))
            .transpose()
    }

    async fn remember(&self, customer: &str, key: &str, value: &Value, ttl: u64) -> PortResult<()> {
        let expires = expiry(self.now(), ttl);
        let value = serde_json::to_string(value).map_err(JSON)?;
        self.conn()?
            .execute(
                "INSERT INTO memory (customer_id, key, value, expires_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (customer_id, key) DO UPDATE SET value = excluded.value,
                 expires_at = excluded.expires_at",
                params![customer, key, value, expires],
            )
            .map_err(ERR)?;
        Ok(())
    }

    async fn memory(&self, customer: &str) -> PortResult<Vec<(String, Value)>> {
        let now = self.now();
        let c = self.conn()?;
        let mut stmt = c
            .prepare(
                "SELECT key, value FROM memory WHERE customer_id = ?1 AND expires_at > ?2 ORDER BY key",
            )
            .map_err(ERR)?;
        let rows = stmt
            .query_map(params![customer, now], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(ERR)?;
        let mut out = Vec::new();
        for row in rows {
            let (k, v) = row.map_err(ERR)?;
            out.push((k, serde_json::from_str(&v).map_err(JSON)?));
        }
        Ok(out)
    }

    async fn put_approval(&self, a: &Approval) -> PortResult<()> {
        let body = serde_json::to_string(a).map_err(JSON)?;
        self.conn()?
            .execute(
                "INSERT INTO approvals (approval_id, customer_id, conversation_id, body)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (approval_id) DO UPDATE SET body = excluded.body",
                params![a.approval_id, a.customer_id, a.conversation_id, body],
            )
            .map_err(ERR)?;
        Ok(())
    }

    async fn approval(&self, id: &str) -> PortResult<Option<Approval>> {
        let body: Option<String> = self
            .conn()?
            .query_row(
                "SELECT body FROM approvals WHERE approval_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(ERR)?;
        body.map(|b| serde_json::from_str(&b).map_err(JSON))
            .transpose()
    }

    async fn decide(&self, id: &str, status: &str, approver: &str) -> PortResult<Approval> {
        let now = self.now();
        let mut c = self.conn()?;
        let tx = c.transaction().map_err(ERR)?;
        let body: Option<String> = tx
            .query_row(
                "SELECT body FROM approvals WHERE approval_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(ERR)?;
        let Some(body) = body else {
            return Err(PortError::Rejected {
                port: Port::Store,
                message: format!("no approval {id}"),
            });
        };
        let mut a: Approval = serde_json::from_str(&body).map_err(JSON)?;
        if a.status != "pending" {
            return Err(PortError::Rejected {
                port: Port::Store,
                message: format!("approval {id} is already {}", a.status),
            });
        }
        a.status = status.to_owned();
        a.approver = Some(approver.to_owned());
        a.audit
            .push(json!({ "at": now, "who": approver, "what": status }));
        let body = serde_json::to_string(&a).map_err(JSON)?;
        tx.execute(
            "UPDATE approvals SET body = ?2 WHERE approval_id = ?1",
            params![id, body],
        )
        .map_err(ERR)?;
        tx.commit().map_err(ERR)?;
        Ok(a)
    }

    async fn record_once(&self, key: &str, result: &Value) -> PortResult<(Value, bool)> {
        let body = serde_json::to_string(result).map_err(JSON)?;
        let c = self.conn()?;
        let inserted = c
            .execute(
                "INSERT OR IGNORE INTO idempotency (key, result) VALUES (?1, ?2)",
                params![key, body],
            )
            .map_err(ERR)?;
        if inserted == 1 {
            return Ok((result.clone(), false));
        }
        let stored: String = c
            .query_row(
                "SELECT result FROM idempotency WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .map_err(ERR)?;
        Ok((serde_json::from_str(&stored).map_err(JSON)?, true))
    }

    async fn export_customer(&self, customer: &str) -> PortResult<Value> {
        let memory = self.memory(customer).await?;
        let c = self.conn()?;
        let conversations = strings(
            &c,
            "SELECT conversation_id FROM conversations WHERE customer_id = ?1 ORDER BY conversation_id",
            customer,
        )?;
        let approvals = strings(
            &c,
            "SELECT body FROM approvals WHERE customer_id = ?1",
            customer,
        )?;
        let mut messages = Vec::new();
        let mut documents = Vec::new();
        for conv in &conversations {
            let mut stmt = c
                .prepare("SELECT id, author, text, at FROM messages WHERE conversation_id = ?1 ORDER BY seq")
                .map_err(ERR)?;
            let rows = stmt
                .query_map([conv], |r| {
                    Ok(json!({"conversationId": conv, "id": r.get::<_, String>(0)?,
                        "author": r.get::<_, String>(1)?, "text": r.get::<_, String>(2)?,
                        "at": r.get::<_, i64>(3)?}))
                })
                .map_err(ERR)?;
            for row in rows {
                messages.push(row.map_err(ERR)?);
            }
            for body in strings(
                &c,
                "SELECT body FROM documents WHERE id LIKE ?1 || '/%'",
                conv,
            )? {
                documents.push(serde_json::from_str::<Value>(&body).map_err(JSON)?);
            }
        }
        let approvals: Vec<Value> = approvals
            .iter()
            .map(|b| serde_json::from_str(b).map_err(JSON))
            .collect::<PortResult<_>>()?;
        Ok(json!({
            "customerId": customer,
            "conversations": conversations,
            "messages": messages,
            "documents": documents,
            "memory": memory.into_iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
            "approvals": approvals,
        }))
    }

    async fn delete_customer(&self, customer: &str) -> PortResult<u64> {
        let mut c = self.conn()?;
        let tx = c.transaction().map_err(ERR)?;
        let conversations = strings(
            &tx,
            "SELECT conversation_id FROM conversations WHERE customer_id = ?1",
            customer,
        )?;
        let mut n = 0usize;
        for conv in &conversations {
            n += tx
                .execute("DELETE FROM messages WHERE conversation_id = ?1", [conv])
                .map_err(ERR)?;
            n += tx
                .execute("DELETE FROM documents WHERE id LIKE ?1 || '/%'", [conv])
                .map_err(ERR)?;
        }
        n += tx
            .execute(
                "DELETE FROM conversations WHERE customer_id = ?1",
                [customer],
            )
            .map_err(ERR)?;
        n += tx
            .execute("DELETE FROM memory WHERE customer_id = ?1", [customer])
            .map_err(ERR)?;
        n += tx
            .execute("DELETE FROM approvals WHERE customer_id = ?1", [customer])
            .map_err(ERR)?;
        tx.commit().map_err(ERR)?;
        Ok(u64::try_from(n).unwrap_or(u64::MAX))
    }

    async fn lifecycle(&self, conversation_id: &str) -> PortResult<Option<Snapshot>> {
        let body: Option<String> = self
            .conn()?
            .query_row(
                "SELECT lifecycle FROM conversations WHERE conversation_id = ?1",
                [conversation_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(ERR)?;
        body.map(|b| serde_json::from_str(&b).map_err(JSON))
            .transpose()
    }

    async fn put_lifecycle(
        &self,
        conversation_id: &str,
        customer_id: Option<&str>,
        snapshot: &Snapshot,
    ) -> PortResult<()> {
        let body = serde_json::to_string(snapshot).map_err(JSON)?;
        self.conn()?
            .execute(
                "INSERT INTO conversations (conversation_id, customer_id, lifecycle) VALUES (?1, ?2, ?3)
                 ON CONFLICT (conversation_id) DO UPDATE SET lifecycle = excluded.lifecycle,
                 customer_id = COALESCE(excluded.customer_id, conversations.customer_id)",
                params![conversation_id, customer_id, body],
            )
            .map_err(ERR)?;
        Ok(())
    }
}

fn strings(c: &Connection, sql: &str, arg: &str) -> PortResult<Vec<String>> {
    let mut stmt = c.prepare(sql).map_err(ERR)?;
    let rows = stmt
        .query_map([arg], |r| r.get::<_, String>(0))
        .map_err(ERR)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row.map_err(ERR)?);
    }
    Ok(out)
}
