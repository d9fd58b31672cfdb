//! Runs the interpreter over the executions recorded on real AWS Step Functions:
//! `asl/conformance-dev.jsonl` (whole executions: status, output or error, event types) and
//! `asl/histories-dev.jsonl` (complete histories replayed with the recorded task results).
//!
//! The shared data folder is found through `TURNFLOW_SHARED_DATA`, else `../shared/data` from
//! the workspace root. When it is absent the tests say they were skipped and pass, so a fresh
//! clone still tests green; CI always has it. The pass counts must not drop below the floors
//! committed beside this file (a ratchet: raise them as conformance improves).
#![expect(
    clippy::unwrap_used,
    reason = "a test: a panic is a failure with a message"
)]

use std::path::PathBuf;

use serde_json::Value;
use turnflow_workflows::interp::{run_conformance, run_histories};

fn data_file(name: &str) -> Result<PathBuf, String> {
    let dir = match std::env::var_os("TURNFLOW_SHARED_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    };
    let file = dir.join("asl").join(name);
    if file.is_file() {
        Ok(file)
    } else {
        Err(format!(
            "{} is absent (set TURNFLOW_SHARED_DATA to the shared data folder)",
            file.display()
        ))
    }
}

fn load(file: &PathBuf) -> Vec<Value> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
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
    let file = match data_file("conformance-dev.jsonl") {
        Ok(f) => f,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let report = run_conformance(&load(&file));
    println!("{report}");
    let floor = floor("interp-conformance-floor.txt");
    assert!(
        report.passed() >= floor,
        "{} passed, below the floor of {floor}",
        report.passed()
    );
}

#[test]
fn histories_dev() {
    let file = match data_file("histories-dev.jsonl") {
        Ok(f) => f,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let report = run_histories(&load(&file));
    println!("{report}");
    let floor = floor("interp-histories-floor.txt");
    assert!(
        report.passed() >= floor,
        "{} fully matched, below the floor of {floor}",
        report.passed()
    );
}
