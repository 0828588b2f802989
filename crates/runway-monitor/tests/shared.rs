//! The shared schedule on a real PostgreSQL ledger: three workers run 300
//! checks, each due slot exactly once; one worker is killed mid-run (its
//! task dropped, leases and all, as a SIGKILL would leave them) and the
//! other two take its checks within one lease period.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use chrono::Utc;
use runway_core::{CheckResult, Era, Report};
use runway_ledger::{
    Ledger,
    testing::{ScratchDb, pg_url_or_skip},
};
use runway_monitor::{Job, Outcome, Prober, Scheduler, SharedOptions, Sink, TokioClock};

/// Each run takes `delay`; counts runs per environment.
struct Slow {
    delay: Duration,
    calls: Mutex<BTreeMap<String, u64>>,
}

#[async_trait]
impl Prober for Slow {
    async fn probe(&self, environment: &str) -> Report {
        *self
            .calls
            .lock()
            .unwrap()
            .entry(environment.to_owned())
            .or_default() += 1;
        tokio::time::sleep(self.delay).await;
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

/// Counts what each worker's sink was handed (after the ledger stored it).
#[derive(Default)]
struct Count(Mutex<u64>);

#[async_trait]
impl Sink for Count {
    async fn record(&self, _outcome: &Outcome) {
        panic!("a shared-schedule run is stored by the scheduler, never by `record`");
    }

    async fn record_stored(&self, _outcome: &Outcome) {
        *self.0.lock().unwrap() += 1;
    }
}

fn jobs(n: usize, interval: Duration) -> Vec<Job> {
    (0..n)
        .map(|i| Job {
            environment: format!("env-{i:03}"),
            interval,
            jitter: Duration::from_millis(200),
            timeout: Duration::from_millis(800),
            maintenance: Vec::new(),
            token_expires_at: None,
            location: None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_run_each_slot_once_and_take_over_a_killed_one() {
    let Some(base) = pg_url_or_skip("three_workers_run_each_slot_once_and_take_over_a_killed_one")
    else {
        return;
    };
    let db = ScratchDb::create(&base).await.unwrap();
    let interval = Duration::from_secs(2);
    let lease = Duration::from_secs(4);
    let n = 300;
    let prober = Arc::new(Slow {
        delay: Duration::from_millis(300),
        calls: Mutex::new(BTreeMap::new()),
    });
    let t0 = Utc::now();
    let mut workers = Vec::new();
    let mut stops = Vec::new();
    for w in 0..3 {
        let ledger: Arc<dyn Ledger> = Arc::from(runway_ledger::open(&db.url).await.unwrap());
        let sink = Arc::new(Count::default());
        let s = Scheduler::new(
            jobs(n, interval),
            prober.clone(),
            sink.clone(),
            Arc::new(TokioClock::new()),
        )
        .with_seed(w as u64 + 1);
        let mut opts = SharedOptions::for_jobs(format!("w{w}"), s.jobs());
        opts.lease = lease;
        opts.poll = Duration::from_millis(250);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        stops.push(stop);
        workers.push((
            tokio::spawn(s.run_shared(ledger, opts, async {
                let _ = stopped.await;
            })),
            sink,
        ));
    }
    // Let the three share a few intervals, then kill w1 in the middle of its runs.
    tokio::time::sleep(Duration::from_millis(4300)).await;
    let (killed, _) = workers.remove(1);
    killed.abort();
    let _ = killed.await;
    let killed_at = Utc::now();
    tokio::time::sleep(Duration::from_secs(9)).await;
    for s in stops {
        let _ = s.send(());
    }
    let mut stats = Vec::new();
    for (h, sink) in workers {
        let st = tokio::time::timeout(Duration::from_secs(10), h)
            .await
            .expect("the survivors drain within their timeout")
            .unwrap()
            .unwrap();
        assert_eq!(st.recorded, *sink.0.lock().unwrap(), "{st:?}");
        stats.push(st);
    }
    let end = Utc::now();
    eprintln!("survivors: {stats:?}");

    let ledger = runway_ledger::open(&db.url).await.unwrap();
    let runs = ledger
        .scheduled_runs(t0 - chrono::Duration::seconds(1))
        .await
        .unwrap();
    // Exactly once: no slot of any environment was stored twice.
    let mut slots = BTreeSet::new();
    for r in &runs {
        assert!(
            slots.insert((r.environment.clone(), r.slot)),
            "{} slot {} stored twice",
            r.environment,
            r.slot
        );
    }
    let by_worker = |w: &str| runs.iter().filter(|r| r.worker == w).count();
    assert!(by_worker("w0") > 0 && by_worker("w1") > 0 && by_worker("w2") > 0);
    // Nothing stored by the killed worker after it died.
    assert!(
        runs.iter()
            .filter(|r| r.worker == "w1")
            .all(|r| r.at <= killed_at),
        "the killed worker stored nothing after the kill"
    );
    // It held leases when it died; the others took those slots over.
    let taken: u64 = stats.iter().map(|s| s.taken_over).sum();
    assert!(taken > 0, "no takeover: {stats:?}");
    // A survivor's own lease never lapsed under it (or hardly: a loaded
    // machine may delay a store past the lease, and then that run is dropped).
    let lost: u64 = stats.iter().map(|s| s.lost).sum();
    let recorded: u64 = stats.iter().map(|s| s.recorded).sum();
    assert!(lost * 20 <= recorded, "{stats:?}");
    // Every environment kept its schedule: consecutive slots one interval
    // apart, and after the kill each went on within a lease period.
    let mut per_env: BTreeMap<&str, Vec<chrono::DateTime<Utc>>> = BTreeMap::new();
    for r in &runs {
        per_env.entry(&r.environment).or_default().push(r.slot);
    }
    assert_eq!(per_env.len(), n, "every environment ran");
    let interval_c = chrono::Duration::from_std(interval).unwrap();
    let lease_c = chrono::Duration::from_std(lease).unwrap();
    let elapsed = end - t0;
    let most = elapsed.num_milliseconds() / interval_c.num_milliseconds() + 1;
    for (env, mut s) in per_env {
        s.sort();
        assert!(
            s.len() as i64 <= most,
            "{env}: {} runs in {elapsed} at one per {interval:?}",
            s.len()
        );
        for w in s.windows(2) {
            let gap = w[1] - w[0];
            assert_eq!(
                gap.num_microseconds().unwrap() % interval_c.num_microseconds().unwrap(),
                0,
                "{env}: slots {} and {} are not whole intervals apart",
                w[0],
                w[1]
            );
        }
        let after: Vec<_> = s.iter().filter(|t| **t > killed_at).collect();
        assert!(
            after.len() >= 2,
            "{env} ran {} slots after the kill",
            after.len()
        );
        // A slot left held by the dead worker was run once its lease lapsed:
        // the gap across the kill is at most one interval plus a lease (and a
        // slot missed while the lease held).
        for w in s.windows(2) {
            if w[0] <= killed_at && w[1] > killed_at {
                assert!(
                    w[1] - w[0] <= interval_c * 2 + lease_c,
                    "{env}: {} to {} across the kill",
                    w[0],
                    w[1]
                );
            }
        }
    }
    // Every probe but the killed worker's cut runs was stored.
    let probed: u64 = prober.calls.lock().unwrap().values().sum();
    let stored = runs.len() as u64;
    assert!(probed >= stored);
    assert!(
        probed - stored <= n as u64,
        "{probed} probes for {stored} stored runs"
    );
    ledger.close().await;
    db.drop().await.unwrap();
}
