//! Runs the interpreter over the executions recorded on real AWS Step Functions:
//! `asl/conformance-dev.jsonl` (whole executions: status, output or error, event types) and
//! `asl/histories-dev.jsonl` (complete histories replayed with the recorded task results).
//!
//! The shared data folder is found by `turnflow_testdata::shared_data`: when it is absent the
//! tests say they were skipped and pass (unless `TURNFLOW_REQUIRE_SHARED_DATA` is set), so a
//! fresh clone still tests green; CI always has it. The pass counts must not drop below the floors
//! committed beside this file (a ratchet: raise them as conformance improves).
#![expect(
    clippy::unwrap_used,
    reason = "a test: a panic is a failure with a message"
)]

use std::path::PathBuf;

use serde_json::Value;
use turnflow_workflows::interp::{run_conformance, run_histories};

fn data_file(suite: &str, name: &str) -> Option<PathBuf> {
    let needs = format!("asl/{name}");
    turnflow_testdata::shared_data(suite, &needs).map(|dir| dir.join(needs))
}

/// The cases of a JSON-lines file; `TURNFLOW_CASE=text` keeps only the cases whose id contains
/// it (for working on one case; the floors are then not checked).
fn load(file: &PathBuf) -> Vec<Value> {
    let only = std::env::var("TURNFLOW_CASE").ok();
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|c| match &only {
            Some(id) => c["id"].as_str().is_some_and(|x| x.contains(id.as_str())),
            None => true,
        })
        .collect()
}

fn filtered() -> bool {
    std::env::var_os("TURNFLOW_CASE").is_some()
}

fn floor(name: &str) -> usize {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name);
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn conformance_dev() {
    let Some(file) = data_file("interpreter conformance", "conformance-dev.jsonl") else {
        return;
    };
    let report = run_conformance(&load(&file));
    println!("{report}");
    if filtered() {
        return;
    }
    let floor = floor("conformance-floor.txt");
    assert!(
        report.passed() >= floor,
        "{} passed, below the floor of {floor}",
        report.passed()
    );
}

#[test]
fn histories_dev() {
    let Some(file) = data_file("interpreter history replay", "histories-dev.jsonl") else {
        return;
    };
    let report = run_histories(&load(&file));
    println!("{report}");
    if filtered() {
        return;
    }
    let floor = floor("histories-floor.txt");
    assert!(
        report.passed() >= floor,
        "{} fully matched, below the floor of {floor}",
        report.passed()
    );
}
