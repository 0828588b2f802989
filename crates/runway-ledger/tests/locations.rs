//! Runs from several places (`runway monitor --location`) on both backends:
//! the location is stored with each run and read back, and the newest run of
//! each location of many environments comes back in one query.

use chrono::{DateTime, Duration, TimeZone, Utc};
use runway_ledger::MonitorResult;

#[macro_use]
mod support;
use support::Fresh;

both_backends!(
    each_run_keeps_its_location_and_runs_without_one_stay_unlocated,
    the_newest_run_of_each_location_of_each_environment_in_one_query,
);

fn run(env: &str, location: Option<&str>, at: DateTime<Utc>, ok: bool) -> MonitorResult {
    MonitorResult {
        environment: env.into(),
        at,
        ok,
        status: if ok { "up" } else { "down" }.into(),
        reason: (!ok).then(|| "connect".to_owned()),
        check_id: (!ok).then(|| "http.health".to_owned()),
        message: (!ok).then(|| "could not connect".to_owned()),
        latency_ms: if ok { 20.0 } else { 3.0 },
        location: location.map(str::to_owned),
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap()
}

async fn each_run_keeps_its_location_and_runs_without_one_stay_unlocated(f: &Fresh) {
    let l = f.open().await;
    let a = run("prod", Some("eu-west"), t0(), true);
    let b = run("prod", None, t0() + Duration::seconds(1), true);
    l.record_monitor_result(&a).await.unwrap();
    l.record_monitor_result(&b).await.unwrap();
    assert_eq!(
        l.monitor_results("prod", t0()).await.unwrap(),
        vec![a, b.clone()]
    );
    assert_eq!(l.monitor_latest("prod").await.unwrap(), Some(b.clone()));
    assert_eq!(
        l.monitor_latest_many(&["prod".into()]).await.unwrap(),
        vec![b]
    );
    l.close().await;
}

async fn the_newest_run_of_each_location_of_each_environment_in_one_query(f: &Fresh) {
    let l = f.open().await;
    let s = |n: i64| t0() + Duration::seconds(n);
    let rows = [
        run("prod", Some("eu-west"), s(0), false),
        run("prod", Some("eu-west"), s(10), true),
        run("prod", Some("us-east"), s(12), true),
        run("prod", Some("ap-south"), s(3), true),
        // Stored later but older: the newest by time wins, not by insertion.
        run("prod", Some("ap-south"), s(13), false),
        run("prod", Some("ap-south"), s(11), true),
        run("prod", None, s(20), true),
        run("staging", Some("eu-west"), s(5), false),
        // Before `since`: not read.
        run("staging", Some("us-east"), s(-100), true),
        run("other", Some("eu-west"), s(5), true),
    ];
    for r in &rows {
        l.record_monitor_result(r).await.unwrap();
    }
    let names = vec!["prod".to_owned(), "staging".to_owned()];
    let got = l.monitor_latest_by_location(&names, s(-10)).await.unwrap();
    let seen: Vec<(&str, &str, DateTime<Utc>, bool)> = got
        .iter()
        .map(|r| {
            (
                r.environment.as_str(),
                r.location.as_deref().unwrap(),
                r.at,
                r.ok,
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("prod", "ap-south", s(13), false),
            ("prod", "eu-west", s(10), true),
            ("prod", "us-east", s(12), true),
            ("staging", "eu-west", s(5), false),
        ]
    );
    assert_eq!(got[0], rows[4], "the whole run comes back");
    assert!(
        l.monitor_latest_by_location(&[], s(0))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        l.monitor_latest_by_location(&["other".into()], s(6))
            .await
            .unwrap()
            .is_empty()
    );
    l.close().await;
}
