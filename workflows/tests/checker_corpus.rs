//! The checker against external corpora (never copied into the repository):
//!
//! - `asl/asl-validator-definitions/`: definitions labelled `valid-*` / `invalid-*` by the
//!   asl-validator project; the checker must agree with the labels on at least 95% of them.
//! - `asl/aws-samples-workflows/**/*.asl.json`: published AWS sample workflows; every one must
//!   pass with no error (policy diagnostics allowed).
//!
//! The data directory is `$TURNFLOW_SHARED_DATA`, by default `../../shared/data` from this crate.
//! When it is absent the test says so and passes (unless `TURNFLOW_REQUIRE_SHARED_DATA` is set).

use std::fs;
use std::path::{Path, PathBuf};

use turnflow_workflows::asl::{Diagnostics, Severity, validate};

fn errors(d: &Diagnostics) -> String {
    d.of(Severity::Error)
        .map(|d| format!("      {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn files_under(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, suffix, out);
        } else if path.to_string_lossy().ends_with(suffix) {
            out.push(path);
        }
    }
}

/// Why a file cannot be a state machine whatever the checker's rules, read with plain serde_json
/// rather than turnflow's parser: it is not JSON, or a member of a `States` object is not a state
/// object. Such samples are reported, not counted against the checker.
fn not_a_definition(text: &str) -> Option<String> {
    fn states_are_objects(v: &serde_json::Value) -> Option<String> {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::Object(states)) = map.get("States")
                    && let Some((name, _)) = states.iter().find(|(_, s)| !s.is_object())
                {
                    return Some(format!("States.{name} is not a state object"));
                }
                map.values().find_map(states_are_objects)
            }
            serde_json::Value::Array(items) => items.iter().find_map(states_are_objects),
            _ => None,
        }
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Err(e) => Some(format!("not JSON: {e}")),
        Ok(v) => states_are_objects(&v),
    }
}

#[test]
fn agrees_with_asl_validator_labels() {
    let Some(data) =
        turnflow_testdata::shared_data("checker corpus", "asl/asl-validator-definitions")
    else {
        return;
    };
    let dir = data.join("asl/asl-validator-definitions");
    let mut files: Vec<PathBuf> = Vec::new();
    files_under(&dir, ".json", &mut files);
    files.sort();
    // [labelled valid, labelled invalid] × [accepted, rejected]
    let mut table = [[0usize; 2]; 2];
    let mut disagreements = Vec::new();
    for path in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let labelled_valid = if name.starts_with("valid-") {
            true
        } else if name.starts_with("invalid-") {
            false
        } else {
            continue;
        };
        let text = fs::read_to_string(path).expect("readable corpus file");
        let diagnostics = validate(&text);
        let rejected = diagnostics.has_errors();
        table[usize::from(!labelled_valid)][usize::from(rejected)] += 1;
        if labelled_valid == rejected {
            let reason = if rejected {
                format!("rejected but labelled valid:\n{}", errors(&diagnostics))
            } else {
                "accepted but labelled invalid".to_owned()
            };
            disagreements.push(format!("  {name}: {reason}"));
        }
    }
    let total: usize = table.iter().flatten().sum();
    let agreed = table[0][0] + table[1][1];
    println!("asl-validator corpus: {total} definitions");
    println!("                     accepted  rejected");
    println!(
        "  labelled valid     {:>8}  {:>8}",
        table[0][0], table[0][1]
    );
    println!(
        "  labelled invalid   {:>8}  {:>8}",
        table[1][0], table[1][1]
    );
    println!(
        "  agreement: {agreed}/{total} ({:.1}%)",
        100.0 * agreed as f64 / total.max(1) as f64
    );
    for d in &disagreements {
        println!("{d}");
    }
    assert!(total > 0, "no labelled definitions in {}", dir.display());
    assert!(
        agreed * 100 >= total * 95,
        "agreement {agreed}/{total} is below 95%"
    );
}

#[test]
fn accepts_every_aws_sample_workflow() {
    let Some(data) = turnflow_testdata::shared_data("checker corpus", "asl/aws-samples-workflows")
    else {
        return;
    };
    let dir = data.join("asl/aws-samples-workflows");
    let mut files = Vec::new();
    files_under(&dir, ".asl.json", &mut files);
    files.sort();
    let mut failures = Vec::new();
    let mut malformed = Vec::new();
    for path in &files {
        let text = fs::read_to_string(path).expect("readable corpus file");
        let diagnostics = validate(&text);
        if diagnostics.has_errors() {
            let shown = path.strip_prefix(&dir).unwrap_or(path).display();
            let report = format!("  {shown}:\n{}", errors(&diagnostics));
            match not_a_definition(&text) {
                Some(why) => malformed.push(format!("{report}\n    (upstream defect: {why})")),
                None => failures.push(report),
            }
        }
    }
    let accepted = files.len() - failures.len() - malformed.len();
    println!("aws-samples corpus: {accepted}/{} accepted", files.len());
    if !malformed.is_empty() {
        println!("rejected, and not a state machine by an independent reading (serde_json):");
        malformed.iter().for_each(|m| println!("{m}"));
    }
    if !failures.is_empty() {
        println!("rejected wrongly:");
        failures.iter().for_each(|f| println!("{f}"));
    }
    assert!(!files.is_empty(), "no .asl.json files in {}", dir.display());
    assert!(failures.is_empty(), "{} sample(s) rejected", failures.len());
}
