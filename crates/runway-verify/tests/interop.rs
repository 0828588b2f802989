//! Interoperability: the MCP checks against servers nobody here wrote.
//!
//! Peers: the TypeScript reference server `@modelcontextprotocol/server-everything`,
//! a dual-era server on the Python `mcp` 2.x SDK (with and without bearer auth),
//! and a FastMCP server on `mcp` 1.x, over HTTP and stdio. Each assertion is
//! the verdict the peer really earns, found by running it: where a peer breaks
//! a protocol rule, the test asserts that the report says so.
//!
//! `scripts/setup.d/20-interop.sh` installs the peers and exports their paths.
//! Without them these tests fail and say so, unless `RUNWAY_SKIP_INTEROP=1`.

use std::{
    net::{SocketAddr, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use runway_core::{CheckResult, Era, Secret, Status};
use runway_verify::{
    CallExpect, Context, SmokeCall, Suite, Transport,
    context::EraChoice,
    http::Limits,
    mcp::{self, McpOutcome},
};
use serde_json::json;

struct Peers {
    node: String,
    everything: String,
    py2: String,
    py1: String,
    /// `mcp` 1.9.x: its stdio server exits on a method it does not know.
    py19: String,
}

/// The installed peers, `None` when skipping is allowed, a failure otherwise.
fn peers() -> Option<Peers> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (
        get("RUNWAY_INTEROP_NODE"),
        get("RUNWAY_INTEROP_EVERYTHING"),
        get("RUNWAY_INTEROP_PY_MCP2"),
        get("RUNWAY_INTEROP_PY_MCP1"),
        get("RUNWAY_INTEROP_PY_MCP19"),
    ) {
        (Some(node), Some(everything), Some(py2), Some(py1), Some(py19)) => Some(Peers {
            node,
            everything,
            py2,
            py1,
            py19,
        }),
        _ if std::env::var("RUNWAY_SKIP_INTEROP").as_deref() == Ok("1") => {
            eprintln!("interop tests skipped: RUNWAY_SKIP_INTEROP=1");
            None
        }
        _ => panic!(
            "the interop peer servers are not installed: run `scripts/test` (it runs \
             `scripts/setup.d/20-interop.sh` and exports RUNWAY_INTEROP_*), or set \
             RUNWAY_SKIP_INTEROP=1 to skip these tests"
        ),
    }
}

fn script(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/interop")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// A peer server process, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Starts `cmd` (which must listen on `port`) and waits until it accepts connections.
fn start(mut cmd: Command, port: u16) -> Server {
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let child = cmd.spawn().expect("start the peer server");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut server = Server { child, addr };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("the peer server exited early: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "the peer server did not listen on {addr} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

fn python(py: &str, file: &str, port: u16, token_env: Option<(&str, &str)>) -> Server {
    let mut cmd = Command::new(py);
    cmd.arg(script(file)).args(["--port", &port.to_string()]);
    if let Some((var, value)) = token_env {
        cmd.args(["--token-env", var]).env(var, value);
    }
    start(cmd, port)
}

fn everything_http(p: &Peers) -> Server {
    let port = free_port();
    let mut cmd = Command::new(&p.node);
    cmd.arg(&p.everything)
        .arg("streamableHttp")
        .env("PORT", port.to_string());
    start(cmd, port)
}

fn http_ctx(s: &Server, suite: Suite, token: Option<&str>) -> Context {
    let url = format!("http://{}/mcp", s.addr).parse().unwrap();
    let mut c = Context::new(Transport::Http { url }, token.map(Secret::new), suite);
    c.limits = Limits {
        timeout: Duration::from_secs(5),
        max_body: 1 << 20,
    };
    c
}

fn stdio_ctx(program: &str, args: &[&str], suite: Suite) -> Context {
    let mut c = Context::new(
        Transport::Stdio {
            program: program.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env: Vec::new(),
            cwd: None,
        },
        None,
        suite,
    );
    c.limits.timeout = Duration::from_secs(10);
    c
}

/// Smoke calls every Python peer can answer: `echo`, `add` with structured output, `fail`.
fn python_calls() -> Vec<SmokeCall> {
    vec![
        SmokeCall {
            tool: "echo".into(),
            arguments: json!({"message": "hello interop"}),
            expect: CallExpect {
                text_contains: Some("hello interop".into()),
                ..CallExpect::default()
            },
        },
        SmokeCall {
            tool: "add".into(),
            arguments: json!({"a": 2, "b": 3}),
            expect: CallExpect {
                json_at: Some(("/sum".into(), json!(5.0))),
                ..CallExpect::default()
            },
        },
        SmokeCall {
            tool: "fail".into(),
            arguments: json!({}),
            expect: CallExpect {
                not_error: false,
                text_matches: Some("(?i)fail".into()),
                ..CallExpect::default()
            },
        },
    ]
}

fn check<'a>(o: &'a McpOutcome, id: &str) -> &'a CheckResult {
    o.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check `{id}` in {:#?}", o.checks))
}

/// Every check not named in `exceptions` passed or was skipped.
fn all_clean_except(o: &McpOutcome, exceptions: &[(&str, Status)]) {
    // Every unexpected verdict at once, one line each.
    let wrong: Vec<String> = o
        .checks
        .iter()
        .filter(|c| match exceptions.iter().find(|(id, _)| *id == c.id) {
            Some((_, want)) => c.status != *want,
            None => !matches!(c.status, Status::Pass | Status::Skip),
        })
        .map(|c| format!("{} {:?}: {}", c.id, c.status, c.message))
        .collect();
    assert!(
        wrong.is_empty(),
        "unexpected verdicts:\n{}",
        wrong.join("\n")
    );
    for c in &o.checks {
        if matches!(c.status, Status::Warn | Status::Fail) {
            assert!(c.hint.is_some(), "a warn/fail without a hint: {c:#?}");
        }
    }
    for (id, _) in exceptions {
        check(o, id);
    }
}

#[tokio::test]
async fn mcp2_python_server_passes_the_stateless_era_and_auto_finds_its_session_era_bug() {
    let Some(p) = peers() else { return };
    let s = python(&p.py2, "mcp2_server.py", free_port(), None);
    let mut ctx = http_ctx(&s, Suite::Conformance, None);
    ctx.expect.version = Some("2.0.0-interop".into());
    ctx.expect.required_tools = vec!["echo".into(), "add".into()];
    ctx.expect.min_tools = Some(3);
    ctx.expect.calls = python_calls();
    let o = mcp::run(&ctx).await;
    assert_eq!(
        o.era,
        Era::Stateless {
            version: "2026-07-28".into()
        }
    );
    assert_eq!(o.server_name.as_deref(), Some("interop-mcp2"));
    // `--era auto` verifies a dual-era server in both eras: the session era's
    // envelope bug (see the next test) is no longer hidden behind the
    // stateless era, and its SSE answers have no priming event.
    // Both eras: an unknown tool is a tool result (`isError`), not the
    // protocol error -32602 of tools.mdx § Error Handling, and an unknown
    // prompt gets -32603 (stateless) or 0 (session), not -32602 (prompts.mdx
    // § Error Handling, a SHOULD); `conformance` fails both.
    all_clean_except(
        &o,
        &[
            ("mcp.errors.invalid_request.session", Status::Fail),
            ("mcp.sse.priming.session", Status::Warn),
            ("mcp.tools.unknown", Status::Fail),
            ("mcp.prompts.unknown", Status::Fail),
            ("mcp.tools.unknown.session", Status::Fail),
            ("mcp.prompts.unknown.session", Status::Fail),
        ],
    );
    assert_eq!(
        check(&o, "mcp.errors.invalid_request.session")
            .evidence
            .details["era"],
        "session (2025-11-25)"
    );
    assert_eq!(check(&o, "mcp.errors.invalid_request").status, Status::Pass);
    assert_eq!(check(&o, "mcp.call.add").status, Status::Pass);
    assert_eq!(
        check(&o, "mcp.errors.method_not_found").evidence.status,
        Some(404)
    );
    assert_eq!(
        check(&o, "mcp.ping").status,
        Status::Skip,
        "no ping in 2026-07-28"
    );
    assert_eq!(check(&o, "mcp.session.delete").status, Status::Skip);
}

#[tokio::test]
async fn mcp2_python_server_in_the_session_era_answers_an_invalid_request_with_the_wrong_code() {
    let Some(p) = peers() else { return };
    let s = python(&p.py2, "mcp2_server.py", free_port(), None);
    let mut ctx = http_ctx(&s, Suite::Conformance, None);
    ctx.era = EraChoice::Session;
    ctx.expect.calls = python_calls();
    let o = mcp::run(&ctx).await;
    assert_eq!(
        o.era,
        Era::Session {
            version: "2025-11-25".into()
        }
    );
    // Found by running it: the legacy entry validates the envelope with pydantic and
    // answers `{"method": 1}` with -32602 instead of -32600; its SSE answers
    // open without the priming event 2025-11-25 asks for.
    all_clean_except(
        &o,
        &[
            ("mcp.errors.invalid_request", Status::Fail),
            ("mcp.sse.priming", Status::Warn),
            ("mcp.tools.unknown", Status::Fail),
            ("mcp.prompts.unknown", Status::Fail),
        ],
    );
    assert!(
        check(&o, "mcp.errors.invalid_request")
            .message
            .contains("-32602")
    );
    assert_eq!(check(&o, "mcp.session.delete").status, Status::Pass);
    assert_eq!(check(&o, "mcp.ping").status, Status::Pass);
}

#[tokio::test]
async fn mcp2_python_server_with_bearer_auth_needs_the_token() {
    let Some(p) = peers() else { return };
    let token = "interop-token-5f2c9a";
    let s = python(
        &p.py2,
        "mcp2_server.py",
        free_port(),
        Some(("INTEROP_TOKEN", token)),
    );
    let o = mcp::run(&http_ctx(&s, Suite::Smoke, None)).await;
    let h = check(&o, "mcp.handshake");
    assert_eq!(h.status, Status::Fail);
    assert_eq!(h.evidence.status, Some(401), "{h:#?}");
    assert_eq!(o.era, Era::Unknown);

    let mut ctx = http_ctx(&s, Suite::Full, Some(token));
    ctx.expect.calls = python_calls();
    let o = mcp::run(&ctx).await;
    assert!(matches!(o.era, Era::Stateless { .. }), "{:?}", o.era);
    all_clean_except(
        &o,
        &[
            ("mcp.errors.invalid_request.session", Status::Warn),
            ("mcp.sse.priming.session", Status::Warn),
            ("mcp.tools.unknown", Status::Warn),
            ("mcp.prompts.unknown", Status::Warn),
            ("mcp.tools.unknown.session", Status::Warn),
            ("mcp.prompts.unknown.session", Status::Warn),
        ],
    );
    let all = serde_json::to_string(&o.checks).unwrap();
    assert!(!all.contains(token), "the token leaked into the report");
}

#[tokio::test]
async fn fastmcp1_server_speaks_the_session_era_and_breaks_three_error_rules() {
    let Some(p) = peers() else { return };
    let s = python(&p.py1, "fastmcp1_server.py", free_port(), None);
    let mut ctx = http_ctx(&s, Suite::Full, None);
    ctx.expect.calls = python_calls();
    let o = mcp::run(&ctx).await;
    assert!(matches!(o.era, Era::Session { .. }), "{:?}", o.era);
    // Found by running it: malformed JSON and an invalid request get HTTP 400
    // with a JSON-RPC error whose id is `"server-error"` (neither null nor
    // the request's), an unknown method gets -32602 instead of -32601, and
    // SSE answers open without a priming event.
    // It also answers an unknown tool with `isError`, and an unknown prompt
    // and a missing resource with the error code 0 (-32602 and -32002 are
    // what 2025-11-25 asks for).
    let expected = [
        ("mcp.errors.parse", Status::Warn),
        ("mcp.errors.invalid_request", Status::Warn),
        ("mcp.errors.method_not_found", Status::Warn),
        ("mcp.sse.priming", Status::Warn),
        ("mcp.tools.unknown", Status::Warn),
        ("mcp.prompts.unknown", Status::Warn),
        ("mcp.resources.not_found", Status::Warn),
    ];
    all_clean_except(&o, &expected);
    assert!(
        check(&o, "mcp.errors.method_not_found")
            .message
            .contains("-32602")
    );
    assert_eq!(check(&o, "mcp.session.delete").status, Status::Pass);

    assert!(
        check(&o, "mcp.errors.parse")
            .message
            .contains("carries id \"server-error\""),
        "the fault is the id, not a missing body"
    );

    // The conformance suite fails the wrong error code and the wrong ids;
    // the missing priming event stays a warning (a SHOULD).
    let mut ctx = http_ctx(&s, Suite::Conformance, None);
    ctx.expect.calls = python_calls();
    let o = mcp::run(&ctx).await;
    all_clean_except(
        &o,
        &[
            ("mcp.errors.parse", Status::Fail),
            ("mcp.errors.invalid_request", Status::Fail),
            ("mcp.errors.method_not_found", Status::Fail),
            ("mcp.sse.priming", Status::Warn),
            ("mcp.tools.unknown", Status::Fail),
            ("mcp.prompts.unknown", Status::Fail),
            ("mcp.resources.not_found", Status::Fail),
        ],
    );
}

#[tokio::test]
async fn the_typescript_everything_server_keeps_answering_an_ended_session() {
    let Some(p) = peers() else { return };
    let s = everything_http(&p);
    let mut ctx = http_ctx(&s, Suite::Full, None);
    ctx.expect.min_tools = Some(10);
    ctx.expect.required_tools = vec!["echo".into(), "get-sum".into()];
    ctx.expect.calls = vec![SmokeCall {
        tool: "echo".into(),
        arguments: json!({"message": "from runway"}),
        expect: CallExpect {
            text_contains: Some("from runway".into()),
            ..CallExpect::default()
        },
    }];
    let o = mcp::run(&ctx).await;
    assert!(matches!(o.era, Era::Session { .. }), "{:?}", o.era);
    // Found by running it: after DELETE the ended session id gets HTTP 400, not the
    // 404 the session-era transport requires, and `{"method": 1}` is answered as a
    // parse error (-32700) instead of an invalid request (-32600).
    // A session id it never issued gets 400 too, and an unknown tool a
    // tool result (`isError`).
    all_clean_except(
        &o,
        &[
            ("mcp.session.delete", Status::Fail),
            ("mcp.session.unknown", Status::Fail),
            ("mcp.errors.invalid_request", Status::Warn),
            ("mcp.tools.unknown", Status::Warn),
        ],
    );
    let d = check(&o, "mcp.session.delete");
    assert_eq!(d.evidence.status, Some(400), "{d:#?}");
}

#[tokio::test]
async fn stdio_peers_are_verified_in_their_own_era() {
    let Some(p) = peers() else { return };
    let mcp2 = script("mcp2_server.py");
    let mut ctx = stdio_ctx(&p.py2, &[mcp2.as_str(), "--stdio"], Suite::Full);
    ctx.expect.calls = python_calls();
    let o = mcp::run(&ctx).await;
    assert!(matches!(o.era, Era::Stateless { .. }), "{:?}", o.era);
    // Over stdio the Python SDK ignores a bad line (it answers `ping` after it).
    let ignored = [
        ("mcp.errors.parse", Status::Warn),
        ("mcp.errors.invalid_request", Status::Warn),
    ];
    let unknown = [
        ("mcp.tools.unknown", Status::Warn),
        ("mcp.prompts.unknown", Status::Warn),
    ];
    all_clean_except(&o, &[ignored[0], ignored[1], unknown[0], unknown[1]]);
    assert_eq!(check(&o, "mcp.stdio.stdout").status, Status::Pass);

    // mcp 1.x has no `server/discover`: the SDK falls back to `initialize`.
    let fast = script("fastmcp1_server.py");
    let mut ctx = stdio_ctx(&p.py1, &[fast.as_str(), "--stdio"], Suite::Full);
    ctx.expect.calls = python_calls();
    let o = mcp::run(&ctx).await;
    assert!(matches!(o.era, Era::Session { .. }), "{:?}", o.era);
    all_clean_except(
        &o,
        &[
            ("mcp.errors.method_not_found", Status::Warn),
            ("mcp.resources.not_found", Status::Warn),
            ignored[0],
            ignored[1],
            unknown[0],
            unknown[1],
        ],
    );

    let o = mcp::run(&stdio_ctx(
        &p.node,
        &[p.everything.as_str(), "stdio"],
        Suite::Smoke,
    ))
    .await;
    assert!(matches!(o.era, Era::Session { .. }), "{:?}", o.era);
    all_clean_except(&o, &[]);
}

/// `mcp` 1.9.x over stdio fails validation of `server/discover` and exits:
/// under `--era auto` the child is restarted and the session era verified,
/// with no failure the server does not deserve.
#[tokio::test]
async fn an_old_python_sdk_that_dies_on_server_discover_is_verified_in_the_session_era() {
    let Some(p) = peers() else { return };
    let fast = script("fastmcp1_server.py");
    let mut ctx = stdio_ctx(&p.py19, &[fast.as_str(), "--stdio"], Suite::Full);
    ctx.expect.calls = python_calls();
    let o = mcp::run(&ctx).await;
    assert!(matches!(o.era, Era::Session { .. }), "{:?}", o.era);
    let failed: Vec<_> = o
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| format!("{}: {}", c.id, c.message))
        .collect();
    assert!(
        failed.is_empty(),
        "no false failure on mcp 1.9.x: {failed:#?}"
    );
    assert_eq!(check(&o, "mcp.handshake").status, Status::Pass);
    // The probe that killed the child is named, not hidden.
    assert!(
        o.checks
            .iter()
            .all(|c| !c.hint.as_deref().unwrap_or("").contains("by hand")),
        "no hint says to run the command by hand"
    );
}

#[tokio::test]
async fn capture_surface_lists_every_tool_with_its_schemas() {
    let Some(p) = peers() else { return };
    let s = python(&p.py2, "mcp2_server.py", free_port(), None);
    let surface = mcp::capture_surface(&http_ctx(&s, Suite::Smoke, None))
        .await
        .unwrap();
    let names: Vec<&str> = surface.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["add", "echo", "fail"]);
    assert_eq!(surface.server_version.as_deref(), Some("2.0.0-interop"));
    assert!(surface.tool("add").unwrap().output_schema.is_some());
    assert_eq!(surface.tool("echo").unwrap().input_schema["type"], "object");
}

/// `mcp` 1.9.x over HTTP serves `/mcp/` and answers `/mcp` with a 307: the
/// engine follows it (same origin) as the Python SDK does, keeps the
/// redirect as a warning and verifies the server behind it, which is never a
/// green run that verified nothing.
#[tokio::test]
async fn a_same_origin_redirect_is_followed_and_what_is_behind_it_verified() {
    let Some(p) = peers() else { return };
    let s = python(&p.py19, "fastmcp1_server.py", free_port(), None);
    let mut ctx = http_ctx(&s, Suite::Smoke, None);
    ctx.era = runway_verify::EraChoice::Session;
    let report = runway_verify::engine::run(&ctx).await;
    let r = report
        .check("mcp.redirect")
        .expect("the redirect is reported");
    assert_eq!(r.status, Status::Warn, "{r:?}");
    assert!(r.message.contains("followed it to"), "{}", r.message);
    assert!(
        matches!(report.era, Era::Session { .. }),
        "{:?}",
        report.era
    );
    assert_eq!(report.check("mcp.handshake").unwrap().status, Status::Pass);
    assert!(report.summary.passed > 3, "{:?}", report.summary);
}
