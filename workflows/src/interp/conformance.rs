//! Conformance runners: recorded AWS executions replayed through the interpreter.
//!
//! [`run_conformance`] runs each case of a conformance file (definition, input, expected
//! result, recorded event types) with a simulated clock; [`run_histories`] replays complete
//! recorded histories, feeding each recorded task result back, and compares the produced
//! history with the recording.
//!
//! Both are pure: they take parsed JSON and return a report whose `Display` is the table.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use super::engine::Interpreter;
use super::event::{Command, Event, ExecutionInfo, Millis, Outcome, TaskOutcome};
use super::history::HistoryEvent;

/// The report categories, in display order.
pub const CATEGORIES: &[&str] = &[
    "JSONPath",
    "intrinsic functions",
    "Choice operators",
    "Assign",
    "JSONata",
    "Map/Parallel",
    "errors",
];

/// One case that did not match the recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The case id.
    pub id: String,
    /// Its category.
    pub category: String,
    /// What differed.
    pub reason: String,
}

/// The result of [`run_conformance`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConformanceReport {
    /// Passed and failed counts per category.
    pub by_category: BTreeMap<String, (usize, usize)>,
    /// Every failure with its reason.
    pub failures: Vec<Failure>,
}

impl ConformanceReport {
    /// Cases that passed.
    pub fn passed(&self) -> usize {
        self.by_category.values().map(|c| c.0).sum()
    }

    /// Cases that failed.
    pub fn failed(&self) -> usize {
        self.by_category.values().map(|c| c.1).sum()
    }
}

impl fmt::Display for ConformanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<22} {:>7} {:>7} {:>7}",
            "category", "passed", "failed", "rate"
        )?;
        for cat in CATEGORIES {
            let (p, n) = self.by_category.get(*cat).copied().unwrap_or((0, 0));
            writeln!(f, "{cat:<22} {p:>7} {n:>7} {:>6.1}%", rate(p, n))?;
        }
        let (p, n) = (self.passed(), self.failed());
        writeln!(f, "{:<22} {p:>7} {n:>7} {:>6.1}%", "total", rate(p, n))?;
        if !self.failures.is_empty() {
            writeln!(f, "\nfailures:")?;
            for x in &self.failures {
                writeln!(f, "- [{}] {}\n    {}", x.category, x.id, x.reason)?;
            }
        }
        writeln!(f, "{p} passed, {n} failed")
    }
}

fn rate(p: usize, n: usize) -> f64 {
    if p + n == 0 {
        100.0
    } else {
        100.0 * p as f64 / (p + n) as f64
    }
}

/// The category of a conformance case, from its source, flags and definition.
pub fn category_of(case: &Value) -> &'static str {
    let id = case.get("id").and_then(Value::as_str).unwrap_or("");
    let flag = |k: &str| case.get(k).and_then(Value::as_bool).unwrap_or(false);
    let template = case
        .get("template")
        .map(|t| t.to_string())
        .unwrap_or_default();
    if case.get("source").and_then(Value::as_str) == Some("choice_operator_cases") {
        "Choice operators"
    } else if flag("uses_jsonata")
        || case.get("query_language").and_then(Value::as_str) == Some("JSONata")
    {
        "JSONata"
    } else if flag("uses_assign") {
        "Assign"
    } else if id.contains("intrinsic_functions") {
        "intrinsic functions"
    } else if template.contains("\"Type\":\"Map\"") || template.contains("\"Type\":\"Parallel\"") {
        "Map/Parallel"
    } else if case.pointer("/expected/status").and_then(Value::as_str) == Some("FAILED") {
        "errors"
    } else {
        "JSONPath"
    }
}

const START: Millis = 1_700_000_000_000;

fn execution_info() -> ExecutionInfo {
    ExecutionInfo {
        name: "conformance".into(),
        arn: "arn:aws:states:us-east-1:111111111111:execution:Conformance:conformance".into(),
        state_machine_arn: "arn:aws:states:us-east-1:111111111111:stateMachine:Conformance".into(),
        state_machine_name: "Conformance".into(),
        role_arn: "arn:aws:iam::111111111111:role/Conformance".into(),
        redrive_count: 0,
    }
}

/// A source of task results for the simulated runtime.
trait Tasks {
    /// The events that answer the `n`-th scheduled task, if known.
    fn answer(&mut self, n: usize, task_id: &str, at: Millis) -> Option<Vec<Event>>;

    /// Whether the recording stops the execution once it has `events` history events.
    fn stops_after(&self, _events: usize) -> bool {
        false
    }
}

struct NoTasks;

impl Tasks for NoTasks {
    fn answer(&mut self, _n: usize, _task_id: &str, _at: Millis) -> Option<Vec<Event>> {
        None
    }
}

/// Runs a definition to the end with a simulated clock: timers fire in order, tasks are
/// answered by `tasks`. Returns the interpreter, or why it could not run.
fn simulate(
    definition: &Value,
    input: &Value,
    tasks: &mut dyn Tasks,
) -> Result<Interpreter, String> {
    let machine =
        crate::asl::from_value(definition).map_err(|d| format!("definition rejected: {d}"))?;
    let mut interp = Interpreter::new(Arc::new(machine));
    let mut timers: Vec<(Millis, u64, String)> = Vec::new();
    let mut queue: Vec<Event> = vec![Event::ExecutionStarted {
        at: START,
        input: input.clone(),
        execution: execution_info(),
        seed: 42,
    }];
    let mut now = START;
    let mut scheduled = 0usize;
    let mut seq = 0u64;
    for _ in 0..100_000 {
        let event = if queue.is_empty() && tasks.stops_after(interp.history().len()) {
            Event::StopRequested {
                at: now,
                error: None,
                cause: None,
            }
        } else if queue.is_empty() {
            timers.sort();
            if timers.is_empty() {
                break;
            }
            let (at, _, id) = timers.remove(0);
            now = now.max(at);
            Event::TimerFired {
                at: now,
                timer_id: id,
            }
        } else {
            queue.remove(0)
        };
        let commands = interp
            .apply(event)
            .map_err(|e| format!("interpreter error: {e}"))?;
        for c in commands {
            match c {
                Command::StartTimer { timer_id, fire_at } => {
                    seq += 1;
                    timers.push((fire_at, seq, timer_id));
                }
                Command::CancelTimer { timer_id } => timers.retain(|t| t.2 != timer_id),
                Command::ScheduleTask(req) => {
                    if let Some(events) = tasks.answer(scheduled, &req.task_id, now) {
                        queue.extend(events);
                    }
                    scheduled += 1;
                }
                Command::CancelTask { .. } => {}
                Command::Finish(_) => return Ok(interp),
            }
        }
    }
    Ok(interp)
}

/// Runs every case of a conformance file (`conformance-dev.jsonl`, one parsed JSON value
/// per case) and compares status, output or error and cause, and the event types.
pub fn run_conformance(cases: &[Value]) -> ConformanceReport {
    let mut report = ConformanceReport::default();
    for case in cases {
        let category = category_of(case);
        let id = case
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let verdict = check_case(case);
        let entry = report
            .by_category
            .entry(category.to_string())
            .or_insert((0, 0));
        match verdict {
            Ok(()) => entry.0 += 1,
            Err(reason) => {
                entry.1 += 1;
                report.failures.push(Failure {
                    id,
                    category: category.to_string(),
                    reason,
                });
            }
        }
    }
    report
}

fn check_case(case: &Value) -> Result<(), String> {
    let template = case.get("template").ok_or("case has no template")?;
    let input = case
        .get("input")
        .cloned()
        .unwrap_or(Value::Object(Default::default()));
    let interp = simulate(template, &input, &mut NoTasks)?;
    let expected = case.get("expected").ok_or("case has no expected result")?;
    compare_outcome(interp.outcome(), expected)?;
    if let Some(Value::Array(types)) = case.get("event_types") {
        let want: Vec<String> = types
            .iter()
            .filter_map(|t| t.as_str().map(String::from))
            .collect();
        let got: Vec<String> = interp
            .history()
            .iter()
            .map(|e| e.event_type.clone())
            .collect();
        if canonical_types(&want) != canonical_types(&got) {
            return Err(format!(
                "event types differ:\n      want {}\n      got  {}",
                want.join(" "),
                got.join(" ")
            ));
        }
    }
    if let Some(Value::Array(names)) = case.get("states_entered") {
        let mut want: Vec<&str> = names.iter().filter_map(Value::as_str).collect();
        let mut got: Vec<&str> = interp
            .history()
            .iter()
            .filter(|e| e.event_type.ends_with("StateEntered"))
            .filter_map(HistoryEvent::state_name)
            .collect();
        want.sort_unstable();
        got.sort_unstable();
        if want != got {
            return Err(format!("states entered differ: want {want:?}, got {got:?}"));
        }
    }
    Ok(())
}

fn compare_outcome(outcome: Option<&Outcome>, expected: &Value) -> Result<(), String> {
    let status = expected.get("status").and_then(Value::as_str).unwrap_or("");
    match (status, outcome) {
        ("SUCCEEDED", Some(Outcome::Succeeded(out))) => {
            let want = expected.get("output").unwrap_or(&Value::Null);
            if same(want, out) {
                Ok(())
            } else {
                Err(format!("output differs: want {want}, got {out}"))
            }
        }
        ("FAILED", Some(Outcome::Failed { error, cause })) => {
            let want_error = expected.get("error").and_then(Value::as_str);
            let want_cause = expected.get("cause").cloned().unwrap_or(Value::Null);
            if want_error != error.as_deref() {
                return Err(format!(
                    "error differs: want {want_error:?}, got {error:?} (cause {cause:?})"
                ));
            }
            let got_cause = cause.clone().map(Value::String).unwrap_or(Value::Null);
            if !same(&want_cause, &got_cause) {
                return Err(format!(
                    "cause differs:\n      want {want_cause}\n      got  {got_cause}"
                ));
            }
            Ok(())
        }
        ("ABORTED", Some(Outcome::Aborted { .. })) | ("TIMED_OUT", Some(Outcome::TimedOut)) => {
            Ok(())
        }
        ("NOT_TERMINAL", None) => Ok(()),
        (want, got) => Err(format!(
            "status differs: want {want}, got {}",
            describe(got)
        )),
    }
}

fn describe(o: Option<&Outcome>) -> String {
    match o {
        None => "still running".into(),
        Some(Outcome::Succeeded(v)) => format!("SUCCEEDED with {v}"),
        Some(Outcome::Failed { error, cause }) => format!("FAILED {error:?}: {cause:?}"),
        Some(Outcome::TimedOut) => "TIMED_OUT".into(),
        Some(Outcome::Aborted { .. }) => "ABORTED".into(),
    }
}

/// Equal, or equal once JSON text on either side is parsed (recordings keep some payloads
/// as JSON text, as AWS returns them).
fn same(a: &Value, b: &Value) -> bool {
    a == b || normalize(a) == normalize(b)
}

fn normalize(v: &Value) -> Value {
    match v {
        Value::String(s) => serde_json::from_str::<Value>(s).unwrap_or_else(|_| v.clone()),
        other => other.clone(),
    }
}

/// The event types with the part inside the outermost Parallel state reduced to a sorted
/// set: the recordings normalise the order of concurrent branch events (and drop repeats),
/// so only which events occur there is comparable.
fn canonical_types(types: &[String]) -> Vec<String> {
    let Some(start) = types.iter().position(|t| t == "ParallelStateStarted") else {
        return types.to_vec();
    };
    let end = types
        .iter()
        .rposition(|t| t == "ParallelStateExited" || t == "ParallelStateFailed")
        .filter(|e| *e > start)
        .unwrap_or(types.len());
    let mut out: Vec<String> = types[..=start].to_vec();
    let mut inner: Vec<String> = types[start + 1..end]
        .iter()
        .filter(|t| !t.starts_with("ParallelState"))
        .cloned()
        .collect();
    inner.sort();
    inner.dedup();
    out.extend(inner);
    out.extend(types[end..].iter().cloned());
    out
}

/// The result of [`run_histories`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistoryReport {
    /// Histories replayed.
    pub total: usize,
    /// Histories whose event types match the recording.
    pub types_matched: usize,
    /// Histories whose event types, state inputs and outputs and result all match.
    pub fully_matched: usize,
    /// Every history that did not fully match, with why.
    pub failures: Vec<Failure>,
}

impl HistoryReport {
    /// Histories that fully matched.
    pub fn passed(&self) -> usize {
        self.fully_matched
    }

    /// Histories that did not.
    pub fn failed(&self) -> usize {
        self.total - self.fully_matched
    }
}

impl fmt::Display for HistoryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "histories replayed:        {}", self.total)?;
        writeln!(
            f,
            "event types match:         {} ({:.1}%)",
            self.types_matched,
            rate(self.types_matched, self.total - self.types_matched)
        )?;
        writeln!(
            f,
            "types + state I/O + result: {} ({:.1}%)",
            self.fully_matched,
            rate(self.fully_matched, self.total - self.fully_matched)
        )?;
        if !self.failures.is_empty() {
            writeln!(f, "\nmismatches:")?;
            for x in &self.failures {
                writeln!(f, "- {}\n    {}", x.id, x.reason)?;
            }
        }
        writeln!(f, "{} passed, {} failed", self.passed(), self.failed())
    }
}

/// Task answers taken from a recorded history, in scheduling order.
struct Recorded {
    answers: Vec<Vec<RecordedStep>>,
    /// How many events precede the recorded `ExecutionAborted`, if there is one.
    aborted_after: Option<usize>,
}

enum RecordedStep {
    Started(Option<String>),
    Submitted(Value),
    Succeeded(Value),
    Failed(Option<String>, Option<String>),
    TimedOut(Option<String>),
}

impl Recorded {
    fn from_events(events: &[Value]) -> Self {
        let mut answers: Vec<Vec<RecordedStep>> = Vec::new();
        for e in events {
            let t = e.get("type").and_then(Value::as_str).unwrap_or("");
            let details = e.as_object().and_then(|o| {
                o.iter()
                    .find(|(k, _)| k.ends_with("EventDetails"))
                    .map(|(_, v)| v.clone())
            });
            let field = |k: &str| details.as_ref().and_then(|d| d.get(k)).map(text_of);
            if t.ends_with("Scheduled") && t != "MapStateScheduled" {
                answers.push(Vec::new());
                continue;
            }
            let Some(current) = answers.last_mut() else {
                continue;
            };
            if t == "TaskStarted" || t == "ActivityStarted" || t == "LambdaFunctionStarted" {
                current.push(RecordedStep::Started(field("workerName")));
            } else if t == "TaskSubmitted" {
                let out = details
                    .as_ref()
                    .and_then(|d| d.get("output"))
                    .cloned()
                    .unwrap_or(Value::Null);
                current.push(RecordedStep::Submitted(normalize(&out)));
            } else if t == "TaskSucceeded"
                || t == "ActivitySucceeded"
                || t == "LambdaFunctionSucceeded"
            {
                let out = details
                    .as_ref()
                    .and_then(|d| d.get("output"))
                    .cloned()
                    .unwrap_or(Value::Null);
                current.push(RecordedStep::Succeeded(normalize(&out)));
            } else if t == "TaskFailed" || t == "ActivityFailed" || t == "LambdaFunctionFailed" {
                current.push(RecordedStep::Failed(field("error"), field("cause")));
            } else if t == "TaskTimedOut"
                || t == "ActivityTimedOut"
                || t == "LambdaFunctionTimedOut"
            {
                current.push(RecordedStep::TimedOut(field("error")));
            }
        }
        let aborted_after = events
            .iter()
            .position(|e| e.get("type").and_then(Value::as_str) == Some("ExecutionAborted"));
        Recorded {
            answers,
            aborted_after,
        }
    }
}

/// The definition with each placeholder `Resource` (the recordings keep the test suite's
/// `__tbd__` where the real ARN was substituted at run time) replaced by the kind of resource
/// the history shows that state scheduling: a Lambda function ARN or an activity ARN.
fn with_recorded_resources(template: &Value, events: &[Value]) -> Value {
    let mut kinds: BTreeMap<String, String> = BTreeMap::new();
    let mut last_task_state = None;
    for e in events {
        let t = e.get("type").and_then(Value::as_str).unwrap_or("");
        if t == "TaskStateEntered" {
            last_task_state = e
                .pointer("/stateEnteredEventDetails/name")
                .and_then(Value::as_str)
                .map(String::from);
        }
        let resource = match t {
            "LambdaFunctionScheduled" => "arn:aws:lambda:us-east-1:111111111111:function:recorded",
            "ActivityScheduled" => "arn:aws:states:us-east-1:111111111111:activity:recorded",
            _ => continue,
        };
        if let Some(name) = &last_task_state {
            kinds
                .entry(name.clone())
                .or_insert_with(|| resource.to_string());
        }
    }
    let mut out = template.clone();
    replace_placeholders(&mut out, &kinds);
    out
}

fn replace_placeholders(v: &mut Value, kinds: &BTreeMap<String, String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Object(states)) = map.get_mut("States") {
                for (name, state) in states.iter_mut() {
                    let placeholder = state
                        .get("Resource")
                        .and_then(Value::as_str)
                        .is_some_and(|r| !r.starts_with("arn:"));
                    if let (true, Some(arn)) = (placeholder, kinds.get(name)) {
                        state["Resource"] = Value::String(arn.clone());
                    }
                }
            }
            for (_, child) in map.iter_mut() {
                replace_placeholders(child, kinds);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| replace_placeholders(i, kinds)),
        _ => {}
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Tasks for Recorded {
    fn stops_after(&self, events: usize) -> bool {
        self.aborted_after.is_some_and(|n| events >= n)
    }

    fn answer(&mut self, n: usize, task_id: &str, at: Millis) -> Option<Vec<Event>> {
        let steps = self.answers.get(n)?;
        let mut out = Vec::new();
        for s in steps {
            let task_id = task_id.to_string();
            out.push(match s {
                RecordedStep::Started(w) => Event::TaskStarted {
                    at,
                    task_id,
                    worker_name: w.clone(),
                },
                RecordedStep::Submitted(v) => Event::TaskSubmitted {
                    at,
                    task_id,
                    output: v.clone(),
                },
                RecordedStep::Succeeded(v) => Event::TaskCompleted {
                    at,
                    task_id,
                    outcome: TaskOutcome::Succeeded(v.clone()),
                },
                RecordedStep::Failed(error, cause) => Event::TaskCompleted {
                    at,
                    task_id,
                    outcome: TaskOutcome::Failed {
                        error: error.clone(),
                        cause: cause.clone(),
                    },
                },
                RecordedStep::TimedOut(e)
                    if e.as_deref() == Some(super::errors::names::HEARTBEAT_TIMEOUT) =>
                {
                    Event::HeartbeatTimedOut { at, task_id }
                }
                RecordedStep::TimedOut(_) => Event::TaskTimedOut { at, task_id },
            });
        }
        Some(out)
    }
}

/// Replays recorded histories (`histories-dev.jsonl`), feeding each recorded task result
/// back, and compares event types, state inputs and outputs, and the result.
pub fn run_histories(cases: &[Value]) -> HistoryReport {
    let mut report = HistoryReport::default();
    for case in cases {
        report.total += 1;
        let id = case
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        match check_history(case) {
            Ok(()) => {
                report.types_matched += 1;
                report.fully_matched += 1;
            }
            Err((types_ok, reason)) => {
                if types_ok {
                    report.types_matched += 1;
                }
                report.failures.push(Failure {
                    id,
                    category: "history".into(),
                    reason,
                });
            }
        }
    }
    report
}

fn check_history(case: &Value) -> Result<(), (bool, String)> {
    let template = case
        .get("template")
        .ok_or((false, "case has no template".to_string()))?;
    let input = case
        .get("input")
        .cloned()
        .unwrap_or(Value::Object(Default::default()));
    let events: Vec<Value> = case
        .get("events")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut recorded = Recorded::from_events(&events);
    let template = with_recorded_resources(template, &events);
    let interp = simulate(&template, &input, &mut recorded).map_err(|e| (false, e))?;
    let want: Vec<String> = events
        .iter()
        .filter_map(|e| e.get("type").and_then(Value::as_str).map(String::from))
        .collect();
    let got: Vec<String> = interp
        .history()
        .iter()
        .map(|e| e.event_type.clone())
        .collect();
    let types_ok = canonical_types(&want) == canonical_types(&got);
    if !types_ok {
        return Err((
            false,
            format!(
                "event types differ:\n      want {}\n      got  {}",
                want.join(" "),
                got.join(" ")
            ),
        ));
    }
    let has_parallel = want.iter().any(|t| t == "ParallelStateStarted");
    let io = |list: &[Value]| -> Vec<(String, String, Value)> {
        list.iter()
            .filter_map(|e| {
                let t = e.get("type")?.as_str()?;
                let (key, field) = if t.ends_with("StateEntered") {
                    ("stateEnteredEventDetails", "input")
                } else if t.ends_with("StateExited") {
                    ("stateExitedEventDetails", "output")
                } else {
                    return None;
                };
                let d = e.get(key)?;
                Some((
                    t.to_string(),
                    d.get("name")?.as_str()?.to_string(),
                    normalize(d.get(field)?),
                ))
            })
            .collect()
    };
    let want_io = io(&events);
    let got_events: Vec<Value> = interp.history().iter().map(HistoryEvent::to_json).collect();
    let mut got_io = io(&got_events);
    if has_parallel {
        // Branch events are reordered (and some dropped) in the recordings: every recorded
        // state input and output must occur in the produced history.
        for w in &want_io {
            let found = got_io
                .iter()
                .position(|g| w.0 == g.0 && w.1 == g.1 && same(&w.2, &g.2));
            match found {
                Some(i) => {
                    got_io.remove(i);
                }
                None => {
                    return Err((
                        true,
                        format!("{} {}: recorded {} not produced", w.0, w.1, w.2),
                    ));
                }
            }
        }
    } else {
        for (w, g) in want_io.iter().zip(got_io.iter()) {
            if w.0 != g.0 || w.1 != g.1 || !same(&w.2, &g.2) {
                return Err((true, format!("{} {}: want {}, got {}", w.0, w.1, w.2, g.2)));
            }
        }
    }
    if let Some(expected) = case.get("expected") {
        compare_outcome(interp.outcome(), expected).map_err(|e| (true, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_region_is_compared_as_a_set() {
        let a: Vec<String> = [
            "ExecutionStarted",
            "ParallelStateEntered",
            "ParallelStateStarted",
            "PassStateEntered",
            "PassStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ParallelStateExited",
            "ExecutionSucceeded",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let b: Vec<String> = [
            "ExecutionStarted",
            "ParallelStateEntered",
            "ParallelStateStarted",
            "PassStateEntered",
            "PassStateEntered",
            "PassStateExited",
            "PassStateExited",
            "ParallelStateExited",
            "ExecutionSucceeded",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(canonical_types(&a), canonical_types(&b));
    }
}
