//! A web server over a ledger seeded with 90 days of runs, deployments, an
//! incident, hostile names, and a fake alert engine with one failing notifier.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, DurationRound, Timelike, Utc};
use runway_core::Severity;
use runway_ledger::{Deployment, Ledger, LedgerUrl, MonitorResult};
use runway_web::{AlertError, AlertSource, AlertView, NotifierView, Web};

pub const TOKEN: &str = "web-test-token-5d1e0c";
pub const HOSTILE_ENV: &str = r#"<script>alert("env")</script>"#;
pub const HOSTILE_CHECK: &str = "mcp.call.<img src=x onerror=alert(1)>";
pub const HOSTILE_MESSAGE: &str = "</p><script>document.title='pwned'</script>";
pub const HOSTILE_ALERT: &str = "<b onmouseover=alert(2)>rate</b>";
pub const HOSTILE_TITLE: &str = "checkout <iframe src=//x> broken";

pub struct Seeded {
    pub web: Arc<Web>,
    pub ledger: Arc<dyn Ledger>,
    pub alerts: Arc<FakeAlerts>,
    pub now: DateTime<Utc>,
    _dir: tempfile::TempDir,
}

fn run(env: &str, at: DateTime<Utc>, ok: bool, ms: f64) -> MonitorResult {
    MonitorResult {
        environment: env.into(),
        at,
        ok,
        status: if ok { "up" } else { "down" }.into(),
        reason: (!ok).then(|| "connect".to_owned()),
        check_id: (!ok).then(|| "mcp.handshake".to_owned()),
        message: (!ok).then(|| "could not connect".to_owned()),
        latency_ms: ms,
        location: None,
    }
}

/// `production`: a run every 6 hours for 90 days (older than 7 days folded
/// into rollups), then every 10 minutes over the last day, with a 2-hour
/// outage 30 days ago; two deployments (one yesterday, one 20 days ago).
/// `staging`: a run every hour for a day, latest degraded. The hostile
/// environment: one failed run whose check and message are markup.
pub async fn seeded() -> Seeded {
    let dir = tempfile::tempdir().unwrap();
    let url = LedgerUrl::parse(
        &format!("sqlite://{}", dir.path().join("ledger.db").display()),
        dir.path(),
    )
    .unwrap();
    let ledger: Arc<dyn Ledger> = Arc::from(runway_ledger::open(&url).await.unwrap());
    let now = Utc::now();
    let hour = now.duration_trunc(Duration::hours(1)).unwrap();
    // The outage is the first half of one UTC day, whatever the hour the
    // test runs at: two of that day's four runs fall in it.
    let outage_day = (hour - Duration::days(30)).date_naive();
    for h in (24..90 * 24).step_by(6) {
        let at = hour - Duration::hours(h);
        let outage = at.date_naive() == outage_day && at.hour() < 12;
        ledger
            .record_monitor_result(&run("production", at, !outage, 40.0))
            .await
            .unwrap();
    }
    for m in (10..24 * 60).step_by(10) {
        let at = now - Duration::minutes(m);
        let ms = 30.0 + (m % 60) as f64 + if m % 50 == 0 { 400.0 } else { 0.0 };
        ledger
            .record_monitor_result(&run("production", at, true, ms))
            .await
            .unwrap();
    }
    ledger
        .record_monitor_result(&run("production", now - Duration::minutes(1), true, 35.0))
        .await
        .unwrap();
    for h in 1..24 {
        ledger
            .record_monitor_result(&run("staging", now - Duration::hours(h), true, 80.0))
            .await
            .unwrap();
    }
    let mut degraded = run("staging", now - Duration::minutes(2), false, 900.0);
    degraded.status = "degraded".into();
    degraded.reason = Some("condition".into());
    degraded.check_id = Some("mcp.call.search".into());
    degraded.message = Some("`search` took 900 ms (max 500 ms)".into());
    ledger.record_monitor_result(&degraded).await.unwrap();
    let mut hostile = run(HOSTILE_ENV, now - Duration::minutes(3), false, 12.0);
    hostile.check_id = Some(HOSTILE_CHECK.into());
    hostile.message = Some(HOSTILE_MESSAGE.into());
    ledger.record_monitor_result(&hostile).await.unwrap();
    ledger.prune_monitor(now - Duration::days(7)).await.unwrap();

    for (version, ago) in [("1.4.0", Duration::days(20)), ("1.5.0", Duration::hours(5))] {
        let mut d = Deployment::new("production", version);
        d.started_at = now - ago;
        d.outcome = Some(runway_ledger::Outcome::Verified);
        ledger.record_deployment(&d).await.unwrap();
    }
    ledger
        .open_incident(Severity::P1, HOSTILE_TITLE, None)
        .await
        .unwrap();

    let alerts = Arc::new(FakeAlerts::new(now));
    let web = Web::new(
        ledger.clone(),
        vec!["production".into(), "staging".into(), HOSTILE_ENV.into()],
    )
    .with_alerts(alerts.clone())
    .with_token(Some(TOKEN.into()))
    .with_title("Acme MCP status");
    web.load_statuses().await;
    web.set_ready();
    Seeded {
        web: Arc::new(web),
        ledger,
        alerts,
        now,
        _dir: dir,
    }
}

/// One firing alert (hostile name) and one failing notifier; writes recorded.
pub struct FakeAlerts {
    pub open: Mutex<Vec<AlertView>>,
    pub notifiers: Vec<NotifierView>,
}

impl FakeAlerts {
    fn new(now: DateTime<Utc>) -> FakeAlerts {
        FakeAlerts {
            open: Mutex::new(vec![AlertView {
                id: "alr-1".into(),
                name: HOSTILE_ALERT.into(),
                environment: "staging".into(),
                level: "critical".into(),
                state: "firing".into(),
                since: now - Duration::minutes(5),
                value: Some("error_rate 0.12".into()),
                acknowledged_by: None,
                silenced_until: None,
            }]),
            notifiers: vec![
                NotifierView {
                    name: "oncall".into(),
                    kind: "webhook".into(),
                    pending: 2,
                    failures: 3,
                    last_error: Some("connect: connection refused".into()),
                    last_success: None,
                },
                NotifierView {
                    name: "am".into(),
                    kind: "alertmanager".into(),
                    pending: 0,
                    failures: 0,
                    last_error: None,
                    last_success: Some(now - Duration::minutes(1)),
                },
            ],
        }
    }
}

#[async_trait]
impl AlertSource for FakeAlerts {
    async fn open_alerts(&self) -> Result<Vec<AlertView>, AlertError> {
        Ok(self.open.lock().unwrap().clone())
    }
    async fn notifiers(&self) -> Result<Vec<NotifierView>, AlertError> {
        Ok(self.notifiers.clone())
    }
    async fn acknowledge(&self, id: &str, by: &str) -> Result<AlertView, AlertError> {
        let mut open = self.open.lock().unwrap();
        let a = open
            .iter_mut()
            .find(|a| a.id == id)
            .ok_or_else(|| AlertError::NotFound { id: id.into() })?;
        a.acknowledged_by = Some(by.into());
        Ok(a.clone())
    }
    async fn silence(
        &self,
        id: &str,
        until: DateTime<Utc>,
        _by: &str,
    ) -> Result<AlertView, AlertError> {
        let mut open = self.open.lock().unwrap();
        let a = open
            .iter_mut()
            .find(|a| a.id == id)
            .ok_or_else(|| AlertError::NotFound { id: id.into() })?;
        a.silenced_until = Some(until);
        Ok(a.clone())
    }
}

/// Serves `web` on 127.0.0.1:0; the server stops when the returned sender drops.
pub async fn serve(web: Arc<Web>) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = runway_web::serve(listener, web, async {
            let _ = rx.await;
        })
        .await;
    });
    (base, tx)
}
