//! `turnflow ops`: find failed turns, trace them, replay them with their recorded results,
//! redrive or rerun them under a fix, and check a new definition against recorded histories
//! before deploying it.
//!
//! Every command but `check-compat` talks to a Step Functions API through the AWS SDK — the
//! embedded engine's or AWS's, the same way (`ListExecutions`, `DescribeExecution`,
//! `DescribeStateMachine` of the execution's version, `GetExecutionHistory`,
//! `RedriveExecution`, `CreateStateMachine`/`UpdateStateMachine`, `StartExecution`). Replays
//! run in the pure replayer of `turnflow-workflows`, here: no task runs, no side effect
//! happens (except `--live` states).
//!
//! # Layout
//! - [`OpsCommand`]: the arguments; [`run`]: the dispatch.
//! - [`fetch`]: recorded executions from the API and from fixture files.
//! - [`failed`]: `ops failed` — failed turns grouped by the error and state they failed in.
//! - [`trace`]: `ops trace` — the step timeline, PII redacted.
//! - [`replay`]: `ops replay` — one execution re-run with its recorded results.
//! - [`rerun`]: `ops redrive` and `ops rerun` (and how idempotency keys behave).
//! - [`bulk`]: the `--failed` forms of replay and rerun.
//! - [`compat`]: `ops check-compat` and the fixture format (`ops record`).
//! - [`OpsError`] (`error`).

pub mod bulk;
pub mod compat;
mod error;
pub mod failed;
pub mod fetch;
pub mod replay;
pub mod rerun;
pub mod trace;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_sfn::Client;
use clap::Subcommand;

pub use error::OpsError;

use self::bulk::{BulkAction, BulkOptions};
use self::failed::Filter;
use self::replay::Against;
use self::rerun::RerunRequest;

/// `turnflow ops …`.
#[derive(Debug, Subcommand)]
pub enum OpsCommand {
    /// The failed, timed-out and aborted turns, grouped by the error and the state they first
    /// failed in.
    Failed {
        /// How far back (`30m`, `24h`, `7d`): turns that stopped since then.
        #[arg(long, default_value = "24h")]
        since: String,
        /// Only turns that first failed in this state.
        #[arg(long)]
        state: Option<String>,
        /// Only turns that first failed with this error name.
        #[arg(long)]
        error: Option<String>,
    },
    /// One execution's step timeline: states, inputs and outputs (PII redacted), attempts,
    /// retries, errors, model calls, durations.
    Trace {
        /// The execution's ARN.
        execution: String,
    },
    /// Re-run an execution with its recorded task results fed back (no side effect) and show
    /// where it departs from the recording; `--failed` replays every failed turn.
    Replay {
        /// The execution's ARN (or `--failed`).
        #[arg(required_unless_present = "failed")]
        execution: Option<String>,
        /// Replay against this definition (JSON; `${…}` placeholders are filled from the
        /// recorded definition) instead of the recorded one.
        #[arg(long, conflicts_with = "version")]
        definition: Option<PathBuf>,
        /// Replay against this version of the execution's state machine.
        #[arg(long)]
        version: Option<u32>,
        /// Run these states' tasks for real (through the API) instead of feeding them.
        #[arg(long, num_args = 1.., value_delimiter = ',')]
        live: Vec<String>,
        /// The bulk form.
        #[command(flatten)]
        bulk: BulkArgs,
    },
    /// RedriveExecution: continue a failed execution from its failed state; succeeded steps
    /// are not re-run.
    Redrive {
        /// The execution's ARN.
        execution: String,
    },
    /// Start a new execution, under a fixed definition, from the failed state (or `--from`)
    /// with its recorded input, linked to the original by name; `--failed` reruns every failed
    /// turn.
    Rerun {
        /// The execution's ARN (or `--failed`).
        #[arg(required_unless_present = "failed")]
        execution: Option<String>,
        /// The state to start from [default: the state where the turn first failed].
        #[arg(long)]
        from: Option<String>,
        /// The fixed definition (JSON) [default: the recorded one].
        #[arg(long)]
        definition: Option<PathBuf>,
        /// Allow a rerun that could run again a step that succeeded in the original.
        #[arg(long)]
        repeat_succeeded: bool,
        /// The bulk form.
        #[command(flatten)]
        bulk: BulkArgs,
    },
    /// Replay recorded histories against a new definition and report the in-flight turns it
    /// would break (exit 1 if any).
    CheckCompat {
        /// The folder of recorded histories (`ops record` files).
        #[arg(long)]
        histories: PathBuf,
        /// The new definition (JSON).
        #[arg(long)]
        definition: PathBuf,
    },
    /// Save an execution's history, definition and description as a fixture for check-compat.
    Record {
        /// The execution's ARN.
        execution: String,
        /// The file to write (never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
}

/// The bulk form of replay and rerun.
#[derive(Debug, Clone, clap::Args)]
pub struct BulkArgs {
    /// Every failed turn that stopped since `--since`.
    #[arg(long)]
    pub failed: bool,
    /// How far back, with --failed.
    #[arg(long, default_value = "1h", requires = "failed")]
    pub since: String,
    /// Only turns that first failed in this state, with --failed.
    #[arg(long = "in-state", requires = "failed")]
    pub in_state: Option<String>,
    /// Only turns that first failed with this error name, with --failed.
    #[arg(long = "with-error", requires = "failed")]
    pub with_error: Option<String>,
    /// How many turns at a time.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// At most this many turns a second (0: no limit).
    #[arg(long, default_value_t = 50.0)]
    pub rate: f64,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Seconds to wait for each rerun to finish.
    #[arg(long, default_value_t = 300)]
    pub wait: u64,
}

/// What a command printed and whether it passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The text for the terminal.
    pub text: String,
    /// False when the command found what should fail it (a broken in-flight turn).
    pub ok: bool,
}

impl Report {
    fn ok(text: String) -> Report {
        Report { text, ok: true }
    }
}

/// A duration as `90s`, `30m`, `24h` or `7d`, in milliseconds.
pub fn parse_since(text: &str) -> Result<i64, OpsError> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (n, unit) = text.split_at(split);
    let n: i64 = n
        .parse()
        .map_err(|_| OpsError::Invalid(format!("`{text}` is not a duration such as 24h")))?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" | "" => 3_600_000,
        "d" => 86_400_000,
        _ => {
            return Err(OpsError::Invalid(format!(
                "`{text}`: the unit is s, m, h or d"
            )));
        }
    };
    Ok(n.saturating_mul(unit_ms))
}

fn filter(
    since: &str,
    now_ms: i64,
    state: Option<String>,
    error: Option<String>,
) -> Result<Filter, OpsError> {
    Ok(Filter {
        since_ms: now_ms - parse_since(since)?,
        state,
        error,
    })
}

fn bulk_options(b: &BulkArgs, now_ms: i64) -> Result<BulkOptions, OpsError> {
    Ok(BulkOptions {
        filter: filter(&b.since, now_ms, b.in_state.clone(), b.with_error.clone())?,
        concurrency: b.concurrency,
        rate: b.rate,
        progress: !b.no_progress,
        wait: Duration::from_secs(b.wait),
    })
}

/// Runs an ops command; `now_ms` is the time `--since` counts back from.
pub async fn run(client: &Client, command: OpsCommand, now_ms: i64) -> Result<Report, OpsError> {
    match command {
        OpsCommand::Failed {
            since,
            state,
            error,
        } => {
            let f = filter(&since, now_ms, state, error)?;
            let turns = failed::failed_turns(client, &f).await?;
            Ok(Report::ok(failed::render(&failed::group(turns), &since)))
        }
        OpsCommand::Trace { execution } => Ok(Report::ok(trace::trace(client, &execution).await?)),
        OpsCommand::Replay {
            execution,
            definition,
            version,
            live,
            bulk,
        } => {
            let against = match (definition, version) {
                (Some(path), _) => Against::Definition(compat::read_json(&path)?),
                (None, Some(n)) => Against::Version(n),
                (None, None) => Against::Recorded,
            };
            match execution.filter(|_| !bulk.failed) {
                Some(arn) => {
                    let live: BTreeSet<String> = live.into_iter().collect();
                    let (rec, replayed) = replay::replay_one(client, &arn, &against, &live).await?;
                    Ok(Report::ok(replay::render(&rec, &replayed, &against)))
                }
                None => {
                    if !live.is_empty() {
                        return Err(OpsError::Invalid(
                            "--live runs tasks for real: give one execution, not --failed".into(),
                        ));
                    }
                    let report = bulk::run(
                        client,
                        &BulkAction::Replay(against),
                        &bulk_options(&bulk, now_ms)?,
                    )
                    .await?;
                    Ok(Report::ok(report.to_string()))
                }
            }
        }
        OpsCommand::Redrive { execution } => {
            Ok(Report::ok(rerun::redrive(client, &execution).await?))
        }
        OpsCommand::Rerun {
            execution,
            from,
            definition,
            repeat_succeeded,
            bulk,
        } => {
            let request = RerunRequest {
                from,
                definition: definition.map(|p| compat::read_json(&p)).transpose()?,
                repeat_succeeded,
            };
            match execution.filter(|_| !bulk.failed) {
                Some(arn) => {
                    let rec = fetch::recorded(client, &arn).await?;
                    let started = rerun::rerun(client, &rec, &request).await?;
                    Ok(Report::ok(rerun::render(&started)))
                }
                None => {
                    let report = bulk::run(
                        client,
                        &BulkAction::Rerun(request),
                        &bulk_options(&bulk, now_ms)?,
                    )
                    .await?;
                    Ok(Report::ok(report.to_string()))
                }
            }
        }
        OpsCommand::CheckCompat {
            histories,
            definition,
        } => {
            let report = compat::check_compat(&histories, &definition)?;
            Ok(Report {
                ok: report.ok(),
                text: report.to_string(),
            })
        }
        OpsCommand::Record { execution, out } => {
            let rec = fetch::recorded(client, &execution).await?;
            compat::write_fixture(&rec, &out)?;
            Ok(Report::ok(format!(
                "wrote {} ({} events, {})\n",
                out.display(),
                rec.events.len(),
                rec.execution.status
            )))
        }
    }
}
