//! The HTTP surface: health, metrics, protected-resource metadata, and `/mcp` behind
//! the layers a production MCP server puts in front of its transport.
//!
//! Order on `/mcp`: security headers and CORS (every response), then the Origin check,
//! the rate limit (before auth, so a token guesser is throttled), bearer auth, JSON-RPC
//! validation (so malformed input gets JSON-RPC codes rather than rmcp's bare 415), and
//! finally rmcp's `StreamableHttpService`, which owns sessions and both protocol eras.
//! Every fault that concerns HTTP is applied in this file.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use futures::StreamExt;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use rmcp::model::ClientJsonRpcMessage;
use rmcp::transport::streamable_http_server::StreamableHttpService;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use serde_json::{Value, json};

use crate::handler::{Reference, Shared};
use crate::metrics::{self, Metrics};
use crate::tools::{HANG_FOR, sleep_unless_cancelled};

/// The authorization server named in the protected-resource metadata. It does not exist:
/// the reference server only checks a static bearer token.
pub const AUTHORIZATION_SERVER: &str = "https://auth.example.test";

const SESSION_HEADER: &str = "mcp-session-id";

pub(crate) struct HttpState {
    pub shared: Arc<Shared>,
    pub token: Option<runway_core::Secret>,
    /// More tokens `/mcp` accepts beside `token`: the users'.
    pub user_tokens: Vec<runway_core::Secret>,
    /// The header holding the token as is; `None`: `Authorization: Bearer`.
    pub token_header: Option<http::HeaderName>,
    /// `echo` calls seen so far (for `flaky-tool`).
    pub echo_calls: std::sync::atomic::AtomicU64,
    pub base_url: String,
    pub mcp_url: String,
    pub allowed_origins: Vec<String>,
    pub anon_limiter: Option<runway_serve::Limiter>,
    pub token_limiter: Option<runway_serve::Limiter>,
    pub metrics: Metrics,
    pub mcp: StreamableHttpService<Reference, LocalSessionManager>,
}

pub(crate) fn router(state: Arc<HttpState>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_page))
        .route("/.well-known/oauth-protected-resource", get(prm))
        .route("/.well-known/oauth-protected-resource/mcp", get(prm))
        .route("/mcp", any(mcp))
        .layer(from_fn_with_state(state.clone(), cors))
        .layer(from_fn_with_state(state.clone(), security_headers))
        .layer(from_fn_with_state(state.clone(), count_requests))
        .with_state(state)
}

/// Counts every request as it was answered, with its latency until the response
/// headers, for `/metrics` (`http_requests_total`, `http_request_duration_seconds`).
async fn count_requests(State(st): State<Arc<HttpState>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let resp = next.run(req).await;
    let mcp = resp
        .extensions()
        .get::<metrics::McpMethod>()
        .map(|m| m.0.as_str());
    st.metrics.observe_http(
        &method,
        &path,
        resp.status().as_u16(),
        mcp,
        started.elapsed(),
    );
    resp
}

fn normalize_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}

use runway_serve::auth::{bearer, same_secret};
use runway_serve::jsonrpc::{MAX_BODY, classify, error as jsonrpc_error};

impl HttpState {
    fn origin_allowed(&self, origin: &str) -> bool {
        let origin = normalize_origin(origin);
        self.allowed_origins
            .iter()
            .any(|o| normalize_origin(o) == origin)
    }

    fn prm_url(&self) -> String {
        format!("{}/.well-known/oauth-protected-resource", self.base_url)
    }

    /// Whether the request carries the token the server was started with (faults applied).
    fn has_valid_token(&self, headers: &HeaderMap, query: Option<&str>) -> bool {
        let Some(token) = &self.token else {
            return false;
        };
        let faults = &self.shared.faults;
        let bearer = match &self.token_header {
            None => bearer(headers),
            Some(name) => headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim),
        };
        let accepted = |presented: &str| {
            let known = std::iter::once(token)
                .chain(&self.user_tokens)
                .any(|t| same_secret(presented, t.expose()));
            known
                && faults
                    .reject_tokens
                    .is_none_or(|pct| crate::faults::token_bucket(presented) >= pct)
        };
        if let Some(presented) = bearer {
            if accepted(presented) {
                return true;
            }
            if faults.wrong_token_accepted && !presented.is_empty() {
                return true;
            }
        }
        if faults.token_in_query
            && let Some(query) = query
        {
            return query
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .any(|(k, v)| k == "access_token" && accepted(v));
        }
        false
    }

    fn unauthorized(&self) -> Response {
        let (needs, challenge) = match &self.token_header {
            None => (
                "`Authorization: Bearer <token>`".to_owned(),
                format!("Bearer resource_metadata=\"{}\"", self.prm_url()),
            ),
            // An API key is no OAuth: the challenge names the header, no metadata.
            Some(h) => (format!("`{h}: <token>`"), format!("ApiKey header=\"{h}\"")),
        };
        let mut resp = json_response(
            StatusCode::UNAUTHORIZED,
            json!({
                "error": "invalid_token",
                "error_description": format!("`/mcp` needs {needs}"),
            }),
        );
        if !self.shared.faults.no_www_authenticate
            && let Ok(v) = HeaderValue::from_str(&challenge)
        {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        resp
    }

    async fn forward(&self, req: Request) -> Response {
        self.mcp.handle(req).await.map(Body::new)
    }

    /// Validates a POSTed JSON-RPC message, applies the message-level faults, and hands
    /// it to rmcp.
    async fn post(&self, req: Request) -> Response {
        let started = Instant::now();
        let faults = &self.shared.faults;
        let (mut parts, body) = req.into_parts();
        let Ok(mut bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
            return jsonrpc_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                Value::Null,
                -32600,
                "request body too large or unreadable",
            );
        };
        let value: Value = match serde_json::from_slice(&bytes) {
            Ok(mut v) => {
                if crate::rewrite::incoming(&mut v, faults) {
                    bytes = bytes::Bytes::from(v.to_string());
                    if faults.unsupported_version_accepted {
                        parts.headers.insert(
                            "mcp-protocol-version",
                            HeaderValue::from_static(crate::handler::STATELESS_VERSION),
                        );
                    }
                }
                if faults.header_mismatch_accepted {
                    // Make the headers agree with the body, so rmcp never sees a mismatch.
                    let name = v
                        .pointer("/params/name")
                        .or_else(|| v.pointer("/params/uri"))
                        .and_then(Value::as_str);
                    for (header, value) in [
                        ("mcp-method", v.get("method").and_then(Value::as_str)),
                        ("mcp-name", name),
                    ] {
                        match value.and_then(|x| HeaderValue::from_str(x).ok()) {
                            Some(x) => {
                                parts.headers.insert(header, x);
                            }
                            None => {
                                parts.headers.remove(header);
                            }
                        }
                    }
                }
                v
            }
            Err(_) if faults.wrong_error_codes => {
                return (StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
                    .into_response();
            }
            Err(e) => {
                return jsonrpc_error(
                    StatusCode::BAD_REQUEST,
                    Value::Null,
                    -32700,
                    &format!("Parse error: {e}"),
                );
            }
        };
        if faults.mcp_name_base64_rejected
            && let Some(name) = parts.headers.get("mcp-name").and_then(|v| v.to_str().ok())
            && name.starts_with("=?base64?")
        {
            // Compared as sent, never decoded: the Base64 form never matches.
            let body = value
                .pointer("/params/name")
                .or_else(|| value.pointer("/params/uri"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            return jsonrpc_error(
                StatusCode::BAD_REQUEST,
                value.get("id").cloned().unwrap_or(Value::Null),
                -32020,
                &format!(
                    "Header mismatch: Mcp-Name header value `{name}` does not match body value `{body}`"
                ),
            );
        }
        let method = match classify(&value) {
            Ok(method) => method.map(str::to_owned),
            Err(message) => {
                let id = value.get("id").cloned().unwrap_or(Value::Null);
                return jsonrpc_error(StatusCode::BAD_REQUEST, id, -32600, message);
            }
        };
        let id = value.get("id").cloned().unwrap_or(Value::Null);
        let tool = (method.as_deref() == Some("tools/call"))
            .then(|| value.pointer("/params/name").and_then(Value::as_str))
            .flatten()
            .map(str::to_owned);
        if let Err(e) = serde_json::from_value::<ClientJsonRpcMessage>(value) {
            return jsonrpc_error(
                StatusCode::BAD_REQUEST,
                id,
                -32602,
                &format!("Invalid params: {e}"),
            );
        }
        let method = method.unwrap_or_else(|| "(response)".to_owned());
        let mut resp = self
            .answer(parts, bytes, &method, tool.as_deref(), id)
            .await;
        self.metrics.observe(&method, started.elapsed());
        resp.extensions_mut().insert(metrics::McpMethod(method));
        resp
    }

    /// The answer to one valid JSON-RPC message, with the message-level faults.
    async fn answer(
        &self,
        parts: http::request::Parts,
        bytes: bytes::Bytes,
        method: &str,
        tool: Option<&str>,
        id: Value,
    ) -> Response {
        let faults = &self.shared.faults;
        if faults.garbage && method == "tools/list" {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                &b"\x00\xff<<garbage>> this is not JSON {\"jsonrpc\": 2.0,"[..],
            )
                .into_response();
        }
        if let Some((slow, ms)) = &faults.slow_method
            && slow == method
        {
            sleep_unless_cancelled(Duration::from_millis(*ms), &self.shared.shutdown).await;
        }
        if let Some(pct) = faults.flaky_tool
            && tool == Some("echo")
        {
            let n = self
                .echo_calls
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if crate::faults::in_share(n, pct) {
                return jsonrpc_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    id,
                    -32603,
                    &format!(
                        "`echo` call {} failed on purpose (fault `flaky-tool={pct}`)",
                        n + 1
                    ),
                );
            }
        }
        if faults.hang && method == "tools/call" {
            sleep_unless_cancelled(HANG_FOR, &self.shared.shutdown).await;
            return (StatusCode::GATEWAY_TIMEOUT, "the `hang` fault gave up").into_response();
        }
        let stateless = parts
            .headers
            .get("mcp-protocol-version")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v >= crate::handler::STATELESS_VERSION);
        let echoed = parts.headers.get(SESSION_HEADER).cloned();
        let mut resp = self
            .forward(Request::from_parts(parts, Body::from(bytes)))
            .await;
        if stateless && faults.unknown_method_400 && resp.status() == StatusCode::NOT_FOUND {
            *resp.status_mut() = StatusCode::BAD_REQUEST;
        }
        if stateless
            && faults.session_id_echoed
            && let Some(sid) = echoed
        {
            resp.headers_mut().insert(SESSION_HEADER, sid);
        }
        // rmcp writes each message in one chunk, so the rewrite sees whole messages.
        resp.headers_mut().remove(header::CONTENT_LENGTH);
        let shared = self.shared.clone();
        resp.map(|body| {
            Body::from_stream(body.into_data_stream().map(move |chunk| {
                chunk.map(|b| bytes::Bytes::from(crate::rewrite::outgoing_bytes(&b, &shared)))
            }))
        })
    }
}

async fn mcp(
    State(st): State<Arc<HttpState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let faults = &st.shared.faults;
    if let Some(origin) = req.headers().get(header::ORIGIN)
        && !faults.bad_origin_accepted
        && !origin.to_str().is_ok_and(|o| st.origin_allowed(o))
    {
        return json_response(
            StatusCode::FORBIDDEN,
            json!({"error": "forbidden", "error_description": "this `Origin` is not allowed"}),
        );
    }
    // `request-state-auth`: the body is read first, to see a `requestState`.
    let (req, carries_state) = if faults.request_state_auth && req.method() == Method::POST {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, MAX_BODY)
            .await
            .unwrap_or_default();
        let state = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .is_some_and(|v| {
                v.pointer("/params/requestState")
                    .is_some_and(Value::is_string)
            });
        (Request::from_parts(parts, Body::from(bytes)), state)
    } else {
        (req, false)
    };
    let valid_token = st.has_valid_token(req.headers(), req.uri().query());
    let limiter = if valid_token {
        &st.token_limiter
    } else {
        &st.anon_limiter
    };
    if !faults.no_rate_limit
        && let Some(limiter) = limiter
        && let Err(retry) = limiter.check(peer.ip())
    {
        let mut resp = json_response(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"error": "rate_limited", "retry_after": retry}),
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry));
        return resp;
    }
    let passes = st.token.is_none()
        || faults.no_auth
        || valid_token
        || carries_state
        || (faults.session_without_token && req.headers().contains_key(SESSION_HEADER));
    if !passes {
        st.metrics.auth_denied(if bearer(req.headers()).is_some() {
            metrics::Denied::InvalidToken
        } else {
            metrics::Denied::MissingToken
        });
        return st.unauthorized();
    }
    let with_session = req.headers().contains_key(SESSION_HEADER);
    let resp = match *req.method() {
        Method::POST => st.post(req).await,
        Method::DELETE if faults.stateless_delete_accepted && !with_session => {
            StatusCode::OK.into_response()
        }
        // The stateless era has no standalone stream: GET must be 405.
        Method::GET
            if faults.stateless_get_stream
                && req
                    .headers()
                    .get("mcp-protocol-version")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v >= "2026-07-28") =>
        {
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/event-stream")],
                ": the `stateless-get-stream` fault\n\n",
            )
                .into_response()
        }
        Method::DELETE
            if faults.no_session_delete && req.headers().contains_key(SESSION_HEADER) =>
        {
            StatusCode::ACCEPTED.into_response()
        }
        _ => st.forward(req).await,
    };
    if faults.unknown_session_400 && with_session && resp.status() == StatusCode::NOT_FOUND {
        let (mut parts, body) = resp.into_parts();
        parts.status = StatusCode::BAD_REQUEST;
        return Response::from_parts(parts, body);
    }
    resp
}

async fn health(State(st): State<Arc<HttpState>>) -> Response {
    if st.shared.faults.unhealthy {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "unhealthy", "version": st.shared.version}),
        );
    }
    json_response(
        StatusCode::OK,
        json!({"status": "ok", "version": st.shared.version}),
    )
}

async fn livez() -> Response {
    json_response(StatusCode::OK, json!({"status": "alive"}))
}

async fn readyz(State(st): State<Arc<HttpState>>) -> Response {
    if st.shared.faults.not_ready {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "not ready"}),
        );
    }
    json_response(StatusCode::OK, json!({"status": "ready"}))
}

async fn metrics_page(State(st): State<Arc<HttpState>>) -> Response {
    let faults = &st.shared.faults;
    if faults.no_metrics {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    let body = if faults.bad_metrics {
        st.metrics.render_broken()
    } else {
        st.metrics.render()
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        body,
    )
        .into_response()
}

async fn prm(State(st): State<Arc<HttpState>>) -> Response {
    if st.shared.faults.no_prm {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    json_response(
        StatusCode::OK,
        json!({
            "resource": st.mcp_url,
            "authorization_servers": [AUTHORIZATION_SERVER],
            "bearer_methods_supported": ["header"],
        }),
    )
}

async fn security_headers(State(st): State<Arc<HttpState>>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if !st.shared.faults.missing_headers {
        runway_serve::headers::apply(resp.headers_mut(), runway_serve::headers::API_CSP);
    }
    resp
}

const ALLOW_HEADERS: &str = "authorization, content-type, accept, mcp-session-id, \
    mcp-protocol-version, mcp-method, mcp-name, last-event-id";
const EXPOSE_HEADERS: &str = "mcp-session-id, www-authenticate, retry-after";

async fn cors(State(st): State<Arc<HttpState>>, req: Request, next: Next) -> Response {
    let faults = &st.shared.faults;
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let allowed = origin.as_deref().is_some_and(|o| st.origin_allowed(o));
    let preflight = req.method() == Method::OPTIONS
        && origin.is_some()
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut resp = if preflight {
        if allowed || faults.bad_origin_accepted {
            let mut resp = StatusCode::NO_CONTENT.into_response();
            let h = resp.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
            resp
        } else {
            json_response(
                StatusCode::FORBIDDEN,
                json!({"error": "forbidden", "error_description": "this `Origin` is not allowed"}),
            )
        }
    } else {
        next.run(req).await
    };
    let h = resp.headers_mut();
    if faults.cors_wildcard {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    } else if let Some(origin) = origin
        && (allowed || faults.cors_echo)
        && let Ok(value) = HeaderValue::from_str(&origin)
    {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    resp
}
