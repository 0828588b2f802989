//! MCP over byte streams (what `serve_stdio` does with stdin/stdout): initialize,
//! tools/list and a tool call over an in-memory duplex pipe.

use std::time::Duration;

use runway_reference::{Faults, Options};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const TIMEOUT: Duration = Duration::from_secs(10);

struct Peer {
    write: tokio::io::WriteHalf<tokio::io::DuplexStream>,
    read: BufReader<tokio::io::ReadHalf<tokio::io::DuplexStream>>,
}

impl Peer {
    async fn send(&mut self, message: Value) {
        let mut line = message.to_string();
        line.push('\n');
        self.write.write_all(line.as_bytes()).await.unwrap();
    }

    /// The next message with this id, skipping notifications; bounded in time.
    async fn answer(&mut self, id: u64) -> Value {
        tokio::time::timeout(TIMEOUT, async {
            for _ in 0..100 {
                let mut line = String::new();
                let n = self.read.read_line(&mut line).await.unwrap();
                assert!(n > 0, "the server closed stdout");
                let v: Value = serde_json::from_str(&line).unwrap();
                if v["id"] == json!(id) {
                    return v;
                }
            }
            panic!("no answer to request {id} in 100 messages")
        })
        .await
        .expect("no answer in time")
    }
}

fn start(
    opts: Options,
) -> (
    Peer,
    tokio::task::JoinHandle<Result<(), runway_reference::ReferenceError>>,
) {
    let (client, server) = tokio::io::duplex(1 << 16);
    let (server_read, server_write) = tokio::io::split(server);
    let task = tokio::spawn(runway_reference::serve_io(opts, server_read, server_write));
    let (read, write) = tokio::io::split(client);
    (
        Peer {
            write,
            read: BufReader::new(read),
        },
        task,
    )
}

#[tokio::test]
async fn stdio_answers_initialize_tools_list_and_a_call() {
    let (mut peer, task) = start(Options {
        version: "4.5.6".into(),
        ..Options::default()
    });
    peer.send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"}}}),
    )
    .await;
    let init = peer.answer(1).await;
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(init["result"]["serverInfo"]["version"], "4.5.6");
    peer.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;

    peer.send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
        .await;
    let list = peer.answer(2).await;
    assert_eq!(list["result"]["tools"].as_array().unwrap().len(), 5);
    assert!(list["result"]["nextCursor"].is_string());

    peer.send(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "add", "arguments": {"a": 1, "b": 2}}}))
        .await;
    let sum = peer.answer(3).await;
    assert_eq!(sum["result"]["structuredContent"], json!({"sum": 3.0}));

    // Closing stdin ends the server.
    drop(peer);
    let ended = tokio::time::timeout(TIMEOUT, task).await.unwrap().unwrap();
    assert!(ended.is_ok(), "{ended:?}");
}

#[tokio::test]
async fn stdio_applies_faults_too() {
    let (mut peer, _task) = start(Options {
        faults: Faults::parse("wrong-version,few-tools").unwrap(),
        ..Options::default()
    });
    peer.send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"}}}),
    )
    .await;
    let init = peer.answer(1).await;
    assert_eq!(init["result"]["serverInfo"]["version"], "0.0.0-wrong");
    peer.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;
    peer.send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
        .await;
    let list = peer.answer(2).await;
    assert_eq!(list["result"]["tools"].as_array().unwrap().len(), 3);
    assert!(list["result"].get("nextCursor").is_none());
}

#[tokio::test]
async fn stdio_answers_ill_formed_params_with_invalid_params_and_unknown_methods_with_not_found() {
    let (mut peer, _task) = start(Options::default());
    peer.send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"}}}),
    )
    .await;
    peer.answer(1).await;
    peer.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;
    // `tools/call` whose `name` is a number: the params do not decode.
    peer.send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": 42, "arguments": "nope"}}))
        .await;
    let bad = peer.answer(2).await;
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    peer.send(json!({"jsonrpc": "2.0", "id": 3, "method": "no/such/method"}))
        .await;
    let unknown = peer.answer(3).await;
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
}
