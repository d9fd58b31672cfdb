//! Rule-based entity extraction: order ids, e-mails, amounts, dates, phone numbers.
//!
//! # Order ids (the back office's format)
//! - a run of 6 to 20 digits standing alone (`113542617735902`, `00004587345`), or
//! - an alphanumeric reference with a prefix: `ORD-…`, `ORDER-…`, `#…` (`ORD-7F3K2A`,
//!   `#W1234567`, `#A1B2C3`), 4 to 20 letters or digits after the prefix, at least one digit.
//!
//! A digit run that is part of an e-mail, a date, an amount or a phone number is not an order id.
//! Phone numbers need a `+` country prefix or separators (`+33 6 12 34 56 78`, `(555) 123-4567`,
//! `030-1234567`), so that a bare digit run stays an order id.

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::error::BrainError;
use super::language::Language;

/// What kind of entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// An e-mail address.
    Email,
    /// A date: absolute (`value` is ISO when it can be), or relative (`yesterday`, `ayer`…:
    /// `value` is the text, lowercased).
    Date,
    /// A phone number (`value` keeps `+` and digits).
    Phone,
    /// A sum of money (`value` is `<amount> <ISO currency>`, decimal point).
    Amount,
    /// An order id in the back office's format (`value` is the id without `#`, uppercased).
    OrderId,
}

/// An entity found in a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    /// What kind.
    pub kind: EntityKind,
    /// The text as written.
    pub text: String,
    /// A normalised value (see [`EntityKind`]).
    pub value: String,
    /// Byte offset of the start in the message.
    pub start: usize,
    /// Byte offset of the end in the message.
    pub end: usize,
}

const MONTHS: &str = "january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre|januar|jänner|februar|märz|maerz|juni|juli|oktober|dezember";

/// Relative dates per language (German `hier` means "here", so each language has its own list).
const RELATIVE: [(Language, &str); 5] = [
    (
        Language::En,
        "day before yesterday|yesterday|today|tomorrow|last week|last month|next week|this morning",
    ),
    (
        Language::Es,
        "anteayer|antier|ayer|hoy|mañana|la semana pasada|el mes pasado|la próxima semana",
    ),
    (
        Language::Fr,
        "avant-hier|hier|aujourd'hui|demain|la semaine dernière|le mois dernier|la semaine prochaine",
    ),
    (
        Language::De,
        "vorgestern|gestern|heute|morgen|letzte woche|letzten monat|nächste woche",
    ),
    (Language::Zh, "前天|昨天|今天|明天|上周|上个月|下周|上星期"),
];

/// The compiled extractors.
#[derive(Debug, Clone)]
pub struct Extractor {
    email: Regex,
    iso_date: Regex,
    numeric_date: Regex,
    month_day: Regex,
    day_month: Regex,
    zh_date: Regex,
    relative: Vec<(Language, Regex)>,
    phone: Regex,
    amount_prefix: Regex,
    amount_suffix: Regex,
    order_ref: Regex,
    order_digits: Regex,
}

impl Extractor {
    /// Compiles the patterns.
    pub fn new() -> Result<Extractor, BrainError> {
        let num = r"\d{1,3}(?:[.,\s]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?";
        Ok(Extractor {
            email: Regex::new(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b")?,
            iso_date: Regex::new(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")?,
            numeric_date: Regex::new(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})\b")?,
            month_day: Regex::new(&format!(
                r"(?i)\b(?:{MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b"
            ))?,
            day_month: Regex::new(&format!(
                r"(?i)\b\d{{1,2}}(?:st|nd|rd|th|er|\.)?\s+(?:de\s+|of\s+)?(?:{MONTHS})\b(?:\s+(?:de\s+)?\d{{4}})?"
            ))?,
            zh_date: Regex::new(r"(?:\d{4}年)?\d{1,2}月\d{1,2}[日号]")?,
            relative: RELATIVE
                .iter()
                .map(|(lang, words)| {
                    // Chinese has no spaces: its words need no boundaries.
                    let pattern = if *lang == Language::Zh {
                        format!("({words})")
                    } else {
                        format!(r"(?i)(?:^|[^\p{{L}}])({words})(?:$|[^\p{{L}}])")
                    };
                    Regex::new(&pattern).map(|re| (*lang, re))
                })
                .collect::<Result<_, _>>()?,
            phone: Regex::new(
                r"(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]\d{2,4}){1,5}|\+\d{8,15}",
            )?,
            amount_prefix: Regex::new(&format!(
                r"(?i)(?:(US\$|\$|€|£|¥|￥|USD|EUR|GBP|CNY|RMB|JPY)\s?)({num})"
            ))?,
            amount_suffix: Regex::new(&format!(
                r"(?i)\b({num})\s?(€|\$|£|¥|元|块|USD|EUR|GBP|CNY|RMB|JPY|dollars?|euros?|pounds?|dólares|dolares|yuan|francs?)"
            ))?,
            order_ref: Regex::new(r"(?i)(?:\b(?:ORD|ORDER)[-_#]?|#)([A-Z0-9][A-Z0-9-]{3,19})\b")?,
            order_digits: Regex::new(r"\b\d{6,20}\b")?,
        })
    }

    /// Every entity in `text` (written in `language`), without overlaps, sorted by position.
    pub fn extract(&self, text: &str, language: Language) -> Vec<Entity> {
        let mut found: Vec<Entity> = Vec::new();
        let mut push = |kind, start: usize, end: usize, value: String| {
            let overlaps = found.iter().any(|e| start < e.end && e.start < end);
            if !overlaps && start < end {
                let t = text.get(start..end).unwrap_or_default().to_owned();
                found.push(Entity {
                    kind,
                    text: t,
                    value,
                    start,
                    end,
                });
            }
        };
        // Priority order: a span claimed earlier is not claimed again.
        for m in self.email.find_iter(text) {
            push(
                EntityKind::Email,
                m.start(),
                m.end(),
                m.as_str().to_lowercase(),
            );
        }
        for c in self.iso_date.captures_iter(text) {
            if let (Some(m), Some(y), Some(mo), Some(d)) = (c.get(0), c.get(1), c.get(2), c.get(3))
            {
                push(
                    EntityKind::Date,
                    m.start(),
                    m.end(),
                    iso(y.as_str(), mo.as_str(), d.as_str()),
                );
            }
        }
        for c in self.numeric_date.captures_iter(text) {
            if let Some(m) = c.get(0) {
                push(EntityKind::Date, m.start(), m.end(), m.as_str().to_owned());
            }
        }
        for re in [&self.month_day, &self.day_month, &self.zh_date] {
            for m in re.find_iter(text) {
                push(
                    EntityKind::Date,
                    m.start(),
                    m.end(),
                    m.as_str().to_lowercase(),
                );
            }
        }
        let relative = self
            .relative
            .iter()
            .filter(|(lang, _)| *lang == language || *lang == Language::Zh);
        for (_, re) in relative {
            for c in re.captures_iter(text) {
                if let Some(m) = c.get(1) {
                    push(
                        EntityKind::Date,
                        m.start(),
                        m.end(),
                        m.as_str().to_lowercase(),
                    );
                }
            }
        }
        for (re, symbol_first) in [(&self.amount_prefix, true), (&self.amount_suffix, false)] {
            for c in re.captures_iter(text) {
                let (Some(m), Some(a), Some(b)) = (c.get(0), c.get(1), c.get(2)) else {
                    continue;
                };
                let (number, symbol) = if symbol_first { (b, a) } else { (a, b) };
                let value = amount_value(number.as_str(), symbol.as_str());
                push(EntityKind::Amount, m.start(), m.end(), value);
            }
        }
        for m in self.order_ref.find_iter(text) {
            let id: String = m
                .as_str()
                .trim_start_matches('#')
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '-')
                .collect::<String>()
                .to_uppercase();
            if id.chars().any(|c| c.is_ascii_digit()) {
                push(
                    EntityKind::OrderId,
                    m.start(),
                    m.end(),
                    id.trim_start_matches('-').to_owned(),
                );
            }
        }
        let phones: Vec<(usize, usize)> = self
            .phone
            .find_iter(text)
            .filter(|m| {
                let digits = m.as_str().chars().filter(char::is_ascii_digit).count();
                (7..=15).contains(&digits)
            })
            .map(|m| (m.start(), m.end()))
            .collect();
        for m in self.order_digits.find_iter(text) {
            let inside_phone_with_separators = phones
                .iter()
                .any(|&(s, e)| s <= m.start() && m.end() <= e && (e - s) > m.len());
            if !inside_phone_with_separators {
                push(
                    EntityKind::OrderId,
                    m.start(),
                    m.end(),
                    m.as_str().to_owned(),
                );
            }
        }
        for (s, e) in phones {
            let value: String = text
                .get(s..e)
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect();
            push(EntityKind::Phone, s, e, value);
        }
        found.sort_by_key(|e| e.start);
        found
    }
}

fn iso(y: &str, m: &str, d: &str) -> String {
    format!("{y}-{m:0>2}-{d:0>2}")
}

fn amount_value(number: &str, symbol: &str) -> String {
    let currency = match symbol.to_lowercase().as_str() {
        "$" | "us$" | "usd" | "dollar" | "dollars" | "dólares" | "dolares" => "USD",
        "€" | "eur" | "euro" | "euros" => "EUR",
        "£" | "gbp" | "pound" | "pounds" => "GBP",
        "¥" | "￥" | "cny" | "rmb" | "元" | "块" | "yuan" => "CNY",
        "jpy" => "JPY",
        "franc" | "francs" => "CHF",
        _ => "XXX",
    };
    format!("{} {currency}", decimal(number))
}

/// `1.234,50` → `1234.50`; `1,234.50` → `1234.50`; `12,5` → `12.5`; `1 000` → `1000`.
fn decimal(number: &str) -> String {
    let compact: String = number.chars().filter(|c| !c.is_whitespace()).collect();
    let last_sep = compact.rfind([',', '.']);
    match last_sep {
        Some(pos) if compact.len() - pos - 1 <= 2 => {
            let (int, frac) = compact.split_at(pos);
            let int: String = int.chars().filter(char::is_ascii_digit).collect();
            format!("{int}.{}", &frac[1..])
        }
        _ => compact.chars().filter(char::is_ascii_digit).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn extract(text: &str) -> Vec<(EntityKind, String)> {
        Extractor::new()
            .map(|x| {
                x.extract(text, crate::brain::language::detect(text))
                    .into_iter()
                    .map(|e| (e.kind, e.value))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[rstest]
    #[case("how can I cancel purchase 113542617735902?", &[(EntityKind::OrderId, "113542617735902")])]
    #[case("order 00004587345 is late", &[(EntityKind::OrderId, "00004587345")])]
    #[case("my order ORD-7F3K2A", &[(EntityKind::OrderId, "ORD-7F3K2A")])]
    #[case("pedido #W1234567", &[(EntityKind::OrderId, "W1234567")])]
    #[case("write to jane.doe+x@example.co.uk", &[(EntityKind::Email, "jane.doe+x@example.co.uk")])]
    #[case("I paid $12.50", &[(EntityKind::Amount, "12.50 USD")])]
    #[case("j'ai payé 12,50 €", &[(EntityKind::Amount, "12.50 EUR")])]
    #[case("花了¥100", &[(EntityKind::Amount, "100 CNY")])]
    #[case("charged 100 USD twice", &[(EntityKind::Amount, "100 USD")])]
    #[case("es kostet 1.299,99 EUR", &[(EntityKind::Amount, "1299.99 EUR")])]
    #[case("it came to 1,234.50 dollars", &[(EntityKind::Amount, "1234.50 USD")])]
    #[case("ordered on 2025-3-12", &[(EntityKind::Date, "2025-03-12")])]
    #[case("delivered 12/03/2025", &[(EntityKind::Date, "12/03/2025")])]
    #[case("since March 3", &[(EntityKind::Date, "march 3")])]
    #[case("le 3 mars", &[(EntityKind::Date, "3 mars")])]
    #[case("el 3 de marzo", &[(EntityKind::Date, "3 de marzo")])]
    #[case("am 3. März bestellt", &[(EntityKind::Date, "3. märz")])]
    #[case("我2025年3月12日下的单", &[(EntityKind::Date, "2025年3月12日")])]
    #[case("it arrived yesterday", &[(EntityKind::Date, "yesterday")])]
    #[case("mi pedido llegó ayer", &[(EntityKind::Date, "ayer")])]
    #[case("ich habe es gestern bestellt", &[(EntityKind::Date, "gestern")])]
    #[case("je l'ai reçu hier", &[(EntityKind::Date, "hier")])]
    #[case("昨天到的", &[(EntityKind::Date, "昨天")])]
    #[case("call me at +33 6 12 34 56 78", &[(EntityKind::Phone, "+33612345678")])]
    #[case("call (555) 123-4567", &[(EntityKind::Phone, "5551234567")])]
    #[case("nothing here", &[])]
    #[case("I want 2 shirts", &[])]
    fn extracts(#[case] text: &str, #[case] want: &[(EntityKind, &str)]) {
        let want: Vec<(EntityKind, String)> =
            want.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        assert_eq!(extract(text), want, "{text}");
    }

    #[test]
    fn several_entities_in_one_message() {
        let got = extract("Order 123456789 for $40 was charged on 2025-01-05, mail me at a@b.io");
        let kinds: Vec<EntityKind> = got.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            kinds,
            vec![
                EntityKind::OrderId,
                EntityKind::Amount,
                EntityKind::Date,
                EntityKind::Email
            ]
        );
    }
}
