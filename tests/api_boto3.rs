//! boto3 (a client nobody here wrote; botocore parses every response with its own models)
//! against turnflow's Step Functions API served by the real engine.
//!
//! The Python comes from `TURNFLOW_PYTHON` (a venv with boto3; `.ci/run` makes one). Without
//! it the test prints `skipped: …` and passes — unless `TURNFLOW_REQUIRE_SHARED_DATA` is set,
//! as in CI, where a missing boto3 is a failure.

use std::path::PathBuf;
use std::sync::Arc;

use turnflow::api::server::{self, ServerConfig, Shutdown};
use turnflow::engine::{Engine, EngineConfig};
use turnflow::journal::Durability;

fn python() -> Option<String> {
    match std::env::var("TURNFLOW_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            let why = "TURNFLOW_PYTHON is not set (a Python with boto3; .ci/run sets it)";
            assert!(
                std::env::var_os("TURNFLOW_REQUIRE_SHARED_DATA").is_none(),
                "api_boto3: TURNFLOW_REQUIRE_SHARED_DATA is set but {why}"
            );
            println!("skipped: api_boto3: {why}");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_drives_an_activity_execution_end_to_end() {
    let Some(python) = python() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("turnflow-boto3-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut config = EngineConfig::new(dir.join("journal.db"));
    config.durability = Durability::Process;
    let engine = Arc::new(Engine::open(config).expect("engine opens"));
    let shutdown = Shutdown::new();
    let (addr, task) = server::spawn(
        "127.0.0.1:0".parse().expect("addr"),
        engine,
        ServerConfig::default(),
        shutdown.clone(),
    )
    .await
    .expect("server binds");

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/boto3_client.py");
    let endpoint = format!("http://{addr}");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&python)
            .arg(&script)
            .arg(&endpoint)
            .env_remove("AWS_PROFILE")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
    })
    .await
    .expect("joined")
    .expect("python runs");
    shutdown.trigger();
    let _ = task.await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "boto3 client failed:\n{stdout}\n{stderr}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("a JSON summary");
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["events"][0], "ExecutionStarted");
    let _ = std::fs::remove_dir_all(&dir);
}
