//! The `turnflow` command line: argument parsing and dispatch only.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use turnflow_workflows::asl::{self, Severity};
use turnflow_workflows::interp;
use turnflow_workflows::turn::{self, Target};

use crate::client::{self, Endpoint};
use crate::{api, bench, cloud, compile, eval_cmd, graph, harness, ops, serve};

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
    /// Measure turnflow's speed (and compare it with moto's).
    #[command(subcommand)]
    Bench(Bench),
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
    /// Run the embedded engine.
    Engine {
        /// What to do with it.
        #[command(subcommand)]
        command: EngineCommand,
    },
    /// Run the AI support desk on this machine: the embedded engine with the real turn, its
    /// workers, the knowledge base, the demo back office, an ingest webhook (`POST /events`),
    /// approvals and the outbox, under one data directory. The Step Functions API is served on
    /// the same address.
    Serve {
        /// Where everything lives (journal, conversations, back office, outbox).
        #[arg(long, default_value = ".turnflow", env = "TURNFLOW_DATA_DIR")]
        data_dir: PathBuf,
        /// The address to serve on (loopback by default: the desk has no authentication).
        #[arg(long, default_value = api::server::DEFAULT_LISTEN, env = "TURNFLOW_LISTEN")]
        listen: SocketAddr,
        /// The support policy file [default: the built-in activities/policy/default.toml].
        #[arg(long, env = "TURNFLOW_POLICY")]
        policy: Option<PathBuf>,
        /// A knowledge-base index made by `turnflow kb index` [default: the demo knowledge base].
        #[arg(long, env = "TURNFLOW_KB_INDEX")]
        kb_index: Option<PathBuf>,
        /// After how many failed attempts to start its turn an event is dead-lettered.
        #[arg(long, default_value_t = serve::ingest::DEFAULT_MAX_ATTEMPTS)]
        max_attempts: u32,
    },
    /// Talk to the desk from a terminal as a customer: each line is a message, each reply is
    /// printed (also reads a pipe, one message a line).
    Chat {
        /// Where the desk is.
        #[command(flatten)]
        desk: DeskArgs,
        /// The conversation [default: a new one].
        #[arg(long)]
        conversation: Option<String>,
        /// Who the customer is (a back-office customer id such as `cus-0001`), if known.
        #[arg(long)]
        customer: Option<String>,
    },
    /// List, show and decide approvals (writes parked for a human), by their short ids.
    Approvals {
        /// Where the desk is.
        #[command(flatten)]
        desk: DeskArgs,
        /// What to do.
        #[command(subcommand)]
        command: ApprovalsCommand,
    },
    /// Print a conversation's transcript and each turn's steps with their inputs, outputs and
    /// times (or one execution's, by ARN).
    Trace {
        /// Where the desk is.
        #[command(flatten)]
        desk: DeskArgs,
        /// A conversation id, or an execution ARN.
        what: String,
    },
    /// Measure the embedded brain, knowledge base and handlers on external data (bitext,
    /// clinc150, the banking KB tasks, the τ-bench retail tasks) against DESIGN's targets.
    Eval {
        /// The data folder [default: TURNFLOW_SHARED_DATA, else ../shared/data].
        #[arg(long, env = "TURNFLOW_SHARED_DATA")]
        data: Option<PathBuf>,
        /// Only these suites (repeatable) [default: all].
        #[arg(long, value_enum)]
        only: Vec<eval_cmd::Suite>,
        /// Exit with status 1 when a target is missed.
        #[arg(long)]
        check: bool,
    },
    /// The knowledge base.
    Kb {
        /// What to do.
        #[command(subcommand)]
        command: KbCommand,
    },
    /// Inspect and operate executions through a Step Functions API (the local engine's by
    /// default).
    Executions {
        /// Where the API is.
        #[command(flatten)]
        endpoint: EndpointArgs,
        /// What to do.
        #[command(subcommand)]
        command: ExecutionsCommand,
    },
    /// Answer tasks (activity tasks and task-token waits) through a Step Functions API.
    Tasks {
        /// Where the API is.
        #[command(flatten)]
        endpoint: EndpointArgs,
        /// What to do.
        #[command(subcommand)]
        command: TasksCommand,
    },
    /// Operate failed turns: find, trace, replay with recorded results, redrive, rerun from
    /// the failed state under a fix; check a new definition against recorded histories.
    Ops {
        /// Where the API is.
        #[command(flatten)]
        endpoint: EndpointArgs,
        /// What to do.
        #[command(subcommand)]
        command: ops::OpsCommand,
    },
}

/// `turnflow engine …`.
#[derive(Debug, Subcommand)]
pub enum EngineCommand {
    /// Run the engine and serve the Step Functions API (AWS JSON 1.0) until Ctrl-C or SIGTERM.
    Serve {
        /// Where the journal lives.
        #[arg(long, default_value = ".turnflow", env = "TURNFLOW_DATA_DIR")]
        data_dir: PathBuf,
        /// The address to serve on (loopback by default; anything else exposes the engine).
        #[arg(long, default_value = api::server::DEFAULT_LISTEN, env = "TURNFLOW_LISTEN")]
        listen: SocketAddr,
        /// Require requests signed (SigV4) with this access key id; needs the secret too.
        #[arg(long, env = "TURNFLOW_ACCESS_KEY_ID", requires = "secret_access_key")]
        access_key_id: Option<String>,
        /// The secret access key that goes with --access-key-id.
        #[arg(
            long,
            env = "TURNFLOW_SECRET_ACCESS_KEY",
            requires = "access_key_id",
            hide_env_values = true
        )]
        secret_access_key: Option<String>,
    },
    /// Engine internals: run turns to completion in `data-dir`, logging activity keys
    /// (the crash-torture child, killed by its test).
    #[command(hide = true)]
    TortureChild {
        /// The directory of the journal and the key log.
        #[arg(long)]
        data_dir: PathBuf,
        /// How many turns.
        #[arg(long, default_value_t = 1000)]
        turns: usize,
    },
}

/// `turnflow kb …`.
#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Index a folder of Markdown (`# Title`, `## Section`) or JSON documents, in any of the
    /// five languages, into a new index folder for `turnflow serve --kb-index`.
    Index {
        /// The folder of documents (searched recursively).
        dir: PathBuf,
        /// Where the index goes (a new or empty folder).
        #[arg(long, default_value = ".turnflow/kb")]
        out: PathBuf,
    },
}

/// Where the desk (`turnflow serve`) is.
#[derive(Debug, Clone, clap::Args)]
pub struct DeskArgs {
    /// The desk's URL.
    #[arg(
        long,
        env = "TURNFLOW_URL",
        default_value = "http://127.0.0.1:8083",
        global = true
    )]
    pub url: String,
}

/// `turnflow approvals …`.
#[derive(Debug, Subcommand)]
pub enum ApprovalsCommand {
    /// List approvals, oldest first.
    List {
        /// Which: pending, approved, rejected, edited, expired, or all.
        #[arg(long, default_value = "pending")]
        status: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one approval: the proposal, the reason, the audit trail and the transcript.
    Show {
        /// The approval id (`ap-…`).
        id: String,
    },
    /// Approve: the proposed write is committed and the customer told.
    Approve {
        /// The approval id (`ap-…`).
        id: String,
        /// Who decides (recorded in the audit trail) [default: $USER].
        #[arg(long, env = "USER")]
        by: String,
    },
    /// Reject: nothing is written and the customer is told.
    Reject {
        /// The approval id (`ap-…`).
        id: String,
        /// Who decides (recorded in the audit trail) [default: $USER].
        #[arg(long, env = "USER")]
        by: String,
    },
}

/// Where a Step Functions API is.
#[derive(Debug, Clone, clap::Args)]
pub struct EndpointArgs {
    /// The API's URL [default: the local engine, http://127.0.0.1:8083].
    #[arg(long, env = "AWS_ENDPOINT_URL", global = true)]
    pub endpoint_url: Option<String>,
    /// The region [default: AWS_REGION, else us-east-1].
    #[arg(long, global = true)]
    pub region: Option<String>,
}

/// `turnflow executions …`.
#[derive(Debug, Subcommand)]
pub enum ExecutionsCommand {
    /// List executions, newest first.
    List {
        /// Only this state machine's (ARN or name); all state machines' when absent.
        #[arg(long)]
        state_machine: Option<String>,
        /// Only executions with this status (running, succeeded, failed, timed_out, aborted,
        /// pending_redrive).
        #[arg(long)]
        status: Option<String>,
        /// At most this many.
        #[arg(long)]
        max: Option<usize>,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one execution: status, input, output, error, redrive status.
    Describe {
        /// The execution's ARN.
        execution: String,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show an execution's history as a timeline (or JSON with --json).
    History {
        /// The execution's ARN.
        execution: String,
        /// Newest event first.
        #[arg(long)]
        reverse: bool,
        /// Leave inputs and outputs out.
        #[arg(long)]
        no_data: bool,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stop a running execution.
    Stop {
        /// The execution's ARN.
        execution: String,
        /// The error to record.
        #[arg(long)]
        error: Option<String>,
        /// The cause to record.
        #[arg(long)]
        cause: Option<String>,
    },
    /// Restart a failed, timed-out or aborted execution from where it stopped.
    Redrive {
        /// The execution's ARN.
        execution: String,
    },
}

/// `turnflow tasks …`.
#[derive(Debug, Subcommand)]
pub enum TasksCommand {
    /// Answer a task with its result.
    Success {
        /// The task token.
        token: String,
        /// The result (JSON).
        #[arg(long, default_value = "{}")]
        output: String,
    },
    /// Fail a task.
    Failure {
        /// The task token.
        token: String,
        /// The error name (what Retry and Catch match).
        #[arg(long)]
        error: Option<String>,
        /// The cause.
        #[arg(long)]
        cause: Option<String>,
    },
    /// Tell the engine the task's worker is alive.
    Heartbeat {
        /// The task token.
        token: String,
    },
}

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum Bench {
    /// The pure interpreter: executions/s and state transitions/s on one thread over the
    /// conformance definitions that need no worker; with `--moto`, the same definitions through
    /// moto's Step Functions interpreter, and the ratio.
    Interp {
        /// The conformance file (default: `$TURNFLOW_SHARED_DATA/asl/conformance-dev.jsonl`,
        /// else `../shared/data/asl/conformance-dev.jsonl`).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Rounds per side; the median is reported.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Also run the definitions through moto (needs `moto[server]` and `boto3`).
        #[arg(long)]
        moto: bool,
        /// The Python with moto and boto3 (a venv's `bin/python`; its `moto_server` is used).
        #[arg(
            long,
            env = "TURNFLOW_PYTHON",
            default_value = ".ci/tools/venv/bin/python"
        )]
        python: PathBuf,
    },
    /// The replayer: a recorded history of about 1,000 events (made on the embedded engine)
    /// replayed with its task results fed back; the median of the rounds against the 50 ms
    /// target.
    Replay {
        /// Rounds (the median is reported).
        #[arg(long, default_value_t = 21)]
        rounds: usize,
        /// About how many events the recorded history has.
        #[arg(long, default_value_t = 1000)]
        events: usize,
    },
    /// The embedded engine on the real turn definition, with zero-latency activities.
    Engine {
        /// Where the bench journals go.
        #[arg(long, default_value = "target/bench-engine")]
        dir: PathBuf,
        /// Throughput runs (the median is printed).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Turns per throughput run.
        #[arg(long, default_value_t = 5000)]
        turns: usize,
        /// Turns parked on task tokens for the memory figure.
        #[arg(long, default_value_t = 100_000)]
        parked: usize,
        /// In-flight turns for the recovery figure.
        #[arg(long, default_value_t = 10_000)]
        recovery: usize,
        /// Seconds of the latency run.
        #[arg(long, default_value_t = 5)]
        latency_secs: u64,
        /// Run only these parts (comma-separated; default all). The latency run takes its
        /// rate from the throughput run, which runs first when latency is asked for.
        #[arg(long, value_delimiter = ',', value_enum)]
        only: Vec<harness::bench::Part>,
        /// Turns/s of the latency run (default: half the measured maximum; given, the
        /// throughput run is skipped unless asked for).
        #[arg(long)]
        rate: Option<f64>,
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
    // The server logs each request at info; the one-shot commands only warnings.
    init_tracing(
        if matches!(cli.command, Command::Engine { .. } | Command::Serve { .. }) {
            "info"
        } else {
            "warn"
        },
    );
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TURNFLOW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colours only on a terminal: a log redirected to a file reads as plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Compile { dir, check } => run_compile(&dir, check),
        Command::Validate { files, strict } => run_validate(&files, strict),
        Command::Conformance { file, case } => run_conformance(&file, case.as_deref()),
        Command::Bench(Bench::Interp {
            data,
            rounds,
            moto,
            python,
        }) => {
            let options = bench::interp::Options {
                data: data.unwrap_or_else(default_conformance_file),
                rounds,
                moto: moto.then_some(python),
            };
            print!("{}", bench::interp::run(&options)?);
            Ok(ExitCode::SUCCESS)
        }
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
        Command::Engine { command } => run_engine(command),
        Command::Bench(Bench::Replay { rounds, events }) => {
            let report = runtime()?.block_on(bench::replay::run(rounds, events))?;
            print!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(Bench::Engine {
            dir,
            runs,
            turns,
            parked,
            recovery,
            latency_secs,
            only,
            rate,
        }) => {
            harness::bench::run(&harness::bench::BenchOptions {
                dir,
                runs,
                turns,
                parked,
                recovery,
                latency_secs,
                only,
                rate,
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval { data, only, check } => {
            let data = data.unwrap_or_else(|| PathBuf::from("../shared/data"));
            let (report, figures) = eval_cmd::run(&data, &only)?;
            print!("{report}\n{}", eval_cmd::table(&figures));
            Ok(if check && figures.iter().any(|f| !f.met()) {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Kb {
            command: KbCommand::Index { dir, out },
        } => {
            print!("{}", eval_cmd::index(&dir, &out)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve {
            data_dir,
            listen,
            policy,
            kb_index,
            max_attempts,
        } => {
            let options = serve::Options {
                policy,
                kb_index,
                max_attempts,
                ..serve::Options::new(data_dir, listen)
            };
            runtime()?.block_on(serve::run(options))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Chat {
            desk,
            conversation,
            customer,
        } => {
            let client = serve::client::DeskClient::new(&desk.url)?;
            let conversation =
                conversation.unwrap_or_else(|| format!("chat-{:x}", serve::ingest::now_ms()));
            runtime()?.block_on(serve::client::chat(
                &client,
                &conversation,
                customer.as_deref(),
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Approvals { desk, command } => {
            let client = serve::client::DeskClient::new(&desk.url)?;
            let out = runtime()?.block_on(async {
                match command {
                    ApprovalsCommand::List { status, json } => {
                        serve::client::list_approvals(&client, &status, json).await
                    }
                    ApprovalsCommand::Show { id } => {
                        serve::client::show_approval(&client, &id).await
                    }
                    ApprovalsCommand::Approve { id, by } => {
                        serve::client::decide(&client, &id, "approve", &by).await
                    }
                    ApprovalsCommand::Reject { id, by } => {
                        serve::client::decide(&client, &id, "reject", &by).await
                    }
                }
            })?;
            print!("{out}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Trace { desk, what } => {
            let client = serve::client::DeskClient::new(&desk.url)?;
            let endpoint = Endpoint {
                url: Some(desk.url.clone()),
                region: None,
            };
            let out = runtime()?.block_on(serve::client::trace(&client, &endpoint, &what))?;
            print!("{out}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Executions { endpoint, command } => {
            run_client(
                &endpoint,
                |c| async move { run_executions(&c, command).await },
            )
        }
        Command::Tasks { endpoint, command } => {
            run_client(&endpoint, |c| async move { run_tasks(&c, command).await })
        }
        Command::Ops { endpoint, command } => run_ops(&endpoint, command),
    }
}

fn run_ops(endpoint: &EndpointArgs, command: ops::OpsCommand) -> anyhow::Result<ExitCode> {
    let report = if let ops::OpsCommand::CheckCompat {
        histories,
        definition,
    } = &command
    {
        // Files only: no API.
        let report = ops::compat::check_compat(histories, definition)?;
        ops::Report {
            ok: report.ok(),
            text: report.to_string(),
        }
    } else {
        let endpoint = Endpoint {
            url: endpoint.endpoint_url.clone(),
            region: endpoint.region.clone(),
        };
        let now_ms = chrono::Utc::now().timestamp_millis();
        runtime()?.block_on(async {
            let c = client::connect(&endpoint).await;
            ops::run(&c, command, now_ms).await
        })?
    };
    print!("{}", report.text);
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")
}

fn run_engine(command: EngineCommand) -> anyhow::Result<ExitCode> {
    match command {
        EngineCommand::TortureChild { data_dir, turns } => {
            harness::torture::run_child(&data_dir, turns)?;
            Ok(ExitCode::SUCCESS)
        }
        EngineCommand::Serve {
            data_dir,
            listen,
            access_key_id,
            secret_access_key,
        } => {
            let verifier = match (access_key_id, secret_access_key) {
                (Some(id), Some(secret)) => Some(api::sigv4::Verifier::new(id, secret)),
                _ => None,
            };
            runtime()?.block_on(api::daemon::run(api::daemon::Options {
                data_dir,
                listen,
                verifier,
            }))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run_client<F, Fut>(endpoint: &EndpointArgs, f: F) -> anyhow::Result<ExitCode>
where
    F: FnOnce(aws_sdk_sfn::Client) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<String>>,
{
    let endpoint = Endpoint {
        url: endpoint.endpoint_url.clone(),
        region: endpoint.region.clone(),
    };
    let text = runtime()?.block_on(async {
        let c = client::connect(&endpoint).await;
        f(c).await
    })?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

async fn run_executions(
    c: &aws_sdk_sfn::Client,
    command: ExecutionsCommand,
) -> anyhow::Result<String> {
    match command {
        ExecutionsCommand::List {
            state_machine,
            status,
            max,
            json,
        } => {
            client::list_executions(c, state_machine.as_deref(), status.as_deref(), max, json).await
        }
        ExecutionsCommand::Describe { execution, json } => {
            client::describe_execution(c, &execution, json).await
        }
        ExecutionsCommand::History {
            execution,
            reverse,
            no_data,
            json,
        } => client::history(c, &execution, reverse, !no_data, json).await,
        ExecutionsCommand::Stop {
            execution,
            error,
            cause,
        } => client::stop(c, &execution, error, cause).await,
        ExecutionsCommand::Redrive { execution } => client::redrive(c, &execution).await,
    }
}

async fn run_tasks(c: &aws_sdk_sfn::Client, command: TasksCommand) -> anyhow::Result<String> {
    match command {
        TasksCommand::Success { token, output } => client::task_success(c, &token, &output).await,
        TasksCommand::Failure {
            token,
            error,
            cause,
        } => client::task_failure(c, &token, error, cause).await,
        TasksCommand::Heartbeat { token } => client::task_heartbeat(c, &token).await,
    }
}

/// The conformance file in the shared data folder.
fn default_conformance_file() -> PathBuf {
    std::env::var_os("TURNFLOW_SHARED_DATA")
        .map_or_else(|| PathBuf::from("../shared/data"), PathBuf::from)
        .join("asl/conformance-dev.jsonl")
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
