//! What a deploy leaves in the ledger: refusals, held and concurrent deployments, logs, config changes.

use super::*;

#[tokio::test]
async fn a_refused_deploy_is_recorded_with_every_verdict_and_dora_does_not_count_it() {
    let p = Project::new("approvals = 1");
    let toml = std::fs::read_to_string(p.path().join("runway.toml")).unwrap()
        + "\n[environments.staging.window]\nallow = []\nblock = []\n";
    std::fs::write(p.path().join("runway.toml"), toml).unwrap();

    // The plan as data says the same.
    let o = p.run(&["plan", "staging", "--version", "1.0.0", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(plan["refused"], true, "{plan}");
    assert_eq!(plan["environment"], "staging");
    let gates = plan["gates"].as_array().unwrap();
    assert!(
        gates
            .iter()
            .any(|g| g["gate"] == "window" && g["status"] == "refuse"),
        "{plan}"
    );
    assert!(plan["watch"]["detection_delay_secs"].as_f64().unwrap() > 0.0);

    let o = p.run(&["deploy", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!p.pid_file().exists(), "nothing may be started");
    let l = p.ledger().await;
    let deps = deployments(l.as_ref()).await;
    assert_eq!(deps.len(), 1, "{deps:#?}");
    let d = &deps[0];
    assert_eq!(d.status, Outcome::Refused.as_str());
    assert!(
        matches!(
            d.deployment.window,
            runway_ledger::WindowDecision::Outside { .. }
        ),
        "{:?}",
        d.deployment.window
    );
    // Every gate's verdict is kept, the refusing ones as refused.
    let names: Vec<&str> = d.deployment.gates.iter().map(|g| g.name.as_str()).collect();
    for gate in ["release_check", "window", "approvals", "rollback_artifact"] {
        assert!(names.contains(&gate), "{names:?}");
    }
    let refused: Vec<&str> = d
        .deployment
        .gates
        .iter()
        .filter(|g| g.verdict == runway_ledger::GateVerdict::Refused)
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(refused, ["window", "approvals"]);
    assert!(d.deployed.is_none());

    let show = p.run(&["ledger", "show", &d.id]);
    assert!(show.status.success(), "{}", text(&show));
    let shown = String::from_utf8_lossy(&show.stdout);
    assert!(shown.contains("refused"), "{shown}");
    assert!(shown.contains("outside the deploy window"), "{shown}");
    assert!(shown.contains("approvals"), "{shown}");

    let dora = p.run(&["dora", "--env", "staging", "--format", "json"]);
    assert!(dora.status.success(), "{}", text(&dora));
    let dora: serde_json::Value = serde_json::from_slice(&dora.stdout).unwrap();
    assert_eq!(dora["deployments"], 0, "{dora}");
    assert_eq!(dora["outcomes"]["refused"], 1, "{dora}");
}

#[tokio::test]
async fn an_inconclusive_watch_holds_the_deployment_until_a_human_or_a_watch_resolves_it() {
    // Too few samples for the window: the watch cannot decide.
    let p = Project::new("");
    let toml = std::fs::read_to_string(p.path().join("runway.toml"))
        .unwrap()
        .replace("min_samples = 3", "min_samples = 100");
    std::fs::write(p.path().join("runway.toml"), toml).unwrap();
    let o = p.run(&["ship", "staging", "--version", "1.0.0", "--for", "2s"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("held for a human"), "{}", text(&o));
    assert!(err.contains("--accept"), "{}", text(&o));
    let l = p.ledger().await;
    let id = {
        let deps = deployments(l.as_ref()).await;
        assert_eq!(deps[0].status, Outcome::Held.as_str(), "{deps:#?}");
        deps[0].id.clone()
    };
    // `status` shows it, and that it is not verified.
    let st = p.run(&["status", "staging"]);
    let out = String::from_utf8_lossy(&st.stdout);
    assert!(out.contains(": held"), "{}", text(&st));
    assert!(out.contains("resolve it"), "{}", text(&st));
    let st = p.run(&["status", "staging", "--format", "json"]);
    let st: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(st["last_deployment"]["status"], "held", "{st}");

    // Another inconclusive watch leaves it held...
    let o = p.run(&["watch", "staging", "--for", "1s"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(
        deployments(l.as_ref()).await[0].status,
        Outcome::Held.as_str()
    );
    // ...accepting the wrong version changes nothing...
    let o = p.run(&["deploy", "staging", "--version", "9.9.9", "--accept"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // ...and a human accepting it ends it verified, once.
    let o = p.run(&["deploy", "staging", "--version", "1.0.0", "--accept"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let d = deployments(l.as_ref()).await;
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].id, id);
    assert_eq!(d[0].status, Outcome::Verified.as_str());
    assert!(
        d[0].end
            .as_ref()
            .and_then(|e| e.reason.as_deref())
            .is_some_and(|r| r.contains("accepted by alice")),
        "{:?}",
        d[0].end
    );
    let o = p.run(&["deploy", "staging", "--version", "1.0.0", "--accept"]);
    assert_eq!(o.status.code(), Some(1), "accepted twice: {}", text(&o));

    // A held deployment that a later watch passes is verified by it.
    let o = p.run(&["ship", "staging", "--version", "1.1.0", "--for", "2s"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(
        deployments(l.as_ref()).await[1].status,
        Outcome::Held.as_str()
    );
    let toml = std::fs::read_to_string(p.path().join("runway.toml"))
        .unwrap()
        .replace("min_samples = 100", "min_samples = 2");
    std::fs::write(p.path().join("runway.toml"), toml).unwrap();
    let o = p.run(&["watch", "staging", "--for", "2s"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("now verified"),
        "{}",
        text(&o)
    );
    let d = deployments(l.as_ref()).await;
    assert_eq!(d[1].status, Outcome::Verified.as_str(), "{:?}", d[1]);
}

/// Two projects (two machines, as far as Runway can tell: no local file is
/// shared) deploy the same environment through one PostgreSQL ledger: the
/// second is refused by the ledger's lease, and the lease goes with the first.
#[tokio::test]
async fn a_concurrent_deploy_from_another_checkout_is_refused_on_a_shared_postgres_ledger() {
    let Some(pg) = std::env::var("RUNWAY_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        if std::env::var("RUNWAY_SKIP_PG").as_deref() == Ok("1") {
            eprintln!("skipped: RUNWAY_SKIP_PG=1 (no PostgreSQL)");
            return;
        }
        panic!(
            "RUNWAY_TEST_PG_URL is not set: run scripts/setup.d/10-postgres.sh (scripts/test does), or RUNWAY_SKIP_PG=1 to skip"
        );
    };
    // A name of its own, so other tests on the same database never hold its lock.
    let env = format!("pg-{}-{}", std::process::id(), free_port());
    let project = || {
        let p = Project::new("");
        let toml = std::fs::read_to_string(p.path().join("runway.toml"))
            .unwrap()
            .replace("environments.staging", &format!("environments.{env}"));
        std::fs::write(p.path().join("runway.toml"), toml).unwrap();
        // Never healthy: the deploy sits in its health wait, holding the lease.
        std::fs::write(p.path().join("serve.sh"), "#!/bin/sh\nexec sleep 60\n").unwrap();
        p
    };
    let (a, b) = (project(), project());
    let mut first = a
        .cmd(&["deploy", &env, "--version", "3.0.0", "--ledger", &pg])
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid_file = a.path().join(format!(".runway/process/{env}.pid"));
    let started = Instant::now();
    while !pid_file.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the first deploy never started"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let o = b.run(&["deploy", &env, "--version", "3.0.1", "--ledger", &pg]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is being deployed by alice"),
        "{}",
        text(&o)
    );
    assert!(
        !b.path().join(format!(".runway/process/{env}.pid")).exists(),
        "the refused deploy started nothing"
    );

    let status = Command::new("kill")
        .args(["-TERM", &first.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let waited = Instant::now();
    let code = loop {
        if let Some(s) = first.try_wait().unwrap() {
            break s.code();
        }
        assert!(
            waited.elapsed() < Duration::from_secs(15),
            "SIGTERM did not stop the deploy"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(code, Some(1));
    // Kill what the first deploy left (its `sleep`), whatever happened.
    if let Ok(pid) = std::fs::read_to_string(&pid_file) {
        let _ = Command::new("kill")
            // procps' `kill`: dash's builtin refuses `--` before a group.
            .args(["-KILL", "--", &format!("-{}", pid.trim())])
            .stderr(std::process::Stdio::null())
            .status();
    }

    let l = runway_ledger::open(&LedgerUrl::parse(&pg, a.path()).unwrap())
        .await
        .unwrap();
    let f = runway_ledger::Filter {
        kind: Some(Kind::Deployment),
        environment: Some(env.clone()),
        ..Default::default()
    };
    let records = l.query(&f, false).await.unwrap();
    assert_eq!(records.len(), 1, "the refused deploy left no record");
    assert_eq!(records[0].status(), Some(Outcome::Aborted.as_str()));
    assert!(l.deploy_lock(&env).await.unwrap().is_none());
}

/// The server keeps writing after `runway deploy` has exited: its log stays
/// under `log_max_bytes` anyway (`runway process-log` bounds it).
#[tokio::test]
async fn the_process_log_stays_bounded_after_runway_exits() {
    let p = Project::new("");
    let toml = std::fs::read_to_string(p.path().join("runway.toml"))
        .unwrap()
        .replace(
            "health_timeout = \"20s\"",
            "health_timeout = \"20s\"\nlog_max_bytes = 20000",
        );
    std::fs::write(p.path().join("runway.toml"), toml).unwrap();
    let serve = std::fs::read_to_string(p.path().join("serve.sh")).unwrap();
    // About 1 MB of output, starting once the deploy has had time to end.
    let spam = "(sleep 3; i=0; while [ $i -lt 20000 ]; do echo \"line $i of the noisy server, padded to fifty bytes\"; i=$((i+1)); done; echo spam done) &\n";
    std::fs::write(
        p.path().join("serve.sh"),
        serve.replacen("exec ", &format!("{spam}exec "), 1),
    )
    .unwrap();
    let o = p.run(&["deploy", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let log = p.path().join(".runway/process/staging.log");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("spam done") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server never finished writing"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let size = std::fs::metadata(&log).unwrap().len();
    assert!(size <= 20000, "the log grew to {size} bytes");
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("line 19999")
    );
}

#[tokio::test]
async fn a_deployment_records_the_config_changes_since_the_previous_one_without_secret_values() {
    let p = Project::new("");
    let toml_path = p.path().join("runway.toml");
    let o = p.run(&["deploy", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // The operator tightens the watch and gives the server a secret.
    let v1 = std::fs::read_to_string(&toml_path).unwrap();
    let v2 = v1.replace("min_samples = 3", "min_samples = 4").replace(
        "health_timeout = \"20s\"",
        "health_timeout = \"20s\"\nenv = { API_KEY = \"${RUNWAY_SCOPE_TEST_KEY}\" }",
    );
    assert_ne!(v1, v2);
    std::fs::write(&toml_path, &v2).unwrap();
    let first_secret = "scope-secret-first-0c1d2e3f";
    let o = p
        .cmd(&["deploy", "staging", "--version", "1.0.1"])
        .env("RUNWAY_SCOPE_TEST_KEY", first_secret)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // The same settings, the secret rotated.
    let second_secret = "scope-secret-second-4a5b6c7d";
    let o = p
        .cmd(&["deploy", "staging", "--version", "1.0.2"])
        .env("RUNWAY_SCOPE_TEST_KEY", second_secret)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let l = p.ledger().await;
    let mut ds = deployments(l.as_ref()).await;
    ds.sort_by_key(|d| d.deployment.started_at);
    let versions: Vec<&str> = ds.iter().map(|d| d.deployment.release.as_str()).collect();
    assert_eq!(versions, ["1.0.0", "1.0.1", "1.0.2"]);
    assert!(ds[0].deployment.changes.is_none());
    assert!(!ds[0].deployment.settings.is_empty());

    let second = ds[1].deployment.changes.as_ref().expect("changes of 1.0.1");
    assert_eq!(
        second.config,
        [
            "analysis.min_samples: 3 → 4".to_owned(),
            "+ deploy.env.API_KEY (value not shown)".to_owned(),
        ],
        "{second:?}"
    );
    assert_eq!(ds[1].deployment.scope, [runway_ledger::Scope::Config]);

    let third = ds[2].deployment.changes.as_ref().expect("changes of 1.0.2");
    assert_eq!(
        third.config,
        ["deploy.env.API_KEY: changed (value not shown)".to_owned()]
    );

    let show = p.run(&["ledger", "show", &ds[1].id]);
    assert_eq!(show.status.code(), Some(0), "{}", text(&show));
    let shown = String::from_utf8_lossy(&show.stdout);
    assert!(
        shown.contains("config  analysis.min_samples: 3 → 4"),
        "{shown}"
    );
    assert!(
        shown.contains("config  + deploy.env.API_KEY (value not shown)"),
        "{shown}"
    );

    // Neither secret is anywhere in the ledger's files.
    drop(l);
    for entry in std::fs::read_dir(p.path().join(".runway")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            let s = String::from_utf8_lossy(&bytes);
            assert!(
                !s.contains(first_secret) && !s.contains(second_secret),
                "a secret is in {}",
                path.display()
            );
        }
    }
}
