//! Syntax-level validators for the strings a definition holds: JSONPath paths, intrinsic function
//! calls, `${…}` definition substitutions, ARNs and timestamps.
//!
//! These only decide whether a string is well formed, the way Step Functions does when a state
//! machine is created; they evaluate nothing. Errors are lowercase fragments.

/// What a path field allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PathRules {
    /// Only a reference path: names and single indexes, no wildcard, slice, filter or deep scan.
    pub(crate) reference: bool,
    /// `$$…`, the context object.
    pub(crate) context: bool,
    /// `$name…`, a workflow variable.
    pub(crate) variable: bool,
}

impl PathRules {
    /// `InputPath`, `OutputPath`, `ItemsPath` and paths inside payload templates.
    pub(crate) const PATH: PathRules = PathRules {
        reference: false,
        context: true,
        variable: true,
    };
    /// `Variable`, `…Path` comparison operands and `…SecondsPath` style fields.
    pub(crate) const REFERENCE: PathRules = PathRules {
        reference: true,
        context: true,
        variable: true,
    };
    /// `ResultPath`: where a result is written, so neither the context object nor a variable.
    pub(crate) const RESULT: PathRules = PathRules {
        reference: true,
        context: false,
        variable: false,
    };
}

/// Replaces every `${…}` definition substitution by a plain name, so that what is left can be
/// checked; fails on a `${` that is never closed.
pub(crate) fn substitute_placeholders(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!(
                "unclosed definition substitution \"{}\"",
                &rest[start..]
            ));
        };
        out.push_str("placeholder");
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Whether the whole string is one `${…}` definition substitution.
pub(crate) fn is_placeholder(s: &str) -> bool {
    s.len() > 3 && s.starts_with("${") && s.ends_with('}') && !s[2..s.len() - 1].contains('}')
}

/// Checks a JSONPath against `rules`.
pub(crate) fn check_path(path: &str, rules: PathRules) -> Result<(), String> {
    if is_placeholder(path) {
        return Ok(());
    }
    let path = substitute_placeholders(path)?;
    let b = path.as_bytes();
    if b.first() != Some(&b'$') {
        return Err(format!(
            "\"{path}\" is not a path: it must start with \"$\""
        ));
    }
    let mut i = 1;
    if b.get(1) == Some(&b'$') {
        if !rules.context {
            return Err(format!(
                "\"{path}\" cannot refer to the context object here"
            ));
        }
        i = 2;
    } else if b
        .get(1)
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    {
        if !rules.variable {
            return Err(format!("\"{path}\" cannot refer to a variable here"));
        }
        while b
            .get(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            i += 1;
        }
    }
    let not_reference = |what: &str| -> Result<(), String> {
        if rules.reference {
            Err(format!(
                "\"{path}\" is not a reference path: {what} can select more than one value"
            ))
        } else {
            Ok(())
        }
    };
    while i < b.len() {
        match b[i] {
            b'.' => {
                let deep = b.get(i + 1) == Some(&b'.');
                if deep {
                    not_reference("\"..\"")?;
                    i += 1;
                }
                i += 1;
                match b.get(i) {
                    None => return Err(format!("\"{path}\" ends with \".\"")),
                    Some(b'.') => return Err(format!("\"{path}\" has too many dots")),
                    Some(b'*') => {
                        not_reference("\"*\"")?;
                        i += 1;
                    }
                    // `$.[0]`: a dot before a bracket is tolerated (Jayway JsonPath).
                    Some(b'[') => {}
                    Some(_) => {
                        let start = i;
                        while i < b.len() && !matches!(b[i], b'.' | b'[' | b']') {
                            i += 1;
                        }
                        if path[start..i].trim().is_empty() {
                            return Err(format!("\"{path}\" has an empty name"));
                        }
                    }
                }
            }
            b'[' => {
                let end =
                    bracket_end(b, i).ok_or_else(|| format!("\"{path}\" has an unclosed \"[\""))?;
                check_bracket(&path, &path[i + 1..end], rules.reference)?;
                i = end + 1;
            }
            other => {
                return Err(format!(
                    "\"{path}\" has an unexpected \"{}\"",
                    char::from(other)
                ));
            }
        }
    }
    Ok(())
}

/// The index of the `]` closing the `[` at `open`, skipping quoted strings and nested brackets.
fn bracket_end(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = open;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) => {
                if c == b'\\' {
                    i += 1;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                b'\'' | b'"' => quote = Some(c),
                b'[' | b'(' => depth += 1,
                b']' | b')' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return (c == b']').then_some(i);
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

fn check_bracket(path: &str, inner: &str, reference: bool) -> Result<(), String> {
    let t = inner.trim();
    let multi = |what: &str| -> Result<(), String> {
        if reference {
            Err(format!(
                "\"{path}\" is not a reference path: {what} can select more than one value"
            ))
        } else {
            Ok(())
        }
    };
    if t.is_empty() {
        return Err(format!("\"{path}\" has an empty \"[]\""));
    }
    if t == "*" {
        return multi("\"[*]\"");
    }
    if let Some(filter) = t.strip_prefix('?') {
        let f = filter.trim();
        if f.len() < 2 || !f.starts_with('(') || !f.ends_with(')') {
            return Err(format!("\"{path}\" has a malformed filter \"[{t}]\""));
        }
        return multi("a filter");
    }
    if t.starts_with('(') {
        if !t.ends_with(')') {
            return Err(format!("\"{path}\" has a malformed expression \"[{t}]\""));
        }
        return multi("a script expression");
    }
    let items = split_top(t, b',');
    if items.len() > 1 {
        multi("a union")?;
    }
    for item in items {
        let item = item.trim();
        if is_quoted(item) {
            continue;
        }
        if item.contains(':') {
            let parts: Vec<&str> = item.split(':').collect();
            if parts.len() > 3
                || parts
                    .iter()
                    .any(|p| !p.trim().is_empty() && !is_int(p.trim()))
            {
                return Err(format!("\"{path}\" has a malformed slice \"[{t}]\""));
            }
            multi("a slice")?;
            continue;
        }
        if !is_int(item) {
            return Err(format!("\"{path}\" has a malformed index \"[{t}]\""));
        }
        if reference && item.starts_with('-') {
            return Err(format!(
                "\"{path}\" is not a reference path: a negative index"
            ));
        }
    }
    Ok(())
}

fn is_quoted(s: &str) -> bool {
    s.len() >= 2
        && ((s.starts_with('\'') && s.ends_with('\'')) || (s.starts_with('"') && s.ends_with('"')))
}

fn is_int(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit())
}

/// Splits on `sep` outside quotes, parentheses and brackets.
fn split_top(s: &str, sep: u8) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) => {
                if c == b'\\' {
                    i += 1;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                b'\'' | b'"' => quote = Some(c),
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth -= 1,
                _ if c == sep && depth == 0 => {
                    out.push(&s[start..i]);
                    start = i + 1;
                }
                _ => {}
            },
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

/// What an intrinsic function argument must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    /// Anything.
    Any,
    /// A number (or a path or call that yields one).
    Number,
    /// A string.
    String,
    /// A Boolean.
    Boolean,
}

/// The intrinsic functions of Step Functions: name, fixed arguments, and whether more of the
/// last kind may follow.
const INTRINSICS: &[(&str, &[Arg], Option<Arg>)] = &[
    ("States.Format", &[Arg::String], Some(Arg::Any)),
    ("States.StringToJson", &[Arg::String], None),
    ("States.JsonToString", &[Arg::Any], None),
    ("States.Array", &[], Some(Arg::Any)),
    ("States.ArrayPartition", &[Arg::Any, Arg::Number], None),
    ("States.ArrayContains", &[Arg::Any, Arg::Any], None),
    (
        "States.ArrayRange",
        &[Arg::Number, Arg::Number, Arg::Number],
        None,
    ),
    ("States.ArrayGetItem", &[Arg::Any, Arg::Number], None),
    ("States.ArrayLength", &[Arg::Any], None),
    ("States.ArrayUnique", &[Arg::Any], None),
    ("States.Base64Encode", &[Arg::String], None),
    ("States.Base64Decode", &[Arg::String], None),
    ("States.Hash", &[Arg::Any, Arg::String], None),
    (
        "States.JsonMerge",
        &[Arg::Any, Arg::Any, Arg::Boolean],
        None,
    ),
    (
        "States.MathRandom",
        &[Arg::Number, Arg::Number],
        Some(Arg::Number),
    ),
    ("States.MathAdd", &[Arg::Number, Arg::Number], None),
    ("States.StringSplit", &[Arg::String, Arg::String], None),
    ("States.UUID", &[], None),
];

/// Whether a string is written as an intrinsic function call (`States.Name(…)`).
pub(crate) fn looks_like_intrinsic(s: &str) -> bool {
    s.trim_start().starts_with("States.")
}

/// Checks an intrinsic function call, its arguments and the paths inside them.
pub(crate) fn check_intrinsic(text: &str) -> Result<(), String> {
    let mut p = Intrinsic {
        s: text.as_bytes(),
        text,
        i: 0,
        depth: 0,
    };
    p.skip_ws();
    p.call()?;
    p.skip_ws();
    if p.i != p.s.len() {
        return Err(p.error("unexpected text after the call"));
    }
    Ok(())
}

/// A literal or computed argument, as far as type checks can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lit {
    String,
    Number,
    Boolean,
    Null,
    Dynamic,
}

struct Intrinsic<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    /// How many calls are open: deep nesting is refused rather than risking the stack.
    depth: usize,
}

/// Deeper nesting of intrinsic calls than this is refused.
const MAX_CALL_DEPTH: usize = 32;

impl Intrinsic<'_> {
    fn error(&self, what: &str) -> String {
        format!("invalid intrinsic function \"{}\": {what}", self.text)
    }

    fn skip_ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn call(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_CALL_DEPTH {
            return Err(self.error("calls nested too deeply"));
        }
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.' || *c == b'_')
        {
            self.i += 1;
        }
        let name = &self.text[start..self.i];
        let Some((_, fixed, rest)) = INTRINSICS.iter().find(|(n, _, _)| *n == name) else {
            return Err(self.error(&format!("unknown function \"{name}\"")));
        };
        self.skip_ws();
        if self.s.get(self.i) != Some(&b'(') {
            return Err(self.error(&format!("\"{name}\" must be followed by \"(\"")));
        }
        self.i += 1;
        let mut args = Vec::new();
        self.skip_ws();
        if self.s.get(self.i) == Some(&b')') {
            self.i += 1;
        } else {
            loop {
                self.skip_ws();
                args.push(self.arg()?);
                self.skip_ws();
                match self.s.get(self.i) {
                    Some(b',') => self.i += 1,
                    Some(b')') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(self.error("expected \",\" or \")\"")),
                }
            }
        }
        if args.len() < fixed.len() || (rest.is_none() && args.len() > fixed.len()) {
            let wanted = match rest {
                Some(_) => format!("at least {}", fixed.len()),
                None => fixed.len().to_string(),
            };
            return Err(self.error(&format!(
                "{name} takes {wanted} argument(s), not {}",
                args.len()
            )));
        }
        for (n, lit) in args.iter().enumerate() {
            let want = fixed.get(n).copied().or(*rest).unwrap_or(Arg::Any);
            let ok = match (want, lit) {
                (Arg::Any, _) | (_, Lit::Dynamic) => true,
                (Arg::Number, l) => *l == Lit::Number,
                (Arg::String, l) => *l == Lit::String,
                (Arg::Boolean, l) => *l == Lit::Boolean,
            };
            if !ok {
                return Err(self.error(&format!(
                    "argument {} of {name} must be {}",
                    n + 1,
                    match want {
                        Arg::Number => "a number",
                        Arg::String => "a string",
                        _ => "a boolean",
                    }
                )));
            }
        }
        self.depth -= 1;
        Ok(())
    }

    fn arg(&mut self) -> Result<Lit, String> {
        match self.s.get(self.i) {
            None => Err(self.error("unexpected end")),
            Some(b'\'') => {
                self.i += 1;
                loop {
                    match self.s.get(self.i) {
                        None => return Err(self.error("unclosed string")),
                        Some(b'\\') => self.i += 2,
                        Some(b'\'') => {
                            self.i += 1;
                            return Ok(Lit::String);
                        }
                        Some(_) => self.i += 1,
                    }
                }
            }
            Some(b'$') => {
                let start = self.i;
                let mut depth = 0i32;
                let mut quote: Option<u8> = None;
                while let Some(&c) = self.s.get(self.i) {
                    match quote {
                        Some(q) => {
                            if c == b'\\' {
                                self.i += 1;
                            } else if c == q {
                                quote = None;
                            }
                        }
                        None => match c {
                            b'\'' | b'"' => quote = Some(c),
                            b'[' | b'(' => depth += 1,
                            b']' => depth -= 1,
                            b')' if depth == 0 => break,
                            b')' => depth -= 1,
                            b',' if depth == 0 => break,
                            _ => {}
                        },
                    }
                    self.i += 1;
                }
                self.i = self.i.min(self.s.len());
                let path = self.text[start..self.i].trim_end();
                check_path(path, PathRules::PATH).map_err(|e| self.error(&e))?;
                Ok(Lit::Dynamic)
            }
            Some(b'S') => {
                self.call()?;
                Ok(Lit::Dynamic)
            }
            Some(_) => {
                let start = self.i;
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|c| !matches!(c, b',' | b')') && !c.is_ascii_whitespace())
                {
                    self.i += 1;
                }
                let word = &self.text[start..self.i];
                match word {
                    "true" | "false" => Ok(Lit::Boolean),
                    "null" => Ok(Lit::Null),
                    _ if word.parse::<f64>().is_ok()
                        && word.bytes().all(|c| {
                            c.is_ascii_digit() || matches!(c, b'-' | b'.' | b'e' | b'E' | b'+')
                        }) =>
                    {
                        Ok(Lit::Number)
                    }
                    _ => Err(self.error(&format!("unexpected argument \"{word}\""))),
                }
            }
        }
    }
}

/// Checks the value of a payload template field whose name ends in `.$`.
pub(crate) fn check_dynamic_value(value: &str) -> Result<(), String> {
    let t = value.trim();
    if looks_like_intrinsic(t) {
        check_intrinsic(t)
    } else if t.starts_with('$') {
        check_path(t, PathRules::PATH)
    } else {
        Err(format!(
            "\"{value}\" is neither a path nor an intrinsic function call"
        ))
    }
}

/// Checks a `Resource` ARN (after definition substitutions are replaced).
pub(crate) fn check_resource(resource: &str) -> Result<(), String> {
    if is_placeholder(resource) {
        return Ok(());
    }
    let arn = substitute_placeholders(resource)?;
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, _region, _account, rest] = parts.as_slice() else {
        return Err(format!(
            "\"{resource}\" is not an ARN (arn:partition:service:region:account:resource)"
        ));
    };
    if *prefix != "arn" || partition.is_empty() || service.is_empty() {
        return Err(format!("\"{resource}\" is not an ARN"));
    }
    if rest.is_empty() || rest.ends_with(':') || rest.ends_with('/') {
        return Err(format!("\"{resource}\" has an empty resource part"));
    }
    if *service == "lambda" {
        let mut it = rest.split(':');
        let kind = it.next().unwrap_or_default();
        let name = it.next().unwrap_or_default();
        let qualifier = it.next();
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        };
        if kind != "function" || !name_ok(name) || it.next().is_some() {
            return Err(format!("\"{resource}\" is not a Lambda function ARN"));
        }
        if let Some(q) = qualifier
            && q != "$LATEST"
            && !name_ok(q)
        {
            return Err(format!(
                "\"{resource}\" has an invalid version or alias \"{q}\""
            ));
        }
    }
    Ok(())
}

/// Checks an RFC 3339 timestamp as Step Functions accepts it (`2016-03-14T01:59:00Z`, with
/// optional fractional seconds and a numeric offset).
pub(crate) fn check_timestamp(s: &str) -> Result<(), String> {
    let bad = || format!("\"{s}\" is not an RFC 3339 timestamp such as 2016-03-14T01:59:00Z");
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| -> Option<u32> {
        let part = s.get(from..from + n)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad());
    }
    let (Some(_), Some(month), Some(day), Some(hour), Some(min), Some(sec)) = (
        digits(0, 4),
        digits(5, 2),
        digits(8, 2),
        digits(11, 2),
        digits(14, 2),
        digits(17, 2),
    ) else {
        return Err(bad());
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return Err(bad());
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
    }
    match &s[i..] {
        "Z" => Ok(()),
        offset => {
            let ob = offset.as_bytes();
            let ok = ob.len() == 6
                && matches!(ob[0], b'+' | b'-')
                && ob[3] == b':'
                && digits(i + 1, 2).is_some_and(|h| h <= 23)
                && digits(i + 4, 2).is_some_and(|m| m <= 59);
            if ok { Ok(()) } else { Err(bad()) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        for ok in [
            "$",
            "$$",
            "$.a.b",
            "$.detail-type",
            "$.[0]",
            "$.a[0].b",
            "$[*][*]",
            "$..a",
            "$.a[1:]",
            "$.a[-2]",
            "$.a[?(@.x == 1)].y",
            "$[(@.length-1)].bar",
            "$.[*].['bucket', 'key']",
            "$$.Execution.Input",
            "$var.x",
            "$.${Key}",
            "${WholePath}",
        ] {
            assert_eq!(check_path(ok, PathRules::PATH), Ok(()), "{ok}");
        }
        for bad in [
            "", ".a", "..guid", "()", "$...", "bug$.a", "$.", "$.a[", "$.a[x]", "$[]",
        ] {
            assert!(check_path(bad, PathRules::PATH).is_err(), "{bad}");
        }
        for bad in [
            "$foo",
            "$$.Execution",
            "$.a[*]",
            "$..a",
            "$.a[1:]",
            "$.a[?(@.x)]",
        ] {
            assert!(check_path(bad, PathRules::RESULT).is_err(), "{bad}");
        }
        assert_eq!(check_path("$.a[0]['b']", PathRules::RESULT), Ok(()));
    }

    #[test]
    fn intrinsics() {
        for ok in [
            "States.UUID()",
            "States.Format('a {} b\\'s', $.x, States.MathAdd($.n, -1))",
            "States.Array('Foo', 2020, $.someJson, null)",
            "States.ArrayGetItem($.a[?(@.k == v)].x, 0)",
            "States.JsonMerge($.a, $.b, false)",
            "States.MathRandom($.start, $.end)",
        ] {
            assert_eq!(check_intrinsic(ok), Ok(()), "{ok}");
        }
        for bad in [
            "States.MathAdd(1,'-1')",
            "States.Nope($.x)",
            "States.UUID(",
            "States.Format()",
            "States.ArrayLength($.a, $.b)",
            "States.Format('x', $.)",
            "States.Format('x') tail",
            &format!("{}1{}", "States.Array(".repeat(40), ")".repeat(40)),
        ] {
            assert!(check_intrinsic(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resources_and_placeholders() {
        for ok in [
            "${Fn}",
            "arn:aws:states:::lambda:invoke",
            "arn:${AWS::Partition}:states:::sqs:sendMessage.waitForTaskToken",
            "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST",
            "arn:aws:lambda:us-east-1:123456789012:function:f:prod-1",
            "arn:aws:states:us-east-1:123456789012:activity:approve",
        ] {
            assert_eq!(check_resource(ok), Ok(()), "{ok}");
        }
        for bad in [
            "${Fn",
            "lambda",
            "arn:aws:lambda:r:1:function:f:",
            "arn:aws:lambda:r:1:function:f:$*#$7485",
        ] {
            assert!(check_resource(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps() {
        for ok in ["2016-03-14T01:59:00Z", "2016-03-14T01:59:00.123+01:00"] {
            assert_eq!(check_timestamp(ok), Ok(()), "{ok}");
        }
        for bad in [
            "2016-03-14 01:59:00Z",
            "2016-13-14T01:59:00Z",
            "yesterday",
            "2016-03-14T01:59:00",
        ] {
            assert!(check_timestamp(bad).is_err(), "{bad}");
        }
    }
}
