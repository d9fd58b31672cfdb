//! The crash-torture child: runs `turns` turns to completion with in-process activities
//! that log every invocation's idempotency key, and is killed with SIGKILL at random
//! moments by the test (`tests/engine_torture.rs`), which restarts it until all are done.
//!
//! Files in the data directory: `journal.db` (the engine), `keys.db` (one row per handler
//! invocation: key, process id), `acked.txt` (one execution name per line, written after
//! StartExecution answered: those must never be lost), `done` (all turns finished).

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use rusqlite::{Connection, params};
use serde_json::Value;
use tokio::task::JoinSet;

use super::turn::{self, STEPS};
use crate::engine::{Engine, EngineConfig, EngineError, Handler, Workers};

/// The state machine's name in the torture journal.
pub const STATE_MACHINE: &str = "turn";

/// The name of turn `i`.
pub fn turn_name(i: usize) -> String {
    format!("turn-{i:05}")
}

/// Runs the child until every turn has finished.
pub fn run_child(data_dir: &Path, turns: usize) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(child(data_dir.to_path_buf(), turns))
}

fn open_keys(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // NORMAL: a committed row is in the page cache, which a SIGKILL does not lose.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS invocations (key TEXT NOT NULL, pid INTEGER NOT NULL)",
    )?;
    Ok(conn)
}

async fn child(dir: PathBuf, turns: usize) -> anyhow::Result<()> {
    let keys = Arc::new(Mutex::new(open_keys(&dir.join("keys.db"))?));
    let pid = i64::from(std::process::id());
    let workers = Arc::new(Workers::default());
    for (step, _) in STEPS {
        let out = turn::facts(step, false);
        let keys = Arc::clone(&keys);
        workers.add_activity(
            step,
            Handler::new(move |input: Value| {
                let key = input["idempotencyKey"].as_str().unwrap_or("").to_string();
                let logged = keys.lock().map_err(|_| ()).and_then(|c| {
                    c.execute(
                        "INSERT INTO invocations (key, pid) VALUES (?1, ?2)",
                        params![key, pid],
                    )
                    .map_err(|_| ())
                });
                let out = out.clone();
                async move {
                    match logged {
                        Ok(_) => Ok(out),
                        Err(()) => Err(crate::engine::TaskFailure::new(
                            "Turnflow.StoreUnavailable",
                            "key log failed",
                        )),
                    }
                }
            }),
        );
    }
    let mut config = EngineConfig::new(dir.join("journal.db"));
    config.workers = workers;
    let engine = Engine::open(config)?;
    let sm = turn::install(&engine, STATE_MACHINE).await?;
    let acked_path = dir.join("acked.txt");
    let acked: HashSet<String> = std::fs::read_to_string(&acked_path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    let mut acked_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&acked_path)
        .context("open acked.txt")?;
    let todo: Vec<usize> = (0..turns)
        .filter(|i| !acked.contains(&turn_name(*i)))
        .collect();
    for chunk in todo.chunks(100) {
        let mut set = JoinSet::new();
        for &i in chunk {
            let engine = engine.clone();
            let sm = sm.clone();
            set.spawn(async move {
                let r = engine
                    .start_execution(&sm, Some(&turn_name(i)), Some(&turn::input(i)))
                    .await;
                (i, r)
            });
        }
        while let Some(joined) = set.join_next().await {
            let (i, r) = joined?;
            match r {
                // Started now, or before a crash that came before its line was written.
                Ok(_) | Err(EngineError::ExecutionAlreadyExists(_)) => {
                    writeln!(acked_file, "{}", turn_name(i))?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        acked_file.flush()?;
    }
    let mut lost = 0;
    for i in 0..turns {
        let arn = engine.arns().execution(STATE_MACHINE, &turn_name(i));
        match engine.wait_for_execution(&arn).await {
            Ok(_) => {}
            Err(EngineError::ExecutionDoesNotExist(_)) => {
                println!("LOST {}", turn_name(i));
                lost += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
    std::fs::write(dir.join("done"), format!("{lost}\n"))?;
    println!("done recovered={} lost={lost}", engine.recovered());
    engine.shutdown().await;
    Ok(())
}
