//! The retail evaluation (τ-bench tasks over the retail db.json) through the real handlers,
//! held to the floors in `retail_eval_floor.json`. Skipped, saying why, without the shared data.

use turnflow_activities::eval;

#[test]
fn retail_eval_holds_its_floors() -> anyhow::Result<()> {
    let Some(dir) = turnflow_testdata::shared_data("retail eval", "support/retail-tasks-dev.jsonl")
    else {
        return Ok(());
    };
    let report = eval::retail(
        &dir.join("support/retail-tasks-dev.jsonl"),
        &dir.join("support/retail/db.json"),
    )?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    let floor: serde_json::Value = serde_json::from_str(include_str!("retail_eval_floor.json"))?;
    let min = |k: &str| floor[k].as_f64().unwrap_or(0.0);
    assert!(
        report.first_tool_accuracy >= min("first_tool_accuracy"),
        "{report:?}"
    );
    #[expect(clippy::cast_precision_loss, reason = "task counts")]
    let fp_rate = report.human_fp as f64 / report.tasks.max(1) as f64;
    assert!(
        fp_rate <= min("max_needs_human_false_positive_rate"),
        "{report:?}"
    );
    Ok(())
}
