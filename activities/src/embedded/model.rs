//! The embedded model: the brain for triage, and reply templates in five languages for drafts.
//!
//! Drafts fill the templates with facts (order, status, amount, operation) and, for a knowledge
//! answer, quote the best passage and cite its id — so the answer is grounded by construction
//! and the grounding check in Verify still holds it to that.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use crate::brain::Brain;
use crate::brain::entity::EntityKind;
use crate::brain::triage::Firewall;
use crate::handlers::verify::purpose;
use crate::ports::{Draft, DraftRequest, Model, PortResult, TriageRequest, TriageResult};

/// The embedded model.
#[derive(Debug, Clone)]
pub struct EmbeddedModel {
    brain: Arc<Brain>,
}

impl EmbeddedModel {
    /// Over a trained brain.
    pub fn new(brain: Arc<Brain>) -> EmbeddedModel {
        EmbeddedModel { brain }
    }
}

fn serde_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[async_trait]
impl Model for EmbeddedModel {
    async fn triage(&self, request: &TriageRequest) -> PortResult<TriageResult> {
        let t = self.brain.analyze(&request.text);
        let of = |kind: EntityKind| -> Vec<String> {
            t.entities
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| e.value.clone())
                .collect()
        };
        Ok(TriageResult {
            language: t.language.as_str().to_owned(),
            intent: t.intent.as_str().to_owned(),
            confidence: f64::from(t.confidence),
            sentiment: f64::from(t.sentiment.score),
            blocked: match t.firewall {
                Firewall::Allowed => None,
                Firewall::Blocked(reason) => Some(serde_name(&reason)),
            },
            escalate: t.escalation.iter().map(serde_name).collect(),
            order_ids: of(EntityKind::OrderId),
            emails: of(EntityKind::Email),
            amounts: of(EntityKind::Amount)
                .iter()
                .filter_map(|v| v.split_whitespace().next()?.parse().ok())
                .collect(),
            usage: None,
        })
    }

    async fn draft(&self, request: &DraftRequest) -> PortResult<Draft> {
        let lang = match request.language.as_str() {
            l @ ("en" | "es" | "fr" | "de" | "zh") => l,
            _ => "en",
        };
        let facts = &request.facts;
        let s = |p: &str| {
            facts
                .pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let n = |p: &str| facts.pointer(p).and_then(Value::as_f64).unwrap_or(0.0);
        let fill = |t: &str| {
            t.replace("{order}", &s("/order/id"))
                .replace("{status}", &s("/order/status"))
                .replace("{total}", &format!("{:.2}", n("/order/total")))
                .replace("{amount}", &format!("{:.2}", n("/proposal/amount")))
                .replace("{porder}", &s("/proposal/orderId"))
                .replace("{op}", &s("/operationId"))
        };
        if request.purpose == purpose::ANSWER
            && let Some(best) = request.passages.first()
        {
            let excerpt = excerpt(&best.text);
            let text = format!(
                "{} {} [{}]",
                template(purpose::ANSWER, lang),
                excerpt,
                best.id
            );
            return Ok(Draft {
                text,
                citations: vec![best.id.clone()],
                usage: None,
            });
        }
        Ok(Draft {
            text: fill(template(&request.purpose, lang)),
            citations: Vec::new(),
            usage: None,
        })
    }
}

/// The first sentences of a passage (up to about 300 characters), Markdown marks dropped.
fn excerpt(text: &str) -> String {
    let clean: String = text
        .lines()
        .map(|l| l.trim_start_matches(['#', '-', '*', ' ']))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .replace("**", "");
    let mut out = String::new();
    for ch in clean.chars() {
        out.push(ch);
        if out.chars().count() >= 120 && matches!(ch, '.' | '。' | '!' | '?') {
            break;
        }
        if out.chars().count() >= 300 {
            break;
        }
    }
    out
}

/// The reply template of a purpose in a language.
pub fn template(which: &str, lang: &str) -> &'static str {
    use purpose as p;
    match (which, lang) {
        (p::ANSWER, "es") => "Según nuestro centro de ayuda:",
        (p::ANSWER, "fr") => "D'après notre centre d'aide :",
        (p::ANSWER, "de") => "Laut unserem Hilfe-Center:",
        (p::ANSWER, "zh") => "根据我们的帮助中心：",
        (p::ANSWER, _) => "According to our help center:",
        (p::REFUSAL, "es") => {
            "Lo siento, no puedo ayudar con eso. Puedo ayudarle con sus pedidos, devoluciones y reembolsos."
        }
        (p::REFUSAL, "fr") => {
            "Désolé, je ne peux pas vous aider sur ce point. Je peux vous aider pour vos commandes, retours et remboursements."
        }
        (p::REFUSAL, "de") => {
            "Dabei kann ich leider nicht helfen. Gerne helfe ich bei Bestellungen, Rücksendungen und Erstattungen."
        }
        (p::REFUSAL, "zh") => "抱歉，我无法处理这个请求。我可以帮您处理订单、退货和退款。",
        (p::REFUSAL, _) => {
            "Sorry, I can't help with that. I can help with your orders, returns and refunds."
        }
        (p::PROPOSAL, "es") => {
            "He preparado su solicitud para el pedido {porder} ({amount}). Un compañero debe aprobarla; le avisaremos en breve."
        }
        (p::PROPOSAL, "fr") => {
            "J'ai préparé votre demande pour la commande {porder} ({amount}). Un collègue doit l'approuver ; nous revenons vers vous rapidement."
        }
        (p::PROPOSAL, "de") => {
            "Ich habe Ihre Anfrage zur Bestellung {porder} ({amount}) vorbereitet. Ein Kollege muss sie freigeben; wir melden uns in Kürze."
        }
        (p::PROPOSAL, "zh") => {
            "我已为订单 {porder}（{amount}）准备好您的申请，需要同事审批，我们会尽快回复您。"
        }
        (p::PROPOSAL, _) => {
            "I've prepared your request for order {porder} ({amount}). A colleague needs to approve it; we'll get back to you shortly."
        }
        (p::COMMIT, "es") => "Hecho: su solicitud para el pedido {porder} se ha procesado.",
        (p::COMMIT, "fr") => "C'est fait : votre demande pour la commande {porder} a été traitée.",
        (p::COMMIT, "de") => "Erledigt: Ihre Anfrage zur Bestellung {porder} wurde bearbeitet.",
        (p::COMMIT, "zh") => "已完成：您对订单 {porder} 的申请已处理。",
        (p::COMMIT, _) => "Done: your request for order {porder} has been processed.",
        (p::APPROVED, "es") => {
            "Buenas noticias: su solicitud para el pedido {porder} fue aprobada y procesada (referencia {op})."
        }
        (p::APPROVED, "fr") => {
            "Bonne nouvelle : votre demande pour la commande {porder} a été approuvée et traitée (référence {op})."
        }
        (p::APPROVED, "de") => {
            "Gute Nachricht: Ihre Anfrage zur Bestellung {porder} wurde genehmigt und bearbeitet (Referenz {op})."
        }
        (p::APPROVED, "zh") => "好消息：您对订单 {porder} 的申请已批准并处理（编号 {op}）。",
        (p::APPROVED, _) => {
            "Good news: your request for order {porder} was approved and processed (reference {op})."
        }
        (p::REJECTED, "es") => {
            "Lo sentimos: no podemos realizar su solicitud para el pedido {porder}."
        }
        (p::REJECTED, "fr") => {
            "Nous sommes désolés : nous ne pouvons pas donner suite à votre demande pour la commande {porder}."
        }
        (p::REJECTED, "de") => {
            "Leider können wir Ihre Anfrage zur Bestellung {porder} nicht ausführen."
        }
        (p::REJECTED, "zh") => "抱歉，我们无法处理您对订单 {porder} 的申请。",
        (p::REJECTED, _) => "We're sorry: we can't carry out your request for order {porder}.",
        (p::HANDOFF, "es") => "Le paso con un compañero del equipo, que le responderá en breve.",
        (p::HANDOFF, "fr") => {
            "Je transmets votre demande à un collègue, qui vous répondra rapidement."
        }
        (p::HANDOFF, "de") => {
            "Ich übergebe Ihr Anliegen an einen Kollegen, der sich in Kürze meldet."
        }
        (p::HANDOFF, "zh") => "我已将您转给同事，他们会尽快回复您。",
        (p::HANDOFF, _) => "I'm passing you to a colleague from our team, who will reply shortly.",
        (p::IDENTITY_REQUIRED, "es") => {
            "Para ayudarle con su pedido, indíqueme su correo electrónico, o su nombre y código postal."
        }
        (p::IDENTITY_REQUIRED, "fr") => {
            "Pour vous aider avec votre commande, indiquez-moi votre e-mail, ou votre nom et code postal."
        }
        (p::IDENTITY_REQUIRED, "de") => {
            "Damit ich bei Ihrer Bestellung helfen kann, nennen Sie bitte Ihre E-Mail-Adresse oder Ihren Namen und Ihre Postleitzahl."
        }
        (p::IDENTITY_REQUIRED, "zh") => "为了帮助您处理订单，请提供您的电子邮箱，或姓名和邮编。",
        (p::IDENTITY_REQUIRED, _) => {
            "To help with your order, please give me your email address, or your name and zip code."
        }
        (p::ORDER_STATUS, "es") => "Su pedido {order} está en estado «{status}» (total {total}).",
        (p::ORDER_STATUS, "fr") => {
            "Votre commande {order} est au statut « {status} » (total {total})."
        }
        (p::ORDER_STATUS, "de") => {
            "Ihre Bestellung {order} hat den Status „{status}“ (Summe {total})."
        }
        (p::ORDER_STATUS, "zh") => "您的订单 {order} 当前状态为“{status}”（总计 {total}）。",
        (p::ORDER_STATUS, _) => "Your order {order} is {status} (total {total}).",
        (p::NOT_ELIGIBLE, "es") => {
            "Su pedido {order} está en estado «{status}», por lo que no es posible hacerlo ahora."
        }
        (p::NOT_ELIGIBLE, "fr") => {
            "Votre commande {order} est au statut « {status} » : ce n'est pas possible pour le moment."
        }
        (p::NOT_ELIGIBLE, "de") => {
            "Ihre Bestellung {order} hat den Status „{status}“, daher ist das gerade nicht möglich."
        }
        (p::NOT_ELIGIBLE, "zh") => "您的订单 {order} 状态为“{status}”，目前无法办理。",
        (p::NOT_ELIGIBLE, _) => "Your order {order} is {status}, so that isn't possible right now.",
        (p::ORDER_NOT_FOUND, "es") => {
            "No encuentro ese pedido en su cuenta. ¿Puede indicarme el número de pedido?"
        }
        (p::ORDER_NOT_FOUND, "fr") => {
            "Je ne trouve pas cette commande sur votre compte. Pouvez-vous me donner son numéro ?"
        }
        (p::ORDER_NOT_FOUND, "de") => {
            "Ich finde diese Bestellung nicht in Ihrem Konto. Können Sie mir die Bestellnummer nennen?"
        }
        (p::ORDER_NOT_FOUND, "zh") => "在您的账户中找不到该订单，请提供订单号。",
        (p::ORDER_NOT_FOUND, _) => {
            "I can't find that order on your account. Could you give me the order number?"
        }
        (_, "es") => "Gracias por su mensaje. ¿En qué más puedo ayudarle?",
        (_, "fr") => "Merci pour votre message. Comment puis-je vous aider ?",
        (_, "de") => "Danke für Ihre Nachricht. Wie kann ich helfen?",
        (_, "zh") => "感谢您的留言。还有什么可以帮您？",
        (_, _) => "Thanks for your message. How else can I help?",
    }
}
