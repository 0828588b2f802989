//! The MCP checks against small hand-written servers that misbehave in ways a
//! real server can: garbage bytes, a reset connection, a hang, the legacy
//! HTTP+SSE transport, a pagination loop. Each must end as a clean failed
//! check with evidence, within the time limit, never a panic or a hang.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Bytes,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use runway_core::{Era, Status};
use runway_verify::{
    Context, Suite, Transport,
    http::Limits,
    mcp::{self, McpOutcome},
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn ctx(addr: SocketAddr, suite: Suite) -> Context {
    let url = format!("http://{addr}/mcp").parse().unwrap();
    let mut c = Context::new(Transport::Http { url }, None, suite);
    c.limits = Limits {
        timeout: Duration::from_millis(800),
        max_body: 64 * 1024,
    };
    c
}

fn check<'a>(o: &'a McpOutcome, id: &str) -> &'a runway_core::CheckResult {
    o.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id} in {:#?}", o.checks))
}

async fn serve(router: Router) -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(l, router).await;
    });
    addr
}

/// A raw TCP server that runs `f` on every accepted connection.
async fn tcp<F, Fut>(f: F) -> SocketAddr
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            f(s).await;
        }
    });
    addr
}

#[tokio::test]
async fn garbage_bytes_fail_the_handshake_with_the_body_as_evidence() {
    let addr = serve(Router::new().route(
        "/mcp",
        post(|| async {
            (
                [(header::CONTENT_TYPE, "application/json")],
                "\u{0}\u{1}garbage{{{",
            )
        }),
    ))
    .await;
    let o = mcp::run(&ctx(addr, Suite::Smoke)).await;
    let h = check(&o, "mcp.handshake");
    assert_eq!(h.status, Status::Fail);
    assert!(
        h.evidence
            .body_excerpt
            .as_deref()
            .unwrap()
            .contains("garbage"),
        "{h:?}"
    );
    assert!(h.hint.is_some());
    assert_eq!(o.era, Era::Unknown);
}

#[tokio::test]
async fn a_reset_connection_and_an_unreachable_host_are_clean_failures() {
    let addr = tcp(|mut s| async move {
        let mut buf = [0u8; 256];
        let _ = s.read(&mut buf).await;
        drop(s); // reset mid-request
    })
    .await;
    let o = mcp::run(&ctx(addr, Suite::Smoke)).await;
    assert_eq!(check(&o, "mcp.handshake").status, Status::Fail);

    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = l.local_addr().unwrap();
    drop(l);
    let o = mcp::run(&ctx(dead, Suite::Full)).await;
    let h = check(&o, "mcp.handshake");
    assert_eq!(h.status, Status::Fail);
    assert!(h.message.contains("no connection"), "{}", h.message);
    assert_eq!(o.checks.len(), 1, "nothing else runs without a connection");
}

#[tokio::test]
async fn a_server_that_never_answers_fails_within_the_time_limit() {
    let addr = tcp(|mut s| async move {
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            // Headers, then a body that drips forever.
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n")
                .await;
            for _ in 0..100 {
                if s.write_all(b": keepalive\n").await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
    })
    .await;
    let start = Instant::now();
    let o = mcp::run(&ctx(addr, Suite::Smoke)).await;
    let h = check(&o, "mcp.handshake");
    assert_eq!(h.status, Status::Fail);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn the_legacy_http_sse_transport_is_detected_and_reported() {
    let addr = serve(Router::new().route(
        "/mcp",
        post(|| async { StatusCode::METHOD_NOT_ALLOWED }).get(|| async {
            (
                [(header::CONTENT_TYPE, "text/event-stream")],
                "event: endpoint\ndata: /messages?session_id=abc\n\n",
            )
        }),
    ))
    .await;
    let o = mcp::run(&ctx(addr, Suite::Smoke)).await;
    assert_eq!(o.era, Era::LegacySse);
    let l = check(&o, "mcp.transport.legacy_sse");
    assert_eq!(l.status, Status::Fail);
    assert!(
        l.message.contains("/messages?session_id=abc"),
        "{}",
        l.message
    );

    // Given a token, an open `GET` stream fails the auth stage (#19).
    let mut c = ctx(addr, Suite::Smoke);
    c.token = Some(runway_core::Secret::new("legacy-token-1"));
    // The MCP stage finds the era the auth stage speaks.
    c.toggles.only = vec!["mcp".into(), "auth".into()];
    let report = runway_verify::engine::run(&c).await;
    let s = report.check("auth.legacy_sse_stream").unwrap();
    assert_eq!(s.status, Status::Fail, "{s:#?}");
    assert!(s.message.contains("opens without a token"), "{}", s.message);
}

/// A minimal session-era server whose `tools/list` cursor loops back to page one.
async fn looping_server() -> SocketAddr {
    async fn handle(headers: HeaderMap, body: Bytes) -> Response {
        let Ok(req) = serde_json::from_slice::<Value>(&body) else {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(
                    json!({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse"}}),
                ),
            )
                .into_response();
        };
        let id = req["id"].clone();
        let reply = |result: Value| axum::Json(json!({"jsonrpc":"2.0","id":id,"result":result}));
        match req["method"].as_str().unwrap_or("") {
            "initialize" => (
                [("mcp-session-id", "s-1")],
                reply(json!({"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"loop","version":"1.0.0"}})),
            )
                .into_response(),
            "notifications/initialized" => StatusCode::ACCEPTED.into_response(),
            "tools/list" => {
                assert_eq!(headers.get("mcp-session-id").unwrap(), "s-1");
                let tool = |n: &str| json!({"name": n, "inputSchema": {"type":"object"}});
                let page = if req["params"]["cursor"] == "p2" {
                    json!({"tools":[tool("b")], "nextCursor": "p1"})
                } else {
                    json!({"tools":[tool("a")], "nextCursor": "p2"})
                };
                reply(page).into_response()
            }
            _ => axum::Json(json!({"jsonrpc":"2.0","id":id,"error":{"code":-32601,"message":"nope"}})).into_response(),
        }
    }
    serve(Router::new().route("/mcp", post(handle))).await
}

#[tokio::test]
async fn a_pagination_loop_is_caught_and_the_session_era_is_reported() {
    let addr = looping_server().await;
    let o = mcp::run(&ctx(addr, Suite::Smoke)).await;
    assert_eq!(
        o.era,
        Era::Session {
            version: "2025-06-18".into()
        }
    );
    assert_eq!(o.server_name.as_deref(), Some("loop"));
    assert_eq!(check(&o, "mcp.handshake").status, Status::Pass);
    let l = check(&o, "mcp.tools.list");
    assert_eq!(l.status, Status::Fail);
    assert!(l.message.contains("loops"), "{}", l.message);
    assert_eq!(check(&o, "mcp.tools.count").status, Status::Skip);
}

fn stdio_ctx(program: &str, args: &[&str]) -> Context {
    let mut c = Context::new(
        Transport::Stdio {
            program: program.into(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env: Vec::new(),
            cwd: None,
        },
        None,
        Suite::Smoke,
    );
    c.limits.timeout = Duration::from_millis(500);
    c
}

#[tokio::test]
async fn a_stdio_program_that_is_not_mcp_fails_within_the_time_limit() {
    let start = Instant::now();
    // `sleep` reads nothing and answers nothing: the bound, not the child, ends the wait.
    let o = mcp::run(&stdio_ctx("sleep", &["30"])).await;
    let h = check(&o, "mcp.handshake");
    assert_eq!(h.status, Status::Fail);
    assert!(h.message.contains("no MCP handshake"), "{}", h.message);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );

    // `echo` prints one non-JSON line and exits.
    let o = mcp::run(&stdio_ctx("echo", &["not json"])).await;
    assert_eq!(check(&o, "mcp.handshake").status, Status::Fail);
}

#[tokio::test]
async fn a_missing_stdio_program_is_named_in_the_failure() {
    let o = mcp::run(&stdio_ctx("/nonexistent/runway-test-server", &[])).await;
    let h = check(&o, "mcp.handshake");
    assert_eq!(h.status, Status::Fail);
    assert!(
        h.message.contains("/nonexistent/runway-test-server"),
        "{}",
        h.message
    );
    assert!(
        mcp::capture_surface(&stdio_ctx("/nonexistent/runway-test-server", &[]))
            .await
            .is_err()
    );
}
