//! The syncer: fsyncs the WAL for a group of commits, then releases their acknowledgements.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::JournalError;

/// An acknowledgement to release once its commit is durable.
pub type Ack = Box<dyn FnOnce() + Send>;

/// The syncer thread's handle. Dropping it lets the thread finish the queued groups.
#[derive(Debug)]
pub struct Syncer {
    tx: Option<mpsc::Sender<Vec<Ack>>>,
    thread: Option<JoinHandle<()>>,
    stats: FsyncStats,
}

/// How long the syncer's fsyncs took: the disk's share of every acknowledgement.
#[derive(Debug, Clone)]
pub struct FsyncStats(Arc<Mutex<Histogram<u64>>>);

impl FsyncStats {
    fn new() -> FsyncStats {
        // Microseconds from 1 µs to a minute, three significant digits.
        let h = Histogram::new_with_bounds(1, 60_000_000, 3).expect("constant bounds are valid");
        FsyncStats(Arc::new(Mutex::new(h)))
    }

    fn record(&self, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
        let mut h = self.0.lock().unwrap_or_else(|p| p.into_inner());
        h.saturating_record(us);
    }

    /// How many fsyncs were made.
    pub fn count(&self) -> u64 {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// The fsync time at quantile `q` (0..=1), in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        let h = self.0.lock().unwrap_or_else(|p| p.into_inner());
        h.value_at_quantile(q) as f64 / 1000.0
    }
}

impl Syncer {
    /// Starts the syncer of the journal at `db` (its WAL is `db` + `-wal`).
    pub fn start(db: &Path) -> Result<Syncer, JournalError> {
        let wal = wal_path(db);
        let (tx, rx) = mpsc::channel::<Vec<Ack>>();
        let stats = FsyncStats::new();
        let recorder = stats.clone();
        let thread = std::thread::Builder::new()
            .name("turnflow-syncer".into())
            .spawn(move || run(&wal, &rx, &recorder))?;
        Ok(Syncer {
            tx: Some(tx),
            thread: Some(thread),
            stats,
        })
    }

    /// The running record of fsync times.
    pub fn stats(&self) -> FsyncStats {
        self.stats.clone()
    }

    /// Queues the acknowledgements of a commit that has returned: they are released after
    /// the next fsync of the WAL.
    pub fn release_after_sync(&self, acks: Vec<Ack>) {
        if let Some(tx) = &self.tx
            && let Err(mpsc::SendError(acks)) = tx.send(acks)
        {
            // The thread is gone (it only stops when dropped): answer rather than hang.
            acks.into_iter().for_each(|a| a());
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn wal_path(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push("-wal");
    PathBuf::from(s)
}

fn run(wal: &Path, rx: &mpsc::Receiver<Vec<Ack>>, stats: &FsyncStats) {
    while let Ok(first) = rx.recv() {
        let mut group = first;
        while let Ok(more) = rx.try_recv() {
            group.extend(more);
        }
        // Every commit whose acks are in `group` returned before they were queued, so this
        // fsync covers it. The WAL may have been checkpointed and restarted meanwhile:
        // SQLite syncs the WAL and the database itself when it checkpoints.
        let started = Instant::now();
        if let Err(e) = File::open(wal).and_then(|f| f.sync_data()) {
            tracing::error!("fsync of {} failed: {e}", wal.display());
            // Without the fsync the acks would lie about durability: stop answering.
            return;
        }
        stats.record(started.elapsed());
        group.into_iter().for_each(|a| a());
    }
}
