//! Stdio servers checked as thoroughly as HTTP ones, against a tiny Python
//! server (`fixtures/stdio_server.py`, standard library only) with one flag
//! per misbehaviour: a banner or a log line on stdout, an exit at start-up,
//! garbage instead of MCP, and bad lines that are answered, ignored, or kill
//! the server.

use std::time::{Duration, Instant};

use runway_core::{CheckResult, Status};
use runway_verify::{
    Context, Suite, Transport,
    mcp::{self, McpOutcome},
};

fn fixture() -> String {
    format!(
        "{}/tests/fixtures/stdio_server.py",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn ctx(flags: &[&str], suite: Suite) -> Context {
    let mut args = vec![fixture()];
    args.extend(flags.iter().map(|f| (*f).to_owned()));
    let mut c = Context::new(
        Transport::Stdio {
            program: "python3".into(),
            args,
            env: Vec::new(),
            cwd: None,
        },
        None,
        suite,
    );
    c.limits.timeout = Duration::from_secs(5);
    c
}

async fn run(flags: &[&str], suite: Suite) -> McpOutcome {
    let o = mcp::run(&ctx(flags, suite)).await;
    // Python 3 is what runs the fixture; say so if it is missing.
    if let Some(h) = o.checks.iter().find(|c| c.id == "mcp.handshake")
        && h.message.contains("could not start `python3`")
    {
        panic!(
            "python3 is needed by these tests (Debian `python3`): {}",
            h.message
        );
    }
    o
}

fn check<'a>(o: &'a McpOutcome, id: &str) -> &'a CheckResult {
    o.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check `{id}` in {:#?}", o.checks))
}

#[tokio::test]
async fn a_clean_stdio_server_passes_stdout_hygiene_and_both_raw_error_checks() {
    let o = run(&[], Suite::Full).await;
    assert_eq!(check(&o, "mcp.handshake").status, Status::Pass);
    let s = check(&o, "mcp.stdio.stdout");
    assert_eq!(s.status, Status::Pass, "{}", s.message);
    for (id, code) in [
        ("mcp.errors.parse", "-32700"),
        ("mcp.errors.invalid_request", "-32600"),
    ] {
        let c = check(&o, id);
        assert_eq!(c.status, Status::Pass, "{id}: {}", c.message);
        assert!(c.message.contains(code), "{}", c.message);
    }
    assert_eq!(
        check(&o, "mcp.errors.method_not_found").status,
        Status::Pass
    );
}

#[tokio::test]
async fn a_banner_on_stdout_before_mcp_is_flagged_with_the_line() {
    let o = run(&["--banner"], Suite::Smoke).await;
    // The server still works; the banner is its own failure.
    assert_eq!(check(&o, "mcp.handshake").status, Status::Pass);
    assert_eq!(check(&o, "mcp.tools.list").status, Status::Pass);
    let s = check(&o, "mcp.stdio.stdout");
    assert_eq!(s.status, Status::Fail, "{}", s.message);
    assert!(
        s.message.contains("before its first MCP message"),
        "{}",
        s.message
    );
    assert!(s.message.contains("line 1"), "{}", s.message);
    assert!(
        s.message.contains("Demo MCP server v1.0 starting on stdio"),
        "{}",
        s.message
    );
    assert!(s.hint.as_deref().unwrap_or("").contains("stderr"));
}

#[tokio::test]
async fn a_log_line_between_messages_is_flagged_too() {
    let o = run(&["--log-between"], Suite::Smoke).await;
    let s = check(&o, "mcp.stdio.stdout");
    assert_eq!(s.status, Status::Fail, "{}", s.message);
    assert!(s.message.contains("between MCP messages"), "{}", s.message);
    assert!(s.message.contains("INFO listed 1 tool"), "{}", s.message);
}

#[tokio::test]
async fn a_server_that_exits_at_start_up_shows_its_status_and_stderr() {
    let start = Instant::now();
    let o = run(&["--exit-at-start", "3"], Suite::Smoke).await;
    let h = check(&o, "mcp.handshake");
    assert_eq!(h.status, Status::Fail);
    assert!(h.message.contains("exit status 3"), "{}", h.message);
    assert!(
        h.message.contains("KeyError: 'DATABASE_URL'"),
        "{}",
        h.message
    );
    assert!(!h.message.contains("connection closed"), "{}", h.message);
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn a_server_that_prints_garbage_is_named_at_once_with_the_first_line() {
    let start = Instant::now();
    // The handshake limit is 2 × 5 s; garbage is called out long before.
    let o = run(&["--garbage"], Suite::Smoke).await;
    let h = check(&o, "mcp.handshake");
    assert_eq!(h.status, Status::Fail);
    assert!(h.message.contains("not MCP"), "{}", h.message);
    assert!(
        h.message
            .contains("hello from a program that is not an MCP server (0)"),
        "{}",
        h.message
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn bad_lines_that_kill_the_server_fail_the_error_checks() {
    let o = run(&["--crash-on-bad-line"], Suite::Full).await;
    // One failure names the crash and the probe that caused it; the probe's
    // own check and whatever came after are its consequences (#19).
    let crash = check(&o, "mcp.crash");
    assert_eq!(crash.status, Status::Fail, "{}", crash.message);
    assert!(
        crash.message.contains("`mcp.errors.parse`"),
        "{}",
        crash.message
    );
    assert!(crash.message.contains("exit status 1"), "{}", crash.message);
    assert!(
        crash.message.contains("JSONDecodeError"),
        "{}",
        crash.message
    );
    let p = check(&o, "mcp.errors.parse");
    assert_eq!(p.status, Status::Skip, "{}", p.message);
    assert!(
        p.message.contains("exited with exit status 1"),
        "{}",
        p.message
    );
    let failed: Vec<&str> = o
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(failed, ["mcp.crash"], "{:#?}", o.checks);
}

#[tokio::test]
async fn a_server_that_dies_on_the_discovery_probe_is_restarted_with_initialize() {
    // `--era auto` probes with `server/discover` first; the Python SDK 1.9
    // exits on it. The client restarts the server and falls back (#19).
    let o = run(&["--exit-on-discover"], Suite::Full).await;
    let h = check(&o, "mcp.handshake");
    assert_eq!(h.status, Status::Warn, "{}", h.message);
    assert!(h.message.contains("session (2025-11-25)"), "{}", h.message);
    assert!(
        h.message.contains("restarted with `initialize`"),
        "{}",
        h.message
    );
    assert!(
        h.message.contains("input_value='server/discover'"),
        "{}",
        h.message
    );
    assert!(!h.hint.as_deref().unwrap_or_default().contains("by hand"));
    assert!(
        o.checks.iter().all(|c| c.status != Status::Fail),
        "{:#?}",
        o.checks
    );
    assert_eq!(check(&o, "mcp.tools.list").status, Status::Pass);
}

#[tokio::test]
async fn ignored_bad_lines_warn_and_conformance_fails_an_unanswered_invalid_request() {
    let o = run(&["--ignore-bad-lines"], Suite::Full).await;
    for id in ["mcp.errors.parse", "mcp.errors.invalid_request"] {
        let c = check(&o, id);
        assert_eq!(c.status, Status::Warn, "{id}: {}", c.message);
        assert!(c.message.contains("still answers `ping`"), "{}", c.message);
    }
    // Unparsable input has no id to answer (the official SDKs ignore it); an
    // invalid request with an id is owed an error.
    let o = run(&["--ignore-bad-lines"], Suite::Conformance).await;
    assert_eq!(check(&o, "mcp.errors.parse").status, Status::Warn);
    assert_eq!(check(&o, "mcp.errors.invalid_request").status, Status::Fail);
}

#[tokio::test]
async fn a_wrong_error_code_over_stdio_is_named() {
    let o = run(&["--wrong-codes"], Suite::Full).await;
    let c = check(&o, "mcp.errors.parse");
    assert_eq!(c.status, Status::Warn, "{}", c.message);
    assert!(c.message.contains("-32603"), "{}", c.message);
}

/// A secret the server echoes where the report cuts an excerpt (a tool's
/// text at 256 bytes, the text of a tool error at 200, a stdout line at 200,
/// the call's result in the evidence at 512) is removed before the cut: no
/// piece of it of 8 characters or more reaches the report.
#[tokio::test]
async fn a_secret_straddling_an_excerpt_cut_leaves_no_fragment_in_the_report() {
    let secret = format!("rw-leak-{}", "0123456789abcdef".repeat(5));
    // Five copies back to back from byte 190 to 630: every cut in between
    // (200 and 256 in the text, 512 in the result's JSON) falls inside one.
    let text = format!("{}{} and the rest", "x".repeat(190), secret.repeat(5));
    for tool_error in [false, true] {
        let mut flags = vec!["--say", text.as_str()];
        if tool_error {
            flags.push("--is-error");
        }
        let mut c = ctx(&flags, Suite::Full);
        c.redactor.add(&runway_core::Secret::new(secret.clone()));
        c.expect.calls.push(runway_verify::context::SmokeCall {
            tool: "echo".into(),
            arguments: serde_json::json!({ "text": text }),
            expect: runway_verify::context::CallExpect {
                text_contains: Some("a text the server never says".into()),
                ..Default::default()
            },
        });
        let report = runway_verify::engine::run(&c).await;
        // The cut sites ran: the call failed (on its text, or as a tool error
        // quoting it) and the stdout line was quoted.
        let call = report
            .checks
            .iter()
            .find(|r| r.id.starts_with("mcp.call."))
            .unwrap_or_else(|| panic!("no call check in {:#?}", report.checks));
        assert_eq!(call.status, Status::Fail, "{}", call.message);
        if tool_error {
            assert!(
                call.message.contains("returned isError: xxxxxxxx"),
                "{}",
                call.message
            );
        }
        let stdout = report
            .checks
            .iter()
            .find(|r| r.id == "mcp.stdio.stdout")
            .unwrap();
        assert_eq!(stdout.status, Status::Fail, "{}", stdout.message);
        assert!(stdout.message.contains("xxxxxxxx"), "{}", stdout.message);

        for format in [
            runway_verify::report::Format::Json,
            runway_verify::report::Format::Human,
        ] {
            let out = runway_verify::report::render(&report, format, false, &c.redactor);
            assert!(out.contains("[redacted]"), "nothing was redacted:\n{out}");
            for start in 0..=secret.len() - 8 {
                let piece = &secret[start..start + 8];
                assert!(
                    !out.contains(piece),
                    "`{piece}` (bytes {start}..) of the secret is in the {format:?} report (tool error: {tool_error}):\n{out}"
                );
            }
        }
    }
}

/// A server that dies at start-up is named with its last stderr lines, each
/// cut to 512 bytes: a secret across that cut is redacted whole first.
#[tokio::test]
async fn a_secret_straddling_the_stderr_cut_leaves_no_fragment_in_the_report() {
    let secret = format!("rw-err-{}", "fedcba9876543210".repeat(5));
    let line = format!("{}{} and the rest", "x".repeat(500), secret.repeat(3));
    let mut c = ctx(&["--stderr", &line, "--exit-at-start", "3"], Suite::Smoke);
    c.redactor.add(&runway_core::Secret::new(secret.clone()));
    let report = runway_verify::engine::run(&c).await;
    let h = report
        .checks
        .iter()
        .find(|r| r.id == "mcp.handshake")
        .unwrap();
    assert_eq!(h.status, Status::Fail, "{}", h.message);
    let out = runway_verify::report::render(
        &report,
        runway_verify::report::Format::Json,
        false,
        &c.redactor,
    );
    assert!(out.contains("xxxxxxxx[redacted]"), "{out}");
    for start in 0..=secret.len() - 8 {
        let piece = &secret[start..start + 8];
        assert!(!out.contains(piece), "`{piece}` is in the report:\n{out}");
    }
}
