//! The state machine in infra/template.yaml is the generated one: its `DefinitionString` block
//! is state-machines/turn.asl.json, verbatim. `TURNFLOW_BLESS=1` rewrites the block from the file.

use std::path::PathBuf;

const MARKER: &str = "      DefinitionString: |";
const INDENT: &str = "        ";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The template split around the block: (before, block dedented, after).
fn split(template: &str) -> anyhow::Result<(String, String, String)> {
    let lines: Vec<&str> = template.split_inclusive('\n').collect();
    let start = lines
        .iter()
        .position(|l| l.trim_end() == MARKER)
        .ok_or_else(|| anyhow::anyhow!("no `{MARKER}` in the template"))?
        + 1;
    let end = lines[start..]
        .iter()
        .position(|l| !l.trim().is_empty() && !l.starts_with(INDENT))
        .map_or(lines.len(), |i| start + i);
    // Blank lines right before the next key belong to the template, not the block.
    let mut block_end = end;
    while block_end > start && lines[block_end - 1].trim().is_empty() {
        block_end -= 1;
    }
    let block: String = lines[start..block_end]
        .iter()
        .map(|l| l.strip_prefix(INDENT).unwrap_or(l.trim_start_matches(' ')))
        .collect();
    Ok((lines[..start].concat(), block, lines[block_end..].concat()))
}

#[test]
fn the_templates_state_machine_is_the_generated_turn() -> anyhow::Result<()> {
    let template_path = root().join("infra/template.yaml");
    let template = std::fs::read_to_string(&template_path)?;
    let generated = std::fs::read_to_string(root().join("state-machines/turn.asl.json"))?;
    let (before, block, after) = split(&template)?;
    if std::env::var_os("TURNFLOW_BLESS").is_some() {
        let indented: String = generated
            .split_inclusive('\n')
            .map(|l| {
                if l.trim().is_empty() {
                    l.to_owned()
                } else {
                    format!("{INDENT}{l}")
                }
            })
            .collect();
        std::fs::write(&template_path, format!("{before}{indented}{after}"))?;
        return Ok(());
    }
    anyhow::ensure!(
        block == generated,
        "infra/template.yaml's DefinitionString differs from state-machines/turn.asl.json; \
         run `TURNFLOW_BLESS=1 cargo test --test infra_template`"
    );
    // Every placeholder of the definition has a substitution, and no substitution is unused.
    let placeholders: std::collections::BTreeSet<&str> = generated
        .match_indices("${")
        .filter_map(|(i, _)| generated[i + 2..].split('}').next())
        .collect();
    let subs_start = template
        .find("      DefinitionSubstitutions:\n")
        .ok_or_else(|| anyhow::anyhow!("no DefinitionSubstitutions"))?;
    let subs: std::collections::BTreeSet<&str> = template[subs_start..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with(INDENT) && !l.trim_start().starts_with('#'))
        .filter_map(|l| l.trim().split(':').next())
        .collect();
    anyhow::ensure!(
        placeholders == subs,
        "placeholders {placeholders:?} vs substitutions {subs:?}"
    );
    Ok(())
}
