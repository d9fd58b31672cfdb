//! The outbox on SQLite: deliveries queued once per id, read by the helpdesk sender.

use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use rusqlite::{Connection, params};

use crate::ports::{Delivery, Outbox, Port, PortError, PortResult};

const ERR: fn(rusqlite::Error) -> PortError = |e| PortError::Unavailable {
    port: Port::Outbox,
    message: e.to_string(),
};

/// The SQLite outbox.
pub struct SqliteOutbox {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteOutbox").finish_non_exhaustive()
    }
}

impl SqliteOutbox {
    /// An outbox in memory.
    pub fn in_memory() -> PortResult<SqliteOutbox> {
        SqliteOutbox::with(Connection::open_in_memory().map_err(ERR)?)
    }

    /// An outbox in a file (WAL).
    pub fn open(path: &std::path::Path) -> PortResult<SqliteOutbox> {
        let conn = Connection::open(path).map_err(ERR)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(ERR)?;
        SqliteOutbox::with(conn)
    }

    fn with(conn: Connection) -> PortResult<SqliteOutbox> {
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS deliveries (
               seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
               conversation_id TEXT NOT NULL, message_id TEXT NOT NULL)",
        )
        .map_err(ERR)?;
        Ok(SqliteOutbox {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> PortResult<MutexGuard<'_, Connection>> {
        self.conn.lock().map_err(|_| PortError::Unavailable {
            port: Port::Outbox,
            message: "the outbox's lock is poisoned".into(),
        })
    }

    /// Every delivery queued, oldest first.
    pub fn deliveries(&self) -> PortResult<Vec<Delivery>> {
        let c = self.conn()?;
        let mut stmt = c
            .prepare("SELECT id, conversation_id, message_id FROM deliveries ORDER BY seq")
            .map_err(ERR)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Delivery {
                    id: r.get(0)?,
                    conversation_id: r.get(1)?,
                    message_id: r.get(2)?,
                })
            })
            .map_err(ERR)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row.map_err(ERR)?);
        }
        Ok(out)
    }
}

#[async_trait]
impl Outbox for SqliteOutbox {
    async fn enqueue(&self, d: &Delivery) -> PortResult<()> {
        self.conn()?
            .execute(
                "INSERT OR IGNORE INTO deliveries (id, conversation_id, message_id) VALUES (?1, ?2, ?3)",
                params![d.id, d.conversation_id, d.message_id],
            )
            .map_err(ERR)?;
        Ok(())
    }
}
