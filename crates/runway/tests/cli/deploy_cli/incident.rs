//! `runway incident open --env`: the Tabcorp flow (P0 → immediate rollback)
//! when the environment's `rollback.on_incident` says so, on the process
//! target with the reference server.

use super::*;

/// A project whose staging rolls back on a P0, with 1.0.0 then 1.1.0 deployed.
async fn two_versions_deployed() -> Project {
    let p = Project::new("");
    let path = p.path().join("runway.toml");
    let toml = std::fs::read_to_string(&path).unwrap().replace(
        "incident = \"P1\"\n",
        "incident = \"P1\"\non_incident = [\"P0\"]\n",
    );
    std::fs::write(&path, toml).unwrap();
    for v in ["1.0.0", "1.1.0"] {
        let o = p.run(&["deploy", "staging", "--version", v]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    assert_eq!(p.health_version().await.as_deref(), Some("1.1.0"));
    p
}

fn incident_open(p: &Project, sev: &str, extra: &[&str]) -> (Output, serde_json::Value) {
    let mut args = vec![
        "incident",
        "open",
        "--sev",
        sev,
        "--env",
        "staging",
        "--title",
        "tools fail for every user",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let o = p.run(&args);
    let json = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&o)));
    (o, json)
}

#[tokio::test]
async fn a_p0_rolls_the_environment_back_linked_both_ways_and_mitigates_the_incident() {
    let p = two_versions_deployed().await;
    let l = p.ledger().await;
    let before = deployments(l.as_ref()).await;
    let blamed = before[1].id.clone();
    assert_eq!(before[1].deployment.release, "1.1.0");

    // The plan says what an incident would do.
    let o = p.run(&["plan", "staging", "--version", "1.1.0"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(
            "on an incident: `runway incident open --sev P0 --env staging` rolls back at once"
        ),
        "{}",
        text(&o)
    );
    let (o, out) = incident_open(&p, "P0", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // The wire says 1.0.0 again.
    assert_eq!(p.health_version().await.as_deref(), Some("1.0.0"));
    let inc = out["incident"].as_str().unwrap().to_owned();
    assert_eq!(out["severity"], "P0");
    assert_eq!(out["environment"], "staging");
    assert_eq!(out["deployment"], blamed.as_str(), "{out:#}");
    let r = &out["rollback"];
    assert_eq!(r["status"], "rolled_back", "{out:#}");
    assert_eq!(r["policy"], true);
    assert_eq!(r["version"], "1.0.0");
    let rb_dep = r["deployment"].as_str().unwrap().to_owned();
    assert!(r["verification"].as_str().is_some(), "{out:#}");

    // The rollback is a deployment of its own, made through the runbook's
    // rollback: verified, recorded as undoing 1.1.0, naming the incident.
    let deps = deployments(l.as_ref()).await;
    assert_eq!(deps.len(), 3, "{deps:#?}");
    let rb = deps.iter().find(|d| d.id == rb_dep).unwrap();
    assert_eq!(rb.deployment.release, "1.0.0");
    assert_eq!(rb.status, Outcome::Verified.as_str());
    assert_eq!(rb.deployment.rollback_of.as_deref(), Some(blamed.as_str()));
    assert_eq!(rb.rollbacks.len(), 1);
    let fact = &rb.rollbacks[0];
    assert_eq!(fact.incident.as_deref(), Some(inc.as_str()));
    assert!(fact.automatic);
    assert!(fact.ok);
    assert!(fact.reason.contains(&inc), "{fact:?}");
    assert_eq!(rb.verifications.len(), 1);
    assert_eq!(rb.verifications[0].status, "passed");
    // The deploy lock was released.
    assert!(l.deploy_lock("staging").await.unwrap().is_none());

    // The incident: in staging, blamed on 1.1.0 (so its view lists it),
    // mitigated with a note naming the rollback deployment.
    let rec = l.get(&inc).await.unwrap();
    assert_eq!(rec.environment.as_deref(), Some("staging"));
    assert_eq!(rec.status(), Some("mitigated"));
    let note = rec
        .events
        .iter()
        .filter_map(|e| e.note.as_deref())
        .find(|n| n.contains(&rb_dep))
        .unwrap_or_else(|| panic!("no note names {rb_dep}: {:#?}", rec.events));
    assert!(note.contains("1.0.0"), "{note}");
    let view = l.deployment_view(&blamed).await.unwrap();
    assert_eq!(view.incidents.len(), 1);
    assert_eq!(view.incidents[0].id, inc);
}

#[tokio::test]
async fn below_the_policy_or_with_no_rollback_nothing_is_rolled_back() {
    let p = two_versions_deployed().await;
    // P1 is not in `on_incident`.
    let (o, out) = incident_open(&p, "P1", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(out["rollback"]["status"], "not_configured", "{out:#}");
    assert_eq!(out["rollback"]["policy"], false);
    assert!(
        out["rollback"]["message"]
            .as_str()
            .unwrap()
            .contains("on_incident` does not name P1"),
        "{out:#}"
    );
    // Not blamed on anything: nobody said which deployment caused it.
    assert!(out.get("deployment").is_none(), "{out:#}");
    // A P0 with `--no-rollback`: opened, nothing rolled back.
    let (o, out) = incident_open(&p, "P0", &["--no-rollback"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(out["rollback"]["status"], "skipped", "{out:#}");
    assert_eq!(out["rollback"]["policy"], true);
    assert_eq!(p.health_version().await.as_deref(), Some("1.1.0"));

    let l = p.ledger().await;
    assert_eq!(deployments(l.as_ref()).await.len(), 2);
    let open = runway_runbook::records::incidents(
        l.as_ref(),
        &runway_runbook::records::IncidentQuery {
            environment: Some("staging".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(open.len(), 2, "both incidents are listed in staging");
    assert!(open.iter().all(|r| r.status() == Some("detected")));

    // The human form: the id alone on stdout, what was done on stderr.
    let o = p.run(&[
        "incident", "open", "--sev", "P2", "--env", "staging", "--title", "slow",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let id = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    assert!(id.starts_with("inc"), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no rollback:"),
        "{}",
        text(&o)
    );
}

#[tokio::test]
async fn with_nothing_to_roll_back_to_the_incident_is_still_opened() {
    let p = Project::new("");
    let path = p.path().join("runway.toml");
    let toml = std::fs::read_to_string(&path).unwrap().replace(
        "incident = \"P1\"\n",
        "incident = \"P1\"\non_incident = [\"P0\", \"P1\"]\n",
    );
    std::fs::write(&path, toml).unwrap();
    let o = p.run(&["deploy", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let (o, out) = incident_open(&p, "P1", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(
        out["rollback"]["status"], "nothing_to_roll_back_to",
        "{out:#}"
    );
    assert!(
        out["rollback"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing to roll back to"),
        "{out:#}"
    );
    assert_eq!(p.health_version().await.as_deref(), Some("1.0.0"));
    let l = p.ledger().await;
    let inc = out["incident"].as_str().unwrap();
    let rec = l.get(inc).await.unwrap();
    assert_eq!(rec.status(), Some("detected"));
    assert!(
        rec.events
            .iter()
            .filter_map(|e| e.note.as_deref())
            .any(|n| n.contains("nothing to roll back to")),
        "{:#?}",
        rec.events
    );
    // Human output says so too, and exits 1.
    let o = p.run(&[
        "incident", "open", "--sev", "P0", "--env", "staging", "--title", "down",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("the rollback did not happen"), "{err}");
    assert!(err.contains("runway rollback staging"), "{err}");
}

#[tokio::test]
async fn a_failed_rollback_leaves_the_incident_open_and_says_so() {
    let p = two_versions_deployed().await;
    // From now on the server cannot start: the rollback's start fails.
    std::fs::write(
        p.path().join("serve.sh"),
        "#!/bin/sh\necho 'cannot start' >&2\nexit 3\n",
    )
    .unwrap();
    let (o, out) = incident_open(&p, "P0", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let r = &out["rollback"];
    assert_eq!(r["status"], "failed", "{out:#}");
    let rb_dep = r["deployment"].as_str().unwrap();
    let l = p.ledger().await;
    let view = l.deployment_view(rb_dep).await.unwrap();
    assert_eq!(view.status, Outcome::Failed.as_str());
    let inc = out["incident"].as_str().unwrap();
    let rec = l.get(inc).await.unwrap();
    assert_eq!(
        rec.status(),
        Some("detected"),
        "a failed rollback mitigates nothing"
    );
    assert!(
        rec.events
            .iter()
            .filter_map(|e| e.note.as_deref())
            .any(|n| n.contains(rb_dep)),
        "{:#?}",
        rec.events
    );
    assert!(l.deploy_lock("staging").await.unwrap().is_none());
}

/// The same flow on a PostgreSQL ledger (the lease, the incident and the
/// rollback record are all the ledger's), and triage reading it back.
#[tokio::test]
async fn on_postgres_a_p0_rolls_back_and_triage_reads_the_incident_and_the_rollback() {
    let Some(fresh) = crate::ledger_support::Fresh::postgres(
        "on_postgres_a_p0_rolls_back_and_triage_reads_the_incident_and_the_rollback",
    )
    .await
    else {
        return;
    };
    let pg = fresh.arg.clone();
    let p = Project::new("");
    let path = p.path().join("runway.toml");
    let toml = std::fs::read_to_string(&path).unwrap().replace(
        "incident = \"P1\"\n",
        "incident = \"P1\"\non_incident = [\"P0\"]\n",
    );
    std::fs::write(&path, toml).unwrap();
    for v in ["1.0.0", "1.1.0"] {
        let o = p.run(&["deploy", "staging", "--version", v, "--ledger", &pg]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    let (o, out) = incident_open(&p, "P0", &["--ledger", &pg]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(out["rollback"]["status"], "rolled_back", "{out:#}");
    assert_eq!(p.health_version().await.as_deref(), Some("1.0.0"));
    let inc = out["incident"].as_str().unwrap().to_owned();
    let rb_dep = out["rollback"]["deployment"].as_str().unwrap().to_owned();
    // Nothing went to the project's own SQLite ledger.
    assert!(!p.path().join(".runway/ledger.db").exists());

    let l = fresh.open().await;
    let view = l.deployment_view(&rb_dep).await.unwrap();
    assert_eq!(view.status, Outcome::Verified.as_str());
    assert_eq!(view.rollbacks[0].incident.as_deref(), Some(inc.as_str()));
    assert_eq!(l.get(&inc).await.unwrap().status(), Some("mitigated"));
    assert!(l.deploy_lock("staging").await.unwrap().is_none());
    l.close().await;

    let o = p.run(&[
        "triage", "staging", "--window", "1s", "--format", "json", "--ledger", &pg,
    ]);
    // A mitigated P0 is still open: triage says so.
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(t["readiness"]["ok"], true, "{t:#}");
    assert_eq!(t["deployments"][0]["id"], rb_dep.as_str(), "{t:#}");
    assert_eq!(t["deployments"][0]["version"], "1.0.0");
    assert!(t["deployments"][0]["rollback_of"].is_string(), "{t:#}");
    assert_eq!(t["incidents"][0]["id"], inc.as_str());
    assert_eq!(t["incidents"][0]["status"], "mitigated");
    fresh.finish().await;
}
