//! `runway mcp`: Runway verifies its own MCP server, over stdio and over HTTP,
//! with the conformance suite; flag mistakes are usage errors.

use std::time::Duration;

use runway_testkit::Test;

const TOKEN: &str = "mcp-cli-test-token-8080-zyxw";

fn runway() -> Test {
    let mut c = Test::new();
    c.env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("RUNWAY_LEDGER_URL")
        .env("NO_COLOR", "1")
        .env("MCP_TEST_TOKEN", TOKEN)
        .timeout(Duration::from_secs(120));
    c
}

/// A project directory with a `runway.toml` and an empty ledger path.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runway.toml"),
        "[project]\nname = \"mcp-test\"\n",
    )
    .unwrap();
    dir
}

#[test]
fn conformance_passes_against_runway_mcp_over_stdio() {
    let dir = project();
    let bin = runway_testkit::cli::runway_bin();
    // Over stdio, rmcp's transport drops a malformed line without the -32700
    // answer `mcp.errors.parse` wants; `serve-reference --stdio` does the same,
    // so that is rmcp's stdio transport, not `runway mcp` (reported).
    let out = runway()
        .args(["verify", "--suite", "conformance", "--format", "json"])
        .args(["--skip", "mcp.errors.parse"])
        .args(["--stdio", "--"])
        .arg(&bin)
        .args(["mcp", "-C"])
        .arg(dir.path())
        .run();
    let stdout = out.stdout_text();
    assert_eq!(
        out.exit_code(),
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        out.stderr_text()
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let ids: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert!(ids.contains(&"mcp.handshake"), "{ids:?}");
    assert!(ids.contains(&"mcp.tools.schemas"), "{ids:?}");
    // Ill-formed params of a spec method are -32602 over stdio too.
    let invalid = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "mcp.errors.invalid_params")
        .expect("the invalid-params check ran");
    assert_eq!(invalid["status"], "pass", "{invalid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_and_conformance_pass_without_a_warning_against_runway_mcp_over_http() {
    let dir = project();
    let server = runway_mcp::spawn_http(
        runway_mcp::Workspace {
            root: dir.path().to_path_buf(),
            config: None,
            ledger: runway_ledger::LedgerUrl::default_for(dir.path()),
        },
        runway_mcp::HttpOptions {
            bind: "127.0.0.1:0".parse().unwrap(),
            token: Some(TOKEN.into()),
            allowed_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            allow_remote: false,
        },
    )
    .await
    .unwrap();
    // `full` and `conformance`: nothing fails, and nothing is even a warning
    // (the 400s with JSON-RPC errors, the anonymous rate limit).
    for suite in ["full", "conformance"] {
        // The previous run's rate-limit burst spent this second's anonymous budget.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let mut cmd = runway();
        cmd.args([
            "verify",
            "--suite",
            suite,
            "--token-env",
            "MCP_TEST_TOKEN",
            "--format",
            "json",
        ])
        .arg(&server.mcp_url);
        let out = tokio::task::spawn_blocking(move || cmd.run())
            .await
            .unwrap();
        let stdout = out.stdout_text();
        assert_eq!(out.exit_code(), Some(0), "{suite}: {stdout}");
        assert!(!stdout.contains(TOKEN), "{stdout}");
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let raised: Vec<&serde_json::Value> = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "warn" || c["status"] == "fail")
            .collect();
        assert!(raised.is_empty(), "{suite}: {raised:#?}");
        // In `full` the ratelimit check ran and passed: it needs the anonymous limit.
        if suite != "full" {
            continue;
        }
        let burst = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"].as_str().is_some_and(|i| i.starts_with("ratelimit")))
            .unwrap_or_else(|| panic!("{suite}: no ratelimit check in {stdout}"));
        assert_eq!(burst["status"], "pass", "{suite}: {burst}");
    }
    server.shutdown().await;
}

#[test]
fn listen_without_a_token_is_a_usage_error() {
    let dir = project();
    runway()
        .args(["mcp", "--listen", "127.0.0.1:0", "-C"])
        .arg(dir.path())
        .run()
        .code(2)
        .stderr_contains("`--listen` needs a bearer token");
}

#[test]
fn listen_on_a_public_address_is_refused_without_allow_remote() {
    let dir = project();
    runway()
        .args([
            "mcp",
            "--listen",
            "0.0.0.0:0",
            "--token-env",
            "MCP_TEST_TOKEN",
            "-C",
        ])
        .arg(dir.path())
        .run()
        .code(2)
        .stderr_contains("not a loopback address");
}
