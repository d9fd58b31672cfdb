//! Bulk replay and rerun (`--failed --since 1h`): every failed turn that passes the filter, a
//! few at a time (`--concurrency`), no faster than `--rate` turns a second, with a progress bar
//! on a terminal, then a summary table.
//!
//! The outcomes: **reproduced** (the replay matches the recording), **fixed** (the replay or the
//! rerun succeeds), **still failing** (it ends failed again), **diverged** (the replay departs
//! from the recording and stops — a task the recording has no result for), **refused** (a
//! rerun that would repeat a succeeded step), **error** (it could not be read or started).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::ExecutionStatus;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::{Mutex, Semaphore};

use super::error::{OpsError, api};
use super::failed::{Filter, failed_turns};
use super::fetch;
use super::replay::{Against, replay_recorded, resolve, status_of};
use super::rerun::{RerunRequest, rerun};
use turnflow_workflows::interp::replay::NoLive;

/// How a bulk run goes.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkOptions {
    /// Which turns.
    pub filter: Filter,
    /// How many at a time.
    pub concurrency: usize,
    /// At most this many turns started a second (0: no limit).
    pub rate: f64,
    /// Draw a progress bar (on stderr, when it is a terminal).
    pub progress: bool,
    /// How long to wait for each rerun to finish.
    pub wait: Duration,
}

/// How one turn came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// The replay matches the recording.
    Reproduced,
    /// It succeeds now.
    Fixed,
    /// It ends failed again.
    StillFailing,
    /// The replay departs from the recording and does not finish.
    Diverged,
    /// A rerun that would repeat a succeeded step.
    Refused,
    /// A rerun still running when the wait ended.
    Running,
    /// It could not be read, replayed or started.
    Error,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Reproduced => "reproduced",
            Verdict::Fixed => "fixed",
            Verdict::StillFailing => "still failing",
            Verdict::Diverged => "diverged",
            Verdict::Refused => "refused",
            Verdict::Running => "still running",
            Verdict::Error => "error",
        }
    }
}

/// The summary of a bulk run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BulkReport {
    /// `replay` or `rerun`.
    pub what: &'static str,
    /// Turns taken.
    pub total: usize,
    /// Turns per outcome.
    pub by_verdict: BTreeMap<Verdict, usize>,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Per-turn times (fetch and replay, or start and wait), sorted.
    pub per_turn: Vec<Duration>,
    /// A few errors, with their executions.
    pub errors: Vec<String>,
}

impl BulkReport {
    /// Turns with this outcome.
    pub fn count(&self, v: Verdict) -> usize {
        self.by_verdict.get(&v).copied().unwrap_or(0)
    }

    fn percentile(&self, p: f64) -> Duration {
        if self.per_turn.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.per_turn.len() - 1) as f64 * p).round() as usize;
        self.per_turn[i.min(self.per_turn.len() - 1)]
    }
}

impl fmt::Display for BulkReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<16} {:>7} {:>7}", "OUTCOME", "TURNS", "SHARE")?;
        for (v, n) in &self.by_verdict {
            let share = 100.0 * *n as f64 / self.total.max(1) as f64;
            writeln!(f, "{:<16} {n:>7} {share:>6.1}%", v.label())?;
        }
        writeln!(f, "{:<16} {:>7}", "total", self.total)?;
        let secs = self.elapsed.as_secs_f64();
        writeln!(
            f,
            "{} {} turns in {secs:.2} s ({:.0} turns/s); per turn p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
            self.what,
            self.total,
            self.total as f64 / secs.max(1e-9),
            self.percentile(0.5).as_secs_f64() * 1000.0,
            self.percentile(0.95).as_secs_f64() * 1000.0,
            self.per_turn
                .last()
                .copied()
                .unwrap_or_default()
                .as_secs_f64()
                * 1000.0,
        )?;
        for e in &self.errors {
            writeln!(f, "error: {e}")?;
        }
        Ok(())
    }
}

/// What to do with each turn.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkAction {
    /// Replay against this definition.
    Replay(Against),
    /// Rerun (from each turn's failed state unless `from` is given).
    Rerun(RerunRequest),
}

/// Runs `action` over the failed turns that pass the filter.
pub async fn run(
    client: &Client,
    action: &BulkAction,
    options: &BulkOptions,
) -> Result<BulkReport, OpsError> {
    let turns = failed_turns(client, &options.filter).await?;
    let started = Instant::now();
    let bar = if options.progress {
        ProgressBar::with_draw_target(Some(turns.len() as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {pos}/{len} turns [{bar:40}] {per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    let semaphore = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let interval = (options.rate > 0.0).then(|| Duration::from_secs_f64(1.0 / options.rate));
    let next_start = Arc::new(Mutex::new(Instant::now()));
    let mut tasks = tokio::task::JoinSet::new();
    let total = turns.len();
    for turn in turns {
        let permit = Arc::clone(&semaphore)
            .acquire_owned()
            .await
            .map_err(|_| OpsError::Invalid("the bulk run was cancelled".into()))?;
        if let Some(every) = interval {
            let mut next = next_start.lock().await;
            let now = Instant::now();
            if *next > now {
                tokio::time::sleep(*next - now).await;
            }
            *next = Instant::now().max(*next) + every;
        }
        let (client, action, bar, wait) =
            (client.clone(), action.clone(), bar.clone(), options.wait);
        tasks.spawn(async move {
            let t0 = Instant::now();
            let arn = turn.execution.arn.clone();
            let verdict = one(&client, &arn, &action, wait).await;
            drop(permit);
            bar.inc(1);
            (arn, verdict, t0.elapsed())
        });
    }
    let mut report = BulkReport {
        what: match action {
            BulkAction::Replay(_) => "replayed",
            BulkAction::Rerun(_) => "reran",
        },
        total,
        ..BulkReport::default()
    };
    while let Some(done) = tasks.join_next().await {
        let Ok((arn, verdict, took)) = done else {
            *report.by_verdict.entry(Verdict::Error).or_default() += 1;
            continue;
        };
        report.per_turn.push(took);
        let verdict = match verdict {
            Ok(v) => v,
            Err((v, e)) => {
                if report.errors.len() < 5 {
                    report.errors.push(format!("{arn}: {e}"));
                }
                v
            }
        };
        *report.by_verdict.entry(verdict).or_default() += 1;
    }
    bar.finish_and_clear();
    report.per_turn.sort();
    report.elapsed = started.elapsed();
    Ok(report)
}

async fn one(
    client: &Client,
    arn: &str,
    action: &BulkAction,
    wait: Duration,
) -> Result<Verdict, (Verdict, OpsError)> {
    let err = |e: OpsError| (Verdict::Error, e);
    let rec = fetch::recorded(client, arn).await.map_err(err)?;
    match action {
        BulkAction::Replay(against) => {
            let definition = resolve(client, &rec, against).await.map_err(err)?;
            let r = replay_recorded(&rec, definition.as_ref(), &BTreeSet::new(), &mut NoLive)
                .map_err(err)?;
            Ok(match (r.divergence.is_none(), status_of(&r)) {
                (true, _) => Verdict::Reproduced,
                (false, "SUCCEEDED") => Verdict::Fixed,
                (false, "FAILED" | "TIMED_OUT" | "ABORTED") => Verdict::StillFailing,
                (false, _) => Verdict::Diverged,
            })
        }
        BulkAction::Rerun(request) => {
            let started = match rerun(client, &rec, request).await {
                Ok(s) => s,
                Err(e @ OpsError::Invalid(_)) => return Err((Verdict::Refused, e)),
                Err(e) => return Err(err(e)),
            };
            let deadline = Instant::now() + wait;
            loop {
                let d = client
                    .describe_execution()
                    .execution_arn(&started.execution_arn)
                    .send()
                    .await
                    .map_err(api(format!("describe {}", started.execution_arn)))
                    .map_err(err)?;
                match d.status() {
                    ExecutionStatus::Succeeded => return Ok(Verdict::Fixed),
                    ExecutionStatus::Running | ExecutionStatus::PendingRedrive => {
                        if Instant::now() >= deadline {
                            return Ok(Verdict::Running);
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    _ => return Ok(Verdict::StillFailing),
                }
            }
        }
    }
}
