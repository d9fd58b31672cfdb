//! What the engine can run: the definition check at create time, and where each task goes.

use std::sync::Arc;

use serde_json::Value;
use turnflow_workflows::asl::{self, Severity, StateKind, StateMachine};
use turnflow_workflows::interp::{ResourceKind, TaskRequest};

use super::error::EngineError;

/// The service integrations the embedded engine runs locally.
pub const SUPPORTED: &[&str] = &[
    "arn:aws:states:::sqs:sendMessage",
    "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    "arn:aws:states:::lambda:invoke",
    "arn:aws:states:::lambda:invoke.waitForTaskToken",
];

/// Parses and checks a definition for the engine: no `${…}` placeholder left, no error
/// from the parser or the checker, and only resources the engine can honour.
pub fn check_definition(text: &str) -> Result<Arc<StateMachine>, EngineError> {
    if let Some(start) = text.find("${") {
        let end = text[start..]
            .find('}')
            .map_or(text.len(), |e| start + e + 1);
        return Err(EngineError::InvalidDefinition(format!(
            "unsubstituted placeholder `{}`: substitute the definition's placeholders before creating the state machine",
            &text[start..end.min(start + 80)]
        )));
    }
    let machine = asl::parse(text).map_err(|d| EngineError::InvalidDefinition(d.to_string()))?;
    let errors: Vec<String> = asl::check(&machine)
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect();
    if !errors.is_empty() {
        return Err(EngineError::InvalidDefinition(errors.join("; ")));
    }
    let mut refused = Vec::new();
    walk(&machine, "", &mut refused);
    if let Some((state, resource)) = refused.first() {
        return Err(EngineError::InvalidDefinition(format!(
            "state `{state}`: the embedded engine cannot run the resource `{resource}`; it runs activities, Lambda functions (in-process handlers) and {}",
            SUPPORTED.join(", ")
        )));
    }
    Ok(Arc::new(machine))
}

fn walk(machine: &StateMachine, prefix: &str, refused: &mut Vec<(String, String)>) {
    for (name, state) in &machine.states {
        let path = format!("{prefix}{name}");
        match &state.kind {
            StateKind::Task(t) => {
                let (kind, _, _) = turnflow_workflows::interp::classify_resource(&t.resource);
                let ok = match kind {
                    ResourceKind::Activity => t.resource.contains(":activity:"),
                    ResourceKind::LambdaFunction => true,
                    ResourceKind::Service => SUPPORTED.contains(&t.resource.as_str()),
                };
                if !ok {
                    refused.push((path, t.resource.clone()));
                }
            }
            StateKind::Parallel(p) => {
                for (i, b) in p.branches.iter().enumerate() {
                    walk(b, &format!("{path}/Branches[{i}]/"), refused);
                }
            }
            StateKind::Map(m) => walk(&m.processor, &format!("{path}/ItemProcessor/"), refused),
            _ => {}
        }
    }
}

/// Where a scheduled task goes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Route {
    /// An activity: an in-process handler or an external worker polling its ARN.
    Activity(String),
    /// A Lambda function's in-process handler, with its payload. `wrap` for
    /// `lambda:invoke`, whose output is `{"Payload": …, "StatusCode": 200}`.
    Function {
        /// The function's name.
        name: String,
        /// The handler's input.
        payload: Value,
        /// Whether the output is wrapped like `lambda:invoke`'s.
        wrap: bool,
    },
    /// `sqs:sendMessage`: the message goes on the embedded queue.
    Sqs {
        /// The queue's name (the last segment of `QueueUrl`).
        queue: String,
        /// The body.
        body: String,
    },
    /// Nothing the engine can run (refused at create time; kept for safety).
    Unsupported(String),
}

/// Where `req` goes.
pub(crate) fn route(req: &TaskRequest) -> Route {
    match req.kind {
        ResourceKind::Activity => Route::Activity(after(&req.resource, ":activity:")),
        ResourceKind::LambdaFunction => Route::Function {
            name: function_name(&req.resource),
            payload: req.input.clone(),
            wrap: false,
        },
        ResourceKind::Service => {
            let base = req.resource.trim_end_matches(".waitForTaskToken");
            match base {
                "arn:aws:states:::sqs:sendMessage" => {
                    let queue = req
                        .input
                        .get("QueueUrl")
                        .and_then(Value::as_str)
                        .and_then(|u| u.rsplit('/').next())
                        .unwrap_or("")
                        .to_string();
                    let body = match req.input.get("MessageBody") {
                        Some(Value::String(s)) => s.clone(),
                        Some(v) => v.to_string(),
                        None => String::new(),
                    };
                    Route::Sqs { queue, body }
                }
                "arn:aws:states:::lambda:invoke" => Route::Function {
                    name: function_name(
                        req.input
                            .get("FunctionName")
                            .and_then(Value::as_str)
                            .unwrap_or(""),
                    ),
                    payload: req.input.get("Payload").cloned().unwrap_or(Value::Null),
                    wrap: true,
                },
                other => Route::Unsupported(other.to_string()),
            }
        }
    }
}

fn after(s: &str, marker: &str) -> String {
    s.split(marker).nth(1).unwrap_or(s).to_string()
}

/// `NAME` of `arn:aws:lambda:r:a:function:NAME[:qualifier]`, or of `NAME[:qualifier]`.
fn function_name(s: &str) -> String {
    let rest = if s.contains(":function:") {
        after(s, ":function:")
    } else {
        s.to_string()
    };
    rest.split(':').next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_placeholders_and_unknown_integrations() {
        let placeholder =
            r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${X}","End":true}}}"#;
        let e = check_definition(placeholder).err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("unsubstituted placeholder `${X}`")));
        let dynamo = r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{},"End":true}}}"#;
        let e = check_definition(dynamo).err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| {
            e.contains("cannot run the resource `arn:aws:states:::dynamodb:putItem`")
        }));
        let ok = r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","Parameters":{"QueueUrl":"q","MessageBody":"x"},"End":true}}}"#;
        assert!(check_definition(ok).is_ok());
    }

    #[test]
    fn function_names() {
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:1:function:triage:live"),
            "triage"
        );
        assert_eq!(function_name("triage"), "triage");
    }
}
