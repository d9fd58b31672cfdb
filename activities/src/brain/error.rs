//! The brain's errors.

/// Why the brain could not be built or an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum BrainError {
    /// An embedded training file is malformed (a bug caught by the unit tests).
    #[error("invalid training file {language} at line {line}: {reason}")]
    Corpus {
        /// The file's language.
        language: &'static str,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// An evaluation file could not be read.
    #[error("read evaluation file {path}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A row of an evaluation file is not the expected JSON.
    #[error("parse {path} line {line}")]
    Parse {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A pattern of the rule layer failed to compile (a bug caught by the unit tests).
    #[error("compile pattern")]
    Pattern(#[from] regex::Error),
}
