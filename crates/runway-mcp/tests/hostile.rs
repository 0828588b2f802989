//! `runway mcp` over HTTP against hostile clients, over real sockets on
//! 127.0.0.1: slow headers are cut at the deadline, a foreign `Host` is
//! refused, malformed JSON and batches get HTTP 400 with a JSON-RPC error,
//! and a plan id cannot be redeemed by another session or connection that
//! claims the same `clientInfo.name` (the ledger is read back: nothing written).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKEN: &str = "hostile-test-token-5f1c0e";
const NAME: &str = "same-agent";
const SESSION_VERSION: &str = "2025-11-25";
const STATELESS_VERSION: &str = "2026-07-28";

async fn server(dir: &std::path::Path, toml: &str, hosts: &[&str]) -> runway_mcp::Running {
    std::fs::write(dir.join("runway.toml"), toml).unwrap();
    runway_mcp::spawn_http(
        runway_mcp::Workspace::at(dir).unwrap(),
        runway_mcp::HttpOptions {
            allowed_hosts: hosts.iter().map(|h| h.to_string()).collect(),
            ..runway_mcp::HttpOptions::loopback(Some(TOKEN.into()))
        },
    )
    .await
    .unwrap()
}

const READ_ONLY: &str = "[project]\nname = \"t\"\n";
const WRITES: &str = "[project]\nname = \"t\"\n[mcp]\nallow_writes = true\n";

/// Reads until the server closes the connection (or `limit` passes): what it
/// sent, and when it closed.
async fn read_to_close(
    mut r: tokio::net::tcp::OwnedReadHalf,
    limit: Duration,
) -> (Vec<u8>, Option<Instant>) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let end = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(end, r.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (got, Some(Instant::now())),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (got, None),
        }
    }
}

/// One raw request on a fresh connection: the status code and the body.
async fn raw(addr: std::net::SocketAddr, request: String) -> (u16, String) {
    let c = TcpStream::connect(addr).await.unwrap();
    let (r, mut w) = c.into_split();
    w.write_all(request.as_bytes()).await.unwrap();
    let (got, closed) = read_to_close(r, Duration::from_secs(10)).await;
    assert!(closed.is_some(), "no answer within 10 s to {request}");
    let text = String::from_utf8_lossy(&got).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn post(host: &str, body: &str, extra: &str) -> String {
    format!(
        "POST /mcp HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_connections_sending_headers_slowly_are_all_closed_at_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(dir.path(), READ_ONLY, &[]).await;
    let started = Instant::now();
    let mut conns = Vec::new();
    for _ in 0..5 {
        let (r, mut w) = TcpStream::connect(s.addr).await.unwrap().into_split();
        let host = s.addr.to_string();
        let dripper = tokio::spawn(async move {
            let head = format!("POST /mcp HTTP/1.1\r\nHost: {host}\r\n");
            if w.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            // One header line a second for at most 20 s: always sending, never done.
            for i in 0..20 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if w.write_all(format!("X-Drip-{i}: 1\r\n").as_bytes())
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
        conns.push((
            tokio::spawn(read_to_close(r, Duration::from_secs(20))),
            dripper,
        ));
    }
    // Meanwhile a normal client is served.
    let (status, _) = raw(
        s.addr,
        format!(
            "GET /health HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            s.addr
        ),
    )
    .await;
    assert_eq!(status, 200);
    for (reader, dripper) in conns {
        let (got, closed) = reader.await.unwrap();
        let closed = closed.expect("a slow connection was still open 20 s later");
        let took = closed - started;
        assert!(
            took >= Duration::from_millis(4500) && took < Duration::from_secs(9),
            "a slow connection was closed after {took:?}, expected at the 5 s header deadline"
        );
        let text = String::from_utf8_lossy(&got);
        assert!(
            !text.contains(" 200 "),
            "the slow request was served: {text}"
        );
        dripper.abort();
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_host_is_refused_on_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(dir.path(), READ_ONLY, &["mcp.example.com"]).await;
    let port = s.addr.port();
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": SESSION_VERSION, "capabilities": {},
        "clientInfo": {"name": NAME, "version": "1"}}})
    .to_string();
    for host in [
        "evil.example".to_owned(),
        format!("evil.example:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
    ] {
        let (status, body) = raw(s.addr, post(&host, &ping, "")).await;
        assert_eq!(status, 403, "POST /mcp with Host {host}: {body}");
        assert!(!body.contains("serverInfo"), "{body}");
        let (status, _) = raw(
            s.addr,
            format!("GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert_eq!(status, 403, "GET /health with Host {host}");
    }
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "mcp.example.com".to_owned(),
    ] {
        let (status, body) = raw(s.addr, post(&host, &ping, "")).await;
        assert_eq!(status, 200, "Host {host}: {body}");
        assert!(body.contains("serverInfo"), "{body}");
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_and_a_batch_are_400_with_a_json_rpc_error_in_both_eras() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(dir.path(), READ_ONLY, &[]).await;
    let host = s.addr.to_string();
    let one = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {}});
    let batch = json!([one, one]).to_string();
    for era in [
        format!("MCP-Protocol-Version: {SESSION_VERSION}\r\n"),
        format!("MCP-Protocol-Version: {STATELESS_VERSION}\r\nMcp-Method: tools/list\r\n"),
    ] {
        for (body, code) in [
            ("{\"jsonrpc\": \"2.0\", \"id\": ".to_owned(), -32700),
            ("not json at all".to_owned(), -32700),
            (batch.clone(), -32600),
            (
                json!({"jsonrpc": "1.0", "id": 4, "method": "ping"}).to_string(),
                -32600,
            ),
        ] {
            let (status, answer) = raw(s.addr, post(&host, &body, &era)).await;
            assert_eq!(status, 400, "{body} ({era}): {answer}");
            let v: Value = serde_json::from_str(&answer)
                .unwrap_or_else(|e| panic!("not a JSON-RPC body ({e}): {answer}"));
            assert_eq!(v["jsonrpc"], "2.0", "{answer}");
            assert_eq!(v["error"]["code"], code, "{body}: {answer}");
            assert!(v["error"]["message"].is_string(), "{answer}");
        }
    }
    s.shutdown().await;
}

/// A raw MCP client on its own connection pool (one connection, kept alive).
struct Raw {
    http: reqwest::Client,
    url: String,
    session: Option<String>,
    next: u64,
}

impl Raw {
    fn new(url: &str) -> Raw {
        runway_verify::http::install_crypto_provider();
        Raw {
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            url: url.to_owned(),
            session: None,
            next: 1,
        }
    }

    async fn send(&mut self, method: &str, params: Value, stateless: bool) -> (u16, Value) {
        let id = self.next;
        self.next += 1;
        let mut params = params;
        let mut req = self
            .http
            .post(&self.url)
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        if stateless {
            params["_meta"] = json!({
                "io.modelcontextprotocol/protocolVersion": STATELESS_VERSION,
                "io.modelcontextprotocol/clientInfo": {"name": NAME, "version": "1"},
                "io.modelcontextprotocol/clientCapabilities": {},
            });
            req = req
                .header("mcp-protocol-version", STATELESS_VERSION)
                .header("mcp-method", method);
            if let Some(n) = params["name"].as_str() {
                req = req.header("mcp-name", n);
            }
        } else if let Some(s) = &self.session {
            req = req
                .header("mcp-session-id", s)
                .header("mcp-protocol-version", SESSION_VERSION);
        }
        let body = if method.starts_with("notifications/") {
            json!({"jsonrpc": "2.0", "method": method, "params": params})
        } else {
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
        };
        let r = req.body(body.to_string()).send().await.unwrap();
        let status = r.status().as_u16();
        if let Some(s) = r.headers().get("mcp-session-id") {
            self.session = Some(s.to_str().unwrap().to_owned());
        }
        let text = r.text().await.unwrap();
        // The session era may answer as an SSE stream: the message is the data line that parses.
        let message = serde_json::from_str(&text).ok().or_else(|| {
            text.lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .find_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        });
        (status, message.unwrap_or(Value::String(text)))
    }

    /// `initialize` and `notifications/initialized`: a session named [`NAME`].
    async fn open_session(&mut self) {
        let (status, v) = self
            .send(
                "initialize",
                json!({"protocolVersion": SESSION_VERSION, "capabilities": {},
                       "clientInfo": {"name": NAME, "version": "1"}}),
                false,
            )
            .await;
        assert_eq!(status, 200, "{v}");
        assert!(self.session.is_some(), "no session id");
        let (status, _) = self
            .send("notifications/initialized", json!({}), false)
            .await;
        assert_eq!(status, 202);
    }

    /// A `tools/call`: the result (`isError` and the text).
    async fn call(&mut self, tool: &str, args: Value, stateless: bool) -> Value {
        let (status, v) = self
            .send(
                "tools/call",
                json!({"name": tool, "arguments": args}),
                stateless,
            )
            .await;
        assert_eq!(status, 200, "{tool}: {v}");
        assert!(v["result"].is_object(), "{tool}: {v}");
        v["result"].clone()
    }
}

async fn incidents(dir: &std::path::Path) -> Vec<runway_ledger::Record> {
    let ledger = runway_ledger::open(&runway_ledger::LedgerUrl::default_for(dir))
        .await
        .unwrap();
    let filter = runway_ledger::Filter {
        kind: Some(runway_ledger::Kind::Incident),
        ..Default::default()
    };
    let out = ledger.query(&filter, false).await.unwrap();
    ledger.close().await;
    out
}

fn text(result: &Value) -> String {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_id_borrowed_by_another_session_or_connection_with_the_same_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(dir.path(), WRITES, &[]).await;
    let open = json!({"severity": "P2", "title": "borrowed plan"});

    // Session era: two sessions, both calling themselves `same-agent`.
    let mut owner = Raw::new(&s.mcp_url);
    owner.open_session().await;
    let mut thief = Raw::new(&s.mcp_url);
    thief.open_session().await;
    assert_ne!(owner.session, thief.session);
    let planned = owner.call("incident_open_plan", open.clone(), false).await;
    let plan_id = planned["structuredContent"]["plan_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no plan id: {planned}"))
        .to_owned();
    let mut with_plan = open.clone();
    with_plan["plan_id"] = json!(plan_id);
    let stolen = thief.call("incident_open", with_plan.clone(), false).await;
    assert_eq!(stolen["isError"], true, "{stolen}");
    assert!(
        text(&stolen).contains("another MCP session"),
        "{}",
        text(&stolen)
    );
    // The same name over the stateless era, on another connection: refused too.
    let mut stateless_thief = Raw::new(&s.mcp_url);
    let stolen = stateless_thief
        .call("incident_open", with_plan.clone(), true)
        .await;
    assert_eq!(stolen["isError"], true, "{stolen}");
    assert!(
        incidents(dir.path()).await.is_empty(),
        "a borrowed plan wrote"
    );
    // The session that asked can still use it, under its name.
    let done = owner.call("incident_open", with_plan, false).await;
    assert_ne!(done["isError"], true, "{done}");
    let written = incidents(dir.path()).await;
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].operator, NAME);

    // Stateless era: the plan is bound to the connection that asked.
    let mut owner = Raw::new(&s.mcp_url);
    let planned = owner.call("incident_open_plan", open.clone(), true).await;
    let plan_id = planned["structuredContent"]["plan_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no plan id: {planned}"))
        .to_owned();
    let mut with_plan = open.clone();
    with_plan["plan_id"] = json!(plan_id);
    let mut thief = Raw::new(&s.mcp_url);
    let stolen = thief.call("incident_open", with_plan.clone(), true).await;
    assert_eq!(stolen["isError"], true, "{stolen}");
    assert!(
        text(&stolen).contains("another connection"),
        "{}",
        text(&stolen)
    );
    assert_eq!(
        incidents(dir.path()).await.len(),
        1,
        "a borrowed plan wrote"
    );
    let done = owner.call("incident_open", with_plan, true).await;
    assert_ne!(done["isError"], true, "{done}");
    let written = incidents(dir.path()).await;
    assert_eq!(written.len(), 2);
    assert!(written.iter().all(|r| r.operator == NAME), "{written:?}");
    s.shutdown().await;
}
