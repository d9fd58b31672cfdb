//! The per-language analyzers: how text in each language becomes index terms.
//!
//! - en, es, fr, de: tantivy's simple tokenizer, long tokens dropped, lowercased, the language's
//!   stop words removed, accents folded, then the language's Snowball stemmer. Folding before
//!   stemming means a query typed without accents (`devolucion`) meets the same terms as the
//!   accented text (`devolución`).
//! - zh: jieba segmentation in search mode (long words also yield their sub-words), tokens without
//!   a letter or digit (punctuation, spaces) dropped, lowercased (Latin words inside Chinese
//!   text), and a short list of function words removed.

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language as StemLanguage, LowerCaser, RemoveLongFilter, SimpleTokenizer,
    Stemmer, StopWordFilter, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
    TokenizerManager,
};
use tantivy_jieba::JiebaTokenizer;

use super::language::Language;

/// Tokens longer than this many bytes are dropped (they are ids, URLs or noise, not words).
const MAX_TOKEN_BYTES: usize = 40;

/// Chinese function words and question particles that carry no topic.
const ZH_STOP_WORDS: &[&str] = &[
    "的",
    "了",
    "是",
    "我",
    "你",
    "您",
    "他",
    "她",
    "它",
    "我们",
    "你们",
    "他们",
    "在",
    "吗",
    "呢",
    "吧",
    "啊",
    "呀",
    "和",
    "与",
    "及",
    "或",
    "也",
    "都",
    "就",
    "还",
    "要",
    "会",
    "能",
    "怎么",
    "怎样",
    "如何",
    "什么",
    "哪",
    "哪里",
    "为什么",
    "请",
    "请问",
    "一下",
    "这",
    "那",
    "这个",
    "那个",
    "有",
    "被",
    "把",
    "给",
    "对",
    "从",
    "个",
    "之",
    "其",
    "及其",
    "等",
];

/// The name the language's analyzer is registered under in an index.
pub fn tokenizer_name(language: Language) -> &'static str {
    match language {
        Language::En => "turnflow_en",
        Language::Es => "turnflow_es",
        Language::Zh => "turnflow_zh",
        Language::Fr => "turnflow_fr",
        Language::De => "turnflow_de",
    }
}

/// Builds the analyzer for `language`.
pub fn analyzer(language: Language) -> TextAnalyzer {
    let stem = match language {
        Language::En => StemLanguage::English,
        Language::Es => StemLanguage::Spanish,
        Language::Fr => StemLanguage::French,
        Language::De => StemLanguage::German,
        Language::Zh => {
            return TextAnalyzer::builder(JiebaTokenizer::new())
                .filter(WordOnlyFilter)
                .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
                .filter(LowerCaser)
                .filter(StopWordFilter::remove(
                    ZH_STOP_WORDS.iter().map(|w| (*w).to_owned()),
                ))
                .build();
        }
    };
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .dynamic();
    let builder = match StopWordFilter::new(stem) {
        Some(stop_words) => builder.filter_dynamic(stop_words),
        None => builder,
    };
    builder
        .filter_dynamic(AsciiFoldingFilter)
        .filter_dynamic(Stemmer::new(stem))
        .build()
}

/// Registers every language's analyzer in an index's tokenizer manager. Analyzers are not
/// persisted with an index, so this runs both when an index is created and when it is opened.
pub fn register(manager: &TokenizerManager) {
    for language in Language::ALL {
        manager.register(tokenizer_name(language), analyzer(language));
    }
}

/// One analyzed token: the index term and where it came from in the text (byte offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The term as indexed.
    pub text: String,
    /// Byte offset of the token's start in the analyzed text.
    pub from: usize,
    /// Byte offset just past the token's end.
    pub to: usize,
}

/// Runs `analyzer` over `text`.
pub fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Term> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        let token = stream.token();
        out.push(Term {
            text: token.text.clone(),
            from: token.offset_from,
            to: token.offset_to,
        });
    }
    out
}

/// Drops tokens without any letter or digit (punctuation and whitespace, which the jieba
/// tokenizer emits as tokens of their own).
#[derive(Clone, Copy, Debug)]
struct WordOnlyFilter;

impl TokenFilter for WordOnlyFilter {
    type Tokenizer<T: Tokenizer> = WordOnlyTokenizer<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> WordOnlyTokenizer<T> {
        WordOnlyTokenizer(tokenizer)
    }
}

#[derive(Clone, Debug)]
struct WordOnlyTokenizer<T>(T);

impl<T: Tokenizer> Tokenizer for WordOnlyTokenizer<T> {
    type TokenStream<'a> = WordOnlyStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        WordOnlyStream(self.0.token_stream(text))
    }
}

struct WordOnlyStream<S>(S);

impl<S: TokenStream> TokenStream for WordOnlyStream<S> {
    fn advance(&mut self) -> bool {
        while self.0.advance() {
            if self.0.token().text.chars().any(char::is_alphanumeric) {
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        self.0.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(language: Language, text: &str) -> Vec<String> {
        analyze(&mut analyzer(language), text)
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn english_is_stemmed_and_stop_words_dropped() {
        assert_eq!(
            terms(Language::En, "The Refunds are refunded"),
            vec!["refund", "refund"]
        );
    }

    #[test]
    fn accents_do_not_matter() {
        assert_eq!(
            terms(Language::Es, "devolución"),
            terms(Language::Es, "devolucion")
        );
        assert_eq!(
            terms(Language::Fr, "remboursé"),
            terms(Language::Fr, "rembourse")
        );
        assert_eq!(
            terms(Language::De, "Rückgabe"),
            terms(Language::De, "Ruckgabe")
        );
    }

    #[test]
    fn chinese_is_segmented_without_punctuation() {
        let t = terms(Language::Zh, "我的退款什么时候到账？PayPal");
        assert!(t.contains(&"退款".to_owned()), "{t:?}");
        assert!(t.contains(&"paypal".to_owned()), "{t:?}");
        assert!(!t.iter().any(|t| t == "？" || t == "的"), "{t:?}");
    }
}
