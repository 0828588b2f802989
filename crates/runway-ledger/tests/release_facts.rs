//! Release facts (yanks, confirmations, announcements) and the release
//! report, proved on both backends as in `backends.rs`.

use runway_core::{CheckResult, Era, Redactor, Report, Secret, Severity};
use runway_ledger::{
    AnnounceDelivery, Announcement, DeploymentEnd, Filter, IncidentStatus, Outcome, Release,
    ReleaseFact, RollbackDecision, Yank, YankCheck, YankConfirmation, YankStep,
    testing::execute_raw,
};

#[macro_use]
mod support;
#[path = "support/samples.rs"]
mod samples;
use samples::{sample_deployment, sample_report};
use support::Fresh;

both_backends!(
    yanks_and_announcements_join_the_release_and_a_confirmation_needs_a_yank,
    a_release_report_counts_what_happened_to_that_version,
);

async fn yanks_and_announcements_join_the_release_and_a_confirmation_needs_a_yank(f: &Fresh) {
    let mut l = f.open().await;
    let mut r = Redactor::new();
    r.add(&Secret::new("hook-secret-9"));
    l.set_redactor(r);
    let release = Release {
        version: "1.2.0".into(),
        tag: Some("v1.2.0".into()),
        ..Release::default()
    };
    let confirmation = |yanked: bool| {
        ReleaseFact::YankConfirmed(YankConfirmation {
            version: "1.2.0".into(),
            confirmed: yanked,
            checks: vec![YankCheck {
                source: "pypi".into(),
                artifact: "demo==1.2.0".into(),
                index: "http://127.0.0.1:9/simple".into(),
                yanked,
                index_reason: yanked.then(|| "broken wheel".to_owned()),
                message: "the index lists 2 file(s) of 1.2.0".into(),
            }],
        })
    };
    // Nothing to confirm yet: refused, and no release record is made for it.
    let e = l
        .record_release_fact(&release, &confirmation(true))
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains(
            "no yank of `1.2.0` is recorded, so there is nothing to confirm: run `runway release yank 1.2.0 --reason TEXT` first"
        ),
        "{e}"
    );
    assert!(l.release_record("1.2.0").await.unwrap().is_none());
    let yank = ReleaseFact::Yanked(Yank {
        version: "1.2.0".into(),
        reason: "crashes on start (token hook-secret-9 leaked)".into(),
        steps: vec![YankStep {
            source: "pypi".into(),
            artifact: "demo==1.2.0".into(),
            action: "https://pypi.org/manage/project/demo/release/1.2.0/".into(),
            note: "open the page and click \"Yank\"".into(),
            checkable: true,
        }],
    });
    let id = l.record_release_fact(&release, &yank).await.unwrap();
    assert_eq!(
        l.record_release_fact(&release, &confirmation(false))
            .await
            .unwrap(),
        id
    );
    l.record_release_fact(&release, &confirmation(true))
        .await
        .unwrap();
    let announced = ReleaseFact::Announced(Announcement {
        version: "1.2.0".into(),
        tag: "v1.2.0".into(),
        sent: false,
        deliveries: vec![AnnounceDelivery {
            notifier: "team".into(),
            kind: "webhook".into(),
            ok: false,
            error: Some("webhook answered HTTP 500".into()),
        }],
    });
    l.record_release_fact(&release, &announced).await.unwrap();

    let record = l.release_record("1.2.0").await.unwrap().unwrap();
    assert_eq!(record.id, id);
    let facts = runway_ledger::release_facts(&record);
    let names: Vec<&str> = facts.iter().map(|(_, f)| f.name()).collect();
    assert_eq!(
        names,
        ["yanked", "yank_confirmed", "yank_confirmed", "announced"]
    );
    match &facts[0].1 {
        ReleaseFact::Yanked(y) => {
            assert_eq!(y.reason, "crashes on start (token [redacted] leaked)");
            assert_eq!(
                y.steps[0].action,
                "https://pypi.org/manage/project/demo/release/1.2.0/"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(facts[2].1, confirmation(true));
    assert_eq!(facts[3].1, announced);
    assert!(facts.windows(2).all(|w| w[0].0 <= w[1].0));
    // The facts are history: exported, and the database refuses to change them.
    let export = l.export(&Filter::default()).await.unwrap();
    let text = serde_json::to_string(&export).unwrap();
    assert!(text.contains("\"fact\":\"yank_confirmed\""), "{text}");
    assert!(
        execute_raw(l.url(), "UPDATE events SET data = '{}' WHERE kind = 'fact'")
            .await
            .is_err()
    );
    l.close().await;
}

fn passing_report() -> Report {
    Report::new(
        "http://127.0.0.1:9/mcp",
        Era::from_version("2025-11-25"),
        "smoke",
        chrono::Utc::now(),
        10.0,
        vec![CheckResult::pass("http.health", "200 in 3 ms")],
    )
}

async fn a_release_report_counts_what_happened_to_that_version(f: &Fresh) {
    use runway_ledger::{DeploymentFact, Rollback, report};
    let l = f.open().await;
    l.record_release(&Release {
        version: "1.0.0".into(),
        ..Release::default()
    })
    .await
    .unwrap();
    let ended = |o| DeploymentEnd::new(o);
    // staging: verified, its verify passed.
    let staging = l
        .record_deployment(&sample_deployment("staging", "1.0.0"))
        .await
        .unwrap();
    l.record_verification(&passing_report(), "staging", Some(&staging))
        .await
        .unwrap();
    for (rate, p95) in [(0.002, 41.0), (0.004, 38.5)] {
        l.add_deployment_fact(
            &staging,
            &DeploymentFact::Analysis(runway_ledger::Analysis {
                verdict: runway_ledger::AnalysisVerdict::Pass,
                samples: 12,
                min_samples: None,
                started_at: None,
                ended_at: None,
                availability: Some(1.0),
                error_rate: Some(rate),
                auth_failure_rate: None,
                p50_ms: None,
                p95_ms: Some(p95),
                failing: None,
                conditions: Vec::new(),
            }),
        )
        .await
        .unwrap();
    }
    l.finish_deployment(&staging, &ended(Outcome::Verified))
        .await
        .unwrap();
    // prod, first try: the verify failed and the policy rolled it back to 0.9.0.
    let first = l
        .record_deployment(&sample_deployment("prod", "1.0.0"))
        .await
        .unwrap();
    l.record_verification(&sample_report("s3cret"), "prod", Some(&first))
        .await
        .unwrap();
    l.add_deployment_fact(
        &first,
        &DeploymentFact::Rollback(Rollback {
            from_version: Some("1.0.0".into()),
            to_version: Some("0.9.0".into()),
            reason: "auth.no_token failed".into(),
            automatic: true,
            to_artifact: None,
            started_at: runway_ledger::now(),
            finished_at: None,
            ok: true,
            verification_id: None,
            baseline: None,
            back_to_baseline: None,
            restored: Vec::new(),
            incident: None,
        }),
    )
    .await
    .unwrap();
    l.finish_deployment(&first, &ended(Outcome::RolledBack))
        .await
        .unwrap();
    // prod, second try: verified, then undone by hand with `runway rollback`.
    let second = l
        .record_deployment(&sample_deployment("prod", "1.0.0"))
        .await
        .unwrap();
    l.finish_deployment(&second, &ended(Outcome::Verified))
        .await
        .unwrap();
    let mut back = sample_deployment("prod", "0.9.0");
    back.rollback_of = Some(second.clone());
    back.rollback = Some(RollbackDecision::Executed {
        to: Some("0.9.0".into()),
        reason: "p95 doubled".into(),
    });
    back.outcome = Some(Outcome::Verified);
    let back = l.record_deployment(&back).await.unwrap();
    // A P1 still open, a P3 resolved; and another version's records, ignored.
    let p1 = l
        .open_incident(Severity::P1, "logins fail", Some(&second))
        .await
        .unwrap();
    let p3 = l
        .open_incident(Severity::P3, "slow docs page", Some(&staging))
        .await
        .unwrap();
    l.move_incident(&p3, IncidentStatus::Resolved, None)
        .await
        .unwrap();
    let other = l
        .record_deployment(&sample_deployment("prod", "2.0.0"))
        .await
        .unwrap();
    l.open_incident(Severity::P0, "other release", Some(&other))
        .await
        .unwrap();

    let records = l.release_history("1.0.0").await.unwrap();
    let r = report::build(
        "1.0.0",
        &records,
        &report::Criteria::default(),
        runway_ledger::now(),
    );
    let envs: Vec<(&str, usize)> = r
        .environments
        .iter()
        .map(|e| (e.environment.as_str(), e.deployments.len()))
        .collect();
    assert_eq!(envs, [("prod", 2), ("staging", 1)]);
    assert_eq!(r.environments[0].outcomes["rolled_back"], 1);
    assert_eq!(r.environments[0].outcomes["verified"], 1);
    assert_eq!(r.environments[1].analysis_windows, 2);
    assert_eq!(r.environments[1].max_error_rate, Some(0.004));
    assert_eq!(r.environments[1].max_p95_ms, Some(41.0));
    assert_eq!(r.environments[0].max_error_rate, None);
    let rolled: Vec<(&str, bool, Option<&str>)> = r
        .rollbacks
        .iter()
        .map(|x| {
            (
                x.deployment.as_str(),
                x.automatic,
                x.by_deployment.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        rolled,
        [
            (first.as_str(), true, None),
            (second.as_str(), false, Some(back.as_str()))
        ]
    );
    assert_eq!(
        r.rollbacks[0].reason.as_deref(),
        Some("auth.no_token failed")
    );
    assert_eq!(r.rollbacks[1].reason.as_deref(), Some("p95 doubled"));
    let incidents: Vec<(&str, bool)> = r
        .incidents
        .iter()
        .map(|i| (i.id.as_str(), i.open))
        .collect();
    assert_eq!(incidents, [(p1.as_str(), true), (p3.as_str(), false)]);
    assert_eq!((r.verification.runs, r.verification.passed), (2, 1));
    let met: Vec<(&str, Option<bool>)> = r.criteria.iter().map(|c| (c.name, c.met)).collect();
    assert_eq!(
        met,
        [
            ("max_rollbacks", Some(false)),
            ("max_incidents_p0_p1", Some(false)),
            ("min_verify_pass_rate", Some(false))
        ]
    );
    assert!(!r.passed);
    let md = r.markdown();
    assert!(
        md.contains("| `max_rollbacks` | ≤ 0 | 2 of 3 deployment(s) | **not met** |"),
        "{md}"
    );
    assert!(
        md.contains("| `min_verify_pass_rate` | ≥ 99% | 50% (1 of 2 runs) | **not met** |"),
        "{md}"
    );
    assert!(
        md.contains("| staging | 1 | verified 1 | 0.40% | 41 ms |"),
        "{md}"
    );
    // Looser criteria are met by the same history.
    let loose = report::Criteria {
        max_rollbacks: 2,
        max_incidents_p0_p1: 1,
        min_verify_pass_rate: 0.5,
    };
    assert!(report::build("1.0.0", &records, &loose, runway_ledger::now()).passed);
    // A version the ledger never saw has an empty report.
    let none = l.release_history("3.0.0").await.unwrap();
    assert!(report::build("3.0.0", &none, &loose, runway_ledger::now()).is_empty());
    l.close().await;
}
