//! The durable journal: SQLite in WAL mode, written by one thread.
//!
//! The journal stores what cannot be recomputed: state machines and their versions,
//! activities, executions, the interpreter's *input* events of each execution (history,
//! in-flight tasks and timers are rebuilt by replaying them), task tokens, and the
//! embedded queues' messages.
//!
//! # Durability
//!
//! The engine's core thread applies a batch of requests inside one SQLite transaction and
//! commits it (group commit). How far a commit goes depends on [`Durability`]:
//!
//! - [`Durability::Disk`] (the default): commits run with `synchronous=NORMAL`, so a commit
//!   is in the WAL file in the operating system's page cache — it survives a kill -9 of the
//!   process at once. A separate syncer thread then `fsync`s the WAL file for every group of
//!   commits, and **a caller is answered only after the fsync that covers its commit**: an
//!   acknowledged operation survives a power loss too. Steps between acknowledgements (an
//!   in-process activity's result leading to the next step) go on before the fsync; after a
//!   power loss (never after a process crash) the tail since the last fsync may be lost, and
//!   those steps run again with the same idempotency keys.
//! - [`Durability::Process`]: the same commits, answered without waiting for the fsync: an
//!   acknowledged operation survives a crash of the process, not of the machine.
//!
//! # Layout
//! - `schema`: the tables and the format version.
//! - `store`: [`Journal`], the writer's typed operations.
//! - `reader`: [`Reader`], a read-only connection for describe, list and history.
//! - `sync`: [`Syncer`], the thread that fsyncs the WAL and releases acknowledgements.
//! - `checkpoint`: [`Checkpointer`], the thread that copies the WAL into the database file,
//!   so the writer's commits never wait for a checkpoint.

mod checkpoint;
mod reader;
mod schema;
mod store;
mod sync;

pub use checkpoint::Checkpointer;
pub use reader::{ExecutionRecord, Reader, StateMachineRecord};
pub use schema::FORMAT_VERSION;
pub use store::{ExecutionRow, Journal, MessageRow, StateMachineRow, TokenRow};
pub use sync::{Ack, FsyncStats, Syncer};

/// How far a commit goes before callers are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Answer after the WAL is fsynced: survives power loss.
    #[default]
    Disk,
    /// Answer after the commit reached the WAL (page cache): survives a process crash.
    Process,
}

/// A journal failure.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored event or value could not be decoded.
    #[error("decode stored {what}: {source}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// Why it failed.
        source: serde_json::Error,
    },
    /// The file was written by a newer turnflow.
    #[error("journal format {found} is newer than this turnflow's {supported}")]
    Format {
        /// The file's format.
        found: i64,
        /// The newest this build reads.
        supported: i64,
    },
    /// The WAL file could not be synced.
    #[error("fsync the write-ahead log: {0}")]
    Sync(#[from] std::io::Error),
}

/// Status of an execution as stored (AWS names via [`status_name`]).
pub mod status {
    /// `RUNNING`.
    pub const RUNNING: i64 = 0;
    /// `SUCCEEDED`.
    pub const SUCCEEDED: i64 = 1;
    /// `FAILED`.
    pub const FAILED: i64 = 2;
    /// `TIMED_OUT`.
    pub const TIMED_OUT: i64 = 3;
    /// `ABORTED`.
    pub const ABORTED: i64 = 4;
}

/// The AWS name of a stored status.
pub fn status_name(status: i64) -> &'static str {
    match status {
        status::RUNNING => "RUNNING",
        status::SUCCEEDED => "SUCCEEDED",
        status::FAILED => "FAILED",
        status::TIMED_OUT => "TIMED_OUT",
        _ => "ABORTED",
    }
}
