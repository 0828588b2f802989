//! Triage against the reference server on 127.0.0.1, with a SQLite ledger.

use std::time::Duration;

use runway_core::{Secret, Severity};
use runway_ledger::{Ledger, LedgerUrl};

use super::*;

const TOKEN: &str = "triage-token-0123456789";

struct Setup {
    dir: tempfile::TempDir,
    loaded: Loaded,
    ledger: Box<dyn Ledger>,
}

/// `runway.toml` for `staging` at `mcp_url`, its token in a file, with `extra` appended.
async fn setup(mcp_url: &str, extra: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), TOKEN).unwrap();
    let toml =
        format!("[environments.staging]\nurl = \"{mcp_url}\"\ntoken_file = \"token\"\n{extra}");
    std::fs::write(dir.path().join("runway.toml"), toml).unwrap();
    let loaded = runway_config::Config::load(&dir.path().join("runway.toml")).unwrap();
    let url = LedgerUrl::parse(".runway/ledger.db", dir.path()).unwrap();
    let ledger = runway_ledger::open_for_project(&url, dir.path(), Default::default())
        .await
        .unwrap();
    Setup {
        dir,
        loaded,
        ledger,
    }
}

const AUTH_CONDITION: &str = r#"
[environments.staging.analysis]
interval = "1s"
bake = "10s"

[[environments.staging.analysis.conditions]]
name = "auth_denials"
numerator = "reference_mcp_http_auth_denied_total"
denominator = 'http_requests_total{path="/mcp"}'
max = 0.10
"#;

/// `n` `tools/list` requests to `mcp` with `token`, spread over `over`.
async fn traffic(mcp: String, token: &'static str, n: u32, over: Duration) {
    let client = reqwest::Client::new();
    for _ in 0..n {
        let _ = client
            .post(&mcp)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
            .send()
            .await;
        tokio::time::sleep(over / n).await;
    }
}

fn opts() -> TriageOptions {
    TriageOptions {
        window: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
        deployments: 5,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_tokens_an_open_p0_and_the_lock_are_each_on_the_screen() {
    runway_verify::http::install_crypto_provider();
    let server = runway_reference::spawn(runway_reference::Options {
        token: Some(Secret::new(TOKEN)),
        ..Default::default()
    })
    .await
    .unwrap();
    let s = setup(&server.mcp_url, AUTH_CONDITION).await;
    let inc = s
        .ledger
        .open_incident_in(Severity::P0, "every call fails", None, Some("staging"))
        .await
        .unwrap();
    let lock = s
        .ledger
        .acquire_deploy_lock("staging", "bob@elsewhere (pid 1)", Duration::from_secs(60))
        .await
        .unwrap();
    // Users with a bad token during the window: their 401s are what the condition reads.
    let users = tokio::spawn(traffic(
        server.mcp_url.clone(),
        "not-the-token",
        8,
        Duration::from_millis(1500),
    ));
    let t = triage(&s.loaded, "staging", s.ledger.as_ref(), &opts())
        .await
        .unwrap();
    users.await.unwrap();
    // Readiness passes: the probe's own token is good.
    assert!(t.readiness.ok, "{t:#?}");
    assert_eq!(t.readiness.health.status, "ok");
    assert_eq!(t.readiness.readyz.status, "ok");
    assert_eq!(t.readiness.mcp.status, "ok");
    assert!(!t.readiness.mcp.auth_refused);
    // Auth denials fail their condition.
    assert!(t.traffic.configured);
    assert!(t.traffic.window_secs >= 2.0, "{t:#?}");
    assert_eq!(t.traffic.conditions.len(), 1);
    let c = &t.traffic.conditions[0];
    assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
    assert!(c.value.unwrap() > 0.10, "{c:?}");
    // The incident, young and not overdue; the lock's holder.
    assert_eq!(t.incidents.len(), 1);
    assert_eq!(t.incidents[0].id, inc);
    assert!(!t.incidents[0].overdue);
    assert!(t.incidents[0].age_secs < 60);
    assert_eq!(t.lock.as_ref().unwrap().holder, "bob@elsewhere (pid 1)");
    assert!(t.deployments.is_empty());
    // Problems in the seeds' order: traffic before incidents.
    assert!(!t.healthy);
    assert_eq!(t.problems.len(), 2, "{:#?}", t.problems);
    assert!(
        t.problems[0].starts_with("condition `auth_denials`"),
        "{:?}",
        t.problems
    );
    assert!(t.problems[1].starts_with("P0 incident"), "{:?}", t.problems);
    lock.release().await.unwrap();
    s.ledger.close().await;
    drop(s.dir);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unhealthy_server_is_not_ready_and_no_conditions_is_said_plainly() {
    runway_verify::http::install_crypto_provider();
    let server = runway_reference::spawn(runway_reference::Options {
        token: Some(Secret::new(TOKEN)),
        faults: runway_reference::Faults {
            unhealthy: true,
            not_ready: true,
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap();
    let s = setup(&server.mcp_url, "").await;
    let t = triage(&s.loaded, "staging", s.ledger.as_ref(), &opts())
        .await
        .unwrap();
    assert!(!t.healthy);
    assert!(!t.readiness.ok);
    assert_eq!(t.readiness.health.status, "failed");
    assert!(t.readiness.health.message.contains("503"), "{t:#?}");
    assert_eq!(t.readiness.readyz.status, "failed");
    assert_eq!(t.readiness.readyz.http_status, Some(503));
    // MCP still answers: each readiness probe is judged on its own.
    assert_eq!(t.readiness.mcp.status, "ok", "{t:#?}");
    assert!(!t.traffic.configured);
    assert!(
        t.traffic
            .message
            .contains("no traffic conditions are configured"),
        "{}",
        t.traffic.message
    );
    assert!(t.problems[0].starts_with("not healthy"), "{:?}", t.problems);
    assert!(t.problems[1].starts_with("not ready"), "{:?}", t.problems);
    s.ledger.close().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_environment_without_a_url_or_unknown_is_a_configuration_error() {
    let s = setup("http://127.0.0.1:1/mcp", "[environments.bare]\n").await;
    let e = triage(&s.loaded, "nope", s.ledger.as_ref(), &opts())
        .await
        .unwrap_err();
    assert!(matches!(e, RunbookError::UnknownEnvironment { .. }), "{e}");
    let e = triage(&s.loaded, "bare", s.ledger.as_ref(), &opts())
        .await
        .unwrap_err();
    assert_eq!(
        runway_core::Diagnostic::exit(&e),
        runway_core::Exit::Usage,
        "{e}"
    );
    assert!(e.to_string().contains("url"), "{e}");
    s.ledger.close().await;
}

fn incident(sev: Severity, status: &str, overdue: bool) -> IncidentLine {
    let now = Utc::now();
    IncidentLine {
        id: format!("inc-{sev}"),
        severity: sev,
        title: "t".into(),
        status: status.into(),
        detected_at: now,
        age_secs: 0,
        respond_by: now,
        overdue,
    }
}

#[test]
fn open_p0_p1_and_overdue_incidents_are_problems_an_acknowledged_p3_is_not() {
    let ready = Readiness {
        ok: true,
        health: Endpoint {
            url: None,
            status: "ok".into(),
            http_status: None,
            latency_ms: None,
            message: String::new(),
        },
        readyz: Endpoint {
            url: None,
            status: "not_served".into(),
            http_status: Some(404),
            latency_ms: None,
            message: String::new(),
        },
        mcp: McpProbe {
            status: "ok".into(),
            auth_refused: false,
            version: None,
            latency_ms: 1.0,
            message: String::new(),
        },
    };
    let traffic = Traffic {
        configured: false,
        window_secs: 0.0,
        conditions: Vec::new(),
        message: String::new(),
    };
    assert!(problems(&ready, &traffic, &[], &[]).is_empty());
    let p = problems(
        &ready,
        &traffic,
        &[],
        &[
            incident(Severity::P3, "acknowledged", false),
            incident(Severity::P2, "detected", true),
            incident(Severity::P1, "mitigated", false),
        ],
    );
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(p[0].contains("P2 incident `inc-P2` is detected and past its response time"));
    assert!(p[1].starts_with("P1 incident"));
}
