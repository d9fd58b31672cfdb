//! Measurement of the brain on external corpora it was not trained on.
//!
//! # bitext → turnflow intents
//! Bitext's 27 intents map to ours as follows (several map to one; the semantics, not the
//! wording, decide):
//!
//! | bitext | turnflow |
//! | --- | --- |
//! | `track_order` | `order_status` |
//! | `cancel_order` | `cancel_order` |
//! | `change_order` | `change_order` |
//! | `change_shipping_address` | `change_order` (an address change) |
//! | `set_up_shipping_address` | `change_order` (an address change) |
//! | `place_order` | `place_order` |
//! | `get_refund` | `refund_request` |
//! | `track_refund` | `refund_status` |
//! | `check_refund_policy` | `policy_question` |
//! | `check_cancellation_fee` | `policy_question` (fees are policy) |
//! | `delivery_options` | `delivery` |
//! | `delivery_period` | `delivery` |
//! | `payment_issue` | `payment_issue` |
//! | `check_payment_methods` | `payment_issue` (how to pay) |
//! | `check_invoice` | `invoice` |
//! | `get_invoice` | `invoice` |
//! | `create_account` | `account` |
//! | `edit_account` | `account` |
//! | `delete_account` | `account` |
//! | `switch_account` | `account` |
//! | `recover_password` | `account` |
//! | `registration_problems` | `account` |
//! | `newsletter_subscription` | `account` (e-mail preferences) |
//! | `complaint` | `complaint` |
//! | `review` | `feedback` |
//! | `contact_customer_service` | `contact_info` (how to reach support; bitext's `needs_human` is false) |
//! | `contact_human_agent` | `human_request` (bitext's `needs_human` is true) |
//!
//! # clinc150
//! Out-of-scope recall is the share of `is_oos` rows the brain calls `out_of_scope`. clinc's
//! in-scope intents (banking, travel, small talk…) are not support intents either, so the share of
//! in-scope rows called `out_of_scope` is reported, not judged.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::classifier::Calibration;
use super::error::BrainError;
use super::intent::Intent;
use super::triage::Brain;

/// Bitext's 27 intents and the turnflow intent each maps to (see the module docs).
pub const BITEXT_MAPPING: [(&str, Intent); 27] = [
    ("track_order", Intent::OrderStatus),
    ("cancel_order", Intent::CancelOrder),
    ("change_order", Intent::ChangeOrder),
    ("change_shipping_address", Intent::ChangeOrder),
    ("set_up_shipping_address", Intent::ChangeOrder),
    ("place_order", Intent::PlaceOrder),
    ("get_refund", Intent::RefundRequest),
    ("track_refund", Intent::RefundStatus),
    ("check_refund_policy", Intent::PolicyQuestion),
    ("check_cancellation_fee", Intent::PolicyQuestion),
    ("delivery_options", Intent::Delivery),
    ("delivery_period", Intent::Delivery),
    ("payment_issue", Intent::PaymentIssue),
    ("check_payment_methods", Intent::PaymentIssue),
    ("check_invoice", Intent::Invoice),
    ("get_invoice", Intent::Invoice),
    ("create_account", Intent::Account),
    ("edit_account", Intent::Account),
    ("delete_account", Intent::Account),
    ("switch_account", Intent::Account),
    ("recover_password", Intent::Account),
    ("registration_problems", Intent::Account),
    ("newsletter_subscription", Intent::Account),
    ("complaint", Intent::Complaint),
    ("review", Intent::Feedback),
    ("contact_customer_service", Intent::ContactInfo),
    ("contact_human_agent", Intent::HumanRequest),
];

/// The turnflow intent for a bitext intent name.
pub fn map_bitext(name: &str) -> Option<Intent> {
    BITEXT_MAPPING
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, i)| *i)
}

/// Per label: expected intent, rows, correct rows, wrong guesses by intent.
type LabelTally = (Intent, usize, usize, BTreeMap<Intent, usize>);

/// One row of `bitext-4514.jsonl` (the fields the evaluation reads).
#[derive(Debug, Clone, Deserialize)]
pub struct BitextRow {
    /// The customer's message.
    pub text: String,
    /// Bitext's intent name.
    pub intent: String,
    /// Whether a person must take over.
    pub needs_human: bool,
}

/// One row of `clinc150.jsonl` (the fields the evaluation reads).
#[derive(Debug, Clone, Deserialize)]
pub struct ClincRow {
    /// The utterance.
    pub text: String,
    /// Whether it is out of scope.
    pub is_oos: bool,
}

/// Accuracy for one gold label, with its most frequent wrong guess.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LabelScore {
    /// The corpus's label.
    pub label: String,
    /// What it maps to.
    pub expected: Intent,
    /// Rows with this label.
    pub rows: usize,
    /// Rows classified as `expected`.
    pub correct: usize,
    /// The most frequent wrong intent and its count.
    pub top_confusion: Option<(Intent, usize)>,
}

/// Precision and recall of a yes/no decision.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Default)]
pub struct Binary {
    /// Predicted yes, truly yes.
    pub true_positives: usize,
    /// Predicted yes, truly no.
    pub false_positives: usize,
    /// Predicted no, truly yes.
    pub false_negatives: usize,
    /// Predicted no, truly no.
    pub true_negatives: usize,
}

impl Binary {
    fn add(&mut self, predicted: bool, actual: bool) {
        match (predicted, actual) {
            (true, true) => self.true_positives += 1,
            (true, false) => self.false_positives += 1,
            (false, true) => self.false_negatives += 1,
            (false, false) => self.true_negatives += 1,
        }
    }

    /// tp / (tp + fp), 0 when nothing was predicted.
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    /// tp / (tp + fn), 0 when there is nothing to find.
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// The result of one evaluation run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    /// Which corpus.
    pub dataset: String,
    /// Rows evaluated.
    pub rows: usize,
    /// Intent accuracy (bitext only).
    pub intent_accuracy: Option<f64>,
    /// Per-label scores, worst first (bitext only).
    pub labels: Vec<LabelScore>,
    /// `needs_human` (bitext only).
    pub needs_human: Option<Binary>,
    /// Why the brain escalated rows that did not need a person: reason → rows (bitext only).
    pub false_escalations: BTreeMap<String, usize>,
    /// Out of scope: positives are `is_oos` rows, predicted positive when the brain says
    /// `out_of_scope` (clinc only).
    pub out_of_scope: Option<Binary>,
    /// The mapping used (bitext only).
    pub mapping: Vec<(String, Intent)>,
    /// The calibration measured on the project's own held-out examples.
    pub calibration: Calibration,
}

impl Report {
    /// Out-of-scope recall (clinc).
    pub fn oos_recall(&self) -> Option<f64> {
        self.out_of_scope.map(|b| b.recall())
    }

    /// Share of clinc's in-scope rows called out of scope (clinc).
    pub fn in_scope_flagged_oos(&self) -> Option<f64> {
        self.out_of_scope
            .map(|b| ratio(b.false_positives, b.false_positives + b.true_negatives))
    }
}

/// Reads a JSON-lines file.
pub fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, BrainError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| BrainError::Read {
        path: shown.clone(),
        source,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|source| BrainError::Parse {
                path: shown.clone(),
                line: i + 1,
                source,
            })
        })
        .collect()
}

/// Evaluates intent accuracy and `needs_human` on bitext rows. `progress(done, total)` is called
/// as rows are processed.
pub fn bitext(brain: &Brain, rows: &[BitextRow], progress: &mut dyn FnMut(usize, usize)) -> Report {
    let mut correct = 0usize;
    let mut counted = 0usize;
    let mut needs_human = Binary::default();
    let mut false_escalations: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_label: BTreeMap<&str, LabelTally> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        let triage = brain.analyze(&row.text);
        needs_human.add(triage.needs_human, row.needs_human);
        if triage.needs_human && !row.needs_human {
            for reason in &triage.escalation {
                *false_escalations.entry(format!("{reason:?}")).or_default() += 1;
            }
        }
        if let Some(expected) = map_bitext(&row.intent) {
            counted += 1;
            let entry =
                per_label
                    .entry(row.intent.as_str())
                    .or_insert((expected, 0, 0, BTreeMap::new()));
            entry.1 += 1;
            if triage.intent == expected {
                correct += 1;
                entry.2 += 1;
            } else {
                *entry.3.entry(triage.intent).or_default() += 1;
            }
        }
        progress(i + 1, rows.len());
    }
    let mut labels: Vec<LabelScore> = per_label
        .into_iter()
        .map(|(label, (expected, n, ok, wrong))| LabelScore {
            label: label.to_owned(),
            expected,
            rows: n,
            correct: ok,
            top_confusion: wrong.into_iter().max_by_key(|(_, c)| *c),
        })
        .collect();
    labels.sort_by(|a, b| ratio(a.correct, a.rows).total_cmp(&ratio(b.correct, b.rows)));
    Report {
        dataset: "bitext".to_owned(),
        rows: rows.len(),
        intent_accuracy: Some(ratio(correct, counted)),
        labels,
        needs_human: Some(needs_human),
        false_escalations,
        out_of_scope: None,
        mapping: BITEXT_MAPPING
            .iter()
            .map(|(n, i)| ((*n).to_owned(), *i))
            .collect(),
        calibration: brain.calibration().clone(),
    }
}

/// Evaluates out-of-scope detection on clinc150 rows.
pub fn clinc_oos(
    brain: &Brain,
    rows: &[ClincRow],
    progress: &mut dyn FnMut(usize, usize),
) -> Report {
    let mut oos = Binary::default();
    for (i, row) in rows.iter().enumerate() {
        let triage = brain.analyze(&row.text);
        oos.add(triage.intent == Intent::OutOfScope, row.is_oos);
        progress(i + 1, rows.len());
    }
    Report {
        dataset: "clinc150".to_owned(),
        rows: rows.len(),
        intent_accuracy: None,
        labels: Vec::new(),
        needs_human: None,
        false_escalations: BTreeMap::new(),
        out_of_scope: Some(oos),
        mapping: Vec::new(),
        calibration: brain.calibration().clone(),
    }
}

/// Reads `bitext-4514.jsonl` (or a file of the same shape) and evaluates it.
pub fn bitext_file(
    brain: &Brain,
    path: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report, BrainError> {
    Ok(bitext(brain, &read_jsonl(path)?, progress))
}

/// Reads `clinc150.jsonl` (or a file of the same shape) and evaluates it.
pub fn clinc_oos_file(
    brain: &Brain,
    path: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report, BrainError> {
    Ok(clinc_oos(brain, &read_jsonl(path)?, progress))
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "== {} ({} rows)", self.dataset, self.rows)?;
        if let Some(acc) = self.intent_accuracy {
            writeln!(f, "intent accuracy            {:>6.1}%", acc * 100.0)?;
        }
        if let Some(nh) = self.needs_human {
            writeln!(
                f,
                "needs_human precision      {:>6.1}%   recall {:>6.1}%   (tp {} fp {} fn {})",
                nh.precision() * 100.0,
                nh.recall() * 100.0,
                nh.true_positives,
                nh.false_positives,
                nh.false_negatives
            )?;
        }
        if !self.false_escalations.is_empty() {
            let reasons: Vec<String> = self
                .false_escalations
                .iter()
                .map(|(r, n)| format!("{r} {n}"))
                .collect();
            writeln!(f, "false escalations by reason: {}", reasons.join(", "))?;
        }
        if let (Some(recall), Some(flagged), Some(b)) = (
            self.oos_recall(),
            self.in_scope_flagged_oos(),
            self.out_of_scope,
        ) {
            writeln!(
                f,
                "out-of-scope recall        {:>6.1}%   ({} of {})",
                recall * 100.0,
                b.true_positives,
                b.true_positives + b.false_negatives
            )?;
            writeln!(
                f,
                "in-scope called oos        {:>6.1}%   ({} of {}; clinc's in-scope intents are not support intents)",
                flagged * 100.0,
                b.false_positives,
                b.false_positives + b.true_negatives
            )?;
        }
        if !self.labels.is_empty() {
            writeln!(
                f,
                "{:<26} {:<17} {:>5} {:>7}  most frequent confusion",
                "label", "turnflow", "rows", "acc"
            )?;
            for l in &self.labels {
                let confusion = l
                    .top_confusion
                    .map(|(i, n)| format!("{i} ({n})"))
                    .unwrap_or_default();
                writeln!(
                    f,
                    "{:<26} {:<17} {:>5} {:>6.1}%  {}",
                    l.label,
                    l.expected.as_str(),
                    l.rows,
                    ratio(l.correct, l.rows) * 100.0,
                    confusion
                )?;
            }
        }
        let c = &self.calibration;
        writeln!(
            f,
            "own held-out: {} examples, accuracy {:.1}%, temperature {}, ECE {:.3} (uncalibrated {:.3}), reject below {:.2}",
            c.heldout,
            c.heldout_accuracy * 100.0,
            c.temperature,
            c.ece,
            c.ece_uncalibrated,
            c.reject_threshold
        )
    }
}
