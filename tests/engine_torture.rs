//! Crash torture: the engine runs 1,000 turns as a child process, killed with SIGKILL at
//! random moments at least 20 times and restarted each time; at the end every execution
//! has finished, none is lost, and no idempotency key completed twice.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use turnflow::engine::{Engine, EngineConfig};
use turnflow::harness::torture::{STATE_MACHINE, turn_name};
use turnflow::journal::Durability;

fn child(bin: &str, dir: &PathBuf, turns: usize) -> Command {
    let mut c = Command::new(bin);
    c.args(["engine", "torture-child", "--data-dir"])
        .arg(dir)
        .args(["--turns", &turns.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    c
}

#[test]
fn sigkill_at_random_moments_loses_nothing_and_runs_no_key_twice() -> anyhow::Result<()> {
    let bin = env!("CARGO_BIN_EXE_turnflow");
    let turns: usize = std::env::var("TURNFLOW_TORTURE_TURNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = std::env::temp_dir().join(format!("turnflow-torture-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let mut seed = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos() as u64 | 1;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let started = Instant::now();
    let (mut kills, mut kills_mid_run) = (0, 0);
    while kills < 20 {
        let mut c = child(bin, &dir, turns).spawn()?;
        std::thread::sleep(Duration::from_millis(100 + next() % 700));
        if c.try_wait()?.is_none() {
            if !dir.join("done").exists() {
                kills_mid_run += 1;
            }
            c.kill()?; // SIGKILL
            c.wait()?;
            kills += 1;
        } else if dir.join("done").exists() {
            break;
        }
    }
    let out = child(bin, &dir, turns).output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "final run failed: {stdout}");
    assert!(stdout.contains("lost=0"), "{stdout}");

    // Check from the journal and the key log.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (succeeded, completions_twice) = rt.block_on(async {
        let mut config = EngineConfig::new(dir.join("journal.db"));
        config.durability = Durability::Process;
        let engine = Engine::open(config)?;
        let sm = engine.arns().state_machine(STATE_MACHINE);
        let mut succeeded = HashSet::new();
        let mut token = None;
        loop {
            let page = engine
                .list_executions(&sm, Some("SUCCEEDED"), Some(1000), token.as_deref())
                .await?;
            succeeded.extend(page.items.into_iter().map(|e| e.name));
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
        // A key completes when its state's activity succeeds in the journal: never twice.
        let mut twice = 0;
        for name in &succeeded {
            let arn = engine.arns().execution(STATE_MACHINE, name);
            let h = engine
                .get_execution_history(&arn, Some(1000), false, None)
                .await?;
            let mut state = String::new();
            let mut done: HashMap<String, usize> = HashMap::new();
            for e in &h.items {
                if let Some(n) = e["stateEnteredEventDetails"]["name"].as_str() {
                    state = n.to_string();
                }
                if e["type"] == "ActivitySucceeded" {
                    *done.entry(state.clone()).or_default() += 1;
                }
            }
            twice += done.values().filter(|n| **n > 1).count();
        }
        engine.shutdown().await;
        anyhow::Ok((succeeded, twice))
    })?;
    let acked: Vec<String> = std::fs::read_to_string(dir.join("acked.txt"))?
        .lines()
        .map(str::to_string)
        .collect();
    let lost = acked.iter().filter(|n| !succeeded.contains(*n)).count();
    let conn = rusqlite::Connection::open(dir.join("keys.db"))?;
    let mut stmt = conn.prepare("SELECT key, pid FROM invocations")?;
    let rows: Vec<(String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut by_key: HashMap<&str, Vec<i64>> = HashMap::new();
    for (k, pid) in &rows {
        by_key.entry(k).or_default().push(*pid);
    }
    let same_process_twice = by_key
        .values()
        .filter(|pids| pids.iter().collect::<HashSet<_>>().len() < pids.len())
        .count();
    let redelivered = by_key.values().filter(|p| p.len() > 1).count();
    println!(
        "crash torture: {turns} turns, {kills} SIGKILLs ({kills_mid_run} mid-run), {:.1}s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "  executions succeeded {} / acknowledged {} / expected {turns}; lost {lost}",
        succeeded.len(),
        acked.len()
    );
    println!(
        "  activity invocations {}, distinct keys {}, keys re-dispatched after a crash (same key) {redelivered}, keys run twice by one process {same_process_twice}, keys completed twice in the journal {completions_twice}",
        rows.len(),
        by_key.len()
    );
    assert!(kills >= 20);
    assert_eq!(succeeded.len(), turns);
    assert_eq!(lost, 0);
    assert!((0..turns).all(|i| succeeded.contains(&turn_name(i))));
    assert_eq!(same_process_twice, 0);
    assert_eq!(completions_twice, 0);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
