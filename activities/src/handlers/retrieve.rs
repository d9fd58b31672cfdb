//! Retrieve: knowledge-base passages in the message's language, and the customer's memory.

use super::{Ports, StepError, StepResult, customer_message, facts, redact};
use crate::payload::{PassageRef, RetrievalFacts, StepInput};

/// `retrieve`: the best passages for the (redacted) message in its language, and the ids of what
/// is remembered about the customer.
pub async fn retrieve(input: &StepInput, ports: &Ports) -> StepResult {
    let turn = &input.turn;
    let triage = turn
        .triage
        .as_ref()
        .ok_or_else(|| StepError::missing("turn.triage"))?;
    let message = customer_message(turn, ports).await?;
    let query = redact(&message.text, ports).await?;
    let passages = ports
        .kb
        .search(&query, &triage.language, ports.policy.retrieve_top_k)
        .await?;
    let memory_ids = match &turn.customer_id {
        Some(customer) => ports
            .store
            .memory(customer)
            .await?
            .into_iter()
            .map(|(key, _)| key)
            .collect(),
        None => Vec::new(),
    };
    facts(&RetrievalFacts {
        passages: passages
            .into_iter()
            .map(|p| PassageRef {
                id: p.id,
                score: p.score,
            })
            .collect(),
        memory_ids,
    })
}
