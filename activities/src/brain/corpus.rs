//! The project's own training examples, embedded in the binary.
//!
//! One file per language in `activities/brain/train/`, written by the project (never taken from
//! the evaluation corpora). Format: `@intent <wire name>` starts a section; every other non-empty
//! line that does not start with `#` is one example of that intent.

use super::error::BrainError;
use super::intent::Intent;
use super::language::Language;

/// The embedded training files, one per language.
const FILES: [(Language, &str); 5] = [
    (Language::En, include_str!("../../brain/train/en.txt")),
    (Language::Es, include_str!("../../brain/train/es.txt")),
    (Language::Zh, include_str!("../../brain/train/zh.txt")),
    (Language::Fr, include_str!("../../brain/train/fr.txt")),
    (Language::De, include_str!("../../brain/train/de.txt")),
];

/// One training example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The customer's message.
    pub text: String,
    /// The intent it expresses.
    pub intent: Intent,
    /// The language it is written in.
    pub language: Language,
}

/// All embedded examples, in file order.
pub fn examples() -> Result<Vec<Example>, BrainError> {
    let mut out = Vec::new();
    for (language, source) in FILES {
        out.extend(parse(language, source)?);
    }
    Ok(out)
}

/// Parses one training file.
pub fn parse(language: Language, source: &str) -> Result<Vec<Example>, BrainError> {
    let mut current: Option<Intent> = None;
    let mut out = Vec::new();
    for (index, raw) in source.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix("@intent") {
            let name = name.trim();
            current = Some(Intent::from_name(name).ok_or_else(|| BrainError::Corpus {
                language: language.as_str(),
                line: index + 1,
                reason: format!("unknown intent `{name}`"),
            })?);
            continue;
        }
        let intent = current.ok_or(BrainError::Corpus {
            language: language.as_str(),
            line: index + 1,
            reason: "example before any `@intent` line".to_owned(),
        })?;
        out.push(Example { text: line.to_owned(), intent, language });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections_and_refuses_unknown_intents() {
        let ok = parse(Language::En, "# c\n@intent greeting\nhi\n\nhello\n@intent return\nsend back");
        let ok = ok.unwrap_or_default();
        assert_eq!(ok.len(), 3);
        assert_eq!(ok[2].intent, Intent::Return);
        assert!(parse(Language::En, "@intent nope\nx").is_err());
        assert!(parse(Language::En, "orphan").is_err());
    }

    #[test]
    fn every_intent_has_examples_in_every_language() {
        let all = examples().unwrap_or_default();
        for language in Language::ALL {
            for intent in Intent::ALL {
                let n = all.iter().filter(|e| e.language == language && e.intent == intent).count();
                assert!(n >= 8, "{language} {intent}: only {n} examples");
            }
        }
    }
}
