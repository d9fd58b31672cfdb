//! `turnflow bench replay`: the replayer on a recorded history of about 1,000 events.
//!
//! The history is recorded, not made up: a loop (an activity step, then a Choice on a counter)
//! runs on the embedded engine, with an in-process handler, until its history has the events
//! asked for; then the pure replayer re-runs it, feeding the recorded results back, `rounds`
//! times. The median is reported against the target (under 50 ms for 1,000 events).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};
use turnflow_workflows::asl;
use turnflow_workflows::interp::replay::{NoLive, Recording, ReplayOptions, replay};

use crate::engine::{Engine, EngineConfig, Handler};
use crate::journal::Durability;

/// The target for a 1,000-event history.
pub const TARGET: Duration = Duration::from_millis(50);

/// Events per loop iteration: TaskStateEntered, ActivityScheduled, ActivityStarted,
/// ActivitySucceeded, TaskStateExited, ChoiceStateEntered, ChoiceStateExited.
const PER_ITERATION: usize = 7;

/// The figures.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayBench {
    /// Events in the recorded history.
    pub events: usize,
    /// Each round's time, sorted.
    pub rounds: Vec<Duration>,
    /// Whether every round reproduced the recording.
    pub identical: bool,
}

impl ReplayBench {
    /// The median round.
    pub fn median(&self) -> Duration {
        self.rounds
            .get(self.rounds.len() / 2)
            .copied()
            .unwrap_or_default()
    }
}

impl fmt::Display for ReplayBench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let median = self.median();
        writeln!(
            f,
            "replay of a recorded {}-event history: median {:.2} ms over {} rounds (min {:.2}, max {:.2}); {} the recording",
            self.events,
            ms(median),
            self.rounds.len(),
            ms(self.rounds.first().copied().unwrap_or_default()),
            ms(self.rounds.last().copied().unwrap_or_default()),
            if self.identical {
                "reproduces"
            } else {
                "DOES NOT reproduce"
            },
        )?;
        let scaled = median.mul_f64(1000.0 / self.events.max(1) as f64);
        writeln!(
            f,
            "target: 1,000 events under {} ms: {} ({:.2} ms per 1,000 events)",
            TARGET.as_millis(),
            if scaled < TARGET { "met" } else { "MISSED" },
            ms(scaled)
        )
    }
}

fn definition(activity: &str, iterations: usize) -> Value {
    json!({
        "Comment": "bench: a step in a loop",
        "StartAt": "Work",
        "States": {
            "Work": {"Type": "Task", "Resource": activity, "TimeoutSeconds": 60,
                     "HeartbeatSeconds": 10, "ResultPath": "$", "Next": "More"},
            "More": {"Type": "Choice",
                     "Choices": [{"Variable": "$.n", "NumericLessThan": iterations, "Next": "Work"}],
                     "Default": "Done"},
            "Done": {"Type": "Succeed"}
        }
    })
}

/// Records the history on an engine in a scratch directory, then replays it `rounds` times.
pub async fn run(rounds: usize, events: usize) -> anyhow::Result<ReplayBench> {
    let dir = std::env::temp_dir().join(format!("turnflow-bench-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("failed to create {}", dir.display()))?;
    let recorded = record(&dir, events).await;
    let _ = std::fs::remove_dir_all(&dir);
    let (definition, input, history) = recorded?;
    let machine = Arc::new(
        asl::from_value(&definition).map_err(|d| anyhow::anyhow!("bench definition: {d}"))?,
    );
    let recording = Recording::new(&history);
    let options = ReplayOptions::default();
    let mut times = Vec::with_capacity(rounds);
    let mut identical = true;
    for _ in 0..rounds.max(1) {
        let t0 = Instant::now();
        let out = replay(
            Arc::clone(&machine),
            &input,
            &recording,
            &options,
            &mut NoLive,
        )?;
        times.push(t0.elapsed());
        identical &= out.divergence.is_none();
    }
    times.sort();
    Ok(ReplayBench {
        events: history.len(),
        rounds: times,
        identical,
    })
}

async fn record(
    dir: &std::path::Path,
    events: usize,
) -> anyhow::Result<(Value, Value, Vec<Value>)> {
    let mut config = EngineConfig::new(dir.join("journal.db"));
    config.durability = Durability::Process;
    let engine = Engine::open(config)?;
    engine.register_activity(
        "bench-step",
        Handler::new(|input: Value| async move {
            let n = input.get("n").and_then(Value::as_u64).unwrap_or(0);
            Ok(json!({"n": n + 1, "note": "a step result fed back on replay"}))
        }),
    );
    let activity = engine.create_activity("bench-step").await?.activity_arn;
    let iterations = (events.saturating_sub(4) / PER_ITERATION).max(1);
    let definition = definition(&activity, iterations);
    let sm = engine
        .create_state_machine(
            "bench-replay",
            &definition.to_string(),
            "arn:aws:iam::123456789012:role/turnflow",
        )
        .await?;
    let input = json!({"n": 0});
    let started = engine
        .start_execution(
            &sm.state_machine_arn,
            Some("bench"),
            Some(&input.to_string()),
        )
        .await?;
    let done = engine.wait_for_execution(&started.execution_arn).await?;
    anyhow::ensure!(
        done.status == "SUCCEEDED",
        "the bench loop ended {}",
        done.status
    );
    let mut history = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = engine
            .get_execution_history(&started.execution_arn, Some(1000), false, token.as_deref())
            .await?;
        history.extend(page.items);
        match page.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    engine.shutdown().await;
    Ok((definition, input, history))
}
