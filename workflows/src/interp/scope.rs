//! Runs: the top-level execution, a Parallel branch or a Map iteration, each a machine being
//! walked state by state with its own variable scope.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::errors::StateError;
use super::event::{Millis, ResourceKind};

/// Index of a run in the interpreter's arena.
pub type RunId = usize;

/// One step down from a machine to a nested one: the state, and which branch of it
/// (always 0 for a Map's item processor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// The Parallel or Map state.
    pub state: String,
    /// The branch index.
    pub branch: usize,
}

/// A machine being walked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// The Parallel or Map run this one belongs to.
    pub parent: Option<RunId>,
    /// The branch or item index in the parent.
    pub index: usize,
    /// Where the machine is in the definition.
    pub machine: Vec<Segment>,
    /// The prefix of state paths in this run (`Outer/Map[2]/`).
    pub prefix: String,
    /// Variables assigned in this run (inner runs read outer ones but assign their own).
    pub vars: IndexMap<String, Value>,
    /// Where the run is.
    pub status: RunStatus,
    /// How many times each state was entered, for idempotency keys.
    pub visits: IndexMap<String, u32>,
    /// The id of the last history event of this run.
    pub last_event: u64,
    /// A distributed Map iteration: it runs as a child execution, so its events are not
    /// part of this execution's history.
    #[serde(default)]
    pub silent: bool,
}

/// Where a run is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RunStatus {
    /// Created, not started yet (a Map iteration waiting for a concurrency slot).
    Pending,
    /// In a state.
    Active(Box<Active>),
    /// Ended with this output.
    Succeeded(Value),
    /// Ended with this error.
    Failed(StateError),
    /// Stopped because a sibling failed or the execution stopped.
    Aborted,
}

/// The state a run is in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Active {
    /// The state's name.
    pub name: String,
    /// The raw state input.
    pub input: Value,
    /// When it was entered.
    pub entered_at: Millis,
    /// The id of its `…StateEntered` event.
    pub entered_id: u64,
    /// Retries done so far, per retrier.
    pub retries: Vec<u32>,
    /// Retries done so far in total (`$$.State.RetryCount`).
    pub retry_count: u32,
    /// What it waits for.
    pub phase: Phase,
}

/// What a state waits for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Phase {
    /// Nothing: it is being evaluated.
    Running,
    /// A task's result.
    Task {
        /// The task.
        task_id: String,
        /// The resource kind (decides the history event names).
        kind: ResourceKind,
        /// Whether its `…Started` event was recorded.
        started: bool,
        /// The task token, for `.waitForTaskToken`.
        token: Option<String>,
    },
    /// A Wait state's timer.
    Wait {
        /// The timer.
        timer_id: String,
        /// The output once the timer fires.
        output: Value,
        /// The variables to assign then.
        assigned: Vec<(String, Value)>,
    },
    /// The interval before a retry.
    Backoff {
        /// The timer.
        timer_id: String,
    },
    /// Parallel branches or Map iterations.
    Children(Box<Children>),
}

/// The branches of a Parallel state or the iterations of a Map state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Children {
    /// True for a Map state.
    pub is_map: bool,
    /// The child runs, in branch or item order (`None`: not created yet).
    pub runs: Vec<Option<RunId>>,
    /// The inputs of the children not created yet (Map items).
    pub inputs: Vec<Value>,
    /// How many were started.
    pub started: usize,
    /// How many are running.
    pub running: usize,
    /// How many failed.
    pub failed: usize,
    /// How many ended.
    pub done: usize,
    /// At most this many at once (0 = no limit).
    pub max_concurrency: usize,
    /// Failures tolerated (Map).
    pub tolerated_count: Option<u64>,
    /// Failure percentage tolerated (Map).
    pub tolerated_percentage: Option<f64>,
}
