//! The support policy, read from a TOML file at startup (`activities/policy/default.toml`).
//!
//! The rules are data: limits for approvals, what premium customers' cancellations and refunds
//! go to, which writes the bot commits alone, the escalation thresholds, retention, and the
//! denied topics the guardrails refuse.

use std::path::Path;

use regex::{Regex, RegexBuilder};
use serde::Deserialize;

use crate::payload::ProposalKind;

/// The policy shipped with the project.
pub const DEFAULT_POLICY: &str = include_str!("../policy/default.toml");

/// A policy that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("read policy file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid policy.
    #[error("parse policy: {0}")]
    Parse(#[from] toml::de::Error),
    /// A denied-topic pattern is not a valid regular expression.
    #[error("denied topic {topic}: invalid pattern: {source}")]
    Pattern {
        /// The topic.
        topic: String,
        /// Why.
        source: regex::Error,
    },
    /// The file's version is newer than this build reads.
    #[error("policy version {0} is newer than this build reads (1)")]
    Version(u32),
}

/// What a premium customer's cancellation or refund goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PremiumRule {
    /// A human takes the conversation over.
    Escalate,
    /// A human approves the write.
    Approve,
    /// The ordinary rules apply.
    Allow,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    version: u32,
    refund_approval_above: f64,
    premium_cancel_or_refund: PremiumRule,
    auto_commit: Vec<ProposalKind>,
    max_unresolved_turns: u32,
    min_confidence: f64,
    very_negative_sentiment: f64,
    memory_ttl_days: u64,
    document_ttl_days: u64,
    retrieve_top_k: usize,
    grounding_min_overlap: f64,
    #[serde(default)]
    denied_topics: Vec<TopicFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicFile {
    name: String,
    patterns: Vec<String>,
}

/// A topic the bot refuses.
#[derive(Debug, Clone)]
pub struct DeniedTopic {
    /// Its name (the reason code).
    pub name: String,
    /// Its patterns, case-insensitive.
    pub patterns: Vec<Regex>,
}

/// The policy in force.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Refunds and returns worth more than this wait for a human's approval.
    pub refund_approval_above: f64,
    /// What a premium customer's cancellation or refund goes to.
    pub premium_cancel_or_refund: PremiumRule,
    /// Writes committed without approval when no other rule applies.
    pub auto_commit: Vec<ProposalKind>,
    /// Above this many unresolved customer turns, a human takes over.
    pub max_unresolved_turns: u32,
    /// Below this intent confidence, a human takes over.
    pub min_confidence: f64,
    /// At or below this sentiment, a human takes over.
    pub very_negative_sentiment: f64,
    /// How long memory about a customer is kept, in seconds.
    pub memory_ttl_seconds: u64,
    /// How long drafts and handoff packages are kept, in seconds.
    pub document_ttl_seconds: u64,
    /// How many passages Retrieve keeps.
    pub retrieve_top_k: usize,
    /// The share of a knowledge answer's content words that must appear in its cited passages.
    pub grounding_min_overlap: f64,
    /// Denied topics.
    pub denied_topics: Vec<DeniedTopic>,
}

const DAY: u64 = 24 * 60 * 60;

impl Policy {
    /// Parses a policy from TOML text.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let file: PolicyFile = toml::from_str(text)?;
        if file.version > 1 {
            return Err(PolicyError::Version(file.version));
        }
        let mut denied_topics = Vec::new();
        for topic in file.denied_topics {
            let mut patterns = Vec::new();
            for p in &topic.patterns {
                let re = RegexBuilder::new(p)
                    .case_insensitive(true)
                    .build()
                    .map_err(|source| PolicyError::Pattern {
                        topic: topic.name.clone(),
                        source,
                    })?;
                patterns.push(re);
            }
            denied_topics.push(DeniedTopic {
                name: topic.name,
                patterns,
            });
        }
        Ok(Policy {
            refund_approval_above: file.refund_approval_above,
            premium_cancel_or_refund: file.premium_cancel_or_refund,
            auto_commit: file.auto_commit,
            max_unresolved_turns: file.max_unresolved_turns,
            min_confidence: file.min_confidence,
            very_negative_sentiment: file.very_negative_sentiment,
            memory_ttl_seconds: file.memory_ttl_days * DAY,
            document_ttl_seconds: file.document_ttl_days * DAY,
            retrieve_top_k: file.retrieve_top_k,
            grounding_min_overlap: file.grounding_min_overlap,
            denied_topics,
        })
    }

    /// Reads a policy file.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Policy::parse(&text)
    }

    /// The policy shipped with the project ([`DEFAULT_POLICY`]).
    pub fn default_policy() -> Result<Policy, PolicyError> {
        Policy::parse(DEFAULT_POLICY)
    }

    /// The denied topic a text touches, if any.
    pub fn denied_topic(&self, text: &str) -> Option<&str> {
        self.denied_topics
            .iter()
            .find(|t| t.patterns.iter().any(|p| p.is_match(text)))
            .map(|t| t.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_policy_reads() -> Result<(), PolicyError> {
        let policy = Policy::default_policy()?;
        assert_eq!(policy.refund_approval_above, 500.0);
        assert_eq!(policy.premium_cancel_or_refund, PremiumRule::Escalate);
        assert_eq!(policy.memory_ttl_seconds, 90 * DAY);
        assert_eq!(
            policy.denied_topic("what dosage of aspirin?"),
            Some("medical_advice")
        );
        assert_eq!(policy.denied_topic("where is my order?"), None);
        Ok(())
    }

    #[test]
    fn an_unknown_rule_is_refused() {
        let text = DEFAULT_POLICY.replace("version = 1", "version = 1\nrefund_limit = 3");
        assert!(Policy::parse(&text).is_err());
    }
}
