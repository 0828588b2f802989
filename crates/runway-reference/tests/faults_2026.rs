//! The faults that break a rule of 2026-07-28 (and the session-era rules of
//! #19), each observed over HTTP, and over stdio where the rule applies there.

mod common;

use std::time::Duration;

use common::*;
use runway_reference::{EraSupport, Options};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

async fn list(server: &runway_reference::Running) -> Reply {
    send(stateless(server, 7, "tools/list", json!({})).bearer_auth(TOKEN)).await
}

/// One stateless request over stdio (`serve_io` on a duplex pipe) and its answer.
async fn over_stdio(faults_list: &str, method: &str, params: Value) -> Value {
    over_stdio_all(faults_list, method, params).await.0
}

/// [`over_stdio`], with the messages the server wrote before its answer.
async fn over_stdio_all(faults_list: &str, method: &str, params: Value) -> (Value, Vec<Value>) {
    let (client, server) = tokio::io::duplex(1 << 16);
    let (r, w) = tokio::io::split(server);
    let opts = Options {
        faults: faults(faults_list),
        ..Options::default()
    };
    let task = tokio::spawn(runway_reference::serve_io(opts, r, w));
    let (read, mut write) = tokio::io::split(client);
    let mut read = BufReader::new(read);
    let mut params = params;
    if params.pointer("/_meta").is_none() {
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": STATELESS_VERSION,
            "io.modelcontextprotocol/clientCapabilities": {},
        });
    }
    let line = json!({"jsonrpc": "2.0", "id": 9, "method": method, "params": params}).to_string();
    write
        .write_all(format!("{line}\n").as_bytes())
        .await
        .unwrap();
    let mut before = Vec::new();
    let answer = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let mut l = String::new();
            if read.read_line(&mut l).await.unwrap() == 0 {
                panic!("the server closed stdout");
            }
            let v: Value = serde_json::from_str(&l).unwrap();
            if v["id"] == json!(9) {
                return v;
            }
            before.push(v);
        }
    })
    .await
    .expect("an answer in time");
    // The pipe closes when both halves are gone; the server then ends.
    drop((write, read));
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    (answer, before)
}

#[tokio::test]
async fn no_server_info_meta() {
    let good = start(faults("")).await;
    let r = list(&good).await;
    assert_eq!(r.result()["_meta"][SERVER_INFO]["name"], "runway-reference");
    good.shutdown().await;
    let bad = start(faults("no-server-info-meta")).await;
    assert!(
        list(&bad)
            .await
            .result()
            .pointer("/_meta/io.modelcontextprotocol~1serverInfo")
            .is_none()
    );
    bad.shutdown().await;
    let v = over_stdio("", "tools/list", json!({})).await;
    assert_eq!(
        v["result"]["_meta"][SERVER_INFO]["name"], "runway-reference",
        "{v}"
    );
    let v = over_stdio("no-server-info-meta", "tools/list", json!({})).await;
    assert!(v["result"].get("_meta").is_none(), "{v}");
}

#[tokio::test]
async fn no_result_type() {
    let bad = start(faults("no-result-type")).await;
    assert!(list(&bad).await.result().get("resultType").is_none());
    bad.shutdown().await;
    let v = over_stdio("no-result-type", "tools/list", json!({})).await;
    assert!(v["result"].get("resultType").is_none(), "{v}");
    assert!(v["result"]["tools"].is_array(), "{v}");
}

#[tokio::test]
async fn no_cache_hints() {
    let bad = start(faults("no-cache-hints")).await;
    let r = list(&bad).await;
    assert!(r.result().get("ttlMs").is_none() && r.result().get("cacheScope").is_none());
    bad.shutdown().await;
    let v = over_stdio("no-cache-hints", "server/discover", json!({})).await;
    assert!(v["result"].get("ttlMs").is_none(), "{v}");
}

#[tokio::test]
async fn bad_discover() {
    let bad = start(faults("bad-discover")).await;
    let r = send(stateless(&bad, 3, "server/discover", json!({})).bearer_auth(TOKEN)).await;
    assert!(r.result()["capabilities"].is_array(), "{r:?}");
    assert!(r.result()["supportedVersions"].is_array());
    bad.shutdown().await;
    let v = over_stdio("bad-discover", "server/discover", json!({})).await;
    assert!(v["result"]["capabilities"].is_array(), "{v}");
}

#[tokio::test]
async fn header_mismatch_accepted() {
    let mismatch = |s: &runway_reference::Running| {
        stateless(s, 4, "tools/list", json!({}))
            .bearer_auth(TOKEN)
            .header("mcp-method", "prompts/list")
    };
    let good = start(faults("")).await;
    let r = send(mismatch(&good)).await;
    assert_eq!((r.status, r.error_code()), (400, -32020));
    good.shutdown().await;
    let bad = start(faults("header-mismatch-accepted")).await;
    let r = send(mismatch(&bad)).await;
    assert_eq!(r.status, 200);
    assert!(r.result()["tools"].is_array());
    bad.shutdown().await;
}

fn old_version(v: &str) -> Value {
    json!({"_meta": {
        "io.modelcontextprotocol/protocolVersion": v,
        "io.modelcontextprotocol/clientCapabilities": {},
    }})
}

#[tokio::test]
async fn unsupported_version_accepted() {
    let ask = |s: &runway_reference::Running| {
        post(s, &json!({"jsonrpc": "2.0", "id": 5, "method": "tools/list", "params": old_version("1999-01-01")}))
            .bearer_auth(TOKEN)
            .header("mcp-protocol-version", "1999-01-01")
            .header("mcp-method", "tools/list")
    };
    let good = start(faults("")).await;
    let r = send(ask(&good)).await;
    assert_eq!((r.status, r.error_code()), (400, -32022));
    good.shutdown().await;
    let bad = start(faults("unsupported-version-accepted")).await;
    assert!(send(ask(&bad)).await.result()["tools"].is_array());
    bad.shutdown().await;
    let v = over_stdio("", "tools/list", old_version("1999-01-01")).await;
    assert_eq!(v["error"]["code"], -32022, "{v}");
    let v = over_stdio(
        "unsupported-version-accepted",
        "tools/list",
        old_version("1999-01-01"),
    )
    .await;
    assert!(v["result"]["tools"].is_array(), "{v}");
}

#[tokio::test]
async fn meta_not_validated() {
    let no_caps = json!({"_meta": {"io.modelcontextprotocol/protocolVersion": STATELESS_VERSION}});
    let ask = |s: &runway_reference::Running| {
        post(
            s,
            &json!({"jsonrpc": "2.0", "id": 6, "method": "tools/list", "params": no_caps.clone()}),
        )
        .bearer_auth(TOKEN)
        .header("mcp-protocol-version", STATELESS_VERSION)
        .header("mcp-method", "tools/list")
    };
    let good = start(faults("")).await;
    let r = send(ask(&good)).await;
    assert_eq!((r.status, r.error_code()), (400, -32602));
    good.shutdown().await;
    let bad = start(faults("meta-not-validated")).await;
    assert!(send(ask(&bad)).await.result()["tools"].is_array());
    bad.shutdown().await;
    let v = over_stdio("meta-not-validated", "tools/list", no_caps.clone()).await;
    assert!(v["result"]["tools"].is_array(), "{v}");
}

#[tokio::test]
async fn unknown_method_400() {
    let good = start(faults("")).await;
    let r = send(stateless(&good, 8, "runway/nope", json!({})).bearer_auth(TOKEN)).await;
    assert_eq!((r.status, r.error_code()), (404, -32601));
    good.shutdown().await;
    let bad = start(faults("unknown-method-400")).await;
    let r = send(stateless(&bad, 8, "runway/nope", json!({})).bearer_auth(TOKEN)).await;
    assert_eq!((r.status, r.error_code()), (400, -32601));
    bad.shutdown().await;
}

#[tokio::test]
async fn old_resource_not_found() {
    let missing = json!({"uri": "runway://reference/nope"});
    let good = start(faults("")).await;
    let read = |s: &runway_reference::Running| {
        stateless(s, 2, "resources/read", missing.clone())
            .bearer_auth(TOKEN)
            .header("mcp-name", "runway://reference/nope")
    };
    let r = send(read(&good)).await;
    assert_eq!(r.error_code(), -32602);
    good.shutdown().await;
    let bad = start(faults("old-resource-not-found")).await;
    let r = send(read(&bad)).await;
    assert_eq!(r.error_code(), -32002);
    bad.shutdown().await;
    let v = over_stdio("old-resource-not-found", "resources/read", missing).await;
    assert_eq!(v["error"]["code"], -32002, "{v}");
}

#[tokio::test]
async fn unknown_tool_result() {
    let call = json!({"name": "nope", "arguments": {}});
    let good = start(faults("")).await;
    let r = send(stateless(&good, 2, "tools/call", call.clone()).bearer_auth(TOKEN)).await;
    assert_eq!(r.error_code(), -32602);
    good.shutdown().await;
    let bad = start(faults("unknown-tool-result")).await;
    let r = send(stateless(&bad, 2, "tools/call", call.clone()).bearer_auth(TOKEN)).await;
    assert_eq!(r.result()["isError"], true);
    bad.shutdown().await;
    let v = over_stdio("unknown-tool-result", "tools/call", call).await;
    assert_eq!(v["result"]["isError"], true, "{v}");
}

#[tokio::test]
async fn session_id_echoed() {
    let ask = |s: &runway_reference::Running| {
        stateless(s, 3, "tools/list", json!({}))
            .bearer_auth(TOKEN)
            .header("mcp-session-id", "made-up")
    };
    let only = |faults_list: &str| Options {
        token: Some(TOKEN.into()),
        era: EraSupport::StatelessOnly,
        faults: faults(faults_list),
        ..Options::default()
    };
    let good = start_with(only("")).await;
    let r = send(ask(&good)).await;
    assert_eq!(r.header("mcp-session-id"), None);
    assert!(r.result()["tools"].is_array());
    good.shutdown().await;
    let bad = start_with(only("session-id-echoed")).await;
    assert_eq!(
        send(ask(&bad)).await.header("mcp-session-id").as_deref(),
        Some("made-up")
    );
    bad.shutdown().await;
}

#[tokio::test]
async fn stateless_delete_accepted() {
    let delete = |s: &runway_reference::Running| {
        client()
            .delete(&s.mcp_url)
            .bearer_auth(TOKEN)
            .header("mcp-protocol-version", STATELESS_VERSION)
    };
    let good = start(faults("")).await;
    assert_eq!(delete(&good).send().await.unwrap().status(), 405);
    good.shutdown().await;
    let bad = start(faults("stateless-delete-accepted")).await;
    assert_eq!(delete(&bad).send().await.unwrap().status(), 200);
    bad.shutdown().await;
}

#[tokio::test]
async fn unknown_session_400() {
    let ask = |s: &runway_reference::Running| {
        post(
            s,
            &json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}),
        )
        .bearer_auth(TOKEN)
        .header("mcp-session-id", "runway-unknown")
        .header("mcp-protocol-version", SESSION_VERSION)
    };
    let good = start(faults("")).await;
    assert_eq!(send(ask(&good)).await.status, 404);
    good.shutdown().await;
    let bad = start(faults("unknown-session-400")).await;
    assert_eq!(send(ask(&bad)).await.status, 400);
    bad.shutdown().await;
}

#[tokio::test]
async fn shuffled_tools() {
    let names = |r: Reply| -> Vec<String> {
        r.result()["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let good = start(faults("")).await;
    assert_eq!(names(list(&good).await), names(list(&good).await));
    good.shutdown().await;
    let bad = start(faults("shuffled-tools")).await;
    let (a, b) = (names(list(&bad).await), names(list(&bad).await));
    assert_ne!(a, b);
    assert_eq!(
        a.iter().rev().collect::<Vec<_>>(),
        b.iter().collect::<Vec<_>>()
    );
    bad.shutdown().await;
}

#[tokio::test]
async fn crash_on_unknown_method() {
    let bad = start(faults("crash-on-unknown-method")).await;
    let _ = client()
        .post(&bad.mcp_url)
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", STATELESS_VERSION)
        .header("mcp-method", "runway/nope")
        .body(
            json!({"jsonrpc": "2.0", "id": 1, "method": "runway/nope", "params": old_version(STATELESS_VERSION)})
                .to_string(),
        )
        .send()
        .await;
    // The listener closes: new connections are refused.
    let mut refused = false;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(bad.addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused, "the server still listens after the crash");
    bad.shutdown().await;
}

#[tokio::test]
async fn system_role_prompt() {
    let get = json!({"name": "status"});
    let good = start(faults("")).await;
    let r = send(stateless(&good, 2, "prompts/get", get.clone()).bearer_auth(TOKEN)).await;
    assert_eq!(r.result()["messages"][0]["role"], "user");
    good.shutdown().await;
    let bad = start(faults("system-role-prompt")).await;
    let r = send(stateless(&bad, 2, "prompts/get", get.clone()).bearer_auth(TOKEN)).await;
    assert_eq!(r.result()["messages"][0]["role"], "system");
    bad.shutdown().await;
    let v = over_stdio("system-role-prompt", "prompts/get", get).await;
    assert_eq!(v["result"]["messages"][0]["role"], "system", "{v}");
}

/// The first message of a `subscriptions/listen` stream.
async fn first_on_listen(server: &runway_reference::Running) -> Value {
    let mut resp = stateless(
        server,
        11,
        "subscriptions/listen",
        json!({"notifications": {"toolsListChanged": true}}),
    )
    .bearer_auth(TOKEN)
    .send()
    .await
    .unwrap();
    let mut text = String::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = resp.chunk().await.unwrap() {
            text.push_str(&String::from_utf8_lossy(&chunk));
            if let Some(v) = text
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .find_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
            {
                return v;
            }
        }
        panic!("the stream ended without a message: {text}")
    })
    .await
    .expect("a first message in time")
}

#[tokio::test]
async fn ack_without_subscription_id() {
    let good = start(faults("")).await;
    let ack = first_on_listen(&good).await;
    assert_eq!(
        ack["method"], "notifications/subscriptions/acknowledged",
        "{ack}"
    );
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], 11,
        "{ack}"
    );
    good.shutdown().await;
    let bad = start(faults("ack-without-subscription-id")).await;
    let ack = first_on_listen(&bad).await;
    assert_eq!(
        ack["method"], "notifications/subscriptions/acknowledged",
        "{ack}"
    );
    assert!(
        ack.pointer("/params/_meta/io.modelcontextprotocol~1subscriptionId")
            .is_none(),
        "{ack}"
    );
    bad.shutdown().await;
}

#[tokio::test]
async fn log_without_level() {
    let (good, before) = over_stdio_all("", "tools/list", json!({})).await;
    assert!(good["result"]["tools"].is_array());
    assert!(before.is_empty(), "{before:?}");
    let (_, before) = over_stdio_all("log-without-level", "tools/list", json!({})).await;
    assert!(
        before
            .iter()
            .any(|m| m["method"] == "notifications/message"),
        "{before:?}"
    );
}

#[tokio::test]
async fn input_required_undeclared() {
    let call = json!({"name": "echo", "arguments": {"message": "hi"}});
    let bad = start(faults("input-required-undeclared")).await;
    let r = send(stateless(&bad, 2, "tools/call", call.clone()).bearer_auth(TOKEN)).await;
    assert_eq!(r.result()["resultType"], "input_required");
    assert_eq!(
        r.result()["inputRequests"]["confirm"]["method"],
        "elicitation/create"
    );
    bad.shutdown().await;
    let v = over_stdio("input-required-undeclared", "tools/call", call).await;
    assert_eq!(v["result"]["resultType"], "input_required", "{v}");
}

const ELICITATION: &str = r#"{"elicitation": {"form": {}}}"#;
const TASKS: &str = r#"{"extensions": {"io.modelcontextprotocol/tasks": {}}}"#;

fn caps(json_text: &str) -> Value {
    serde_json::from_str(json_text).unwrap()
}

/// Stateless `_meta` declaring `capabilities`, for the stdio helpers.
fn meta_with(capabilities: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": STATELESS_VERSION,
        "io.modelcontextprotocol/clientCapabilities": capabilities,
    })
}

/// One stateless request declaring `capabilities` (JSON text), with the token.
async fn ask(
    server: &runway_reference::Running,
    id: u64,
    method: &str,
    capabilities: &str,
    params: Value,
) -> Reply {
    send(stateless_with(server, id, method, params, caps(capabilities)).bearer_auth(TOKEN)).await
}

fn confirm_call() -> Value {
    json!({"name": "confirm", "arguments": {"action": "deploy"}})
}

/// `confirm`'s retry of `first` (an `InputRequiredResult`): the answer and
/// the `requestState` echoed as given.
fn confirm_retry(first: &Value) -> Value {
    let mut p = confirm_call();
    p["inputResponses"] = json!({"confirm": {"action": "accept", "content": {"confirm": true}}});
    p["requestState"] = first["requestState"].clone();
    p
}

/// Two rounds of `confirm` declaring elicitation over stdio, on one server
/// (the `requestState` key lives as long as the server): both answers.
async fn confirm_over_stdio(faults_list: &str) -> (Value, Value) {
    let (client, server) = tokio::io::duplex(1 << 16);
    let (r, w) = tokio::io::split(server);
    let opts = Options {
        faults: faults(faults_list),
        ..Options::default()
    };
    let task = tokio::spawn(runway_reference::serve_io(opts, r, w));
    let (read, mut write) = tokio::io::split(client);
    let mut read = BufReader::new(read);
    let mut answers = Vec::new();
    let mut params = confirm_call();
    for id in [1, 2] {
        params["_meta"] = meta_with(caps(ELICITATION));
        let line = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params})
            .to_string();
        write
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let mut l = String::new();
                assert!(read.read_line(&mut l).await.unwrap() > 0, "stdout closed");
                let v: Value = serde_json::from_str(&l).unwrap();
                if v["id"] == json!(id) {
                    return v;
                }
            }
        })
        .await
        .expect("an answer in time");
        params = confirm_retry(&answer["result"]);
        answers.push(answer);
    }
    drop((write, read));
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    let second = answers.pop().unwrap();
    (answers.pop().unwrap(), second)
}

#[tokio::test]
async fn missing_capability_wrong_code() {
    let good = start(faults("")).await;
    let r = send(stateless(&good, 2, "tools/call", confirm_call()).bearer_auth(TOKEN)).await;
    assert_eq!((r.status, r.error_code()), (400, -32021), "{r:?}");
    let m = r.message.as_ref().unwrap();
    assert!(
        m.pointer("/error/data/requiredCapabilities/elicitation")
            .is_some(),
        "{m}"
    );
    good.shutdown().await;
    let bad = start(faults("missing-capability-wrong-code")).await;
    let r = send(stateless(&bad, 2, "tools/call", confirm_call()).bearer_auth(TOKEN)).await;
    assert_eq!(r.error_code(), -32600, "{r:?}");
    bad.shutdown().await;
    let v = over_stdio("", "tools/call", confirm_call()).await;
    assert_eq!(v["error"]["code"], -32021, "{v}");
    let v = over_stdio(
        "missing-capability-wrong-code",
        "tools/call",
        confirm_call(),
    )
    .await;
    assert_eq!(v["error"]["code"], -32600, "{v}");
}

#[tokio::test]
async fn request_state_rejected() {
    let good = start(faults("")).await;
    let first = ask(&good, 2, "tools/call", ELICITATION, confirm_call()).await;
    let irr = first.result().clone();
    assert_eq!(irr["resultType"], "input_required", "{irr}");
    assert_eq!(
        irr["inputRequests"]["confirm"]["method"],
        "elicitation/create"
    );
    let done = ask(&good, 3, "tools/call", ELICITATION, confirm_retry(&irr)).await;
    assert_eq!(done.result()["content"][0]["text"], "confirmed: `deploy`");
    // A state that was altered is refused: it is attacker-controlled input.
    let mut altered = confirm_retry(&irr);
    let s = irr["requestState"].as_str().unwrap();
    altered["requestState"] = json!(format!("{}0", &s[..s.len() - 1]).replace("00", "01"));
    if altered["requestState"] == irr["requestState"] {
        altered["requestState"] = json!(format!("{s}x"));
    }
    assert_eq!(
        ask(&good, 4, "tools/call", ELICITATION, altered)
            .await
            .error_code(),
        -32602
    );
    good.shutdown().await;
    let bad = start(faults("request-state-rejected")).await;
    let irr = ask(&bad, 2, "tools/call", ELICITATION, confirm_call())
        .await
        .result()
        .clone();
    assert_eq!(
        ask(&bad, 3, "tools/call", ELICITATION, confirm_retry(&irr))
            .await
            .error_code(),
        -32602
    );
    bad.shutdown().await;
    let (first, second) = confirm_over_stdio("").await;
    assert_eq!(first["result"]["resultType"], "input_required", "{first}");
    assert_eq!(
        second["result"]["content"][0]["text"], "confirmed: `deploy`",
        "{second}"
    );
    let (_, second) = confirm_over_stdio("request-state-rejected").await;
    assert_eq!(second["error"]["code"], -32602, "{second}");
}

#[tokio::test]
async fn request_state_auth() {
    for (list, served) in [("", false), ("request-state-auth", true)] {
        let server = start(faults(list)).await;
        let irr = send(
            stateless_with(&server, 2, "tools/call", confirm_call(), caps(ELICITATION))
                .bearer_auth(TOKEN),
        )
        .await
        .result()
        .clone();
        // The retry without a token: the state must not stand in for one.
        let r = send(stateless_with(
            &server,
            3,
            "tools/call",
            confirm_retry(&irr),
            caps(ELICITATION),
        ))
        .await;
        if served {
            assert_eq!(r.status, 200, "{r:?}");
            assert_eq!(r.result()["content"][0]["text"], "confirmed: `deploy`");
        } else {
            assert_eq!(r.status, 401, "{r:?}");
        }
        // Without a `requestState`, no token is still 401 either way.
        let plain = send(stateless(&server, 4, "tools/list", json!({}))).await;
        assert_eq!(plain.status, 401, "{list}");
        server.shutdown().await;
    }
}

#[tokio::test]
async fn tasks_capability_unchecked() {
    let get = json!({"taskId": "no-such-task"});
    let good = start(faults("")).await;
    let r = send(stateless(&good, 2, "tasks/get", get.clone()).bearer_auth(TOKEN)).await;
    assert_eq!((r.status, r.error_code()), (400, -32021), "{r:?}");
    let m = r.message.as_ref().unwrap();
    assert!(
        m.pointer("/error/data/requiredCapabilities/extensions/io.modelcontextprotocol~1tasks")
            .is_some(),
        "{m}"
    );
    good.shutdown().await;
    let bad = start(faults("tasks-capability-unchecked")).await;
    let r = send(stateless(&bad, 2, "tasks/get", get.clone()).bearer_auth(TOKEN)).await;
    assert_eq!(r.error_code(), -32602, "{r:?}");
    bad.shutdown().await;
    let v = over_stdio("", "tasks/get", get.clone()).await;
    assert_eq!(v["error"]["code"], -32021, "{v}");
    let v = over_stdio("tasks-capability-unchecked", "tasks/get", get).await;
    assert_eq!(v["error"]["code"], -32602, "{v}");
}

#[tokio::test]
async fn unknown_task_served() {
    let get = json!({"taskId": "no-such-task"});
    let good = start(faults("")).await;
    let discover = send(stateless(&good, 1, "server/discover", json!({})).bearer_auth(TOKEN)).await;
    assert!(
        discover.result()["capabilities"]["extensions"]["io.modelcontextprotocol/tasks"]
            .is_object(),
        "{discover:?}"
    );
    assert_eq!(
        ask(&good, 2, "tasks/get", TASKS, get.clone())
            .await
            .error_code(),
        -32602
    );
    let mut cancel = get.clone();
    cancel["taskId"] = json!("another");
    assert_eq!(
        ask(&good, 3, "tasks/cancel", TASKS, cancel)
            .await
            .error_code(),
        -32602
    );
    good.shutdown().await;
    let bad = start(faults("unknown-task-served")).await;
    let r = ask(&bad, 2, "tasks/get", TASKS, get.clone()).await;
    assert_eq!(r.result()["status"], "working", "{r:?}");
    bad.shutdown().await;
    let mut p = get.clone();
    p["_meta"] = meta_with(caps(TASKS));
    let v = over_stdio("", "tasks/get", p.clone()).await;
    assert_eq!(v["error"]["code"], -32602, "{v}");
    let v = over_stdio("unknown-task-served", "tasks/get", p).await;
    assert_eq!(v["result"]["taskId"], "no-such-task", "{v}");
}

#[tokio::test]
async fn mcp_name_base64_rejected() {
    let read = json!({"uri": "runway://reference/readme"});
    // `=?base64?` + Base64 of the URI: the same name, encoded.
    let encoded = "=?base64?cnVud2F5Oi8vcmVmZXJlbmNlL3JlYWRtZQ==?=";
    for (list, accepted) in [("", true), ("mcp-name-base64-rejected", false)] {
        let server = start(faults(list)).await;
        let r = send(
            stateless(&server, 2, "resources/read", read.clone())
                .header("mcp-name", encoded)
                .bearer_auth(TOKEN),
        )
        .await;
        if accepted {
            assert_eq!(r.status, 200, "{r:?}");
            assert!(r.result()["contents"].is_array());
        } else {
            assert_eq!((r.status, r.error_code()), (400, -32020), "{r:?}");
        }
        // The plain name is accepted either way.
        let plain = send(
            stateless(&server, 3, "resources/read", read.clone())
                .header("mcp-name", "runway://reference/readme")
                .bearer_auth(TOKEN),
        )
        .await;
        assert_eq!(plain.status, 200, "{list}: {plain:?}");
        server.shutdown().await;
    }
}

#[tokio::test]
async fn task_undeclared() {
    let call = json!({"name": "echo", "arguments": {"message": "hi"}});
    let bad = start(faults("task-undeclared")).await;
    let r = send(stateless(&bad, 2, "tools/call", call.clone()).bearer_auth(TOKEN)).await;
    assert_eq!(r.result()["resultType"], "task", "{r:?}");
    assert_eq!(r.result()["status"], "working");
    bad.shutdown().await;
    let v = over_stdio("", "tools/call", call.clone()).await;
    assert_eq!(v["result"]["resultType"], "complete", "{v}");
    let v = over_stdio("task-undeclared", "tools/call", call).await;
    assert_eq!(v["result"]["resultType"], "task", "{v}");
}
