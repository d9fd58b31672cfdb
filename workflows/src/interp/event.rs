//! What goes into the interpreter (events) and what comes out (commands).
//!
//! Every event carries its time: the interpreter never reads a clock. Times are
//! milliseconds since the Unix epoch, UTC.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Milliseconds since the Unix epoch (UTC).
pub type Millis = i64;

/// Who and what the execution is: the fields of `$$.Execution` and `$$.StateMachine`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ExecutionInfo {
    /// The execution's name (`$$.Execution.Name`).
    pub name: String,
    /// The execution's ARN (`$$.Execution.Id`).
    pub arn: String,
    /// The state machine's ARN (`$$.StateMachine.Id`).
    pub state_machine_arn: String,
    /// The state machine's name (`$$.StateMachine.Name`).
    pub state_machine_name: String,
    /// The role the execution runs as (`$$.Execution.RoleArn`).
    pub role_arn: String,
    /// How many times the execution was redriven (`$$.Execution.RedriveCount`).
    pub redrive_count: u32,
}

/// How a task ended, as reported by the worker or by a task-token answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TaskOutcome {
    /// The task returned this result.
    Succeeded(Value),
    /// The task failed with this error name and cause.
    Failed {
        /// The error name (`None` is reported as `null`).
        error: Option<String>,
        /// The cause.
        cause: Option<String>,
    },
}

/// An input of the interpreter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// The execution starts with this input. Must be the first event.
    ExecutionStarted {
        /// When.
        at: Millis,
        /// The execution input.
        input: Value,
        /// Names and ARNs.
        execution: ExecutionInfo,
        /// The seed of every random draw (UUIDs, `States.MathRandom`, retry jitter).
        seed: u64,
    },
    /// A worker picked up a scheduled task (optional: a result implies it).
    TaskStarted {
        /// When.
        at: Millis,
        /// The task, as scheduled.
        task_id: String,
        /// The worker's name, when it gave one (activities).
        worker_name: Option<String>,
    },
    /// The call that starts a `.sync` or `.waitForTaskToken` task returned: the task is
    /// submitted and now waits for its job or its token.
    TaskSubmitted {
        /// When.
        at: Millis,
        /// The task.
        task_id: String,
        /// The service's response to the call.
        output: Value,
    },
    /// A scheduled task ended (for `.waitForTaskToken`, the answer to its token).
    TaskCompleted {
        /// When.
        at: Millis,
        /// The task, as scheduled.
        task_id: String,
        /// Its result or error.
        outcome: TaskOutcome,
    },
    /// A task token was answered (`SendTaskSuccess` / `SendTaskFailure`).
    TokenAnswered {
        /// When.
        at: Millis,
        /// The token, as handed out in [`TaskRequest::task_token`].
        token: String,
        /// The answer.
        outcome: TaskOutcome,
    },
    /// A task ran past its `TimeoutSeconds` (`States.Timeout`).
    TaskTimedOut {
        /// When.
        at: Millis,
        /// The task.
        task_id: String,
    },
    /// A task sent no heartbeat for `HeartbeatSeconds` (`States.HeartbeatTimeout`).
    HeartbeatTimedOut {
        /// When.
        at: Millis,
        /// The task.
        task_id: String,
    },
    /// A timer started by [`Command::StartTimer`] fired.
    TimerFired {
        /// When.
        at: Millis,
        /// The timer.
        timer_id: String,
    },
    /// `StopExecution`: the execution is aborted.
    StopRequested {
        /// When.
        at: Millis,
        /// The error given to StopExecution.
        error: Option<String>,
        /// The cause given to StopExecution.
        cause: Option<String>,
    },
}

impl Event {
    /// When the event happened.
    pub fn at(&self) -> Millis {
        match self {
            Event::ExecutionStarted { at, .. }
            | Event::TaskStarted { at, .. }
            | Event::TaskSubmitted { at, .. }
            | Event::TaskCompleted { at, .. }
            | Event::TokenAnswered { at, .. }
            | Event::TaskTimedOut { at, .. }
            | Event::HeartbeatTimedOut { at, .. }
            | Event::TimerFired { at, .. }
            | Event::StopRequested { at, .. } => *at,
        }
    }
}

/// What kind of worker a task resource names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceKind {
    /// `arn:aws:states:…:activity:NAME`.
    Activity,
    /// `arn:aws:lambda:…:function:NAME` (the legacy direct form).
    LambdaFunction,
    /// `arn:aws:states:::SERVICE:ACTION[.sync|.waitForTaskToken]`.
    Service,
}

/// A task to perform: the payload of [`Command::ScheduleTask`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRequest {
    /// Unique in the execution; name it in the result event.
    pub task_id: String,
    /// Stable across replays and retries of the same attempt: execution, state path, visit
    /// and attempt. Give it to side-effecting backends.
    pub idempotency_key: String,
    /// The state, as a path from the top (`Outer/Map[2]/Inner`).
    pub state_path: String,
    /// The `Resource` ARN as written.
    pub resource: String,
    /// What kind of resource it is.
    pub kind: ResourceKind,
    /// The effective parameters (after InputPath and Parameters, or Arguments).
    pub input: Value,
    /// `TimeoutSeconds`: report [`Event::TaskTimedOut`] when it is exceeded.
    pub timeout_seconds: Option<u64>,
    /// `HeartbeatSeconds`: report [`Event::HeartbeatTimedOut`] when it is exceeded.
    pub heartbeat_seconds: Option<u64>,
    /// The task token (`$$.Task.Token`) for `.waitForTaskToken` resources: the task ends
    /// when the token is answered, not when the call returns.
    pub task_token: Option<String>,
    /// 0 for the first attempt, then 1, 2… for retries.
    pub attempt: u32,
}

/// How the execution ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    /// `SUCCEEDED` with this output.
    Succeeded(Value),
    /// `FAILED` with this error and cause.
    Failed {
        /// The error name.
        error: Option<String>,
        /// The cause.
        cause: Option<String>,
    },
    /// `TIMED_OUT`: the machine's `TimeoutSeconds` passed.
    TimedOut,
    /// `ABORTED` by StopExecution.
    Aborted {
        /// The error given to StopExecution.
        error: Option<String>,
        /// The cause given to StopExecution.
        cause: Option<String>,
    },
}

/// An effect for the runtime to perform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Run a task; answer with [`Event::TaskCompleted`] (or a token answer).
    ScheduleTask(TaskRequest),
    /// Stop waiting for a task (its state was aborted); its result will be ignored.
    CancelTask {
        /// The task.
        task_id: String,
    },
    /// Send [`Event::TimerFired`] at `fire_at`.
    StartTimer {
        /// The timer.
        timer_id: String,
        /// When to fire.
        fire_at: Millis,
    },
    /// A timer is no longer needed.
    CancelTimer {
        /// The timer.
        timer_id: String,
    },
    /// The execution is over.
    Finish(Outcome),
}
