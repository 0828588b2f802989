//! `runway verify URL` with the flags for what an environment's table holds:
//! `--health-path` (required when given), `--tool-p95-ms`, `--api-p95-ms`.

use std::time::Duration;

use runway_testkit::{Output, Test};

async fn reference(faults: &str) -> runway_reference::Running {
    runway_reference::spawn(runway_reference::Options {
        faults: runway_reference::Faults::parse(faults).unwrap(),
        ..Default::default()
    })
    .await
    .unwrap()
}

async fn verify(args: &[&str]) -> Output {
    let mut c = Test::new();
    c.arg("verify")
        .args(args)
        .args(["--format", "json"])
        .timeout(Duration::from_secs(120));
    c.run_async().await
}

fn check(out: &Output, id: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", out.stderr_text());
    });
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no check `{id}`: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_given_health_path_is_required() {
    let s = reference("").await;
    let out = verify(&[&s.mcp_url, "--health-path", "/health"]).await;
    assert_eq!(out.exit_code(), Some(0), "{}", out.stderr_text());
    assert_eq!(check(&out, "http.health")["status"], "pass");

    let out = verify(&[&s.mcp_url, "--health-path", "/health/live"]).await;
    assert_eq!(out.exit_code(), Some(1), "{}", out.stderr_text());
    let h = check(&out, "http.health");
    assert_eq!(h["status"], "fail", "{h}");
    assert!(h.to_string().contains("/health/live"), "{h}");

    let out = verify(&[&s.mcp_url, "--health-path", "health"]).await;
    assert_eq!(out.exit_code(), Some(2));
    assert!(out.stderr_text().contains("starting with `/`"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tool_latency_budget_is_a_flag() {
    let s = reference("slow-tool=300").await;
    let call = r#"echo={"message":"hi"}"#;
    let out = verify(&[&s.mcp_url, "--call", call]).await;
    assert_eq!(out.exit_code(), Some(0), "{}", out.stderr_text());
    let out = verify(&[&s.mcp_url, "--call", call, "--tool-p95-ms", "100"]).await;
    assert_eq!(out.exit_code(), Some(1), "{}", out.stderr_text());
    let out = verify(&[&s.mcp_url, "--tool-p95-ms", "0"]).await;
    assert_eq!(out.exit_code(), Some(2));
    assert!(
        out.stderr_text()
            .contains("`--tool-p95-ms` must be at least 1")
    );
}
