//! `turnflow ops check-compat`: recorded turn histories (fixtures) replayed against a new
//! definition, before it is deployed.
//!
//! A history of a turn **in flight** (parked on an approval, waiting out a retry) must replay
//! to the end of its recording unchanged: otherwise the new definition would break that turn
//! when it resumes — the check fails. A **finished** turn that replays differently only shows a
//! change of behaviour (reported, not a failure: the turn is over).

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;
use turnflow_workflows::interp::replay::NoLive;

use super::error::OpsError;
use super::fetch::Recorded;
use super::replay::{redacted, replay_recorded};

/// The verdict on one history.
#[derive(Debug, Clone, PartialEq)]
pub enum Compat {
    /// The replay matches the recording.
    Compatible,
    /// An in-flight turn the definition would break, and where.
    Breaks(String),
    /// A finished turn that would have gone differently, and where.
    Changes(String),
    /// The definition could not replay it.
    Error(String),
}

/// One checked history.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The fixture file.
    pub file: PathBuf,
    /// The recorded execution's name.
    pub name: String,
    /// Its recorded status.
    pub status: String,
    /// The verdict.
    pub verdict: Compat,
}

/// The report of a check.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CompatReport {
    /// Every history, in file order.
    pub checked: Vec<Checked>,
}

impl CompatReport {
    /// In-flight turns broken or histories that could not be replayed.
    pub fn broken(&self) -> usize {
        self.checked
            .iter()
            .filter(|c| matches!(c.verdict, Compat::Breaks(_) | Compat::Error(_)))
            .count()
    }

    /// Whether the definition is safe to deploy.
    pub fn ok(&self) -> bool {
        self.broken() == 0
    }
}

impl fmt::Display for CompatReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<40} {:<10} VERDICT", "HISTORY", "STATUS")?;
        let (mut ok, mut changed) = (0, 0);
        for c in &self.checked {
            let file = c
                .file
                .file_name()
                .map_or_else(|| c.name.clone(), |n| n.to_string_lossy().into_owned());
            let verdict = match &c.verdict {
                Compat::Compatible => {
                    ok += 1;
                    "compatible".to_owned()
                }
                Compat::Breaks(d) => {
                    format!("BREAKS this in-flight turn: {}", d.replace('\n', "\n    "))
                }
                Compat::Changes(d) => {
                    changed += 1;
                    format!(
                        "finished turn would go differently: {}",
                        d.replace('\n', "\n    ")
                    )
                }
                Compat::Error(e) => format!("ERROR {e}"),
            };
            writeln!(f, "{file:<40} {:<10} {verdict}", c.status)?;
        }
        writeln!(
            f,
            "{} histories: {ok} compatible, {} broken, {changed} finished turns replay differently",
            self.checked.len(),
            self.broken()
        )
    }
}

/// Checks one recorded execution against `definition`.
pub fn check_one(rec: &Recorded, definition: &Value) -> Compat {
    match replay_recorded(rec, Some(definition), &Default::default(), &mut NoLive) {
        Err(e) => Compat::Error(e.to_string()),
        Ok(r) => match r.divergence {
            None => Compat::Compatible,
            Some(d) if rec.execution.status == "RUNNING" => Compat::Breaks(redacted(&d)),
            Some(d) => Compat::Changes(redacted(&d)),
        },
    }
}

/// Checks every `*.json` fixture of `dir` against the definition file.
pub fn check_compat(dir: &Path, definition_file: &Path) -> Result<CompatReport, OpsError> {
    let definition = read_json(definition_file)?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| OpsError::Io {
            op: "read",
            path: dir.display().to_string(),
            source,
        })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(OpsError::Invalid(format!(
            "no recorded histories (*.json) in {}",
            dir.display()
        )));
    }
    let mut report = CompatReport::default();
    for file in files {
        let rec = Recorded::read_fixture(&file)?;
        let verdict = check_one(&rec, &definition);
        report.checked.push(Checked {
            name: rec.execution.name.clone(),
            status: rec.execution.status.clone(),
            file,
            verdict,
        });
    }
    Ok(report)
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> Result<Value, OpsError> {
    let text = std::fs::read_to_string(path).map_err(|source| OpsError::Io {
        op: "read",
        path: path.display().to_string(),
        source,
    })?;
    serde_json::from_str(&text)
        .map_err(|e| OpsError::Definition(format!("{}: not JSON: {e}", path.display())))
}

/// Writes a recorded execution as a fixture; refuses to overwrite (fixtures are kept forever).
pub fn write_fixture(rec: &Recorded, path: &Path) -> Result<(), OpsError> {
    if path.exists() {
        return Err(OpsError::Invalid(format!(
            "{} exists: recorded histories are kept forever, never overwritten",
            path.display()
        )));
    }
    let mut text = serde_json::to_string_pretty(&rec.to_fixture())
        .map_err(|e| OpsError::Invalid(format!("failed to write JSON: {e}")))?;
    text.push('\n');
    std::fs::write(path, text).map_err(|source| OpsError::Io {
        op: "write",
        path: path.display().to_string(),
        source,
    })
}
