//! Helpdesk events, normalized: whatever shape a webhook arrives in, ingest sees one
//! [`HelpdeskEvent`].
//!
//! Three shapes are read: turnflow's own (`{"v": 1, "eventId", "type", …}`), a Zendesk-like
//! event webhook (`"type": "zen:event-type:ticket.comment_added"`, `subject`, `detail`, `event`)
//! and an Intercom-like notification (`"type": "notification_event"`, `topic`, `data.item`).
//! The shape is recognized by its markers, then read with a typed serde model, so a malformed
//! event fails with the path of what is missing rather than somewhere downstream.
//!
//! Pure: no I/O, no clock.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The version of [`HelpdeskEvent`] this build writes and reads.
pub const EVENT_VERSION: u32 = 1;

/// Where an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// turnflow's own shape (the CLI, the embedded webhook, tests).
    Turnflow,
    /// A Zendesk-like event webhook.
    Zendesk,
    /// An Intercom-like notification.
    Intercom,
}

impl Source {
    /// The short prefix that keeps event ids of different helpdesks apart.
    fn prefix(self) -> &'static str {
        match self {
            Source::Turnflow => "",
            Source::Zendesk => "zd-",
            Source::Intercom => "ic-",
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// The customer wrote a message: this starts a turn.
    Message {
        /// The message id in the helpdesk.
        message_id: String,
        /// The text as the customer wrote it (not yet redacted).
        text: String,
    },
    /// The customer rated the conversation.
    CsatRating {
        /// The rating, 1 to 5.
        rating: u8,
    },
    /// The ticket or conversation was closed or solved.
    Closed,
}

/// One helpdesk event, whatever its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelpdeskEvent {
    /// Version of this shape.
    pub v: u32,
    /// Where it came from.
    pub source: Source,
    /// The event's id in its source, unique per event (retries of a webhook keep it).
    pub event_id: String,
    /// The conversation (ticket) it belongs to.
    pub conversation_id: String,
    /// The customer, when the helpdesk says who it is.
    pub customer_id: Option<String>,
    /// What happened.
    pub kind: EventKind,
}

impl HelpdeskEvent {
    /// The execution name for this event: valid for Step Functions (at most 80 characters of
    /// `[A-Za-z0-9_-]`), stable, and distinct across sources, so starting the same event twice
    /// names the same execution.
    pub fn execution_name(&self) -> String {
        let raw = format!("{}{}", self.source.prefix(), self.event_id);
        let clean: String = raw
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        if clean == raw && clean.len() <= 80 {
            return clean;
        }
        // Replaced characters or a long id: keep a readable prefix and add a digest of the raw
        // id so two ids differing only in replaced characters stay apart.
        let digest = fnv1a(raw.as_bytes());
        let head: String = clean.chars().take(63).collect();
        format!("{head}-{digest:016x}")
    }

    /// The message group of this event on a FIFO queue: its conversation.
    pub fn group_id(&self) -> String {
        format!("{}{}", self.source.prefix(), self.conversation_id)
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Why an event could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The body is not JSON.
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    /// The JSON is none of the known shapes.
    #[error(
        "unrecognized event shape (expected turnflow's own, a Zendesk-like or an Intercom-like event)"
    )]
    UnknownShape,
    /// The shape is known but a field is missing or of the wrong type.
    #[error("malformed {shape:?} event: {message}")]
    Malformed {
        /// The recognized shape.
        shape: Source,
        /// What is wrong.
        message: String,
    },
    /// turnflow's own shape in a version this build cannot read.
    #[error("event version {0} is newer than this build reads ({EVENT_VERSION})")]
    UnsupportedVersion(u32),
    /// A kind of event turnflow does not act on.
    #[error("unsupported {shape:?} event type `{kind}`")]
    Unsupported {
        /// The recognized shape.
        shape: Source,
        /// Its type or topic.
        kind: String,
    },
}

/// Reads a webhook body in any of the known shapes.
pub fn normalize(body: &str) -> Result<HelpdeskEvent, EventError> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| EventError::NotJson(e.to_string()))?;
    let marker = value.get("type").and_then(Value::as_str).unwrap_or("");
    if marker.starts_with("zen:") || value.get("zendesk_event_version").is_some() {
        zendesk(value)
    } else if marker == "notification_event" {
        intercom(value)
    } else if value.get("v").is_some() && value.get("eventId").is_some() {
        own(value)
    } else {
        Err(EventError::UnknownShape)
    }
}

fn typed<T: for<'de> Deserialize<'de>>(source: Source, value: Value) -> Result<T, EventError> {
    serde_json::from_value(value).map_err(|e| EventError::Malformed {
        shape: source,
        message: e.to_string(),
    })
}

fn malformed(source: Source, message: &str) -> EventError {
    EventError::Malformed {
        shape: source,
        message: message.to_owned(),
    }
}

fn non_empty(source: Source, field: &str, value: String) -> Result<String, EventError> {
    if value.trim().is_empty() {
        Err(malformed(source, &format!("`{field}` is empty")))
    } else {
        Ok(value)
    }
}

fn rating(source: Source, r: i64) -> Result<u8, EventError> {
    u8::try_from(r)
        .ok()
        .filter(|r| (1..=5).contains(r))
        .ok_or_else(|| malformed(source, &format!("rating {r} is not between 1 and 5")))
}

/// turnflow's own shape.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Own {
    v: u32,
    event_id: String,
    #[serde(rename = "type")]
    kind: String,
    conversation_id: String,
    #[serde(default)]
    customer_id: Option<String>,
    #[serde(default)]
    message_id: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    rating: Option<i64>,
}

fn own(value: Value) -> Result<HelpdeskEvent, EventError> {
    let s = Source::Turnflow;
    let own: Own = typed(s, value)?;
    if own.v > EVENT_VERSION {
        return Err(EventError::UnsupportedVersion(own.v));
    }
    let kind = match own.kind.as_str() {
        "message" => EventKind::Message {
            message_id: non_empty(
                s,
                "messageId",
                own.message_id
                    .ok_or_else(|| malformed(s, "a message needs `messageId`"))?,
            )?,
            text: non_empty(
                s,
                "text",
                own.text
                    .ok_or_else(|| malformed(s, "a message needs `text`"))?,
            )?,
        },
        "csat_rating" => EventKind::CsatRating {
            rating: rating(
                s,
                own.rating
                    .ok_or_else(|| malformed(s, "a rating needs `rating`"))?,
            )?,
        },
        "closed" => EventKind::Closed,
        other => {
            return Err(EventError::Unsupported {
                shape: s,
                kind: other.to_owned(),
            });
        }
    };
    Ok(HelpdeskEvent {
        v: EVENT_VERSION,
        source: s,
        event_id: non_empty(s, "eventId", own.event_id)?,
        conversation_id: non_empty(s, "conversationId", own.conversation_id)?,
        customer_id: own.customer_id,
        kind,
    })
}

/// A Zendesk-like event webhook.
#[derive(Deserialize)]
struct Zendesk {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    detail: ZendeskTicket,
    #[serde(default)]
    event: Value,
}

#[derive(Deserialize)]
struct ZendeskTicket {
    id: IdString,
    #[serde(default)]
    requester_id: Option<IdString>,
}

#[derive(Deserialize)]
struct ZendeskComment {
    id: IdString,
    body: String,
    author: ZendeskAuthor,
}

#[derive(Deserialize)]
struct ZendeskAuthor {
    #[serde(default)]
    is_staff: bool,
}

/// An id that helpdesks send either as a number or a string.
#[derive(Deserialize)]
#[serde(try_from = "Value")]
struct IdString(String);

impl TryFrom<Value> for IdString {
    type Error = String;
    fn try_from(v: Value) -> Result<Self, String> {
        match v {
            Value::String(s) => Ok(IdString(s)),
            Value::Number(n) => Ok(IdString(n.to_string())),
            other => Err(format!("expected an id, found {other}")),
        }
    }
}

fn zendesk(value: Value) -> Result<HelpdeskEvent, EventError> {
    let s = Source::Zendesk;
    let z: Zendesk = typed(s, value)?;
    let kind = match z.kind.trim_start_matches("zen:event-type:") {
        "ticket.comment_added" => {
            let comment: ZendeskComment = typed(
                s,
                z.event
                    .get("comment")
                    .cloned()
                    .ok_or_else(|| malformed(s, "`event.comment` is missing"))?,
            )?;
            if comment.author.is_staff {
                return Err(EventError::Unsupported {
                    shape: s,
                    kind: "ticket.comment_added by staff".into(),
                });
            }
            EventKind::Message {
                message_id: comment.id.0,
                text: non_empty(s, "event.comment.body", comment.body)?,
            }
        }
        "ticket.status_changed" => match z.event.get("current").and_then(Value::as_str) {
            Some("solved" | "closed") => EventKind::Closed,
            Some(other) => {
                return Err(EventError::Unsupported {
                    shape: s,
                    kind: format!("ticket.status_changed to {other}"),
                });
            }
            None => return Err(malformed(s, "`event.current` is missing")),
        },
        "ticket.satisfaction_rating_changed" => {
            // Zendesk rates good/bad; map to the 1–5 scale.
            match z.event.get("current").and_then(Value::as_str) {
                Some("good") => EventKind::CsatRating { rating: 5 },
                Some("bad") => EventKind::CsatRating { rating: 1 },
                _ => return Err(malformed(s, "`event.current` is not `good` or `bad`")),
            }
        }
        other => {
            return Err(EventError::Unsupported {
                shape: s,
                kind: other.to_owned(),
            });
        }
    };
    Ok(HelpdeskEvent {
        v: EVENT_VERSION,
        source: s,
        event_id: non_empty(s, "id", z.id)?,
        conversation_id: non_empty(s, "detail.id", z.detail.id.0)?,
        customer_id: z.detail.requester_id.map(|i| i.0),
        kind,
    })
}

/// An Intercom-like notification.
#[derive(Deserialize)]
struct Intercom {
    id: String,
    topic: String,
    data: IntercomData,
}

#[derive(Deserialize)]
struct IntercomData {
    item: IntercomConversation,
}

#[derive(Deserialize)]
struct IntercomConversation {
    id: IdString,
    #[serde(default)]
    source: Option<IntercomPart>,
    #[serde(default)]
    contacts: Option<IntercomContacts>,
    #[serde(default)]
    conversation_parts: Option<IntercomParts>,
    #[serde(default)]
    conversation_rating: Option<IntercomRating>,
}

#[derive(Deserialize)]
struct IntercomContacts {
    contacts: Vec<IntercomRef>,
}

#[derive(Deserialize)]
struct IntercomRef {
    id: IdString,
}

#[derive(Deserialize)]
struct IntercomParts {
    conversation_parts: Vec<IntercomPart>,
}

#[derive(Deserialize)]
struct IntercomPart {
    id: IdString,
    #[serde(default)]
    body: Option<String>,
}

#[derive(Deserialize)]
struct IntercomRating {
    rating: i64,
}

/// Intercom bodies are HTML; the turn wants the text.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let text = out
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn intercom(value: Value) -> Result<HelpdeskEvent, EventError> {
    let s = Source::Intercom;
    let n: Intercom = typed(s, value)?;
    let item = n.data.item;
    let kind = match n.topic.as_str() {
        "conversation.user.created" => {
            let part = item
                .source
                .ok_or_else(|| malformed(s, "`data.item.source` is missing"))?;
            EventKind::Message {
                message_id: part.id.0,
                text: non_empty(
                    s,
                    "data.item.source.body",
                    strip_tags(&part.body.unwrap_or_default()),
                )?,
            }
        }
        "conversation.user.replied" => {
            let part = item
                .conversation_parts
                .and_then(|p| p.conversation_parts.into_iter().last())
                .ok_or_else(|| malformed(s, "`data.item.conversation_parts` is empty"))?;
            EventKind::Message {
                message_id: part.id.0,
                text: non_empty(
                    s,
                    "data.item.conversation_parts[-1].body",
                    strip_tags(&part.body.unwrap_or_default()),
                )?,
            }
        }
        "conversation.admin.closed" => EventKind::Closed,
        "conversation.rating.added" => EventKind::CsatRating {
            rating: rating(
                s,
                item.conversation_rating
                    .ok_or_else(|| malformed(s, "`data.item.conversation_rating` is missing"))?
                    .rating,
            )?,
        },
        other => {
            return Err(EventError::Unsupported {
                shape: s,
                kind: other.to_owned(),
            });
        }
    };
    Ok(HelpdeskEvent {
        v: EVENT_VERSION,
        source: s,
        event_id: non_empty(s, "id", n.id)?,
        conversation_id: non_empty(s, "data.item.id", item.id.0)?,
        customer_id: item
            .contacts
            .and_then(|c| c.contacts.into_iter().next())
            .map(|c| c.id.0),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(v: Value) -> Result<HelpdeskEvent, EventError> {
        normalize(&v.to_string())
    }

    #[test]
    fn turnflows_own_message_is_read() -> Result<(), EventError> {
        let e = read(json!({"v": 1, "eventId": "evt-1", "type": "message",
            "conversationId": "c1", "customerId": "cu1", "messageId": "m1",
            "text": "where is my order W1001?"}))?;
        assert_eq!(e.source, Source::Turnflow);
        assert_eq!(e.execution_name(), "evt-1");
        assert_eq!(e.group_id(), "c1");
        assert_eq!(e.customer_id.as_deref(), Some("cu1"));
        assert_eq!(
            e.kind,
            EventKind::Message {
                message_id: "m1".into(),
                text: "where is my order W1001?".into()
            }
        );
        Ok(())
    }

    #[test]
    fn a_zendesk_comment_is_a_message_and_a_solved_ticket_is_closed() -> Result<(), EventError> {
        let e = read(json!({
            "account_id": 22129848, "id": "cbe4028c-7239-495d-b020-f22348516046",
            "time": "2024-06-10T12:00:00Z", "type": "zen:event-type:ticket.comment_added",
            "zendesk_event_version": "2022-11-06", "subject": "zen:ticket:5158",
            "detail": {"id": "5158", "requester_id": 8193592318236u64, "status": "OPEN"},
            "event": {"comment": {"id": 91011, "body": "Mi pedido no llegó",
                "author": {"id": 8193592318236u64, "is_staff": false}}}
        }))?;
        assert_eq!(e.source, Source::Zendesk);
        assert_eq!(e.conversation_id, "5158");
        assert_eq!(e.customer_id.as_deref(), Some("8193592318236"));
        assert_eq!(
            e.execution_name(),
            "zd-cbe4028c-7239-495d-b020-f22348516046"
        );
        assert!(
            matches!(e.kind, EventKind::Message { ref message_id, .. } if message_id == "91011")
        );

        let closed = read(
            json!({"id": "e2", "type": "zen:event-type:ticket.status_changed",
            "detail": {"id": 5158}, "event": {"previous": "open", "current": "solved"}}),
        )?;
        assert_eq!(closed.kind, EventKind::Closed);
        Ok(())
    }

    #[test]
    fn an_intercom_reply_is_a_message_with_html_stripped() -> Result<(), EventError> {
        let e = read(json!({
            "type": "notification_event", "id": "notif_ccd8a4d0", "topic": "conversation.user.replied",
            "created_at": 1718020000,
            "data": {"type": "notification_event_data", "item": {
                "type": "conversation", "id": "147",
                "contacts": {"contacts": [{"type": "contact", "id": "6657a1"}]},
                "conversation_parts": {"conversation_parts": [
                    {"id": "p1", "part_type": "comment", "body": "<p>first</p>"},
                    {"id": "p2", "part_type": "comment", "body": "<p>I want a refund &amp; an apology</p>"}
                ]}}}
        }))?;
        assert_eq!(e.source, Source::Intercom);
        assert_eq!(e.customer_id.as_deref(), Some("6657a1"));
        assert_eq!(
            e.kind,
            EventKind::Message {
                message_id: "p2".into(),
                text: "I want a refund & an apology".into()
            }
        );
        let rated = read(json!({"type": "notification_event", "id": "n2",
            "topic": "conversation.rating.added",
            "data": {"item": {"id": 147, "conversation_rating": {"rating": 4}}}}))?;
        assert_eq!(rated.kind, EventKind::CsatRating { rating: 4 });
        Ok(())
    }

    #[test]
    fn malformed_events_fail_with_a_clear_reason() {
        assert!(matches!(
            normalize("{not json"),
            Err(EventError::NotJson(_))
        ));
        assert_eq!(read(json!({"hello": 1})), Err(EventError::UnknownShape));
        let missing =
            read(json!({"v": 1, "eventId": "e", "type": "message", "conversationId": "c"}));
        assert_eq!(
            missing.map_err(|e| e.to_string()),
            Err("malformed Turnflow event: a message needs `messageId`".into())
        );
        let zd = read(json!({"id": "e", "type": "zen:event-type:ticket.comment_added"}));
        assert!(
            matches!(&zd, Err(EventError::Malformed { shape: Source::Zendesk, message }) if message.contains("detail")),
            "{zd:?}"
        );
        assert_eq!(
            read(json!({"v": 2, "eventId": "e", "type": "closed", "conversationId": "c"})),
            Err(EventError::UnsupportedVersion(2))
        );
        let bad_rating = read(json!({"v": 1, "eventId": "e", "type": "csat_rating",
            "conversationId": "c", "rating": 9}));
        assert!(matches!(bad_rating, Err(EventError::Malformed { .. })));
    }

    #[test]
    fn execution_names_are_valid_and_distinct() -> Result<(), EventError> {
        let long = "x".repeat(100);
        let a = read(json!({"v": 1, "eventId": long, "type": "closed", "conversationId": "c"}))?;
        let b = read(json!({"v": 1, "eventId": "a/b", "type": "closed", "conversationId": "c"}))?;
        let c = read(json!({"v": 1, "eventId": "a:b", "type": "closed", "conversationId": "c"}))?;
        for e in [&a, &b, &c] {
            let n = e.execution_name();
            assert!(n.len() <= 80, "{n}");
            assert!(
                n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{n}"
            );
        }
        assert_ne!(b.execution_name(), c.execution_name());
        Ok(())
    }
}
