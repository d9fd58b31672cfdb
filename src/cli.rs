//! The `turnflow` command line: argument parsing and dispatch only.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use turnflow_workflows::asl::{self, Severity};
use turnflow_workflows::interp;
use turnflow_workflows::turn::{self, Target};

use crate::{cloud, compile, graph};

/// turnflow: a durable workflow engine for AI customer-support conversations.
///
/// Each customer message runs as one turn — triage → retrieve → act → verify → respond, or
/// escalate — written once in Rust, compiled to an Amazon States Language definition, and run by
/// turnflow's embedded engine or by AWS Step Functions.
#[derive(Debug, Parser)]
#[command(name = "turnflow", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile the turn workflow into state-machines/ (checked, deterministic output).
    Compile {
        /// Where the definitions go.
        #[arg(
            long,
            default_value = "state-machines",
            env = "TURNFLOW_STATE_MACHINES_DIR"
        )]
        dir: PathBuf,
        /// Write nothing; exit with status 1 when the files differ from what the code produces.
        #[arg(long)]
        check: bool,
    },
    /// Check ASL definitions (JSON) and print every problem with its JSON path.
    Validate {
        /// The definition files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Treat turnflow's policy findings (e.g. a task-token wait without a timeout) as errors.
        #[arg(long)]
        strict: bool,
    },
    /// Run the interpreter over executions recorded on AWS (JSON lines) and compare the results.
    ///
    /// A conformance file holds `template`, `input` and `expected` per line; a histories file
    /// also holds the recorded `events`, whose task results are fed back. Prints a table by
    /// category, every failure with its reason, and `N passed, N failed`; exits 1 on a failure.
    Conformance {
        /// The JSON-lines file (e.g. ../shared/data/asl/conformance-dev.jsonl).
        file: PathBuf,
        /// Only the cases whose id contains this text.
        #[arg(long)]
        case: Option<String>,
    },
    /// Turn helpdesk events into turns (AWS mode).
    Ingest {
        /// Where AWS is.
        #[command(flatten)]
        aws: cloud::AwsArgs,
        /// Where the events come from.
        #[command(subcommand)]
        source: cloud::IngestSource,
    },
    /// Create or update the state machine on Step Functions and publish a version.
    Deploy {
        /// Where AWS is.
        #[command(flatten)]
        aws: cloud::AwsArgs,
        /// What to deploy.
        #[command(flatten)]
        args: cloud::DeployArgs,
    },
    /// Run activity workers against Step Functions (AWS or turnflow's own API).
    Worker {
        /// Where AWS is.
        #[command(flatten)]
        aws: cloud::AwsArgs,
        /// What to poll.
        #[command(flatten)]
        args: cloud::WorkerArgs,
    },
    /// Print the turn's states, transitions and paths (or those of a definition file).
    Graph {
        /// A definition to show instead of the turn workflow.
        file: Option<PathBuf>,
        /// Which compiled form of the turn to show.
        #[arg(long, value_enum, default_value_t = TargetArg::Activities)]
        target: TargetArg,
        /// Also list the paths that go through a Catch (a failed step).
        #[arg(long)]
        all_paths: bool,
    },
}

/// The compiled form of the turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetArg {
    /// Steps run by activity workers (the default, and what the embedded engine runs).
    Activities,
    /// Steps run by Lambda functions.
    Lambda,
}

impl From<TargetArg> for Target {
    fn from(t: TargetArg) -> Target {
        match t {
            TargetArg::Activities => Target::Activities,
            TargetArg::Lambda => Target::Lambda,
        }
    }
}

/// Runs the command line; the process exit code is returned.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TURNFLOW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Compile { dir, check } => run_compile(&dir, check),
        Command::Validate { files, strict } => run_validate(&files, strict),
        Command::Conformance { file, case } => run_conformance(&file, case.as_deref()),
        Command::Ingest { aws, source } => cloud::ingest(&aws, source).map(|()| ExitCode::SUCCESS),
        Command::Deploy { aws, args } => cloud::deploy(&aws, args).map(|()| ExitCode::SUCCESS),
        Command::Worker { aws, args } => cloud::worker(&aws, args).map(|()| ExitCode::SUCCESS),
        Command::Graph {
            file,
            target,
            all_paths,
        } => {
            let machine = match file {
                Some(path) => {
                    let text = read(&path)?;
                    asl::parse(&text).map_err(|d| anyhow::anyhow!("{}:\n{d}", path.display()))?
                }
                None => turn::lower(&turn::turn(), target.into()),
            };
            print!("{}", graph::render(&machine, all_paths));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()))
}

fn run_conformance(file: &Path, only: Option<&str>) -> anyhow::Result<ExitCode> {
    let text = read(file)?;
    let mut cases = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let case: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not a JSON case", file.display(), i + 1))?;
        if only.is_none_or(|text| case["id"].as_str().is_some_and(|id| id.contains(text))) {
            cases.push(case);
        }
    }
    let histories = cases.first().is_some_and(|c| c.get("events").is_some());
    let failed = if histories {
        let report = interp::run_histories(&cases);
        print!("{report}");
        report.failed()
    } else {
        let report = interp::run_conformance(&cases);
        print!("{report}");
        report.failed()
    };
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn run_compile(dir: &Path, check: bool) -> anyhow::Result<ExitCode> {
    if check {
        let stale = compile::stale(dir)?;
        if stale.is_empty() {
            println!("{} is up to date", dir.display());
            return Ok(ExitCode::SUCCESS);
        }
        for path in &stale {
            eprintln!("{} differs from what the code produces", path.display());
        }
        eprintln!("run `turnflow compile` and commit the result");
        return Ok(ExitCode::FAILURE);
    }
    let changed = compile::write(dir)?;
    if changed.is_empty() {
        println!("{} is up to date", dir.display());
    }
    for path in changed {
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn run_validate(files: &[PathBuf], strict: bool) -> anyhow::Result<ExitCode> {
    let mut failed = 0;
    for path in files {
        let text = match read(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{}: {e:#}", path.display());
                failed += 1;
                continue;
            }
        };
        let diagnostics = asl::validate(&text);
        let fatal = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error || strict)
            .count();
        for d in diagnostics.iter() {
            let tag = match d.severity {
                Severity::Error => "error",
                Severity::Policy if strict => "error (policy)",
                Severity::Policy => "warning (policy)",
            };
            println!("{}: {tag}: {d}", path.display());
        }
        if fatal > 0 {
            failed += 1;
        } else {
            println!("{}: ok", path.display());
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
