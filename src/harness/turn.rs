//! The real turn definition (`state-machines/turn.asl.json`) on the embedded engine, with
//! zero-latency in-process handlers returning facts that steer a turn down the
//! simple-question path (or, `parked`, to a park on the approval task token).

use serde_json::{Value, json};

use crate::engine::{Engine, EngineError, Handler};

/// The turn definition as generated (with `${…}` placeholders).
pub const TURN_ASL: &str = include_str!("../../state-machines/turn.asl.json");

/// The steps and the placeholder of each.
pub const STEPS: &[(&str, &str)] = &[
    ("triage", "TriageActivityArn"),
    ("retrieve", "RetrieveActivityArn"),
    ("act", "ActActivityArn"),
    ("verify", "VerifyActivityArn"),
    ("commit", "CommitActivityArn"),
    ("respond", "RespondActivityArn"),
    ("escalate", "EscalateActivityArn"),
];

/// The embedded approval queue's name.
pub const APPROVAL_QUEUE: &str = "turnflow-approvals";

/// The definition with local activity ARNs and the embedded approval queue.
pub fn definition(engine: &Engine) -> String {
    let mut text = TURN_ASL.to_string();
    for (step, placeholder) in STEPS {
        text = text.replace(
            &format!("${{{placeholder}}}"),
            &engine.arns().activity(step),
        );
    }
    text.replace(
        "${ApprovalQueueUrl}",
        &format!(
            "https://sqs.{}.amazonaws.com/{}/{APPROVAL_QUEUE}",
            engine.arns().region,
            engine.arns().account
        ),
    )
}

/// Creates the activities and the state machine `name`; returns its ARN.
pub async fn install(engine: &Engine, name: &str) -> Result<String, EngineError> {
    for (step, _) in STEPS {
        engine.create_activity(step).await?;
    }
    let sm = engine
        .create_state_machine(
            name,
            &definition(engine),
            "arn:aws:iam::123456789012:role/turnflow",
        )
        .await?;
    Ok(sm.state_machine_arn)
}

/// The facts a zero-latency step returns.
pub fn facts(step: &str, parked: bool) -> Value {
    match step {
        "triage" => {
            json!({"route": "answer", "language": "en", "intent": "order_status", "complexity": "simple"})
        }
        "retrieve" => json!({"passages": [{"source": "kb-shipping-1", "score": 0.92}]}),
        "act" => {
            json!({"reads": {"order": "o-1001", "status": "shipped"}, "proposal": {"kind": "none"}})
        }
        "verify" if parked => json!({"outcome": "needs_approval", "reason": "refund above limit"}),
        "verify" => json!({"outcome": "respond"}),
        "respond" => json!({"delivered": true, "citations": ["kb-shipping-1"]}),
        _ => json!({"ok": true}),
    }
}

/// Registers zero-latency handlers for every step.
pub fn register(engine: &Engine, parked: bool) {
    for (step, _) in STEPS {
        let out = facts(step, parked);
        engine.register_activity(
            step,
            Handler::new(move |_| {
                let out = out.clone();
                async move { Ok(out) }
            }),
        );
    }
}

/// A turn's input.
pub fn input(i: usize) -> String {
    json!({"v": 1, "conversationId": format!("c-{}", i % 997), "messageId": format!("m-{i}"),
           "customerId": format!("u-{}", i % 313), "text": "where is my order?"})
    .to_string()
}
