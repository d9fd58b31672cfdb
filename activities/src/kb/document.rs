//! Documents and the passages answers cite.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::language::Language;

/// Passages longer than this (in characters) are split at a sentence or word boundary.
pub const MAX_PASSAGE_CHARS: usize = 900;

/// One knowledge-base document, as loaded from a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// A stable id, unique in the knowledge base; passages are cited as `id#n`.
    pub id: String,
    /// The document's title.
    pub title: String,
    /// The language the document is written in.
    pub language: Language,
    /// The body, in Markdown (headings split it into passages).
    pub body: String,
    /// Free-form tags (topics), from the document's metadata.
    pub tags: Vec<String>,
    /// The file the document came from.
    pub source: PathBuf,
}

/// A citable piece of a document: one section, or a bounded piece of a long section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passage {
    /// `docid#n`, with `n` counting passages from 1 in document order.
    pub id: String,
    /// The id of the document the passage belongs to.
    pub doc_id: String,
    /// The document's title.
    pub title: String,
    /// The headings above the passage inside the document, joined with ` > ` (empty at the top).
    pub heading: String,
    /// The document's language.
    pub language: Language,
    /// The passage's text (Markdown, without its heading line).
    pub text: String,
}

impl Document {
    /// Splits the document into passages: one per heading section, sections longer than
    /// [`MAX_PASSAGE_CHARS`] split between paragraphs, and paragraphs still longer split between
    /// sentences (or words). Ids are stable as long as the document's text is.
    pub fn passages(&self) -> Vec<Passage> {
        let mut pieces: Vec<(String, String)> = Vec::new();
        for section in sections(&self.body, &self.title) {
            for chunk in chunks(&section.text, MAX_PASSAGE_CHARS) {
                pieces.push((section.heading.clone(), chunk));
            }
        }
        if pieces.is_empty() {
            // A document with a title only still gets one passage, so it can be found and cited.
            pieces.push((String::new(), self.title.clone()));
        }
        pieces
            .into_iter()
            .enumerate()
            .map(|(n, (heading, text))| Passage {
                id: format!("{}#{}", self.id, n + 1),
                doc_id: self.id.clone(),
                title: self.title.clone(),
                heading,
                language: self.language,
                text,
            })
            .collect()
    }
}

/// A heading section of a Markdown body.
#[derive(Debug)]
struct Section {
    heading: String,
    text: String,
}

/// Splits a Markdown body at its headings (outside code fences). A top-level heading equal to
/// the document title is not repeated in the heading path.
fn sections(body: &str, title: &str) -> Vec<Section> {
    let mut out = Vec::new();
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut current = String::new();
    let mut in_fence = false;
    let flush = |path: &[(usize, String)], current: &mut String, out: &mut Vec<Section>| {
        let text = current.trim();
        if !text.is_empty() {
            let heading = path
                .iter()
                .map(|(_, h)| h.as_str())
                .filter(|h| *h != title)
                .collect::<Vec<_>>()
                .join(" > ");
            out.push(Section {
                heading,
                text: text.to_owned(),
            });
        }
        current.clear();
    };
    for line in body.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        match (!in_fence).then(|| heading(line)).flatten() {
            Some((level, text)) => {
                flush(&path, &mut current, &mut out);
                path.retain(|(l, _)| *l < level);
                path.push((level, text.to_owned()));
            }
            None => {
                current.push_str(line);
                current.push('\n');
            }
        }
    }
    flush(&path, &mut current, &mut out);
    out
}

/// Reads an ATX heading line (`## Text`): its level and text.
pub(crate) fn heading(line: &str) -> Option<(usize, &str)> {
    let trimmed = line.trim_start();
    let level = trimmed.chars().take_while(|c| *c == '#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let rest = &trimmed[level..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    let text = rest.trim().trim_end_matches('#').trim();
    (!text.is_empty()).then_some((level, text))
}

/// Splits a section into chunks of at most `max` characters, preferring paragraph breaks, then
/// sentence ends, then spaces; a hard cut at a character boundary is the last resort.
fn chunks(text: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for paragraph in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let pieces = if paragraph.chars().count() > max {
            split_long(paragraph, max)
        } else {
            vec![paragraph.to_owned()]
        };
        for piece in pieces {
            let joined = current.chars().count() + 2 + piece.chars().count();
            if !current.is_empty() && joined > max {
                out.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push_str("\n\n");
            }
            current.push_str(&piece);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Splits one paragraph longer than `max` characters.
fn split_long(paragraph: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = paragraph;
    while rest.chars().count() > max {
        // Byte offset just past the `max`-th character.
        let limit = rest
            .char_indices()
            .nth(max)
            .map_or(rest.len(), |(offset, _)| offset);
        let window = &rest[..limit];
        let sentence_end = window
            .char_indices()
            .filter(|(i, c)| {
                matches!(c, '。' | '！' | '？' | '；' | '\n')
                    || (matches!(c, '.' | '!' | '?' | ';')
                        && window[i + c.len_utf8()..].starts_with([' ', '\n']))
            })
            .map(|(i, c)| i + c.len_utf8())
            .next_back();
        let space = window.rfind(' ').map(|i| i + 1);
        let cut = sentence_end
            .filter(|&i| i > limit / 3)
            .or(space.filter(|&i| i > limit / 3))
            .unwrap_or(limit);
        out.push(rest[..cut].trim().to_owned());
        rest = rest[cut..].trim_start();
    }
    if !rest.trim().is_empty() {
        out.push(rest.trim().to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(body: &str) -> Document {
        Document {
            id: "d".into(),
            title: "Refunds".into(),
            language: Language::En,
            body: body.into(),
            tags: vec![],
            source: PathBuf::from("d.md"),
        }
    }

    #[test]
    fn sections_become_passages_with_heading_paths() {
        let d = doc(
            "# Refunds\n\nIntro.\n\n## Timing\n\nFive days.\n\n### Cards\n\nTen days.\n\n## Method\n\nSame card.\n",
        );
        let p = d.passages();
        let got: Vec<_> = p
            .iter()
            .map(|p| (p.id.as_str(), p.heading.as_str(), p.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("d#1", "", "Intro."),
                ("d#2", "Timing", "Five days."),
                ("d#3", "Timing > Cards", "Ten days."),
                ("d#4", "Method", "Same card."),
            ]
        );
    }

    #[test]
    fn long_sections_are_bounded() {
        let sentence = "The refund is sent to the original payment method within ten days. ";
        let body = format!("## Long\n\n{}", sentence.repeat(60));
        let p = doc(&body).passages();
        assert!(p.len() > 1);
        assert!(
            p.iter()
                .all(|p| p.text.chars().count() <= MAX_PASSAGE_CHARS)
        );
        assert!(p.iter().all(|p| p.text.ends_with('.')));
    }

    #[test]
    fn long_chinese_text_is_split_at_sentence_ends() {
        let body = "退款将在五到十个工作日内退回原支付方式。".repeat(100);
        let p = doc(&body).passages();
        assert!(p.len() > 1);
        assert!(
            p.iter()
                .all(|p| p.text.chars().count() <= MAX_PASSAGE_CHARS)
        );
        assert!(p.iter().all(|p| p.text.ends_with('。')));
    }

    #[test]
    fn headings_inside_code_fences_are_text() {
        let p = doc("## A\n\n```\n# not a heading\n```\n").passages();
        assert_eq!(p.len(), 1);
        assert!(p[0].text.contains("# not a heading"));
    }

    #[test]
    fn empty_body_still_has_a_passage() {
        let p = doc("").passages();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].text, "Refunds");
    }
}
