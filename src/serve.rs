//! `turnflow serve`: an AI support desk on one machine — the embedded engine running the real
//! turn definition, the seven step handlers as its in-process workers over the embedded ports,
//! a durable ingest webhook, the approval desk and the outbox, all under one data directory.
//!
//! One listener serves both the desk's own routes and the Step Functions API:
//!
//! | route | what |
//! | --- | --- |
//! | `POST /events` | a helpdesk event (turnflow's own, Zendesk-like or Intercom-like shape) |
//! | `GET /conversations/{id}` | the transcript, lifecycle status, turns and handoffs |
//! | `GET /approvals[?status=pending]` | approvals (never their task tokens) |
//! | `GET /approvals/{id}` | one approval, with its conversation's transcript |
//! | `POST /approvals/{id}/approve`, `…/reject` | a decision (`{"by": "alice"}`) |
//! | `GET /dead-letters` | events ingest gave up on, with the reason |
//! | `GET /outbox` | the replies handed to the helpdesk (each delivered once) |
//! | `GET /health` | liveness and counts |
//! | `POST /` | the Step Functions API (AWS JSON 1.0), as `turnflow engine serve` |
//!
//! # Layout
//! - [`ingest`]: the durable ingest queue and the dispatcher that starts turns from it.
//! - [`desk`]: approvals — requests off the embedded approval queue, decisions back to tokens.
//! - [`http`]: the routes above.
//! - [`client`]: `turnflow chat`, `turnflow approvals …` and `turnflow trace`, over HTTP.
//!
//! Data directory: `journal.db` (the engine), `store.db` (conversations, approvals, memory),
//! `back-office.db` (demo customers and orders, generated on first start), `outbox.db`.

pub mod client;
pub mod desk;
pub mod http;
pub mod ingest;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use turnflow_activities::embedded::{self, Embedded, EmbeddedKb};
use turnflow_activities::handlers::{self, Step, SystemClock};
use turnflow_activities::policy::Policy;

use crate::api::server::{self, ServerConfig, Shutdown};
use crate::engine::{Engine, EngineConfig, EngineError, Handler, TaskFailure};
use crate::harness::turn;

/// The name of the turn's state machine on the embedded engine.
pub const STATE_MACHINE: &str = "turnflow-turn";

/// The journal's file name inside the data directory.
pub const JOURNAL_FILE: &str = "journal.db";

/// How `turnflow serve` runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where everything lives.
    pub data_dir: PathBuf,
    /// The address to serve on.
    pub listen: SocketAddr,
    /// The support policy (the built-in default when `None`).
    pub policy: Option<PathBuf>,
    /// A knowledge-base index written by `turnflow kb index` (the demo KB when `None`).
    pub kb_index: Option<PathBuf>,
    /// After how many failed attempts ingest dead-letters an event.
    pub max_attempts: u32,
}

impl Options {
    /// The defaults for a data directory, on an address.
    pub fn new(data_dir: impl Into<PathBuf>, listen: SocketAddr) -> Options {
        Options {
            data_dir: data_dir.into(),
            listen,
            policy: None,
            kb_index: None,
            max_attempts: ingest::DEFAULT_MAX_ATTEMPTS,
        }
    }
}

/// A running desk: its address, and what stops it.
#[derive(Debug)]
pub struct Running {
    /// The bound address (useful with port 0).
    pub addr: SocketAddr,
    /// The engine.
    pub engine: Engine,
    /// The embedded ports.
    pub embedded: Embedded,
    /// The ARN of the turn's state machine.
    pub state_machine_arn: String,
    shutdown: Shutdown,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    loops: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops taking requests, lets the requests in flight finish, and stops the engine (after
    /// its batch in progress commits).
    ///
    /// # Errors
    /// When the server failed.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.trigger();
        for l in &self.loops {
            l.abort();
        }
        let served = self.server.await.context("the server task stopped")?;
        self.engine.shutdown().await;
        served.context("the server failed")
    }
}

/// Opens everything under the data directory and starts serving in the background.
///
/// # Errors
/// When the data directory, the journal, the stores, the brain, the knowledge base or the
/// address cannot be had; the message says which.
pub async fn start(options: Options) -> anyhow::Result<Running> {
    let dir = &options.data_dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("failed to create the data directory {}", dir.display()))?;
    let policy = match &options.policy {
        Some(path) => Policy::load(path)
            .with_context(|| format!("failed to read the policy {}", path.display()))?,
        None => Policy::default_policy().context("failed to read the built-in policy")?,
    };
    let kb = match &options.kb_index {
        Some(path) => EmbeddedKb::new(
            turnflow_activities::kb::KnowledgeBase::open(path).with_context(|| {
                format!(
                    "failed to open the knowledge-base index {} (make one with `turnflow kb index DIR --out {}`)",
                    path.display(),
                    path.display()
                )
            })?,
        ),
        None => EmbeddedKb::demo().context("failed to index the demo knowledge base")?,
    };
    let brain = embedded::brain().context("failed to train the embedded brain")?;
    let clock = Arc::new(SystemClock);
    let embedded = Embedded::open(dir, Arc::new(brain), Arc::new(kb), Arc::new(policy), clock)
        .with_context(|| format!("failed to open the stores in {}", dir.display()))?;

    let journal = dir.join(JOURNAL_FILE);
    let engine = Engine::open(EngineConfig::new(&journal))
        .with_context(|| format!("failed to open the journal {}", journal.display()))?;
    for step in Step::ALL {
        let ports = embedded.ports.clone();
        let name = step.as_str();
        engine.register_activity(
            name,
            Handler::new(move |input| {
                let ports = ports.clone();
                async move {
                    handlers::handle_json(name, input, &ports)
                        .await
                        .map_err(|e| TaskFailure::new(e.error.as_str(), e.cause))
                }
            }),
        );
    }
    let state_machine_arn = install(&engine).await?;
    tracing::info!(
        data_dir = %dir.display(),
        resumed = engine.recovered(),
        state_machine = %state_machine_arn,
        "desk open"
    );

    let ingest = Arc::new(ingest::Ingest::new(
        engine.clone(),
        embedded.clone(),
        state_machine_arn.clone(),
        options.max_attempts,
    ));
    let desk = Arc::new(desk::Desk::new(
        engine.clone(),
        embedded.store.clone(),
        Arc::clone(&ingest),
    ));
    let loops = vec![
        tokio::spawn(Arc::clone(&ingest).run()),
        tokio::spawn(Arc::clone(&desk).run()),
    ];

    let shutdown = Shutdown::new();
    let sfn = server::router(Arc::new(engine.clone()), ServerConfig::default(), &shutdown);
    let app = http::router(http::AppState {
        ingest,
        desk,
        engine: engine.clone(),
        embedded: embedded.clone(),
    })
    .merge(sfn);
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("failed to listen on {}", options.listen))?;
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        tracing::warn!(
            %addr,
            "serving beyond loopback: anyone who can reach this address can talk to the desk \
             and decide approvals"
        );
    }
    let signal = shutdown.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(signal.wait())
            .await
    });
    Ok(Running {
        addr,
        engine,
        embedded,
        state_machine_arn,
        shutdown,
        server,
        loops,
    })
}

/// Serves until Ctrl-C or SIGTERM.
///
/// # Errors
/// As [`start`], or when the server fails.
pub async fn run(options: Options) -> anyhow::Result<()> {
    let running = start(options).await?;
    let url = format!("http://{}", running.addr);
    eprintln!("turnflow: the support desk is on {url} (Ctrl-C stops)");
    eprintln!("  talk to it:      cargo run -- chat --url {url}");
    eprintln!("  approvals:       cargo run -- approvals list --url {url}");
    eprintln!("  a conversation:  cargo run -- trace CONVERSATION --url {url}");
    eprintln!("  step functions:  cargo run -- executions list --endpoint-url {url}");
    crate::api::daemon::signal().await;
    tracing::info!("shutting down");
    running.stop().await
}

/// Creates the activities and the turn's state machine, or — when the state machine exists
/// with another definition (a new build) — publishes the new definition as a new version;
/// running executions stay on theirs.
async fn install(engine: &Engine) -> anyhow::Result<String> {
    for (step, _) in turn::STEPS {
        engine
            .create_activity(step)
            .await
            .with_context(|| format!("failed to create the activity {step}"))?;
    }
    let definition = turn::definition(engine);
    let role = "arn:aws:iam::123456789012:role/turnflow";
    match engine
        .create_state_machine(STATE_MACHINE, &definition, role)
        .await
    {
        Ok(created) => Ok(created.state_machine_arn),
        Err(EngineError::StateMachineAlreadyExists(_)) => {
            let arn = engine.arns().state_machine(STATE_MACHINE);
            let current = engine
                .describe_state_machine(&arn)
                .await
                .context("failed to read the turn's state machine")?;
            if current.definition != definition {
                engine
                    .update_state_machine(&arn, Some(&definition), None)
                    .await
                    .context("failed to publish the new turn definition")?;
                tracing::info!(state_machine = %arn, "published a new version of the turn");
            }
            Ok(arn)
        }
        Err(e) => Err(e).context("failed to create the turn's state machine"),
    }
}
