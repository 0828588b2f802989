//! `runway monitor --listen` end to end: the dashboard and API serve beside
//! the schedule, `runway verify` (its http, headers, CORS and Origin checks)
//! passes against Runway's own pages, writes need the `[web] token_env`
//! token, SIGTERM stops both, and bad `--listen` or token settings are
//! usage errors that say what to fix.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use runway_testkit::Test;

const TOKEN: &str = "tok-monitor-web-71a9";
const WEB_TOKEN: &str = "web-write-token-0b55e2";

/// Kills the monitor if a test fails before it stops it.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn config(mcp_url: &str) -> String {
    format!(
        r#"
[project]
name = "acme-mcp"

[environments.production]
url = "{mcp_url}"
token_env = "RUNWAY_TEST_TOKEN"
[environments.production.monitor]
interval = "1s"
jitter = "0s"
suite = "smoke"

[web]
token_env = "RUNWAY_TEST_WEB_TOKEN"
"#
    )
}

/// Starts `runway monitor --listen 127.0.0.1:0` in `dir`; returns it and its base URL.
fn start(dir: &std::path::Path) -> (Running, String) {
    let mut child = Test::new()
        .into_command()
        .args(["monitor", "--listen", "127.0.0.1:0"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("RUNWAY_TEST_TOKEN", TOKEN)
        .env("RUNWAY_TEST_WEB_TOKEN", WEB_TOKEN)
        .env_remove("RUNWAY_LEDGER_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if let Some(url) = line.split("serving the dashboard on ").nth(1) {
                let _ = tx.send(url.trim().trim_end_matches('/').to_owned());
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("`runway monitor --listen` did not say where it serves within 30 s");
    (Running(child), base)
}

async fn wait_for_up(client: &reqwest::Client, base: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let j: serde_json::Value = client
            .get(format!("{base}/api/status"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if j["environments"][0]["status"] == "up" {
            return j;
        }
        assert!(Instant::now() < deadline, "production never came up: {j}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn runway_verify_passes_against_the_dashboard_and_sigterm_stops_it() {
    let server = runway_reference::spawn(runway_reference::Options {
        token: Some(TOKEN.into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("runway.toml"), config(&server.mcp_url)).unwrap();
    let (mut running, base) = start(dir.path());
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    runway_verify::http::install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let status = wait_for_up(&client, &base).await;
    assert_eq!(status["environments"][0]["name"], "production");

    let page = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"data-environment="production" data-status="up""#));
    let public = client.get(format!("{base}/status")).send().await.unwrap();
    assert!(public.text().await.unwrap().contains("acme-mcp"));
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"runway_environment_status{environment="production",status="up"} 1"#),
        "{metrics}"
    );

    // Runway's own checks of an HTTP service, against Runway's own pages.
    let url = format!("{base}/");
    let verify = tokio::task::spawn_blocking(move || {
        Test::new()
            .args([
                "verify",
                &url,
                "--suite",
                "full",
                "--only",
                "http",
                "--only",
                "headers",
                "--only",
                "cors",
                "--only",
                "origin",
                "--only",
                "ratelimit",
                "--only",
                "tls",
                "--require-rate-limit",
                "--require-metric",
                "runway_monitor_runs",
                "--require-metric",
                "runway_environment_status",
                "--require-metric",
                "runway_monitor_run_duration_seconds",
                "--format",
                "json",
            ])
            .env_remove("RUNWAY_LEDGER_URL")
            .run()
    })
    .await
    .unwrap();
    let report: serde_json::Value = serde_json::from_str(&verify.stdout_text())
        .unwrap_or_else(|e| panic!("{e}: {}", verify.stdout_text()));
    assert_eq!(verify.exit_code(), Some(0), "{report:#}");
    let checks = report["checks"].as_array().unwrap();
    let status_of = |id: &str| {
        checks
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no `{id}` in {report:#}"))["status"]
            .clone()
    };
    for id in [
        "http.health",
        "http.livez",
        "http.readyz",
        "http.metrics",
        "headers.frame_options",
        "headers.content_type_options",
        "headers.csp",
        "cors.foreign_origin",
        "origin.foreign",
        // The anonymous budget (`[web] rate_limit`): 429 with `Retry-After`.
        "ratelimit.burst",
    ] {
        assert_eq!(status_of(id), "pass", "{id}: {report:#}");
    }
    // The burst spent this second's anonymous budget.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert!(
        checks
            .iter()
            .all(|c| c["status"] != "fail" && c["status"] != "warn"),
        "{report:#}"
    );

    // Writes: the token from `[web] token_env`, never anything else.
    let ack = format!("{base}/api/alerts/alr-none/acknowledge");
    let r = client.post(&ack).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = client
        .post(&ack)
        .bearer_auth("not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = client
        .post(&ack)
        .bearer_auth(WEB_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        404,
        "the token is accepted; there is no such alert"
    );

    let pid = running.0.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let code = loop {
        if let Some(s) = running.0.try_wait().unwrap() {
            break s.code();
        }
        assert!(
            Instant::now() < deadline,
            "runway monitor --listen did not stop within 20 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, Some(0));
    assert!(
        client.get(format!("{base}/livez")).send().await.is_err(),
        "still serving after exit"
    );
    server.shutdown().await;
}

#[test]
fn bad_listen_addresses_and_an_unset_token_variable_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runway.toml"),
        config("http://127.0.0.1:9/mcp"),
    )
    .unwrap();
    let out = Test::new()
        .args(["monitor", "--listen", "somewhere:port"])
        .current_dir(dir.path())
        .env("RUNWAY_TEST_TOKEN", TOKEN)
        .env("RUNWAY_TEST_WEB_TOKEN", WEB_TOKEN)
        .env_remove("RUNWAY_LEDGER_URL")
        .run();
    out.code(2)
        .stderr_contains("`somewhere:port` is not an address to listen on");
    let out = Test::new()
        .args(["monitor", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("RUNWAY_TEST_TOKEN", TOKEN)
        .env_remove("RUNWAY_TEST_WEB_TOKEN")
        .env_remove("RUNWAY_LEDGER_URL")
        .run();
    out.code(2).stderr_contains("RUNWAY_TEST_WEB_TOKEN");
    let out = Test::new()
        .args(["monitor", "--once", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_remove("RUNWAY_LEDGER_URL")
        .run();
    out.code(2).stderr_contains("--listen");
}
