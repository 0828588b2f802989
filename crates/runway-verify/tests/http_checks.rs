//! Every HTTP check against the reference server: it passes the good server
//! and fails the fault that breaks exactly what it checks.

use std::time::Duration;

use runway_core::{Report, Secret, Status};
use runway_reference::{Faults, Options};
use runway_verify::{Context, LoadSettings, LoadTarget, Suite, Transport, engine};

const TOKEN: &str = "reference-test-token-4242";

async fn server(faults: &str) -> runway_reference::Running {
    runway_reference::spawn(Options {
        token: Some(TOKEN.into()),
        faults: Faults::parse(faults).unwrap(),
        ..Options::default()
    })
    .await
    .unwrap()
}

fn context(s: &runway_reference::Running, only: &[&str]) -> Context {
    let url = url::Url::parse(&s.mcp_url).unwrap();
    let mut c = Context::new(
        Transport::Http { url },
        Some(Secret::new(TOKEN)),
        Suite::Full,
    );
    c.limits.timeout = Duration::from_secs(5);
    c.toggles.only = only.iter().map(|s| s.to_string()).collect();
    c
}

fn status(r: &Report, id: &str) -> Status {
    r.check(id)
        .unwrap_or_else(|| panic!("no `{id}` in {:#?}", r.checks))
        .status
}

#[tokio::test]
async fn the_good_reference_server_passes_every_http_check() {
    let s = server("").await;
    let mut c = context(
        &s,
        &[
            "http",
            "tls",
            "auth",
            "headers",
            "cors",
            "origin",
            "load",
            "ratelimit",
        ],
    );
    c.expect.version = Some(env!("CARGO_PKG_VERSION").into());
    c.required_metrics = vec![
        "mcp_requests_total".into(),
        "mcp_request_duration_seconds".into(),
        "process_start_time_seconds".into(),
    ];
    c.rate_limit.required = true;
    c.load = Some(LoadSettings {
        requests: Some(50),
        ..LoadSettings::default()
    });
    let r = engine::run(&c).await;
    let bad: Vec<_> = r
        .checks
        .iter()
        .filter(|c| matches!(c.status, Status::Fail | Status::Warn))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    for id in [
        "http.health",
        "http.version",
        "http.livez",
        "http.readyz",
        "http.metrics",
        "auth.no_token",
        "auth.www_authenticate",
        "auth.resource_metadata",
        "auth.wrong_token",
        "auth.valid_token",
        "auth.query_token",
        "auth.session_without_token",
        "headers.frame_options",
        "headers.content_type_options",
        "headers.csp",
        "cors.foreign_origin",
        "cors.credentials",
        "origin.foreign",
        "load.latency",
        "load.errors",
        "ratelimit.burst",
    ] {
        assert_eq!(status(&r, id), Status::Pass, "{id}");
    }
    assert_eq!(r.checks.last().unwrap().id, "ratelimit.burst");
    s.shutdown().await;
}

#[tokio::test]
async fn each_fault_fails_the_check_that_guards_against_it() {
    let cases: &[(&str, &[&str], &str)] = &[
        ("no-auth", &["auth"], "auth.no_token"),
        ("wrong-token-accepted", &["auth"], "auth.wrong_token"),
        ("no-www-authenticate", &["auth"], "auth.www_authenticate"),
        ("token-in-query", &["auth"], "auth.query_token"),
        (
            "session-without-token",
            &["auth"],
            "auth.session_without_token",
        ),
        ("no-prm", &["auth"], "auth.resource_metadata"),
        ("missing-headers", &["headers"], "headers.frame_options"),
        (
            "missing-headers",
            &["headers"],
            "headers.content_type_options",
        ),
        ("missing-headers", &["headers"], "headers.csp"),
        ("cors-wildcard", &["cors"], "cors.credentials"),
        ("cors-echo", &["cors"], "cors.foreign_origin"),
        ("bad-origin-accepted", &["origin"], "origin.foreign"),
        ("unhealthy", &["http"], "http.health"),
        ("not-ready", &["http"], "http.readyz"),
        ("bad-metrics", &["http"], "http.metrics"),
    ];
    for (fault, only, id) in cases {
        let s = server(fault).await;
        let r = engine::run(&context(&s, only)).await;
        let c = r
            .check(id)
            .unwrap_or_else(|| panic!("{fault}: no `{id}` in {:#?}", r.checks));
        // The reference answers only JSON: missing page-protecting headers
        // are advice there, not a defect (#19).
        let want = if *fault == "missing-headers" {
            Status::Warn
        } else {
            Status::Fail
        };
        assert_eq!(c.status, want, "{fault}: {c:#?}");
        assert!(c.hint.is_some(), "{fault}: {id} has no hint");
        assert!(
            c.evidence.request.is_some() || c.evidence.status.is_some(),
            "{fault}: {id} has no evidence"
        );
        s.shutdown().await;
    }
}

#[tokio::test]
async fn no_metrics_fails_when_metrics_are_configured() {
    let s = server("no-metrics").await;
    let mut c = context(&s, &["http"]);
    c.paths.metrics = Some(runway_verify::Endpoint::required_at("/metrics"));
    let r = engine::run(&c).await;
    assert_eq!(status(&r, "http.metrics"), Status::Fail);
    assert_eq!(r.check("http.metrics").unwrap().evidence.status, Some(404));
    s.shutdown().await;
}

#[tokio::test]
async fn a_stale_version_on_health_fails() {
    let s = runway_reference::spawn(Options {
        token: Some(TOKEN.into()),
        version: "1.0.0".into(),
        ..Options::default()
    })
    .await
    .unwrap();
    let mut c = context(&s, &["http"]);
    c.expect.version = Some("1.1.0".into());
    let r = engine::run(&c).await;
    assert_eq!(status(&r, "http.version"), Status::Fail);
    s.shutdown().await;
}

#[tokio::test]
async fn no_rate_limit_warns_or_fails_when_required() {
    let s = server("no-rate-limit").await;
    let mut c = context(&s, &["ratelimit"]);
    c.rate_limit.burst = 40;
    let r = engine::run(&c).await;
    assert_eq!(status(&r, "ratelimit.burst"), Status::Warn);
    c.rate_limit.required = true;
    let r = engine::run(&c).await;
    assert_eq!(status(&r, "ratelimit.burst"), Status::Fail);
    s.shutdown().await;
}

#[tokio::test]
async fn a_slow_tool_fails_the_tool_latency_budget() {
    let s = server("slow-tool=150").await;
    let mut c = context(&s, &["load"]);
    c.thresholds.tool_p95 = Duration::from_millis(100);
    c.load = Some(LoadSettings {
        target: LoadTarget::ToolCall {
            tool: "echo".into(),
            arguments: serde_json::json!({"message": "x"}),
        },
        concurrency: 4,
        requests: Some(8),
        duration: None,
        rate: None,
    });
    let r = engine::run(&c).await;
    assert_eq!(status(&r, "load.latency"), Status::Fail);
    assert_eq!(status(&r, "load.errors"), Status::Pass);
    s.shutdown().await;
}

#[tokio::test]
async fn a_hanging_tool_is_a_bounded_load_failure() {
    let s = server("hang").await;
    let mut c = context(&s, &["load"]);
    c.limits.timeout = Duration::from_millis(500);
    c.load = Some(LoadSettings {
        target: LoadTarget::ToolCall {
            tool: "echo".into(),
            arguments: serde_json::json!({"message": "x"}),
        },
        concurrency: 2,
        requests: Some(4),
        duration: None,
        rate: None,
    });
    let started = std::time::Instant::now();
    let r = engine::run(&c).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(status(&r, "load.errors"), Status::Fail);
    s.shutdown().await;
}

#[tokio::test]
async fn auth_and_load_speak_the_stateless_era_too() {
    let era = runway_core::Era::Stateless {
        version: "2026-07-28".into(),
    };
    let client = runway_verify::http::client(runway_verify::http::Limits::default());
    let s = server("").await;
    let c = context(&s, &[]);
    let r = runway_verify::checks::auth::run(&c, &client, &era).await;
    for check in &r {
        assert_eq!(check.status, Status::Pass, "{check:#?}");
    }
    let settings = LoadSettings {
        target: LoadTarget::ToolCall {
            tool: "echo".into(),
            arguments: serde_json::json!({"message": "stateless"}),
        },
        concurrency: 2,
        requests: Some(10),
        duration: None,
        rate: None,
    };
    let stats = runway_verify::load::run(&c, &client, &settings, &era)
        .await
        .unwrap();
    assert_eq!((stats.requests, stats.errors), (10, 0), "{stats:?}");
    s.shutdown().await;

    // The session fault is still found when the server prefers the stateless era.
    let s = server("session-without-token").await;
    let r = runway_verify::checks::auth::run(&context(&s, &[]), &client, &era).await;
    let check = r
        .iter()
        .find(|c| c.id == "auth.session_without_token")
        .unwrap();
    assert_eq!(check.status, Status::Fail, "{check:#?}");
    s.shutdown().await;
}

#[tokio::test]
async fn a_full_run_with_the_mcp_checks_validates_against_the_report_schema() {
    let s = server("no-prm,cors-echo").await;
    let mut c = context(&s, &[]);
    c.toggles.only.clear();
    c.load = Some(LoadSettings {
        requests: Some(20),
        ..LoadSettings::default()
    });
    let r = engine::run(&c).await;
    assert!(r.checks.iter().any(|c| c.group() == "mcp"));
    assert!(!r.ok());
    let json =
        runway_verify::report::render(&r, runway_verify::report::Format::Json, false, &c.redactor);
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/report.schema.json")).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let errors: Vec<String> = v.iter_errors(&value).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    s.shutdown().await;
}

#[tokio::test]
async fn a_token_in_a_custom_header_passes_the_auth_checks_and_none_still_gets_401() {
    let s = runway_reference::spawn(Options {
        token: Some(TOKEN.into()),
        token_header: Some(http::HeaderName::from_static("x-api-key")),
        ..Options::default()
    })
    .await
    .unwrap();
    let mut c = context(&s, &["auth", "mcp", "load", "origin"]);
    c.auth_header = Some("X-API-Key".into());
    c.load = Some(LoadSettings {
        target: LoadTarget::ToolCall {
            tool: "echo".into(),
            arguments: serde_json::json!({"message": "key"}),
        },
        requests: Some(10),
        ..LoadSettings::default()
    });
    let r = engine::run(&c).await;
    for id in [
        "auth.no_token",
        "auth.www_authenticate",
        "auth.wrong_token",
        "auth.valid_token",
        "auth.query_token",
        "auth.session_without_token",
        "mcp.handshake",
        "mcp.tools.list",
        "mcp.sdk",
        "load.errors",
        "origin.foreign",
    ] {
        assert_eq!(status(&r, id), Status::Pass, "{id}: {:#?}", r.check(id));
    }
    let no_token = r.check("auth.no_token").unwrap();
    assert!(no_token.message.contains("401"), "{no_token:#?}");
    // The token is in no message, hint or evidence.
    let shown = serde_json::to_string(&r).unwrap();
    assert!(!shown.contains(TOKEN), "the token leaked into the report");

    // The same token as a bearer token is not what this server reads.
    let bearer = context(&s, &["auth"]);
    let r = engine::run(&bearer).await;
    assert_eq!(status(&r, "auth.no_token"), Status::Pass);
    assert_eq!(status(&r, "auth.valid_token"), Status::Fail);
    s.shutdown().await;
}

#[tokio::test]
async fn an_open_server_fails_auth_no_token_whatever_header_carries_the_token() {
    let s = runway_reference::spawn(Options {
        token: Some(TOKEN.into()),
        token_header: Some(http::HeaderName::from_static("x-api-key")),
        faults: Faults::parse("no-auth").unwrap(),
        ..Options::default()
    })
    .await
    .unwrap();
    let mut c = context(&s, &["auth"]);
    c.auth_header = Some("X-API-Key".into());
    let r = engine::run(&c).await;
    let check = r.check("auth.no_token").unwrap();
    assert_eq!(check.status, Status::Fail, "{check:#?}");
    assert!(
        check
            .hint
            .as_deref()
            .unwrap_or_default()
            .contains("`X-API-Key`"),
        "{check:#?}"
    );
    s.shutdown().await;
}
