//! Act: identify the customer, read the order, and choose the back-office tool for the intent.
//! Reads are done here; a write is only *proposed*, with the step's idempotency key, and only
//! for a customer whose identity is verified.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::json;

use super::{Ports, StepError, StepResult, customer_message, doc_id, facts};
use crate::payload::{ActionFacts, OrderFacts, Proposal, ProposalKind, StepInput};
use crate::ports::{Customer, Order};

/// The back-office tools, as named in [`ActionFacts::tools`].
pub mod tool {
    /// Find a customer by e-mail (identity check).
    pub const FIND_BY_EMAIL: &str = "find_customer_by_email";
    /// Find a customer by name and zip code (identity check).
    pub const FIND_BY_NAME_ZIP: &str = "find_customer_by_name_zip";
    /// Read an order.
    pub const GET_ORDER: &str = "get_order";
    /// List a customer's orders.
    pub const LIST_ORDERS: &str = "list_orders";
    /// Cancel a pending order.
    pub const CANCEL: &str = "cancel_order";
    /// Change a pending order's address.
    pub const CHANGE_ADDRESS: &str = "change_address";
    /// Change a pending order's items.
    pub const MODIFY_ITEMS: &str = "modify_items";
    /// Return delivered items.
    pub const RETURN: &str = "return_items";
    /// Exchange delivered items.
    pub const EXCHANGE: &str = "exchange_items";
    /// Refund an amount.
    pub const REFUND: &str = "refund";
}

/// The tool that performs a kind of write.
pub fn write_tool(kind: ProposalKind) -> &'static str {
    match kind {
        ProposalKind::Cancel => tool::CANCEL,
        ProposalKind::ChangeAddress => tool::CHANGE_ADDRESS,
        ProposalKind::ModifyItems => tool::MODIFY_ITEMS,
        ProposalKind::Return => tool::RETURN,
        ProposalKind::Exchange => tool::EXCHANGE,
        ProposalKind::Refund => tool::REFUND,
    }
}

/// Whether a tool name is a write.
pub fn is_write_tool(name: &str) -> bool {
    [
        tool::CANCEL,
        tool::CHANGE_ADDRESS,
        tool::MODIFY_ITEMS,
        tool::RETURN,
        tool::EXCHANGE,
        tool::REFUND,
    ]
    .contains(&name)
}

#[expect(
    clippy::expect_used,
    reason = "constant patterns, checked by the tests"
)]
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}").expect("email pattern")
});
#[expect(
    clippy::expect_used,
    reason = "constant patterns, checked by the tests"
)]
static NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i:name is|me llamo|mi nombre es|je m'appelle|mon nom est|ich heiße|ich heisse|mein name ist)\s+(\p{Lu}\p{L}+(?:\s+\p{Lu}\p{L}+)+)",
    )
    .expect("name pattern")
});
#[expect(
    clippy::expect_used,
    reason = "constant patterns, checked by the tests"
)]
static ZIP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:zip|postal|postcode|código postal|codigo postal|code postal|postleitzahl|plz|邮编|邮政编码)\D{0,12}(\d{5})\b")
        .expect("zip pattern")
});
#[expect(
    clippy::expect_used,
    reason = "constant patterns, checked by the tests"
)]
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(address|dirección|direccion|adresse|地址|shipping to|ship to)")
        .expect("address pattern")
});

/// What a message says about who the customer is. Used to verify identity, never journaled.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentityHints {
    /// E-mails mentioned.
    pub emails: Vec<String>,
    /// A full name given (`my name is …`).
    pub name: Option<String>,
    /// A zip code given.
    pub zip: Option<String>,
}

impl IdentityHints {
    /// Extracts the hints from a message.
    pub fn extract(text: &str) -> IdentityHints {
        IdentityHints {
            emails: EMAIL
                .find_iter(text)
                .map(|m| m.as_str().to_lowercase())
                .collect(),
            name: NAME
                .captures(text)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str().to_owned()),
            zip: ZIP
                .captures(text)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str().to_owned()),
        }
    }
}

/// The write an intent asks for, if any.
pub fn intent_write(intent: &str, text: &str) -> Option<ProposalKind> {
    Some(match intent {
        "cancel_order" => ProposalKind::Cancel,
        "change_order" if ADDRESS.is_match(text) => ProposalKind::ChangeAddress,
        "change_order" => ProposalKind::ModifyItems,
        "return" => ProposalKind::Return,
        "exchange" => ProposalKind::Exchange,
        "refund_request" => ProposalKind::Refund,
        _ => return None,
    })
}

/// Whether an intent needs an order to answer (a write or a status question).
fn needs_order(intent: &str) -> bool {
    matches!(
        intent,
        "order_status" | "delivery" | "refund_status" | "invoice"
    ) || intent_write(intent, "").is_some()
}

/// The statuses an order must be in for a kind of write.
pub fn eligible(kind: ProposalKind, status: &str) -> bool {
    match kind {
        ProposalKind::Cancel | ProposalKind::ChangeAddress | ProposalKind::ModifyItems => {
            status == "pending"
        }
        ProposalKind::Return | ProposalKind::Exchange | ProposalKind::Refund => {
            status == "delivered"
        }
    }
}

/// Verifies who the customer is from what the message says: an e-mail, else a name and zip,
/// looked up in the back office. Someone proving to be another customer than the one the
/// helpdesk names is not verified. Returns the customer and the tools used, in order.
///
/// # Errors
/// When the back office fails.
pub async fn identify(
    text: &str,
    known_customer: Option<&str>,
    bo: &dyn crate::ports::BackOffice,
) -> Result<(Option<Customer>, Vec<String>), StepError> {
    let hints = IdentityHints::extract(text);
    let mut tools: Vec<String> = Vec::new();
    let mut customer: Option<Customer> = None;
    for email in &hints.emails {
        tools.push(tool::FIND_BY_EMAIL.into());
        if let Some(c) = bo.find_customer_by_email(email).await? {
            customer = Some(c);
            break;
        }
    }
    if customer.is_none()
        && let (Some(name), Some(zip)) = (&hints.name, &hints.zip)
    {
        tools.push(tool::FIND_BY_NAME_ZIP.into());
        customer = bo.find_customer_by_name_zip(name, zip).await?;
    }
    if let (Some(c), Some(known)) = (&customer, known_customer)
        && c.id != known
    {
        customer = None;
    }
    Ok((customer, tools))
}

/// `act`: see the module documentation.
pub async fn act(input: &StepInput, ports: &Ports) -> StepResult {
    let turn = &input.turn;
    let triage = turn
        .triage
        .as_ref()
        .ok_or_else(|| StepError::missing("turn.triage"))?;
    let message = customer_message(turn, ports).await?;
    let bo = &ports.back_office;
    let (found, mut tools) =
        identify(&message.text, turn.customer_id.as_deref(), bo.as_ref()).await?;
    let mut verified = found.is_some();
    let mut customer = found;
    let identity_doc = doc_id(&turn.conversation_id, "identity", "verified");
    if customer.is_none()
        && let Some(doc) = ports.store.document(&identity_doc).await?
        && let Some(id) = doc.get("customerId").and_then(|v| v.as_str())
        && let Some(c) = bo.customer(id).await?
    {
        customer = Some(c);
        verified = true;
    }
    if customer.is_none()
        && let Some(id) = &turn.customer_id
    {
        customer = bo.customer(id).await?;
    }
    if verified && let Some(c) = &customer {
        ports
            .store
            .put_document(
                &identity_doc,
                &json!({ "customerId": c.id }),
                Some(ports.policy.document_ttl_seconds),
            )
            .await?;
    }

    // The order: one named in the message (the customer's own), else their latest.
    let mut order: Option<Order> = None;
    if needs_order(&triage.intent) || !triage.order_ids.is_empty() {
        for id in &triage.order_ids {
            tools.push(tool::GET_ORDER.into());
            if let Some(o) = bo.order(id).await? {
                let theirs = customer.as_ref().is_some_and(|c| c.id == o.customer_id);
                if theirs {
                    order = Some(o);
                    break;
                }
            }
        }
        if order.is_none()
            && let Some(c) = &customer
            && needs_order(&triage.intent)
        {
            tools.push(tool::LIST_ORDERS.into());
            order = bo.orders_of(&c.id).await?.into_iter().next();
        }
    }
    // Order facts are only shown to a verified customer.
    if !verified {
        order = None;
    }

    let mut proposal = None;
    if verified
        && let Some(kind) = intent_write(&triage.intent, &message.text)
        && let Some(o) = &order
        && eligible(kind, &o.status)
    {
        let lower = message.text.to_lowercase();
        let named: Vec<_> = o
            .items
            .iter()
            .filter(|i| lower.contains(&i.name.to_lowercase()))
            .collect();
        let items: Vec<_> = if named.is_empty() {
            o.items.iter().collect()
        } else {
            named
        };
        let items_total: f64 = items.iter().map(|i| i.price).sum();
        let (item_ids, amount) = match kind {
            ProposalKind::Return | ProposalKind::Exchange | ProposalKind::ModifyItems => (
                items.iter().map(|i| i.id.clone()).collect(),
                Some(round2(items_total)),
            ),
            ProposalKind::Refund => (
                Vec::new(),
                Some(round2(
                    triage
                        .amounts
                        .first()
                        .copied()
                        .unwrap_or(o.total)
                        .min(o.total),
                )),
            ),
            ProposalKind::Cancel | ProposalKind::ChangeAddress => {
                (Vec::new(), Some(round2(o.total)))
            }
        };
        tools.push(write_tool(kind).into());
        proposal = Some(Proposal {
            kind,
            order_id: o.id.clone(),
            item_ids,
            amount,
            idempotency_key: input.idempotency_key.clone(),
        });
    }
    if let (Some(c), Some(o)) = (&customer, &order) {
        ports
            .store
            .remember(
                &c.id,
                "last_order",
                &json!(o.id),
                ports.policy.memory_ttl_seconds,
            )
            .await?;
    }

    facts(&ActionFacts {
        tools,
        identity_verified: verified,
        premium: customer.as_ref().is_some_and(|c| c.plan == "premium"),
        customer_id: customer.map(|c| c.id),
        order: order.map(|o| OrderFacts {
            id: o.id,
            status: o.status,
            total: o.total,
        }),
        proposal,
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_hints_are_found_in_five_languages() {
        let h = IdentityHints::extract("Hi, my name is Omar Anderson and my zip code is 19031.");
        assert_eq!(h.name.as_deref(), Some("Omar Anderson"));
        assert_eq!(h.zip.as_deref(), Some("19031"));
        let h = IdentityHints::extract("Me llamo Ana García, código postal 28013, ana@x.es");
        assert_eq!(h.name.as_deref(), Some("Ana García"));
        assert_eq!(h.zip.as_deref(), Some("28013"));
        assert_eq!(h.emails, vec!["ana@x.es".to_owned()]);
        assert_eq!(
            IdentityHints::extract("where is my order"),
            IdentityHints::default()
        );
    }
}
