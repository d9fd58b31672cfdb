//! The JSONata query language as Step Functions runs it: `{% … %}` strings evaluated with
//! `$states` and the workflow variables bound, plus the functions Step Functions adds.
//!
//! The engine is the `jsonata-core` crate (a port of the jsonata-js reference that passes
//! its whole test suite). Its impure built-ins (`$now`, `$millis`, `$random`) are replaced
//! here by deterministic ones fed from the interpreter's events and seeded generator.

use std::cell::RefCell;
use std::rc::Rc;

use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError};
use jsonata_core::value::JValue;
use serde_json::{Map, Value};

use super::errors::{StateError, names};
use super::history::format_time;
use super::rng::SplitMix64;

/// What a JSONata expression can see.
pub(crate) struct JsonataEnv<'a> {
    /// `$states`: `input`, `context`, and where they exist `result` and `errorOutput`.
    pub states: &'a Value,
    /// Every variable in scope, innermost last (later bindings shadow earlier ones).
    pub variables: &'a [(String, Value)],
    /// The time `$now()` and `$millis()` report: when the state was entered.
    pub now: i64,
    /// The execution's generator, for `$uuid()` and `$random()`.
    pub rng: &'a mut SplitMix64,
    /// The state, for error causes.
    pub state_name: &'a str,
    /// The id of the state's `…StateEntered` event, for error causes.
    pub entered_id: u64,
}

/// The expression of a `{% … %}` string, if the string is one.
/// Only a string that begins with `{%` and ends with `%}` is an expression: `" {% x %} "`
/// (with spaces outside) is a literal, as AWS reads it.
pub(crate) fn expression_of(s: &str) -> Option<&str> {
    s.strip_prefix("{%")?.strip_suffix("%}")
}

/// Evaluates a field value: a `{% %}` string anywhere in it is replaced by its result.
/// `field` names the field for error causes (`Output`, `Arguments`, `Assign/x`).
pub(crate) fn evaluate_template(
    template: &Value,
    field: &str,
    env: &mut JsonataEnv<'_>,
) -> Result<Value, StateError> {
    match template {
        Value::String(s) => match expression_of(s) {
            Some(expr) => match evaluate(expr, env) {
                Ok(Some(v)) => Ok(v),
                Ok(None) => Err(query_error(
                    env,
                    field,
                    format!(
                        "The JSONata expression '{}' specified for the field '{field}' returned nothing (undefined).",
                        expr.trim()
                    ),
                )),
                Err(msg) => Err(query_error(
                    env,
                    field,
                    format!(
                        "The JSONata expression '{}' specified for the field '{field}' threw an error during evaluation. {msg}",
                        expr.trim()
                    ),
                )),
            },
            None => Ok(template.clone()),
        },
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let sub = format!("{field}/{k}");
                out.insert(k.clone(), evaluate_template(v, &sub, env)?);
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, v) in items.iter().enumerate() {
                let sub = format!("{field}[{i}]");
                out.push(evaluate_template(v, &sub, env)?);
            }
            Ok(Value::Array(out))
        }
        other => Ok(other.clone()),
    }
}

pub(crate) fn query_error(env: &JsonataEnv<'_>, field: &str, detail: String) -> StateError {
    StateError::new(
        names::QUERY_EVALUATION_ERROR,
        format!(
            "An error occurred while executing the state '{}' (entered at the event id #{}). {detail}",
            env.state_name, env.entered_id
        ),
    )
    .at(field)
}

/// Evaluates one expression; `Ok(None)` when the result is undefined.
pub(crate) fn evaluate(expr: &str, env: &mut JsonataEnv<'_>) -> Result<Option<Value>, String> {
    let ast = jsonata_core::parser::parse(expr).map_err(|e| e.to_string())?;
    let mut ctx = Context::new();
    ctx.bind("states".into(), JValue::from(env.states.clone()));
    for (name, value) in env.variables {
        ctx.bind(name.clone(), JValue::from(value.clone()));
    }
    let mut ev = Evaluator::with_context(ctx);
    let rng = Rc::new(RefCell::new(*env.rng));
    register(&mut ev, env.now, &rng).map_err(|e| e.message().to_string())?;
    let data = env.states.get("input").cloned().unwrap_or(Value::Null);
    let result = ev.evaluate(&ast, &JValue::from(data));
    *env.rng = *rng.borrow();
    match result {
        Ok(v) if v.is_undefined() => Ok(None),
        Ok(v) => serde_json::to_value(&v)
            .map(Some)
            .map_err(|e| e.to_string()),
        Err(e) => Err(reference_message(e.message())),
    }
}

/// The message as the jsonata-js reference words it (what AWS reports): jsonata-core names the
/// value it could not invoke, the reference does not.
fn reference_message(message: &str) -> String {
    match message.split_once(": $") {
        Some((head, _)) if head.starts_with("T1006:") => head.to_string(),
        _ => message.to_string(),
    }
}

fn register(
    ev: &mut Evaluator,
    now: i64,
    rng: &Rc<RefCell<SplitMix64>>,
) -> Result<(), EvaluatorError> {
    let stamp = format_time(now);
    ev.register_fn_override("now", move |_args: &[JValue]| {
        Ok(JValue::from(stamp.clone()))
    })?;
    ev.register_fn_override("millis", move |_args: &[JValue]| {
        Ok(JValue::Number(now as f64))
    })?;
    let r = Rc::clone(rng);
    ev.register_fn_override("random", move |args: &[JValue]| {
        let value = match args.first().and_then(number_of) {
            Some(seed) => SplitMix64::new(seed as i64 as u64).next_f64(),
            None => r.borrow_mut().next_f64(),
        };
        Ok(JValue::Number(value))
    })?;
    let r = Rc::clone(rng);
    // jsonata-core's own `$shuffle` draws from the OS: shuffle with the execution's generator.
    ev.register_fn_override("shuffle", move |args: &[JValue]| {
        let mut items = match args.first().map(to_json) {
            Some(Value::Array(a)) => a,
            Some(Value::Null) | None => return Ok(JValue::Undefined),
            Some(other) => vec![other],
        };
        let mut g = r.borrow_mut();
        for i in (1..items.len()).rev() {
            let j = g.range_inclusive(0, i as i64) as usize;
            items.swap(i, j);
        }
        Ok(JValue::from(Value::Array(items)))
    })?;
    let r = Rc::clone(rng);
    ev.register_fn("uuid", move |_args: &[JValue]| {
        Ok(JValue::from(r.borrow_mut().uuid_v4()))
    })?;
    ev.register_fn("parse", |args: &[JValue]| {
        let text = args.first().and_then(string_of).ok_or_else(|| {
            EvaluatorError::TypeError(
                "T0410: Argument 1 of function \"parse\" does not match function signature".into(),
            )
        })?;
        let v: Value = serde_json::from_str(&text).map_err(|e| {
            EvaluatorError::EvaluationError(format!("D3140: Malformed JSON string: {e}"))
        })?;
        Ok(JValue::from(v))
    })?;
    ev.register_fn("partition", |args: &[JValue]| {
        let items = args.first().map(to_json).unwrap_or(Value::Null);
        let size = args.get(1).and_then(number_of).unwrap_or(0.0);
        let Value::Array(items) = items else {
            return Err(EvaluatorError::TypeError(
                "T0410: Argument 1 of function \"partition\" does not match function signature"
                    .into(),
            ));
        };
        if size < 1.0 || size.fract() != 0.0 {
            return Err(EvaluatorError::EvaluationError(
                "The chunk size must be a positive integer".into(),
            ));
        }
        let chunks: Vec<Value> = items
            .chunks(size as usize)
            .map(|c| Value::Array(c.to_vec()))
            .collect();
        Ok(JValue::from(Value::Array(chunks)))
    })?;
    ev.register_fn("range", |args: &[JValue]| {
        let start = args.first().and_then(number_of).unwrap_or(0.0);
        let end = args.get(1).and_then(number_of).unwrap_or(0.0);
        let step = args.get(2).and_then(number_of).unwrap_or(1.0);
        if step == 0.0 {
            return Err(EvaluatorError::EvaluationError(
                "The step must not be zero".into(),
            ));
        }
        let mut out = Vec::new();
        let mut x = start;
        while (step > 0.0 && x <= end) || (step < 0.0 && x >= end) {
            out.push(json_number(x));
            x += step;
            if out.len() > 1000 {
                return Err(EvaluatorError::EvaluationError(
                    "The range has more than 1000 items".into(),
                ));
            }
        }
        // A sequence, like JSONata's own `[a..b]`: one item stands for itself.
        Ok(JValue::sequence(out.into_iter().map(JValue::from).collect()).unwrap_sequence())
    })?;
    ev.register_fn("hash", |args: &[JValue]| {
        let data = args.first().map(to_json).unwrap_or(Value::Null);
        let algorithm = args.get(1).and_then(string_of).unwrap_or_default();
        let text = match data {
            Value::String(s) => s,
            other => other.to_string(),
        };
        hash_hex(&text, &algorithm)
            .map(JValue::from)
            .map_err(EvaluatorError::EvaluationError)
    })?;
    Ok(())
}

/// `$hash(text, algorithm)`: the hex digest, computed by `States.Hash` so both languages agree.
fn hash_hex(text: &str, algorithm: &str) -> Result<String, String> {
    let call =
        crate::intrinsics::parse("States.Hash($.data, $.algorithm)").map_err(|e| e.to_string())?;
    let input = serde_json::json!({"data": text, "algorithm": algorithm});
    let context = Value::Null;
    let no_vars = |_: &str| None;
    let mut uuid = String::new;
    let mut random = |low: i64, _high: i64, _seed: Option<i64>| low;
    let mut env = crate::intrinsics::Env {
        input: &input,
        context: &context,
        variables: &no_vars,
        uuid: &mut uuid,
        random: &mut random,
    };
    match crate::intrinsics::eval(&call, &mut env) {
        Ok(Value::String(s)) => Ok(s),
        Ok(other) => Ok(other.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

fn to_json(v: &JValue) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn number_of(v: &JValue) -> Option<f64> {
    match v {
        JValue::Number(n) => Some(*n),
        _ => None,
    }
}

fn string_of(v: &JValue) -> Option<String> {
    match to_json(v) {
        Value::String(s) => Some(s),
        _ => None,
    }
}

fn json_number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        Value::from(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(expr: &str, states: Value, vars: &[(String, Value)]) -> Result<Option<Value>, String> {
        let mut rng = SplitMix64::new(1);
        let mut env = JsonataEnv {
            states: &states,
            variables: vars,
            now: 0,
            rng: &mut rng,
            state_name: "S",
            entered_id: 2,
        };
        evaluate(expr, &mut env)
    }

    #[test]
    fn reads_states_and_variables() {
        let vars = vec![("x".to_string(), json!(40))];
        let got = run("$states.input.a + $x", json!({"input": {"a": 2}}), &vars);
        assert_eq!(got, Ok(Some(json!(42))));
    }

    #[test]
    fn undefined_is_none() {
        assert_eq!(run("$nope", json!({"input": {}}), &[]), Ok(None));
    }

    #[test]
    fn step_functions_functions() {
        assert_eq!(
            run("$partition([1,2,3], 2)", json!({}), &[]),
            Ok(Some(json!([[1, 2], [3]])))
        );
        assert_eq!(
            run("$range(0, 6, 2)", json!({}), &[]),
            Ok(Some(json!([0, 2, 4, 6])))
        );
        assert_eq!(
            run("$parse('{\"a\":1}')", json!({}), &[]),
            Ok(Some(json!({"a": 1})))
        );
    }

    #[test]
    fn impure_builtins_are_deterministic() {
        assert_eq!(
            run("$now()", json!({}), &[]),
            Ok(Some(json!("1970-01-01T00:00:00.000Z")))
        );
        assert_eq!(run("$millis()", json!({}), &[]), Ok(Some(json!(0))));
        let shuffled = run("$shuffle([1,2,3,4,5,6])", json!({}), &[]);
        assert_eq!(shuffled, run("$shuffle([1,2,3,4,5,6])", json!({}), &[]));
        assert_eq!(
            run("$random()", json!({}), &[]),
            run("$random()", json!({}), &[])
        );
    }
}
