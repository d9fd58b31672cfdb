//! Diagnostics: a problem in a definition, named by the JSON path where it is.

use std::fmt;

/// A location in a definition, such as `States.Route.Choices[0].Next`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location(Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl Location {
    /// The top of the definition.
    pub fn root() -> Location {
        Location(Vec::new())
    }

    /// This location followed by an object key.
    pub fn key(&self, key: &str) -> Location {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.to_owned()));
        Location(segments)
    }

    /// This location followed by an array index.
    pub fn index(&self, index: usize) -> Location {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        Location(segments)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(definition)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(k) if i == 0 => f.write_str(k)?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// turnflow's own policy (e.g. a task token wait without a timeout): AWS would accept it.
    Policy,
    /// AWS Step Functions would reject the definition (or it cannot run as written).
    Error,
}

/// One problem found in a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where the problem is.
    pub location: Location,
    /// What is wrong, as a lowercase fragment.
    pub message: String,
    /// Whether AWS would reject it or only turnflow's policy does.
    pub severity: Severity,
}

impl Diagnostic {
    /// A problem AWS would reject.
    pub fn error(location: &Location, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            location: location.clone(),
            message: message.into(),
            severity: Severity::Error,
        }
    }

    /// A breach of turnflow's policy.
    pub fn policy(location: &Location, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            location: location.clone(),
            message: message.into(),
            severity: Severity::Policy,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Every problem found in a definition (never empty when returned as an error).
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Whether any diagnostic is an error (not only policy).
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    /// Only the diagnostics of one severity.
    pub fn of(&self, severity: Severity) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(move |d| d.severity == severity)
    }

    /// The diagnostics.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}
