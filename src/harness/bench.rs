//! `turnflow bench engine`: the engine's figures on the real turn definition, with
//! zero-latency in-process activities, printed next to their targets.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::turn::{self, APPROVAL_QUEUE, STEPS};
use crate::engine::{Engine, EngineConfig, Handler, Workers};
use crate::journal::Durability;

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Where the journals go (a fresh subdirectory per run).
    pub dir: PathBuf,
    /// Repetitions of the throughput run (the median is printed).
    pub runs: usize,
    /// Turns per throughput run.
    pub turns: usize,
    /// Turns parked on a task token for the memory figure.
    pub parked: usize,
    /// In-flight turns for the recovery figure.
    pub recovery: usize,
    /// Seconds of the latency run.
    pub latency_secs: u64,
    /// The parts to run (empty: all).
    pub only: Vec<Part>,
    /// The latency run's rate (default: half the throughput run's).
    pub rate: Option<f64>,
}

/// A part of the bench.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// Resident memory with turns parked on task tokens.
    Memory,
    /// Turns/s and durable state transitions/s, journal bytes per turn.
    Throughput,
    /// Engine overhead per turn at half the maximum rate (runs throughput first).
    Latency,
    /// Recovery of in-flight turns after the engine goes away.
    Recovery,
}

impl BenchOptions {
    fn runs(&self, part: Part) -> bool {
        self.only.is_empty()
            || self.only.contains(&part)
            || (part == Part::Throughput
                && self.only.contains(&Part::Latency)
                && self.rate.is_none())
    }
}

/// Runs the bench and prints the figures.
pub fn run(opts: &BenchOptions) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(bench(opts))
}

fn fresh(dir: &Path, tag: &str) -> anyhow::Result<PathBuf> {
    let d = dir.join(tag);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

async fn open(dir: &Path, durability: Durability, workers: Arc<Workers>) -> anyhow::Result<Engine> {
    open_with(dir, durability, workers, None).await
}

async fn open_with(
    dir: &Path,
    durability: Durability,
    workers: Arc<Workers>,
    max_active: Option<usize>,
) -> anyhow::Result<Engine> {
    let mut config = EngineConfig::new(dir.join("journal.db"));
    config.durability = durability;
    config.workers = workers;
    if let Some(m) = max_active {
        config.max_active = m;
    }
    Ok(Engine::open(config)?)
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn latency_rate(o: &BenchOptions, max_turns_s: f64) -> f64 {
    o.rate.unwrap_or(max_turns_s / 2.0).max(1.0)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

struct Throughput {
    turns_per_s: f64,
    transitions_per_turn: f64,
    bytes_per_turn: f64,
}

async fn throughput(
    dir: &Path,
    turns: usize,
    durability: Durability,
) -> anyhow::Result<Throughput> {
    let engine = open(dir, durability, Arc::default()).await?;
    let sm = turn::install(&engine, "turn").await?;
    turn::register(&engine, false);
    let window = Arc::new(Semaphore::new(2000));
    let t0 = Instant::now();
    let mut set = JoinSet::new();
    for i in 0..turns {
        let permit = Arc::clone(&window).acquire_owned().await?;
        let (engine, sm) = (engine.clone(), sm.clone());
        set.spawn(async move {
            let r = engine
                .start_execution(&sm, Some(&format!("t-{i}")), Some(&turn::input(i)))
                .await;
            let r = match r {
                Ok(s) => engine
                    .wait_for_execution(&s.execution_arn)
                    .await
                    .map(|f| f.status),
                Err(e) => Err(e),
            };
            drop(permit);
            r
        });
    }
    while let Some(r) = set.join_next().await {
        let status = r??;
        anyhow::ensure!(status == "SUCCEEDED", "a turn ended {status}");
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let arn = engine.arns().execution("turn", "t-0");
    let h = engine
        .get_execution_history(&arn, Some(1000), false, None)
        .await?;
    let transitions = h
        .items
        .iter()
        .filter(|e| {
            e["type"]
                .as_str()
                .is_some_and(|t| t.ends_with("StateEntered"))
        })
        .count();
    let (_, bytes) = engine.journal_size().await?;
    engine.shutdown().await;
    Ok(Throughput {
        turns_per_s: turns as f64 / elapsed,
        transitions_per_turn: transitions as f64,
        bytes_per_turn: bytes as f64 / turns as f64,
    })
}

/// What a latency run measured.
struct Latency {
    p50: f64,
    p99: f64,
    turns: usize,
    /// The syncer's fsyncs meanwhile, when acknowledgements waited for them.
    fsyncs: Option<crate::journal::FsyncStats>,
}

async fn latency(
    dir: &Path,
    rate: f64,
    secs: u64,
    durability: Durability,
) -> anyhow::Result<Latency> {
    let engine = open(dir, durability, Arc::default()).await?;
    let sm = turn::install(&engine, "turn").await?;
    turn::register(&engine, false);
    let n = ((rate * secs as f64) as usize).max(1);
    let t0 = tokio::time::Instant::now();
    let mut set = JoinSet::new();
    for i in 0..n {
        tokio::time::sleep_until(t0 + Duration::from_secs_f64(i as f64 / rate)).await;
        let (engine, sm) = (engine.clone(), sm.clone());
        set.spawn(async move {
            let start = Instant::now();
            let s = engine
                .start_execution(&sm, Some(&format!("l-{i}")), Some(&turn::input(i)))
                .await?;
            engine.wait_for_execution(&s.execution_arn).await?;
            anyhow::Ok(start.elapsed().as_secs_f64() * 1000.0)
        });
    }
    let mut ms = Vec::with_capacity(n);
    while let Some(r) = set.join_next().await {
        ms.push(r??);
    }
    ms.sort_by(f64::total_cmp);
    let fsyncs = engine.fsync_stats();
    engine.shutdown().await;
    Ok(Latency {
        p50: percentile(&ms, 0.5),
        p99: percentile(&ms, 0.99),
        turns: n,
        fsyncs,
    })
}

async fn parked_memory(dir: &Path, n: usize) -> anyhow::Result<(f64, f64, f64)> {
    let before = rss_mb();
    let engine = open(dir, Durability::Disk, Arc::default()).await?;
    let sm = turn::install(&engine, "turn").await?;
    turn::register(&engine, true);
    let window = Arc::new(Semaphore::new(4000));
    let t0 = Instant::now();
    let mut set = JoinSet::new();
    for i in 0..n {
        let permit = Arc::clone(&window).acquire_owned().await?;
        let (engine, sm) = (engine.clone(), sm.clone());
        set.spawn(async move {
            let r = engine
                .start_execution(&sm, Some(&format!("p-{i}")), Some(&turn::input(i)))
                .await;
            drop(permit);
            r
        });
        while let Some(r) = set.try_join_next() {
            r??;
        }
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    loop {
        let parked = engine.queue_length(APPROVAL_QUEUE).await?;
        if parked >= i64::try_from(n).unwrap_or(i64::MAX) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let secs = t0.elapsed().as_secs_f64();
    let after = rss_mb();
    // One of them resumes: the parked turns are really waiting on their tokens.
    let msgs = engine
        .receive_messages(APPROVAL_QUEUE, 1, Duration::from_secs(60))
        .await?;
    if let Some(m) = msgs.first() {
        let body: serde_json::Value = serde_json::from_str(&m.body)?;
        let token = body["taskToken"].as_str().unwrap_or("");
        engine
            .send_task_success(token, &json!({"decision": "approve"}).to_string())
            .await?;
    }
    engine.shutdown().await;
    Ok((before, after, secs))
}

async fn recovery(dir: &Path, n: usize) -> anyhow::Result<(f64, f64)> {
    {
        // Every turn is to be in flight at once when the engine goes away: room for all.
        let engine = open_with(dir, Durability::Disk, Arc::default(), Some(n + 1)).await?;
        let sm = turn::install(&engine, "turn").await?;
        turn::register(&engine, false);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&in_flight);
        // Triage never answers: every turn is in flight when the engine goes away.
        engine.register_activity(
            "triage",
            Handler::new(move |_| {
                counter.fetch_add(1, Ordering::SeqCst);
                async {
                    std::future::pending::<()>().await;
                    Ok(json!({}))
                }
            }),
        );
        let window = Arc::new(Semaphore::new(4000));
        let mut set = JoinSet::new();
        for i in 0..n {
            let permit = Arc::clone(&window).acquire_owned().await?;
            let (engine, sm) = (engine.clone(), sm.clone());
            set.spawn(async move {
                let r = engine
                    .start_execution(&sm, Some(&format!("r-{i}")), Some(&turn::input(i)))
                    .await;
                drop(permit);
                r
            });
        }
        while let Some(r) = set.join_next().await {
            r??;
        }
        while in_flight.load(Ordering::SeqCst) < n {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        engine.shutdown().await;
    }
    let workers = Arc::new(Workers::default());
    for (step, _) in STEPS {
        let out = turn::facts(step, false);
        workers.add_activity(
            step,
            Handler::new(move |_| {
                let out = out.clone();
                async move { Ok(out) }
            }),
        );
    }
    let t0 = Instant::now();
    let engine = open(dir, Durability::Disk, workers).await?;
    let opened = t0.elapsed().as_secs_f64();
    anyhow::ensure!(
        engine.recovered() == n,
        "recovered {} of {n}",
        engine.recovered()
    );
    for i in 0..n {
        let arn = engine.arns().execution("turn", &format!("r-{i}"));
        let f = engine.wait_for_execution(&arn).await?;
        anyhow::ensure!(
            f.status == "SUCCEEDED",
            "a recovered turn ended {}",
            f.status
        );
    }
    let all = t0.elapsed().as_secs_f64();
    engine.shutdown().await;
    Ok((opened, all))
}

async fn bench(o: &BenchOptions) -> anyhow::Result<()> {
    println!(
        "turnflow bench engine: state-machines/turn.asl.json, zero-latency in-process activities"
    );
    println!(
        "  machine: {} cores; journal: SQLite WAL, acknowledged after fsync unless noted",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    // Memory first, while the process is fresh.
    if o.runs(Part::Memory) {
        let (before, after, secs) = parked_memory(&fresh(&o.dir, "parked")?, o.parked).await?;
        println!(
            "  resident memory, {} turns parked on task tokens: {after:.0} MB (process before: {before:.0} MB; parked in {secs:.1} s)  target < 256 MB: {}",
            o.parked,
            verdict(after < 256.0)
        );
    }
    let mut turns_s = 0.0;
    if o.runs(Part::Throughput) {
        let mut tps = Vec::new();
        let mut per_turn = 0.0;
        let mut bytes = Vec::new();
        for r in 0..o.runs {
            let t = throughput(
                &fresh(&o.dir, &format!("throughput-{r}"))?,
                o.turns,
                Durability::Disk,
            )
            .await?;
            println!("    run {}: {:.0} turns/s", r + 1, t.turns_per_s);
            tps.push(t.turns_per_s);
            per_turn = t.transitions_per_turn;
            bytes.push(t.bytes_per_turn);
        }
        turns_s = median(tps);
        let transitions_s = turns_s * per_turn;
        println!(
            "  durable state transitions/s (median of {}, {} turns each, {per_turn:.0} per turn): {transitions_s:.0}  target >= 10000: {}",
            o.runs,
            o.turns,
            verdict(transitions_s >= 10_000.0)
        );
        println!("  turns/s: {turns_s:.0}");
        let b = median(bytes);
        println!(
            "  journal bytes per turn: {b:.0}  target <= 8192: {}",
            verdict(b <= 8192.0)
        );
    }
    if o.runs(Part::Latency) {
        let rate = latency_rate(o, turns_s);
        let of = if o.rate.is_some() {
            "as asked"
        } else {
            "half the max"
        };
        let disk = latency(
            &fresh(&o.dir, "latency")?,
            rate,
            o.latency_secs,
            Durability::Disk,
        )
        .await?;
        println!(
            "  engine overhead per turn at {rate:.0} turns/s ({of}; {} turns; start to durable finish): p50 {:.2} ms, p99 {:.2} ms  target p99 <= 5 ms: {}",
            disk.turns,
            disk.p50,
            disk.p99,
            verdict(disk.p99 <= 5.0)
        );
        if let Some(f) = &disk.fsyncs {
            println!(
                "    the journal's fsyncs meanwhile ({}): p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
                f.count(),
                f.quantile_ms(0.5),
                f.quantile_ms(0.99),
                f.quantile_ms(0.999),
                f.quantile_ms(1.0)
            );
        }
        let process = latency(
            &fresh(&o.dir, "latency-process")?,
            rate,
            o.latency_secs,
            Durability::Process,
        )
        .await?;
        println!(
            "    acknowledged at commit without waiting for the fsync (survives kill -9, not power loss): p50 {:.2} ms, p99 {:.2} ms",
            process.p50, process.p99
        );
        // The same run with the journal in memory: what the engine costs without the disk.
        let shm = Path::new("/dev/shm");
        if shm.is_dir() {
            let dir = fresh(shm, &format!("turnflow-bench-{}", std::process::id()))?;
            let memory = latency(&dir, rate, o.latency_secs, Durability::Disk).await;
            let _ = std::fs::remove_dir_all(&dir);
            let memory = memory?;
            println!(
                "    journal on tmpfs (/dev/shm; the engine without the disk): p50 {:.2} ms, p99 {:.2} ms",
                memory.p50, memory.p99
            );
        }
    }
    if o.runs(Part::Recovery) {
        let (opened, all) = recovery(&fresh(&o.dir, "recovery")?, o.recovery).await?;
        println!(
            "  recovery of {} in-flight turns: replayed and re-dispatched in {opened:.2} s, all finished {all:.2} s after open",
            o.recovery
        );
    }
    Ok(())
}
