//! The routes through `oneshot`: status codes, the JSON API over a seeded
//! ledger, escaping of hostile names, the security headers on every
//! response, bounded bodies and the bearer token on the writes.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use support::*;
use tower::ServiceExt;

struct Got {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Got {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

async fn send(s: &Seeded, req: Request<Body>) -> Got {
    let res = runway_web::app(s.web.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Got {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(s: &Seeded, path: &str) -> Got {
    send(s, Request::get(path).body(Body::empty()).unwrap()).await
}

fn post(path: &str, token: Option<&str>, body: &str) -> Request<Body> {
    let mut r = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    r.body(Body::from(body.to_owned())).unwrap()
}

fn assert_secure(g: &Got, what: &str) {
    let h = |n: &str| {
        g.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no `{n}` header"))
            .to_owned()
    };
    assert!(
        h("content-security-policy").contains("frame-ancestors 'none'"),
        "{what}"
    );
    assert!(
        h("content-security-policy").contains("default-src 'none'"),
        "{what}"
    );
    assert_eq!(h("x-frame-options"), "DENY", "{what}");
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(h("referrer-policy"), "no-referrer", "{what}");
    assert!(
        h("strict-transport-security").contains("max-age=31536000"),
        "{what}"
    );
}

#[tokio::test]
async fn every_route_answers_with_its_status_and_the_security_headers() {
    let s = seeded().await;
    for (path, want, ctype) in [
        ("/", StatusCode::OK, "text/html"),
        ("/status", StatusCode::OK, "text/html"),
        ("/style.css", StatusCode::OK, "text/css"),
        ("/environments/production", StatusCode::OK, "text/html"),
        (
            "/environments/nowhere",
            StatusCode::NOT_FOUND,
            "application/json",
        ),
        ("/api/status", StatusCode::OK, "application/json"),
        ("/api/environments", StatusCode::OK, "application/json"),
        (
            "/api/environments/production/history",
            StatusCode::OK,
            "application/json",
        ),
        (
            "/api/environments/nowhere/history",
            StatusCode::NOT_FOUND,
            "application/json",
        ),
        (
            "/api/environments/production/history?days=0",
            StatusCode::BAD_REQUEST,
            "application/json",
        ),
        (
            "/api/environments/production/history?days=x",
            StatusCode::BAD_REQUEST,
            "",
        ),
        ("/api/incidents", StatusCode::OK, "application/json"),
        ("/api/alerts", StatusCode::OK, "application/json"),
        ("/api/notifiers", StatusCode::OK, "application/json"),
        ("/metrics", StatusCode::OK, "application/openmetrics-text"),
        ("/livez", StatusCode::OK, "application/json"),
        ("/readyz", StatusCode::OK, "application/json"),
        ("/health", StatusCode::OK, "application/json"),
        ("/nope", StatusCode::NOT_FOUND, "application/json"),
        (
            "/api/alerts/alr-1/acknowledge",
            StatusCode::METHOD_NOT_ALLOWED,
            "application/json",
        ),
    ] {
        let g = get(&s, path).await;
        assert_eq!(g.status, want, "{path}: {}", g.body);
        let ct = g
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(ct.starts_with(ctype), "{path}: content type `{ct}`");
        assert_secure(&g, path);
    }
    // A POST to a page (what `runway verify`'s header check sends) is refused with the headers too.
    let g = send(&s, post("/", None, "{}")).await;
    assert_eq!(g.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_secure(&g, "POST /");
}

#[tokio::test]
async fn readyz_waits_for_the_scheduler() {
    let s = seeded().await;
    let web = runway_web::Web::new(s.ledger.clone(), vec!["production".into()]);
    let app = runway_web::app(std::sync::Arc::new(web));
    let res = app
        .clone()
        .oneshot(Request::get("/readyz").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let res = app
        .oneshot(Request::get("/livez").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn api_status_gives_each_environment_its_status_and_open_alerts() {
    let s = seeded().await;
    let j = get(&s, "/api/status").await.json();
    let envs = j["environments"].as_array().unwrap();
    let by = |n: &str| envs.iter().find(|e| e["name"] == n).unwrap().clone();
    assert_eq!(by("production")["status"], "up");
    assert_eq!(by("production")["open_alerts"].as_array().unwrap().len(), 0);
    assert_eq!(by("staging")["status"], "degraded");
    assert_eq!(by("staging")["last_run"]["check"], "mcp.call.search");
    assert_eq!(by("staging")["open_alerts"][0]["id"], "alr-1");
    assert_eq!(by(HOSTILE_ENV)["status"], "down");
    assert_eq!(j["alerts"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn history_holds_ninety_days_of_uptime_the_hourly_latency_and_the_deployments() {
    let s = seeded().await;
    let j = get(&s, "/api/environments/production/history").await.json();
    let days = j["days"].as_array().unwrap();
    assert_eq!(days.len(), 90);
    // Rolled-up days (older than 7) still count: 4 runs a day.
    let old: i64 = days[10]["runs"].as_i64().unwrap();
    assert_eq!(old, 4, "{}", days[10]);
    // The outage 30 days ago: two of that day's runs failed.
    assert!(
        days.iter().any(|d| d["failures"].as_i64().unwrap() >= 2),
        "no outage day in {days:?}"
    );
    let uptime = j["uptime"].as_f64().unwrap();
    assert!(uptime > 0.9 && uptime < 1.0, "{uptime}");
    let latency = j["latency"].as_array().unwrap();
    assert!(latency.len() >= 23, "{}", latency.len());
    for p in latency {
        assert!(p["p95_ms"].as_f64().unwrap() >= p["p50_ms"].as_f64().unwrap());
    }
    // The slow runs (every 50 minutes, +400 ms) lift some hour's p95 above 400 ms.
    assert!(
        latency
            .iter()
            .any(|p| p["p95_ms"].as_f64().unwrap() > 400.0)
    );
    let deps = j["deployments"].as_array().unwrap();
    let versions: Vec<&str> = deps
        .iter()
        .map(|d| d["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["1.5.0", "1.4.0"]);
    assert_eq!(deps[0]["status"], "verified");
    let short = get(&s, "/api/environments/production/history?days=7")
        .await
        .json();
    assert_eq!(short["days"].as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn hostile_names_and_messages_are_escaped_on_both_pages() {
    let s = seeded().await;
    for path in ["/", "/status"] {
        let g = get(&s, path).await;
        assert_eq!(g.status, StatusCode::OK);
        for raw in [
            HOSTILE_ENV,
            HOSTILE_CHECK,
            HOSTILE_MESSAGE,
            HOSTILE_ALERT,
            HOSTILE_TITLE,
        ] {
            assert!(!g.body.contains(raw), "{path} holds `{raw}` unescaped");
        }
        assert!(!g.body.contains("<script"), "{path} holds a <script");
        assert!(!g.body.contains("<iframe"), "{path} holds an <iframe");
        assert!(
            g.body
                .contains("&lt;script&gt;alert(&quot;env&quot;)&lt;/script&gt;"),
            "{path} does not show the environment's name escaped"
        );
    }
    let dash = get(&s, "/").await.body;
    assert!(dash.contains("mcp.call.&lt;img src=x onerror=alert(1)&gt;"));
    assert!(dash.contains("&lt;b onmouseover=alert(2)&gt;rate&lt;/b&gt;"));
    assert!(dash.contains("checkout &lt;iframe src=//x&gt; broken"));
}

#[tokio::test]
async fn the_dashboard_shows_statuses_charts_deployments_alerts_and_the_failing_notifier() {
    let s = seeded().await;
    let b = get(&s, "/").await.body;
    assert_eq!(b.matches(r#"<section class="env""#).count(), 3);
    assert!(b.contains(r#"data-environment="production" data-status="up""#));
    assert!(b.contains(r#"data-environment="staging" data-status="degraded""#));
    assert_eq!(b.matches(r#"<svg class="uptime""#).count(), 3);
    assert_eq!(b.matches(r#"<svg class="latency""#).count(), 3);
    assert_eq!(b.matches(r#"<rect class="day""#).count(), 3 * 90);
    assert!(b.contains("deployed 1.5.0"), "no deployment marker");
    assert!(b.contains(r#"<tr class="notifier failing">"#));
    assert!(b.contains("connect: connection refused"));
    assert!(b.contains("error_rate 0.12"));
    assert!(b.contains("P1"));
}

#[tokio::test]
async fn the_public_status_page_leaves_out_internal_details() {
    let s = seeded().await;
    let b = get(&s, "/status").await.body;
    assert!(b.contains("Acme MCP status"));
    assert!(b.contains("Some systems are down"));
    assert_eq!(b.matches(r#"<svg class="uptime""#).count(), 3);
    for internal in [
        "mcp.call.search",
        "took 900 ms",
        "could not connect",
        "1.5.0",
        "error_rate",
        "oncall",
        "connection refused",
        "checkout",
        "inc-",
        "dep-",
    ] {
        assert!(!b.contains(internal), "/status shows `{internal}`");
    }
    assert!(!b.contains(r#"class="deploy""#));
    assert!(b.contains("1 open incident(s)"));
}

#[tokio::test]
async fn writes_need_the_bearer_token() {
    let s = seeded().await;
    let ack = "/api/alerts/alr-1/acknowledge";
    let g = send(&s, post(ack, None, "{}")).await;
    assert_eq!(g.status, StatusCode::UNAUTHORIZED);
    assert!(g.headers.get(header::WWW_AUTHENTICATE).is_some());
    assert_secure(&g, "401");
    let g = send(&s, post(ack, Some("wrong-token"), "{}")).await;
    assert_eq!(g.status, StatusCode::UNAUTHORIZED);
    assert!(!g.body.contains(TOKEN));
    assert!(s.alerts.open.lock().unwrap()[0].acknowledged_by.is_none());

    let g = send(&s, post(ack, Some(TOKEN), r#"{"by": "<i>alice</i>"}"#)).await;
    assert_eq!(g.status, StatusCode::OK, "{}", g.body);
    assert_eq!(g.json()["alert"]["acknowledged_by"], "<i>alice</i>");
    let dash = get(&s, "/").await.body;
    assert!(dash.contains("acknowledged by &lt;i&gt;alice&lt;/i&gt;"));

    let sil = "/api/alerts/alr-1/silence";
    let g = send(&s, post(sil, Some(TOKEN), r#"{"for": "2h"}"#)).await;
    assert_eq!(g.status, StatusCode::OK, "{}", g.body);
    let until = s.alerts.open.lock().unwrap()[0].silenced_until.unwrap();
    let left = until - chrono::Utc::now();
    assert!(left > chrono::Duration::minutes(119) && left <= chrono::Duration::hours(2));
    for (body, want) in [
        ("{}", StatusCode::BAD_REQUEST),
        (r#"{"for": "forever"}"#, StatusCode::BAD_REQUEST),
        (r#"{"for": "400d"}"#, StatusCode::BAD_REQUEST),
        (r#"{"for": "1h", "extra": 1}"#, StatusCode::BAD_REQUEST),
        ("not json", StatusCode::BAD_REQUEST),
    ] {
        let g = send(&s, post(sil, Some(TOKEN), body)).await;
        assert_eq!(g.status, want, "{body}: {}", g.body);
    }
    let g = send(&s, post("/api/alerts/alr-404/acknowledge", Some(TOKEN), "")).await;
    assert_eq!(g.status, StatusCode::NOT_FOUND);

    // A write from another site is refused even with the token; the same origin passes.
    let mut cross = post(ack, Some(TOKEN), "{}");
    cross
        .headers_mut()
        .insert(header::HOST, "127.0.0.1:8787".parse().unwrap());
    cross
        .headers_mut()
        .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    assert_eq!(send(&s, cross).await.status, StatusCode::FORBIDDEN);
    let mut same = post(ack, Some(TOKEN), "{}");
    same.headers_mut()
        .insert(header::HOST, "127.0.0.1:8787".parse().unwrap());
    same.headers_mut()
        .insert(header::ORIGIN, "http://127.0.0.1:8787".parse().unwrap());
    assert_eq!(send(&s, same).await.status, StatusCode::OK);

    // Without a configured token the writes are off, whatever is sent.
    let open = runway_web::Web::new(s.ledger.clone(), vec![]).with_alerts(s.alerts.clone());
    let res = runway_web::app(std::sync::Arc::new(open))
        .oneshot(post(ack, Some(TOKEN), "{}"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    let s = seeded().await;
    let big = format!(r#"{{"by": "{}"}}"#, "a".repeat(runway_web::MAX_BODY_BYTES));
    let g = send(&s, post("/api/alerts/alr-1/acknowledge", Some(TOKEN), &big)).await;
    assert_eq!(g.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", g.body);
    assert_secure(&g, "413");
}

#[tokio::test]
async fn metrics_expose_statuses_alerts_and_notifiers_and_count_runs() {
    let s = seeded().await;
    let outcome = runway_monitor::Outcome {
        environment: "production".into(),
        at: chrono::Utc::now(),
        ok: false,
        status: runway_monitor::EnvStatus::Down,
        reason: Some(runway_monitor::Reason::Timeout),
        failed_check: Some("mcp.handshake".into()),
        message: Some("timed out".into()),
        latency_ms: 1500.0,
        cert_days: None,
        token_expiry_secs: None,
        summary: Default::default(),
        failed_checks: vec!["mcp.handshake".into()],
        location: None,
    };
    s.web.metrics.observe(&outcome);
    s.web.metrics.observe(&outcome);
    let g = get(&s, "/metrics").await;
    let m = g.body;
    assert!(m.contains(
        r#"runway_monitor_runs_total{environment="production",check="mcp.handshake",outcome="fail",reason="timeout"} 2"#
    ), "{m}");
    assert!(
        m.contains(r#"runway_monitor_run_duration_seconds_count{environment="production"} 2"#),
        "{m}"
    );
    assert!(
        m.contains(r#"runway_environment_status{environment="production",status="down"} 1"#),
        "{m}"
    );
    assert!(
        m.contains(r#"runway_environment_status{environment="production",status="up"} 0"#),
        "{m}"
    );
    assert!(
        m.contains(r#"runway_environment_status{environment="staging",status="degraded"} 1"#),
        "{m}"
    );
    assert!(
        m.contains(r#"runway_notifier_up{notifier="oncall",type="webhook"} 0"#),
        "{m}"
    );
    assert!(
        m.contains(r#"runway_notifier_pending{notifier="oncall",type="webhook"} 2"#),
        "{m}"
    );
    assert!(
        m.contains(r#"runway_notifier_up{notifier="am",type="alertmanager"} 1"#),
        "{m}"
    );
    assert!(
        m.contains(r#"runway_alerts_open{environment="staging",alert="#),
        "{m}"
    );
    assert!(m.trim_end().ends_with("# EOF"));
    // A name with a quote, a backslash or a newline stays inside its label value:
    // Runway's own parser (the one `runway verify` uses) reads every line.
    let mut odd = outcome.clone();
    odd.environment = "quote\"back\\slash\nnewline".into();
    odd.failed_check = Some(HOSTILE_CHECK.into());
    s.web.metrics.observe(&odd);
    let m = get(&s, "/metrics").await.body;
    let e = runway_verify::checks::prometheus::parse(&m);
    assert!(e.errors.is_empty(), "{:?}\n{m}", e.errors);
    assert!(
        m.contains(r#"environment="quote\"back\\slash\nnewline""#),
        "{m}"
    );
}

#[tokio::test]
async fn located_runs_give_an_environment_its_locations_in_the_api_and_on_the_dashboard() {
    let s = seeded().await;
    let run = |location: &str, secs: i64, ok: bool| runway_ledger::MonitorResult {
        environment: "staging".into(),
        at: s.now - chrono::Duration::seconds(secs),
        ok,
        status: if ok { "up" } else { "down" }.into(),
        reason: (!ok).then(|| "connect".to_owned()),
        check_id: (!ok).then(|| "http.health".to_owned()),
        message: (!ok).then(|| "could not connect".to_owned()),
        latency_ms: 12.0,
        location: Some(location.to_owned()),
    };
    for r in [
        run("us-east", 30, false),
        run("us-east", 10, true),
        run("eu-west", 5, false),
    ] {
        s.ledger.record_monitor_result(&r).await.unwrap();
    }
    let j = get(&s, "/api/status").await.json();
    let envs = j["environments"].as_array().unwrap();
    let by = |n: &str| envs.iter().find(|e| e["name"] == n).unwrap().clone();
    let locs = by("staging")["locations"].clone();
    assert_eq!(locs.as_array().map(Vec::len), Some(2), "{locs}");
    assert_eq!(locs[0]["location"], "eu-west");
    assert_eq!(locs[0]["status"], "down");
    assert_eq!(locs[0]["reason"], "connect");
    assert_eq!(locs[0]["check"], "http.health");
    assert_eq!(locs[1]["location"], "us-east");
    assert_eq!(locs[1]["status"], "up");
    assert!(locs[1].get("reason").is_none(), "{locs}");
    // The two locations disagree: the environment is degraded, whichever ran last.
    assert_eq!(by("staging")["status"], "degraded");
    // No located run: no `locations` at all.
    assert!(by("production").get("locations").is_none());
    let page = get(&s, "/").await.body;
    assert!(
        page.contains(r#"data-location="eu-west" data-status="down""#)
            && page.contains(r#"data-location="us-east" data-status="up""#),
        "no per-location table on the dashboard"
    );
    // The environment's own page (the compact dashboard links to it) too.
    let page = get(&s, "/environments/staging").await.body;
    assert!(page.contains(r#"data-location="eu-west" data-status="down""#));
    // The public status page names no locations.
    assert!(!get(&s, "/status").await.body.contains("data-location"));
}
