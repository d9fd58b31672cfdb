//! Measurement on the τ-bench retail tasks (`support/retail-tasks-dev.jsonl`), with the retail
//! `db.json` loaded as the back office at run time.
//!
//! For each task, the customer's message is the task's `instruction` in the first person (the
//! persona sentence `You are …`, which tells a simulator how to behave, is dropped; `Your name
//! is` becomes `My name is`, and so on). The message goes through the real handlers: triage,
//! then act (when triage routes to answer). Two things are measured:
//!
//! - **needs_human**: triage's route `escalate` against the task's `needs_human` (precision and
//!   recall, with the confusion counts; precision or recall is `None` when undefined).
//! - **first tool**: the first write tool act proposes, mapped to τ-bench's name, against the
//!   name of the first gold action.
//!
//! | turnflow tool              | τ-bench tool                      |
//! | -------------------------- | --------------------------------- |
//! | `find_customer_by_email`   | `find_user_id_by_email`           |
//! | `find_customer_by_name_zip`| `find_user_id_by_name_zip`        |
//! | `get_order`                | `get_order_details`               |
//! | `list_orders`              | `get_user_details`                |
//! | `cancel_order`             | `cancel_pending_order`            |
//! | `change_address`           | `modify_pending_order_address`    |
//! | `modify_items`             | `modify_pending_order_items`      |
//! | `return_items`             | `return_delivered_order_items`    |
//! | `exchange_items`           | `exchange_delivered_order_items`  |
//! | `refund`                   | (none: τ-bench refunds by return) |
//!
//! The gold actions of these tasks are writes only, so the first *write* tool is compared.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use turnflow_workflows::turn::TriageRoute;

use crate::embedded::{Embedded, EmbeddedKb, SqliteBackOffice, block_on};
use crate::handlers::act::is_write_tool;
use crate::handlers::{FixedClock, Step, StepError, handle};
use crate::payload::{ActionFacts, PAYLOAD_VERSION, StepInput, TriageFacts, TurnState};
use crate::policy::Policy;
use crate::ports::{Author, Message};

/// τ-bench's name of a turnflow tool.
pub fn tau_tool(tool: &str) -> Option<&'static str> {
    Some(match tool {
        "find_customer_by_email" => "find_user_id_by_email",
        "find_customer_by_name_zip" => "find_user_id_by_name_zip",
        "get_order" => "get_order_details",
        "list_orders" => "get_user_details",
        "cancel_order" => "cancel_pending_order",
        "change_address" => "modify_pending_order_address",
        "modify_items" => "modify_pending_order_items",
        "return_items" => "return_delivered_order_items",
        "exchange_items" => "exchange_delivered_order_items",
        _ => return None,
    })
}

/// An evaluation that could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A file could not be read.
    #[error("read {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// A task line is not valid.
    #[error("task line {line}: {message}")]
    Task {
        /// 1-based line.
        line: usize,
        /// Why.
        message: String,
    },
    /// A handler failed.
    #[error("task {task}: {source}")]
    Step {
        /// The task id.
        task: String,
        /// The failure.
        source: StepError,
    },
}

#[derive(Debug, Deserialize)]
struct Task {
    id: String,
    instruction: String,
    #[serde(default)]
    gold_actions: Vec<GoldAction>,
    #[serde(default)]
    needs_human: bool,
}

#[derive(Debug, Deserialize)]
struct GoldAction {
    name: String,
}

/// The evaluation's numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// Tasks run.
    pub tasks: usize,
    /// needs_human: predicted and gold.
    pub human_tp: usize,
    /// needs_human: predicted, not gold.
    pub human_fp: usize,
    /// needs_human: gold, not predicted.
    pub human_fn: usize,
    /// needs_human: neither.
    pub human_tn: usize,
    /// Precision of needs_human (None with no positive prediction).
    pub human_precision: Option<f64>,
    /// Recall of needs_human (None with no gold positive).
    pub human_recall: Option<f64>,
    /// Tasks refused by triage's firewall.
    pub refused: usize,
    /// Tasks with a gold action.
    pub with_gold: usize,
    /// Tasks whose first proposed write matches the first gold action.
    pub first_tool_matches: usize,
    /// `first_tool_matches / with_gold`.
    pub first_tool_accuracy: f64,
    /// Tasks where the customer was identified and verified.
    pub identified: usize,
    /// How often each triage reason (refusal or escalation) came up.
    pub reasons: std::collections::BTreeMap<String, usize>,
}

/// The task's instruction as the customer's own message.
pub fn customer_text(instruction: &str) -> String {
    let mut kept = Vec::new();
    for sentence in instruction.split_inclusive(". ") {
        if sentence.trim_start().starts_with("You are ") {
            continue;
        }
        kept.push(sentence);
    }
    kept.concat()
        .replace("Your name is", "My name is")
        .replace("your zip code is", "my zip code is")
        .replace("your email is", "my email is")
        .replace("Your email is", "My email is")
        .replace("You ", "I ")
        .replace(" you ", " I ")
        .replace(" your ", " my ")
        .trim()
        .to_owned()
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    #[expect(clippy::cast_precision_loss, reason = "task counts")]
    (b > 0).then(|| a as f64 / b as f64)
}

/// Runs the retail evaluation.
pub fn retail(tasks: &Path, db: &Path) -> Result<Report, EvalError> {
    let read_err = |path: &Path, message: String| EvalError::Read {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(tasks).map_err(|e| read_err(tasks, e.to_string()))?;
    let back_office =
        SqliteBackOffice::load_tau_retail(db).map_err(|e| read_err(db, e.to_string()))?;
    let brain = crate::embedded::brain().map_err(|e| read_err(tasks, e.to_string()))?;
    let kb = EmbeddedKb::demo().map_err(|e| read_err(tasks, e.to_string()))?;
    let policy = Policy::default_policy().map_err(|e| read_err(tasks, e.to_string()))?;
    let embedded = Embedded::in_memory(
        back_office,
        Arc::new(brain),
        Arc::new(kb),
        Arc::new(policy),
        Arc::new(FixedClock::at(1_700_000_000_000)),
    )
    .map_err(|e| read_err(db, e.to_string()))?;
    let ports = &embedded.ports;

    let mut report = Report::default();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let task: Task = serde_json::from_str(line).map_err(|e| EvalError::Task {
            line: n + 1,
            message: e.to_string(),
        })?;
        let step_err = |source| EvalError::Step {
            task: task.id.clone(),
            source,
        };
        let conversation = format!("retail-{}", task.id);
        let message_id = format!("{conversation}/m1");
        block_on(ports.store.append_message(&Message {
            id: message_id.clone(),
            conversation_id: conversation.clone(),
            author: Author::Customer,
            text: customer_text(&task.instruction),
            at: 0,
        }))
        .map_err(|e| step_err(e.into()))?;
        let mut turn = TurnState {
            conversation_id: conversation.clone(),
            message_id,
            ..TurnState::default()
        };
        let input = |step: Step, turn: &TurnState| StepInput {
            v: PAYLOAD_VERSION,
            step: step.as_str().to_owned(),
            idempotency_key: format!("{conversation}/{step}"),
            attempt: 0,
            turn: turn.clone(),
        };
        let triage: TriageFacts = serde_json::from_value(
            block_on(handle(Step::Triage, input(Step::Triage, &turn), ports)).map_err(step_err)?,
        )
        .map_err(|e| step_err(StepError::invalid("triage", e)))?;
        report.tasks += 1;
        let predicted = triage.route == TriageRoute::Escalate;
        match (predicted, task.needs_human) {
            (true, true) => report.human_tp += 1,
            (true, false) => report.human_fp += 1,
            (false, true) => report.human_fn += 1,
            (false, false) => report.human_tn += 1,
        }
        if triage.route == TriageRoute::Refuse {
            report.refused += 1;
        }
        for r in &triage.reasons {
            *report.reasons.entry(r.clone()).or_default() += 1;
        }
        let route = triage.route;
        turn.triage = Some(triage);
        let mut first_write = None;
        if route == TriageRoute::Answer {
            let action: ActionFacts = serde_json::from_value(
                block_on(handle(Step::Act, input(Step::Act, &turn), ports)).map_err(step_err)?,
            )
            .map_err(|e| step_err(StepError::invalid("action", e)))?;
            if action.identity_verified {
                report.identified += 1;
            }
            first_write = action
                .tools
                .iter()
                .find(|t| is_write_tool(t))
                .and_then(|t| tau_tool(t));
        }
        if let Some(gold) = task.gold_actions.first() {
            report.with_gold += 1;
            if first_write == Some(gold.name.as_str()) {
                report.first_tool_matches += 1;
            }
        }
    }
    report.human_precision = ratio(report.human_tp, report.human_tp + report.human_fp);
    report.human_recall = ratio(report.human_tp, report.human_tp + report.human_fn);
    report.first_tool_accuracy = ratio(report.first_tool_matches, report.with_gold).unwrap_or(0.0);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instruction_becomes_the_customers_words() {
        let text = customer_text(
            "Your name is Omar Anderson and your zip code is 19031. You are logical, polite. Return #W6067464 via credit_card_4190576: Electric Kettle; ",
        );
        assert_eq!(
            text,
            "My name is Omar Anderson and my zip code is 19031. Return #W6067464 via credit_card_4190576: Electric Kettle;"
        );
    }
}
