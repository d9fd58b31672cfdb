//! Runs the evaluators on the Choice-operator and intrinsic-function cases recorded on real AWS
//! Step Functions (`asl/conformance-dev.jsonl` in the shared data folder).
//!
//! The folder is found through `TURNFLOW_SHARED_DATA`, else `../shared/data` from the workspace
//! root. When it is absent the test says it was skipped and passes, so a fresh clone still tests
//! green; CI always has it. The data is read in place, never copied into the repository.
#![expect(
    clippy::unwrap_used,
    reason = "a test: a panic is a failure with a message"
)]

use std::fmt::Write as _;

use serde_json::{Value, json};
use turnflow_workflows::asl::{Comparison, Condition, Operator};
use turnflow_workflows::intrinsics::Env;
use turnflow_workflows::{choice, template};

/// A Choice rule as written in a definition, turned into the typed model.
fn condition(rule: &Value) -> Result<Condition, String> {
    let obj = rule.as_object().ok_or("a rule is not an object")?;
    if let Some(all) = obj.get("And") {
        let items = all.as_array().ok_or("And is not an array")?;
        return items
            .iter()
            .map(condition)
            .collect::<Result<_, _>>()
            .map(Condition::And);
    }
    if let Some(any) = obj.get("Or") {
        let items = any.as_array().ok_or("Or is not an array")?;
        return items
            .iter()
            .map(condition)
            .collect::<Result<_, _>>()
            .map(Condition::Or);
    }
    if let Some(inner) = obj.get("Not") {
        return Ok(Condition::Not(Box::new(condition(inner)?)));
    }
    if let Some(expr) = obj.get("Condition") {
        return Ok(Condition::Jsonata(expr.clone()));
    }
    let variable = obj
        .get("Variable")
        .and_then(Value::as_str)
        .ok_or("a rule has no Variable")?;
    let (operator, operand) = obj
        .iter()
        .find_map(|(k, v)| Operator::from_name(k).map(|op| (op, v.clone())))
        .ok_or("a rule has no operator")?;
    Ok(Condition::Compare(Comparison {
        variable: variable.to_string(),
        operator,
        operand,
    }))
}

/// What a case ended as: an output, or an error name and cause.
#[derive(Debug, PartialEq)]
enum Outcome {
    Output(Value),
    Failed(String, String),
}

fn expected(case: &Value) -> Outcome {
    let exp = &case["expected"];
    if exp["status"] == "SUCCEEDED" {
        return Outcome::Output(exp["output"].clone());
    }
    let cause = exp["cause"].as_str().unwrap_or_default();
    // The interpreter adds this prefix; the evaluators give what follows it.
    let cause = match cause.find("). ") {
        Some(i) if cause.starts_with("An error occurred while executing the state") => {
            &cause[i + 3..]
        }
        _ => cause,
    };
    Outcome::Failed(
        exp["error"].as_str().unwrap_or_default().to_string(),
        cause.to_string(),
    )
}

fn with_env<T>(input: &Value, f: impl FnOnce(&mut Env<'_>) -> T) -> T {
    let context = json!({"Execution": {"Input": input}, "State": {"Name": "State_0"}});
    let variables = |_: &str| None;
    let mut uuid = || "00000000-0000-4000-8000-000000000000".to_string();
    let mut random = |start: i64, _end: i64, _seed: Option<i64>| start;
    let mut env = Env {
        input,
        context: &context,
        variables: &variables,
        uuid: &mut uuid,
        random: &mut random,
    };
    f(&mut env)
}

/// The single state a case starts at.
fn start_state(case: &Value) -> &Value {
    let t = &case["template"];
    &t["States"][t["StartAt"].as_str().unwrap_or_default()]
}

/// A Choice case: which branch the first rule takes. `Err` means the case is not applicable.
fn run_choice(case: &Value) -> Result<Outcome, String> {
    let state = start_state(case);
    let rule = &state["Choices"][0];
    let next = rule["Next"].as_str().ok_or("the first rule has no Next")?;
    let cond = condition(rule)?;
    let input = &case["input"];
    Ok(match with_env(input, |env| choice::evaluate(&cond, env)) {
        Ok(matched) => {
            let taken = if matched {
                next
            } else {
                state["Default"].as_str().unwrap_or_default()
            };
            // The branch states are Pass states whose Result names them.
            Outcome::Output(case["template"]["States"][taken]["Result"].clone())
        }
        Err(e) => Outcome::Failed(e.error_name().to_string(), e.to_string()),
    })
}

/// An intrinsic case: a single Pass state with `Parameters`.
fn run_intrinsic(case: &Value) -> Result<Outcome, String> {
    if case["uses_jsonata"] == true {
        return Err("JSONata (not these evaluators)".into());
    }
    let states = case["template"]["States"].as_object().ok_or("no States")?;
    let state = start_state(case);
    if states.len() != 1 || state["Type"] != "Pass" || state.get("Parameters").is_none() {
        return Err("not a single Pass state with Parameters".into());
    }
    for field in ["InputPath", "ResultPath", "OutputPath", "ResultSelector"] {
        if state.get(field).is_some() {
            return Err(format!("uses {field}"));
        }
    }
    let input = &case["input"];
    Ok(
        match with_env(input, |env| template::evaluate(&state["Parameters"], env)) {
            Ok(v) => Outcome::Output(v),
            Err(e) => Outcome::Failed(e.error_name().to_string(), e.to_string()),
        },
    )
}

#[test]
fn recorded_aws_cases() {
    let Some(dir) = turnflow_testdata::shared_data("evaluator cases", "asl/conformance-dev.jsonl")
    else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("asl/conformance-dev.jsonl")).unwrap();
    let mut table = String::new();
    let mut totals: Vec<(&str, usize, usize, usize)> =
        vec![("choice", 0, 0, 0), ("intrinsic", 0, 0, 0)];
    let mut failures = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        let path = case["template_path"].as_str().unwrap_or_default();
        let (slot, result) = if case["source"] == "choice_operator_cases" {
            (0, run_choice(&case))
        } else if path.contains("/intrinsicfunctions/") {
            (1, run_intrinsic(&case))
        } else {
            continue;
        };
        let id = case["id"].as_str().unwrap_or_default();
        let short = id.rsplit("::").next().unwrap_or(id);
        let (status, detail) = match result {
            Err(why) => {
                totals[slot].3 += 1;
                ("skip", why)
            }
            Ok(got) => {
                let want = expected(&case);
                if got == want {
                    totals[slot].1 += 1;
                    ("pass", String::new())
                } else {
                    totals[slot].2 += 1;
                    failures.push(short.to_string());
                    (
                        "FAIL",
                        format!("want {want:?}, got {got:?}, input {}", case["input"]),
                    )
                }
            }
        };
        writeln!(table, "{status:4}  {:9}  {short}  {detail}", totals[slot].0).unwrap();
    }
    println!("{table}");
    for (name, passed, failed, skipped) in &totals {
        println!("{name}: {passed} passed, {failed} failed, {skipped} skipped");
    }
    assert!(
        failures.is_empty(),
        "{} cases failed: {failures:?}",
        failures.len()
    );
}
