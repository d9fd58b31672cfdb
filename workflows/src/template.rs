//! JSONPath-mode payload templates: `Parameters`, `ResultSelector`, `ItemSelector`, `Assign`.
//!
//! A template is copied as is, except that a field whose name ends in `.$` has its string value
//! evaluated — a path into the input (`$…`), the context (`$$…`) or a variable (`$name…`), or an
//! intrinsic call — and loses the `.$` suffix.

use serde_json::{Map, Value};

use crate::intrinsics::{self, Env, IntrinsicError};
use crate::jsonpath::{JsonPath, PathError};

/// An error evaluating a template. Its text is the cause AWS reports (without the `An error
/// occurred while executing the state …` prefix); [`TemplateError::error_name`] is the error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A path selected nothing (AWS: `States.Runtime`).
    #[error(
        "The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{input}'"
    )]
    PathNotFound {
        /// The path as written.
        path: String,
        /// The field, with its `.$`.
        field: String,
        /// The state input as compact JSON.
        input: String,
    },
    /// A `.$` field's value is not a valid path or intrinsic (AWS: `States.Runtime`).
    #[error(
        "The value for the field '{field}' must be a valid JSONPath or a valid intrinsic function call: {reason}"
    )]
    InvalidField {
        /// The field, with its `.$`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// An intrinsic function failed (AWS: `States.IntrinsicFailure`).
    #[error("{source}")]
    Intrinsic {
        /// The field, with its `.$`.
        field: String,
        /// The failure.
        source: IntrinsicError,
    },
}

impl TemplateError {
    /// The AWS error name: `States.Runtime` or `States.IntrinsicFailure`.
    pub fn error_name(&self) -> &'static str {
        match self {
            TemplateError::PathNotFound { .. } | TemplateError::InvalidField { .. } => {
                "States.Runtime"
            }
            TemplateError::Intrinsic { .. } => "States.IntrinsicFailure",
        }
    }
}

/// Evaluates a template against `env`.
pub fn evaluate(template: &Value, env: &mut Env<'_>) -> Result<Value, TemplateError> {
    match template {
        Value::Object(fields) => {
            let mut out = Map::with_capacity(fields.len());
            for (key, value) in fields {
                match key.strip_suffix(".$").filter(|k| !k.is_empty()) {
                    Some(name) => {
                        let v = evaluate_field(key, value, env)?;
                        out.insert(name.to_string(), v);
                    }
                    None => {
                        out.insert(key.clone(), evaluate(value, env)?);
                    }
                }
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items
            .iter()
            .map(|item| evaluate(item, env))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

/// Evaluates the value of one `.$` field: a path or an intrinsic call.
pub fn evaluate_field(
    field: &str,
    expr: &Value,
    env: &mut Env<'_>,
) -> Result<Value, TemplateError> {
    let Value::String(text) = expr else {
        return Err(TemplateError::InvalidField {
            field: field.to_string(),
            reason: "the value is not a string".to_string(),
        });
    };
    let not_found = |path: String, env: &Env<'_>| TemplateError::PathNotFound {
        path,
        field: field.to_string(),
        input: serde_json::to_string(env.input).unwrap_or_default(),
    };
    if intrinsics::is_intrinsic(text) {
        let call = intrinsics::parse(text).map_err(|source| TemplateError::Intrinsic {
            field: field.to_string(),
            source,
        })?;
        return intrinsics::eval(&call, env).map_err(|source| match source {
            IntrinsicError::Path(
                PathError::NotFound { path, .. } | PathError::UnknownVariable { path, .. },
            ) => not_found(path, env),
            source => TemplateError::Intrinsic {
                field: field.to_string(),
                source,
            },
        });
    }
    let path = JsonPath::parse(text).map_err(|e| TemplateError::InvalidField {
        field: field.to_string(),
        reason: e.to_string(),
    })?;
    env.read(&path).map_err(|_| not_found(text.clone(), env))
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn eval(template: Value, input: Value) -> Result<Value, TemplateError> {
        let context =
            json!({"Execution": {"Input": {"k": 1}}, "Map": {"Item": {"Value": "v", "Index": 0}}});
        let variables = |name: &str| (name == "count").then(|| json!(3));
        let mut uuid = || "u-1".to_string();
        let mut random = |start: i64, _: i64, _: Option<i64>| start;
        let mut env = Env {
            input: &input,
            context: &context,
            variables: &variables,
            uuid: &mut uuid,
            random: &mut random,
        };
        evaluate(&template, &mut env)
    }

    #[test]
    fn copies_and_evaluates_recursively() {
        let out = eval(
            json!({
                "literal": {"a": [1, {"b.$": "$.x"}]},
                "x.$": "$.x",
                "ctx.$": "$$.Map.Item.Value",
                "var.$": "$count",
                "id.$": "States.UUID()",
                "all.$": "$",
                "list.$": "$.l[*].n"
            }),
            json!({"x": "X", "l": [{"n": 1}, {"n": 2}]}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({
                "literal": {"a": [1, {"b": "X"}]},
                "x": "X",
                "ctx": "v",
                "var": 3,
                "id": "u-1",
                "all": {"x": "X", "l": [{"n": 1}, {"n": 2}]},
                "list": [1, 2]
            })
        );
    }

    #[test]
    fn missing_path_is_a_runtime_error_with_the_aws_cause() {
        let e = eval(json!({"x.$": "$.missing"}), json!({"a": 1})).unwrap_err();
        assert_eq!(e.error_name(), "States.Runtime");
        assert_eq!(
            e.to_string(),
            r#"The JSONPath '$.missing' specified for the field 'x.$' could not be found in the input '{"a":1}'"#
        );
        let e = eval(json!({"x.$": "$nope"}), json!({})).unwrap_err();
        assert_eq!(e.error_name(), "States.Runtime");
    }

    #[test]
    fn intrinsic_failures_are_their_own_error() {
        let e = eval(
            json!({"x.$": "States.ArrayGetItem(States.Array(), 0)"}),
            json!({}),
        )
        .unwrap_err();
        assert_eq!(e.error_name(), "States.IntrinsicFailure");
        let e = eval(json!({"x.$": 3}), json!({})).unwrap_err();
        assert_eq!(e.error_name(), "States.Runtime");
    }
}
