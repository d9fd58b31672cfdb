//! The project's own training examples, embedded in the binary.
//!
//! One file per language in `activities/brain/train/`, written by the project (never taken from
//! the evaluation corpora). Format: `@intent <wire name>` starts a section; every other non-empty
//! line that does not start with `#` is one example of that intent.
//!
//! A line starting with `+ ` is a *core*: a verb phrase in the infinitive ("cancel my order"). It
//! is kept as is and also wrapped in four of the language's request frames ("I need help to …",
//! "how can I …?"), chosen by a hash of the core. Every intent's cores get frames from the same
//! list, so the classifier learns that the frames say nothing about the intent.

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

/// Request frames per language; `{}` is replaced by a core.
const FRAMES: [(Language, &[&str]); 5] = [
    (
        Language::En,
        &[
            "I want to {}",
            "I'd like to {}",
            "help me {}",
            "how do I {}?",
            "how can I {}?",
            "I need to {}",
            "I need help to {}",
            "I don't know how to {}",
            "what do I have to do to {}?",
            "where can I {}?",
            "is it possible to {}?",
            "please {}",
            "I have to {}",
            "can I {}?",
            "wanna {}",
            "need assistance to {}",
            "I'm trying to {}",
            "tell me how to {}",
            "could you help me {}?",
            "I would like to {}, can you help?",
            "i need to {} asap",
            "hi, I want to {}",
            "can u help me {}",
            "I have got to {}",
        ],
    ),
    (
        Language::Es,
        &[
            "quiero {}",
            "me gustaría {}",
            "ayúdame a {}",
            "¿cómo puedo {}?",
            "necesito {}",
            "no sé cómo {}",
            "¿qué tengo que hacer para {}?",
            "¿dónde puedo {}?",
            "¿es posible {}?",
            "hola, quisiera {}",
            "¿me ayudas a {}?",
            "tengo que {}",
        ],
    ),
    (
        Language::Fr,
        &[
            "je veux {}",
            "je voudrais {}",
            "aidez-moi à {}",
            "comment puis-je {} ?",
            "je dois {}",
            "je ne sais pas comment {}",
            "que dois-je faire pour {} ?",
            "où puis-je {} ?",
            "est-il possible de {} ?",
            "bonjour, j'aimerais {}",
            "pouvez-vous m'aider à {} ?",
            "j'ai besoin de {}",
        ],
    ),
    (
        Language::De,
        &[
            "ich möchte {}",
            "ich will {}",
            "helfen Sie mir, {}",
            "wie kann ich {}?",
            "ich muss {}",
            "ich weiß nicht, wie ich {} kann",
            "was muss ich tun, um {}?",
            "wo kann ich {}?",
            "ist es möglich, {}?",
            "hallo, ich würde gern {}",
            "können Sie mir helfen, {}?",
            "ich brauche Hilfe, um {}",
        ],
    ),
    (
        Language::Zh,
        &[
            "我想{}",
            "我要{}",
            "帮我{}",
            "怎么{}？",
            "我需要{}",
            "请问如何{}？",
            "不知道怎么{}",
            "可以{}吗？",
            "你好，我想{}",
            "麻烦帮我{}",
        ],
    ),
];

/// Frames applied to each core.
const FRAMES_PER_CORE: usize = 4;

/// One training example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The customer's message.
    pub text: String,
    /// The intent it expresses.
    pub intent: Intent,
    /// The language it is written in.
    pub language: Language,
    /// The 1-based line of the training file it comes from: the framed variants of one core
    /// share it, so that a held-out split keeps them together.
    pub line: usize,
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
        match line.strip_prefix("+ ") {
            Some(core) => {
                out.extend(
                    framed(language, core.trim())
                        .into_iter()
                        .map(|text| Example {
                            text,
                            intent,
                            language,
                            line: index + 1,
                        }),
                )
            }
            None => out.push(Example {
                text: line.to_owned(),
                intent,
                language,
                line: index + 1,
            }),
        }
    }
    Ok(out)
}

/// The core itself and [`FRAMES_PER_CORE`] framed variants.
fn framed(language: Language, core: &str) -> Vec<String> {
    let frames = FRAMES
        .iter()
        .find(|(l, _)| *l == language)
        .map(|(_, f)| *f)
        .unwrap_or(&[]);
    let mut out = vec![core.to_owned()];
    if frames.is_empty() {
        return out;
    }
    let start = super::classifier::fnv1a(core) as usize;
    // A stride coprime with any small list length spreads the picks.
    for i in 0..FRAMES_PER_CORE.min(frames.len()) {
        let frame = frames[(start + i * 7) % frames.len()];
        out.push(frame.replacen("{}", core, 1));
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections_and_refuses_unknown_intents() {
        let ok = parse(
            Language::En,
            "# c\n@intent greeting\nhi\n\nhello\n@intent return\nsend back",
        );
        let ok = ok.unwrap_or_default();
        assert_eq!(ok.len(), 3);
        assert_eq!(ok[2].intent, Intent::Return);
        assert!(parse(Language::En, "@intent nope\nx").is_err());
        assert!(parse(Language::En, "orphan").is_err());
    }

    #[test]
    fn cores_are_framed() {
        let got =
            parse(Language::En, "@intent cancel_order\n+ cancel my order").unwrap_or_default();
        assert_eq!(got.len(), 1 + FRAMES_PER_CORE);
        assert_eq!(got[0].text, "cancel my order");
        assert!(
            got[1..]
                .iter()
                .all(|e| e.text.contains("cancel my order") && e.text != "cancel my order")
        );
    }

    #[test]
    fn every_intent_has_examples_in_every_language() {
        let all = examples().unwrap_or_default();
        for language in Language::ALL {
            for intent in Intent::ALL {
                let n = all
                    .iter()
                    .filter(|e| e.language == language && e.intent == intent)
                    .count();
                assert!(n >= 8, "{language} {intent}: only {n} examples");
            }
        }
    }
}
