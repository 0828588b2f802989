//! The shared monitor schedule on both backends: a due slot is claimed by
//! one worker only, completing it stores the run and moves the job on, a
//! lapsed lease is taken over and the late completion stores nothing, and
//! concurrent claimers split the due jobs without overlap.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use chrono::Utc;
use runway_ledger::{Ledger, MonitorResult, ScheduleClaim, ScheduledJob};

#[macro_use]
mod support;
use support::Fresh;

both_backends!(
    a_due_slot_goes_to_one_worker_and_completing_it_stores_the_run_and_moves_on,
    a_lapsed_lease_is_taken_over_and_the_late_completion_stores_nothing,
    concurrent_claimers_split_the_due_jobs_without_overlap,
    a_released_slot_can_be_claimed_again_and_intervals_follow_the_config,
);

fn job(name: &str, interval: Duration) -> ScheduledJob {
    ScheduledJob {
        job: name.into(),
        interval,
        first_delay: Duration::ZERO,
    }
}

fn result(env: &str) -> MonitorResult {
    MonitorResult {
        environment: env.into(),
        at: Utc::now(),
        ok: true,
        status: "up".into(),
        reason: None,
        check_id: None,
        message: None,
        latency_ms: 3.0,
        location: None,
    }
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

async fn a_due_slot_goes_to_one_worker_and_completing_it_stores_the_run_and_moves_on(f: &Fresh) {
    let l = f.open().await;
    let minute = Duration::from_secs(60);
    l.schedule_register(&[job("prod", minute), job("staging", minute)])
        .await
        .unwrap();
    let lease = Duration::from_secs(30);
    let a = l
        .schedule_claim("w1", &names(&["prod"]), lease, 10)
        .await
        .unwrap();
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].job, "prod");
    assert_eq!(a[0].owner, "w1");
    assert_eq!(a[0].took_over_from, None);
    assert!(a[0].lease_until > Utc::now() + chrono::Duration::seconds(20));
    // Held: nobody else gets it, and `staging` was not asked for by w1.
    let b = l
        .schedule_claim("w2", &names(&["prod", "staging"]), lease, 10)
        .await
        .unwrap();
    assert_eq!(
        b.iter().map(|c| c.job.as_str()).collect::<Vec<_>>(),
        ["staging"]
    );
    let next = l
        .schedule_complete(&a[0], &result("prod"), Duration::ZERO)
        .await
        .unwrap()
        .expect("w1 still holds the slot");
    assert!(
        next > Duration::from_secs(50) && next <= minute,
        "next slot in {next:?}"
    );
    // Completing twice stores nothing more.
    assert_eq!(
        l.schedule_complete(&a[0], &result("prod"), Duration::ZERO)
            .await
            .unwrap(),
        None
    );
    // Not due again within the interval.
    assert!(
        l.schedule_claim("w2", &names(&["prod"]), lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let runs = l
        .scheduled_runs(Utc::now() - chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].environment, "prod");
    assert_eq!(runs[0].worker, "w1");
    assert_eq!(runs[0].slot, a[0].slot);
    // The result is an ordinary monitor run too.
    let stored = l
        .monitor_results("prod", Utc::now() - chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    let state = l.schedule_state().await.unwrap();
    let prod = state.iter().find(|r| r.job == "prod").unwrap();
    assert_eq!((prod.runs, prod.owner.as_deref()), (1, None));
    assert_eq!(prod.last_owner.as_deref(), Some("w1"));
    let staging = state.iter().find(|r| r.job == "staging").unwrap();
    assert_eq!(staging.owner.as_deref(), Some("w2"));
    // w2 waits for nothing of its own: prod is due in about a minute.
    let wake = l
        .schedule_next_wake(&names(&["prod", "staging"]), "w2")
        .await
        .unwrap()
        .unwrap();
    assert!(wake > Duration::from_secs(50), "{wake:?}");
    l.close().await;
}

async fn a_lapsed_lease_is_taken_over_and_the_late_completion_stores_nothing(f: &Fresh) {
    let l = f.open().await;
    l.schedule_register(&[job("prod", Duration::from_secs(3600))])
        .await
        .unwrap();
    let short = Duration::from_millis(50);
    let first = l
        .schedule_claim("dead", &names(&["prod"]), short, 10)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    // While the lease holds, a worker is told to wake when it lapses.
    let wake = l
        .schedule_next_wake(&names(&["prod"]), "alive")
        .await
        .unwrap()
        .unwrap();
    assert!(wake <= short, "{wake:?}");
    tokio::time::sleep(Duration::from_millis(120)).await;
    let taken = l
        .schedule_claim("alive", &names(&["prod"]), Duration::from_secs(30), 10)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1, "the lapsed lease is claimable");
    assert_eq!(taken[0].took_over_from.as_deref(), Some("dead"));
    assert_eq!(taken[0].slot, first[0].slot, "the same slot, not the next");
    // The dead worker wakes up late: its run is not stored.
    assert_eq!(
        l.schedule_complete(&first[0], &result("prod"), Duration::ZERO)
            .await
            .unwrap(),
        None
    );
    assert!(
        l.schedule_complete(&taken[0], &result("prod"), Duration::ZERO)
            .await
            .unwrap()
            .is_some()
    );
    let runs = l
        .scheduled_runs(Utc::now() - chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(runs.len(), 1, "one run for the slot: {runs:?}");
    assert_eq!(runs[0].worker, "alive");
    let state = l.schedule_state().await.unwrap();
    assert_eq!(state[0].takeovers, 1);
    assert_eq!(state[0].runs, 1);
    l.close().await;
}

async fn concurrent_claimers_split_the_due_jobs_without_overlap(f: &Fresh) {
    let l: Arc<dyn Ledger> = Arc::from(f.open().await);
    let all: Vec<String> = (0..300).map(|i| format!("env-{i:03}")).collect();
    let jobs: Vec<ScheduledJob> = all
        .iter()
        .map(|n| job(n, Duration::from_secs(3600)))
        .collect();
    l.schedule_register(&jobs).await.unwrap();
    let mut tasks = Vec::new();
    for w in 0..3 {
        let l = l.clone();
        let all = all.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine: Vec<ScheduleClaim> = Vec::new();
            // Small batches, so the three really interleave.
            for _ in 0..200 {
                let got = l
                    .schedule_claim(&format!("w{w}"), &all, Duration::from_secs(60), 7)
                    .await
                    .unwrap();
                if got.is_empty() {
                    break;
                }
                mine.extend(got);
            }
            mine
        }));
    }
    let mut seen = BTreeSet::new();
    let mut per_worker = Vec::new();
    for t in tasks {
        let mine = t.await.unwrap();
        per_worker.push(mine.len());
        for c in mine {
            assert!(seen.insert(c.job.clone()), "{} claimed twice", c.job);
        }
    }
    assert_eq!(
        seen.len(),
        300,
        "every due job claimed once: {per_worker:?}"
    );
    // Completing all of them stores 300 runs, one per job.
    let state = l.schedule_state().await.unwrap();
    assert!(state.iter().all(|r| r.owner.is_some()));
    l.close().await;
}

async fn a_released_slot_can_be_claimed_again_and_intervals_follow_the_config(f: &Fresh) {
    let l = f.open().await;
    l.schedule_register(&[job("prod", Duration::from_secs(3600))])
        .await
        .unwrap();
    let c = l
        .schedule_claim("w1", &names(&["prod"]), Duration::from_secs(60), 1)
        .await
        .unwrap();
    l.schedule_release(&c[0]).await.unwrap();
    let again = l
        .schedule_claim("w2", &names(&["prod"]), Duration::from_secs(60), 1)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].took_over_from, None, "a release is not a takeover");
    l.schedule_complete(&again[0], &result("prod"), Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    // Re-registering with a shorter interval brings a far slot forward.
    l.schedule_register(&[job("prod", Duration::from_secs(1))])
        .await
        .unwrap();
    let state = l.schedule_state().await.unwrap();
    assert_eq!(state[0].interval_us, 1_000_000);
    assert!(state[0].next_due <= Utc::now() + chrono::Duration::seconds(2));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        l.schedule_claim("w1", &names(&["prod"]), Duration::from_secs(60), 1)
            .await
            .unwrap()
            .len(),
        1
    );
    l.close().await;
}
