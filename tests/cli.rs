//! The `turnflow` binary as a user runs it: exit codes and messages.

use std::path::PathBuf;
use std::process::{Command, Output};

fn turnflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_turnflow"))
        .args(args)
        .output()
        .expect("the turnflow binary runs")
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("turnflow-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn validate_names_the_json_path_of_a_missing_target() {
    let path = temp_file(
        "missing.json",
        r#"{"StartAt":"Route","States":{"Route":{"Type":"Choice","Choices":[
            {"Variable":"$.x","StringEquals":"a","Next":"Missing"}],"Default":"Done"},
            "Done":{"Type":"Succeed"}}}"#,
    );
    let out = turnflow(&["validate", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(r#"States.Route.Choices[0].Next: no state named "Missing""#),
        "{text}"
    );
}

#[test]
fn validate_reports_truncated_json_without_panicking() {
    let path = temp_file(
        "truncated.json",
        r#"{"StartAt":"A","States":{"A":{"Type":"Pa"#,
    );
    let out = turnflow(&["validate", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("invalid JSON"), "{}", stdout(&out));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn validate_accepts_a_good_definition_and_a_missing_file_is_an_error() {
    let good = temp_file(
        "good.json",
        r#"{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}"#,
    );
    let out = turnflow(&["validate", good.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains(": ok"));
    let out = turnflow(&["validate", "/nonexistent/turnflow.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("failed to read"));
}

#[test]
fn policy_findings_warn_by_default_and_fail_with_strict() {
    let path = temp_file(
        "wait.json",
        r#"{"StartAt":"Ask","States":{"Ask":{"Type":"Task",
            "Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters":{"QueueUrl":"q","MessageBody":{"t.$":"$$.Task.Token"}},"End":true}}}"#,
    );
    let file = path.to_str().expect("utf-8");
    let lenient = turnflow(&["validate", file]);
    assert_eq!(lenient.status.code(), Some(0), "{}", stdout(&lenient));
    assert!(
        stdout(&lenient).contains("warning (policy)"),
        "{}",
        stdout(&lenient)
    );
    let strict = turnflow(&["validate", "--strict", file]);
    assert_eq!(strict.status.code(), Some(1), "{}", stdout(&strict));
}

#[test]
fn compile_check_fails_on_a_stale_directory_and_passes_after_compile() {
    let dir = std::env::temp_dir().join(format!("turnflow-sm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().expect("utf-8");
    assert_eq!(
        turnflow(&["compile", "--check", "--dir", d]).status.code(),
        Some(1)
    );
    assert_eq!(turnflow(&["compile", "--dir", d]).status.code(), Some(0));
    assert_eq!(
        turnflow(&["compile", "--check", "--dir", d]).status.code(),
        Some(0)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn graph_prints_states_and_paths_with_their_cost() {
    let out = turnflow(&["graph"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("Triage"), "{text}");
    assert!(
        text.contains("7         Triage → Route → Retrieve → Act → Verify → Decide → Respond"),
        "{text}"
    );
}

#[test]
fn the_readme_lists_every_path_that_graph_prints() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let out = stdout(&turnflow(&["graph"]));
    let mut rows = 0;
    for line in out.lines().skip_while(|l| !l.starts_with("paths")).skip(1) {
        let Some((count, path)) = line.trim().split_once("  ") else {
            continue;
        };
        if !path.contains('→') {
            continue;
        }
        let row = format!("| {} | {} |", count.trim(), path.trim());
        assert!(readme.contains(&row), "README.md lacks the row {row}");
        rows += 1;
    }
    assert!(rows >= 5, "graph printed {rows} paths:\n{out}");
}

#[test]
fn kb_index_writes_an_index_once_and_refuses_to_overwrite_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let docs = dir.path().join("docs");
    std::fs::create_dir_all(docs.join("en")).expect("docs");
    std::fs::write(
        docs.join("en/gift-cards.md"),
        "# Gift cards\n\n## Expiry\n\nGift cards never expire and can be used on any order.\n",
    )
    .expect("write");
    let out_dir = dir.path().join("index");
    let args = |d: &PathBuf| {
        vec![
            "kb".to_owned(),
            "index".to_owned(),
            docs.to_string_lossy().into_owned(),
            "--out".to_owned(),
            d.to_string_lossy().into_owned(),
        ]
    };
    let run = |a: Vec<String>| {
        Command::new(env!("CARGO_BIN_EXE_turnflow"))
            .args(a)
            .output()
            .expect("runs")
    };
    let first = run(args(&out_dir));
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let text = stdout(&first);
    assert!(
        text.contains("1 documents") && text.contains("en: 1 documents"),
        "{text}"
    );
    let second = run(args(&out_dir));
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("is not empty"));
    let missing = run(args(&dir.path().join("nowhere"))
        .into_iter()
        .map(|a| a.replace("docs", "missing-docs"))
        .collect());
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn eval_without_its_data_says_where_to_point_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = turnflow(&[
        "eval",
        "--only",
        "banking",
        "--data",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("banking-kb-tasks-dev.jsonl") && err.contains("--data"),
        "{err}"
    );
}
