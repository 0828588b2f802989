//! A verification report holding a secret and a deployment with every
//! field set, shared by the test files that include this module.

use std::collections::BTreeMap;

use runway_core::{CheckResult, Era, Evidence, Report};
use runway_ledger::{Deployment, Scope, WindowDecision};

pub fn sample_report(secret: &str) -> Report {
    let mut headers = BTreeMap::new();
    headers.insert("authorization".to_owned(), format!("Bearer {secret}"));
    headers.insert("x-echo".to_owned(), format!("echo {secret}"));
    headers.insert("content-type".to_owned(), "application/json".to_owned());
    let checks =
        vec![
        CheckResult::pass("http.health", "200 in 12 ms").with_duration_ms(12.345678901234567),
        CheckResult::fail(
            "auth.no_token",
            format!("`/mcp` answered 200 without a token (sent {secret})"),
            "require a bearer token",
        )
        .with_evidence(Evidence {
            request: Some(format!("POST /mcp token={secret}")),
            status: Some(200),
            headers,
            elapsed_ms: Some(3.0000000000000004),
            body_excerpt: Some(format!("{{\"token\":\"{secret}\"}}")),
            details: serde_json::json!({ "p95_ms": 41.7, "leaked": secret, "authorization": "x" }),
        }),
        CheckResult::warn("ratelimit.burst", "no 429 after 50 requests", "add a rate limit"),
        CheckResult::skip("tls.expiry", "plain http"),
    ];
    Report::new(
        "http://127.0.0.1:9/mcp",
        Era::from_version("2025-11-25"),
        "smoke",
        chrono::Utc::now(),
        101.25,
        checks,
    )
}

pub fn sample_deployment(env: &str, version: &str) -> Deployment {
    let mut d = Deployment::new(env, version);
    d.image_tag = Some(format!("ghcr.io/acme/mcp:{version}"));
    d.image_digest = Some("sha256:0123456789abcdef".into());
    d.git_sha = Some("0123456789abcdef0123456789abcdef01234567".into());
    d.approver = Some("bob".into());
    d.scope = vec![Scope::Code, Scope::Config];
    d.window = WindowDecision::Override {
        window: "Tue-Wed 10:00-16:00 UTC".into(),
        reason: "P1 hotfix".into(),
    };
    d
}
