//! `exposure` (dynamic-mcp step 7): `/livez`, `/readyz` and `/metrics` are
//! closed at the public edge and served on the internal network. Two servers
//! on 127.0.0.1 play the parts: the reference server with every path open,
//! and an edge that answers 404, 403 and 401.

use std::{path::Path, time::Duration};

use runway_core::{CheckResult, Report, Status};
use runway_reference::Options;
use runway_verify::{Context, Suite, Transport, context::Exposure, engine};

/// An edge that closes the operational paths: 404, 403, 401.
async fn closed_edge() -> String {
    use axum::{http::StatusCode, routing::get};
    let app = axum::Router::new()
        .route("/livez", get(|| async { StatusCode::NOT_FOUND }))
        .route("/readyz", get(|| async { StatusCode::FORBIDDEN }))
        .route("/metrics", get(|| async { StatusCode::UNAUTHORIZED }))
        .route("/mcp", get(|| async { StatusCode::METHOD_NOT_ALLOWED }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// The reference server: `/livez`, `/readyz`, `/metrics` all open.
async fn open_server() -> runway_reference::Running {
    runway_reference::spawn(Options::default()).await.unwrap()
}

fn base(mcp_url: &str) -> String {
    let u = url::Url::parse(mcp_url).unwrap();
    format!("{}/", u.origin().ascii_serialization())
}

fn context(public_mcp_url: &str, internal: Option<&str>) -> Context {
    let url = url::Url::parse(public_mcp_url).unwrap();
    let mut c = Context::new(Transport::Http { url }, None, Suite::Smoke);
    c.limits.timeout = Duration::from_secs(3);
    c.toggles.only = vec!["exposure".into()];
    c.exposure = Some(Exposure {
        internal_url: internal.map(|u| url::Url::parse(u).unwrap()),
        ..Exposure::default()
    });
    c
}

fn check<'a>(r: &'a Report, id: &str) -> &'a CheckResult {
    r.check(id)
        .unwrap_or_else(|| panic!("no `{id}` in {:#?}", r.checks))
}

#[tokio::test]
async fn closed_at_the_edge_and_served_inside_passes() {
    let edge = closed_edge().await;
    let inside = open_server().await;
    let r = engine::run(&context(
        &format!("{edge}/mcp"),
        Some(&base(&inside.mcp_url)),
    ))
    .await;
    let p = check(&r, "exposure.public");
    assert_eq!(p.status, Status::Pass, "{p:#?}");
    assert!(
        p.message.contains("`/livez` answered 404")
            && p.message.contains("`/readyz` answered 403")
            && p.message.contains("`/metrics` answered 401"),
        "{}",
        p.message
    );
    let i = check(&r, "exposure.internal");
    assert_eq!(i.status, Status::Pass, "{i:#?}");
    assert!(i.message.contains("`/metrics` 200"), "{}", i.message);
    assert_eq!(p.evidence.details["kind"], "policy", "{:#?}", p.evidence);
}

#[tokio::test]
async fn an_open_path_at_the_public_edge_fails_naming_the_path_and_status() {
    let public = open_server().await;
    let r = engine::run(&context(&public.mcp_url, None)).await;
    let p = check(&r, "exposure.public");
    assert_eq!(p.status, Status::Fail, "{p:#?}");
    for path in ["/livez", "/readyz", "/metrics"] {
        assert!(
            p.message.contains(&format!("`{path}` answered 200")),
            "{path}: {}",
            p.message
        );
    }
    assert!(
        p.hint.as_deref().unwrap().contains("network edge"),
        "{p:#?}"
    );
    assert_eq!(p.evidence.status, Some(200));
    // No internal URL: only the public side is judged.
    assert!(r.check("exposure.internal").is_none(), "{:#?}", r.checks);

    // One path open among closed ones is named alone.
    let mut c = context(&public.mcp_url, None);
    c.exposure.as_mut().unwrap().paths = vec!["/metrics".into(), "/no-such-path".into()];
    let r = engine::run(&c).await;
    let p = check(&r, "exposure.public");
    assert_eq!(p.status, Status::Fail, "{p:#?}");
    assert!(
        p.message.contains("`/metrics` answered 200"),
        "{}",
        p.message
    );
    assert!(!p.message.contains("/no-such-path"), "{}", p.message);
}

#[tokio::test]
async fn an_unreachable_internal_url_is_a_warning_and_a_closed_one_a_failure() {
    let edge = closed_edge().await;
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", l.local_addr().unwrap())
    };
    let r = engine::run(&context(&format!("{edge}/mcp"), Some(&dead))).await;
    assert_eq!(check(&r, "exposure.public").status, Status::Pass);
    let i = check(&r, "exposure.internal");
    assert_eq!(i.status, Status::Warn, "{i:#?}");
    assert!(i.message.contains("did not answer"), "{}", i.message);
    assert!(i.message.contains(&dead), "{}", i.message);

    // The internal side refuses too: the public 404s prove nothing.
    let r = engine::run(&context(&format!("{edge}/mcp"), Some(&format!("{edge}/")))).await;
    let i = check(&r, "exposure.internal");
    assert_eq!(i.status, Status::Fail, "{i:#?}");
    assert!(
        i.message.contains("`/readyz` answered 403") && i.message.contains("`/livez` answered 404"),
        "{}",
        i.message
    );
}

fn environment(text: &str) -> runway_config::EnvironmentConfig {
    let c = runway_config::Config::parse(text, Path::new("runway.toml")).unwrap();
    c.environments["p"].clone()
}

#[tokio::test]
async fn the_environment_table_turns_the_check_on_in_any_suite() {
    let edge = closed_edge().await;
    let inside = open_server().await;
    let mut c = Context::new(
        Transport::Http {
            url: url::Url::parse(&format!("{edge}/mcp")).unwrap(),
        },
        None,
        Suite::Smoke,
    );
    c.limits.timeout = Duration::from_secs(3);
    let env = environment(&format!(
        "[environments.p]\nurl = \"{edge}/mcp\"\n[environments.p.exposure]\n\
         internal_url = \"{}\"\ninternal_paths = [\"/metrics\"]\n",
        base(&inside.mcp_url)
    ));
    c.apply_environment("p", &env).unwrap();
    let x = c.exposure.as_ref().unwrap();
    assert_eq!(x.paths, ["/metrics"]);
    // Only the exposure group, so the fake edge's missing MCP endpoint does not matter.
    c.toggles.only = vec!["exposure".into()];
    let r = engine::run(&c).await;
    assert_eq!(check(&r, "exposure.public").status, Status::Pass);
    assert_eq!(check(&r, "exposure.internal").status, Status::Pass);
    // Without the table the smoke suite does not run it.
    let mut plain = Context::new(
        Transport::Http {
            url: url::Url::parse(&inside.mcp_url).unwrap(),
        },
        None,
        Suite::Smoke,
    );
    plain.limits.timeout = Duration::from_secs(3);
    let r = engine::run(&plain).await;
    assert!(
        !r.checks.iter().any(|c| c.id.starts_with("exposure.")),
        "{:#?}",
        r.checks
    );
    // With it, the smoke suite runs it beside the rest.
    let env = environment(&format!(
        "[environments.p]\nurl = \"{}\"\n[environments.p.exposure]\n",
        inside.mcp_url
    ));
    plain.apply_environment("p", &env).unwrap();
    assert_eq!(
        plain.exposure.as_ref().unwrap().paths,
        ["/livez", "/readyz", "/metrics"]
    );
    let r = engine::run(&plain).await;
    assert_eq!(check(&r, "exposure.public").status, Status::Fail);
    assert!(
        r.check("mcp.handshake").is_some() || r.checks.iter().any(|c| c.id.starts_with("mcp."))
    );
}

#[test]
fn bad_exposure_settings_name_the_field() {
    for (text, needle) in [
        (
            "internal_url = \"10.0.4.12:8788\"\n",
            "exposure.internal_url",
        ),
        (
            "internal_paths = [\"metrics\"]\n",
            "exposure.internal_paths",
        ),
        ("internal_paths = []\n", "exposure.internal_paths"),
        ("internal_path = [\"/metrics\"]\n", "internal_path"),
    ] {
        let e = runway_config::Config::parse(
            &format!("[environments.p]\nurl = \"http://127.0.0.1:1/mcp\"\n[environments.p.exposure]\n{text}"),
            Path::new("runway.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(needle), "{needle}: {e}");
    }
}
