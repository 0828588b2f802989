//! False alarms of #19 on the HTTP side, against the in-process fake:
//! `/metrics` with families and no samples yet, and a 429 that Runway's own
//! traffic drew.

use runway_core::Status;

use crate::{
    checks::endpoints,
    context::Suite,
    engine, http,
    testkit::{Fake, spawn},
};

fn client() -> reqwest::Client {
    http::client(http::Limits::default())
}

#[tokio::test]
async fn metrics_with_families_declared_and_no_samples_yet_are_valid() {
    // A freshly started prometheus_client app: HELP and TYPE, no sample (#19).
    let s = spawn(Fake {
        metrics: Some(
            "# HELP mcp_requests_total Requests.\n# TYPE mcp_requests_total counter\n# HELP up Up.\n# TYPE up gauge\n"
                .into(),
        ),
        ..Fake::default()
    })
    .await;
    let mut ctx = s.context(Suite::Smoke);
    ctx.required_metrics = vec!["mcp_requests_total".into()];
    let r = endpoints::metrics(&ctx, &client()).await.unwrap();
    assert_eq!(r.status, Status::Pass, "{r:?}");
    assert!(
        r.message
            .contains("2 metric families declared, no samples yet"),
        "{}",
        r.message
    );
    // A page with nothing at all scrapes, but exports nothing: a warning.
    let s = spawn(Fake {
        metrics: Some(String::new()),
        ..Fake::default()
    })
    .await;
    let r = endpoints::metrics(&s.context(Suite::Smoke), &client())
        .await
        .unwrap();
    assert_eq!(r.status, Status::Warn, "{r:?}");
}

#[test]
fn a_429_drawn_by_runway_is_inconclusive_not_a_failure() {
    let mut c = runway_core::CheckResult::fail(
        "auth.no_token",
        "a request without a token gets 429, expected 401",
        "h",
    );
    c.evidence.status = Some(429);
    c.evidence.headers.insert("retry-after".into(), "2".into());
    engine::rate_limited_is_inconclusive(&mut c);
    assert_eq!(c.status, Status::Skip);
    assert!(
        c.message.starts_with(
            "inconclusive: the server rate-limited Runway's requests (HTTP 429, Retry-After 2)"
        ),
        "{}",
        c.message
    );
    assert_eq!(c.evidence.details["inconclusive"], "rate_limited");
    // The rate-limit check itself looks for 429s: it keeps its verdict.
    let mut burst = runway_core::CheckResult::fail("ratelimit.burst", "HTTP 429 too early", "h");
    burst.evidence.status = Some(429);
    engine::rate_limited_is_inconclusive(&mut burst);
    assert_eq!(burst.status, Status::Fail);
}
