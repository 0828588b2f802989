//! The dashboard in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven through chromedriver's WebDriver HTTP API on
//! 127.0.0.1: it renders the statuses and charts the ledger holds, the
//! stylesheet applies under the CSP, no hostile name turned into markup, and
//! screenshots are saved under the target directory as CI artifacts.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use support::*;

/// The binary named by `var`, or a loud failure saying how to install it.
fn required(var: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() && std::path::Path::new(&v).exists() => v,
        _ => panic!(
            "{var} is not set to an existing binary: run `scripts/setup.d/50-chromium.sh` (Debian's `chromium` and `chromium-driver`) and source the file it writes (or run `./scripts/test`)"
        ),
    }
}

/// chromedriver and every Chromium it started: one process group, killed on drop.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        let pgid = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &pgid]).status();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `target/artifacts/` of the workspace, where CI collects artifacts
/// (whatever `CARGO_TARGET_DIR` says: CI builds elsewhere).
fn artifacts_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Driver {
    http: reqwest::Client,
    base: String,
    session: String,
}

impl Driver {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
        let status = res.status();
        let v: Value = res.json().await.unwrap();
        assert!(status.is_success(), "{url}: {status} {v}");
        v["value"].clone()
    }

    async fn open(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn eval(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    async fn screenshot(&self, name: &str) -> std::path::PathBuf {
        let b64 = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        assert!(
            png.len() > 10_000,
            "a {} byte screenshot is blank",
            png.len()
        );
        let path = artifacts_dir().join(name);
        std::fs::write(&path, png).unwrap();
        path
    }
}

const PROBE: &str = r#"
const q = (s) => document.querySelectorAll(s);
return {
  title: document.title,
  envs: Array.from(q('section.env')).map(e => [e.dataset.environment, e.dataset.status]),
  badges: Array.from(q('section.env .status')).map(e => e.textContent),
  uptime_svgs: q('svg.uptime').length,
  day_bars: q('svg.uptime rect.day').length,
  deploy_ticks: q('svg.uptime path.deploy').length,
  latency_svgs: q('svg.latency').length,
  polylines: q('svg.latency polyline').length,
  p95_points: q('svg.latency circle.p95').length,
  scripts: q('script').length,
  iframes: q('iframe').length,
  imgs: q('img').length,
  header_bg: getComputedStyle(document.querySelector('header')).backgroundColor,
  bar_width: document.querySelector('svg.uptime').getBoundingClientRect().width,
  alert_rows: q('tr.alert').length,
  failing_notifiers: q('tr.notifier.failing').length,
  incidents: q('tr.incident').length,
  text: document.body.innerText,
};
"#;

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_renders_the_ledger_in_headless_chromium() {
    let chromium = required("RUNWAY_TEST_CHROMIUM");
    let chromedriver = required("RUNWAY_TEST_CHROMEDRIVER");
    runway_verify::http::install_crypto_provider();
    let s = seeded().await;
    let (base, _stop) = serve(s.web.clone()).await;

    let port = free_port();
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(&chromedriver);
    cmd.arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let _driver = Group(cmd.spawn().expect("chromedriver starts"));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let wd = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = http.get(format!("{wd}/status")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not answer within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let caps = json!({ "capabilities": { "alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--no-first-run",
                "--disable-dev-shm-usage", "--window-size=1280,2200",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        },
    }}});
    let res: Value = http
        .post(format!("{wd}/session"))
        .json(&caps)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = res["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no WebDriver session: {res}"))
        .to_owned();
    let d = Driver {
        http,
        base: wd.clone(),
        session,
    };

    d.open(&format!("{base}/")).await;
    let p = d.eval(PROBE).await;
    assert_eq!(p["title"], "Runway monitor", "{p}");
    assert_eq!(
        p["envs"],
        json!([
            ["production", "up"],
            ["staging", "degraded"],
            [HOSTILE_ENV, "down"]
        ]),
        "{p}"
    );
    assert_eq!(p["badges"], json!(["up", "degraded", "down"]));
    assert_eq!(p["uptime_svgs"], 3);
    assert_eq!(p["day_bars"], 270);
    assert_eq!(
        p["deploy_ticks"], 2,
        "both deployments on the 90-day timeline"
    );
    assert_eq!(p["latency_svgs"], 3);
    assert_eq!(p["polylines"], 6, "p50 and p95 per environment");
    assert!(p["p95_points"].as_u64().unwrap() >= 24, "{p}");
    // Hostile names are text, not markup; nothing ran.
    assert_eq!(p["scripts"], 0);
    assert_eq!(p["iframes"], 0);
    assert_eq!(p["imgs"], 0);
    let text = p["text"].as_str().unwrap();
    assert!(text.contains(HOSTILE_ENV), "the name shows as text");
    assert!(text.contains(HOSTILE_CHECK));
    // The stylesheet loaded under the CSP (`style-src 'self'`).
    assert_eq!(p["header_bg"], "rgb(33, 37, 41)", "{p}");
    assert!(p["bar_width"].as_f64().unwrap() > 500.0);
    assert_eq!(p["alert_rows"], 1);
    assert_eq!(p["failing_notifiers"], 1);
    assert_eq!(p["incidents"], 1);
    assert!(text.contains("1.5.0"));
    let shot = d.screenshot("dashboard.png").await;

    d.open(&format!("{base}/status")).await;
    let p = d.eval(PROBE).await;
    assert_eq!(p["title"], "Acme MCP status");
    assert_eq!(p["day_bars"], 270);
    assert_eq!(p["deploy_ticks"], 0);
    assert_eq!(p["latency_svgs"], 0);
    assert_eq!(p["scripts"], 0);
    let text = p["text"].as_str().unwrap();
    assert!(text.contains("Some systems are down"));
    assert!(
        !text.contains("1.5.0") && !text.contains("mcp.call"),
        "{text}"
    );
    d.screenshot("status.png").await;

    d.call(reqwest::Method::DELETE, "", None).await;
    eprintln!("screenshot: {}", shot.display());
}
