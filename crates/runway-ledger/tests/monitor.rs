//! `runway monitor`'s storage on both backends: runs read back, retention
//! folds old runs into hourly rollups exactly once, secrets are redacted.

use chrono::{DateTime, Duration, TimeZone, Utc};
use runway_core::{Redactor, Secret};
use runway_ledger::{MonitorResult, PruneStats};

#[macro_use]
mod support;
use support::Fresh;

both_backends!(
    runs_read_back_in_order_and_by_environment,
    retention_folds_whole_hours_once_and_keeps_the_horizon,
    a_secret_in_a_message_never_reaches_the_ledger,
    daily_uptime_adds_raw_runs_and_rollups_once_and_latest_is_the_newest,
    batch_reads_of_many_environments_match_the_reads_of_each,
    the_summary_counts_every_run_and_percentiles_follow_the_runs,
    migrating_an_older_ledger_builds_the_summary_of_its_runs,
);

fn run(env: &str, at: DateTime<Utc>, ok: bool, reason: Option<&str>, ms: f64) -> MonitorResult {
    MonitorResult {
        environment: env.into(),
        at,
        ok,
        status: if ok { "up" } else { "down" }.into(),
        reason: reason.map(str::to_owned),
        check_id: (!ok).then(|| "mcp.handshake".to_owned()),
        message: (!ok).then(|| "no response".to_owned()),
        latency_ms: ms,
        location: None,
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap()
}

async fn runs_read_back_in_order_and_by_environment(f: &Fresh) {
    let l = f.open().await;
    let a = run("prod", t0() + Duration::minutes(1), true, None, 12.5);
    let b = run(
        "prod",
        t0() + Duration::minutes(2),
        false,
        Some("connect"),
        3.0,
    );
    l.record_monitor_result(&b).await.unwrap();
    l.record_monitor_result(&a).await.unwrap();
    l.record_monitor_result(&run("staging", t0(), true, None, 1.0))
        .await
        .unwrap();
    let got = l.monitor_results("prod", t0()).await.unwrap();
    assert_eq!(got, vec![a.clone(), b]);
    let later = l
        .monitor_results("prod", t0() + Duration::seconds(90))
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].reason.as_deref(), Some("connect"));
    l.close().await;
}

async fn retention_folds_whole_hours_once_and_keeps_the_horizon(f: &Fresh) {
    let l = f.open().await;
    // Three hours of one-minute runs: every 10th fails, every 30th on auth.
    for i in 0..180 {
        let at = t0() + Duration::minutes(i);
        let (ok, reason) = match i {
            i if i % 30 == 0 => (false, Some("auth")),
            i if i % 10 == 0 => (false, Some("timeout")),
            _ => (true, None),
        };
        l.record_monitor_result(&run("prod", at, ok, reason, (i % 60) as f64))
            .await
            .unwrap();
    }
    // Keep from 12:30: the 10:00 and 11:00 hours fold; 12:00-12:59 stays raw
    // (a partial hour is never folded).
    let keep = t0() + Duration::minutes(150);
    let stats = l.prune_monitor(keep).await.unwrap();
    assert_eq!(
        stats,
        PruneStats {
            folded: 120,
            buckets: 2
        }
    );
    let raw = l.monitor_results("prod", t0()).await.unwrap();
    assert_eq!(raw.len(), 60);
    assert_eq!(raw[0].at, t0() + Duration::hours(2));
    let roll = l.monitor_rollups("prod", t0()).await.unwrap();
    assert_eq!(roll.len(), 2);
    for (h, r) in roll.iter().enumerate() {
        assert_eq!(r.bucket, t0() + Duration::hours(h as i64));
        assert_eq!(r.runs, 60);
        assert_eq!(r.failures, 6);
        assert_eq!(r.auth_failures, 2);
        assert_eq!(r.latency_sum_ms, (0..60).sum::<i64>() as f64);
        assert_eq!(r.latency_max_ms, 59.0);
    }
    // Pruning again with the same horizon changes nothing: nothing is counted twice.
    assert_eq!(l.prune_monitor(keep).await.unwrap(), PruneStats::default());
    assert_eq!(l.monitor_rollups("prod", t0()).await.unwrap(), roll);
    // A late run inside an already folded hour is added to its rollup.
    l.record_monitor_result(&run(
        "prod",
        t0() + Duration::minutes(5),
        false,
        Some("auth"),
        99.0,
    ))
    .await
    .unwrap();
    l.prune_monitor(keep).await.unwrap();
    let roll = l.monitor_rollups("prod", t0()).await.unwrap();
    assert_eq!(
        (roll[0].runs, roll[0].failures, roll[0].auth_failures),
        (61, 7, 3)
    );
    assert_eq!(roll[0].latency_max_ms, 99.0);
    l.close().await;
}

async fn a_secret_in_a_message_never_reaches_the_ledger(f: &Fresh) {
    let mut l = f.open().await;
    let secret = "tok-monitor-secret-77aa";
    let mut r = Redactor::new();
    r.add(&Secret::new(secret));
    l.set_redactor(r);
    let mut bad = run("prod", t0(), false, Some("auth"), 1.0);
    bad.message = Some(format!("401 for Bearer {secret}"));
    l.record_monitor_result(&bad).await.unwrap();
    let got = l.monitor_results("prod", t0()).await.unwrap();
    let m = got[0].message.as_deref().unwrap();
    assert!(!m.contains(secret), "{m}");
    assert!(m.starts_with("401 for Bearer "), "{m}");
    l.close().await;
}

async fn daily_uptime_adds_raw_runs_and_rollups_once_and_latest_is_the_newest(f: &Fresh) {
    let l = f.open().await;
    assert_eq!(l.monitor_latest("prod").await.unwrap(), None);
    // Two days of hourly runs from 10:00 on day one; every 4th fails.
    for i in 0..48 {
        let at = t0() + Duration::hours(i);
        let ok = i % 4 != 0;
        let reason = (!ok).then_some("connect");
        l.record_monitor_result(&run("prod", at, ok, reason, i as f64))
            .await
            .unwrap();
    }
    l.record_monitor_result(&run("staging", t0(), false, Some("dns"), 1.0))
        .await
        .unwrap();
    let before = l.monitor_daily("prod", t0()).await.unwrap();
    // Fold everything before the second day's 12:00 into rollups: the sums must not move.
    l.prune_monitor(t0() + Duration::hours(26)).await.unwrap();
    assert!(!l.monitor_rollups("prod", t0()).await.unwrap().is_empty());
    let after = l.monitor_daily("prod", t0()).await.unwrap();
    assert_eq!(before, after);
    let day = |d: i64| Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap() + Duration::days(d);
    // Day one: 10:00-23:00 (14 runs, i = 0..14, failures at 0, 4, 8, 12);
    // day two: 24 runs; day three: 10 runs.
    let want = vec![
        runway_ledger::MonitorDay {
            day: day(0),
            runs: 14,
            failures: 4,
        },
        runway_ledger::MonitorDay {
            day: day(1),
            runs: 24,
            failures: 6,
        },
        runway_ledger::MonitorDay {
            day: day(2),
            runs: 10,
            failures: 2,
        },
    ];
    assert_eq!(after, want);
    let latest = l.monitor_latest("prod").await.unwrap().unwrap();
    assert_eq!(latest.at, t0() + Duration::hours(47));
    // The hours past the horizon are summed; those before it were pruned.
    let hours = l.monitor_hours("prod", t0()).await.unwrap();
    assert_eq!(hours.first().unwrap().hour, t0() + Duration::hours(26));
    assert_eq!(hours.len(), 22);
    let last = hours.last().unwrap();
    assert_eq!(
        (last.hour, last.runs, last.failures, last.latency_max_ms),
        (t0() + Duration::hours(47), 1, 0, 47.0)
    );
    assert_eq!(
        last.buckets[runway_ledger::summary::latency_bucket(47.0)],
        1
    );
    assert_eq!(hours.iter().map(|h| h.failures).sum::<i64>(), 5);
    l.close().await;
}

/// The dashboard's batch reads give, for every environment asked about, what
/// the one-environment reads give, and nothing for the others.
async fn batch_reads_of_many_environments_match_the_reads_of_each(f: &Fresh) {
    let l = f.open().await;
    let envs: Vec<String> = ["prod", "staging", "eu's \"edge\"", "never-ran"]
        .map(str::to_owned)
        .to_vec();
    // Two days of hourly runs for the first three (the third fails every 3rd),
    // one for an environment nobody asks about, two runs at the same instant.
    for i in 0..48 {
        for (n, env) in envs[..3].iter().enumerate() {
            let ok = n != 2 || i % 3 != 0;
            let at = t0() + Duration::hours(i) + Duration::minutes(n as i64);
            l.record_monitor_result(&run(
                env,
                at,
                ok,
                (!ok).then_some("timeout"),
                (i * 10 + n as i64) as f64,
            ))
            .await
            .unwrap();
        }
    }
    let tie = t0() + Duration::hours(60);
    l.record_monitor_result(&run("prod", tie, true, None, 1.0))
        .await
        .unwrap();
    l.record_monitor_result(&run("prod", tie, false, Some("dns"), 2.0))
        .await
        .unwrap();
    l.record_monitor_result(&run("other", t0(), true, None, 1.0))
        .await
        .unwrap();
    l.prune_monitor(t0() + Duration::hours(20)).await.unwrap();

    let since = t0() + Duration::hours(30);
    let latest = l.monitor_latest_many(&envs).await.unwrap();
    let daily = l.monitor_daily_many(&envs, t0()).await.unwrap();
    let lat = l.monitor_hours_many(&envs, since).await.unwrap();
    let mut want_latest = Vec::new();
    let mut want_daily = Vec::new();
    let mut want_lat = Vec::new();
    let mut sorted = envs.clone();
    sorted.sort();
    for env in &sorted {
        want_latest.extend(l.monitor_latest(env).await.unwrap());
        for d in l.monitor_daily(env, t0()).await.unwrap() {
            want_daily.push((env.clone(), d));
        }
        for x in l.monitor_hours(env, since).await.unwrap() {
            want_lat.push((env.clone(), x));
        }
    }
    assert_eq!(latest, want_latest);
    assert_eq!(latest.len(), 3);
    // Of two runs at one instant the later stored is the newest.
    assert_eq!(latest[1].environment, "prod");
    assert_eq!(latest[1].reason.as_deref(), Some("dns"));
    assert_eq!(daily, want_daily);
    // The same days summed per environment, in one row each.
    let uptime = l.monitor_uptime_many(&envs, t0()).await.unwrap();
    let mut want_uptime: Vec<(String, i64, i64)> = Vec::new();
    for (env, d) in &want_daily {
        match want_uptime.last_mut() {
            Some(last) if &last.0 == env => {
                last.1 += d.runs;
                last.2 += d.failures;
            }
            _ => want_uptime.push((env.clone(), d.runs, d.failures)),
        }
    }
    let got: Vec<(String, i64, i64)> = uptime
        .iter()
        .map(|(e, d)| (e.clone(), d.runs, d.failures))
        .collect();
    assert_eq!(got, want_uptime);
    assert_eq!(got.len(), 3);
    let midnight = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
    assert!(uptime.iter().all(|(_, d)| d.day == midnight));
    assert!(l.monitor_uptime_many(&[], t0()).await.unwrap().is_empty());
    assert_eq!(daily.iter().filter(|(e, _)| e == "prod").count(), 3);
    assert!(
        daily
            .iter()
            .any(|(e, d)| e == "eu's \"edge\"" && d.failures > 0)
    );
    assert_eq!(lat, want_lat);
    // Hours 30 to 47 of the three, and the two runs of hour 60 in one row.
    assert_eq!(lat.len(), 3 * 18 + 1);
    let tie_hour = lat.iter().find(|(_, h)| h.hour == tie).unwrap();
    assert_eq!((tie_hour.1.runs, tie_hour.1.failures), (2, 1));
    assert_eq!(tie_hour.1.latency_sum_ms, 3.0);
    assert!(l.monitor_latest_many(&[]).await.unwrap().is_empty());
    assert!(l.monitor_daily_many(&[], t0()).await.unwrap().is_empty());
    assert!(
        l.monitor_hours_many(&["other".to_owned()], t0() + Duration::hours(1))
            .await
            .unwrap()
            .is_empty()
    );
    l.close().await;
}

/// The day and hour rows count each run stored once, through the shared
/// schedule's completion as well as a local run, and an hour's percentiles
/// read from its histogram are near the runs' own.
async fn the_summary_counts_every_run_and_percentiles_follow_the_runs(f: &Fresh) {
    let l = f.open().await;
    // 200 runs in one hour, 2.0 ms to 401 ms; every 10th fails.
    for i in 0..200 {
        let ok = i % 10 != 0;
        let at = t0() + Duration::seconds(i * 15);
        let ms = 2.0 + f64::from(i as i32) * 2.0;
        l.record_monitor_result(&run("prod", at, ok, (!ok).then_some("timeout"), ms))
            .await
            .unwrap();
    }
    let hours = l.monitor_hours("prod", t0()).await.unwrap();
    assert_eq!(hours.len(), 1);
    let h = &hours[0];
    assert_eq!((h.hour, h.runs, h.failures), (t0(), 200, 20));
    assert_eq!(h.buckets.len(), runway_ledger::LATENCY_BUCKETS);
    assert_eq!(h.buckets.iter().sum::<i64>(), 200);
    assert_eq!(h.latency_max_ms, 400.0);
    assert_eq!(
        h.latency_sum_ms,
        (0..200).map(|i| 2.0 + f64::from(i) * 2.0).sum::<f64>()
    );
    let p50 = h.percentile(50.0).unwrap();
    let p95 = h.percentile(95.0).unwrap();
    assert!((p50 - 200.0).abs() / 200.0 < 0.16, "p50 {p50}");
    assert!((p95 - 380.0).abs() / 380.0 < 0.16, "p95 {p95}");
    let days = l.monitor_daily("prod", t0()).await.unwrap();
    assert_eq!((days.len(), days[0].runs, days[0].failures), (1, 200, 20));

    // A run completed through the shared schedule is counted too.
    let job = runway_ledger::ScheduledJob {
        job: "prod".into(),
        interval: std::time::Duration::from_secs(60),
        first_delay: std::time::Duration::ZERO,
    };
    l.schedule_register(std::slice::from_ref(&job))
        .await
        .unwrap();
    let claims = l
        .schedule_claim(
            "w1",
            &["prod".to_owned()],
            std::time::Duration::from_secs(30),
            1,
        )
        .await
        .unwrap();
    assert_eq!(claims.len(), 1);
    let at = Utc::now();
    let done = l
        .schedule_complete(
            &claims[0],
            &run("prod", at, false, Some("dns"), 7.0),
            std::time::Duration::ZERO,
        )
        .await
        .unwrap();
    assert!(done.is_some());
    let now_hour = l.monitor_hours("prod", at).await.unwrap();
    assert_eq!(
        (now_hour.len(), now_hour[0].runs, now_hour[0].failures),
        (1, 1, 1)
    );
    l.close().await;
}

/// A ledger made before the summary existed (schema 6, runs and rollups
/// stored) gets its day and hour rows from its runs when it is migrated:
/// the same rows as recording those runs today gives.
async fn migrating_an_older_ledger_builds_the_summary_of_its_runs(f: &Fresh) {
    // 72 runs 50 minutes apart (three days), latencies exact in binary so
    // sums do not depend on the order they are added in; one below 0.1 ms.
    let l = f.open().await;
    for i in 0..72 {
        let ok = i % 5 != 0;
        let at = t0() + Duration::minutes(i * 50);
        let ms = if i == 3 {
            0.0625
        } else {
            (i * 37 % 900) as f64 + 0.25
        };
        l.record_monitor_result(&run("prod", at, ok, (!ok).then_some("connect"), ms))
            .await
            .unwrap();
    }
    l.prune_monitor(t0() + Duration::hours(20)).await.unwrap();
    let live_days = l.monitor_daily("prod", t0()).await.unwrap();
    let live_hours = l.monitor_hours("prod", t0()).await.unwrap();
    assert_eq!(live_days.iter().map(|d| d.runs).sum::<i64>(), 72);
    assert!(live_hours.len() > 30);
    l.close().await;

    back_to_schema_6(f).await;
    let l = f.open().await;
    assert_eq!(l.monitor_daily("prod", t0()).await.unwrap(), live_days);
    assert_eq!(l.monitor_hours("prod", t0()).await.unwrap(), live_hours);
    l.close().await;
}

/// Turns the ledger back into what schema 6 left: runs and rollups, no
/// summary tables, no run locations, versions 7 and later not applied.
async fn back_to_schema_6(f: &Fresh) {
    use sqlx::Executor;
    let sql = "DROP TRIGGER monitor_results_summary ON monitor_results;
        DROP FUNCTION monitor_results_summary(); DROP TABLE monitor_days; DROP TABLE monitor_hours;
        DROP INDEX monitor_results_location; ALTER TABLE monitor_results DROP COLUMN location;
        DELETE FROM runway_migrations WHERE version >= 7;";
    match &f.url {
        runway_ledger::LedgerUrl::Sqlite { path } => {
            // SQLite's DROP TRIGGER names no table and has no function.
            let sql = sql
                .replace(" ON monitor_results;", ";")
                .replace("DROP FUNCTION monitor_results_summary();", "");
            let sql = sql.as_str();
            let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
            let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
            pool.execute(sqlx::raw_sql(sql)).await.unwrap();
            pool.close().await;
        }
        runway_ledger::LedgerUrl::Postgres { raw, .. } => {
            let pool = sqlx::PgPool::connect(raw).await.unwrap();
            pool.execute(sqlx::raw_sql(sql)).await.unwrap();
            pool.close().await;
        }
    }
}
