//! A read-only connection: describe, list and history read committed data without going
//! through the writer.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags, OptionalExtension as _, params};

use super::store::{EXECUTION_COLUMNS, ExecutionRow, MessageRow, TokenRow, read_events, token_row};
use super::{JournalError, schema};

/// A state machine's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateMachineRecord {
    /// Row id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Role ARN of the latest version.
    pub role_arn: String,
    /// Creation time (ms).
    pub created_ms: i64,
    /// The latest version number.
    pub latest: i64,
    /// Whether it was deleted.
    pub deleted: bool,
}

/// An execution's row with its state machine's name.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionRecord {
    /// The row.
    pub row: ExecutionRow,
    /// The state machine's name.
    pub state_machine: String,
    /// The version number it is pinned to.
    pub version: i64,
}

/// A read-only connection to the journal.
#[derive(Debug)]
pub struct Reader {
    conn: Mutex<Connection>,
}

impl Reader {
    /// Opens a read-only connection (the writer must have created the file).
    pub fn open(path: &Path) -> Result<Reader, JournalError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        schema::prepare(&conn, None)?;
        Ok(Reader {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A state machine by name (deleted ones too).
    pub fn state_machine(&self, name: &str) -> Result<Option<StateMachineRecord>, JournalError> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT id, name, role_arn, created_ms, latest, deleted FROM state_machines WHERE name = ?1",
            )?
            .query_row(params![name], sm_record)
            .optional()?)
    }

    /// Every state machine that is not deleted, by name.
    pub fn state_machines(&self) -> Result<Vec<StateMachineRecord>, JournalError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, name, role_arn, created_ms, latest, deleted FROM state_machines WHERE deleted = 0 ORDER BY name",
        )?;
        let rows = stmt
            .query_map([], sm_record)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// `(definition, role ARN, created_ms)` of a version.
    pub fn version(
        &self,
        sm_id: i64,
        version: i64,
    ) -> Result<Option<(String, String, i64)>, JournalError> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT definition, role_arn, created_ms FROM versions WHERE sm_id = ?1 AND version = ?2",
            )?
            .query_row(params![sm_id, version], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?)
    }

    /// `(version, created_ms)` of every version of a state machine, newest first.
    pub fn versions(&self, sm_id: i64) -> Result<Vec<(i64, i64)>, JournalError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT version, created_ms FROM versions WHERE sm_id = ?1 ORDER BY version DESC",
        )?;
        let rows = stmt
            .query_map(params![sm_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// `(definition, version)` of a version row.
    pub fn version_by_id(&self, id: i64) -> Result<Option<(String, i64)>, JournalError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT definition, version FROM versions WHERE id = ?1")?
            .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// `(name, created_ms)` of every activity.
    pub fn activities(&self) -> Result<Vec<(String, i64)>, JournalError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT name, created_ms FROM activities ORDER BY name")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// An activity's creation time.
    pub fn activity(&self, name: &str) -> Result<Option<i64>, JournalError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT created_ms FROM activities WHERE name = ?1")?
            .query_row(params![name], |r| r.get(0))
            .optional()?)
    }

    /// An execution by state machine name and execution name.
    pub fn execution(
        &self,
        state_machine: &str,
        name: &str,
    ) -> Result<Option<ExecutionRecord>, JournalError> {
        let cols = EXECUTION_COLUMNS
            .split(", ")
            .map(|c| format!("e.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols}, s.name, v.version FROM executions e JOIN state_machines s ON s.id = e.sm_id
             JOIN versions v ON v.id = e.version_id WHERE s.name = ?1 AND e.name = ?2"
        );
        Ok(self
            .conn()
            .prepare_cached(&sql)?
            .query_row(params![state_machine, name], |r| {
                Ok(ExecutionRecord {
                    row: ExecutionRow::from_row(r)?,
                    state_machine: r.get(12)?,
                    version: r.get(13)?,
                })
            })
            .optional()?)
    }

    /// Executions of a state machine, newest first, optionally of one status.
    pub fn executions(
        &self,
        sm_id: i64,
        status: Option<i64>,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<ExecutionRow>, JournalError> {
        let conn = self.conn();
        let sql = format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions WHERE sm_id = ?1 AND (?2 IS NULL OR status = ?2)
             ORDER BY id DESC LIMIT ?3 OFFSET ?4"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(
                params![sm_id, status, limit, offset],
                ExecutionRow::from_row,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// An execution's events, in order.
    pub fn events(&self, exec_id: i64) -> Result<Vec<Vec<u8>>, JournalError> {
        read_events(&self.conn(), exec_id)
    }

    /// Every token handed out for an execution.
    pub fn tokens(&self, exec_id: i64) -> Result<Vec<TokenRow>, JournalError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT token, exec_id, task_id, open, heartbeat_ms FROM tokens WHERE exec_id = ?1",
        )?;
        let rows = stmt
            .query_map(params![exec_id], token_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The messages of a queue, without receiving them.
    pub fn messages(&self, queue: &str) -> Result<Vec<MessageRow>, JournalError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT message_id, body, sent_ms, receives FROM messages WHERE queue = ?1 ORDER BY id",
        )?;
        let rows = stmt
            .query_map(params![queue], |r| {
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

    /// How many messages a queue holds.
    pub fn count_messages(&self, queue: &str) -> Result<i64, JournalError> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM messages WHERE queue = ?1",
            params![queue],
            |r| r.get(0),
        )?)
    }

    /// Count and total size of the journal: `(executions, page_count * page_size)`.
    pub fn size(&self) -> Result<(i64, i64), JournalError> {
        let conn = self.conn();
        let n: i64 = conn.query_row("SELECT count(*) FROM executions", [], |r| r.get(0))?;
        let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok((n, pages * size))
    }
}

fn sm_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<StateMachineRecord> {
    Ok(StateMachineRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        role_arn: r.get(2)?,
        created_ms: r.get(3)?,
        latest: r.get(4)?,
        deleted: r.get::<_, i64>(5)? != 0,
    })
}
