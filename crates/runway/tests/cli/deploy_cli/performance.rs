//! The `performance` gate (Hostaway step 4, MockLoop's criteria): before a
//! deploy the release is started locally on a free port, timed to healthy,
//! its memory sampled, loaded with concurrent tool calls, and stopped; a
//! release that misses a criterion is refused and what serves is untouched.

use super::*;

/// The reference server per version, without its rate limit (one client's
/// load is the point): 3.0.0 holds 300 MB, 4.0.0 fails a third of its tool
/// calls, 5.0.0 never becomes healthy, 6.0.0 speaks only the stateless
/// 2026-07-28 era.
fn serve_with_faults(p: &Project) {
    let bin = runway_testkit::runway_bin();
    std::fs::write(
        p.path().join("serve.sh"),
        format!(
            "#!/bin/sh\ncase \"$1\" in\n  3.0.0) faults=hog-memory=300,no-rate-limit ;;\n  4.0.0) faults=flaky-tool=34,no-rate-limit ;;\n  5.0.0) faults=unhealthy,no-rate-limit ;;\n  6.0.0) faults=no-rate-limit; era=stateless ;;\n  *) faults=no-rate-limit ;;\nesac\nexec {} serve-reference --port \"$2\" --version \"$1\" --era \"${{era:-both}}\" --faults \"$faults\"\n",
            bin.display()
        ),
    )
    .unwrap();
}

const CRITERIA: &str = r#"
[environments.staging.gates.performance]
startup_max = "8s"
max_rss_mb = 200
concurrency = 20
requests = 400
p95_max = "5s"
tool = "echo"
arguments = { message = "load" }
"#;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The port the trial ran on, from the gate's line (`... on port 40123: ...`).
fn trial_port(detail: &str) -> u16 {
    let at = detail.find("on port ").expect(detail) + "on port ".len();
    detail[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn listens(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(500),
    )
    .is_ok()
}

async fn performance_gate(p: &Project, version: &str) -> runway_ledger::GateRecord {
    let l = p.ledger().await;
    let d = deployments(l.as_ref())
        .await
        .into_iter()
        .rfind(|d| d.deployment.release == version)
        .unwrap_or_else(|| panic!("no deployment of {version}"));
    crate::ledger_support::gate_of(&d, "performance")
}

#[tokio::test]
async fn a_release_within_its_criteria_ships_after_a_trial_that_leaves_nothing_running() {
    let p = Project::new(CRITERIA);
    serve_with_faults(&p);
    let o = plan(&p, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let line = gate_line(&o, "performance");
    assert!(
        line.contains("skipped") && line.contains("runs when deploying"),
        "{line}"
    );
    assert!(
        line.contains("at most 200 MB") && line.contains("at 20 concurrent"),
        "{line}"
    );

    let o = p.run(&["deploy", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        stderr(&o).contains("performance: starting 1.0.0 locally as process"),
        "{}",
        text(&o)
    );
    let g = performance_gate(&p, "1.0.0").await;
    assert_eq!(g.verdict.as_str(), "pass", "{g:?}");
    for part in [
        "healthy in",
        "peak memory",
        "tools/call echo x20: 400 requests, 0 failed",
        "p95",
        "the trial server was stopped",
    ] {
        assert!(g.detail.contains(part), "{part}: {}", g.detail);
    }
    let port = trial_port(&g.detail);
    assert_ne!(port, p.port, "the trial ran beside the environment's port");
    assert!(!listens(port), "the trial server still answers on {port}");
    // The environment itself got the release, on its own port.
    assert_eq!(p.health_version().await.as_deref(), Some("1.0.0"));
    // A stateless-only server (2026-07-28) takes the tool calls without a session.
    let o = p.run(&["deploy", "staging", "--version", "6.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let g = performance_gate(&p, "6.0.0").await;
    assert!(
        g.detail
            .contains("tools/call echo x20: 400 requests, 0 failed"),
        "{}",
        g.detail
    );
    // Its provenance chain says what is missing: no release was recorded,
    // no artifact verified; the deployment itself was verified.
    let l = p.ledger().await;
    let id = deployments(l.as_ref()).await[0].id.clone();
    let o = p.run(&["ledger", "show", &id]);
    let shown = String::from_utf8_lossy(&o.stdout).into_owned();
    for part in [
        "    release   none recorded",
        "    artifacts never verified",
        "    verified  ver-",
        "    broken    no release record of 1.0.0",
        "    broken    the artifacts of 1.0.0 were never verified",
    ] {
        assert!(shown.contains(part), "{part}: {shown}");
    }
}

#[tokio::test]
async fn a_release_over_its_memory_or_error_budget_or_never_healthy_is_refused_and_1_0_0_keeps_serving()
 {
    let p = Project::new(CRITERIA);
    serve_with_faults(&p);
    let o = p.run(&["deploy", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    for (version, why) in [
        ("3.0.0", "over 200 MB"),
        ("4.0.0", "requests failed"),
        ("5.0.0", "did not become healthy"),
    ] {
        let o = p.run(&["deploy", "staging", "--version", version]);
        assert_ne!(o.status.code(), Some(0), "{version}: {}", text(&o));
        assert!(
            stderr(&o).contains("a gate refused"),
            "{version}: {}",
            text(&o)
        );
        let g = performance_gate(&p, version).await;
        assert_eq!(g.verdict.as_str(), "refused", "{version}: {g:?}");
        assert!(g.detail.contains(why), "{version}: {}", g.detail);
        assert!(!listens(trial_port(&g.detail)), "{version}: {}", g.detail);
        assert_eq!(
            p.health_version().await.as_deref(),
            Some("1.0.0"),
            "{version} was refused: 1.0.0 still serves"
        );
    }
}
