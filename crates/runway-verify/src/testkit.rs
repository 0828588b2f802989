//! A tiny, switchable fake of a deployed MCP server for the checks' unit tests.
//!
//! Each field breaks (or fixes) one behaviour, so a test states exactly the
//! server it needs; the reference server covers the real protocol elsewhere.

use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};

use axum::{
    Router,
    body::Bytes,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
};

use crate::{context::Context, context::Suite, context::Transport};

pub const TOKEN: &str = "fake-token-0123456789";

#[derive(Clone)]
pub struct Fake {
    pub token: Option<String>,
    pub health: (u16, String),
    pub livez: u16,
    pub readyz: u16,
    pub metrics: Option<String>,
    pub security_headers: bool,
    pub hsts: bool,
    pub cors_echo: bool,
    pub cors_wildcard: bool,
    pub origin_check: bool,
    pub www_authenticate: bool,
    /// The `WWW-Authenticate` challenge names `resource_metadata` (an OAuth server).
    pub www_resource_metadata: bool,
    pub prm: bool,
    pub query_token_ok: bool,
    pub session_without_token_ok: bool,
    pub wrong_token_ok: bool,
    /// Anonymous requests to `/mcp` allowed before 429.
    pub rate_limit: Option<u32>,
    pub retry_after: bool,
    /// Raw bytes for every `/mcp` answer instead of JSON-RPC.
    pub mcp_garbage: bool,
    /// Echo the bearer token back in a header and the body (a leaky server).
    pub echo_token: bool,
    pub tool_delay_ms: u64,
    /// Every answer says `content-type: text/html` (a server that renders pages).
    pub html: bool,
}

impl Default for Fake {
    fn default() -> Self {
        Fake {
            token: Some(TOKEN.into()),
            health: (200, r#"{"status":"ok","version":"1.2.3"}"#.to_owned()),
            livez: 200,
            readyz: 200,
            metrics: Some(
                "# TYPE mcp_requests_total counter\nmcp_requests_total{method=\"initialize\"} 1\nprocess_start_time_seconds 1.7e9\n"
                    .to_owned(),
            ),
            security_headers: true,
            hsts: false,
            cors_echo: false,
            cors_wildcard: false,
            origin_check: true,
            www_authenticate: true,
            www_resource_metadata: true,
            prm: true,
            query_token_ok: false,
            session_without_token_ok: false,
            wrong_token_ok: false,
            rate_limit: Some(10),
            retry_after: true,
            mcp_garbage: false,
            echo_token: false,
            tool_delay_ms: 0,
            html: false,
        }
    }
}

struct Shared {
    fake: Fake,
    base: String,
    anonymous: AtomicU32,
}

pub struct Running {
    pub mcp_url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Running {
    /// A context for this server with its token, in `suite`.
    pub fn context(&self, suite: Suite) -> Context {
        let url = url::Url::parse(&self.mcp_url).unwrap();
        let mut ctx = Context::new(
            Transport::Http { url },
            Some(runway_core::Secret::new(TOKEN)),
            suite,
        );
        ctx.limits.timeout = std::time::Duration::from_secs(3);
        // The fake answers only what the HTTP checks send; the MCP protocol
        // checks are tested against the reference server.
        ctx.toggles.disabled.push("mcp".to_owned());
        ctx
    }
}

pub async fn spawn(fake: Fake) -> Running {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let shared = Arc::new(Shared {
        fake,
        base: format!("http://{addr}"),
        anonymous: AtomicU32::new(0),
    });
    let app = Router::new().fallback(handle).with_state(shared);
    let task = tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    Running {
        mcp_url: format!("http://{addr}/mcp"),
        task,
    }
}

fn bearer(h: &HeaderMap) -> Option<String> {
    h.get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_owned)
}

async fn handle(State(s): State<Arc<Shared>>, req: Request) -> Response {
    let f = &s.fake;
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let origin = headers
        .get("origin")
        .and_then(|o| o.to_str().ok())
        .map(str::to_owned);
    let mut resp = route(&s, &method, &path, &query, &headers, &body).await;
    let h = resp.headers_mut();
    if f.security_headers {
        h.insert("x-frame-options", HeaderValue::from_static("DENY"));
        h.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        h.insert(
            "content-security-policy",
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    if f.hsts {
        h.insert(
            "strict-transport-security",
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    if let Some(o) = origin {
        if f.cors_echo {
            h.insert("access-control-allow-origin", o.parse().unwrap());
        } else if f.cors_wildcard {
            h.insert("access-control-allow-origin", HeaderValue::from_static("*"));
            h.insert(
                "access-control-allow-credentials",
                HeaderValue::from_static("true"),
            );
        }
    }
    resp
}

async fn route(
    s: &Shared,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let f = &s.fake;
    let json = |code: u16, b: String| {
        (
            StatusCode::from_u16(code).unwrap(),
            [(
                "content-type",
                if f.html {
                    "text/html"
                } else {
                    "application/json"
                },
            )],
            b,
        )
            .into_response()
    };
    match (method.as_str(), path) {
        ("GET", "/health") => json(f.health.0, f.health.1.clone()),
        ("GET", "/livez") => StatusCode::from_u16(f.livez).unwrap().into_response(),
        ("GET", "/readyz") => json(f.readyz, r#"{"status":"ready"}"#.into()),
        ("GET", "/metrics") => match &f.metrics {
            Some(m) => m.clone().into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        },
        ("GET", p) if p.starts_with("/.well-known/oauth-protected-resource") && f.prm => json(
            200,
            serde_json::json!({
                "resource": format!("{}/mcp", s.base),
                "authorization_servers": ["https://auth.example.test"],
            })
            .to_string(),
        ),
        ("OPTIONS", "/mcp") => StatusCode::NO_CONTENT.into_response(),
        (_, "/mcp") => {
            let mut r = mcp(s, method, query, headers, body).await;
            if f.html {
                r.headers_mut()
                    .insert("content-type", HeaderValue::from_static("text/html"));
            }
            r
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn mcp(
    s: &Shared,
    method: &Method,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let f = &s.fake;
    let presented = bearer(headers);
    let authorised = match &f.token {
        None => true,
        Some(t) => {
            presented.as_deref() == Some(t)
                || (f.wrong_token_ok && presented.is_some())
                || (f.query_token_ok && query.contains(&format!("access_token={t}")))
                || (f.session_without_token_ok && headers.contains_key("mcp-session-id"))
        }
    };
    if !authorised && let Some(limit) = f.rate_limit {
        let n = s.anonymous.fetch_add(1, Ordering::SeqCst);
        if n >= limit {
            let mut r = StatusCode::TOO_MANY_REQUESTS.into_response();
            if f.retry_after {
                r.headers_mut()
                    .insert("retry-after", HeaderValue::from_static("1"));
            }
            return r;
        }
    }
    if f.origin_check
        && let Some(o) = headers.get("origin")
        && o.to_str().ok() != Some(s.base.as_str())
    {
        return StatusCode::FORBIDDEN.into_response();
    }
    if !authorised {
        let text = match (&presented, f.echo_token) {
            (Some(t), true) => format!("unauthorized: bad token {t}"),
            _ => "unauthorized".to_owned(),
        };
        let mut r = (StatusCode::UNAUTHORIZED, text).into_response();
        if f.www_authenticate {
            let v = if f.www_resource_metadata {
                format!(
                    "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
                    s.base
                )
            } else {
                "Bearer realm=\"mcp\"".to_owned()
            };
            r.headers_mut()
                .insert("www-authenticate", v.parse().unwrap());
        }
        return r;
    }
    if method == Method::DELETE {
        // Sessions are never ended by clients here, which the spec allows with 405
        // (a 200 would promise that the id now gets 404, and this fake keeps no state).
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    if f.mcp_garbage {
        return (StatusCode::OK, "\u{0}\u{1}not json{{{").into_response();
    }
    let msg: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let Some(id) = msg.get("id").cloned() else {
        return StatusCode::ACCEPTED.into_response();
    };
    let result = match msg["method"].as_str() {
        Some("initialize") => serde_json::json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "fake", "version": "1.2.3"}
        }),
        // `tools` is required in a list result; the MCP checks fail a listing without it.
        Some("tools/list") => serde_json::json!({"tools": [{
            "name": "echo",
            "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}
        }]}),
        Some("tools/call") => {
            if f.tool_delay_ms > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(f.tool_delay_ms)).await;
            }
            let text = msg
                .pointer("/params/arguments/message")
                .cloned()
                .unwrap_or_default();
            serde_json::json!({"content": [{"type": "text", "text": text}]})
        }
        _ => serde_json::json!({}),
    };
    let answer = serde_json::json!({"jsonrpc": "2.0", "id": id, "result": result});
    // Answer as an SSE stream, as rmcp's streamable HTTP server does.
    let mut r = (
        StatusCode::OK,
        [("content-type", "text/event-stream")],
        format!("event: message\ndata: {answer}\n\n"),
    )
        .into_response();
    r.headers_mut()
        .insert("mcp-session-id", HeaderValue::from_static("fake-session-1"));
    if f.echo_token
        && let Some(t) = presented
    {
        r.headers_mut().insert("x-echo-token", t.parse().unwrap());
    }
    r
}
