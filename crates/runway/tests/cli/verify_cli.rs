//! `runway verify` and `runway demo` as a user runs them: exit codes, every
//! output format, configuration from `runway.toml`, and no secret in any output.

use std::time::Duration;

use runway_testkit::{Output, Test};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "cli-test-token-5150-abcdef";

fn runway() -> Test {
    let mut c = Test::new();
    c.env("MCP_TEST_TOKEN", TOKEN)
        .timeout(Duration::from_secs(120));
    c
}

async fn reference(faults: &str) -> runway_reference::Running {
    runway_reference::spawn(runway_reference::Options {
        token: Some(TOKEN.into()),
        faults: runway_reference::Faults::parse(faults).unwrap(),
        ..Default::default()
    })
    .await
    .unwrap()
}

/// Runs the blocking command off the runtime that serves the reference server.
async fn run(cmd: Test) -> Output {
    cmd.run_async().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_server_exits_0_and_json_follows_the_schema_id() {
    let s = reference("").await;
    let mut cmd = runway();
    cmd.args([
        "verify",
        &s.mcp_url,
        "--token-env",
        "MCP_TEST_TOKEN",
        "--format",
        "json",
    ]);
    let out = run(cmd).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], "runway.report/v1");
    assert_eq!(v["suite"], "smoke");
    assert_eq!(v["summary"]["failed"], 0);
    assert!(
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "auth.valid_token")
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_check_exits_1_in_every_format() {
    for (format, needle) in [
        ("human", "FAIL auth.no_token"),
        ("json", "\"status\": \"fail\""),
        ("junit", "<failure"),
        ("github", "::error title=runway auth.no_token::"),
    ] {
        let s = reference("no-auth").await;
        let mut cmd = runway();
        cmd.args([
            "verify",
            &s.mcp_url,
            "--token-env",
            "MCP_TEST_TOKEN",
            "--only",
            "auth",
            "--format",
            format,
        ]);
        let out = run(cmd).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{format}: {stdout}");
        assert!(stdout.contains(needle), "{format}: {stdout}");
        assert!(!stdout.contains('\x1b'), "{format}: colour with NO_COLOR");
        s.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_format_writes_the_step_summary() {
    let s = reference("").await;
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let mut cmd = runway();
    cmd.env("GITHUB_STEP_SUMMARY", &summary).args([
        "verify",
        &s.mcp_url,
        "--token-env",
        "MCP_TEST_TOKEN",
        "--only",
        "http",
        "--format",
        "github",
    ]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("| ✅ | `http.health` |"), "{md}");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_environment_from_runway_toml_is_verified_with_its_settings() {
    let s = reference("").await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runway.toml"),
        format!(
            "[environments.staging]\nurl = \"{}\"\ntoken_env = \"MCP_TEST_TOKEN\"\nexpect_version = \"9.9.9\"\nchecks = {{ mcp = false, auth = false, tls = false }}\n",
            s.mcp_url
        ),
    )
    .unwrap();
    let mut cmd = runway();
    cmd.current_dir(dir.path()).args(["verify", "staging"]);
    let out = run(cmd).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL http.version"), "{stdout}");
    assert!(
        stdout.contains("runway verify staging (http://127.0.0.1:"),
        "{stdout}"
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exposure_table_fails_an_operational_path_open_at_the_public_url() {
    // The reference server serves /livez, /readyz and /metrics to anyone:
    // as the public URL it is an edge that restricts nothing (dynamic-mcp
    // step 7), and as the internal URL it serves them as it should.
    let s = reference("").await;
    let origin = format!("{}/", s.mcp_url.rsplit_once('/').unwrap().0);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runway.toml"),
        format!(
            "[environments.staging]\nurl = \"{}\"\ntoken_env = \"MCP_TEST_TOKEN\"\n\
             checks = {{ mcp = false, auth = false, tls = false, http = false }}\n\
             [environments.staging.exposure]\ninternal_url = \"{origin}\"\n",
            s.mcp_url
        ),
    )
    .unwrap();
    let mut cmd = runway();
    cmd.current_dir(dir.path()).args(["verify", "staging"]);
    let out = run(cmd).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL exposure.public"), "{stdout}");
    assert!(stdout.contains("`/metrics` answered 200"), "{stdout}");
    assert!(stdout.contains("PASS exposure.internal"), "{stdout}");
    s.shutdown().await;
}

#[test]
fn usage_and_config_errors_exit_2_and_say_what_to_fix() {
    runway()
        .args([
            "verify",
            "http://127.0.0.1:9/mcp",
            "--call",
            "echo={message:hi}",
        ])
        .run()
        .code(2)
        .stderr_contains("`--call`: the arguments of `echo` are not valid JSON");
    runway()
        .args([
            "verify",
            "http://127.0.0.1:9/mcp",
            "--token-env",
            "RUNWAY_SURELY_UNSET_VAR",
        ])
        .run()
        .code(2)
        .stderr_contains("`RUNWAY_SURELY_UNSET_VAR`");
    runway()
        .args(["verify", "http://127.0.0.1:9/mcp", "--format", "yaml"])
        .run()
        .code(2)
        .stderr_contains("unknown format `yaml`");
    runway()
        .args(["verify", "http://127.0.0.1:9/mcp", "--suite", "quick"])
        .run()
        .code(2);
    runway().args(["verify", "--stdio"]).run().code(2);
    runway()
        .args(["verify", "http://127.0.0.1:9/mcp", "--era", "2025"])
        .run()
        .code(2)
        .stderr_contains("`--era`: unknown era `2025`");

    let dir = tempfile::tempdir().unwrap();
    runway()
        .current_dir(dir.path())
        .args(["verify", "prod"])
        .run()
        .code(2)
        .stderr_contains("no `runway.toml`");
    std::fs::write(
        dir.path().join("runway.toml"),
        "[environments.prod]\nurl = \"http://127.0.0.1:9/mcp\"\n\n[environments.prod.load]\nconcurency = 4\n",
    )
    .unwrap();
    runway()
        .current_dir(dir.path())
        .args(["verify", "prod"])
        .run()
        .code(2)
        .stderr_contains("runway.toml:5:1")
        .stderr_contains("concurency");
    std::fs::write(
        dir.path().join("runway.toml"),
        "[environments.prod]\nurl = \"http://127.0.0.1:9/mcp\"\n",
    )
    .unwrap();
    runway()
        .current_dir(dir.path())
        .args(["verify", "staging"])
        .run()
        .code(2)
        .stderr_contains("known environments: `prod`");
}

#[test]
fn a_bad_environment_setting_names_runway_toml_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runway.toml"),
        "[environments.prod]\nurl = \"http://127.0.0.1:9/mcp\"\n\n[[environments.prod.calls]]\ntool = \"echo\"\nexpect_match = \"(\"\n",
    )
    .unwrap();
    runway()
        .current_dir(dir.path())
        .args(["verify", "prod"])
        .run()
        .code(2)
        .stderr_contains("runway.toml:6:1:")
        .stderr_contains("`environments.prod.calls.expect_match`");
}

#[test]
fn an_empty_token_variable_is_an_error_naming_it() {
    runway()
        .env("RUNWAY_BLANK_TOKEN", "  ")
        .args([
            "verify",
            "http://127.0.0.1:9/mcp",
            "--token-env",
            "RUNWAY_BLANK_TOKEN",
        ])
        .run()
        .code(2)
        .stderr_contains("environment variable `RUNWAY_BLANK_TOKEN` (`--token-env`) is empty");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runway.toml"),
        "[environments.prod]\nurl = \"http://127.0.0.1:9/mcp\"\ntoken_env = \"RUNWAY_BLANK_TOKEN\"\n",
    )
    .unwrap();
    runway()
        .current_dir(dir.path())
        .env("RUNWAY_BLANK_TOKEN", "")
        .args(["verify", "prod"])
        .run()
        .code(2)
        .stderr_contains("`RUNWAY_BLANK_TOKEN` (`environments.prod.token_env`) is empty");
}

#[test]
fn an_unreachable_server_is_a_failed_check_not_a_crash() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    runway()
        .args([
            "verify",
            &format!("http://127.0.0.1:{port}/mcp"),
            "--timeout",
            "2",
        ])
        .run()
        .code(1)
        .stdout_contains("FAIL http.health")
        .stdout_contains("could not connect");
}

/// A leaky server: it echoes the `Authorization` header and the query string
/// back in a header and in the body of every response.
async fn echo_server() -> (String, tokio::task::JoinHandle<()>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let task = tokio::spawn(async move {
        for _ in 0..2000 {
            let Ok((mut s, _)) = l.accept().await else {
                break;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let n = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf))
                    .await
                    .ok()
                    .and_then(|r| r.ok())
                    .unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).into_owned();
                let first = req.lines().next().unwrap_or("").to_owned();
                let auth = req
                    .lines()
                    .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                    .map(|l| l["authorization:".len()..].trim().to_owned())
                    .unwrap_or_default();
                let body = format!("{{\"status\":\"ok\",\"seen\":\"{auth} {first}\"}}");
                let resp = format!(
                    "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\nwww-authenticate: Bearer realm=\"{auth}\"\r\nx-echo: {auth} {first}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            });
        }
    });
    (format!("http://{addr}/mcp"), task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_never_appears_in_any_output_even_when_the_server_echoes_it() {
    let (url, task) = echo_server().await;
    for format in ["human", "json", "junit", "github"] {
        let dir = tempfile::tempdir().unwrap();
        let summary = dir.path().join("summary.md");
        let mut cmd = runway();
        cmd.env("GITHUB_STEP_SUMMARY", &summary).args([
            "verify",
            &url,
            "--token-env",
            "MCP_TEST_TOKEN",
            "--suite",
            "full",
            "--load-requests",
            "5",
            "--format",
            format,
            "-v",
        ]);
        let out = run(cmd).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{format}: {stdout}{stderr}");
        assert!(
            !stdout.contains(TOKEN),
            "{format} stdout leaks the token: {stdout}"
        );
        assert!(
            !stderr.contains(TOKEN),
            "{format} stderr leaks the token: {stderr}"
        );
        // The formats that carry headers and bodies did receive the echo, redacted.
        if matches!(format, "json" | "junit") {
            assert!(stdout.contains("[redacted]"), "{format}: {stdout}");
        }
        if format == "github" {
            let md = std::fs::read_to_string(&summary).unwrap();
            assert!(!md.contains(TOKEN));
        }
    }
    task.abort();
}

#[test]
fn runway_demo_needs_no_setup_and_exits_0() {
    runway()
        .args(["demo", "--verify"])
        .run()
        .code(0)
        .stdout_contains("PASS auth.no_token")
        .stdout_contains("PASS load.latency")
        .stdout_contains("ok: ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_era_can_be_chosen_on_a_server_that_speaks_both() {
    for (era, kind) in [("session", "session"), ("stateless", "stateless")] {
        let s = reference("").await;
        let mut cmd = runway();
        cmd.args([
            "verify",
            &s.mcp_url,
            "--token-env",
            "MCP_TEST_TOKEN",
            "--era",
            era,
            "--only",
            "mcp",
            "--only",
            "auth",
            "--format",
            "json",
        ]);
        let out = run(cmd).await;
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(0), "{v:#}");
        assert_eq!(v["era"]["kind"], kind);
        s.shutdown().await;
    }
}

#[test]
fn a_stdio_server_is_verified_with_flags_for_tools_and_calls() {
    let bin = runway_testkit::runway_bin();
    let bin = bin.to_str().unwrap();
    runway()
        .args([
            "verify",
            "--expect-tools",
            "16",
            "--require-tool",
            "add",
            "--call",
            r#"echo={"message":"hello"}"#,
            "--stdio",
            "--",
            bin,
            "serve-reference",
            "--stdio",
        ])
        .run()
        .code(0)
        .stdout_contains("PASS mcp.call.echo")
        .stdout_contains("PASS mcp.tools.required");
    // One more tool than the reference server has.
    let too_many = (runway_reference::TOOL_NAMES.len() + 1).to_string();
    runway()
        .args([
            "verify",
            "--expect-tools",
            &too_many,
            "--stdio",
            "--",
            bin,
            "serve-reference",
            "--stdio",
        ])
        .run()
        .code(1)
        .stdout_contains("FAIL mcp.tools.count");
    runway()
        .args([
            "verify",
            "--stdio",
            "--",
            "/nonexistent/runway-no-such-server",
        ])
        .run()
        .code(1);
}
