//! `runway ledger`, `runway incident` and `runway dora` through the real
//! binary, each case on SQLite and on PostgreSQL.

use crate::ledger_support;

use std::{collections::BTreeMap, path::Path};

use chrono::{Duration, Utc};
use ledger_support::{Fresh, ok, run};
use runway_core::{CheckResult, Era, Evidence, Report};
use runway_ledger::{
    Deployment, DeploymentEnd, Ledger, Outcome, RollbackDecision, Scope, WindowDecision,
};

both_backends!(
    incident_lifecycle_and_illegal_moves,
    list_filters_and_formats,
    export_import_round_trip_through_the_cli,
    postmortem_is_prefilled_from_incident_deployment_and_verification,
    dora_reports_the_four_metrics_with_bands,
    release_success_criteria_are_judged_from_the_record,
    deployment_show_prints_every_field_and_dora_counts_rollback_deployments,
    values_with_control_characters_cannot_split_rows_or_recolour_the_terminal,
);

#[test]
fn the_command_line_definition_is_consistent() {
    use clap::CommandFactory;
    runway::cli::Cli::command().debug_assert();
}

async fn incident_lifecycle_and_illegal_moves(f: &Fresh) {
    let id = ok(f
        .runway()
        .args(["incident", "open", "--sev", "P0", "--title", "server down"]));
    let id = id.trim().to_owned();
    assert!(id.starts_with("inc-"), "{id}");

    let (code, _, err) = run(f.runway().args(["incident", "resolve", &id]));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(f.runway().args(["incident", "ack", &id]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("is `resolved`; it cannot become `acknowledged`"),
        "{err}"
    );
    let (code, _, err) = run(f.runway().args(["incident", "close", "inc-ffffffffffff"]));
    assert_eq!(code, 2);
    assert!(err.contains("no record `inc-ffffffffffff`"), "{err}");
    let (code, _, err) = run(f
        .runway()
        .args(["incident", "open", "--sev", "P7", "--title", "x"]));
    assert_eq!(code, 2);
    assert!(err.contains("P0, P1, P2, P3"), "{err}");

    ok(f.runway()
        .args(["incident", "note", &id[..8], "root cause: expired cert"]));
    ok(f.runway()
        .args(["incident", "close", &id, "--note", "postmortem done"]));

    let open = ok(f.runway().args(["incident", "list"]));
    assert!(
        !open.contains(&id),
        "closed incidents are hidden by default: {open}"
    );
    let all = ok(f
        .runway()
        .args(["incident", "list", "--all", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&all).unwrap();
    let events = v[0]["events"].as_array().unwrap();
    let statuses: Vec<_> = events.iter().filter_map(|e| e["status"].as_str()).collect();
    assert_eq!(statuses, ["detected", "resolved", "closed"]);
    assert!(events.iter().all(|e| e["operator"] == "dana"));
    assert_eq!(events[2]["note"], "root cause: expired cert");
    assert_eq!(v[0]["body"]["severity"], "P0");
}

async fn seed(l: &dyn Ledger) -> (String, String) {
    let mut d = Deployment::new("production", "1.4.0");
    d.git_sha = Some("1111111111111111111111111111111111111111".into());
    d.image_tag = Some("ghcr.io/acme/mcp:1.4.0".into());
    d.approver = Some("erin".into());
    d.scope = vec![Scope::Code];
    d.window = WindowDecision::Inside {
        window: "Tue-Wed 10:00-16:00 UTC".into(),
    };
    let dep = l.record_deployment(&d).await.unwrap();
    let mut headers = BTreeMap::new();
    headers.insert("www-authenticate".to_owned(), "Bearer".to_owned());
    let report = Report::new(
        "https://mcp.example.com/mcp",
        Era::from_version("2025-11-25"),
        "smoke",
        Utc::now(),
        812.5,
        vec![
            CheckResult::pass("http.health", "200"),
            CheckResult::fail(
                "auth.no_token",
                "`/mcp` answered 200 without a token",
                "require a bearer token on `/mcp`",
            )
            .with_evidence(Evidence {
                status: Some(200),
                headers,
                ..Evidence::default()
            }),
        ],
    );
    let ver = l
        .record_verification(&report, "production", Some(&dep))
        .await
        .unwrap();
    l.finish_deployment(
        &dep,
        &DeploymentEnd {
            rollback: Some(RollbackDecision::Executed {
                to: Some("1.3.9".into()),
                reason: "auth boundary open".into(),
            }),
            verification_id: Some(ver.clone()),
            ..DeploymentEnd::new(Outcome::RolledBack)
        },
    )
    .await
    .unwrap();
    let mut s = Deployment::new("staging", "1.4.0");
    s.outcome = Some(Outcome::Verified);
    l.record_deployment(&s).await.unwrap();
    (dep, ver)
}

async fn list_filters_and_formats(f: &Fresh) {
    let l = f.open().await;
    let (dep, ver) = seed(l.as_ref()).await;
    l.close().await;
    ok(f.runway().args([
        "incident",
        "open",
        "--sev",
        "P2",
        "--title",
        "slow",
        "--deployment",
        &dep,
    ]));

    let prod = ok(f.runway().args(["ledger", "list", "--env", "production"]));
    assert!(prod.starts_with("ID "), "{prod}");
    assert_eq!(
        prod.lines().count(),
        4,
        "header + deployment + verification + incident:\n{prod}"
    );
    assert!(prod.contains(&dep) && prod.contains(&ver), "{prod}");
    assert!(prod.contains("rolled_back"), "{prod}");

    let csv = ok(f
        .runway()
        .args(["ledger", "list", "--kind", "deployment", "--format", "csv"]));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("id,kind,created_at,operator,environment,version,status"));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("staging") && l.contains(",verified,")),
        "{csv}"
    );

    let json = ok(f.runway().args([
        "ledger",
        "list",
        "--version",
        "1.4.0",
        "--since",
        "1h",
        "--format",
        "json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 4);
    let none = ok(f.runway().args([
        "ledger",
        "list",
        "--since",
        "2999-01-01T00:00:00Z",
        "--format",
        "json",
    ]));
    assert_eq!(none.trim(), "[]");
    let (code, _, err) = run(f.runway().args(["ledger", "list", "--kind", "deploy"]));
    assert_eq!(code, 2);
    assert!(err.contains("unknown record kind `deploy`"), "{err}");

    let show = ok(f.runway().args(["ledger", "show", &ver]));
    assert!(show.contains("fail  auth.no_token"), "{show}");
    assert!(show.contains("hint: require a bearer token"), "{show}");
}

async fn export_import_round_trip_through_the_cli(f: &Fresh) {
    let l = f.open().await;
    seed(l.as_ref()).await;
    l.close().await;
    ok(f.runway().args([
        "incident",
        "open",
        "--sev",
        "P1",
        "--title",
        "a, \"quoted\" title",
    ]));
    let export_path = f.dir.path().join("export.json");
    ok(f.runway()
        .args(["ledger", "export", "-o"])
        .arg(&export_path));
    let before = std::fs::read_to_string(&export_path).unwrap();

    // Into an empty SQLite ledger...
    let target = Fresh::sqlite().await;
    ok(target.runway().args(["ledger", "import"]).arg(&export_path));
    let after = ok(target.runway().args(["ledger", "export"]));
    assert_eq!(before, after);
    // ...and, from there, into an empty PostgreSQL one when there is a server.
    if let Some(pg) =
        Fresh::postgres("export_import_round_trip_through_the_cli (to PostgreSQL)").await
    {
        ok(pg
            .runway()
            .args(["ledger", "import", "-"])
            .stdin(std::fs::File::open(&export_path).unwrap()));
        assert_eq!(before, ok(pg.runway().args(["ledger", "export"])));
        pg.finish().await;
    }
    // Importing twice stops at the first record already there.
    let (code, _, err) = run(target.runway().args(["ledger", "import"]).arg(&export_path));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is already in the ledger"), "{err}");
    // Not an export at all: the file and position are named.
    let bad = f.dir.path().join("bad.json");
    std::fs::write(&bad, "{\"schema\": 1}").unwrap();
    let (code, _, err) = run(target.runway().args(["ledger", "import"]).arg(&bad));
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.json` is not a Runway ledger export: line 1"),
        "{err}"
    );
    target.finish().await;
}

async fn postmortem_is_prefilled_from_incident_deployment_and_verification(f: &Fresh) {
    let l = f.open().await;
    let (dep, ver) = seed(l.as_ref()).await;
    l.close().await;
    let id = ok(f.runway().args([
        "incident",
        "open",
        "--sev",
        "P1",
        "--title",
        "clients get 200 without a token",
        "--deployment",
        &dep[..10],
    ]));
    let id = id.trim();
    ok(f.runway().args(["incident", "ack", id, "--note", "paged"]));
    ok(f.runway()
        .args(["incident", "mitigate", id, "--note", "rolled back to 1.3.9"]));
    ok(f.runway().args(["incident", "resolve", id]));
    let out = f.dir.path().join("pm.md");
    ok(f.runway()
        .args(["incident", "postmortem", id, "-o"])
        .arg(&out));
    let md = std::fs::read_to_string(&out).unwrap();
    for section in [
        "## Summary",
        "## Impact",
        "## Timeline (UTC)",
        "## Root cause",
        "## Resolution",
        "## Detection",
        "## Action items",
        "## Lessons learned",
    ] {
        assert!(md.contains(section), "missing {section}:\n{md}");
    }
    for fact in [
        &format!("# Postmortem: clients get 200 without a token (`{id}`)"),
        &format!("attributed to deployment `{dep}` of release 1.4.0 to production"),
        &format!(
            "`auth.no_token` (verification `{ver}`): `/mcp` answered 200 without a token; hint: require a bearer token on `/mcp`"
        ),
        "rollback executed to 1.3.9: auth boundary open",
        "commit `1111111111111111111111111111111111111111`, image `ghcr.io/acme/mcp:1.4.0` (scope: code)",
        "| incident mitigated | dana | rolled back to 1.3.9 |",
        "the P1 response target of 1 h was met",
        "inside the deploy window (Tue-Wed 10:00-16:00 UTC)",
        "1 passed, 0 warned, 1 failed, 0 skipped",
        "| Make `auth.no_token` pass before the next release, and gate on it | | |",
    ] {
        assert!(md.contains(fact), "missing {fact:?}:\n{md}");
    }
}

fn git(repo: &Path, args: &[&str], date: &str) -> String {
    runway_testkit::git::git_dated(repo, args, date)
        .trim()
        .to_owned()
}

async fn dora_reports_the_four_metrics_with_bands(f: &Fresh) {
    let repo = f.dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"], "@1767225600 +0000");
    let now = Utc::now();
    let mut shas = Vec::new();
    for days_ago in [10, 6] {
        let t = format!("@{} +0000", (now - Duration::days(days_ago)).timestamp());
        git(
            &repo,
            &["commit", "-q", "--allow-empty", "-m", "change"],
            &t,
        );
        shas.push(git(&repo, &["rev-parse", "HEAD"], &t));
    }
    let l = f.open().await;
    // Two verified deployments 2 h and 4 h after their commits, one rolled back
    // after 30 min, one aborted (not counted), one in staging (filtered out).
    let plan = [
        (&shas[0], 10 * 24 - 2, 0, Outcome::Verified, "production"),
        (&shas[1], 6 * 24 - 4, 0, Outcome::Verified, "production"),
        (&shas[1], 24, 30, Outcome::RolledBack, "production"),
        (&shas[1], 12, 0, Outcome::Aborted, "production"),
        (&shas[1], 12, 0, Outcome::Failed, "staging"),
    ];
    for (sha, hours_ago, minutes, outcome, env) in plan {
        let mut d = Deployment::new(env, "2.0.0");
        d.git_sha = Some(sha.to_string());
        d.started_at = runway_ledger::now() - Duration::hours(hours_ago);
        d.finished_at = Some(d.started_at + Duration::minutes(minutes));
        d.outcome = Some(outcome);
        l.record_deployment(&d).await.unwrap();
    }
    l.close().await;
    let json = ok(f.runway().arg("-C").arg(&repo).args([
        "dora",
        "--env",
        "production",
        "--since",
        "30d",
        "--format",
        "json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["environment"], "production");
    assert_eq!(v["deployments"], 3);
    assert_eq!(v["failed_deployments"], 1);
    let freq = v["deployment_frequency"]["value"].as_f64().unwrap();
    assert!((freq - 0.1).abs() < 1e-3, "{freq}");
    assert_eq!(v["deployment_frequency"]["band"], "medium");
    let lead = v["lead_time_for_changes"]["value"].as_f64().unwrap();
    assert!((lead - 3.0).abs() < 0.01, "median of 2 h and 4 h: {lead}");
    assert_eq!(v["lead_time_for_changes"]["sample"], 2);
    assert_eq!(v["lead_time_for_changes"]["band"], "elite");
    let cfr = v["change_failure_rate"]["value"].as_f64().unwrap();
    assert!((cfr - 100.0 / 3.0).abs() < 1e-6, "{cfr}");
    assert_eq!(v["change_failure_rate"]["band"], "low");
    assert_eq!(v["failed_deployment_recovery_time"]["value"], 0.5);
    assert_eq!(v["failed_deployment_recovery_time"]["band"], "elite");
    assert_eq!(v["rollbacks"], 1);
    assert_eq!(v["restores"], 1);
    assert_eq!(v["outcomes"]["verified"], 2);
    assert_eq!(v["outcomes"]["rolled_back"], 1);
    assert_eq!(v["outcomes"]["aborted"], 1);

    let human = ok(f
        .runway()
        .arg("-C")
        .arg(&repo)
        .args(["dora", "--env", "production"]));
    assert!(human.contains("DORA metrics for production"), "{human}");
    assert!(
        human.contains("2 verified, 0 held, 1 rolled back, 0 failed; 1 aborted, 0 interrupted, 0 refused (not counted); 1 rollback(s), 1 restore(s)"),
        "{human}"
    );
    assert!(
        human.contains("lead time for changes       elite   3 h (median of 2)"),
        "{human}"
    );

    // Outside a repository the commits are unknown: lead time is n/a, and a note says why.
    let (code, out, err) = run(f.runway().args(["dora", "--env", "production"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("n/a (no verified deployment with a known commit)"),
        "{out}"
    );
    assert!(
        err.contains("2 verified deployment(s) left out of lead time"),
        "{err}"
    );
}

async fn release_success_criteria_are_judged_from_the_record(f: &Fresh) {
    let l = f.open().await;
    let good = l
        .record_release(&runway_ledger::Release {
            version: "1.3.9".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let bad = l
        .record_release(&runway_ledger::Release {
            version: "1.4.0".into(),
            tag: Some("v1.4.0".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let (dep, _) = seed(l.as_ref()).await;
    l.open_incident(runway_core::Severity::P1, "auth open", Some(&dep))
        .await
        .unwrap();
    l.close().await;

    let show = ok(f.runway().args(["ledger", "show", &bad]));
    assert!(show.contains("1.4.0 tag v1.4.0"), "{show}");
    assert!(
        show.contains("success criteria (2 deployment(s))"),
        "{show}"
    );
    for line in [
        "critical issues (P0/P1 incidents)   1                     target 0     NOT MET",
        "error rate (failed checks)          50.00% (1 of 2)       target < 1%  NOT MET",
        "deployments rolled back or failed   1 of 2                target 0     NOT MET",
        "release failed",
    ] {
        assert!(show.contains(line), "missing {line:?}:\n{show}");
    }
    let show = ok(f.runway().args(["ledger", "show", &good]));
    assert!(show.contains("release not deployed yet"), "{show}");
}

async fn deployment_show_prints_every_field_and_dora_counts_rollback_deployments(f: &Fresh) {
    use runway_ledger::{
        Analysis, AnalysisVerdict, Changes, Deployed, DeploymentFact, GateRecord, GateVerdict,
        Logs, Rollback, now,
    };
    let l = f.open().await;
    let mut d = Deployment::new("production", "2.0.0");
    d.started_at = now() - Duration::hours(3);
    d.image_tag = Some("ghcr.io/acme/mcp:2.0.0".into());
    d.image_digest = Some("sha256:feedface".into());
    d.git_sha = Some("2222222222222222222222222222222222222222".into());
    d.approver = Some("bob".into());
    d.target = Some("process".into());
    d.scope = vec![Scope::Code];
    d.changes = Some(Changes {
        previous_version: Some("1.9.0".into()),
        code: vec!["abc1234 feat: new tool".into()],
        config: vec!["environments.production.analysis.bake".into()],
        ..Changes::default()
    });
    d.window = WindowDecision::Emergency {
        window: Some("Tue 10:00-16:00 UTC".into()),
        incident: "inc-00000000beef".into(),
        approver: "carol".into(),
    };
    d.gates = vec![
        GateRecord::new("release_check", GateVerdict::Pass, "v2.0.0 at its tag"),
        GateRecord::new(
            "window",
            GateVerdict::Overridden,
            "Friday; emergency inc-00000000beef",
        ),
    ];
    let dep = l.record_deployment(&d).await.unwrap();
    l.add_deployment_fact(
        &dep,
        &DeploymentFact::Deployed(Deployed {
            revision: Some("pid 4242".into()),
            ..Deployed::default()
        }),
    )
    .await
    .unwrap();
    let report = Report::new(
        "http://127.0.0.1:9/mcp",
        Era::from_version("2025-11-25"),
        "smoke",
        Utc::now(),
        5.0,
        vec![CheckResult::pass("http.health", "200")],
    );
    let ver = l
        .record_verification(&report, "production", Some(&dep))
        .await
        .unwrap();
    l.add_deployment_fact(
        &dep,
        &DeploymentFact::Analysis(Analysis {
            verdict: AnalysisVerdict::Fail,
            samples: 12,
            min_samples: Some(10),
            started_at: None,
            ended_at: None,
            availability: Some(0.75),
            error_rate: Some(0.25),
            auth_failure_rate: Some(0.05),
            p50_ms: Some(11.5),
            p95_ms: Some(2400.0),
            failing: Some("availability 75.0% < 95.0%".into()),
            conditions: Vec::new(),
        }),
    )
    .await
    .unwrap();
    l.add_deployment_fact(
        &dep,
        &DeploymentFact::Logs(Logs::bounded(
            "process stdout+stderr",
            Some("2.0.0".into()),
            "starting\nERROR echo crashed\n",
        )),
    )
    .await
    .unwrap();
    l.add_deployment_fact(
        &dep,
        &DeploymentFact::Rollback(Rollback {
            from_version: Some("2.0.0".into()),
            to_version: Some("1.9.0".into()),
            to_artifact: None,
            reason: "watch failed".into(),
            automatic: true,
            started_at: now(),
            finished_at: Some(now()),
            ok: true,
            verification_id: None,
            baseline: Some("p95 40 ms (baseline 38 ms)".into()),
            back_to_baseline: Some(true),
            restored: Vec::new(),
            incident: None,
        }),
    )
    .await
    .unwrap();
    let inc = l
        .open_incident(
            runway_core::Severity::P1,
            "2.0.0 failed its watch",
            Some(&dep),
        )
        .await
        .unwrap();
    l.finish_deployment(
        &dep,
        &DeploymentEnd {
            rollback: Some(RollbackDecision::Executed {
                to: Some("1.9.0".into()),
                reason: "watch failed".into(),
            }),
            verification_id: Some(ver.clone()),
            reason: Some("availability 75.0% < 95.0%".into()),
            done: vec!["gates passed".into(), "2.0.0 started".into()],
            ..DeploymentEnd::new(Outcome::RolledBack)
        },
    )
    .await
    .unwrap();
    // An earlier verified deployment, undone an hour later by a rollback deployment.
    let mut old = Deployment::new("production", "1.9.0");
    old.started_at = now() - Duration::hours(6);
    old.finished_at = Some(old.started_at + Duration::minutes(10));
    old.outcome = Some(Outcome::Verified);
    let old = l.record_deployment(&old).await.unwrap();
    let mut back = Deployment::new("production", "1.8.0");
    back.started_at = now() - Duration::hours(5) - Duration::minutes(30);
    back.finished_at = Some(now() - Duration::hours(5));
    back.outcome = Some(Outcome::Verified);
    back.rollback_of = Some(old.clone());
    l.record_deployment(&back).await.unwrap();
    l.close().await;

    let human = ok(f.runway().args(["ledger", "show", &dep[..9]]));
    for want in [
        &format!("deployment {dep}"),
        "status    rolled_back",
        "target    process",
        "image     ghcr.io/acme/mcp:2.0.0",
        "digest    sha256:feedface",
        "git sha   2222222222222222222222222222222222222222",
        "operator  seed",
        "approver  bob",
        "window    emergency override for incident inc-00000000beef, approved by carol",
        "scope     code",
        "changes since the previous deployment 1.9.0",
        "code    abc1234 feat: new tool",
        "config  environments.production.analysis.bake",
        "pass       release_check  v2.0.0 at its tag",
        "overridden window         Friday; emergency inc-00000000beef",
        "deployed  revision pid 4242",
        "passed  smoke of 2.0.0: 1 passed, 0 warned, 0 failed, 0 skipped  (decided the outcome)",
        "fail         12 sample(s) (min 10), availability 75.0%, error rate 25.0%, auth failures 5.0%, p50 11.5 ms, p95 2400 ms",
        "failing: availability 75.0% < 95.0%",
        "rolled back 2.0.0 to 1.9.0 (automatic, succeeded)",
        "baseline  back to baseline: p95 40 ms (baseline 38 ms)",
        &format!("{inc}  P1  detected     2.0.0 failed its watch"),
        "outcome   rolled_back: availability 75.0% < 95.0%",
        "rollback  executed to 1.9.0: watch failed",
        "    - 2.0.0 started",
        "logs of 2.0.0 (process stdout+stderr): 28 bytes",
        "    | ERROR echo crashed",
        "analysis",
    ] {
        assert!(human.contains(want), "missing `{want}` in:\n{human}");
    }
    let json = ok(f
        .runway()
        .args(["ledger", "show", &dep, "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["id"], dep.as_str());
    assert_eq!(v["kind"], "deployment");
    let view = &v["deployment_view"];
    assert_eq!(view["status"], "rolled_back");
    assert_eq!(view["gates"][1]["verdict"], "overridden");
    assert_eq!(view["deployment"]["window"]["decision"], "emergency");
    assert_eq!(view["deployment"]["window"]["approver"], "carol");
    assert_eq!(view["deployment"]["changes"]["previous_version"], "1.9.0");
    assert_eq!(view["analyses"][0]["p95_ms"], 2400.0);
    assert_eq!(view["analyses"][0]["failing"], "availability 75.0% < 95.0%");
    assert_eq!(view["rollbacks"][0]["to_version"], "1.9.0");
    assert_eq!(view["logs"][0]["text"], "starting\nERROR echo crashed\n");
    assert_eq!(view["incidents"][0]["id"], inc.as_str());
    assert_eq!(view["verifications"][0]["id"], ver.as_str());
    assert_eq!(view["end"]["outcome"], "rolled_back");
    assert_eq!(view["end"]["done"][0], "gates passed");
    assert_eq!(view["deployed"]["revision"], "pid 4242");

    let json = ok(f.runway().args([
        "dora",
        "--env",
        "production",
        "--since",
        "1d",
        "--format",
        "json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["deployments"], 2,
        "the rollback deployment is not one: {v}"
    );
    assert_eq!(v["rollbacks"], 2, "{v}");
    assert_eq!(v["failed_deployments"], 2, "{v}");
    assert_eq!(v["restores"], 2, "{v}");
    // 1.9.0: started 6 h ago, restored 5 h ago by the rollback deployment's end = 1 h;
    // 2.0.0: its incident is not mitigated yet, so its own rollback restored it, 3 h after it started.
    let rec = v["failed_deployment_recovery_time"]["value"]
        .as_f64()
        .unwrap();
    assert!(rec > 1.9 && rec < 2.1, "median of 1 h and ~3 h: {rec}");
}

/// A title and an operator holding ANSI escapes and line breaks are shown
/// escaped in every human-readable output, never raw: one row per record.
async fn values_with_control_characters_cannot_split_rows_or_recolour_the_terminal(f: &Fresh) {
    let title = "db down\u{1b}[31m\ninc-fake  P0  resolved\r\u{1b}[2J";
    let operator = "mallory\u{1b}]0;owned\u{7}\nroot";
    let id = ok(f
        .runway()
        .env("RUNWAY_OPERATOR", operator)
        .args(["incident", "open", "--sev", "P2", "--title", title]));
    let id = id.trim().to_owned();
    let outputs = [
        ("ledger list", ok(f.runway().args(["ledger", "list"]))),
        ("incident list", ok(f.runway().args(["incident", "list"]))),
        ("ledger show", ok(f.runway().args(["ledger", "show", &id]))),
    ];
    for (what, out) in &outputs {
        assert!(
            !out.contains(['\u{1b}', '\r', '\u{7}']),
            "{what} printed a raw control character: {out:?}"
        );
        assert!(
            out.contains("db down\\u{1b}[31m\\ninc-fake  P0  resolved\\r\\u{1b}[2J"),
            "{what} did not show the title escaped: {out}"
        );
        assert!(
            !out.lines().any(|l| l.starts_with("inc-fake")),
            "{what}: the title split a row: {out}"
        );
    }
    for (what, out) in &outputs[..2] {
        // The header and one row.
        assert_eq!(out.lines().count(), 2, "{what}: {out}");
    }
    assert!(
        outputs[0].1.contains("mallory\\u{1b}]0;owned\\u{7}\\nroot"),
        "{}",
        outputs[0].1
    );
    // JSON keeps the value exactly as recorded.
    let json = ok(f.runway().args(["ledger", "show", &id, "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["operator"], operator);
}
