//! `turnflow bench interp`: executions/s and state transitions/s of the pure interpreter on one
//! thread, over the conformance definitions that need no worker, and of moto's Step Functions
//! interpreter on the same definitions.
//!
//! Our side parses each definition once, then runs every one to the end with a simulated
//! clock (a Wait is answered at once by `TimerFired` at its fire time), round after round; a
//! state transition is a `…StateEntered` history event. The moto side starts `moto_server`
//! from a Python venv, switches on `execute_state_machine`, and runs `moto_driver.py`, which
//! creates one state machine per definition and times StartExecution plus DescribeExecution
//! polling until the execution is no longer RUNNING. Only the definitions moto ends with the
//! recorded status count, and the ratio compares both sides on exactly those.

use std::fmt;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde::Deserialize;
use serde_json::Value;
use turnflow_workflows::asl::{self, StateMachine};
use turnflow_workflows::interp::{
    Command, Event, ExecutionInfo, InterpError, Interpreter, Millis, Outcome,
};

/// The moto driver, written to a temporary file when `--moto` is given.
const MOTO_DRIVER: &str = include_str!("moto_driver.py");

/// The moto version the figures are for (what `.ci/run` installs).
pub const MOTO_VERSION: &str = "5.2.5";

/// How long one of our rounds runs at least: short definitions are repeated until it does.
const MIN_ROUND: Duration = Duration::from_millis(300);

const START: Millis = 1_700_000_000_000;

/// What `turnflow bench interp` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The conformance file (JSON lines with `template`, `input`, `expected`).
    pub data: PathBuf,
    /// Rounds per side; the median is reported.
    pub rounds: usize,
    /// Also run the definitions through moto, with this Python (a venv with moto and boto3).
    pub moto: Option<PathBuf>,
}

/// One definition of the benchmark.
#[derive(Debug, Clone)]
pub struct Case {
    /// The conformance case id.
    pub id: String,
    /// The definition as written.
    pub definition: Value,
    /// The definition, parsed once.
    pub machine: Arc<StateMachine>,
    /// The execution input.
    pub input: Value,
    /// The recorded status (`SUCCEEDED`, `FAILED`, …).
    pub expected: String,
}

/// The definitions a conformance file offers the benchmark.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Definitions that need no worker or external service, parsed.
    pub cases: Vec<Case>,
    /// Cases left out because they call something outside the interpreter (a Task state, a
    /// Map `ItemReader` or `ResultWriter`).
    pub external: usize,
    /// Cases left out because turnflow's parser refuses the definition.
    pub rejected: usize,
}

/// Reads a conformance file and keeps the definitions both interpreters can run alone.
pub fn select(text: &str) -> anyhow::Result<Selection> {
    let mut selection = Selection::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let case: Value =
            serde_json::from_str(line).with_context(|| format!("line {}: not JSON", i + 1))?;
        let Some(definition) = case.get("template") else {
            bail!("line {}: the case has no template", i + 1);
        };
        if calls_out(definition) {
            selection.external += 1;
            continue;
        }
        let Ok(machine) = asl::from_value(definition) else {
            selection.rejected += 1;
            continue;
        };
        selection.cases.push(Case {
            id: text_field(&case, "id"),
            definition: definition.clone(),
            machine: Arc::new(machine),
            input: case
                .get("input")
                .cloned()
                .unwrap_or_else(|| Value::Object(Default::default())),
            expected: case
                .pointer("/expected/status")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        });
    }
    Ok(selection)
}

fn text_field(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Whether a definition has a Task state, or a Map reading or writing S3, anywhere.
fn calls_out(v: &Value) -> bool {
    match v {
        Value::Object(m) => {
            m.get("Type").and_then(Value::as_str) == Some("Task")
                || m.contains_key("ItemReader")
                || m.contains_key("ResultWriter")
                || m.values().any(calls_out)
        }
        Value::Array(items) => items.iter().any(calls_out),
        _ => false,
    }
}

/// How one execution of ours ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`, or `RUNNING` when it did not end.
    pub status: &'static str,
    /// `…StateEntered` events in the history.
    pub entered: usize,
}

fn execution_info() -> ExecutionInfo {
    ExecutionInfo {
        name: "bench".into(),
        arn: "arn:aws:states:us-east-1:111111111111:execution:Bench:bench".into(),
        state_machine_arn: "arn:aws:states:us-east-1:111111111111:stateMachine:Bench".into(),
        state_machine_name: "Bench".into(),
        role_arn: "arn:aws:iam::111111111111:role/Bench".into(),
        redrive_count: 0,
    }
}

/// Runs one execution of `machine` to the end: timers fire at their time, at once.
pub fn run_once(machine: &Arc<StateMachine>, input: &Value) -> Result<Run, InterpError> {
    let mut interp = Interpreter::new(Arc::clone(machine));
    let mut timers: Vec<(Millis, String)> = Vec::new();
    let mut next = Some(Event::ExecutionStarted {
        at: START,
        input: input.clone(),
        execution: execution_info(),
        seed: 42,
    });
    let mut now = START;
    while let Some(event) = next.take() {
        for command in interp.apply(event)? {
            match command {
                Command::StartTimer { timer_id, fire_at } => timers.push((fire_at, timer_id)),
                Command::CancelTimer { timer_id } => timers.retain(|t| t.1 != timer_id),
                // The selection has no Task state; a task left unanswered ends the run.
                Command::ScheduleTask(_) | Command::CancelTask { .. } | Command::Finish(_) => {}
            }
        }
        if interp.outcome().is_some() || timers.is_empty() {
            break;
        }
        let earliest = timers
            .iter()
            .enumerate()
            .min_by_key(|(_, t)| t.0)
            .map_or(0, |(i, _)| i);
        let (fire_at, timer_id) = timers.swap_remove(earliest);
        now = now.max(fire_at);
        next = Some(Event::TimerFired { at: now, timer_id });
    }
    let status = match interp.outcome() {
        None => "RUNNING",
        Some(Outcome::Succeeded(_)) => "SUCCEEDED",
        Some(Outcome::Failed { .. }) => "FAILED",
        Some(Outcome::TimedOut) => "TIMED_OUT",
        Some(Outcome::Aborted { .. }) => "ABORTED",
    };
    let entered = interp
        .history()
        .iter()
        .filter(|e| e.event_type.ends_with("StateEntered"))
        .count();
    Ok(Run { status, entered })
}

/// Executions/s and transitions/s: the medians over rounds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rate {
    /// Definitions measured.
    pub definitions: usize,
    /// Executions per second (median of the rounds).
    pub executions: f64,
    /// `…StateEntered` events per second (median of the rounds).
    pub transitions: f64,
}

/// Times our interpreter over `cases` (all of which must run): `rounds` rounds, each running
/// every case `reps` times.
fn measure_ours(cases: &[&Case], entered: usize, rounds: usize) -> anyhow::Result<Rate> {
    if cases.is_empty() {
        return Ok(Rate::default());
    }
    let pass = || -> anyhow::Result<()> {
        for case in cases {
            std::hint::black_box(run_once(&case.machine, &case.input))
                .with_context(|| format!("{}: interpreter error", case.id))?;
        }
        Ok(())
    };
    // Warm up and size a round.
    let began = Instant::now();
    pass()?;
    let one = began.elapsed().max(Duration::from_micros(1));
    let reps = (MIN_ROUND.as_secs_f64() / one.as_secs_f64())
        .ceil()
        .max(1.0) as usize;
    let mut executions = Vec::with_capacity(rounds);
    let mut transitions = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let began = Instant::now();
        for _ in 0..reps {
            pass()?;
        }
        let secs = began.elapsed().as_secs_f64();
        executions.push((cases.len() * reps) as f64 / secs);
        transitions.push((entered * reps) as f64 / secs);
    }
    Ok(Rate {
        definitions: cases.len(),
        executions: median(&mut executions),
        transitions: median(&mut transitions),
    })
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => 0.0,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

/// What moto did with one definition (one line of the driver's answer).
#[derive(Debug, Clone, Deserialize)]
struct MotoCase {
    status: Option<String>,
    entered: usize,
    seconds: Vec<f64>,
    error: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct MotoAnswer {
    poll_seconds: f64,
    cases: Vec<MotoCase>,
}

/// The moto side of the report.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MotoReport {
    /// Definitions moto was given.
    pub given: usize,
    /// Definitions moto ran to the recorded status (the ones measured).
    pub correct: usize,
    /// Definitions moto refused or that never ended.
    pub errors: usize,
    /// moto's rates over the definitions it ran correctly.
    pub rate: Rate,
    /// Ours over the same definitions.
    pub ours: Rate,
    /// The driver's DescribeExecution polling interval.
    pub poll_seconds: f64,
}

/// The benchmark's result; `Display` prints the table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// The conformance file.
    pub data: String,
    /// Rounds per side.
    pub rounds: usize,
    /// Definitions measured, and those left out.
    pub selected: usize,
    /// Cases left out for calling something outside the interpreter.
    pub external: usize,
    /// Cases left out because turnflow's parser refuses them.
    pub rejected: usize,
    /// Definitions our interpreter ended with the recorded status.
    pub ours_correct: usize,
    /// Ours over every selected definition.
    pub ours: Rate,
    /// The moto comparison, when asked for.
    pub moto: Option<MotoReport>,
}

/// Runs the benchmark.
pub fn run(options: &Options) -> anyhow::Result<Report> {
    let text = std::fs::read_to_string(&options.data)
        .with_context(|| format!("failed to read {}", options.data.display()))?;
    let selection = select(&text)?;
    let rounds = options.rounds.max(1);
    let mut runs = Vec::with_capacity(selection.cases.len());
    for case in &selection.cases {
        let run = run_once(&case.machine, &case.input)
            .with_context(|| format!("{}: interpreter error", case.id))?;
        runs.push(run);
    }
    let ours_correct = selection
        .cases
        .iter()
        .zip(&runs)
        .filter(|(c, r)| c.expected == r.status)
        .count();
    let moto = match &options.moto {
        Some(python) => Some(run_moto(python, &selection.cases, &runs, rounds)?),
        None => None,
    };
    let all: Vec<&Case> = selection.cases.iter().collect();
    let entered = runs.iter().map(|r| r.entered).sum();
    let ours = measure_ours(&all, entered, rounds)?;
    Ok(Report {
        data: options.data.display().to_string(),
        rounds,
        selected: selection.cases.len(),
        external: selection.external,
        rejected: selection.rejected,
        ours_correct,
        ours,
        moto,
    })
}

/// Starts moto, has the driver run every case, then times ours on the cases moto got right.
fn run_moto(
    python: &Path,
    cases: &[Case],
    runs: &[Run],
    rounds: usize,
) -> anyhow::Result<MotoReport> {
    let dir = std::env::temp_dir().join(format!("turnflow-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("failed to create {}", dir.display()))?;
    let _cleanup = RemoveOnDrop(dir.clone());
    let cases_file = dir.join("cases.jsonl");
    let mut out = std::fs::File::create(&cases_file)
        .with_context(|| format!("failed to create {}", cases_file.display()))?;
    for case in cases {
        let line = serde_json::json!({"definition": case.definition, "input": case.input});
        writeln!(out, "{line}").context("failed to write the cases file")?;
    }
    drop(out);
    let driver = dir.join("moto_driver.py");
    std::fs::write(&driver, MOTO_DRIVER).context("failed to write the moto driver")?;

    let port = free_port()?;
    let server = MotoServer::start(python, port, &dir.join("moto.log"))?;
    let endpoint = format!("http://127.0.0.1:{port}");
    let output = Process::new(python)
        .arg(&driver)
        .arg(&endpoint)
        .arg(&cases_file)
        .arg(rounds.to_string())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("failed to run {}", python.display()))?;
    drop(server);
    if !output.status.success() {
        bail!("the moto driver failed ({})", output.status);
    }
    let answer: MotoAnswer = serde_json::from_slice(&output.stdout)
        .context("failed to read the moto driver's answer")?;
    if answer.cases.len() != cases.len() {
        bail!(
            "the moto driver answered {} cases for {}",
            answer.cases.len(),
            cases.len()
        );
    }

    let mut measured: Vec<&Case> = Vec::new();
    let mut ours_entered = 0;
    let mut moto_entered = 0;
    let mut per_round = vec![0.0_f64; rounds];
    let mut errors = 0;
    for ((case, run), moto) in cases.iter().zip(runs).zip(&answer.cases) {
        if moto.error.is_some() {
            errors += 1;
            continue;
        }
        if moto.status.as_deref() != Some(case.expected.as_str()) || moto.seconds.len() != rounds {
            continue;
        }
        measured.push(case);
        ours_entered += run.entered;
        moto_entered += moto.entered;
        for (total, s) in per_round.iter_mut().zip(&moto.seconds) {
            *total += s;
        }
    }
    let mut executions: Vec<f64> = per_round
        .iter()
        .map(|s| measured.len() as f64 / s.max(f64::MIN_POSITIVE))
        .collect();
    let mut transitions: Vec<f64> = per_round
        .iter()
        .map(|s| moto_entered as f64 / s.max(f64::MIN_POSITIVE))
        .collect();
    let rate = Rate {
        definitions: measured.len(),
        executions: median(&mut executions),
        transitions: median(&mut transitions),
    };
    let ours = measure_ours(&measured, ours_entered, rounds)?;
    Ok(MotoReport {
        given: cases.len(),
        correct: measured.len(),
        errors,
        rate,
        ours,
        poll_seconds: answer.poll_seconds,
    })
}

/// A port nobody listens on now.
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("failed to find a free port")?;
    Ok(listener.local_addr()?.port())
}

/// A `moto_server` child, killed on drop.
struct MotoServer(Child);

impl MotoServer {
    /// `moto_server` beside `python` (a venv's bin), else `python -m moto.server`.
    fn start(python: &Path, port: u16, log: &Path) -> anyhow::Result<MotoServer> {
        let log = std::fs::File::create(log)
            .with_context(|| format!("failed to create {}", log.display()))?;
        let beside = python.with_file_name("moto_server");
        let mut command = if beside.is_file() {
            Process::new(beside)
        } else {
            let mut c = Process::new(python);
            c.args(["-m", "moto.server"]);
            c
        };
        let child = command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("failed to start moto_server")?;
        Ok(MotoServer(child))
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "turnflow bench interp: {} definitions from {} without Task states \
             ({} left out for calling a worker or S3, {} refused by the parser)",
            self.selected, self.data, self.external, self.rejected
        )?;
        writeln!(
            f,
            "ours: one thread, simulated clock (a Wait fires at once), median of {} rounds; \
             {}/{} end with the recorded status",
            self.rounds, self.ours_correct, self.selected
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<34} {:>11} {:>14} {:>15}",
            "", "definitions", "executions/s", "transitions/s"
        )?;
        row(f, "turnflow interp (all selected)", &self.ours)?;
        let Some(moto) = &self.moto else {
            return Ok(());
        };
        row(f, "turnflow interp (moto's correct)", &moto.ours)?;
        row(f, &format!("moto {MOTO_VERSION} (its correct)"), &moto.rate)?;
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::INFINITY };
        writeln!(
            f,
            "{:<34} {:>11} {:>13.0}x {:>14.0}x",
            "ratio turnflow / moto (same defs)",
            moto.rate.definitions,
            ratio(moto.ours.executions, moto.rate.executions),
            ratio(moto.ours.transitions, moto.rate.transitions),
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "moto ran {}/{} definitions to the recorded status ({} refused or never ended); only \
             those are measured, on both sides of the ratio.",
            moto.correct, moto.given, moto.errors
        )?;
        writeln!(
            f,
            "moto's time is wall clock per execution through its HTTP API (boto3 StartExecution, \
             then DescribeExecution every {:.0} ms until not RUNNING): moto runs definitions only \
             behind that API, so its figures include the HTTP round trips.",
            moto.poll_seconds * 1000.0
        )
    }
}

fn row(f: &mut fmt::Formatter<'_>, label: &str, rate: &Rate) -> fmt::Result {
    writeln!(
        f,
        "{label:<34} {:>11} {:>14.0} {:>15.0}",
        rate.definitions, rate.executions, rate.transitions
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn case(template: Value, status: &str) -> String {
        json!({"id": "x", "template": template, "input": {"a": 1},
               "expected": {"status": status}})
        .to_string()
    }

    #[test]
    fn selection_leaves_out_tasks_and_s3_maps() {
        let pass = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
        let task = json!({"StartAt": "T", "States": {"T": {"Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true}}});
        let nested = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
            "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true}}}}}});
        let text = [
            case(pass, "SUCCEEDED"),
            case(task, "SUCCEEDED"),
            case(nested, "FAILED"),
        ]
        .join("\n");
        let s = select(&text).unwrap_or_default();
        assert_eq!((s.cases.len(), s.external, s.rejected), (1, 2, 0));
        assert_eq!(s.cases[0].expected, "SUCCEEDED");
    }

    #[test]
    fn a_wait_fires_at_once_and_transitions_are_counted() {
        let def = json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 3600, "Next": "M"},
            "M": {"Type": "Map", "ItemsPath": "$.xs", "End": true, "ItemProcessor": {
                "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}});
        let text = json!({"id": "w", "template": def, "input": {"xs": [1, 2, 3]},
                          "expected": {"status": "SUCCEEDED"}})
        .to_string();
        let s = select(&text).unwrap_or_default();
        let run = run_once(&s.cases[0].machine, &s.cases[0].input);
        assert_eq!(
            run.ok(),
            Some(Run {
                status: "SUCCEEDED",
                entered: 5
            })
        );
    }

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&mut []), 0.0);
    }

    #[test]
    fn the_table_names_moto_and_the_ratio() {
        let rate = |e, t| Rate {
            definitions: 2,
            executions: e,
            transitions: t,
        };
        let report = Report {
            data: "c.jsonl".into(),
            rounds: 3,
            selected: 2,
            ours_correct: 2,
            ours: rate(1000.0, 3000.0),
            moto: Some(MotoReport {
                given: 2,
                correct: 2,
                errors: 0,
                rate: rate(10.0, 30.0),
                ours: rate(1000.0, 3000.0),
                poll_seconds: 0.001,
            }),
            ..Report::default()
        };
        let text = report.to_string();
        assert!(text.contains("100x"), "{text}");
        assert!(text.contains("HTTP round trips"), "{text}");
    }
}
