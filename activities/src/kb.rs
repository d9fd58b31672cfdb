//! The knowledge base: documents in five languages, split into citable passages and searched
//! with BM25 (tantivy), each language analyzed by its own analyzer (stemming for en/es/fr/de,
//! jieba segmentation for zh).
//!
//! # Layout
//! - [`language`] — the supported languages and language detection.
//! - [`document`] — [`Document`] and [`Passage`], and splitting a document into passages.
//! - [`loader`] — reading a folder of Markdown or JSON documents.
//! - [`analyzer`] — the per-language tantivy analyzers.
//! - [`index`] — [`KnowledgeBase`] (build, open, search) and [`index_dir`].
//! - [`eval`] — retrieval evaluation on external data.
//! - [`error`] — [`KbError`].

pub mod analyzer;
pub mod document;
pub mod error;
pub mod eval;
pub mod index;
pub mod language;
pub mod loader;

pub use document::{Document, Passage};
pub use error::KbError;
pub use index::{Hit, IndexStats, KnowledgeBase, LanguageStats, index_dir};
pub use language::Language;
pub use loader::{demo_dir, load_dir};
