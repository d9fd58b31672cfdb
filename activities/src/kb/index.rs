//! The searchable knowledge base: a tantivy index of passages, one indexed field pair (title,
//! text) per language so each passage is analyzed by its own language's analyzer, and a query in
//! language L by L's analyzer.
//!
//! Queries are built from analyzed terms (a disjunction of term queries), never through
//! tantivy's query parser: customer text cannot be a syntax error.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TantivyDocument, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term};

use super::analyzer::{self, analyze};
use super::document::{Document, Passage};
use super::error::KbError;
use super::loader::load_dir;
use crate::language::Language;

/// Weight of a match in the title/heading field relative to one in the passage text. Titles are
/// repeated in every passage of a document, so they already count once per passage; on the
/// banking dev set boosts from 0.5 to 1.5 score alike and 3 is clearly worse.
const TITLE_BOOST: f32 = 1.0;
/// Snippets are at most this many characters (plus ellipses).
const SNIPPET_CHARS: usize = 220;
/// Memory for the (single-threaded) index writer.
const WRITER_MEMORY_BYTES: usize = 50_000_000;

/// One search result: a passage, with what an answer needs to cite it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The passage's id, `docid#n`: what answers cite.
    pub passage_id: String,
    /// The document the passage belongs to.
    pub doc_id: String,
    /// The document's title.
    pub title: String,
    /// The headings above the passage inside its document (` > `-joined; empty at the top).
    pub heading: String,
    /// The passage's language.
    pub language: Language,
    /// BM25 score (higher is better; comparable within one search only).
    pub score: f32,
    /// A short extract of the passage around the query's terms.
    pub snippet: String,
}

/// What an indexing run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexStats {
    /// Documents indexed.
    pub documents: usize,
    /// Passages indexed.
    pub passages: usize,
    /// Documents and passages per language.
    pub per_language: BTreeMap<Language, LanguageStats>,
    /// Wall time of loading and indexing.
    pub elapsed: Duration,
}

/// Counts for one language.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageStats {
    /// Documents in the language.
    pub documents: usize,
    /// Passages in the language.
    pub passages: usize,
}

impl fmt::Display for IndexStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} documents, {} passages in {:.2?}",
            self.documents, self.passages, self.elapsed
        )?;
        for (language, stats) in &self.per_language {
            write!(
                f,
                "; {language}: {} documents, {} passages",
                stats.documents, stats.passages
            )?;
        }
        Ok(())
    }
}

/// Loads the Markdown and JSON documents under `dir` and indexes them into a new index in
/// `index_dir` (created if needed; it must not already hold an index). The engine behind
/// `turnflow kb index DIR`.
pub fn index_dir(dir: &Path, index_dir: &Path) -> Result<IndexStats, KbError> {
    let started = Instant::now();
    let documents = load_dir(dir)?;
    let kb = KnowledgeBase::create_in_dir(index_dir, &documents)?;
    let mut stats = kb.stats_of(&documents);
    stats.elapsed = started.elapsed();
    Ok(stats)
}

/// The fields of the index.
#[derive(Debug, Clone, Copy)]
struct Fields {
    passage_id: Field,
    doc_id: Field,
    language: Field,
    title: Field,
    heading: Field,
    body: Field,
    /// Indexed title and heading, one per language (order of [`Language::ALL`]).
    title_terms: [Field; 5],
    /// Indexed passage text, one per language (order of [`Language::ALL`]).
    text_terms: [Field; 5],
}

impl Fields {
    fn schema() -> (Schema, Fields) {
        let mut builder = Schema::builder();
        let indexed = |language: Language| {
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(analyzer::tokenizer_name(language))
                    .set_index_option(IndexRecordOption::WithFreqs),
            )
        };
        let passage_id = builder.add_text_field("passage_id", STRING | STORED);
        let doc_id = builder.add_text_field("doc_id", STRING | STORED);
        let language = builder.add_text_field("language", STRING | STORED);
        let title = builder.add_text_field("title", STORED);
        let heading = builder.add_text_field("heading", STORED);
        let body = builder.add_text_field("body", STORED);
        let title_terms = Language::ALL
            .map(|l| builder.add_text_field(&format!("title_{}", l.as_str()), indexed(l)));
        let text_terms = Language::ALL
            .map(|l| builder.add_text_field(&format!("text_{}", l.as_str()), indexed(l)));
        let fields = Fields {
            passage_id,
            doc_id,
            language,
            title,
            heading,
            body,
            title_terms,
            text_terms,
        };
        (builder.build(), fields)
    }

    fn from_schema(schema: &Schema) -> Result<Fields, KbError> {
        let field = |name: &str| schema.get_field(name).map_err(KbError::from);
        let per_language = |prefix: &str| -> Result<[Field; 5], KbError> {
            let mut out = [Field::from_field_id(0); 5];
            for (slot, language) in out.iter_mut().zip(Language::ALL) {
                *slot = field(&format!("{prefix}_{}", language.as_str()))?;
            }
            Ok(out)
        };
        Ok(Fields {
            passage_id: field("passage_id")?,
            doc_id: field("doc_id")?,
            language: field("language")?,
            title: field("title")?,
            heading: field("heading")?,
            body: field("body")?,
            title_terms: per_language("title")?,
            text_terms: per_language("text")?,
        })
    }
}

fn slot(language: Language) -> usize {
    match language {
        Language::En => 0,
        Language::Es => 1,
        Language::Zh => 2,
        Language::Fr => 3,
        Language::De => 4,
    }
}

/// A BM25 knowledge base over passages in five languages.
pub struct KnowledgeBase {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    analyzers: [TextAnalyzer; 5],
}

impl fmt::Debug for KnowledgeBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KnowledgeBase")
            .field("passages", &self.passage_count())
            .finish_non_exhaustive()
    }
}

impl KnowledgeBase {
    /// Indexes `documents` in memory.
    pub fn in_ram(documents: &[Document]) -> Result<Self, KbError> {
        let (schema, fields) = Fields::schema();
        let index = Index::create_in_ram(schema);
        Self::fill(index, fields, documents)
    }

    /// Indexes `documents` into a new index on disk in `dir` (created if needed). Fails with
    /// [`KbError::IndexExists`] when `dir` already holds an index.
    pub fn create_in_dir(dir: &Path, documents: &[Document]) -> Result<Self, KbError> {
        if dir.join("meta.json").exists() {
            return Err(KbError::IndexExists(dir.to_owned()));
        }
        fs::create_dir_all(dir).map_err(|e| KbError::io(dir, e))?;
        let (schema, fields) = Fields::schema();
        let index = Index::create_in_dir(dir, schema)?;
        Self::fill(index, fields, documents)
    }

    /// Opens an index written by [`KnowledgeBase::create_in_dir`].
    pub fn open(dir: &Path) -> Result<Self, KbError> {
        let index = Index::open_in_dir(dir)?;
        let fields = Fields::from_schema(&index.schema())?;
        Self::ready(index, fields)
    }

    /// Loads the demo knowledge base ([`super::demo_dir`]) into memory.
    pub fn demo() -> Result<Self, KbError> {
        Self::in_ram(&load_dir(&super::loader::demo_dir())?)
    }

    fn fill(index: Index, fields: Fields, documents: &[Document]) -> Result<Self, KbError> {
        analyzer::register(index.tokenizers());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, WRITER_MEMORY_BYTES)?;
        for document in documents {
            for passage in document.passages() {
                writer.add_document(fields.document(&passage))?;
            }
        }
        writer.commit()?;
        writer.wait_merging_threads()?;
        Self::ready(index, fields)
    }

    fn ready(index: Index, fields: Fields) -> Result<Self, KbError> {
        analyzer::register(index.tokenizers());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            index,
            reader,
            fields,
            analyzers: Language::ALL.map(analyzer::analyzer),
        })
    }

    /// How many passages the index holds.
    pub fn passage_count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The best `k` passages for `query`, analyzed as `language`. When nothing in `language`
    /// matches (no passage shares a term with the query, or the language has no documents), the
    /// query is analyzed in every language and searched across all of them.
    pub fn search(&self, query: &str, language: Language, k: usize) -> Result<Vec<Hit>, KbError> {
        self.search_weighted(&[(query, 1.0)], language, k)
    }

    /// Like [`KnowledgeBase::search`], but at most one passage (the best) per document: the best
    /// `k` documents.
    pub fn search_documents(
        &self,
        query: &str,
        language: Language,
        k: usize,
    ) -> Result<Vec<Hit>, KbError> {
        self.search_documents_weighted(&[(query, 1.0)], language, k)
    }

    /// [`KnowledgeBase::search_documents`] for a query made of weighted parts. A term's weight
    /// is the square root of the summed weights of its occurrences, so repetition counts but
    /// sub-linearly.
    pub fn search_documents_weighted(
        &self,
        parts: &[(&str, f32)],
        language: Language,
        k: usize,
    ) -> Result<Vec<Hit>, KbError> {
        self.search_with_fallback(parts, &[], language, k, Collapse::PerDocument)
    }

    /// [`KnowledgeBase::search`] for a query made of weighted parts.
    pub fn search_weighted(
        &self,
        parts: &[(&str, f32)],
        language: Language,
        k: usize,
    ) -> Result<Vec<Hit>, KbError> {
        self.search_with_fallback(parts, &[], language, k, Collapse::None)
    }

    /// [`KnowledgeBase::search_weighted`], with `topic` parts matched against titles only: a
    /// topic names what a page is about ("Shipping and delivery"), so its words count where the
    /// page says what it is, not wherever they happen to occur in passing.
    pub fn search_on_topic(
        &self,
        parts: &[(&str, f32)],
        topic: &[(&str, f32)],
        language: Language,
        k: usize,
    ) -> Result<Vec<Hit>, KbError> {
        self.search_with_fallback(parts, topic, language, k, Collapse::None)
    }

    fn search_with_fallback(
        &self,
        parts: &[(&str, f32)],
        topic: &[(&str, f32)],
        language: Language,
        k: usize,
        collapse: Collapse,
    ) -> Result<Vec<Hit>, KbError> {
        if k == 0 {
            return Ok(Vec::new());
        }
        let hits = self.search_in(parts, topic, &[language], k, collapse)?;
        if !hits.is_empty() {
            return Ok(hits);
        }
        self.search_in(parts, topic, &Language::ALL, k, collapse)
    }

    /// Looks a passage up by its id (`docid#n`).
    pub fn passage(&self, passage_id: &str) -> Result<Option<Passage>, KbError> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.passage_id, passage_id),
            IndexRecordOption::Basic,
        );
        let Some((_, address)) = searcher
            .search(&query, &TopDocs::with_limit(1).order_by_score())?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let doc: TantivyDocument = searcher.doc(address)?;
        let stored = self.fields.stored(&doc);
        Ok(Some(Passage {
            id: stored.passage_id,
            doc_id: stored.doc_id,
            title: stored.title,
            heading: stored.heading,
            language: stored.language,
            text: stored.body,
        }))
    }

    fn search_in(
        &self,
        parts: &[(&str, f32)],
        topic: &[(&str, f32)],
        languages: &[Language],
        k: usize,
        collapse: Collapse,
    ) -> Result<Vec<Hit>, KbError> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut query_terms: HashMap<Language, HashSet<String>> = HashMap::new();
        for &language in languages {
            let mut analyzer = self.analyzers[slot(language)].clone();
            let mut weights: BTreeMap<String, f32> = BTreeMap::new();
            for (text, weight) in parts {
                for term in analyze(&mut analyzer, text) {
                    *weights.entry(term.text).or_default() += weight;
                }
            }
            for (term, weight) in &weights {
                // A term repeated in a long query counts more, but sub-linearly: with linear
                // weights a long customer message is dominated by its most frequent words.
                let weight = weight.max(0.0).sqrt();
                if !weight.is_normal() {
                    continue;
                }
                let fields = [
                    (self.fields.text_terms[slot(language)], 1.0),
                    (self.fields.title_terms[slot(language)], TITLE_BOOST),
                ];
                for (field, boost) in fields {
                    let query = TermQuery::new(
                        Term::from_field_text(field, term),
                        IndexRecordOption::WithFreqs,
                    );
                    clauses.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(Box::new(query), boost * weight)),
                    ));
                }
            }
            let mut topic_weights: BTreeMap<String, f32> = BTreeMap::new();
            for (text, weight) in topic {
                for term in analyze(&mut analyzer, text) {
                    *topic_weights.entry(term.text).or_default() += weight;
                }
            }
            for (term, weight) in &topic_weights {
                let weight = weight.max(0.0).sqrt();
                if !weight.is_normal() {
                    continue;
                }
                let query = TermQuery::new(
                    Term::from_field_text(self.fields.title_terms[slot(language)], term),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(query), TITLE_BOOST * weight)),
                ));
            }
            query_terms.insert(language, weights.into_keys().collect());
        }
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let limit = match collapse {
            Collapse::None => k,
            // Enough passages that k distinct documents are almost always among them.
            Collapse::PerDocument => (k * 10).max(50),
        };
        let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        let mut hits = Vec::with_capacity(k);
        let mut seen = HashSet::new();
        for (score, address) in top {
            if hits.len() == k {
                break;
            }
            let doc: TantivyDocument = searcher.doc(address)?;
            let stored = self.fields.stored(&doc);
            if collapse == Collapse::PerDocument && !seen.insert(stored.doc_id.clone()) {
                continue;
            }
            let terms = query_terms.get(&stored.language);
            let mut analyzer = self.analyzers[slot(stored.language)].clone();
            let snippet = snippet(&mut analyzer, &stored.body, terms);
            hits.push(Hit {
                passage_id: stored.passage_id,
                doc_id: stored.doc_id,
                title: stored.title,
                heading: stored.heading,
                language: stored.language,
                score,
                snippet,
            });
        }
        Ok(hits)
    }

    fn stats_of(&self, documents: &[Document]) -> IndexStats {
        let mut per_language: BTreeMap<Language, LanguageStats> = BTreeMap::new();
        let mut passages = 0;
        for document in documents {
            let n = document.passages().len();
            let entry = per_language.entry(document.language).or_default();
            entry.documents += 1;
            entry.passages += n;
            passages += n;
        }
        IndexStats {
            documents: documents.len(),
            passages,
            per_language,
            elapsed: Duration::ZERO,
        }
    }

    /// The underlying tantivy index (for diagnostics).
    pub fn index(&self) -> &Index {
        &self.index
    }
}

/// Whether a search returns passages, or only the best passage of each document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Collapse {
    None,
    PerDocument,
}

/// The stored fields of one indexed passage.
struct Stored {
    passage_id: String,
    doc_id: String,
    language: Language,
    title: String,
    heading: String,
    body: String,
}

impl Fields {
    fn document(&self, passage: &Passage) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_text(self.passage_id, &passage.id);
        doc.add_text(self.doc_id, &passage.doc_id);
        doc.add_text(self.language, passage.language.as_str());
        doc.add_text(self.title, &passage.title);
        doc.add_text(self.heading, &passage.heading);
        doc.add_text(self.body, &passage.text);
        let n = slot(passage.language);
        doc.add_text(
            self.title_terms[n],
            format!("{}\n{}", passage.title, passage.heading),
        );
        doc.add_text(self.text_terms[n], &passage.text);
        doc
    }

    fn stored(&self, doc: &TantivyDocument) -> Stored {
        let text = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        Stored {
            passage_id: text(self.passage_id),
            doc_id: text(self.doc_id),
            language: Language::from_tag(&text(self.language)).unwrap_or(Language::En),
            title: text(self.title),
            heading: text(self.heading),
            body: text(self.body),
        }
    }
}

/// A window of the passage around its densest cluster of query terms, whitespace collapsed.
fn snippet(analyzer: &mut TextAnalyzer, body: &str, terms: Option<&HashSet<String>>) -> String {
    let matches: Vec<(usize, usize, String)> = match terms {
        Some(terms) => analyze(analyzer, body)
            .into_iter()
            .filter(|t| terms.contains(&t.text))
            .map(|t| (t.from, t.to, t.text))
            .collect(),
        None => Vec::new(),
    };
    // Pick the match that starts the window covering the most distinct terms.
    let window_bytes = SNIPPET_CHARS * 2;
    let start = matches
        .iter()
        .enumerate()
        .max_by_key(|(i, (from, _, _))| {
            let distinct: HashSet<&str> = matches[*i..]
                .iter()
                .take_while(|(f, _, _)| *f < from + window_bytes)
                .map(|(_, _, t)| t.as_str())
                .collect();
            (distinct.len(), std::cmp::Reverse(*i))
        })
        .map_or(0, |(_, (from, _, _))| *from);
    // Back up a little so the first matched word has some context.
    let start = body[..start]
        .char_indices()
        .rev()
        .nth(40)
        .map_or(0, |(i, _)| i);
    let start = if start == 0 {
        0
    } else {
        body[start..]
            .find(char::is_whitespace)
            .filter(|i| *i < 20)
            .map_or(start, |i| start + i)
    };
    let window: String = body[start..].chars().take(SNIPPET_CHARS).collect();
    let truncated = body[start..].chars().count() > SNIPPET_CHARS;
    let collapsed = window.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(&collapsed);
    if truncated {
        out.push('…');
    }
    out
}
