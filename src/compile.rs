//! `turnflow compile`: the turn graph → checked ASL files under `state-machines/`.

use std::fs;
use std::path::{Path, PathBuf};

use turnflow_workflows::asl;
use turnflow_workflows::turn::{self, Target};

/// A failure to compile or to write the definitions.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The lowered definition breaks a rule of the checker (a bug in the graph).
    #[error("the lowered {file} breaks the checker's rules:\n{diagnostics}")]
    Invalid {
        /// The file that would have been written.
        file: &'static str,
        /// What is wrong.
        diagnostics: asl::Diagnostics,
    },
    /// A file could not be read or written.
    #[error("failed to {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// One generated definition: its file name and its exact contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The file name under the output directory.
    pub file: &'static str,
    /// The pretty JSON, ending in a newline.
    pub text: String,
}

/// Every definition `turnflow compile` writes, lowered, checked (policy included) and emitted.
pub fn generate() -> Result<Vec<Generated>, CompileError> {
    let graph = turn::turn();
    [Target::Activities, Target::Lambda]
        .into_iter()
        .map(|target| {
            let machine = turn::lower(&graph, target);
            let diagnostics = asl::check(&machine);
            if !diagnostics.is_empty() {
                return Err(CompileError::Invalid {
                    file: target.file_name(),
                    diagnostics,
                });
            }
            Ok(Generated {
                file: target.file_name(),
                text: asl::to_json_pretty(&machine),
            })
        })
        .collect()
}

/// Writes the generated definitions into `dir`, returning the files that changed.
pub fn write(dir: &Path) -> Result<Vec<PathBuf>, CompileError> {
    fs::create_dir_all(dir).map_err(|source| CompileError::Io {
        action: "create",
        path: dir.to_owned(),
        source,
    })?;
    let mut changed = Vec::new();
    for g in generate()? {
        let path = dir.join(g.file);
        if fs::read_to_string(&path).ok().as_deref() == Some(g.text.as_str()) {
            continue;
        }
        fs::write(&path, &g.text).map_err(|source| CompileError::Io {
            action: "write",
            path: path.clone(),
            source,
        })?;
        changed.push(path);
    }
    Ok(changed)
}

/// The files in `dir` that are missing or differ from what the code generates.
pub fn stale(dir: &Path) -> Result<Vec<PathBuf>, CompileError> {
    Ok(generate()?
        .into_iter()
        .filter(|g| fs::read_to_string(dir.join(g.file)).ok().as_deref() != Some(g.text.as_str()))
        .map(|g| dir.join(g.file))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_both_targets_and_detects_stale_files() {
        let generated = generate().expect("the turn graph compiles");
        assert_eq!(generated.len(), 2);
        let dir = std::env::temp_dir().join(format!("turnflow-compile-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(stale(&dir).expect("reads").len(), 2);
        assert_eq!(write(&dir).expect("writes").len(), 2);
        assert!(stale(&dir).expect("reads").is_empty());
        assert!(
            write(&dir).expect("writes").is_empty(),
            "unchanged files are not rewritten"
        );
        fs::write(dir.join(generated[0].file), "{}").expect("writes");
        assert_eq!(
            stale(&dir).expect("reads"),
            vec![dir.join(generated[0].file)]
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn committed_definitions_are_up_to_date() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("state-machines");
        let stale = stale(&dir).expect("reads");
        assert!(stale.is_empty(), "run `turnflow compile`: stale {stale:?}");
    }
}
