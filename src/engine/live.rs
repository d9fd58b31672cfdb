//! An execution in memory: its interpreter, its outstanding tasks and timers — rebuilt
//! from the journal by replaying its entries.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use turnflow_workflows::asl::StateMachine;
use turnflow_workflows::interp::{Command, Event, Interpreter, Millis, TaskRequest};

use super::integration::{Route, route};
use crate::journal::{JournalError, TokenRow};

/// One entry of an execution's journal: an interpreter input event, or the engine's mark
/// of a redrive (the entries from `from` on are left out of the replay).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Entry {
    /// An interpreter event.
    Event(Event),
    /// `RedriveExecution`: replay forgets the entries `from..` this one, so the execution
    /// resumes in the state that failed.
    Redriven {
        /// When.
        at: Millis,
        /// The sequence number of the first entry left out (the one that ended it).
        from: i64,
    },
}

impl Entry {
    /// Encodes the entry for the journal.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Decodes a journal entry.
    pub fn decode(body: &[u8]) -> Result<Entry, JournalError> {
        serde_json::from_slice(body).map_err(|source| JournalError::Decode {
            what: "journal entry",
            source,
        })
    }
}

/// The interpreter events an execution's entries amount to: `(seq, event)`, redrives
/// applied; and when it was last redriven.
pub(crate) fn effective(bodies: &[Vec<u8>]) -> Result<Effective, JournalError> {
    let mut events = Vec::with_capacity(bodies.len());
    let mut redriven = None;
    for (i, body) in bodies.iter().enumerate() {
        let seq = i64::try_from(i).unwrap_or(i64::MAX) + 1;
        match Entry::decode(body)? {
            Entry::Event(e) => events.push((seq, e)),
            Entry::Redriven { at, from } => {
                events.retain(|(s, _)| *s < from);
                redriven = Some(at);
            }
        }
    }
    Ok((events, redriven))
}

/// `(seq, event)` pairs and the time of the last redrive.
pub(crate) type Effective = (Vec<(i64, Event)>, Option<Millis>);

/// A task the execution waits for.
#[derive(Debug, Clone)]
pub(crate) struct LiveTask {
    /// The request, its input with the engine's token in place of the interpreter's.
    pub req: TaskRequest,
    /// Where it goes.
    pub route: Route,
    /// The engine's token for it, once handed out.
    pub token: Option<String>,
    /// A worker took it (or, for a token wait, the call that hands out the token returned).
    pub started: bool,
    /// An in-process handler is running it.
    pub in_process: bool,
    /// When it was scheduled (or redriven).
    pub scheduled_at: Millis,
    /// `TimeoutSeconds` deadline.
    pub timeout_at: Option<Millis>,
    /// `HeartbeatSeconds` deadline.
    pub heartbeat_at: Option<Millis>,
}

impl LiveTask {
    fn new(req: TaskRequest, at: Millis) -> LiveTask {
        LiveTask {
            route: route(&req),
            timeout_at: req.timeout_seconds.map(|s| at + secs(s)),
            req,
            token: None,
            started: false,
            in_process: false,
            scheduled_at: at,
            heartbeat_at: None,
        }
    }

    /// Restarts the heartbeat clock at `at`.
    pub(crate) fn beat(&mut self, at: Millis) {
        self.heartbeat_at = self.req.heartbeat_seconds.map(|s| at + secs(s));
    }

    /// Gives the task the engine's token, put in its input where the interpreter's readable
    /// one is (`$$.Task.Token`).
    pub(crate) fn set_token(&mut self, token: &str) {
        if let Some(interp) = &self.req.task_token {
            let interp = interp.clone();
            replace_string(&mut self.req.input, &interp, token);
            self.route = route(&self.req);
        }
        self.token = Some(token.to_string());
    }

    /// Whether the task waits for a token answer (`.waitForTaskToken`).
    pub(crate) fn waits_for_token(&self) -> bool {
        self.req.task_token.is_some()
    }
}

/// Seconds to milliseconds, saturating.
pub(crate) fn secs(s: u64) -> Millis {
    i64::try_from(s)
        .unwrap_or(i64::MAX / 2000)
        .saturating_mul(1000)
}

/// What an event closed: tasks no longer awaited, timers no longer armed.
#[derive(Debug, Default)]
pub(crate) struct Closed {
    /// The tasks, with the tokens they had.
    pub tasks: Vec<LiveTask>,
    /// The interpreter's timer ids.
    pub timers: Vec<String>,
}

/// An execution in memory.
#[derive(Debug)]
pub(crate) struct Live {
    /// The interpreter.
    pub interp: Interpreter,
    /// The number of entries journaled.
    pub seq: i64,
    /// Outstanding tasks by the interpreter's task id.
    pub tasks: HashMap<String, LiveTask>,
    /// Outstanding timers and when they fire.
    pub timers: HashMap<String, Millis>,
    /// The execution has finished.
    pub finished: bool,
}

impl Live {
    /// A new execution, before its `ExecutionStarted`.
    pub(crate) fn new(id: i64, definition: Arc<StateMachine>) -> Live {
        let _ = id;
        Live {
            interp: Interpreter::without_history(definition),
            seq: 0,
            tasks: HashMap::new(),
            timers: HashMap::new(),
            finished: false,
        }
    }

    /// Rebuilds an execution from its journal entries and open tokens. Commands are not
    /// performed: what is outstanding at the end is in `tasks` and `timers`.
    pub(crate) fn replay(
        id: i64,
        definition: Arc<StateMachine>,
        bodies: &[Vec<u8>],
        tokens: &[TokenRow],
    ) -> Result<Live, JournalError> {
        let mut live = Live::new(id, definition);
        live.seq = i64::try_from(bodies.len()).unwrap_or(i64::MAX);
        let (events, redriven) = effective(bodies)?;
        // A task a worker took before the last redrive runs again after it: its
        // TaskStarted belongs to the failed attempt, and a worker must be able to take it.
        let last_redrive = bodies
            .iter()
            .rposition(|b| matches!(Entry::decode(b), Ok(Entry::Redriven { .. })))
            .map(|i| i64::try_from(i).unwrap_or(i64::MAX) + 1);
        let mut stale = std::collections::HashSet::new();
        for (seq, event) in events {
            if let (Some(r), Event::TaskStarted { task_id, .. }) = (last_redrive, &event) {
                if seq < r {
                    stale.insert(task_id.clone());
                } else {
                    stale.remove(task_id);
                }
            }
            let commands = live.interp.apply(event.clone()).unwrap_or_default();
            live.absorb(&event, &commands);
        }
        for task_id in &stale {
            if let Some(t) = live.tasks.get_mut(task_id) {
                t.started = false;
            }
        }
        if let Some(at) = redriven {
            for t in live.tasks.values_mut() {
                t.scheduled_at = t.scheduled_at.max(at);
                t.timeout_at = t.req.timeout_seconds.map(|s| t.scheduled_at + secs(s));
            }
        }
        for row in tokens {
            if let Some(t) = live.tasks.get_mut(&row.task_id) {
                t.set_token(&row.token);
                let since = row
                    .heartbeat_ms
                    .unwrap_or(t.scheduled_at)
                    .max(t.scheduled_at);
                t.beat(since);
            }
        }
        Ok(live)
    }

    /// Takes in what an event and its commands change; returns the tasks and the timers
    /// that closed.
    pub(crate) fn absorb(&mut self, event: &Event, commands: &[Command]) -> Closed {
        let at = event.at();
        let mut closed = Vec::new();
        let mut timers = Vec::new();
        match event {
            Event::TaskCompleted { task_id, .. }
            | Event::TaskTimedOut { task_id, .. }
            | Event::HeartbeatTimedOut { task_id, .. } => closed.extend(self.tasks.remove(task_id)),
            Event::TaskStarted { task_id, .. } => {
                if let Some(t) = self.tasks.get_mut(task_id) {
                    t.started = true;
                    t.beat(at);
                }
            }
            Event::TaskSubmitted { task_id, .. } => {
                if let Some(t) = self.tasks.get_mut(task_id) {
                    t.started = true;
                    t.in_process = false;
                    t.beat(at);
                }
            }
            Event::TimerFired { timer_id, .. } => {
                self.timers.remove(timer_id);
                timers.push(timer_id.clone());
            }
            Event::ExecutionStarted { .. }
            | Event::TokenAnswered { .. }
            | Event::StopRequested { .. } => {}
        }
        for c in commands {
            match c {
                Command::ScheduleTask(req) => {
                    self.tasks
                        .insert(req.task_id.clone(), LiveTask::new(req.clone(), at));
                }
                Command::CancelTask { task_id } => closed.extend(self.tasks.remove(task_id)),
                Command::StartTimer { timer_id, fire_at } => {
                    self.timers.insert(timer_id.clone(), *fire_at);
                }
                Command::CancelTimer { timer_id } => {
                    self.timers.remove(timer_id);
                    timers.push(timer_id.clone());
                }
                Command::Finish(_) => {
                    self.finished = true;
                    closed.extend(self.tasks.drain().map(|(_, t)| t));
                    timers.extend(self.timers.drain().map(|(id, _)| id));
                }
            }
        }
        Closed {
            tasks: closed,
            timers,
        }
    }

    /// Whether nothing runs in this process for the execution: it waits only on tokens,
    /// timers or external workers, and can leave memory until one of them answers.
    pub(crate) fn parked(&self) -> bool {
        self.tasks.values().all(|t| !t.in_process)
    }
}

fn replace_string(v: &mut serde_json::Value, from: &str, to: &str) {
    match v {
        serde_json::Value::String(s) if s.contains(from) => *s = s.replace(from, to),
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| replace_string(x, from, to)),
        serde_json::Value::Object(o) => o.values_mut().for_each(|x| replace_string(x, from, to)),
        _ => {}
    }
}
