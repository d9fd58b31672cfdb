//! The languages the knowledge base analyzes, and how a text's language is found.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A language the knowledge base has an analyzer for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English.
    En,
    /// Spanish.
    Es,
    /// Chinese (Mandarin, simplified or traditional script).
    Zh,
    /// French.
    Fr,
    /// German.
    De,
}

impl Language {
    /// Every supported language, in a stable order.
    pub const ALL: [Language; 5] = [
        Language::En,
        Language::Es,
        Language::Zh,
        Language::Fr,
        Language::De,
    ];

    /// The ISO 639-1 code (`en`, `es`, `zh`, `fr`, `de`).
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Es => "es",
            Language::Zh => "zh",
            Language::Fr => "fr",
            Language::De => "de",
        }
    }

    /// Reads a language tag leniently: `en`, `EN-us`, `zh_CN`, `zho`, `german`, `français`…
    /// Returns `None` for languages the knowledge base does not support.
    pub fn from_tag(tag: &str) -> Option<Language> {
        let tag = tag.trim().to_lowercase();
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        match primary {
            "en" | "eng" | "english" => Some(Language::En),
            "es" | "spa" | "spanish" | "español" | "espanol" => Some(Language::Es),
            "zh" | "zho" | "chi" | "cmn" | "chinese" | "中文" | "汉语" | "漢語" => {
                Some(Language::Zh)
            }
            "fr" | "fra" | "fre" | "french" | "français" | "francais" => Some(Language::Fr),
            "de" | "deu" | "ger" | "german" | "deutsch" => Some(Language::De),
            _ => None,
        }
    }

    /// Detects the language of `text` among the supported ones (whatlang, restricted to
    /// en/es/zh/fr/de). `None` when the text carries no usable signal (empty, digits only…).
    pub fn detect(text: &str) -> Option<Language> {
        let detector = whatlang::Detector::with_allowlist(vec![
            whatlang::Lang::Eng,
            whatlang::Lang::Spa,
            whatlang::Lang::Cmn,
            whatlang::Lang::Fra,
            whatlang::Lang::Deu,
        ]);
        match detector.detect_lang(text)? {
            whatlang::Lang::Eng => Some(Language::En),
            whatlang::Lang::Spa => Some(Language::Es),
            whatlang::Lang::Cmn => Some(Language::Zh),
            whatlang::Lang::Fra => Some(Language::Fr),
            whatlang::Lang::Deu => Some(Language::De),
            _ => None,
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A language tag that names no supported language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported language {0:?}")]
pub struct UnsupportedLanguage(pub String);

impl FromStr for Language {
    type Err = UnsupportedLanguage;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Language::from_tag(s).ok_or_else(|| UnsupportedLanguage(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_read_leniently() {
        assert_eq!(Language::from_tag("EN-us"), Some(Language::En));
        assert_eq!(Language::from_tag("zh_CN"), Some(Language::Zh));
        assert_eq!(Language::from_tag("Deutsch"), Some(Language::De));
        assert_eq!(Language::from_tag("it"), None);
        assert_eq!("fr".parse::<Language>(), Ok(Language::Fr));
    }

    #[test]
    fn detection_is_restricted_to_supported_languages() {
        assert_eq!(
            Language::detect("Where is my parcel? It has not arrived yet."),
            Some(Language::En)
        );
        assert_eq!(Language::detect("我的退款什么时候到账"), Some(Language::Zh));
        assert_eq!(
            Language::detect("Wann bekomme ich mein Geld zurück?"),
            Some(Language::De)
        );
        assert_eq!(Language::detect(""), None);
    }
}
