//! Retrieval hit@5 on the external banking knowledge base (`banking-kb-tasks-dev.jsonl` over
//! `kb/banking-knowledge/documents`). The data lives outside the repository: this test finds it
//! through `TURNFLOW_SHARED_DATA` (default `../../shared/data` from this crate) and is skipped,
//! saying why, when it is absent — unless `TURNFLOW_REQUIRE_SHARED_DATA` is set, as in CI.
//!
//! The floor is a ratchet in `tests/kb_eval_floor.txt`: raise it when retrieval improves.

use std::path::PathBuf;

use turnflow_activities::kb::eval;

fn shared_data() -> PathBuf {
    std::env::var_os("TURNFLOW_SHARED_DATA").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
        PathBuf::from,
    )
}

#[test]
fn banking_hit_at_5_meets_the_floor() -> Result<(), Box<dyn std::error::Error>> {
    let data = shared_data();
    let tasks = data.join("support/banking-kb-tasks-dev.jsonl");
    let documents = data.join("kb/banking-knowledge/documents");
    if !tasks.is_file() || !documents.is_dir() {
        let reason = format!(
            "{} or {} not found (set TURNFLOW_SHARED_DATA)",
            tasks.display(),
            documents.display()
        );
        if std::env::var_os("TURNFLOW_REQUIRE_SHARED_DATA").is_some() {
            return Err(format!("shared data required but missing: {reason}").into());
        }
        println!("skipped: {reason}");
        return Ok(());
    }
    let report = eval::banking(&tasks, &documents)?;
    println!("{report}");
    let floor: f64 = include_str!("kb_eval_floor.txt").trim().parse()?;
    assert!(
        report.hit_at_5 >= floor,
        "hit@5 {:.3} fell below the floor {floor}",
        report.hit_at_5
    );
    Ok(())
}
