//! The typed Amazon States Language: one Rust type per construct of the language.
//!
//! Payload templates (`Parameters`, `Result`, `Assign`, `Arguments`, `Output`, …) stay
//! [`serde_json::Value`]s: they are evaluated at run time, not interpreted by the model.

use indexmap::IndexMap;
use serde_json::Value;

/// A state machine: the top-level definition, a Parallel branch or a Map item processor.
#[derive(Debug, Clone, PartialEq)]
pub struct StateMachine {
    /// `Comment`.
    pub comment: Option<String>,
    /// `StartAt`: the name of the first state.
    pub start_at: String,
    /// `States`, in the order they were written.
    pub states: IndexMap<String, State>,
    /// `Version` (top level only).
    pub version: Option<String>,
    /// `TimeoutSeconds` of the whole execution (top level only).
    pub timeout_seconds: Option<u64>,
    /// `QueryLanguage`: the default for the states below (JSONPath when absent).
    pub query_language: Option<QueryLanguage>,
}

/// The language that a state's fields are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueryLanguage {
    /// `JSONPath`: paths, `.$` fields and intrinsic functions.
    #[default]
    JsonPath,
    /// `JSONata`: `{% expression %}` strings, `Arguments`, `Output`, `Condition`, `Items`.
    Jsonata,
}

impl QueryLanguage {
    /// The spelling used in definitions.
    pub fn as_str(self) -> &'static str {
        match self {
            QueryLanguage::JsonPath => "JSONPath",
            QueryLanguage::Jsonata => "JSONata",
        }
    }
}

/// One state of a state machine.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// `Comment`.
    pub comment: Option<String>,
    /// `QueryLanguage` set on this state, overriding the machine's.
    pub query_language: Option<QueryLanguage>,
    /// Input and output processing fields (which ones a type allows is checked by the parser).
    pub io: Io,
    /// What kind of state it is, with the fields particular to that kind.
    pub kind: StateKind,
}

impl State {
    /// The state's `Type` as written in definitions.
    pub fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }

    /// Where the state goes on success, when it has a single successor.
    pub fn transition(&self) -> Option<&Transition> {
        match &self.kind {
            StateKind::Pass(s) => Some(&s.transition),
            StateKind::Task(s) => Some(&s.transition),
            StateKind::Wait(s) => Some(&s.transition),
            StateKind::Parallel(s) => Some(&s.transition),
            StateKind::Map(s) => Some(&s.transition),
            StateKind::Choice(_) | StateKind::Succeed | StateKind::Fail(_) => None,
        }
    }

    /// The retriers of a Task, Parallel or Map state.
    pub fn retry(&self) -> &[Retrier] {
        match &self.kind {
            StateKind::Task(s) => &s.errors.retry,
            StateKind::Parallel(s) => &s.errors.retry,
            StateKind::Map(s) => &s.errors.retry,
            _ => &[],
        }
    }

    /// The catchers of a Task, Parallel or Map state.
    pub fn catch(&self) -> &[Catcher] {
        match &self.kind {
            StateKind::Task(s) => &s.errors.catch,
            StateKind::Parallel(s) => &s.errors.catch,
            StateKind::Map(s) => &s.errors.catch,
            _ => &[],
        }
    }

    /// The names of every state this state can go to next (Next, Choice targets, Default, Catch).
    pub fn successors(&self) -> Vec<&str> {
        let mut out = Vec::new();
        if let Some(Transition::Next(n)) = self.transition() {
            out.push(n.as_str());
        }
        if let StateKind::Choice(c) = &self.kind {
            out.extend(c.choices.iter().map(|r| r.next.as_str()));
            out.extend(c.default.as_deref());
        }
        out.extend(self.catch().iter().map(|c| c.next.as_str()));
        out
    }
}

/// The fields for input and output processing, shared by several state types.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Io {
    /// `InputPath` (JSONPath).
    pub input_path: Option<NullablePath>,
    /// `OutputPath` (JSONPath).
    pub output_path: Option<NullablePath>,
    /// `ResultPath` (JSONPath).
    pub result_path: Option<NullablePath>,
    /// `Parameters` (JSONPath; on Map, the older name of `ItemSelector`).
    pub parameters: Option<Value>,
    /// `ResultSelector` (JSONPath).
    pub result_selector: Option<Value>,
    /// `Arguments` (JSONata).
    pub arguments: Option<Value>,
    /// `Output` (JSONata).
    pub output: Option<Value>,
    /// `Assign`: variables set when the state completes (both languages).
    pub assign: Option<Value>,
}

/// A path field that may also be `null` (which discards the data it would select).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NullablePath {
    /// `null`: use `{}` as input, discard the result, or output `{}`.
    Null,
    /// A JSONPath (a reference path for `ResultPath`).
    Path(String),
}

impl NullablePath {
    /// The path, unless the field is `null`.
    pub fn as_path(&self) -> Option<&str> {
        match self {
            NullablePath::Null => None,
            NullablePath::Path(p) => Some(p),
        }
    }
}

/// The kinds of state, with the fields particular to each.
#[derive(Debug, Clone, PartialEq)]
pub enum StateKind {
    /// `Pass`.
    Pass(Pass),
    /// `Task`.
    Task(Task),
    /// `Choice`.
    Choice(Choice),
    /// `Wait`.
    Wait(Wait),
    /// `Succeed`.
    Succeed,
    /// `Fail`.
    Fail(Fail),
    /// `Parallel`.
    Parallel(Parallel),
    /// `Map`.
    Map(Box<Map>),
}

impl StateKind {
    /// The `Type` as written in definitions.
    pub fn type_name(&self) -> &'static str {
        match self {
            StateKind::Pass(_) => "Pass",
            StateKind::Task(_) => "Task",
            StateKind::Choice(_) => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Succeed => "Succeed",
            StateKind::Fail(_) => "Fail",
            StateKind::Parallel(_) => "Parallel",
            StateKind::Map(_) => "Map",
        }
    }
}

/// Where a state goes when it completes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// `Next`: the name of the following state.
    Next(String),
    /// `End: true`: the (sub-)machine ends here.
    End,
}

/// A value given literally, read from a JSONPath, or computed by a JSONata expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Dynamic<T> {
    /// Written in the definition.
    Literal(T),
    /// A `…Path` field (JSONPath): the value is read from the state input.
    Path(String),
    /// A `{% … %}` JSONata expression, kept with its delimiters.
    Expr(String),
}

/// `Retry` and `Catch`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ErrorHandling {
    /// `Retry`, in order.
    pub retry: Vec<Retrier>,
    /// `Catch`, in order.
    pub catch: Vec<Catcher>,
}

/// One element of `Retry`.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    /// `Comment`.
    pub comment: Option<String>,
    /// `ErrorEquals`: the error names this retrier matches.
    pub error_equals: Vec<String>,
    /// `IntervalSeconds` (AWS default 1).
    pub interval_seconds: Option<u64>,
    /// `MaxAttempts` (AWS default 3; 0 never retries).
    pub max_attempts: Option<u64>,
    /// `BackoffRate` (AWS default 2.0).
    pub backoff_rate: Option<f64>,
    /// `MaxDelaySeconds`: the cap on one interval.
    pub max_delay_seconds: Option<u64>,
    /// `JitterStrategy`.
    pub jitter_strategy: Option<JitterStrategy>,
}

/// `JitterStrategy` of a retrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JitterStrategy {
    /// `FULL`: each interval is drawn uniformly between 0 and its computed value.
    Full,
    /// `NONE`: the computed interval as is.
    None,
}

impl JitterStrategy {
    /// The spelling used in definitions.
    pub fn as_str(self) -> &'static str {
        match self {
            JitterStrategy::Full => "FULL",
            JitterStrategy::None => "NONE",
        }
    }
}

/// One element of `Catch`.
#[derive(Debug, Clone, PartialEq)]
pub struct Catcher {
    /// `Comment`.
    pub comment: Option<String>,
    /// `ErrorEquals`: the error names this catcher matches.
    pub error_equals: Vec<String>,
    /// `Next`: the state that handles the error.
    pub next: String,
    /// `ResultPath` (JSONPath): where the error output goes in the input.
    pub result_path: Option<NullablePath>,
    /// `Output` (JSONata).
    pub output: Option<Value>,
    /// `Assign`.
    pub assign: Option<Value>,
}

/// A `Pass` state.
#[derive(Debug, Clone, PartialEq)]
pub struct Pass {
    /// `Next` or `End`.
    pub transition: Transition,
    /// `Result`: the fixed result, in place of the (effective) input.
    pub result: Option<Value>,
}

/// A `Task` state.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// `Next` or `End`.
    pub transition: Transition,
    /// `Resource`: an ARN (activity, Lambda function or service integration), or a `${…}` placeholder
    /// (a CloudFormation `Ref`/`Fn::GetAtt` object is read as the placeholder `Fn::Sub` would write).
    pub resource: String,
    /// `Retry` and `Catch`.
    pub errors: ErrorHandling,
    /// `TimeoutSeconds` / `TimeoutSecondsPath`.
    pub timeout_seconds: Option<Dynamic<u64>>,
    /// `HeartbeatSeconds` / `HeartbeatSecondsPath`.
    pub heartbeat_seconds: Option<Dynamic<u64>>,
    /// `Credentials` (cross-account role), kept as written.
    pub credentials: Option<Value>,
}

/// A `Choice` state.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// `Choices`, tried in order.
    pub choices: Vec<ChoiceRule>,
    /// `Default`: the state taken when no rule matches.
    pub default: Option<String>,
}

/// A top-level choice rule: a condition and where it leads.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceRule {
    /// `Comment`.
    pub comment: Option<String>,
    /// The test.
    pub condition: Condition,
    /// `Next`.
    pub next: String,
    /// `Assign` applied when this rule matches.
    pub assign: Option<Value>,
    /// `Output` (JSONata) used when this rule matches.
    pub output: Option<Value>,
}

/// A Boolean test of a choice rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `Condition` (JSONata): an expression string (or a literal Boolean).
    Jsonata(Value),
    /// `And`: every one holds.
    And(Vec<Condition>),
    /// `Or`: at least one holds.
    Or(Vec<Condition>),
    /// `Not`: the inner test fails.
    Not(Box<Condition>),
    /// `Variable` compared by one operator.
    Compare(Comparison),
}

/// `Variable` with a comparison operator and its operand.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// `Variable`: a path into the input (or a `$var` variable).
    pub variable: String,
    /// The operator.
    pub operator: Operator,
    /// The operand: a literal, or for `…Path` operators a path string.
    pub operand: Value,
}

macro_rules! operators {
    ($($name:ident),* $(,)?) => {
        /// A comparison operator of a choice rule.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operator {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                $name,
            )*
        }

        impl Operator {
            /// Every operator.
            pub const ALL: &'static [Operator] = &[$(Operator::$name),*];

            /// The operator's field name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Operator::$name => stringify!($name),)*
                }
            }

            /// The operator named by a field, if any.
            pub fn from_name(name: &str) -> Option<Operator> {
                match name {
                    $(stringify!($name) => Some(Operator::$name),)*
                    _ => None,
                }
            }
        }
    };
}

operators! {
    StringEquals, StringEqualsPath, StringLessThan, StringLessThanPath, StringGreaterThan,
    StringGreaterThanPath, StringLessThanEquals, StringLessThanEqualsPath,
    StringGreaterThanEquals, StringGreaterThanEqualsPath, StringMatches,
    NumericEquals, NumericEqualsPath, NumericLessThan, NumericLessThanPath, NumericGreaterThan,
    NumericGreaterThanPath, NumericLessThanEquals, NumericLessThanEqualsPath,
    NumericGreaterThanEquals, NumericGreaterThanEqualsPath,
    BooleanEquals, BooleanEqualsPath,
    TimestampEquals, TimestampEqualsPath, TimestampLessThan, TimestampLessThanPath,
    TimestampGreaterThan, TimestampGreaterThanPath, TimestampLessThanEquals,
    TimestampLessThanEqualsPath, TimestampGreaterThanEquals, TimestampGreaterThanEqualsPath,
    IsNull, IsPresent, IsNumeric, IsString, IsBoolean, IsTimestamp,
}

/// The type of operand an operator expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperandKind {
    /// A string.
    String,
    /// A number.
    Number,
    /// A Boolean.
    Boolean,
    /// An RFC 3339 timestamp string.
    Timestamp,
    /// A path to compare against.
    Path,
}

impl Operator {
    /// Whether the operand is a path to another value (`…Path` operators).
    pub fn is_path(self) -> bool {
        self.as_str().ends_with("Path")
    }

    /// What the operand must be.
    pub fn operand_kind(self) -> OperandKind {
        let name = self.as_str();
        if self.is_path() {
            OperandKind::Path
        } else if name.starts_with("Is") || name.starts_with("Boolean") {
            OperandKind::Boolean
        } else if name.starts_with("Numeric") {
            OperandKind::Number
        } else if name.starts_with("Timestamp") {
            OperandKind::Timestamp
        } else {
            OperandKind::String
        }
    }
}

/// A `Wait` state.
#[derive(Debug, Clone, PartialEq)]
pub struct Wait {
    /// `Next` or `End`.
    pub transition: Transition,
    /// How long, or until when.
    pub wait: WaitFor,
}

/// The four forms of `Wait` (and their JSONata variants).
#[derive(Debug, Clone, PartialEq)]
pub enum WaitFor {
    /// `Seconds` (literal or JSONata) or `SecondsPath`.
    Seconds(Dynamic<u64>),
    /// `Timestamp` (literal or JSONata) or `TimestampPath`.
    Timestamp(Dynamic<String>),
}

/// A `Fail` state.
#[derive(Debug, Clone, PartialEq)]
pub struct Fail {
    /// `Error` (literal or JSONata) or `ErrorPath`.
    pub error: Option<Dynamic<String>>,
    /// `Cause` (literal or JSONata) or `CausePath`.
    pub cause: Option<Dynamic<String>>,
}

/// A `Parallel` state.
#[derive(Debug, Clone, PartialEq)]
pub struct Parallel {
    /// `Next` or `End`.
    pub transition: Transition,
    /// `Branches`, each a state machine run on the same input.
    pub branches: Vec<StateMachine>,
    /// `Retry` and `Catch`.
    pub errors: ErrorHandling,
}

/// A `Map` state.
#[derive(Debug, Clone, PartialEq)]
pub struct Map {
    /// `Next` or `End`.
    pub transition: Transition,
    /// `ItemProcessor` (or the older `Iterator`): the machine run on each item.
    pub processor: StateMachine,
    /// `ItemProcessor.ProcessorConfig`, kept as written (`Mode`, `ExecutionType`).
    pub processor_config: Option<Value>,
    /// True when the definition used the older `Iterator` field.
    pub legacy_iterator: bool,
    /// `ItemsPath` (JSONPath).
    pub items_path: Option<String>,
    /// `Items` (JSONata): an array or an expression.
    pub items: Option<Value>,
    /// `ItemSelector`: the template applied to each item.
    pub item_selector: Option<Value>,
    /// `ItemReader` (distributed Map), kept opaque.
    pub item_reader: Option<Value>,
    /// `ItemBatcher`, kept as written.
    pub item_batcher: Option<Value>,
    /// `ResultWriter` (distributed Map), kept opaque.
    pub result_writer: Option<Value>,
    /// `MaxConcurrency` / `MaxConcurrencyPath` (0 = no limit).
    pub max_concurrency: Option<Dynamic<u64>>,
    /// `ToleratedFailurePercentage` / `ToleratedFailurePercentagePath`.
    pub tolerated_failure_percentage: Option<Dynamic<f64>>,
    /// `ToleratedFailureCount` / `ToleratedFailureCountPath`.
    pub tolerated_failure_count: Option<Dynamic<u64>>,
    /// `Label` (distributed Map).
    pub label: Option<String>,
    /// `Retry` and `Catch`.
    pub errors: ErrorHandling,
}

impl StateMachine {
    /// Every state of this machine and of its nested branches and item processors, with the
    /// machine-relative name of each, depth first.
    pub fn walk(&self) -> Vec<(&str, &State)> {
        let mut out = Vec::new();
        self.walk_into(&mut out);
        out
    }

    fn walk_into<'a>(&'a self, out: &mut Vec<(&'a str, &'a State)>) {
        for (name, state) in &self.states {
            out.push((name.as_str(), state));
            match &state.kind {
                StateKind::Parallel(p) => p.branches.iter().for_each(|b| b.walk_into(out)),
                StateKind::Map(m) => m.processor.walk_into(out),
                _ => {}
            }
        }
    }
}
