//! Emitting a definition: the typed model → JSON, deterministically.
//!
//! Keys come out in a fixed order (the machine's fields, then each state's `Type` first and its
//! transition last), states in the order of the model, pretty-printed with a trailing newline, so
//! the same model always gives the same bytes.

use serde_json::{Map, Value, json};

use super::model::*;

/// The definition as a JSON value.
pub fn to_value(machine: &StateMachine) -> Value {
    Value::Object(machine_fields(machine, true))
}

/// The definition as pretty JSON text ending in a newline.
pub fn to_json_pretty(machine: &StateMachine) -> String {
    let mut text = serde_json::to_string_pretty(&to_value(machine))
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

fn machine_fields(m: &StateMachine, top: bool) -> Map<String, Value> {
    let mut o = Map::new();
    put_str(&mut o, "Comment", m.comment.as_deref());
    if let Some(q) = m.query_language {
        o.insert("QueryLanguage".into(), q.as_str().into());
    }
    if top {
        put_str(&mut o, "Version", m.version.as_deref());
        if let Some(t) = m.timeout_seconds {
            o.insert("TimeoutSeconds".into(), t.into());
        }
    }
    o.insert("StartAt".into(), m.start_at.clone().into());
    let states: Map<String, Value> = m
        .states
        .iter()
        .map(|(name, s)| (name.clone(), Value::Object(state(s))))
        .collect();
    o.insert("States".into(), Value::Object(states));
    o
}

fn put_str(o: &mut Map<String, Value>, key: &str, v: Option<&str>) {
    if let Some(v) = v {
        o.insert(key.into(), v.into());
    }
}

fn put(o: &mut Map<String, Value>, key: &str, v: Option<&Value>) {
    if let Some(v) = v {
        o.insert(key.into(), v.clone());
    }
}

fn put_path(o: &mut Map<String, Value>, key: &str, v: Option<&NullablePath>) {
    match v {
        None => {}
        Some(NullablePath::Null) => {
            o.insert(key.into(), Value::Null);
        }
        Some(NullablePath::Path(p)) => {
            o.insert(key.into(), p.clone().into());
        }
    }
}

fn put_dynamic<T: Clone + Into<Value>>(
    o: &mut Map<String, Value>,
    key: &str,
    path_key: &str,
    v: Option<&Dynamic<T>>,
) {
    match v {
        None => {}
        Some(Dynamic::Literal(x)) => {
            o.insert(key.into(), x.clone().into());
        }
        Some(Dynamic::Expr(e)) => {
            o.insert(key.into(), e.clone().into());
        }
        Some(Dynamic::Path(p)) => {
            o.insert(path_key.into(), p.clone().into());
        }
    }
}

fn state(s: &State) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("Type".into(), s.type_name().into());
    put_str(&mut o, "Comment", s.comment.as_deref());
    if let Some(q) = s.query_language {
        o.insert("QueryLanguage".into(), q.as_str().into());
    }
    match &s.kind {
        StateKind::Task(t) => {
            o.insert("Resource".into(), t.resource.clone().into());
        }
        StateKind::Map(m) => {
            put_path(&mut o, "InputPath", s.io.input_path.as_ref());
            put_str(&mut o, "ItemsPath", m.items_path.as_deref());
            put(&mut o, "Items", m.items.as_ref());
            put(&mut o, "ItemReader", m.item_reader.as_ref());
            put(&mut o, "ItemSelector", m.item_selector.as_ref());
            put(&mut o, "ItemBatcher", m.item_batcher.as_ref());
            put_dynamic(
                &mut o,
                "MaxConcurrency",
                "MaxConcurrencyPath",
                m.max_concurrency.as_ref(),
            );
            put_dynamic(
                &mut o,
                "ToleratedFailurePercentage",
                "ToleratedFailurePercentagePath",
                m.tolerated_failure_percentage.as_ref(),
            );
            put_dynamic(
                &mut o,
                "ToleratedFailureCount",
                "ToleratedFailureCountPath",
                m.tolerated_failure_count.as_ref(),
            );
            let mut processor = Map::new();
            if let Some(c) = &m.processor_config {
                processor.insert("ProcessorConfig".into(), c.clone());
            }
            processor.extend(machine_fields(&m.processor, false));
            let key = if m.legacy_iterator {
                "Iterator"
            } else {
                "ItemProcessor"
            };
            o.insert(key.into(), Value::Object(processor));
            put(&mut o, "ResultWriter", m.result_writer.as_ref());
            put_str(&mut o, "Label", m.label.as_deref());
        }
        _ => {}
    }
    if !matches!(s.kind, StateKind::Map(_)) {
        put_path(&mut o, "InputPath", s.io.input_path.as_ref());
    }
    put(&mut o, "Parameters", s.io.parameters.as_ref());
    put(&mut o, "Arguments", s.io.arguments.as_ref());
    match &s.kind {
        StateKind::Pass(p) => put(&mut o, "Result", p.result.as_ref()),
        StateKind::Choice(c) => {
            let rules: Vec<Value> = c.choices.iter().map(choice_rule).collect();
            o.insert("Choices".into(), Value::Array(rules));
            put_str(&mut o, "Default", c.default.as_deref());
        }
        StateKind::Wait(w) => match &w.wait {
            WaitFor::Seconds(d) => put_dynamic(&mut o, "Seconds", "SecondsPath", Some(d)),
            WaitFor::Timestamp(d) => put_dynamic(&mut o, "Timestamp", "TimestampPath", Some(d)),
        },
        StateKind::Fail(f) => {
            put_dynamic(&mut o, "Error", "ErrorPath", f.error.as_ref());
            put_dynamic(&mut o, "Cause", "CausePath", f.cause.as_ref());
        }
        StateKind::Parallel(p) => {
            let branches: Vec<Value> = p
                .branches
                .iter()
                .map(|b| Value::Object(machine_fields(b, false)))
                .collect();
            o.insert("Branches".into(), Value::Array(branches));
        }
        StateKind::Task(_) | StateKind::Succeed | StateKind::Map(_) => {}
    }
    put(&mut o, "ResultSelector", s.io.result_selector.as_ref());
    put_path(&mut o, "ResultPath", s.io.result_path.as_ref());
    put_path(&mut o, "OutputPath", s.io.output_path.as_ref());
    put(&mut o, "Output", s.io.output.as_ref());
    put(&mut o, "Assign", s.io.assign.as_ref());
    if let StateKind::Task(t) = &s.kind {
        put_dynamic(
            &mut o,
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            t.timeout_seconds.as_ref(),
        );
        put_dynamic(
            &mut o,
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
            t.heartbeat_seconds.as_ref(),
        );
        put(&mut o, "Credentials", t.credentials.as_ref());
    }
    let retry = s.retry();
    if !retry.is_empty() {
        o.insert(
            "Retry".into(),
            Value::Array(retry.iter().map(retrier).collect()),
        );
    }
    let catch = s.catch();
    if !catch.is_empty() {
        o.insert(
            "Catch".into(),
            Value::Array(catch.iter().map(catcher).collect()),
        );
    }
    match s.transition() {
        Some(Transition::Next(n)) => {
            o.insert("Next".into(), n.clone().into());
        }
        Some(Transition::End) => {
            o.insert("End".into(), true.into());
        }
        None => {}
    }
    o
}

fn retrier(r: &Retrier) -> Value {
    let mut o = Map::new();
    put_str(&mut o, "Comment", r.comment.as_deref());
    o.insert("ErrorEquals".into(), json!(r.error_equals));
    if let Some(v) = r.interval_seconds {
        o.insert("IntervalSeconds".into(), v.into());
    }
    if let Some(v) = r.max_attempts {
        o.insert("MaxAttempts".into(), v.into());
    }
    if let Some(v) = r.backoff_rate {
        // Always a float (`2.0`): statelint requires one, and AWS accepts both.
        o.insert("BackoffRate".into(), json!(v));
    }
    if let Some(v) = r.max_delay_seconds {
        o.insert("MaxDelaySeconds".into(), v.into());
    }
    if let Some(j) = r.jitter_strategy {
        o.insert("JitterStrategy".into(), j.as_str().into());
    }
    Value::Object(o)
}

fn catcher(c: &Catcher) -> Value {
    let mut o = Map::new();
    put_str(&mut o, "Comment", c.comment.as_deref());
    o.insert("ErrorEquals".into(), json!(c.error_equals));
    put_path(&mut o, "ResultPath", c.result_path.as_ref());
    put(&mut o, "Output", c.output.as_ref());
    put(&mut o, "Assign", c.assign.as_ref());
    o.insert("Next".into(), c.next.clone().into());
    Value::Object(o)
}

fn choice_rule(r: &ChoiceRule) -> Value {
    let mut o = condition(&r.condition);
    put_str(&mut o, "Comment", r.comment.as_deref());
    put(&mut o, "Assign", r.assign.as_ref());
    put(&mut o, "Output", r.output.as_ref());
    o.insert("Next".into(), r.next.clone().into());
    Value::Object(o)
}

fn condition(c: &Condition) -> Map<String, Value> {
    let mut o = Map::new();
    match c {
        Condition::Jsonata(v) => {
            o.insert("Condition".into(), v.clone());
        }
        Condition::And(rules) | Condition::Or(rules) => {
            let key = if matches!(c, Condition::And(_)) {
                "And"
            } else {
                "Or"
            };
            let rules: Vec<Value> = rules.iter().map(|r| Value::Object(condition(r))).collect();
            o.insert(key.into(), Value::Array(rules));
        }
        Condition::Not(inner) => {
            o.insert("Not".into(), Value::Object(condition(inner)));
        }
        Condition::Compare(cmp) => {
            o.insert("Variable".into(), cmp.variable.clone().into());
            o.insert(cmp.operator.as_str().into(), cmp.operand.clone());
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asl::parse;

    #[test]
    fn parse_emit_parse_is_stable() {
        let text = r#"{"Comment":"c","StartAt":"A","States":{
            "A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Next":"C",
                 "Parameters":{"x.$":"$.y"},"TimeoutSeconds":5,"HeartbeatSecondsPath":"$.h",
                 "Retry":[{"ErrorEquals":["States.ALL"],"BackoffRate":2,"JitterStrategy":"FULL"}],
                 "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"F"}]},
            "C":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.a","IsPresent":true},"Next":"W"}],
                 "Default":"P"},
            "W":{"Type":"Wait","SecondsPath":"$.s","Next":"P"},
            "P":{"Type":"Parallel","Branches":[{"StartAt":"S","States":{"S":{"Type":"Succeed"}}}],
                 "Next":"M"},
            "M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":2,"ItemProcessor":{
                 "ProcessorConfig":{"Mode":"INLINE"},"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},
                 "ResultPath":null,"End":true},
            "F":{"Type":"Fail","Error":"E","CausePath":"$.err.Cause"}}}"#;
        let first = parse(text).expect("valid");
        let emitted = to_json_pretty(&first);
        let second = parse(&emitted).expect("emitted text parses");
        assert_eq!(first, second);
        assert_eq!(emitted, to_json_pretty(&second));
        assert!(emitted.ends_with("}\n"));
        let v: Value = serde_json::from_str(&emitted).expect("json");
        assert_eq!(v["States"]["A"]["Retry"][0]["BackoffRate"], json!(2.0));
        let keys: Vec<&String> = v["States"]["A"]
            .as_object()
            .expect("object")
            .keys()
            .collect();
        assert_eq!(keys.first().map(|k| k.as_str()), Some("Type"));
        assert_eq!(keys.last().map(|k| k.as_str()), Some("Next"));
    }
}
