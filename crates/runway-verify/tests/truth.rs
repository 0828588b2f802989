//! `runway verify` tells the truth about real servers (issue 8): no false
//! alarms for correct servers, no false passes for faulty ones, and messages
//! that say what is wrong once and in English.
//!
//! Most cases run against `Mini`, a small hand-written session-era MCP
//! server whose switches reproduce what servers built with other frameworks
//! do; the rest against the reference server and its faults.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use runway_core::{CheckResult, Report, Status};
use runway_reference::{EraSupport, Faults, Options};
use runway_verify::{
    CallExpect, Context, SmokeCall, Suite, Transport,
    context::EraChoice,
    engine,
    http::Limits,
    mcp::{self, McpOutcome},
};
use serde_json::{Value, json};

/// A session-era (2025-11-25) MCP server in one function, with switches.
#[derive(Clone)]
struct Mini {
    /// `Some(priming)`: answer every POST as an SSE stream, opening with a
    /// priming event when `priming`.
    sse: Option<bool>,
    /// Malformed JSON gets HTTP 400 with a plain-text body.
    plain_parse_error: bool,
    capabilities: Value,
    /// Methods answered with a JSON-RPC internal error.
    broken: Vec<&'static str>,
    /// `tools/call` answers a JSON-RPC error with this message.
    tool_error: Option<String>,
    tool_delay: Duration,
}

impl Default for Mini {
    fn default() -> Self {
        Mini {
            sse: None,
            plain_parse_error: false,
            capabilities: json!({"tools": {}}),
            broken: Vec::new(),
            tool_error: None,
            tool_delay: Duration::ZERO,
        }
    }
}

fn rpc_error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

fn answer(m: &Mini, status: StatusCode, body: Value) -> Response {
    let mut r = match m.sse {
        Some(priming) => {
            let open = if priming { "id: 0\ndata:\n\n" } else { "" };
            (
                status,
                [(header::CONTENT_TYPE, "text/event-stream")],
                format!("{open}id: 1\nevent: message\ndata: {body}\n\n"),
            )
                .into_response()
        }
        None => (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response(),
    };
    r.headers_mut()
        .insert("mcp-session-id", "mini-session-1".parse().unwrap());
    r
}

async fn mini_handler(
    State(m): State<Arc<Mini>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method != Method::POST {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    if let Some(v) = headers.get("mcp-protocol-version")
        && !matches!(v.to_str().unwrap_or(""), "2025-11-25" | "2025-06-18")
    {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let Ok(msg) = serde_json::from_slice::<Value>(&body) else {
        return if m.plain_parse_error {
            (StatusCode::BAD_REQUEST, "Bad Request").into_response()
        } else {
            answer(
                &m,
                StatusCode::BAD_REQUEST,
                rpc_error(Value::Null, -32700, "parse error"),
            )
        };
    };
    let id = msg.get("id").cloned();
    let Some(name) = msg.get("method").and_then(Value::as_str) else {
        return answer(
            &m,
            StatusCode::BAD_REQUEST,
            rpc_error(id.unwrap_or(Value::Null), -32600, "invalid request"),
        );
    };
    let Some(id) = id else {
        return StatusCode::ACCEPTED.into_response();
    };
    if m.broken.contains(&name) {
        return answer(&m, StatusCode::OK, rpc_error(id, -32603, "internal error"));
    }
    let result = match name {
        "initialize" => json!({
            "protocolVersion": "2025-11-25",
            "capabilities": m.capabilities,
            "serverInfo": {"name": "mini", "version": "1.0.0"},
        }),
        "ping" | "logging/setLevel" | "resources/subscribe" | "resources/unsubscribe" => json!({}),
        "tools/list" => json!({"tools": [{
            "name": "echo",
            "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]},
        }]}),
        "tools/call" => {
            let Some(text) = msg
                .pointer("/params/arguments/message")
                .and_then(Value::as_str)
            else {
                return answer(
                    &m,
                    StatusCode::OK,
                    rpc_error(id, -32602, "`message` must be a string"),
                );
            };
            tokio::time::sleep(m.tool_delay).await;
            if let Some(e) = &m.tool_error {
                return answer(&m, StatusCode::OK, rpc_error(id, -32603, e));
            }
            json!({"content": [{"type": "text", "text": text}]})
        }
        "prompts/list" => json!({"prompts": [{"name": "greet", "arguments": [{"name": "who"}]}]}),
        "resources/list" => json!({"resources": [{"uri": "mini://readme", "name": "readme"}]}),
        "completion/complete" => json!({"completion": {"values": ["world"], "hasMore": false}}),
        _ => {
            return answer(
                &m,
                StatusCode::OK,
                rpc_error(id, -32601, "method not found"),
            );
        }
    };
    answer(
        &m,
        StatusCode::OK,
        json!({"jsonrpc": "2.0", "id": id, "result": result}),
    )
}

/// Serves `router` on 127.0.0.1; the server stops when the test's runtime does.
async fn serve(router: Router) -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(l, router).await;
    });
    addr
}

async fn mini(m: Mini) -> SocketAddr {
    serve(
        Router::new()
            .route("/mcp", axum::routing::any(mini_handler))
            .with_state(Arc::new(m)),
    )
    .await
}

fn ctx(addr: SocketAddr, suite: Suite) -> Context {
    let url = format!("http://{addr}/mcp").parse().unwrap();
    let mut c = Context::new(Transport::Http { url }, None, suite);
    c.limits = Limits {
        timeout: Duration::from_secs(3),
        max_body: 1 << 20,
    };
    c
}

fn echo_call() -> SmokeCall {
    SmokeCall {
        tool: "echo".into(),
        arguments: json!({"message": "hi"}),
        expect: CallExpect::default(),
    }
}

fn check<'a>(checks: &'a [CheckResult], id: &str) -> &'a CheckResult {
    checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check `{id}` in {checks:#?}"))
}

fn failures(r: &Report) -> Vec<&CheckResult> {
    r.checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .collect()
}

#[tokio::test]
async fn a_bare_400_to_malformed_json_is_a_warning_even_in_conformance() {
    let addr = mini(Mini {
        plain_parse_error: true,
        ..Mini::default()
    })
    .await;
    let o = mcp::run(&ctx(addr, Suite::Conformance)).await;
    let parse = check(&o.checks, "mcp.errors.parse");
    assert_eq!(parse.status, Status::Warn, "{parse:#?}");
    assert_eq!(parse.evidence.status, Some(400));
    assert!(parse.hint.is_some());
    // The JSON-RPC error codes themselves are still judged strictly.
    assert_eq!(
        check(&o.checks, "mcp.errors.method_not_found").status,
        Status::Pass
    );
}

#[tokio::test]
async fn a_smoke_call_over_the_tool_budget_fails_unless_its_own_budget_allows_it() {
    let addr = mini(Mini {
        tool_delay: Duration::from_millis(1300),
        ..Mini::default()
    })
    .await;
    let mut c = ctx(addr, Suite::Smoke);
    c.expect.calls = vec![echo_call()];
    let o = mcp::run(&c).await;
    let call = check(&o.checks, "mcp.call.echo");
    assert_eq!(call.status, Status::Fail, "{call:#?}");
    assert!(
        call.message.contains("over the 1000 ms budget"),
        "{}",
        call.message
    );
    assert!(call.hint.as_deref().unwrap().contains("tool_p95_ms"));

    let mut slow_ok = echo_call();
    slow_ok.expect.max_latency = Some(Duration::from_millis(2500));
    c.expect.calls = vec![slow_ok];
    let o = mcp::run(&c).await;
    assert_eq!(check(&o.checks, "mcp.call.echo").status, Status::Pass);
}

#[tokio::test]
async fn a_405_or_501_is_not_mcp_either() {
    for status in [StatusCode::METHOD_NOT_ALLOWED, StatusCode::NOT_IMPLEMENTED] {
        let addr =
            serve(Router::new().route("/mcp", axum::routing::any(move || async move { status })))
                .await;
        let report = engine::run(&ctx(addr, Suite::Smoke)).await;
        let failed = failures(&report);
        assert_eq!(failed.len(), 1, "{status}: {failed:#?}");
        assert!(
            failed[0].message.contains("does not serve MCP"),
            "{}",
            failed[0].message
        );
        let auth = report.check("auth").unwrap();
        assert!(
            auth.message
                .contains(&format!("(HTTP {})", status.as_u16())),
            "{}",
            auth.message
        );
    }
}

#[tokio::test]
async fn a_url_that_does_not_serve_mcp_is_one_failure_and_the_rest_is_skipped() {
    let page = || async {
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Not Found</body></html>",
        )
    };
    let addr = serve(Router::new().fallback(page)).await;
    let report = engine::run(&ctx(addr, Suite::Full)).await;
    let failed = failures(&report);
    assert_eq!(failed.len(), 1, "{failed:#?}");
    let h = failed[0];
    assert_eq!(h.id, "mcp.handshake");
    assert!(h.message.contains("does not serve MCP"), "{}", h.message);
    assert!(h.hint.as_deref().unwrap().contains("path"));
    for g in ["auth", "headers", "cors", "origin", "load", "ratelimit"] {
        let s = report.check(g).unwrap_or_else(|| panic!("no `{g}` skip"));
        assert_eq!(s.status, Status::Skip);
        assert!(
            s.message.contains("does not serve MCP (HTTP 404)"),
            "{}",
            s.message
        );
    }
}

#[tokio::test]
async fn a_closed_port_is_one_failure_that_names_the_address() {
    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = gone.local_addr().unwrap();
    drop(gone);
    let report = engine::run(&ctx(addr, Suite::Full)).await;
    let failed = failures(&report);
    assert_eq!(failed.len(), 1, "{:#?}", report.checks);
    let want = format!("nothing listens on 127.0.0.1:{}", addr.port());
    assert!(failed[0].message.contains(&want), "{}", failed[0].message);
    assert!(
        report
            .checks
            .iter()
            .filter(|c| c.status == Status::Skip)
            .all(|c| c.message.contains(&want))
    );
}

#[tokio::test]
async fn a_redirect_names_its_location() {
    let moved = || async {
        (
            StatusCode::TEMPORARY_REDIRECT,
            [(header::LOCATION, "/mcp/")],
        )
    };
    let addr = serve(Router::new().fallback(moved)).await;
    let report = engine::run(&ctx(addr, Suite::Smoke)).await;
    let h = report.check("mcp.handshake").unwrap();
    // A 307 keeps the POST: clients that follow redirects (the Python SDK,
    // fetch) work, so it is a warning that says so, not a failure (#19).
    assert_eq!(h.status, Status::Warn);
    assert!(
        h.message.contains("redirects (HTTP 307) to `/mcp/`"),
        "{}",
        h.message
    );
    assert!(
        h.message.contains("clients that follow redirects"),
        "{}",
        h.message
    );
    assert!(
        !h.message.contains("do not follow redirects"),
        "{}",
        h.message
    );
    assert!(h.hint.as_deref().unwrap().contains("trailing slash"));
    let auth = report.check("auth").unwrap();
    assert_eq!(auth.status, Status::Skip);
    assert!(auth.message.contains("`/mcp/`"), "{}", auth.message);

    // A 301 turns the POST into a GET in most clients: that one fails.
    let gone = || async {
        (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, "/v2/mcp")],
        )
    };
    let addr = serve(Router::new().fallback(gone)).await;
    let report = engine::run(&ctx(addr, Suite::Smoke)).await;
    let h = report.check("mcp.handshake").unwrap();
    assert_eq!(h.status, Status::Fail);
    assert!(h.message.contains("into a GET"), "{}", h.message);
}

#[tokio::test]
async fn the_deadline_names_run_timeout_and_keeps_the_checks_that_finished() {
    let addr = mini(Mini {
        tool_delay: Duration::from_secs(30),
        ..Mini::default()
    })
    .await;
    let mut c = ctx(addr, Suite::Smoke);
    c.limits.timeout = Duration::from_secs(20);
    c.run_timeout = Duration::from_millis(1500);
    c.expect.calls = vec![echo_call()];
    let started = std::time::Instant::now();
    let report = engine::run(&c).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    let d = report.check("engine.deadline").unwrap();
    assert!(
        d.hint.as_deref().unwrap().contains("`--run-timeout`"),
        "{d:#?}"
    );
    assert!(!d.hint.as_deref().unwrap().contains("`--timeout`"));
    assert_eq!(report.check("mcp.handshake").unwrap().status, Status::Pass);
    assert_eq!(report.check("mcp.tools.list").unwrap().status, Status::Pass);
}

#[tokio::test]
async fn a_multi_line_server_error_is_one_line_with_the_whole_text_in_evidence() {
    let addr = mini(Mini {
        tool_error: Some(
            "Traceback (most recent call last):\n  File \"x.py\"\nValueError: boom".into(),
        ),
        ..Mini::default()
    })
    .await;
    let mut c = ctx(addr, Suite::Smoke);
    c.expect.calls = vec![echo_call()];
    let o = mcp::run(&c).await;
    let call = check(&o.checks, "mcp.call.echo");
    assert_eq!(call.status, Status::Fail);
    assert!(!call.message.contains('\n'), "{}", call.message);
    assert!(
        call.message.contains("ValueError: boom"),
        "{}",
        call.message
    );
    let whole = call.evidence.details["message"].as_str().unwrap();
    assert!(whole.contains("last):\n  File"), "{whole}");
}

#[tokio::test]
async fn a_stream_without_a_priming_event_is_a_warning() {
    let addr = mini(Mini {
        sse: Some(false),
        ..Mini::default()
    })
    .await;
    let o = mcp::run(&ctx(addr, Suite::Conformance)).await;
    let p = check(&o.checks, "mcp.sse.priming");
    assert_eq!(p.status, Status::Warn, "{p:#?}");
    assert!(p.hint.as_deref().unwrap().contains("Last-Event-ID"));

    let addr = mini(Mini {
        sse: Some(true),
        ..Mini::default()
    })
    .await;
    let o = mcp::run(&ctx(addr, Suite::Full)).await;
    assert_eq!(check(&o.checks, "mcp.sse.priming").status, Status::Pass);

    // JSON answers have no stream to prime.
    let addr = mini(Mini::default()).await;
    let o = mcp::run(&ctx(addr, Suite::Full)).await;
    assert_eq!(check(&o.checks, "mcp.sse.priming").status, Status::Skip);
}

#[tokio::test]
async fn declared_capabilities_are_exercised_and_must_work() {
    let addr = mini(Mini {
        capabilities: json!({
            "tools": {},
            "logging": {},
            "completions": {},
            "prompts": {},
            "resources": {"subscribe": true},
        }),
        broken: vec!["logging/setLevel"],
        ..Mini::default()
    })
    .await;
    let o = mcp::run(&ctx(addr, Suite::Full)).await;
    let logging = check(&o.checks, "mcp.logging.set_level");
    assert_eq!(logging.status, Status::Fail, "{logging:#?}");
    assert!(logging.message.contains("-32603"), "{}", logging.message);
    assert_eq!(
        check(&o.checks, "mcp.completion.complete").status,
        Status::Pass
    );
    assert_eq!(
        check(&o.checks, "mcp.resources.subscribe").status,
        Status::Pass
    );

    // Undeclared, they are not called at all (the mini server would answer -32601).
    let addr = mini(Mini::default()).await;
    let o = mcp::run(&ctx(addr, Suite::Full)).await;
    for id in [
        "mcp.logging.set_level",
        "mcp.completion.complete",
        "mcp.resources.subscribe",
    ] {
        let c = check(&o.checks, id);
        assert_eq!(c.status, Status::Skip, "{c:#?}");
        assert!(c.message.contains("does not declare"), "{}", c.message);
    }
}

async fn reference(era: EraSupport) -> runway_reference::Running {
    runway_reference::spawn(Options {
        era,
        faults: Faults::default(),
        // Two eras' worth of anonymous requests would meet the default limit.
        anonymous_rate_limit: None,
        ..Options::default()
    })
    .await
    .unwrap()
}

fn reference_ctx(s: &runway_reference::Running, suite: Suite, era: EraChoice) -> Context {
    let mut c = ctx(s.addr, suite);
    c.era = era;
    c
}

#[tokio::test]
async fn era_stateless_against_a_session_only_server_says_so() {
    let s = reference(EraSupport::SessionOnly).await;
    let o: McpOutcome = mcp::run(&reference_ctx(&s, Suite::Smoke, EraChoice::Stateless)).await;
    s.shutdown().await;
    let h = check(&o.checks, "mcp.handshake");
    assert_eq!(h.status, Status::Fail);
    assert!(
        h.message.contains("only speaks the session era"),
        "{}",
        h.message
    );
    assert!(
        h.hint.as_deref().unwrap().contains("`--era session`"),
        "{h:#?}"
    );
}

#[tokio::test]
async fn auto_verifies_a_dual_era_server_in_both_eras_and_says_which_is_which() {
    let s = reference(EraSupport::Both).await;
    let o = mcp::run(&reference_ctx(&s, Suite::Conformance, EraChoice::Auto)).await;
    assert!(
        matches!(o.era, runway_core::Era::Stateless { .. }),
        "{:?}",
        o.era
    );
    for c in &o.checks {
        assert!(matches!(c.status, Status::Pass | Status::Skip), "{c:#?}");
    }
    for id in [
        "mcp.handshake",
        "mcp.errors.invalid_request",
        "mcp.tools.list",
    ] {
        assert_eq!(check(&o.checks, id).status, Status::Pass, "{id}");
        let session = check(&o.checks, &format!("{id}.session"));
        assert_eq!(session.status, Status::Pass, "{session:#?}");
        assert_eq!(session.evidence.details["era"], "session (2025-11-25)");
    }
    // The session era has sessions to end; the stateless era has none.
    assert_eq!(check(&o.checks, "mcp.session.delete").status, Status::Skip);
    assert_eq!(
        check(&o.checks, "mcp.session.delete.session").status,
        Status::Pass
    );
    // The smoke suite stays in one era.
    let o = mcp::run(&reference_ctx(&s, Suite::Smoke, EraChoice::Auto)).await;
    assert!(o.checks.iter().all(|c| !c.id.ends_with(".session")));
    s.shutdown().await;

    // A stateless-only server is not failed for lacking the session era.
    let s = reference(EraSupport::StatelessOnly).await;
    let o = mcp::run(&reference_ctx(&s, Suite::Full, EraChoice::Auto)).await;
    s.shutdown().await;
    let skip = check(&o.checks, "mcp.handshake.session");
    assert_eq!(skip.status, Status::Skip);
    assert_eq!(
        o.checks
            .iter()
            .filter(|c| c.id.ends_with(".session"))
            .count(),
        1
    );
}
