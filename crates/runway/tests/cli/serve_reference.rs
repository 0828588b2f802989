//! `runway serve-reference`: flag errors are usage errors, `--stdio` speaks MCP, and
//! HTTP mode says where it listens.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use runway_testkit::Test;
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(10);

#[test]
fn an_unknown_fault_is_a_usage_error_that_lists_the_valid_ones() {
    Test::new()
        .args(["serve-reference", "--faults", "no-auth,nope"])
        .run()
        .code(2)
        .stdout_is_empty()
        .stderr_contains("`nope`")
        .stderr_contains("wrong-token-accepted")
        .stderr_contains("garbage");
}

#[test]
fn a_missing_token_variable_is_a_usage_error() {
    Test::new()
        .args([
            "serve-reference",
            "--token-env",
            "RUNWAY_TEST_SURELY_UNSET_VAR",
        ])
        .env_remove("RUNWAY_TEST_SURELY_UNSET_VAR")
        .run()
        .code(2)
        .stderr_contains("RUNWAY_TEST_SURELY_UNSET_VAR");
}

/// Kills the child (which this test started) if the test fails half-way.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Lines from a child's pipe, read on a thread so every wait can be bounded.
fn lines(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn answer(rx: &mpsc::Receiver<String>, id: u64) -> Value {
    for _ in 0..100 {
        let line = rx
            .recv_timeout(TIMEOUT)
            .expect("no answer on stdout in time");
        let v: Value = serde_json::from_str(&line).expect("stdout carries only JSON-RPC");
        if v["id"] == json!(id) {
            return v;
        }
    }
    panic!("no answer to request {id} in 100 messages")
}

#[test]
fn stdio_answers_initialize_and_tools_list() {
    let mut child = Guard(
        Test::new()
            .into_command()
            .args(["serve-reference", "--stdio", "--faults", "few-tools"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut stdin = child.0.stdin.take().unwrap();
    let out = lines(child.0.stdout.take().unwrap());
    let mut send = |v: Value| writeln!(stdin, "{v}").and_then(|_| stdin.flush()).unwrap();

    send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"}}}),
    );
    let init = answer(&out, 1);
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(init["result"]["serverInfo"]["name"], "runway-reference");

    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}));
    let list = answer(&out, 2);
    assert_eq!(list["result"]["tools"].as_array().unwrap().len(), 3);

    drop(stdin);
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "did not exit after stdin closed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn http_mode_prints_where_it_listens_and_serves_health() {
    let mut child = Guard(
        Test::new()
            .into_command()
            .args(["serve-reference", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let err = lines(child.0.stderr.take().unwrap());
    let line = err.recv_timeout(TIMEOUT).expect("nothing on stderr");
    let url = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let authority = url
        .strip_prefix("http://")
        .and_then(|u| u.strip_suffix("/mcp"))
        .unwrap_or_else(|| panic!("unexpected url {url:?}"));
    assert!(authority.starts_with("127.0.0.1:"), "{authority}");

    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    write!(
        stream,
        "GET /health HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"status\":\"ok\""), "{response}");
}

#[test]
fn version_sets_the_version_the_server_reports() {
    let mut child = Guard(
        Test::new()
            .into_command()
            .args(["serve-reference", "--stdio", "--version", "7.8.9-rc.1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut stdin = child.0.stdin.take().unwrap();
    let out = lines(child.0.stdout.take().unwrap());
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"}}});
    writeln!(stdin, "{init}")
        .and_then(|_| stdin.flush())
        .unwrap();
    let answer = answer(&out, 1);
    assert_eq!(answer["result"]["serverInfo"]["version"], "7.8.9-rc.1");
}
