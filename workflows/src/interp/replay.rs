//! The replayer: a recorded execution re-run through the interpreter, its task results fed back
//! from the recording, and the first place where the re-run departs from the recording.
//!
//! A recording is what `GetExecutionHistory` returns (AWS's JSON events, from AWS or from
//! turnflow's engine). Each recorded task — a `…Scheduled` event and the `…Started`,
//! `…Submitted`, `…Succeeded`, `…Failed` and `…TimedOut` events that follow from it by
//! `previousEventId` — is filed under the name of its state, in order. When the re-run schedules
//! the k-th task of state `S` (its k-th visit or attempt), it is answered with the k-th recorded
//! task of `S`: matching by state name and attempt rather than by global order lets a changed
//! definition (a state added, a branch moved) still be fed where it overlaps the recording, and
//! shows a renamed or new state as a task with no recorded result. Tasks of the states named
//! *live* are instead handed to a [`LiveTasks`] runner (the caller's real handlers).
//!
//! Nothing here performs a side effect: the interpreter only produces commands, and the
//! simulated runtime answers them from the recording.
//!
//! Times: the re-run starts at the recorded start time and every fed event carries its recorded
//! time (never earlier than the simulated clock), so timestamps reproduce where no jittered
//! retry delay intervenes. The seed of the recorded run is not in its history: retry jitter,
//! `States.UUID` and `States.MathRandom` are drawn from [`ReplayOptions::seed`], and the
//! comparison ([`first_divergence`]) looks at event types, state names and payloads, not at
//! times or ids.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use super::engine::{Interpreter, parse_timestamp};
use super::event::{Command, Event, ExecutionInfo, Millis, Outcome, TaskOutcome, TaskRequest};
use super::history::HistoryEvent;
use crate::asl::StateMachine;

/// Why a replay could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReplayError {
    /// The definition does not parse or check.
    #[error("definition rejected: {0}")]
    Definition(String),
    /// The interpreter refused an event (a bug, or a recording that is not of this machine).
    #[error("interpreter error: {0}")]
    Interpreter(String),
    /// The state to start from is not in the definition.
    #[error("no state named `{0}` in the definition")]
    NoSuchState(String),
}

/// The start time used when a recording carries no readable time.
pub const DEFAULT_START: Millis = 1_700_000_000_000;

/// One recorded event of a task, with its recorded time.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Started(Option<String>),
    Submitted(Value),
    Succeeded(Value),
    Failed(Option<String>, Option<String>),
    TimedOut(Option<String>),
}

/// A recorded task: its state and what happened to it.
#[derive(Debug, Clone, PartialEq)]
struct RecordedTask {
    state: Option<String>,
    steps: Vec<(Step, Option<Millis>)>,
}

/// A recorded execution, indexed for feeding back.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    events: Vec<Value>,
    tasks: Vec<RecordedTask>,
    /// How many events precede the recorded `ExecutionAborted`, if there is one.
    aborted_after: Option<usize>,
    terminal: bool,
    started_at: Option<Millis>,
}

impl Recording {
    /// Indexes recorded events (`GetExecutionHistory`'s `events`, oldest first). A recording
    /// that was redriven is read up to its first `ExecutionRedriven`: the original run.
    pub fn new(events: &[Value]) -> Recording {
        let cut = events
            .iter()
            .position(|e| event_type(e) == "ExecutionRedriven")
            .unwrap_or(events.len());
        let events: Vec<Value> = events[..cut].to_vec();
        let names = state_names(&events);
        let mut tasks: Vec<RecordedTask> = Vec::new();
        // Event id -> index of the task it belongs to.
        let mut task_of: HashMap<u64, usize> = HashMap::new();
        for (i, e) in events.iter().enumerate() {
            let t = event_type(e);
            let id = e.get("id").and_then(Value::as_u64);
            let at = time_of(e);
            if t.ends_with("Scheduled") && t != "MapStateScheduled" {
                tasks.push(RecordedTask {
                    state: names[i].clone(),
                    steps: Vec::new(),
                });
                if let Some(id) = id {
                    task_of.insert(id, tasks.len() - 1);
                }
                continue;
            }
            let Some(step) = step_of(t, e) else {
                continue;
            };
            let prev = e.get("previousEventId").and_then(Value::as_u64);
            let owner = prev
                .and_then(|p| task_of.get(&p).copied())
                .or_else(|| tasks.len().checked_sub(1));
            let Some(owner) = owner else {
                continue;
            };
            if let Some(id) = id {
                task_of.insert(id, owner);
            }
            tasks[owner].steps.push((step, at));
        }
        let aborted_after = events
            .iter()
            .position(|e| event_type(e) == "ExecutionAborted");
        let terminal = events.last().is_some_and(|e| {
            matches!(
                event_type(e),
                "ExecutionSucceeded" | "ExecutionFailed" | "ExecutionAborted" | "ExecutionTimedOut"
            )
        });
        let started_at = events.first().and_then(time_of);
        Recording {
            events,
            tasks,
            aborted_after,
            terminal,
            started_at,
        }
    }

    /// The recorded events (up to a redrive).
    pub fn events(&self) -> &[Value] {
        &self.events
    }

    /// Whether the recording ends the execution (else it is of an execution in flight).
    pub fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// The execution input of the recorded `ExecutionStarted`, parsed.
    pub fn input(&self) -> Option<Value> {
        let first = self.events.first()?;
        (event_type(first) == "ExecutionStarted")
            .then(|| first.pointer("/executionStartedEventDetails/input"))
            .flatten()
            .map(normalize)
    }

    /// The role of the recorded `ExecutionStarted`.
    pub fn role_arn(&self) -> Option<String> {
        self.events
            .first()?
            .pointer("/executionStartedEventDetails/roleArn")?
            .as_str()
            .map(String::from)
    }

    /// The recorded input of the first entry into `state` (what a rerun from there starts with).
    pub fn state_input(&self, state: &str) -> Option<Value> {
        self.events.iter().find_map(|e| {
            let d = e.get("stateEnteredEventDetails")?;
            if d.get("name")?.as_str()? != state {
                return None;
            }
            d.get("input").map(normalize)
        })
    }

    /// The recorded `resource` of the tasks of each state (from their `…Scheduled` events).
    fn resources(&self) -> BTreeMap<String, (String, String)> {
        let names = state_names(&self.events);
        let mut out = BTreeMap::new();
        for (i, e) in self.events.iter().enumerate() {
            let t = event_type(e);
            let (Some(name), true) = (&names[i], t.ends_with("Scheduled")) else {
                continue;
            };
            let details = details_of(e);
            let field = |k: &str| {
                details
                    .and_then(|d| d.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let resource = match t {
                "ActivityScheduled" | "LambdaFunctionScheduled" => field("resource"),
                "TaskScheduled" => format!(
                    "arn:aws:states:::{}:{}",
                    field("resourceType"),
                    field("resource")
                ),
                _ => continue,
            };
            out.entry(name.clone())
                .or_insert_with(|| (t.to_string(), resource));
        }
        out
    }
}

/// Runs the tasks of the live states for real (the caller's handlers).
pub trait LiveTasks {
    /// The result of the task of `state`, or `None` to leave it unanswered.
    fn run(&mut self, state: &str, task: &TaskRequest) -> Option<TaskOutcome>;
}

/// No live states: every task is fed from the recording.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLive;

impl LiveTasks for NoLive {
    fn run(&mut self, _state: &str, _task: &TaskRequest) -> Option<TaskOutcome> {
        None
    }
}

/// How to replay.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayOptions {
    /// The recorded execution's names and ARNs (`$$.Execution`, `$$.StateMachine`): the
    /// idempotency keys of the turn are made from them.
    pub execution: ExecutionInfo,
    /// The seed of random draws (retry jitter, `States.UUID`).
    pub seed: u64,
    /// The states whose tasks run live instead of being fed from the recording.
    pub live: BTreeSet<String>,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            execution: ExecutionInfo {
                name: "replay".into(),
                arn: "arn:aws:states:us-east-1:111111111111:execution:Replay:replay".into(),
                state_machine_arn: "arn:aws:states:us-east-1:111111111111:stateMachine:Replay"
                    .into(),
                state_machine_name: "Replay".into(),
                role_arn: "arn:aws:iam::111111111111:role/Replay".into(),
                redrive_count: 0,
            },
            seed: 42,
            live: BTreeSet::new(),
        }
    }
}

/// A task the re-run scheduled and nothing answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unanswered {
    /// The state.
    pub state: String,
    /// The attempt (0 first).
    pub attempt: u32,
}

/// What a replay produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    /// The history of the re-run.
    pub history: Vec<HistoryEvent>,
    /// How the re-run ended (`None`: it stopped waiting, e.g. on a task with no result).
    pub outcome: Option<Outcome>,
    /// Tasks scheduled with no recorded (or live) result.
    pub unanswered: Vec<Unanswered>,
    /// Tasks run live.
    pub live_calls: usize,
    /// Recorded tasks never asked for.
    pub unused: usize,
    /// Where the re-run departs from the recording, if it does.
    pub divergence: Option<Divergence>,
}

impl Replayed {
    /// The history as AWS's JSON.
    pub fn history_json(&self) -> Vec<Value> {
        self.history.iter().map(HistoryEvent::to_json).collect()
    }
}

/// Re-runs `machine` with `input`, feeding the recorded task results back (and running the
/// live states' tasks with `live`), and compares the result with the recording.
pub fn replay(
    machine: Arc<StateMachine>,
    input: &Value,
    recording: &Recording,
    options: &ReplayOptions,
    live: &mut dyn LiveTasks,
) -> Result<Replayed, ReplayError> {
    let mut feeder = Feeder::new(recording, &options.live, live);
    let start = recording.started_at.unwrap_or(DEFAULT_START);
    let interp = simulate(
        machine,
        input,
        options.execution.clone(),
        start,
        options.seed,
        &mut feeder,
    )?;
    let history = interp.history().to_vec();
    let produced: Vec<Value> = history.iter().map(HistoryEvent::to_json).collect();
    let divergence = first_divergence(&recording.events, &produced, recording.terminal);
    let unused = feeder.queues.values().map(VecDeque::len).sum::<usize>() + feeder.unnamed.len();
    Ok(Replayed {
        history,
        outcome: interp.outcome().cloned(),
        unanswered: feeder.unanswered,
        live_calls: feeder.live_calls,
        unused,
        divergence,
    })
}

/// Answers tasks from a recording by state name and attempt.
struct Feeder<'a> {
    recording: &'a Recording,
    queues: HashMap<String, VecDeque<usize>>,
    unnamed: VecDeque<usize>,
    live_states: &'a BTreeSet<String>,
    live: &'a mut dyn LiveTasks,
    unanswered: Vec<Unanswered>,
    live_calls: usize,
}

impl<'a> Feeder<'a> {
    fn new(
        recording: &'a Recording,
        live_states: &'a BTreeSet<String>,
        live: &'a mut dyn LiveTasks,
    ) -> Self {
        let mut queues: HashMap<String, VecDeque<usize>> = HashMap::new();
        let mut unnamed = VecDeque::new();
        for (i, t) in recording.tasks.iter().enumerate() {
            match &t.state {
                Some(s) => queues.entry(s.clone()).or_default().push_back(i),
                None => unnamed.push_back(i),
            }
        }
        Feeder {
            recording,
            queues,
            unnamed,
            live_states,
            live,
            unanswered: Vec::new(),
            live_calls: 0,
        }
    }
}

/// The name of the state a task was scheduled by: the last segment of its path.
fn state_of(task: &TaskRequest) -> &str {
    task.state_path
        .rsplit('/')
        .next()
        .unwrap_or(&task.state_path)
}

impl Tasks for Feeder<'_> {
    fn stops_after(&self, events: usize) -> bool {
        self.recording.aborted_after.is_some_and(|n| events >= n)
    }

    fn exhausted(&self, events: usize) -> bool {
        !self.recording.terminal
            && !self.recording.events.is_empty()
            && events >= self.recording.events.len()
    }

    fn answer(&mut self, task: &TaskRequest, at: Millis) -> Option<Vec<Event>> {
        let state = state_of(task).to_string();
        if self.live_states.contains(&state) {
            self.live_calls += 1;
            let outcome = self.live.run(&state, task);
            if outcome.is_none() {
                self.unanswered.push(Unanswered {
                    state,
                    attempt: task.attempt,
                });
            }
            return outcome.map(|outcome| {
                vec![Event::TaskCompleted {
                    at,
                    task_id: task.task_id.clone(),
                    outcome,
                }]
            });
        }
        let index = match self.queues.get_mut(&state) {
            Some(q) => q.pop_front(),
            None => self.unnamed.pop_front(),
        };
        let Some(index) = index else {
            self.unanswered.push(Unanswered {
                state,
                attempt: task.attempt,
            });
            return None;
        };
        let recorded = &self.recording.tasks[index];
        let task_id = || task.task_id.clone();
        Some(
            recorded
                .steps
                .iter()
                .map(|(s, when)| {
                    let at = when.unwrap_or(at).max(at);
                    match s {
                        Step::Started(w) => Event::TaskStarted {
                            at,
                            task_id: task_id(),
                            worker_name: w.clone(),
                        },
                        Step::Submitted(v) => Event::TaskSubmitted {
                            at,
                            task_id: task_id(),
                            output: v.clone(),
                        },
                        Step::Succeeded(v) => Event::TaskCompleted {
                            at,
                            task_id: task_id(),
                            outcome: TaskOutcome::Succeeded(v.clone()),
                        },
                        Step::Failed(error, cause) => Event::TaskCompleted {
                            at,
                            task_id: task_id(),
                            outcome: TaskOutcome::Failed {
                                error: error.clone(),
                                cause: cause.clone(),
                            },
                        },
                        Step::TimedOut(e)
                            if e.as_deref() == Some(super::errors::names::HEARTBEAT_TIMEOUT) =>
                        {
                            Event::HeartbeatTimedOut {
                                at,
                                task_id: task_id(),
                            }
                        }
                        Step::TimedOut(_) => Event::TaskTimedOut {
                            at,
                            task_id: task_id(),
                        },
                    }
                })
                .collect(),
        )
    }
}

/// A source of task results for the simulated runtime.
pub(crate) trait Tasks {
    /// The events that answer a scheduled task, if known.
    fn answer(&mut self, task: &TaskRequest, at: Millis) -> Option<Vec<Event>>;

    /// Whether the recording stops the execution once it has `events` history events.
    fn stops_after(&self, _events: usize) -> bool {
        false
    }

    /// Whether nothing more is known once the history has `events` events (a recording of an
    /// execution in flight): timers then stay unfired.
    fn exhausted(&self, _events: usize) -> bool {
        false
    }
}

/// Runs a machine to the end with a simulated clock: timers fire in order, tasks are
/// answered by `tasks`. Returns the interpreter.
pub(crate) fn simulate(
    machine: Arc<StateMachine>,
    input: &Value,
    execution: ExecutionInfo,
    start: Millis,
    seed: u64,
    tasks: &mut dyn Tasks,
) -> Result<Interpreter, ReplayError> {
    let mut interp = Interpreter::new(machine);
    let mut timers: Vec<(Millis, u64, String)> = Vec::new();
    let mut queue: VecDeque<Event> = VecDeque::from([Event::ExecutionStarted {
        at: start,
        input: input.clone(),
        execution,
        seed,
    }]);
    let mut now = start;
    let mut seq = 0u64;
    for _ in 0..1_000_000 {
        let event = if let Some(e) = queue.pop_front() {
            e
        } else if tasks.stops_after(interp.history().len()) {
            Event::StopRequested {
                at: now,
                error: None,
                cause: None,
            }
        } else {
            timers.sort();
            if timers.is_empty() || tasks.exhausted(interp.history().len()) {
                break;
            }
            let (at, _, id) = timers.remove(0);
            now = now.max(at);
            Event::TimerFired {
                at: now,
                timer_id: id,
            }
        };
        now = now.max(event.at());
        let commands = interp
            .apply(event)
            .map_err(|e| ReplayError::Interpreter(e.to_string()))?;
        for c in commands {
            match c {
                Command::StartTimer { timer_id, fire_at } => {
                    seq += 1;
                    timers.push((fire_at, seq, timer_id));
                }
                Command::CancelTimer { timer_id } => timers.retain(|t| t.2 != timer_id),
                Command::ScheduleTask(req) => {
                    if let Some(events) = tasks.answer(&req, now) {
                        queue.extend(events);
                    }
                }
                Command::CancelTask { .. } => {}
                Command::Finish(_) => return Ok(interp),
            }
        }
    }
    Ok(interp)
}

/// One event as the comparison sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventView {
    /// The event's id in its history.
    pub id: u64,
    /// `type`.
    pub event_type: String,
    /// The state it belongs to (own name, or by `previousEventId`).
    pub state: Option<String>,
    /// Its data: input, output, parameters, or error and cause (JSON text parsed, task tokens
    /// masked).
    pub payload: Value,
}

impl fmt::Display for EventView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {}", self.id, self.event_type)?;
        if let Some(s) = &self.state {
            write!(f, " {s}")?;
        }
        if !self.payload.is_null() {
            let text = self.payload.to_string();
            let cut: String = text.chars().take(160).collect();
            write!(f, " {cut}")?;
            if cut.len() < text.len() {
                f.write_str("…")?;
            }
        }
        Ok(())
    }
}

/// What differs at a [`Divergence`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DivergenceKind {
    /// A different event type.
    EventType,
    /// The same type in a different state.
    State,
    /// The same event and state with different data.
    Payload,
    /// The re-run stopped before the recording did.
    Missing,
    /// The re-run went on past the end of a finished recording.
    Extra,
}

/// The first event where a re-run departs from its recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Divergence {
    /// 0-based position in the histories.
    pub index: usize,
    /// What differs.
    pub kind: DivergenceKind,
    /// The recorded event there, if any.
    pub recorded: Option<EventView>,
    /// The re-run's event there, if any.
    pub replayed: Option<EventView>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            DivergenceKind::EventType => "a different event",
            DivergenceKind::State => "a different state",
            DivergenceKind::Payload => "different data",
            DivergenceKind::Missing => "the replay stopped early",
            DivergenceKind::Extra => "the replay went on",
        };
        writeln!(f, "diverges at event {} ({what})", self.index + 1)?;
        match &self.recorded {
            Some(e) => writeln!(f, "  recorded: {e}")?,
            None => writeln!(f, "  recorded: (end of history)")?,
        }
        match &self.replayed {
            Some(e) => write!(f, "  replayed: {e}"),
            None => write!(f, "  replayed: (end of history)"),
        }
    }
}

/// The views of a history's events, in order.
pub fn views(events: &[Value]) -> Vec<EventView> {
    let names = state_names(events);
    events
        .iter()
        .zip(names)
        .map(|(e, state)| EventView {
            id: e.get("id").and_then(Value::as_u64).unwrap_or(0),
            event_type: event_type(e).to_string(),
            state,
            payload: payload_of(e),
        })
        .collect()
}

/// The first difference between a recorded and a produced history: event types, state names
/// and payloads, in order. When the recording is of an execution in flight (`terminal`
/// false), events the re-run produced past its end are not a difference.
pub fn first_divergence(
    recorded: &[Value],
    produced: &[Value],
    terminal: bool,
) -> Option<Divergence> {
    let want = views(recorded);
    let got = views(produced);
    for (index, (w, g)) in want.iter().zip(got.iter()).enumerate() {
        let kind = if w.event_type != g.event_type {
            DivergenceKind::EventType
        } else if w.state != g.state {
            DivergenceKind::State
        } else if w.payload != g.payload {
            DivergenceKind::Payload
        } else {
            continue;
        };
        return Some(Divergence {
            index,
            kind,
            recorded: Some(w.clone()),
            replayed: Some(g.clone()),
        });
    }
    if got.len() < want.len() {
        return Some(Divergence {
            index: got.len(),
            kind: DivergenceKind::Missing,
            recorded: want.get(got.len()).cloned(),
            replayed: None,
        });
    }
    if terminal && got.len() > want.len() {
        return Some(Divergence {
            index: want.len(),
            kind: DivergenceKind::Extra,
            recorded: None,
            replayed: got.get(want.len()).cloned(),
        });
    }
    None
}

/// The definition to replay with the resources it names by `${…}` placeholders (or the test
/// suites' `__tbd__`) filled in: each placeholder takes the value found at the same place in the
/// recorded definition when there is one; a `Resource` still unresolved takes the resource its
/// state scheduled in the recording (or, when the recording hides it, an ARN of the kind
/// scheduled).
pub fn resolve_placeholders(
    definition: &Value,
    recorded_definition: Option<&Value>,
    recording: &Recording,
) -> Value {
    let mut out = definition.clone();
    if let Some(old) = recorded_definition {
        let mut learned = BTreeMap::new();
        learn_placeholders(definition, old, &mut learned);
        if !learned.is_empty() {
            substitute(&mut out, &learned);
        }
    }
    let resources = recording.resources();
    fill_resources(&mut out, &resources);
    out
}

/// Placeholder values: where `new` has `pre${Name}post` and `old` has `pre…post`.
fn learn_placeholders(new: &Value, old: &Value, learned: &mut BTreeMap<String, String>) {
    match (new, old) {
        (Value::Object(n), Value::Object(o)) => {
            for (k, v) in n {
                if let Some(ov) = o.get(k) {
                    learn_placeholders(v, ov, learned);
                }
            }
        }
        (Value::Array(n), Value::Array(o)) => {
            for (v, ov) in n.iter().zip(o) {
                learn_placeholders(v, ov, learned);
            }
        }
        (Value::String(n), Value::String(o)) => {
            let Some(open) = n.find("${") else {
                return;
            };
            let Some(close) = n[open..].find('}').map(|c| open + c) else {
                return;
            };
            let (pre, name, post) = (&n[..open], &n[open + 2..close], &n[close + 1..]);
            if post.contains("${") || o.len() < pre.len() + post.len() {
                return;
            }
            if o.starts_with(pre) && o.ends_with(post) {
                let value = &o[pre.len()..o.len() - post.len()];
                learned
                    .entry(name.to_string())
                    .or_insert_with(|| value.to_string());
            }
        }
        _ => {}
    }
}

fn substitute(v: &mut Value, learned: &BTreeMap<String, String>) {
    match v {
        Value::String(s) if s.contains("${") => {
            for (name, value) in learned {
                *s = s.replace(&format!("${{{name}}}"), value);
            }
        }
        Value::Object(m) => m.values_mut().for_each(|c| substitute(c, learned)),
        Value::Array(a) => a.iter_mut().for_each(|c| substitute(c, learned)),
        _ => {}
    }
}

fn fill_resources(v: &mut Value, resources: &BTreeMap<String, (String, String)>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Object(states)) = map.get_mut("States") {
                for (name, state) in states.iter_mut() {
                    let placeholder = state
                        .get("Resource")
                        .and_then(Value::as_str)
                        .is_some_and(|r| !r.starts_with("arn:"));
                    let Some((kind, recorded)) = resources.get(name).filter(|_| placeholder) else {
                        continue;
                    };
                    let arn = if recorded.starts_with("arn:") {
                        recorded.clone()
                    } else if kind == "LambdaFunctionScheduled" {
                        "arn:aws:lambda:us-east-1:111111111111:function:recorded".to_string()
                    } else if kind == "ActivityScheduled" {
                        "arn:aws:states:us-east-1:111111111111:activity:recorded".to_string()
                    } else {
                        continue;
                    };
                    state["Resource"] = Value::String(arn);
                }
            }
            for (_, child) in map.iter_mut() {
                fill_resources(child, resources);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| fill_resources(i, resources)),
        _ => {}
    }
}

/// The definition started at `state`: `StartAt` set to it and the top-level states it cannot
/// reach left out (so the result passes the reachability check).
pub fn start_at(definition: &Value, state: &str) -> Result<Value, ReplayError> {
    let states = definition
        .get("States")
        .and_then(Value::as_object)
        .ok_or_else(|| ReplayError::Definition("no `States`".into()))?;
    if !states.contains_key(state) {
        return Err(ReplayError::NoSuchState(state.to_string()));
    }
    let reachable = reachable_from(definition, state);
    let mut out = definition.clone();
    out["StartAt"] = Value::String(state.to_string());
    if let Some(Value::Object(states)) = out.get_mut("States") {
        states.retain(|name, _| reachable.contains(name));
    }
    Ok(out)
}

/// The top-level states reachable from `state` (itself included) by `Next`, `Default`,
/// `Choices[].Next` and `Catch[].Next`.
pub fn reachable_from(definition: &Value, state: &str) -> BTreeSet<String> {
    let states = definition.get("States").and_then(Value::as_object);
    let mut seen = BTreeSet::new();
    let mut todo = vec![state.to_string()];
    while let Some(name) = todo.pop() {
        let Some(s) = states.and_then(|s| s.get(&name)) else {
            continue;
        };
        if !seen.insert(name) {
            continue;
        }
        let mut next: Vec<&Value> = Vec::new();
        next.extend(s.get("Next"));
        next.extend(s.get("Default"));
        for list in ["Choices", "Catch"] {
            if let Some(Value::Array(items)) = s.get(list) {
                next.extend(items.iter().filter_map(|c| c.get("Next")));
            }
        }
        todo.extend(next.into_iter().filter_map(Value::as_str).map(String::from));
    }
    seen
}

fn event_type(e: &Value) -> &str {
    e.get("type").and_then(Value::as_str).unwrap_or("")
}

fn details_of(e: &Value) -> Option<&Value> {
    e.as_object()?
        .iter()
        .find(|(k, _)| k.ends_with("EventDetails"))
        .map(|(_, v)| v)
}

/// The time of an event: RFC 3339 text, or epoch seconds as the API's JSON has it.
fn time_of(e: &Value) -> Option<Millis> {
    match e.get("timestamp")? {
        Value::String(s) => parse_timestamp(s),
        Value::Number(n) => n.as_f64().map(|s| (s * 1000.0).round() as Millis),
        _ => None,
    }
}

fn step_of(t: &str, e: &Value) -> Option<Step> {
    let details = details_of(e);
    let field = |k: &str| details.and_then(|d| d.get(k)).map(text_of);
    let output = || {
        normalize(
            details
                .and_then(|d| d.get("output"))
                .unwrap_or(&Value::Null),
        )
    };
    Some(match t {
        "TaskStarted" | "ActivityStarted" | "LambdaFunctionStarted" => {
            Step::Started(field("workerName"))
        }
        "TaskSubmitted" => Step::Submitted(output()),
        "TaskSucceeded" | "ActivitySucceeded" | "LambdaFunctionSucceeded" => {
            Step::Succeeded(output())
        }
        "TaskFailed" | "ActivityFailed" | "LambdaFunctionFailed" => {
            Step::Failed(field("error"), field("cause"))
        }
        "TaskTimedOut" | "ActivityTimedOut" | "LambdaFunctionTimedOut" => {
            Step::TimedOut(field("error"))
        }
        _ => return None,
    })
}

/// The state each event belongs to: its own `name`, or that of the event it follows from.
fn state_names(events: &[Value]) -> Vec<Option<String>> {
    let mut by_id: HashMap<u64, String> = HashMap::new();
    let mut last_entered: Option<String> = None;
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let t = event_type(e);
        let own = details_of(e)
            .filter(|_| t.ends_with("StateEntered") || t.ends_with("StateExited"))
            .and_then(|d| d.get("name"))
            .and_then(Value::as_str)
            .map(String::from);
        let name = if t.starts_with("Execution") {
            None
        } else {
            own.clone().or_else(|| {
                e.get("previousEventId")
                    .and_then(Value::as_u64)
                    .and_then(|p| by_id.get(&p).cloned())
                    .or_else(|| last_entered.clone())
            })
        };
        if t.ends_with("StateEntered") {
            last_entered = own;
        }
        if let (Some(id), Some(n)) = (e.get("id").and_then(Value::as_u64), &name) {
            by_id.insert(id, n.clone());
        }
        out.push(name);
    }
    out
}

fn payload_of(e: &Value) -> Value {
    let Some(d) = details_of(e) else {
        return Value::Null;
    };
    let mut out = serde_json::Map::new();
    for k in ["input", "output", "parameters", "error", "cause"] {
        if let Some(v) = d.get(k) {
            let mut v = normalize(v);
            mask_tokens(&mut v);
            out.insert(k.to_string(), v);
        }
    }
    if out.is_empty() {
        Value::Null
    } else {
        Value::Object(out)
    }
}

/// Task tokens differ between a run and its replay (the engine hands out its own): masked.
fn mask_tokens(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, c) in m.iter_mut() {
                if k.eq_ignore_ascii_case("tasktoken") {
                    *c = Value::String("<token>".into());
                } else {
                    mask_tokens(c);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(mask_tokens),
        _ => {}
    }
}

/// A value, or the value its JSON text holds (histories keep payloads as JSON text).
pub fn normalize(v: &Value) -> Value {
    match v {
        Value::String(s) => serde_json::from_str::<Value>(s).unwrap_or_else(|_| v.clone()),
        other => other.clone(),
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn machine(v: &Value) -> Arc<StateMachine> {
        Arc::new(crate::asl::from_value(v).expect("definition"))
    }

    fn two_steps(second: &str) -> Value {
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:1:activity:a",
                  "ResultPath": "$.a", "Next": second},
            second: {"Type": "Task", "Resource": "arn:aws:states:us-east-1:1:activity:b",
                     "ResultPath": "$.b", "End": true}
        }})
    }

    struct Fixed(Value);

    impl LiveTasks for Fixed {
        fn run(&mut self, _state: &str, _task: &TaskRequest) -> Option<TaskOutcome> {
            Some(TaskOutcome::Succeeded(self.0.clone()))
        }
    }

    /// A recording made by running the machine live (every task answered by `Fixed`).
    fn record(def: &Value, result: Value) -> Vec<Value> {
        let live: BTreeSet<String> = ["A", "B", "C"].iter().map(|s| s.to_string()).collect();
        let options = ReplayOptions {
            live,
            ..ReplayOptions::default()
        };
        let empty = Recording::new(&[]);
        let out = replay(
            machine(def),
            &json!({"x": 1}),
            &empty,
            &options,
            &mut Fixed(result),
        )
        .expect("runs");
        out.history_json()
    }

    #[test]
    fn the_same_definition_reproduces_the_recording() {
        let def = two_steps("B");
        let events = record(&def, json!({"ok": true}));
        let recording = Recording::new(&events);
        let out = replay(
            machine(&def),
            &recording.input().expect("input"),
            &recording,
            &ReplayOptions::default(),
            &mut NoLive,
        )
        .expect("replays");
        assert_eq!(out.divergence, None);
        assert_eq!(out.history_json(), events);
        assert!(out.unanswered.is_empty());
    }

    #[test]
    fn a_renamed_state_is_the_first_divergence() {
        let events = record(&two_steps("B"), json!({"ok": true}));
        let recording = Recording::new(&events);
        let out = replay(
            machine(&two_steps("C")),
            &json!({"x": 1}),
            &recording,
            &ReplayOptions::default(),
            &mut NoLive,
        )
        .expect("replays");
        let d = out.divergence.expect("diverges");
        assert_eq!(d.kind, DivergenceKind::State);
        assert_eq!(d.recorded.and_then(|e| e.state).as_deref(), Some("B"));
        assert_eq!(d.replayed.and_then(|e| e.state).as_deref(), Some("C"));
        assert_eq!(
            out.unanswered,
            vec![Unanswered {
                state: "C".into(),
                attempt: 0
            }]
        );
    }

    #[test]
    fn a_live_state_that_answers_differently_diverges_in_its_payload() {
        let def = two_steps("B");
        let events = record(&def, json!({"ok": true}));
        let recording = Recording::new(&events);
        let options = ReplayOptions {
            live: BTreeSet::from(["B".to_string()]),
            ..ReplayOptions::default()
        };
        let out = replay(
            machine(&def),
            &json!({"x": 1}),
            &recording,
            &options,
            &mut Fixed(json!({"ok": false})),
        )
        .expect("replays");
        assert_eq!(out.live_calls, 1);
        let d = out.divergence.expect("diverges");
        assert_eq!(d.kind, DivergenceKind::Payload);
        assert_eq!(
            d.recorded.map(|e| e.event_type).as_deref(),
            Some("ActivitySucceeded")
        );
    }

    #[test]
    fn start_at_prunes_what_cannot_be_reached() {
        let def = two_steps("B");
        let from_b = start_at(&def, "B").expect("starts");
        assert_eq!(from_b["StartAt"], "B");
        assert!(from_b["States"].get("A").is_none());
        assert_eq!(
            start_at(&def, "Z"),
            Err(ReplayError::NoSuchState("Z".into()))
        );
    }

    #[test]
    fn placeholders_are_learned_from_the_recorded_definition() {
        let new = json!({"States": {"A": {"Resource": "${AArn}",
            "Parameters": {"QueueUrl": "https://sqs/${Queue}"}}}});
        let old = json!({"States": {"A": {"Resource": "arn:aws:states:x:1:activity:a",
            "Parameters": {"QueueUrl": "https://sqs/q1"}}}});
        let out = resolve_placeholders(&new, Some(&old), &Recording::new(&[]));
        assert_eq!(
            out["States"]["A"]["Resource"],
            "arn:aws:states:x:1:activity:a"
        );
        assert_eq!(
            out["States"]["A"]["Parameters"]["QueueUrl"],
            "https://sqs/q1"
        );
    }
}
