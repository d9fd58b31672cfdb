//! JSONPath-mode Choice rules: `Variable` with a comparison operator, `And`, `Or`, `Not`.
//!
//! As on AWS, a comparison between values of different types is false, not an error; a
//! `Variable` (or `…Path` operand) that selects nothing is a `States.Runtime` error, except for
//! `IsPresent`, which is what it tests.

use std::cmp::Ordering;

use serde_json::Value;

use crate::asl::{Comparison, Condition, Operator};
use crate::intrinsics::Env;
use crate::jsonpath::{JsonPath, PathError, compare_numbers, compare_strings};

/// An error evaluating a choice rule. Its text is the cause AWS reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChoiceError {
    /// A `Variable` or `…Path` operand selects nothing (AWS: `States.Runtime`).
    #[error("{}", .0.aws_cause())]
    Path(#[from] PathError),
    /// The operand is not of the type the operator takes (the checker should have refused it).
    #[error("the operand of {operator} must be {expected}")]
    Operand {
        /// The operator's name.
        operator: &'static str,
        /// What it takes.
        expected: &'static str,
    },
    /// A JSONata `Condition`: the interpreter evaluates those with its JSONata evaluator.
    #[error("a JSONata condition needs the JSONata evaluator")]
    Jsonata,
}

impl ChoiceError {
    /// The AWS error name.
    pub fn error_name(&self) -> &'static str {
        "States.Runtime"
    }
}

/// Evaluates a condition.
pub fn evaluate(cond: &Condition, env: &mut Env<'_>) -> Result<bool, ChoiceError> {
    match cond {
        Condition::Jsonata(_) => Err(ChoiceError::Jsonata),
        Condition::And(all) => {
            for c in all {
                if !evaluate(c, env)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Condition::Or(any) => {
            for c in any {
                if evaluate(c, env)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Condition::Not(inner) => Ok(!evaluate(inner, env)?),
        Condition::Compare(cmp) => compare(cmp, env),
    }
}

fn read(text: &str, env: &Env<'_>) -> Result<Value, PathError> {
    let path = JsonPath::parse(text)?;
    env.read(&path)
}

fn compare(cmp: &Comparison, env: &Env<'_>) -> Result<bool, ChoiceError> {
    use Operator as O;
    let op = cmp.operator;
    let value = match read(&cmp.variable, env) {
        Ok(v) => Some(v),
        Err(e @ PathError::Syntax { .. }) => return Err(e.into()),
        Err(e) if op != O::IsPresent => return Err(e.into()),
        Err(_) => None,
    };
    let Some(value) = value else {
        // Only IsPresent gets here.
        return Ok(!flag(cmp)?);
    };
    let operand = if op.is_path() {
        let text = cmp.operand.as_str().ok_or(ChoiceError::Operand {
            operator: op.as_str(),
            expected: "a path",
        })?;
        read(text, env)?
    } else {
        cmp.operand.clone()
    };
    let ordering = |f: fn(&Value, &Value) -> Option<Ordering>| f(&value, &operand);
    Ok(match op {
        O::IsPresent => {
            let present = !matches!(&value, Value::Array(items) if items.is_empty() && !is_definite(&cmp.variable));
            present == flag(cmp)?
        }
        O::IsNull => value.is_null() == flag(cmp)?,
        O::IsNumeric => value.is_number() == flag(cmp)?,
        O::IsString => value.is_string() == flag(cmp)?,
        O::IsBoolean => value.is_boolean() == flag(cmp)?,
        O::IsTimestamp => value.as_str().and_then(parse_timestamp).is_some() == flag(cmp)?,
        O::StringMatches => match (&value, &operand) {
            (Value::String(s), Value::String(p)) => wildcard_match(p, s),
            _ => false,
        },
        O::StringEquals | O::StringEqualsPath => ordering(strings) == Some(Ordering::Equal),
        O::StringLessThan | O::StringLessThanPath => ordering(strings) == Some(Ordering::Less),
        O::StringGreaterThan | O::StringGreaterThanPath => {
            ordering(strings) == Some(Ordering::Greater)
        }
        O::StringLessThanEquals | O::StringLessThanEqualsPath => {
            matches!(ordering(strings), Some(Ordering::Less | Ordering::Equal))
        }
        O::StringGreaterThanEquals | O::StringGreaterThanEqualsPath => {
            matches!(ordering(strings), Some(Ordering::Greater | Ordering::Equal))
        }
        O::NumericEquals | O::NumericEqualsPath => ordering(numbers) == Some(Ordering::Equal),
        O::NumericLessThan | O::NumericLessThanPath => ordering(numbers) == Some(Ordering::Less),
        O::NumericGreaterThan | O::NumericGreaterThanPath => {
            ordering(numbers) == Some(Ordering::Greater)
        }
        O::NumericLessThanEquals | O::NumericLessThanEqualsPath => {
            matches!(ordering(numbers), Some(Ordering::Less | Ordering::Equal))
        }
        O::NumericGreaterThanEquals | O::NumericGreaterThanEqualsPath => {
            matches!(ordering(numbers), Some(Ordering::Greater | Ordering::Equal))
        }
        O::BooleanEquals | O::BooleanEqualsPath => match (&value, &operand) {
            (Value::Bool(a), Value::Bool(b)) => a == b,
            _ => false,
        },
        O::TimestampEquals | O::TimestampEqualsPath => {
            ordering(timestamps) == Some(Ordering::Equal)
        }
        O::TimestampLessThan | O::TimestampLessThanPath => {
            ordering(timestamps) == Some(Ordering::Less)
        }
        O::TimestampGreaterThan | O::TimestampGreaterThanPath => {
            ordering(timestamps) == Some(Ordering::Greater)
        }
        O::TimestampLessThanEquals | O::TimestampLessThanEqualsPath => {
            matches!(ordering(timestamps), Some(Ordering::Less | Ordering::Equal))
        }
        O::TimestampGreaterThanEquals | O::TimestampGreaterThanEqualsPath => {
            matches!(
                ordering(timestamps),
                Some(Ordering::Greater | Ordering::Equal)
            )
        }
    })
}

fn is_definite(path: &str) -> bool {
    JsonPath::parse(path).is_ok_and(|p| p.is_definite())
}

/// The Boolean operand of an `Is…` operator.
fn flag(cmp: &Comparison) -> Result<bool, ChoiceError> {
    cmp.operand.as_bool().ok_or(ChoiceError::Operand {
        operator: cmp.operator.as_str(),
        expected: "a boolean",
    })
}

fn strings(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::String(a), Value::String(b)) => Some(compare_strings(a, b)),
        _ => None,
    }
}

fn numbers(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => compare_numbers(a, b),
        _ => None,
    }
}

fn timestamps(a: &Value, b: &Value) -> Option<Ordering> {
    let a = parse_timestamp(a.as_str()?)?;
    let b = parse_timestamp(b.as_str()?)?;
    Some(a.cmp(&b))
}

/// `StringMatches`: `*` matches any run of characters; `\*` is a literal `*` and `\\` a literal
/// backslash.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    #[derive(PartialEq)]
    enum Tok {
        Star,
        Char(char),
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' => toks.push(Tok::Star),
            '\\' => match chars.next() {
                Some(n @ ('*' | '\\')) => toks.push(Tok::Char(n)),
                Some(n) => {
                    toks.push(Tok::Char('\\'));
                    toks.push(Tok::Char(n));
                }
                None => toks.push(Tok::Char('\\')),
            },
            c => toks.push(Tok::Char(c)),
        }
    }
    let text: Vec<char> = text.chars().collect();
    // Greedy matching with backtracking to the last star: linear in practice.
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match toks.get(p) {
            Some(Tok::Char(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            Some(Tok::Star) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    toks[p..].iter().all(|t| *t == Tok::Star)
}

/// Parses an RFC 3339 timestamp as AWS accepts it (an uppercase `T`, and `Z` or a numeric
/// offset), giving nanoseconds since the Unix epoch.
pub fn parse_timestamp(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let digits = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: i128 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let frac = &s[start..i];
        if frac.is_empty() {
            return None;
        }
        let padded: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
        nanos = padded.parse().ok()?;
    }
    let offset_secs: i64 = match b.get(i) {
        Some(b'Z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let (h, m) = (digits(i + 1, 2)?, digits(i + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let o = h * 3600 + m * 60;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(i128::from(secs) * 1_000_000_000 + nanos)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use super::*;
    use crate::testing::arb_json;
    use proptest::prelude::*;
    use serde_json::json;

    fn check(
        variable: &str,
        operator: Operator,
        operand: Value,
        input: Value,
    ) -> Result<bool, ChoiceError> {
        let cond = Condition::Compare(Comparison {
            variable: variable.to_string(),
            operator,
            operand,
        });
        let context = json!({});
        let variables = |name: &str| (name == "v").then(|| json!({"n": 2}));
        let mut uuid = String::new;
        let mut random = |a: i64, _: i64, _: Option<i64>| a;
        let mut env = Env {
            input: &input,
            context: &context,
            variables: &variables,
            uuid: &mut uuid,
            random: &mut random,
        };
        evaluate(&cond, &mut env)
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(check("$.x", Operator::NumericEquals, json!(1), json!({"x": 1.0})).unwrap());
        assert!(
            check(
                "$.x",
                Operator::NumericLessThan,
                json!(1.5),
                json!({"x": 1})
            )
            .unwrap()
        );
        assert!(!check("$.x", Operator::NumericEquals, json!(1), json!({"x": "1"})).unwrap());
        assert!(
            check(
                "$.x",
                Operator::NumericGreaterThanEqualsPath,
                json!("$.y"),
                json!({"x": 2, "y": 2})
            )
            .unwrap()
        );
        assert!(check("$v.n", Operator::NumericEquals, json!(2), json!({})).unwrap());
    }

    #[test]
    fn missing_variable_is_an_error_except_for_is_present() {
        let e = check("$.x", Operator::StringEquals, json!("a"), json!({})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid path '$.x' : No results for path: $['x']"
        );
        assert_eq!(e.error_name(), "States.Runtime");
        assert!(!check("$.x", Operator::IsPresent, json!(true), json!({})).unwrap());
        assert!(check("$.x", Operator::IsPresent, json!(false), json!({})).unwrap());
        assert!(!check("$missing", Operator::IsPresent, json!(true), json!({})).unwrap());
        assert!(check("$.x", Operator::IsNull, json!(true), json!({})).is_err());
        assert!(
            check(
                "$.x",
                Operator::StringEqualsPath,
                json!("$.nope"),
                json!({"x": "a"})
            )
            .is_err()
        );
    }

    #[test]
    fn type_tests() {
        let input = json!({"n": null, "i": 1, "s": "a", "b": false, "t": "2016-08-18T17:33:00Z"});
        assert!(check("$.n", Operator::IsNull, json!(true), input.clone()).unwrap());
        assert!(check("$.i", Operator::IsNumeric, json!(true), input.clone()).unwrap());
        assert!(check("$.s", Operator::IsString, json!(true), input.clone()).unwrap());
        assert!(check("$.b", Operator::IsBoolean, json!(true), input.clone()).unwrap());
        assert!(check("$.t", Operator::IsTimestamp, json!(true), input.clone()).unwrap());
        assert!(check("$.s", Operator::IsTimestamp, json!(false), input).unwrap());
    }

    #[test]
    fn timestamps_compare_as_instants() {
        let input = json!({"t": "2016-08-18T17:33:00+02:00"});
        assert!(
            check(
                "$.t",
                Operator::TimestampEquals,
                json!("2016-08-18T15:33:00Z"),
                input.clone()
            )
            .unwrap()
        );
        assert!(
            check(
                "$.t",
                Operator::TimestampLessThan,
                json!("2016-08-18T15:33:00.001Z"),
                input
            )
            .unwrap()
        );
        assert!(parse_timestamp("2016-02-30T00:00:00Z").is_none());
        assert!(parse_timestamp("2016-08-18t17:33:00Z").is_none());
        assert!(parse_timestamp("2016-08-18T17:33:00").is_none());
        assert_eq!(parse_timestamp("1970-01-01T00:00:01Z"), Some(1_000_000_000));
    }

    #[test]
    fn string_matching() {
        assert!(wildcard_match("log-*.txt", "log-2024.txt"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*b*c", "aXbYbc"));
        assert!(!wildcard_match("a*b", "ac"));
        assert!(wildcard_match(r"a\*", "a*"));
        assert!(!wildcard_match(r"a\*", "ab"));
        assert!(wildcard_match(r"a\\*", r"a\bc"));
    }

    #[test]
    fn and_or_not() {
        let cond = Condition::And(vec![
            Condition::Not(Box::new(Condition::Compare(Comparison {
                variable: "$.a".into(),
                operator: Operator::BooleanEquals,
                operand: json!(true),
            }))),
            Condition::Or(vec![Condition::Compare(Comparison {
                variable: "$.s".into(),
                operator: Operator::StringGreaterThan,
                operand: json!("a"),
            })]),
        ]);
        let input = json!({"a": false, "s": "b"});
        let context = json!({});
        let variables = |_: &str| None;
        let mut uuid = String::new;
        let mut random = |a: i64, _: i64, _: Option<i64>| a;
        let mut env = Env {
            input: &input,
            context: &context,
            variables: &variables,
            uuid: &mut uuid,
            random: &mut random,
        };
        assert!(evaluate(&cond, &mut env).unwrap());
        assert!(evaluate(&Condition::Jsonata(json!("{% true %}")), &mut env).is_err());
    }

    proptest! {
        #[test]
        fn literal_patterns_match_themselves(s in "[a-z0-9 ]{0,12}") {
            prop_assert!(wildcard_match(&s, &s));
            let star = format!("{s}*");
            let extended = format!("{s}tail");
            prop_assert!(wildcard_match(&star, &extended));
        }

        #[test]
        fn timestamps_never_panic(s in "\\PC{0,30}") {
            let _ = parse_timestamp(&s);
        }

        #[test]
        fn patterns_never_panic(p in "[a*\\\\]{0,10}", s in "[a*\\\\]{0,10}") {
            let _ = wildcard_match(&p, &s);
        }

        #[test]
        fn every_operator_never_panics_and_not_negates(
            operator in prop::sample::select(Operator::ALL),
            variable in prop::sample::select(VARIABLES),
            operand in prop_oneof![arb_json(), prop::sample::select(VARIABLES).prop_map(Value::from)],
            input in arb_json(),
        ) {
            let cmp = Condition::Compare(Comparison {
                variable: variable.to_string(),
                operator,
                operand,
            });
            let plain = eval(&cmp, &input);
            let negated = eval(&Condition::Not(Box::new(cmp)), &input);
            prop_assert_eq!(negated, plain.map(|b| !b));
        }

        #[test]
        fn path_operands_agree_with_literal_operands(
            operator in prop::sample::select(Operator::ALL),
            a in arb_json(),
            b in arb_json(),
        ) {
            if let Some(path_form) = Operator::from_name(&format!("{}Path", operator.as_str())) {
                let input = json!({"a": a, "b": b.clone()});
                prop_assert_eq!(
                    check("$.a", operator, b, input.clone()),
                    check("$.a", path_form, json!("$.b"), input)
                );
            }
        }

        #[test]
        fn orderings_are_consistent(a in arb_json(), b in arb_json()) {
            use Operator as O;
            let input = json!({"a": a, "b": b});
            let families = [
                [O::StringEqualsPath, O::StringLessThanPath, O::StringGreaterThanPath,
                 O::StringLessThanEqualsPath, O::StringGreaterThanEqualsPath],
                [O::NumericEqualsPath, O::NumericLessThanPath, O::NumericGreaterThanPath,
                 O::NumericLessThanEqualsPath, O::NumericGreaterThanEqualsPath],
                [O::TimestampEqualsPath, O::TimestampLessThanPath, O::TimestampGreaterThanPath,
                 O::TimestampLessThanEqualsPath, O::TimestampGreaterThanEqualsPath],
            ];
            for [eq, lt, gt, le, ge] in families {
                let holds = |op| check("$.a", op, json!("$.b"), input.clone()).unwrap();
                let (eq, lt, gt, le, ge) = (holds(eq), holds(lt), holds(gt), holds(le), holds(ge));
                prop_assert!(u8::from(eq) + u8::from(lt) + u8::from(gt) <= 1);
                prop_assert_eq!(le, lt || eq);
                prop_assert_eq!(ge, gt || eq);
            }
        }

        #[test]
        fn equality_is_reflexive(a in arb_json()) {
            use Operator as O;
            let input = json!({"a": a.clone()});
            let same = |op| check("$.a", op, json!("$.a"), input.clone()).unwrap();
            let timestamp = a.as_str().and_then(parse_timestamp).is_some();
            prop_assert_eq!(same(O::StringEqualsPath), a.is_string());
            prop_assert_eq!(same(O::NumericEqualsPath), a.is_number());
            prop_assert_eq!(same(O::BooleanEqualsPath), a.is_boolean());
            prop_assert_eq!(same(O::TimestampEqualsPath), timestamp);
        }
    }

    /// Variables and `…Path` operands for the properties: present, missing, nested, wildcards,
    /// a variable and the context.
    const VARIABLES: &[&str] = &[
        "$",
        "$.a",
        "$.b",
        "$.a.b",
        "$.b[0]",
        "$.c[1].a",
        "$..a",
        "$.a[*]",
        "$.missing",
        "$v.n",
        "$v",
        "$$.x",
        "$.a[?(@ > 1)]",
    ];

    fn eval(cond: &Condition, input: &Value) -> Result<bool, ChoiceError> {
        let context = json!({"x": 1});
        let variables = |name: &str| (name == "v").then(|| json!({"n": 2}));
        let mut uuid = String::new;
        let mut random = |a: i64, _: i64, _: Option<i64>| a;
        let mut env = Env {
            input,
            context: &context,
            variables: &variables,
            uuid: &mut uuid,
            random: &mut random,
        };
        evaluate(cond, &mut env)
    }
}
