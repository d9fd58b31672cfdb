//! Conformance runners: recorded AWS executions replayed through the interpreter.
//!
//! [`run_conformance`] runs each case of a conformance file (definition, input, expected
//! result, recorded event types) with a simulated clock; [`run_histories`] replays complete
//! recorded histories with the shared replayer ([`super::replay`]: each recorded task result
//! fed back by state name and attempt) and compares the produced history with the recording.
//!
//! Both are pure: they take parsed JSON and return a report whose `Display` is the table.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use super::engine::Interpreter;
use super::event::{Event, ExecutionInfo, Millis, Outcome, TaskRequest};
use super::history::HistoryEvent;
use super::replay::{
    NoLive, Recording, ReplayOptions, Tasks, normalize, replay, resolve_placeholders, simulate,
};

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

/// No task is answered: the conformance cases need no worker.
struct NoTasks;

impl Tasks for NoTasks {
    fn answer(&mut self, _task: &TaskRequest, _at: Millis) -> Option<Vec<Event>> {
        None
    }
}

/// Runs a definition to the end with a simulated clock and no worker.
fn simulate_alone(definition: &Value, input: &Value) -> Result<Interpreter, String> {
    let machine =
        crate::asl::from_value(definition).map_err(|d| format!("definition rejected: {d}"))?;
    simulate(
        Arc::new(machine),
        input,
        execution_info(),
        START,
        42,
        &mut NoTasks,
    )
    .map_err(|e| e.to_string())
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
    let interp = simulate_alone(template, &input)?;
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
    let recording = Recording::new(&events);
    let definition = resolve_placeholders(template, None, &recording);
    let machine = crate::asl::from_value(&definition)
        .map_err(|d| (false, format!("definition rejected: {d}")))?;
    let options = ReplayOptions {
        execution: execution_info(),
        ..ReplayOptions::default()
    };
    let replayed = replay(Arc::new(machine), &input, &recording, &options, &mut NoLive)
        .map_err(|e| (false, e.to_string()))?;
    let want: Vec<String> = events
        .iter()
        .filter_map(|e| e.get("type").and_then(Value::as_str).map(String::from))
        .collect();
    let got: Vec<String> = replayed
        .history
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
    let got_events = replayed.history_json();
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
        compare_outcome(replayed.outcome.as_ref(), expected).map_err(|e| (true, e))?;
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
