//! The core thread: applies requests and results to the interpreters in batches, journals
//! them in one transaction per batch (group commit), then answers and dispatches.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::oneshot;
use turnflow_workflows::asl::{self, StateMachine};
use turnflow_workflows::interp::{
    Command, DATA_LIMIT_BYTES, Event, ExecutionInfo, Interpreter, Millis, Outcome, TaskOutcome,
};

use super::arn::{Arns, validate_name};
use super::clock::Clock;
use super::error::EngineError;
use super::integration::{Route, check_definition};
use super::live::{Entry, Live, effective};
use super::model::{
    ActivityDescription, ActivityTask, Finished, QueueMessage, StartedExecution,
    StateMachineCreated, Stopped,
};
use super::timers::{TimerKey, Timers};
use super::token::{new_token, random_u64, uuid, well_formed};
use super::worker::{Handler, TaskFailure, Workers};
use crate::journal::{
    Ack, Checkpointer, ExecutionRow, Journal, JournalError, Syncer, status, status_name,
};

/// The answer channel of a request.
pub(crate) type Reply<T> = oneshot::Sender<Result<T, EngineError>>;

/// A request to the core.
#[derive(Debug)]
pub(crate) enum Msg {
    CreateStateMachine {
        name: String,
        definition: String,
        role_arn: String,
        reply: Reply<StateMachineCreated>,
    },
    UpdateStateMachine {
        arn: String,
        definition: Option<String>,
        role_arn: Option<String>,
        reply: Reply<StateMachineCreated>,
    },
    DeleteStateMachine {
        arn: String,
        reply: Reply<()>,
    },
    CreateActivity {
        name: String,
        reply: Reply<ActivityDescription>,
    },
    DeleteActivity {
        arn: String,
        reply: Reply<()>,
    },
    Start {
        state_machine_arn: String,
        name: Option<String>,
        input: Option<String>,
        reply: Reply<StartedExecution>,
    },
    Stop {
        arn: String,
        error: Option<String>,
        cause: Option<String>,
        reply: Reply<Stopped>,
    },
    Redrive {
        arn: String,
        reply: Reply<Stopped>,
    },
    Answer {
        token: String,
        outcome: TaskOutcome,
        reply: Reply<()>,
    },
    Heartbeat {
        token: String,
        reply: Reply<()>,
    },
    Poll {
        activity_arn: String,
        worker: Option<String>,
        reply: Reply<Option<ActivityTask>>,
    },
    Completed {
        exec: i64,
        task_id: String,
        result: Result<Value, TaskFailure>,
    },
    Await {
        arn: String,
        reply: Reply<Finished>,
    },
    WorkersChanged,
    /// A task handed to a poller that was gone when the answer was sent.
    Undelivered {
        exec: i64,
        task_id: String,
        token: String,
    },
    SendMessage {
        queue: String,
        body: String,
        reply: Reply<String>,
    },
    Receive {
        queue: String,
        max: usize,
        visibility_ms: i64,
        reply: Reply<Vec<QueueMessage>>,
    },
    DeleteMessage {
        queue: String,
        message_id: String,
        reply: Reply<bool>,
    },
    /// Answered when the core has nothing to do but wait, with its next deadline.
    Idle {
        reply: oneshot::Sender<Option<Millis>>,
    },
    Tick,
    Shutdown,
}

/// A waiting `GetActivityTask`: the worker's name and where to answer.
type Poller = (Option<String>, Reply<Option<ActivityTask>>);

#[derive(Debug)]
struct Dispatch {
    exec: i64,
    task_id: String,
    handler: Handler,
    input: Value,
}

/// How the core is set up.
pub(crate) struct CoreSetup {
    pub journal: Journal,
    pub syncer: Option<Syncer>,
    pub checkpointer: Checkpointer,
    pub clock: Arc<dyn Clock>,
    pub arns: Arns,
    pub workers: Arc<Workers>,
    pub runtime: tokio::runtime::Handle,
    pub tx: mpsc::Sender<Msg>,
    pub rx: mpsc::Receiver<Msg>,
    pub max_active: usize,
}

pub(crate) struct Core {
    journal: Journal,
    syncer: Option<Syncer>,
    /// Held for its thread, which stops with the core.
    _checkpointer: Checkpointer,
    clock: Arc<dyn Clock>,
    arns: Arns,
    workers: Arc<Workers>,
    runtime: tokio::runtime::Handle,
    tx: mpsc::Sender<Msg>,
    rx: mpsc::Receiver<Msg>,
    defs: HashMap<i64, Arc<StateMachine>>,
    live: HashMap<i64, Live>,
    timers: Timers,
    external: HashMap<String, VecDeque<(i64, String)>>,
    pollers: HashMap<String, VecDeque<Poller>>,
    waiters: HashMap<i64, Vec<Reply<Finished>>>,
    acks: Vec<Ack>,
    dispatch: Vec<Dispatch>,
    touched: HashSet<i64>,
    /// `StartExecution`s waiting for room under `max_active`, in arrival order.
    deferred: VecDeque<Msg>,
    max_active: usize,
    /// In-process handlers dispatched and not yet answered.
    running: usize,
    idle_waiters: Vec<oneshot::Sender<Option<Millis>>>,
    assign: bool,
    shutdown: bool,
}

const MAX_BATCH: usize = 2048;

impl Core {
    pub(crate) fn new(s: CoreSetup) -> Core {
        Core {
            journal: s.journal,
            syncer: s.syncer,
            _checkpointer: s.checkpointer,
            clock: s.clock,
            arns: s.arns,
            workers: s.workers,
            runtime: s.runtime,
            tx: s.tx,
            rx: s.rx,
            defs: HashMap::new(),
            live: HashMap::new(),
            timers: Timers::default(),
            external: HashMap::new(),
            pollers: HashMap::new(),
            waiters: HashMap::new(),
            acks: Vec::new(),
            dispatch: Vec::new(),
            touched: HashSet::new(),
            deferred: VecDeque::new(),
            max_active: s.max_active,
            running: 0,
            idle_waiters: Vec::new(),
            assign: false,
            shutdown: false,
        }
    }

    /// Resumes every running execution from its events (one batch).
    pub(crate) fn recover(&mut self) -> Result<usize, JournalError> {
        self.journal.begin()?;
        let ids = self.journal.running()?;
        let now = self.clock.now();
        for &id in &ids {
            if self.ensure_live(id)?.is_none() {
                continue;
            }
            self.resume_tasks(id, now, false)?;
            self.touched.insert(id);
        }
        self.journal.commit()?;
        self.after_commit();
        Ok(ids.len())
    }

    /// Runs until shut down or the journal fails.
    pub(crate) fn run(mut self) {
        loop {
            let first = match self.next_message() {
                Ok(m) => m,
                Err(()) => break,
            };
            if let Err(e) = self.batch(first) {
                tracing::error!("engine stopped: the journal failed: {e}");
                break;
            }
            if self.shutdown {
                break;
            }
        }
    }

    fn next_message(&mut self) -> Result<Option<Msg>, ()> {
        match self.rx.try_recv() {
            Ok(m) => return Ok(Some(m)),
            Err(TryRecvError::Disconnected) => return Err(()),
            Err(TryRecvError::Empty) => {}
        }
        let now = self.clock.now();
        let next = self.timers.next();
        // Work without a message: run a batch at once.
        if self.assign || next.is_some_and(|at| at <= now) || self.admissible() {
            return Ok(None);
        }
        if self.running == 0 && self.deferred.is_empty() {
            for w in self.idle_waiters.drain(..) {
                let _ = w.send(next);
            }
        }
        if self.clock.is_virtual() {
            return self.rx.recv().map(Some).map_err(|_| ());
        }
        let wait = next.map_or(1000, |at| (at - now).clamp(1, 1000));
        match self
            .rx
            .recv_timeout(Duration::from_millis(u64::try_from(wait).unwrap_or(1000)))
        {
            Ok(m) => Ok(Some(m)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(()),
        }
    }

    fn batch(&mut self, first: Option<Msg>) -> Result<(), JournalError> {
        self.journal.begin()?;
        let result = (|| {
            while self.admissible() {
                if let Some(m) = self.deferred.pop_front() {
                    self.perform(m)?;
                }
            }
            if let Some(m) = first {
                self.handle(m)?;
            }
            for _ in 0..MAX_BATCH {
                match self.rx.try_recv() {
                    Ok(m) => self.handle(m)?,
                    Err(_) => break,
                }
            }
            self.fire_timers()?;
            self.assign_tasks()
        })();
        if let Err(e) = result {
            let _ = self.journal.rollback();
            return Err(e);
        }
        self.journal.commit()?;
        self.after_commit();
        Ok(())
    }

    fn after_commit(&mut self) {
        let acks = std::mem::take(&mut self.acks);
        if !acks.is_empty() {
            match &self.syncer {
                Some(s) => s.release_after_sync(acks),
                None => acks.into_iter().for_each(|a| a()),
            }
        }
        for d in self.dispatch.drain(..) {
            self.running += 1;
            let tx = self.tx.clone();
            let inner = self.runtime.spawn(d.handler.call(d.input));
            self.runtime.spawn(async move {
                let result = match inner.await {
                    Ok(r) => r,
                    Err(e) => Err(TaskFailure::new(
                        "States.TaskFailed",
                        format!("in-process handler failed: {e}"),
                    )),
                };
                let _ = tx.send(Msg::Completed {
                    exec: d.exec,
                    task_id: d.task_id,
                    result,
                });
            });
        }
        for id in std::mem::take(&mut self.touched) {
            if self.live.get(&id).is_some_and(|l| l.finished || l.parked()) {
                self.live.remove(&id);
            }
        }
    }

    fn ack<T: Send + 'static>(&mut self, reply: Reply<T>, value: Result<T, EngineError>) {
        self.acks.push(Box::new(move || {
            let _ = reply.send(value);
        }));
    }

    /// Whether a deferred start can be taken now.
    fn admissible(&self) -> bool {
        !self.deferred.is_empty() && self.live.len() < self.max_active
    }

    /// Handles one request; an `Err` is a journal failure (fatal), operation errors are
    /// answered.
    fn handle(&mut self, msg: Msg) -> Result<(), JournalError> {
        // Room first for the executions already running: a start waits (unanswered) while
        // `max_active` are in memory, and behind any start that waits already.
        if matches!(msg, Msg::Start { .. })
            && (!self.deferred.is_empty() || self.live.len() >= self.max_active)
        {
            self.deferred.push_back(msg);
            return Ok(());
        }
        self.perform(msg)
    }

    fn perform(&mut self, msg: Msg) -> Result<(), JournalError> {
        match msg {
            Msg::CreateStateMachine {
                name,
                definition,
                role_arn,
                reply,
            } => {
                let r = self.create_state_machine(&name, &definition, &role_arn);
                self.answer(reply, r)
            }
            Msg::UpdateStateMachine {
                arn,
                definition,
                role_arn,
                reply,
            } => {
                let r = self.update_state_machine(&arn, definition, role_arn);
                self.answer(reply, r)
            }
            Msg::DeleteStateMachine { arn, reply } => {
                let r = self.delete_state_machine(&arn);
                self.answer(reply, r)
            }
            Msg::CreateActivity { name, reply } => {
                let r = self.create_activity(&name);
                self.answer(reply, r)
            }
            Msg::DeleteActivity { arn, reply } => {
                let r = (|| {
                    let name = self.arns.parse_activity(&arn)?;
                    self.journal.delete_activity(&name)?;
                    Ok(())
                })();
                self.answer(reply, r)
            }
            Msg::Start {
                state_machine_arn,
                name,
                input,
                reply,
            } => {
                let r = self.start(&state_machine_arn, name, input);
                self.answer(reply, r)
            }
            Msg::Stop {
                arn,
                error,
                cause,
                reply,
            } => {
                let r = self.stop(&arn, error, cause);
                self.answer(reply, r)
            }
            Msg::Redrive { arn, reply } => {
                let r = self.redrive(&arn);
                self.answer(reply, r)
            }
            Msg::Answer {
                token,
                outcome,
                reply,
            } => {
                let r = self.answer_token(&token, outcome);
                self.answer(reply, r)
            }
            Msg::Heartbeat { token, reply } => {
                let r = self.heartbeat(&token);
                self.answer(reply, r)
            }
            Msg::Poll {
                activity_arn,
                worker,
                reply,
            } => {
                let name = match self.arns.parse_activity(&activity_arn) {
                    Ok(n) => n,
                    Err(e) => {
                        self.ack(reply, Err(e));
                        return Ok(());
                    }
                };
                if self.journal.activity(&name)?.is_none() {
                    self.ack(reply, Err(EngineError::ActivityDoesNotExist(activity_arn)));
                    return Ok(());
                }
                self.pollers
                    .entry(name)
                    .or_default()
                    .push_back((worker, reply));
                self.assign = true;
                Ok(())
            }
            Msg::Completed {
                exec,
                task_id,
                result,
            } => {
                self.running = self.running.saturating_sub(1);
                self.completed(exec, &task_id, result)
            }
            Msg::Await { arn, reply } => {
                match self.execution_row(&arn) {
                    Err(EngineError::Journal(e)) => return Err(e),
                    Err(e) => self.ack(reply, Err(e)),
                    Ok(row) if row.status != status::RUNNING => {
                        self.ack(reply, Ok(finished_of(&row)));
                    }
                    Ok(row) => self.waiters.entry(row.id).or_default().push(reply),
                }
                Ok(())
            }
            Msg::WorkersChanged => self.workers_changed(),
            Msg::Undelivered {
                exec,
                task_id,
                token,
            } => self.undelivered(exec, task_id, &token),
            Msg::SendMessage { queue, body, reply } => {
                let id = uuid();
                self.journal
                    .send_message(&queue, &id, &body, self.clock.now())?;
                self.ack(reply, Ok(id));
                Ok(())
            }
            Msg::Receive {
                queue,
                max,
                visibility_ms,
                reply,
            } => {
                let rows =
                    self.journal
                        .receive_messages(&queue, max, self.clock.now(), visibility_ms)?;
                let msgs = rows
                    .into_iter()
                    .map(|r| QueueMessage {
                        message_id: r.message_id,
                        body: r.body,
                        sent: r.sent_ms,
                        receive_count: r.receives,
                    })
                    .collect();
                self.ack(reply, Ok(msgs));
                Ok(())
            }
            Msg::DeleteMessage {
                queue,
                message_id,
                reply,
            } => {
                let found = self.journal.delete_message(&queue, &message_id)?;
                self.ack(reply, Ok(found));
                Ok(())
            }
            Msg::Idle { reply } => {
                self.idle_waiters.push(reply);
                Ok(())
            }
            Msg::Tick => Ok(()),
            Msg::Shutdown => {
                self.shutdown = true;
                Ok(())
            }
        }
    }

    /// Answers an operation's result; a journal failure is returned to stop the engine.
    fn answer<T: Send + 'static>(
        &mut self,
        reply: Reply<T>,
        r: Result<T, EngineError>,
    ) -> Result<(), JournalError> {
        match r {
            Err(EngineError::Journal(e)) => Err(e),
            r => {
                self.ack(reply, r);
                Ok(())
            }
        }
    }

    // --- state machines and activities ---

    fn create_state_machine(
        &mut self,
        name: &str,
        definition: &str,
        role_arn: &str,
    ) -> Result<StateMachineCreated, EngineError> {
        validate_name(name)?;
        let machine = check_definition(definition)?;
        let now = self.clock.now();
        if let Some((id, role, latest, deleted, created)) = self.journal.state_machine(name)?
            && !deleted
        {
            let same = self
                .journal
                .version(id, latest)?
                .is_some_and(|(_, d)| d == definition)
                && role == role_arn;
            if !same {
                return Err(EngineError::StateMachineAlreadyExists(
                    self.arns.state_machine(name),
                ));
            }
            return Ok(StateMachineCreated {
                state_machine_arn: self.arns.state_machine(name),
                state_machine_version_arn: self.arns.version(name, latest),
                date: created,
            });
        }
        let (_, vid) = self
            .journal
            .insert_state_machine(name, role_arn, definition, now)?;
        self.defs.insert(vid, machine);
        Ok(StateMachineCreated {
            state_machine_arn: self.arns.state_machine(name),
            state_machine_version_arn: self.arns.version(name, 1),
            date: now,
        })
    }

    fn update_state_machine(
        &mut self,
        arn: &str,
        definition: Option<String>,
        role_arn: Option<String>,
    ) -> Result<StateMachineCreated, EngineError> {
        let (name, version) = self.arns.parse_state_machine(arn)?;
        if version.is_some() {
            return Err(EngineError::ValidationException(format!(
                "`{arn}`: update the state machine, not a version"
            )));
        }
        let Some((id, role, latest, false, _)) = self.journal.state_machine(&name)? else {
            return Err(EngineError::StateMachineDoesNotExist(arn.to_string()));
        };
        let definition = match definition {
            Some(d) => d,
            None => self
                .journal
                .version(id, latest)?
                .map(|(_, d)| d)
                .unwrap_or_default(),
        };
        let machine = check_definition(&definition)?;
        let role = role_arn.unwrap_or(role);
        let now = self.clock.now();
        let vid = self
            .journal
            .insert_version(id, latest + 1, &definition, &role, now)?;
        self.defs.insert(vid, machine);
        Ok(StateMachineCreated {
            state_machine_arn: self.arns.state_machine(&name),
            state_machine_version_arn: self.arns.version(&name, latest + 1),
            date: now,
        })
    }

    fn delete_state_machine(&mut self, arn: &str) -> Result<(), EngineError> {
        let (name, _) = self.arns.parse_state_machine(arn)?;
        if let Some((id, ..)) = self.journal.state_machine(&name)? {
            self.journal.delete_state_machine(id)?;
        }
        Ok(())
    }

    fn create_activity(&mut self, name: &str) -> Result<ActivityDescription, EngineError> {
        validate_name(name)?;
        let created = match self.journal.activity(name)? {
            Some(at) => at,
            None => {
                let now = self.clock.now();
                self.journal.insert_activity(name, now)?;
                now
            }
        };
        Ok(ActivityDescription {
            activity_arn: self.arns.activity(name),
            name: name.to_string(),
            creation_date: created,
        })
    }

    fn definition(&mut self, version_id: i64) -> Result<Arc<StateMachine>, EngineError> {
        if let Some(d) = self.defs.get(&version_id) {
            return Ok(Arc::clone(d));
        }
        let Some((text, _)) = self.journal.version_by_id(version_id)? else {
            return Err(EngineError::StateMachineDoesNotExist(format!(
                "version row {version_id}"
            )));
        };
        let machine =
            Arc::new(asl::parse(&text).map_err(|d| EngineError::InvalidDefinition(d.to_string()))?);
        self.defs.insert(version_id, Arc::clone(&machine));
        Ok(machine)
    }

    // --- executions ---

    fn start(
        &mut self,
        sm_arn: &str,
        name: Option<String>,
        input: Option<String>,
    ) -> Result<StartedExecution, EngineError> {
        let (sm_name, version) = self.arns.parse_state_machine(sm_arn)?;
        let Some((sm_id, role, latest, false, _)) = self.journal.state_machine(&sm_name)? else {
            return Err(EngineError::StateMachineDoesNotExist(sm_arn.to_string()));
        };
        let Some((version_id, _)) = self.journal.version(sm_id, version.unwrap_or(latest))? else {
            return Err(EngineError::StateMachineDoesNotExist(sm_arn.to_string()));
        };
        let name = name.unwrap_or_else(uuid);
        validate_name(&name)?;
        let text = input.unwrap_or_else(|| "{}".to_string());
        if text.len() > DATA_LIMIT_BYTES {
            return Err(EngineError::InvalidExecutionInput(format!(
                "the input is {} bytes, over the limit of {DATA_LIMIT_BYTES}",
                text.len()
            )));
        }
        let input: Value = serde_json::from_str(&text)
            .map_err(|e| EngineError::InvalidExecutionInput(format!("not JSON: {e}")))?;
        let arn = self.arns.execution(&sm_name, &name);
        if let Some(row) = self.journal.execution_by_name(sm_id, &name)? {
            // As on AWS: the same name and input as a running execution is the same
            // execution; anything else is a conflict.
            let same = row.status == status::RUNNING && self.first_input(row.id)? == Some(input);
            if same {
                return Ok(StartedExecution {
                    execution_arn: arn,
                    start_date: row.start_ms,
                });
            }
            return Err(EngineError::ExecutionAlreadyExists(arn));
        }
        let definition = self.definition(version_id)?;
        let now = self.clock.now();
        let id = self
            .journal
            .insert_execution(sm_id, version_id, &name, now)?;
        self.live.insert(id, Live::new(id, definition));
        let event = Event::ExecutionStarted {
            at: now,
            input,
            execution: ExecutionInfo {
                name: name.clone(),
                arn: arn.clone(),
                state_machine_arn: self.arns.state_machine(&sm_name),
                state_machine_name: sm_name,
                role_arn: role,
                redrive_count: 0,
            },
            seed: random_u64(),
        };
        self.apply(id, event)?;
        Ok(StartedExecution {
            execution_arn: arn,
            start_date: now,
        })
    }

    fn first_input(&self, exec: i64) -> Result<Option<Value>, JournalError> {
        let bodies = self.journal.events(exec)?;
        Ok(
            match bodies.first().map(|b| Entry::decode(b)).transpose()? {
                Some(Entry::Event(Event::ExecutionStarted { input, .. })) => Some(input),
                _ => None,
            },
        )
    }

    fn execution_row(&self, arn: &str) -> Result<ExecutionRow, EngineError> {
        let (sm, name) = self.arns.parse_execution(arn)?;
        let Some((sm_id, ..)) = self.journal.state_machine(&sm)? else {
            return Err(EngineError::ExecutionDoesNotExist(arn.to_string()));
        };
        self.journal
            .execution_by_name(sm_id, &name)?
            .ok_or_else(|| EngineError::ExecutionDoesNotExist(arn.to_string()))
    }

    fn stop(
        &mut self,
        arn: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<Stopped, EngineError> {
        let row = self.execution_row(arn)?;
        if row.status != status::RUNNING {
            return Ok(Stopped {
                date: row.stop_ms.unwrap_or(row.start_ms),
            });
        }
        let now = self.clock.now();
        if self.ensure_live(row.id)?.is_some() {
            self.apply(
                row.id,
                Event::StopRequested {
                    at: now,
                    error,
                    cause,
                },
            )?;
        }
        Ok(Stopped { date: now })
    }

    fn redrive(&mut self, arn: &str) -> Result<Stopped, EngineError> {
        let row = self.execution_row(arn)?;
        if row.status == status::RUNNING || row.status == status::SUCCEEDED {
            return Err(EngineError::ExecutionNotRedrivable(format!(
                "{arn} is {}",
                status_name(row.status)
            )));
        }
        let bodies = self.journal.events(row.id)?;
        let (events, _) = effective(&bodies)?;
        let definition = self.definition(row.version_id)?;
        // The event that ended the execution: redrive resumes just before it.
        let mut interp = Interpreter::without_history(definition);
        let mut ending = None;
        for (seq, e) in &events {
            let _ = interp.apply(e.clone());
            if interp.outcome().is_some() {
                ending = Some((*seq, e.clone()));
                break;
            }
        }
        let resumable = matches!(
            &ending,
            Some((
                _,
                Event::TaskCompleted {
                    outcome: TaskOutcome::Failed { .. },
                    ..
                } | Event::TaskTimedOut { .. }
                    | Event::HeartbeatTimedOut { .. }
                    | Event::StopRequested { .. }
            ))
        );
        let Some((from, _)) = ending.filter(|_| resumable) else {
            return Err(EngineError::ExecutionNotRedrivable(format!(
                "{arn} did not end in a failed task or a stop: nothing to resume"
            )));
        };
        let now = self.clock.now();
        let seq = i64::try_from(bodies.len()).unwrap_or(i64::MAX) + 1;
        self.journal
            .append(row.id, seq, &Entry::Redriven { at: now, from }.encode())?;
        self.journal.redrive_execution(row.id, now)?;
        self.live.remove(&row.id);
        if self.ensure_live(row.id)?.is_some() {
            self.resume_tasks(row.id, now, true)?;
            self.touched.insert(row.id);
        }
        Ok(Stopped { date: now })
    }

    /// Dispatches the outstanding tasks of a replayed execution and arms its timers.
    /// `fresh`: the tasks are re-run (redrive) — token waits get a new token and message.
    fn resume_tasks(&mut self, id: i64, now: Millis, fresh: bool) -> Result<(), JournalError> {
        let Some(live) = self.live.get(&id) else {
            return Ok(());
        };
        let timers: Vec<(String, Millis)> =
            live.timers.iter().map(|(k, v)| (k.clone(), *v)).collect();
        let mut task_ids: Vec<String> = live.tasks.keys().cloned().collect();
        task_ids.sort();
        for (timer, at) in timers {
            self.timers.arm(id, TimerKey::Interp(timer), at);
        }
        for task_id in task_ids {
            self.start_task(id, &task_id, now, fresh)?;
        }
        Ok(())
    }

    /// Sends an outstanding task where its route says. On recovery (`fresh` false) what
    /// was done durably is not done again: a message sent, a token handed out.
    fn start_task(
        &mut self,
        id: i64,
        task_id: &str,
        now: Millis,
        fresh: bool,
    ) -> Result<(), JournalError> {
        let Some(task) = self
            .live
            .get_mut(&id)
            .and_then(|l| l.tasks.get_mut(task_id))
        else {
            return Ok(());
        };
        if task.waits_for_token() && (fresh || task.token.is_none()) {
            let token = new_token();
            self.journal.insert_token(&token, id, task_id)?;
            task.set_token(&token);
            task.beat(now);
        }
        let mut events = Vec::new();
        let mut dispatch = None;
        let handled_before = !fresh && (task.started || task.waits_for_token());
        if fresh {
            // A redriven task runs again: the replayed TaskStarted was the failed attempt's,
            // and an external worker must be able to pick the task up again.
            task.started = false;
        }
        if !handled_before {
            match task.route.clone() {
                Route::Sqs { queue, body } => {
                    let message_id = uuid();
                    self.journal.send_message(&queue, &message_id, &body, now)?;
                    let output =
                        json!({"MessageId": message_id, "MD5OfMessageBody": md5_hex(&body)});
                    task.beat(now);
                    events.push(if task.waits_for_token() {
                        Event::TaskSubmitted {
                            at: now,
                            task_id: task_id.to_string(),
                            output,
                        }
                    } else {
                        Event::TaskCompleted {
                            at: now,
                            task_id: task_id.to_string(),
                            outcome: TaskOutcome::Succeeded(output),
                        }
                    });
                }
                Route::Function { name, payload, .. } => match self.workers.function(&name) {
                    Some(handler) => {
                        task.in_process = true;
                        task.beat(now);
                        dispatch = Some((handler, payload));
                    }
                    None => events.push(Event::TaskCompleted {
                        at: now,
                        task_id: task_id.to_string(),
                        outcome: TaskOutcome::Failed {
                            error: Some("Lambda.ResourceNotFoundException".into()),
                            cause: Some(format!(
                                "no in-process handler is registered for the function `{name}`"
                            )),
                        },
                    }),
                },
                Route::Activity(name) => match self.workers.activity(&name) {
                    Some(handler) => {
                        task.in_process = true;
                        task.started = true;
                        task.beat(now);
                        dispatch = Some((handler, task.req.input.clone()));
                    }
                    None => {
                        self.external
                            .entry(name)
                            .or_default()
                            .push_back((id, task_id.to_string()));
                        self.assign = true;
                    }
                },
                Route::Unsupported(r) => events.push(Event::TaskCompleted {
                    at: now,
                    task_id: task_id.to_string(),
                    outcome: TaskOutcome::Failed {
                        error: Some("States.Runtime".into()),
                        cause: Some(format!("the embedded engine cannot run `{r}`")),
                    },
                }),
            }
        }
        if let Some(at) = task.timeout_at {
            self.timers
                .arm(id, TimerKey::Timeout(task_id.to_string()), at);
        }
        if let Some(at) = task.heartbeat_at {
            self.timers
                .arm(id, TimerKey::Heartbeat(task_id.to_string()), at);
        }
        if let Some((handler, input)) = dispatch {
            self.dispatch.push(Dispatch {
                exec: id,
                task_id: task_id.to_string(),
                handler,
                input,
            });
        }
        for e in events {
            self.apply(id, e)?;
        }
        Ok(())
    }

    /// Loads an execution into memory (replaying its journal) unless it is there; `None`
    /// when it is not running.
    fn ensure_live(&mut self, id: i64) -> Result<Option<&mut Live>, JournalError> {
        if !self.live.contains_key(&id) {
            let Some(row) = self.journal.execution(id)? else {
                return Ok(None);
            };
            if row.status != status::RUNNING {
                return Ok(None);
            }
            let definition = match self.definition(row.version_id) {
                Ok(d) => d,
                Err(EngineError::Journal(e)) => return Err(e),
                Err(e) => {
                    tracing::error!("execution {id} cannot be resumed: {e}");
                    return Ok(None);
                }
            };
            let bodies = self.journal.events(id)?;
            let tokens = self.journal.open_tokens(id)?;
            let live = Live::replay(id, definition, &bodies, &tokens)?;
            self.live.insert(id, live);
        }
        Ok(self.live.get_mut(&id).filter(|l| !l.finished))
    }

    /// Applies an event and performs its commands, journaling it. Events a command leads
    /// to at once (a message sent to an embedded queue) are applied in turn.
    fn apply(&mut self, id: i64, event: Event) -> Result<(), JournalError> {
        let Some(live) = self.live.get_mut(&id) else {
            return Ok(());
        };
        let commands = match live.interp.apply(event.clone()) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("execution {id}: event refused: {e}");
                return Ok(());
            }
        };
        live.seq += 1;
        let seq = live.seq;
        let closed = live.absorb(&event, &commands);
        self.journal
            .append(id, seq, &Entry::Event(event.clone()).encode())?;
        self.touched.insert(id);
        for t in closed.tasks {
            self.timers.disarm_task(id, &t.req.task_id);
            if let Some(token) = &t.token {
                self.journal.close_token(token)?;
            }
        }
        for timer in closed.timers {
            self.timers.disarm(id, TimerKey::Interp(timer));
        }
        // A worker took the task, or its token went out: the heartbeat clock restarts.
        if let Event::TaskStarted { task_id, .. } | Event::TaskSubmitted { task_id, .. } = &event
            && let Some(at) = self
                .live
                .get(&id)
                .and_then(|l| l.tasks.get(task_id))
                .and_then(|t| t.heartbeat_at)
        {
            self.timers
                .arm(id, TimerKey::Heartbeat(task_id.clone()), at);
        }
        let at = event.at();
        for c in commands {
            match c {
                Command::ScheduleTask(req) => self.start_task(id, &req.task_id, at, true)?,
                Command::StartTimer { timer_id, fire_at } => {
                    self.timers.arm(id, TimerKey::Interp(timer_id), fire_at);
                }
                Command::Finish(outcome) => self.finish(id, &outcome, at)?,
                Command::CancelTask { .. } | Command::CancelTimer { .. } => {}
            }
        }
        Ok(())
    }

    fn finish(&mut self, id: i64, outcome: &Outcome, at: Millis) -> Result<(), JournalError> {
        let (st, output, error, cause) = match outcome {
            Outcome::Succeeded(v) => (status::SUCCEEDED, Some(v.to_string()), None, None),
            Outcome::Failed { error, cause } => {
                (status::FAILED, None, error.clone(), cause.clone())
            }
            Outcome::TimedOut => (
                status::TIMED_OUT,
                None,
                Some("States.Timeout".to_string()),
                None,
            ),
            Outcome::Aborted { error, cause } => {
                (status::ABORTED, None, error.clone(), cause.clone())
            }
        };
        self.journal.finish_execution(
            id,
            st,
            at,
            output.as_deref(),
            error.as_deref(),
            cause.as_deref(),
        )?;
        self.journal.close_tokens(id)?;
        let finished = Finished {
            status: status_name(st),
            output,
            error,
        };
        for w in self.waiters.remove(&id).unwrap_or_default() {
            self.ack(w, Ok(finished.clone()));
        }
        Ok(())
    }

    // --- tasks ---

    fn completed(
        &mut self,
        exec: i64,
        task_id: &str,
        result: Result<Value, TaskFailure>,
    ) -> Result<(), JournalError> {
        let now = self.clock.now();
        let Some(live) = self.ensure_live(exec)? else {
            return Ok(());
        };
        let Some(task) = live.tasks.get(task_id) else {
            return Ok(()); // timed out or cancelled meanwhile: the result is ignored
        };
        let wrap = matches!(task.route, Route::Function { wrap: true, .. });
        let event = match result {
            Ok(v) if task.waits_for_token() => Event::TaskSubmitted {
                at: now,
                task_id: task_id.to_string(),
                output: v,
            },
            Ok(v) => Event::TaskCompleted {
                at: now,
                task_id: task_id.to_string(),
                outcome: TaskOutcome::Succeeded(if wrap {
                    json!({"ExecutedVersion": "$LATEST", "Payload": v, "StatusCode": 200})
                } else {
                    v
                }),
            },
            Err(f) => Event::TaskCompleted {
                at: now,
                task_id: task_id.to_string(),
                outcome: TaskOutcome::Failed {
                    error: Some(f.error),
                    cause: Some(f.cause),
                },
            },
        };
        self.apply(exec, event)
    }

    /// The open task a token names, or the AWS error for it.
    fn token_task(&mut self, token: &str) -> Result<(i64, String), EngineError> {
        if !well_formed(token) {
            return Err(EngineError::InvalidToken(
                "the token is not one this engine hands out".into(),
            ));
        }
        let Some(row) = self.journal.token(token)? else {
            // AWS tokens carry what they name: one it cannot read is an invalid token.
            return Err(EngineError::InvalidToken("no task has this token".into()));
        };
        if self.journal.execution(row.exec_id)?.is_none() {
            return Err(EngineError::TaskDoesNotExist(
                "the token's execution no longer exists".into(),
            ));
        }
        let closed = || {
            EngineError::TaskTimedOut(
                "the task of this token was already closed (answered, timed out or stopped)".into(),
            )
        };
        if !row.open {
            return Err(closed());
        }
        match self.ensure_live(row.exec_id)? {
            Some(live) if live.tasks.contains_key(&row.task_id) => Ok((row.exec_id, row.task_id)),
            _ => Err(closed()),
        }
    }

    fn answer_token(&mut self, token: &str, outcome: TaskOutcome) -> Result<(), EngineError> {
        let (exec, task_id) = self.token_task(token)?;
        let at = self.clock.now();
        self.apply(
            exec,
            Event::TaskCompleted {
                at,
                task_id,
                outcome,
            },
        )?;
        Ok(())
    }

    fn heartbeat(&mut self, token: &str) -> Result<(), EngineError> {
        let (exec, task_id) = self.token_task(token)?;
        let now = self.clock.now();
        self.journal.heartbeat(token, now)?;
        if let Some(task) = self
            .live
            .get_mut(&exec)
            .and_then(|l| l.tasks.get_mut(&task_id))
        {
            task.beat(now);
            if let Some(at) = task.heartbeat_at {
                self.timers.arm(exec, TimerKey::Heartbeat(task_id), at);
            }
        }
        self.touched.insert(exec);
        Ok(())
    }

    fn fire_timers(&mut self) -> Result<(), JournalError> {
        let now = self.clock.now();
        while let Some((at, exec, key)) = self.timers.pop_due(now) {
            let event = {
                let Some(live) = self.ensure_live(exec)? else {
                    continue;
                };
                match &key {
                    TimerKey::Interp(id) if live.timers.get(id) == Some(&at) => {
                        Some(Event::TimerFired {
                            at: now,
                            timer_id: id.clone(),
                        })
                    }
                    TimerKey::Timeout(id)
                        if live.tasks.get(id).is_some_and(|t| t.timeout_at == Some(at)) =>
                    {
                        Some(Event::TaskTimedOut {
                            at: now,
                            task_id: id.clone(),
                        })
                    }
                    TimerKey::Heartbeat(id)
                        if live
                            .tasks
                            .get(id)
                            .is_some_and(|t| t.heartbeat_at == Some(at)) =>
                    {
                        Some(Event::HeartbeatTimedOut {
                            at: now,
                            task_id: id.clone(),
                        })
                    }
                    _ => None,
                }
            };
            match event {
                Some(event) => self.apply(exec, event)?,
                None => {
                    self.touched.insert(exec);
                }
            }
        }
        Ok(())
    }

    fn assign_tasks(&mut self) -> Result<(), JournalError> {
        if !self.assign {
            return Ok(());
        }
        self.assign = false;
        let names: Vec<String> = self.pollers.keys().cloned().collect();
        for name in names {
            while let Some(queue) = self.pollers.get_mut(&name) {
                queue.retain(|(_, r)| !r.is_closed());
                if queue.is_empty() {
                    break;
                }
                let Some((exec, task_id)) = self.next_external(&name)? else {
                    break;
                };
                let Some((worker, reply)) =
                    self.pollers.get_mut(&name).and_then(VecDeque::pop_front)
                else {
                    break;
                };
                let now = self.clock.now();
                let token = new_token();
                self.journal.insert_token(&token, exec, &task_id)?;
                let mut input = String::new();
                if let Some(t) = self
                    .live
                    .get_mut(&exec)
                    .and_then(|l| l.tasks.get_mut(&task_id))
                {
                    t.set_token(&token);
                    input = t.req.input.to_string();
                }
                self.apply(
                    exec,
                    Event::TaskStarted {
                        at: now,
                        task_id: task_id.clone(),
                        worker_name: worker,
                    },
                )?;
                // A poller whose call ended meanwhile never gets the task: it goes back to
                // the queue with a new token.
                let back = self.tx.clone();
                let task = ActivityTask {
                    task_token: token.clone(),
                    input,
                };
                self.acks.push(Box::new(move || {
                    if reply.send(Ok(Some(task))).is_err() {
                        let _ = back.send(Msg::Undelivered {
                            exec,
                            task_id,
                            token,
                        });
                    }
                }));
            }
        }
        self.pollers.retain(|_, q| !q.is_empty());
        Ok(())
    }

    /// The next external task of an activity still waiting for a worker.
    fn next_external(&mut self, name: &str) -> Result<Option<(i64, String)>, JournalError> {
        while let Some((exec, task_id)) = self.external.get_mut(name).and_then(VecDeque::pop_front)
        {
            let waiting = self
                .ensure_live(exec)?
                .and_then(|l| l.tasks.get(&task_id))
                .is_some_and(|t| !t.started && !t.in_process);
            if waiting {
                return Ok(Some((exec, task_id)));
            }
        }
        Ok(None)
    }

    fn undelivered(&mut self, exec: i64, task_id: String, token: &str) -> Result<(), JournalError> {
        let requeue = match self
            .ensure_live(exec)?
            .and_then(|l| l.tasks.get_mut(&task_id))
        {
            Some(t) if t.token.as_deref() == Some(token) => {
                t.token = None;
                t.started = false;
                t.heartbeat_at = None;
                match &t.route {
                    Route::Activity(name) => Some(name.clone()),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(name) = requeue {
            self.timers
                .disarm(exec, TimerKey::Heartbeat(task_id.clone()));
            self.journal.close_token(token)?;
            self.external
                .entry(name)
                .or_default()
                .push_front((exec, task_id));
            self.assign = true;
            self.touched.insert(exec);
        }
        Ok(())
    }

    fn workers_changed(&mut self) -> Result<(), JournalError> {
        let names: Vec<String> = self.external.keys().cloned().collect();
        let now = self.clock.now();
        for name in names {
            if self.workers.activity(&name).is_none() {
                continue;
            }
            let queued: Vec<(i64, String)> = self
                .external
                .remove(&name)
                .map(Vec::from)
                .unwrap_or_default();
            for (exec, task_id) in queued {
                let waiting = self
                    .ensure_live(exec)?
                    .and_then(|l| l.tasks.get(&task_id))
                    .is_some_and(|t| !t.started && !t.in_process);
                if waiting {
                    self.start_task(exec, &task_id, now, false)?;
                    self.touched.insert(exec);
                }
            }
        }
        Ok(())
    }
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("live", &self.live.len())
            .finish()
    }
}

fn finished_of(row: &ExecutionRow) -> Finished {
    Finished {
        status: status_name(row.status),
        output: row.output.clone(),
        error: row.error.clone(),
    }
}

fn md5_hex(body: &str) -> String {
    use md5::{Digest as _, Md5};
    Md5::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
