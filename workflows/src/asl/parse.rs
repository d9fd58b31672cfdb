//! Parsing a definition: JSON text → [`StateMachine`], with every problem named by its JSON path.
//!
//! Two passes: the text is read into a [`Value`] by serde_json (rejecting duplicate keys, which
//! serde_json would otherwise drop silently), then decoded into the typed model. Decoding goes on
//! after a problem so that one run reports as many as it can.

use std::fmt;

use indexmap::IndexMap;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map as JsonMap, Value};

use super::diag::{Diagnostic, Diagnostics, Location};
use super::model::*;

/// Parses a definition from JSON text.
pub fn parse(text: &str) -> Result<StateMachine, Diagnostics> {
    let value = parse_json(text).map_err(|d| Diagnostics(vec![d]))?;
    from_value(&value)
}

/// Decodes a definition already read as JSON.
pub fn from_value(value: &Value) -> Result<StateMachine, Diagnostics> {
    let mut decoder = Decoder::default();
    let machine = decoder.machine(value, &Location::root(), MachineKind::Top, None);
    match machine {
        Some(m) if decoder.diags.is_empty() => Ok(m),
        _ => {
            if decoder.diags.is_empty() {
                decoder
                    .diags
                    .push(Diagnostic::error(&Location::root(), "not a state machine"));
            }
            Err(Diagnostics(decoder.diags))
        }
    }
}

/// Reads JSON text into a [`Value`], refusing duplicate object keys.
pub fn parse_json(text: &str) -> Result<Value, Diagnostic> {
    let mut de = serde_json::Deserializer::from_str(text);
    let root = Location::root();
    let value = StrictValue { location: &root }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| Diagnostic::error(&root, format!("invalid JSON: {e}")))?;
    Ok(value)
}

/// A serde seed that builds a [`Value`] and fails on a repeated key, naming where.
struct StrictValue<'a> {
    location: &'a Location,
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(StrictValue {
            location: &self.location.index(out.len()),
        })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = JsonMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let location = self.location.key(&key);
            let value = map.next_value_seed(StrictValue {
                location: &location,
            })?;
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "{location}: duplicate field \"{key}\""
                )));
            }
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// Which kind of (sub-)machine is decoded: they allow different top-level fields.
#[derive(Clone, Copy, PartialEq)]
enum MachineKind {
    Top,
    Branch,
    ItemProcessor,
    Iterator,
}

const COMMON_FIELDS: &[&str] = &["Type", "Comment", "QueryLanguage"];

/// Fields only meaningful when the state's query language is JSONPath.
const JSONPATH_ONLY: &[&str] = &[
    "InputPath",
    "OutputPath",
    "ResultPath",
    "Parameters",
    "ResultSelector",
    "ItemsPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "SecondsPath",
    "TimestampPath",
    "ErrorPath",
    "CausePath",
    "MaxConcurrencyPath",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCountPath",
];

/// Fields only meaningful when the state's query language is JSONata.
const JSONATA_ONLY: &[&str] = &["Arguments", "Output", "Items"];

/// The fields each state type accepts, besides [`COMMON_FIELDS`].
fn fields_of(type_name: &str) -> Option<&'static [&'static str]> {
    Some(match type_name {
        "Pass" => &[
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "Result",
            "Assign",
            "Output",
        ],
        "Task" => &[
            "Next",
            "End",
            "Resource",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "ResultSelector",
            "Retry",
            "Catch",
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
            "Credentials",
            "Arguments",
            "Output",
            "Assign",
        ],
        "Choice" => &[
            "Choices",
            "Default",
            "InputPath",
            "OutputPath",
            "Assign",
            "Output",
        ],
        "Wait" => &[
            "Next",
            "End",
            "Seconds",
            "SecondsPath",
            "Timestamp",
            "TimestampPath",
            "InputPath",
            "OutputPath",
            "Assign",
            "Output",
        ],
        "Succeed" => &["InputPath", "OutputPath", "Output"],
        "Fail" => &["Error", "ErrorPath", "Cause", "CausePath"],
        "Parallel" => &[
            "Next",
            "End",
            "Branches",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "ResultSelector",
            "Retry",
            "Catch",
            "Arguments",
            "Output",
            "Assign",
        ],
        "Map" => &[
            "Next",
            "End",
            "ItemProcessor",
            "Iterator",
            "ItemsPath",
            "Items",
            "ItemSelector",
            "Parameters",
            "ItemReader",
            "ItemBatcher",
            "ResultWriter",
            "MaxConcurrency",
            "MaxConcurrencyPath",
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
            "ToleratedFailureCount",
            "ToleratedFailureCountPath",
            "Label",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "ResultSelector",
            "Retry",
            "Catch",
            "Arguments",
            "Output",
            "Assign",
        ],
        _ => return None,
    })
}

/// Whether a string is a JSONata expression `{% … %}`.
pub fn is_jsonata_expr(s: &str) -> bool {
    let t = s.trim();
    t.len() >= 4 && t.starts_with("{%") && t.ends_with("%}")
}

/// A CloudFormation reference written in place of a string (a definition embedded in a template
/// as an object: `{"Ref": "Fn"}`, `{"Fn::GetAtt": ["Fn", "Arn"]}`), as the `${…}` definition
/// substitution that `Fn::Sub` would write for it.
fn cloudformation_reference(v: &Value) -> Option<String> {
    let Value::Object(map) = v else { return None };
    let (key, arg) = map.iter().next().filter(|_| map.len() == 1)?;
    match (key.as_str(), arg) {
        ("Ref", Value::String(name)) => Some(format!("${{{name}}}")),
        ("Fn::GetAtt", Value::String(dotted)) => Some(format!("${{{dotted}}}")),
        ("Fn::GetAtt", Value::Array(parts)) => {
            let parts: Vec<&str> = parts.iter().filter_map(Value::as_str).collect();
            Some(format!("${{{}}}", parts.join(".")))
        }
        ("Fn::Sub", Value::String(text)) => Some(text.clone()),
        (f, _) if f.starts_with("Fn::") => Some(format!("${{{f}}}")),
        _ => None,
    }
}

/// The largest number AWS accepts in integer fields such as `TimeoutSeconds` (99999999).
pub const MAX_INTEGER_FIELD: u64 = 99_999_999;

#[derive(Default)]
struct Decoder {
    diags: Vec<Diagnostic>,
}

/// An object being decoded, with its location.
struct Obj<'a> {
    map: &'a JsonMap<String, Value>,
    loc: Location,
}

impl<'a> Obj<'a> {
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    fn at(&self, key: &str) -> Location {
        self.loc.key(key)
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Decoder {
    fn err(&mut self, loc: &Location, message: impl Into<String>) {
        self.diags.push(Diagnostic::error(loc, message));
    }

    fn object<'a>(&mut self, v: &'a Value, loc: &Location, what: &str) -> Option<Obj<'a>> {
        match v {
            Value::Object(map) => Some(Obj {
                map,
                loc: loc.clone(),
            }),
            other => {
                self.err(
                    loc,
                    format!("{what} must be an object, not {}", kind_of(other)),
                );
                None
            }
        }
    }

    fn string(&mut self, o: &Obj<'_>, key: &str) -> Option<String> {
        match o.get(key)? {
            Value::String(s) => Some(s.clone()),
            other => {
                self.err(
                    &o.at(key),
                    format!("must be a string, not {}", kind_of(other)),
                );
                None
            }
        }
    }

    fn required_string(&mut self, o: &Obj<'_>, key: &str, what: &str) -> Option<String> {
        if !o.has(key) {
            self.err(&o.loc, format!("{what} has no \"{key}\" field"));
            return None;
        }
        self.string(o, key)
    }

    fn unsigned(&mut self, o: &Obj<'_>, key: &str, min: u64) -> Option<u64> {
        let v = o.get(key)?;
        match v.as_u64() {
            Some(n) if (min..=MAX_INTEGER_FIELD).contains(&n) => Some(n),
            Some(n) => {
                self.err(
                    &o.at(key),
                    format!("must be between {min} and {MAX_INTEGER_FIELD}, not {n}"),
                );
                None
            }
            None => {
                self.err(
                    &o.at(key),
                    format!("must be a non-negative integer, not {v}"),
                );
                None
            }
        }
    }

    fn number(&mut self, o: &Obj<'_>, key: &str) -> Option<f64> {
        let v = o.get(key)?;
        match v.as_f64() {
            Some(n) => Some(n),
            None => {
                self.err(&o.at(key), format!("must be a number, not {}", kind_of(v)));
                None
            }
        }
    }

    fn nullable_path(&mut self, o: &Obj<'_>, key: &str) -> Option<NullablePath> {
        match o.get(key)? {
            Value::Null => Some(NullablePath::Null),
            Value::String(s) => Some(NullablePath::Path(s.clone())),
            other => {
                self.err(
                    &o.at(key),
                    format!("must be a path or null, not {}", kind_of(other)),
                );
                None
            }
        }
    }

    fn query_language(&mut self, o: &Obj<'_>) -> Option<QueryLanguage> {
        match self.string(o, "QueryLanguage")?.as_str() {
            "JSONPath" => Some(QueryLanguage::JsonPath),
            "JSONata" => Some(QueryLanguage::Jsonata),
            other => {
                self.err(
                    &o.at("QueryLanguage"),
                    format!("unknown query language \"{other}\": use \"JSONPath\" or \"JSONata\""),
                );
                None
            }
        }
    }

    /// A number field that may instead be given by a `…Path` field or a JSONata expression.
    fn dynamic_u64(
        &mut self,
        o: &Obj<'_>,
        key: &str,
        path_key: &str,
        min: u64,
    ) -> Option<Dynamic<u64>> {
        if o.has(key) && o.has(path_key) {
            self.err(
                &o.loc,
                format!("\"{key}\" and \"{path_key}\" cannot both be set"),
            );
            return None;
        }
        if let Some(Value::String(s)) = o.get(key) {
            if is_jsonata_expr(s) {
                return Some(Dynamic::Expr(s.clone()));
            }
            self.err(
                &o.at(key),
                format!("must be an integer or a JSONata expression, not \"{s}\""),
            );
            return None;
        }
        if o.has(key) {
            return self.unsigned(o, key, min).map(Dynamic::Literal);
        }
        self.string(o, path_key).map(Dynamic::Path)
    }

    fn dynamic_f64(&mut self, o: &Obj<'_>, key: &str, path_key: &str) -> Option<Dynamic<f64>> {
        if o.has(key) && o.has(path_key) {
            self.err(
                &o.loc,
                format!("\"{key}\" and \"{path_key}\" cannot both be set"),
            );
            return None;
        }
        if let Some(Value::String(s)) = o.get(key)
            && is_jsonata_expr(s)
        {
            return Some(Dynamic::Expr(s.clone()));
        }
        if o.has(key) {
            return self.number(o, key).map(Dynamic::Literal);
        }
        self.string(o, path_key).map(Dynamic::Path)
    }

    fn dynamic_string(
        &mut self,
        o: &Obj<'_>,
        key: &str,
        path_key: &str,
    ) -> Option<Dynamic<String>> {
        if o.has(key) && o.has(path_key) {
            self.err(
                &o.loc,
                format!("\"{key}\" and \"{path_key}\" cannot both be set"),
            );
            return None;
        }
        if let Some(s) = self.string(o, key) {
            return Some(if is_jsonata_expr(&s) {
                Dynamic::Expr(s)
            } else {
                Dynamic::Literal(s)
            });
        }
        self.string(o, path_key).map(Dynamic::Path)
    }

    fn machine(
        &mut self,
        v: &Value,
        loc: &Location,
        kind: MachineKind,
        inherited: Option<QueryLanguage>,
    ) -> Option<StateMachine> {
        let what = match kind {
            MachineKind::Top => "the definition",
            MachineKind::Branch => "a branch",
            MachineKind::ItemProcessor | MachineKind::Iterator => "an item processor",
        };
        let o = self.object(v, loc, what)?;
        let allowed: &[&str] = match kind {
            MachineKind::Top => &[
                "Comment",
                "StartAt",
                "States",
                "Version",
                "TimeoutSeconds",
                "QueryLanguage",
            ],
            MachineKind::Branch => &["Comment", "StartAt", "States", "QueryLanguage"],
            // The older `Iterator` takes `ProcessorConfig` too (Step Functions accepts it).
            MachineKind::ItemProcessor | MachineKind::Iterator => &[
                "Comment",
                "StartAt",
                "States",
                "QueryLanguage",
                "ProcessorConfig",
            ],
        };
        for key in o.map.keys() {
            if !allowed.contains(&key.as_str()) {
                self.err(&o.at(key), format!("unknown field in {what}"));
            }
        }
        let comment = self.string(&o, "Comment");
        let version = self.string(&o, "Version");
        let timeout_seconds = self.unsigned(&o, "TimeoutSeconds", 1);
        let query_language = self.query_language(&o);
        let language = query_language.or(inherited);
        let start_at = self.required_string(&o, "StartAt", what);
        let mut states = IndexMap::new();
        match o.get("States") {
            None => self.err(loc, format!("{what} has no \"States\" field")),
            Some(Value::Object(map)) => {
                if map.is_empty() {
                    self.err(&o.at("States"), "must hold at least one state");
                }
                for (name, sv) in map {
                    let sloc = o.at("States").key(name);
                    if name.is_empty() || name.chars().count() > 80 {
                        self.err(&sloc, "a state name must have 1 to 80 characters");
                    }
                    if let Some(state) = self.state(sv, &sloc, language) {
                        states.insert(name.clone(), state);
                    }
                }
            }
            Some(other) => self.err(
                &o.at("States"),
                format!("must be an object, not {}", kind_of(other)),
            ),
        }
        Some(StateMachine {
            comment,
            start_at: start_at?,
            states,
            version,
            timeout_seconds,
            query_language,
        })
    }

    fn state(
        &mut self,
        v: &Value,
        loc: &Location,
        inherited: Option<QueryLanguage>,
    ) -> Option<State> {
        let o = self.object(v, loc, "a state")?;
        let type_name = self.required_string(&o, "Type", "the state")?;
        let Some(fields) = fields_of(&type_name) else {
            self.err(
                &o.at("Type"),
                format!(
                    "unknown state type \"{type_name}\": use Pass, Task, Choice, Wait, Succeed, \
                     Fail, Parallel or Map"
                ),
            );
            return None;
        };
        let query_language = self.query_language(&o);
        let language = query_language.or(inherited).unwrap_or_default();
        for key in o.map.keys() {
            let key = key.as_str();
            if COMMON_FIELDS.contains(&key) {
                continue;
            }
            if !fields.contains(&key) {
                self.err(
                    &o.at(key),
                    format!("field is not valid in a {type_name} state"),
                );
            } else if language == QueryLanguage::Jsonata && JSONPATH_ONLY.contains(&key) {
                self.err(
                    &o.at(key),
                    "field is only valid in JSONPath states, not JSONata ones",
                );
            } else if language == QueryLanguage::JsonPath && JSONATA_ONLY.contains(&key) {
                self.err(
                    &o.at(key),
                    "field is only valid in JSONata states, not JSONPath ones",
                );
            }
        }
        let comment = self.string(&o, "Comment");
        let io = Io {
            input_path: self.nullable_path(&o, "InputPath"),
            output_path: self.nullable_path(&o, "OutputPath"),
            result_path: self.nullable_path(&o, "ResultPath"),
            parameters: o.get("Parameters").cloned(),
            result_selector: o.get("ResultSelector").cloned(),
            arguments: o.get("Arguments").cloned(),
            output: o.get("Output").cloned(),
            assign: self.assign(&o),
        };
        // Step Functions takes an array as `Parameters` too (each element a template).
        if let Some(v) = o.get("Parameters")
            && !v.is_object()
            && !v.is_array()
        {
            self.err(
                &o.at("Parameters"),
                format!("must be an object or an array, not {}", kind_of(v)),
            );
        }
        if let Some(v) = o.get("ResultSelector")
            && !v.is_object()
        {
            self.err(
                &o.at("ResultSelector"),
                format!("must be an object, not {}", kind_of(v)),
            );
        }
        let kind = match type_name.as_str() {
            "Pass" => StateKind::Pass(Pass {
                transition: self.transition(&o)?,
                result: o.get("Result").cloned(),
            }),
            "Task" => StateKind::Task(self.task(&o, language)?),
            "Choice" => StateKind::Choice(self.choice(&o, language)?),
            "Wait" => StateKind::Wait(self.wait(&o)?),
            "Succeed" => StateKind::Succeed,
            "Fail" => StateKind::Fail(Fail {
                error: self.dynamic_string(&o, "Error", "ErrorPath"),
                cause: self.dynamic_string(&o, "Cause", "CausePath"),
            }),
            "Parallel" => StateKind::Parallel(self.parallel(&o, language)?),
            _ => StateKind::Map(Box::new(self.map(&o, language)?)),
        };
        Some(State {
            comment,
            query_language,
            io,
            kind,
        })
    }

    fn assign(&mut self, o: &Obj<'_>) -> Option<Value> {
        let v = o.get("Assign")?;
        if !v.is_object() {
            self.err(
                &o.at("Assign"),
                format!("must be an object, not {}", kind_of(v)),
            );
        }
        Some(v.clone())
    }

    fn transition(&mut self, o: &Obj<'_>) -> Option<Transition> {
        let next = self.string(o, "Next");
        let end = match o.get("End") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                self.err(
                    &o.at("End"),
                    format!("must be a boolean, not {}", kind_of(other)),
                );
                return None;
            }
        };
        match (next, end) {
            (Some(_), true) => {
                self.err(&o.loc, "\"Next\" and \"End\" cannot both be set");
                None
            }
            (Some(n), false) => Some(Transition::Next(n)),
            (None, true) => Some(Transition::End),
            (None, false) if o.has("Next") => None,
            (None, false) => {
                self.err(&o.loc, "the state needs \"Next\" or \"End\": true");
                None
            }
        }
    }

    fn error_equals(&mut self, o: &Obj<'_>) -> Vec<String> {
        let loc = o.at("ErrorEquals");
        match o.get("ErrorEquals") {
            None => {
                self.err(&o.loc, "has no \"ErrorEquals\" field");
                Vec::new()
            }
            Some(Value::Array(items)) => {
                if items.is_empty() {
                    self.err(&loc, "must name at least one error");
                }
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        other => self.err(
                            &loc.index(i),
                            format!("an error name must be a string, not {}", kind_of(other)),
                        ),
                    }
                }
                out
            }
            Some(other) => {
                self.err(
                    &loc,
                    format!("must be an array of error names, not {}", kind_of(other)),
                );
                Vec::new()
            }
        }
    }

    fn errors(&mut self, o: &Obj<'_>) -> ErrorHandling {
        let mut handling = ErrorHandling::default();
        for (key, is_retry) in [("Retry", true), ("Catch", false)] {
            let Some(v) = o.get(key) else { continue };
            let Value::Array(items) = v else {
                self.err(&o.at(key), format!("must be an array, not {}", kind_of(v)));
                continue;
            };
            for (i, item) in items.iter().enumerate() {
                let loc = o.at(key).index(i);
                let Some(e) =
                    self.object(item, &loc, if is_retry { "a retrier" } else { "a catcher" })
                else {
                    continue;
                };
                if is_retry {
                    if let Some(r) = self.retrier(&e) {
                        handling.retry.push(r);
                    }
                } else if let Some(c) = self.catcher(&e) {
                    handling.catch.push(c);
                }
            }
        }
        handling
    }

    fn retrier(&mut self, o: &Obj<'_>) -> Option<Retrier> {
        const FIELDS: &[&str] = &[
            "ErrorEquals",
            "IntervalSeconds",
            "MaxAttempts",
            "BackoffRate",
            "MaxDelaySeconds",
            "JitterStrategy",
            "Comment",
        ];
        self.unknown_fields(o, FIELDS, "a retrier");
        let backoff_rate = self.number(o, "BackoffRate");
        if let Some(rate) = backoff_rate
            && rate < 1.0
        {
            self.err(
                &o.at("BackoffRate"),
                format!("must be at least 1.0, not {rate}"),
            );
        }
        let jitter_strategy = match self.string(o, "JitterStrategy").as_deref() {
            None => None,
            Some("FULL") => Some(JitterStrategy::Full),
            Some("NONE") => Some(JitterStrategy::None),
            Some(other) => {
                self.err(
                    &o.at("JitterStrategy"),
                    format!("unknown jitter strategy \"{other}\": use \"FULL\" or \"NONE\""),
                );
                None
            }
        };
        Some(Retrier {
            comment: self.string(o, "Comment"),
            error_equals: self.error_equals(o),
            interval_seconds: self.unsigned(o, "IntervalSeconds", 1),
            max_attempts: self.unsigned(o, "MaxAttempts", 0),
            backoff_rate,
            max_delay_seconds: self.unsigned(o, "MaxDelaySeconds", 1),
            jitter_strategy,
        })
    }

    fn catcher(&mut self, o: &Obj<'_>) -> Option<Catcher> {
        const FIELDS: &[&str] = &[
            "ErrorEquals",
            "Next",
            "ResultPath",
            "Output",
            "Assign",
            "Comment",
        ];
        self.unknown_fields(o, FIELDS, "a catcher");
        let error_equals = self.error_equals(o);
        Some(Catcher {
            comment: self.string(o, "Comment"),
            error_equals,
            next: self.required_string(o, "Next", "the catcher")?,
            result_path: self.nullable_path(o, "ResultPath"),
            output: o.get("Output").cloned(),
            assign: self.assign(o),
        })
    }

    fn unknown_fields(&mut self, o: &Obj<'_>, allowed: &[&str], what: &str) {
        for key in o.map.keys() {
            if !allowed.contains(&key.as_str()) {
                self.err(&o.at(key), format!("unknown field in {what}"));
            }
        }
    }

    fn task(&mut self, o: &Obj<'_>, _language: QueryLanguage) -> Option<Task> {
        let resource = match o.get("Resource") {
            Some(v @ Value::Object(_)) => match cloudformation_reference(v) {
                Some(placeholder) => Some(placeholder),
                None => {
                    self.err(
                        &o.at("Resource"),
                        "must be a string (or a CloudFormation Ref / Fn:: reference)",
                    );
                    None
                }
            },
            _ => self.required_string(o, "Resource", "a Task state"),
        };
        let errors = self.errors(o);
        let timeout_seconds = self.dynamic_u64(o, "TimeoutSeconds", "TimeoutSecondsPath", 1);
        let heartbeat_seconds = self.dynamic_u64(o, "HeartbeatSeconds", "HeartbeatSecondsPath", 1);
        Some(Task {
            transition: self.transition(o)?,
            resource: resource?,
            errors,
            timeout_seconds,
            heartbeat_seconds,
            credentials: o.get("Credentials").cloned(),
        })
    }

    fn choice(&mut self, o: &Obj<'_>, language: QueryLanguage) -> Option<Choice> {
        let default = self.string(o, "Default");
        let mut choices = Vec::new();
        match o.get("Choices") {
            None => self.err(&o.loc, "a Choice state has no \"Choices\" field"),
            Some(Value::Array(items)) => {
                if items.is_empty() {
                    self.err(&o.at("Choices"), "must hold at least one rule");
                }
                for (i, item) in items.iter().enumerate() {
                    let loc = o.at("Choices").index(i);
                    if let Some(rule) = self.choice_rule(item, &loc, language) {
                        choices.push(rule);
                    }
                }
            }
            Some(other) => self.err(
                &o.at("Choices"),
                format!("must be an array, not {}", kind_of(other)),
            ),
        }
        Some(Choice { choices, default })
    }

    fn choice_rule(
        &mut self,
        v: &Value,
        loc: &Location,
        language: QueryLanguage,
    ) -> Option<ChoiceRule> {
        let o = self.object(v, loc, "a choice rule")?;
        let condition = if language == QueryLanguage::Jsonata {
            self.unknown_fields(
                &o,
                &["Condition", "Next", "Assign", "Output", "Comment"],
                "a JSONata choice rule",
            );
            match o.get("Condition") {
                None => {
                    self.err(loc, "a JSONata choice rule has no \"Condition\" field");
                    None
                }
                Some(c @ (Value::String(_) | Value::Bool(_))) => {
                    Some(Condition::Jsonata(c.clone()))
                }
                Some(other) => {
                    self.err(
                        &o.at("Condition"),
                        format!(
                            "must be a JSONata expression or a boolean, not {}",
                            kind_of(other)
                        ),
                    );
                    None
                }
            }
        } else {
            self.condition(&o, &["Next", "Assign", "Comment"])
        };
        let next = self.required_string(&o, "Next", "the choice rule");
        Some(ChoiceRule {
            comment: self.string(&o, "Comment"),
            condition: condition?,
            next: next?,
            assign: self.assign(&o),
            output: o.get("Output").cloned(),
        })
    }

    /// A JSONPath condition; `extra` are the fields the enclosing rule may also hold.
    fn condition(&mut self, o: &Obj<'_>, extra: &[&str]) -> Option<Condition> {
        let booleans: Vec<&str> = ["And", "Or", "Not"]
            .into_iter()
            .filter(|k| o.has(k))
            .collect();
        let operators: Vec<Operator> = o
            .map
            .keys()
            .filter_map(|k| Operator::from_name(k))
            .collect();
        for key in o.map.keys() {
            let key = key.as_str();
            let known = extra.contains(&key)
                || booleans.contains(&key)
                || key == "Variable"
                || Operator::from_name(key).is_some();
            if !known {
                self.err(&o.at(key), "unknown field in a choice rule");
            }
        }
        match (booleans.as_slice(), operators.as_slice()) {
            ([name], []) => {
                if o.has("Variable") {
                    self.err(
                        &o.at("Variable"),
                        format!("\"Variable\" cannot be used with \"{name}\""),
                    );
                }
                let loc = o.at(name);
                let inner = o.get(name)?;
                if *name == "Not" {
                    let io = self.object(inner, &loc, "the rule of \"Not\"")?;
                    return self
                        .condition(&io, &["Comment"])
                        .map(|c| Condition::Not(Box::new(c)));
                }
                let Value::Array(items) = inner else {
                    self.err(
                        &loc,
                        format!("must be an array of rules, not {}", kind_of(inner)),
                    );
                    return None;
                };
                if items.is_empty() {
                    self.err(&loc, "must hold at least one rule");
                }
                let mut rules = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let iloc = loc.index(i);
                    if let Some(io) = self.object(item, &iloc, "a choice rule")
                        && let Some(c) = self.condition(&io, &["Comment"])
                    {
                        rules.push(c);
                    }
                }
                Some(if *name == "And" {
                    Condition::And(rules)
                } else {
                    Condition::Or(rules)
                })
            }
            ([], [operator]) => {
                let variable = self.required_string(o, "Variable", "the choice rule")?;
                let operand = o.get(operator.as_str())?.clone();
                let ok = match operator.operand_kind() {
                    OperandKind::String | OperandKind::Timestamp | OperandKind::Path => {
                        operand.is_string()
                    }
                    OperandKind::Number => operand.is_number(),
                    OperandKind::Boolean => operand.is_boolean(),
                };
                if !ok {
                    let wanted = match operator.operand_kind() {
                        OperandKind::String => "a string",
                        OperandKind::Timestamp => "a timestamp string",
                        OperandKind::Path => "a path",
                        OperandKind::Number => "a number",
                        OperandKind::Boolean => "a boolean",
                    };
                    self.err(
                        &o.at(operator.as_str()),
                        format!("must be {wanted}, not {}", kind_of(&operand)),
                    );
                }
                Some(Condition::Compare(Comparison {
                    variable,
                    operator: *operator,
                    operand,
                }))
            }
            ([], []) => {
                self.err(
                    &o.loc,
                    "the choice rule has no comparison operator and no And/Or/Not",
                );
                None
            }
            _ => {
                self.err(
                    &o.loc,
                    "a choice rule must have exactly one comparison operator or And/Or/Not",
                );
                None
            }
        }
    }

    fn wait(&mut self, o: &Obj<'_>) -> Option<Wait> {
        let forms: Vec<&str> = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
            .into_iter()
            .filter(|k| o.has(k))
            .collect();
        let wait = match forms.as_slice() {
            ["Seconds" | "SecondsPath"] => {
                WaitFor::Seconds(self.dynamic_u64(o, "Seconds", "SecondsPath", 0)?)
            }
            ["Timestamp" | "TimestampPath"] => {
                WaitFor::Timestamp(self.dynamic_string(o, "Timestamp", "TimestampPath")?)
            }
            [] => {
                self.err(
                    &o.loc,
                    "a Wait state needs one of Seconds, SecondsPath, Timestamp, TimestampPath",
                );
                return None;
            }
            _ => {
                self.err(
                    &o.loc,
                    format!("a Wait state takes only one of {}", forms.join(", ")),
                );
                return None;
            }
        };
        Some(Wait {
            transition: self.transition(o)?,
            wait,
        })
    }

    fn parallel(&mut self, o: &Obj<'_>, language: QueryLanguage) -> Option<Parallel> {
        let errors = self.errors(o);
        let mut branches = Vec::new();
        match o.get("Branches") {
            None => self.err(&o.loc, "a Parallel state has no \"Branches\" field"),
            Some(Value::Array(items)) => {
                if items.is_empty() {
                    self.err(&o.at("Branches"), "must hold at least one branch");
                }
                for (i, item) in items.iter().enumerate() {
                    let loc = o.at("Branches").index(i);
                    if let Some(m) = self.machine(item, &loc, MachineKind::Branch, Some(language)) {
                        branches.push(m);
                    }
                }
            }
            Some(other) => self.err(
                &o.at("Branches"),
                format!("must be an array, not {}", kind_of(other)),
            ),
        }
        Some(Parallel {
            transition: self.transition(o)?,
            branches,
            errors,
        })
    }

    fn map(&mut self, o: &Obj<'_>, language: QueryLanguage) -> Option<Map> {
        let errors = self.errors(o);
        let (key, kind) = match (o.has("ItemProcessor"), o.has("Iterator")) {
            (true, false) => ("ItemProcessor", MachineKind::ItemProcessor),
            (false, true) => ("Iterator", MachineKind::Iterator),
            (true, true) => {
                self.err(
                    &o.loc,
                    "\"ItemProcessor\" and \"Iterator\" cannot both be set",
                );
                return None;
            }
            (false, false) => {
                self.err(
                    &o.loc,
                    "a Map state needs \"ItemProcessor\" (or the older \"Iterator\")",
                );
                return None;
            }
        };
        let pv = o.get(key)?;
        let processor = self.machine(pv, &o.at(key), kind, Some(language));
        let processor_config = pv.get("ProcessorConfig").cloned();
        if o.has("ItemSelector") && o.has("Parameters") {
            self.err(
                &o.loc,
                "\"ItemSelector\" and \"Parameters\" cannot both be set",
            );
        }
        let items_path = self.string(o, "ItemsPath");
        let max_concurrency = self.dynamic_u64(o, "MaxConcurrency", "MaxConcurrencyPath", 0);
        let tolerated_failure_percentage = self.dynamic_f64(
            o,
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
        );
        if let Some(Dynamic::Literal(p)) = tolerated_failure_percentage
            && !(0.0..=100.0).contains(&p)
        {
            self.err(
                &o.at("ToleratedFailurePercentage"),
                format!("must be between 0 and 100, not {p}"),
            );
        }
        let tolerated_failure_count =
            self.dynamic_u64(o, "ToleratedFailureCount", "ToleratedFailureCountPath", 0);
        let label = self.string(o, "Label");
        Some(Map {
            transition: self.transition(o)?,
            processor: processor?,
            processor_config,
            legacy_iterator: kind == MachineKind::Iterator,
            items_path,
            items: o.get("Items").cloned(),
            item_selector: o.get("ItemSelector").cloned(),
            item_reader: o.get("ItemReader").cloned(),
            item_batcher: o.get("ItemBatcher").cloned(),
            result_writer: o.get("ResultWriter").cloned(),
            max_concurrency,
            tolerated_failure_percentage,
            tolerated_failure_count,
            label,
            errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(text: &str) -> Vec<String> {
        match parse(text) {
            Ok(_) => Vec::new(),
            Err(d) => d.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn parses_a_small_machine() {
        let m = parse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"Next":"B"},
                "B":{"Type":"Succeed"}}}"#,
        )
        .expect("valid definition");
        assert_eq!(m.start_at, "A");
        assert_eq!(m.states.len(), 2);
        assert_eq!(m.states["A"].successors(), vec!["B"]);
    }

    #[test]
    fn names_the_path_of_a_problem() {
        let errs = errors_of(
            r#"{"StartAt":"R","States":{"R":{"Type":"Choice","Choices":[
                {"Variable":"$.x","NumericEquals":"one","Next":"R"}]}}}"#,
        );
        assert_eq!(
            errs,
            vec!["States.R.Choices[0].NumericEquals: must be a number, not a string"]
        );
    }

    #[test]
    fn refuses_duplicate_fields() {
        let errs = errors_of(r#"{"StartAt":"A","States":{"A":{"Type":"Succeed","Type":"Pass"}}}"#);
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].contains("States.A.Type: duplicate field"),
            "{errs:?}"
        );
    }

    #[test]
    fn refuses_fields_of_the_other_query_language() {
        let errs = errors_of(
            r#"{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass",
                "InputPath":"$.x","End":true}}}"#,
        );
        assert_eq!(
            errs,
            vec!["States.A.InputPath: field is only valid in JSONPath states, not JSONata ones"]
        );
    }

    #[test]
    fn accepts_what_step_functions_accepts() {
        // A legacy Iterator with ProcessorConfig, array Parameters, CloudFormation references.
        let m = parse(
            r#"{"StartAt":"M","States":{"M":{"Type":"Map","Next":"T","Parameters":[{"a.$":"$"}],
                "Iterator":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"I",
                "States":{"I":{"Type":"Succeed"}}}},
                "T":{"Type":"Task","Resource":{"Fn::GetAtt":["Fn","Arn"]},"Next":"U"},
                "U":{"Type":"Task","Resource":{"Ref":"Other"},"End":true}}}"#,
        )
        .expect("valid definition");
        let StateKind::Task(t) = &m.states["T"].kind else {
            panic!("T is a Task")
        };
        assert_eq!(t.resource, "${Fn.Arn}");
        let StateKind::Task(u) = &m.states["U"].kind else {
            panic!("U is a Task")
        };
        assert_eq!(u.resource, "${Other}");
    }

    #[test]
    fn reports_truncated_text_without_panicking() {
        let errs = errors_of(r#"{"StartAt":"A","States":{"A":{"Type":"Succ"#);
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with("(definition): invalid JSON"),
            "{errs:?}"
        );
    }
}
