//! Reads messages from stdin, one per line, and prints the brain's triage for each.
//!
//! `echo "where is my order?" | cargo run -p turnflow-activities --example brain_probe`

use std::io::BufRead;

use turnflow_activities::brain::Brain;

fn main() -> anyhow::Result<()> {
    let brain = Brain::new()?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let t = brain.analyze(&line);
        let alts: Vec<String> = t
            .alternatives
            .iter()
            .map(|s| format!("{} {:.2}", s.intent, s.confidence))
            .collect();
        println!(
            "{:<60} {} {:<16} {:.2} [{}] human={} sent={:.2}",
            line,
            t.language,
            t.intent.as_str(),
            t.confidence,
            alts.join(", "),
            t.needs_human,
            t.sentiment.score
        );
    }
    Ok(())
}
