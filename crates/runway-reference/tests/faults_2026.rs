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
