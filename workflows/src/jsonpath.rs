//! JSONPath as AWS Step Functions reads it (the Jayway dialect).
//!
//! A [`JsonPath`] is parsed once and then queried ([`JsonPath::query`]) or, for reference paths,
//! written into ([`JsonPath::set`], the `ResultPath` semantics). Error texts follow Jayway's
//! wording where AWS shows it to users (see [`PathError::aws_cause`]).

use std::cmp::Ordering;
use std::fmt;

use serde_json::{Map, Number, Value};

/// An error parsing, reading or writing a JSONPath.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The text is not a JSONPath this dialect understands.
    #[error("invalid path '{path}': {reason}")]
    Syntax {
        /// The text as given.
        path: String,
        /// What is wrong, at which character.
        reason: String,
    },
    /// A definite path selected nothing.
    #[error("no value at path '{path}': {detail}")]
    NotFound {
        /// The path as written.
        path: String,
        /// Jayway's explanation, e.g. `No results for path: $['x']`.
        detail: String,
    },
    /// `set` cannot write there: the path crosses a value of the wrong type or an index out of range.
    #[error("cannot set path '{path}': {reason}")]
    CannotSet {
        /// The path as written.
        path: String,
        /// Why.
        reason: String,
    },
    /// `set` was given a path that is not a reference path.
    #[error("path '{path}' is not a reference path")]
    NotReference {
        /// The path as written.
        path: String,
    },
    /// A `$name` root names a variable that is not defined.
    #[error("variable '{name}' is not defined (path '{path}')")]
    UnknownVariable {
        /// The path as written.
        path: String,
        /// The variable's name.
        name: String,
    },
}

impl PathError {
    /// The text AWS reports as the cause of the `States.Runtime` error that this error becomes
    /// (without the `An error occurred while executing the state …` prefix), e.g.
    /// `Invalid path '$.x' : No results for path: $['x']`.
    pub fn aws_cause(&self) -> String {
        match self {
            PathError::NotFound { path, detail } => format!("Invalid path '{path}' : {detail}"),
            PathError::UnknownVariable { path, name } => {
                format!("Invalid path '{path}' : The variable '{name}' is not defined")
            }
            PathError::Syntax { path, reason } => format!("Invalid path '{path}' : {reason}"),
            PathError::CannotSet { path, reason } => {
                format!("Unable to apply ResultPath '{path}' : {reason}")
            }
            PathError::NotReference { path } => {
                format!("The path '{path}' is not a valid reference path")
            }
        }
    }
}

/// Where a path starts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Root {
    /// `$`: the (effective) state input.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Variable(String),
}

/// A parsed JSONPath.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    text: String,
    root: Root,
    steps: Vec<Step>,
    function: Option<Function>,
}

/// One step of a path: a selector applied to the children or to all descendants.
#[derive(Debug, Clone, PartialEq)]
struct Step {
    deep: bool,
    selector: Selector,
}

#[derive(Debug, Clone, PartialEq)]
enum Selector {
    /// `.name`, `['name']`.
    Name(String),
    /// `[n]` (negative counts from the end).
    Index(i64),
    /// `.*`, `[*]`.
    Wildcard,
    /// `['a','b']`.
    Names(Vec<String>),
    /// `[0,2]`.
    Indexes(Vec<i64>),
    /// `[start:end]`.
    Slice(Option<i64>, Option<i64>),
    /// `[(@.length-n)]`: the script expression AWS runs, an index counted from the length (the
    /// offset is `-n`).
    FromLength(i64),
    /// `[?(expr)]`.
    Filter(Box<Expr>),
}

/// A function applied to the result (`.length()` and friends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Function {
    Length,
    Size,
    Min,
    Max,
    Sum,
    Avg,
}

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(Operand, CmpOp, Operand),
    Exists(Operand),
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    /// `@…` (relative) or `$…` (from the document root).
    Path {
        relative: bool,
        path: JsonPath,
    },
    Literal(Value),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for JsonPath {
    type Err = PathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JsonPath::parse(s)
    }
}

impl JsonPath {
    /// Parses a path: `$…` (input), `$$…` (context) or `$name…` (a variable).
    pub fn parse(s: &str) -> Result<JsonPath, PathError> {
        let mut p = Parser {
            text: s,
            chars: s.char_indices().collect(),
            pos: 0,
            in_filter: false,
        };
        let path = p.path('$')?;
        if p.pos < p.chars.len() {
            return Err(p.error("unexpected character"));
        }
        Ok(path)
    }

    /// Where the path starts.
    pub fn root(&self) -> Root {
        self.root.clone()
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True for AWS "reference paths": only names and non-negative indexes, no function.
    pub fn is_reference_path(&self) -> bool {
        self.not_reference_because().is_none()
    }

    /// What keeps this path from being a reference path (the first such part, in words), or
    /// `None` for a reference path.
    pub fn not_reference_because(&self) -> Option<&'static str> {
        for step in &self.steps {
            if step.deep {
                return Some("a deep scan \"..\"");
            }
            let why = match step.selector {
                Selector::Name(_) => continue,
                Selector::Index(i) if i >= 0 => continue,
                Selector::Index(_) => "a negative index",
                Selector::FromLength(_) => "a script expression",
                Selector::Wildcard => "a wildcard \"*\"",
                Selector::Names(_) | Selector::Indexes(_) => "a union",
                Selector::Slice(..) => "a slice",
                Selector::Filter(_) => "a filter",
            };
            return Some(why);
        }
        self.function.map(|_| "a function")
    }

    /// True when the path selects at most one value (no wildcard, filter, slice, union or scan).
    pub fn is_definite(&self) -> bool {
        self.steps.iter().all(|s| {
            !s.deep
                && matches!(
                    s.selector,
                    Selector::Name(_) | Selector::Index(_) | Selector::FromLength(_)
                )
        })
    }

    /// Reads the path from `root` (the value its [`Root`] stands for).
    ///
    /// A definite path gives the value it selects, or [`PathError::NotFound`]; an indefinite path
    /// gives the JSON array of everything it selects (possibly empty). A function (`.length()`)
    /// applies to that result.
    pub fn query(&self, root: &Value) -> Result<Value, PathError> {
        let selected = if self.is_definite() {
            self.query_definite(root)?
        } else {
            let mut out = Vec::new();
            select(&self.steps, root, root, &mut out);
            Value::Array(out.into_iter().cloned().collect())
        };
        match self.function {
            None => Ok(selected),
            Some(f) => self.apply(f, &selected),
        }
    }

    fn query_definite<'v>(&self, root: &'v Value) -> Result<Value, PathError> {
        let mut cur: &'v Value = root;
        let mut upto = String::from("$");
        let last = self.steps.len().saturating_sub(1);
        for (i, step) in self.steps.iter().enumerate() {
            let leaf = i == last;
            match &step.selector {
                Selector::Name(name) => {
                    let fragment = format!("['{name}']");
                    let Value::Object(map) = cur else {
                        return Err(self.not_found(format!(
                            "Expected to find an object with property {fragment} in path {upto} but found '{}'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonProvider'.",
                            java_type(cur)
                        )));
                    };
                    upto.push_str(&fragment);
                    match map.get(name) {
                        Some(v) => cur = v,
                        None if leaf => {
                            return Err(self.not_found(format!("No results for path: {upto}")));
                        }
                        None => {
                            return Err(self.not_found(format!("Missing property in path {upto}")));
                        }
                    }
                }
                Selector::Index(_) | Selector::FromLength(_) => {
                    let Value::Array(items) = cur else {
                        return Err(self.not_found(format!(
                            "Filter: {} can only be applied to arrays. Current context is: {}",
                            step.selector.bracket(),
                            compact(cur)
                        )));
                    };
                    let index = step.selector.index_in(items.len());
                    upto.push_str(&format!("[{index}]"));
                    match resolve_index(index, items.len()).and_then(|i| items.get(i)) {
                        Some(v) => cur = v,
                        None => {
                            return Err(self.not_found(format!("No results for path: {upto}")));
                        }
                    }
                }
                _ => return Err(self.not_found("the path is not definite".to_string())),
            }
        }
        Ok(cur.clone())
    }

    fn not_found(&self, detail: String) -> PathError {
        PathError::NotFound {
            path: self.text.clone(),
            detail,
        }
    }

    fn apply(&self, f: Function, v: &Value) -> Result<Value, PathError> {
        let numbers = |v: &Value| -> Result<Vec<f64>, PathError> {
            match v {
                Value::Array(items) => Ok(items.iter().filter_map(Value::as_f64).collect()),
                _ => Err(self.not_found(format!(
                    "Aggregation function attempted to calculate value using empty array ({})",
                    compact(v)
                ))),
            }
        };
        let empty = || {
            self.not_found(
                "Aggregation function attempted to calculate value using empty array".to_string(),
            )
        };
        match f {
            Function::Length | Function::Size => match v {
                Value::Array(items) => Ok(Value::from(items.len())),
                Value::Object(map) => Ok(Value::from(map.len())),
                Value::String(s) => Ok(Value::from(s.encode_utf16().count())),
                _ => Err(self.not_found(format!("Invalid function length() on {}", compact(v)))),
            },
            Function::Min => {
                let ns = numbers(v)?;
                ns.iter()
                    .copied()
                    .reduce(f64::min)
                    .map(number_value)
                    .ok_or_else(empty)
            }
            Function::Max => {
                let ns = numbers(v)?;
                ns.iter()
                    .copied()
                    .reduce(f64::max)
                    .map(number_value)
                    .ok_or_else(empty)
            }
            Function::Sum => {
                let ns = numbers(v)?;
                if ns.is_empty() {
                    return Err(empty());
                }
                Ok(number_value(ns.iter().sum()))
            }
            Function::Avg => {
                let ns = numbers(v)?;
                if ns.is_empty() {
                    return Err(empty());
                }
                Ok(number_value(ns.iter().sum::<f64>() / ns.len() as f64))
            }
        }
    }

    /// Writes `value` at this path inside `target` (the `ResultPath` semantics): `$` replaces the
    /// whole; missing objects on the way are created; crossing a non-object, or an array index
    /// out of range, is an error. Only reference paths can be set; the root kind is not checked.
    pub fn set(&self, target: &mut Value, value: Value) -> Result<(), PathError> {
        if !self.is_reference_path() {
            return Err(PathError::NotReference {
                path: self.text.clone(),
            });
        }
        let cannot = |reason: String| PathError::CannotSet {
            path: self.text.clone(),
            reason,
        };
        let mut cur = target;
        let mut upto = String::from("$");
        let last = self.steps.len();
        for (i, step) in self.steps.iter().enumerate() {
            let leaf = i + 1 == last;
            match &step.selector {
                Selector::Name(name) => {
                    let Value::Object(map) = cur else {
                        return Err(cannot(format!(
                            "the value at {upto} is {}, not an object",
                            type_name(cur)
                        )));
                    };
                    upto.push_str(&format!("['{name}']"));
                    if leaf {
                        map.insert(name.clone(), value);
                        return Ok(());
                    }
                    let next_is_index = matches!(
                        self.steps.get(i + 1).map(|s| &s.selector),
                        Some(Selector::Index(_))
                    );
                    if !map.contains_key(name) {
                        if next_is_index {
                            return Err(cannot(format!("{upto} does not exist")));
                        }
                        map.insert(name.clone(), Value::Object(Map::new()));
                    }
                    match map.get_mut(name) {
                        Some(v) => cur = v,
                        None => return Err(cannot(format!("{upto} does not exist"))),
                    }
                }
                Selector::Index(index) => {
                    let Value::Array(items) = cur else {
                        return Err(cannot(format!(
                            "the value at {upto} is {}, not an array",
                            type_name(cur)
                        )));
                    };
                    upto.push_str(&format!("[{index}]"));
                    let len = items.len();
                    let Some(slot) = resolve_index(*index, len).and_then(|i| items.get_mut(i))
                    else {
                        return Err(cannot(format!(
                            "index {index} is out of range of an array of {len} items"
                        )));
                    };
                    if leaf {
                        *slot = value;
                        return Ok(());
                    }
                    cur = slot;
                }
                _ => {
                    return Err(PathError::NotReference {
                        path: self.text.clone(),
                    });
                }
            }
        }
        *cur = value;
        Ok(())
    }
}

impl Selector {
    /// The index an `Index` or `FromLength` selector picks in an array of `len` items.
    fn index_in(&self, len: usize) -> i64 {
        match self {
            Selector::FromLength(offset) => i64::try_from(len)
                .unwrap_or(i64::MAX)
                .saturating_add(*offset),
            Selector::Index(i) => *i,
            _ => 0,
        }
    }

    /// The selector as Jayway writes it in messages, for the index kinds.
    fn bracket(&self) -> String {
        match self {
            Selector::FromLength(offset) => format!("[(@.length{offset:+})]"),
            Selector::Index(i) => format!("[{i}]"),
            _ => String::new(),
        }
    }
}

fn resolve_index(index: i64, len: usize) -> Option<usize> {
    if index < 0 {
        let back = usize::try_from(index.unsigned_abs()).ok()?;
        len.checked_sub(back)
    } else {
        usize::try_from(index).ok().filter(|i| *i < len)
    }
}

fn number_value(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::from(f as i64)
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The Java class Jayway names in its messages for a JSON value.
fn java_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(n) if n.is_f64() => "java.lang.Double",
        Value::Number(_) => "java.lang.Integer",
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "java.util.ArrayList",
        Value::Object(_) => "java.util.LinkedHashMap",
    }
}

/// A short name of a JSON type, for messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Compares two JSON numbers by value (`1 == 1.0`), exactly for integers.
pub(crate) fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Some(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return Some(x.cmp(&y));
    }
    // One side a negative i64, the other a u64 above i64::MAX.
    if a.is_i64() && b.is_u64() {
        return Some(Ordering::Less);
    }
    if a.is_u64() && b.is_i64() {
        return Some(Ordering::Greater);
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

/// Compares strings as Java does (by UTF-16 code units), which is what AWS uses.
pub(crate) fn compare_strings(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Appends everything `steps` select from `node` to `out`.
fn select<'v>(steps: &[Step], node: &'v Value, root: &'v Value, out: &mut Vec<&'v Value>) {
    let Some((step, rest)) = steps.split_first() else {
        out.push(node);
        return;
    };
    let mut hits = Vec::new();
    if step.deep {
        scan(&step.selector, node, root, &mut hits);
    } else {
        apply_selector(&step.selector, node, root, &mut hits);
    }
    for hit in hits {
        select(rest, hit, root, out);
    }
}

fn scan<'v>(selector: &Selector, node: &'v Value, root: &'v Value, out: &mut Vec<&'v Value>) {
    apply_selector(selector, node, root, out);
    match node {
        Value::Array(items) => items.iter().for_each(|v| scan(selector, v, root, out)),
        Value::Object(map) => map.values().for_each(|v| scan(selector, v, root, out)),
        _ => {}
    }
}

fn apply_selector<'v>(
    selector: &Selector,
    node: &'v Value,
    root: &'v Value,
    out: &mut Vec<&'v Value>,
) {
    match (selector, node) {
        (Selector::Name(name), Value::Object(map)) => out.extend(map.get(name)),
        (Selector::Names(names), Value::Object(map)) => {
            out.extend(names.iter().filter_map(|n| map.get(n)));
        }
        (Selector::Index(_) | Selector::FromLength(_), Value::Array(items)) => {
            let i = selector.index_in(items.len());
            out.extend(resolve_index(i, items.len()).and_then(|i| items.get(i)));
        }
        (Selector::Indexes(indexes), Value::Array(items)) => out.extend(
            indexes
                .iter()
                .filter_map(|i| resolve_index(*i, items.len()).and_then(|i| items.get(i))),
        ),
        (Selector::Wildcard, Value::Array(items)) => out.extend(items),
        (Selector::Wildcard, Value::Object(map)) => out.extend(map.values()),
        (Selector::Slice(start, end), Value::Array(items)) => {
            let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
            let clamp = |i: i64| if i < 0 { (len + i).max(0) } else { i.min(len) };
            let from = clamp(start.unwrap_or(0));
            let to = clamp(end.unwrap_or(len));
            if from < to {
                let (from, to) = (from as usize, to as usize);
                out.extend(&items[from..to]);
            }
        }
        (Selector::Filter(expr), Value::Array(items)) => {
            out.extend(items.iter().filter(|item| expr.test(item, root)));
        }
        (Selector::Filter(expr), Value::Object(_)) if expr.test(node, root) => out.push(node),
        _ => {}
    }
}

impl Expr {
    fn test(&self, current: &Value, root: &Value) -> bool {
        match self {
            Expr::Or(a, b) => a.test(current, root) || b.test(current, root),
            Expr::And(a, b) => a.test(current, root) && b.test(current, root),
            Expr::Not(e) => !e.test(current, root),
            Expr::Exists(op) => op.eval(current, root).is_some(),
            Expr::Compare(a, op, b) => {
                let (Some(a), Some(b)) = (a.eval(current, root), b.eval(current, root)) else {
                    return false;
                };
                let ord = match (&a, &b) {
                    (Value::Number(x), Value::Number(y)) => compare_numbers(x, y),
                    (Value::String(x), Value::String(y)) => Some(compare_strings(x, y)),
                    _ => {
                        if a == b {
                            Some(Ordering::Equal)
                        } else {
                            None
                        }
                    }
                };
                match op {
                    CmpOp::Eq => ord == Some(Ordering::Equal),
                    CmpOp::Ne => ord != Some(Ordering::Equal),
                    CmpOp::Lt => ord == Some(Ordering::Less),
                    CmpOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                    CmpOp::Gt => ord == Some(Ordering::Greater),
                    CmpOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                }
            }
        }
    }
}

impl Operand {
    fn eval(&self, current: &Value, root: &Value) -> Option<Value> {
        match self {
            Operand::Literal(v) => Some(v.clone()),
            Operand::Path { relative, path } => {
                let base = if *relative { current } else { root };
                path.query(base).ok()
            }
        }
    }
}

struct Parser<'s> {
    text: &'s str,
    chars: Vec<(usize, char)>,
    pos: usize,
    in_filter: bool,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|(_, c)| *c)
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).map(|(_, c)| *c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), PathError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(&format!("expected '{c}'")))
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn offset(&self) -> usize {
        self.chars
            .get(self.pos)
            .map_or(self.text.len(), |(i, _)| *i)
    }

    fn rest(&self) -> &str {
        &self.text[self.offset()..]
    }

    fn error(&self, reason: &str) -> PathError {
        PathError::Syntax {
            path: self.text.to_string(),
            reason: format!("{reason} at character {}", self.pos),
        }
    }

    /// A path starting with `sigil` (`$` or `@`), up to where its syntax ends.
    fn path(&mut self, sigil: char) -> Result<JsonPath, PathError> {
        let start = self.offset();
        self.expect(sigil)?;
        let root = if sigil == '@' {
            Root::Input
        } else if self.eat('$') {
            Root::Context
        } else if self.peek().is_some_and(|c| c.is_alphabetic() || c == '_') {
            let mut name = String::new();
            while let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || *c == '_') {
                name.push(c);
                self.pos += 1;
            }
            Root::Variable(name)
        } else {
            Root::Input
        };
        let mut steps = Vec::new();
        let mut function = None;
        loop {
            match self.peek() {
                Some('.') if self.peek_at(1) == Some('.') => {
                    self.pos += 2;
                    let selector = if self.peek() == Some('[') {
                        self.bracket()?
                    } else if self.eat('*') {
                        Selector::Wildcard
                    } else {
                        Selector::Name(self.name()?)
                    };
                    steps.push(Step {
                        deep: true,
                        selector,
                    });
                }
                Some('.') => {
                    self.pos += 1;
                    // `$.[0]`, `$.['a']`: Jayway reads the token after a dot as it comes, so a
                    // bracket may follow the dot.
                    if self.peek() == Some('[') {
                        continue;
                    }
                    if self.eat('*') {
                        steps.push(Step {
                            deep: false,
                            selector: Selector::Wildcard,
                        });
                        continue;
                    }
                    let name = self.name()?;
                    if self.peek() == Some('(') {
                        self.pos += 1;
                        self.skip_ws();
                        self.expect(')')?;
                        function = Some(match name.as_str() {
                            "length" => Function::Length,
                            "size" => Function::Size,
                            "min" => Function::Min,
                            "max" => Function::Max,
                            "sum" => Function::Sum,
                            "avg" => Function::Avg,
                            _ => return Err(self.error(&format!("unknown function '{name}()'"))),
                        });
                        break;
                    }
                    steps.push(Step {
                        deep: false,
                        selector: Selector::Name(name),
                    });
                }
                Some('[') => {
                    let selector = self.bracket()?;
                    steps.push(Step {
                        deep: false,
                        selector,
                    });
                }
                _ => break,
            }
        }
        let end = self.offset();
        Ok(JsonPath {
            text: self.text[start..end].to_string(),
            root,
            steps,
            function,
        })
    }

    /// A name in dot notation.
    fn name(&mut self) -> Result<String, PathError> {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if c.is_whitespace() && !self.in_filter {
                return Err(self.error("a blank in a dot-notation name (write ['a b'])"));
            }
            let stop = matches!(c, '.' | '[' | '(')
                || (self.in_filter
                    && (c.is_whitespace()
                        || matches!(c, ')' | '<' | '>' | '=' | '!' | '&' | '|' | ',')));
            if stop {
                break;
            }
            name.push(c);
            self.pos += 1;
        }
        if name.is_empty() {
            return Err(self.error("expected a name"));
        }
        Ok(name)
    }

    fn bracket(&mut self) -> Result<Selector, PathError> {
        self.expect('[')?;
        self.skip_ws();
        let selector = match self.peek() {
            Some('*') => {
                self.pos += 1;
                Selector::Wildcard
            }
            Some('(') => {
                // `(@.length-1)`: the one script expression Step Functions runs.
                self.pos += 1;
                self.skip_ws();
                if !self.rest().starts_with("@.length") {
                    return Err(self.error("expected '@.length' in a script expression"));
                }
                self.pos += "@.length".chars().count();
                self.skip_ws();
                let offset = match self.peek() {
                    Some('-') => {
                        self.pos += 1;
                        self.skip_ws();
                        self.opt_int()?
                            .ok_or_else(|| self.error("expected a number"))?
                            .saturating_neg()
                    }
                    Some('+') => {
                        self.pos += 1;
                        self.skip_ws();
                        self.opt_int()?
                            .ok_or_else(|| self.error("expected a number"))?
                    }
                    _ => 0,
                };
                self.skip_ws();
                self.expect(')')?;
                Selector::FromLength(offset)
            }
            Some('?') => {
                self.pos += 1;
                self.skip_ws();
                self.expect('(')?;
                let was = std::mem::replace(&mut self.in_filter, true);
                let expr = self.or_expr()?;
                self.in_filter = was;
                self.skip_ws();
                self.expect(')')?;
                Selector::Filter(Box::new(expr))
            }
            Some('\'' | '"') => {
                let mut names = vec![self.quoted()?];
                self.skip_ws();
                while self.eat(',') {
                    self.skip_ws();
                    names.push(self.quoted()?);
                    self.skip_ws();
                }
                if names.len() == 1 {
                    Selector::Name(names.remove(0))
                } else {
                    Selector::Names(names)
                }
            }
            _ => {
                let first = self.opt_int()?;
                self.skip_ws();
                if self.eat(':') {
                    self.skip_ws();
                    let end = self.opt_int()?;
                    Selector::Slice(first, end)
                } else {
                    let first = first.ok_or_else(|| self.error("expected an index"))?;
                    let mut indexes = vec![first];
                    while self.eat(',') {
                        self.skip_ws();
                        indexes.push(
                            self.opt_int()?
                                .ok_or_else(|| self.error("expected an index"))?,
                        );
                        self.skip_ws();
                    }
                    if indexes.len() == 1 {
                        Selector::Index(first)
                    } else {
                        Selector::Indexes(indexes)
                    }
                }
            }
        };
        self.skip_ws();
        self.expect(']')?;
        Ok(selector)
    }

    fn opt_int(&mut self) -> Result<Option<i64>, PathError> {
        let mut digits = String::new();
        if self.peek() == Some('-') {
            digits.push('-');
            self.pos += 1;
        }
        while let Some(c) = self.peek().filter(char::is_ascii_digit) {
            digits.push(c);
            self.pos += 1;
        }
        match digits.as_str() {
            "" => Ok(None),
            "-" => Err(self.error("expected digits")),
            d => d
                .parse()
                .map(Some)
                .map_err(|_| self.error("index out of range")),
        }
    }

    fn quoted(&mut self) -> Result<String, PathError> {
        let quote = self.peek().ok_or_else(|| self.error("expected a quote"))?;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some('\\') => {
                    self.pos += 1;
                    let c = self
                        .peek()
                        .ok_or_else(|| self.error("unterminated string"))?;
                    out.push(c);
                    self.pos += 1;
                }
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn or_expr(&mut self) -> Result<Expr, PathError> {
        let mut left = self.and_expr()?;
        loop {
            self.skip_ws();
            if self.peek() == Some('|') && self.peek_at(1) == Some('|') {
                self.pos += 2;
                let right = self.and_expr()?;
                left = Expr::Or(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn and_expr(&mut self) -> Result<Expr, PathError> {
        let mut left = self.unary_expr()?;
        loop {
            self.skip_ws();
            if self.peek() == Some('&') && self.peek_at(1) == Some('&') {
                self.pos += 2;
                let right = self.unary_expr()?;
                left = Expr::And(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn unary_expr(&mut self) -> Result<Expr, PathError> {
        self.skip_ws();
        if self.peek() == Some('!') && self.peek_at(1) != Some('=') {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary_expr()?)));
        }
        if self.eat('(') {
            let e = self.or_expr()?;
            self.skip_ws();
            self.expect(')')?;
            return Ok(e);
        }
        let left = self.operand()?;
        self.skip_ws();
        let op = match (self.peek(), self.peek_at(1)) {
            (Some('='), Some('=')) => Some((CmpOp::Eq, 2)),
            (Some('!'), Some('=')) => Some((CmpOp::Ne, 2)),
            (Some('<'), Some('=')) => Some((CmpOp::Le, 2)),
            (Some('>'), Some('=')) => Some((CmpOp::Ge, 2)),
            (Some('<'), _) => Some((CmpOp::Lt, 1)),
            (Some('>'), _) => Some((CmpOp::Gt, 1)),
            _ => None,
        };
        match op {
            Some((op, width)) => {
                self.pos += width;
                self.skip_ws();
                let right = self.operand()?;
                Ok(Expr::Compare(left, op, right))
            }
            None => Ok(Expr::Exists(left)),
        }
    }

    fn operand(&mut self) -> Result<Operand, PathError> {
        self.skip_ws();
        match self.peek() {
            Some('@') => Ok(Operand::Path {
                relative: true,
                path: self.path('@')?,
            }),
            Some('$') => Ok(Operand::Path {
                relative: false,
                path: self.path('$')?,
            }),
            Some('\'' | '"') => Ok(Operand::Literal(Value::String(self.quoted()?))),
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let start = self.offset();
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
                {
                    self.pos += 1;
                }
                let text = &self.text[start..self.offset()];
                serde_json::from_str::<Number>(text)
                    .map(|n| Operand::Literal(Value::Number(n)))
                    .map_err(|_| self.error("invalid number"))
            }
            _ => {
                // A bare word: `true`, `false`, `null`, or else a string. Jayway as published
                // refuses `[?(@.Name == Receipt)]`, but Step Functions accepts it when a state
                // machine is created (AWS's own samples use it), and a string is what it means.
                let start = self.offset();
                while self
                    .peek()
                    .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '-'))
                {
                    self.pos += 1;
                }
                match &self.text[start..self.offset()] {
                    "" => Err(self.error("expected a value")),
                    "true" => Ok(Operand::Literal(Value::Bool(true))),
                    "false" => Ok(Operand::Literal(Value::Bool(false))),
                    "null" => Ok(Operand::Literal(Value::Null)),
                    word => Ok(Operand::Literal(Value::String(word.to_string()))),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn q(path: &str, v: &Value) -> Result<Value, PathError> {
        JsonPath::parse(path).unwrap().query(v)
    }

    fn store() -> Value {
        json!({
            "store": {
                "book": [
                    {"category": "reference", "author": "Nigel Rees", "price": 8.95},
                    {"category": "fiction", "author": "Evelyn Waugh", "price": 12.99},
                    {"category": "fiction", "author": "Herman Melville", "isbn": "0-553", "price": 8.99},
                    {"category": "fiction", "author": "J. R. R. Tolkien", "isbn": "0-395", "price": 22.99}
                ],
                "bicycle": {"color": "red", "price": 19.95}
            },
            "a b": 1
        })
    }

    #[test]
    fn definite_paths() {
        let v = store();
        assert_eq!(q("$", &v).unwrap(), v);
        assert_eq!(q("$.store.bicycle.color", &v).unwrap(), json!("red"));
        assert_eq!(q("$['a b']", &v).unwrap(), json!(1));
        assert_eq!(q("$[\"a b\"]", &v).unwrap(), json!(1));
        assert_eq!(
            q("$.store.book[0].author", &v).unwrap(),
            json!("Nigel Rees")
        );
        assert_eq!(q("$.store.book[-1].price", &v).unwrap(), json!(22.99));
    }

    #[test]
    fn indefinite_paths() {
        let v = store();
        assert_eq!(
            q("$.store.book[*].price", &v).unwrap(),
            json!([8.95, 12.99, 8.99, 22.99])
        );
        assert_eq!(
            q("$.store.book[0,2].price", &v).unwrap(),
            json!([8.95, 8.99])
        );
        assert_eq!(
            q("$.store.book[1:3].price", &v).unwrap(),
            json!([12.99, 8.99])
        );
        assert_eq!(
            q("$.store.book[:2].price", &v).unwrap(),
            json!([8.95, 12.99])
        );
        assert_eq!(
            q("$.store.book[-2:].price", &v).unwrap(),
            json!([8.99, 22.99])
        );
        assert_eq!(q("$..price", &v).unwrap().as_array().unwrap().len(), 5);
        assert_eq!(
            q("$.store.book[?(@.price < 10)].author", &v).unwrap(),
            json!(["Nigel Rees", "Herman Melville"])
        );
        assert_eq!(
            q("$.store.book[?(@.isbn)].isbn", &v).unwrap(),
            json!(["0-553", "0-395"])
        );
        assert_eq!(
            q(
                "$.store.book[?(@.category == 'fiction' && @.price > 20)].author",
                &v
            )
            .unwrap(),
            json!(["J. R. R. Tolkien"])
        );
        assert_eq!(
            q(
                "$.store.book[?(@.price >= 22.99 || @.category == \"reference\")].price",
                &v
            )
            .unwrap(),
            json!([8.95, 22.99])
        );
        assert_eq!(q("$.store.book[?(@.price > 100)]", &v).unwrap(), json!([]));
        assert_eq!(q("$.store.book.length()", &v).unwrap(), json!(4));
        assert_eq!(q("$.store.book[*].author.length()", &v).unwrap(), json!(4));
    }

    #[test]
    fn roots() {
        assert_eq!(JsonPath::parse("$").unwrap().root(), Root::Input);
        assert_eq!(
            JsonPath::parse("$$.Execution.Input").unwrap().root(),
            Root::Context
        );
        assert_eq!(
            JsonPath::parse("$$.Map.Item.Value").unwrap().root(),
            Root::Context
        );
        let p = JsonPath::parse("$var.field[0]").unwrap();
        assert_eq!(p.root(), Root::Variable("var".into()));
        assert_eq!(p.query(&json!({"field": [7]})).unwrap(), json!(7));
        assert_eq!(p.to_string(), "$var.field[0]");
    }

    #[test]
    fn missing_values_name_the_path_as_jayway_does() {
        let v = json!({"a": {"b": 1}, "s": "x"});
        let e = q("$.x", &v).unwrap_err();
        assert_eq!(
            e.aws_cause(),
            "Invalid path '$.x' : No results for path: $['x']"
        );
        let e = q("$.no.such.path", &v).unwrap_err();
        assert_eq!(
            e.aws_cause(),
            "Invalid path '$.no.such.path' : Missing property in path $['no']"
        );
        assert!(q("$.a[3]", &v).is_err());
        assert!(q("$.s.t", &v).is_err());
        assert_eq!(q("$.a.b", &v).unwrap(), json!(1));
    }

    #[test]
    fn reference_and_definite() {
        for p in ["$", "$.a", "$.a[0].b", "$['a b'][2]"] {
            assert!(JsonPath::parse(p).unwrap().is_reference_path(), "{p}");
        }
        for p in [
            "$.a[-1]",
            "$.a[*]",
            "$..a",
            "$.a[0,1]",
            "$.a.length()",
            "$.a[?(@.b)]",
        ] {
            assert!(!JsonPath::parse(p).unwrap().is_reference_path(), "{p}");
        }
        assert!(JsonPath::parse("$.a[-1]").unwrap().is_definite());
        assert!(!JsonPath::parse("$.a[1:2]").unwrap().is_definite());
    }

    #[test]
    fn script_expression_counts_from_the_length() {
        let v = json!({"a": [{"b": 1}, {"b": 2}, {"b": 3}]});
        assert_eq!(q("$.a[(@.length-1)].b", &v).unwrap(), json!(3));
        assert_eq!(q("$.a[( @.length - 3 )]", &v).unwrap(), json!({"b": 1}));
        assert!(q("$.a[(@.length)]", &v).is_err());
        assert_eq!(
            q("$.a[*][(@.length-1)]", &json!({"a": [[1, 2], [3]]})).unwrap(),
            json!([2, 3])
        );
        let p = JsonPath::parse("$.a[(@.length-1)]").unwrap();
        assert!(p.is_definite());
        assert_eq!(p.not_reference_because(), Some("a script expression"));
        assert!(JsonPath::parse("$.a[(@.size-1)]").is_err());
    }

    #[test]
    fn a_bracket_may_follow_a_dot_and_a_blank_may_not_sit_in_a_name() {
        let v = json!({"a": [{"b c": 1}]});
        assert_eq!(q("$.a.[0].['b c']", &v).unwrap(), json!(1));
        assert!(JsonPath::parse("$.a.b c").is_err());
    }

    #[test]
    fn a_bare_word_in_a_filter_is_a_string() {
        let v =
            json!({"l": [{"n": "Receipt", "v": 1}, {"n": "Other", "v": 2}, {"n": true, "v": 3}]});
        assert_eq!(q("$.l[?(@.n==Receipt)].v", &v).unwrap(), json!([1]));
        assert_eq!(q("$.l[?(@.n == true)].v", &v).unwrap(), json!([3]));
    }

    #[test]
    fn syntax_errors() {
        for p in [
            "",
            "a",
            "$.",
            "$[",
            "$['a'",
            "$.a[?(@.b <)]",
            "$.a.foo()",
            "$ x",
        ] {
            assert!(JsonPath::parse(p).is_err(), "{p}");
        }
    }

    #[test]
    fn set_follows_result_path_rules() {
        let mut v = json!({"a": 1});
        JsonPath::parse("$.b.c")
            .unwrap()
            .set(&mut v, json!(2))
            .unwrap();
        assert_eq!(v, json!({"a": 1, "b": {"c": 2}}));
        JsonPath::parse("$")
            .unwrap()
            .set(&mut v, json!("all"))
            .unwrap();
        assert_eq!(v, json!("all"));
        assert!(
            JsonPath::parse("$.x")
                .unwrap()
                .set(&mut v, json!(1))
                .is_err()
        );
        let mut v = json!({"l": [1, 2]});
        JsonPath::parse("$.l[1]")
            .unwrap()
            .set(&mut v, json!(9))
            .unwrap();
        assert_eq!(v, json!({"l": [1, 9]}));
        assert!(
            JsonPath::parse("$.l[5]")
                .unwrap()
                .set(&mut v, json!(9))
                .is_err()
        );
        assert!(
            JsonPath::parse("$.l[*]")
                .unwrap()
                .set(&mut v, json!(9))
                .is_err()
        );
        assert!(
            JsonPath::parse("$.l.x")
                .unwrap()
                .set(&mut v, json!(9))
                .is_err()
        );
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[a-z ]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-c]{1,2}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn arbitrary_paths_never_panic(s in "\\PC{0,24}", v in arb_json()) {
            if let Ok(p) = JsonPath::parse(&s) {
                let _ = p.query(&v);
                let mut t = v.clone();
                let _ = p.set(&mut t, Value::Null);
            }
        }

        #[test]
        fn jsonish_paths_never_panic(s in "\\$[\\[\\]a-c0-9.*?@()<>=!&|' :,-]{0,20}", v in arb_json()) {
            if let Ok(p) = JsonPath::parse(&s) {
                let _ = p.query(&v);
            }
        }

        #[test]
        fn set_then_query_returns_the_value(
            keys in prop::collection::vec("[a-z]{1,3}", 1..4),
            base in arb_json(),
            value in arb_json(),
        ) {
            let text = format!("$.{}", keys.join("."));
            let path = JsonPath::parse(&text).unwrap();
            let mut target = if base.is_object() { base } else { json!({}) };
            if path.set(&mut target, value.clone()).is_ok() {
                prop_assert_eq!(path.query(&target).unwrap(), value);
            }
        }
    }
}
