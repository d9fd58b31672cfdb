//! `turnflow engine serve`: the engine and the API server in one process, until a signal.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;

use crate::engine::{Engine, EngineConfig};

use super::server::{self, ServerConfig, Shutdown};
use super::service::StepFunctions;
use super::sigv4::Verifier;

/// The journal's file name inside the data directory.
pub const JOURNAL_FILE: &str = "journal.db";

/// How `turnflow engine serve` runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the journal lives.
    pub data_dir: PathBuf,
    /// The address to serve on.
    pub listen: SocketAddr,
    /// Signature verification, when credentials were given.
    pub verifier: Option<Verifier>,
}

/// Opens the engine in `data_dir` and serves it until Ctrl-C or SIGTERM.
///
/// # Errors
/// When the engine cannot open its journal or the address cannot be bound.
pub async fn run(options: Options) -> anyhow::Result<()> {
    std::fs::create_dir_all(&options.data_dir)
        .with_context(|| format!("failed to create {}", options.data_dir.display()))?;
    let journal = options.data_dir.join(JOURNAL_FILE);
    let engine = Engine::open(EngineConfig::new(&journal))
        .with_context(|| format!("failed to open the journal {}", journal.display()))?;
    tracing::info!(
        journal = %journal.display(),
        resumed = engine.recovered(),
        "engine open"
    );
    let engine = Arc::new(engine);
    let served = serve_until_signal(Arc::clone(&engine), options.listen, options.verifier).await;
    engine.shutdown().await;
    served
}

/// Serves `service` on `listen` until Ctrl-C or SIGTERM, then shuts down gracefully.
///
/// # Errors
/// When the address cannot be bound or the server fails.
pub async fn serve_until_signal<S: StepFunctions>(
    service: Arc<S>,
    listen: SocketAddr,
    verifier: Option<Verifier>,
) -> anyhow::Result<()> {
    if !listen.ip().is_loopback() && verifier.is_none() {
        tracing::warn!(
            %listen,
            "serving beyond loopback without credentials: anyone who can reach this address \
             can run and answer executions"
        );
    }
    let config = ServerConfig {
        verifier,
        ..ServerConfig::default()
    };
    let shutdown = Shutdown::new();
    let (addr, task) = server::spawn(listen, service, config, shutdown.clone())
        .await
        .with_context(|| format!("failed to listen on {listen}"))?;
    eprintln!("turnflow: step functions api on http://{addr} (Ctrl-C stops)");
    signal().await;
    tracing::info!("shutting down");
    shutdown.trigger();
    task.await
        .context("the server task stopped")?
        .context("the server failed")?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn signal() {
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
