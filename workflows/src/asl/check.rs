//! The static checker: what Step Functions would refuse when a definition is created, beyond the
//! field-level rules of the parser, plus turnflow's own policy.
//!
//! - **Graph**: `StartAt`, `Next`, `Default` and `Catch` targets exist in the same (sub-)machine;
//!   every state is reachable; each machine has a terminal state; state names are unique across
//!   the whole definition (branches and item processors included).
//! - **Paths and templates** (JSONPath states): paths are well formed, `ResultPath` and the
//!   comparison paths are reference paths, `.$` fields hold a path or an intrinsic function call,
//!   and no field appears both with and without `.$`.
//! - **JSONata** (JSONata states): `{% … %}` expressions are complete and parse; `.$` fields are
//!   refused; a JSONata expression in a JSONPath state is refused.
//! - **Errors**: `States.ALL` alone and last; `HeartbeatSeconds` below `TimeoutSeconds`.
//! - **Resources**: ARNs are well formed; `${…}` definition substitutions are closed.
//! - **Policy** ([`Severity::Policy`](super::Severity::Policy)): activity tasks and `.waitForTaskToken` tasks carry a
//!   timeout and a heartbeat; error names under `States.` are AWS's own.

mod jsonata;
mod syntax;

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::Value;

use super::diag::{Diagnostic, Diagnostics, Location};
use super::model::*;
use super::parse::parse;
use syntax::PathRules;

/// The error names Step Functions defines; other names under `States.` are reserved.
pub const PREDEFINED_ERRORS: &[&str] = &[
    "States.ALL",
    "States.BranchFailed",
    "States.DataLimitExceeded",
    "States.ExceedToleratedFailureThreshold",
    "States.HeartbeatTimeout",
    "States.Http.Socket",
    "States.IntrinsicFailure",
    "States.ItemReaderFailed",
    "States.NoChoiceMatched",
    "States.ParameterPathFailure",
    "States.Permissions",
    "States.QueryEvaluationError",
    "States.ResultPathMatchFailure",
    "States.ResultWriterFailed",
    "States.Runtime",
    "States.TaskFailed",
    "States.Timeout",
];

/// Parses and checks a definition: every diagnostic, parse errors included.
///
/// When the text does not parse, only the parser's diagnostics are returned (the checker needs
/// the typed model).
pub fn validate(text: &str) -> Diagnostics {
    match parse(text) {
        Ok(machine) => check(&machine),
        Err(diagnostics) => diagnostics,
    }
}

/// Checks a parsed definition; an empty result means Step Functions and turnflow's policy would
/// both accept it.
pub fn check(machine: &StateMachine) -> Diagnostics {
    let mut checker = Checker::default();
    let language = machine.query_language.unwrap_or_default();
    checker.machine(machine, &Location::root(), language);
    Diagnostics(checker.diags)
}

#[derive(Default)]
struct Checker {
    diags: Vec<Diagnostic>,
    /// Every state name seen so far, anywhere in the definition, with where it was.
    names: HashMap<String, Location>,
}

impl Checker {
    fn error(&mut self, loc: &Location, message: impl Into<String>) {
        self.diags.push(Diagnostic::error(loc, message));
    }

    fn policy(&mut self, loc: &Location, message: impl Into<String>) {
        self.diags.push(Diagnostic::policy(loc, message));
    }

    /// Checks one (sub-)machine: its graph, then each state.
    fn machine(&mut self, m: &StateMachine, loc: &Location, inherited: QueryLanguage) {
        let language = m.query_language.unwrap_or(inherited);
        self.graph(m, loc);
        for (name, state) in &m.states {
            let sloc = loc.key("States").key(name);
            if let Some(first) = self.names.get(name) {
                let message = format!(
                    "state name \"{name}\" is already used at {first}: names must be unique in \
                     the whole state machine"
                );
                self.error(&sloc, message);
            } else {
                self.names.insert(name.clone(), sloc.clone());
            }
            self.state(state, &sloc, state.query_language.unwrap_or(language));
        }
    }

    /// Transition targets, reachability and the existence of a terminal state.
    fn graph(&mut self, m: &StateMachine, loc: &Location) {
        let start_ok = m.states.contains_key(&m.start_at);
        if !start_ok {
            self.error(
                &loc.key("StartAt"),
                format!("no state named \"{}\"", m.start_at),
            );
        }
        for (name, state) in &m.states {
            let sloc = loc.key("States").key(name);
            for (target, tloc) in targets(state, &sloc) {
                if !m.states.contains_key(target) {
                    self.error(&tloc, format!("no state named \"{target}\""));
                }
            }
        }
        if start_ok {
            let mut reached: HashSet<&str> = HashSet::from([m.start_at.as_str()]);
            let mut queue = VecDeque::from([m.start_at.as_str()]);
            while let Some(name) = queue.pop_front() {
                let Some(state) = m.states.get(name) else {
                    continue;
                };
                for next in state.successors() {
                    if m.states.contains_key(next) && reached.insert(next) {
                        queue.push_back(next);
                    }
                }
            }
            for name in m.states.keys() {
                if !reached.contains(name.as_str()) {
                    let message = format!("state is not reachable from \"{}\"", m.start_at);
                    self.error(&loc.key("States").key(name), message);
                }
            }
        }
        let terminal = m.states.values().any(|s| {
            matches!(s.kind, StateKind::Succeed | StateKind::Fail(_))
                || s.transition() == Some(&Transition::End)
        });
        if !terminal && !m.states.is_empty() {
            self.error(
                &loc.key("States"),
                "no terminal state: at least one state needs \"End\": true, or be Succeed or Fail",
            );
        }
    }

    fn state(&mut self, state: &State, loc: &Location, lang: QueryLanguage) {
        self.io(&state.io, loc, lang);
        match &state.kind {
            StateKind::Pass(_) | StateKind::Succeed => {}
            StateKind::Task(task) => self.task(task, loc, lang),
            StateKind::Choice(choice) => self.choice(choice, loc, lang),
            StateKind::Wait(wait) => match &wait.wait {
                WaitFor::Seconds(d) => self.dynamic(d, loc, "Seconds", "SecondsPath", lang),
                WaitFor::Timestamp(d) => {
                    self.dynamic(d, loc, "Timestamp", "TimestampPath", lang);
                    if let Dynamic::Literal(t) = d {
                        self.timestamp(t, &loc.key("Timestamp"), lang);
                    }
                }
            },
            StateKind::Fail(fail) => {
                for (d, key, path_key) in [
                    (&fail.error, "Error", "ErrorPath"),
                    (&fail.cause, "Cause", "CausePath"),
                ] {
                    match d {
                        Some(Dynamic::Path(p)) => {
                            let r = if crate::intrinsics::is_intrinsic(p) {
                                syntax::check_intrinsic(p)
                            } else {
                                syntax::check_path(p, PathRules::REFERENCE)
                            };
                            if let Err(e) = r {
                                self.error(&loc.key(path_key), e);
                            }
                        }
                        // In a JSONata state, a string that looks like a broken expression.
                        Some(Dynamic::Literal(s)) if lang == QueryLanguage::Jsonata => {
                            self.jsonata_string(s, &loc.key(key));
                        }
                        Some(d) => self.dynamic(d, loc, key, path_key, lang),
                        None => {}
                    }
                }
                if let Some(Dynamic::Literal(error)) = &fail.error {
                    self.error_name(error, &loc.key("Error"));
                }
            }
            StateKind::Parallel(parallel) => {
                for (i, branch) in parallel.branches.iter().enumerate() {
                    self.machine(branch, &loc.key("Branches").index(i), lang);
                }
                self.error_handling(&parallel.errors, loc, lang);
            }
            StateKind::Map(map) => self.map(map, loc, lang),
        }
    }

    fn io(&mut self, io: &Io, loc: &Location, lang: QueryLanguage) {
        for (path, key, rules) in [
            (&io.input_path, "InputPath", PathRules::PATH),
            (&io.output_path, "OutputPath", PathRules::PATH),
            (&io.result_path, "ResultPath", PathRules::RESULT),
        ] {
            self.nullable_path(path.as_ref(), &loc.key(key), rules);
        }
        for (value, key) in [
            (&io.parameters, "Parameters"),
            (&io.result_selector, "ResultSelector"),
            (&io.arguments, "Arguments"),
            (&io.output, "Output"),
            (&io.assign, "Assign"),
        ] {
            if let Some(v) = value {
                self.payload(v, &loc.key(key), lang);
            }
        }
    }

    fn nullable_path(&mut self, path: Option<&NullablePath>, loc: &Location, rules: PathRules) {
        if let Some(p) = path.and_then(NullablePath::as_path)
            && let Err(e) = syntax::check_path(p, rules)
        {
            self.error(loc, e);
        }
    }

    /// A payload template (JSONPath) or a JSONata value, by the state's language.
    fn payload(&mut self, v: &Value, loc: &Location, lang: QueryLanguage) {
        match lang {
            QueryLanguage::JsonPath => self.template(v, loc),
            QueryLanguage::Jsonata => self.jsonata_value(v, loc),
        }
    }

    /// A JSONPath payload template: `.$` fields hold paths or intrinsic calls, and no field is
    /// written both with and without `.$`.
    fn template(&mut self, v: &Value, loc: &Location) {
        match v {
            Value::Object(map) => {
                for (key, value) in map {
                    let kloc = loc.key(key);
                    let Some(stripped) = key.strip_suffix(".$") else {
                        self.template(value, &kloc);
                        continue;
                    };
                    if map.contains_key(stripped) {
                        self.error(
                            &kloc,
                            format!(
                                "\"{stripped}\" is also given without \".$\": the field would \
                                 appear twice"
                            ),
                        );
                    }
                    match value {
                        Value::String(s) => {
                            if let Err(e) = syntax::check_dynamic_value(s) {
                                self.error(&kloc, e);
                            }
                        }
                        other => self.error(
                            &kloc,
                            format!(
                                "a field ending in \".$\" must hold a path or an intrinsic \
                                 function call, not {other}"
                            ),
                        ),
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.template(item, &loc.index(i));
                }
            }
            _ => {}
        }
    }

    /// A JSONata value: strings that look like expressions must be complete and parse; `.$`
    /// fields belong to JSONPath.
    fn jsonata_value(&mut self, v: &Value, loc: &Location) {
        match v {
            Value::String(s) => self.jsonata_string(s, loc),
            Value::Object(map) => {
                for (key, value) in map {
                    let kloc = loc.key(key);
                    if key.ends_with(".$") {
                        self.error(
                            &kloc,
                            "fields ending in \".$\" are JSONPath: a JSONata state uses \
                             \"{% … %}\" values instead",
                        );
                    }
                    self.jsonata_value(value, &kloc);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.jsonata_value(item, &loc.index(i));
                }
            }
            _ => {}
        }
    }

    fn jsonata_string(&mut self, s: &str, loc: &Location) {
        let t = s.trim();
        let opens = t.starts_with("{%");
        let closes = t.ends_with("%}");
        if !opens && !closes {
            return;
        }
        if !(opens && closes && t.len() >= 4) {
            self.error(
                loc,
                format!("incomplete JSONata expression \"{s}\": write \"{{% expression %}}\""),
            );
            return;
        }
        if let Err(e) = jsonata::check_expression(&t[2..t.len() - 2]) {
            self.error(loc, format!("invalid JSONata expression \"{s}\": {e}"));
        }
    }

    /// A field that is a literal, a `…Path` field or a JSONata expression.
    fn dynamic<T>(
        &mut self,
        d: &Dynamic<T>,
        loc: &Location,
        key: &str,
        path_key: &str,
        lang: QueryLanguage,
    ) {
        match d {
            Dynamic::Literal(_) => {}
            Dynamic::Path(p) => {
                if let Err(e) = syntax::check_path(p, PathRules::REFERENCE) {
                    self.error(&loc.key(path_key), e);
                }
            }
            Dynamic::Expr(e) => match lang {
                QueryLanguage::Jsonata => self.jsonata_string(e, &loc.key(key)),
                QueryLanguage::JsonPath => self.error(
                    &loc.key(key),
                    "a JSONata expression is only valid in JSONata states",
                ),
            },
        }
    }

    fn timestamp(&mut self, t: &str, loc: &Location, lang: QueryLanguage) {
        if lang == QueryLanguage::Jsonata && (t.trim().starts_with("{%") || t.ends_with("%}")) {
            self.jsonata_string(t, loc);
        } else if let Err(e) = syntax::check_timestamp(t) {
            self.error(loc, e);
        }
    }

    fn task(&mut self, task: &Task, loc: &Location, lang: QueryLanguage) {
        if let Err(e) = syntax::check_resource(&task.resource) {
            self.error(&loc.key("Resource"), e);
        }
        if let Some(d) = &task.timeout_seconds {
            self.dynamic(d, loc, "TimeoutSeconds", "TimeoutSecondsPath", lang);
        }
        if let Some(d) = &task.heartbeat_seconds {
            self.dynamic(d, loc, "HeartbeatSeconds", "HeartbeatSecondsPath", lang);
        }
        if let (Some(Dynamic::Literal(timeout)), Some(Dynamic::Literal(heartbeat))) =
            (&task.timeout_seconds, &task.heartbeat_seconds)
            && heartbeat >= timeout
        {
            self.error(
                &loc.key("HeartbeatSeconds"),
                format!("must be below TimeoutSeconds ({timeout}), not {heartbeat}"),
            );
        }
        if let Some(credentials) = &task.credentials {
            let cloc = loc.key("Credentials");
            match credentials {
                Value::Object(_) => self.payload(credentials, &cloc, lang),
                other => self.error(&cloc, format!("must be an object, not {other}")),
            }
        }
        self.error_handling(&task.errors, loc, lang);
        self.task_policy(task, loc);
    }

    /// turnflow refuses a task that can wait forever: activities and task-token callbacks need a
    /// timeout, and a heartbeat to notice a dead worker early.
    fn task_policy(&mut self, task: &Task, loc: &Location) {
        let kind = if is_activity(&task.resource) {
            "an activity task"
        } else if task.resource.ends_with(".waitForTaskToken") {
            "a .waitForTaskToken task"
        } else {
            return;
        };
        if task.timeout_seconds.is_none() {
            self.policy(
                loc,
                format!("{kind} needs TimeoutSeconds (or TimeoutSecondsPath)"),
            );
        }
        if task.heartbeat_seconds.is_none() {
            self.policy(
                loc,
                format!("{kind} needs HeartbeatSeconds below its TimeoutSeconds"),
            );
        }
    }

    fn choice(&mut self, choice: &Choice, loc: &Location, lang: QueryLanguage) {
        for (i, rule) in choice.choices.iter().enumerate() {
            let rloc = loc.key("Choices").index(i);
            self.condition(&rule.condition, &rloc);
            if let Some(v) = &rule.assign {
                self.payload(v, &rloc.key("Assign"), lang);
            }
            if let Some(v) = &rule.output {
                self.payload(v, &rloc.key("Output"), lang);
            }
        }
    }

    fn condition(&mut self, condition: &Condition, loc: &Location) {
        match condition {
            Condition::Jsonata(Value::String(s)) => {
                if parse_is_expr(s) {
                    self.jsonata_string(s, &loc.key("Condition"));
                } else {
                    self.error(
                        &loc.key("Condition"),
                        format!("\"{s}\" is not a JSONata expression \"{{% … %}}\""),
                    );
                }
            }
            Condition::Jsonata(_) => {}
            Condition::And(rules) | Condition::Or(rules) => {
                let key = if matches!(condition, Condition::And(_)) {
                    "And"
                } else {
                    "Or"
                };
                for (i, rule) in rules.iter().enumerate() {
                    self.condition(rule, &loc.key(key).index(i));
                }
            }
            Condition::Not(rule) => self.condition(rule, &loc.key("Not")),
            Condition::Compare(c) => {
                if let Err(e) = syntax::check_path(&c.variable, PathRules::REFERENCE) {
                    self.error(&loc.key("Variable"), e);
                }
                let oloc = loc.key(c.operator.as_str());
                match (c.operator.operand_kind(), &c.operand) {
                    (OperandKind::Path, Value::String(p)) => {
                        if let Err(e) = syntax::check_path(p, PathRules::REFERENCE) {
                            self.error(&oloc, e);
                        }
                    }
                    (OperandKind::Timestamp, Value::String(t)) => {
                        if let Err(e) = syntax::check_timestamp(t) {
                            self.error(&oloc, e);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn map(&mut self, map: &Map, loc: &Location, lang: QueryLanguage) {
        let key = if map.legacy_iterator {
            "Iterator"
        } else {
            "ItemProcessor"
        };
        self.machine(&map.processor, &loc.key(key), lang);
        if let Some(p) = &map.items_path
            && let Err(e) = syntax::check_path(p, PathRules::REFERENCE)
        {
            self.error(&loc.key("ItemsPath"), e);
        }
        if let Some(items) = &map.items {
            match items {
                Value::Array(_) => self.jsonata_value(items, &loc.key("Items")),
                Value::String(s) if parse_is_expr(s) => self.jsonata_string(s, &loc.key("Items")),
                other => self.error(
                    &loc.key("Items"),
                    format!("must be an array or a JSONata expression, not {other}"),
                ),
            }
        }
        if let Some(v) = &map.item_selector {
            self.payload(v, &loc.key("ItemSelector"), lang);
        }
        if let Some(d) = &map.max_concurrency {
            self.dynamic(d, loc, "MaxConcurrency", "MaxConcurrencyPath", lang);
        }
        if let Some(d) = &map.tolerated_failure_count {
            self.dynamic(
                d,
                loc,
                "ToleratedFailureCount",
                "ToleratedFailureCountPath",
                lang,
            );
        }
        if let Some(d) = &map.tolerated_failure_percentage {
            self.dynamic(
                d,
                loc,
                "ToleratedFailurePercentage",
                "ToleratedFailurePercentagePath",
                lang,
            );
        }
        for (value, key, nested) in [
            (&map.item_reader, "ItemReader", Some("ReaderConfig")),
            (&map.item_batcher, "ItemBatcher", None),
            (&map.result_writer, "ResultWriter", Some("WriterConfig")),
        ] {
            let Some(v) = value else { continue };
            let kloc = loc.key(key);
            let Value::Object(obj) = v else {
                self.error(&kloc, format!("must be an object, not {v}"));
                continue;
            };
            self.exclusive_paths(obj, &kloc);
            if let Some(Value::Object(config)) = nested.and_then(|n| obj.get(n)) {
                self.exclusive_paths(config, &kloc.key(nested.unwrap_or_default()));
            }
            if let Some(Value::String(resource)) = obj.get("Resource")
                && let Err(e) = syntax::check_resource(resource)
            {
                self.error(&kloc.key("Resource"), e);
            }
            for (field, value) in obj {
                match (lang, field.as_str()) {
                    (QueryLanguage::JsonPath, "Parameters" | "BatchInput") => {
                        self.template(value, &kloc.key(field));
                    }
                    (QueryLanguage::Jsonata, _) => self.jsonata_value(value, &kloc.key(field)),
                    _ => {}
                }
            }
        }
        self.error_handling(&map.errors, loc, lang);
    }

    /// `X` and `XPath` cannot both be given (e.g. `MaxItems` and `MaxItemsPath`).
    fn exclusive_paths(&mut self, obj: &serde_json::Map<String, Value>, loc: &Location) {
        for key in obj.keys() {
            if let Some(base) = key.strip_suffix("Path")
                && !base.is_empty()
                && obj.contains_key(base)
            {
                self.error(loc, format!("\"{base}\" and \"{key}\" cannot both be set"));
            }
            if let (Some(Value::String(p)), Some(_)) = (obj.get(key), key.strip_suffix("Path"))
                && let Err(e) = syntax::check_path(p, PathRules::REFERENCE)
            {
                self.error(&loc.key(key), e);
            }
        }
    }

    fn error_handling(&mut self, errors: &ErrorHandling, loc: &Location, lang: QueryLanguage) {
        let retry: Vec<&[String]> = errors.retry.iter().map(|r| &r.error_equals[..]).collect();
        self.error_lists(&retry, &loc.key("Retry"), "retrier");
        let catch: Vec<&[String]> = errors.catch.iter().map(|c| &c.error_equals[..]).collect();
        self.error_lists(&catch, &loc.key("Catch"), "catcher");
        for (i, catcher) in errors.catch.iter().enumerate() {
            let cloc = loc.key("Catch").index(i);
            self.nullable_path(
                catcher.result_path.as_ref(),
                &cloc.key("ResultPath"),
                PathRules::RESULT,
            );
            if let Some(v) = &catcher.output {
                self.payload(v, &cloc.key("Output"), lang);
            }
            if let Some(v) = &catcher.assign {
                self.payload(v, &cloc.key("Assign"), lang);
            }
        }
    }

    fn error_lists(&mut self, lists: &[&[String]], loc: &Location, what: &str) {
        for (i, names) in lists.iter().enumerate() {
            let eloc = loc.index(i).key("ErrorEquals");
            if names.iter().any(|n| n == "States.ALL") {
                if names.len() > 1 {
                    self.error(
                        &eloc,
                        "\"States.ALL\" must be the only error name in its list",
                    );
                }
                if i + 1 != lists.len() {
                    self.error(
                        &eloc,
                        format!("the {what} with \"States.ALL\" must be the last one"),
                    );
                }
            }
            for (j, name) in names.iter().enumerate() {
                self.error_name(name, &eloc.index(j));
            }
        }
    }

    /// Names under `States.` are AWS's; Step Functions does not refuse others, but they are
    /// reserved, and a typo there never matches.
    fn error_name(&mut self, name: &str, loc: &Location) {
        if name.starts_with("States.") && !PREDEFINED_ERRORS.contains(&name) {
            self.policy(
                loc,
                format!(
                    "\"{name}\" is not an error name of Step Functions: names starting with \
                     \"States.\" are reserved"
                ),
            );
        }
    }
}

/// Whether a string is delimited as a JSONata expression (complete or not is checked later).
fn parse_is_expr(s: &str) -> bool {
    let t = s.trim();
    t.starts_with("{%") || t.ends_with("%}")
}

/// Whether a Task resource is an activity: an activity ARN, or a definition substitution named
/// like one (`${ApproveActivity}`, `${ApproveActivityArn}`).
fn is_activity(resource: &str) -> bool {
    if resource.starts_with("arn:") && resource.contains(":activity:") {
        return true;
    }
    let mut rest = resource;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if name.ends_with("Activity") || name.ends_with("ActivityArn") {
            return true;
        }
        rest = &after[end + 1..];
    }
    false
}

/// The transition targets of a state, each with the location of the field naming it.
fn targets<'a>(state: &'a State, loc: &Location) -> Vec<(&'a str, Location)> {
    let mut out = Vec::new();
    if let Some(Transition::Next(next)) = state.transition() {
        out.push((next.as_str(), loc.key("Next")));
    }
    if let StateKind::Choice(choice) = &state.kind {
        for (i, rule) in choice.choices.iter().enumerate() {
            out.push((rule.next.as_str(), loc.key("Choices").index(i).key("Next")));
        }
        if let Some(default) = &choice.default {
            out.push((default.as_str(), loc.key("Default")));
        }
    }
    for (i, catcher) in state.catch().iter().enumerate() {
        out.push((catcher.next.as_str(), loc.key("Catch").index(i).key("Next")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asl::Severity;

    /// A one-state definition around `state` (named `S`), so cases stay short.
    fn one(state: &str) -> String {
        format!(r#"{{"StartAt":"S","States":{{"S":{state}}}}}"#)
    }

    fn shown(text: &str, severity: Severity) -> Vec<String> {
        validate(text)
            .of(severity)
            .map(ToString::to_string)
            .collect()
    }

    /// `(rule, definition, expected error or "" for none)`.
    fn error_cases() -> Vec<(&'static str, String, &'static str)> {
        vec![
            (
                "a Choice target must exist",
                r#"{"StartAt":"Route","States":{"Route":{"Type":"Choice","Choices":[
                    {"Variable":"$.x","BooleanEquals":true,"Next":"Missing"}],"Default":"Done"},
                    "Done":{"Type":"Succeed"}}}"#
                    .to_owned(),
                r#"States.Route.Choices[0].Next: no state named "Missing""#,
            ),
            (
                "StartAt must exist",
                r#"{"StartAt":"Nope","States":{"S":{"Type":"Succeed"}}}"#.to_owned(),
                r#"StartAt: no state named "Nope""#,
            ),
            (
                "a Catch target must exist",
                one(
                    r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,
                        "Catch":[{"ErrorEquals":["States.ALL"],"Next":"Gone"}]}"#,
                ),
                r#"States.S.Catch[0].Next: no state named "Gone""#,
            ),
            (
                "a branch cannot leave its scope",
                r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","Next":"After","Branches":[
                    {"StartAt":"B","States":{"B":{"Type":"Pass","Next":"After"}}}]},
                    "After":{"Type":"Succeed"}}}"#
                    .to_owned(),
                r#"States.P.Branches[0].States.B.Next: no state named "After""#,
            ),
            (
                "every state is reachable",
                r#"{"StartAt":"A","States":{"A":{"Type":"Succeed"},"B":{"Type":"Succeed"}}}"#
                    .to_owned(),
                r#"States.B: state is not reachable from "A""#,
            ),
            (
                "a machine needs a terminal state",
                r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},
                    "B":{"Type":"Pass","Next":"A"}}}"#
                    .to_owned(),
                "States: no terminal state",
            ),
            (
                "state names are unique across nested machines",
                r#"{"StartAt":"M","States":{"M":{"Type":"Map","Next":"X","ItemProcessor":{
                    "StartAt":"X","States":{"X":{"Type":"Succeed"}}}},"X":{"Type":"Succeed"}}}"#
                    .to_owned(),
                r#"States.X: state name "X" is already used at States.M.ItemProcessor.States.X"#,
            ),
            (
                "a Choice without Default is fine",
                r#"{"StartAt":"R","States":{"R":{"Type":"Choice","Choices":[
                    {"Variable":"$.x","IsPresent":true,"Next":"D"}]},"D":{"Type":"Succeed"}}}"#
                    .to_owned(),
                "",
            ),
            (
                "InputPath must be a path",
                one(r#"{"Type":"Pass","InputPath":"bug$.x","End":true}"#),
                r#"States.S.InputPath: "bug$.x" is not a path"#,
            ),
            (
                "ResultPath must be a reference path",
                one(r#"{"Type":"Pass","ResultPath":"$.a[*]","End":true}"#),
                "States.S.ResultPath: \"$.a[*]\" is not a reference path",
            ),
            (
                "ResultPath cannot name a variable",
                one(r#"{"Type":"Pass","ResultPath":"$v","End":true}"#),
                "cannot refer to a variable here",
            ),
            (
                "Variable must be a reference path",
                r#"{"StartAt":"R","States":{"R":{"Type":"Choice","Choices":[
                    {"Variable":"States.ArrayLength($.a)","NumericEquals":1,"Next":"D"}]},
                    "D":{"Type":"Succeed"}}}"#
                    .to_owned(),
                "States.R.Choices[0].Variable:",
            ),
            (
                "a Path operand must be a reference path",
                r#"{"StartAt":"R","States":{"R":{"Type":"Choice","Choices":[{"Not":
                    {"Variable":"$.a","StringEqualsPath":"$..b"},"Next":"D"}]},
                    "D":{"Type":"Succeed"}}}"#
                    .to_owned(),
                "States.R.Choices[0].Not.StringEqualsPath:",
            ),
            (
                "a .$ field holds a path or an intrinsic call",
                one(r#"{"Type":"Pass","Parameters":{"a":{"b.$":"ipsum"}},"End":true}"#),
                "States.S.Parameters.a.b.$: \"ipsum\" is neither a path",
            ),
            (
                "intrinsic calls are checked",
                one(r#"{"Type":"Pass","Parameters":{"n.$":"States.MathAdd(1,'-1')"},"End":true}"#),
                "argument 2 of States.MathAdd must be a number",
            ),
            (
                "a field cannot be given with and without .$",
                one(r#"{"Type":"Pass","Parameters":{"a":1,"a.$":"$.a"},"End":true}"#),
                "States.S.Parameters.a.$: \"a\" is also given without \".$\"",
            ),
            (
                "ErrorPath may be an intrinsic call",
                one(r#"{"Type":"Fail","ErrorPath":"States.Format('{}', $.e)","CausePath":"$.c"}"#),
                "",
            ),
            (
                "TimeoutSecondsPath must be a reference path",
                one(
                    r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
                        "TimeoutSecondsPath":"$.t[*]","End":true}"#,
                ),
                "States.S.TimeoutSecondsPath:",
            ),
            (
                "States.ALL must be alone",
                one(
                    r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,
                        "Retry":[{"ErrorEquals":["States.ALL","X"]}]}"#,
                ),
                "States.S.Retry[0].ErrorEquals: \"States.ALL\" must be the only error name",
            ),
            (
                "States.ALL must be last",
                one(
                    r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,
                        "Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}]}"#,
                ),
                "States.S.Retry[0].ErrorEquals: the retrier with \"States.ALL\" must be the last",
            ),
            (
                "HeartbeatSeconds must be below TimeoutSeconds",
                one(
                    r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
                        "TimeoutSeconds":10,"HeartbeatSeconds":10,"End":true}"#,
                ),
                "States.S.HeartbeatSeconds: must be below TimeoutSeconds (10), not 10",
            ),
            (
                "a JSONata expression must be complete",
                one(r#"{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% 1 %","End":true}"#),
                "States.S.Output: incomplete JSONata expression",
            ),
            (
                "a JSONata expression must parse",
                one(
                    r#"{"Type":"Pass","QueryLanguage":"JSONata","Output":{"a":["{% 1 + %}"]},"End":true}"#,
                ),
                "States.S.Output.a[0]: invalid JSONata expression",
            ),
            (
                ".$ fields are refused in JSONata states",
                one(
                    r#"{"Type":"Pass","QueryLanguage":"JSONata","Output":{"a.$":"$.a"},"End":true}"#,
                ),
                "States.S.Output.a.$: fields ending in \".$\" are JSONPath",
            ),
            (
                "a JSONata expression is refused in a JSONPath state",
                one(r#"{"Type":"Wait","Seconds":"{% 3 %}","End":true}"#),
                "States.S.Seconds: a JSONata expression is only valid in JSONata states",
            ),
            (
                "a JSONata Condition must be an expression",
                r#"{"QueryLanguage":"JSONata","StartAt":"R","States":{"R":{"Type":"Choice",
                    "Choices":[{"Condition":"true","Next":"D"}]},"D":{"Type":"Succeed"}}}"#
                    .to_owned(),
                "States.R.Choices[0].Condition: \"true\" is not a JSONata expression",
            ),
            (
                "JSONata expressions are fine in JSONata states",
                r#"{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task",
                    "Resource":"arn:aws:states:::lambda:invoke","TimeoutSeconds":"{% $t %}",
                    "Arguments":{"p":"{% $states.input.a & 'x' %}"},"Next":"R"},
                    "R":{"Type":"Choice","Choices":[{"Condition":"{% $x > 1 %}","Next":"D"}],
                    "Default":"D"},"D":{"Type":"Succeed"}}}"#
                    .to_owned(),
                "",
            ),
            (
                "a Wait Timestamp is RFC 3339",
                one(r#"{"Type":"Wait","Timestamp":"2024-01-01 10:00","End":true}"#),
                "States.S.Timestamp:",
            ),
            (
                "a placeholder must be closed",
                one(r#"{"Type":"Task","Resource":"${FnArn","End":true}"#),
                "States.S.Resource: unclosed definition substitution",
            ),
            (
                "placeholders stand for strings",
                one(
                    r#"{"Type":"Task","Resource":"arn:${AWS::Partition}:states:::lambda:invoke",
                        "Parameters":{"FunctionName":"${Fn}","k.$":"$.${Key}"},"End":true}"#,
                ),
                "",
            ),
            (
                "a Lambda alias is checked",
                one(r#"{"Type":"Task","Resource":"arn:aws:lambda:r:1:function:f:a*b","End":true}"#),
                "has an invalid version or alias",
            ),
            (
                "Credentials is an object",
                one(
                    r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
                        "Credentials":"role","End":true}"#,
                ),
                "States.S.Credentials: must be an object",
            ),
            (
                "X and XPath exclude each other in an ItemReader",
                one(
                    r#"{"Type":"Map","End":true,"ItemReader":{"Resource":"arn:aws:states:::s3:getObject",
                        "ReaderConfig":{"MaxItems":1,"MaxItemsPath":"$.n"}},
                        "ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Succeed"}}}}"#,
                ),
                "States.S.ItemReader.ReaderConfig: \"MaxItems\" and \"MaxItemsPath\"",
            ),
        ]
    }

    #[test]
    fn rules() {
        for (rule, text, expected) in error_cases() {
            let errors = shown(&text, Severity::Error);
            if expected.is_empty() {
                assert!(errors.is_empty(), "{rule}: unexpected {errors:#?}");
            } else {
                assert!(
                    errors.iter().any(|e| e.contains(expected)),
                    "{rule}: expected {expected:?} in {errors:#?}"
                );
            }
        }
    }

    #[test]
    fn policy_wants_timeouts_on_waits() {
        let activity = one(
            r#"{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:triage",
                "End":true}"#,
        );
        assert_eq!(
            shown(&activity, Severity::Policy),
            vec![
                "States.S: an activity task needs TimeoutSeconds (or TimeoutSecondsPath)",
                "States.S: an activity task needs HeartbeatSeconds below its TimeoutSeconds",
            ]
        );
        assert!(shown(&activity, Severity::Error).is_empty());
        let placeholder = one(r#"{"Type":"Task","Resource":"${TriageActivityArn}","End":true}"#);
        assert_eq!(shown(&placeholder, Severity::Policy).len(), 2);
        let token = one(
            r#"{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "TimeoutSeconds":3600,"End":true}"#,
        );
        assert_eq!(
            shown(&token, Severity::Policy),
            vec![
                "States.S: a .waitForTaskToken task needs HeartbeatSeconds below its TimeoutSeconds"
            ]
        );
        let fine = one(
            r#"{"Type":"Task","Resource":"${TriageActivity}","TimeoutSeconds":60,
                "HeartbeatSeconds":10,"End":true}"#,
        );
        assert!(validate(&fine).is_empty());
    }

    #[test]
    fn reserved_error_names_are_policy() {
        let text = r#"{"StartAt":"T","States":{"T":{"Type":"Task",
            "Resource":"arn:aws:states:::lambda:invoke","Next":"F",
            "Catch":[{"ErrorEquals":["States.Timeout","States.Timout"],"Next":"F"}]},
            "F":{"Type":"Fail","Error":"States.Custom"}}}"#;
        assert!(shown(text, Severity::Error).is_empty());
        assert_eq!(
            shown(text, Severity::Policy),
            vec![
                "States.T.Catch[0].ErrorEquals[1]: \"States.Timout\" is not an error name of Step \
                 Functions: names starting with \"States.\" are reserved",
                "States.F.Error: \"States.Custom\" is not an error name of Step Functions: names \
                 starting with \"States.\" are reserved",
            ]
        );
    }

    #[test]
    fn validate_reports_parse_errors() {
        let d = validate("{not json");
        assert!(d.has_errors());
        assert_eq!(d.len(), 1);
    }
}
