//! The dashboard's batch read model: [`model::environments`] reads all the
//! environments in a fixed number of ledger queries and must give exactly
//! what [`model::environment`] gives for each one (the history API's path).

mod support;

use runway_ledger::Deployment;
use runway_web::model;
use support::*;

#[tokio::test]
async fn the_batch_views_equal_each_environments_own_view() {
    let s = seeded().await;
    // A deployment of an environment nobody monitors, and one of a monitored
    // environment without runs: each goes to its own environment only.
    // At `now`: inside even the one-day window, whatever the time of day
    // (two hours before `now` is yesterday from 00:00 to 02:00 UTC).
    for env in ["unmonitored", "quiet"] {
        let mut d = Deployment::new(env, "9.9.9");
        d.started_at = s.now;
        s.ledger.record_deployment(&d).await.unwrap();
    }
    let names: Vec<String> = ["staging", "production", HOSTILE_ENV, "quiet", "never-ran"]
        .map(str::to_owned)
        .to_vec();
    for days in [model::UPTIME_DAYS, 7, 1] {
        let batch = model::environments(s.ledger.as_ref(), &names, s.now, days, true)
            .await
            .unwrap();
        // The status page's views: the same without latency points.
        let bare = model::environments(s.ledger.as_ref(), &names, s.now, days, false)
            .await
            .unwrap();
        for (b, full) in bare.iter().zip(&batch) {
            assert!(b.latency.is_empty());
            let mut full = full.clone();
            full.latency.clear();
            assert_eq!(
                serde_json::to_value(b).unwrap(),
                serde_json::to_value(&full).unwrap()
            );
        }
        assert_eq!(batch.len(), names.len());
        for (name, got) in names.iter().zip(&batch) {
            let want = model::environment(s.ledger.as_ref(), name, s.now, days)
                .await
                .unwrap();
            assert_eq!(
                serde_json::to_value(got).unwrap(),
                serde_json::to_value(&want).unwrap(),
                "{name} over {days} days"
            );
        }
        let production = &batch[1];
        assert_eq!(production.status, "up");
        assert!(!production.latency.is_empty());
        assert!(production.days.iter().any(|d| d.failures > 0) || days < 30);
        assert_eq!(batch[3].deployments.len(), 1);
        assert_eq!(batch[3].status, "unknown");
        assert!(batch[4].deployments.is_empty() && batch[4].last_run.is_none());
    }
    assert!(
        model::environments(s.ledger.as_ref(), &[], s.now, 1, true)
            .await
            .unwrap()
            .is_empty()
    );
}
