//! Each fault breaks its own line of the contract, observably over HTTP.

mod common;

use std::time::{Duration, Instant};

use common::*;
use runway_reference::{Faults, Options, RateLimit};
use serde_json::{Value, json};

fn init_body() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": SESSION_VERSION, "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"}}})
}

#[test]
fn every_fault_name_has_a_test_here() {
    let source = concat!(include_str!("faults.rs"), include_str!("faults_2026.rs"));
    for name in Faults::NAMES {
        let test_name = format!("fn {}(", name.replace('-', "_"));
        assert!(
            source.contains(&test_name),
            "no test `{test_name}` for fault `{name}`"
        );
    }
}

#[tokio::test]
async fn no_auth() {
    let server = start(faults("no-auth")).await;
    let reply = send(post(&server, &init_body())).await;
    assert_eq!(reply.status, 200);
    let reply = send(post(&server, &init_body()).bearer_auth("whatever")).await;
    assert_eq!(reply.status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn wrong_token_accepted() {
    let server = start(faults("wrong-token-accepted")).await;
    let wrong = send(post(&server, &init_body()).bearer_auth("not-the-token")).await;
    assert_eq!(wrong.status, 200);
    let missing = send(post(&server, &init_body())).await;
    assert_eq!(missing.status, 401);
    server.shutdown().await;
}

#[tokio::test]
async fn no_www_authenticate() {
    let server = start(faults("no-www-authenticate")).await;
    let reply = send(post(&server, &init_body())).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("www-authenticate"), None);
    server.shutdown().await;
}

#[tokio::test]
async fn token_in_query() {
    let server = start(faults("token-in-query")).await;
    let req = client()
        .post(format!("{}?access_token={TOKEN}", server.mcp_url))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(init_body().to_string());
    assert_eq!(send(req).await.status, 200);
    assert_eq!(send(post(&server, &init_body())).await.status, 401);
    server.shutdown().await;
}

#[tokio::test]
async fn session_without_token() {
    let server = start(faults("session-without-token")).await;
    let session = Session::open(&server, Some(TOKEN)).await;
    let no_token = post(
        &server,
        &json!({"jsonrpc": "2.0", "id": 5, "method": "tools/list"}),
    )
    .header("mcp-session-id", &session.id)
    .header("mcp-protocol-version", SESSION_VERSION);
    let reply = send(no_token).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.result()["tools"].is_array());
    server.shutdown().await;
}

#[tokio::test]
async fn no_prm() {
    let server = start(faults("no-prm")).await;
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        assert_eq!(get(&server, path).await.status(), 404, "{path}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn wrong_version() {
    let server = start(faults("wrong-version")).await;
    let reply = send(post(&server, &init_body()).bearer_auth(TOKEN)).await;
    assert_eq!(reply.result()["serverInfo"]["version"], "0.0.0-wrong");
    let health: Value = get(&server, "/health").await.json().await.unwrap();
    assert_eq!(health["version"], "9.8.7");
    server.shutdown().await;
}

#[tokio::test]
async fn failing_tool() {
    let server = start(faults("failing-tool")).await;
    let mut s = Session::open(&server, Some(TOKEN)).await;
    let echo = s.tool("echo", json!({"message": "hi"})).await;
    assert_eq!(echo.result()["isError"], true);
    let add = s.tool("add", json!({"a": 1, "b": 1})).await;
    assert_ne!(add.result()["isError"], true);
    server.shutdown().await;
}

#[tokio::test]
async fn slow_tool() {
    let server = start(faults("slow-tool=400")).await;
    let mut s = Session::open(&server, Some(TOKEN)).await;
    let started = Instant::now();
    let list = s.call("tools/list", json!({})).await;
    assert!(list.result()["tools"].is_array());
    let listed = started.elapsed();
    let echo = s.tool("echo", json!({"message": "hi"})).await;
    assert_eq!(echo.result()["content"][0]["text"], "hi");
    assert!(started.elapsed() - listed >= Duration::from_millis(400));
    server.shutdown().await;
}

#[tokio::test]
async fn fail_after() {
    let server = start(faults("fail-after=2")).await;
    let mut s = Session::open(&server, Some(TOKEN)).await;
    for _ in 0..2 {
        let echo = s.tool("echo", json!({"message": "hi"})).await;
        assert_eq!(echo.result()["content"][0]["text"], "hi");
    }
    let third = s.tool("echo", json!({"message": "hi"})).await;
    assert_eq!(third.error_code(), -32603);
    let message = third.message.as_ref().unwrap()["error"]["message"].to_string();
    assert!(message.contains("fail-after=2"), "{message}");
    // Listing still works: only traffic to the tools shows the fault.
    let list = s.call("tools/list", json!({})).await;
    assert!(list.result()["tools"].is_array());
    server.shutdown().await;
}

#[tokio::test]
async fn missing_headers() {
    let server = start(faults("missing-headers")).await;
    let resp = get(&server, "/health").await;
    assert_eq!(resp.status(), 200);
    for h in [
        "x-frame-options",
        "x-content-type-options",
        "content-security-policy",
    ] {
        assert!(resp.headers().get(h).is_none(), "{h}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn cors_wildcard() {
    let server = start(faults("cors-wildcard")).await;
    let resp = client()
        .get(format!("{}/health", server.base_url))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    assert_eq!(resp.headers()["access-control-allow-credentials"], "true");
    server.shutdown().await;
}

#[tokio::test]
async fn cors_echo() {
    let server = start(faults("cors-echo")).await;
    let resp = client()
        .get(format!("{}/health", server.base_url))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://evil.example"
    );
    // Only CORS is broken: the Origin check on /mcp still refuses.
    let reply = send(
        post(&server, &init_body())
            .bearer_auth(TOKEN)
            .header("origin", "https://evil.example"),
    )
    .await;
    assert_eq!(reply.status, 403);
    server.shutdown().await;
}

#[tokio::test]
async fn bad_origin_accepted() {
    let server = start(faults("bad-origin-accepted")).await;
    let reply = send(
        post(&server, &init_body())
            .bearer_auth(TOKEN)
            .header("origin", "https://evil.example"),
    )
    .await;
    assert_eq!(reply.status, 200);
    // Only the Origin check is broken: the foreign origin is not echoed.
    assert_eq!(reply.header("access-control-allow-origin"), None);
    server.shutdown().await;
}

#[tokio::test]
async fn no_rate_limit() {
    let server = start_with(Options {
        token: Some(TOKEN.into()),
        anonymous_rate_limit: Some(RateLimit {
            requests: 2,
            window: Duration::from_secs(30),
        }),
        faults: faults("no-rate-limit"),
        ..Options::default()
    })
    .await;
    for _ in 0..10 {
        assert_eq!(send(post(&server, &init_body())).await.status, 401);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn wrong_error_codes() {
    let server = start(faults("wrong-error-codes")).await;
    let malformed = send(
        post(&server, &json!(0))
            .bearer_auth(TOKEN)
            .body("{not json"),
    )
    .await;
    assert_eq!(malformed.status, 500);
    let mut s = Session::open(&server, Some(TOKEN)).await;
    let unknown = s.call("no/such/method", json!({})).await;
    assert_eq!(unknown.error_code(), -32603);
    server.shutdown().await;
}

#[tokio::test]
async fn broken_pagination() {
    let server = start(faults("broken-pagination")).await;
    let mut s = Session::open(&server, Some(TOKEN)).await;
    let first = s.call("tools/list", json!({})).await.result().clone();
    let err = s.all_tools(8).await.unwrap_err();
    assert!(err.contains("still paging"), "{err}");
    // The cursor after the last page leads back to the first page.
    let mut cursor = first["nextCursor"].as_str().unwrap().to_owned();
    let mut pages = Vec::new();
    for _ in 0..4 {
        let page = s.call("tools/list", json!({"cursor": cursor})).await;
        pages.push(page.result()["tools"].clone());
        cursor = page.result()["nextCursor"].as_str().unwrap().to_owned();
    }
    assert_eq!(pages[3], first["tools"]);
    server.shutdown().await;
}

#[tokio::test]
async fn bad_input_schema() {
    let server = start(faults("bad-input-schema")).await;
    let mut s = Session::open(&server, Some(TOKEN)).await;
    let tools = s.all_tools(10).await.unwrap();
    let bad: Vec<&Value> = tools
        .iter()
        .filter(|t| t["inputSchema"]["type"] != "object")
        .collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0]["name"], runway_reference::BAD_SCHEMA_TOOL);
    assert_eq!(bad[0]["inputSchema"]["type"], "strng");
    server.shutdown().await;
}

#[tokio::test]
async fn bad_output() {
    let server = start(faults("bad-output")).await;
    let mut s = Session::open(&server, Some(TOKEN)).await;
    let tools = s.all_tools(10).await.unwrap();
    let add = tools.iter().find(|t| t["name"] == "add").unwrap();
    assert_eq!(add["outputSchema"]["properties"]["sum"]["type"], "number");
    let reply = s.tool("add", json!({"a": 2, "b": 3})).await;
    assert!(!reply.result()["structuredContent"]["sum"].is_number());
    server.shutdown().await;
}

#[tokio::test]
async fn few_tools() {
    let server = start(faults("few-tools")).await;
    let mut s = Session::open(&server, Some(TOKEN)).await;
    let tools = s.all_tools(10).await.unwrap();
    assert_eq!(tools.len(), 3);
    server.shutdown().await;
}

#[tokio::test]
async fn unhealthy() {
    let server = start(faults("unhealthy")).await;
    let resp = get(&server, "/health").await;
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "unhealthy");
    assert_eq!(get(&server, "/readyz").await.status(), 200);
    server.shutdown().await;
}

#[tokio::test]
async fn not_ready() {
    let server = start(faults("not-ready")).await;
    assert_eq!(get(&server, "/readyz").await.status(), 503);
    assert_eq!(get(&server, "/health").await.status(), 200);
    server.shutdown().await;
}

#[tokio::test]
async fn no_metrics() {
    let server = start(faults("no-metrics")).await;
    assert_eq!(get(&server, "/metrics").await.status(), 404);
    server.shutdown().await;
}

#[tokio::test]
async fn bad_metrics() {
    let server = start(faults("bad-metrics")).await;
    let resp = get(&server, "/metrics").await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    let unparseable = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .any(|l| l.rsplit(' ').next().unwrap().parse::<f64>().is_err() || !l.contains(' '));
    assert!(unparseable, "{text}");
    server.shutdown().await;
}

#[tokio::test]
async fn no_session_delete() {
    let server = start(faults("no-session-delete")).await;
    let mut s = Session::open(&server, Some(TOKEN)).await;
    assert!(s.delete().await.status().is_success());
    let reused = s.call("tools/list", json!({})).await;
    assert_eq!(reused.status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn hang() {
    let server = start(faults("hang")).await;
    let mut s = Session::open(&server, Some(TOKEN)).await;
    let list = s.call("tools/list", json!({})).await;
    assert!(list.result()["tools"].is_array());
    let req = s.request(&json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"message": "x"}}}));
    let call = tokio::spawn(async move {
        match req.send().await {
            Ok(resp) => Some(read_reply(resp).await.status),
            Err(_) => None,
        }
    });
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!call.is_finished(), "tools/call was answered");
    // Shutdown ends the hang promptly, and the request gets no JSON-RPC answer.
    let started = Instant::now();
    server.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(4));
    let status = tokio::time::timeout(TIMEOUT, call).await.unwrap().unwrap();
    assert_ne!(status, Some(200));
}

#[tokio::test]
async fn garbage() {
    let server = start(faults("garbage")).await;
    let mut s = Session::open(&server, Some(TOKEN)).await;
    let list = s.call("tools/list", json!({})).await;
    assert_eq!(list.status, 200);
    assert!(list.message.is_none());
    assert!(serde_json::from_slice::<Value>(&list.body).is_err());
    let echo = s.tool("echo", json!({"message": "still fine"})).await;
    assert_eq!(echo.result()["content"][0]["text"], "still fine");
    server.shutdown().await;
}

/// `GET /mcp` as a stateless-era client would send it.
async fn stateless_get(server: &runway_reference::Running) -> reqwest::Response {
    client()
        .get(&server.mcp_url)
        .bearer_auth(TOKEN)
        .header("accept", "text/event-stream")
        .header("mcp-protocol-version", STATELESS_VERSION)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn broken_resource_read() {
    let uri = "runway://reference/readme";
    let good = start(Faults::default()).await;
    let mut s = Session::open(&good, Some(TOKEN)).await;
    let read = s.call("resources/read", json!({"uri": uri})).await;
    assert_eq!(read.result()["contents"][0]["uri"], uri);
    good.shutdown().await;

    let server = start(faults("broken-resource-read")).await;
    let mut s = Session::open(&server, Some(TOKEN)).await;
    let list = s.call("resources/list", json!({})).await;
    assert_eq!(list.result()["resources"][0]["uri"], uri);
    let read = s.call("resources/read", json!({"uri": uri})).await;
    assert_eq!(read.error_code(), -32603);
    server.shutdown().await;
}

#[tokio::test]
async fn broken_resource_templates() {
    let good = start(Faults::default()).await;
    let mut s = Session::open(&good, Some(TOKEN)).await;
    let list = s.call("resources/templates/list", json!({})).await;
    assert_eq!(
        list.result()["resourceTemplates"][0]["uriTemplate"],
        "runway://reference/tools/{name}"
    );
    good.shutdown().await;

    let server = start(faults("broken-resource-templates")).await;
    let mut s = Session::open(&server, Some(TOKEN)).await;
    let list = s.call("resources/templates/list", json!({})).await;
    assert_eq!(list.error_code(), -32603);
    server.shutdown().await;
}

#[tokio::test]
async fn broken_prompt_get() {
    let args = json!({"name": "greeting", "arguments": {"name": "Ada"}});
    let good = start(Faults::default()).await;
    let mut s = Session::open(&good, Some(TOKEN)).await;
    let got = s.call("prompts/get", args.clone()).await;
    assert_eq!(got.result()["messages"][0]["role"], "user");
    good.shutdown().await;

    let server = start(faults("broken-prompt-get")).await;
    let mut s = Session::open(&server, Some(TOKEN)).await;
    let got = s.call("prompts/get", args).await;
    assert_eq!(got.error_code(), -32603);
    server.shutdown().await;
}

#[tokio::test]
async fn bad_annotations() {
    let echo = |tools: Vec<Value>| {
        tools
            .into_iter()
            .find(|t| t["name"] == "echo")
            .expect("echo is listed")
    };
    let good = start(Faults::default()).await;
    let mut s = Session::open(&good, Some(TOKEN)).await;
    assert_eq!(
        echo(s.all_tools(10).await.unwrap())["annotations"]["readOnlyHint"],
        true
    );
    good.shutdown().await;

    let server = start(faults("bad-annotations")).await;
    let mut s = Session::open(&server, Some(TOKEN)).await;
    let tools = s.all_tools(10).await.unwrap();
    assert_eq!(tools.len(), 17);
    assert_eq!(echo(tools)["annotations"]["readOnlyHint"], "yes");
    server.shutdown().await;
}

#[tokio::test]
async fn stateless_get_stream() {
    let good = start(Faults::default()).await;
    assert_eq!(stateless_get(&good).await.status(), 405);
    good.shutdown().await;

    let server = start(faults("stateless-get-stream")).await;
    let resp = stateless_get(&server).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    server.shutdown().await;
}

/// Tokens `user-N` whose bucket is below (`true`) or at least (`false`) `pct`.
fn users(pct: u8, below: bool, n: usize) -> Vec<String> {
    (0..10_000)
        .map(|i| format!("user-{i}"))
        .filter(|t| (runway_reference::token_bucket(t) < pct) == below)
        .take(n)
        .collect()
}

#[tokio::test]
async fn reject_tokens() {
    let refused = users(30, true, 3);
    let accepted = users(30, false, 7);
    let mut opts = Options {
        token: Some(accepted[0].as_str().into()),
        faults: faults("reject-tokens=30"),
        ..Options::default()
    };
    opts.user_tokens = refused
        .iter()
        .chain(&accepted[1..])
        .map(|t| t.as_str().into())
        .collect();
    let server = start_with(opts).await;
    for t in &refused {
        let reply = send(post(&server, &init_body()).bearer_auth(t)).await;
        assert_eq!(reply.status, 401, "{t}");
    }
    for t in &accepted {
        let reply = send(post(&server, &init_body()).bearer_auth(t)).await;
        assert_eq!(reply.status, 200, "{t}");
    }
    // Not a token of this server at all: refused as ever.
    let reply = send(post(&server, &init_body()).bearer_auth("user-nobody")).await;
    assert_eq!(reply.status, 401);
    let text = get(&server, "/metrics").await.text().await.unwrap();
    assert!(
        text.contains("reference_mcp_http_auth_denied_total{reason=\"invalid_token\"} 4\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "http_requests_total{method=\"POST\",path=\"/mcp\",code=\"401\",mcp_method=\"\"} 4\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "http_requests_total{method=\"POST\",path=\"/mcp\",code=\"200\",mcp_method=\"initialize\"} 7\n"
        ),
        "{text}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn flaky_tool() {
    let server = start(faults("flaky-tool=25")).await;
    let mut s = Session::open(&server, Some(TOKEN)).await;
    let mut failed = 0;
    for _ in 0..8 {
        let echo = s.tool("echo", json!({"message": "hi"})).await;
        if echo.status == 500 {
            assert_eq!(echo.error_code(), -32603);
            failed += 1;
        } else {
            assert_eq!(echo.result()["content"][0]["text"], "hi");
        }
    }
    assert_eq!(failed, 2);
    for _ in 0..4 {
        let add = s.tool("add", json!({"a": 1, "b": 1})).await;
        assert_eq!(add.status, 200);
    }
    let text = get(&server, "/metrics").await.text().await.unwrap();
    assert!(
        text.contains(
            "http_requests_total{method=\"POST\",path=\"/mcp\",code=\"500\",mcp_method=\"tools/call\"} 2\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "http_requests_total{method=\"POST\",path=\"/mcp\",code=\"200\",mcp_method=\"tools/call\"} 10\n"
        ),
        "{text}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn slow_method() {
    let server = start(faults("slow-method=tools/list:300")).await;
    let mut s = Session::open(&server, Some(TOKEN)).await;
    let echo = s.tool("echo", json!({"message": "hi"})).await;
    assert_eq!(echo.result()["content"][0]["text"], "hi");
    let started = Instant::now();
    let list = s.call("tools/list", json!({})).await;
    assert!(list.result()["tools"].is_array());
    assert!(started.elapsed() >= Duration::from_millis(300));
    let text = get(&server, "/metrics").await.text().await.unwrap();
    // The slow request is in the 0.5 s bucket of `/mcp`, not the 0.25 s one.
    let bucket = |le: &str| -> u64 {
        let line = format!("http_request_duration_seconds_bucket{{path=\"/mcp\",le=\"{le}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&line))
            .unwrap_or_else(|| panic!("{line} missing from {text}"))
            .parse()
            .unwrap()
    };
    assert_eq!(bucket("0.5") - bucket("0.25"), 1, "{text}");
    server.shutdown().await;
}

/// `log-errors` only changes the output: every request is still answered
/// (the CLI's `deploy_logs` tests read the ERROR lines the process printed).
#[tokio::test]
async fn log_errors() {
    let server = start(faults("log-errors")).await;
    let session = Session::open(&server, Some(TOKEN)).await;
    let list = send(
        post(
            &server,
            &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        )
        .bearer_auth(TOKEN)
        .header("mcp-session-id", &session.id)
        .header("mcp-protocol-version", SESSION_VERSION),
    )
    .await;
    assert_eq!(list.status, 200);
    assert!(
        list.result()["tools"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );
    server.shutdown().await;
}

fn own_rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap()
        / 1024
}

/// `hog-memory=MB` holds that much resident memory while the server runs.
#[tokio::test]
async fn hog_memory() {
    let before = own_rss_mb();
    let server = start(faults("hog-memory=300")).await;
    let during = own_rss_mb();
    assert!(
        during >= before + 250,
        "RSS {before} MiB before, {during} MiB with the fault"
    );
    server.shutdown().await;
}
