//! A small, strict MCP-over-HTTP client for the tests: raw reqwest so every status
//! code and header stays visible, with every read bounded in time.

#![allow(dead_code)]

use std::time::Duration;

use reqwest::header::HeaderMap;
use runway_reference::{Faults, Options, Running};
use serde_json::{Value, json};

pub const TOKEN: &str = "s3cret-token";
pub const SESSION_VERSION: &str = "2025-11-25";
pub const STATELESS_VERSION: &str = "2026-07-28";

/// Everything here must finish well within this.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Installs `ring` as rustls's crypto provider (the only one Runway compiles), once per test process.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

pub fn client() -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn start(faults: Faults) -> Running {
    start_with(Options {
        token: Some(TOKEN.into()),
        version: "9.8.7".into(),
        faults,
        ..Options::default()
    })
    .await
}

pub async fn start_with(opts: Options) -> Running {
    tokio::time::timeout(TIMEOUT, runway_reference::spawn(opts))
        .await
        .unwrap()
        .unwrap()
}

pub fn faults(list: &str) -> Faults {
    Faults::parse(list).unwrap()
}

/// One HTTP answer to a POST on `/mcp`.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    /// The raw body (for SSE, everything up to the JSON-RPC answer).
    pub body: Vec<u8>,
    /// The JSON-RPC message that answers the request, from JSON or SSE.
    pub message: Option<Value>,
}

impl Reply {
    pub fn result(&self) -> &Value {
        let m = self
            .message
            .as_ref()
            .unwrap_or_else(|| panic!("no JSON-RPC message in {self:?}"));
        m.get("result")
            .unwrap_or_else(|| panic!("no result in {m}"))
    }

    pub fn error_code(&self) -> i64 {
        let m = self
            .message
            .as_ref()
            .unwrap_or_else(|| panic!("no JSON-RPC message in {self:?}"));
        m["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("no error code in {m}"))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Finds the JSON-RPC response (something with `result` or `error`) in SSE `data:` lines.
fn sse_answer(text: &str) -> Option<Value> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find(|v| v.get("result").is_some() || v.get("error").is_some())
}

/// Reads a response body until it holds a JSON-RPC answer or ends, bounded in time and size.
pub async fn read_reply(resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let is_sse = headers
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/event-stream"));
    let mut resp = resp;
    let mut body = Vec::new();
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .expect("the response body did not finish in time");
        match chunk {
            Ok(Some(bytes)) => {
                body.extend_from_slice(&bytes);
                assert!(body.len() < 1 << 20, "response body too large");
                if is_sse && sse_answer(&String::from_utf8_lossy(&body)).is_some() {
                    break;
                }
            }
            Ok(None) | Err(_) => break,
        }
    }
    let message = if is_sse {
        sse_answer(&String::from_utf8_lossy(&body))
    } else {
        serde_json::from_slice(&body).ok()
    };
    Reply {
        status,
        headers,
        body,
        message,
    }
}

/// A POST to `/mcp` with the headers streamable HTTP requires.
pub fn post(server: &Running, body: &Value) -> reqwest::RequestBuilder {
    client()
        .post(&server.mcp_url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(body.to_string())
}

pub async fn send(req: reqwest::RequestBuilder) -> Reply {
    read_reply(req.send().await.unwrap()).await
}

/// A session-era conversation: `initialize` done, `Mcp-Session-Id` kept.
pub struct Session<'a> {
    pub server: &'a Running,
    pub id: String,
    pub token: Option<String>,
    next_id: u64,
}

impl<'a> Session<'a> {
    pub async fn open(server: &'a Running, token: Option<&str>) -> Session<'a> {
        let init = json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {
                "protocolVersion": SESSION_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "runway-test", "version": "0"}
            }
        });
        let mut req = post(server, &init);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let reply = send(req).await;
        assert_eq!(reply.status, 200, "initialize: {}", reply.text());
        assert_eq!(reply.result()["protocolVersion"], SESSION_VERSION);
        let id = reply.header("mcp-session-id").expect("no Mcp-Session-Id");
        let mut session = Session {
            server,
            id,
            token: token.map(str::to_owned),
            next_id: 1,
        };
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let reply = send(session.request(&note)).await;
        assert_eq!(reply.status, 202, "initialized: {}", reply.text());
        session.next_id = 1;
        session
    }

    pub fn request(&self, body: &Value) -> reqwest::RequestBuilder {
        let mut req = post(self.server, body)
            .header("mcp-session-id", &self.id)
            .header("mcp-protocol-version", SESSION_VERSION);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        req
    }

    pub async fn call(&mut self, method: &str, params: Value) -> Reply {
        self.next_id += 1;
        let body =
            json!({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params});
        send(self.request(&body)).await
    }

    pub async fn tool(&mut self, name: &str, arguments: Value) -> Reply {
        self.call("tools/call", json!({"name": name, "arguments": arguments}))
            .await
    }

    /// Every tool over every page, failing after `max_pages`.
    pub async fn all_tools(&mut self, max_pages: usize) -> Result<Vec<Value>, String> {
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..max_pages {
            let params = match &cursor {
                Some(c) => json!({"cursor": c}),
                None => json!({}),
            };
            let reply = self.call("tools/list", params).await;
            let result = reply.result();
            tools.extend(result["tools"].as_array().unwrap().iter().cloned());
            match result.get("nextCursor").and_then(Value::as_str) {
                Some(c) => cursor = Some(c.to_owned()),
                None => return Ok(tools),
            }
        }
        Err(format!("still paging after {max_pages} pages"))
    }

    pub async fn delete(&self) -> reqwest::Response {
        let mut req = client()
            .delete(&self.server.mcp_url)
            .header("mcp-session-id", &self.id)
            .header("mcp-protocol-version", SESSION_VERSION);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }
}

/// A 2026-07-28 request: per-request `_meta`, version and method headers, no session.
pub fn stateless(
    server: &Running,
    id: u64,
    method: &str,
    params: Value,
) -> reqwest::RequestBuilder {
    stateless_with(server, id, method, params, json!({}))
}

/// [`stateless`], declaring `capabilities` in `_meta`; `Mcp-Name` is the
/// params' `name` or `taskId` (a `uri` is the caller's to set).
pub fn stateless_with(
    server: &Running,
    id: u64,
    method: &str,
    mut params: Value,
    capabilities: Value,
) -> reqwest::RequestBuilder {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": STATELESS_VERSION,
        "io.modelcontextprotocol/clientCapabilities": capabilities,
        "io.modelcontextprotocol/clientInfo": {"name": "runway-test", "version": "0"}
    });
    let mut req = post(
        server,
        &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
    )
    .header("mcp-protocol-version", STATELESS_VERSION)
    .header("mcp-method", method);
    if let Some(name) = ["name", "taskId"]
        .iter()
        .find_map(|k| params.get(*k).and_then(Value::as_str))
    {
        req = req.header("mcp-name", name);
    }
    req
}

pub async fn get(server: &Running, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", server.base_url))
        .send()
        .await
        .unwrap()
}
