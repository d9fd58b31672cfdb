//! The `States.*` intrinsic functions of JSONPath-mode states.
//!
//! [`parse`] turns `States.Format('{} {}', $.a, States.UUID())` into a [`Call`]; [`eval`] runs it
//! against an [`Env`]. Evaluation is pure: UUIDs and random numbers come from the caller, so a
//! replayed execution gets the same values. Every failure is an [`IntrinsicError`], which the
//! interpreter reports as `States.IntrinsicFailure` with the error's text as the cause.

use std::fmt;

use base64::Engine as _;
use serde_json::{Map, Number, Value};

use crate::jsonpath::{JsonPath, PathError, Root};

/// The most items `States.ArrayRange` may produce.
pub const MAX_RANGE_ITEMS: i64 = 1000;
/// The longest string `States.Base64Encode`, `States.Base64Decode` and `States.Hash` accept.
pub const MAX_STRING_CHARS: usize = 10_000;

/// What an evaluation can read and draw from. Nothing here is ambient: the interpreter supplies
/// the state input, the context object, the variables in scope and deterministic UUID and random
/// sources derived from its events.
pub struct Env<'a> {
    /// The (effective) state input, read by `$…` paths.
    pub input: &'a Value,
    /// The context object, read by `$$…` paths.
    pub context: &'a Value,
    /// The value of a variable in scope, read by `$name…` paths.
    pub variables: &'a dyn Fn(&str) -> Option<Value>,
    /// A fresh version-4 UUID for `States.UUID()`.
    pub uuid: &'a mut dyn FnMut() -> String,
    /// `random(start, end, seed)`: an integer in `[start, end)` for `States.MathRandom`.
    pub random: &'a mut dyn FnMut(i64, i64, Option<i64>) -> i64,
}

impl fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("input", self.input)
            .field("context", self.context)
            .finish_non_exhaustive()
    }
}

impl Env<'_> {
    /// Reads a path from the input, the context or a variable, as its root says.
    pub fn read(&self, path: &JsonPath) -> Result<Value, PathError> {
        match path.root() {
            Root::Input => path.query(self.input),
            Root::Context => path.query(self.context),
            Root::Variable(name) => match (self.variables)(&name) {
                Some(value) => path.query(&value),
                None => Err(PathError::UnknownVariable {
                    path: path.to_string(),
                    name,
                }),
            },
        }
    }
}

/// An error parsing or evaluating an intrinsic function (AWS: `States.IntrinsicFailure`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntrinsicError {
    /// The text is not a well-formed intrinsic call.
    #[error("invalid intrinsic function call '{text}': {reason}")]
    Syntax {
        /// The text as given.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// `States.<name>` is not a known function.
    #[error("unknown intrinsic function 'States.{name}'")]
    UnknownFunction {
        /// The name after `States.`.
        name: String,
    },
    /// The call has the wrong number of arguments.
    #[error("{function} takes {expected} but was given {got}")]
    ArgumentCount {
        /// The function, e.g. `States.Format`.
        function: &'static str,
        /// The accepted count, in words.
        expected: &'static str,
        /// The count given.
        got: usize,
    },
    /// An argument has the wrong type.
    #[error("the argument {position} of {function} must be {expected} but was {got}")]
    ArgumentType {
        /// The function.
        function: &'static str,
        /// The 1-based position of the argument.
        position: usize,
        /// The type it must have.
        expected: &'static str,
        /// What it was (`a string`, `null`…).
        got: &'static str,
    },
    /// The arguments have the right types but are not acceptable.
    #[error("{function}: {reason}")]
    InvalidArgument {
        /// The function.
        function: &'static str,
        /// Why.
        reason: String,
    },
    /// A path argument selects nothing.
    #[error("{}", .0.aws_cause())]
    Path(#[from] PathError),
}

macro_rules! functions {
    ($($name:ident),* $(,)?) => {
        /// An intrinsic function.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Function {
            $(
                #[doc = concat!("`States.", stringify!($name), "`")]
                $name,
            )*
        }

        impl Function {
            /// The full name, e.g. `States.Format`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Function::$name => concat!("States.", stringify!($name)),)*
                }
            }

            /// The function named `States.<name>`, given the part after `States.`.
            pub fn from_name(name: &str) -> Option<Function> {
                match name {
                    $(stringify!($name) => Some(Function::$name),)*
                    _ => None,
                }
            }
        }
    };
}

functions! {
    Format, StringToJson, JsonToString, Array, ArrayPartition, ArrayContains, ArrayRange,
    ArrayGetItem, ArrayLength, ArrayUnique, Base64Encode, Base64Decode, Hash, JsonMerge,
    MathRandom, MathAdd, StringSplit, UUID,
}

/// A parsed intrinsic call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The function called.
    pub function: Function,
    /// Its arguments, in order.
    pub args: Vec<Arg>,
}

/// One argument of a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A `'…'` literal.
    String(StringLiteral),
    /// A number literal.
    Number(Number),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// A path: `$…`, `$$…` or `$name…`.
    Path(JsonPath),
    /// A nested call.
    Call(Call),
}

/// A string literal, unescaped, remembering which braces were escaped (those are never
/// `States.Format` placeholders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringLiteral {
    /// The text after unescaping.
    pub value: String,
    escaped_braces: Vec<usize>,
}

impl StringLiteral {
    fn is_escaped(&self, byte: usize) -> bool {
        self.escaped_braces.binary_search(&byte).is_ok()
    }
}

/// True when `s` looks like an intrinsic call (`States.Name(…)`), as opposed to a path.
pub fn is_intrinsic(s: &str) -> bool {
    let s = s.trim();
    s.starts_with("States.") && s.contains('(') && s.ends_with(')')
}

/// Parses an intrinsic call.
pub fn parse(s: &str) -> Result<Call, IntrinsicError> {
    let mut p = CallParser {
        text: s,
        chars: s.char_indices().collect(),
        pos: 0,
    };
    p.skip_ws();
    let call = p.call(0)?;
    p.skip_ws();
    if p.pos < p.chars.len() {
        return Err(p.error("unexpected text after the call"));
    }
    Ok(call)
}

/// How deep calls may nest (AWS allows 10 in one field; a little slack costs nothing).
const MAX_DEPTH: usize = 16;

struct CallParser<'s> {
    text: &'s str,
    chars: Vec<(usize, char)>,
    pos: usize,
}

impl CallParser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|(_, c)| *c)
    }

    fn offset(&self) -> usize {
        self.chars
            .get(self.pos)
            .map_or(self.text.len(), |(i, _)| *i)
    }

    fn rest(&self) -> &str {
        &self.text[self.offset()..]
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn error(&self, reason: &str) -> IntrinsicError {
        IntrinsicError::Syntax {
            text: self.text.to_string(),
            reason: format!("{reason} at character {}", self.pos),
        }
    }

    fn call(&mut self, depth: usize) -> Result<Call, IntrinsicError> {
        if depth > MAX_DEPTH {
            return Err(self.error("calls nested too deeply"));
        }
        if !self.rest().starts_with("States.") {
            return Err(self.error("expected 'States.'"));
        }
        self.pos += "States.".len();
        let mut name = String::new();
        while let Some(c) = self.peek().filter(char::is_ascii_alphanumeric) {
            name.push(c);
            self.pos += 1;
        }
        let function =
            Function::from_name(&name).ok_or(IntrinsicError::UnknownFunction { name })?;
        self.skip_ws();
        if self.peek() != Some('(') {
            return Err(self.error("expected '('"));
        }
        self.pos += 1;
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some(')') {
            self.pos += 1;
            return Ok(Call { function, args });
        }
        loop {
            self.skip_ws();
            args.push(self.arg(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    return Ok(Call { function, args });
                }
                _ => return Err(self.error("expected ',' or ')'")),
            }
        }
    }

    fn arg(&mut self, depth: usize) -> Result<Arg, IntrinsicError> {
        match self.peek() {
            Some('\'') => self.string().map(Arg::String),
            Some('$') => self.path().map(Arg::Path),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number().map(Arg::Number),
            _ if self.rest().starts_with("States.") => self.call(depth + 1).map(Arg::Call),
            _ => {
                for (word, arg) in [
                    ("true", Arg::Bool(true)),
                    ("false", Arg::Bool(false)),
                    ("null", Arg::Null),
                ] {
                    let rest = self.rest();
                    if rest.starts_with(word)
                        && !rest[word.len()..]
                            .starts_with(|c: char| c.is_alphanumeric() || c == '_')
                    {
                        self.pos += word.len();
                        return Ok(arg);
                    }
                }
                Err(self.error("expected an argument"))
            }
        }
    }

    fn string(&mut self) -> Result<StringLiteral, IntrinsicError> {
        self.pos += 1; // the opening quote
        let mut value = String::new();
        let mut escaped_braces = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated string literal")),
                Some('\'') => {
                    self.pos += 1;
                    return Ok(StringLiteral {
                        value,
                        escaped_braces,
                    });
                }
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c @ ('{' | '}')) => {
                            escaped_braces.push(value.len());
                            value.push(c);
                        }
                        Some(c @ ('\'' | '\\')) => value.push(c),
                        _ => return Err(self.error("invalid escape sequence")),
                    }
                    self.pos += 1;
                }
                Some(c) => {
                    value.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// A path runs to the next `,` or `)` outside brackets, parentheses and quotes.
    fn path(&mut self) -> Result<JsonPath, IntrinsicError> {
        let start = self.offset();
        let (mut brackets, mut parens) = (0_usize, 0_usize);
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            if let Some(q) = quote {
                if c == '\\' {
                    self.pos += 1;
                } else if c == q {
                    quote = None;
                }
            } else {
                match c {
                    '\'' | '"' if brackets > 0 => quote = Some(c),
                    '[' => brackets += 1,
                    ']' => brackets = brackets.saturating_sub(1),
                    '(' => parens += 1,
                    ')' if parens > 0 => parens -= 1,
                    ',' | ')' if brackets == 0 && parens == 0 => break,
                    _ => {}
                }
            }
            self.pos += 1;
        }
        let text = self.text[start..self.offset()].trim_end();
        Ok(JsonPath::parse(text)?)
    }

    fn number(&mut self) -> Result<Number, IntrinsicError> {
        let start = self.offset();
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
        {
            self.pos += 1;
        }
        let text = &self.text[start..self.offset()];
        serde_json::from_str::<Number>(text).map_err(|_| self.error("invalid number"))
    }
}

/// What an argument must be, as far as the function's own checks go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Any,
    String,
    Number,
    /// A number with no fractional part (`2.0` counts).
    Integer,
    Boolean,
    Array,
    Object,
}

impl Kind {
    fn words(self) -> &'static str {
        match self {
            Kind::Any => "any value",
            Kind::String => "a string",
            Kind::Number => "a number",
            Kind::Integer => "an integer",
            Kind::Boolean => "a boolean",
            Kind::Array => "an array",
            Kind::Object => "an object",
        }
    }

    /// Whether a literal argument can be of this kind; paths and nested calls always can, as
    /// only their value tells.
    fn admits(self, arg: &Arg) -> bool {
        match (self, arg) {
            (Kind::Any, _) | (_, Arg::Path(_) | Arg::Call(_)) => true,
            (Kind::String, Arg::String(_)) | (Kind::Boolean, Arg::Bool(_)) => true,
            (Kind::Number, Arg::Number(_)) => true,
            (Kind::Integer, Arg::Number(n)) => {
                n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|x| x.fract() == 0.0)
            }
            _ => false,
        }
    }
}

/// A function's arguments: how many (`min..=max`, in words for errors) and the kind of each;
/// arguments past `kinds` take the last kind.
struct Signature {
    min: usize,
    max: Option<usize>,
    count: &'static str,
    kinds: &'static [Kind],
}

impl Function {
    fn signature(self) -> Signature {
        use Kind as K;
        let exactly = |kinds: &'static [Kind], count| Signature {
            min: kinds.len(),
            max: Some(kinds.len()),
            count,
            kinds,
        };
        match self {
            Function::Format => Signature {
                min: 1,
                max: None,
                count: "at least 1 argument",
                kinds: &[K::String, K::Any],
            },
            Function::Array => Signature {
                min: 0,
                max: None,
                count: "any number of arguments",
                kinds: &[K::Any],
            },
            Function::MathRandom => Signature {
                min: 2,
                max: Some(3),
                count: "2 or 3 arguments",
                kinds: &[K::Number],
            },
            Function::StringToJson | Function::Base64Encode | Function::Base64Decode => {
                exactly(&[K::String], "1 argument")
            }
            Function::JsonToString => exactly(&[K::Any], "1 argument"),
            Function::ArrayLength | Function::ArrayUnique => exactly(&[K::Array], "1 argument"),
            Function::ArrayPartition | Function::ArrayGetItem => {
                exactly(&[K::Array, K::Integer], "2 arguments")
            }
            Function::ArrayContains => exactly(&[K::Array, K::Any], "2 arguments"),
            Function::ArrayRange => exactly(&[K::Integer, K::Integer, K::Integer], "3 arguments"),
            Function::Hash | Function::StringSplit => {
                exactly(&[K::String, K::String], "2 arguments")
            }
            Function::JsonMerge => exactly(&[K::Object, K::Object, K::Boolean], "3 arguments"),
            Function::MathAdd => exactly(&[K::Number, K::Number], "2 arguments"),
            Function::UUID => exactly(&[], "no arguments"),
        }
    }
}

/// The argument count of one call, not looking into nested calls.
fn check_count(call: &Call) -> Result<(), IntrinsicError> {
    let sig = call.function.signature();
    let got = call.args.len();
    if got < sig.min || sig.max.is_some_and(|max| got > max) {
        return Err(IntrinsicError::ArgumentCount {
            function: call.function.as_str(),
            expected: sig.count,
            got,
        });
    }
    Ok(())
}

/// What can be known of a call before it runs: every call, nested ones included, has an
/// argument count its function takes, and every literal argument has the type its position
/// takes (`States.MathAdd(1, '-1')` is refused). Paths and nested calls are only checked when
/// evaluated. The checker refuses a definition that fails this; [`eval`] relies on the counts.
pub fn check_static(call: &Call) -> Result<(), IntrinsicError> {
    check_count(call)?;
    let sig = call.function.signature();
    for (i, arg) in call.args.iter().enumerate() {
        let kind = sig
            .kinds
            .get(i)
            .or(sig.kinds.last())
            .copied()
            .unwrap_or(Kind::Any);
        if !kind.admits(arg) {
            return Err(IntrinsicError::ArgumentType {
                function: call.function.as_str(),
                position: i + 1,
                expected: kind.words(),
                got: match arg {
                    Arg::String(_) => "a string",
                    Arg::Number(_) => "a number",
                    Arg::Bool(_) => "a boolean",
                    Arg::Null => "null",
                    Arg::Path(_) | Arg::Call(_) => "a computed value",
                },
            });
        }
        if let Arg::Call(inner) = arg {
            check_static(inner)?;
        }
    }
    Ok(())
}

/// Evaluates a call.
pub fn eval(call: &Call, env: &mut Env<'_>) -> Result<Value, IntrinsicError> {
    check_count(call)?;
    let f = call.function;
    let mut args = Vec::with_capacity(call.args.len());
    for arg in &call.args {
        args.push(match arg {
            Arg::String(s) => Value::String(s.value.clone()),
            Arg::Number(n) => Value::Number(n.clone()),
            Arg::Bool(b) => Value::Bool(*b),
            Arg::Null => Value::Null,
            Arg::Path(p) => env.read(p)?,
            Arg::Call(c) => eval(c, env)?,
        });
    }
    let a = Args { f, values: &args };
    match f {
        Function::Format => {
            let template = a.string(0)?;
            let escaped = match call.args.first() {
                Some(Arg::String(lit)) => Some(lit),
                _ => None,
            };
            format(template, escaped, &args[1..])
        }
        Function::StringToJson => {
            let s = a.string(0)?;
            if s.trim().is_empty() {
                return Ok(Value::Null);
            }
            let mut v: Value = serde_json::from_str(s)
                .map_err(|e| a.invalid(format!("the string is not valid JSON ({e})")))?;
            integral_zero(&mut v);
            Ok(v)
        }
        Function::JsonToString => Ok(Value::String(to_json_text(&args[0]))),
        Function::Array => Ok(Value::Array(args)),
        Function::ArrayPartition => {
            let items = a.array(0)?;
            let size = a.integer(1)?;
            if size <= 0 {
                return Err(a.invalid(format!(
                    "the chunk size must be a positive integer, not {size}"
                )));
            }
            let size = usize::try_from(size).unwrap_or(usize::MAX);
            Ok(Value::Array(
                items
                    .chunks(size)
                    .map(|c| Value::Array(c.to_vec()))
                    .collect(),
            ))
        }
        Function::ArrayContains => {
            let items = a.array(0)?;
            Ok(Value::Bool(items.contains(&args[1])))
        }
        Function::ArrayRange => {
            let (start, end, step) = (a.integer(0)?, a.integer(1)?, a.integer(2)?);
            if step == 0 {
                return Err(a.invalid("the step must not be 0".to_string()));
            }
            let span = i128::from(end) - i128::from(start);
            let count = if span == 0 || (span > 0) == (step > 0) {
                span / i128::from(step) + 1
            } else {
                0
            };
            if count > i128::from(MAX_RANGE_ITEMS) {
                return Err(a.invalid(format!(
                    "the range would have {count} items, more than the {MAX_RANGE_ITEMS} allowed"
                )));
            }
            let out = (0..count)
                .map(|i| Value::from((i128::from(start) + i * i128::from(step)) as i64))
                .collect();
            Ok(Value::Array(out))
        }
        Function::ArrayGetItem => {
            let items = a.array(0)?;
            let index = a.integer(1)?;
            usize::try_from(index)
                .ok()
                .and_then(|i| items.get(i))
                .cloned()
                .ok_or_else(|| {
                    a.invalid(format!(
                        "the index {index} is out of bounds of an array of {} items",
                        items.len()
                    ))
                })
        }
        Function::ArrayLength => Ok(Value::from(a.array(0)?.len())),
        Function::ArrayUnique => {
            let mut out: Vec<Value> = Vec::new();
            for item in a.array(0)? {
                if !out.contains(item) {
                    out.push(item.clone());
                }
            }
            Ok(Value::Array(out))
        }
        Function::Base64Encode => {
            let s = a.limited_string(0)?;
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(s),
            ))
        }
        Function::Base64Decode => {
            let s = a.limited_string(0)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|e| a.invalid(format!("the string is not valid Base64 ({e})")))?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| a.invalid("the decoded bytes are not UTF-8 text".to_string()))
        }
        Function::Hash => {
            let data = a.limited_string(0)?;
            let algorithm = a.string(1)?;
            hash(data, algorithm).map(Value::String).ok_or_else(|| {
                a.invalid(format!(
                    "the hash algorithm '{algorithm}' is not one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"
                ))
            })
        }
        Function::JsonMerge => {
            let left = a.object(0)?;
            let right = a.object(1)?;
            if a.boolean(2)? {
                return Err(a.invalid(
                    "deep merge is not supported; the third argument must be false".to_string(),
                ));
            }
            let mut out = left.clone();
            for (k, v) in right {
                out.insert(k.clone(), v.clone());
            }
            Ok(Value::Object(out))
        }
        Function::MathRandom => {
            let start = a.rounded_int32(0)?;
            let end = a.rounded_int32(1)?;
            let seed = if args.len() == 3 {
                Some(a.rounded_int(2)?)
            } else {
                None
            };
            if start >= end {
                return Err(a.invalid(format!("the start {start} must be less than the end {end}")));
            }
            let n = (env.random)(start, end, seed);
            Ok(Value::from(n.clamp(start, end - 1)))
        }
        Function::MathAdd => {
            let x = a.rounded_int32(0)?;
            let y = a.rounded_int32(1)?;
            Ok(Value::from(x + y))
        }
        Function::StringSplit => {
            let s = a.string(0)?;
            let delimiters: Vec<char> = a.string(1)?.chars().collect();
            // Java's StringTokenizer: every character of the second argument splits, and empty
            // pieces are dropped.
            Ok(Value::Array(
                s.split(|c| delimiters.contains(&c))
                    .filter(|piece| !piece.is_empty())
                    .map(|piece| Value::String(piece.to_string()))
                    .collect(),
            ))
        }
        Function::UUID => Ok(Value::String((env.uuid)())),
    }
}

/// `States.Format`: each unescaped `{}` takes the next argument.
fn format(
    template: &str,
    literal: Option<&StringLiteral>,
    values: &[Value],
) -> Result<Value, IntrinsicError> {
    let function = Function::Format.as_str();
    let mut out = String::new();
    let mut rest = values.iter();
    let mut used = 0;
    let bytes = template.as_bytes();
    let mut i = 0;
    let mut last = 0;
    while i < bytes.len() {
        let is_placeholder = bytes[i] == b'{'
            && bytes.get(i + 1) == Some(&b'}')
            && !literal.is_some_and(|l| l.is_escaped(i) || l.is_escaped(i + 1));
        if is_placeholder {
            out.push_str(&template[last..i]);
            let value = rest.next().ok_or_else(|| IntrinsicError::InvalidArgument {
                function,
                reason: format!(
                    "the format string has more placeholders than the {} arguments given",
                    values.len()
                ),
            })?;
            used += 1;
            match value {
                Value::String(s) => out.push_str(s),
                other => out.push_str(&to_json_text(other)),
            }
            i += 2;
            last = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&template[last..]);
    if used != values.len() {
        return Err(IntrinsicError::InvalidArgument {
            function,
            reason: format!(
                "the format string has {used} placeholders but {} arguments were given",
                values.len()
            ),
        });
    }
    Ok(Value::String(out))
}

/// AWS reads `-0` as the integer 0 where serde_json gives `-0.0`; no JSON value is a negative zero.
fn integral_zero(v: &mut Value) {
    match v {
        Value::Number(n) if n.as_f64().is_some_and(|f| f == 0.0 && f.is_sign_negative()) => {
            *v = Value::from(0);
        }
        Value::Array(items) => items.iter_mut().for_each(integral_zero),
        Value::Object(map) => map.values_mut().for_each(integral_zero),
        _ => {}
    }
}

/// Compact JSON text, as `States.JsonToString` and `States.Format` write values.
fn to_json_text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn hash(data: &str, algorithm: &str) -> Option<String> {
    use sha2::Digest as _;
    let bytes = data.as_bytes();
    let digest: Vec<u8> = match algorithm {
        "MD5" => md5::Md5::digest(bytes).to_vec(),
        "SHA-1" => sha1::Sha1::digest(bytes).to_vec(),
        "SHA-256" => sha2::Sha256::digest(bytes).to_vec(),
        "SHA-384" => sha2::Sha384::digest(bytes).to_vec(),
        "SHA-512" => sha2::Sha512::digest(bytes).to_vec(),
        _ => return None,
    };
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// The evaluated arguments of one call, with typed accessors that name the function in errors.
struct Args<'v> {
    f: Function,
    values: &'v [Value],
}

impl<'v> Args<'v> {
    fn invalid(&self, reason: String) -> IntrinsicError {
        IntrinsicError::InvalidArgument {
            function: self.f.as_str(),
            reason,
        }
    }

    fn wrong(&self, i: usize, expected: &'static str) -> IntrinsicError {
        IntrinsicError::ArgumentType {
            function: self.f.as_str(),
            position: i + 1,
            expected,
            got: self
                .values
                .get(i)
                .map_or("missing", crate::jsonpath::type_name),
        }
    }

    fn string(&self, i: usize) -> Result<&'v str, IntrinsicError> {
        self.values
            .get(i)
            .and_then(Value::as_str)
            .ok_or_else(|| self.wrong(i, "a string"))
    }

    fn limited_string(&self, i: usize) -> Result<&'v str, IntrinsicError> {
        let s = self.string(i)?;
        let chars = s.chars().count();
        if chars > MAX_STRING_CHARS {
            return Err(self.invalid(format!(
                "the input string has {chars} characters, more than the {MAX_STRING_CHARS} allowed"
            )));
        }
        Ok(s)
    }

    fn array(&self, i: usize) -> Result<&'v Vec<Value>, IntrinsicError> {
        self.values
            .get(i)
            .and_then(Value::as_array)
            .ok_or_else(|| self.wrong(i, "an array"))
    }

    fn object(&self, i: usize) -> Result<&'v Map<String, Value>, IntrinsicError> {
        self.values
            .get(i)
            .and_then(Value::as_object)
            .ok_or_else(|| self.wrong(i, "an object"))
    }

    fn boolean(&self, i: usize) -> Result<bool, IntrinsicError> {
        self.values
            .get(i)
            .and_then(Value::as_bool)
            .ok_or_else(|| self.wrong(i, "a boolean"))
    }

    fn number(&self, i: usize) -> Result<&'v Number, IntrinsicError> {
        match self.values.get(i) {
            Some(Value::Number(n)) => Ok(n),
            _ => Err(self.wrong(i, "a number")),
        }
    }

    /// An integer argument (an integral float such as `2.0` counts).
    fn integer(&self, i: usize) -> Result<i64, IntrinsicError> {
        let n = self.number(i)?;
        if let Some(x) = n.as_i64() {
            return Ok(x);
        }
        match n.as_f64() {
            Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(x as i64),
            _ => Err(self.wrong(i, "an integer")),
        }
    }

    /// A number rounded to the nearest integer, half up (Java's `Math.round`), as AWS does for
    /// `States.MathAdd` and `States.MathRandom`.
    fn rounded_int(&self, i: usize) -> Result<i64, IntrinsicError> {
        let n = self.number(i)?;
        if let Some(x) = n.as_i64() {
            return Ok(x);
        }
        match n.as_f64() {
            Some(x) if x.is_finite() && x.abs() < 9.0e18 => Ok((x + 0.5).floor() as i64),
            _ => Err(self.wrong(i, "an integer")),
        }
    }

    /// A rounded integer that must fit in 32 bits.
    fn rounded_int32(&self, i: usize) -> Result<i64, IntrinsicError> {
        let x = self.rounded_int(i)?;
        if i32::try_from(x).is_err() {
            return Err(self.invalid(format!(
                "the argument {} is {x}, outside the range {} to {}",
                i + 1,
                i32::MIN,
                i32::MAX
            )));
        }
        Ok(x)
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use super::*;
    use crate::testing::arb_json;
    use proptest::prelude::*;
    use serde_json::json;

    fn run(expr: &str, input: &Value) -> Result<Value, IntrinsicError> {
        let context = json!({"Execution": {"Id": "exec-1"}});
        let variables = |name: &str| (name == "x").then(|| json!({"y": 5}));
        let mut uuid = || "00000000-0000-4000-8000-000000000000".to_string();
        let mut random = |start: i64, _end: i64, _seed: Option<i64>| start;
        let mut env = Env {
            input,
            context: &context,
            variables: &variables,
            uuid: &mut uuid,
            random: &mut random,
        };
        eval(&parse(expr)?, &mut env)
    }

    /// Every function's name after `States.`.
    const FUNCTIONS: &[&str] = &[
        "Format",
        "StringToJson",
        "JsonToString",
        "Array",
        "ArrayPartition",
        "ArrayContains",
        "ArrayRange",
        "ArrayGetItem",
        "ArrayLength",
        "ArrayUnique",
        "Base64Encode",
        "Base64Decode",
        "Hash",
        "JsonMerge",
        "MathRandom",
        "MathAdd",
        "StringSplit",
        "UUID",
    ];

    /// Arguments for the properties: paths into an arbitrary input, literals of each type,
    /// boundary numbers, hash algorithms and nested calls.
    const ARGUMENTS: &[&str] = &[
        "$",
        "$.a",
        "$.b",
        "$.c",
        "$.a[0]",
        "$.b.c",
        "$..a",
        "$.missing",
        "$$.Execution.Id",
        "$x.y",
        "'{}'",
        "'{} {}'",
        "'a,b'",
        "','",
        "''",
        "'SHA-256'",
        "'MD5'",
        "'e30='",
        "'[1, 2]'",
        "0",
        "1",
        "-1",
        "3",
        "999",
        "1000",
        "-2147483648",
        "2147483647",
        "9223372036854775807",
        "1.5",
        "true",
        "false",
        "null",
        "States.Array(1, 'a', null)",
        "States.StringToJson('{\"k\": 1}')",
        "States.ArrayRange(1, 5, 1)",
    ];

    fn ok(expr: &str) -> Value {
        run(
            expr,
            &json!({"a": 1, "s": "x,y", "list": [1, 2, 2, 3], "obj": {"k": "v"}}),
        )
        .unwrap()
    }

    #[test]
    fn detects_intrinsics() {
        assert!(is_intrinsic("States.UUID()"));
        assert!(is_intrinsic("States.Format('{}', $.a)"));
        assert!(!is_intrinsic("$.a"));
        assert!(!is_intrinsic("States.a"));
    }

    #[test]
    fn format_and_escapes() {
        assert_eq!(ok("States.Format('a {} b {}', $.a, 'c')"), json!("a 1 b c"));
        assert_eq!(ok(r"States.Format('\{\} {}', 1.5)"), json!("{} 1.5"));
        assert_eq!(
            ok(r"States.Format('it\'s \\ {}', null)"),
            json!(r"it's \ null")
        );
        assert_eq!(ok("States.Format('{}', $.obj)"), json!(r#"{"k":"v"}"#));
        assert!(run("States.Format('{} {}', 1)", &json!({})).is_err());
        assert!(run("States.Format('x', 1)", &json!({})).is_err());
        assert!(parse(r"States.Format('\n')").is_err());
    }

    #[test]
    fn arrays() {
        assert_eq!(
            ok("States.Array($.a, 'b', true, null, States.Array())"),
            json!([1, "b", true, null, []])
        );
        assert_eq!(
            ok("States.ArrayPartition($.list, 3)"),
            json!([[1, 2, 2], [3]])
        );
        assert_eq!(ok("States.ArrayContains($.list, 3)"), json!(true));
        assert_eq!(ok("States.ArrayRange(1, 9, 2)"), json!([1, 3, 5, 7, 9]));
        assert_eq!(ok("States.ArrayRange(5, 1, -2)"), json!([5, 3, 1]));
        assert_eq!(ok("States.ArrayRange(1, 5, -1)"), json!([]));
        assert!(run("States.ArrayRange(0, 1000, 1)", &json!({})).is_err());
        assert!(run("States.ArrayRange(0, 10, 0)", &json!({})).is_err());
        assert_eq!(ok("States.ArrayGetItem($.list, 3)"), json!(3));
        assert!(run("States.ArrayGetItem(States.Array(1), 1)", &json!({})).is_err());
        assert_eq!(ok("States.ArrayLength($.list)"), json!(4));
        assert_eq!(ok("States.ArrayUnique($.list)"), json!([1, 2, 3]));
    }

    #[test]
    fn encodings_and_hashes() {
        assert_eq!(
            ok("States.Base64Encode('Data to encode')"),
            json!("RGF0YSB0byBlbmNvZGU=")
        );
        assert_eq!(
            ok("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')"),
            json!("Data to encode")
        );
        assert_eq!(
            ok("States.Hash('', 'MD5')"),
            json!("d41d8cd98f00b204e9800998ecf8427e")
        );
        assert_eq!(
            ok("States.Hash('abc', 'SHA-1')"),
            json!("a9993e364706816aba3e25717850c26c9cd0d89d")
        );
        assert_eq!(
            ok("States.Hash('abc', 'SHA-256')"),
            json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert!(run("States.Hash('abc', 'SHA-3')", &json!({})).is_err());
    }

    #[test]
    fn json_math_strings() {
        assert_eq!(ok("States.JsonToString($.obj)"), json!(r#"{"k":"v"}"#));
        assert_eq!(ok(r#"States.StringToJson('{"a":[1]}')"#), json!({"a": [1]}));
        assert_eq!(ok("States.StringToJson(' ')"), Value::Null);
        assert_eq!(
            ok("States.JsonMerge($.obj, States.StringToJson('{\"z\":1}'), false)"),
            json!({"k": "v", "z": 1})
        );
        assert!(run("States.JsonMerge($.obj, $.obj, true)", &json!({"obj": {}})).is_err());
        assert_eq!(ok("States.MathAdd($.a, -3)"), json!(-2));
        assert_eq!(ok("States.MathAdd(1.5, 1)"), json!(3));
        assert!(run("States.MathAdd(2147483648, 1)", &json!({})).is_err());
        assert_eq!(ok("States.MathRandom(3, 10)"), json!(3));
        assert_eq!(ok("States.MathRandom(3, 10, 42)"), json!(3));
        assert_eq!(ok("States.StringSplit($.s, ',')"), json!(["x", "y"]));
        assert_eq!(
            ok("States.UUID()"),
            json!("00000000-0000-4000-8000-000000000000")
        );
    }

    #[test]
    fn paths_of_every_root() {
        assert_eq!(
            ok("States.Array($$.Execution.Id, $x.y, $)")
                .as_array()
                .unwrap()
                .len(),
            3
        );
        let e = run("States.Array($.missing)", &json!({})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid path '$.missing' : No results for path: $['missing']"
        );
        assert_eq!(ok("States.ArrayLength($.list[?(@ > 1)])"), json!(3));
    }

    #[test]
    fn static_checks_see_counts_and_literal_types() {
        let check = |s: &str| check_static(&parse(s).unwrap());
        for ok in [
            "States.Format('{} {}', $.a, 1)",
            "States.MathAdd($.a, -1)",
            "States.MathRandom(1, 10, $.seed)",
            "States.ArrayGetItem(States.Array(1, 2), 1.0)",
            "States.Array()",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            check("States.MathAdd(1, '-1')").unwrap_err().to_string(),
            "the argument 2 of States.MathAdd must be a number but was a string"
        );
        assert_eq!(
            check("States.Array(States.UUID(1))")
                .unwrap_err()
                .to_string(),
            "States.UUID takes no arguments but was given 1"
        );
        for bad in [
            "States.Format()",
            "States.MathRandom(1)",
            "States.ArrayRange(1, 2.5, 1)",
            "States.JsonMerge($.a, null, false)",
            "States.Base64Encode(1)",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
        // eval checks the count before reading any path.
        assert!(matches!(
            run("States.ArrayLength($.missing, 1)", &json!({})),
            Err(IntrinsicError::ArgumentCount { .. })
        ));
    }

    #[test]
    fn syntax_errors() {
        for s in [
            "States.Nope()",
            "States.Array(",
            "States.Array(1,)",
            "States.Array('a)",
            "States.Array() x",
            "Format()",
        ] {
            assert!(parse(s).is_err(), "{s}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,40}") {
            if let Ok(call) = parse(&s) {
                let context = json!({});
                let input = json!({"a": [1, "b"]});
                let variables = |_: &str| None;
                let mut uuid = String::new;
                let mut random = |a: i64, _: i64, _: Option<i64>| a;
                let mut env = Env { input: &input, context: &context, variables: &variables, uuid: &mut uuid, random: &mut random };
                let _ = eval(&call, &mut env);
            }
        }

        #[test]
        fn call_shaped_text_never_panics(s in "States\\.(Format|Array|ArrayRange|MathAdd|StringSplit|Hash)\\(['$.a0-9, {}\\\\()-]{0,24}\\)") {
            let _ = run(&s, &json!({"a": 1}));
        }

        #[test]
        fn base64_round_trips(s in "\\PC{0,200}") {
            let input = json!({"s": s});
            let encoded = run("States.Base64Encode($.s)", &input).unwrap();
            let decoded = run("States.Base64Decode($.e)", &json!({"e": encoded})).unwrap();
            prop_assert_eq!(decoded, input["s"].clone());
        }

        #[test]
        fn every_function_never_panics_on_arbitrary_input(
            function in prop::sample::select(FUNCTIONS),
            args in prop::collection::vec(prop::sample::select(ARGUMENTS), 0..4),
            input in arb_json(),
        ) {
            let expr = format!("States.{function}({})", args.join(", "));
            let _ = run(&expr, &input);
        }

        #[test]
        fn array_partition_concatenates_back(
            items in prop::collection::vec(arb_json(), 0..12),
            size in 1usize..5,
        ) {
            let input = json!({"items": items.clone(), "size": size});
            let chunks = run("States.ArrayPartition($.items, $.size)", &input).unwrap();
            let chunks = chunks.as_array().unwrap();
            prop_assert!(chunks.iter().all(|c| c.as_array().is_some_and(|c| !c.is_empty() && c.len() <= size)));
            let flat: Vec<Value> = chunks.iter().flat_map(|c| c.as_array().cloned().unwrap_or_default()).collect();
            prop_assert_eq!(flat, items);
        }

        #[test]
        fn json_text_round_trips(v in any::<(i32, String, bool, Option<u8>)>()) {
            let value = json!({"n": v.0, "s": v.1, "b": v.2, "o": v.3, "l": [v.0, {"k": v.1}]});
            let text = run("States.JsonToString($.v)", &json!({"v": value})).unwrap();
            let back = run("States.StringToJson($.t)", &json!({"t": text})).unwrap();
            prop_assert_eq!(back, value);
        }
    }
}
