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

/// The compact pages' read: the uptime summed in the query equals the sum of
/// the days, the day bars are read only for those shown in full (not up),
/// and with them the views equal the full read's.
#[tokio::test]
async fn the_compact_views_sum_the_uptime_and_read_days_only_for_those_not_up() {
    let s = seeded().await;
    let names: Vec<String> = ["staging", "production", HOSTILE_ENV, "quiet", "never-ran"]
        .map(str::to_owned)
        .to_vec();
    for days in [model::UPTIME_DAYS, 7, 1] {
        let full = model::environments(s.ledger.as_ref(), &names, s.now, days, false)
            .await
            .unwrap();
        let mut compact = model::environments_compact(s.ledger.as_ref(), &names, s.now, days)
            .await
            .unwrap();
        for (c, f) in compact.iter().zip(&full) {
            assert_eq!(c.name, f.name);
            assert_eq!(c.status, f.status, "{}", c.name);
            assert_eq!(c.uptime, f.uptime, "{} over {days} days", c.name);
            assert_eq!(c.days.len(), f.days.len());
            assert!(c.days.iter().all(|d| d.runs == 0), "{}", c.name);
        }
        model::compact_details(s.ledger.as_ref(), &mut compact, s.now, days, false)
            .await
            .unwrap();
        for (c, f) in compact.iter().zip(&full) {
            if c.status == "up" {
                assert!(c.days.iter().all(|d| d.runs == 0), "{}", c.name);
            } else {
                assert_eq!(
                    serde_json::to_value(c).unwrap(),
                    serde_json::to_value(f).unwrap(),
                    "{} over {days} days",
                    c.name
                );
            }
        }
        // Some environment is not up and has runs in the window, so the
        // second read is tested with days to fill.
        assert!(
            compact
                .iter()
                .any(|c| c.status != "up" && c.days.iter().any(|d| d.runs > 0))
                || days == 1,
            "{compact:#?}"
        );
    }
}
