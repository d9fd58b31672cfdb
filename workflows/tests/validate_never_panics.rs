//! `validate` on arbitrary, truncated and mutated text: it never panics, and text that is not
//! JSON always gets a diagnostic.

use proptest::prelude::*;
use turnflow_workflows::asl::validate;

/// A small definition touching most of what the checker reads: paths, templates, intrinsic
/// calls, JSONata, Choice rules, Retry/Catch, Map and Parallel.
const SEED: &str = r#"{
  "StartAt": "Triage",
  "States": {
    "Triage": {
      "Type": "Task",
      "Resource": "arn:aws:states:us-east-1:123456789012:activity:triage",
      "Parameters": {"id.$": "$.id", "when.$": "States.Format('{}-{}', $$.Execution.Id, $.n[0])"},
      "ResultPath": "$.triage",
      "TimeoutSeconds": 60,
      "HeartbeatSeconds": 10,
      "Retry": [{"ErrorEquals": ["Model.Throttled"], "MaxAttempts": 2}],
      "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Escalate"}],
      "Next": "Route"
    },
    "Route": {
      "Type": "Choice",
      "Choices": [
        {"And": [{"Variable": "$.triage.blocked", "BooleanEquals": true},
                 {"Variable": "$.at", "TimestampLessThan": "2024-01-01T00:00:00Z"}],
         "Next": "Escalate"}
      ],
      "Default": "Fanout"
    },
    "Fanout": {
      "Type": "Parallel",
      "Branches": [{"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.items", "End": true,
        "ItemProcessor": {"StartAt": "Score", "States": {"Score": {
          "Type": "Pass", "QueryLanguage": "JSONata",
          "Output": {"s": "{% $sum($states.input.x) * 2 %}"}, "End": true}}}}}}],
      "Next": "Done"
    },
    "Escalate": {"Type": "Fail", "Error": "Escalated", "CausePath": "$.why"},
    "Done": {"Type": "Succeed"}
  }
}"#;

fn is_json(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok()
}

/// A byte-level edit of the seed, kept on character boundaries.
fn mutated() -> impl Strategy<Value = String> {
    let len = SEED.len();
    (
        0..len,
        0..len,
        prop::sample::select(vec![
            "", "\"", "{", "}", "[", "]", ",", ":", "$", "$$", ".$", "{%", "%}", "States.", "(",
            ")", "'", "\\", "null", "-1", "é", "..", "[*]", "${",
        ]),
    )
        .prop_map(|(a, b, insert)| {
            let (from, to) = (a.min(b), a.max(b).min(a.min(b) + 8));
            let mut s = String::new();
            s.push_str(prefix(SEED, from));
            s.push_str(insert);
            s.push_str(suffix(SEED, to));
            s
        })
}

fn prefix(s: &str, at: usize) -> &str {
    let mut at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    &s[..at]
}

fn suffix(s: &str, at: usize) -> &str {
    let mut at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at += 1;
    }
    &s[at..]
}

/// Text for a string field: arbitrary, or built from the characters paths, intrinsic calls and
/// JSONata care about.
fn field_text() -> impl Strategy<Value = String> {
    const SPECIAL: &str = r#"[$.\[\]()'"\\,:?@*{}%<>|^#~=!&/a-zé0-9 -]{0,30}"#;
    prop_oneof![
        any::<String>(),
        SPECIAL,
        SPECIAL.prop_map(|s| format!("${s}")),
        SPECIAL.prop_map(|s| format!("$${s}")),
        SPECIAL.prop_map(|s| format!("States.Format({s}")),
        SPECIAL.prop_map(|s| format!("States.MathAdd($.a, {s})")),
        SPECIAL.prop_map(|s| format!("{{% {s} %}}")),
        SPECIAL.prop_map(|s| format!("{{% $f({s}) %}}")),
        SPECIAL.prop_map(|s| format!("arn:aws:lambda:r:1:function:{s}")),
        SPECIAL.prop_map(|s| format!("${{{s}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text(text in any::<String>()) {
        let d = validate(&text);
        if !is_json(&text) {
            prop_assert!(d.has_errors());
        }
    }

    #[test]
    fn json_shaped_text(text in r#"[\[\]{}",:$.%a-zA-Z0-9 ]{0,64}"#) {
        let d = validate(&text);
        if !is_json(&text) {
            prop_assert!(d.has_errors());
        }
    }

    #[test]
    fn truncated_seed(at in 0..SEED.len()) {
        let text = prefix(SEED, at);
        let d = validate(text);
        if !is_json(text) {
            prop_assert!(d.has_errors());
        }
    }

    #[test]
    fn mutated_seed(text in mutated()) {
        let d = validate(&text);
        if !is_json(&text) {
            prop_assert!(d.has_errors());
        }
    }

    /// Strings inside a valid definition: whatever a path, template value or expression holds,
    /// the checker answers without panicking.
    #[test]
    fn arbitrary_strings_in_fields(s in field_text()) {
        let quoted = serde_json::Value::String(s).to_string();
        for field in ["\"$.id\"", "\"$.triage\"", "\"$.triage.blocked\"", "\"$.items\"",
                      "\"{% $sum($states.input.x) * 2 %}\"", "\"$.why\"",
                      "\"States.Format('{}-{}', $$.Execution.Id, $.n[0])\"",
                      "\"2024-01-01T00:00:00Z\"",
                      "\"arn:aws:states:us-east-1:123456789012:activity:triage\""] {
            let text = SEED.replacen(field, &quoted, 1);
            let _ = validate(&text);
        }
    }
}

#[test]
fn the_seed_is_valid() {
    let d = validate(SEED);
    assert!(d.is_empty(), "{d}");
}
