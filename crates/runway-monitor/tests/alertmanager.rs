//! Runway's alerts in a real Alertmanager (Debian's `prometheus-alertmanager`,
//! `RUNWAY_TEST_ALERTMANAGER` from `scripts/setup.d/40-prometheus.sh`),
//! started on 127.0.0.1 for this test: the alert arrives with its labels,
//! resolves, and is sent once — Runway's outbox holds one firing and one
//! resolve, and the webhook receiver Alertmanager routes to sees one firing
//! and one resolved notification.

use std::{
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Router, extract::State, routing::post};
use chrono::Utc;
use runway_config::monitor::{Condition, Level, NotifierConfig};
use runway_core::Summary;
use runway_ledger::{LedgerUrl, NotifyEvent};
use runway_monitor::{
    AlertRunner, Notifier, Outbox, Rule, TokioClock,
    outcome::{EnvStatus, Outcome, Reason},
};

type Seen = Arc<Mutex<Vec<serde_json::Value>>>;

/// Kills Alertmanager however the test ends.
struct Child(std::process::Child);

impl Drop for Child {
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

async fn poll<T>(what: &str, limit: Duration, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            start.elapsed() < limit,
            "gave up after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn run(ok: bool) -> Outcome {
    Outcome {
        environment: "prod".into(),
        at: Utc::now(),
        ok,
        status: if ok { EnvStatus::Up } else { EnvStatus::Down },
        reason: (!ok).then_some(Reason::Connect),
        failed_check: (!ok).then(|| "http.health".to_owned()),
        message: (!ok).then(|| "could not connect".to_owned()),
        latency_ms: 3.0,
        cert_days: None,
        token_expiry_secs: None,
        summary: Summary::default(),
        failed_checks: Vec::new(),
        location: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_arrives_in_alertmanager_resolves_and_is_sent_once() {
    let bin = std::env::var("RUNWAY_TEST_ALERTMANAGER").unwrap_or_else(|_| {
        panic!(
            "RUNWAY_TEST_ALERTMANAGER is not set: run `scripts/setup.d/40-prometheus.sh` (it installs Debian's prometheus-alertmanager) and source the file it writes, or `./scripts/test`"
        )
    });
    assert!(
        std::path::Path::new(&bin).is_file(),
        "RUNWAY_TEST_ALERTMANAGER={bin} is not a file: run scripts/setup.d/40-prometheus.sh"
    );

    // The receiver Alertmanager routes to: every notification it sends.
    let seen: Seen = Arc::default();
    let hook = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_port = hook.local_addr().unwrap().port();
    let app = Router::new()
        .route(
            "/am",
            post(
                |State(seen): State<Seen>, body: axum::Json<serde_json::Value>| async move {
                    seen.lock().unwrap().push(body.0);
                    "ok"
                },
            ),
        )
        .with_state(seen.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(hook, app).await;
    });

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alertmanager.yml");
    std::fs::write(
        &config,
        format!(
            "route:\n  receiver: hook\n  group_by: ['alertname', 'environment']\n  group_wait: 200ms\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: http://127.0.0.1:{hook_port}/am\n        send_resolved: true\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("alertmanager.log")).unwrap();
    let _am = Child(
        std::process::Command::new(&bin)
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--config.file={}", config.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}")),
    );
    let base = format!("http://127.0.0.1:{port}");
    runway_verify::http::install_crypto_provider();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    poll(
        "Alertmanager to be ready",
        Duration::from_secs(30),
        async || {
            let r = http.get(format!("{base}/-/ready")).send().await.ok()?;
            r.status().is_success().then_some(())
        },
    )
    .await;

    let ledger_url = LedgerUrl::parse("sqlite://ledger.db", dir.path()).unwrap();
    let ledger: Arc<dyn runway_ledger::Ledger> =
        Arc::from(runway_ledger::open(&ledger_url).await.unwrap());
    let c: NotifierConfig = toml::from_str(&format!(
        "type = \"alertmanager\"\nurl = \"{base}\"\ngenerator_url = \"http://127.0.0.1:8787/\""
    ))
    .unwrap();
    let am = Notifier::from_config("am", &c, |_| None).unwrap();
    let outbox = Outbox::new(ledger.clone(), vec![am]);
    let rule = Rule {
        name: "api-down".into(),
        environment: "prod".into(),
        when: Condition::parse("down").unwrap().into(),
        window: Duration::from_secs(600),
        level: Level::Critical,
        notify: vec!["am".into()],
        failure_threshold: 1,
        success_threshold: 1,
        reminder: None,
        notify_resolved: true,
        mute: Vec::new(),
        quorum: None,
        fresh: Duration::from_secs(1800),
    };
    let runner = AlertRunner::start(vec![rule], ledger.clone(), Utc::now())
        .await
        .unwrap();
    let clock = TokioClock::new();

    // Down: it fires; three more failing runs add nothing.
    let fired = runner.after_run(&run(false), Utc::now()).await;
    let alert_id = fired[0].alert.id;
    assert_eq!(outbox.flush(&clock).await.sent, 1);
    for _ in 0..3 {
        assert!(
            runner.after_run(&run(false), Utc::now()).await[0]
                .notify
                .is_empty()
        );
        assert_eq!(outbox.flush(&clock).await, Default::default());
    }
    let active = poll(
        "the alert in GET /api/v2/alerts",
        Duration::from_secs(10),
        async || {
            let v: serde_json::Value = http
                .get(format!("{base}/api/v2/alerts"))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            v.as_array()?
                .iter()
                .find(|a| a["labels"]["alertname"] == "api-down")
                .cloned()
        },
    )
    .await;
    assert_eq!(active["labels"]["environment"], "prod");
    assert_eq!(active["labels"]["severity"], "critical");
    assert_eq!(active["status"]["state"], "active");
    assert_eq!(
        active["generatorURL"],
        "http://127.0.0.1:8787/?environment=prod&alert=api-down"
    );
    let ends: chrono::DateTime<Utc> = active["endsAt"].as_str().unwrap().parse().unwrap();
    assert!(ends > Utc::now() + chrono::Duration::hours(23), "{ends}");
    poll(
        "Alertmanager's firing notification",
        Duration::from_secs(15),
        async || {
            let s = seen.lock().unwrap();
            s.iter().any(|n| n["status"] == "firing").then_some(())
        },
    )
    .await;

    // Back up: it resolves in Alertmanager.
    let resolved = runner.after_run(&run(true), Utc::now()).await;
    assert_eq!(resolved[0].notify.len(), 1);
    assert_eq!(outbox.flush(&clock).await.sent, 1);
    poll(
        "the alert to leave the active alerts",
        Duration::from_secs(10),
        async || {
            let v: serde_json::Value = http
                .get(format!("{base}/api/v2/alerts?active=true"))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            let still = v.as_array()?.iter().any(|a| {
                a["labels"]["alertname"] == "api-down"
                    && a["endsAt"]
                        .as_str()
                        .and_then(|e| e.parse::<chrono::DateTime<Utc>>().ok())
                        .is_some_and(|e| e > Utc::now())
            });
            (!still).then_some(())
        },
    )
    .await;
    poll(
        "Alertmanager's resolved notification",
        Duration::from_secs(15),
        async || {
            let s = seen.lock().unwrap();
            s.iter().any(|n| n["status"] == "resolved").then_some(())
        },
    )
    .await;
    // Give a duplicate the time to show up (two group intervals), then count.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(outbox.flush(&clock).await, Default::default());
    let ours: Vec<NotifyEvent> = ledger
        .notifications_of(alert_id)
        .await
        .unwrap()
        .iter()
        .map(|n| {
            assert!(n.sent_at.is_some(), "{n:?}");
            n.event
        })
        .collect();
    assert_eq!(ours, vec![NotifyEvent::Firing, NotifyEvent::Resolved]);
    let theirs: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|n| n["status"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(theirs, vec!["firing", "resolved"], "sent once each");
    let states = ledger.notifier_states().await.unwrap();
    assert_eq!((states[0].sent, states[0].failures), (2, 0));
    server.abort();
    ledger.close().await;
}
