//! The AWS-mode commands: `turnflow ingest sqs`, `turnflow deploy`, `turnflow worker`.
//!
//! Configuration follows AWS's conventions: `AWS_REGION`, `AWS_PROFILE`, `AWS_ENDPOINT_URL`
//! (pointing at turnflow's own Step Functions API or moto works the same), credentials from the
//! default chain; each flag can override. Clients are built once per command.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use turnflow_activities::aws::config::AwsSettings;
use turnflow_activities::aws::deploy::{self, Deployment};
use turnflow_activities::aws::dynamodb::{DynamoStore, StoreTables};
use turnflow_activities::aws::sqs_ingest::Ingestor;
use turnflow_activities::aws::worker::{self, StepFailure, StepHandler, WorkerSettings};
use turnflow_activities::ports::ConversationStore;

/// Where AWS is (each flag overrides the SDK's usual environment and profile).
#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// The region (else AWS_REGION or the profile's).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// One endpoint for every service (else AWS_ENDPOINT_URL): moto, turnflow's API.
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,
    /// The shared-config profile (else AWS_PROFILE).
    #[arg(long, global = true)]
    pub profile: Option<String>,
}

impl AwsArgs {
    fn settings(&self) -> AwsSettings {
        AwsSettings {
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            profile: self.profile.clone(),
            static_credentials: None,
        }
    }
}

/// Where ingest reads from.
#[derive(Debug, Subcommand)]
pub enum IngestSource {
    /// Long-poll an SQS FIFO queue until SIGINT/SIGTERM (a batch in hand is finished first).
    Sqs {
        /// The queue.
        #[arg(long, env = "TURNFLOW_QUEUE_URL")]
        queue_url: String,
        /// The state machine (or version or alias) to start.
        #[arg(long, env = "TURNFLOW_STATE_MACHINE_ARN")]
        state_machine_arn: String,
        /// Where malformed and poison messages go, with their reason.
        #[arg(long, env = "TURNFLOW_DEAD_LETTER_QUEUE_URL")]
        dead_letter_queue_url: Option<String>,
        /// Store customers' messages in the DynamoDB tables with this prefix.
        #[arg(long, env = "TURNFLOW_TABLE_PREFIX")]
        table_prefix: Option<String>,
        /// After how many receives a failing message is dead-lettered.
        #[arg(long, default_value_t = 5)]
        max_receives: u32,
    },
    /// Run as a Lambda function behind an SQS event source mapping (reports batchItemFailures).
    Lambda {
        /// The state machine (or version or alias) to start.
        #[arg(long, env = "TURNFLOW_STATE_MACHINE_ARN")]
        state_machine_arn: String,
        /// Where malformed and poison messages go, with their reason.
        #[arg(long, env = "TURNFLOW_DEAD_LETTER_QUEUE_URL")]
        dead_letter_queue_url: Option<String>,
        /// Store customers' messages in the DynamoDB tables with this prefix.
        #[arg(long, env = "TURNFLOW_TABLE_PREFIX")]
        table_prefix: Option<String>,
    },
}

/// `turnflow deploy`'s arguments.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The definition.
    #[arg(long, default_value = "state-machines/turn.asl.json")]
    pub file: PathBuf,
    /// The state machine's name.
    #[arg(long, default_value = "turnflow-turn")]
    pub name: String,
    /// The role Step Functions assumes.
    #[arg(long, env = "TURNFLOW_STATES_ROLE_ARN")]
    pub role_arn: String,
    /// Fills every `${StepActivityArn}` with this prefix and the step's name
    /// (e.g. `arn:aws:states:us-east-1:123456789012:activity:turnflow-`).
    #[arg(long)]
    pub activity_arn_prefix: Option<String>,
    /// `Name=value` for a placeholder (repeatable; wins over the prefix).
    #[arg(long = "sub", value_name = "NAME=VALUE")]
    pub substitutions: Vec<String>,
}

/// `turnflow worker`'s arguments.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// `name=arn` of an activity to poll (repeatable).
    #[arg(
        long = "activity",
        value_name = "NAME=ARN",
        required_unless_present = "lambda"
    )]
    pub activities: Vec<String>,
    /// Where the embedded ports keep their data (conversations, demo back office, outbox).
    #[arg(long, default_value = ".turnflow", env = "TURNFLOW_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Run as a Lambda function (the turn's Lambda target: the step is named in each event's
    /// `step`) instead of polling activities.
    #[arg(long)]
    pub lambda: bool,
    /// Concurrent long polls per activity.
    #[arg(long, default_value_t = 4)]
    pub polls: usize,
    /// Seconds between heartbeats of a running task.
    #[arg(long, default_value_t = 10)]
    pub heartbeat_seconds: u64,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

fn store(
    config: &aws_config::SdkConfig,
    prefix: Option<&str>,
) -> Option<Arc<dyn ConversationStore>> {
    prefix.map(|p| {
        Arc::new(DynamoStore::new(
            aws_sdk_dynamodb::Client::new(config),
            StoreTables::with_prefix(p),
        )) as Arc<dyn ConversationStore>
    })
}

/// `turnflow ingest …`.
pub fn ingest(aws: &AwsArgs, source: IngestSource) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let config = aws.settings().load().await;
        let sqs = aws_sdk_sqs::Client::new(&config);
        let sfn = aws_sdk_sfn::Client::new(&config);
        match source {
            IngestSource::Sqs {
                queue_url,
                state_machine_arn,
                dead_letter_queue_url,
                table_prefix,
                max_receives,
            } => {
                let mut ingestor =
                    Ingestor::new(sqs, sfn, state_machine_arn).max_receives(max_receives);
                if let Some(url) = dead_letter_queue_url {
                    ingestor = ingestor.dead_letter_queue(url);
                }
                if let Some(s) = store(&config, table_prefix.as_deref()) {
                    ingestor = ingestor.store(s, None);
                }
                let stats = ingestor.run(&queue_url, shutdown_signal()).await?;
                eprintln!(
                    "ingest stopped: {} started, {} recorded, {} dead-lettered, {} left to retry",
                    stats.started, stats.recorded, stats.dead_lettered, stats.retried
                );
                Ok(())
            }
            IngestSource::Lambda {
                state_machine_arn,
                dead_letter_queue_url,
                table_prefix,
            } => {
                let mut ingestor = Ingestor::new(sqs, sfn, state_machine_arn);
                if let Some(url) = dead_letter_queue_url {
                    ingestor = ingestor.dead_letter_queue(url);
                }
                if let Some(s) = store(&config, table_prefix.as_deref()) {
                    ingestor = ingestor.store(s, None);
                }
                ingestor
                    .run_lambda()
                    .await
                    .map_err(|e| anyhow::anyhow!("the lambda runtime failed: {e}"))
            }
        }
    })
}

fn pairs(items: &[String], what: &str) -> anyhow::Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .with_context(|| format!("{what} `{p}` is not NAME=VALUE"))
        })
        .collect()
}

/// `turnflow deploy`.
pub fn deploy(aws: &AwsArgs, args: DeployArgs) -> anyhow::Result<()> {
    let definition = std::fs::read_to_string(&args.file)
        .with_context(|| format!("failed to read {}", args.file.display()))?;
    let mut substitutions = BTreeMap::new();
    if let Some(prefix) = &args.activity_arn_prefix {
        for (i, _) in definition.match_indices("${") {
            let name = definition[i + 2..].split('}').next().unwrap_or_default();
            if let Some(step) = name.strip_suffix("ActivityArn") {
                substitutions.insert(name.to_owned(), format!("{prefix}{}", step.to_lowercase()));
            }
        }
    }
    substitutions.extend(pairs(&args.substitutions, "--sub")?);
    let deployment = Deployment {
        name: args.name,
        role_arn: args.role_arn,
        definition,
        substitutions,
        description: Some(format!("turnflow {}", env!("CARGO_PKG_VERSION"))),
    };
    runtime()?.block_on(async {
        let config = aws.settings().load().await;
        let sfn = aws_sdk_sfn::Client::new(&config);
        let deployed = deploy::deploy(&sfn, &deployment).await?;
        println!(
            "{} {}",
            if deployed.created {
                "created"
            } else {
                "updated"
            },
            deployed.state_machine_arn
        );
        if let Some(v) = deployed.version_arn {
            println!("published {v}");
        }
        Ok(())
    })
}

/// The step handlers this build runs. The handlers (triage … escalate) are wired in here when
/// they land; until then every task fails with a clear, non-retried error, so a turn escalates
/// instead of hanging.
#[derive(Debug)]
/// The step handlers over the embedded ports (SQLite store, back office and outbox under the
/// data directory, the embedded brain and the demo knowledge base).
struct Handlers {
    ports: turnflow_activities::handlers::Ports,
}

impl Handlers {
    fn open(data_dir: &std::path::Path) -> anyhow::Result<Handlers> {
        use turnflow_activities::embedded::{self, Embedded, EmbeddedKb};
        let brain = embedded::brain().context("failed to train the embedded brain")?;
        let kb = EmbeddedKb::demo().context("failed to index the demo knowledge base")?;
        let policy = turnflow_activities::policy::Policy::default_policy()
            .context("failed to read the built-in policy")?;
        let embedded = Embedded::open(
            data_dir,
            Arc::new(brain),
            Arc::new(kb),
            Arc::new(policy),
            Arc::new(turnflow_activities::handlers::SystemClock),
        )
        .with_context(|| format!("failed to open the stores in {}", data_dir.display()))?;
        Ok(Handlers {
            ports: embedded.ports,
        })
    }
}

#[async_trait::async_trait]
impl StepHandler for Handlers {
    async fn handle(
        &self,
        activity: &str,
        input: serde_json::Value,
    ) -> Result<serde_json::Value, StepFailure> {
        turnflow_activities::handlers::handle_json(activity, input, &self.ports)
            .await
            .map_err(|e| StepFailure {
                error: e.error.as_str().to_owned(),
                cause: e.cause,
            })
    }
}

/// `turnflow worker`.
pub fn worker(aws: &AwsArgs, args: WorkerArgs) -> anyhow::Result<()> {
    let activities = pairs(&args.activities, "--activity")?;
    runtime()?.block_on(async {
        let config = aws.settings().load().await;
        let sfn = worker::poll_client(&config);
        let settings = WorkerSettings {
            activities,
            polls_per_activity: args.polls,
            heartbeat: Duration::from_secs(args.heartbeat_seconds.max(1)),
            worker_name: format!("turnflow-{}", std::process::id()),
        };
        let handlers = Handlers::open(&args.data_dir)?;
        if args.lambda {
            return turnflow_activities::aws::worker::run_lambda(handlers.ports)
                .await
                .map_err(|e| anyhow::anyhow!("the Lambda runtime stopped: {e}"));
        }
        let stats = worker::run(sfn, settings, Arc::new(handlers), shutdown_signal()).await?;
        eprintln!(
            "workers stopped: {} tasks succeeded, {} failed",
            stats.succeeded, stats.failed
        );
        Ok(())
    })
}
