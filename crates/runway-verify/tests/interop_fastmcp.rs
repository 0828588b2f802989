//! fastmcp 4.2.3, a dual-era server nobody here wrote, over HTTP and stdio
//! (#19): no false failure in either era, every 2026-07-28 rule it keeps is a
//! pass, and what it really breaks is said, each verdict at its level.
//!
//! `scripts/setup.d/20-interop.sh` installs fastmcp into its own venv and
//! exports `RUNWAY_INTEROP_PY_FASTMCP`. Without it these tests fail and say
//! so, unless `RUNWAY_SKIP_INTEROP=1`.

use std::{
    net::{SocketAddr, TcpStream},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use runway_core::{Era, Status};
use runway_verify::{
    Context, Suite, Transport, engine,
    http::Limits,
    mcp::{self, McpOutcome},
};

fn python() -> Option<String> {
    match std::env::var("RUNWAY_INTEROP_PY_FASTMCP") {
        Ok(p) if !p.is_empty() => Some(p),
        _ if std::env::var("RUNWAY_SKIP_INTEROP").as_deref() == Ok("1") => {
            eprintln!("interop tests skipped: RUNWAY_SKIP_INTEROP=1");
            None
        }
        _ => panic!(
            "fastmcp is not installed: run `scripts/setup.d/20-interop.sh` (it exports \
             RUNWAY_INTEROP_PY_FASTMCP), or set RUNWAY_SKIP_INTEROP=1 to skip these tests"
        ),
    }
}

fn script() -> String {
    format!(
        "{}/../../tests/interop/fastmcp_server.py",
        env!("CARGO_MANIFEST_DIR")
    )
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(py: &str) -> (Server, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(py)
        .args([script().as_str(), "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start fastmcp");
    let mut server = Server(child);
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if let Ok(Some(s)) = server.0.try_wait() {
            panic!("fastmcp exited early: {s}");
        }
        assert!(
            Instant::now() < deadline,
            "fastmcp did not listen within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, format!("http://{addr}/mcp"))
}

fn ctx(transport: Transport, suite: Suite) -> Context {
    let mut c = Context::new(transport, None, suite);
    c.limits = Limits {
        timeout: Duration::from_secs(10),
        max_body: 1 << 20,
    };
    c
}

/// Every verdict not named is a pass or a skip; the named ones are as given.
fn only_these(o: &McpOutcome, expected: &[(&str, Status)]) {
    let wrong: Vec<String> = o
        .checks
        .iter()
        .filter(|c| match expected.iter().find(|(id, _)| *id == c.id) {
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
}

fn status(o: &McpOutcome, id: &str) -> Status {
    o.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no `{id}` in {:#?}", o.checks))
        .status
}

#[tokio::test]
async fn fastmcp_over_http_in_both_eras_has_no_false_failure() {
    let Some(py) = python() else { return };
    let (_server, url) = serve(&py);
    let o = mcp::run(&ctx(
        Transport::Http {
            url: url.parse().unwrap(),
        },
        Suite::Full,
    ))
    .await;
    assert!(matches!(o.era, Era::Stateless { .. }), "{:?}", o.era);
    // What it really breaks: an unknown tool is an `isError` result (both
    // eras), and in the session era `{"method": 1}` gets -32602 (not -32600)
    // and SSE answers open without a priming event. All SHOULD-level.
    only_these(
        &o,
        &[
            ("mcp.tools.unknown", Status::Warn),
            ("mcp.tools.unknown.session", Status::Warn),
            ("mcp.errors.invalid_request.session", Status::Warn),
            ("mcp.sse.priming.session", Status::Warn),
        ],
    );
    for id in [
        "mcp.discover.result",
        "mcp.stateless.version",
        "mcp.stateless.meta",
        "mcp.stateless.headers",
        "mcp.stateless.result_type",
        "mcp.stateless.server_info",
        "mcp.stateless.cache",
        "mcp.errors.method_not_found",
        "mcp.prompts.get",
        "mcp.prompts.get.session",
        "mcp.session.unknown.session",
    ] {
        assert_eq!(status(&o, id), Status::Pass, "{id}");
    }

    // The one MUST it breaks: a foreign `Origin` is served (2026-07-28
    // streamable-http.mdx § Security & Endpoint asks for 403).
    let mut c = ctx(
        Transport::Http {
            url: url.parse().unwrap(),
        },
        Suite::Full,
    );
    c.toggles.only = vec!["origin".into()];
    let r = engine::run(&c).await;
    let origin = r.check("origin.foreign").unwrap();
    assert_eq!(origin.status, Status::Fail, "{origin:#?}");
    assert_eq!(origin.evidence.details["kind"], "spec");
}

#[tokio::test]
async fn fastmcp_over_stdio_has_no_false_failure() {
    let Some(py) = python() else { return };
    let o = mcp::run(&ctx(
        Transport::Stdio {
            program: py,
            args: vec![script(), "--stdio".into()],
            env: Vec::new(),
            cwd: None,
        },
        Suite::Full,
    ))
    .await;
    assert!(matches!(o.era, Era::Stateless { .. }), "{:?}", o.era);
    // Over stdio the SDK ignores a bad line (it answers `ping` after it).
    only_these(
        &o,
        &[
            ("mcp.tools.unknown", Status::Warn),
            ("mcp.errors.parse", Status::Warn),
            ("mcp.errors.invalid_request", Status::Warn),
        ],
    );
    for id in [
        "mcp.discover.result",
        "mcp.stateless.version",
        "mcp.stateless.meta",
        "mcp.stdio.stdout",
    ] {
        assert_eq!(status(&o, id), Status::Pass, "{id}");
    }
}
