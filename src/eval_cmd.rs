//! `turnflow eval` (the embedded brain, knowledge base and handlers measured on external data,
//! with progress bars and a report against DESIGN's targets) and `turnflow kb index DIR`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use turnflow_activities::brain::{Brain, eval as brain_eval};
use turnflow_activities::{eval as retail_eval, kb};

/// The data sets `turnflow eval` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Suite {
    /// Intent accuracy and needs_human on bitext-4514.
    Bitext,
    /// Out-of-scope recall on clinc150.
    Clinc,
    /// Retrieval hit@5 on the banking tasks over kb/banking-knowledge.
    Banking,
    /// needs_human and the first tool on the τ-bench retail tasks.
    Retail,
}

impl Suite {
    const ALL: [Suite; 4] = [Suite::Bitext, Suite::Clinc, Suite::Banking, Suite::Retail];
}

/// One figure against its target.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// What is measured.
    pub name: &'static str,
    /// The measurement (a share, 0–1).
    pub value: f64,
    /// The target, when DESIGN sets one.
    pub target: Option<f64>,
}

impl Figure {
    /// Whether the target is met (true when there is none).
    pub fn met(&self) -> bool {
        self.target.is_none_or(|t| self.value >= t)
    }
}

fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn counter(message: &str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:<10} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(message.to_owned());
    bar
}

fn need(data: &Path, rel: &str) -> anyhow::Result<PathBuf> {
    let path = data.join(rel);
    if path.exists() {
        Ok(path)
    } else {
        anyhow::bail!(
            "no {} (give the data folder with --data or TURNFLOW_SHARED_DATA)",
            path.display()
        )
    }
}

/// Runs the suites over the data folder (`../shared/data`'s layout); returns the full report
/// and the figures.
///
/// # Errors
/// When a data file is missing or unreadable, or the brain cannot be trained.
pub fn run(data: &Path, only: &[Suite]) -> anyhow::Result<(String, Vec<Figure>)> {
    let suites: Vec<Suite> = if only.is_empty() {
        Suite::ALL.to_vec()
    } else {
        only.to_vec()
    };
    let mut report = String::new();
    let mut figures = Vec::new();
    let needs_brain = suites
        .iter()
        .any(|s| matches!(s, Suite::Bitext | Suite::Clinc));
    let brain = if needs_brain {
        let bar = spinner("training the brain on turnflow's own examples");
        let brain = Brain::new().context("failed to train the brain")?;
        bar.finish_and_clear();
        Some(brain)
    } else {
        None
    };
    for suite in suites {
        match (suite, &brain) {
            (Suite::Bitext, Some(brain)) => {
                let path = need(data, "support/bitext-4514.jsonl")?;
                let bar = counter("bitext");
                let r = brain_eval::bitext_file(brain, &path, &mut |done, total| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                })
                .with_context(|| format!("failed to evaluate {}", path.display()))?;
                bar.finish_and_clear();
                writeln!(report, "{r}")?;
                let nh = r.needs_human.unwrap_or_default();
                figures.push(Figure {
                    name: "bitext intent accuracy",
                    value: r.intent_accuracy.unwrap_or(0.0),
                    target: Some(0.85),
                });
                figures.push(Figure {
                    name: "bitext needs_human recall",
                    value: nh.recall(),
                    target: Some(0.90),
                });
                figures.push(Figure {
                    name: "bitext needs_human precision",
                    value: nh.precision(),
                    target: Some(0.80),
                });
            }
            (Suite::Clinc, Some(brain)) => {
                let path = need(data, "support/clinc150.jsonl")?;
                let bar = counter("clinc150");
                let r = brain_eval::clinc_oos_file(brain, &path, &mut |done, total| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                })
                .with_context(|| format!("failed to evaluate {}", path.display()))?;
                bar.finish_and_clear();
                writeln!(report, "{r}")?;
                figures.push(Figure {
                    name: "clinc150 out-of-scope recall",
                    value: r.oos_recall().unwrap_or(0.0),
                    target: Some(0.80),
                });
            }
            (Suite::Banking, _) => {
                let tasks = need(data, "support/banking-kb-tasks-dev.jsonl")?;
                let docs = need(data, "kb/banking-knowledge/documents")?;
                let bar = spinner("banking: indexing the documents and retrieving");
                let r = kb::eval::banking(&tasks, &docs)
                    .with_context(|| format!("failed to evaluate {}", tasks.display()))?;
                bar.finish_and_clear();
                writeln!(report, "{r}")?;
                figures.push(Figure {
                    name: "banking retrieval hit@5",
                    value: r.hit_at_5,
                    target: Some(0.70),
                });
            }
            (Suite::Retail, _) => {
                let tasks = need(data, "support/retail-tasks-dev.jsonl")?;
                let db = need(data, "support/retail/db.json")?;
                let bar = spinner(
                    "retail: loading db.json as the back office and running triage and act",
                );
                let r = retail_eval::retail(&tasks, &db)
                    .with_context(|| format!("failed to evaluate {}", tasks.display()))?;
                bar.finish_and_clear();
                writeln!(report, "{}", serde_json::to_string_pretty(&r)?)?;
                figures.push(Figure {
                    name: "retail first tool = first gold action",
                    value: r.first_tool_accuracy,
                    target: None,
                });
                if let Some(recall) = r.human_recall {
                    figures.push(Figure {
                        name: "retail needs_human recall",
                        value: recall,
                        target: None,
                    });
                }
            }
            (Suite::Bitext | Suite::Clinc, None) => {}
        }
    }
    Ok((report, figures))
}

/// The figures as a table.
pub fn table(figures: &[Figure]) -> String {
    let mut out = format!("{:<40} {:>8} {:>8}  {}\n", "figure", "value", "target", "");
    for f in figures {
        let _ = writeln!(
            out,
            "{:<40} {:>7.1}% {:>8}  {}",
            f.name,
            f.value * 100.0,
            f.target
                .map_or_else(|| "-".to_owned(), |t| format!("{:.0}%", t * 100.0)),
            match f.target {
                None => "",
                Some(_) if f.met() => "met",
                Some(_) => "MISSED",
            }
        );
    }
    out
}

/// `turnflow kb index DIR --out INDEX`: indexes a folder of Markdown or JSON documents; prints
/// what was indexed.
///
/// # Errors
/// When the folder cannot be read, a document is malformed (named), or the index cannot be
/// written (an existing index is never overwritten).
pub fn index(dir: &Path, out: &Path) -> anyhow::Result<String> {
    if !dir.is_dir() {
        anyhow::bail!("{} is not a folder of documents", dir.display());
    }
    if out.exists() && std::fs::read_dir(out).is_ok_and(|mut d| d.next().is_some()) {
        anyhow::bail!(
            "{} is not empty: give a new folder for the index (an index is never overwritten)",
            out.display()
        );
    }
    std::fs::create_dir_all(out).with_context(|| format!("failed to create {}", out.display()))?;
    let bar = spinner(&format!("indexing {}", dir.display()));
    let stats = kb::index::index_dir(dir, out)
        .with_context(|| format!("failed to index {}", dir.display()))?;
    bar.finish_and_clear();
    Ok(format!(
        "{stats}\nindexed into {}; serve it with `turnflow serve --kb-index {}`\n",
        out.display(),
        out.display()
    ))
}
