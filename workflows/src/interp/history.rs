//! The execution history in the `GetExecutionHistory` format.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::event::Millis;

/// One history event, as `GetExecutionHistory` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// 1-based position in the history.
    pub id: u64,
    /// The event this one follows from (0 for none).
    pub previous_event_id: u64,
    /// When.
    pub timestamp: Millis,
    /// `type`: `ExecutionStarted`, `TaskStateEntered`, …
    pub event_type: String,
    /// The `…EventDetails` field name and value, when the type has details.
    pub details: Option<(String, Value)>,
}

impl HistoryEvent {
    /// The event as AWS's JSON (`timestamp` as RFC 3339).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("previousEventId".into(), json!(self.previous_event_id));
        m.insert("timestamp".into(), json!(format_time(self.timestamp)));
        m.insert("type".into(), json!(self.event_type));
        if let Some((k, v)) = &self.details {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }

    /// The `name` of a state event, if it has one.
    pub fn state_name(&self) -> Option<&str> {
        self.details.as_ref()?.1.get("name")?.as_str()
    }
}

/// A time as AWS writes it in the context object: `2024-01-02T03:04:05.678Z`.
pub fn format_time(at: Millis) -> String {
    match chrono::DateTime::from_timestamp_millis(at) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => String::from("1970-01-01T00:00:00.000Z"),
    }
}

/// The payload form AWS uses in history details: the JSON text of the value.
pub fn payload(value: &Value) -> Value {
    Value::String(value.to_string())
}

/// `{"truncated": false}`.
pub fn not_truncated() -> Value {
    json!({"truncated": false})
}
