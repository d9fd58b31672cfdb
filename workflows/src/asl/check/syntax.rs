//! Syntax-level validators for the strings a definition holds: JSONPath paths, intrinsic function
//! calls, `${…}` definition substitutions, ARNs and timestamps.
//!
//! These only decide whether a string is well formed, the way Step Functions does when a state
//! machine is created; they evaluate nothing. Paths, intrinsic calls and timestamps are parsed by
//! the evaluators' own parsers ([`JsonPath::parse`], [`intrinsics::parse`],
//! [`choice::parse_timestamp`]), so what the checker accepts is what runs; this module only adds
//! the rules of the field a string sits in. Errors are lowercase fragments.

use crate::choice;
use crate::intrinsics::{self, IntrinsicError};
use crate::jsonpath::{JsonPath, PathError, Root};

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
    substitute_placeholders_by(s, |_| "placeholder")
}

/// Replaces every `${…}` by what `replacement` gives for the text before it.
fn substitute_placeholders_by(
    s: &str,
    replacement: impl Fn(&str) -> &'static str,
) -> Result<String, String> {
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
        let with = replacement(&out);
        out.push_str(with);
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
    let parsed = JsonPath::parse(&substitute_placeholders(path)?).map_err(|e| match e {
        PathError::Syntax { reason, .. } => format!("\"{path}\" is not a path: {reason}"),
        other => other.to_string(),
    })?;
    match parsed.root() {
        Root::Context if !rules.context => {
            return Err(format!(
                "\"{path}\" cannot refer to the context object here"
            ));
        }
        Root::Variable(_) if !rules.variable => {
            return Err(format!("\"{path}\" cannot refer to a variable here"));
        }
        _ => {}
    }
    if rules.reference
        && let Some(why) = parsed.not_reference_because()
    {
        return Err(format!(
            "\"{path}\" is not a reference path: it has {why}, where only names and indexes \
             are allowed"
        ));
    }
    Ok(())
}

/// Checks an intrinsic function call: its syntax, the paths inside it, and what can be known
/// before it runs (argument counts, literal argument types).
pub(crate) fn check_intrinsic(text: &str) -> Result<(), String> {
    // A substitution where an argument starts stands for a whole argument of any type (a path
    // says as much); elsewhere it is part of a name or a string.
    let text_checked = substitute_placeholders_by(text, |before| {
        if before.trim_end().ends_with(['(', ',']) {
            "$.placeholder"
        } else {
            "placeholder"
        }
    })?;
    let invalid = |e: IntrinsicError| {
        let reason = match e {
            IntrinsicError::Syntax { reason, .. } => reason,
            other => other.to_string(),
        };
        format!("invalid intrinsic function call \"{text}\": {reason}")
    };
    let call = intrinsics::parse(&text_checked).map_err(invalid)?;
    intrinsics::check_static(&call).map_err(invalid)
}

/// Checks the value of a payload template field whose name ends in `.$`.
pub(crate) fn check_dynamic_value(value: &str) -> Result<(), String> {
    if intrinsics::is_intrinsic(value) {
        check_intrinsic(value)
    } else if value.trim_start().starts_with('$') {
        check_path(value, PathRules::PATH)
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
/// optional fractional seconds and a numeric offset), by the definition Choice and Wait run with.
pub(crate) fn check_timestamp(s: &str) -> Result<(), String> {
    match choice::parse_timestamp(s) {
        Some(_) => Ok(()),
        None => Err(format!(
            "\"{s}\" is not an RFC 3339 timestamp such as 2016-03-14T01:59:00Z"
        )),
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

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

    /// Where the old hand-written checker and the evaluator's parser disagreed, the checker now
    /// follows the evaluator, which follows Step Functions (Jayway JsonPath).
    #[test]
    fn paths_decided_by_aws() {
        // `[(@.length-1)]` runs on AWS (and `[-1]` is the negative index reference paths
        // refuse); it is a script expression, so not a reference path.
        assert_eq!(check_path("$[(@.length-1)].bar", PathRules::PATH), Ok(()));
        let e = check_path("$.a[(@.length-1)]", PathRules::REFERENCE).unwrap_err();
        assert!(e.contains("a script expression"), "{e}");
        assert!(check_path("$.a[(@.size-1)]", PathRules::PATH).is_err());
        // A blank in a dot-notation name: Jayway asks for bracket notation.
        assert!(check_path("$.a b", PathRules::PATH).is_err());
        assert_eq!(check_path("$['a b']", PathRules::PATH), Ok(()));
        // Functions such as length() are not allowed in reference paths (AWS documentation).
        assert_eq!(check_path("$.a.length()", PathRules::PATH), Ok(()));
        let e = check_path("$.a.length()", PathRules::REFERENCE).unwrap_err();
        assert!(e.contains("not a reference path: it has a function"), "{e}");
        // Only the functions the evaluator knows.
        assert!(check_path("$.a.foo()", PathRules::PATH).is_err());
        // A bare word in a filter is a string (AWS accepts it when a machine is created).
        assert_eq!(
            check_path("$.Labels[?(@.Name==Receipt)]", PathRules::PATH),
            Ok(())
        );
        // The diagnostics name the part that is wrong.
        let e = check_path("$..a", PathRules::REFERENCE).unwrap_err();
        assert!(e.contains("a deep scan"), "{e}");
        let e = check_path("$.a[-1]", PathRules::REFERENCE).unwrap_err();
        assert!(e.contains("a negative index"), "{e}");
        let e = check_path("$v.a", PathRules::RESULT).unwrap_err();
        assert!(e.contains("cannot refer to a variable here"), "{e}");
    }

    #[test]
    fn intrinsics() {
        for ok in [
            "States.UUID()",
            "States.Format('a {} b\\'s', $.x, States.MathAdd($.n, -1))",
            "States.Array('Foo', 2020, $.someJson, null)",
            "States.ArrayGetItem($.a[?(@.k == 'v')].x, 0)",
            "States.ArrayGetItem($.a[?(@.k == v)].x, 0)",
            "States.JsonMerge($.a, $.b, false)",
            "States.MathRandom($.start, $.end)",
            "States.Format('{}', ${Value})",
            "States.Format('${Greeting} {}', $.${Key})",
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
        let e = check_intrinsic("States.MathAdd(1,'-1')").unwrap_err();
        assert!(
            e.contains("the argument 2 of States.MathAdd must be a number but was a string"),
            "{e}"
        );
    }

    /// Literal arguments the evaluator would refuse are refused before the machine runs.
    #[test]
    fn intrinsics_decided_by_the_evaluator() {
        for bad in [
            // Only \', \{, \} and \\ are escapes in an intrinsic string (AWS documentation).
            "States.Format('a\\n')",
            "States.Array(.5)",
            "States.Hash(1, 'MD5')",
            "States.ArrayLength('x')",
            "States.ArrayGetItem($.a, 1.5)",
            "States.MathRandom(1, 2, 3, 4)",
            "States.JsonMerge($.a, 'x', false)",
            "States.Array(States.UUID(1))",
            "States.Array($.a b)",
        ] {
            assert!(check_intrinsic(bad).is_err(), "{bad}");
        }
        assert_eq!(check_intrinsic("States.ArrayGetItem($.a, 2.0)"), Ok(()));
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
            // A day the month does not have.
            "2016-02-30T00:00:00Z",
            // AWS asks for an uppercase T and Z.
            "2016-03-14t01:59:00Z",
            "2016-03-14T01:59:00z",
        ] {
            assert!(check_timestamp(bad).is_err(), "{bad}");
        }
    }
}
