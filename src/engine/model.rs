//! What the engine's operations return, shaped like the Step Functions API's responses
//! (times are milliseconds since the epoch; the API server converts them).

use serde_json::Value;
use turnflow_workflows::interp::Millis;

/// `CreateStateMachine` / `UpdateStateMachine`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateMachineCreated {
    /// `stateMachineArn`.
    pub state_machine_arn: String,
    /// `stateMachineVersionArn`: the version this call made (or found).
    pub state_machine_version_arn: String,
    /// `creationDate` (or `updateDate`).
    pub date: Millis,
}

/// `DescribeStateMachine`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateMachineDescription {
    /// `stateMachineArn` (the version's ARN when a version was described).
    pub state_machine_arn: String,
    /// `name`.
    pub name: String,
    /// `status`: `ACTIVE` or `DELETING`.
    pub status: &'static str,
    /// `definition`.
    pub definition: String,
    /// `roleArn`.
    pub role_arn: String,
    /// `type`: always `STANDARD`.
    pub kind: &'static str,
    /// `creationDate`.
    pub creation_date: Millis,
    /// The version number described (the latest unless a version ARN was given).
    pub version: i64,
}

/// An item of `ListStateMachines`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateMachineListItem {
    /// `stateMachineArn`.
    pub state_machine_arn: String,
    /// `name`.
    pub name: String,
    /// `type`.
    pub kind: &'static str,
    /// `creationDate`.
    pub creation_date: Millis,
}

/// An item of `ListStateMachineVersions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateMachineVersionItem {
    /// `stateMachineVersionArn`.
    pub state_machine_version_arn: String,
    /// `creationDate`.
    pub creation_date: Millis,
}

/// `CreateActivity`, `DescribeActivity`, an item of `ListActivities`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityDescription {
    /// `activityArn`.
    pub activity_arn: String,
    /// `name`.
    pub name: String,
    /// `creationDate`.
    pub creation_date: Millis,
}

/// `StartExecution`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedExecution {
    /// `executionArn`.
    pub execution_arn: String,
    /// `startDate`.
    pub start_date: Millis,
}

/// `DescribeExecution`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionDescription {
    /// `executionArn`.
    pub execution_arn: String,
    /// `stateMachineArn`.
    pub state_machine_arn: String,
    /// `stateMachineVersionArn`: the version the execution is pinned to.
    pub state_machine_version_arn: String,
    /// `name`.
    pub name: String,
    /// `status`: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED.
    pub status: &'static str,
    /// `startDate`.
    pub start_date: Millis,
    /// `stopDate`.
    pub stop_date: Option<Millis>,
    /// `input` (JSON text).
    pub input: String,
    /// `output` (JSON text), when it succeeded.
    pub output: Option<String>,
    /// `error`.
    pub error: Option<String>,
    /// `cause`.
    pub cause: Option<String>,
    /// `redriveCount`.
    pub redrive_count: i64,
    /// `redriveDate`.
    pub redrive_date: Option<Millis>,
    /// `redriveStatus`: REDRIVABLE, NOT_REDRIVABLE.
    pub redrive_status: &'static str,
}

/// An item of `ListExecutions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionListItem {
    /// `executionArn`.
    pub execution_arn: String,
    /// `stateMachineArn`.
    pub state_machine_arn: String,
    /// `name`.
    pub name: String,
    /// `status`.
    pub status: &'static str,
    /// `startDate`.
    pub start_date: Millis,
    /// `stopDate`.
    pub stop_date: Option<Millis>,
    /// `redriveCount`.
    pub redrive_count: i64,
}

/// A page of a list: `nextToken` is opaque, give it back for the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// `nextToken`, when there is more.
    pub next_token: Option<String>,
}

/// `GetExecutionHistory`: events in the AWS JSON form (`id`, `previousEventId`,
/// `timestamp`, `type`, `…EventDetails`).
pub type HistoryPage = Page<Value>;

/// `GetActivityTask` when a task was handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityTask {
    /// `taskToken`: answer with SendTaskSuccess/Failure/Heartbeat.
    pub task_token: String,
    /// `input` (JSON text).
    pub input: String,
}

/// `StopExecution` / `RedriveExecution`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    /// `stopDate` (or `redriveDate`).
    pub date: Millis,
}

/// How an execution ended, for [`super::Engine::wait_for_execution`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`.
    pub status: &'static str,
    /// The output (JSON text), when it succeeded.
    pub output: Option<String>,
    /// The error, when it failed.
    pub error: Option<String>,
}

/// A message of an embedded queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    /// `MessageId` (also the receipt handle: give it to `delete_message`).
    pub message_id: String,
    /// `Body`.
    pub body: String,
    /// When it was sent.
    pub sent: Millis,
    /// `ApproximateReceiveCount`.
    pub receive_count: i64,
}
