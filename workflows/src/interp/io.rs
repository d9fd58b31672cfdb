//! Input and output processing of JSONPath states: InputPath → Parameters → (the work) →
//! ResultSelector → ResultPath → OutputPath, and the JSONPath forms of `Assign`.

use std::cell::RefCell;

use serde_json::{Map, Value};

use crate::asl::NullablePath;
use crate::intrinsics::Env;
use crate::jsonpath::JsonPath;

use super::errors::{StateError, names};
use super::rng::{SplitMix64, seeded_range};

/// Everything a JSONPath expression of one state can see.
pub(super) struct Frame<'a> {
    /// `$$`.
    pub(super) context: &'a Value,
    /// Every variable in scope, innermost last.
    pub vars: &'a [(String, Value)],
    /// The execution's generator.
    pub rng: &'a mut SplitMix64,
    /// The state's name, for causes.
    pub state_name: &'a str,
    /// The id of its `…StateEntered` event, for causes.
    pub entered_id: u64,
}

impl Frame<'_> {
    /// A `States.Runtime` error whose cause names this state.
    pub(super) fn runtime(&self, detail: impl std::fmt::Display) -> StateError {
        self.error(names::RUNTIME, detail)
    }

    /// An error with this name whose cause names this state.
    pub(super) fn error(&self, name: &str, detail: impl std::fmt::Display) -> StateError {
        StateError::new(name, self.cause(detail))
    }

    /// The AWS cause prefix for this state.
    pub(super) fn cause(&self, detail: impl std::fmt::Display) -> String {
        format!(
            "An error occurred while executing the state '{}' (entered at the event id #{}). {detail}",
            self.state_name, self.entered_id
        )
    }

    /// Runs `f` with an intrinsic-function environment whose `$` is `input`.
    pub(super) fn with_env<R>(&mut self, input: &Value, f: impl FnOnce(&mut Env<'_>) -> R) -> R {
        let vars = self.vars;
        let lookup = move |name: &str| lookup_var(vars, name);
        let rng = RefCell::new(*self.rng);
        let mut uuid = || rng.borrow_mut().uuid_v4();
        let mut random = |low: i64, high: i64, seed: Option<i64>| match seed {
            // `[low, high)`, as States.MathRandom draws.
            Some(seed) => seeded_range(seed, low, high.saturating_sub(1).max(low)),
            None => rng
                .borrow_mut()
                .range_inclusive(low, high.saturating_sub(1).max(low)),
        };
        let out = {
            let mut env = Env {
                input,
                context: self.context,
                variables: &lookup,
                uuid: &mut uuid,
                random: &mut random,
            };
            f(&mut env)
        };
        *self.rng = rng.into_inner();
        out
    }

    /// The value a path (`$…`, `$$…` or `$var…`) selects, or a `States.Runtime` error.
    pub(super) fn query(&mut self, path: &str, input: &Value) -> Result<Value, StateError> {
        let parsed = JsonPath::parse(path).map_err(|e| self.runtime(e.aws_cause()))?;
        let result = self.with_env(input, |env| env.read(&parsed));
        result.map_err(|e| self.runtime(e.aws_cause()))
    }

    /// `InputPath`: the effective input.
    pub(super) fn input_path(
        &mut self,
        field: Option<&NullablePath>,
        input: &Value,
    ) -> Result<Value, StateError> {
        match field {
            None => Ok(input.clone()),
            Some(NullablePath::Null) => Ok(Value::Object(Map::new())),
            Some(NullablePath::Path(p)) => self.query(p, input),
        }
    }

    /// `OutputPath`: the state output.
    pub(super) fn output_path(
        &mut self,
        field: Option<&NullablePath>,
        output: &Value,
    ) -> Result<Value, StateError> {
        self.input_path(field, output)
    }

    /// A `Parameters`, `ResultSelector`, `ItemSelector` or `Assign` template against `input`.
    pub(super) fn template(
        &mut self,
        template: &Value,
        input: &Value,
    ) -> Result<Value, StateError> {
        let state_name = self.state_name.to_string();
        let entered_id = self.entered_id;
        let result = self.with_env(input, |env| crate::template::evaluate(template, env));
        result.map_err(|e| {
            StateError::new(
                e.error_name(),
                format!(
                    "An error occurred while executing the state '{state_name}' (entered at the event id #{entered_id}). {e}"
                ),
            )
        })
    }

    /// `ResultPath`: where the result goes in the raw input.
    pub(super) fn result_path(
        &self,
        field: Option<&NullablePath>,
        input: &Value,
        result: Value,
    ) -> Result<Value, StateError> {
        match field {
            None => Ok(result),
            Some(NullablePath::Null) => Ok(input.clone()),
            Some(NullablePath::Path(p)) => {
                let parsed = JsonPath::parse(p).map_err(|e| self.runtime(e.aws_cause()))?;
                let mut target = input.clone();
                parsed
                    .set(&mut target, result)
                    .map_err(|e| self.error(names::RESULT_PATH_MATCH_FAILURE, e.aws_cause()))?;
                Ok(target)
            }
        }
    }
}

/// A variable by name, innermost scope first.
pub(super) fn lookup_var(vars: &[(String, Value)], name: &str) -> Option<Value> {
    vars.iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}
