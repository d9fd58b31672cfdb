//! Language identification, restricted to the languages turnflow answers in.

use serde::{Deserialize, Serialize};
use whatlang::{Detector, Lang};

/// A language turnflow understands and answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Language {
    /// English (the fallback).
    #[serde(rename = "en")]
    En,
    /// Spanish.
    #[serde(rename = "es")]
    Es,
    /// Chinese (Mandarin, simplified or traditional script).
    #[serde(rename = "zh")]
    Zh,
    /// French.
    #[serde(rename = "fr")]
    Fr,
    /// German.
    #[serde(rename = "de")]
    De,
}

impl Language {
    /// Every supported language.
    pub const ALL: [Language; 5] = [
        Language::En,
        Language::Es,
        Language::Zh,
        Language::Fr,
        Language::De,
    ];

    /// The ISO 639-1 code.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Es => "es",
            Language::Zh => "zh",
            Language::Fr => "fr",
            Language::De => "de",
        }
    }

    /// Parses an ISO 639-1 code.
    pub fn from_code(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.as_str() == code)
    }

    fn from_whatlang(lang: Lang) -> Option<Language> {
        match lang {
            Lang::Eng => Some(Language::En),
            Lang::Spa => Some(Language::Es),
            Lang::Cmn => Some(Language::Zh),
            Lang::Fra => Some(Language::Fr),
            Lang::Deu => Some(Language::De),
            _ => None,
        }
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Function words that are frequent in support messages and rare in the other four languages.
/// whatlang's trigram profiles are unreliable on a handful of words; these votes decide short texts.
const FUNCTION_WORDS: [(Language, &[&str]); 4] = [
    (
        Language::En,
        &[
            "the", "my", "i", "is", "you", "your", "to", "and", "of", "it", "want", "order",
            "where", "how", "can", "please", "hi", "hello", "thanks", "what", "with", "was",
            "have", "not", "me", "do", "an", "this", "that", "help", "yes", "no", "ok", "bye",
            "need", "does", "when", "which", "would", "could", "why", "there", "from", "for",
            "are", "be",
        ],
    ),
    (
        Language::Es,
        &[
            "el", "la", "los", "las", "mi", "es", "que", "por", "para", "pedido", "quiero", "hola",
            "gracias", "dónde", "donde", "cómo", "como", "mis", "una", "un", "del", "con", "está",
            "esta", "no", "sí", "puedo", "tengo", "necesito", "buenos", "días", "muchas", "usted",
            "favor", "qué", "pero", "muy", "ayuda", "adiós", "cuántos", "cuánto", "cuándo", "hay",
            "tarda", "lo", "su", "sus", "puede", "pueden", "ya", "también", "según",
        ],
    ),
    (
        Language::Fr,
        &[
            "le", "la", "les", "mon", "ma", "mes", "est", "je", "vous", "commande", "bonjour",
            "merci", "où", "comment", "une", "des", "du", "avec", "pas", "ne", "oui", "veux",
            "voudrais", "pour", "et", "votre", "suis", "j'ai", "c'est", "salut", "au", "aux",
            "aide", "besoin", "s'il", "plaît", "bonsoir", "combien", "quel", "quelle", "quels",
            "dans", "sur", "sont", "puis", "pouvez", "avez", "jours", "vers", "est-ce", "aussi",
            "toujours", "encore", "qui", "il", "elle", "nous",
        ],
    ),
    (
        Language::De,
        &[
            "der",
            "die",
            "das",
            "mein",
            "meine",
            "ist",
            "ich",
            "sie",
            "bestellung",
            "hallo",
            "danke",
            "wo",
            "wie",
            "und",
            "nicht",
            "mit",
            "ein",
            "eine",
            "einen",
            "bitte",
            "möchte",
            "habe",
            "ja",
            "nein",
            "für",
            "zu",
            "von",
            "guten",
            "tag",
            "ihr",
            "ihre",
            "wann",
            "kann",
            "hilfe",
            "brauche",
            "tschüss",
            "vielen",
            "welche",
            "welcher",
            "warum",
            "können",
            "ob",
            "schon",
            "noch",
            "auch",
            "ist",
            "sind",
            "wird",
            "dieser",
            "diese",
            "dieses",
            "den",
            "dem",
            "nach",
            "auf",
            "aus",
            "bei",
            "mir",
            "mich",
            "wurde",
        ],
    ),
];

/// Identifies the language of `text` among [`Language::ALL`].
///
/// Text with Han characters is Chinese. Otherwise whatlang decides when it is reliable; for short
/// or unreliable text, votes of frequent function words decide; text with no signal (digits, an
/// e-mail address, one unknown word) falls back to English.
pub fn detect(text: &str) -> Language {
    let han = text.chars().filter(|c| is_han(*c)).count();
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    if han > 0 && han * 3 >= letters {
        return Language::Zh;
    }
    let votes = function_word_votes(text);
    let detector = Detector::with_allowlist(vec![Lang::Eng, Lang::Spa, Lang::Fra, Lang::Deu]);
    let guess = detector.detect(text).and_then(|info| {
        Language::from_whatlang(info.lang())
            .map(|lang| (lang, info.is_reliable(), info.confidence()))
    });
    let best_vote = best_vote(&votes);
    let votes_for = |l: Language| {
        votes
            .iter()
            .find(|(x, _)| *x == l)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    match (guess, best_vote) {
        // When they disagree, clear function-word evidence beats a trigram profile.
        (Some((lang, reliable, _)), Some(voted)) if lang != voted => {
            if reliable && letters >= 20 && votes_for(voted) < votes_for(lang) + 2 {
                lang
            } else {
                voted
            }
        }
        (Some((lang, true, _)), _) if letters >= 20 => lang,
        (_, Some(voted)) => voted,
        (Some((lang, _, confidence)), None) if letters >= 12 && confidence > 0.5 => lang,
        _ => Language::En,
    }
}

fn function_word_votes(text: &str) -> [(Language, usize); 4] {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    FUNCTION_WORDS.map(|(lang, list)| {
        let n = words.iter().filter(|w| list.contains(w)).count();
        (lang, n)
    })
}

/// The language with strictly the most votes, if any has at least one.
fn best_vote(votes: &[(Language, usize); 4]) -> Option<Language> {
    let max = votes.iter().map(|(_, n)| *n).max().unwrap_or(0);
    if max == 0 {
        return None;
    }
    let mut winners = votes.iter().filter(|(_, n)| *n == max);
    let first = winners.next().map(|(l, _)| *l);
    if winners.next().is_some() {
        None
    } else {
        first
    }
}

/// Whether `c` is a CJK ideograph.
pub(crate) fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(
        "Where is my order? It was supposed to arrive yesterday.",
        Language::En
    )]
    #[case("hi", Language::En)]
    #[case("thanks!", Language::En)]
    #[case("12345678", Language::En)]
    #[case("", Language::En)]
    #[case("¿Dónde está mi pedido? Lo compré hace una semana.", Language::Es)]
    #[case("hola, quiero cancelar mi pedido", Language::Es)]
    #[case("muchas gracias", Language::Es)]
    #[case(
        "Bonjour, je voudrais annuler ma commande s'il vous plaît.",
        Language::Fr
    )]
    #[case("où est ma commande", Language::Fr)]
    #[case("merci beaucoup", Language::Fr)]
    #[case("Hallo, ich möchte meine Bestellung stornieren.", Language::De)]
    #[case("wo ist meine bestellung", Language::De)]
    #[case("vielen Dank", Language::De)]
    #[case("我的订单在哪里？", Language::Zh)]
    #[case("我想退货, order 12345678", Language::Zh)]
    #[case("谢谢", Language::Zh)]
    fn identifies_language(#[case] text: &str, #[case] expected: Language) {
        assert_eq!(detect(text), expected, "{text}");
    }
}
