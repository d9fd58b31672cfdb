//! The tables.

use rusqlite::{Connection, OptionalExtension as _, params};

use super::{Durability, JournalError};

/// The journal's format: bumped when a table or the event encoding changes incompatibly.
pub const FORMAT_VERSION: i64 = 1;

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state_machines (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, role_arn TEXT NOT NULL,
    created_ms INTEGER NOT NULL, latest INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY, sm_id INTEGER NOT NULL, version INTEGER NOT NULL,
    definition TEXT NOT NULL, role_arn TEXT NOT NULL, created_ms INTEGER NOT NULL,
    UNIQUE (sm_id, version));
CREATE TABLE IF NOT EXISTS activities (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS executions (
    id INTEGER PRIMARY KEY, sm_id INTEGER NOT NULL, version_id INTEGER NOT NULL,
    name TEXT NOT NULL, status INTEGER NOT NULL, start_ms INTEGER NOT NULL, stop_ms INTEGER,
    output TEXT, error TEXT, cause TEXT, redrive_count INTEGER NOT NULL DEFAULT 0,
    redrive_ms INTEGER, UNIQUE (sm_id, name));
CREATE INDEX IF NOT EXISTS executions_running ON executions (status) WHERE status = 0;
CREATE TABLE IF NOT EXISTS events (
    exec_id INTEGER NOT NULL, seq INTEGER NOT NULL, body BLOB NOT NULL,
    PRIMARY KEY (exec_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, exec_id INTEGER NOT NULL, task_id TEXT NOT NULL,
    open INTEGER NOT NULL, heartbeat_ms INTEGER) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tokens_open ON tokens (exec_id) WHERE open = 1;
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY, queue TEXT NOT NULL, message_id TEXT NOT NULL, body TEXT NOT NULL,
    sent_ms INTEGER NOT NULL, visible_ms INTEGER NOT NULL, receives INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS messages_queue ON messages (queue, visible_ms);
";

/// Waits for a lock held by the other writing connection (the checkpointer's, while it
/// restarts the WAL) in steps of 50 µs, for at least ten seconds (200,000 tries). SQLite's own busy timeout
/// sleeps 1, 2, 5, 10, … ms between tries, which turns a lock held for 2 ms into a 10 ms
/// stall of the engine.
pub(super) fn fine_busy_handler(conn: &Connection) -> rusqlite::Result<()> {
    const STEP: std::time::Duration = std::time::Duration::from_micros(50);
    const TRIES: i32 = 200_000;
    conn.busy_handler(Some(|tries: i32| {
        std::thread::sleep(STEP);
        tries < TRIES
    }))
}

/// Sets the connection up and creates the tables.
pub(super) fn prepare(
    conn: &Connection,
    durability: Option<Durability>,
) -> Result<(), JournalError> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", -16_000)?;
    let Some(durability) = durability else {
        return Ok(());
    };
    // NORMAL in WAL mode: a commit is written to the WAL without fsync; the syncer thread
    // fsyncs the WAL before acknowledgements are released (see the module docs).
    let _ = durability;
    fine_busy_handler(conn)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // The checkpointer thread keeps the WAL short; the writer checkpoints (in its commit)
    // only if that thread could not for four times its restart threshold.
    conn.pragma_update(
        None,
        "wal_autocheckpoint",
        4 * super::checkpoint::RESTART_FRAMES,
    )?;
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    conn.execute_batch(TABLES)?;
    let found: Option<i64> = conn
        .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| {
            r.get(0)
        })
        .optional()?;
    match found {
        Some(v) if v > FORMAT_VERSION => Err(JournalError::Format {
            found: v,
            supported: FORMAT_VERSION,
        }),
        Some(_) => Ok(()),
        None => {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('format', ?1)",
                params![FORMAT_VERSION],
            )?;
            Ok(())
        }
    }
}
