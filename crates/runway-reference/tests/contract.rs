//! The well-behaved server satisfies every line of `REFERENCE_API.md`.

mod common;

use std::time::Duration;

use common::*;
use runway_reference::{EraSupport, Faults, Options, RateLimit};
use serde_json::{Value, json};

fn assert_security_headers(headers: &reqwest::header::HeaderMap, what: &str) {
    let h = |n: &str| headers.get(n).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(h("x-frame-options").as_deref(), Some("DENY"), "{what}");
    assert_eq!(
        h("x-content-type-options").as_deref(),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        h("content-security-policy").as_deref(),
        Some("default-src 'none'; frame-ancestors 'none'"),
        "{what}"
    );
}

#[tokio::test]
async fn health_livez_and_readyz_answer_with_security_headers() {
    let server = start(Faults::default()).await;
    let resp = get(&server, "/health").await;
    assert_eq!(resp.status(), 200);
    assert_security_headers(resp.headers(), "/health");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"status": "ok", "version": "9.8.7"}));

    let resp = get(&server, "/livez").await;
    assert_eq!(resp.status(), 200);
    let resp = get(&server, "/readyz").await;
    assert_eq!(resp.status(), 200);
    assert_security_headers(resp.headers(), "/readyz");
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"status": "ready"})
    );
    server.shutdown().await;
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_the_three_series() {
    let server = start(Faults::default()).await;
    let mut session = Session::open(&server, Some(TOKEN)).await;
    session.call("tools/list", json!({})).await;
    let resp = get(&server, "/metrics").await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = resp.text().await.unwrap();
    assert!(text.contains("# TYPE mcp_requests_total counter"), "{text}");
    assert!(
        text.contains("mcp_requests_total{method=\"initialize\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("mcp_requests_total{method=\"tools/list\"} 1"),
        "{text}"
    );
    assert!(text.contains("# TYPE mcp_request_duration_seconds histogram"));
    assert!(
        text.contains("mcp_request_duration_seconds_count 3"),
        "{text}"
    );
    assert!(text.contains("# TYPE process_start_time_seconds gauge"));
    // Every sample line is `name{labels} number`.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let value = line.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "bad sample line {line:?}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn protected_resource_metadata_names_the_mcp_url() {
    let server = start(Faults::default()).await;
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let resp = get(&server, path).await;
        assert_eq!(resp.status(), 200, "{path}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(
            body,
            json!({
                "resource": server.mcp_url,
                "authorization_servers": ["https://auth.example.test"],
                "bearer_methods_supported": ["header"],
            })
        );
    }
    server.shutdown().await;
}

fn init_body() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": SESSION_VERSION, "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"}}})
}

#[tokio::test]
async fn auth_refuses_missing_wrong_query_and_session_only_credentials() {
    let server = start(Faults::default()).await;
    let expected = format!(
        "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource\"",
        server.base_url
    );
    let missing = send(post(&server, &init_body())).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.header("www-authenticate"), Some(expected.clone()));
    assert_security_headers(&missing.headers, "401");

    let wrong = send(post(&server, &init_body()).bearer_auth("not-the-token")).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.header("www-authenticate"), Some(expected));

    let in_query = client()
        .post(format!("{}?access_token={TOKEN}", server.mcp_url))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(init_body().to_string());
    assert_eq!(send(in_query).await.status, 401);

    let session = Session::open(&server, Some(TOKEN)).await;
    let no_token = post(
        &server,
        &json!({"jsonrpc": "2.0", "id": 5, "method": "tools/list"}),
    )
    .header("mcp-session-id", &session.id)
    .header("mcp-protocol-version", SESSION_VERSION);
    assert_eq!(send(no_token).await.status, 401);
    server.shutdown().await;
}

#[tokio::test]
async fn session_era_lists_seventeen_tools_five_per_page_and_calls_them() {
    let server = start(Faults::default()).await;
    let mut s = Session::open(&server, Some(TOKEN)).await;

    let first = s.call("tools/list", json!({})).await;
    assert_eq!(first.result()["tools"].as_array().unwrap().len(), 5);
    let tools = s.all_tools(10).await.unwrap();
    assert!(tools.len() >= 17, "{}", tools.len());
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    for name in ["echo", "add", "slow", "fail"] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    for t in &tools {
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
    }
    let add = tools.iter().find(|t| t["name"] == "add").unwrap();
    assert_eq!(add["outputSchema"]["properties"]["sum"]["type"], "number");

    let echo = s.tool("echo", json!({"message": "hi there"})).await;
    assert_eq!(echo.result()["content"][0]["text"], "hi there");
    assert_ne!(echo.result()["isError"], true);

    let sum = s.tool("add", json!({"a": 2, "b": 40})).await;
    assert_eq!(sum.result()["content"][0]["text"], "42");
    assert_eq!(sum.result()["structuredContent"], json!({"sum": 42.0}));

    let started = std::time::Instant::now();
    let slow = s.tool("slow", json!({"ms": 200})).await;
    assert_eq!(slow.result()["content"][0]["text"], "done");
    assert!(started.elapsed() >= Duration::from_millis(200));

    let fail = s.tool("fail", json!({})).await;
    assert_eq!(fail.result()["isError"], true);
    assert!(fail.result()["content"][0]["text"].as_str().unwrap().len() > 3);

    let info = s.call("resources/list", json!({})).await;
    assert!(info.result()["resources"].as_array().unwrap().len() >= 2);
    let prompts = s.call("prompts/list", json!({})).await;
    assert!(prompts.result()["prompts"].as_array().unwrap().len() >= 2);
    server.shutdown().await;
}

#[tokio::test]
async fn initialize_reports_the_configured_version() {
    let server = start(Faults::default()).await;
    let reply = send(post(&server, &init_body()).bearer_auth(TOKEN)).await;
    assert_eq!(reply.result()["serverInfo"]["version"], "9.8.7");
    assert_eq!(reply.result()["serverInfo"]["name"], "runway-reference");
    server.shutdown().await;
}

#[tokio::test]
async fn json_rpc_errors_use_the_right_codes_and_never_5xx() {
    let server = start(Faults::default()).await;
    let malformed = send(
        post(&server, &json!(0))
            .bearer_auth(TOKEN)
            .body("{not json"),
    )
    .await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.error_code(), -32700);

    let invalid = send(post(&server, &json!({"id": 1, "method": "ping"})).bearer_auth(TOKEN)).await;
    assert_eq!(invalid.status, 400);
    assert_eq!(invalid.error_code(), -32600);

    let mut s = Session::open(&server, Some(TOKEN)).await;
    let unknown = s.call("no/such/method", json!({})).await;
    assert!(unknown.status < 500);
    assert_eq!(unknown.error_code(), -32601);

    let bad_args = s.tool("add", json!({"a": "two", "b": 3})).await;
    assert!(bad_args.status < 500);
    assert_eq!(bad_args.error_code(), -32602);
    let too_slow = s.tool("slow", json!({"ms": 60000})).await;
    assert_eq!(too_slow.error_code(), -32602);
    server.shutdown().await;
}

#[tokio::test]
async fn delete_ends_the_session_and_reuse_is_404() {
    let server = start(Faults::default()).await;
    let mut s = Session::open(&server, Some(TOKEN)).await;
    assert_eq!(s.call("ping", json!({})).await.status, 200);
    let deleted = s.delete().await;
    assert!(deleted.status().is_success(), "{}", deleted.status());
    let reused = s.call("tools/list", json!({})).await;
    assert_eq!(reused.status, 404);
    server.shutdown().await;
}

#[tokio::test]
async fn stateless_era_discover_and_tools_work_without_a_session() {
    let server = start(Faults::default()).await;
    let discover =
        send(stateless(&server, 1, "server/discover", json!({})).bearer_auth(TOKEN)).await;
    assert_eq!(discover.status, 200, "{}", discover.text());
    assert!(discover.header("mcp-session-id").is_none());
    let versions = discover.result()["supportedVersions"].as_array().unwrap();
    assert!(versions.contains(&json!(STATELESS_VERSION)), "{versions:?}");
    assert!(versions.contains(&json!(SESSION_VERSION)), "{versions:?}");

    let list = send(stateless(&server, 2, "tools/list", json!({})).bearer_auth(TOKEN)).await;
    assert_eq!(list.status, 200, "{}", list.text());
    assert_eq!(list.result()["tools"].as_array().unwrap().len(), 5);
    assert!(list.result()["nextCursor"].is_string());

    let echo = send(
        stateless(
            &server,
            3,
            "tools/call",
            json!({"name": "echo", "arguments": {"message": "x"}}),
        )
        .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(echo.result()["content"][0]["text"], "x", "{}", echo.text());
    server.shutdown().await;
}

#[tokio::test]
async fn session_only_refuses_discover_and_stateless_only_refuses_initialize() {
    let server = start_with(Options {
        era: EraSupport::SessionOnly,
        ..Options::default()
    })
    .await;
    let discover = send(stateless(&server, 1, "server/discover", json!({}))).await;
    assert_eq!(discover.status, 400, "{}", discover.text());
    assert_eq!(
        discover.error_code(),
        -32022,
        "unsupported protocol version"
    );
    Session::open(&server, None).await;
    server.shutdown().await;

    let server = start_with(Options {
        era: EraSupport::StatelessOnly,
        ..Options::default()
    })
    .await;
    let init = send(post(&server, &init_body())).await;
    assert!(
        init.status >= 400
            || init
                .message
                .as_ref()
                .is_some_and(|m| m.get("error").is_some()),
        "{}",
        init.text()
    );
    let discover = send(stateless(&server, 1, "server/discover", json!({}))).await;
    assert_eq!(discover.status, 200, "{}", discover.text());
    assert_eq!(
        discover.result()["supportedVersions"],
        json!([STATELESS_VERSION])
    );
    server.shutdown().await;
}

#[tokio::test]
async fn origins_are_checked_and_only_allowlisted_ones_echoed() {
    let server = start(Faults::default()).await;
    let own = server.base_url.clone();
    let ok = send(
        post(&server, &init_body())
            .bearer_auth(TOKEN)
            .header("origin", &own),
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("access-control-allow-origin"), Some(own));
    assert_ne!(
        ok.header("access-control-allow-origin").as_deref(),
        Some("*")
    );

    let foreign = send(
        post(&server, &init_body())
            .bearer_auth(TOKEN)
            .header("origin", "https://evil.example"),
    )
    .await;
    assert_eq!(foreign.status, 403);
    assert_eq!(foreign.header("access-control-allow-origin"), None);

    let preflight = client()
        .request(reqwest::Method::OPTIONS, &server.mcp_url)
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let no_origin = send(post(&server, &init_body()).bearer_auth(TOKEN)).await;
    assert_eq!(no_origin.status, 200);
    assert_eq!(no_origin.header("access-control-allow-origin"), None);
    server.shutdown().await;
}

#[tokio::test]
async fn anonymous_traffic_is_rate_limited_before_auth_and_tokens_are_not() {
    let server = start_with(Options {
        token: Some(TOKEN.into()),
        anonymous_rate_limit: Some(RateLimit {
            requests: 5,
            window: Duration::from_secs(30),
        }),
        ..Options::default()
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(send(post(&server, &init_body())).await);
    }
    assert!(statuses[..5].iter().all(|r| r.status == 401));
    let limited = &statuses[7];
    assert_eq!(limited.status, 429);
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    for _ in 0..10 {
        let ok = send(post(&server, &init_body()).bearer_auth(TOKEN)).await;
        assert_eq!(ok.status, 200);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn the_default_budget_is_twenty_per_second() {
    let server = start(Faults::default()).await;
    // Sent concurrently and well over the budget: even if a slow machine spreads
    // the burst over four one-second windows, one of them holds more than 20.
    let burst = (0..100).map(|_| send(post(&server, &init_body())));
    let statuses: Vec<u16> = futures::future::join_all(burst)
        .await
        .iter()
        .map(|r| r.status)
        .collect();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert!(
        limited >= 1,
        "no 429 in 100 anonymous requests: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_wakes_a_sleeping_tool_call() {
    let server = start(Faults::default()).await;
    let s = Session::open(&server, Some(TOKEN)).await;
    let req = s.request(&json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
        "params": {"name": "slow", "arguments": {"ms": 5000}}}));
    let call = tokio::spawn(async move {
        let started = std::time::Instant::now();
        if let Ok(resp) = req.send().await {
            let _ = read_reply(resp).await;
        }
        started.elapsed()
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    server.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    let waited = tokio::time::timeout(TIMEOUT, call).await.unwrap().unwrap();
    assert!(waited < Duration::from_secs(4), "{waited:?}");
}
