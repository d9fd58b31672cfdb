//! Lexicon-based sentiment in five languages, in the manner of VADER.
//!
//! Each lexicon word has a valence from -4 to +4. A negation in the three words before flips and
//! damps it; an intensifier just before strengthens it; a word in capitals (in a message that is
//! not all capitals) and repeated `!` strengthen the whole. The sum `x` is squashed to [-1, 1] by
//! `x / sqrt(x² + 15)`.

use serde::{Deserialize, Serialize};

use super::features::{Token, normalize, tokenize};

/// At or below this score a message is very negative (an angry customer: bring in a person).
pub const VERY_NEGATIVE: f32 = -0.7;

/// A sentiment reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sentiment {
    /// From -1 (furious) to 1 (delighted); 0 is neutral.
    pub score: f32,
    /// Whether `score <= VERY_NEGATIVE`.
    pub very_negative: bool,
}

/// Words (normalised: lowercase, no accents) and their valence.
const LEXICON: &[(&str, f32)] = &[
    // English
    ("good", 1.9),
    ("great", 3.1),
    ("excellent", 3.2),
    ("amazing", 3.0),
    ("awesome", 3.1),
    ("love", 3.2),
    ("loved", 2.9),
    ("perfect", 2.7),
    ("happy", 2.7),
    ("glad", 2.0),
    ("thanks", 1.9),
    ("thank", 1.5),
    ("helpful", 1.8),
    ("fast", 1.0),
    ("nice", 1.8),
    ("wonderful", 2.7),
    ("satisfied", 1.8),
    ("pleased", 2.0),
    ("appreciate", 1.8),
    ("best", 2.5),
    ("bad", -2.5),
    ("terrible", -3.1),
    ("horrible", -3.1),
    ("awful", -3.0),
    ("worst", -3.1),
    ("hate", -2.7),
    ("angry", -2.7),
    ("furious", -3.2),
    ("annoyed", -2.0),
    ("upset", -2.0),
    ("disappointed", -2.2),
    ("disappointing", -2.2),
    ("unacceptable", -2.9),
    ("ridiculous", -2.3),
    ("useless", -2.4),
    ("broken", -1.8),
    ("damaged", -1.8),
    ("late", -1.0),
    ("never", -0.6),
    ("scam", -3.0),
    ("fraud", -3.0),
    ("rude", -2.5),
    ("poor", -2.0),
    ("wrong", -1.6),
    ("frustrated", -2.3),
    ("frustrating", -2.3),
    ("disgusting", -3.0),
    ("pathetic", -2.8),
    ("sick", -1.5),
    ("tired", -1.2),
    ("incompetent", -2.8),
    ("joke", -1.2),
    ("fed", -0.8),
    ("shit", -2.6),
    ("crap", -2.3),
    ("damn", -1.0),
    ("fucking", -1.5),
    ("wtf", -2.4),
    ("problem", -1.0),
    ("issue", -0.6),
    ("unhappy", -2.3),
    ("complain", -1.6),
    ("missing", -1.2),
    // Spanish
    ("bueno", 1.9),
    ("buena", 1.9),
    ("genial", 3.0),
    ("excelente", 3.2),
    ("perfecto", 2.7),
    ("encanta", 3.0),
    ("feliz", 2.7),
    ("contento", 2.2),
    ("contenta", 2.2),
    ("gracias", 1.9),
    ("rapido", 1.0),
    ("amable", 2.0),
    ("maravilloso", 2.8),
    ("malo", -2.5),
    ("mala", -2.5),
    ("terrible", -3.1),
    ("horrible", -3.1),
    ("pesimo", -3.1),
    ("pesima", -3.1),
    ("odio", -2.7),
    ("enfadado", -2.7),
    ("enfadada", -2.7),
    ("furioso", -3.2),
    ("furiosa", -3.2),
    ("harto", -2.4),
    ("harta", -2.4),
    ("decepcionado", -2.2),
    ("decepcionada", -2.2),
    ("inaceptable", -2.9),
    ("ridiculo", -2.3),
    ("inutil", -2.4),
    ("roto", -1.8),
    ("rota", -1.8),
    ("estafa", -3.0),
    ("fraude", -3.0),
    ("vergonzoso", -2.8),
    ("verguenza", -2.5),
    ("mierda", -2.6),
    ("problema", -1.0),
    ("tarde", -0.8),
    ("nunca", -0.6),
    ("molesto", -2.0),
    ("molesta", -2.0),
    ("fatal", -2.8),
    ("incompetentes", -2.8),
    // French
    ("bon", 1.9),
    ("bonne", 1.9),
    ("super", 2.5),
    ("excellent", 3.2),
    ("parfait", 2.7),
    ("adore", 3.0),
    ("content", 2.2),
    ("contente", 2.2),
    ("ravi", 2.7),
    ("ravie", 2.7),
    ("merci", 1.9),
    ("genial", 3.0),
    ("formidable", 2.8),
    ("aimable", 2.0),
    ("mauvais", -2.5),
    ("mauvaise", -2.5),
    ("nul", -2.6),
    ("nulle", -2.6),
    ("horrible", -3.1),
    ("deteste", -2.7),
    ("furieux", -3.2),
    ("furieuse", -3.2),
    ("enerve", -2.4),
    ("enervee", -2.4),
    ("decu", -2.2),
    ("decue", -2.2),
    ("decevant", -2.2),
    ("inadmissible", -2.9),
    ("inacceptable", -2.9),
    ("ridicule", -2.3),
    ("inutile", -2.4),
    ("casse", -1.8),
    ("cassee", -1.8),
    ("arnaque", -3.0),
    ("honteux", -2.8),
    ("honte", -2.5),
    ("merde", -2.6),
    ("lamentable", -2.8),
    ("scandaleux", -2.9),
    ("probleme", -1.0),
    ("retard", -1.0),
    ("jamais", -0.6),
    ("marre", -2.4),
    ("pire", -3.0),
    // German
    ("gut", 1.9),
    ("toll", 2.7),
    ("super", 2.5),
    ("ausgezeichnet", 3.2),
    ("perfekt", 2.7),
    ("zufrieden", 2.0),
    ("glucklich", 2.7),
    ("froh", 2.0),
    ("danke", 1.9),
    ("schnell", 1.0),
    ("freundlich", 2.0),
    ("hervorragend", 3.1),
    ("liebe", 2.5),
    ("klasse", 2.5),
    ("schlecht", -2.5),
    ("schrecklich", -3.1),
    ("furchtbar", -3.1),
    ("katastrophe", -3.0),
    ("hasse", -2.7),
    ("wutend", -3.0),
    ("sauer", -2.4),
    ("verargert", -2.4),
    ("enttauscht", -2.2),
    ("enttauschend", -2.2),
    ("inakzeptabel", -2.9),
    ("unverschamt", -2.9),
    ("lacherlich", -2.3),
    ("nutzlos", -2.4),
    ("kaputt", -1.8),
    ("defekt", -1.8),
    ("betrug", -3.0),
    ("abzocke", -3.0),
    ("frechheit", -2.9),
    ("mist", -2.3),
    ("scheisse", -2.6),
    ("schlimmste", -3.1),
    ("problem", -1.0),
    ("verspatet", -1.0),
    ("nie", -0.6),
    ("unmoglich", -2.3),
];

/// Chinese lexicon, matched as substrings (no word boundaries in Chinese).
const ZH_LEXICON: &[(&str, f32)] = &[
    ("好", 1.5),
    ("很好", 2.2),
    ("满意", 2.0),
    ("谢谢", 1.9),
    ("感谢", 2.0),
    ("喜欢", 2.5),
    ("棒", 2.7),
    ("完美", 2.7),
    ("快", 0.8),
    ("开心", 2.5),
    ("高兴", 2.5),
    ("优秀", 3.0),
    ("差", -2.5),
    ("糟糕", -3.0),
    ("失望", -2.2),
    ("生气", -2.7),
    ("愤怒", -3.2),
    ("气死", -3.2),
    ("垃圾", -3.0),
    ("骗子", -3.0),
    ("欺诈", -3.0),
    ("坏", -1.8),
    ("破", -1.2),
    ("慢", -1.0),
    ("问题", -0.8),
    ("不能接受", -2.9),
    ("无法接受", -2.9),
    ("离谱", -2.6),
    ("恶心", -3.0),
    ("烂", -2.6),
    ("太差", -3.0),
    ("最差", -3.1),
    ("受够", -2.6),
    ("讨厌", -2.5),
    ("投诉", -1.5),
];

const NEGATIONS: &[&str] = &[
    "not", "no", "never", "don't", "dont", "isn't", "isnt", "wasn't", "wasnt", "didn't", "didnt",
    "nothing", "nor", "aren't", "won't", "cannot", "can't", "neither", "ni", "nunca", "tampoco",
    "nada", "pas", "jamais", "ne", "rien", "nicht", "kein", "keine", "keinen", "nie", "niemals",
    "nichts",
];

const INTENSIFIERS: &[&str] = &[
    "very",
    "really",
    "so",
    "extremely",
    "absolutely",
    "totally",
    "completely",
    "super",
    "too",
    "utterly",
    "incredibly",
    "muy",
    "tan",
    "demasiado",
    "totalmente",
    "absolutamente",
    "tres",
    "vraiment",
    "trop",
    "totalement",
    "completement",
    "sehr",
    "total",
    "extrem",
    "echt",
    "absolut",
    "wirklich",
    "vollig",
    "so",
];

const ZH_NEGATIONS: [char; 3] = ['不', '没', '别'];
const ZH_INTENSIFIERS: [&str; 5] = ["很", "非常", "太", "特别", "超"];

/// Scores `text`.
pub fn score(text: &str) -> Sentiment {
    let normalized = normalize(text);
    let mut total = 0.0f32;
    let mut words: Vec<String> = Vec::new();
    for token in tokenize(&normalized) {
        match token {
            Token::Word(w) => words.push(w),
            Token::Han(run) => total += han_valence(&run),
        }
    }
    for (i, word) in words.iter().enumerate() {
        let Some(mut v) = valence(word) else { continue };
        let start = i.saturating_sub(3);
        if words[start..i]
            .iter()
            .any(|w| NEGATIONS.contains(&w.as_str()))
        {
            v *= -0.5;
        }
        if i > 0 && INTENSIFIERS.contains(&words[i - 1].as_str()) {
            v *= 1.5;
        }
        total += v;
    }
    total *= emphasis(text);
    let score = (total / (total * total + 15.0).sqrt()).clamp(-1.0, 1.0);
    Sentiment {
        score,
        very_negative: score <= VERY_NEGATIVE,
    }
}

fn valence(word: &str) -> Option<f32> {
    LEXICON.iter().find(|(w, _)| *w == word).map(|(_, v)| *v)
}

fn han_valence(run: &str) -> f32 {
    let mut total = 0.0;
    let mut taken: Vec<(usize, usize)> = Vec::new();
    // Longest entries first, so that 太差 is not also counted as 差.
    let mut entries: Vec<&(&str, f32)> = ZH_LEXICON.iter().collect();
    entries.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
    for (word, value) in entries {
        for (pos, _) in run.match_indices(word) {
            let end = pos + word.len();
            if taken.iter().any(|&(s, e)| pos < e && s < end) {
                continue;
            }
            taken.push((pos, end));
            let before = &run[..pos];
            let mut v = *value;
            if before
                .chars()
                .rev()
                .take(2)
                .any(|c| ZH_NEGATIONS.contains(&c))
            {
                v *= -0.5;
            }
            if ZH_INTENSIFIERS.iter().any(|i| before.ends_with(i)) {
                v *= 1.5;
            }
            total += v;
        }
    }
    total
}

/// Exclamation marks and shouting strengthen what is said.
fn emphasis(text: &str) -> f32 {
    let bangs = text.chars().filter(|c| *c == '!' || *c == '！').count();
    let mut factor = 1.0 + 0.15 * (bangs.min(4) as f32);
    let words: Vec<&str> = text.split_whitespace().collect();
    let caps = words
        .iter()
        .filter(|w| {
            let letters: Vec<char> = w.chars().filter(|c| c.is_alphabetic()).collect();
            letters.len() >= 3 && letters.iter().all(|c| c.is_uppercase())
        })
        .count();
    if caps > 0 {
        factor *= 1.3;
    }
    factor
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("Thank you, that was great!", 0.5, 1.0)]
    #[case("Where is my order?", -0.1, 0.1)]
    #[case("This is terrible", -0.8, -0.4)]
    #[case("This is not bad", 0.0, 0.5)]
    #[case("This is absolutely unacceptable!!! I am furious", -1.0, -0.8)]
    #[case("THIS IS THE WORST SERVICE EVER, I HATE IT", -1.0, -0.75)]
    #[case("¡Muchas gracias, todo perfecto!", 0.5, 1.0)]
    #[case("Estoy harto, es una estafa y un servicio pésimo", -1.0, -0.75)]
    #[case("Merci, c'est parfait", 0.5, 1.0)]
    #[case("C'est scandaleux, je suis furieux !!", -1.0, -0.75)]
    #[case("Danke, alles perfekt", 0.5, 1.0)]
    #[case("Das ist eine Frechheit, ich bin wütend und enttäuscht!", -1.0, -0.75)]
    #[case("谢谢，非常满意", 0.5, 1.0)]
    #[case("太差了，垃圾服务，我很生气", -1.0, -0.75)]
    #[case("不满意", -0.5, 0.0)]
    fn scores_within(#[case] text: &str, #[case] low: f32, #[case] high: f32) {
        let s = score(text);
        assert!((low..=high).contains(&s.score), "{text}: {}", s.score);
        assert_eq!(s.very_negative, s.score <= VERY_NEGATIVE);
    }
}
