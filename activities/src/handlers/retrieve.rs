//! Retrieve: knowledge-base passages in the message's language, and the customer's memory.

use super::{Ports, StepError, StepResult, customer_message, facts, redact};
use crate::payload::{PassageRef, RetrievalFacts, StepInput};

/// `retrieve`: the best passages for the (redacted) message in its language, and the ids of what
/// is remembered about the customer.
pub async fn retrieve(input: &StepInput, ports: &Ports) -> StepResult {
    let turn = &input.turn;
    let triage = turn
        .triage
        .as_ref()
        .ok_or_else(|| StepError::missing("turn.triage"))?;
    let message = customer_message(turn, ports).await?;
    let query = redact(&message.text, ports).await?;
    let passages = ports
        .kb
        .search_on_topic(
            &query,
            topic_words(&triage.intent, &triage.language),
            TOPIC_WEIGHT,
            &triage.language,
            ports.policy.retrieve_top_k,
        )
        .await?;
    let memory_ids = match &turn.customer_id {
        Some(customer) => ports
            .store
            .memory(customer)
            .await?
            .into_iter()
            .map(|(key, _)| key)
            .collect(),
        None => Vec::new(),
    };
    facts(&RetrievalFacts {
        passages: passages
            .into_iter()
            .map(|p| PassageRef {
                id: p.id,
                score: p.score,
            })
            .collect(),
        memory_ids,
    })
}

/// How much the intent's topic words weigh against the customer's own words (1).
pub const TOPIC_WEIGHT: f32 = 4.0;

/// Words that name the topic of an intent, in a language: "How long does it take?" asked as a
/// delivery question is about shipping, though the customer never says the word. Empty for
/// intents with no one topic (policy questions, complaints, …).
pub fn topic_words(intent: &str, language: &str) -> &'static str {
    let topic = match intent {
        "order_status" | "cancel_order" | "change_order" | "place_order" => 0,
        "return" | "exchange" => 1,
        "refund_request" | "refund_status" => 2,
        "delivery" => 3,
        "payment_issue" | "invoice" => 4,
        "account" => 5,
        "product_question" => 6,
        _ => return "",
    };
    // en, es, zh, fr, de
    const WORDS: [[&str; 5]; 7] = [
        [
            "order orders",
            "pedido pedidos",
            "订单",
            "commande commandes",
            "Bestellung Bestellungen",
        ],
        [
            "return returns",
            "devolución devoluciones",
            "退货",
            "retour retours",
            "Rücksendung Rücksendungen",
        ],
        [
            "refund refunds",
            "reembolso reembolsos",
            "退款",
            "remboursement remboursements",
            "Rückerstattung Erstattung",
        ],
        [
            "shipping delivery",
            "envío entrega",
            "配送 发货",
            "livraison expédition",
            "Versand Lieferung",
        ],
        [
            "payment invoice",
            "pago factura",
            "支付 发票",
            "paiement facture",
            "Zahlung Rechnung",
        ],
        [
            "account password",
            "cuenta contraseña",
            "账户 密码",
            "compte mot de passe",
            "Konto Passwort",
        ],
        [
            "product warranty",
            "producto garantía",
            "产品 保修",
            "produit garantie",
            "Produkt Garantie",
        ],
    ];
    let column = match language {
        "es" => 1,
        "zh" => 2,
        "fr" => 3,
        "de" => 4,
        _ => 0,
    };
    WORDS[topic][column]
}
