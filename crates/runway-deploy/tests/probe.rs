//! The watch's sampler against the reference MCP server, in-process.

use std::time::Duration;

use runway_core::{Redactor, Secret};
use runway_deploy::{
    analysis::Sampler,
    probe::{HttpSampler, ProbeCall},
};
use runway_reference::{Faults, Options};

async fn server(token: Option<&str>, faults: Faults) -> runway_reference::Running {
    runway_reference::spawn(Options {
        token: token.map(Secret::new),
        version: "3.1.4".into(),
        faults,
        ..Options::default()
    })
    .await
    .unwrap()
}

fn sampler(s: &runway_reference::Running, token: Option<&str>) -> HttpSampler {
    HttpSampler {
        health: Some(format!("{}/health", s.base_url).parse().unwrap()),
        health_optional: false,
        probe: runway_config::ProbeKind::Tools,
        mcp: s.mcp_url.parse().unwrap(),
        token: token.map(Secret::new),
        auth_header: None,
        call: Some(ProbeCall {
            tool: "echo".into(),
            arguments: serde_json::json!({ "message": "watch" }),
        }),
        timeout: Duration::from_secs(5),
        redactor: Redactor::new(),
        reuse: Default::default(),
    }
}

#[tokio::test]
async fn a_healthy_server_gives_a_good_sample_with_its_version() {
    let s = server(Some("tok-good-123"), Faults::default()).await;
    let sample = sampler(&s, Some("tok-good-123")).sample().await;
    assert!(sample.healthy, "{sample:?}");
    assert_eq!(sample.mcp_ok, Some(true), "{sample:?}");
    assert!(!sample.auth_refused);
    assert!(!sample.failed());
    assert_eq!(sample.version.as_deref(), Some("3.1.4"));
    assert!(sample.latency_ms > 0.0);
    s.shutdown().await;
}

/// A server that reads its key from `X-API-Key` (an `auth_header`
/// environment): the watch's samples send the token there, and a sample
/// that sends it as `Authorization: Bearer` is refused.
#[tokio::test]
async fn the_sampler_sends_the_token_in_the_environments_auth_header() {
    let s = runway_reference::spawn(Options {
        token: Some(Secret::new("key-sampler-771")),
        token_header: Some(axum::http::HeaderName::from_static("x-api-key")),
        version: "3.1.4".into(),
        ..Options::default()
    })
    .await
    .unwrap();
    let mut with_header = sampler(&s, Some("key-sampler-771"));
    with_header.auth_header = Some("X-API-Key".into());
    let sample = with_header.sample().await;
    assert!(sample.healthy, "{sample:?}");
    assert_eq!(sample.mcp_ok, Some(true), "{sample:?}");
    assert!(!sample.auth_refused, "{sample:?}");

    let bearer = sampler(&s, Some("key-sampler-771")).sample().await;
    assert_eq!(bearer.mcp_ok, Some(false), "{bearer:?}");
    assert!(bearer.auth_refused, "{bearer:?}");
    s.shutdown().await;
}

#[tokio::test]
async fn a_refused_token_is_an_auth_failure() {
    let s = server(Some("tok-good-123"), Faults::default()).await;
    let sample = sampler(&s, Some("tok-wrong-456")).sample().await;
    assert!(sample.healthy);
    assert_eq!(sample.mcp_ok, Some(false));
    assert!(sample.auth_refused, "{sample:?}");
    assert!(!format!("{sample:?}").contains("tok-wrong-456"));
    s.shutdown().await;
}

#[tokio::test]
async fn an_unhealthy_server_or_a_failing_tool_fails_the_sample() {
    let s = server(None, Faults::parse("unhealthy").unwrap()).await;
    let sample = sampler(&s, None).sample().await;
    assert!(!sample.healthy);
    assert_eq!(sample.mcp_ok, None);
    assert!(sample.error.unwrap().contains("503"));
    s.shutdown().await;

    let s = server(None, Faults::parse("failing-tool").unwrap()).await;
    let sample = sampler(&s, None).sample().await;
    assert!(sample.healthy);
    assert_eq!(sample.mcp_ok, Some(false), "{sample:?}");
    s.shutdown().await;
}

#[tokio::test]
async fn a_stopped_server_is_down() {
    let s = server(None, Faults::default()).await;
    let probe = sampler(&s, None);
    s.shutdown().await;
    let sample = probe.sample().await;
    assert!(!sample.healthy);
    assert!(sample.failed());
}

/// Readiness by handshake (no health endpoint) on a server that reads its key
/// from `X-API-Key`: ready when the wait sends the token there; a wait that
/// sends `Authorization: Bearer` is refused until its deadline.
#[tokio::test]
async fn the_health_wait_handshakes_with_the_environments_auth_header() {
    let s = runway_reference::spawn(Options {
        token: Some(Secret::new("key-wait-9034")),
        token_header: Some(axum::http::HeaderName::from_static("x-api-key")),
        ..Options::default()
    })
    .await
    .unwrap();
    let wait = |header: Option<&str>| runway_deploy::HealthWait {
        url: None,
        health_optional: true,
        mcp: Some(s.mcp_url.parse().unwrap()),
        token: Some(Secret::new("key-wait-9034")),
        auth_header: header.map(str::to_owned),
        timeout: Duration::from_secs(2),
        interval: Duration::from_millis(100),
    };
    let mut alive = || None;
    runway_deploy::health::wait(&wait(Some("X-API-Key")), &mut alive)
        .await
        .expect("ready with the key in X-API-Key");
    let e = runway_deploy::health::wait(&wait(None), &mut alive)
        .await
        .expect_err("the key as a bearer token is refused");
    assert!(!e.to_string().contains("key-wait-9034"), "{e}");
    s.shutdown().await;
}

/// A session-era server: the samples share one session instead of leaving
/// one per sample behind; a session the server ended is opened again within
/// the same sample, which still passes. A stateless server keeps none.
#[tokio::test]
async fn samples_reuse_one_session_and_open_another_when_it_is_gone() {
    let s = runway_reference::spawn(Options {
        era: runway_reference::EraSupport::SessionOnly,
        version: "3.1.4".into(),
        ..Options::default()
    })
    .await
    .unwrap();
    let watch = sampler(&s, None);
    let first = watch.sample().await;
    assert_eq!(first.mcp_ok, Some(true), "{first:?}");
    assert_eq!(first.version.as_deref(), Some("3.1.4"));
    let id = watch.reuse.session_id().await.expect("a session is kept");
    for _ in 0..3 {
        let again = watch.sample().await;
        assert_eq!(again.mcp_ok, Some(true), "{again:?}");
        assert_eq!(again.version.as_deref(), Some("3.1.4"), "{again:?}");
        assert_eq!(watch.reuse.session_id().await.as_deref(), Some(id.as_str()));
    }
    // The server ends the session (as a restart would): the next sample opens a new one.
    let ended = reqwest::Client::new()
        .delete(&s.mcp_url)
        .header("mcp-session-id", &id)
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .unwrap();
    assert!(ended.status().is_success(), "{}", ended.status());
    let after = watch.sample().await;
    assert_eq!(after.mcp_ok, Some(true), "{after:?}");
    let new_id = watch.reuse.session_id().await.expect("a new session");
    assert_ne!(new_id, id);
    s.shutdown().await;

    let stateless = runway_reference::spawn(Options {
        era: runway_reference::EraSupport::StatelessOnly,
        ..Options::default()
    })
    .await
    .unwrap();
    let once = sampler(&stateless, None);
    assert_eq!(once.sample().await.mcp_ok, Some(true));
    assert_eq!(once.reuse.session_id().await, None);
    stateless.shutdown().await;
}
