//! The writer's typed operations on the journal.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension as _, Row, params};

use super::{Durability, JournalError, schema};

/// The journal, as the engine's core thread writes it (one connection, one writer).
#[derive(Debug)]
pub struct Journal {
    conn: Connection,
}

/// `(id, role_arn, latest version, deleted, created_ms)` of a state machine.
pub type StateMachineRow = (i64, String, i64, bool, i64);

/// An execution's row.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionRow {
    /// Row id.
    pub id: i64,
    /// The state machine's row id.
    pub sm_id: i64,
    /// The version's row id the execution is pinned to.
    pub version_id: i64,
    /// The execution's name.
    pub name: String,
    /// See [`super::status`].
    pub status: i64,
    /// Start time (ms).
    pub start_ms: i64,
    /// Stop time (ms), once stopped.
    pub stop_ms: Option<i64>,
    /// Output JSON text, when it succeeded.
    pub output: Option<String>,
    /// Error name, when it failed.
    pub error: Option<String>,
    /// Cause, when it failed.
    pub cause: Option<String>,
    /// How many times it was redriven.
    pub redrive_count: i64,
    /// When it was last redriven.
    pub redrive_ms: Option<i64>,
}

pub(super) const EXECUTION_COLUMNS: &str = "id, sm_id, version_id, name, status, start_ms, stop_ms, output, error, cause, redrive_count, redrive_ms";

impl ExecutionRow {
    pub(super) fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(ExecutionRow {
            id: r.get(0)?,
            sm_id: r.get(1)?,
            version_id: r.get(2)?,
            name: r.get(3)?,
            status: r.get(4)?,
            start_ms: r.get(5)?,
            stop_ms: r.get(6)?,
            output: r.get(7)?,
            error: r.get(8)?,
            cause: r.get(9)?,
            redrive_count: r.get(10)?,
            redrive_ms: r.get(11)?,
        })
    }
}

/// A task token handed out by the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    /// The token.
    pub token: String,
    /// The execution's row id.
    pub exec_id: i64,
    /// The interpreter's task id.
    pub task_id: String,
    /// False once the task closed (answered, timed out, cancelled).
    pub open: bool,
    /// The last heartbeat, if any.
    pub heartbeat_ms: Option<i64>,
}

/// A message of an embedded queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    /// The message id.
    pub message_id: String,
    /// The body.
    pub body: String,
    /// When it was sent (ms).
    pub sent_ms: i64,
    /// How many times it was received.
    pub receives: i64,
}

impl Journal {
    /// Opens (or creates) the journal at `path`.
    pub fn open(path: &Path, durability: Durability) -> Result<Journal, JournalError> {
        let conn = Connection::open(path)?;
        schema::prepare(&conn, Some(durability))?;
        Ok(Journal { conn })
    }

    /// Starts a batch.
    pub fn begin(&self) -> Result<(), JournalError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(())
    }

    /// Commits the batch (to the WAL; see the module docs for when it is on disk).
    pub fn commit(&self) -> Result<(), JournalError> {
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }

    /// Abandons the batch.
    pub fn rollback(&self) -> Result<(), JournalError> {
        self.conn.execute_batch("ROLLBACK")?;
        Ok(())
    }

    // --- state machines ---

    /// `(id, role_arn, latest version, deleted, created_ms)` of a state machine by name.
    pub fn state_machine(&self, name: &str) -> Result<Option<StateMachineRow>, JournalError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id, role_arn, latest, deleted, created_ms FROM state_machines WHERE name = ?1",
            )?
            .query_row(params![name], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? != 0, r.get(4)?))
            })
            .optional()?)
    }

    /// Creates a state machine with version 1; returns `(sm id, version id)`.
    pub fn insert_state_machine(
        &self,
        name: &str,
        role_arn: &str,
        definition: &str,
        at: i64,
    ) -> Result<(i64, i64), JournalError> {
        self.conn.execute(
            "INSERT INTO state_machines (name, role_arn, created_ms, latest) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (name) DO UPDATE SET role_arn = ?2, created_ms = ?3, latest = 1, deleted = 0",
            params![name, role_arn, at],
        )?;
        let id: i64 = self.conn.query_row(
            "SELECT id FROM state_machines WHERE name = ?1",
            params![name],
            |r| r.get(0),
        )?;
        self.conn
            .execute("DELETE FROM versions WHERE sm_id = ?1", params![id])?;
        let vid = self.insert_version(id, 1, definition, role_arn, at)?;
        Ok((id, vid))
    }

    /// Adds a version; returns its row id.
    pub fn insert_version(
        &self,
        sm_id: i64,
        version: i64,
        definition: &str,
        role_arn: &str,
        at: i64,
    ) -> Result<i64, JournalError> {
        self.conn.execute(
            "INSERT INTO versions (sm_id, version, definition, role_arn, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![sm_id, version, definition, role_arn, at],
        )?;
        let vid = self.conn.last_insert_rowid();
        self.conn.execute(
            "UPDATE state_machines SET latest = ?2, role_arn = ?3 WHERE id = ?1",
            params![sm_id, version, role_arn],
        )?;
        Ok(vid)
    }

    /// `(version row id, definition)` of a version.
    pub fn version(&self, sm_id: i64, version: i64) -> Result<Option<(i64, String)>, JournalError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id, definition FROM versions WHERE sm_id = ?1 AND version = ?2",
            )?
            .query_row(params![sm_id, version], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// `(definition, version number)` of a version row.
    pub fn version_by_id(&self, id: i64) -> Result<Option<(String, i64)>, JournalError> {
        Ok(self
            .conn
            .prepare_cached("SELECT definition, version FROM versions WHERE id = ?1")?
            .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// Marks a state machine deleted (its executions and versions stay readable).
    pub fn delete_state_machine(&self, sm_id: i64) -> Result<(), JournalError> {
        self.conn.execute(
            "UPDATE state_machines SET deleted = 1 WHERE id = ?1",
            params![sm_id],
        )?;
        Ok(())
    }

    // --- activities ---

    /// The creation time of an activity.
    pub fn activity(&self, name: &str) -> Result<Option<i64>, JournalError> {
        Ok(self
            .conn
            .prepare_cached("SELECT created_ms FROM activities WHERE name = ?1")?
            .query_row(params![name], |r| r.get(0))
            .optional()?)
    }

    /// Creates an activity.
    pub fn insert_activity(&self, name: &str, at: i64) -> Result<(), JournalError> {
        self.conn.execute(
            "INSERT INTO activities (name, created_ms) VALUES (?1, ?2)",
            params![name, at],
        )?;
        Ok(())
    }

    /// Deletes an activity.
    pub fn delete_activity(&self, name: &str) -> Result<(), JournalError> {
        self.conn
            .execute("DELETE FROM activities WHERE name = ?1", params![name])?;
        Ok(())
    }

    // --- executions ---

    /// Records a new running execution; returns its row id.
    pub fn insert_execution(
        &self,
        sm_id: i64,
        version_id: i64,
        name: &str,
        at: i64,
    ) -> Result<i64, JournalError> {
        self.conn
            .prepare_cached(
                "INSERT INTO executions (sm_id, version_id, name, status, start_ms) VALUES (?1, ?2, ?3, 0, ?4)",
            )?
            .execute(params![sm_id, version_id, name, at])?;
        Ok(self.conn.last_insert_rowid())
    }

    /// An execution by state machine and name.
    pub fn execution_by_name(
        &self,
        sm_id: i64,
        name: &str,
    ) -> Result<Option<ExecutionRow>, JournalError> {
        let sql =
            format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE sm_id = ?1 AND name = ?2");
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row(params![sm_id, name], ExecutionRow::from_row)
            .optional()?)
    }

    /// An execution by row id.
    pub fn execution(&self, id: i64) -> Result<Option<ExecutionRow>, JournalError> {
        let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE id = ?1");
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row(params![id], ExecutionRow::from_row)
            .optional()?)
    }

    /// The row ids of the running executions.
    pub fn running(&self) -> Result<Vec<i64>, JournalError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM executions WHERE status = 0 ORDER BY id")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<i64>, _>>()?;
        Ok(ids)
    }

    /// Records how an execution ended.
    pub fn finish_execution(
        &self,
        id: i64,
        status: i64,
        at: i64,
        output: Option<&str>,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), JournalError> {
        self.conn
            .prepare_cached(
                "UPDATE executions SET status = ?2, stop_ms = ?3, output = ?4, error = ?5, cause = ?6 WHERE id = ?1",
            )?
            .execute(params![id, status, at, output, error, cause])?;
        Ok(())
    }

    /// Marks an execution running again after a redrive.
    pub fn redrive_execution(&self, id: i64, at: i64) -> Result<(), JournalError> {
        self.conn.execute(
            "UPDATE executions SET status = 0, stop_ms = NULL, output = NULL, error = NULL, cause = NULL,
             redrive_count = redrive_count + 1, redrive_ms = ?2 WHERE id = ?1",
            params![id, at],
        )?;
        Ok(())
    }

    // --- events ---

    /// Appends an event to an execution's journal.
    pub fn append(&self, exec_id: i64, seq: i64, body: &[u8]) -> Result<(), JournalError> {
        self.conn
            .prepare_cached("INSERT INTO events (exec_id, seq, body) VALUES (?1, ?2, ?3)")?
            .execute(params![exec_id, seq, body])?;
        Ok(())
    }

    /// An execution's events, in order.
    pub fn events(&self, exec_id: i64) -> Result<Vec<Vec<u8>>, JournalError> {
        read_events(&self.conn, exec_id)
    }

    // --- tokens ---

    /// Records a token handed out for a task.
    pub fn insert_token(
        &self,
        token: &str,
        exec_id: i64,
        task_id: &str,
    ) -> Result<(), JournalError> {
        self.conn
            .prepare_cached(
                "INSERT INTO tokens (token, exec_id, task_id, open) VALUES (?1, ?2, ?3, 1)",
            )?
            .execute(params![token, exec_id, task_id])?;
        Ok(())
    }

    /// A token's row.
    pub fn token(&self, token: &str) -> Result<Option<TokenRow>, JournalError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT token, exec_id, task_id, open, heartbeat_ms FROM tokens WHERE token = ?1",
            )?
            .query_row(params![token], token_row)
            .optional()?)
    }

    /// The open tokens of an execution.
    pub fn open_tokens(&self, exec_id: i64) -> Result<Vec<TokenRow>, JournalError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT token, exec_id, task_id, open, heartbeat_ms FROM tokens WHERE exec_id = ?1 AND open = 1",
        )?;
        let rows = stmt
            .query_map(params![exec_id], token_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Closes a token: later answers get `TaskTimedOut`.
    pub fn close_token(&self, token: &str) -> Result<(), JournalError> {
        self.conn
            .prepare_cached("UPDATE tokens SET open = 0 WHERE token = ?1")?
            .execute(params![token])?;
        Ok(())
    }

    /// Closes every open token of an execution.
    pub fn close_tokens(&self, exec_id: i64) -> Result<(), JournalError> {
        self.conn
            .prepare_cached("UPDATE tokens SET open = 0 WHERE exec_id = ?1 AND open = 1")?
            .execute(params![exec_id])?;
        Ok(())
    }

    /// Records a heartbeat.
    pub fn heartbeat(&self, token: &str, at: i64) -> Result<(), JournalError> {
        self.conn
            .prepare_cached("UPDATE tokens SET heartbeat_ms = ?2 WHERE token = ?1")?
            .execute(params![token, at])?;
        Ok(())
    }

    // --- queues ---

    /// Puts a message on an embedded queue.
    pub fn send_message(
        &self,
        queue: &str,
        message_id: &str,
        body: &str,
        at: i64,
    ) -> Result<(), JournalError> {
        self.conn
            .prepare_cached(
                "INSERT INTO messages (queue, message_id, body, sent_ms, visible_ms) VALUES (?1, ?2, ?3, ?4, ?4)",
            )?
            .execute(params![queue, message_id, body, at])?;
        Ok(())
    }

    /// Receives up to `max` visible messages, hiding them for `visibility_ms`.
    pub fn receive_messages(
        &self,
        queue: &str,
        max: usize,
        now: i64,
        visibility_ms: i64,
    ) -> Result<Vec<MessageRow>, JournalError> {
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(
            "UPDATE messages SET visible_ms = ?3 + ?4, receives = receives + 1
             WHERE id IN (SELECT id FROM messages WHERE queue = ?1 AND visible_ms <= ?3 ORDER BY id LIMIT ?2)
             RETURNING message_id, body, sent_ms, receives",
        )?;
        let rows = stmt
            .query_map(params![queue, limit, now, visibility_ms], |r| {
                Ok(MessageRow {
                    message_id: r.get(0)?,
                    body: r.get(1)?,
                    sent_ms: r.get(2)?,
                    receives: r.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Deletes a message; true when it existed.
    pub fn delete_message(&self, queue: &str, message_id: &str) -> Result<bool, JournalError> {
        let n = self.conn.execute(
            "DELETE FROM messages WHERE queue = ?1 AND message_id = ?2",
            params![queue, message_id],
        )?;
        Ok(n > 0)
    }
}

pub(super) fn token_row(r: &Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok(TokenRow {
        token: r.get(0)?,
        exec_id: r.get(1)?,
        task_id: r.get(2)?,
        open: r.get::<_, i64>(3)? != 0,
        heartbeat_ms: r.get(4)?,
    })
}

pub(super) fn read_events(conn: &Connection, exec_id: i64) -> Result<Vec<Vec<u8>>, JournalError> {
    let mut stmt =
        conn.prepare_cached("SELECT body FROM events WHERE exec_id = ?1 ORDER BY seq")?;
    let rows = stmt
        .query_map(params![exec_id], |r| r.get(0))?
        .collect::<Result<Vec<Vec<u8>>, _>>()?;
    Ok(rows)
}
