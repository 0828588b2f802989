//! The scheduler under tokio's paused clock: intervals, jitter, timeouts,
//! overlap, maintenance and the drain on shutdown.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use runway_core::{CheckResult, Era, Report};
use runway_monitor::{
    EnvStatus, Job, Outcome, Prober, Reason, Scheduler, Sink, TokioClock, scheduler::RunStats,
};
use tokio::time::Instant;

/// A prober whose runs take `delay` per environment and fail when told to.
struct Fake {
    delay: BTreeMap<String, Duration>,
    fail: Mutex<bool>,
    calls: Mutex<Vec<(String, Duration)>>,
    start: Instant,
}

impl Fake {
    fn new(delays: &[(&str, Duration)]) -> Arc<Fake> {
        Arc::new(Fake {
            delay: delays.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            fail: Mutex::new(false),
            calls: Mutex::new(Vec::new()),
            start: Instant::now(),
        })
    }

    fn calls(&self, env: &str) -> Vec<Duration> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(e, _)| e == env)
            .map(|(_, t)| *t)
            .collect()
    }
}

#[async_trait]
impl Prober for Fake {
    async fn probe(&self, environment: &str) -> Report {
        self.calls
            .lock()
            .unwrap()
            .push((environment.to_owned(), self.start.elapsed()));
        tokio::time::sleep(self.delay.get(environment).copied().unwrap_or_default()).await;
        let check = if *self.fail.lock().unwrap() {
            CheckResult::fail(
                "http.health",
                "could not connect: nothing listens on 127.0.0.1:9",
                "h",
            )
        } else {
            CheckResult::pass("mcp.handshake", "ok")
        };
        Report::new(
            environment,
            Era::Unknown,
            "smoke",
            Utc::now(),
            5.0,
            vec![check],
        )
    }
}

#[derive(Default)]
struct Collect(Mutex<Vec<Outcome>>);

#[async_trait]
impl Sink for Collect {
    async fn record(&self, outcome: &Outcome) {
        self.0.lock().unwrap().push(outcome.clone());
    }
}

fn job(env: &str, interval: u64, jitter: u64, timeout: u64) -> Job {
    Job {
        environment: env.into(),
        interval: Duration::from_secs(interval),
        jitter: Duration::from_secs(jitter),
        timeout: Duration::from_secs(timeout),
        maintenance: Vec::new(),
        token_expires_at: None,
        location: None,
    }
}

async fn run_for(
    jobs: Vec<Job>,
    prober: Arc<Fake>,
    sink: Arc<Collect>,
    for_: Duration,
) -> (RunStats, Duration) {
    let clock = Arc::new(TokioClock::new());
    let s = Scheduler::new(jobs, prober, sink, clock).with_seed(7);
    let t0 = Instant::now();
    let stats = s.run(tokio::time::sleep(for_)).await;
    (stats, t0.elapsed())
}

#[tokio::test(start_paused = true)]
async fn each_environment_runs_on_its_own_interval_for_an_hour() {
    let fake = Fake::new(&[]);
    let sink = Arc::new(Collect::default());
    let (stats, _) = run_for(
        vec![job("a", 60, 0, 30), job("b", 300, 0, 30)],
        fake.clone(),
        sink.clone(),
        Duration::from_secs(3600 - 30),
    )
    .await;
    assert_eq!(fake.calls("a").len(), 60);
    assert_eq!(fake.calls("b").len(), 12);
    let a = fake.calls("a");
    for (i, t) in a.iter().enumerate() {
        assert_eq!(*t, Duration::from_secs(60 * i as u64), "run {i}");
    }
    assert_eq!(stats.started, 72);
    assert_eq!(stats.recorded, 72);
    assert_eq!(stats.overlapped, 0);
    assert_eq!((stats.late, stats.max_late_ms), (0, 0));
    assert_eq!(sink.0.lock().unwrap().len(), 72);
    assert!(
        sink.0
            .lock()
            .unwrap()
            .iter()
            .all(|o| o.status == EnvStatus::Up)
    );
}

#[tokio::test(start_paused = true)]
async fn jitter_delays_each_run_within_its_bound_and_spreads_them() {
    let fake = Fake::new(&[]);
    let sink = Arc::new(Collect::default());
    run_for(
        vec![job("a", 60, 10, 30)],
        fake.clone(),
        sink,
        Duration::from_secs(20 * 60 - 15),
    )
    .await;
    let calls = fake.calls("a");
    assert_eq!(calls.len(), 20);
    let offsets: Vec<Duration> = calls
        .iter()
        .enumerate()
        .map(|(i, t)| *t - Duration::from_secs(60 * i as u64))
        .collect();
    assert!(
        offsets.iter().all(|o| *o < Duration::from_secs(10)),
        "{offsets:?}"
    );
    let distinct: std::collections::BTreeSet<_> = offsets.iter().collect();
    assert!(distinct.len() > 10, "jitter should vary: {offsets:?}");
}

#[tokio::test(start_paused = true)]
async fn many_environments_start_paced_across_the_interval_not_together() {
    let fake = Fake::new(&[]);
    let sink = Arc::new(Collect::default());
    let jobs: Vec<Job> = (0..1000).map(|i| job(&format!("e{i}"), 10, 0, 5)).collect();
    let (stats, _) = run_for(jobs, fake.clone(), sink, Duration::from_secs(25)).await;
    // Three ticks in 25 s for those placed in the first 5 s, two for the
    // rest, and the few due just after 25 s that a last batch took early.
    assert!((2500..=2526).contains(&stats.started), "{stats:?}");
    assert_eq!((stats.overlapped, stats.skipped), (0, 0));
    // Each keeps its place: e0 at once, e999 9.99 s in, every tick after
    // (started at most one batch window early, with the batch it falls in).
    let window = runway_monitor::scheduler::BATCH_WINDOW;
    for i in [0u64, 1, 250, 499, 999] {
        let at = Duration::from_millis(10 * i);
        let want: Vec<Duration> = (0..3)
            .map(|k| at + Duration::from_secs(10 * k))
            .filter(|t| *t < Duration::from_secs(25))
            .collect();
        let got = fake.calls(&format!("e{i}"));
        assert_eq!(got.len(), want.len(), "e{i}: {got:?}");
        for (g, w) in got.iter().zip(&want) {
            assert!(*g <= *w && *w - *g <= window, "e{i}: {got:?} {want:?}");
        }
    }
    // They start in batches, one a window: about 25 each (1,000 within
    // one second before), 40 batches over the interval.
    let mut batches = BTreeMap::<Duration, u32>::new();
    for (_, t) in fake.calls.lock().unwrap().iter() {
        *batches.entry(*t).or_default() += 1;
    }
    assert!(batches.values().all(|&c| c <= 26), "{batches:?}");
    let first = batches.range(..Duration::from_secs(10)).count();
    assert!((38..=41).contains(&first), "{first} batches: {batches:?}");

    // A handful of environments still all run at once.
    let fake = Fake::new(&[]);
    let sink = Arc::new(Collect::default());
    let jobs = vec![job("a", 60, 0, 5), job("b", 60, 0, 5), job("c", 300, 0, 5)];
    run_for(jobs, fake.clone(), sink, Duration::from_secs(1)).await;
    for env in ["a", "b", "c"] {
        assert_eq!(fake.calls(env), vec![Duration::ZERO], "{env}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_run_past_its_timeout_is_cut_and_recorded_as_a_timeout() {
    let fake = Fake::new(&[("slow", Duration::from_secs(120))]);
    let sink = Arc::new(Collect::default());
    let (stats, _) = run_for(
        vec![job("slow", 60, 0, 30)],
        fake.clone(),
        sink.clone(),
        Duration::from_secs(90),
    )
    .await;
    assert_eq!(stats.started, 2);
    let got = sink.0.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    for o in &got {
        assert_eq!(o.reason, Some(Reason::Timeout));
        assert_eq!(o.status, EnvStatus::Down);
        assert!(o.message.as_deref().unwrap().contains("30s"), "{o:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_run_still_going_when_its_next_tick_comes_is_not_started_twice() {
    let fake = Fake::new(&[("a", Duration::from_secs(25))]);
    let sink = Arc::new(Collect::default());
    let (stats, _) = run_for(
        vec![job("a", 10, 0, 60)],
        fake.clone(),
        sink,
        Duration::from_secs(95),
    )
    .await;
    // Runs at 0 (busy to 25: ticks 10 and 20 are missed), 30 (to 55: 40, 50
    // missed), 60 (to 85: 70, 80 missed), 90 (drained).
    assert_eq!(fake.calls("a").len(), 4);
    assert_eq!(stats.overlapped, 6);
    assert_eq!(stats.drained, 1);
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_running_checks_and_starts_no_new_ones() {
    let fake = Fake::new(&[
        ("a", Duration::from_secs(5)),
        ("b", Duration::from_secs(3600)),
    ]);
    let sink = Arc::new(Collect::default());
    let (stats, took) = run_for(
        vec![job("a", 60, 0, 30), job("b", 60, 0, 20)],
        fake.clone(),
        sink.clone(),
        Duration::from_secs(1),
    )
    .await;
    // `a` finishes at 5 s; `b`, started with it (its place 10 ms on is
    // within the batch window), hangs and is cut at its 20 s timeout.
    assert_eq!(took, Duration::from_secs(20));
    assert_eq!(stats.drained, 2);
    assert_eq!(stats.recorded, 2);
    let got = sink.0.lock().unwrap().clone();
    let by: BTreeMap<_, _> = got.iter().map(|o| (o.environment.as_str(), o)).collect();
    assert!(by["a"].ok);
    assert_eq!(by["b"].reason, Some(Reason::Timeout));
    assert_eq!(fake.calls("a").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_failure_carries_its_reason_and_maintenance_mutes_the_status() {
    let fake = Fake::new(&[]);
    *fake.fail.lock().unwrap() = true;
    let sink = Arc::new(Collect::default());
    let text = r#"
[environments.p]
url = "http://127.0.0.1:9/mcp"
[environments.p.monitor]
interval = "1m"
jitter = "0s"
maintenance = [{ when = ["Sun 02:00-04:00"], timezone = "UTC" }]
"#;
    let cfg = runway_config::Config::parse(text, std::path::Path::new("runway.toml")).unwrap();
    let j = Job::from_config("p", cfg.environments["p"].monitor.as_ref().unwrap());
    // Sunday 2026-11-29 03:58 UTC: two runs inside the window, then two outside.
    let clock = Arc::new(TokioClock::starting_at(
        Utc.with_ymd_and_hms(2026, 11, 29, 3, 58, 0).unwrap(),
    ));
    let s = Scheduler::new(vec![j], fake, sink.clone(), clock);
    s.run(tokio::time::sleep(Duration::from_secs(210))).await;
    let got: Vec<EnvStatus> = sink.0.lock().unwrap().iter().map(|o| o.status).collect();
    assert_eq!(
        got,
        [
            EnvStatus::Maintenance,
            EnvStatus::Maintenance,
            EnvStatus::Down,
            EnvStatus::Down
        ]
    );
    assert!(
        sink.0
            .lock()
            .unwrap()
            .iter()
            .all(|o| o.reason == Some(Reason::Connect))
    );
}

#[tokio::test(start_paused = true)]
async fn run_once_runs_only_the_due_jobs_and_returns_in_job_order() {
    let fake = Fake::new(&[("a", Duration::from_secs(2))]);
    let sink = Arc::new(Collect::default());
    let s = Scheduler::new(
        vec![
            job("a", 60, 0, 30),
            job("b", 60, 0, 30),
            job("c", 60, 0, 30),
        ],
        fake.clone(),
        sink.clone(),
        Arc::new(TokioClock::new()),
    );
    let got = s.run_once(|j| j.environment != "b").await;
    let envs: Vec<&str> = got.iter().map(|o| o.environment.as_str()).collect();
    assert_eq!(envs, ["a", "c"]);
    assert_eq!(sink.0.lock().unwrap().len(), 2);
    assert!(fake.calls("b").is_empty());
}

/// A prober whose first run of `a` blocks its thread (a run hogging the
/// runtime), so the scheduler's loop cannot serve the ticks due meanwhile.
struct Hog(Mutex<bool>);

#[async_trait]
impl Prober for Hog {
    async fn probe(&self, environment: &str) -> Report {
        let first = environment == "a" && !std::mem::replace(&mut *self.0.lock().unwrap(), true);
        if first {
            std::thread::sleep(Duration::from_millis(2500));
        }
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

#[tokio::test(flavor = "current_thread")]
async fn a_tick_served_more_than_a_second_late_counts_as_a_late_start() {
    let sink = Arc::new(Collect::default());
    let s = Scheduler::new(
        vec![job("a", 60, 0, 30), job("b", 1, 0, 30)],
        Arc::new(Hog(Mutex::new(false))),
        sink,
        Arc::new(TokioClock::new()),
    );
    // `b` is due at 1 s, but the loop gets the thread back at 2.5 s: one
    // late start (1.5 s behind); its tick at 2 s starts 0.5 s behind (not late).
    let stats = s.run(tokio::time::sleep(Duration::from_millis(3200))).await;
    assert_eq!(stats.late, 1, "{stats:?}");
    assert!((1400..2500).contains(&stats.max_late_ms), "{stats:?}");
}
