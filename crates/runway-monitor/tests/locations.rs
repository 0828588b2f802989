//! Probes from several places, on a real SQLite ledger: each location runs
//! every environment once per interval through the shared schedule, and a
//! `quorum` rule evaluated by one runner per location fires once when two
//! locations see the environment down, and resolves when fewer do.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use runway_config::monitor::{Condition, Level};
use runway_core::{CheckResult, Era, Report, Summary};
use runway_ledger::{Ledger, LedgerUrl, NotifyEvent};
use runway_monitor::{
    AlertRunner, Job, Prober, Rule, Scheduler, SharedOptions, Sink, TokioClock,
    alerts::Transition,
    outcome::{EnvStatus, Outcome, Reason},
};

struct Quick;

#[async_trait]
impl Prober for Quick {
    async fn probe(&self, environment: &str) -> Report {
        Report::new(
            environment,
            Era::Unknown,
            "smoke",
            Utc::now(),
            1.0,
            vec![CheckResult::pass("mcp.handshake", "ok")],
        )
    }
}

/// What a worker's sink was handed (after the ledger stored it).
#[derive(Default)]
struct Seen(Mutex<Vec<Outcome>>);

#[async_trait]
impl Sink for Seen {
    async fn record(&self, _outcome: &Outcome) {
        panic!("a shared-schedule run is stored by the scheduler");
    }

    async fn record_stored(&self, outcome: &Outcome) {
        self.0.lock().unwrap().push(outcome.clone());
    }
}

fn jobs(location: &str) -> Vec<Job> {
    (0..4)
        .map(|i| Job {
            environment: format!("env-{i}"),
            interval: Duration::from_secs(1),
            jitter: Duration::ZERO,
            timeout: Duration::from_millis(800),
            maintenance: Vec::new(),
            token_expires_at: None,
            location: Some(location.to_owned()),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_location_runs_every_environment_once_per_interval() {
    let dir = tempfile::tempdir().unwrap();
    let url = LedgerUrl::parse("sqlite://ledger.db", dir.path()).unwrap();
    runway_ledger::open(&url).await.unwrap().close().await;
    let t0 = Utc::now() - chrono::Duration::seconds(1);
    let mut workers = Vec::new();
    let mut stops = Vec::new();
    // Two workers in eu-west share its rows; one in us-east runs its own.
    for (w, location) in ["eu-west", "eu-west", "us-east"].iter().enumerate() {
        let ledger: Arc<dyn Ledger> = Arc::from(runway_ledger::open(&url).await.unwrap());
        let sink = Arc::new(Seen::default());
        let s = Scheduler::new(
            jobs(location),
            Arc::new(Quick),
            sink.clone(),
            Arc::new(TokioClock::new()),
        );
        let mut opts = SharedOptions::for_jobs(format!("w{w}"), s.jobs());
        opts.poll = Duration::from_millis(100);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        stops.push(stop);
        workers.push((
            tokio::spawn(s.run_shared(ledger, opts, async {
                let _ = stopped.await;
            })),
            sink,
        ));
    }
    tokio::time::sleep(Duration::from_millis(3500)).await;
    for s in stops {
        let _ = s.send(());
    }
    for (h, sink) in workers {
        tokio::time::timeout(Duration::from_secs(10), h)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        for o in sink.0.lock().unwrap().iter() {
            assert!(o.location.is_some(), "{o:?}");
        }
    }
    let ledger = runway_ledger::open(&url).await.unwrap();
    let runs = ledger.scheduled_runs(t0).await.unwrap();
    let mut slots = BTreeSet::new();
    for r in &runs {
        let key = (r.environment.clone(), r.location.clone(), r.slot);
        assert!(slots.insert(key), "a slot stored twice: {r:?}");
        let from_eu = r.worker == "w0" || r.worker == "w1";
        assert_eq!(r.location.as_deref() == Some("eu-west"), from_eu, "{r:?}");
    }
    for env in 0..4 {
        for loc in ["eu-west", "us-east"] {
            let n = runs
                .iter()
                .filter(|r| {
                    r.environment == format!("env-{env}") && r.location.as_deref() == Some(loc)
                })
                .count();
            // About 4 slots in 3.5 s, one run each.
            assert!((2..=5).contains(&n), "env-{env} from {loc}: {n} runs");
        }
    }
    let state = ledger.schedule_state().await.unwrap();
    let keys: Vec<&str> = state.iter().map(|r| r.job.as_str()).collect();
    assert_eq!(keys.len(), 8, "{keys:?}");
    assert!(
        keys.contains(&"env-0@eu-west") && keys.contains(&"env-3@us-east"),
        "{keys:?}"
    );
    let stored = ledger.monitor_results("env-0", t0).await.unwrap();
    assert!(stored.iter().all(|r| r.location.is_some()), "{stored:?}");
    ledger.close().await;
}

fn run(location: &str, at: DateTime<Utc>, ok: bool) -> Outcome {
    Outcome {
        environment: "prod".into(),
        at,
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
        location: Some(location.to_owned()),
    }
}

fn quorum_rule() -> Rule {
    Rule {
        name: "down-from-two".into(),
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
        quorum: Some(2),
        fresh: Duration::from_secs(20),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quorum_rule_judged_by_each_location_fires_once_and_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let url = LedgerUrl::parse("sqlite://ledger.db", dir.path()).unwrap();
    let ledger: Arc<dyn Ledger> = Arc::from(runway_ledger::open(&url).await.unwrap());
    let t0 = Utc::now() - chrono::Duration::minutes(5);
    let at = |s: i64| t0 + chrono::Duration::seconds(s);
    // One runner per location, as each worker has its own (local schedule:
    // the quorum still reads the other locations' runs from the ledger).
    let mut runners = std::collections::BTreeMap::new();
    for l in ["eu-west", "us-east", "ap-south"] {
        let r = AlertRunner::start(vec![quorum_rule()], ledger.clone(), t0)
            .await
            .unwrap();
        runners.insert(l, r);
    }
    let step = async |loc: &str, s: i64, ok: bool| {
        let o = run(loc, at(s), ok);
        ledger.record_monitor_result(&o.to_stored()).await.unwrap();
        runners[loc].after_run(&o, at(s)).await
    };
    // 1 of 3 down: below the quorum, nothing opens.
    assert!(step("eu-west", 0, true).await.is_empty());
    assert!(step("us-east", 1, true).await.is_empty());
    assert!(step("ap-south", 2, false).await.is_empty());
    assert!(step("eu-west", 5, true).await.is_empty());
    // us-east goes down too: 2 of 3, us-east's runner fires it.
    let fired = step("us-east", 6, false).await;
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0].transition, Transition::Fired);
    assert_eq!(fired[0].notify.len(), 1);
    assert_eq!(fired[0].alert.last_value, Some(2.0));
    assert_eq!(
        fired[0].alert.message.as_deref(),
        Some("`prod` is down from 2 of 3 locations (ap-south, us-east); quorum 2")
    );
    let id = fired[0].alert.id;
    // The other locations' evaluations move the same instance, notify nothing.
    let again = step("ap-south", 7, false).await;
    assert_eq!(again[0].transition, Transition::Updated, "{again:?}");
    assert!(again[0].notify.is_empty());
    assert_eq!(again[0].alert.id, id);
    let again = step("eu-west", 8, true).await;
    assert_eq!(again[0].transition, Transition::Updated, "{again:?}");
    // us-east recovers: 1 of 3, it resolves (and says so once).
    let resolved = step("us-east", 9, true).await;
    assert_eq!(resolved[0].transition, Transition::Resolved, "{resolved:?}");
    assert_eq!(resolved[0].alert.id, id);
    let n = ledger.notifications_of(id).await.unwrap();
    let events: Vec<NotifyEvent> = n.iter().map(|x| x.event).collect();
    assert_eq!(events, vec![NotifyEvent::Firing, NotifyEvent::Resolved]);
    // Much later, ap-south alone down and the others stopped (stale): one
    // fresh location of a needed two; nothing opens.
    assert!(step("ap-south", 60, false).await.is_empty());
    assert!(ledger.open_alerts().await.unwrap().is_empty());
    ledger.close().await;
}
