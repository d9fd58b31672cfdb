//! `turnflow graph`: a definition's states, transitions and paths, for people.

use std::fmt::Write as _;

use turnflow_workflows::asl::{Condition, StateKind, StateMachine, Transition};
use turnflow_workflows::turn;

/// Renders the states and transitions of `machine`, then its paths with their transition counts:
/// every path that ends normally, and the paths through a `Catch` only when `all_paths`.
pub fn render(machine: &StateMachine, all_paths: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} states, starting at {}\n",
        machine.states.len(),
        machine.start_at
    );
    let width = machine.states.keys().map(|k| k.len()).max().unwrap_or(0);
    for (name, state) in &machine.states {
        let detail = match &state.kind {
            StateKind::Task(t) => t.resource.clone(),
            _ => String::new(),
        };
        let _ = writeln!(out, "{name:width$}  {:<8} {detail}", state.type_name());
        match state.transition() {
            Some(Transition::Next(n)) => {
                let _ = writeln!(out, "  → {n}");
            }
            Some(Transition::End) => {
                let _ = writeln!(out, "  → (end)");
            }
            None => {}
        }
        if let StateKind::Choice(c) = &state.kind {
            for rule in &c.choices {
                let _ = writeln!(out, "  when {} → {}", describe(&rule.condition), rule.next);
            }
            if let Some(d) = &c.default {
                let _ = writeln!(out, "  otherwise → {d}");
            }
        }
        for r in state.retry() {
            let _ = writeln!(
                out,
                "  retry {} ×{} (every {}s, ×{}, at most {}s, jitter {})",
                r.error_equals.join(", "),
                r.max_attempts.unwrap_or(3),
                r.interval_seconds.unwrap_or(1),
                r.backoff_rate.unwrap_or(2.0),
                r.max_delay_seconds
                    .map_or("∞".to_owned(), |d| d.to_string()),
                r.jitter_strategy.map_or("NONE", |j| j.as_str()),
            );
        }
        for c in state.catch() {
            let _ = writeln!(out, "  catch {} → {}", c.error_equals.join(", "), c.next);
        }
    }
    let mut paths = turn::paths(machine);
    paths.sort_by(|a, b| {
        (a.through_error, a.transitions(), &a.states).cmp(&(
            b.through_error,
            b.transitions(),
            &b.states,
        ))
    });
    let _ = writeln!(
        out,
        "\npaths (state transitions per turn, retries not counted):"
    );
    for p in paths.iter().filter(|p| all_paths || !p.through_error) {
        let kind = if p.through_error { "error" } else { "     " };
        let _ = writeln!(
            out,
            "  {:>2}  {kind}  {}",
            p.transitions(),
            p.states.join(" → ")
        );
    }
    let errors: Vec<_> = paths.iter().filter(|p| p.through_error).collect();
    if !all_paths && !errors.is_empty() {
        let longest = errors.iter().map(|p| p.transitions()).max().unwrap_or(0);
        let _ = writeln!(
            out,
            "  and {} paths through a Catch (at most {longest} transitions): --all-paths lists them",
            errors.len()
        );
    }
    out
}

/// A choice condition in words.
pub fn describe(c: &Condition) -> String {
    match c {
        Condition::Jsonata(v) => format!("{v}"),
        Condition::And(rules) => join(rules, " and "),
        Condition::Or(rules) => format!("({})", join(rules, " or ")),
        Condition::Not(inner) => format!("not {}", describe(inner)),
        Condition::Compare(cmp) => {
            format!("{} {} {}", cmp.variable, cmp.operator.as_str(), cmp.operand)
        }
    }
}

fn join(rules: &[Condition], sep: &str) -> String {
    rules.iter().map(describe).collect::<Vec<_>>().join(sep)
}
