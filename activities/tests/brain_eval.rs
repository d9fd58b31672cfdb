//! The brain measured on external corpora (`../shared/data/support`), against a committed floor.
//!
//! The data is found through `TURNFLOW_SHARED_DATA` (default: `../../shared/data` from this
//! crate). Without it the test prints `skipped: …` and passes, unless
//! `TURNFLOW_REQUIRE_SHARED_DATA` is set (as in `.ci/run`). The floor in
//! `tests/brain_eval_floor.json` is a ratchet: raise it when the brain improves, never lower it.

use std::path::PathBuf;

use serde::Deserialize;
use turnflow_activities::brain::Brain;
use turnflow_activities::brain::eval::{self, BitextRow, ClincRow};

#[derive(Debug, Deserialize)]
struct Floor {
    bitext_intent_accuracy: f64,
    bitext_needs_human_precision: f64,
    bitext_needs_human_recall: f64,
    clinc_oos_recall: f64,
    own_heldout_max_ece: f32,
}

fn shared_data() -> PathBuf {
    std::env::var_os("TURNFLOW_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
}

#[test]
fn brain_meets_the_committed_floor_on_external_data() -> anyhow::Result<()> {
    let support = shared_data().join("support");
    let bitext_path = support.join("bitext-4514.jsonl");
    let clinc_path = support.join("clinc150.jsonl");
    if !bitext_path.exists() || !clinc_path.exists() {
        let reason = format!(
            "{} or {} not found",
            bitext_path.display(),
            clinc_path.display()
        );
        if std::env::var_os("TURNFLOW_REQUIRE_SHARED_DATA").is_some() {
            anyhow::bail!("TURNFLOW_REQUIRE_SHARED_DATA is set but {reason}");
        }
        println!("skipped: {reason} (set TURNFLOW_SHARED_DATA to the shared data folder)");
        return Ok(());
    }
    let floor: Floor = serde_json::from_str(include_str!("brain_eval_floor.json"))?;
    let brain = Brain::new()?;
    let bitext_rows: Vec<BitextRow> = eval::read_jsonl(&bitext_path)?;
    let clinc_rows: Vec<ClincRow> = eval::read_jsonl(&clinc_path)?;
    let bitext = eval::bitext(&brain, &bitext_rows, &mut |_, _| {});
    let clinc = eval::clinc_oos(&brain, &clinc_rows, &mut |_, _| {});
    println!("{bitext}\n{clinc}");

    let accuracy = bitext.intent_accuracy.unwrap_or(0.0);
    let needs_human = bitext.needs_human.unwrap_or_default();
    let oos_recall = clinc.oos_recall().unwrap_or(0.0);
    assert!(
        accuracy >= floor.bitext_intent_accuracy,
        "intent accuracy {accuracy:.4} fell below the floor"
    );
    assert!(
        needs_human.precision() >= floor.bitext_needs_human_precision,
        "needs_human precision {:.4} fell below the floor",
        needs_human.precision()
    );
    assert!(
        needs_human.recall() >= floor.bitext_needs_human_recall,
        "needs_human recall {:.4} fell below the floor",
        needs_human.recall()
    );
    assert!(
        oos_recall >= floor.clinc_oos_recall,
        "oos recall {oos_recall:.4} fell below the floor"
    );
    assert!(
        brain.calibration().ece <= floor.own_heldout_max_ece,
        "calibration error {} rose above the ceiling",
        brain.calibration().ece
    );
    Ok(())
}
