//! [`Engine`]: the handle the API server, the CLI and tests use.

use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::oneshot;
use turnflow_workflows::interp::{DATA_LIMIT_BYTES, TaskOutcome};

use super::arn::Arns;
use super::clock::{Clock, SystemClock};
use super::core::{Core, CoreSetup, Msg, Reply};
use super::error::EngineError;
use super::history::history;
use super::model::{
    ActivityDescription, ActivityTask, ExecutionDescription, ExecutionListItem, Finished,
    HistoryPage, Page, QueueMessage, StartedExecution, StateMachineCreated,
    StateMachineDescription, StateMachineListItem, StateMachineVersionItem, Stopped,
};
use super::worker::{Handler, Workers};
use crate::journal::{
    Checkpointer, Durability, ExecutionRecord, FsyncStats, Journal, Reader, Syncer, status,
    status_name,
};

/// The longest `GetActivityTask` waits, as on AWS.
pub const MAX_POLL: Duration = Duration::from_secs(60);

/// How to open an engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The journal file (SQLite); its directory must exist.
    pub path: PathBuf,
    /// Region and account of the ARNs.
    pub arns: Arns,
    /// When callers are answered (see [`crate::journal`]).
    pub durability: Durability,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// In-process handlers (more can be registered later).
    pub workers: Arc<Workers>,
    /// The most executions kept in memory while they run (an in-process step under way, or
    /// a step about to be taken). New executions wait at `StartExecution` while it is
    /// reached, so a flood of starts is met with back-pressure instead of unbounded memory;
    /// executions parked on tokens, timers or external workers do not count.
    pub max_active: usize,
}

/// The default of [`EngineConfig::max_active`]: with a model call of 300 ms per step, enough
/// for about 13,000 steps/s, more than the journal commits.
pub(crate) const DEFAULT_MAX_ACTIVE: usize = 4096;

impl EngineConfig {
    /// Defaults: us-east-1 / 123456789012, fsync before answering, the system clock.
    pub fn new(path: impl Into<PathBuf>) -> EngineConfig {
        EngineConfig {
            path: path.into(),
            arns: Arns::default(),
            durability: Durability::Disk,
            clock: Arc::new(SystemClock),
            workers: Arc::new(Workers::default()),
            max_active: DEFAULT_MAX_ACTIVE,
        }
    }
}

#[derive(Debug)]
struct Inner {
    tx: mpsc::Sender<Msg>,
    reader: Arc<Reader>,
    arns: Arns,
    workers: Arc<Workers>,
    thread: Mutex<Option<JoinHandle<()>>>,
    recovered: usize,
    fsyncs: Option<FsyncStats>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::Shutdown);
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

/// The embedded Step Functions engine. Cheap to clone; the engine stops when the last
/// clone is dropped (after the batch in progress commits).
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl Engine {
    /// Opens the journal, resumes every running execution, and starts the engine. Call it
    /// inside a tokio runtime: in-process handlers run on it.
    pub fn open(config: EngineConfig) -> Result<Engine, EngineError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            EngineError::ValidationException("open the engine inside a tokio runtime".into())
        })?;
        let journal = Journal::open(&config.path, config.durability)?;
        let syncer = match config.durability {
            Durability::Disk => Some(Syncer::start(&config.path)?),
            Durability::Process => None,
        };
        let checkpointer = Checkpointer::start(&config.path)?;
        let fsyncs = syncer.as_ref().map(Syncer::stats);
        let reader = Arc::new(Reader::open(&config.path)?);
        let (tx, rx) = mpsc::channel();
        let wake = tx.clone();
        config.clock.on_advance(Box::new(move || {
            let _ = wake.send(Msg::Tick);
        }));
        let mut core = Core::new(CoreSetup {
            journal,
            syncer,
            checkpointer,
            clock: config.clock,
            arns: config.arns.clone(),
            workers: Arc::clone(&config.workers),
            runtime,
            tx: tx.clone(),
            rx,
            max_active: config.max_active.max(1),
        });
        let recovered = core.recover()?;
        let thread = std::thread::Builder::new()
            .name("turnflow-engine".into())
            .spawn(move || core.run())
            .map_err(|e| EngineError::Journal(e.into()))?;
        Ok(Engine {
            inner: Arc::new(Inner {
                tx,
                reader,
                arns: config.arns,
                workers: config.workers,
                thread: Mutex::new(Some(thread)),
                recovered,
                fsyncs,
            }),
        })
    }

    /// The times of the journal's fsyncs so far ([`Durability::Disk`] only).
    pub fn fsync_stats(&self) -> Option<FsyncStats> {
        self.inner.fsyncs.clone()
    }

    /// How many running executions were resumed when the engine opened.
    pub fn recovered(&self) -> usize {
        self.inner.recovered
    }

    /// The ARN scheme.
    pub fn arns(&self) -> &Arns {
        &self.inner.arns
    }

    async fn call<T>(&self, msg: impl FnOnce(Reply<T>) -> Msg) -> Result<T, EngineError> {
        let (tx, rx) = oneshot::channel();
        self.inner
            .tx
            .send(msg(tx))
            .map_err(|_| EngineError::ShutDown)?;
        rx.await.map_err(|_| EngineError::ShutDown)?
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Reader, &Arns) -> Result<T, EngineError> + Send + 'static,
    ) -> Result<T, EngineError> {
        let reader = Arc::clone(&self.inner.reader);
        let arns = self.inner.arns.clone();
        tokio::task::spawn_blocking(move || f(&reader, &arns))
            .await
            .map_err(|_| EngineError::ShutDown)?
    }

    /// Stops the engine after the batch in progress (this clone and others stop working).
    pub async fn shutdown(&self) {
        let _ = self.inner.tx.send(Msg::Shutdown);
        let thread = self
            .inner
            .thread
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(t) = thread {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }

    // --- in-process workers ---

    /// Registers the in-process handler of an activity (by name): its tasks are run by the
    /// handler, with no polling, including tasks already waiting for a worker.
    pub fn register_activity(&self, name: &str, handler: Handler) {
        self.inner.workers.add_activity(name, handler);
        let _ = self.inner.tx.send(Msg::WorkersChanged);
    }

    /// Registers the in-process handler of a Lambda function (by function name).
    pub fn register_function(&self, name: &str, handler: Handler) {
        self.inner.workers.add_function(name, handler);
    }

    // --- state machines ---

    /// `CreateStateMachine`: version 1 of a new state machine. Idempotent for the same
    /// name, definition and role; `StateMachineAlreadyExists` otherwise.
    pub async fn create_state_machine(
        &self,
        name: &str,
        definition: &str,
        role_arn: &str,
    ) -> Result<StateMachineCreated, EngineError> {
        let (name, definition, role_arn) = (name.into(), definition.into(), role_arn.into());
        self.call(|reply| Msg::CreateStateMachine {
            name,
            definition,
            role_arn,
            reply,
        })
        .await
    }

    /// `UpdateStateMachine`: every update makes a new version; running executions stay on
    /// theirs.
    pub async fn update_state_machine(
        &self,
        arn: &str,
        definition: Option<&str>,
        role_arn: Option<&str>,
    ) -> Result<StateMachineCreated, EngineError> {
        let arn = arn.to_string();
        let (definition, role_arn) = (definition.map(Into::into), role_arn.map(Into::into));
        self.call(|reply| Msg::UpdateStateMachine {
            arn,
            definition,
            role_arn,
            reply,
        })
        .await
    }

    /// `DeleteStateMachine` (its executions stay readable and running ones go on).
    pub async fn delete_state_machine(&self, arn: &str) -> Result<(), EngineError> {
        let arn = arn.to_string();
        self.call(|reply| Msg::DeleteStateMachine { arn, reply })
            .await
    }

    /// `DescribeStateMachine` (of a version, with a version ARN).
    pub async fn describe_state_machine(
        &self,
        arn: &str,
    ) -> Result<StateMachineDescription, EngineError> {
        let arn = arn.to_string();
        self.read(move |r, arns| {
            let (name, version) = arns.parse_state_machine(&arn)?;
            let missing = || EngineError::StateMachineDoesNotExist(arn.clone());
            let sm = r
                .state_machine(&name)?
                .filter(|s| !s.deleted)
                .ok_or_else(missing)?;
            let v = version.unwrap_or(sm.latest);
            let (definition, role_arn, created) = r.version(sm.id, v)?.ok_or_else(missing)?;
            Ok(StateMachineDescription {
                state_machine_arn: arn.clone(),
                name,
                status: "ACTIVE",
                definition,
                role_arn,
                kind: "STANDARD",
                creation_date: if version.is_some() {
                    created
                } else {
                    sm.created_ms
                },
                version: v,
            })
        })
        .await
    }

    /// `ListStateMachines`.
    pub async fn list_state_machines(
        &self,
        max_results: Option<usize>,
        next_token: Option<&str>,
    ) -> Result<Page<StateMachineListItem>, EngineError> {
        let (offset, limit) = paging(max_results, next_token)?;
        self.read(move |r, arns| {
            let items: Vec<StateMachineListItem> = r
                .state_machines()?
                .into_iter()
                .map(|s| StateMachineListItem {
                    state_machine_arn: arns.state_machine(&s.name),
                    name: s.name,
                    kind: "STANDARD",
                    creation_date: s.created_ms,
                })
                .collect();
            Ok(page(items, offset, limit))
        })
        .await
    }

    /// `ListStateMachineVersions`, newest first.
    pub async fn list_state_machine_versions(
        &self,
        arn: &str,
    ) -> Result<Vec<StateMachineVersionItem>, EngineError> {
        let arn = arn.to_string();
        self.read(move |r, arns| {
            let (name, _) = arns.parse_state_machine(&arn)?;
            let sm = r
                .state_machine(&name)?
                .ok_or_else(|| EngineError::StateMachineDoesNotExist(arn.clone()))?;
            Ok(r.versions(sm.id)?
                .into_iter()
                .map(|(v, at)| StateMachineVersionItem {
                    state_machine_version_arn: arns.version(&name, v),
                    creation_date: at,
                })
                .collect())
        })
        .await
    }

    // --- activities ---

    /// `CreateActivity` (idempotent by name).
    pub async fn create_activity(&self, name: &str) -> Result<ActivityDescription, EngineError> {
        let name = name.to_string();
        self.call(|reply| Msg::CreateActivity { name, reply }).await
    }

    /// `DeleteActivity`.
    pub async fn delete_activity(&self, arn: &str) -> Result<(), EngineError> {
        let arn = arn.to_string();
        self.call(|reply| Msg::DeleteActivity { arn, reply }).await
    }

    /// `DescribeActivity`.
    pub async fn describe_activity(&self, arn: &str) -> Result<ActivityDescription, EngineError> {
        let arn = arn.to_string();
        self.read(move |r, arns| {
            let name = arns.parse_activity(&arn)?;
            let created = r
                .activity(&name)?
                .ok_or_else(|| EngineError::ActivityDoesNotExist(arn.clone()))?;
            Ok(ActivityDescription {
                activity_arn: arn,
                name,
                creation_date: created,
            })
        })
        .await
    }

    /// `ListActivities`.
    pub async fn list_activities(
        &self,
        max_results: Option<usize>,
        next_token: Option<&str>,
    ) -> Result<Page<ActivityDescription>, EngineError> {
        let (offset, limit) = paging(max_results, next_token)?;
        self.read(move |r, arns| {
            let items = r
                .activities()?
                .into_iter()
                .map(|(name, at)| ActivityDescription {
                    activity_arn: arns.activity(&name),
                    name,
                    creation_date: at,
                })
                .collect();
            Ok(page(items, offset, limit))
        })
        .await
    }

    // --- executions ---

    /// `StartExecution`, idempotent by name as on AWS: the same name and input as a
    /// running execution returns it; otherwise `ExecutionAlreadyExists`. A version ARN
    /// pins that version; a state machine ARN, the latest.
    pub async fn start_execution(
        &self,
        state_machine_arn: &str,
        name: Option<&str>,
        input: Option<&str>,
    ) -> Result<StartedExecution, EngineError> {
        let state_machine_arn = state_machine_arn.to_string();
        let (name, input) = (name.map(Into::into), input.map(Into::into));
        self.call(|reply| Msg::Start {
            state_machine_arn,
            name,
            input,
            reply,
        })
        .await
    }

    /// `StopExecution`.
    pub async fn stop_execution(
        &self,
        arn: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<Stopped, EngineError> {
        let arn = arn.to_string();
        let (error, cause) = (error.map(Into::into), cause.map(Into::into));
        self.call(|reply| Msg::Stop {
            arn,
            error,
            cause,
            reply,
        })
        .await
    }

    /// `RedriveExecution`: a failed, timed-out or aborted execution resumes in the state
    /// whose task failed (or was running when it stopped); succeeded steps are not re-run.
    pub async fn redrive_execution(&self, arn: &str) -> Result<Stopped, EngineError> {
        let arn = arn.to_string();
        self.call(|reply| Msg::Redrive { arn, reply }).await
    }

    /// `DescribeExecution`.
    pub async fn describe_execution(&self, arn: &str) -> Result<ExecutionDescription, EngineError> {
        let arn = arn.to_string();
        self.read(move |r, arns| {
            let rec = record(r, arns, &arn)?;
            let input = first_input(r, rec.row.id)?;
            let row = rec.row;
            Ok(ExecutionDescription {
                execution_arn: arn,
                state_machine_arn: arns.state_machine(&rec.state_machine),
                state_machine_version_arn: arns.version(&rec.state_machine, rec.version),
                name: row.name,
                status: status_name(row.status),
                start_date: row.start_ms,
                stop_date: row.stop_ms,
                input,
                output: row.output,
                error: row.error,
                cause: row.cause,
                redrive_count: row.redrive_count,
                redrive_date: row.redrive_ms,
                redrive_status: if row.status == status::RUNNING || row.status == status::SUCCEEDED
                {
                    "NOT_REDRIVABLE"
                } else {
                    "REDRIVABLE"
                },
            })
        })
        .await
    }

    /// `ListExecutions` of a state machine, newest first.
    pub async fn list_executions(
        &self,
        state_machine_arn: &str,
        status_filter: Option<&str>,
        max_results: Option<usize>,
        next_token: Option<&str>,
    ) -> Result<Page<ExecutionListItem>, EngineError> {
        let (offset, limit) = paging(max_results, next_token)?;
        let filter = match status_filter {
            None => None,
            Some(s) => Some(
                [
                    status::RUNNING,
                    status::SUCCEEDED,
                    status::FAILED,
                    status::TIMED_OUT,
                    status::ABORTED,
                ]
                .into_iter()
                .find(|c| status_name(*c) == s)
                .ok_or_else(|| {
                    EngineError::ValidationException(format!("unknown status filter `{s}`"))
                })?,
            ),
        };
        let arn = state_machine_arn.to_string();
        self.read(move |r, arns| {
            let (name, _) = arns.parse_state_machine(&arn)?;
            let sm = r
                .state_machine(&name)?
                .ok_or_else(|| EngineError::StateMachineDoesNotExist(arn.clone()))?;
            let off = i64::try_from(offset).unwrap_or(i64::MAX);
            let lim = i64::try_from(limit + 1).unwrap_or(i64::MAX);
            let mut rows = r.executions(sm.id, filter, off, lim)?;
            let more = rows.len() > limit;
            rows.truncate(limit);
            Ok(Page {
                items: rows
                    .into_iter()
                    .map(|row| ExecutionListItem {
                        execution_arn: arns.execution(&name, &row.name),
                        state_machine_arn: arns.state_machine(&name),
                        name: row.name,
                        status: status_name(row.status),
                        start_date: row.start_ms,
                        stop_date: row.stop_ms,
                        redrive_count: row.redrive_count,
                    })
                    .collect(),
                next_token: more.then(|| (offset + limit).to_string()),
            })
        })
        .await
    }

    /// `GetExecutionHistory`, paginated, oldest first unless `reverse_order`.
    pub async fn get_execution_history(
        &self,
        arn: &str,
        max_results: Option<usize>,
        reverse_order: bool,
        next_token: Option<&str>,
    ) -> Result<HistoryPage, EngineError> {
        let (offset, limit) = paging(max_results, next_token)?;
        let arn = arn.to_string();
        self.read(move |r, arns| {
            let rec = record(r, arns, &arn)?;
            let mut events = history(r, &rec)?;
            if reverse_order {
                events.reverse();
            }
            Ok(page(events, offset, limit))
        })
        .await
    }

    /// Waits until the execution has finished (not an AWS operation: for tests, the bench
    /// and in-process callers).
    pub async fn wait_for_execution(&self, arn: &str) -> Result<Finished, EngineError> {
        let arn = arn.to_string();
        self.call(|reply| Msg::Await { arn, reply }).await
    }

    /// Waits until the engine has nothing to do but wait: no request queued or deferred, no
    /// in-process handler running, no deadline due. Returns the next armed deadline (a
    /// Wait, a retry interval, a task's timeout or heartbeat), so a test on a
    /// [`ManualClock`](super::ManualClock) can move time exactly there — not an AWS
    /// operation.
    pub async fn until_idle(&self) -> Result<Option<i64>, EngineError> {
        let (tx, rx) = oneshot::channel();
        self.inner
            .tx
            .send(Msg::Idle { reply: tx })
            .map_err(|_| EngineError::ShutDown)?;
        rx.await.map_err(|_| EngineError::ShutDown)
    }

    // --- tasks ---

    /// `GetActivityTask`: waits up to `wait` (at most 60 s) for a task of the activity;
    /// `None` when none came.
    pub async fn get_activity_task(
        &self,
        activity_arn: &str,
        worker_name: Option<&str>,
        wait: Duration,
    ) -> Result<Option<ActivityTask>, EngineError> {
        let (tx, rx) = oneshot::channel();
        self.inner
            .tx
            .send(Msg::Poll {
                activity_arn: activity_arn.to_string(),
                worker: worker_name.map(Into::into),
                reply: tx,
            })
            .map_err(|_| EngineError::ShutDown)?;
        match tokio::time::timeout(wait.min(MAX_POLL), rx).await {
            Ok(r) => r.map_err(|_| EngineError::ShutDown)?,
            Err(_) => Ok(None),
        }
    }

    /// `SendTaskSuccess` with the output's JSON text.
    pub async fn send_task_success(&self, token: &str, output: &str) -> Result<(), EngineError> {
        if output.len() > DATA_LIMIT_BYTES {
            return Err(EngineError::InvalidOutput(format!(
                "the output is {} bytes, over the limit of {DATA_LIMIT_BYTES}",
                output.len()
            )));
        }
        let value: Value = serde_json::from_str(output)
            .map_err(|e| EngineError::InvalidOutput(format!("not JSON: {e}")))?;
        let token = token.to_string();
        self.call(|reply| Msg::Answer {
            token,
            outcome: TaskOutcome::Succeeded(value),
            reply,
        })
        .await
    }

    /// `SendTaskFailure`.
    pub async fn send_task_failure(
        &self,
        token: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), EngineError> {
        let token = token.to_string();
        let outcome = TaskOutcome::Failed {
            error: error.map(Into::into),
            cause: cause.map(Into::into),
        };
        self.call(|reply| Msg::Answer {
            token,
            outcome,
            reply,
        })
        .await
    }

    /// `SendTaskHeartbeat`.
    pub async fn send_task_heartbeat(&self, token: &str) -> Result<(), EngineError> {
        let token = token.to_string();
        self.call(|reply| Msg::Heartbeat { token, reply }).await
    }

    // --- embedded queues ---

    /// Puts a message on an embedded queue; returns its id.
    pub async fn send_message(&self, queue: &str, body: &str) -> Result<String, EngineError> {
        let (queue, body) = (queue.to_string(), body.to_string());
        self.call(|reply| Msg::SendMessage { queue, body, reply })
            .await
    }

    /// Receives up to `max` visible messages, hiding them for `visibility`.
    pub async fn receive_messages(
        &self,
        queue: &str,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<QueueMessage>, EngineError> {
        let queue = queue.to_string();
        let visibility_ms = i64::try_from(visibility.as_millis()).unwrap_or(i64::MAX);
        self.call(|reply| Msg::Receive {
            queue,
            max,
            visibility_ms,
            reply,
        })
        .await
    }

    /// Deletes a message; true when it was there.
    pub async fn delete_message(&self, queue: &str, message_id: &str) -> Result<bool, EngineError> {
        let (queue, message_id) = (queue.to_string(), message_id.to_string());
        self.call(|reply| Msg::DeleteMessage {
            queue,
            message_id,
            reply,
        })
        .await
    }

    /// The messages of a queue, without receiving them.
    pub async fn peek_messages(&self, queue: &str) -> Result<Vec<QueueMessage>, EngineError> {
        let queue = queue.to_string();
        self.read(move |r, _| {
            Ok(r.messages(&queue)?
                .into_iter()
                .map(|m| QueueMessage {
                    message_id: m.message_id,
                    body: m.body,
                    sent: m.sent_ms,
                    receive_count: m.receives,
                })
                .collect())
        })
        .await
    }

    /// How many messages an embedded queue holds.
    pub async fn queue_length(&self, queue: &str) -> Result<i64, EngineError> {
        let queue = queue.to_string();
        self.read(move |r, _| Ok(r.count_messages(&queue)?)).await
    }

    /// `(executions, bytes)` of the journal's main file (after a checkpoint).
    pub async fn journal_size(&self) -> Result<(i64, i64), EngineError> {
        self.read(|r, _| Ok(r.size()?)).await
    }
}

fn record(r: &Reader, arns: &Arns, arn: &str) -> Result<ExecutionRecord, EngineError> {
    let (sm, name) = arns.parse_execution(arn)?;
    r.execution(&sm, &name)?
        .ok_or_else(|| EngineError::ExecutionDoesNotExist(arn.to_string()))
}

fn first_input(r: &Reader, exec: i64) -> Result<String, EngineError> {
    let bodies = r.events(exec)?;
    Ok(
        match bodies
            .first()
            .map(|b| super::live::Entry::decode(b))
            .transpose()?
        {
            Some(super::live::Entry::Event(
                turnflow_workflows::interp::Event::ExecutionStarted { input, .. },
            )) => input.to_string(),
            _ => "{}".to_string(),
        },
    )
}

/// `(offset, limit)` of a page request: AWS's `maxResults` is 1–1000 (100 by default
/// here), `nextToken` is the offset as text.
fn paging(
    max_results: Option<usize>,
    next_token: Option<&str>,
) -> Result<(usize, usize), EngineError> {
    let limit = match max_results {
        None | Some(0) => 100,
        Some(n) if n <= 1000 => n,
        Some(n) => {
            return Err(EngineError::ValidationException(format!(
                "maxResults {n} is over 1000"
            )));
        }
    };
    let offset = match next_token {
        None => 0,
        Some(t) => t
            .parse()
            .map_err(|_| EngineError::InvalidToken(format!("invalid nextToken `{t}`")))?,
    };
    Ok((offset, limit))
}

fn page<T>(items: Vec<T>, offset: usize, limit: usize) -> Page<T> {
    let total = items.len();
    let items: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
    Page {
        next_token: (offset + limit < total).then(|| (offset + limit).to_string()),
        items,
    }
}
