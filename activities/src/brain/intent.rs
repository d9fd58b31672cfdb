//! The intents the brain recognises.

use serde::{Deserialize, Serialize};

/// What a customer message asks for.
///
/// The list covers the support flows of a retail back office plus the firewall classes
/// ([`Intent::OutOfScope`], [`Intent::PromptAttack`]). The wire name ([`Intent::as_str`]) is
/// stable: it is what the workflow's Choice rules and the journal see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Where is my order, has it shipped, tracking.
    OrderStatus,
    /// Cancel an order.
    CancelOrder,
    /// Change an order (items, quantity) or its shipping address, or set up a delivery address.
    ChangeOrder,
    /// Buy something, place a new order.
    PlaceOrder,
    /// Send an item back.
    Return,
    /// Swap an item for another size, colour or model.
    Exchange,
    /// Ask for money back.
    RefundRequest,
    /// Where is my refund.
    RefundStatus,
    /// Delivery options, shipping methods, delivery times.
    Delivery,
    /// A payment problem, or a question about how to pay (accepted methods).
    PaymentIssue,
    /// Get or check an invoice or receipt.
    Invoice,
    /// Create, edit, switch, delete an account; password and login; newsletter and e-mail
    /// preferences.
    Account,
    /// A question about a product: size, material, stock, compatibility.
    ProductQuestion,
    /// A question about the written policy: return window, warranty, fees, refund conditions.
    PolicyQuestion,
    /// A complaint about the service, a product or an employee.
    Complaint,
    /// The customer wants to leave a review or feedback.
    Feedback,
    /// How to reach customer service: channels, phone number, opening hours.
    ContactInfo,
    /// The customer asks to be handed to a person.
    HumanRequest,
    /// The customer threatens legal action.
    LegalThreat,
    /// Hello, thanks, goodbye: no request.
    Greeting,
    /// Not something a retail support assistant handles.
    OutOfScope,
    /// Prompt injection, jailbreak, or an attempt to make the assistant leave its role.
    PromptAttack,
}

impl Intent {
    /// Every intent, in declaration order (the classifier's class order).
    pub const ALL: [Intent; 22] = [
        Intent::OrderStatus,
        Intent::CancelOrder,
        Intent::ChangeOrder,
        Intent::PlaceOrder,
        Intent::Return,
        Intent::Exchange,
        Intent::RefundRequest,
        Intent::RefundStatus,
        Intent::Delivery,
        Intent::PaymentIssue,
        Intent::Invoice,
        Intent::Account,
        Intent::ProductQuestion,
        Intent::PolicyQuestion,
        Intent::Complaint,
        Intent::Feedback,
        Intent::ContactInfo,
        Intent::HumanRequest,
        Intent::LegalThreat,
        Intent::Greeting,
        Intent::OutOfScope,
        Intent::PromptAttack,
    ];

    /// The stable wire name, `snake_case`.
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::OrderStatus => "order_status",
            Intent::CancelOrder => "cancel_order",
            Intent::ChangeOrder => "change_order",
            Intent::PlaceOrder => "place_order",
            Intent::Return => "return",
            Intent::Exchange => "exchange",
            Intent::RefundRequest => "refund_request",
            Intent::RefundStatus => "refund_status",
            Intent::Delivery => "delivery",
            Intent::PaymentIssue => "payment_issue",
            Intent::Invoice => "invoice",
            Intent::Account => "account",
            Intent::ProductQuestion => "product_question",
            Intent::PolicyQuestion => "policy_question",
            Intent::Complaint => "complaint",
            Intent::Feedback => "feedback",
            Intent::ContactInfo => "contact_info",
            Intent::HumanRequest => "human_request",
            Intent::LegalThreat => "legal_threat",
            Intent::Greeting => "greeting",
            Intent::OutOfScope => "out_of_scope",
            Intent::PromptAttack => "prompt_attack",
        }
    }

    /// Parses a wire name.
    pub fn from_name(name: &str) -> Option<Intent> {
        Intent::ALL.into_iter().find(|i| i.as_str() == name)
    }

    /// The position of this intent in [`Intent::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether acting on this intent changes something in the back office (a write that a wrong
    /// guess would make costly), so that a low confidence should bring in a person.
    pub fn is_actionable(self) -> bool {
        matches!(
            self,
            Intent::CancelOrder
                | Intent::ChangeOrder
                | Intent::Return
                | Intent::Exchange
                | Intent::RefundRequest
        )
    }
}

impl std::fmt::Display for Intent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_index_matches_position() {
        for (pos, intent) in Intent::ALL.into_iter().enumerate() {
            assert_eq!(intent.index(), pos);
            assert_eq!(Intent::from_name(intent.as_str()), Some(intent));
            let json = serde_json::to_string(&intent).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", intent.as_str()));
        }
    }
}
