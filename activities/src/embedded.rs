//! The embedded adapters: every port on one machine, with no network.
//!
//! # Layout
//! - [`store`]: the conversation store on SQLite.
//! - [`back_office`]: the demo back office on SQLite (and the τ-bench retail loader).
//! - [`outbox`]: the outbox on SQLite.
//! - [`guardrails`]: regex PII redaction (Luhn, mod-97) and the policy's denied topics.
//! - [`model`]: the brain for triage, templates for drafts.
//! - [`kb`]: the tantivy knowledge base.

pub mod back_office;
pub mod guardrails;
pub mod kb;
pub mod model;
pub mod outbox;
pub mod store;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use crate::brain::Brain;
use crate::handlers::{Clock, Ports};
use crate::policy::Policy;
use crate::ports::{PortError, PortResult};

pub use back_office::SqliteBackOffice;
pub use guardrails::RegexGuardrails;
pub use kb::EmbeddedKb;
pub use model::EmbeddedModel;
pub use outbox::SqliteOutbox;
pub use store::SqliteStore;

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on the current thread (the handlers need no runtime; tools and
/// the evaluation drive them with this).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

/// The embedded ports and the concrete adapters behind them (so callers can inspect them).
#[derive(Debug, Clone)]
pub struct Embedded {
    /// The ports handed to the handlers.
    pub ports: Ports,
    /// The store.
    pub store: Arc<SqliteStore>,
    /// The back office.
    pub back_office: Arc<SqliteBackOffice>,
    /// The outbox.
    pub outbox: Arc<SqliteOutbox>,
}

impl Embedded {
    /// In-memory embedded ports over a back office, a trained brain and the demo knowledge base.
    pub fn in_memory(
        back_office: SqliteBackOffice,
        brain: Arc<Brain>,
        kb: Arc<EmbeddedKb>,
        policy: Arc<Policy>,
        clock: Arc<dyn Clock>,
    ) -> PortResult<Embedded> {
        let store = Arc::new(SqliteStore::in_memory(clock.clone())?);
        let back_office = Arc::new(back_office);
        let outbox = Arc::new(SqliteOutbox::in_memory()?);
        Ok(Embedded::assemble(
            store,
            back_office,
            outbox,
            brain,
            kb,
            policy,
            clock,
        ))
    }
}

impl Embedded {
    /// The embedded ports on files under `dir` (created if missing): `store.db`,
    /// `back-office.db` (filled with the demo data of seed 1 when new) and `outbox.db`; the
    /// brain, the knowledge base and the policy are given.
    pub fn open(
        dir: &std::path::Path,
        brain: Arc<Brain>,
        kb: Arc<EmbeddedKb>,
        policy: Arc<Policy>,
        clock: Arc<dyn Clock>,
    ) -> PortResult<Embedded> {
        std::fs::create_dir_all(dir).map_err(|e| PortError::Unavailable {
            port: crate::ports::Port::Store,
            message: format!("create {}: {e}", dir.display()),
        })?;
        let store = Arc::new(SqliteStore::open(&dir.join("store.db"), clock.clone())?);
        let back_office = SqliteBackOffice::open(&dir.join("back-office.db"))?;
        if back_office.customers()? == 0 {
            back_office.fill_demo(1)?;
        }
        let back_office = Arc::new(back_office);
        let outbox = Arc::new(SqliteOutbox::open(&dir.join("outbox.db"))?);
        Ok(Embedded::assemble(
            store,
            back_office,
            outbox,
            brain,
            kb,
            policy,
            clock,
        ))
    }

    fn assemble(
        store: Arc<SqliteStore>,
        back_office: Arc<SqliteBackOffice>,
        outbox: Arc<SqliteOutbox>,
        brain: Arc<Brain>,
        kb: Arc<EmbeddedKb>,
        policy: Arc<Policy>,
        clock: Arc<dyn Clock>,
    ) -> Embedded {
        let ports = Ports {
            model: Arc::new(EmbeddedModel::new(brain)),
            kb,
            back_office: back_office.clone(),
            guardrails: Arc::new(RegexGuardrails::new(policy.clone())),
            store: store.clone(),
            outbox: outbox.clone(),
            clock,
            policy,
        };
        Embedded {
            ports,
            store,
            back_office,
            outbox,
        }
    }
}

/// A brain that could not be trained, as a port error.
pub fn brain() -> PortResult<Brain> {
    Brain::new().map_err(|e| PortError::InvalidModelOutput(format!("train the brain: {e}")))
}
