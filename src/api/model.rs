//! The requests and responses of the Step Functions API, as AWS writes them on the wire.
//!
//! Field names are AWS's (`stateMachineArn`, `executionArn`, `nextToken`, …); timestamps are
//! [`Timestamp`]s, which travel as epoch seconds with a fraction, as the AWS JSON 1.0 protocol
//! wants. Optional fields are left out of a response when they are `None`, as AWS does, so
//! botocore and the Rust SDK parse every response with their own models.
//!
//! Requests are lenient about fields they do not know (AWS ignores them too); a missing required
//! field or a value of the wrong type is refused by the server before the engine sees it, with a
//! `ValidationException` or `SerializationException` naming the field. The constraints the
//! service documents for each field (lengths, ranges) are checked by [`Validate`], also before
//! the engine sees the request; what needs the engine's state (a name already used, an unknown
//! ARN) is the engine's to check.

use serde::de::Error as _;
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::service::ApiError;

/// A point in time: milliseconds since the Unix epoch (UTC), written as epoch seconds with a
/// fraction (`1718000000.123`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The time `millis` milliseconds after the epoch.
    pub fn from_millis(millis: i64) -> Timestamp {
        Timestamp(millis)
    }

    /// The time `seconds` after the epoch, rounded to the millisecond (`None` when not finite).
    pub fn from_seconds(seconds: f64) -> Option<Timestamp> {
        if !seconds.is_finite() {
            return None;
        }
        #[expect(clippy::cast_possible_truncation, reason = "rounded to whole ms")]
        let millis = (seconds * 1000.0).round() as i64;
        Some(Timestamp(millis))
    }

    /// Milliseconds since the epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// Seconds since the epoch, with a fraction.
    pub fn seconds(self) -> f64 {
        // Millisecond times fit an f64 exactly for the next 285,000 years.
        #[expect(clippy::cast_precision_loss, reason = "exact below 2^53 ms")]
        let millis = self.0 as f64;
        millis / 1000.0
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 % 1000 == 0 {
            s.serialize_i64(self.0 / 1000)
        } else {
            s.serialize_f64(self.seconds())
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let seconds = f64::deserialize(d)?;
        Timestamp::from_seconds(seconds)
            .ok_or_else(|| D::Error::custom("timestamp is not a finite number"))
    }
}

/// `STANDARD` or `EXPRESS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StateMachineType {
    /// Durable, exactly-once, with a history (the only type the embedded engine runs).
    #[default]
    Standard,
    /// At-least-once, short-lived.
    Express,
}

/// `ACTIVE` or `DELETING`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StateMachineStatus {
    /// Usable.
    Active,
    /// Deleted; running executions finish, no new one starts.
    Deleting,
}

/// An execution's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    /// Running.
    Running,
    /// Ended with an output.
    Succeeded,
    /// Ended with an error.
    Failed,
    /// The state machine's `TimeoutSeconds` passed.
    TimedOut,
    /// Stopped by `StopExecution`.
    Aborted,
    /// Redriven, not yet running again.
    PendingRedrive,
}

impl ExecutionStatus {
    /// The name AWS uses (`RUNNING`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Running => "RUNNING",
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
            ExecutionStatus::PendingRedrive => "PENDING_REDRIVE",
        }
    }
}

/// Whether an execution can be redriven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RedriveStatus {
    /// `RedriveExecution` would restart it.
    Redrivable,
    /// It cannot be redriven (see `redriveStatusReason`).
    NotRedrivable,
    /// Only its Map Run can be redriven.
    RedrivableByMapRun,
}

/// `ListExecutions`' `redriveFilter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionRedriveFilter {
    /// Executions redriven at least once.
    Redriven,
    /// Executions never redriven.
    NotRedriven,
}

/// `includedData` of the Describe operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IncludedData {
    /// Everything (the default).
    #[default]
    AllData,
    /// Leave out the definition, input and output.
    MetadataOnly,
}

/// A resource tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    /// The key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `loggingConfiguration`: accepted and kept; the embedded engine logs through tracing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct LoggingConfiguration {
    /// `ALL`, `ERROR`, `FATAL` or `OFF`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Whether execution data is logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_execution_data: Option<bool>,
    /// Log destinations, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destinations: Option<Vec<Value>>,
}

/// `tracingConfiguration`: accepted and kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct TracingConfiguration {
    /// Whether X-Ray tracing is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `encryptionConfiguration`: accepted and kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionConfiguration {
    /// The KMS key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// How long a data key is reused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_data_key_reuse_period_seconds: Option<i64>,
    /// `AWS_OWNED_KEY` or `CUSTOMER_MANAGED_KMS_KEY`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub encryption_type: Option<String>,
}

/// `{"included": bool}` of DescribeExecution's `inputDetails` / `outputDetails`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CloudWatchEventsExecutionDataDetails {
    /// Whether the data is in the response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub included: Option<bool>,
}

// ---------------------------------------------------------------------------------------------
// State machines

/// `CreateStateMachine`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateStateMachineInput {
    /// The name (1–80 characters, no whitespace, wildcards or control characters).
    pub name: String,
    /// The ASL definition, as JSON text.
    pub definition: String,
    /// The IAM role (kept, never assumed locally).
    pub role_arn: String,
    /// `STANDARD` (the default) or `EXPRESS`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub machine_type: Option<StateMachineType>,
    /// Logging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging_configuration: Option<LoggingConfiguration>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    /// Tracing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing_configuration: Option<TracingConfiguration>,
    /// Also publish version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<bool>,
    /// The description of the published version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_description: Option<String>,
    /// Encryption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_configuration: Option<EncryptionConfiguration>,
}

/// `CreateStateMachine`'s response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateStateMachineOutput {
    /// The new state machine.
    pub state_machine_arn: String,
    /// When it was created.
    pub creation_date: Timestamp,
    /// The published version, when `publish` was true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
}

/// `UpdateStateMachine`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStateMachineInput {
    /// The state machine (not a version).
    pub state_machine_arn: String,
    /// A new definition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    /// A new role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// New logging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging_configuration: Option<LoggingConfiguration>,
    /// New tracing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing_configuration: Option<TracingConfiguration>,
    /// Also publish the result as a new version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<bool>,
    /// The description of the published version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_description: Option<String>,
    /// New encryption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_configuration: Option<EncryptionConfiguration>,
}

/// `UpdateStateMachine`'s response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStateMachineOutput {
    /// When it was updated.
    pub update_date: Timestamp,
    /// The new revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    /// The published version, when `publish` was true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
}

/// `DescribeStateMachine`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeStateMachineInput {
    /// A state machine or a version (`…:stateMachine:NAME:3`).
    pub state_machine_arn: String,
    /// Whether to include the definition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included_data: Option<IncludedData>,
}

/// `DescribeStateMachine`'s response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeStateMachineOutput {
    /// The ARN asked about (a version's when a version was asked about).
    pub state_machine_arn: String,
    /// The name.
    pub name: String,
    /// `ACTIVE` or `DELETING`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StateMachineStatus>,
    /// The definition (JSON text).
    pub definition: String,
    /// The role.
    pub role_arn: String,
    /// The type.
    #[serde(rename = "type")]
    pub machine_type: StateMachineType,
    /// When it was created (for a version: when the version was published).
    pub creation_date: Timestamp,
    /// Logging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging_configuration: Option<LoggingConfiguration>,
    /// Tracing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing_configuration: Option<TracingConfiguration>,
    /// A label, for a Map Run's machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The current revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    /// The version's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Encryption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_configuration: Option<EncryptionConfiguration>,
}

/// `ListStateMachines`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListStateMachinesInput {
    /// Page size, 0–1000 (0: the service's default, 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
    /// Where the last page stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// One state machine in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateMachineListItem {
    /// The ARN.
    pub state_machine_arn: String,
    /// The name.
    pub name: String,
    /// The type.
    #[serde(rename = "type")]
    pub machine_type: StateMachineType,
    /// When it was created.
    pub creation_date: Timestamp,
}

/// `ListStateMachines`' response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListStateMachinesOutput {
    /// The page, by name.
    pub state_machines: Vec<StateMachineListItem>,
    /// More follow when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `DeleteStateMachine`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteStateMachineInput {
    /// The state machine.
    pub state_machine_arn: String,
}

/// `PublishStateMachineVersion`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishStateMachineVersionInput {
    /// The state machine.
    pub state_machine_arn: String,
    /// Publish only if the current revision is this one (`ConflictException` otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    /// The version's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `PublishStateMachineVersion`'s response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishStateMachineVersionOutput {
    /// When the version was published.
    pub creation_date: Timestamp,
    /// `…:stateMachine:NAME:N`.
    pub state_machine_version_arn: String,
}

/// `ListStateMachineVersions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListStateMachineVersionsInput {
    /// The state machine.
    pub state_machine_arn: String,
    /// Where the last page stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Page size, 0–1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
}

/// One version in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateMachineVersionListItem {
    /// `…:stateMachine:NAME:N`.
    pub state_machine_version_arn: String,
    /// When it was published.
    pub creation_date: Timestamp,
}

/// `ListStateMachineVersions`' response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListStateMachineVersionsOutput {
    /// The page, newest version first.
    pub state_machine_versions: Vec<StateMachineVersionListItem>,
    /// More follow when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `DeleteStateMachineVersion`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteStateMachineVersionInput {
    /// `…:stateMachine:NAME:N`.
    pub state_machine_version_arn: String,
}

// ---------------------------------------------------------------------------------------------
// Activities

/// `CreateActivity` (idempotent: the same name gives the same activity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateActivityInput {
    /// The name (1–80 characters).
    pub name: String,
    /// Tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    /// Encryption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_configuration: Option<EncryptionConfiguration>,
}

/// `CreateActivity`'s response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateActivityOutput {
    /// `arn:aws:states:REGION:ACCOUNT:activity:NAME`.
    pub activity_arn: String,
    /// When it was created.
    pub creation_date: Timestamp,
}

/// `DescribeActivity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeActivityInput {
    /// The activity.
    pub activity_arn: String,
}

/// `DescribeActivity`'s response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeActivityOutput {
    /// The activity.
    pub activity_arn: String,
    /// Its name.
    pub name: String,
    /// When it was created.
    pub creation_date: Timestamp,
    /// Encryption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_configuration: Option<EncryptionConfiguration>,
}

/// `ListActivities`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListActivitiesInput {
    /// Page size, 0–1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
    /// Where the last page stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// One activity in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityListItem {
    /// The activity.
    pub activity_arn: String,
    /// Its name.
    pub name: String,
    /// When it was created.
    pub creation_date: Timestamp,
}

/// `ListActivities`' response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListActivitiesOutput {
    /// The page.
    pub activities: Vec<ActivityListItem>,
    /// More follow when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `DeleteActivity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteActivityInput {
    /// The activity.
    pub activity_arn: String,
}

// ---------------------------------------------------------------------------------------------
// Executions

/// `StartExecution`: idempotent by name — the same name and input while the execution is open
/// (AWS: or within 90 days for a closed one) returns the same execution; another input gives
/// `ExecutionAlreadyExists`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartExecutionInput {
    /// The state machine, a version (`…:NAME:3`) or an alias.
    pub state_machine_arn: String,
    /// The execution's name (1–80 characters); a UUID when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The input, as JSON text (`{}` when absent); at most 256 KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The X-Ray trace header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_header: Option<String>,
}

/// `StartExecution`'s response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartExecutionOutput {
    /// `arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME`.
    pub execution_arn: String,
    /// When it started.
    pub start_date: Timestamp,
}

/// `DescribeExecution`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeExecutionInput {
    /// The execution.
    pub execution_arn: String,
    /// Whether to include the input and output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included_data: Option<IncludedData>,
}

/// `DescribeExecution`'s response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeExecutionOutput {
    /// The execution.
    pub execution_arn: String,
    /// Its state machine (the unversioned ARN).
    pub state_machine_arn: String,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its status.
    pub status: ExecutionStatus,
    /// When it started.
    pub start_date: Timestamp,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_date: Option<Timestamp>,
    /// Its input (JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// Whether the input is included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_details: Option<CloudWatchEventsExecutionDataDetails>,
    /// Its output (JSON text), when it succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Whether the output is included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_details: Option<CloudWatchEventsExecutionDataDetails>,
    /// The X-Ray trace header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_header: Option<String>,
    /// The Map Run it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_run_arn: Option<String>,
    /// The error, when it failed or was stopped with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// The version it was started with, if started from a version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
    /// The alias it was started with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_machine_alias_arn: Option<String>,
    /// How many times it was redriven.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_count: Option<i32>,
    /// When it was last redriven.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_date: Option<Timestamp>,
    /// Whether it can be redriven.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_status: Option<RedriveStatus>,
    /// Why not, when it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_status_reason: Option<String>,
}

/// `ListExecutions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListExecutionsInput {
    /// The state machine (or a version: its executions only). One of this and `mapRunArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_machine_arn: Option<String>,
    /// Only executions with this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_filter: Option<ExecutionStatus>,
    /// Page size, 0–1000 (0: 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
    /// Where the last page stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// The executions of a Map Run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_run_arn: Option<String>,
    /// Only redriven, or only never-redriven, executions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_filter: Option<ExecutionRedriveFilter>,
}

/// One execution in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionListItem {
    /// The execution.
    pub execution_arn: String,
    /// Its state machine.
    pub state_machine_arn: String,
    /// Its name.
    pub name: String,
    /// Its status.
    pub status: ExecutionStatus,
    /// When it started.
    pub start_date: Timestamp,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_date: Option<Timestamp>,
    /// The Map Run it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_run_arn: Option<String>,
    /// For a Map Run's child workflow: items it processed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_count: Option<i32>,
    /// The version it was started with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
    /// The alias it was started with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_machine_alias_arn: Option<String>,
    /// How many times it was redriven.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_count: Option<i32>,
    /// When it was last redriven.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_date: Option<Timestamp>,
}

/// `ListExecutions`' response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListExecutionsOutput {
    /// The page, newest first.
    pub executions: Vec<ExecutionListItem>,
    /// More follow when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `GetExecutionHistory`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetExecutionHistoryInput {
    /// The execution.
    pub execution_arn: String,
    /// Page size, 0–1000 (0: 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
    /// Newest event first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse_order: Option<bool>,
    /// Where the last page stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Include inputs, outputs and results in the details (default true); when false every
    /// payload field is left out and its `…Details` says `included: false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_execution_data: Option<bool>,
}

/// One history event: `id`, `previousEventId`, `timestamp`, `type` and at most one
/// `…EventDetails` member (named after the type, e.g. `taskScheduledEventDetails`).
///
/// The details are kept as the JSON AWS writes (the engine's interpreter produces exactly that),
/// and written beside the fixed fields without `#[serde(flatten)]`.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    /// 1-based position in the history.
    pub id: i64,
    /// The event this one follows from (0 for none, left out on the wire).
    pub previous_event_id: i64,
    /// When.
    pub timestamp: Timestamp,
    /// `ExecutionStarted`, `TaskStateEntered`, …
    pub event_type: String,
    /// The `…EventDetails` member name and value, when the type has details.
    pub details: Option<(String, Value)>,
}

impl Serialize for HistoryEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("timestamp", &self.timestamp)?;
        m.serialize_entry("type", &self.event_type)?;
        m.serialize_entry("id", &self.id)?;
        if self.previous_event_id != 0 {
            m.serialize_entry("previousEventId", &self.previous_event_id)?;
        }
        if let Some((key, value)) = &self.details {
            m.serialize_entry(key, value)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for HistoryEvent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<HistoryEvent, D::Error> {
        let mut map = Map::<String, Value>::deserialize(d)?;
        let id = map
            .remove("id")
            .and_then(|v| v.as_i64())
            .ok_or_else(|| D::Error::missing_field("id"))?;
        let previous_event_id = map
            .remove("previousEventId")
            .and_then(|v| v.as_i64())
            .unwrap_or(0);
        let timestamp = match map.remove("timestamp") {
            Some(v) => Timestamp::deserialize(v).map_err(D::Error::custom)?,
            None => return Err(D::Error::missing_field("timestamp")),
        };
        let event_type = match map.remove("type") {
            Some(Value::String(t)) => t,
            _ => return Err(D::Error::missing_field("type")),
        };
        let details = map.into_iter().find(|(k, _)| k.ends_with("EventDetails"));
        Ok(HistoryEvent {
            id,
            previous_event_id,
            timestamp,
            event_type,
            details,
        })
    }
}

/// `GetExecutionHistory`'s response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct GetExecutionHistoryOutput {
    /// The page of events.
    pub events: Vec<HistoryEvent>,
    /// More follow when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `StopExecution`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopExecutionInput {
    /// The execution.
    pub execution_arn: String,
    /// The error to record (up to 256 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The cause to record (up to 32,768 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// `StopExecution`'s response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopExecutionOutput {
    /// When it stopped.
    pub stop_date: Timestamp,
}

/// `RedriveExecution`: restart a failed, timed-out or aborted execution from the state that did
/// not finish, with the definition version it started with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedriveExecutionInput {
    /// The execution.
    pub execution_arn: String,
    /// Idempotency token (1–64 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
}

/// `RedriveExecution`'s response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedriveExecutionOutput {
    /// When the redrive happened.
    pub redrive_date: Timestamp,
}

// ---------------------------------------------------------------------------------------------
// Tasks

/// `GetActivityTask`: a long poll (up to 60 s on AWS; the server allows 65 s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetActivityTaskInput {
    /// The activity.
    pub activity_arn: String,
    /// The worker's name, recorded in `ActivityStarted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_name: Option<String>,
}

/// `GetActivityTask`'s response: both fields absent when no task came within the poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct GetActivityTaskOutput {
    /// The token to answer with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_token: Option<String>,
    /// The task's input (JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
}

/// `SendTaskSuccess`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendTaskSuccessInput {
    /// The token.
    pub task_token: String,
    /// The task's result (JSON text, at most 256 KiB).
    pub output: String,
}

/// `SendTaskFailure`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendTaskFailureInput {
    /// The token.
    pub task_token: String,
    /// The error name (up to 256 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The cause (up to 32,768 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// `SendTaskHeartbeat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendTaskHeartbeatInput {
    /// The token.
    pub task_token: String,
}

/// The empty response of the operations that return nothing (`{}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Empty {}

// ---------------------------------------------------------------------------------------------
// Constraints checked before the engine sees a request

/// The documented constraints of a request's fields; the server checks them before calling
/// the engine, so an engine may rely on them.
pub trait Validate {
    /// `ValidationException` naming the first field that breaks its constraint.
    fn validate(&self) -> Result<(), ApiError>;
}

/// The largest payload (input, output) AWS accepts: 256 KiB.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

fn length(field: &str, value: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: \
             Member must have length between {min} and {max}"
        )));
    }
    Ok(())
}

fn opt_length(field: &str, value: Option<&String>, min: usize, max: usize) -> Result<(), ApiError> {
    value.map_or(Ok(()), |v| length(field, v, min, max))
}

fn max_results(value: Option<i32>) -> Result<(), ApiError> {
    match value {
        Some(n) if !(0..=1000).contains(&n) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy \
             constraint: Member must have value between 0 and 1000"
        ))),
        _ => Ok(()),
    }
}

fn payload(field: &str, value: Option<&String>) -> Result<(), ApiError> {
    match value {
        Some(v) if v.len() > MAX_PAYLOAD_BYTES => Err(ApiError::validation(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: \
             Member must have length less than or equal to {MAX_PAYLOAD_BYTES}"
        ))),
        _ => Ok(()),
    }
}

const ARN: (usize, usize) = (1, 256);
const TOKEN: (usize, usize) = (1, 2048);
const NEXT_TOKEN: (usize, usize) = (1, 1024);

impl Validate for CreateStateMachineInput {
    fn validate(&self) -> Result<(), ApiError> {
        length("name", &self.name, 1, 80)?;
        length("definition", &self.definition, 1, 1_048_576)?;
        length("roleArn", &self.role_arn, ARN.0, ARN.1)?;
        opt_length(
            "versionDescription",
            self.version_description.as_ref(),
            0,
            256,
        )
    }
}

impl Validate for UpdateStateMachineInput {
    fn validate(&self) -> Result<(), ApiError> {
        length("stateMachineArn", &self.state_machine_arn, ARN.0, ARN.1)?;
        opt_length("definition", self.definition.as_ref(), 1, 1_048_576)?;
        opt_length("roleArn", self.role_arn.as_ref(), ARN.0, ARN.1)?;
        opt_length(
            "versionDescription",
            self.version_description.as_ref(),
            0,
            256,
        )
    }
}

impl Validate for DescribeStateMachineInput {
    fn validate(&self) -> Result<(), ApiError> {
        length("stateMachineArn", &self.state_machine_arn, ARN.0, ARN.1)
    }
}

impl Validate for ListStateMachinesInput {
    fn validate(&self) -> Result<(), ApiError> {
        max_results(self.max_results)?;
        opt_length(
            "nextToken",
            self.next_token.as_ref(),
            NEXT_TOKEN.0,
            NEXT_TOKEN.1,
        )
    }
}

impl Validate for DeleteStateMachineInput {
    fn validate(&self) -> Result<(), ApiError> {
        length("stateMachineArn", &self.state_machine_arn, ARN.0, ARN.1)
    }
}

impl Validate for PublishStateMachineVersionInput {
    fn validate(&self) -> Result<(), ApiError> {
        length("stateMachineArn", &self.state_machine_arn, ARN.0, ARN.1)?;
        opt_length("description", self.description.as_ref(), 0, 256)
    }
}

impl Validate for ListStateMachineVersionsInput {
    fn validate(&self) -> Result<(), ApiError> {
        length("stateMachineArn", &self.state_machine_arn, ARN.0, ARN.1)?;
        max_results(self.max_results)?;
        opt_length(
            "nextToken",
            self.next_token.as_ref(),
            NEXT_TOKEN.0,
            NEXT_TOKEN.1,
        )
    }
}

impl Validate for DeleteStateMachineVersionInput {
    fn validate(&self) -> Result<(), ApiError> {
        length(
            "stateMachineVersionArn",
            &self.state_machine_version_arn,
            ARN.0,
            ARN.1,
        )
    }
}

impl Validate for CreateActivityInput {
    fn validate(&self) -> Result<(), ApiError> {
        length("name", &self.name, 1, 80)
    }
}

impl Validate for DescribeActivityInput {
    fn validate(&self) -> Result<(), ApiError> {
        length("activityArn", &self.activity_arn, ARN.0, ARN.1)
    }
}

impl Validate for ListActivitiesInput {
    fn validate(&self) -> Result<(), ApiError> {
        max_results(self.max_results)?;
        opt_length(
            "nextToken",
            self.next_token.as_ref(),
            NEXT_TOKEN.0,
            NEXT_TOKEN.1,
        )
    }
}

impl Validate for DeleteActivityInput {
    fn validate(&self) -> Result<(), ApiError> {
        length("activityArn", &self.activity_arn, ARN.0, ARN.1)
    }
}

impl Validate for StartExecutionInput {
    fn validate(&self) -> Result<(), ApiError> {
        length("stateMachineArn", &self.state_machine_arn, ARN.0, ARN.1)?;
        opt_length("name", self.name.as_ref(), 1, 80)?;
        payload("input", self.input.as_ref())?;
        opt_length("traceHeader", self.trace_header.as_ref(), 0, 256)
    }
}

impl Validate for DescribeExecutionInput {
    fn validate(&self) -> Result<(), ApiError> {
        length("executionArn", &self.execution_arn, ARN.0, ARN.1)
    }
}

impl Validate for ListExecutionsInput {
    fn validate(&self) -> Result<(), ApiError> {
        opt_length(
            "stateMachineArn",
            self.state_machine_arn.as_ref(),
            ARN.0,
            ARN.1,
        )?;
        opt_length("mapRunArn", self.map_run_arn.as_ref(), 1, 2000)?;
        if self.state_machine_arn.is_some() == self.map_run_arn.is_some() {
            return Err(ApiError::validation(
                "1 validation error detected: exactly one of 'stateMachineArn' and 'mapRunArn' \
                 must be given",
            ));
        }
        max_results(self.max_results)?;
        opt_length("nextToken", self.next_token.as_ref(), NEXT_TOKEN.0, 3096)
    }
}

impl Validate for GetExecutionHistoryInput {
    fn validate(&self) -> Result<(), ApiError> {
        length("executionArn", &self.execution_arn, ARN.0, ARN.1)?;
        max_results(self.max_results)?;
        opt_length("nextToken", self.next_token.as_ref(), NEXT_TOKEN.0, 3096)
    }
}

impl Validate for StopExecutionInput {
    fn validate(&self) -> Result<(), ApiError> {
        length("executionArn", &self.execution_arn, ARN.0, ARN.1)?;
        opt_length("error", self.error.as_ref(), 0, 256)?;
        opt_length("cause", self.cause.as_ref(), 0, 32_768)
    }
}

impl Validate for RedriveExecutionInput {
    fn validate(&self) -> Result<(), ApiError> {
        length("executionArn", &self.execution_arn, ARN.0, ARN.1)?;
        opt_length("clientToken", self.client_token.as_ref(), 1, 64)
    }
}

impl Validate for GetActivityTaskInput {
    fn validate(&self) -> Result<(), ApiError> {
        length("activityArn", &self.activity_arn, ARN.0, ARN.1)?;
        opt_length("workerName", self.worker_name.as_ref(), 1, 80)
    }
}

impl Validate for SendTaskSuccessInput {
    fn validate(&self) -> Result<(), ApiError> {
        length("taskToken", &self.task_token, TOKEN.0, TOKEN.1)?;
        payload("output", Some(&self.output))
    }
}

impl Validate for SendTaskFailureInput {
    fn validate(&self) -> Result<(), ApiError> {
        length("taskToken", &self.task_token, TOKEN.0, TOKEN.1)?;
        opt_length("error", self.error.as_ref(), 0, 256)?;
        opt_length("cause", self.cause.as_ref(), 0, 32_768)
    }
}

impl Validate for SendTaskHeartbeatInput {
    fn validate(&self) -> Result<(), ApiError> {
        length("taskToken", &self.task_token, TOKEN.0, TOKEN.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_travel_as_epoch_seconds() {
        let t = Timestamp::from_millis(1_718_000_000_123);
        assert_eq!(serde_json::to_value(t).ok(), Some(json!(1_718_000_000.123)));
        let whole = Timestamp::from_millis(1_718_000_000_000);
        assert_eq!(serde_json::to_value(whole).ok(), Some(json!(1_718_000_000)));
        let back: Option<Timestamp> = serde_json::from_value(json!(1_718_000_000.123)).ok();
        assert_eq!(back, Some(t));
    }

    #[test]
    fn history_events_carry_their_details_member() {
        let event = HistoryEvent {
            id: 2,
            previous_event_id: 1,
            timestamp: Timestamp::from_millis(1_500),
            event_type: "TaskStateEntered".into(),
            details: Some((
                "stateEnteredEventDetails".into(),
                json!({"name": "Triage", "input": "{}"}),
            )),
        };
        let wire = serde_json::to_value(&event).ok();
        assert_eq!(
            wire,
            Some(json!({
                "timestamp": 1.5, "type": "TaskStateEntered", "id": 2, "previousEventId": 1,
                "stateEnteredEventDetails": {"name": "Triage", "input": "{}"}
            }))
        );
        let back: Option<HistoryEvent> = wire.and_then(|w| serde_json::from_value(w).ok());
        assert_eq!(back, Some(event));
    }

    #[test]
    fn requests_use_aws_field_names() {
        let req: Result<GetExecutionHistoryInput, _> = serde_json::from_value(json!({
            "executionArn": "arn:x", "maxResults": 10, "reverseOrder": true,
            "includeExecutionData": false, "nextToken": "t"
        }));
        assert!(matches!(
            req,
            Ok(GetExecutionHistoryInput {
                max_results: Some(10),
                reverse_order: Some(true),
                ..
            })
        ));
    }

    #[test]
    fn constraints_name_the_field() {
        let req = StartExecutionInput {
            state_machine_arn: "arn:x".into(),
            name: Some("n".repeat(81)),
            input: None,
            trace_header: None,
        };
        let err = req.validate().err().map(|e| e.message);
        assert!(err.is_some_and(|m| m.contains("'name'")));
        let list = ListExecutionsInput {
            state_machine_arn: Some("arn:x".into()),
            max_results: Some(1001),
            ..ListExecutionsInput::default()
        };
        assert!(list.validate().is_err());
    }
}
