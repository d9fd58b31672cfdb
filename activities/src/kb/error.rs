//! The knowledge base's error type.

use std::path::PathBuf;

/// What can go wrong while loading, indexing or searching the knowledge base.
#[derive(Debug, thiserror::Error)]
pub enum KbError {
    /// A file or directory could not be read or written.
    #[error("i/o error on {path}")]
    Io {
        /// The path being read or written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON document could not be parsed.
    #[error("invalid json in {path}")]
    Json {
        /// The file that failed to parse.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// A document file has a shape the loader does not understand.
    #[error("unsupported document shape in {path}: {reason}")]
    Shape {
        /// The offending file.
        path: PathBuf,
        /// What was expected.
        reason: String,
    },
    /// Two documents share one id, so their passage ids would collide.
    #[error("duplicate document id {id} in {first} and {second}")]
    DuplicateId {
        /// The shared id.
        id: String,
        /// Where the id was seen first.
        first: PathBuf,
        /// Where it was seen again.
        second: PathBuf,
    },
    /// The target directory already holds an index.
    #[error("an index already exists in {0}")]
    IndexExists(PathBuf),
    /// The search engine failed.
    #[error("search engine error")]
    Tantivy(#[from] tantivy::TantivyError),
    /// An evaluation input (tasks file) is malformed.
    #[error("invalid evaluation task at {path}:{line}: {reason}")]
    Task {
        /// The tasks file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

impl KbError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
