//! The model on Amazon Bedrock (the Converse API), behind the [`Model`] port.
//!
//! - **Routing**: triage and [`ModelRoute::Fast`] drafts go to the fast model, complex turns to
//!   the strong one; each route has a fallback chain tried in order.
//! - **Throttling**: `ThrottlingException` is retried with exponential backoff and full jitter;
//!   when a model stays throttled (or is unavailable) the next model of the chain is tried.
//! - **Circuit breaker**: a model failing `breaker_threshold` calls in a row is skipped for
//!   `breaker_cooldown`, so a turn does not wait on a model that is down.
//! - **Budgets**: before each call the customer's tokens used are checked against their plan's
//!   limit ([`Budgets`]); over budget fails with [`PortError::BudgetExceeded`], whose error name
//!   the turn's `Catch` routes to Escalate — never a silent failure.
//! - **Tools**: drafts may look up orders and customers in the back office (reads only; writes are
//!   proposed by Act and approved), as `toolSpec`s with JSON schemas, in a loop bounded by
//!   `max_tool_rounds`.
//! - **Guardrails**: `guardrailConfig` with trace; an intervention fails with
//!   [`PortError::GuardrailBlocked`].
//! - **Usage**: every result carries the tokens used and the model that answered, which the step
//!   returns and the journal records; [`Pricing`] turns it into cost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata as _;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseOutput as ModelOutput, GuardrailConfiguration,
    GuardrailTrace, InferenceConfiguration, Message as ModelMessage, StopReason,
    SystemContentBlock, Tool, ToolConfiguration, ToolInputSchema, ToolResultBlock,
    ToolResultContentBlock, ToolResultStatus, ToolSpecification,
};
use aws_smithy_types::{Document, Number};
use rand::Rng as _;
use serde_json::{Value, json};

use crate::payload::Usage;
use crate::ports::{
    BackOffice, Draft, DraftRequest, Model, ModelRoute, Port, PortError, PortResult, TriageRequest,
    TriageResult,
};

/// How the adapter calls Bedrock.
#[derive(Debug, Clone, PartialEq)]
pub struct BedrockSettings {
    /// Model ids for triage and simple turns, first choice first.
    pub fast: Vec<String>,
    /// Model ids for complex turns, first choice first.
    pub strong: Vec<String>,
    /// A guardrail `(identifier, version)`.
    pub guardrail: Option<(String, String)>,
    /// Retries of a throttled call on one model before falling back.
    pub max_retries: u32,
    /// The first backoff; doubled per retry, capped by `max_delay`, fully jittered.
    pub base_delay: Duration,
    /// The backoff cap.
    pub max_delay: Duration,
    /// Failures in a row that open a model's circuit.
    pub breaker_threshold: u32,
    /// How long an open circuit skips the model.
    pub breaker_cooldown: Duration,
    /// Model ↔ tool rounds allowed in one draft.
    pub max_tool_rounds: u32,
    /// The most tokens a reply may use.
    pub max_output_tokens: u32,
}

impl Default for BedrockSettings {
    fn default() -> BedrockSettings {
        BedrockSettings {
            fast: vec![
                "anthropic.claude-3-haiku-20240307-v1:0".into(),
                "amazon.nova-lite-v1:0".into(),
            ],
            strong: vec![
                "anthropic.claude-3-5-sonnet-20240620-v1:0".into(),
                "anthropic.claude-3-haiku-20240307-v1:0".into(),
            ],
            guardrail: None,
            max_retries: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(30),
            max_tool_rounds: 4,
            max_output_tokens: 800,
        }
    }
}

/// Token limits per plan, and the tokens each customer has used.
#[derive(Debug, Default)]
pub struct Budgets {
    limits: HashMap<String, u64>,
    plan_of: HashMap<String, String>,
    default_plan: String,
    used: Mutex<HashMap<String, u64>>,
}

impl Budgets {
    /// Budgets where a customer with no plan known is on `default_plan`.
    pub fn new(default_plan: &str) -> Budgets {
        Budgets {
            default_plan: default_plan.to_owned(),
            ..Budgets::default()
        }
    }

    /// The token limit of a plan (a plan without one is unlimited).
    pub fn limit(mut self, plan: &str, tokens: u64) -> Budgets {
        self.limits.insert(plan.to_owned(), tokens);
        self
    }

    /// A customer's plan.
    pub fn plan(mut self, customer_id: &str, plan: &str) -> Budgets {
        self.plan_of.insert(customer_id.to_owned(), plan.to_owned());
        self
    }

    fn check(&self, customer_id: Option<&str>, estimate: u64) -> PortResult<()> {
        let Some(customer) = customer_id else {
            return Ok(());
        };
        let plan = self.plan_of.get(customer).unwrap_or(&self.default_plan);
        let Some(limit) = self.limits.get(plan) else {
            return Ok(());
        };
        let used = self
            .used
            .lock()
            .map(|u| u.get(customer).copied().unwrap_or(0))
            .unwrap_or(0);
        if used + estimate > *limit {
            return Err(PortError::BudgetExceeded(format!(
                "customer {customer} on plan {plan} has used {used} of {limit} tokens; the call needs about {estimate}"
            )));
        }
        Ok(())
    }

    fn charge(&self, customer_id: Option<&str>, tokens: u64) {
        if let (Some(customer), Ok(mut used)) = (customer_id, self.used.lock()) {
            *used.entry(customer.to_owned()).or_insert(0) += tokens;
        }
    }

    /// Tokens a customer has used.
    pub fn used(&self, customer_id: &str) -> u64 {
        self.used
            .lock()
            .map(|u| u.get(customer_id).copied().unwrap_or(0))
            .unwrap_or(0)
    }
}

/// Prices per thousand tokens, by model id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pricing {
    /// `model id → (input, output)` in dollars per thousand tokens.
    pub per_thousand: HashMap<String, (f64, f64)>,
}

impl Pricing {
    /// The cost of a call, in dollars (0 for a model without a price).
    pub fn cost(&self, usage: &Usage) -> f64 {
        let (input, output) = self
            .per_thousand
            .get(&usage.model_id)
            .copied()
            .unwrap_or((0.0, 0.0));
        (usage.input_tokens as f64 * input + usage.output_tokens as f64 * output) / 1000.0
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
}

/// The Bedrock model adapter.
pub struct BedrockModel {
    client: aws_sdk_bedrockruntime::Client,
    settings: BedrockSettings,
    budgets: Arc<Budgets>,
    back_office: Option<Arc<dyn BackOffice>>,
    breakers: Mutex<HashMap<String, Breaker>>,
}

impl std::fmt::Debug for BedrockModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BedrockModel")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// One answered conversation with the model.
struct Answer {
    text: String,
    usage: Usage,
}

/// Why one model call failed.
enum CallError {
    /// Throttled: retry, then fall back.
    Throttled(String),
    /// Down or erroring: fall back.
    Unavailable(String),
    /// Not the model's fault and not going away: stop.
    Fatal(PortError),
}

const TRIAGE_PROMPT: &str = "You triage customer-support messages for an online shop. Answer with one JSON object only: {\"language\": ISO 639-1 code, \"intent\": snake_case intent, \"confidence\": 0..1, \"sentiment\": -1..1, \"blocked\": null or \"prompt_attack\"|\"abuse\"|\"off_topic\", \"escalate\": [reasons], \"orderIds\": [], \"emails\": [], \"amounts\": []}.";

const DRAFT_PROMPT: &str = "You are a customer-support agent for an online shop. Reply in the customer's language, briefly and politely. State only facts given to you or returned by the tools, and cite passage ids in square brackets. Never promise a refund, return or cancellation that the facts do not say was done.";

fn to_document(v: &Value) -> Document {
    match v {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(*b),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Document::Number(Number::PosInt(u))
            } else if let Some(i) = n.as_i64() {
                Document::Number(Number::NegInt(i))
            } else {
                Document::Number(Number::Float(n.as_f64().unwrap_or(0.0)))
            }
        }
        Value::String(s) => Document::String(s.clone()),
        Value::Array(a) => Document::Array(a.iter().map(to_document).collect()),
        Value::Object(o) => {
            Document::Object(o.iter().map(|(k, v)| (k.clone(), to_document(v))).collect())
        }
    }
}

fn from_document(d: &Document) -> Value {
    match d {
        Document::Null => Value::Null,
        Document::Bool(b) => Value::Bool(*b),
        Document::Number(Number::PosInt(u)) => json!(u),
        Document::Number(Number::NegInt(i)) => json!(i),
        Document::Number(Number::Float(f)) => json!(f),
        Document::String(s) => Value::String(s.clone()),
        Document::Array(a) => Value::Array(a.iter().map(from_document).collect()),
        Document::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), from_document(v)))
                .collect(),
        ),
    }
}

fn invalid(e: impl std::fmt::Display) -> PortError {
    PortError::InvalidModelOutput(e.to_string())
}

/// The back-office tools the model may call while drafting: reads only.
fn tools() -> PortResult<ToolConfiguration> {
    let spec = |name: &str, description: &str, schema: Value| {
        ToolSpecification::builder()
            .name(name)
            .description(description)
            .input_schema(ToolInputSchema::Json(to_document(&schema)))
            .build()
            .map(Tool::ToolSpec)
            .map_err(invalid)
    };
    ToolConfiguration::builder()
        .tools(spec(
            "lookup_order",
            "The status, lines and total of an order, by its id (e.g. W1001).",
            json!({"type": "object", "properties": {"orderId": {"type": "string"}}, "required": ["orderId"]}),
        )?)
        .tools(spec(
            "orders_of_customer",
            "A customer's orders, newest first.",
            json!({"type": "object", "properties": {"customerId": {"type": "string"}}, "required": ["customerId"]}),
        )?)
        .build()
        .map_err(invalid)
}

impl BedrockModel {
    /// A model adapter; the client is derived from the shared SDK configuration with the SDK's
    /// own retries off, since this adapter retries and falls back itself.
    pub fn new(
        config: &aws_config::SdkConfig,
        settings: BedrockSettings,
        budgets: Arc<Budgets>,
    ) -> BedrockModel {
        let conf = aws_sdk_bedrockruntime::config::Builder::from(config)
            .retry_config(aws_sdk_bedrockruntime::config::retry::RetryConfig::disabled())
            .build();
        BedrockModel {
            client: aws_sdk_bedrockruntime::Client::from_conf(conf),
            settings,
            budgets,
            back_office: None,
            breakers: Mutex::new(HashMap::new()),
        }
    }

    /// Lets drafts look up orders and customers.
    pub fn with_back_office(mut self, back_office: Arc<dyn BackOffice>) -> BedrockModel {
        self.back_office = Some(back_office);
        self
    }

    fn chain(&self, route: ModelRoute) -> &[String] {
        match route {
            ModelRoute::Fast => &self.settings.fast,
            ModelRoute::Strong => &self.settings.strong,
        }
    }

    fn circuit_open(&self, model: &str) -> bool {
        self.breakers
            .lock()
            .ok()
            .and_then(|b| b.get(model).and_then(|b| b.open_until))
            .is_some_and(|until| Instant::now() < until)
    }

    fn record(&self, model: &str, ok: bool) {
        if let Ok(mut breakers) = self.breakers.lock() {
            let b = breakers.entry(model.to_owned()).or_default();
            if ok {
                *b = Breaker::default();
            } else {
                b.failures += 1;
                if b.failures >= self.settings.breaker_threshold {
                    b.open_until = Some(Instant::now() + self.settings.breaker_cooldown);
                    b.failures = 0;
                }
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let cap = self
            .settings
            .base_delay
            .saturating_mul(2_u32.saturating_pow(attempt))
            .min(self.settings.max_delay);
        let millis = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=millis))
    }

    /// Converse through the route's chain: budget check, retries on throttling, fallback, the
    /// circuit breaker, and the tool loop.
    async fn converse(
        &self,
        route: ModelRoute,
        customer_id: Option<&str>,
        system: &str,
        text: &str,
        with_tools: bool,
    ) -> PortResult<Answer> {
        // About four characters a token, plus the reply.
        let estimate =
            ((system.len() + text.len()) / 4) as u64 + u64::from(self.settings.max_output_tokens);
        self.budgets.check(customer_id, estimate)?;
        let mut last = String::from("no model configured");
        let mut throttled = false;
        for model in self.chain(route) {
            if self.circuit_open(model) {
                last = format!("{model}: circuit open");
                continue;
            }
            let mut attempt = 0;
            loop {
                match self.conversation(model, system, text, with_tools).await {
                    Ok(answer) => {
                        self.record(model, true);
                        let total = answer.usage.input_tokens + answer.usage.output_tokens;
                        self.budgets.charge(customer_id, total);
                        return Ok(answer);
                    }
                    Err(CallError::Fatal(e)) => return Err(e),
                    Err(CallError::Throttled(m)) if attempt < self.settings.max_retries => {
                        tracing::debug!(%model, attempt, reason = %m, "throttled; backing off");
                        tokio::time::sleep(self.backoff(attempt)).await;
                        attempt += 1;
                    }
                    Err(CallError::Throttled(m)) => {
                        self.record(model, false);
                        throttled = true;
                        last = format!("{model}: {m}");
                        break;
                    }
                    Err(CallError::Unavailable(m)) => {
                        self.record(model, false);
                        last = format!("{model}: {m}");
                        break;
                    }
                }
            }
            tracing::warn!(%model, reason = %last, "falling back to the next model");
        }
        if throttled {
            Err(PortError::Throttled(last))
        } else {
            Err(PortError::Unavailable {
                port: Port::Model,
                message: last,
            })
        }
    }

    /// One model's conversation, tool rounds included.
    async fn conversation(
        &self,
        model: &str,
        system: &str,
        text: &str,
        with_tools: bool,
    ) -> Result<Answer, CallError> {
        let fatal = |e: PortError| CallError::Fatal(e);
        let mut messages = vec![
            ModelMessage::builder()
                .role(ConversationRole::User)
                .content(ContentBlock::Text(text.to_owned()))
                .build()
                .map_err(|e| fatal(invalid(e)))?,
        ];
        let tool_config = match (&self.back_office, with_tools) {
            (Some(_), true) => Some(tools().map_err(fatal)?),
            _ => None,
        };
        let mut usage = Usage {
            model_id: model.to_owned(),
            input_tokens: 0,
            output_tokens: 0,
        };
        for _round in 0..=self.settings.max_tool_rounds {
            let mut request = self
                .client
                .converse()
                .model_id(model)
                .system(SystemContentBlock::Text(system.to_owned()))
                .set_messages(Some(messages.clone()))
                .set_tool_config(tool_config.clone())
                .inference_config(
                    InferenceConfiguration::builder()
                        .max_tokens(i32::try_from(self.settings.max_output_tokens).unwrap_or(800))
                        .build(),
                );
            if let Some((id, version)) = &self.settings.guardrail {
                request = request.guardrail_config(
                    GuardrailConfiguration::builder()
                        .guardrail_identifier(id)
                        .guardrail_version(version)
                        .trace(GuardrailTrace::Enabled)
                        .build(),
                );
            }
            let out = match request.send().await {
                Ok(out) => out,
                Err(e) => {
                    let code = e.code().unwrap_or_default().to_owned();
                    let message = format!(
                        "{}",
                        aws_smithy_types::error::display::DisplayErrorContext(&e)
                    );
                    return Err(match code.as_str() {
                        "ThrottlingException" | "TooManyRequestsException" => {
                            CallError::Throttled(message)
                        }
                        "ValidationException" | "AccessDeniedException" => {
                            // Often model-specific (not enabled in this account): fall back.
                            CallError::Unavailable(message)
                        }
                        _ => CallError::Unavailable(message),
                    });
                }
            };
            if let Some(u) = out.usage() {
                usage.input_tokens += u64::try_from(u.input_tokens()).unwrap_or(0);
                usage.output_tokens += u64::try_from(u.output_tokens()).unwrap_or(0);
            }
            let message = match out.output() {
                Some(ModelOutput::Message(m)) => m.clone(),
                _ => return Err(fatal(invalid("no message in the model's output"))),
            };
            let reply: String = message
                .content()
                .iter()
                .filter_map(|c| c.as_text().ok().cloned())
                .collect::<Vec<_>>()
                .join("");
            match out.stop_reason() {
                StopReason::GuardrailIntervened => {
                    let detail = out
                        .trace()
                        .and_then(|t| t.guardrail())
                        .map(|g| format!("{g:?}"))
                        .map(|d| {
                            if d.contains("DENIED") || d.contains("BLOCKED") {
                                "blocked by policy".to_owned()
                            } else {
                                d
                            }
                        })
                        .unwrap_or_else(|| reply.clone());
                    return Err(fatal(PortError::GuardrailBlocked(detail)));
                }
                StopReason::ToolUse => {
                    let uses: Vec<_> = message
                        .content()
                        .iter()
                        .filter_map(|c| c.as_tool_use().ok().cloned())
                        .collect();
                    messages.push(message);
                    let mut results = ModelMessage::builder().role(ConversationRole::User);
                    for tool_use in uses {
                        let input = from_document(tool_use.input());
                        let (status, content) = match self.call_tool(tool_use.name(), &input).await
                        {
                            Ok(v) => (ToolResultStatus::Success, v),
                            Err(e) => (ToolResultStatus::Error, json!({"error": e.to_string()})),
                        };
                        results = results.content(ContentBlock::ToolResult(
                            ToolResultBlock::builder()
                                .tool_use_id(tool_use.tool_use_id())
                                .content(ToolResultContentBlock::Json(to_document(&content)))
                                .status(status)
                                .build()
                                .map_err(|e| fatal(invalid(e)))?,
                        ));
                    }
                    messages.push(results.build().map_err(|e| fatal(invalid(e)))?);
                }
                _ => return Ok(Answer { text: reply, usage }),
            }
        }
        Err(fatal(invalid(format!(
            "more than {} tool rounds",
            self.settings.max_tool_rounds
        ))))
    }

    async fn call_tool(&self, name: &str, input: &Value) -> PortResult<Value> {
        let back_office = self
            .back_office
            .as_ref()
            .ok_or_else(|| invalid("no tools"))?;
        let arg = |field: &str| {
            input
                .get(field)
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(format!("{name} needs `{field}`")))
        };
        let value = match name {
            "lookup_order" => serde_json::to_value(back_office.order(arg("orderId")?).await?),
            "orders_of_customer" => {
                serde_json::to_value(back_office.orders_of(arg("customerId")?).await?)
            }
            other => return Err(invalid(format!("unknown tool `{other}`"))),
        };
        value.map_err(invalid)
    }
}

fn strings(v: &Value, field: &str) -> Vec<String> {
    v.get(field)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The first `{…}` of a text: models like to wrap JSON in prose or fences.
fn json_object(text: &str) -> PortResult<Value> {
    let start = text
        .find('{')
        .ok_or_else(|| invalid("no JSON object in the triage"))?;
    let end = text
        .rfind('}')
        .ok_or_else(|| invalid("no JSON object in the triage"))?;
    serde_json::from_str(text.get(start..=end).unwrap_or_default()).map_err(invalid)
}

#[async_trait]
impl Model for BedrockModel {
    async fn triage(&self, request: &TriageRequest) -> PortResult<TriageResult> {
        let mut text = String::new();
        for h in &request.history {
            text.push_str("Earlier: ");
            text.push_str(h);
            text.push('\n');
        }
        text.push_str("Message: ");
        text.push_str(&request.text);
        let answer = self
            .converse(
                ModelRoute::Fast,
                request.customer_id.as_deref(),
                TRIAGE_PROMPT,
                &text,
                false,
            )
            .await?;
        let v = json_object(&answer.text)?;
        Ok(TriageResult {
            language: v
                .get("language")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("triage without a language"))?
                .to_owned(),
            intent: v
                .get("intent")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("triage without an intent"))?
                .to_owned(),
            confidence: v.get("confidence").and_then(Value::as_f64).unwrap_or(0.0),
            sentiment: v.get("sentiment").and_then(Value::as_f64).unwrap_or(0.0),
            blocked: v.get("blocked").and_then(Value::as_str).map(str::to_owned),
            escalate: strings(&v, "escalate"),
            order_ids: strings(&v, "orderIds"),
            emails: strings(&v, "emails"),
            amounts: v
                .get("amounts")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_f64).collect())
                .unwrap_or_default(),
            usage: Some(answer.usage),
        })
    }

    async fn draft(&self, request: &DraftRequest) -> PortResult<Draft> {
        let passages: Vec<Value> = request
            .passages
            .iter()
            .map(|p| json!({"id": p.id, "title": p.title, "text": p.text}))
            .collect();
        let prompt = json!({
            "language": request.language,
            "intent": request.intent,
            "purpose": request.purpose,
            "customerId": request.customer_id,
            "message": request.text,
            "passages": passages,
            "facts": request.facts,
        });
        let answer = self
            .converse(
                request.route,
                request.customer_id.as_deref(),
                DRAFT_PROMPT,
                &prompt.to_string(),
                true,
            )
            .await?;
        if answer.text.trim().is_empty() {
            return Err(invalid("an empty reply"));
        }
        let citations = request
            .passages
            .iter()
            .filter(|p| answer.text.contains(&format!("[{}]", p.id)))
            .map(|p| p.id.clone())
            .collect();
        Ok(Draft {
            text: answer.text,
            citations,
            usage: Some(answer.usage),
        })
    }
}
