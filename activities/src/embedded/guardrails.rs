//! Regex guardrails: e-mails, phone numbers, card numbers (Luhn-checked) and IBANs (mod-97
//! checked) replaced by placeholders; denied topics from the policy.

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use regex::{Captures, Regex};

use crate::policy::Policy;
use crate::ports::{GuardrailVerdict, Guardrails, PortResult};

#[expect(
    clippy::expect_used,
    reason = "constant patterns, checked by the tests"
)]
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}").expect("email"));
#[expect(
    clippy::expect_used,
    reason = "constant patterns, checked by the tests"
)]
static IBAN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b").expect("iban")
});
#[expect(
    clippy::expect_used,
    reason = "constant patterns, checked by the tests"
)]
static CARD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:\d[ -]?){12,18}\d\b").expect("card"));
#[expect(
    clippy::expect_used,
    reason = "constant patterns, checked by the tests"
)]
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){2,4}\b|\+\d{8,14}\b",
    )
    .expect("phone")
});

/// Whether a digit string passes the Luhn check.
pub fn luhn(digits: &str) -> bool {
    let ds: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if ds.len() < 13 || ds.len() > 19 {
        return false;
    }
    let sum: u32 = ds
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether a string is a valid IBAN (ISO 13616 mod-97 check).
pub fn iban_valid(iban: &str) -> bool {
    let s: String = iban.chars().filter(|c| !c.is_whitespace()).collect();
    if s.len() < 15 || s.len() > 34 || !s.is_ascii() {
        return false;
    }
    let (head, tail) = s.split_at(4);
    let mut rem: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let v = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        // Letters count as two digits (A = 10 … Z = 35).
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// Replaces PII in a text by placeholders (`[email]`, `[iban]`, `[card]`, `[phone]`). Digit runs
/// that fail the Luhn check are not cards (order ids, tracking numbers stay readable).
pub fn redact(text: &str) -> String {
    let t = EMAIL.replace_all(text, "[email]");
    let t = IBAN.replace_all(&t, |c: &Captures<'_>| {
        let m = &c[0];
        if iban_valid(m) {
            "[iban]".to_owned()
        } else {
            m.to_owned()
        }
    });
    let t = CARD.replace_all(&t, |c: &Captures<'_>| {
        let m = &c[0];
        if luhn(m) {
            "[card]".to_owned()
        } else {
            m.to_owned()
        }
    });
    let t = PHONE.replace_all(&t, |c: &Captures<'_>| {
        let m = &c[0];
        let digits = m.chars().filter(char::is_ascii_digit).count();
        // A phone number has separators or a leading +; a bare digit run is an id.
        let shaped = m.starts_with('+') || m.contains([' ', '-', '.', '(']);
        if (8..=15).contains(&digits) && shaped {
            "[phone]".to_owned()
        } else {
            m.to_owned()
        }
    });
    t.into_owned()
}

/// The embedded guardrails.
#[derive(Debug, Clone)]
pub struct RegexGuardrails {
    policy: Arc<Policy>,
}

impl RegexGuardrails {
    /// Guardrails with the policy's denied topics.
    pub fn new(policy: Arc<Policy>) -> RegexGuardrails {
        RegexGuardrails { policy }
    }
}

#[async_trait]
impl Guardrails for RegexGuardrails {
    async fn check(&self, text: &str) -> PortResult<GuardrailVerdict> {
        Ok(GuardrailVerdict {
            redacted: redact(text),
            denied_topic: self.policy.denied_topic(text).map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("write to jane.doe@example.com please", "write to [email] please")]
    #[case("card 4111 1111 1111 1111 ok", "card [card] ok")]
    #[case("card 4111-1111-1111-1112 ok", "card 4111-1111-1111-1112 ok")]
    #[case("card 5500005555555559", "card [card]")]
    #[case("IBAN DE89 3704 0044 0532 0130 00", "IBAN [iban]")]
    #[case("IBAN GB82WEST12345698765432", "IBAN [iban]")]
    #[case("IBAN GB82WEST12345698765433", "IBAN GB82WEST12345698765433")]
    #[case("call me at +1 415-555-2671", "call me at [phone]")]
    #[case("ruf an: 030 1234 5678", "ruf an: [phone]")]
    #[case(
        "order #W1234567 and tracking 357962501027",
        "order #W1234567 and tracking 357962501027"
    )]
    #[case("我的邮箱是 li@example.cn", "我的邮箱是 [email]")]
    fn pii_is_redacted_and_lookalikes_are_kept(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(redact(input), expected);
    }

    #[test]
    fn luhn_and_mod97_checks() {
        assert!(luhn("4111111111111111"));
        assert!(!luhn("4111111111111112"));
        assert!(!luhn("1234"));
        assert!(iban_valid("FR14 2004 1010 0505 0001 3M02 606"));
        assert!(!iban_valid("FR14 2004 1010 0505 0001 3M02 607"));
    }
}
