//! The same behaviour, proved on both backends: every case below runs once on
//! SQLite and once on PostgreSQL (`RUNWAY_TEST_PG_URL`; fails when unset unless
//! `RUNWAY_SKIP_PG=1`, which prints that it skipped).

use runway_core::{Redactor, Secret, Severity};
use runway_ledger::{
    ArtifactResult, ArtifactsRun, DeploymentEnd, Filter, IncidentStatus, Kind, Ledger, LedgerError,
    Outcome, Release, RollbackDecision, Scope, testing::execute_raw,
};

#[macro_use]
mod support;
#[path = "support/samples.rs"]
mod samples;
use samples::{sample_deployment, sample_report};
use support::Fresh;

both_backends!(
    records_of_every_kind_read_back_whole,
    incident_timeline_moves_forward_only,
    export_then_import_into_an_empty_ledger_loses_nothing,
    the_database_refuses_updates_and_deletes,
    a_ledger_from_a_newer_runway_is_refused,
    secrets_are_redacted_on_the_way_in,
    filters_select_by_environment_version_kind_and_time,
    ids_resolve_by_unique_prefix,
    artifact_runs_join_the_release_of_their_version,
    settings_digests_are_keyed_per_ledger_and_the_key_is_never_exported,
);

async fn records_of_every_kind_read_back_whole(f: &Fresh) {
    let l = f.open().await;
    let rel = l
        .record_release(&Release {
            version: "1.2.3".into(),
            tag: Some("v1.2.3".into()),
            git_sha: Some("abc123".into()),
            changelog: Some("### Features\n- tools".into()),
            tool_surface: Some(runway_core::ToolSurface::new(vec![])),
        })
        .await
        .unwrap();
    assert!(rel.starts_with("rel-"), "{rel}");
    let dep = l
        .record_deployment(&sample_deployment("production", "1.2.3"))
        .await
        .unwrap();
    let ver = l
        .record_verification(&sample_report("tok-123456"), "production", Some(&dep))
        .await
        .unwrap();
    l.finish_deployment(
        &dep,
        &DeploymentEnd {
            rollback: Some(RollbackDecision::Executed {
                to: Some("1.2.2".into()),
                reason: "auth boundary open".into(),
            }),
            verification_id: Some(ver.clone()),
            ..DeploymentEnd::new(Outcome::RolledBack)
        },
    )
    .await
    .unwrap();
    let err = l
        .finish_deployment(&dep, &DeploymentEnd::new(Outcome::Verified))
        .await
        .unwrap_err();
    assert!(matches!(err, LedgerError::AlreadyEnded { .. }), "{err}");

    let d = l.get(&dep).await.unwrap();
    assert_eq!(d.kind, Kind::Deployment);
    assert_eq!(d.status(), Some("rolled_back"));
    assert_eq!(d.outcome(), Some(Outcome::RolledBack));
    assert_eq!(d.operator, "alice");
    assert_eq!(d.environment.as_deref(), Some("production"));
    assert_eq!(d.events.len(), 2);
    assert!(d.deployment_finished_at().is_some());
    let body = d.deployment().unwrap();
    assert_eq!(body.approver.as_deref(), Some("bob"));
    assert_eq!(body.scope, vec![Scope::Code, Scope::Config]);

    let v = l.get(&ver).await.unwrap();
    assert_eq!(v.checks.len(), 4);
    assert_eq!(v.ref_id.as_deref(), Some(dep.as_str()));
    assert_eq!(v.version.as_deref(), Some("1.2.3"));
    assert_eq!(v.status(), Some("failed"));
    assert_eq!(v.checks[0].id, "http.health");
    assert_eq!(v.checks[1].evidence.status, Some(200));
    assert_eq!(v.verification().unwrap().summary.failed, 1);

    let inc = l
        .open_incident(Severity::P1, "auth failures", Some(&dep))
        .await
        .unwrap();
    let i = l.get(&inc).await.unwrap();
    let body = i.incident().unwrap();
    assert_eq!(
        body.respond_by - body.detected_at,
        chrono::Duration::hours(1)
    );
    assert_eq!(i.environment.as_deref(), Some("production"));
    assert_eq!(i.status(), Some("detected"));

    let counts = l.counts().await.unwrap();
    assert_eq!(
        counts,
        vec![
            (Kind::Deployment, 1),
            (Kind::Incident, 1),
            (Kind::Release, 1),
            (Kind::Verification, 1)
        ]
    );
    let err = l
        .open_incident(Severity::P2, "x", Some(&rel))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("is a release, not a deployment"),
        "{err}"
    );
    l.close().await;
}

async fn incident_timeline_moves_forward_only(f: &Fresh) {
    let l = f.open().await;
    let id = l
        .open_incident(Severity::P0, "server down", None)
        .await
        .unwrap();
    l.move_incident(&id, IncidentStatus::Acknowledged, Some("on it"))
        .await
        .unwrap();
    let err = l
        .move_incident(&id, IncidentStatus::Acknowledged, None)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("is `acknowledged`; it cannot become `acknowledged`"),
        "{err}"
    );
    let err = l
        .move_incident(&id, IncidentStatus::Closed, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, LedgerError::IllegalTransition { .. }),
        "{err}"
    );
    l.move_incident(&id, IncidentStatus::Mitigated, None)
        .await
        .unwrap();
    l.add_note(&id, "rolled back to 1.2.2").await.unwrap();
    l.move_incident(&id, IncidentStatus::Resolved, None)
        .await
        .unwrap();
    l.move_incident(&id, IncidentStatus::Closed, None)
        .await
        .unwrap();
    let r = l.get(&id).await.unwrap();
    let statuses: Vec<_> = r
        .events
        .iter()
        .filter_map(|e| e.status.as_deref())
        .collect();
    assert_eq!(
        statuses,
        [
            "detected",
            "acknowledged",
            "mitigated",
            "resolved",
            "closed"
        ]
    );
    assert_eq!(r.notes().count(), 1);
    assert_eq!(r.events[1].note.as_deref(), Some("on it"));
    assert!(r.events.windows(2).all(|w| w[0].at <= w[1].at));
    let err = l
        .move_incident("inc-000000000000", IncidentStatus::Resolved, None)
        .await
        .unwrap_err();
    assert!(matches!(err, LedgerError::NotFound { .. }), "{err}");
    l.close().await;
}

async fn populate(l: &dyn Ledger) {
    l.record_release(&Release {
        version: "2.0.0".into(),
        ..Release::default()
    })
    .await
    .unwrap();
    for (env, v) in [
        ("staging", "2.0.0"),
        ("production", "2.0.0"),
        ("production", "2.0.1"),
    ] {
        let dep = l
            .record_deployment(&sample_deployment(env, v))
            .await
            .unwrap();
        let ver = l
            .record_verification(&sample_report("s3cret-value"), env, Some(&dep))
            .await
            .unwrap();
        // A fact with long-mantissa floats: it must export and re-import digit for digit.
        l.add_deployment_fact(
            &dep,
            &runway_ledger::DeploymentFact::Analysis(runway_ledger::Analysis {
                verdict: runway_ledger::AnalysisVerdict::Pass,
                samples: 60,
                min_samples: Some(10),
                started_at: None,
                ended_at: None,
                availability: Some(59.0 / 60.0),
                error_rate: Some(1.0 / 60.0),
                auth_failure_rate: Some(0.0),
                p50_ms: Some(12.345678901234567),
                p95_ms: Some(41.7),
                failing: None,
                conditions: Vec::new(),
            }),
        )
        .await
        .unwrap();
        l.finish_deployment(
            &dep,
            &DeploymentEnd {
                rollback: Some(RollbackDecision::NotNeeded),
                verification_id: Some(ver),
                ..DeploymentEnd::new(Outcome::Verified)
            },
        )
        .await
        .unwrap();
    }
    let inc = l
        .open_incident(Severity::P2, "slow tools", None)
        .await
        .unwrap();
    l.add_note(&inc, "p95 at 2.1 s").await.unwrap();
}

async fn export_then_import_into_an_empty_ledger_loses_nothing(f: &Fresh) {
    let source = f.open().await;
    populate(source.as_ref()).await;
    let before = source.export(&Filter::default()).await.unwrap();
    assert_eq!(before.records.len(), 8);
    source.close().await;

    // Into an empty SQLite ledger, then back out: the same document, byte for byte.
    let target = Fresh::sqlite().await;
    let t = target.open().await;
    assert_eq!(t.import(&before).await.unwrap(), 8);
    let after = t.export(&Filter::default()).await.unwrap();
    assert_eq!(
        serde_json::to_string_pretty(&before).unwrap(),
        serde_json::to_string_pretty(&after).unwrap()
    );
    // A second import stops at the first duplicate, naming it.
    let err = t.import(&before).await.unwrap_err();
    assert!(matches!(err, LedgerError::Duplicate { .. }), "{err}");
    t.close().await;
    target.finish().await;
}

async fn the_database_refuses_updates_and_deletes(f: &Fresh) {
    let l = f.open().await;
    let id = l.open_incident(Severity::P3, "typo", None).await.unwrap();
    l.close().await;
    for sql in [
        format!("UPDATE records SET operator = 'mallory' WHERE id = '{id}'"),
        format!("DELETE FROM events WHERE record_id = '{id}'"),
        "UPDATE events SET note = 'x'".to_owned(),
        "DELETE FROM records".to_owned(),
    ] {
        let err = execute_raw(&f.url, &sql).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    let l = f.open().await;
    let r = l.get(&id).await.unwrap();
    assert_eq!(r.operator, "alice");
    assert_eq!(r.events.len(), 1);
    l.close().await;
}

async fn a_ledger_from_a_newer_runway_is_refused(f: &Fresh) {
    let l = f.open().await;
    assert_eq!(
        l.schema_version().await.unwrap(),
        runway_ledger::SCHEMA_VERSION
    );
    l.close().await;
    execute_raw(
        &f.url,
        "INSERT INTO runway_migrations (version, name, applied_at) VALUES (99, 'from-the-future', '2030-01-01T00:00:00.000000Z')",
    )
    .await
    .unwrap();
    let err = runway_ledger::open(&f.url).await.err().expect("refused");
    let msg = err.to_string();
    assert!(msg.contains("schema version 99"), "{msg}");
    assert!(msg.contains("written by a newer Runway"), "{msg}");
    assert!(msg.contains(&f.url.to_string()), "{msg}");
    assert!(!msg.contains("runway-test-pw"), "{msg}");
}

async fn settings_digests_are_keyed_per_ledger_and_the_key_is_never_exported(f: &Fresh) {
    let secret = "hunter2";
    let l = f.open().await;
    let d = l.settings_digest(secret).await.unwrap();
    assert!(
        d.starts_with("hmac:") && d.len() == "hmac:".len() + 16,
        "{d}"
    );
    assert_eq!(l.settings_digest(secret).await.unwrap(), d, "stable");
    assert_ne!(l.settings_digest("hunter3").await.unwrap(), d);
    let key: String = l
        .settings_key()
        .await
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(key.len(), 64);
    // The key is the ledger's: kept across opens, different in another ledger.
    l.close().await;
    let again = f.open().await;
    assert_eq!(again.settings_digest(secret).await.unwrap(), d);
    let other = crate::support::Fresh::sqlite().await;
    let o = other.open().await;
    assert_ne!(o.settings_digest(secret).await.unwrap(), d);
    o.close().await;
    other.finish().await;
    // An unkeyed SHA-256 of the secret is nowhere, nor the key in an export.
    let mut record = sample_deployment("staging", "1.0.0");
    record
        .settings
        .insert("deploy.env.API_KEY".into(), d.clone());
    again.record_deployment(&record).await.unwrap();
    let export = serde_json::to_string(&again.export(&Filter::default()).await.unwrap()).unwrap();
    assert!(export.contains(&d), "{export}");
    assert!(
        !export.contains(&key) && !export.contains("settings_key"),
        "{export}"
    );
    let sha = {
        use sha2::Digest as _;
        let h = sha2::Sha256::digest(secret.as_bytes());
        h.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    assert!(!export.contains(&sha[..16]), "{export}");
    again.close().await;
}

async fn secrets_are_redacted_on_the_way_in(f: &Fresh) {
    let mut l = f.open().await;
    let mut r = Redactor::new();
    r.add(&Secret::new("hunter2-token"));
    l.set_redactor(r);
    let id = l
        .record_verification(&sample_report("hunter2-token"), "staging", None)
        .await
        .unwrap();
    let inc = l
        .open_incident(Severity::P1, "token hunter2-token leaked", None)
        .await
        .unwrap();
    l.add_note(&inc, "rotated hunter2-token").await.unwrap();
    let export = l.export(&Filter::default()).await.unwrap();
    let text = serde_json::to_string(&export).unwrap();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("[redacted]"));
    let v = l.get(&id).await.unwrap();
    let ev = &v.checks[1].evidence;
    assert_eq!(ev.headers["authorization"], "[redacted]");
    assert_eq!(ev.headers["x-echo"], "echo [redacted]");
    assert_eq!(ev.headers["content-type"], "application/json");
    assert_eq!(ev.details["authorization"], "[redacted]");
    l.close().await;
}

async fn filters_select_by_environment_version_kind_and_time(f: &Fresh) {
    let l = f.open().await;
    populate(l.as_ref()).await;
    let q = |filter: Filter| {
        let l = &l;
        async move { l.query(&filter, false).await.unwrap() }
    };
    let prod = q(Filter {
        environment: Some("production".into()),
        ..Filter::default()
    })
    .await;
    assert_eq!(prod.len(), 4);
    assert!(
        prod.iter()
            .all(|r| r.environment.as_deref() == Some("production"))
    );
    let deps = q(Filter {
        kind: Some(Kind::Deployment),
        version: Some("2.0.0".into()),
        ..Filter::default()
    })
    .await;
    assert_eq!(deps.len(), 2);
    let future = q(Filter {
        since: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        ..Filter::default()
    })
    .await;
    assert!(future.is_empty());
    let past = q(Filter {
        since: Some(chrono::Utc::now() - chrono::Duration::hours(1)),
        kind: Some(Kind::Incident),
        ..Filter::default()
    })
    .await;
    assert_eq!(past.len(), 1);
    assert_eq!(past[0].events.len(), 2);
    // The one-query listing agrees with the full one on ids, order, status and end.
    let full = l.query(&Filter::default(), false).await.unwrap();
    let latest = l.query_latest(&Filter::default()).await.unwrap();
    assert_eq!(full.len(), latest.len());
    for (a, b) in full.iter().zip(&latest) {
        assert_eq!(a.id, b.id);
        assert_eq!(a.body, b.body);
        assert_eq!(a.status(), b.status(), "{}", a.id);
        assert_eq!(
            a.deployment_finished_at(),
            b.deployment_finished_at(),
            "{}",
            a.id
        );
        assert!(b.events.len() <= 1);
    }
    assert!(latest.iter().any(|r| r.status() == Some("verified")));
    l.close().await;
}

async fn ids_resolve_by_unique_prefix(f: &Fresh) {
    let l = f.open().await;
    let id = l.open_incident(Severity::P2, "one", None).await.unwrap();
    assert_eq!(l.resolve_id(&id[..8]).await.unwrap(), id);
    assert_eq!(l.get(&id[..10]).await.unwrap().id, id);
    let _ = l.open_incident(Severity::P2, "two", None).await.unwrap();
    let err = l.resolve_id("inc-").await.unwrap_err();
    assert!(matches!(err, LedgerError::Ambiguous { .. }), "{err}");
    let err = l.resolve_id("nope' OR 1=1").await.unwrap_err();
    assert!(matches!(err, LedgerError::NotFound { .. }), "{err}");
    l.close().await;
}

/// SQLite → PostgreSQL: the export of the PostgreSQL copy equals the original.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_from_sqlite_imports_into_postgres_losslessly() {
    let Some(pg) = Fresh::postgres("export_from_sqlite_imports_into_postgres_losslessly").await
    else {
        return;
    };
    let lite = Fresh::sqlite().await;
    let s = lite.open().await;
    populate(s.as_ref()).await;
    let before = s.export(&Filter::default()).await.unwrap();
    let p = pg.open().await;
    p.import(&before).await.unwrap();
    let after = p.export(&Filter::default()).await.unwrap();
    assert_eq!(
        serde_json::to_string(&before).unwrap(),
        serde_json::to_string(&after).unwrap()
    );
    p.close().await;
    pg.finish().await;
}

fn artifacts_run(version: &str, ok: bool, message: &str) -> ArtifactsRun {
    ArtifactsRun {
        version: version.to_owned(),
        passed: ok,
        artifacts: vec![ArtifactResult {
            source: "pypi".into(),
            artifact: format!("demo=={version}"),
            index: "http://127.0.0.1:9/simple".into(),
            ok,
            problem: (!ok).then(|| "wrong_version".to_owned()),
            message: message.to_owned(),
            printed: Some("demo 0.9.0".into()),
            digest: None,
            duration_ms: 1200,
        }],
    }
}

async fn artifact_runs_join_the_release_of_their_version(f: &Fresh) {
    let mut l = f.open().await;
    let mut r = Redactor::new();
    r.add(&Secret::new("index-password-1"));
    l.set_redactor(r);
    let release = |v: &str| Release {
        version: v.into(),
        tag: Some(format!("v{v}")),
        ..Release::default()
    };
    // An existing release record gets the run; a version never recorded gets a record.
    let cut = l.record_release(&release("1.0.0")).await.unwrap();
    let first = l
        .record_artifacts(
            &release("1.0.0"),
            &artifacts_run("1.0.0", false, "printed 0.9.0 via index-password-1"),
        )
        .await
        .unwrap();
    assert_eq!(first, cut);
    let again = l
        .record_artifacts(
            &release("1.0.0"),
            &artifacts_run("1.0.0", true, "printed 1.0.0"),
        )
        .await
        .unwrap();
    assert_eq!(again, cut);
    let new = l
        .record_artifacts(
            &release("2.0.0"),
            &artifacts_run("2.0.0", true, "printed 2.0.0"),
        )
        .await
        .unwrap();
    assert_ne!(new, cut);

    let record = l.get(&cut).await.unwrap();
    let runs = runway_ledger::artifact_runs(&record);
    assert_eq!(runs.len(), 2);
    assert!(!runs[0].1.passed);
    assert_eq!(
        runs[0].1.artifacts[0].message,
        "printed 0.9.0 via [redacted]"
    );
    assert_eq!(
        runs[0].1.artifacts[0].problem.as_deref(),
        Some("wrong_version")
    );
    assert!(runs[1].1.passed);
    let other = l.get(&new).await.unwrap();
    assert_eq!(other.release().unwrap().tag.as_deref(), Some("v2.0.0"));
    assert_eq!(runway_ledger::artifact_runs(&other).len(), 1);
    // An export carries the runs and imports back.
    let export = l.export(&Filter::default()).await.unwrap();
    assert!(
        serde_json::to_string(&export)
            .unwrap()
            .contains("\"fact\":\"artifacts\"")
    );
    l.close().await;
}
