//! `runway verify --stdio` against Runway's own reference server run as a
//! child process: the full suite checks what only stdio can get wrong
//! (nothing but MCP on stdout) and sends the malformed lines itself.

use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

#[test]
fn the_reference_server_over_stdio_gets_the_raw_error_checks_and_stdout_hygiene() {
    let bin = assert_cmd::cargo::cargo_bin("runway");
    let out = Command::cargo_bin("runway")
        .unwrap()
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(120))
        .args([
            "verify", "--suite", "full", "--format", "json", "--stdio", "--",
        ])
        .arg(&bin)
        .args(["serve-reference", "--stdio"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let status = |id: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no `{id}` in {report:#}"))["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(status("mcp.stdio.stdout"), "pass", "{report:#}");
    // rmcp answers an invalid request with -32600 and, like the other
    // official SDKs, ignores a line that is not JSON at all.
    assert_eq!(status("mcp.errors.invalid_request"), "pass", "{report:#}");
    assert_eq!(status("mcp.errors.parse"), "warn", "{report:#}");
    assert_eq!(status("mcp.errors.method_not_found"), "pass", "{report:#}");
}
