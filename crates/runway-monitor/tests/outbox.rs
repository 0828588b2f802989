//! The outbox against a real webhook receiver on 127.0.0.1: while it is
//! down nothing is lost and the failure is visible; after a restart of the
//! monitor and the receiver's return, every notification arrives exactly once.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, extract::State, http::StatusCode, routing::post};
use chrono::Utc;
use runway_config::monitor::{Condition, Level, NotifierConfig};
use runway_core::Summary;
use runway_ledger::{Ledger, LedgerUrl};
use runway_monitor::{
    AlertRunner, Notifier, Outbox, Rule, TokioClock,
    notify::Backoff,
    outcome::{EnvStatus, Outcome, Reason},
};

type Seen = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

/// A webhook receiver that records each POST (with its auth header) and
/// answers `status`.
async fn receiver(
    listener: tokio::net::TcpListener,
    status: StatusCode,
) -> (Seen, tokio::task::JoinHandle<()>) {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route(
            "/hook/{secret}",
            post(
                |State((seen, status)): State<(Seen, StatusCode)>,
                 headers: axum::http::HeaderMap,
                 body: axum::Json<serde_json::Value>| async move {
                    let auth = headers
                        .get("x-hook-key")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    seen.lock().unwrap().push((auth, body.0));
                    (status, "receiver says no")
                },
            ),
        )
        .with_state((seen.clone(), status));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (seen, task)
}

fn rule() -> Rule {
    Rule {
        name: "api-down".into(),
        environment: "prod".into(),
        when: Condition::parse("down").unwrap().into(),
        window: Duration::from_secs(600),
        level: Level::Critical,
        notify: vec!["hook".into()],
        failure_threshold: 1,
        success_threshold: 1,
        reminder: None,
        notify_resolved: true,
        mute: Vec::new(),
        quorum: None,
        fresh: Duration::from_secs(1800),
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

const SECRET_PATH: &str = "sekrit-hook-path-0042";
const HEADER_KEY: &str = "hdr-secret-7788";

fn notifier(port: u16) -> Notifier {
    let c: NotifierConfig = toml::from_str(&format!(
        "type = \"webhook\"\nurl = \"http://127.0.0.1:{port}/hook/${{HOOK_PATH}}\"\nretries = 2\ntimeout = \"2s\"\nheaders = {{ X-Hook-Key = \"${{HOOK_KEY}}\" }}"
    ))
    .unwrap();
    Notifier::from_config("hook", &c, |k| match k {
        "HOOK_PATH" => Some(SECRET_PATH.into()),
        "HOOK_KEY" => Some(HEADER_KEY.into()),
        _ => None,
    })
    .unwrap()
}

async fn open(url: &LedgerUrl, n: &Notifier) -> Arc<dyn Ledger> {
    let mut l = runway_ledger::open(url).await.unwrap();
    let mut r = runway_core::Redactor::new();
    for s in n.secrets() {
        r.add(&s);
    }
    l.set_redactor(r);
    Arc::from(l)
}

fn fast() -> Backoff {
    Backoff {
        base: Duration::from_millis(100),
        max: Duration::from_millis(400),
        pause: Duration::from_millis(10),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notifier_that_is_down_gets_everything_once_when_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let url = LedgerUrl::parse("sqlite://ledger.db", dir.path()).unwrap();
    // Take a free port, then close it: the receiver is down.
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let hook = notifier(port);
    let clock = TokioClock::new();

    let ledger = open(&url, &hook).await;
    let outbox = Outbox::new(ledger.clone(), vec![hook.clone()]).with_backoff(fast());
    let runner = AlertRunner::start(vec![rule()], ledger.clone(), Utc::now())
        .await
        .unwrap()
        .with_waker(outbox.waker());
    let fired = runner.after_run(&run(false), Utc::now()).await;
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].notify.len(), 1);
    let stats = outbox.flush(&clock).await;
    assert_eq!((stats.sent, stats.failed, stats.waiting), (0, 2, 1));
    let states = ledger.notifier_states().await.unwrap();
    assert_eq!(states.len(), 1);
    let s = &states[0];
    assert!(s.is_failing());
    assert_eq!((s.pending, s.attempts, s.consecutive_failures), (1, 2, 2));
    let err = s.last_error.clone().unwrap();
    assert!(err.contains("connect"), "{err}");
    assert!(
        !err.contains(SECRET_PATH) && !err.contains("127.0.0.1:"),
        "{err}"
    );
    // Not due again before its backoff.
    assert_eq!(outbox.flush(&clock).await, Default::default());
    drop((runner, outbox));
    ledger.close().await;

    // Runway restarts; the receiver comes back on its port.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let (seen, server) = receiver(listener, StatusCode::OK).await;
    let ledger = open(&url, &hook).await;
    let outbox = Outbox::new(ledger.clone(), vec![hook.clone()]).with_backoff(fast());
    let runner = AlertRunner::start(vec![rule()], ledger.clone(), Utc::now())
        .await
        .unwrap();
    assert_eq!(runner.open_alerts().await.len(), 1, "restored");
    tokio::time::sleep(Duration::from_millis(150)).await;
    let stats = outbox.flush(&clock).await;
    assert_eq!(stats.sent, 1, "{stats:?}");
    // Still down: the restored alert does not fire again.
    assert!(
        runner.after_run(&run(false), Utc::now()).await[0]
            .notify
            .is_empty()
    );
    let resolved = runner.after_run(&run(true), Utc::now()).await;
    assert_eq!(resolved[0].notify.len(), 1);
    assert_eq!(outbox.flush(&clock).await.sent, 1);
    assert_eq!(outbox.flush(&clock).await, Default::default());

    let got = seen.lock().unwrap().clone();
    let events: Vec<&str> = got
        .iter()
        .map(|(_, b)| b["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, vec!["firing", "resolved"], "each exactly once");
    assert!(got.iter().all(|(key, _)| key == HEADER_KEY));
    assert_eq!(got[0].1["alert"], "api-down");
    assert_eq!(got[0].1["environment"], "prod");
    assert_eq!(got[0].1["level"], "critical");
    let s = &ledger.notifier_states().await.unwrap()[0];
    assert!(!s.is_failing());
    assert_eq!((s.pending, s.sent, s.failures), (0, 2, 2));
    server.abort();
    ledger.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_answer_is_a_failure_with_its_status() {
    let dir = tempfile::tempdir().unwrap();
    let url = LedgerUrl::parse("sqlite://ledger.db", dir.path()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (seen, server) = receiver(listener, StatusCode::INTERNAL_SERVER_ERROR).await;
    let hook = notifier(port);
    let ledger = open(&url, &hook).await;
    let outbox = Outbox::new(ledger.clone(), vec![hook]).with_backoff(fast());
    let runner = AlertRunner::start(vec![rule()], ledger.clone(), Utc::now())
        .await
        .unwrap();
    runner.after_run(&run(false), Utc::now()).await;
    let stats = outbox.flush(&TokioClock::new()).await;
    assert_eq!((stats.sent, stats.failed), (0, 2));
    assert_eq!(seen.lock().unwrap().len(), 2, "two attempts in the round");
    let s = &ledger.notifier_states().await.unwrap()[0];
    let err = s.last_error.as_deref().unwrap();
    assert!(
        err.contains("webhook answered HTTP 500: receiver says no"),
        "{err}"
    );
    assert_eq!(s.pending, 1, "kept for the next round");
    server.abort();
    ledger.close().await;
}

/// A PostgreSQL scratch ledger, or `None` when `RUNWAY_SKIP_PG=1` says to skip.
async fn pg(test: &str) -> Option<runway_ledger::testing::ScratchDb> {
    let base = runway_ledger::testing::pg_url_or_skip(test)?;
    Some(
        runway_ledger::testing::ScratchDb::create(&base)
            .await
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_flushing_one_outbox_send_each_notification_once() {
    let Some(db) = pg("two_workers_flushing_one_outbox_send_each_notification_once").await else {
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (seen, task) = receiver(listener, StatusCode::OK).await;
    let hook = notifier(port);
    let clock = TokioClock::new();
    let rules: Vec<Rule> = (0..40)
        .map(|i| Rule {
            name: format!("rule-{i:02}"),
            ..rule()
        })
        .collect();
    let a = open(&db.url, &hook).await;
    let b = open(&db.url, &hook).await;
    let runner = AlertRunner::start(rules, a.clone(), Utc::now())
        .await
        .unwrap();
    let fired = runner.after_run(&run(false), Utc::now()).await;
    assert_eq!(fired.len(), 40);
    let out_a = Outbox::new(a.clone(), vec![hook.clone()]).with_backoff(fast());
    let out_b = Outbox::new(b.clone(), vec![hook.clone()]).with_backoff(fast());
    let (sa, sb) = tokio::join!(out_a.flush(&clock), out_b.flush(&clock));
    assert_eq!(sa.sent + sb.sent, 40, "{sa:?} {sb:?}");
    // And a second round finds nothing left to send.
    let (sa2, sb2) = tokio::join!(out_a.flush(&clock), out_b.flush(&clock));
    assert_eq!(sa2.sent + sb2.sent, 0);
    let posts = seen.lock().unwrap().clone();
    assert_eq!(posts.len(), 40, "each notification posted once");
    let mut rules_seen: Vec<String> = posts
        .iter()
        .map(|(_, body)| body["alert"].as_str().unwrap_or_default().to_owned())
        .collect();
    rules_seen.sort();
    rules_seen.dedup();
    assert_eq!(rules_seen.len(), 40, "{rules_seen:?}");
    task.abort();
    a.close().await;
    b.close().await;
    db.drop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_state_follows_the_ledger_when_workers_take_turns() {
    let Some(db) = pg("alert_state_follows_the_ledger_when_workers_take_turns").await else {
        return;
    };
    let hook = notifier(9);
    let a = open(&db.url, &hook).await;
    let b = open(&db.url, &hook).await;
    let twice = Rule {
        failure_threshold: 2,
        ..rule()
    };
    let ra = AlertRunner::start(vec![twice.clone()], a.clone(), Utc::now())
        .await
        .unwrap()
        .shared();
    let rb = AlertRunner::start(vec![twice], b.clone(), Utc::now())
        .await
        .unwrap()
        .shared();
    // What a worker does with each run: store it, then evaluate.
    async fn turn(l: &Arc<dyn Ledger>, r: &AlertRunner, o: Outcome) -> Vec<String> {
        l.record_monitor_result(&o.to_stored()).await.unwrap();
        r.after_run(&o, o.at)
            .await
            .iter()
            .map(|c| format!("{:?}", c.transition))
            .collect()
    }
    // Worker a sees the first failure: pending.
    assert_eq!(turn(&a, &ra, run(false)).await, ["Opened"]);
    tokio::time::sleep(Duration::from_millis(5)).await;
    // Worker b sees the second: two in a row across the workers, so it fires
    // (b judged the window the ledger holds, not only its own run).
    assert_eq!(turn(&b, &rb, run(false)).await, ["Fired"]);
    tokio::time::sleep(Duration::from_millis(5)).await;
    // Worker a sees the recovery and resolves the instance b fired.
    assert_eq!(turn(&a, &ra, run(true)).await, ["Resolved"]);
    assert!(a.open_alerts().await.unwrap().is_empty());
    let all = a
        .alerts_since(Utc::now() - chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(all.len(), 1, "one instance, moved by both workers: {all:?}");
    let events: Vec<String> = a
        .notifications_of(all[0].id)
        .await
        .unwrap()
        .iter()
        .map(|n| n.event.as_str().to_owned())
        .collect();
    assert_eq!(events, ["firing", "resolved"]);
    a.close().await;
    b.close().await;
    db.drop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_ticking_queue_a_due_reminder_once() {
    let Some(db) = pg("two_workers_ticking_queue_a_due_reminder_once").await else {
        return;
    };
    let hook = notifier(9);
    let a = open(&db.url, &hook).await;
    let b = open(&db.url, &hook).await;
    let remind = Rule {
        reminder: Some(Duration::from_secs(600)),
        ..rule()
    };
    let ra = AlertRunner::start(vec![remind.clone()], a.clone(), Utc::now())
        .await
        .unwrap()
        .shared();
    let rb = AlertRunner::start(vec![remind], b.clone(), Utc::now())
        .await
        .unwrap()
        .shared();
    let down = run(false);
    let t0 = down.at;
    a.record_monitor_result(&down.to_stored()).await.unwrap();
    assert_eq!(ra.after_run(&down, t0).await.len(), 1);
    // Nothing due yet.
    assert!(rb.tick(t0 + chrono::Duration::minutes(5)).await.is_empty());
    // Both workers tick after the reminder fell due, at different moments.
    let x = ra.tick(t0 + chrono::Duration::minutes(11)).await;
    let y = rb.tick(t0 + chrono::Duration::minutes(12)).await;
    assert_eq!(
        x.len() + y.len(),
        1,
        "one reminder for the period: {x:?} {y:?}"
    );
    let open = a.open_alerts().await.unwrap();
    let events: Vec<String> = a
        .notifications_of(open[0].id)
        .await
        .unwrap()
        .iter()
        .map(|n| n.event.as_str().to_owned())
        .collect();
    assert_eq!(events, ["firing", "reminder"]);
    a.close().await;
    b.close().await;
    db.drop().await.unwrap();
}
