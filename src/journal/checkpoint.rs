//! The checkpointer: copies the WAL into the database file from its own thread.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold, on the
//! writer — the engine's core thread — and fsyncs the database file there: every few
//! hundred milliseconds under load, every running turn stalled behind it. Here the writer's
//! automatic checkpoint is only a backstop, and this thread checkpoints instead, on its own
//! connection, in PASSIVE mode (it never waits for the writer, and the writer never waits
//! for it). When the WAL has grown past [`RESTART_FRAMES`] anyway (a long read holding old
//! frames, or a write rate the passive passes could not catch up with), it asks for a
//! RESTART, which waits for a gap between commits so the WAL starts over from its beginning.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use super::JournalError;

/// How often the thread looks at the WAL.
const INTERVAL: Duration = Duration::from_millis(100);

/// WAL frames (pages) after which the checkpointer restarts the WAL: 64 MiB of 4 KiB pages.
pub(super) const RESTART_FRAMES: i64 = 16_384;

/// The checkpointer thread's handle; dropping it stops the thread.
#[derive(Debug)]
pub struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the journal at `db` (WAL mode, created by the writer).
    pub fn start(db: &Path) -> Result<Checkpointer, JournalError> {
        let conn = Connection::open(db)?;
        super::schema::fine_busy_handler(&conn)?;
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("turnflow-checkpoint".into())
            .spawn(move || run(&conn, &flag))?;
        Ok(Checkpointer {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (lock, wake) = &*self.stop;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
        wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `(busy, frames in the WAL, frames checkpointed)` of one checkpoint.
fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<(i64, i64, i64)> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
}

fn run(conn: &Connection, stop: &(Mutex<bool>, Condvar)) {
    let (lock, wake) = stop;
    let mut stopped = lock.lock().unwrap_or_else(|p| p.into_inner());
    while !*stopped {
        stopped = match wake.wait_timeout(stopped, INTERVAL) {
            Ok((guard, _)) => guard,
            Err(p) => p.into_inner().0,
        };
        if *stopped {
            break;
        }
        drop(stopped);
        match checkpoint(conn, "PASSIVE") {
            Ok((_, frames, _)) if frames >= RESTART_FRAMES => {
                if let Err(e) = checkpoint(conn, "RESTART") {
                    tracing::warn!("checkpoint (restart) of the journal failed: {e}");
                }
            }
            Ok(_) => {}
            // The writer's own automatic checkpoint remains as the backstop.
            Err(e) => tracing::warn!("checkpoint of the journal failed: {e}"),
        }
        stopped = lock.lock().unwrap_or_else(|p| p.into_inner());
    }
}
