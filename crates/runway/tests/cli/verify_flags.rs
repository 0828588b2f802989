//! `runway verify URL` with the flags for what an environment's table holds:
//! `--health-path`, `--livez-path`, `--readyz-path`, `--metrics-path`
//! (required when given), `--tool-p95-ms`, `--api-p95-ms`,
//! `--max-error-rate`, `--tls-min-days`, `--auth-header` (the token as is in a
//! header such as `X-API-Key`), and `--server-json` (every remote it lists).

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

const KEY: &str = "reference-api-key-5150";

async fn api_key_server() -> runway_reference::Running {
    runway_reference::spawn(runway_reference::Options {
        token: Some(KEY.into()),
        token_header: Some(reqwest::header::HeaderName::from_static("x-api-key")),
        ..Default::default()
    })
    .await
    .unwrap()
}

async fn verify_env(args: &[&str], envs: &[(&str, &str)], dir: Option<&std::path::Path>) -> Output {
    let mut c = Test::new();
    c.arg("verify")
        .args(args)
        .args(["--format", "json"])
        .timeout(Duration::from_secs(120));
    for (k, v) in envs {
        c.env(k, v);
    }
    if let Some(d) = dir {
        c.current_dir(d);
    }
    c.run_async().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_in_a_named_header_passes_the_auth_checks() {
    let s = api_key_server().await;
    let env = [("RUNWAY_TEST_API_KEY", KEY)];
    let args = [
        s.mcp_url.as_str(),
        "--token-env",
        "RUNWAY_TEST_API_KEY",
        "--auth-header",
        "X-API-Key",
        "--only",
        "auth",
        "--only",
        "mcp.tools.list",
    ];
    let out = verify_env(&args, &env, None).await;
    assert_eq!(out.exit_code(), Some(0), "{}", out.stderr_text());
    for id in ["auth.no_token", "auth.wrong_token", "auth.valid_token"] {
        assert_eq!(check(&out, id)["status"], "pass", "{id}");
    }
    assert!(check(&out, "auth.no_token").to_string().contains("401"));
    assert_eq!(check(&out, "mcp.tools.list")["status"], "pass");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        out.stderr_text()
    );
    assert!(!all.contains(KEY), "the token was printed");

    // Without the header name the token goes as a bearer token, which this server does not read.
    let out = verify_env(&args[..3], &env, None).await;
    assert_eq!(out.exit_code(), Some(1), "{}", out.stderr_text());
    assert_eq!(check(&out, "auth.valid_token")["status"], "fail");
    assert_eq!(check(&out, "auth.no_token")["status"], "pass");

    // A header Runway sets itself, or no header name at all, is a usage error.
    for bad in ["Authorization", "Mcp-Session-Id", "X API Key"] {
        let out = verify_env(&[&s.mcp_url, "--auth-header", bad], &[], None).await;
        assert_eq!(out.exit_code(), Some(2), "{bad}: {}", out.stderr_text());
        assert!(
            out.stderr_text().contains("`--auth-header`"),
            "{}",
            out.stderr_text()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_environment_auth_header_sends_the_token_from_its_token_env() {
    let s = api_key_server().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runway.toml"),
        format!(
            "[environments.staging]\nurl = \"{}\"\ntoken_env = \"RUNWAY_TEST_API_KEY\"\nauth_header = \"X-API-Key\"\nchecks = {{ mcp = false, http = false }}\n",
            s.mcp_url
        ),
    )
    .unwrap();
    let out = verify_env(
        &["staging", "--only", "auth"],
        &[("RUNWAY_TEST_API_KEY", KEY)],
        Some(dir.path()),
    )
    .await;
    assert_eq!(out.exit_code(), Some(0), "{}", out.stderr_text());
    assert_eq!(check(&out, "auth.valid_token")["status"], "pass");
    assert_eq!(check(&out, "auth.no_token")["status"], "pass");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_error_budget_is_a_flag() {
    // Ten calls succeed, the next ten fail: an error rate of 0.5.
    let load = [
        "--only",
        "load",
        "--load-call",
        r#"echo={"message":"x"}"#,
        "--load-requests",
        "20",
        "--load-concurrency",
        "1",
    ];
    for (budget, code, status) in [("0.6", 0, "pass"), ("0.4", 1, "fail")] {
        let s = reference("fail-after=10").await;
        let mut args = vec![s.mcp_url.as_str(), "--max-error-rate", budget];
        args.extend(load);
        let out = verify(&args).await;
        assert_eq!(
            out.exit_code(),
            Some(code),
            "{budget}: {}",
            out.stderr_text()
        );
        assert_eq!(check(&out, "load.errors")["status"], status, "{budget}");
    }
    let out = verify(&["http://127.0.0.1:9/mcp", "--max-error-rate", "2"]).await;
    assert_eq!(out.exit_code(), Some(2));
    assert!(out.stderr_text().contains("between 0 and 1"));
    let out = verify(&["http://127.0.0.1:9/mcp", "--tls-min-days", "0"]).await;
    assert_eq!(out.exit_code(), Some(2));
    assert!(
        out.stderr_text()
            .contains("`--tls-min-days` must be at least 1")
    );
}

/// A `server.json` listing `remotes`, written to a temporary directory.
fn server_json(dir: &std::path::Path, remotes: &[&str]) -> std::path::PathBuf {
    let doc = serde_json::json!({
        "name": "io.github.runway-test/reference",
        "description": "The reference server",
        "version": "1.0.0",
        "remotes": remotes
            .iter()
            .map(|u| serde_json::json!({"type": "streamable-http", "url": u}))
            .collect::<Vec<_>>(),
    });
    let path = dir.join("server.json");
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    path
}

fn reports(out: &Output) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", out.stderr_text()));
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_json_remotes_are_each_verified() {
    let good = reference("").await;
    let broken = reference("wrong-version").await;
    let dir = tempfile::tempdir().unwrap();
    let file = server_json(
        dir.path(),
        &[
            &good.mcp_url,
            "https://{tenant}.example.com/mcp",
            "http://mcp.example.com/mcp",
        ],
    );
    let file = file.to_str().unwrap();
    let base = ["--server-json", file, "--allow-http-loopback"];
    let out = verify(&base).await;
    assert_eq!(out.exit_code(), Some(1), "{}", out.stderr_text());
    let r = reports(&out);
    assert_eq!(r.len(), 3, "{r:#?}");
    assert!(
        r[0]["target"].as_str().unwrap().contains("remotes[0]"),
        "{}",
        r[0]["target"]
    );
    assert_eq!(r[0]["summary"]["failed"], 0, "{:#}", r[0]);
    assert_eq!(r[1]["checks"][0]["status"], "skip", "{:#}", r[1]);
    assert!(
        r[1]["checks"][0]["message"]
            .as_str()
            .unwrap()
            .contains("template")
    );
    assert_eq!(r[2]["checks"][0]["status"], "fail");
    assert!(
        r[2]["checks"][0]["message"]
            .as_str()
            .unwrap()
            .contains("`remotes[2].url` `http://mcp.example.com/mcp` is not HTTPS")
    );

    // A working remote alone passes; a broken one fails with its own checks.
    let file = server_json(dir.path(), &[&good.mcp_url]);
    let args = [
        "--server-json",
        file.to_str().unwrap(),
        "--allow-http-loopback",
    ];
    let out = verify(&args).await;
    assert_eq!(out.exit_code(), Some(0), "{}", out.stderr_text());
    let file = server_json(dir.path(), &[&good.mcp_url, &broken.mcp_url]);
    let file = file.to_str().unwrap();
    let out = verify(&[
        "--server-json",
        file,
        "--allow-http-loopback",
        "--expect-version",
        env!("CARGO_PKG_VERSION"),
    ])
    .await;
    assert_eq!(out.exit_code(), Some(1), "{}", out.stderr_text());
    let r = reports(&out);
    assert_eq!(r[0]["summary"]["failed"], 0, "{:#}", r[0]);
    assert!(
        r[1]["summary"]["failed"].as_u64().unwrap() > 0,
        "{:#}",
        r[1]
    );

    // Without the test-only flag, plain HTTP is refused even on loopback.
    let out = verify(&["--server-json", file]).await;
    assert_eq!(out.exit_code(), Some(1));
    let r = reports(&out);
    assert!(
        r[0]["checks"][0]["message"]
            .as_str()
            .unwrap()
            .contains("is not HTTPS")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_json_without_remotes_or_unreadable_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = server_json(dir.path(), &[]);
    let out = verify(&["--server-json", file.to_str().unwrap()]).await;
    assert_eq!(out.exit_code(), Some(2));
    assert!(
        out.stderr_text().contains("lists no `remotes`"),
        "{}",
        out.stderr_text()
    );
    std::fs::write(&file, "{ not json").unwrap();
    let out = verify(&["--server-json", file.to_str().unwrap()]).await;
    assert_eq!(out.exit_code(), Some(2));
    assert!(
        out.stderr_text().contains("is not valid JSON"),
        "{}",
        out.stderr_text()
    );
    let out = verify(&[
        "--server-json",
        file.to_str().unwrap(),
        "https://x.example/mcp",
    ])
    .await;
    assert_eq!(out.exit_code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_livez_readyz_and_metrics_paths_are_flags() {
    let s = reference("").await;
    let out = verify(&[
        &s.mcp_url,
        "--livez-path",
        "/livez",
        "--readyz-path",
        "/readyz",
        "--metrics-path",
        "/metrics",
    ])
    .await;
    assert_eq!(out.exit_code(), Some(0), "{}", out.stderr_text());
    for id in ["http.livez", "http.readyz", "http.metrics"] {
        assert_eq!(check(&out, id)["status"], "pass", "{id}");
    }
    for (flag, id) in [
        ("--livez-path", "http.livez"),
        ("--readyz-path", "http.readyz"),
        ("--metrics-path", "http.metrics"),
    ] {
        let out = verify(&[&s.mcp_url, flag, "/internal/nope", "--only", id]).await;
        assert_eq!(out.exit_code(), Some(1), "{flag}: {}", out.stderr_text());
        let c = check(&out, id);
        assert_eq!(c["status"], "fail", "{c}");
        assert!(c.to_string().contains("/internal/nope"), "{c}");
        let out = verify(&[&s.mcp_url, flag, "metrics"]).await;
        assert_eq!(out.exit_code(), Some(2));
        assert!(out.stderr_text().contains(&format!("`{flag}` \"metrics\"")));
    }
}
