//! `turnflow ops` on the real turn (state-machines/turn.asl.json) in the embedded engine, served
//! as the Step Functions API on `127.0.0.1:0` and driven through aws-sdk-sfn, in virtual time.
//!
//! Turns fail (a back-office outage, a model error, each with the helpdesk down so the handoff
//! fails too), are listed grouped, traced, replayed with their recorded results (the same
//! history), replayed against a changed definition (the first divergence), then — the handlers
//! fixed — redriven and rerun from the failed state under a fixed definition, with every
//! handler call counted per idempotency key: no succeeded step runs again, no side effect
//! happens twice. Bulk replay runs over 1,000 failed turns; check-compat runs over the recorded
//! fixtures in tests/fixtures/histories (made by `record_fixtures`, kept forever).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sfn::Client;
use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
use serde_json::{Value, json};
use turnflow::api::server::{self, ServerConfig, Shutdown};
use turnflow::engine::{Clock, Engine, EngineConfig, Finished, Handler, ManualClock, TaskFailure};
use turnflow::harness::turn;
use turnflow::journal::Durability;
use turnflow::ops::bulk::{self, BulkAction, BulkOptions, Verdict};
use turnflow::ops::compat::{self, Compat};
use turnflow::ops::failed::{self, Filter};
use turnflow::ops::fetch;
use turnflow::ops::replay::{self as ops_replay, Against};
use turnflow::ops::rerun::{self, RerunRequest};
use turnflow::ops::{self, OpsCommand, OpsError};
use turnflow_workflows::interp::replay::{DivergenceKind, views};

const T0: i64 = 1_700_000_000_000;
const EMAIL: &str = "jane.doe@example.com";

/// What the handlers do, and every call they got, per idempotency key.
#[derive(Debug, Default)]
struct World {
    backoffice_down: AtomicBool,
    model_broken: AtomicBool,
    helpdesk_down: AtomicBool,
    helpdesk_rejects: AtomicBool,
    needs_approval: AtomicBool,
    /// Calls per idempotency key.
    calls: Mutex<BTreeMap<String, u32>>,
    /// Successful calls (side effects done) per idempotency key.
    effects: Mutex<BTreeMap<String, u32>>,
}

impl World {
    fn calls(&self, key: &str) -> u32 {
        self.calls
            .lock()
            .expect("lock")
            .get(key)
            .copied()
            .unwrap_or(0)
    }

    fn effects_of(&self, prefix: &str) -> BTreeMap<String, u32> {
        self.effects
            .lock()
            .expect("lock")
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    fn handle(&self, step: &str, input: &Value) -> Result<Value, TaskFailure> {
        let key = input["idempotencyKey"].as_str().unwrap_or("?").to_owned();
        *self
            .calls
            .lock()
            .expect("lock")
            .entry(key.clone())
            .or_default() += 1;
        let on = |flag: &AtomicBool| flag.load(Ordering::SeqCst);
        let failure = match step {
            "act" if on(&self.backoffice_down) => Some(TaskFailure::new(
                "Turnflow.BackendUnavailable",
                "orders service: connection refused",
            )),
            "triage" if on(&self.model_broken) => Some(TaskFailure::new(
                "Turnflow.ModelInvalidOutput",
                format!("the model answered with no route for a message from {EMAIL}"),
            )),
            "escalate" if on(&self.helpdesk_down) => Some(TaskFailure::new(
                "Turnflow.BackendUnavailable",
                "helpdesk: 503",
            )),
            "escalate" if on(&self.helpdesk_rejects) => Some(TaskFailure::new(
                "Turnflow.BackendRejected",
                "helpdesk: queue closed",
            )),
            _ => None,
        };
        if let Some(f) = failure {
            return Err(f);
        }
        *self.effects.lock().expect("lock").entry(key).or_default() += 1;
        let mut out = turn::facts(step, on(&self.needs_approval));
        if step == "triage" {
            out["usage"] = json!({"modelId": "anthropic.claude-3-haiku", "inputTokens": 412,
                                  "outputTokens": 37, "promptVersion": "triage-v3"});
        }
        Ok(out)
    }
}

struct Local {
    client: Client,
    engine: Arc<Engine>,
    clock: Arc<ManualClock>,
    world: Arc<World>,
    machine: String,
    shutdown: Shutdown,
    dir: PathBuf,
}

impl Drop for Local {
    fn drop(&mut self) {
        self.shutdown.trigger();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "turnflow-ops-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

async fn local(tag: &str) -> Local {
    let dir = temp_dir(tag);
    let clock = ManualClock::new(T0);
    let mut config = EngineConfig::new(dir.join("journal.db"));
    config.clock = Arc::clone(&clock) as Arc<dyn Clock>;
    config.durability = Durability::Process;
    let engine = Arc::new(Engine::open(config).expect("engine opens"));
    let machine = turn::install(&engine, "turn")
        .await
        .expect("turn installed");
    let world = Arc::new(World::default());
    for (step, _) in turn::STEPS {
        let world = Arc::clone(&world);
        engine.register_activity(
            step,
            Handler::new(move |input: Value| {
                let out = world.handle(step, &input);
                async move { out }
            }),
        );
    }
    let shutdown = Shutdown::new();
    let (addr, _task) = server::spawn(
        "127.0.0.1:0".parse().expect("addr"),
        Arc::clone(&engine),
        ServerConfig::default(),
        shutdown.clone(),
    )
    .await
    .expect("server binds");
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(format!("http://{addr}"))
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .build();
    Local {
        client: Client::from_conf(config),
        engine,
        clock,
        world,
        machine,
        shutdown,
        dir,
    }
}

fn input(name: &str) -> String {
    json!({"v": 1, "conversationId": format!("c-{name}"), "messageId": format!("m-{name}"),
           "customerId": "cus-0001",
           "text": format!("where is my order? write to me at {EMAIL} or +44 20 7946 0958")})
    .to_string()
}

async fn start(l: &Local, name: &str) -> String {
    l.engine
        .start_execution(&l.machine, Some(name), Some(&input(name)))
        .await
        .expect("start")
        .execution_arn
}

/// Waits for the execution to finish, moving virtual time on so retry delays pass: each
/// time the engine is idle, to its next deadline exactly, so no handler is ever overtaken by
/// the clock.
async fn settle(l: &Local, arn: &str) -> Finished {
    let wait = l.engine.wait_for_execution(arn);
    tokio::pin!(wait);
    loop {
        tokio::select! {
            biased;
            done = &mut wait => return done.expect("finishes"),
            next = l.engine.until_idle() => match next.expect("the engine runs") {
                Some(at) => l.clock.advance((at - l.clock.now()).max(0)),
                // Nothing the clock can move: only an answer already on its way can end it.
                None => {
                    let done = tokio::time::timeout(Duration::from_secs(60), &mut wait).await;
                    return done.expect("the execution waits on nothing the clock moves").expect("finishes");
                }
            },
        }
    }
}

fn now(l: &Local) -> i64 {
    l.clock.now()
}

/// (type, state, payload) of every event: what "the same history" means.
fn shape(events: &[Value]) -> Vec<(String, Option<String>, Value)> {
    views(events)
        .into_iter()
        .map(|v| (v.event_type, v.state, v.payload))
        .collect()
}

/// The turn definition (local ARNs) with `edit` applied.
fn edited(l: &Local, edit: impl FnOnce(&mut Value)) -> Value {
    let mut d: Value = serde_json::from_str(&turn::definition(&l.engine)).expect("turn JSON");
    edit(&mut d);
    d
}

fn write_json(dir: &std::path::Path, name: &str, v: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(v).expect("json")).expect("write");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_turns_are_found_traced_replayed_redriven_and_rerun() {
    let l = local("scenario").await;
    let w = Arc::clone(&l.world);

    // A back-office outage, with the helpdesk down too: Act fails after its retries, the
    // handoff fails after its own, the turn fails.
    w.backoffice_down.store(true, Ordering::SeqCst);
    w.helpdesk_down.store(true, Ordering::SeqCst);
    let a = start(&l, "outage-a").await;
    let b = start(&l, "outage-b").await;
    for arn in [&a, &b] {
        let done = settle(&l, arn).await;
        assert_eq!(
            (done.status, done.error.as_deref()),
            ("FAILED", Some("Turnflow.EscalationFailed"))
        );
    }
    // A model error (not retried), the helpdesk still down.
    w.backoffice_down.store(false, Ordering::SeqCst);
    w.model_broken.store(true, Ordering::SeqCst);
    let c = start(&l, "model-c").await;
    assert_eq!(settle(&l, &c).await.status, "FAILED");
    assert_eq!(w.calls("outage-a/Act"), 4, "one attempt and three retries");
    assert_eq!(
        w.calls("outage-a/Escalate"),
        7,
        "one attempt and six retries"
    );

    // ops failed: grouped by the error and state the turn first failed in.
    let filter = Filter {
        since_ms: now(&l) - 24 * 3_600_000,
        ..Filter::default()
    };
    let groups = failed::group(
        failed::failed_turns(&l.client, &filter)
            .await
            .expect("failed"),
    );
    let summary: Vec<(String, String, usize)> = groups
        .iter()
        .map(|g| (g.error.clone(), g.state.clone(), g.turns.len()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("Turnflow.BackendUnavailable".into(), "Act".into(), 2),
            ("Turnflow.ModelInvalidOutput".into(), "Triage".into(), 1),
        ]
    );
    let report = ops::run(
        &l.client,
        OpsCommand::Failed {
            since: "24h".into(),
            state: Some("Triage".into()),
            error: None,
        },
        now(&l),
    )
    .await
    .expect("ops failed");
    println!("{}", report.text);
    assert!(report.text.contains("Turnflow.ModelInvalidOutput"));
    assert!(!report.text.contains("Turnflow.BackendUnavailable"));
    assert!(report.text.contains("1 failed, timed-out or aborted turns"));

    // ops trace: PII redacted, attempts and retries, the model call.
    let text = ops::trace::trace(&l.client, &a).await.expect("trace");
    println!("{text}");
    assert!(
        !text.contains(EMAIL) && text.contains("[email]"),
        "PII redacted"
    );
    assert!(text.contains("first failure  Turnflow.BackendUnavailable in Act"));
    let act_line = text
        .lines()
        .find(|line| line.trim_start().starts_with("Act "))
        .expect("an Act row");
    assert!(act_line.contains("4 (3r)"), "{act_line}");
    assert!(text.contains("anthropic.claude-3-haiku") && text.contains("triage-v3"));
    let trace_c = ops::trace::trace(&l.client, &c).await.expect("trace");
    assert!(!trace_c.contains(EMAIL), "causes are redacted too");

    // ops replay with the recorded definition: the same history, event for event.
    let calls_before = w.calls.lock().expect("lock").clone();
    for arn in [&a, &b, &c] {
        let (rec, replayed) =
            ops_replay::replay_one(&l.client, arn, &Against::Recorded, &BTreeSet::new())
                .await
                .expect("replay");
        assert_eq!(replayed.divergence, None, "{arn}");
        assert_eq!(shape(&rec.events), shape(&replayed.history_json()));
        assert_eq!(replayed.history.len(), rec.events.len());
        let text = ops_replay::render(&rec, &replayed, &Against::Recorded);
        assert!(text.contains("identical"), "{text}");
    }
    // And against version 1, named.
    let (_, by_version) =
        ops_replay::replay_one(&l.client, &a, &Against::Version(1), &BTreeSet::new())
            .await
            .expect("replay v1");
    assert_eq!(by_version.divergence, None);
    assert_eq!(
        *w.calls.lock().expect("lock"),
        calls_before,
        "a replay calls no handler"
    );

    // Replay against a changed definition (Triage now retries a model's invalid output):
    // the first divergence is where the recorded catch meets the new retry.
    let retrying = edited(&l, |d| {
        d["States"]["Triage"]["Retry"][0]["ErrorEquals"]
            .as_array_mut()
            .expect("retry list")
            .push(json!("Turnflow.ModelInvalidOutput"));
    });
    let (rec_c, changed) = ops_replay::replay_one(
        &l.client,
        &c,
        &Against::Definition(retrying),
        &BTreeSet::new(),
    )
    .await
    .expect("replay changed");
    let d = changed.divergence.clone().expect("diverges");
    println!(
        "{}",
        ops_replay::render(&rec_c, &changed, &Against::Recorded)
    );
    assert_eq!(d.kind, DivergenceKind::EventType);
    assert_eq!(
        d.replayed
            .as_ref()
            .map(|e| (e.event_type.as_str(), e.state.as_deref())),
        Some(("ActivityScheduled", Some("Triage"))),
        "the replay retries Triage where the recording caught the error"
    );
    assert_eq!(
        changed.unanswered.len(),
        1,
        "no recorded result for the retry"
    );

    // The fix: the back office and the helpdesk are back, the model answers.
    w.backoffice_down.store(false, Ordering::SeqCst);
    w.helpdesk_down.store(false, Ordering::SeqCst);
    w.model_broken.store(false, Ordering::SeqCst);

    // ops redrive A: it resumes in the failed Escalate; nothing that succeeded runs again.
    let text = rerun::redrive(&l.client, &a).await.expect("redrive");
    assert!(text.contains("resumes in Escalate"), "{text}");
    let done = settle(&l, &a).await;
    assert_eq!(done.status, "SUCCEEDED");
    assert_eq!(w.calls("outage-a/Triage"), 1);
    assert_eq!(w.calls("outage-a/Retrieve"), 1);
    assert_eq!(
        w.calls("outage-a/Act"),
        4,
        "a caught failure is not re-run by a redrive"
    );
    assert_eq!(w.calls("outage-a/Escalate"), 8);
    assert!(w.effects_of("outage-a/").values().all(|n| *n == 1));

    // ops rerun B from Act under a fixed definition (Act retries longer): a new execution,
    // linked by name, that starts at Act with Act's recorded input.
    let fixed = edited(&l, |d| {
        d["States"]["Act"]["Retry"][0]["MaxAttempts"] = json!(6);
    });
    let rec_b = fetch::recorded(&l.client, &b).await.expect("recorded");
    let refused = rerun::rerun(
        &l.client,
        &rec_b,
        &RerunRequest {
            from: Some("Retrieve".into()),
            definition: Some(fixed.clone()),
            repeat_succeeded: false,
        },
    )
    .await;
    assert!(
        matches!(&refused, Err(OpsError::Invalid(m)) if m.contains("Retrieve")),
        "a rerun that would repeat a succeeded step is refused: {refused:?}"
    );
    let started = rerun::rerun(
        &l.client,
        &rec_b,
        &RerunRequest {
            from: Some("Act".into()),
            definition: Some(fixed),
            repeat_succeeded: false,
        },
    )
    .await
    .expect("rerun");
    println!("{}", rerun::render(&started));
    assert!(started.execution_arn.ends_with(":outage-b-rerun-1"));
    assert_eq!(started.original, b);
    let done = settle(&l, &started.execution_arn).await;
    assert_eq!(done.status, "SUCCEEDED", "{done:?}");
    let new = fetch::recorded(&l.client, &started.execution_arn)
        .await
        .expect("rerun recorded");
    let first_state = views(&new.events).into_iter().find_map(|v| {
        v.event_type
            .ends_with("StateEntered")
            .then_some(v.state)
            .flatten()
    });
    assert_eq!(first_state.as_deref(), Some("Act"));
    let recorded_act_input = rerun::last_input(&rec_b, "Act").expect("act input");
    let new_input: Value =
        serde_json::from_str(new.execution.input.as_deref().expect("input")).expect("JSON");
    assert_eq!(new_input, recorded_act_input);
    assert!(new_input["triage"].is_object() && new_input["retrieval"].is_object());
    // Handler calls: nothing before Act ran again, every step's side effect happened once
    // across the original and the rerun.
    assert_eq!(w.calls("outage-b/Triage"), 1);
    assert_eq!(w.calls("outage-b/Retrieve"), 1);
    assert_eq!(w.calls("outage-b-rerun-1/Triage"), 0);
    assert_eq!(w.calls("outage-b-rerun-1/Retrieve"), 0);
    assert_eq!(w.calls("outage-b-rerun-1/Act"), 1);
    let mut per_step: BTreeMap<String, u32> = BTreeMap::new();
    for (key, n) in w.effects_of("outage-b") {
        let step = key.rsplit('/').next().unwrap_or_default().to_owned();
        *per_step.entry(step).or_default() += n;
    }
    assert!(per_step.values().all(|n| *n == 1), "{per_step:?}");
    assert_eq!(
        per_step.keys().cloned().collect::<Vec<_>>(),
        ["Act", "Respond", "Retrieve", "Triage", "Verify"]
    );

    // ops rerun C through the command: from where it failed (Triage), the recorded definition.
    let report = ops::run(
        &l.client,
        OpsCommand::Rerun {
            execution: Some(c.clone()),
            from: None,
            definition: None,
            repeat_succeeded: false,
            bulk: no_bulk(),
        },
        now(&l),
    )
    .await
    .expect("ops rerun");
    println!("{}", report.text);
    assert!(report.text.contains("starts at  Triage"));
    let rerun_c = l
        .engine
        .arns()
        .execution("turn-from-Triage", "model-c-rerun-1");
    assert_eq!(settle(&l, &rerun_c).await.status, "SUCCEEDED");
    assert!(w.effects_of("model-c").values().all(|n| *n == 1));
}

fn no_bulk() -> ops::BulkArgs {
    ops::BulkArgs {
        failed: false,
        since: "1h".into(),
        in_state: None,
        with_error: None,
        concurrency: 8,
        rate: 0.0,
        no_progress: true,
        wait: 60,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_replay_of_a_thousand_failed_turns() {
    let l = local("bulk").await;
    let w = Arc::clone(&l.world);
    // A model error and a helpdesk that refuses the handoff: no retry, the turns fail at once.
    w.model_broken.store(true, Ordering::SeqCst);
    w.helpdesk_rejects.store(true, Ordering::SeqCst);
    let mut arns = Vec::new();
    for i in 0..1000 {
        arns.push(start(&l, &format!("bulk-{i:04}")).await);
    }
    for arn in &arns {
        assert_eq!(settle(&l, arn).await.status, "FAILED");
    }
    let options = BulkOptions {
        filter: Filter {
            since_ms: now(&l) - 3_600_000,
            ..Filter::default()
        },
        concurrency: 8,
        rate: 0.0,
        progress: false,
        wait: Duration::from_secs(60),
    };
    let calls_before = w.calls.lock().expect("lock").len();
    let report = bulk::run(&l.client, &BulkAction::Replay(Against::Recorded), &options)
        .await
        .expect("bulk replay");
    println!("bulk replay of the recorded definition:\n{report}");
    assert_eq!(report.total, 1000);
    assert_eq!(report.count(Verdict::Reproduced), 1000, "{report}");
    assert_eq!(w.calls.lock().expect("lock").len(), calls_before);

    // Against a definition where a model's invalid output goes straight to a reply: the
    // recorded turns take another path, and the replay says which ones cannot go on without
    // live results.
    let changed = edited(&l, |d| {
        d["States"]["Triage"]["Catch"] = json!([
            {"ErrorEquals": ["Turnflow.ModelInvalidOutput"], "ResultPath": "$.failure", "Next": "Respond"},
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Escalate"}
        ]);
    });
    let report = bulk::run(
        &l.client,
        &BulkAction::Replay(Against::Definition(changed)),
        &options,
    )
    .await
    .expect("bulk replay changed");
    println!("bulk replay of a changed definition:\n{report}");
    assert_eq!(report.count(Verdict::Diverged), 1000, "{report}");
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/histories")
}

fn turn_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("state-machines/turn.asl.json")
}

#[test]
fn check_compat_passes_for_the_turn_and_catches_a_renamed_state() {
    let report = compat::check_compat(&fixtures(), &turn_file()).expect("check");
    println!("{report}");
    assert!(report.checked.len() >= 5, "the recorded fixtures are there");
    assert!(
        report
            .checked
            .iter()
            .all(|c| c.verdict == Compat::Compatible),
        "{report}"
    );
    assert!(report.checked.iter().any(|c| c.status == "RUNNING"));

    // Rename AwaitApproval: the turn parked on an approval would break.
    let text = std::fs::read_to_string(turn_file()).expect("turn");
    let renamed = text.replace("\"AwaitApproval\"", "\"AwaitHuman\"");
    assert_ne!(renamed, text);
    let dir = temp_dir("compat");
    let file = write_json(
        &dir,
        "renamed.asl.json",
        &serde_json::from_str(&renamed).expect("json"),
    );
    let report = compat::check_compat(&fixtures(), &file).expect("check");
    println!("{report}");
    assert!(!report.ok());
    assert!(
        !report.to_string().contains("jane.do"),
        "payloads are redacted"
    );
    let broken: Vec<&str> = report
        .checked
        .iter()
        .filter(|c| matches!(c.verdict, Compat::Breaks(_)))
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(broken, ["fixture-parked-approval"]);
    assert!(report.to_string().contains("AwaitHuman"));
    let _ = std::fs::remove_dir_all(dir);
}

/// Records the fixtures that are missing (never overwrites one): real turns on the engine.
/// `cargo test -p turnflow --test ops record_fixtures -- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes tests/fixtures/histories; run by hand when adding a fixture"]
async fn record_fixtures() {
    let dir = fixtures();
    std::fs::create_dir_all(&dir).expect("fixtures dir");
    let l = local("record").await;
    let w = Arc::clone(&l.world);
    let save = |arn: String, name: &'static str| {
        let (client, dir) = (l.client.clone(), dir.clone());
        async move {
            let path = dir.join(format!("{name}.json"));
            if path.exists() {
                return;
            }
            let rec = fetch::recorded(&client, &arn).await.expect("recorded");
            compat::write_fixture(&rec, &path).expect("write");
            println!("wrote {}", path.display());
        }
    };
    let arn = start(&l, "fixture-simple").await;
    settle(&l, &arn).await;
    save(arn, "simple-succeeded").await;

    w.needs_approval.store(true, Ordering::SeqCst);
    let parked = start(&l, "fixture-parked-approval").await;
    wait_for(&l, &parked, "TaskSubmitted").await;
    save(parked, "parked-approval").await;

    let approved = start(&l, "fixture-approved").await;
    wait_for(&l, &approved, "TaskSubmitted").await;
    let messages = l
        .engine
        .peek_messages(turn::APPROVAL_QUEUE)
        .await
        .expect("peek");
    let token = messages
        .iter()
        .filter_map(|m| serde_json::from_str::<Value>(&m.body).ok())
        .find(|b| b["executionId"] == approved.as_str())
        .and_then(|b| b["taskToken"].as_str().map(str::to_owned))
        .expect("approval message");
    l.engine
        .send_task_success(&token, r#"{"decision":"approve","by":"agent-7"}"#)
        .await
        .expect("approve");
    settle(&l, &approved).await;
    save(approved, "approved-committed").await;
    w.needs_approval.store(false, Ordering::SeqCst);

    w.backoffice_down.store(true, Ordering::SeqCst);
    w.helpdesk_down.store(true, Ordering::SeqCst);
    let retrying = start(&l, "fixture-retrying").await;
    wait_for(&l, &retrying, "ActivityFailed").await;
    save(retrying.clone(), "retrying-backoffice").await;
    let outage = start(&l, "fixture-outage").await;
    settle(&l, &outage).await;
    save(outage, "failed-backoffice-outage").await;
    w.backoffice_down.store(false, Ordering::SeqCst);
    w.model_broken.store(true, Ordering::SeqCst);
    let model = start(&l, "fixture-model-error").await;
    settle(&l, &model).await;
    save(model, "failed-model-error").await;
    settle(&l, &retrying).await;
}

/// Waits until the execution's history has an event of this type (the engine runs the
/// in-process handlers on its own threads).
async fn wait_for(l: &Local, arn: &str, event_type: &str) {
    for _ in 0..5_000 {
        let (events, _) = fetch::history(&l.client, arn).await.expect("history");
        if events.iter().any(|e| e["type"] == event_type) {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("{arn} never had {event_type}");
}

#[test]
fn since_reads_units() {
    assert_eq!(ops::parse_since("90s").expect("s"), 90_000);
    assert_eq!(ops::parse_since("24h").expect("h"), 86_400_000);
    assert_eq!(ops::parse_since("7d").expect("d"), 604_800_000);
    assert!(ops::parse_since("soon").is_err());
}
