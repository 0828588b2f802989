//! A token `runway.toml` names (`token_env`) is read from the environment and
//! sent to the server `runway mcp`'s `verify` checks, and then never appears
//! in a tool result, a resource, a prompt, the ledger or a log line (at
//! `RUNWAY_LOG=trace`), even when that server echoes it back in its headers
//! and bodies. Driven by the Python `mcp` SDK's client over stdio.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use runway_testkit::Test;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const VAR: &str = "RUNWAY_MCP_SECRETS_TEST_TOKEN";
const SECRET: &str = "rw-secret-7f3a9c2e51d84b06aa";

/// Answers every request with 200 and the request itself, in a header and the body.
async fn echo_server(listener: tokio::net::TcpListener, seen: Arc<Mutex<String>>) {
    for _ in 0..512 {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let seen = seen.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            let mut len = 0;
            while len < buf.len() {
                match tokio::time::timeout(
                    std::time::Duration::from_millis(300),
                    sock.read(&mut buf[len..]),
                )
                .await
                {
                    Ok(Ok(n)) if n > 0 => len += n,
                    _ => break,
                }
                if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            let request = String::from_utf8_lossy(&buf[..len]).into_owned();
            seen.lock().unwrap().push_str(&request);
            let auth = request
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                .unwrap_or("")
                .to_owned();
            let body = json!({"echo": request, "jsonrpc": "2.0", "id": 1, "error": {"code": -32600, "message": auth}}).to_string();
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Echo: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                auth.replace(['\r', '\n'], ""),
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
            let _ = sock.shutdown().await;
        });
    }
}

fn python() -> std::path::PathBuf {
    let p = std::env::var("RUNWAY_INTEROP_PY_MCP2")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "`RUNWAY_INTEROP_PY_MCP2` is not set: run `scripts/setup.d/20-interop.sh` with \
                 RUNWAY_TEST_ENV=target/test-env.sh and `. target/test-env.sh` (scripts/test does both)"
            )
        });
    std::path::PathBuf::from(p)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_token_never_appears_in_results_resources_prompts_the_ledger_or_logs() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(String::new()));
    let echo = tokio::spawn(echo_server(listener, seen.clone()));

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runway.toml"),
        format!(
            "[project]\nname = \"secrets\"\n[mcp]\nallow_writes = true\n\
             [environments.staging]\nurl = \"http://127.0.0.1:{port}/mcp\"\ntoken_env = \"{VAR}\"\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("CHANGELOG.md"), "# Changelog\n").unwrap();
    let calls = json!([
        ["verify", {"target": "staging"}],
        ["verify", {"target": "staging", "suite": "conformance"}],
        ["release_status", {}],
        ["changelog_preview", {}],
        ["ledger_list", {}],
        ["dora", {}],
        ["incident_list", {"all": true}],
        ["incident_open_plan", {"severity": "P2", "title": "staging answers oddly"}],
    ]);
    let mut cmd = Test::program(python());
    cmd.arg(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/interop/mcp_client.py"),
    )
    .args(["secrets-test", "stdio"])
    .arg(runway_testkit::cli::runway_bin())
    .args(["mcp", "-C"])
    .arg(dir.path())
    .env(VAR, SECRET)
    .env("RUNWAY_LOG", "trace")
    .env("RUNWAY_MCP_CLIENT_CALLS", calls.to_string())
    .env("RUNWAY_MCP_CLIENT_SWEEP", "1")
    .env_remove("RUNWAY_LEDGER_URL")
    .timeout(Duration::from_secs(180));
    let out = tokio::task::spawn_blocking(move || cmd.run())
        .await
        .unwrap();
    echo.abort();
    let stdout = out.stdout_text();
    let stderr = out.stderr_text();
    assert_eq!(
        out.exit_code(),
        Some(0),
        "stdout: {stdout}\nstderr: {stderr}"
    );

    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.contains(SECRET),
        "the token was not sent to the server, so this test proves nothing: {seen}"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let calls = v["calls"].as_array().unwrap();
    // Both verify runs produced a report (of a server that is not MCP).
    assert_eq!(
        calls[0]["structured"]["schema"],
        json!("runway.report/v1"),
        "{stdout}"
    );
    assert_eq!(
        calls[1]["structured"]["schema"],
        json!("runway.report/v1"),
        "{stdout}"
    );
    assert!(
        v["resources"]
            .as_object()
            .unwrap()
            .contains_key("runway://config"),
        "{stdout}"
    );
    assert_eq!(v["prompts"].as_object().unwrap().len(), 2, "{stdout}");
    // Not even a piece of it: an excerpt cut inside the token must not keep its head.
    let head = &SECRET[..12];
    assert!(
        !stdout.contains(head),
        "a result, resource or prompt holds the token: {stdout}"
    );

    assert!(
        stderr.lines().count() > 20,
        "no trace logs were captured: {stderr}"
    );
    for line in stderr.lines() {
        assert!(!line.contains(head), "a log line holds the token: {line}");
    }
    let ledger = std::fs::read(dir.path().join(".runway/ledger.db")).unwrap_or_default();
    assert!(
        !String::from_utf8_lossy(&ledger).contains(head),
        "the ledger holds the token"
    );
}
