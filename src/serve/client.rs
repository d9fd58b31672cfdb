//! The desk's clients: `turnflow chat` (a customer at a terminal), `turnflow approvals …` (an
//! agent) and `turnflow trace` (an operator), over the desk's HTTP routes — and, for trace,
//! the Step Functions API on the same address.

use std::io::{BufRead as _, Write as _};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::client::{self as sfn_client, Endpoint};

/// How long `chat` waits for a reply before it says so.
const REPLY_WAIT: Duration = Duration::from_secs(30);

/// An HTTP client of the desk at `base` (`http://127.0.0.1:8083`).
#[derive(Debug, Clone)]
pub struct DeskClient {
    base: String,
    http: reqwest::Client,
}

impl DeskClient {
    /// A client of the desk at `base`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(base: &str) -> anyhow::Result<DeskClient> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .context("failed to build the HTTP client")?;
        Ok(DeskClient {
            base: base.trim_end_matches('/').to_owned(),
            http,
        })
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<(u16, Value)> {
        let response = request.send().await.with_context(|| {
            format!(
                "failed to reach the desk at {} (is `turnflow serve` running? --url says where)",
                self.base
            )
        })?;
        let status = response.status().as_u16();
        let body: Value = response
            .json()
            .await
            .context("the desk answered something that is not JSON")?;
        Ok((status, body))
    }

    async fn ok(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let (status, body) = self.send(request).await?;
        if status >= 400 {
            let message = body
                .get("error")
                .and_then(Value::as_str)
                .map_or_else(|| body.to_string(), str::to_owned);
            bail!("{message} (HTTP {status})");
        }
        Ok(body)
    }

    /// `POST /events`.
    ///
    /// # Errors
    /// When the desk refuses the event (the message says why) or cannot be reached.
    pub async fn post_event(&self, event: &Value) -> anyhow::Result<Value> {
        self.ok(self.http.post(format!("{}/events", self.base)).json(event))
            .await
    }

    /// `GET /conversations/{id}`; `None` when the desk has no such conversation yet.
    ///
    /// # Errors
    /// When the desk cannot be reached or fails.
    pub async fn conversation(&self, id: &str) -> anyhow::Result<Option<Value>> {
        let (status, body) = self
            .send(
                self.http
                    .get(format!("{}/conversations/{}", self.base, encode(id))),
            )
            .await?;
        match status {
            404 => Ok(None),
            s if s >= 400 => bail!("{} (HTTP {s})", body["error"].as_str().unwrap_or("error")),
            _ => Ok(Some(body)),
        }
    }

    /// `GET /approvals`.
    ///
    /// # Errors
    /// When the desk cannot be reached or fails.
    pub async fn approvals(&self, status: &str) -> anyhow::Result<Vec<Value>> {
        let body = self
            .ok(self
                .http
                .get(format!("{}/approvals", self.base))
                .query(&[("status", status)]))
            .await?;
        Ok(body["approvals"].as_array().cloned().unwrap_or_default())
    }

    /// `GET /approvals/{id}`.
    ///
    /// # Errors
    /// When there is no such approval or the desk cannot be reached.
    pub async fn approval(&self, id: &str) -> anyhow::Result<Value> {
        self.ok(self
            .http
            .get(format!("{}/approvals/{}", self.base, encode(id))))
            .await
    }

    /// `POST /approvals/{id}/{approve|reject}`.
    ///
    /// # Errors
    /// When the decision is refused (already decided, expired) or the desk cannot be reached.
    pub async fn decide(&self, id: &str, decision: &str, by: &str) -> anyhow::Result<Value> {
        self.ok(self
            .http
            .post(format!("{}/approvals/{}/{decision}", self.base, encode(id)))
            .json(&json!({ "by": by })))
            .await
    }
}

fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `turnflow chat`: each line read is a customer message; each reply is printed with its
/// sources. Ends at end of input (Ctrl-D) or `/quit`.
///
/// # Errors
/// When the desk cannot be reached.
pub async fn chat(
    desk: &DeskClient,
    conversation: &str,
    customer: Option<&str>,
) -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    let interactive = std::io::IsTerminal::is_terminal(&stdin);
    if interactive {
        eprintln!(
            "conversation {conversation}{} — write as the customer; /quit or Ctrl-D ends",
            customer
                .map(|c| format!(" (customer {c})"))
                .unwrap_or_default()
        );
    }
    let mut seen = match desk.conversation(conversation).await? {
        Some(c) => c["messages"].as_array().map_or(0, Vec::len),
        None => 0,
    };
    let session = format!("{:x}", crate::serve::ingest::now_ms());
    let mut n = 0u32;
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
        let line = line.context("failed to read standard input")?;
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        if text == "/quit" {
            break;
        }
        n += 1;
        let message_id = format!("{conversation}-{session}-{n}");
        let event = json!({
            "v": 1,
            "eventId": message_id,
            "type": "message",
            "conversationId": conversation,
            "customerId": customer,
            "messageId": message_id,
            "text": text,
        });
        desk.post_event(&event).await?;
        // Our own message, then the reply.
        let deadline = Instant::now() + REPLY_WAIT;
        let mut replied = false;
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(150)).await;
            let Some(c) = desk.conversation(conversation).await? else {
                continue;
            };
            let messages = c["messages"].as_array().cloned().unwrap_or_default();
            let fresh: Vec<&Value> = messages
                .iter()
                .skip(seen)
                .filter(|m| m["author"] != "customer")
                .collect();
            if let Some(reply) = fresh.last() {
                seen = messages.len();
                let who = reply["author"].as_str().unwrap_or("bot");
                writeln!(out, "{who}> {}", reply["text"].as_str().unwrap_or_default())?;
                if let Some(turn) = c["turns"].as_array().and_then(|t| t.last())
                    && let Some(h) = turn.get("handoff")
                {
                    writeln!(
                        out,
                        "      (handed to a human: {})",
                        h["reason"].as_str().unwrap_or("see the handoff package")
                    )?;
                }
                out.flush()?;
                replied = true;
                break;
            }
            if let Some(turn) = c["turns"].as_array().and_then(|t| t.last())
                && turn["messageId"] == json!(message_id)
                && turn["status"] == "RUNNING"
                && waiting_on_approval(desk, conversation).await
            {
                writeln!(
                    out,
                    "bot> (a human must approve this first; the reply follows their decision)"
                )?;
                out.flush()?;
                replied = true;
                seen = messages.len();
                break;
            }
        }
        if !replied {
            writeln!(
                out,
                "(no reply within {}s; `turnflow trace {conversation}` shows where the turn is)",
                REPLY_WAIT.as_secs()
            )?;
        }
    }
    Ok(())
}

async fn waiting_on_approval(desk: &DeskClient, conversation: &str) -> bool {
    desk.approvals("pending")
        .await
        .map(|list| list.iter().any(|a| a["conversationId"] == conversation))
        .unwrap_or(false)
}

/// `turnflow approvals list`.
///
/// # Errors
/// When the desk cannot be reached.
pub async fn list_approvals(
    desk: &DeskClient,
    status: &str,
    json_out: bool,
) -> anyhow::Result<String> {
    let list = desk.approvals(status).await?;
    if json_out {
        return Ok(format!("{}\n", serde_json::to_string_pretty(&list)?));
    }
    if list.is_empty() {
        return Ok(format!("no {status} approvals\n"));
    }
    let mut out = format!(
        "{:<20} {:<10} {:<22} {:<16} {}\n",
        "APPROVAL", "STATUS", "CONVERSATION", "PROPOSAL", "REASON"
    );
    for a in &list {
        out.push_str(&format!(
            "{:<20} {:<10} {:<22} {:<16} {}\n",
            a["approvalId"].as_str().unwrap_or_default(),
            a["status"].as_str().unwrap_or_default(),
            a["conversationId"].as_str().unwrap_or_default(),
            proposal_summary(&a["proposal"]),
            a["audit"][0]["reason"].as_str().unwrap_or_default(),
        ));
    }
    Ok(out)
}

fn proposal_summary(p: &Value) -> String {
    let kind = p["kind"].as_str().unwrap_or("?");
    match p.get("amount").and_then(Value::as_f64) {
        Some(a) => format!("{kind} {a:.2}"),
        None => kind.to_owned(),
    }
}

/// `turnflow approvals show`.
///
/// # Errors
/// When there is no such approval or the desk cannot be reached.
pub async fn show_approval(desk: &DeskClient, id: &str) -> anyhow::Result<String> {
    Ok(format!(
        "{}\n",
        serde_json::to_string_pretty(&desk.approval(id).await?)?
    ))
}

/// `turnflow approvals approve|reject`.
///
/// # Errors
/// When the decision is refused or the desk cannot be reached.
pub async fn decide(
    desk: &DeskClient,
    id: &str,
    decision: &str,
    by: &str,
) -> anyhow::Result<String> {
    let facts = desk.decide(id, decision, by).await?;
    Ok(format!(
        "{id}: {} by {}; the turn resumes\n",
        facts["decision"].as_str().unwrap_or(decision),
        facts["approver"].as_str().unwrap_or(by)
    ))
}

/// `turnflow trace CONVERSATION|EXECUTION`: a conversation's transcript and every turn's steps
/// (state, input, output, time), or one execution's.
///
/// # Errors
/// When the desk or its Step Functions API cannot be reached, or nothing has that name.
pub async fn trace(desk: &DeskClient, endpoint: &Endpoint, what: &str) -> anyhow::Result<String> {
    let sfn = sfn_client::connect(endpoint).await;
    if what.starts_with("arn:") {
        return sfn_client::history(&sfn, what, false, true, false).await;
    }
    let Some(c) = desk.conversation(what).await? else {
        bail!(
            "no conversation {what:?} on the desk (an execution is named by its ARN: arn:aws:states:…)"
        );
    };
    let mut out = format!("conversation {what}");
    if let Some(status) = c["lifecycle"].get("status").and_then(Value::as_str) {
        out.push_str(&format!(" — {status}"));
    }
    out.push_str("\n\n");
    for m in c["messages"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  {:<8} {}\n",
            m["author"].as_str().unwrap_or_default(),
            m["text"].as_str().unwrap_or_default()
        ));
    }
    for turn in c["turns"].as_array().into_iter().flatten() {
        let arn = turn["executionArn"].as_str().unwrap_or_default();
        out.push_str(&format!(
            "\nturn {} — {} {}\n",
            turn["eventId"].as_str().unwrap_or_default(),
            turn["status"].as_str().unwrap_or("?"),
            arn
        ));
        if let Some(h) = turn.get("handoff") {
            out.push_str(&format!(
                "  handed to a human: {}\n",
                h["reason"].as_str().unwrap_or_default()
            ));
        }
        out.push_str(&sfn_client::history(&sfn, arn, false, true, false).await?);
    }
    Ok(out)
}
