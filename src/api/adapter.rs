//! [`StepFunctions`] for the embedded [`Engine`]: the wire model in, the engine's operations,
//! the wire model out.
//!
//! What the engine does not keep is said here rather than faked: logging, tracing and
//! encryption configurations and tags are accepted and not stored (Describe does not return
//! them); `EXPRESS` machines are refused (`StateMachineTypeNotSupported`); Map Runs do not
//! exist (`ListExecutions` by `mapRunArn` is `ResourceNotFound`); a version cannot be deleted
//! (`ValidationException`: versions pin the executions that ran on them). Every update makes
//! a version, so `PublishStateMachineVersion` returns the latest one, and the revision id is
//! the version number.

use std::time::Duration;

use serde_json::{Map, Value};

use super::model::{
    ActivityListItem, CloudWatchEventsExecutionDataDetails, CreateActivityInput,
    CreateActivityOutput, CreateStateMachineInput, CreateStateMachineOutput, DeleteActivityInput,
    DeleteStateMachineInput, DeleteStateMachineVersionInput, DescribeActivityInput,
    DescribeActivityOutput, DescribeExecutionInput, DescribeExecutionOutput,
    DescribeStateMachineInput, DescribeStateMachineOutput, Empty, ExecutionListItem,
    ExecutionRedriveFilter, ExecutionStatus, GetActivityTaskInput, GetActivityTaskOutput,
    GetExecutionHistoryInput, GetExecutionHistoryOutput, HistoryEvent, IncludedData,
    ListActivitiesInput, ListActivitiesOutput, ListExecutionsInput, ListExecutionsOutput,
    ListStateMachineVersionsInput, ListStateMachineVersionsOutput, ListStateMachinesInput,
    ListStateMachinesOutput, PublishStateMachineVersionInput, PublishStateMachineVersionOutput,
    RedriveExecutionInput, RedriveExecutionOutput, RedriveStatus, SendTaskFailureInput,
    SendTaskHeartbeatInput, SendTaskSuccessInput, StartExecutionInput, StartExecutionOutput,
    StateMachineListItem, StateMachineStatus, StateMachineType, StateMachineVersionListItem,
    StopExecutionInput, StopExecutionOutput, Timestamp, UpdateStateMachineInput,
    UpdateStateMachineOutput,
};
use super::service::{ApiError, ApiResult, ErrorCode, StepFunctions};
use crate::engine::{Engine, EngineError};

/// The longest `GetActivityTask` the engine is asked for (AWS's 60 s).
const POLL: Duration = Duration::from_secs(60);

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        let code = match &e {
            EngineError::ExecutionAlreadyExists(_) => ErrorCode::ExecutionAlreadyExists,
            EngineError::ExecutionDoesNotExist(_) => ErrorCode::ExecutionDoesNotExist,
            EngineError::ExecutionNotRedrivable(_) => ErrorCode::ExecutionNotRedrivable,
            EngineError::StateMachineDoesNotExist(_) => ErrorCode::StateMachineDoesNotExist,
            EngineError::StateMachineAlreadyExists(_) => ErrorCode::StateMachineAlreadyExists,
            EngineError::StateMachineDeleting(_) => ErrorCode::StateMachineDeleting,
            EngineError::InvalidDefinition(_) => ErrorCode::InvalidDefinition,
            EngineError::InvalidArn(_) => ErrorCode::InvalidArn,
            EngineError::InvalidName(_) => ErrorCode::InvalidName,
            EngineError::InvalidExecutionInput(_) => ErrorCode::InvalidExecutionInput,
            EngineError::InvalidOutput(_) => ErrorCode::InvalidOutput,
            EngineError::InvalidToken(_) => ErrorCode::InvalidToken,
            EngineError::TaskDoesNotExist(_) => ErrorCode::TaskDoesNotExist,
            EngineError::TaskTimedOut(_) => ErrorCode::TaskTimedOut,
            EngineError::ActivityDoesNotExist(_) => ErrorCode::ActivityDoesNotExist,
            EngineError::ValidationException(_) => ErrorCode::ValidationException,
            EngineError::Journal(_) | EngineError::ShutDown => ErrorCode::InternalFailure,
        };
        if code == ErrorCode::InternalFailure {
            tracing::error!(error = %e, "engine failure");
        }
        ApiError::new(code, e.to_string())
    }
}

fn ts(millis: i64) -> Timestamp {
    Timestamp::from_millis(millis)
}

fn page_size(max_results: Option<i32>) -> Option<usize> {
    max_results.and_then(|n| usize::try_from(n).ok())
}

fn status(name: &str) -> ApiResult<ExecutionStatus> {
    serde_json::from_value(Value::String(name.to_owned()))
        .map_err(|_| ApiError::internal(format!("the engine reported status `{name}`")))
}

/// `(offset, limit)` of a page the adapter cuts itself (the engine's token format: the
/// offset as text).
fn paging(max_results: Option<i32>, next_token: Option<&str>) -> ApiResult<(usize, usize)> {
    let limit = match page_size(max_results) {
        None | Some(0) => 100,
        Some(n) => n,
    };
    let offset = match next_token {
        None => 0,
        Some(t) => t.parse().map_err(|_| {
            ApiError::new(ErrorCode::InvalidToken, format!("invalid nextToken `{t}`"))
        })?,
    };
    Ok((offset, limit))
}

/// The payload members of history details, left out when `includeExecutionData` is false
/// (their `…Details: {"truncated": …}` siblings stay, as AWS's history model has no
/// `included` flag).
const PAYLOADS: [&str; 2] = ["input", "output"];

fn history_event(value: Value, include_data: bool) -> ApiResult<HistoryEvent> {
    let Value::Object(mut map) = value else {
        return Err(ApiError::internal("a history event is not an object"));
    };
    let timestamp = match map.remove("timestamp") {
        Some(Value::String(t)) => chrono::DateTime::parse_from_rfc3339(&t)
            .map(|d| d.timestamp_millis())
            .map_err(|e| ApiError::internal(format!("history timestamp `{t}`: {e}")))?,
        Some(Value::Number(n)) => n
            .as_f64()
            .and_then(Timestamp::from_seconds)
            .map_or(0, Timestamp::millis),
        _ => return Err(ApiError::internal("a history event has no timestamp")),
    };
    map.insert("timestamp".into(), Value::from(0));
    let mut event: HistoryEvent = serde_json::from_value(Value::Object(map))
        .map_err(|e| ApiError::internal(format!("history event: {e}")))?;
    event.timestamp = ts(timestamp);
    if !include_data && let Some((_, Value::Object(details))) = &mut event.details {
        strip_payloads(details);
    }
    Ok(event)
}

fn strip_payloads(details: &mut Map<String, Value>) {
    for payload in PAYLOADS {
        details.remove(payload);
    }
}

impl StepFunctions for Engine {
    async fn create_state_machine(
        &self,
        input: CreateStateMachineInput,
    ) -> ApiResult<CreateStateMachineOutput> {
        if input.machine_type == Some(StateMachineType::Express) {
            return Err(ApiError::new(
                ErrorCode::StateMachineTypeNotSupported,
                "the embedded engine runs STANDARD state machines only",
            ));
        }
        let created = self
            .create_state_machine(&input.name, &input.definition, &input.role_arn)
            .await?;
        Ok(CreateStateMachineOutput {
            state_machine_arn: created.state_machine_arn,
            creation_date: ts(created.date),
            state_machine_version_arn: (input.publish == Some(true))
                .then_some(created.state_machine_version_arn),
        })
    }

    async fn update_state_machine(
        &self,
        input: UpdateStateMachineInput,
    ) -> ApiResult<UpdateStateMachineOutput> {
        if input.definition.is_none() && input.role_arn.is_none() {
            return Err(ApiError::new(
                ErrorCode::MissingRequiredParameter,
                "UpdateStateMachine needs a 'definition' or a 'roleArn' (logging and tracing \
                 configurations are not kept by the embedded engine)",
            ));
        }
        let updated = self
            .update_state_machine(
                &input.state_machine_arn,
                input.definition.as_deref(),
                input.role_arn.as_deref(),
            )
            .await?;
        let revision = updated
            .state_machine_version_arn
            .rsplit(':')
            .next()
            .map(str::to_owned);
        Ok(UpdateStateMachineOutput {
            update_date: ts(updated.date),
            revision_id: revision,
            state_machine_version_arn: (input.publish == Some(true))
                .then_some(updated.state_machine_version_arn),
        })
    }

    async fn describe_state_machine(
        &self,
        input: DescribeStateMachineInput,
    ) -> ApiResult<DescribeStateMachineOutput> {
        let d = self
            .describe_state_machine(&input.state_machine_arn)
            .await?;
        Ok(DescribeStateMachineOutput {
            state_machine_arn: d.state_machine_arn,
            name: d.name,
            status: Some(if d.status == "DELETING" {
                StateMachineStatus::Deleting
            } else {
                StateMachineStatus::Active
            }),
            definition: d.definition,
            role_arn: d.role_arn,
            machine_type: StateMachineType::Standard,
            creation_date: ts(d.creation_date),
            logging_configuration: None,
            tracing_configuration: None,
            label: None,
            revision_id: Some(d.version.to_string()),
            description: None,
            encryption_configuration: None,
        })
    }

    async fn list_state_machines(
        &self,
        input: ListStateMachinesInput,
    ) -> ApiResult<ListStateMachinesOutput> {
        let page = self
            .list_state_machines(page_size(input.max_results), input.next_token.as_deref())
            .await?;
        Ok(ListStateMachinesOutput {
            state_machines: page
                .items
                .into_iter()
                .map(|m| StateMachineListItem {
                    state_machine_arn: m.state_machine_arn,
                    name: m.name,
                    machine_type: StateMachineType::Standard,
                    creation_date: ts(m.creation_date),
                })
                .collect(),
            next_token: page.next_token,
        })
    }

    async fn delete_state_machine(&self, input: DeleteStateMachineInput) -> ApiResult<Empty> {
        self.delete_state_machine(&input.state_machine_arn).await?;
        Ok(Empty {})
    }

    async fn publish_state_machine_version(
        &self,
        input: PublishStateMachineVersionInput,
    ) -> ApiResult<PublishStateMachineVersionOutput> {
        let d = self
            .describe_state_machine(&input.state_machine_arn)
            .await?;
        if let Some(wanted) = &input.revision_id
            && *wanted != d.version.to_string()
        {
            return Err(ApiError::new(
                ErrorCode::ConflictException,
                format!(
                    "revision {wanted} is not the current revision ({}) of {}",
                    d.version, input.state_machine_arn
                ),
            ));
        }
        let versions = self
            .list_state_machine_versions(&input.state_machine_arn)
            .await?;
        let arn = self.arns().version(&d.name, d.version);
        let created = versions
            .iter()
            .find(|v| v.state_machine_version_arn == arn)
            .map_or(d.creation_date, |v| v.creation_date);
        Ok(PublishStateMachineVersionOutput {
            creation_date: ts(created),
            state_machine_version_arn: arn,
        })
    }

    async fn list_state_machine_versions(
        &self,
        input: ListStateMachineVersionsInput,
    ) -> ApiResult<ListStateMachineVersionsOutput> {
        let (offset, limit) = paging(input.max_results, input.next_token.as_deref())?;
        let all = self
            .list_state_machine_versions(&input.state_machine_arn)
            .await?;
        let total = all.len();
        Ok(ListStateMachineVersionsOutput {
            state_machine_versions: all
                .into_iter()
                .skip(offset)
                .take(limit)
                .map(|v| StateMachineVersionListItem {
                    state_machine_version_arn: v.state_machine_version_arn,
                    creation_date: ts(v.creation_date),
                })
                .collect(),
            next_token: (offset + limit < total).then(|| (offset + limit).to_string()),
        })
    }

    async fn delete_state_machine_version(
        &self,
        input: DeleteStateMachineVersionInput,
    ) -> ApiResult<Empty> {
        Err(ApiError::validation(format!(
            "{} cannot be deleted: the embedded engine keeps every version, since executions \
             stay pinned to the version they started with",
            input.state_machine_version_arn
        )))
    }

    async fn create_activity(&self, input: CreateActivityInput) -> ApiResult<CreateActivityOutput> {
        let a = self.create_activity(&input.name).await?;
        Ok(CreateActivityOutput {
            activity_arn: a.activity_arn,
            creation_date: ts(a.creation_date),
        })
    }

    async fn describe_activity(
        &self,
        input: DescribeActivityInput,
    ) -> ApiResult<DescribeActivityOutput> {
        let a = self.describe_activity(&input.activity_arn).await?;
        Ok(DescribeActivityOutput {
            activity_arn: a.activity_arn,
            name: a.name,
            creation_date: ts(a.creation_date),
            encryption_configuration: None,
        })
    }

    async fn list_activities(&self, input: ListActivitiesInput) -> ApiResult<ListActivitiesOutput> {
        let page = self
            .list_activities(page_size(input.max_results), input.next_token.as_deref())
            .await?;
        Ok(ListActivitiesOutput {
            activities: page
                .items
                .into_iter()
                .map(|a| ActivityListItem {
                    activity_arn: a.activity_arn,
                    name: a.name,
                    creation_date: ts(a.creation_date),
                })
                .collect(),
            next_token: page.next_token,
        })
    }

    async fn delete_activity(&self, input: DeleteActivityInput) -> ApiResult<Empty> {
        self.delete_activity(&input.activity_arn).await?;
        Ok(Empty {})
    }

    async fn start_execution(&self, input: StartExecutionInput) -> ApiResult<StartExecutionOutput> {
        let started = self
            .start_execution(
                &input.state_machine_arn,
                input.name.as_deref(),
                input.input.as_deref(),
            )
            .await?;
        Ok(StartExecutionOutput {
            execution_arn: started.execution_arn,
            start_date: ts(started.start_date),
        })
    }

    async fn describe_execution(
        &self,
        input: DescribeExecutionInput,
    ) -> ApiResult<DescribeExecutionOutput> {
        let d = self.describe_execution(&input.execution_arn).await?;
        let data = input.included_data != Some(IncludedData::MetadataOnly);
        let status = status(d.status)?;
        let redrive_status = if d.redrive_status == "REDRIVABLE" {
            RedriveStatus::Redrivable
        } else {
            RedriveStatus::NotRedrivable
        };
        let details = Some(CloudWatchEventsExecutionDataDetails {
            included: Some(data),
        });
        Ok(DescribeExecutionOutput {
            execution_arn: d.execution_arn,
            state_machine_arn: d.state_machine_arn,
            name: Some(d.name),
            status,
            start_date: ts(d.start_date),
            stop_date: d.stop_date.map(ts),
            input: data.then_some(d.input),
            input_details: details,
            output: d.output.filter(|_| data),
            output_details: (status == ExecutionStatus::Succeeded)
                .then_some(details)
                .flatten(),
            trace_header: None,
            map_run_arn: None,
            error: d.error,
            cause: d.cause,
            state_machine_version_arn: Some(d.state_machine_version_arn),
            state_machine_alias_arn: None,
            redrive_count: i32::try_from(d.redrive_count).ok(),
            redrive_date: d.redrive_date.map(ts),
            redrive_status: Some(redrive_status),
            redrive_status_reason: (redrive_status == RedriveStatus::NotRedrivable).then(|| {
                match status {
                    ExecutionStatus::Running => "Execution is RUNNING and cannot be redriven",
                    _ => "Execution is SUCCEEDED and cannot be redriven",
                }
                .to_owned()
            }),
        })
    }

    async fn list_executions(&self, input: ListExecutionsInput) -> ApiResult<ListExecutionsOutput> {
        let Some(arn) = input.state_machine_arn.as_deref() else {
            return Err(ApiError::new(
                ErrorCode::ResourceNotFound,
                "the embedded engine has no Map Runs: list by 'stateMachineArn'",
            ));
        };
        let page = self
            .list_executions(
                arn,
                input.status_filter.map(ExecutionStatus::as_str),
                page_size(input.max_results),
                input.next_token.as_deref(),
            )
            .await?;
        let mut executions = Vec::with_capacity(page.items.len());
        for e in page.items {
            let keep = match input.redrive_filter {
                None => true,
                Some(ExecutionRedriveFilter::Redriven) => e.redrive_count > 0,
                Some(ExecutionRedriveFilter::NotRedriven) => e.redrive_count == 0,
            };
            if !keep {
                continue;
            }
            executions.push(ExecutionListItem {
                execution_arn: e.execution_arn,
                state_machine_arn: e.state_machine_arn,
                name: e.name,
                status: status(e.status)?,
                start_date: ts(e.start_date),
                stop_date: e.stop_date.map(ts),
                map_run_arn: None,
                item_count: None,
                state_machine_version_arn: None,
                state_machine_alias_arn: None,
                redrive_count: i32::try_from(e.redrive_count).ok(),
                redrive_date: None,
            });
        }
        Ok(ListExecutionsOutput {
            executions,
            next_token: page.next_token,
        })
    }

    async fn get_execution_history(
        &self,
        input: GetExecutionHistoryInput,
    ) -> ApiResult<GetExecutionHistoryOutput> {
        let page = self
            .get_execution_history(
                &input.execution_arn,
                page_size(input.max_results),
                input.reverse_order.unwrap_or(false),
                input.next_token.as_deref(),
            )
            .await?;
        let include = input.include_execution_data.unwrap_or(true);
        let events = page
            .items
            .into_iter()
            .map(|e| history_event(e, include))
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(GetExecutionHistoryOutput {
            events,
            next_token: page.next_token,
        })
    }

    async fn stop_execution(&self, input: StopExecutionInput) -> ApiResult<StopExecutionOutput> {
        let stopped = self
            .stop_execution(
                &input.execution_arn,
                input.error.as_deref(),
                input.cause.as_deref(),
            )
            .await?;
        Ok(StopExecutionOutput {
            stop_date: ts(stopped.date),
        })
    }

    async fn redrive_execution(
        &self,
        input: RedriveExecutionInput,
    ) -> ApiResult<RedriveExecutionOutput> {
        let redriven = self.redrive_execution(&input.execution_arn).await?;
        Ok(RedriveExecutionOutput {
            redrive_date: ts(redriven.date),
        })
    }

    async fn get_activity_task(
        &self,
        input: GetActivityTaskInput,
    ) -> ApiResult<GetActivityTaskOutput> {
        let task = self
            .get_activity_task(&input.activity_arn, input.worker_name.as_deref(), POLL)
            .await?;
        Ok(
            task.map_or_else(GetActivityTaskOutput::default, |t| GetActivityTaskOutput {
                task_token: Some(t.task_token),
                input: Some(t.input),
            }),
        )
    }

    async fn send_task_success(&self, input: SendTaskSuccessInput) -> ApiResult<Empty> {
        self.send_task_success(&input.task_token, &input.output)
            .await?;
        Ok(Empty {})
    }

    async fn send_task_failure(&self, input: SendTaskFailureInput) -> ApiResult<Empty> {
        self.send_task_failure(
            &input.task_token,
            input.error.as_deref(),
            input.cause.as_deref(),
        )
        .await?;
        Ok(Empty {})
    }

    async fn send_task_heartbeat(&self, input: SendTaskHeartbeatInput) -> ApiResult<Empty> {
        self.send_task_heartbeat(&input.task_token).await?;
        Ok(Empty {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn history_times_become_epoch_seconds_and_payloads_can_be_left_out() {
        let raw = json!({
            "id": 1, "previousEventId": 0, "timestamp": "2024-01-02T03:04:05.678Z",
            "type": "ExecutionStarted",
            "executionStartedEventDetails": {
                "input": "{\"a\":1}", "inputDetails": {"truncated": false}, "roleArn": "r"
            }
        });
        let with = history_event(raw.clone(), true).ok();
        assert_eq!(
            with.as_ref().map(|e| e.timestamp.millis()),
            Some(1_704_164_645_678)
        );
        let without = history_event(raw, false).ok().and_then(|e| e.details);
        assert_eq!(
            without,
            Some((
                "executionStartedEventDetails".into(),
                json!({"inputDetails": {"truncated": false}, "roleArn": "r"})
            ))
        );
    }
}
