//! Turning text into sparse features: words, word pairs and character n-grams.
//!
//! Character n-grams (3 to 5, inside word boundaries) make the classifier robust to typos and
//! inflection in the Latin-script languages; Chinese, written without spaces, gets character
//! unigrams, bigrams and trigrams of each Han run instead of words.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::language::is_han;

/// Normalises text for matching: NFKC, lowercase, accents removed, digit runs collapsed to `0`
/// (order numbers and amounts must not teach the classifier anything).
pub fn normalize(text: &str) -> String {
    let folded: String = text
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .collect::<String>()
        .nfkc()
        .flat_map(char::to_lowercase)
        .collect();
    let mut out = String::with_capacity(folded.len());
    let mut in_digits = false;
    for c in folded.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('0');
            }
            in_digits = true;
        } else {
            in_digits = false;
            out.push(c);
        }
    }
    out
}

/// A token of normalised text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A run of letters, digits or apostrophes in a spaced script.
    Word(String),
    /// A run of Han characters.
    Han(String),
}

/// Splits normalised text into word and Han-run tokens.
pub fn tokenize(normalized: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut han = String::new();
    for c in normalized.chars() {
        if is_han(c) {
            flush(&mut word, &mut tokens, Token::Word);
            han.push(c);
        } else if c.is_alphanumeric() || c == '\'' {
            flush(&mut han, &mut tokens, Token::Han);
            word.push(c);
        } else {
            flush(&mut word, &mut tokens, Token::Word);
            flush(&mut han, &mut tokens, Token::Han);
        }
    }
    flush(&mut word, &mut tokens, Token::Word);
    flush(&mut han, &mut tokens, Token::Han);
    tokens
}

fn flush(buf: &mut String, tokens: &mut Vec<Token>, make: fn(String) -> Token) {
    let trimmed = buf.trim_matches('\'');
    if !trimmed.is_empty() {
        tokens.push(make(trimmed.to_owned()));
    }
    buf.clear();
}

/// The feature strings of `text`, deduplicated, in first-seen order.
pub fn extract(text: &str) -> Vec<String> {
    let normalized = normalize(text);
    let tokens = tokenize(&normalized);
    let mut out: Vec<String> = Vec::new();
    let mut prev: Option<&str> = None;
    for token in &tokens {
        match token {
            Token::Word(w) => {
                out.push(format!("w:{w}"));
                if let Some(p) = prev {
                    out.push(format!("b:{p}_{w}"));
                }
                prev = Some(w.as_str());
                char_ngrams(w, &mut out);
            }
            Token::Han(h) => {
                prev = None;
                han_ngrams(h, &mut out);
            }
        }
    }
    let mut seen = std::collections::HashSet::with_capacity(out.len());
    out.retain(|f| seen.insert(f.clone()));
    out
}

fn char_ngrams(word: &str, out: &mut Vec<String>) {
    let padded: Vec<char> = std::iter::once('<')
        .chain(word.chars())
        .chain(std::iter::once('>'))
        .collect();
    for n in 3..=5 {
        if padded.len() < n {
            break;
        }
        for window in padded.windows(n) {
            let gram: String = window.iter().collect();
            out.push(format!("c:{gram}"));
        }
    }
}

fn han_ngrams(run: &str, out: &mut Vec<String>) {
    let chars: Vec<char> = run.chars().collect();
    for n in 1..=3 {
        if chars.len() < n {
            break;
        }
        for window in chars.windows(n) {
            let gram: String = window.iter().collect();
            out.push(format!("h:{gram}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_case_accents_and_digits() {
        assert_eq!(
            normalize("Dónde ESTÁ mi Pedido 12345?"),
            "donde esta mi pedido 0?"
        );
        assert_eq!(normalize("Größe"), "große");
        assert_eq!(normalize("ＡＢＣ１２"), "abc0");
    }

    #[test]
    fn tokenize_splits_han_runs_from_words() {
        let tokens = tokenize(&normalize("我的订单 order 0 到了吗"));
        assert_eq!(
            tokens,
            vec![
                Token::Han("我的订单".into()),
                Token::Word("order".into()),
                Token::Word("0".into()),
                Token::Han("到了吗".into()),
            ]
        );
    }

    #[test]
    fn extract_has_words_pairs_and_ngrams() {
        let f = extract("cancel order");
        for want in [
            "w:cancel",
            "w:order",
            "b:cancel_order",
            "c:<ca",
            "c:der>",
            "c:cance",
        ] {
            assert!(f.iter().any(|x| x == want), "missing {want} in {f:?}");
        }
        let z = extract("退货");
        for want in ["h:退", "h:货", "h:退货"] {
            assert!(z.iter().any(|x| x == want), "missing {want} in {z:?}");
        }
    }
}
