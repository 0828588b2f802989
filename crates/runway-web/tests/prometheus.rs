//! `/metrics` scraped by a real Prometheus (Debian's `prometheus`) on
//! 127.0.0.1 every second: the run counters, latency histogram, status
//! gauges and notifier health are queryable through its HTTP API.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
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

async fn query(http: &reqwest::Client, prom: &str, q: &str) -> Vec<Value> {
    let r: Value = http
        .get(
            reqwest::Url::parse_with_params(&format!("{prom}/api/v1/query"), [("query", q)])
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "success", "{q}: {r}");
    r["data"]["result"].as_array().cloned().unwrap_or_default()
}

fn value(sample: &Value) -> f64 {
    sample["value"][1].as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_scrapes_the_series_and_answers_queries() {
    let bin = match std::env::var("RUNWAY_TEST_PROMETHEUS") {
        Ok(v) if std::path::Path::new(&v).exists() => v,
        _ => panic!(
            "RUNWAY_TEST_PROMETHEUS is not set to an existing binary: run `scripts/setup.d/40-prometheus.sh` (Debian's `prometheus`) and source the file it writes (or run `./scripts/test`)"
        ),
    };
    runway_verify::http::install_crypto_provider();
    let s = seeded().await;
    for (ok, ms) in [(true, 20.0), (true, 35.0), (false, 1200.0)] {
        s.web.metrics.observe(&runway_monitor::Outcome {
            environment: "production".into(),
            at: chrono::Utc::now(),
            ok,
            status: if ok {
                runway_monitor::EnvStatus::Up
            } else {
                runway_monitor::EnvStatus::Down
            },
            reason: (!ok).then_some(runway_monitor::Reason::Timeout),
            failed_check: (!ok).then(|| "mcp.handshake".to_owned()),
            message: None,
            latency_ms: ms,
            cert_days: None,
            token_expiry_secs: None,
            summary: Default::default(),
            failed_checks: Vec::new(),
            location: None,
        });
    }
    let (base, _stop) = serve(s.web.clone()).await;
    let target = base.trim_start_matches("http://").to_owned();

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: runway\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let _prom = Killed(
        Command::new(&bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus starts"),
    );
    let prom = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    // Up to 60 s for Prometheus to start and scrape twice.
    let deadline = Instant::now() + Duration::from_secs(60);
    let runs = loop {
        let ready = http
            .get(format!("{prom}/-/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            let r = query(&http, &prom, "runway_monitor_runs_total").await;
            if !r.is_empty() {
                break r;
            }
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus has no `runway_monitor_runs_total` 60 s after start"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let up = query(&http, &prom, r#"up{job="runway"}"#).await;
    assert_eq!(value(&up[0]), 1.0, "{up:?}");
    let fail = runs
        .iter()
        .find(|r| r["metric"]["outcome"] == "fail")
        .unwrap_or_else(|| panic!("{runs:?}"));
    assert_eq!(fail["metric"]["environment"], "production");
    assert_eq!(fail["metric"]["check"], "mcp.handshake");
    assert_eq!(fail["metric"]["reason"], "timeout");
    assert_eq!(value(fail), 1.0);
    let pass = query(
        &http,
        &prom,
        r#"runway_monitor_runs_total{environment="production",outcome="pass"}"#,
    )
    .await;
    assert_eq!(value(&pass[0]), 2.0);
    let count = query(
        &http,
        &prom,
        r#"runway_monitor_run_duration_seconds_count{environment="production"}"#,
    )
    .await;
    assert_eq!(value(&count[0]), 3.0);
    let slow = query(
        &http,
        &prom,
        r#"runway_monitor_run_duration_seconds_bucket{environment="production",le="0.04"}"#,
    )
    .await;
    assert_eq!(value(&slow[0]), 2.0, "two runs at or under 40 ms");
    let status = query(&http, &prom, "runway_environment_status == 1").await;
    let mut current: Vec<(String, String)> = status
        .iter()
        .map(|s| {
            (
                s["metric"]["environment"].as_str().unwrap().to_owned(),
                s["metric"]["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    current.sort();
    assert_eq!(
        current,
        vec![
            (HOSTILE_ENV.to_owned(), "down".to_owned()),
            ("production".to_owned(), "down".to_owned()),
            ("staging".to_owned(), "degraded".to_owned()),
        ]
    );
    let notifier = query(&http, &prom, r#"runway_notifier_up{notifier="oncall"}"#).await;
    assert_eq!(value(&notifier[0]), 0.0);
    let pending = query(&http, &prom, "runway_notifier_pending").await;
    assert!(pending.iter().any(|p| value(p) == 2.0), "{pending:?}");
    let alerts = query(&http, &prom, "runway_alerts_open").await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["metric"]["alert"], HOSTILE_ALERT);
}
