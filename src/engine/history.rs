//! `GetExecutionHistory`: the history is not stored; it is rebuilt by replaying the
//! execution's journal entries through the interpreter.

use std::sync::Arc;

use serde_json::{Value, json};
use turnflow_workflows::asl::{self, StateMachine};
use turnflow_workflows::interp::{HistoryEvent, Interpreter};

use super::error::EngineError;
use super::live::Entry;
use crate::journal::{ExecutionRecord, Reader};

/// The execution's history in the AWS JSON form, oldest first, with the engine's tokens in
/// place of the interpreter's.
pub(crate) fn history(reader: &Reader, rec: &ExecutionRecord) -> Result<Vec<Value>, EngineError> {
    let Some((text, _)) = reader.version_by_id(rec.row.version_id)? else {
        return Err(EngineError::StateMachineDoesNotExist(
            rec.state_machine.clone(),
        ));
    };
    let definition: Arc<StateMachine> =
        Arc::new(asl::parse(&text).map_err(|d| EngineError::InvalidDefinition(d.to_string()))?);
    let bodies = reader.events(rec.row.id)?;
    let events = splice(&definition, &bodies)?;
    let tokens = reader.tokens(rec.row.id)?;
    let pairs: Vec<(String, String)> = tokens
        .into_iter()
        .map(|t| (format!("{}:{}", rec.row.name, t.task_id), t.token))
        .collect();
    Ok(events
        .iter()
        .map(|e| {
            let v = e.to_json();
            if pairs.is_empty() {
                return v;
            }
            let mut text = v.to_string();
            for (from, to) in &pairs {
                text = text.replace(from.as_str(), to);
            }
            serde_json::from_str(&text).unwrap_or(v)
        })
        .collect())
}

/// Replays the entries; across a redrive, the history before it is kept whole, then an
/// `ExecutionRedriven` event, then what the resumed run adds.
fn splice(
    definition: &Arc<StateMachine>,
    bodies: &[Vec<u8>],
) -> Result<Vec<HistoryEvent>, EngineError> {
    let mut out: Vec<HistoryEvent> = Vec::new();
    let mut interp = Interpreter::new(Arc::clone(definition));
    let mut effective = Vec::new();
    // How much of the current interpreter's history is already in `out`.
    let mut emitted = 0usize;
    let mut redrives = 0u64;
    for (i, body) in bodies.iter().enumerate() {
        let seq = i64::try_from(i).unwrap_or(i64::MAX) + 1;
        match Entry::decode(body)? {
            Entry::Event(e) => {
                let _ = interp.apply(e.clone());
                effective.push((seq, e));
            }
            Entry::Redriven { at, from } => {
                push_from(&mut out, interp.history(), emitted);
                redrives += 1;
                let id = out.len() as u64 + 1;
                out.push(HistoryEvent {
                    id,
                    previous_event_id: id - 1,
                    timestamp: at,
                    event_type: "ExecutionRedriven".into(),
                    details: Some((
                        "executionRedrivenEventDetails".into(),
                        json!({"redriveCount": redrives}),
                    )),
                });
                effective.retain(|(s, _)| *s < from);
                interp = Interpreter::new(Arc::clone(definition));
                for (_, e) in &effective {
                    let _ = interp.apply(e.clone());
                }
                emitted = interp.history().len();
            }
        }
    }
    push_from(&mut out, interp.history(), emitted);
    Ok(out)
}

fn push_from(out: &mut Vec<HistoryEvent>, history: &[HistoryEvent], from: usize) {
    let renumber = !out.is_empty() && from > 0 || out.len() != from;
    for e in history.iter().skip(from) {
        let mut e = e.clone();
        if renumber {
            let id = out.len() as u64 + 1;
            e.id = id;
            e.previous_event_id = id - 1;
        }
        out.push(e);
    }
}
