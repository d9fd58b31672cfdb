//! The Bedrock adapter against a local fake of the Converse endpoint
//! (`POST /model/{modelId}/converse`, answering in the real API's shape): a tool-use round trip,
//! a guardrail intervention, throttling → retries → the fallback model, a budget exceeded before
//! the call (→ the error name the turn escalates on), and the circuit breaker.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, ensure};
use async_trait::async_trait;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use turnflow_activities::aws::bedrock::{BedrockModel, BedrockSettings, Budgets, Pricing};
use turnflow_activities::aws::config::AwsSettings;
use turnflow_activities::payload::Usage;
use turnflow_activities::ports::{
    BackOffice, Customer, DraftRequest, Model, ModelRoute, Order, OrderItem, Passage, PortError,
    PortResult, TriageRequest, Write, WriteResult,
};
use turnflow_workflows::errors::ErrorName;

/// What the fake answers: given the model id, the request body and the call number.
type Script = Arc<dyn Fn(&str, &Value, usize) -> Response + Send + Sync>;

#[derive(Clone)]
struct Fake {
    script: Script,
    calls: Arc<Mutex<Vec<(String, Value)>>>,
}

async fn converse(
    State(fake): State<Fake>,
    Path(model): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let n = {
        let mut calls = fake.calls.lock().unwrap_or_else(|p| p.into_inner());
        calls.push((model.clone(), body.clone()));
        calls.len()
    };
    (fake.script)(&model, &body, n)
}

fn answer(content: Value, stop: &str, input: u64, output: u64) -> Response {
    Json(json!({
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {"inputTokens": input, "outputTokens": output, "totalTokens": input + output},
        "metrics": {"latencyMs": 12}
    }))
    .into_response()
}

fn throttled() -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-amzn-ErrorType",
        HeaderValue::from_static(
            "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
        ),
    );
    (
        StatusCode::TOO_MANY_REQUESTS,
        headers,
        Json(json!({"message": "Too many requests, please wait before trying again."})),
    )
        .into_response()
}

struct Server {
    addr: SocketAddr,
    calls: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Server {
    fn calls(&self) -> Vec<(String, Value)> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

async fn serve(
    script: impl Fn(&str, &Value, usize) -> Response + Send + Sync + 'static,
) -> anyhow::Result<Server> {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let fake = Fake {
        script: Arc::new(script),
        calls: calls.clone(),
    };
    let app = axum::Router::new()
        .route("/model/{model}/converse", post(converse))
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Server { addr, calls })
}

fn settings() -> BedrockSettings {
    BedrockSettings {
        fast: vec!["fast-a".into(), "fast-b".into()],
        strong: vec!["strong-a".into(), "fast-a".into()],
        guardrail: None,
        max_retries: 2,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        breaker_threshold: 2,
        breaker_cooldown: Duration::from_secs(60),
        max_tool_rounds: 3,
        max_output_tokens: 100,
    }
}

async fn model(server: &Server, settings: BedrockSettings, budgets: Budgets) -> BedrockModel {
    let config = AwsSettings::local(&format!("http://{}", server.addr))
        .load()
        .await;
    BedrockModel::new(&config, settings, Arc::new(budgets))
}

struct Shop;

#[async_trait]
impl BackOffice for Shop {
    async fn find_customer_by_email(&self, _: &str) -> PortResult<Option<Customer>> {
        Ok(None)
    }
    async fn find_customer_by_name_zip(&self, _: &str, _: &str) -> PortResult<Option<Customer>> {
        Ok(None)
    }
    async fn customer(&self, _: &str) -> PortResult<Option<Customer>> {
        Ok(None)
    }
    async fn order(&self, id: &str) -> PortResult<Option<Order>> {
        Ok((id == "W1001").then(|| Order {
            id: "W1001".into(),
            customer_id: "cust-1".into(),
            status: "delivered".into(),
            items: vec![OrderItem {
                id: "i1".into(),
                name: "lamp".into(),
                price: 25.0,
            }],
            total: 25.0,
        }))
    }
    async fn orders_of(&self, _: &str) -> PortResult<Vec<Order>> {
        Ok(Vec::new())
    }
    async fn write(&self, _: &Write) -> PortResult<WriteResult> {
        Err(PortError::IdentityNotVerified)
    }
}

fn draft_request(route: ModelRoute, customer: &str) -> DraftRequest {
    DraftRequest {
        customer_id: Some(customer.into()),
        route,
        language: "en".into(),
        intent: "order_status".into(),
        text: "where is my order W1001?".into(),
        passages: vec![Passage {
            id: "kb-shipping#1".into(),
            title: "Shipping".into(),
            text: "Orders ship in 2 days.".into(),
            language: "en".into(),
            score: 3.2,
        }],
        facts: json!({}),
        purpose: "answer".into(),
    }
}

#[tokio::test]
async fn a_tool_use_round_trip_reads_the_back_office_and_sums_usage() -> anyhow::Result<()> {
    let server = serve(|model, body, n| {
        assert_eq!(model, "strong-a");
        if n == 1 {
            answer(
                json!([{"text": "Let me check."},
                       {"toolUse": {"toolUseId": "tu-1", "name": "lookup_order", "input": {"orderId": "W1001"}}}]),
                "tool_use",
                120,
                30,
            )
        } else {
            // The tool's result comes back as the next user message.
            let result = &body["messages"][2]["content"][0]["toolResult"];
            assert_eq!(result["toolUseId"], "tu-1");
            assert_eq!(result["status"], "success");
            assert_eq!(result["content"][0]["json"]["status"], "delivered");
            answer(
                json!([{"text": "Your order W1001 was delivered [kb-shipping#1]."}]),
                "end_turn",
                200,
                40,
            )
        }
    })
    .await?;
    let model = model(&server, settings(), Budgets::new("standard"))
        .await
        .with_back_office(Arc::new(Shop));
    let draft = model
        .draft(&draft_request(ModelRoute::Strong, "cust-1"))
        .await?;
    ensure!(draft.text == "Your order W1001 was delivered [kb-shipping#1].");
    ensure!(draft.citations == ["kb-shipping#1"]);
    let usage = draft.usage.context("no usage")?;
    ensure!(
        usage
            == Usage {
                model_id: "strong-a".into(),
                input_tokens: 320,
                output_tokens: 70
            }
    );
    let price = Pricing {
        per_thousand: [("strong-a".to_owned(), (3.0, 15.0))].into_iter().collect(),
    };
    ensure!((price.cost(&usage) - (0.96 + 1.05)).abs() < 1e-9);

    let calls = server.calls();
    ensure!(calls.len() == 2);
    let first = &calls[0].1;
    ensure!(
        first["system"][0]["text"]
            .as_str()
            .is_some_and(|s| s.contains("customer-support"))
    );
    ensure!(first["messages"][0]["role"] == "user");
    let tools = first["toolConfig"]["tools"]
        .as_array()
        .context("no tools")?;
    ensure!(tools[0]["toolSpec"]["name"] == "lookup_order");
    ensure!(tools[0]["toolSpec"]["inputSchema"]["json"]["required"][0] == "orderId");
    ensure!(first["inferenceConfig"]["maxTokens"] == 100);
    ensure!(calls[1].1["messages"][1]["content"][1]["toolUse"]["toolUseId"] == "tu-1");
    Ok(())
}

#[tokio::test]
async fn a_guardrail_intervention_is_a_blocked_step() -> anyhow::Result<()> {
    let server = serve(|_, _, _| {
        Json(json!({
            "output": {"message": {"role": "assistant", "content": [{"text": "Sorry, I cannot help with that."}]}},
            "stopReason": "guardrail_intervened",
            "usage": {"inputTokens": 50, "outputTokens": 8, "totalTokens": 58},
            "metrics": {"latencyMs": 9},
            "trace": {"guardrail": {"inputAssessment": {"gr-support": {"topicPolicy": {"topics": [
                {"name": "legal_advice", "type": "DENY", "action": "BLOCKED"}]}}}}}
        }))
        .into_response()
    })
    .await?;
    let mut s = settings();
    s.guardrail = Some(("gr-support".into(), "3".into()));
    let model = model(&server, s, Budgets::new("standard")).await;
    let result = model
        .draft(&draft_request(ModelRoute::Fast, "cust-1"))
        .await;
    let err = result.err().context("the guardrail should block")?;
    ensure!(matches!(err, PortError::GuardrailBlocked(_)), "{err:?}");
    ensure!(err.error_name() == ErrorName::GuardrailBlocked);
    let calls = server.calls();
    ensure!(calls.len() == 1, "a blocked call is not retried");
    let config = &calls[0].1["guardrailConfig"];
    ensure!(config["guardrailIdentifier"] == "gr-support" && config["guardrailVersion"] == "3");
    ensure!(config["trace"] == "enabled", "{config}");
    Ok(())
}

#[tokio::test]
async fn throttling_is_retried_then_the_fallback_model_answers() -> anyhow::Result<()> {
    let server = serve(|model, _, _| match model {
        "fast-a" => throttled(),
        _ => answer(
            json!([{"text": "```json\n{\"language\": \"es\", \"intent\": \"refund_request\", \"confidence\": 0.9, \"sentiment\": -0.4, \"blocked\": null, \"escalate\": [], \"orderIds\": [\"W1001\"], \"emails\": [], \"amounts\": [25.0]}\n```"}]),
            "end_turn",
            80,
            40,
        ),
    })
    .await?;
    let model = model(&server, settings(), Budgets::new("standard")).await;
    let request = TriageRequest {
        customer_id: Some("cust-1".into()),
        text: "quiero un reembolso del pedido W1001".into(),
        history: vec![],
    };
    let triage = model.triage(&request).await?;
    ensure!(triage.language == "es" && triage.intent == "refund_request");
    ensure!(triage.order_ids == ["W1001"] && triage.amounts == [25.0]);
    ensure!(triage.usage.as_ref().map(|u| u.model_id.as_str()) == Some("fast-b"));
    let models: Vec<String> = server.calls().into_iter().map(|(m, _)| m).collect();
    ensure!(
        models == ["fast-a", "fast-a", "fast-a", "fast-b"],
        "{models:?}"
    );

    // Each exhausted model counts one failure; at two in a row (the threshold) its circuit
    // opens and the next triage goes straight to fast-b.
    model.triage(&request).await?;
    model.triage(&request).await?;
    let models: Vec<String> = server.calls().into_iter().map(|(m, _)| m).collect();
    ensure!(
        models[4..] == ["fast-a", "fast-a", "fast-a", "fast-b", "fast-b"],
        "{models:?}"
    );
    Ok(())
}

#[tokio::test]
async fn every_model_throttled_is_the_throttled_error_name() -> anyhow::Result<()> {
    let server = serve(|_, _, _| throttled()).await?;
    let model = model(&server, settings(), Budgets::new("standard")).await;
    let err = model
        .draft(&draft_request(ModelRoute::Fast, "cust-1"))
        .await
        .err()
        .context("all throttled")?;
    ensure!(err.error_name() == ErrorName::ModelThrottled, "{err:?}");
    ensure!(server.calls().len() == 6, "3 tries on each of 2 models");
    Ok(())
}

#[tokio::test]
async fn over_budget_fails_before_the_call_with_the_name_the_turn_escalates_on()
-> anyhow::Result<()> {
    let server =
        serve(|_, _, _| answer(json!([{"text": "Here you go."}]), "end_turn", 700, 200)).await?;
    let budgets = Budgets::new("standard")
        .limit("standard", 1_000)
        .limit("premium", 100_000)
        .plan("cust-vip", "premium");
    let model = model(&server, settings(), budgets).await;
    model
        .draft(&draft_request(ModelRoute::Fast, "cust-1"))
        .await?;
    let err = model
        .draft(&draft_request(ModelRoute::Fast, "cust-1"))
        .await
        .err()
        .context("the second call is over budget")?;
    ensure!(matches!(err, PortError::BudgetExceeded(_)), "{err:?}");
    ensure!(err.error_name() == ErrorName::BudgetExceeded);
    ensure!(err.to_string().contains("used 900 of 1000"), "{err}");
    ensure!(server.calls().len() == 1, "no call made over budget");
    // Another customer on another plan is not affected.
    model
        .draft(&draft_request(ModelRoute::Fast, "cust-vip"))
        .await?;
    model
        .draft(&draft_request(ModelRoute::Fast, "cust-vip"))
        .await?;
    ensure!(server.calls().len() == 3);
    Ok(())
}
