//! Deployments in the ledger, on both backends: the whole record (gates,
//! window or emergency override, facts, end, verification runs, incidents),
//! the aborted outcome, the schema-1 upgrade, and the per-environment deploy
//! lock (one holder, expiry of a crashed holder, two concurrent takers).

use std::time::Duration;

use runway_core::{CheckResult, Era, Redactor, Report, Secret, Severity};
use runway_ledger::{
    Analysis, AnalysisVerdict, Changes, Deployed, Deployment, DeploymentEnd, DeploymentFact,
    GateRecord, GateVerdict, Kind, LedgerError, Logs, MAX_LOG_BYTES, Outcome, Rollback,
    RollbackDecision, Scope, WindowDecision, now, testing::execute_raw,
};

#[macro_use]
mod support;
use support::Fresh;

both_backends!(
    a_deployment_record_carries_every_field,
    an_aborted_deployment_says_what_was_done,
    recent_deployments_are_newest_first_and_joined_up,
    a_schema_1_ledger_upgrades_keeping_every_event,
    a_second_deploy_to_the_same_environment_is_refused,
    a_crashed_holders_lease_expires_and_is_taken_over,
    a_lease_taken_over_is_lost_and_not_released_by_its_old_holder,
    of_concurrent_takers_exactly_one_wins,
    each_fact_of_a_rolled_back_deployment_names_its_version,
);

fn report(ok: bool) -> Report {
    let checks = if ok {
        vec![CheckResult::pass("http.health", "200 in 3 ms")]
    } else {
        vec![CheckResult::fail(
            "mcp.call.echo",
            "500 from `echo`",
            "look at the server's log",
        )]
    };
    Report::new(
        "http://127.0.0.1:9/mcp",
        Era::from_version("2025-11-25"),
        "smoke",
        chrono::Utc::now(),
        12.0,
        checks,
    )
}

async fn a_deployment_record_carries_every_field(f: &Fresh) {
    let mut l = f.open().await;
    let mut r = Redactor::new();
    r.add(&Secret::new("tok-s3cret-99"));
    l.set_redactor(r);

    let mut d = Deployment::new("production", "2.0.0");
    d.image_tag = Some("ghcr.io/acme/mcp:2.0.0".into());
    d.image_digest = Some("sha256:feedface".into());
    d.git_sha = Some("0123456789abcdef0123456789abcdef01234567".into());
    d.approver = Some("bob".into());
    d.target = Some("process".into());
    d.scope = vec![Scope::Code, Scope::Config];
    d.changes = Some(Changes {
        previous_deployment: Some("dep-000000000001".into()),
        previous_version: Some("1.9.0".into()),
        previous_git_sha: Some("fedcba9876543210".into()),
        code: vec!["abc1234 fix: echo trims input".into()],
        config: vec!["environments.production.analysis.bake".into()],
    });
    d.window = WindowDecision::Emergency {
        window: Some("Tue 10:00-16:00 UTC".into()),
        incident: "inc-0000000000aa".into(),
        approver: "carol".into(),
    };
    d.gates = vec![
        GateRecord::new("release-check", GateVerdict::Pass, "v2.0.0 at its tag"),
        GateRecord::new(
            "window",
            GateVerdict::Overridden,
            "Friday: emergency for inc-0000000000aa",
        ),
        GateRecord::new("env", GateVerdict::Pass, "API_TOKEN present"),
    ];
    let dep = l.record_deployment(&d).await.unwrap();
    assert!(dep.starts_with("dep-"), "{dep}");

    l.add_deployment_fact(
        &dep,
        &DeploymentFact::Gates {
            gates: vec![GateRecord::new(
                "rollback-artifact",
                GateVerdict::Pass,
                "1.9.0 command line",
            )],
        },
    )
    .await
    .unwrap();
    l.add_deployment_fact(
        &dep,
        &DeploymentFact::Deployed(Deployed {
            image: Some("ghcr.io/acme/mcp:2.0.0".into()),
            digest: Some("sha256:feedface".into()),
            revision: Some("pid 4242".into()),
            ..Deployed::default()
        }),
    )
    .await
    .unwrap();
    let first = l
        .record_verification(&report(true), "production", Some(&dep))
        .await
        .unwrap();
    let analysis = Analysis {
        verdict: AnalysisVerdict::Fail,
        samples: 12,
        min_samples: Some(10),
        started_at: Some(now()),
        ended_at: Some(now()),
        availability: Some(0.75),
        error_rate: Some(0.25),
        auth_failure_rate: Some(0.0),
        p50_ms: Some(11.5),
        p95_ms: Some(2400.0),
        failing: Some("availability 0.75 < 0.95".into()),
        conditions: Vec::new(),
    };
    l.add_deployment_fact(&dep, &DeploymentFact::Analysis(analysis.clone()))
        .await
        .unwrap();
    // Logs over the bound keep their tail; a secret in them is redacted.
    let mut text = "x".repeat(MAX_LOG_BYTES);
    text.push_str("\nERROR token tok-s3cret-99 rejected\n");
    l.add_deployment_fact(
        &dep,
        &DeploymentFact::Logs(Logs {
            source: "process stdout+stderr".into(),
            version: Some("2.0.0".into()),
            text: text.clone(),
            bytes: text.len() as u64,
            truncated: false,
        }),
    )
    .await
    .unwrap();
    let after = l
        .record_verification(&report(true), "production", Some(&dep))
        .await
        .unwrap();
    let rollback = Rollback {
        from_version: Some("2.0.0".into()),
        to_version: Some("1.9.0".into()),
        to_artifact: Some("python3 server.py 1.9.0 18710".into()),
        reason: "availability 0.75 < 0.95".into(),
        automatic: true,
        started_at: now(),
        finished_at: Some(now()),
        ok: true,
        verification_id: Some(after.clone()),
        baseline: Some("error rate 0.0% (baseline 0.0%), p95 40 ms (baseline 38 ms)".into()),
        back_to_baseline: Some(true),
        restored: Vec::new(),
        incident: None,
    };
    l.add_deployment_fact(&dep, &DeploymentFact::Rollback(rollback.clone()))
        .await
        .unwrap();
    let inc = l
        .open_incident(Severity::P1, "v2.0.0 failed its watch", Some(&dep))
        .await
        .unwrap();
    l.finish_deployment(
        &dep,
        &DeploymentEnd {
            rollback: Some(RollbackDecision::Executed {
                to: Some("1.9.0".into()),
                reason: "availability 0.75 < 0.95".into(),
            }),
            verification_id: Some(first.clone()),
            reason: Some("the watch failed: availability 0.75 < 0.95".into()),
            ..DeploymentEnd::new(Outcome::RolledBack)
        },
    )
    .await
    .unwrap();
    // A fact on a record that is not a deployment is refused.
    let err = l
        .add_deployment_fact(&inc, &DeploymentFact::Deployed(Deployed::default()))
        .await
        .unwrap_err();
    assert!(matches!(err, LedgerError::WrongKind { .. }), "{err}");

    let v = l.deployment_view(&dep[..10]).await.unwrap();
    assert_eq!(v.id, dep);
    assert_eq!(v.operator, "alice");
    assert_eq!(v.status, "rolled_back");
    assert!(v.finished_at.is_some());
    assert_eq!(v.deployment.approver.as_deref(), Some("bob"));
    assert_eq!(v.deployment.target.as_deref(), Some("process"));
    assert_eq!(v.deployment.changes, d.changes);
    assert_eq!(v.deployment.window, d.window);
    let gates: Vec<(&str, GateVerdict)> = v
        .gates
        .iter()
        .map(|g| (g.name.as_str(), g.verdict))
        .collect();
    assert_eq!(
        gates,
        [
            ("release-check", GateVerdict::Pass),
            ("window", GateVerdict::Overridden),
            ("env", GateVerdict::Pass),
            ("rollback-artifact", GateVerdict::Pass),
        ]
    );
    assert_eq!(
        v.deployed.as_ref().and_then(|d| d.revision.as_deref()),
        Some("pid 4242")
    );
    assert_eq!(v.analyses, vec![analysis]);
    assert_eq!(v.rollbacks, vec![rollback]);
    assert_eq!(v.logs.len(), 1);
    let logs = &v.logs[0];
    assert!(logs.truncated);
    assert!(logs.text.len() <= MAX_LOG_BYTES);
    assert_eq!(logs.bytes, text.len() as u64);
    assert!(
        logs.text.ends_with("ERROR token [redacted] rejected\n"),
        "{}",
        &logs.text[logs.text.len() - 60..]
    );
    let end = v.end.as_ref().unwrap();
    assert_eq!(end.outcome, Outcome::RolledBack);
    assert_eq!(end.verification_id.as_deref(), Some(first.as_str()));
    assert_eq!(
        end.reason.as_deref(),
        Some("the watch failed: availability 0.75 < 0.95")
    );
    assert!(matches!(
        end.rollback,
        Some(RollbackDecision::Executed { .. })
    ));
    let ids: Vec<&str> = v.verifications.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(ids, [first.as_str(), after.as_str()]);
    assert_eq!(v.verifications[0].status, "passed");
    assert_eq!(v.verifications[0].summary.passed, 1);
    assert_eq!(v.incidents.len(), 1);
    assert_eq!(v.incidents[0].id, inc);
    assert_eq!(v.incidents[0].severity, Severity::P1);
    assert_eq!(v.incidents[0].status, "detected");

    // Append-only: every fact is an event; the body is as first written.
    let rec = l.get(&dep).await.unwrap();
    let kinds: Vec<&str> = rec.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["created", "fact", "fact", "fact", "fact", "fact", "status"]
    );
    assert_eq!(rec.deployment().unwrap().gates.len(), 3);
    // The listing still sees the end (facts carry no status).
    let listed = l
        .query_latest(&runway_ledger::Filter {
            kind: Some(Kind::Deployment),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed[0].outcome(), Some(Outcome::RolledBack));
    let json = serde_json::to_string(&l.export(&Default::default()).await.unwrap()).unwrap();
    assert!(!json.contains("tok-s3cret-99"));
    l.close().await;
}

async fn an_aborted_deployment_says_what_was_done(f: &Fresh) {
    let l = f.open().await;
    let dep = l
        .record_deployment(&Deployment::new("staging", "3.1.0"))
        .await
        .unwrap();
    let v = l.deployment_view(&dep).await.unwrap();
    assert_eq!(v.status, "in_progress");
    assert!(v.end.is_none());
    l.finish_deployment(
        &dep,
        &DeploymentEnd {
            reason: Some("SIGTERM during verify".into()),
            done: vec![
                "gates passed".into(),
                "3.1.0 started (pid 77)".into(),
                "verify interrupted".into(),
            ],
            ..DeploymentEnd::new(Outcome::Aborted)
        },
    )
    .await
    .unwrap();
    let v = l.deployment_view(&dep).await.unwrap();
    assert_eq!(v.status, "aborted");
    let end = v.end.unwrap();
    assert_eq!(end.outcome, Outcome::Aborted);
    assert_eq!(end.reason.as_deref(), Some("SIGTERM during verify"));
    assert_eq!(end.done.len(), 3);
    assert_eq!(end.done[1], "3.1.0 started (pid 77)");
    let err = l
        .finish_deployment(&dep, &DeploymentEnd::new(Outcome::Verified))
        .await
        .unwrap_err();
    assert!(matches!(err, LedgerError::AlreadyEnded { .. }), "{err}");
    l.close().await;
}

/// A ledger written by schema 1 (only `0001_init` applied), with a record.
async fn write_schema_1(f: &Fresh) {
    let sql = match f.url {
        runway_ledger::LedgerUrl::Sqlite { ref path } => {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::File::create(path).unwrap();
            include_str!("../migrations/sqlite/0001_init.sql")
        }
        runway_ledger::LedgerUrl::Postgres { .. } => {
            include_str!("../migrations/postgres/0001_init.sql")
        }
    };
    execute_raw(&f.url, sql).await.unwrap();
    execute_raw(
        &f.url,
        "CREATE TABLE runway_migrations (version BIGINT NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);
         INSERT INTO runway_migrations VALUES (1, 'init', '2026-11-01T00:00:00.000000Z');
         INSERT INTO records (id, kind, created_at, operator, environment, version, ref_id, body)
             VALUES ('dep-00000000abcd', 'deployment', '2026-11-01T10:00:00.000000Z', 'olga', 'prod', '1.0.0', NULL,
                     '{\"environment\":\"prod\",\"release\":\"1.0.0\",\"window\":{\"decision\":\"no_window\"},\"started_at\":\"2026-11-01T10:00:00Z\"}');
         INSERT INTO events (record_id, at, operator, kind, status, note, data)
             VALUES ('dep-00000000abcd', '2026-11-01T10:00:00.000000Z', 'olga', 'created', 'in_progress', NULL, 'null');
         INSERT INTO events (record_id, at, operator, kind, status, note, data)
             VALUES ('dep-00000000abcd', '2026-11-01T10:05:00.000000Z', 'olga', 'note', NULL, 'watching', 'null');",
    )
    .await
    .unwrap();
}

async fn a_schema_1_ledger_upgrades_keeping_every_event(f: &Fresh) {
    write_schema_1(f).await;
    let l = f.open().await;
    assert_eq!(
        l.schema_version().await.unwrap(),
        runway_ledger::SCHEMA_VERSION
    );
    let before = l.get("dep-00000000abcd").await.unwrap();
    assert_eq!(before.events.len(), 2);
    assert_eq!(before.events[1].note.as_deref(), Some("watching"));
    l.add_deployment_fact(
        "dep-00000000abcd",
        &DeploymentFact::Deployed(Deployed {
            revision: Some("3".into()),
            ..Deployed::default()
        }),
    )
    .await
    .unwrap();
    l.finish_deployment("dep-00000000abcd", &DeploymentEnd::new(Outcome::Verified))
        .await
        .unwrap();
    let after = l.get("dep-00000000abcd").await.unwrap();
    let kinds: Vec<&str> = after.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["created", "note", "fact", "status"]);
    assert_eq!(after.outcome(), Some(Outcome::Verified));
    l.close().await;
    // The rebuilt events table is still append-only, and its kinds still checked.
    for sql in [
        "UPDATE events SET note = 'x'",
        "DELETE FROM events WHERE kind = 'fact'",
    ] {
        let err = execute_raw(&f.url, sql).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    let err = execute_raw(
        &f.url,
        "INSERT INTO events (record_id, at, operator, kind, status, note, data) \
         VALUES ('dep-00000000abcd', '2026-11-01T11:00:00.000000Z', 'm', 'edit', NULL, NULL, 'null')",
    )
    .await
    .unwrap_err();
    assert!(err.to_string().to_lowercase().contains("check"), "{err}");
    // Opening again applies nothing twice.
    let l = f.open().await;
    assert_eq!(l.get("dep-00000000abcd").await.unwrap().events.len(), 4);
    l.close().await;
}

async fn a_second_deploy_to_the_same_environment_is_refused(f: &Fresh) {
    let l = f.open().await;
    let ttl = Duration::from_secs(30);
    assert_eq!(l.deploy_lock("production").await.unwrap(), None);
    let lock = l
        .acquire_deploy_lock("production", "alice@host-a (pid 1)", ttl)
        .await
        .unwrap();
    assert_eq!(lock.environment(), "production");
    assert!(lock.info().expires_at > lock.info().acquired_at);
    let err = l
        .acquire_deploy_lock("production", "bob@host-b (pid 2)", ttl)
        .await
        .unwrap_err();
    match &err {
        LedgerError::Locked {
            environment,
            holder,
            ..
        } => {
            assert_eq!(environment, "production");
            assert_eq!(holder, "alice@host-a (pid 1)");
        }
        other => panic!("expected Locked, got {other}"),
    }
    assert!(
        err.to_string()
            .contains("is being deployed by alice@host-a"),
        "{err}"
    );
    // Another environment is independent.
    let staging = l
        .acquire_deploy_lock("staging", "bob@host-b (pid 2)", ttl)
        .await
        .unwrap();
    let held = l.deploy_lock("production").await.unwrap().unwrap();
    assert_eq!(held.holder, "alice@host-a (pid 1)");
    lock.renew().await.unwrap();
    lock.release().await.unwrap();
    assert_eq!(l.deploy_lock("production").await.unwrap(), None);
    let again = l
        .acquire_deploy_lock("production", "bob@host-b (pid 2)", ttl)
        .await
        .unwrap();
    // Dropping a lock releases it.
    drop(again);
    let mut freed = false;
    for _ in 0..50 {
        if l.deploy_lock("production").await.unwrap().is_none() {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(freed, "a dropped lock was not released");
    let err = l
        .acquire_deploy_lock("production", "x", Duration::from_millis(1))
        .await
        .unwrap_err();
    assert!(matches!(err, LedgerError::Invalid { .. }), "{err}");
    staging.release().await.unwrap();
    l.close().await;
}

async fn a_crashed_holders_lease_expires_and_is_taken_over(f: &Fresh) {
    let ttl = Duration::from_millis(900);
    let crashed = f.open().await;
    let lock = crashed
        .acquire_deploy_lock("production", "crashed@host-a", ttl)
        .await
        .unwrap();
    // While its heartbeat runs, the lease outlives its time to live.
    tokio::time::sleep(ttl * 2).await;
    let other = f.open().await;
    let err = other
        .acquire_deploy_lock("production", "bob@host-b", ttl)
        .await
        .unwrap_err();
    assert!(matches!(err, LedgerError::Locked { .. }), "{err}");
    // The holder's connection dies with it: no heartbeat, no release.
    crashed.close().await;
    drop(lock);
    let started = std::time::Instant::now();
    let taken = loop {
        match other
            .acquire_deploy_lock("production", "bob@host-b", ttl)
            .await
        {
            Ok(l) => break l,
            Err(LedgerError::Locked { .. }) if started.elapsed() < ttl * 4 => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the crashed holder's lease never expired: {e}"),
        }
    };
    assert_eq!(taken.info().holder, "bob@host-b");
    taken.release().await.unwrap();
    other.close().await;
}

async fn a_lease_taken_over_is_lost_and_not_released_by_its_old_holder(f: &Fresh) {
    let l = f.open().await;
    let ttl = Duration::from_millis(600);
    let old = l
        .acquire_deploy_lock("production", "old@host-a", ttl)
        .await
        .unwrap();
    // Someone else's lease replaces it (as if ours expired while we were suspended).
    execute_raw(
        &f.url,
        "UPDATE deploy_locks SET holder = 'new@host-b', token = 'someone-else' WHERE environment = 'production'",
    )
    .await
    .unwrap();
    let err = old.renew().await.unwrap_err();
    assert!(matches!(err, LedgerError::LockLost { .. }), "{err}");
    assert!(old.is_lost());
    old.release().await.unwrap();
    let held = l.deploy_lock("production").await.unwrap().unwrap();
    assert_eq!(held.holder, "new@host-b");
    l.close().await;
}

async fn of_concurrent_takers_exactly_one_wins(f: &Fresh) {
    // Separate ledgers (pools), as separate processes or machines would have.
    let mut ledgers = Vec::new();
    for _ in 0..6 {
        ledgers.push(std::sync::Arc::new(f.open().await));
    }
    for round in 0..3 {
        let env = format!("production-{round}");
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(ledgers.len()));
        let mut tasks = Vec::new();
        for (i, l) in ledgers.iter().enumerate() {
            let (l, env, barrier) = (l.clone(), env.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                l.acquire_deploy_lock(&env, &format!("taker-{i}"), Duration::from_secs(30))
                    .await
            }));
        }
        let mut won = Vec::new();
        let mut refused = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(lock) => won.push(lock),
                Err(LedgerError::Locked { .. }) => refused += 1,
                Err(e) => panic!("a taker failed instead of being refused: {e}"),
            }
        }
        assert_eq!(won.len(), 1, "round {round}: {} winners", won.len());
        assert_eq!(refused, ledgers.len() - 1);
        let held = ledgers[0].deploy_lock(&env).await.unwrap().unwrap();
        assert_eq!(held.holder, won[0].info().holder);
        for lock in won {
            lock.release().await.unwrap();
        }
    }
    for l in ledgers {
        l.close().await;
    }
}

async fn recent_deployments_are_newest_first_and_joined_up(f: &Fresh) {
    let l = f.open().await;
    assert!(
        l.recent_deployments("production", 5)
            .await
            .unwrap()
            .is_empty()
    );
    let mut ids = Vec::new();
    for (i, v) in ["1.0.0", "1.1.0", "1.2.0", "1.3.0"].into_iter().enumerate() {
        let mut d = Deployment::new("production", v);
        d.started_at = now() - chrono::Duration::hours(10 - i as i64);
        let id = l.record_deployment(&d).await.unwrap();
        l.record_verification(&report(i != 2), "production", Some(&id))
            .await
            .unwrap();
        l.finish_deployment(&id, &DeploymentEnd::new(Outcome::Verified))
            .await
            .unwrap();
        ids.push(id);
    }
    l.open_incident(Severity::P2, "slow", Some(&ids[3]))
        .await
        .unwrap();
    let mut other = Deployment::new("staging", "9.9.9");
    other.started_at = now();
    l.record_deployment(&other).await.unwrap();

    let recent = l.recent_deployments("production", 2).await.unwrap();
    let got: Vec<&str> = recent.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(got, [ids[3].as_str(), ids[2].as_str()]);
    assert_eq!(recent[0].incidents.len(), 1);
    assert_eq!(recent[0].verifications.len(), 1);
    assert_eq!(recent[1].verifications[0].status, "failed");
    assert_eq!(recent[1].status, "verified");
    // Each view is the one `deployment_view` builds.
    assert_eq!(recent[1], l.deployment_view(&ids[2]).await.unwrap());
    let all = l.recent_deployments("production", 10).await.unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[3].id, ids[0]);
    l.close().await;
}

/// `ledger show` of a rolled-back 2.0.0 printed 1.0.0's image: the rollback's
/// `Deployed` fact replaced the deployment's own, and the verify after the
/// rollback was recorded as 2.0.0's.
async fn each_fact_of_a_rolled_back_deployment_names_its_version(f: &Fresh) {
    let l = f.open().await;
    let deployed = |version: Option<&str>, image: &str| {
        DeploymentFact::Deployed(Deployed {
            version: version.map(str::to_owned),
            image: Some(image.to_owned()),
            ..Deployed::default()
        })
    };
    let dep = l
        .record_deployment(&Deployment::new("production", "2.0.0"))
        .await
        .unwrap();
    l.add_deployment_fact(&dep, &deployed(Some("2.0.0"), "mcp:2.0.0"))
        .await
        .unwrap();
    let first = l
        .record_verification(&report(false), "production", Some(&dep))
        .await
        .unwrap();
    l.add_deployment_fact(&dep, &deployed(Some("1.0.0"), "mcp:1.0.0"))
        .await
        .unwrap();
    let after = l
        .record_verification_of(&report(true), "production", Some(&dep), Some("1.0.0"))
        .await
        .unwrap();
    let v = l.deployment_view(&dep).await.unwrap();
    let d = v.deployed.as_ref().unwrap();
    assert_eq!(d.version.as_deref(), Some("2.0.0"));
    assert_eq!(d.image.as_deref(), Some("mcp:2.0.0"));
    let r = v.rolled_back_to.as_ref().unwrap();
    assert_eq!(r.version.as_deref(), Some("1.0.0"));
    assert_eq!(r.image.as_deref(), Some("mcp:1.0.0"));
    let runs: Vec<(&str, Option<&str>)> = v
        .verifications
        .iter()
        .map(|x| (x.id.as_str(), x.version.as_deref()))
        .collect();
    assert_eq!(
        runs,
        [
            (first.as_str(), Some("2.0.0")),
            (after.as_str(), Some("1.0.0"))
        ]
    );
    assert_eq!(
        l.get(&after).await.unwrap().version.as_deref(),
        Some("1.0.0")
    );

    // A record written before facts named their version: the first is the
    // deployment's, a later one the rollback's.
    let old = l
        .record_deployment(&Deployment::new("production", "3.0.0"))
        .await
        .unwrap();
    l.add_deployment_fact(&old, &deployed(None, "mcp:3.0.0"))
        .await
        .unwrap();
    l.add_deployment_fact(&old, &deployed(None, "mcp:1.0.0"))
        .await
        .unwrap();
    let v = l.deployment_view(&old).await.unwrap();
    assert_eq!(v.deployed.unwrap().image.as_deref(), Some("mcp:3.0.0"));
    assert_eq!(
        v.rolled_back_to.unwrap().image.as_deref(),
        Some("mcp:1.0.0")
    );
    l.close().await;
}
