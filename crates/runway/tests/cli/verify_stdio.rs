//! `runway verify --stdio` against Runway's own reference server run as a
//! child process: the full suite checks what only stdio can get wrong
//! (nothing but MCP on stdout), sends the malformed lines itself, and
//! exercises resources, templates, prompts and annotations as over HTTP.

use runway_testkit::Test;
use serde_json::Value;

/// `runway verify --suite full --format json` of `runway serve-reference --stdio --faults F`.
fn verify_stdio(faults: &str) -> Value {
    let bin = runway_testkit::runway_bin();
    let out = Test::new()
        .args([
            "verify", "--suite", "full", "--format", "json", "--stdio", "--",
        ])
        .arg(&bin)
        .args(["serve-reference", "--stdio", "--faults", faults])
        .run();
    let text = out.stdout_text();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn status_of(report: &Value, id: &str) -> String {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no `{id}` in {report:#}"))["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn the_reference_server_over_stdio_gets_the_raw_error_checks_and_stdout_hygiene() {
    let report = verify_stdio("");
    let status = |id: &str| status_of(&report, id);
    assert_eq!(status("mcp.stdio.stdout"), "pass", "{report:#}");
    // rmcp answers an invalid request with -32600 and, like the other
    // official SDKs, ignores a line that is not JSON at all.
    assert_eq!(status("mcp.errors.invalid_request"), "pass", "{report:#}");
    assert_eq!(status("mcp.errors.parse"), "warn", "{report:#}");
    assert_eq!(status("mcp.errors.method_not_found"), "pass", "{report:#}");
}

#[test]
fn the_rest_of_the_surface_is_checked_over_stdio_and_each_fault_caught() {
    let checks = [
        ("broken-resource-read", "mcp.resources.read"),
        ("broken-resource-templates", "mcp.resources.templates"),
        ("broken-prompt-get", "mcp.prompts.get"),
        ("bad-annotations", "mcp.tools.annotations"),
    ];
    let good = verify_stdio("");
    for (_, id) in checks {
        assert_eq!(status_of(&good, id), "pass", "{id}: {good:#}");
    }
    assert_eq!(status_of(&good, "mcp.stateless.get"), "skip");
    for (fault, id) in checks {
        let bad = verify_stdio(fault);
        assert_eq!(status_of(&bad, id), "fail", "{fault}: {bad:#}");
    }
}

/// `runway verify --suite conformance` with `--call confirm=…` (a refused
/// retry is a warning outside conformance): a tool that asks for input (a
/// multi-round-trip request of 2026-07-28) on the stateless era.
fn verify_stdio_confirm(faults: &str) -> Value {
    let bin = runway_testkit::runway_bin();
    let out = Test::new()
        .args([
            "verify",
            "--suite",
            "conformance",
            "--era",
            "stateless",
            "--format",
            "json",
            "--call",
            r#"confirm={"action":"deploy"}"#,
            "--stdio",
            "--",
        ])
        .arg(&bin)
        .args(["serve-reference", "--stdio", "--faults", faults])
        .run();
    let text = out.stdout_text();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn the_2026_input_and_tasks_rules_are_checked_over_stdio_through_the_binary() {
    let checks = [
        ("request-state-rejected", "mcp.mrtr.retry"),
        ("tasks-capability-unchecked", "mcp.tasks.capability"),
        ("unknown-task-served", "mcp.tasks.unknown"),
    ];
    let good = verify_stdio_confirm("");
    for id in [
        "mcp.mrtr.input_required",
        "mcp.mrtr.retry",
        "mcp.capability.required",
        "mcp.tasks.capability",
        "mcp.tasks.unknown",
    ] {
        assert_eq!(status_of(&good, id), "pass", "{id}: {good:#}");
    }
    for (fault, id) in checks {
        let bad = verify_stdio_confirm(fault);
        assert_eq!(status_of(&bad, id), "fail", "{fault}: {bad:#}");
    }
}
