//! The ledger under stress, through the real binary: many writers at once, a
//! writer killed mid-write, a database that is not there, and a ledger from
//! a newer Runway. Each case runs on SQLite and on PostgreSQL.

use crate::ledger_support;

use std::{
    collections::BTreeSet,
    process::{Child, Stdio},
    time::{Duration, Instant},
};

use ledger_support::{Fresh, run};
use runway_core::{CheckResult, Era, Summary};
use runway_ledger::{Event, EventKind, Export, Filter, IMPORT_BATCH, Kind, Record, Verification};

both_backends!(
    two_hundred_concurrent_writers_lose_nothing,
    a_writer_killed_mid_write_leaves_only_whole_records,
    a_ledger_from_a_newer_runway_is_refused_by_the_cli,
);

const WRITERS: usize = 200;

/// Waits for every child, bounded by `limit`; returns (index, success, stderr) of each.
fn wait_all(children: Vec<Child>, limit: Duration) -> Vec<(usize, bool, String)> {
    let deadline = Instant::now() + limit;
    let mut pending: Vec<(usize, Child)> = children.into_iter().enumerate().collect();
    let mut done = Vec::new();
    while !pending.is_empty() {
        let mut still = Vec::new();
        for (i, mut c) in pending {
            match c.try_wait().expect("poll a writer") {
                Some(status) => {
                    let mut err = String::new();
                    if let Some(mut e) = c.stderr.take() {
                        let _ = std::io::Read::read_to_string(&mut e, &mut err);
                    }
                    done.push((i, status.success(), err));
                }
                None => still.push((i, c)),
            }
        }
        pending = still;
        if Instant::now() > deadline {
            for (_, mut c) in pending {
                let _ = c.kill();
                let _ = c.wait();
            }
            panic!("writers still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done
}

async fn two_hundred_concurrent_writers_lose_nothing(f: &Fresh) {
    // No set-up first: the writers also race to create and migrate the ledger.
    let mut children = Vec::with_capacity(WRITERS);
    for i in 0..WRITERS {
        let child = f
            .runway()
            .args([
                "incident",
                "open",
                "--sev",
                "P3",
                "--title",
                &format!("writer {i}"),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn runway");
        children.push(child);
    }
    let results = wait_all(children, Duration::from_secs(180));
    let failed: Vec<_> = results.iter().filter(|r| !r.1).collect();
    assert!(
        failed.is_empty(),
        "{} writers failed, e.g. {:?}",
        failed.len(),
        failed.first()
    );

    let l = f.open().await;
    let filter = Filter {
        kind: Some(Kind::Incident),
        ..Filter::default()
    };
    let incidents = l.query(&filter, false).await.unwrap();
    let titles: BTreeSet<String> = incidents
        .iter()
        .map(|r| r.incident().unwrap().title)
        .collect();
    let expected: BTreeSet<String> = (0..WRITERS).map(|i| format!("writer {i}")).collect();
    assert_eq!(incidents.len(), WRITERS);
    assert_eq!(titles, expected);
    assert!(incidents.iter().all(|r| r.events.len() == 1));
    l.close().await;
}

const RECORDS: usize = 4000;
const CHECKS_PER_RECORD: usize = 40;

/// An export of `RECORDS` verification runs of `CHECKS_PER_RECORD` checks each.
fn big_export() -> Export {
    let t0 = runway_ledger::now();
    let records = (0..RECORDS)
        .map(|i| {
            let checks: Vec<CheckResult> = (0..CHECKS_PER_RECORD)
                .map(|c| {
                    CheckResult::pass(format!("check.{c}"), format!("run {i} check {c} passed"))
                        .with_duration_ms(c as f64 + 0.5)
                })
                .collect();
            let v = Verification {
                schema: runway_core::REPORT_SCHEMA.into(),
                target: "http://127.0.0.1:1/mcp".into(),
                era: Era::Unknown,
                suite: "smoke".into(),
                started_at: t0.to_rfc3339(),
                duration_ms: 10.0,
                summary: Summary::of(&checks),
                environment: "production".into(),
                deployment_id: None,
            };
            Record {
                id: format!("ver-{i:012x}"),
                kind: Kind::Verification,
                created_at: t0 + chrono::Duration::milliseconds(i as i64),
                operator: "loader".into(),
                environment: Some("production".into()),
                version: None,
                ref_id: None,
                body: serde_json::to_value(&v).unwrap(),
                events: vec![Event {
                    at: t0,
                    operator: "loader".into(),
                    kind: EventKind::Created,
                    status: Some("passed".into()),
                    note: None,
                    data: serde_json::Value::Null,
                }],
                checks,
            }
        })
        .collect();
    Export {
        schema: runway_ledger::EXPORT_SCHEMA.into(),
        records,
    }
}

async fn a_writer_killed_mid_write_leaves_only_whole_records(f: &Fresh) {
    let path = f.dir.path().join("big.json");
    std::fs::write(&path, serde_json::to_vec(&big_export()).unwrap()).unwrap();
    // Create the ledger first so that polling it below cannot race its creation.
    f.open().await.close().await;
    let mut child = f
        .runway()
        .args(["ledger", "import"])
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn runway");

    // Kill it once some records are in, while it is still writing.
    let l = f.open().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n: i64 = l.counts().await.unwrap().iter().map(|c| c.1).sum();
        if n >= IMPORT_BATCH as i64 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before it was killed"
        );
        assert!(
            Instant::now() < deadline,
            "the import wrote nothing in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the import finished before the kill: make the export bigger"
    );
    child.kill().expect("SIGKILL the writer");
    let status = child.wait().unwrap();
    assert!(!status.success());
    l.close().await;

    // A fresh open sees a readable ledger in which every record is whole.
    let l = f.open().await;
    let export = l.export(&Filter::default()).await.unwrap();
    let n = export.records.len();
    assert!(
        (IMPORT_BATCH..RECORDS).contains(&n),
        "{n} records after the kill"
    );
    // Imports commit whole batches: a killed one leaves only whole batches.
    assert_eq!(n % IMPORT_BATCH, 0, "{n} records after the kill");
    for r in &export.records {
        assert_eq!(r.events.len(), 1, "{}", r.id);
        assert_eq!(
            r.checks.len(),
            CHECKS_PER_RECORD,
            "{} is half written",
            r.id
        );
        assert_eq!(r.verification().unwrap().summary.total(), r.checks.len());
    }
    // The ledger still takes writes.
    l.open_incident(runway_core::Severity::P3, "after the kill", None)
        .await
        .unwrap();
    l.close().await;
}

async fn a_ledger_from_a_newer_runway_is_refused_by_the_cli(f: &Fresh) {
    ledger_support::ok(
        f.runway()
            .args(["incident", "open", "--sev", "P2", "--title", "x"]),
    );
    runway_ledger::testing::execute_raw(
        &f.url,
        "INSERT INTO runway_migrations (version, name, applied_at) VALUES (42, 'future', '2031-01-01T00:00:00.000000Z')",
    )
    .await
    .unwrap();
    let (code, out, err) = run(f
        .runway()
        .args(["incident", "open", "--sev", "P2", "--title", "y"]));
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "no id may be printed: {out}");
    assert!(err.contains("schema version 42"), "{err}");
    assert!(err.contains("written by a newer Runway"), "{err}");
    assert!(err.contains(&f.url.to_string()), "{err}");
    assert!(!err.contains("runway-test-pw"), "{err}");
}

/// PostgreSQL that is not there: a clear error naming the URL without its
/// password, a failing exit code, and no id printed as if the write happened.
#[test]
fn an_unreachable_postgres_is_a_clear_error_without_the_password() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
        // Dropped here: nothing listens on the port any more.
    };
    let url = format!("postgres://runway:top-secret-pw@127.0.0.1:{port}/runway");
    let shown = format!("postgres://runway@127.0.0.1:{port}/runway");
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["incident", "open", "--sev", "P1", "--title", "db down"],
        vec!["ledger", "list"],
        vec!["dora"],
    ] {
        let mut c = runway_testkit::Test::new().into_command();
        c.current_dir(dir.path())
            .args(&args)
            .args(["--ledger", &url])
            .env("NO_COLOR", "1")
            .env_remove("RUNWAY_LEDGER_URL");
        let started = Instant::now();
        let (code, out, err) = run(&mut c);
        assert_eq!(code, 3, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(
            err.contains(&format!("cannot open the ledger at `{shown}`")),
            "{args:?}: {err}"
        );
        assert!(!err.contains("top-secret"), "{args:?}: {err}");
        assert!(started.elapsed() < Duration::from_secs(20), "{args:?} hung");
    }
}

/// PostgreSQL that goes away while a Runway holds a ledger open: the next
/// write fails with an error naming the URL (without its password), and
/// nothing claims to have been recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_going_away_mid_session_fails_the_write_loudly() {
    let Some(base) = runway_ledger::testing::pg_url_or_skip(
        "postgres_going_away_mid_session_fails_the_write_loudly",
    ) else {
        return;
    };
    let db = runway_ledger::testing::ScratchDb::create(&base)
        .await
        .unwrap();
    let url = db.url.clone();
    let l = runway_ledger::open(&url).await.unwrap();
    l.open_incident(runway_core::Severity::P2, "before", None)
        .await
        .unwrap();
    // Drops the database and terminates every connection to it.
    db.drop().await.unwrap();
    let err = l
        .open_incident(runway_core::Severity::P1, "after", None)
        .await
        .expect_err("a write to a vanished database must fail");
    let msg = err.to_string();
    assert!(msg.contains(&url.to_string()), "{msg}");
    assert!(!msg.contains("runway-test-pw"), "{msg}");
    assert!(
        matches!(
            err,
            runway_ledger::LedgerError::Database { .. }
                | runway_ledger::LedgerError::Connect { .. }
        ),
        "{msg}"
    );
    l.close().await;
}
