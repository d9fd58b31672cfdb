//! The brain itself: one call turns a customer message into a [`Triage`].

use serde::{Deserialize, Serialize};

use super::classifier::{
    self, Calibration, Classifier, Params, Sample, argmax, expected_calibration_error,
    fit_temperature, fnv1a,
};
use super::corpus::{self, Example};
use super::entity::{Entity, Extractor};
use super::error::BrainError;
use super::features;
use super::intent::Intent;
use super::language::{self, Language};
use super::rules::{Rules, Signal};
use super::sentiment::{self, Sentiment};

/// The schema version of [`Triage`].
pub const TRIAGE_VERSION: u32 = 1;

/// Below this calibrated confidence an actionable intent (a write in the back office) goes to a
/// person rather than to the bot.
pub const ACTIONABLE_MIN_CONFIDENCE: f32 = 0.5;

/// Whether the message may go on to the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "verdict", content = "reason")]
pub enum Firewall {
    /// The message may proceed.
    Allowed,
    /// The message is answered with a refusal.
    Blocked(BlockReason),
}

/// Why a message is blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockReason {
    /// Prompt injection or jailbreak.
    PromptAttack,
    /// Insults or threats.
    Abuse,
    /// Not a support request.
    OffTopic,
}

/// Why a message needs a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    /// The customer asked for a person.
    HumanRequest,
    /// The customer threatened legal action.
    LegalThreat,
    /// The message is very negative.
    VeryNegative,
    /// The intent would change something and the brain is not sure of it.
    LowConfidence,
}

/// An intent with its calibrated probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// The intent.
    pub intent: Intent,
    /// Its calibrated probability.
    pub confidence: f32,
}

/// What the brain makes of one customer message. Serialised as an activity output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Triage {
    /// Schema version ([`TRIAGE_VERSION`]).
    pub v: u32,
    /// The message's language.
    pub language: Language,
    /// The intent.
    pub intent: Intent,
    /// Calibrated confidence in `intent` (a rule match counts as at least 0.95).
    pub confidence: f32,
    /// The three most likely intents according to the classifier, best first.
    pub alternatives: Vec<Scored>,
    /// The firewall's verdict.
    pub firewall: Firewall,
    /// The rule layer's signals.
    pub signals: Vec<Signal>,
    /// Entities found.
    pub entities: Vec<Entity>,
    /// Sentiment.
    pub sentiment: Sentiment,
    /// Whether a person must take over.
    pub needs_human: bool,
    /// Why, when `needs_human`.
    pub escalation: Vec<EscalationReason>,
}

/// The embedded brain: a classifier trained at construction on the project's own examples, the
/// rule layer, the entity extractor and the sentiment lexicons. Build once, share by reference.
#[derive(Debug, Clone)]
pub struct Brain {
    classifier: Classifier,
    calibration: Calibration,
    rules: Rules,
    extractor: Extractor,
}

impl Brain {
    /// Trains the classifier and compiles the rules (about a second in a release build).
    pub fn new() -> Result<Brain, BrainError> {
        let examples = corpus::examples()?;
        Brain::train(&examples, Params::default())
    }

    /// Trains on `examples`: first on four fifths to fit the temperature and the reject threshold
    /// on the remaining fifth (split by source line, so that the framed variants of one core are
    /// never on both sides), then on everything.
    pub fn train(examples: &[Example], params: Params) -> Result<Brain, BrainError> {
        let samples: Vec<(Sample, bool)> = examples
            .iter()
            .map(|e| {
                let sample = Sample {
                    features: features::extract(&e.text),
                    class: e.intent.index(),
                };
                let group = format!("{}:{}", e.language, e.line);
                (sample, fnv1a(&group).is_multiple_of(5))
            })
            .collect();
        let train: Vec<Sample> = samples
            .iter()
            .filter(|(_, held)| !held)
            .map(|(s, _)| s.clone())
            .collect();
        let split_model = Classifier::train(&train, Intent::ALL.len(), params);
        let heldout: Vec<(Vec<f32>, usize)> = samples
            .iter()
            .filter(|(_, held)| *held)
            .map(|(s, _)| (split_model.scores(&s.features), s.class))
            .collect();
        let calibration = calibrate(&heldout);
        let all: Vec<Sample> = samples.into_iter().map(|(s, _)| s).collect();
        let mut classifier = Classifier::train(&all, Intent::ALL.len(), params);
        classifier.set_temperature(calibration.temperature);
        Ok(Brain {
            classifier,
            calibration,
            rules: Rules::new()?,
            extractor: Extractor::new()?,
        })
    }

    /// The calibration measured on the held-out fifth of the project's own examples.
    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }

    /// Analyses one customer message. Never fails: any text, even empty, gets a triage.
    pub fn analyze(&self, text: &str) -> Triage {
        let language = language::detect(text);
        let probabilities = self.classifier.probabilities(&features::extract(text));
        let mut ranked: Vec<Scored> = Intent::ALL
            .into_iter()
            .zip(probabilities.iter().copied())
            .map(|(intent, confidence)| Scored { intent, confidence })
            .collect();
        ranked.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        let alternatives: Vec<Scored> = ranked.iter().take(3).copied().collect();
        let (best, best_conf) = argmax(&probabilities);
        let mut intent = Intent::ALL.get(best).copied().unwrap_or(Intent::OutOfScope);
        let mut confidence = best_conf;
        if intent != Intent::OutOfScope && confidence < self.calibration.reject_threshold {
            intent = Intent::OutOfScope;
            confidence = 1.0 - best_conf;
        }

        let signals = self.rules.signals(text);
        let forced = [
            (Signal::PromptAttack, Intent::PromptAttack),
            (Signal::LegalThreat, Intent::LegalThreat),
            (Signal::HumanRequest, Intent::HumanRequest),
        ]
        .into_iter()
        .find(|(s, _)| signals.contains(s));
        if let Some((_, forced)) = forced {
            confidence = probabilities[forced.index()].max(0.95);
            intent = forced;
        }

        let sentiment = sentiment::score(text);
        let firewall = if intent == Intent::PromptAttack {
            Firewall::Blocked(BlockReason::PromptAttack)
        } else if signals.contains(&Signal::Abuse) {
            Firewall::Blocked(BlockReason::Abuse)
        } else if intent == Intent::OutOfScope {
            Firewall::Blocked(BlockReason::OffTopic)
        } else {
            Firewall::Allowed
        };

        let mut escalation = Vec::new();
        if intent == Intent::HumanRequest {
            escalation.push(EscalationReason::HumanRequest);
        }
        if intent == Intent::LegalThreat || signals.contains(&Signal::LegalThreat) {
            escalation.push(EscalationReason::LegalThreat);
        }
        if sentiment.very_negative && firewall == Firewall::Allowed {
            escalation.push(EscalationReason::VeryNegative);
        }
        if intent.is_actionable() && confidence < ACTIONABLE_MIN_CONFIDENCE {
            escalation.push(EscalationReason::LowConfidence);
        }
        Triage {
            v: TRIAGE_VERSION,
            language,
            intent,
            confidence,
            alternatives,
            firewall,
            signals,
            entities: self.extractor.extract(text, language),
            sentiment,
            needs_human: !escalation.is_empty(),
            escalation,
        }
    }
}

/// Fits the temperature and the reject threshold on held-out scores.
fn calibrate(heldout: &[(Vec<f32>, usize)]) -> Calibration {
    let temperature = fit_temperature(heldout);
    let correct = heldout
        .iter()
        .filter(|(scores, class)| argmax(scores).0 == *class)
        .count();
    let oos = Intent::OutOfScope.index();
    // The confidence of the top in-scope guess on in-scope held-out examples; the threshold keeps
    // 95% of them.
    let mut in_scope: Vec<f32> = heldout
        .iter()
        .filter(|(_, class)| *class != oos)
        .filter_map(|(scores, _)| {
            let mut p = scores.clone();
            classifier::softmax_in_place(&mut p, temperature);
            let (arg, conf) = argmax(&p);
            (arg != oos).then_some(conf)
        })
        .collect();
    in_scope.sort_by(f32::total_cmp);
    let reject_threshold = in_scope.get(in_scope.len() / 20).copied().unwrap_or(0.0);
    Calibration {
        temperature,
        heldout: heldout.len(),
        heldout_accuracy: correct as f32 / heldout.len().max(1) as f32,
        ece_uncalibrated: expected_calibration_error(heldout, 1.0),
        ece: expected_calibration_error(heldout, temperature),
        reject_threshold,
    }
}
