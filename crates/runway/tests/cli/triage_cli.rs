//! `runway triage <env>` end to end against the reference server on
//! 127.0.0.1: healthy, refusing users' tokens, unhealthy, and the
//! configuration errors.

use std::path::Path;
use std::time::Duration;

use runway_ledger::{Deployment, DeploymentEnd, Ledger, LedgerUrl, Outcome};
use runway_testkit::{Output, Test};

const TOKEN: &str = "tok-triage-5e2a91";

fn runway(dir: &Path, args: &[&str]) -> Output {
    Test::new()
        .args(args)
        .current_dir(dir)
        .env("RUNWAY_TEST_TOKEN", TOKEN)
        .env("RUNWAY_OPERATOR", "alice")
        .env_remove("RUNWAY_LEDGER_URL")
        .run()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const CONDITIONS: &str = r#"
[environments.staging.analysis]
interval = "1s"
bake = "10s"

[[environments.staging.analysis.conditions]]
name = "auth_denials"
numerator = "reference_mcp_http_auth_denied_total"
denominator = 'http_requests_total{path="/mcp"}'
max = 0.10

[[environments.staging.analysis.conditions]]
name = "errors"
numerator = 'http_requests_total{path="/mcp",code=~"5.."}'
denominator = 'http_requests_total{path="/mcp"}'
max = 0.05
"#;

fn project(mcp_url: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runway.toml"),
        format!(
            "[environments.staging]\nurl = \"{mcp_url}\"\ntoken_env = \"RUNWAY_TEST_TOKEN\"\n{extra}"
        ),
    )
    .unwrap();
    dir
}

async fn ledger(dir: &Path) -> Box<dyn Ledger> {
    let url = LedgerUrl::parse(".runway/ledger.db", dir).unwrap();
    runway_ledger::open_for_project(&url, dir, Default::default())
        .await
        .unwrap()
}

async fn server(faults: runway_reference::Faults) -> runway_reference::Running {
    runway_reference::spawn(runway_reference::Options {
        token: Some(TOKEN.into()),
        faults,
        ..Default::default()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_healthy_server_exits_0_with_every_section_in_the_seeds_order() {
    let server = server(Default::default()).await;
    let dir = project(&server.mcp_url, CONDITIONS);
    let l = ledger(dir.path()).await;
    let dep = l
        .record_deployment(&Deployment::new("staging", "1.4.0"))
        .await
        .unwrap();
    l.finish_deployment(&dep, &DeploymentEnd::new(Outcome::Verified))
        .await
        .unwrap();
    let inc = l
        .open_incident_in(
            runway_core::Severity::P3,
            "a typo in a tool description",
            None,
            Some("staging"),
        )
        .await
        .unwrap();
    l.move_incident(&inc, runway_ledger::IncidentStatus::Acknowledged, None)
        .await
        .unwrap();
    l.close().await;

    let d = dir.path().to_owned();
    let o =
        tokio::task::spawn_blocking(move || runway(&d, &["triage", "staging", "--window", "2s"]))
            .await
            .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("nothing is wrong"), "{out}");
    let at = |s: &str| out.find(s).unwrap_or_else(|| panic!("no `{s}` in:\n{out}"));
    // The dynamic-mcp order: readiness, auth failures in metrics, then the rest.
    assert!(at("1. readiness") < at("2. auth denials and errors"));
    assert!(at("2. auth denials") < at("3. last deployments"));
    assert!(at("3. last deployments") < at("4. open incidents"));
    assert!(at("4. open incidents") < at("5. deploy lock"));
    assert!(out.contains("pass       auth_denials (metrics)"), "{out}");
    assert!(out.contains("pass       errors (metrics)"), "{out}");
    assert!(out.contains(&format!("{dep} 1.4.0 verified by ")), "{out}");
    assert!(out.contains(&format!("{inc} P3 acknowledged for")), "{out}");
    assert!(out.contains("  free"), "{out}");
    assert!(!out.contains(TOKEN), "{out}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn users_refused_during_the_window_fail_triage_and_the_json_says_which_condition() {
    let server = server(Default::default()).await;
    let dir = project(&server.mcp_url, CONDITIONS);
    let l = ledger(dir.path()).await;
    let lock = l
        .acquire_deploy_lock("staging", "bob@ci-7 (pid 77)", Duration::from_secs(60))
        .await
        .unwrap();
    let d = dir.path().to_owned();
    let run = tokio::task::spawn_blocking(move || {
        runway(
            &d,
            &["triage", "staging", "--window", "3s", "--format", "json"],
        )
    });
    // Users whose tokens the server refuses, while the window is open.
    runway_verify::http::install_crypto_provider();
    let client = reqwest::Client::new();
    for _ in 0..10 {
        let _ = client
            .post(&server.mcp_url)
            .bearer_auth("a-revoked-token")
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
            .send()
            .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let o = run.await.unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(t["healthy"], false);
    assert_eq!(
        t["readiness"]["ok"], true,
        "the probe's own token is good: {t:#}"
    );
    let conds = t["traffic"]["conditions"].as_array().unwrap();
    let auth = conds
        .iter()
        .find(|c| c["condition"] == "auth_denials")
        .unwrap();
    assert_eq!(auth["verdict"], "fail", "{t:#}");
    assert!(auth["value"].as_f64().unwrap() > 0.10, "{t:#}");
    let problems = t["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap().starts_with("condition `auth_denials`")),
        "{t:#}"
    );
    assert_eq!(t["lock"]["holder"], "bob@ci-7 (pid 77)");
    lock.release().await.unwrap();
    l.close().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unhealthy_server_exits_1_and_no_conditions_is_said_plainly() {
    let server = server(runway_reference::Faults {
        unhealthy: true,
        ..Default::default()
    })
    .await;
    let dir = project(&server.mcp_url, "");
    let l = ledger(dir.path()).await;
    let (p0, env) = (runway_core::Severity::P0, Some("staging"));
    let inc = l.open_incident_in(p0, "down", None, env).await.unwrap();
    l.close().await;
    let d = dir.path().to_owned();
    let o = tokio::task::spawn_blocking(move || runway(&d, &["triage", "staging"]))
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("health   failed"), "{out}");
    assert!(out.contains("503"), "{out}");
    assert!(
        out.contains("no traffic conditions are configured for `staging`"),
        "{out}"
    );
    assert!(out.contains("  none recorded"), "{out}");
    assert!(out.contains(&format!("{inc} P0 detected for")), "{out}");
    assert!(out.contains("  - not healthy"), "{out}");
    assert!(out.contains("  - P0 incident"), "{out}");
    server.shutdown().await;
}

#[test]
fn configuration_errors_exit_2_naming_what_to_fix() {
    let dir = project(
        "http://127.0.0.1:1/mcp",
        "\n[environments.nourl]\nhealth_path = \"/health\"\n\n[environments.notoken]\nurl = \"http://127.0.0.1:1/mcp\"\ntoken_env = \"RUNWAY_TRIAGE_UNSET_TOKEN\"\n",
    );
    let o = runway(dir.path(), &["triage", "nope"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("known environments"),
        "{}",
        text(&o)
    );
    let o = runway(dir.path(), &["triage", "nourl"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = runway(dir.path(), &["triage", "notoken"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("RUNWAY_TRIAGE_UNSET_TOKEN"),
        "{}",
        text(&o)
    );
    let o = runway(dir.path(), &["triage", "staging", "--window", "1h"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("at most `10m`"),
        "{}",
        text(&o)
    );
}
