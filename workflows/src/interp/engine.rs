//! The interpreter: events in, commands out, history recorded.

use std::collections::BTreeMap;
use std::sync::Arc;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::asl::{
    Condition, Dynamic, QueryLanguage, State, StateKind, StateMachine, Transition, WaitFor,
};

use super::errors::{StateError, names};
use super::event::{
    Command, Event, ExecutionInfo, Millis, Outcome, ResourceKind, TaskOutcome, TaskRequest,
};
use super::history::{HistoryEvent, format_time, not_truncated, payload};
use super::io::Frame;
use super::jsonata::{self, JsonataEnv};
use super::rng::SplitMix64;
use super::scope::{Active, Children, Phase, Run, RunId, RunStatus, Segment};

/// The largest payload a state may pass on, in bytes of JSON (256 KiB).
pub const DATA_LIMIT_BYTES: usize = 256 * 1024;

/// The longest a Wait state may wait: AWS refuses delays past 2^31 - 1 seconds.
const MAX_WAIT_MILLIS: i64 = (i32::MAX as i64) * 1000;

/// The most events an execution's history may hold (AWS's quota): an execution that reaches it
/// fails with `States.Runtime`. It also bounds a loop of Pass and Choice states that never
/// waits for an event, which would otherwise keep [`Interpreter::apply`] from returning.
pub const HISTORY_LIMIT_EVENTS: usize = 25_000;

const EXECUTION_TIMEOUT_TIMER: &str = "execution-timeout";

/// Why an event could not be applied.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InterpError {
    /// An event came before `ExecutionStarted`, or `ExecutionStarted` came twice.
    #[error("event out of order: {0}")]
    OutOfOrder(&'static str),
    /// The definition does not hold the state a run is in (a definition that changed under
    /// a running execution).
    #[error("definition has no state `{0}`")]
    MissingState(String),
}

/// A pending step of the walk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Job {
    /// Enter a state of a run with this input.
    Enter {
        run: RunId,
        name: String,
        input: Value,
    },
    /// Start a Parallel branch or Map iteration that was created pending.
    StartChild { run: RunId },
}

/// Everything that changes as events are applied: serializable, and rebuilt exactly by
/// replaying the same events into a fresh interpreter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ExecutionState {
    started: bool,
    outcome: Option<Outcome>,
    execution: ExecutionInfo,
    input: Value,
    start_time: Millis,
    now: Millis,
    rng: Option<SplitMix64>,
    runs: Vec<Run>,
    history: Vec<HistoryEvent>,
    /// Events recorded, kept or not (their ids; the history limit).
    #[serde(default)]
    events: u64,
    next_task: u64,
    next_timer: u64,
    tasks: BTreeMap<String, RunId>,
    tokens: BTreeMap<String, String>,
    timers: BTreeMap<String, RunId>,
    #[serde(skip)]
    jobs: Vec<Job>,
    #[serde(skip)]
    commands: Vec<Command>,
}

/// The pure ASL interpreter of one execution.
#[derive(Debug, Clone)]
pub struct Interpreter {
    definition: Arc<StateMachine>,
    state: ExecutionState,
    /// Whether history events are kept (see [`Interpreter::without_history`]).
    keep_history: bool,
}

impl Interpreter {
    /// An interpreter of `definition`, waiting for `ExecutionStarted`.
    pub fn new(definition: Arc<StateMachine>) -> Self {
        Interpreter {
            definition,
            state: ExecutionState::default(),
            keep_history: true,
        }
    }

    /// An interpreter that numbers history events but keeps none of them, and never builds
    /// their payloads: commands and outcome are the same as [`Interpreter::new`]'s. For a
    /// runtime that journals the input events and rebuilds the history from them when asked
    /// (the embedded engine), it saves the JSON text of every state's input and output per
    /// step and the memory of the history per execution.
    pub fn without_history(definition: Arc<StateMachine>) -> Self {
        Interpreter {
            keep_history: false,
            ..Interpreter::new(definition)
        }
    }

    /// An interpreter resumed from a saved state (the same definition it ran with).
    pub fn resume(definition: Arc<StateMachine>, state: ExecutionState) -> Self {
        Interpreter {
            definition,
            state,
            keep_history: true,
        }
    }

    /// The state to save.
    pub fn state(&self) -> &ExecutionState {
        &self.state
    }

    /// The history recorded so far (empty [`Interpreter::without_history`]).
    pub fn history(&self) -> &[HistoryEvent] {
        &self.state.history
    }

    /// How the execution ended, once it has.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.state.outcome.as_ref()
    }

    /// Applies one event and returns what the runtime must do.
    pub fn apply(&mut self, event: Event) -> Result<Vec<Command>, InterpError> {
        if self.state.outcome.is_some() {
            return Ok(Vec::new());
        }
        self.state.now = self.state.now.max(event.at());
        match event {
            Event::ExecutionStarted {
                at,
                input,
                execution,
                seed,
            } => {
                if self.state.started {
                    return Err(InterpError::OutOfOrder("execution already started"));
                }
                self.start(at, input, execution, seed);
            }
            _ if !self.state.started => {
                return Err(InterpError::OutOfOrder("execution not started"));
            }
            Event::TaskStarted {
                task_id,
                worker_name,
                ..
            } => {
                self.task_started(&task_id, worker_name);
            }
            Event::TaskSubmitted {
                task_id, output, ..
            } => self.task_submitted(&task_id, output),
            Event::TaskCompleted {
                task_id, outcome, ..
            } => self.task_completed(&task_id, outcome)?,
            Event::TokenAnswered { token, outcome, .. } => {
                if let Some(task_id) = self.state.tokens.get(&token).cloned() {
                    self.task_completed(&task_id, outcome)?;
                }
            }
            Event::TaskTimedOut { task_id, .. } => {
                self.task_timed_out(&task_id, names::TIMEOUT)?;
            }
            Event::HeartbeatTimedOut { task_id, .. } => {
                self.task_timed_out(&task_id, names::HEARTBEAT_TIMEOUT)?;
            }
            Event::TimerFired { timer_id, .. } => self.timer_fired(&timer_id)?,
            Event::StopRequested { error, cause, .. } => self.stop(error, cause),
        }
        self.drive()?;
        Ok(std::mem::take(&mut self.state.commands))
    }

    fn start(&mut self, at: Millis, input: Value, execution: ExecutionInfo, seed: u64) {
        let s = &mut self.state;
        s.started = true;
        s.start_time = at;
        s.now = at;
        s.input = input.clone();
        s.execution = execution;
        s.rng = Some(SplitMix64::new(seed));
        let role = s.execution.role_arn.clone();
        self.record(
            None,
            "ExecutionStarted",
            self.details(|| {
                (
                    "executionStartedEventDetails",
                    json!({"input": payload(&input), "inputDetails": not_truncated(), "roleArn": role}),
                )
            }),
        );
        self.state.runs.push(Run {
            parent: None,
            index: 0,
            machine: Vec::new(),
            prefix: String::new(),
            vars: IndexMap::new(),
            status: RunStatus::Pending,
            visits: IndexMap::new(),
            last_event: 0,
            silent: false,
        });
        if let Some(t) = self.definition.timeout_seconds {
            self.state.timers.insert(EXECUTION_TIMEOUT_TIMER.into(), 0);
            self.state.commands.push(Command::StartTimer {
                timer_id: EXECUTION_TIMEOUT_TIMER.into(),
                fire_at: at + (t as i64) * 1000,
            });
        }
        let start_at = self.definition.start_at.clone();
        self.state.jobs.push(Job::Enter {
            run: 0,
            name: start_at,
            input,
        });
    }

    // ----- history -----

    fn record(
        &mut self,
        run: Option<RunId>,
        event_type: &str,
        details: Option<(&str, Value)>,
    ) -> u64 {
        if run
            .and_then(|r| self.state.runs.get(r))
            .is_some_and(|r| r.silent)
        {
            return 0;
        }
        let id = self.state.events + 1;
        let previous = match run {
            Some(r) => self.state.runs.get(r).map(|r| r.last_event).unwrap_or(0),
            None => self.state.events,
        };
        self.state.events = id;
        if self.keep_history {
            self.state.history.push(HistoryEvent {
                id,
                previous_event_id: previous,
                timestamp: self.state.now,
                event_type: event_type.to_string(),
                details: details.map(|(k, v)| (k.to_string(), v)),
            });
        }
        if let Some(r) = run.and_then(|r| self.state.runs.get_mut(r)) {
            r.last_event = id;
        }
        id
    }

    /// Details of a history event, built only when the history is kept: most carry the JSON
    /// text of a payload, the costliest part of a step.
    fn details(
        &self,
        build: impl FnOnce() -> (&'static str, Value),
    ) -> Option<(&'static str, Value)> {
        self.keep_history.then(build)
    }

    fn record_state(
        &mut self,
        run: RunId,
        state: &State,
        suffix: &str,
        details: Option<(&str, Value)>,
    ) -> u64 {
        let t = format!("{}{suffix}", state.type_name());
        self.record(Some(run), &t, details)
    }

    // ----- lookup -----

    fn machine<'d>(def: &'d StateMachine, path: &[Segment]) -> Option<&'d StateMachine> {
        let mut m = def;
        for seg in path {
            m = match &m.states.get(&seg.state)?.kind {
                StateKind::Parallel(p) => p.branches.get(seg.branch)?,
                StateKind::Map(map) => &map.processor,
                _ => return None,
            };
        }
        Some(m)
    }

    fn state_of<'d>(
        &self,
        def: &'d StateMachine,
        run: RunId,
        name: &str,
    ) -> Result<&'d State, InterpError> {
        let path = self
            .state
            .runs
            .get(run)
            .map(|r| r.machine.as_slice())
            .unwrap_or(&[]);
        Self::machine(def, path)
            .and_then(|m| m.states.get(name))
            .ok_or_else(|| InterpError::MissingState(name.to_string()))
    }

    fn query_language(&self, state: &State) -> QueryLanguage {
        state
            .query_language
            .or(self.definition.query_language)
            .unwrap_or_default()
    }

    fn active(&self, run: RunId) -> Option<&Active> {
        match &self.state.runs.get(run)?.status {
            RunStatus::Active(a) => Some(a),
            _ => None,
        }
    }

    fn active_mut(&mut self, run: RunId) -> Option<&mut Active> {
        match &mut self.state.runs.get_mut(run)?.status {
            RunStatus::Active(a) => Some(a),
            _ => None,
        }
    }

    /// Every variable visible in a run, outermost first.
    fn variables(&self, run: RunId) -> Vec<(String, Value)> {
        let mut chain = Vec::new();
        let mut cur = Some(run);
        while let Some(r) = cur {
            chain.push(r);
            cur = self.state.runs.get(r).and_then(|x| x.parent);
        }
        let mut out = Vec::new();
        for r in chain.into_iter().rev() {
            if let Some(run) = self.state.runs.get(r) {
                out.extend(run.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        out
    }

    fn context(&self, run: RunId, token: Option<&str>) -> Value {
        let s = &self.state;
        let mut ctx = json!({
            "Execution": {
                "Id": s.execution.arn,
                "Input": s.input,
                "Name": s.execution.name,
                "RoleArn": s.execution.role_arn,
                "StartTime": format_time(s.start_time),
                "RedriveCount": s.execution.redrive_count,
            },
            "StateMachine": {"Id": s.execution.state_machine_arn, "Name": s.execution.state_machine_name},
        });
        if let Some(a) = self.active(run) {
            ctx["State"] = json!({
                "EnteredTime": format_time(a.entered_at),
                "Name": a.name,
                "RetryCount": a.retry_count,
            });
        }
        if let Some(t) = token {
            ctx["Task"] = json!({"Token": t});
        }
        ctx
    }

    fn rng(&mut self) -> SplitMix64 {
        self.state.rng.unwrap_or_else(|| SplitMix64::new(0))
    }

    // ----- the walk -----

    fn drive(&mut self) -> Result<(), InterpError> {
        while let Some(job) = self.state.jobs.pop() {
            if self.state.outcome.is_some() {
                self.state.jobs.clear();
                break;
            }
            if self.state.events >= HISTORY_LIMIT_EVENTS as u64 {
                self.history_limit_reached();
                break;
            }
            match job {
                Job::Enter { run, name, input } => {
                    if matches!(
                        self.state.runs.get(run).map(|r| &r.status),
                        Some(RunStatus::Aborted) | None
                    ) {
                        continue;
                    }
                    self.enter(run, &name, input)?;
                }
                Job::StartChild { run } => self.start_child(run)?,
            }
        }
        Ok(())
    }

    fn enter(&mut self, run: RunId, name: &str, input: Value) -> Result<(), InterpError> {
        let def = Arc::clone(&self.definition);
        let state = self.state_of(&def, run, name)?;
        let entered_id = self.record_state(
            run,
            state,
            "StateEntered",
            self.details(|| {
                (
                    "stateEnteredEventDetails",
                    json!({"input": payload(&input), "inputDetails": not_truncated(), "name": name}),
                )
            }),
        );
        let retriers = state.retry().len();
        let now = self.state.now;
        if let Some(r) = self.state.runs.get_mut(run) {
            *r.visits.entry(name.to_string()).or_insert(0) += 1;
            r.status = RunStatus::Active(Box::new(Active {
                name: name.to_string(),
                input,
                entered_at: now,
                entered_id,
                retries: vec![0; retriers],
                retry_count: 0,
                phase: Phase::Running,
            }));
        }
        self.execute(run, state)
    }

    /// Runs the body of the run's current state (again, for a retry).
    fn execute(&mut self, run: RunId, state: &State) -> Result<(), InterpError> {
        let result = match &state.kind {
            StateKind::Pass(_) | StateKind::Succeed => self.exec_pass(run, state),
            StateKind::Fail(_) => self.exec_fail(run, state),
            StateKind::Choice(_) => self.exec_choice(run, state),
            StateKind::Wait(_) => self.exec_wait(run, state),
            StateKind::Task(_) => self.exec_task(run, state),
            StateKind::Parallel(_) | StateKind::Map(_) => self.exec_children(run, state),
        };
        match result {
            Ok(()) => Ok(()),
            Err(err) => self.state_failed(run, state, err),
        }
    }

    /// A frame for JSONPath evaluation in the run's current state.
    fn with_frame<R>(
        &mut self,
        run: RunId,
        token: Option<&str>,
        extra_context: Option<(&str, Value)>,
        f: impl FnOnce(&mut Frame<'_>) -> R,
    ) -> R {
        let mut context = self.context(run, token);
        if let Some((k, v)) = extra_context {
            context[k] = v;
        }
        let vars = self.variables(run);
        let mut rng = self.rng();
        let (name, entered_id) = self
            .active(run)
            .map(|a| (a.name.clone(), a.entered_id))
            .unwrap_or_default();
        let out = {
            let mut frame = Frame {
                context: &context,
                vars: &vars,
                rng: &mut rng,
                state_name: &name,
                entered_id,
            };
            f(&mut frame)
        };
        self.state.rng = Some(rng);
        out
    }

    /// Evaluates a JSONata template field of the run's current state.
    fn jsonata_field(
        &mut self,
        run: RunId,
        template: &Value,
        field: &str,
        states_extra: &[(&str, Value)],
        token: Option<&str>,
    ) -> Result<Value, StateError> {
        let states = self.states_var(run, states_extra, token);
        let vars = self.variables(run);
        let mut rng = self.rng();
        let (name, entered_id, now) = self
            .active(run)
            .map(|a| (a.name.clone(), a.entered_id, a.entered_at))
            .unwrap_or_default();
        let out = {
            let mut env = JsonataEnv {
                states: &states,
                variables: &vars,
                now,
                rng: &mut rng,
                state_name: &name,
                entered_id,
            };
            jsonata::evaluate_template(template, field, &mut env)
        };
        self.state.rng = Some(rng);
        out
    }

    fn states_var(&self, run: RunId, extra: &[(&str, Value)], token: Option<&str>) -> Value {
        let input = self
            .active(run)
            .map(|a| a.input.clone())
            .unwrap_or(Value::Null);
        let mut m = Map::new();
        m.insert("input".into(), input);
        m.insert("context".into(), self.context(run, token));
        for (k, v) in extra {
            if *k == "context" {
                if let (Some(Value::Object(c)), Value::Object(add)) = (m.get_mut("context"), v) {
                    for (ck, cv) in add {
                        c.insert(ck.clone(), cv.clone());
                    }
                }
            } else {
                m.insert((*k).to_string(), v.clone());
            }
        }
        Value::Object(m)
    }

    fn raw_input(&self, run: RunId) -> Value {
        self.active(run)
            .map(|a| a.input.clone())
            .unwrap_or(Value::Null)
    }

    /// Evaluates the `Assign` of a state (or catcher or choice rule). JSONPath `$` is `value`.
    fn assign_values(
        &mut self,
        run: RunId,
        ql: QueryLanguage,
        assign: Option<&Value>,
        value: &Value,
        states_extra: &[(&str, Value)],
    ) -> Result<Vec<(String, Value)>, StateError> {
        let Some(assign) = assign else {
            return Ok(Vec::new());
        };
        let evaluated = match ql {
            QueryLanguage::JsonPath => {
                self.with_frame(run, None, None, |f| f.template(assign, value))?
            }
            QueryLanguage::Jsonata => {
                self.jsonata_field(run, assign, "Assign", states_extra, None)?
            }
        };
        let Value::Object(map) = evaluated else {
            return Ok(Vec::new());
        };
        Ok(map.into_iter().collect())
    }

    fn check_size(&self, run: RunId, value: &Value, what: &str) -> Result<(), StateError> {
        let size = json_len(value);
        if size > DATA_LIMIT_BYTES {
            let name = self.active(run).map(|a| a.name.clone()).unwrap_or_default();
            return Err(StateError::new(
                names::DATA_LIMIT_EXCEEDED,
                format!(
                    "The state/task '{name}' returned a result with a size exceeding the maximum number of bytes service limit. ({what}: {size} bytes)"
                ),
            ));
        }
        Ok(())
    }

    /// The state completed with this output: exit, assign, move on.
    fn complete(
        &mut self,
        run: RunId,
        state: &State,
        output: Value,
        assigned: Vec<(String, Value)>,
        next: Option<&str>,
    ) -> Result<(), InterpError> {
        if let Err(e) = self.check_size(run, &output, "output") {
            return self.state_failed(run, state, e);
        }
        let details = self.details(|| {
            let name = self.active(run).map(|a| a.name.clone()).unwrap_or_default();
            let mut d =
                json!({"name": name, "output": payload(&output), "outputDetails": not_truncated()});
            if !assigned.is_empty() {
                let shown: Map<String, Value> = assigned
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.to_string())))
                    .collect();
                d["assignedVariables"] = Value::Object(shown);
                d["assignedVariablesDetails"] = not_truncated();
            }
            ("stateExitedEventDetails", d)
        });
        if let Some(r) = self.state.runs.get_mut(run) {
            for (k, v) in assigned {
                r.vars.insert(k, v);
            }
        }
        self.record_state(run, state, "StateExited", details);
        let next = match next {
            Some(n) => Some(n.to_string()),
            None => match state.transition() {
                Some(Transition::Next(n)) => Some(n.clone()),
                _ => None,
            },
        };
        match next {
            Some(n) => {
                self.state.jobs.push(Job::Enter {
                    run,
                    name: n,
                    input: output,
                });
                Ok(())
            }
            None => self.finish_run(run, Ok(output)),
        }
    }

    // ----- the state types -----

    fn exec_pass(&mut self, run: RunId, state: &State) -> Result<(), StateError> {
        let raw = self.raw_input(run);
        let ql = self.query_language(state);
        let result = match &state.kind {
            StateKind::Pass(p) => p.result.clone(),
            _ => None,
        };
        let (output, assigned) = match ql {
            QueryLanguage::JsonPath => {
                let io = &state.io;
                let effective = self.with_frame(run, None, None, |f| {
                    let effective = f.input_path(io.input_path.as_ref(), &raw)?;
                    match &io.parameters {
                        Some(p) => f.template(p, &effective),
                        None => Ok(effective),
                    }
                })?;
                let is_succeed = matches!(state.kind, StateKind::Succeed);
                let result = result.unwrap_or(effective);
                let assigned = self.assign_values(run, ql, io.assign.as_ref(), &result, &[])?;
                let output = self.with_frame(run, None, None, |f| {
                    let out = if is_succeed {
                        result
                    } else {
                        f.result_path(io.result_path.as_ref(), &raw, result)?
                    };
                    f.output_path(io.output_path.as_ref(), &out)
                })?;
                (output, assigned)
            }
            QueryLanguage::Jsonata => {
                let assigned = self.assign_values(run, ql, state.io.assign.as_ref(), &raw, &[])?;
                let output = match &state.io.output {
                    Some(o) => self.jsonata_field(run, o, "Output", &[], None)?,
                    None => result.unwrap_or(raw),
                };
                (output, assigned)
            }
        };
        self.complete_or_fail(run, state, output, assigned, None)
    }

    fn complete_or_fail(
        &mut self,
        run: RunId,
        state: &State,
        output: Value,
        assigned: Vec<(String, Value)>,
        next: Option<&str>,
    ) -> Result<(), StateError> {
        // Interpreter errors (a missing state) cannot be reported as a state error: they end
        // the walk of this run, which the definition checker rules out beforehand.
        let _ = self.complete(run, state, output, assigned, next);
        Ok(())
    }

    fn exec_fail(&mut self, run: RunId, state: &State) -> Result<(), StateError> {
        let StateKind::Fail(fail) = &state.kind else {
            return Ok(());
        };
        let raw = self.raw_input(run);
        let resolve = |this: &mut Self,
                       d: Option<&Dynamic<String>>,
                       field: &str|
         -> Result<Option<String>, StateError> {
            match d {
                None => Ok(None),
                Some(Dynamic::Literal(s)) => Ok(Some(s.clone())),
                Some(Dynamic::Path(p)) => {
                    let v = this.with_frame(run, None, None, |f| {
                        f.query(p, &raw).map_err(|_| {
                            f.runtime(format!(
                                "The JSONPath '{p}' specified for the field '{field}Path' could not be found in the input '{raw}'"
                            ))
                        })
                    })?;
                    Ok(Some(match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    }))
                }
                Some(Dynamic::Expr(e)) => {
                    let v = this.jsonata_field(run, &Value::String(e.clone()), field, &[], None)?;
                    Ok(Some(match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    }))
                }
            }
        };
        let error = resolve(self, fail.error.as_ref(), "Error")?;
        let cause = resolve(self, fail.cause.as_ref(), "Cause")?;
        let _ = self.finish_run(
            run,
            Err(StateError {
                error,
                cause,
                location: None,
            }),
        );
        Ok(())
    }

    fn exec_choice(&mut self, run: RunId, state: &State) -> Result<(), StateError> {
        let StateKind::Choice(choice) = &state.kind else {
            return Ok(());
        };
        let raw = self.raw_input(run);
        let ql = self.query_language(state);
        let effective = match ql {
            QueryLanguage::JsonPath => self.with_frame(run, None, None, |f| {
                f.input_path(state.io.input_path.as_ref(), &raw)
            })?,
            QueryLanguage::Jsonata => raw.clone(),
        };
        let mut chosen = None;
        for rule in &choice.choices {
            if self.condition(run, &rule.condition, &effective)? {
                chosen = Some(rule);
                break;
            }
        }
        let (next, assign, output) = match chosen {
            Some(rule) => (
                rule.next.clone(),
                rule.assign.as_ref(),
                rule.output.as_ref(),
            ),
            None => match &choice.default {
                Some(d) => (
                    d.clone(),
                    state.io.assign.as_ref(),
                    state.io.output.as_ref(),
                ),
                None => {
                    return Err(self.with_frame(run, None, None, |f| {
                        f.error(
                            "States.NoChoiceMatched",
                            "No Choice matched and no Default is defined.",
                        )
                    }));
                }
            },
        };
        let assigned = self.assign_values(run, ql, assign, &effective, &[])?;
        let output = match ql {
            QueryLanguage::JsonPath => self.with_frame(run, None, None, |f| {
                f.output_path(state.io.output_path.as_ref(), &effective)
            })?,
            QueryLanguage::Jsonata => match output.or(state.io.output.as_ref()) {
                Some(o) => self.jsonata_field(run, o, "Output", &[], None)?,
                None => raw,
            },
        };
        self.complete_or_fail(run, state, output, assigned, Some(&next))
    }

    fn condition(
        &mut self,
        run: RunId,
        cond: &Condition,
        input: &Value,
    ) -> Result<bool, StateError> {
        match cond {
            Condition::Jsonata(v) => {
                let value = match v {
                    Value::String(_) => self.jsonata_field(run, v, "Condition", &[], None)?,
                    other => other.clone(),
                };
                match value {
                    Value::Bool(b) => Ok(b),
                    other => Err(self.with_frame(run, None, None, |f| {
                        f.error(
                            names::QUERY_EVALUATION_ERROR,
                            format!("The Condition field evaluated to a non-boolean value: {other}"),
                        )
                    })
                    .at("Condition")),
                }
            }
            other => self.with_frame(run, None, None, |f| {
                let name = f.state_name.to_string();
                let id = f.entered_id;
                f.with_env(input, |env| crate::choice::evaluate(other, env)).map_err(|e| {
                    StateError::new(
                        e.error_name(),
                        format!("An error occurred while executing the state '{name}' (entered at the event id #{id}). {e}"),
                    )
                })
            }),
        }
    }

    fn exec_wait(&mut self, run: RunId, state: &State) -> Result<(), StateError> {
        let StateKind::Wait(wait) = &state.kind else {
            return Ok(());
        };
        let raw = self.raw_input(run);
        let ql = self.query_language(state);
        let entered_at = self
            .active(run)
            .map(|a| a.entered_at)
            .unwrap_or(self.state.now);
        let effective = match ql {
            QueryLanguage::JsonPath => self.with_frame(run, None, None, |f| {
                f.input_path(state.io.input_path.as_ref(), &raw)
            })?,
            QueryLanguage::Jsonata => raw.clone(),
        };
        let fire_at = match &wait.wait {
            WaitFor::Seconds(d) => {
                let secs = match d {
                    Dynamic::Literal(s) => *s as f64,
                    Dynamic::Path(p) => {
                        let v = self.with_frame(run, None, None, |f| {
                            f.query(p, &effective).map_err(|_| {
                                f.runtime(format!("The SecondsPath parameter does not reference an input value: {p}"))
                            })
                        })?;
                        match v.as_f64() {
                            Some(s) if s >= 0.0 && v.is_i64() || v.is_u64() => s,
                            _ => {
                                return Err(self.with_frame(run, None, None, |f| {
                                    f.runtime(format!(
                                        "The SecondsPath parameter references an invalid value: {p}"
                                    ))
                                }));
                            }
                        }
                    }
                    Dynamic::Expr(e) => {
                        let v = self.jsonata_field(
                            run,
                            &Value::String(e.clone()),
                            "Seconds",
                            &[],
                            None,
                        )?;
                        match v.as_f64() {
                            Some(s) if s >= 0.0 => s,
                            _ => {
                                return Err(self.with_frame(run, None, None, |f| {
                                    f.error(names::QUERY_EVALUATION_ERROR, format!("The Seconds field evaluated to an invalid value: {v}"))
                                })
                                .at("Seconds"));
                            }
                        }
                    }
                };
                entered_at + (secs * 1000.0) as i64
            }
            WaitFor::Timestamp(d) => {
                let (text, field, is_path) = match d {
                    Dynamic::Literal(s) => (s.clone(), "Timestamp".to_string(), false),
                    Dynamic::Path(p) => {
                        let v = self.with_frame(run, None, None, |f| {
                            f.query(p, &effective).map_err(|_| {
                                f.runtime(format!("The TimestampPath parameter does not reference an input value: {p}"))
                            })
                        })?;
                        match v {
                            Value::String(s) => (s, p.clone(), true),
                            other => (other.to_string(), p.clone(), true),
                        }
                    }
                    Dynamic::Expr(e) => {
                        let v = self.jsonata_field(
                            run,
                            &Value::String(e.clone()),
                            "Timestamp",
                            &[],
                            None,
                        )?;
                        match v {
                            Value::String(s) => (s, "Timestamp".to_string(), false),
                            other => (other.to_string(), "Timestamp".to_string(), false),
                        }
                    }
                };
                match parse_timestamp(&text) {
                    Some(t) => t,
                    None if is_path => {
                        return Err(self.with_frame(run, None, None, |f| {
                            f.runtime(format!(
                                "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {field} == {text}"
                            ))
                        }));
                    }
                    None => {
                        let err = self.with_frame(run, None, None, |f| {
                            f.error(
                                if ql == QueryLanguage::Jsonata { names::QUERY_EVALUATION_ERROR } else { names::RUNTIME },
                                format!("The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {text}"),
                            )
                        });
                        return Err(if ql == QueryLanguage::Jsonata {
                            err.at("Timestamp")
                        } else {
                            err
                        });
                    }
                }
            }
        };
        if fire_at - entered_at > MAX_WAIT_MILLIS {
            return Err(self.with_frame(run, None, None, |f| {
                f.runtime("Wait state delay is too long.")
            }));
        }
        let assigned = self.assign_values(run, ql, state.io.assign.as_ref(), &effective, &[])?;
        let output = match ql {
            QueryLanguage::JsonPath => self.with_frame(run, None, None, |f| {
                f.output_path(state.io.output_path.as_ref(), &effective)
            })?,
            QueryLanguage::Jsonata => match &state.io.output {
                Some(o) => self.jsonata_field(run, o, "Output", &[], None)?,
                None => raw,
            },
        };
        let timer_id = self.new_timer(run, fire_at);
        if let Some(a) = self.active_mut(run) {
            a.phase = Phase::Wait {
                timer_id,
                output,
                assigned,
            };
        }
        Ok(())
    }

    fn new_timer(&mut self, run: RunId, fire_at: Millis) -> String {
        self.state.next_timer += 1;
        let timer_id = format!("timer-{}", self.state.next_timer);
        self.state.timers.insert(timer_id.clone(), run);
        self.state.commands.push(Command::StartTimer {
            timer_id: timer_id.clone(),
            fire_at,
        });
        timer_id
    }

    fn exec_task(&mut self, run: RunId, state: &State) -> Result<(), StateError> {
        let StateKind::Task(task) = &state.kind else {
            return Ok(());
        };
        let raw = self.raw_input(run);
        let ql = self.query_language(state);
        let (kind, service, action) = classify_resource(&task.resource);
        let waits_for_token = task.resource.ends_with(".waitForTaskToken");
        self.state.next_task += 1;
        let task_id = format!("task-{}", self.state.next_task);
        let token = waits_for_token.then(|| format!("{}:{}", self.state.execution.name, task_id));
        let tok = token.as_deref();
        let (input, timeout, heartbeat) = match ql {
            QueryLanguage::JsonPath => {
                let io = &state.io;
                self.with_frame(run, tok, None, |f| {
                    let effective = f.input_path(io.input_path.as_ref(), &raw)?;
                    let timeout = dynamic_seconds(
                        f,
                        task.timeout_seconds.as_ref(),
                        &effective,
                        "TimeoutSecondsPath",
                    )?;
                    let heartbeat = dynamic_seconds(
                        f,
                        task.heartbeat_seconds.as_ref(),
                        &effective,
                        "HeartbeatSecondsPath",
                    )?;
                    let input = match &io.parameters {
                        Some(p) => f.template(p, &effective)?,
                        None => effective,
                    };
                    Ok::<_, StateError>((input, timeout, heartbeat))
                })?
            }
            QueryLanguage::Jsonata => {
                let input = match &state.io.arguments {
                    Some(a) => self.jsonata_field(run, a, "Arguments", &[], tok)?,
                    None => raw.clone(),
                };
                let secs = |this: &mut Self,
                            d: Option<&Dynamic<u64>>,
                            field: &str|
                 -> Result<Option<u64>, StateError> {
                    match d {
                        None => Ok(None),
                        Some(Dynamic::Literal(s)) => Ok(Some(*s)),
                        Some(Dynamic::Path(_)) => Ok(None),
                        Some(Dynamic::Expr(e)) => {
                            let v = this.jsonata_field(
                                run,
                                &Value::String(e.clone()),
                                field,
                                &[],
                                tok,
                            )?;
                            Ok(v.as_u64())
                        }
                    }
                };
                let timeout = secs(self, task.timeout_seconds.as_ref(), "TimeoutSeconds")?;
                let heartbeat = secs(self, task.heartbeat_seconds.as_ref(), "HeartbeatSeconds")?;
                (input, timeout, heartbeat)
            }
        };
        self.check_size(run, &input, "input")?;
        let (state_name, attempt) = self
            .active(run)
            .map(|a| (a.name.clone(), a.retry_count))
            .unwrap_or_default();
        let (prefix, visit) = self
            .state
            .runs
            .get(run)
            .map(|r| {
                (
                    r.prefix.clone(),
                    r.visits.get(&state_name).copied().unwrap_or(0),
                )
            })
            .unwrap_or_default();
        let state_path = format!("{prefix}{state_name}");
        let region = region_of(&self.state.execution.arn);
        let event_type = match kind {
            ResourceKind::Activity => "ActivityScheduled",
            ResourceKind::LambdaFunction => "LambdaFunctionScheduled",
            ResourceKind::Service => "TaskScheduled",
        };
        let details = self.details(|| match kind {
            ResourceKind::Activity => {
                let mut d = json!({"resource": task.resource, "input": payload(&input), "inputDetails": not_truncated()});
                add_limits(&mut d, timeout, heartbeat);
                ("activityScheduledEventDetails", d)
            }
            ResourceKind::LambdaFunction => {
                let mut d = json!({"resource": task.resource, "input": payload(&input), "inputDetails": not_truncated()});
                add_limits(&mut d, timeout, heartbeat);
                ("lambdaFunctionScheduledEventDetails", d)
            }
            ResourceKind::Service => {
                let mut d = json!({"resourceType": service, "resource": action, "region": region, "parameters": payload(&input)});
                add_limits(&mut d, timeout, heartbeat);
                if let Some(c) = &task.credentials {
                    d["taskCredentials"] = c.clone();
                }
                ("taskScheduledEventDetails", d)
            }
        });
        self.record(Some(run), event_type, details);
        self.state.tasks.insert(task_id.clone(), run);
        if let Some(t) = &token {
            self.state.tokens.insert(t.clone(), task_id.clone());
        }
        self.state.commands.push(Command::ScheduleTask(TaskRequest {
            task_id: task_id.clone(),
            idempotency_key: format!(
                "{}#{}@{}.{}",
                self.state.execution.arn, state_path, visit, attempt
            ),
            state_path,
            resource: task.resource.clone(),
            kind,
            input,
            timeout_seconds: timeout,
            heartbeat_seconds: heartbeat,
            task_token: token.clone(),
            attempt,
        }));
        if let Some(a) = self.active_mut(run) {
            a.phase = Phase::Task {
                task_id,
                kind,
                started: false,
                token,
            };
        }
        Ok(())
    }

    fn task_run(&self, task_id: &str) -> Option<(RunId, ResourceKind, bool)> {
        let run = *self.state.tasks.get(task_id)?;
        match &self.active(run)?.phase {
            Phase::Task {
                task_id: t,
                kind,
                started,
                ..
            } if t == task_id => Some((run, *kind, *started)),
            _ => None,
        }
    }

    fn task_submitted(&mut self, task_id: &str, output: Value) {
        let Some((run, kind, started)) = self.task_run(task_id) else {
            return;
        };
        if !started {
            self.record_task_started(run, kind, None);
        }
        let def = Arc::clone(&self.definition);
        let (service, action) = split_service(&self.current_resource(&def, run));
        let details = self.details(|| {
            (
                "taskSubmittedEventDetails",
                json!({"resourceType": service, "resource": action, "output": payload(&output), "outputDetails": not_truncated()}),
            )
        });
        self.record(Some(run), "TaskSubmitted", details);
    }

    fn task_started(&mut self, task_id: &str, worker: Option<String>) {
        let Some((run, kind, started)) = self.task_run(task_id) else {
            return;
        };
        if started {
            return;
        }
        self.record_task_started(run, kind, worker);
    }

    fn record_task_started(&mut self, run: RunId, kind: ResourceKind, worker: Option<String>) {
        let details = match kind {
            ResourceKind::Activity => self.details(|| {
                (
                    "activityStartedEventDetails",
                    json!({"workerName": worker.unwrap_or_default()}),
                )
            }),
            ResourceKind::LambdaFunction => None,
            ResourceKind::Service => self.details(|| {
                let def = Arc::clone(&self.definition);
                let resource = self.current_resource(&def, run);
                let (service, action) = split_service(&resource);
                (
                    "taskStartedEventDetails",
                    json!({"resourceType": service, "resource": action}),
                )
            }),
        };
        let event_type = match kind {
            ResourceKind::Activity => "ActivityStarted",
            ResourceKind::LambdaFunction => "LambdaFunctionStarted",
            ResourceKind::Service => "TaskStarted",
        };
        self.record(Some(run), event_type, details);
        if let Some(Active {
            phase: Phase::Task { started, .. },
            ..
        }) = self.active_mut(run)
        {
            *started = true;
        }
    }

    fn current_resource(&self, def: &StateMachine, run: RunId) -> String {
        let Some(a) = self.active(run) else {
            return String::new();
        };
        match self.state_of(def, run, &a.name).map(|s| &s.kind) {
            Ok(StateKind::Task(t)) => t.resource.clone(),
            _ => String::new(),
        }
    }

    fn task_completed(&mut self, task_id: &str, outcome: TaskOutcome) -> Result<(), InterpError> {
        let Some((run, kind, started)) = self.task_run(task_id) else {
            return Ok(());
        };
        if !started {
            self.record_task_started(run, kind, None);
        }
        self.state.tasks.remove(task_id);
        let def = Arc::clone(&self.definition);
        let resource = self.current_resource(&def, run);
        let (service, action) = split_service(&resource);
        let name = self.active(run).map(|a| a.name.clone()).unwrap_or_default();
        let state = self.state_of(&def, run, &name)?;
        match outcome {
            TaskOutcome::Succeeded(output) => {
                if json_len(&output) > DATA_LIMIT_BYTES {
                    let err = StateError::new(
                        names::DATA_LIMIT_EXCEEDED,
                        format!(
                            "The state/task '{resource}' returned a result with a size exceeding the maximum number of bytes service limit."
                        ),
                    );
                    self.record_task_failure(run, kind, &service, &action, &err);
                    return self.state_failed(run, state, err);
                }
                let (t, k) = match kind {
                    ResourceKind::Activity => {
                        ("ActivitySucceeded", "activitySucceededEventDetails")
                    }
                    ResourceKind::LambdaFunction => (
                        "LambdaFunctionSucceeded",
                        "lambdaFunctionSucceededEventDetails",
                    ),
                    ResourceKind::Service => ("TaskSucceeded", "taskSucceededEventDetails"),
                };
                let details = self.details(|| {
                    let d = if kind == ResourceKind::Service {
                        json!({"resourceType": service, "resource": action, "output": payload(&output), "outputDetails": not_truncated()})
                    } else {
                        json!({"output": payload(&output), "outputDetails": not_truncated()})
                    };
                    (k, d)
                });
                self.record(Some(run), t, details);
                match self.task_result(run, state, output) {
                    Ok(()) => Ok(()),
                    Err(e) => self.state_failed(run, state, e),
                }
            }
            TaskOutcome::Failed { error, cause } => {
                let err = StateError {
                    error,
                    cause,
                    location: None,
                };
                self.record_task_failure(run, kind, &service, &action, &err);
                self.state_failed(run, state, err)
            }
        }
    }

    fn record_task_failure(
        &mut self,
        run: RunId,
        kind: ResourceKind,
        service: &str,
        action: &str,
        err: &StateError,
    ) {
        let mut d = Map::new();
        if let Some(e) = &err.error {
            d.insert("error".into(), json!(e));
        }
        if let Some(c) = &err.cause {
            d.insert("cause".into(), json!(c));
        }
        let (t, k) = match kind {
            ResourceKind::Activity => ("ActivityFailed", "activityFailedEventDetails"),
            ResourceKind::LambdaFunction => {
                ("LambdaFunctionFailed", "lambdaFunctionFailedEventDetails")
            }
            ResourceKind::Service => {
                d.insert("resourceType".into(), json!(service));
                d.insert("resource".into(), json!(action));
                ("TaskFailed", "taskFailedEventDetails")
            }
        };
        self.record(Some(run), t, Some((k, Value::Object(d))));
    }

    fn task_timed_out(&mut self, task_id: &str, error: &str) -> Result<(), InterpError> {
        let Some((run, kind, started)) = self.task_run(task_id) else {
            return Ok(());
        };
        if !started {
            self.record_task_started(run, kind, None);
        }
        self.state.tasks.remove(task_id);
        let def = Arc::clone(&self.definition);
        let resource = self.current_resource(&def, run);
        let (service, action) = split_service(&resource);
        let (t, k, d) = match kind {
            ResourceKind::Activity => (
                "ActivityTimedOut",
                "activityTimedOutEventDetails",
                json!({"error": error}),
            ),
            ResourceKind::LambdaFunction => (
                "LambdaFunctionTimedOut",
                "lambdaFunctionTimedOutEventDetails",
                json!({"error": error}),
            ),
            ResourceKind::Service => (
                "TaskTimedOut",
                "taskTimedOutEventDetails",
                json!({"error": error, "resourceType": service, "resource": action}),
            ),
        };
        self.record(Some(run), t, Some((k, d)));
        let name = self.active(run).map(|a| a.name.clone()).unwrap_or_default();
        let state = self.state_of(&def, run, &name)?;
        self.state_failed(
            run,
            state,
            StateError {
                error: Some(error.to_string()),
                cause: None,
                location: None,
            },
        )
    }

    /// The task returned `result`: ResultSelector → ResultPath → OutputPath (or Output).
    fn task_result(&mut self, run: RunId, state: &State, result: Value) -> Result<(), StateError> {
        let raw = self.raw_input(run);
        let ql = self.query_language(state);
        let io = &state.io;
        let (output, assigned) = match ql {
            QueryLanguage::JsonPath => {
                let selected = match &io.result_selector {
                    Some(sel) => self.with_frame(run, None, None, |f| f.template(sel, &result))?,
                    None => result,
                };
                let assigned = self.assign_values(run, ql, io.assign.as_ref(), &selected, &[])?;
                let output = self.with_frame(run, None, None, |f| {
                    let out = f.result_path(io.result_path.as_ref(), &raw, selected)?;
                    f.output_path(io.output_path.as_ref(), &out)
                })?;
                (output, assigned)
            }
            QueryLanguage::Jsonata => {
                let extra = [("result", result.clone())];
                let assigned = self.assign_values(run, ql, io.assign.as_ref(), &result, &extra)?;
                let output = match &io.output {
                    Some(o) => self.jsonata_field(run, o, "Output", &extra, None)?,
                    None => result,
                };
                (output, assigned)
            }
        };
        self.complete_or_fail(run, state, output, assigned, None)
    }

    // ----- Parallel and Map -----

    fn exec_children(&mut self, run: RunId, state: &State) -> Result<(), StateError> {
        let raw = self.raw_input(run);
        let ql = self.query_language(state);
        let io = &state.io;
        let effective = match ql {
            QueryLanguage::JsonPath => self.with_frame(run, None, None, |f| {
                f.input_path(io.input_path.as_ref(), &raw)
            })?,
            QueryLanguage::Jsonata => raw.clone(),
        };
        let name = self.active(run).map(|a| a.name.clone()).unwrap_or_default();
        let prefix = self
            .state
            .runs
            .get(run)
            .map(|r| r.prefix.clone())
            .unwrap_or_default();
        let machine = self
            .state
            .runs
            .get(run)
            .map(|r| r.machine.clone())
            .unwrap_or_default();
        let mut children = Children {
            is_map: false,
            runs: Vec::new(),
            inputs: Vec::new(),
            started: 0,
            running: 0,
            failed: 0,
            done: 0,
            max_concurrency: 0,
            tolerated_count: None,
            tolerated_percentage: None,
        };
        let mut branch_of = Vec::new();
        match &state.kind {
            StateKind::Parallel(p) => {
                let input = match ql {
                    QueryLanguage::JsonPath => match &io.parameters {
                        Some(t) => {
                            self.with_frame(run, None, None, |f| f.template(t, &effective))?
                        }
                        None => effective,
                    },
                    QueryLanguage::Jsonata => match &io.arguments {
                        Some(a) => self.jsonata_field(run, a, "Arguments", &[], None)?,
                        None => effective,
                    },
                };
                for i in 0..p.branches.len() {
                    children.inputs.push(input.clone());
                    branch_of.push(i);
                }
                self.record_state(run, state, "StateStarted", None);
            }
            StateKind::Map(m) => {
                children.is_map = true;
                let items = self.map_items(run, state, m, ql, &effective)?;
                children.max_concurrency = self
                    .map_number(
                        run,
                        ql,
                        m.max_concurrency.as_ref(),
                        &effective,
                        "MaxConcurrencyPath",
                    )?
                    .unwrap_or(0) as usize;
                let len = items.len();
                self.record_state(
                    run,
                    state,
                    "StateStarted",
                    Some(("mapStateStartedEventDetails", json!({"length": len}))),
                );
                children.tolerated_count = self.map_number(
                    run,
                    ql,
                    m.tolerated_failure_count.as_ref(),
                    &effective,
                    "ToleratedFailureCountPath",
                )?;
                children.tolerated_percentage = match &m.tolerated_failure_percentage {
                    None => None,
                    Some(Dynamic::Literal(p)) => Some(*p),
                    Some(Dynamic::Path(p)) => {
                        let v = self.with_frame(run, None, None, |f| f.query(p, &effective))?;
                        match v.as_f64() {
                            Some(x) => Some(x),
                            None => {
                                return Err(self.with_frame(run, None, None, |f| {
                                    f.runtime(format!(
                                        "The ToleratedFailurePercentagePath field refers to value \"{}\" which is not a valid float: {p}",
                                        plain(&v)
                                    ))
                                }));
                            }
                        }
                    }
                    Some(Dynamic::Expr(e)) => {
                        let v = self.jsonata_field(
                            run,
                            &Value::String(e.clone()),
                            "ToleratedFailurePercentage",
                            &[],
                            None,
                        )?;
                        v.as_f64()
                    }
                };
                if let Some(p) = children.tolerated_percentage
                    && !(0.0..=100.0).contains(&p)
                {
                    return Err(self.with_frame(run, None, None, |f| {
                        f.runtime("ToleratedFailurePercentage must be between 0 and 100.")
                    }));
                }
                branch_of = vec![0; items.len()];
                children.inputs = items;
            }
            _ => return Ok(()),
        }
        // Create the child runs, pending.
        let is_map = children.is_map;
        let parent_silent = self.state.runs.get(run).is_some_and(|r| r.silent);
        let distributed = is_distributed(state);
        let silent_children = parent_silent || distributed;
        if distributed {
            let arn = format!("{}:map-run:{}", self.state.execution.arn, name);
            self.record(
                Some(run),
                "MapRunStarted",
                Some(("mapRunStartedEventDetails", json!({"mapRunArn": arn}))),
            );
        }
        for (i, branch) in branch_of.into_iter().enumerate() {
            let child_prefix = if is_map {
                format!("{prefix}{name}[{i}]/")
            } else {
                format!("{prefix}{name}/{i}/")
            };
            let mut child_machine = machine.clone();
            child_machine.push(Segment {
                state: name.clone(),
                branch,
            });
            let id = self.state.runs.len();
            self.state.runs.push(Run {
                parent: Some(run),
                index: i,
                machine: child_machine,
                prefix: child_prefix,
                vars: IndexMap::new(),
                status: RunStatus::Pending,
                visits: IndexMap::new(),
                last_event: self.state.runs.get(run).map(|r| r.last_event).unwrap_or(0),
                silent: silent_children,
            });
            children.runs.push(Some(id));
        }
        let total = children.runs.len();
        let first = if children.max_concurrency == 0 {
            total
        } else {
            children.max_concurrency.min(total)
        };
        children.started = first;
        children.running = first;
        let to_start: Vec<RunId> = children
            .runs
            .iter()
            .take(first)
            .flatten()
            .copied()
            .collect();
        if let Some(a) = self.active_mut(run) {
            a.phase = Phase::Children(Box::new(children));
        }
        if total == 0 {
            let _ = self.children_done(run);
            return Ok(());
        }
        for id in to_start.into_iter().rev() {
            self.state.jobs.push(Job::StartChild { run: id });
        }
        Ok(())
    }

    fn map_number(
        &mut self,
        run: RunId,
        ql: QueryLanguage,
        d: Option<&Dynamic<u64>>,
        effective: &Value,
        field: &str,
    ) -> Result<Option<u64>, StateError> {
        match d {
            None => Ok(None),
            Some(Dynamic::Literal(n)) => Ok(Some(*n)),
            Some(Dynamic::Path(p)) => {
                let v = self.with_frame(run, None, None, |f| f.query(p, effective))?;
                match v.as_u64() {
                    Some(n) => Ok(Some(n)),
                    None if v.as_i64().is_some() && field == "ToleratedFailureCountPath" => {
                        Err(self.with_frame(run, None, None, |f| f.runtime("ToleratedFailureCount cannot be negative.")))
                    }
                    None => Err(self.with_frame(run, None, None, |f| {
                        f.runtime(format!("The {field} field refers to value \"{}\" which is not a valid integer: {p}", plain(&v)))
                    })),
                }
            }
            Some(Dynamic::Expr(e)) => {
                let name = field.trim_end_matches("Path");
                let _ = ql;
                let v = self.jsonata_field(run, &Value::String(e.clone()), name, &[], None)?;
                match v.as_f64() {
                    Some(x) if x >= 0.0 => Ok(Some(x as u64)),
                    _ => Err(self
                        .with_frame(run, None, None, |f| {
                            f.error(
                                names::QUERY_EVALUATION_ERROR,
                                format!("The {name} field evaluated to an invalid value: {v}"),
                            )
                        })
                        .at(name)),
                }
            }
        }
    }

    /// The inputs of a Map's iterations: items → ItemSelector → ItemBatcher.
    fn map_items(
        &mut self,
        run: RunId,
        state: &State,
        m: &crate::asl::Map,
        ql: QueryLanguage,
        effective: &Value,
    ) -> Result<Vec<Value>, StateError> {
        let items = match ql {
            QueryLanguage::JsonPath => {
                let path = m.items_path.clone().unwrap_or_else(|| "$".into());
                let v = self.with_frame(run, None, None, |f| f.query(&path, effective))?;
                match v {
                    Value::Array(a) => a,
                    other => {
                        return Err(self.with_frame(run, None, None, |f| {
                            f.runtime(format!(
                                "Expected an array at the ItemsPath '{path}', but got: {other}"
                            ))
                        }));
                    }
                }
            }
            QueryLanguage::Jsonata => {
                let v = match &m.items {
                    Some(t) => self.jsonata_field(run, t, "Items", &[], None)?,
                    None => effective.clone(),
                };
                match v {
                    Value::Array(a) => a,
                    other => {
                        let expr = match &m.items {
                            Some(Value::String(s)) => {
                                jsonata::expression_of(s).unwrap_or(s).trim().to_string()
                            }
                            _ => String::new(),
                        };
                        return Err(self
                            .with_frame(run, None, None, |f| {
                                f.error(
                                    names::QUERY_EVALUATION_ERROR,
                                    format!(
                                        "The JSONata expression '{expr}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '{}' for value: {other}",
                                        json_type(&other)
                                    ),
                                )
                            })
                            .at("Items"));
                    }
                }
            }
        };
        let selector = m.item_selector.as_ref().or(state.io.parameters.as_ref());
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let Some(sel) = selector else {
                out.push(item);
                continue;
            };
            let map_ctx = json!({"Item": {"Index": i, "Value": item}});
            let v = match ql {
                QueryLanguage::JsonPath => {
                    self.with_frame(run, None, Some(("Map", map_ctx)), |f| {
                        f.template(sel, effective)
                    })?
                }
                QueryLanguage::Jsonata => {
                    let extra = [("context", json!({"Map": map_ctx}))];
                    self.jsonata_field(run, sel, "ItemSelector", &extra, None)?
                }
            };
            out.push(v);
        }
        if let Some(batcher) = &m.item_batcher {
            out = self.batch(run, ql, batcher, out, effective)?;
        }
        Ok(out)
    }

    fn batch(
        &mut self,
        run: RunId,
        ql: QueryLanguage,
        batcher: &Value,
        items: Vec<Value>,
        effective: &Value,
    ) -> Result<Vec<Value>, StateError> {
        let number = |this: &mut Self, key: &str| -> Result<Option<u64>, StateError> {
            if let Some(v) = batcher.get(key) {
                return Ok(match v {
                    Value::String(s) if jsonata::expression_of(s).is_some() => {
                        this.jsonata_field(run, v, key, &[], None)?.as_u64()
                    }
                    other => other.as_u64(),
                });
            }
            if let Some(Value::String(p)) = batcher.get(format!("{key}Path")) {
                let v = this.with_frame(run, None, None, |f| f.query(p, effective))?;
                return Ok(v.as_u64());
            }
            Ok(None)
        };
        let max_items = number(self, "MaxItemsPerBatch")?.filter(|n| *n > 0);
        let max_bytes = number(self, "MaxInputBytesPerBatch")?.filter(|n| *n > 0);
        let batch_input = match batcher.get("BatchInput") {
            None => None,
            Some(t) => Some(match ql {
                QueryLanguage::JsonPath => {
                    self.with_frame(run, None, None, |f| f.template(t, effective))?
                }
                QueryLanguage::Jsonata => self.jsonata_field(run, t, "BatchInput", &[], None)?,
            }),
        };
        let wrap = |items: Vec<Value>| {
            let mut m = Map::new();
            if let Some(b) = &batch_input {
                m.insert("BatchInput".into(), b.clone());
            }
            m.insert("Items".into(), Value::Array(items));
            Value::Object(m)
        };
        let mut batches = Vec::new();
        let mut current: Vec<Value> = Vec::new();
        let mut bytes = 0usize;
        for item in items {
            let size = json_len(&item);
            let full_items = max_items.is_some_and(|n| current.len() as u64 >= n);
            let full_bytes =
                max_bytes.is_some_and(|n| !current.is_empty() && (bytes + size) as u64 > n);
            if full_items || full_bytes {
                batches.push(wrap(std::mem::take(&mut current)));
                bytes = 0;
            }
            bytes += size;
            current.push(item);
        }
        if !current.is_empty() {
            batches.push(wrap(current));
        }
        Ok(batches)
    }

    fn start_child(&mut self, child: RunId) -> Result<(), InterpError> {
        let Some(c) = self.state.runs.get(child) else {
            return Ok(());
        };
        if c.status != RunStatus::Pending {
            return Ok(());
        }
        let Some(parent) = c.parent else {
            return Ok(());
        };
        let index = c.index;
        let def = Arc::clone(&self.definition);
        let parent_name = self
            .active(parent)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        let parent_state = self.state_of(&def, parent, &parent_name)?;
        let input = match &self.active(parent).map(|a| &a.phase) {
            Some(Phase::Children(ch)) => ch.inputs.get(index).cloned().unwrap_or(Value::Null),
            _ => return Ok(()),
        };
        let is_map = matches!(parent_state.kind, StateKind::Map(_));
        if is_map {
            self.record(
                Some(child),
                "MapIterationStarted",
                Some((
                    "mapIterationStartedEventDetails",
                    json!({"index": index, "name": parent_name}),
                )),
            );
        }
        let machine = Self::machine(&def, &self.state.runs[child].machine)
            .ok_or_else(|| InterpError::MissingState(parent_name.clone()))?;
        let start_at = machine.start_at.clone();
        self.state.jobs.push(Job::Enter {
            run: child,
            name: start_at,
            input,
        });
        Ok(())
    }

    /// A run ended. The top-level run ends the execution; a child reports to its parent.
    fn finish_run(
        &mut self,
        run: RunId,
        result: Result<Value, StateError>,
    ) -> Result<(), InterpError> {
        let Some(r) = self.state.runs.get_mut(run) else {
            return Ok(());
        };
        if matches!(r.status, RunStatus::Aborted) {
            return Ok(());
        }
        r.status = match &result {
            Ok(v) => RunStatus::Succeeded(v.clone()),
            Err(e) => RunStatus::Failed(e.clone()),
        };
        let parent = r.parent;
        let index = r.index;
        match parent {
            None => {
                match result {
                    Ok(output) => {
                        let details = self.details(|| {
                            (
                                "executionSucceededEventDetails",
                                json!({"output": payload(&output), "outputDetails": not_truncated()}),
                            )
                        });
                        self.record(Some(run), "ExecutionSucceeded", details);
                        self.finish(Outcome::Succeeded(output));
                    }
                    Err(err) => {
                        let mut d = Map::new();
                        if let Some(e) = &err.error {
                            d.insert("error".into(), json!(e));
                        }
                        if let Some(c) = &err.cause {
                            d.insert("cause".into(), json!(c));
                        }
                        self.record(
                            Some(run),
                            "ExecutionFailed",
                            Some(("executionFailedEventDetails", Value::Object(d))),
                        );
                        self.finish(Outcome::Failed {
                            error: err.error,
                            cause: err.cause,
                        });
                    }
                }
                Ok(())
            }
            Some(parent) => self.child_finished(parent, run, index, result),
        }
    }

    /// Fails the execution for reaching [`HISTORY_LIMIT_EVENTS`].
    fn history_limit_reached(&mut self) {
        let error = names::RUNTIME.to_string();
        let cause = format!(
            "The execution reached the maximum number of history events ({HISTORY_LIMIT_EVENTS})."
        );
        self.record(
            None,
            "ExecutionFailed",
            Some((
                "executionFailedEventDetails",
                json!({"error": error, "cause": cause}),
            )),
        );
        self.finish(Outcome::Failed {
            error: Some(error),
            cause: Some(cause),
        });
    }

    fn finish(&mut self, outcome: Outcome) {
        self.state.outcome = Some(outcome.clone());
        self.state.jobs.clear();
        for (timer_id, _) in std::mem::take(&mut self.state.timers) {
            self.state.commands.push(Command::CancelTimer { timer_id });
        }
        for (task_id, _) in std::mem::take(&mut self.state.tasks) {
            self.state.commands.push(Command::CancelTask { task_id });
        }
        self.state.commands.push(Command::Finish(outcome));
    }

    fn child_finished(
        &mut self,
        parent: RunId,
        child: RunId,
        index: usize,
        result: Result<Value, StateError>,
    ) -> Result<(), InterpError> {
        let def = Arc::clone(&self.definition);
        let parent_name = self
            .active(parent)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        let parent_state = self.state_of(&def, parent, &parent_name)?;
        let is_map = matches!(parent_state.kind, StateKind::Map(_));
        if is_map {
            let t = if result.is_ok() {
                "MapIterationSucceeded"
            } else {
                "MapIterationFailed"
            };
            let k = if result.is_ok() {
                "mapIterationSucceededEventDetails"
            } else {
                "mapIterationFailedEventDetails"
            };
            self.record(
                Some(child),
                t,
                Some((k, json!({"index": index, "name": parent_name}))),
            );
        }
        let (failed_over, next_pending, all_done) = {
            let Some(Active {
                phase: Phase::Children(ch),
                ..
            }) = self.active_mut(parent)
            else {
                return Ok(());
            };
            ch.running = ch.running.saturating_sub(1);
            ch.done += 1;
            if result.is_err() {
                ch.failed += 1;
            }
            let total = ch.runs.len();
            let tolerated = if ch.is_map {
                let by_count = ch.tolerated_count.map(|c| ch.failed as u64 <= c);
                let by_pct = ch
                    .tolerated_percentage
                    .map(|p| (ch.failed as f64) * 100.0 <= p * total as f64);
                match (by_count, by_pct) {
                    (None, None) => ch.failed == 0,
                    (a, b) => a.unwrap_or(false) || b.unwrap_or(false),
                }
            } else {
                ch.failed == 0
            };
            let failed_over = result.is_err() && !tolerated;
            let mut next = None;
            if !failed_over && ch.started < total {
                next = ch.runs.get(ch.started).copied().flatten();
                ch.started += 1;
                ch.running += 1;
            }
            (failed_over, next, ch.done == total)
        };
        if failed_over {
            let err = match result {
                Err(e) if !is_map || self.tolerance_set(parent) == (false, false) => e,
                Err(_) => StateError::new(
                    names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                    "The specified tolerated failure threshold was exceeded",
                ),
                Ok(_) => return Ok(()),
            };
            self.abort_children(parent);
            return self.handle_error_of(parent, parent_state, err, true);
        }
        if let Some(next) = next_pending {
            self.state.jobs.push(Job::StartChild { run: next });
        }
        if all_done {
            return self.children_done(parent);
        }
        Ok(())
    }

    fn tolerance_set(&self, run: RunId) -> (bool, bool) {
        match self.active(run).map(|a| &a.phase) {
            Some(Phase::Children(ch)) => (
                ch.tolerated_count.is_some(),
                ch.tolerated_percentage.is_some(),
            ),
            _ => (false, false),
        }
    }

    /// Every branch or iteration ended (within tolerance): the state's result is their outputs.
    fn children_done(&mut self, run: RunId) -> Result<(), InterpError> {
        let def = Arc::clone(&self.definition);
        let name = self.active(run).map(|a| a.name.clone()).unwrap_or_default();
        let state = self.state_of(&def, run, &name)?;
        let ids: Vec<RunId> = match self.active(run).map(|a| &a.phase) {
            Some(Phase::Children(ch)) => ch.runs.iter().flatten().copied().collect(),
            _ => return Ok(()),
        };
        let results: Vec<Value> = ids
            .iter()
            .map(|id| match self.state.runs.get(*id).map(|r| &r.status) {
                Some(RunStatus::Succeeded(v)) => v.clone(),
                Some(RunStatus::Failed(e)) => e.output(),
                _ => Value::Null,
            })
            .collect();
        if matches!(state.kind, StateKind::Map(_)) {
            if is_distributed(state) {
                self.record(Some(run), "MapRunSucceeded", None);
            }
            self.record_state(run, state, "StateSucceeded", None);
        }
        match self.task_result(run, state, Value::Array(results)) {
            Ok(()) => Ok(()),
            Err(e) => self.state_failed(run, state, e),
        }
    }

    /// Stops every running child of a Parallel or Map state (and their own children).
    fn abort_children(&mut self, run: RunId) {
        let ids: Vec<RunId> = match self.active(run).map(|a| &a.phase) {
            Some(Phase::Children(ch)) => ch.runs.iter().flatten().copied().collect(),
            _ => return,
        };
        let def = Arc::clone(&self.definition);
        let is_map = self
            .active(run)
            .and_then(|a| self.state_of(&def, run, &a.name).ok())
            .is_some_and(|s| matches!(s.kind, StateKind::Map(_)));
        let parent_name = self.active(run).map(|a| a.name.clone()).unwrap_or_default();
        for id in ids {
            let status = self.state.runs.get(id).map(|r| r.status.clone());
            match status {
                Some(RunStatus::Active(_)) => {
                    self.abort_run(id);
                    if is_map {
                        let index = self.state.runs.get(id).map(|r| r.index).unwrap_or(0);
                        self.record(
                            Some(id),
                            "MapIterationAborted",
                            Some((
                                "mapIterationAbortedEventDetails",
                                json!({"index": index, "name": parent_name}),
                            )),
                        );
                    }
                }
                Some(RunStatus::Pending) => {
                    if let Some(r) = self.state.runs.get_mut(id) {
                        r.status = RunStatus::Aborted;
                    }
                }
                _ => {}
            }
        }
    }

    /// Aborts a run in its current state: cancels what it waits for, records `…StateAborted`.
    fn abort_run(&mut self, run: RunId) {
        let def = Arc::clone(&self.definition);
        let Some(active) = self.active(run).cloned() else {
            return;
        };
        match &active.phase {
            Phase::Task { task_id, .. } => {
                self.state.tasks.remove(task_id);
                self.state.commands.push(Command::CancelTask {
                    task_id: task_id.clone(),
                });
            }
            Phase::Wait { timer_id, .. } | Phase::Backoff { timer_id } => {
                self.state.timers.remove(timer_id);
                self.state.commands.push(Command::CancelTimer {
                    timer_id: timer_id.clone(),
                });
            }
            Phase::Children(_) => self.abort_children(run),
            Phase::Running => {}
        }
        if let Ok(state) = self.state_of(&def, run, &active.name) {
            self.record_state(run, state, "StateAborted", None);
        }
        if let Some(r) = self.state.runs.get_mut(run) {
            r.status = RunStatus::Aborted;
        }
    }

    // ----- errors -----

    /// A state failed: record the Parallel/Map failure, then retry, catch or fail the run.
    fn state_failed(
        &mut self,
        run: RunId,
        state: &State,
        err: StateError,
    ) -> Result<(), InterpError> {
        self.handle_error(run, state, err)
    }

    fn handle_error(
        &mut self,
        run: RunId,
        state: &State,
        err: StateError,
    ) -> Result<(), InterpError> {
        self.handle_error_of(run, state, err, false)
    }

    /// Retry, catch, or fail the run. `children_failed`: a branch or iteration failed, which
    /// AWS records as `ParallelStateFailed` / `MapStateFailed` unless the state is retried.
    fn handle_error_of(
        &mut self,
        run: RunId,
        state: &State,
        mut err: StateError,
        children_failed: bool,
    ) -> Result<(), InterpError> {
        let mut children_failed = children_failed;
        if let Some(location) = err.location.take() {
            let d = json!({"error": err.error, "cause": err.cause, "location": location, "state": self.active(run).map(|a| a.name.clone())});
            self.record(
                Some(run),
                "EvaluationFailed",
                Some(("evaluationFailedEventDetails", d)),
            );
            children_failed |= matches!(state.kind, StateKind::Map(_) | StateKind::Parallel(_));
        }
        if err.is_terminal() {
            if children_failed {
                self.record_state(run, state, "StateFailed", None);
            }
            return self.finish_run(run, Err(err));
        }
        // Retry.
        let retriers = state.retry();
        if let Some((i, r)) = retriers
            .iter()
            .enumerate()
            .find(|(_, r)| err.matches(&r.error_equals))
        {
            let done = self
                .active(run)
                .and_then(|a| a.retries.get(i).copied())
                .unwrap_or(0);
            let max = r.max_attempts.unwrap_or(3);
            if u64::from(done) < max {
                let interval = r.interval_seconds.unwrap_or(1) as f64;
                let rate = r.backoff_rate.unwrap_or(2.0);
                let mut delay = interval * rate.powi(done as i32);
                if let Some(m) = r.max_delay_seconds {
                    delay = delay.min(m as f64);
                }
                if r.jitter_strategy == Some(crate::asl::JitterStrategy::Full) {
                    let mut rng = self.rng();
                    delay *= rng.next_f64();
                    self.state.rng = Some(rng);
                }
                let fire_at = self.state.now + (delay * 1000.0).round() as i64;
                let timer_id = self.new_timer(run, fire_at);
                if let Some(a) = self.active_mut(run) {
                    if let Some(c) = a.retries.get_mut(i) {
                        *c += 1;
                    }
                    a.retry_count += 1;
                    a.phase = Phase::Backoff { timer_id };
                }
                return Ok(());
            }
        }
        if children_failed {
            if is_distributed(state)
                && self
                    .active(run)
                    .is_some_and(|a| matches!(a.phase, Phase::Children(_)))
            {
                let d = json!({"error": err.error, "cause": err.cause});
                self.record(
                    Some(run),
                    "MapRunFailed",
                    Some(("mapRunFailedEventDetails", d)),
                );
            }
            self.record_state(run, state, "StateFailed", None);
        }
        // Catch.
        if let Some(c) = state.catch().iter().find(|c| err.matches(&c.error_equals)) {
            let raw = self.raw_input(run);
            let ql = self.query_language(state);
            let error_output = err.output();
            let caught = match ql {
                QueryLanguage::JsonPath => {
                    let assigned =
                        self.assign_values(run, ql, c.assign.as_ref(), &error_output, &[]);
                    let output = self.with_frame(run, None, None, |f| {
                        f.result_path(c.result_path.as_ref(), &raw, error_output.clone())
                    });
                    assigned.and_then(|a| output.map(|o| (o, a)))
                }
                QueryLanguage::Jsonata => {
                    let extra = [("errorOutput", error_output.clone())];
                    let assigned =
                        self.assign_values(run, ql, c.assign.as_ref(), &error_output, &extra);
                    let output = match &c.output {
                        Some(o) => self.jsonata_field(run, o, "Output", &extra, None),
                        None => Ok(error_output.clone()),
                    };
                    assigned.and_then(|a| output.map(|o| (o, a)))
                }
            };
            return match caught {
                Ok((output, assigned)) => {
                    self.complete(run, state, output, assigned, Some(&c.next))
                }
                Err(e) => self.finish_run(run, Err(e)),
            };
        }
        self.finish_run(run, Err(err))
    }

    fn timer_fired(&mut self, timer_id: &str) -> Result<(), InterpError> {
        if timer_id == EXECUTION_TIMEOUT_TIMER {
            if self.state.timers.remove(timer_id).is_some() {
                self.abort_all();
                self.record(
                    None,
                    "ExecutionTimedOut",
                    Some((
                        "executionTimedOutEventDetails",
                        json!({"error": names::TIMEOUT, "cause": "The execution timed out."}),
                    )),
                );
                self.finish(Outcome::TimedOut);
            }
            return Ok(());
        }
        let Some(run) = self.state.timers.remove(timer_id) else {
            return Ok(());
        };
        let Some(active) = self.active(run).cloned() else {
            return Ok(());
        };
        let def = Arc::clone(&self.definition);
        let state = self.state_of(&def, run, &active.name)?;
        match active.phase {
            Phase::Wait {
                timer_id: t,
                output,
                assigned,
            } if t == timer_id => self.complete(run, state, output, assigned, None),
            Phase::Backoff { timer_id: t } if t == timer_id => {
                if let Some(a) = self.active_mut(run) {
                    a.phase = Phase::Running;
                }
                self.execute(run, state)
            }
            _ => Ok(()),
        }
    }

    fn abort_all(&mut self) {
        if let Some(RunStatus::Active(_)) = self.state.runs.first().map(|r| &r.status) {
            self.abort_run(0);
        }
    }

    fn stop(&mut self, error: Option<String>, cause: Option<String>) {
        // AWS records no `…StateAborted` for the states a StopExecution interrupts: the
        // execution's `ExecutionAborted` says it all. Their tasks and timers are cancelled.
        for run in 0..self.state.runs.len() {
            if let Some(r) = self.state.runs.get_mut(run) {
                r.silent = true;
            }
        }
        self.abort_all();
        let mut d = Map::new();
        if let Some(e) = &error {
            d.insert("error".into(), json!(e));
        }
        if let Some(c) = &cause {
            d.insert("cause".into(), json!(c));
        }
        self.record(
            None,
            "ExecutionAborted",
            Some(("executionAbortedEventDetails", Value::Object(d))),
        );
        self.finish(Outcome::Aborted { error, cause });
    }
}

/// Whether a Map state runs its items as child executions (`ProcessorConfig.Mode`).
fn is_distributed(state: &State) -> bool {
    match &state.kind {
        StateKind::Map(m) => {
            m.processor_config
                .as_ref()
                .and_then(|c| c.get("Mode"))
                .and_then(Value::as_str)
                == Some("DISTRIBUTED")
        }
        _ => false,
    }
}

fn dynamic_seconds(
    f: &mut Frame<'_>,
    d: Option<&Dynamic<u64>>,
    effective: &Value,
    field: &str,
) -> Result<Option<u64>, StateError> {
    match d {
        None | Some(Dynamic::Expr(_)) => Ok(None),
        Some(Dynamic::Literal(s)) => Ok(Some(*s)),
        Some(Dynamic::Path(p)) => {
            let v = f.query(p, effective)?;
            match v.as_u64() {
                Some(n) if n > 0 => Ok(Some(n)),
                _ => Err(f.runtime(format!("The {field} field refers to value \"{}\" which is not a valid positive integer: {p}", plain(&v)))),
            }
        }
    }
}

fn add_limits(d: &mut Value, timeout: Option<u64>, heartbeat: Option<u64>) {
    if let Some(t) = timeout {
        d["timeoutInSeconds"] = json!(t);
    }
    if let Some(h) = heartbeat {
        d["heartbeatInSeconds"] = json!(h);
    }
}

/// A value as AWS quotes it in causes: strings bare, anything else as JSON.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// What kind of resource an ARN names, and for service integrations the service and action.
pub fn classify_resource(resource: &str) -> (ResourceKind, String, String) {
    if resource.contains(":activity:") {
        return (ResourceKind::Activity, String::new(), String::new());
    }
    if resource.starts_with("arn:")
        && resource.contains(":lambda:")
        && resource.contains(":function:")
    {
        return (ResourceKind::LambdaFunction, String::new(), String::new());
    }
    if resource.starts_with("arn:") && resource.contains(":states:::") {
        let (service, action) = split_service(resource);
        return (ResourceKind::Service, service, action);
    }
    (ResourceKind::Activity, String::new(), String::new())
}

fn split_service(resource: &str) -> (String, String) {
    let rest = resource.split(":states:::").nth(1).unwrap_or(resource);
    match rest.rsplit_once(':') {
        Some((service, action)) => (service.to_string(), action.to_string()),
        None => (rest.to_string(), String::new()),
    }
}

fn region_of(arn: &str) -> String {
    arn.split(':').nth(3).unwrap_or("").to_string()
}

/// Parses an RFC 3339 timestamp into milliseconds, by the one definition Choice rules and the
/// checker use ([`choice::parse_timestamp`]: an uppercase `T`, and `Z` or a numeric offset).
pub fn parse_timestamp(text: &str) -> Option<Millis> {
    let nanos = crate::choice::parse_timestamp(text)?;
    Millis::try_from(nanos.div_euclid(1_000_000)).ok()
}

/// The length of a value's JSON text, counted without building the text.
fn json_len(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut n = Count(0);
    // Writing a Value cannot fail, and the counter never refuses bytes.
    let _ = serde_json::to_writer(&mut n, value);
    n.0
}
