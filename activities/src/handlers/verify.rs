//! Verify: the policy, the draft, its grounding, and the guardrails on the output.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::json;
use turnflow_workflows::lifecycle::LifecycleEvent;
use turnflow_workflows::turn::VerifyOutcome;

use super::act::intent_write;
use super::{Ports, StepError, StepResult, advance, customer_message, doc_id, facts, redact};
use crate::payload::{ActionFacts, ProposalKind, RetrievalFacts, StepInput, VerdictFacts};
use crate::policy::PremiumRule;
use crate::ports::{DraftRequest, ModelRoute, Passage};

/// What a reply is for (the model's `purpose`).
pub mod purpose {
    /// A knowledge answer grounded in passages.
    pub const ANSWER: &str = "answer";
    /// A refusal (blocked message, denied topic).
    pub const REFUSAL: &str = "refusal";
    /// A write waits for a colleague's approval.
    pub const PROPOSAL: &str = "proposal";
    /// A write is being done.
    pub const COMMIT: &str = "commit";
    /// The colleague approved and the write is done.
    pub const APPROVED: &str = "approved";
    /// The colleague rejected the write.
    pub const REJECTED: &str = "rejected";
    /// A human takes over.
    pub const HANDOFF: &str = "handoff";
    /// Identity must be verified first.
    pub const IDENTITY_REQUIRED: &str = "identity_required";
    /// The order's status.
    pub const ORDER_STATUS: &str = "order_status";
    /// The order cannot take the write asked for.
    pub const NOT_ELIGIBLE: &str = "not_eligible";
    /// No order found.
    pub const ORDER_NOT_FOUND: &str = "order_not_found";
}

/// The policy's decision for a turn, before drafting.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Where the turn goes.
    pub outcome: VerifyOutcome,
    /// Why (a reason code).
    pub reason: String,
    /// The reply to draft.
    pub purpose: &'static str,
}

fn decision(outcome: VerifyOutcome, reason: &str, purpose: &'static str) -> Decision {
    Decision {
        outcome,
        reason: reason.to_owned(),
        purpose,
    }
}

/// The policy rules on Act's facts (pure, so they are tested as a table).
pub fn decide(
    policy: &crate::policy::Policy,
    intent: &str,
    text: &str,
    order_mentioned: bool,
    action: &ActionFacts,
) -> Decision {
    use VerifyOutcome as O;
    if let Some(p) = &action.proposal {
        let premium_case =
            action.premium && matches!(p.kind, ProposalKind::Cancel | ProposalKind::Refund);
        if !action.identity_verified {
            return decision(O::Escalate, "identity_not_verified", purpose::HANDOFF);
        }
        if premium_case && policy.premium_cancel_or_refund == PremiumRule::Escalate {
            return decision(O::Escalate, "premium_cancel_or_refund", purpose::HANDOFF);
        }
        if premium_case && policy.premium_cancel_or_refund == PremiumRule::Approve {
            return decision(
                O::NeedsApproval,
                "premium_cancel_or_refund",
                purpose::PROPOSAL,
            );
        }
        let amount = p.amount.unwrap_or(0.0);
        if matches!(p.kind, ProposalKind::Refund | ProposalKind::Return)
            && amount > policy.refund_approval_above
        {
            return decision(O::NeedsApproval, "refund_above_limit", purpose::PROPOSAL);
        }
        if policy.auto_commit.contains(&p.kind) {
            return decision(O::Commit, "within_policy", purpose::COMMIT);
        }
        return decision(O::NeedsApproval, "write_needs_approval", purpose::PROPOSAL);
    }
    if intent_write(intent, text).is_some() {
        return if !action.identity_verified && !order_mentioned {
            // "How do returns work?": a question about the policy, answered from the knowledge
            // base (Verify falls back to asking for identity when nothing is retrieved).
            decision(O::Respond, "answer", purpose::ANSWER)
        } else if !action.identity_verified {
            decision(O::Respond, "identity_required", purpose::IDENTITY_REQUIRED)
        } else if action.order.is_none() {
            decision(O::Respond, "order_not_found", purpose::ORDER_NOT_FOUND)
        } else {
            decision(O::Respond, "not_eligible", purpose::NOT_ELIGIBLE)
        };
    }
    if action.order.is_some() {
        return decision(O::Respond, "order_status", purpose::ORDER_STATUS);
    }
    // "How long does shipping take?" is a question about delivery in general, answered from
    // the knowledge base; "when does my order arrive?" (an order named) is about one order.
    let about_an_order = match intent {
        "order_status" | "refund_status" => true,
        "delivery" | "invoice" => order_mentioned,
        _ => false,
    };
    if about_an_order && !action.identity_verified {
        return decision(O::Respond, "identity_required", purpose::IDENTITY_REQUIRED);
    }
    decision(O::Respond, "answer", purpose::ANSWER)
}

#[expect(
    clippy::expect_used,
    reason = "constant patterns, checked by the tests"
)]
static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d+(?:[.,]\d+)?").expect("number pattern"));
#[expect(
    clippy::expect_used,
    reason = "constant patterns, checked by the tests"
)]
static CITATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[[^\]]*\]").expect("citation pattern"));
#[expect(
    clippy::expect_used,
    reason = "constant patterns, checked by the tests"
)]
static WORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\p{L}+").expect("word pattern"));

/// Why a knowledge answer is not grounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ungrounded {
    /// It cites nothing.
    NoCitation,
    /// It cites a passage that was not retrieved.
    UnknownCitation,
    /// A number it states is in none of the cited passages.
    NumberNotInSources,
    /// Too few of its content words are in the cited passages.
    LowOverlap,
}

impl Ungrounded {
    /// The reason code.
    pub fn as_str(self) -> &'static str {
        match self {
            Ungrounded::NoCitation => "ungrounded_no_citation",
            Ungrounded::UnknownCitation => "ungrounded_unknown_citation",
            Ungrounded::NumberNotInSources => "ungrounded_number",
            Ungrounded::LowOverlap => "ungrounded_overlap",
        }
    }
}

fn content_units(text: &str) -> Vec<String> {
    let mut units = Vec::new();
    for w in WORD.find_iter(text) {
        let w = w.as_str().to_lowercase();
        if w.chars().any(is_cjk) {
            // Chinese has no spaces: every Han character is a unit.
            units.extend(w.chars().filter(|c| is_cjk(*c)).map(String::from));
        } else if w.chars().count() >= 4 {
            units.push(w);
        }
    }
    units
}

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

/// The grounding check of a knowledge answer: it cites at least one retrieved passage, every
/// number it states is in the cited passages, and at least `min_overlap` of its content words
/// (words of four letters or more; Han characters one by one) occur in them.
pub fn check_grounding(
    text: &str,
    citations: &[String],
    retrieved: &[Passage],
    min_overlap: f64,
) -> Result<(), Ungrounded> {
    if citations.is_empty() {
        return Err(Ungrounded::NoCitation);
    }
    let mut cited = String::new();
    for c in citations {
        let p = retrieved
            .iter()
            .find(|p| &p.id == c)
            .ok_or(Ungrounded::UnknownCitation)?;
        cited.push_str(&p.title.to_lowercase());
        cited.push('\n');
        cited.push_str(&p.text.to_lowercase());
        cited.push('\n');
    }
    let body = CITATION.replace_all(text, " ");
    for n in NUMBER.find_iter(&body) {
        if !cited.contains(n.as_str()) {
            return Err(Ungrounded::NumberNotInSources);
        }
    }
    let units = content_units(&body);
    if units.is_empty() {
        return Err(Ungrounded::LowOverlap);
    }
    let source: HashSet<String> = content_units(&cited).into_iter().collect();
    let hits = units.iter().filter(|u| source.contains(*u)).count();
    #[expect(clippy::cast_precision_loss, reason = "counts of words")]
    let overlap = hits as f64 / units.len() as f64;
    if overlap < min_overlap {
        return Err(Ungrounded::LowOverlap);
    }
    Ok(())
}

/// `verify`: the policy decides; the model drafts the reply; a knowledge answer must be grounded;
/// the output goes through the guardrails; the draft is stored and its id returned.
pub async fn verify(input: &StepInput, ports: &Ports) -> StepResult {
    let turn = &input.turn;
    let triage = turn
        .triage
        .as_ref()
        .ok_or_else(|| StepError::missing("turn.triage"))?;
    let action = turn.action.clone().unwrap_or_default();
    let retrieval: RetrievalFacts = turn.retrieval.clone().unwrap_or_default();
    let message = customer_message(turn, ports).await?;
    let text = redact(&message.text, ports).await?;
    let order_mentioned = !triage.order_ids.is_empty();
    let mut decision = decide(
        &ports.policy,
        &triage.intent,
        &message.text,
        order_mentioned,
        &action,
    );
    if decision.purpose == purpose::ANSWER
        && retrieval.passages.is_empty()
        && intent_write(&triage.intent, &message.text).is_some()
    {
        decision = Decision {
            outcome: VerifyOutcome::Respond,
            reason: "identity_required".into(),
            purpose: purpose::IDENTITY_REQUIRED,
        };
    }

    let mut passages = Vec::new();
    if decision.purpose == purpose::ANSWER {
        for r in &retrieval.passages {
            if let Some(p) = ports.kb.passage(&r.id).await? {
                passages.push(p);
            }
        }
    }
    let draft = ports
        .model
        .draft(&DraftRequest {
            customer_id: turn.customer_id.clone(),
            route: if triage.confidence < 0.6 {
                ModelRoute::Strong
            } else {
                ModelRoute::Fast
            },
            language: triage.language.clone(),
            intent: triage.intent.clone(),
            text,
            passages: passages.clone(),
            facts: json!({
                "order": action.order,
                "proposal": action.proposal,
                "reason": decision.reason,
                "approvalLimit": ports.policy.refund_approval_above,
            }),
            purpose: decision.purpose.to_owned(),
        })
        .await?;
    if decision.purpose == purpose::ANSWER {
        if passages.is_empty() {
            decision = Decision {
                outcome: VerifyOutcome::Escalate,
                reason: "no_grounding".into(),
                purpose: purpose::HANDOFF,
            };
        } else if let Err(why) = check_grounding(
            &draft.text,
            &draft.citations,
            &passages,
            ports.policy.grounding_min_overlap,
        ) {
            decision = Decision {
                outcome: VerifyOutcome::Escalate,
                reason: why.as_str().into(),
                purpose: purpose::HANDOFF,
            };
        }
    }
    let output = ports.guardrails.check(&draft.text).await?;
    if let Some(topic) = &output.denied_topic
        && decision.outcome != VerifyOutcome::Escalate
    {
        decision = Decision {
            outcome: VerifyOutcome::Escalate,
            reason: format!("denied_topic_in_reply:{topic}"),
            purpose: purpose::HANDOFF,
        };
    }
    let draft_id = doc_id(&turn.conversation_id, "draft", &turn.message_id);
    ports
        .store
        .put_document(
            &draft_id,
            &json!({
                "text": output.redacted, "citations": draft.citations,
                "language": triage.language, "purpose": decision.purpose,
            }),
            Some(ports.policy.document_ttl_seconds),
        )
        .await?;
    if decision.outcome == VerifyOutcome::NeedsApproval {
        advance(input, ports, &[LifecycleEvent::ApprovalRequested]).await?;
    }
    facts(&VerdictFacts {
        outcome: decision.outcome,
        reason: decision.reason,
        draft_id,
        citations: draft.citations,
        usage: draft.usage,
    })
}
