//! A raw MCP client over streamable HTTP, for the checks that must see the wire.
//!
//! rmcp hides status codes, headers and bodies (and by design recovers from
//! some failures); a verifier needs each of them as evidence. This client
//! sends exactly one HTTP request per JSON-RPC call, never retries, and
//! decodes the answer with the pure functions of [`super::wire`]. Every read
//! is bounded by [`Limits`]: an SSE response is read only until the answer to
//! our request arrives, so a server that keeps the stream open costs nothing.

use std::time::{Duration, Instant};

use runway_core::{Era, Evidence, Redactor, Secret};
use serde_json::{Value, json};

pub use super::failure::RpcFailure;
use super::wire::{self, ACCEPT, DecodeError, Message};
use crate::context::EraChoice;
use crate::http::{FetchError, Limits, Observed, error_chain, fetch_until};

/// The stateless-era protocol versions this client can speak, newest first.
pub const STATELESS_VERSIONS: &[&str] = &["2026-07-28"];
/// The session-era version offered in `initialize`.
pub const SESSION_VERSION: &str = "2025-11-25";

/// One JSON-RPC call and what came back.
#[derive(Debug, Clone)]
pub struct RpcReply {
    pub outcome: Result<Value, RpcFailure>,
    pub evidence: Evidence,
    pub elapsed: Duration,
}

impl RpcReply {
    pub fn failure(request: String, failure: RpcFailure, elapsed: Duration) -> RpcReply {
        let evidence = Evidence {
            request: Some(request),
            elapsed_ms: Some(ms(elapsed)),
            body_excerpt: Some(failure.to_string()),
            ..Evidence::default()
        };
        RpcReply {
            outcome: Err(failure),
            evidence,
            elapsed,
        }
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What the handshake (or discovery) told us about the server.
#[derive(Debug, Clone)]
pub struct Handshake {
    pub era: Era,
    pub server_name: Option<String>,
    pub server_version: Option<String>,
    pub capabilities: Value,
    /// Versions a stateless server lists in `supportedVersions`.
    pub supported_versions: Vec<String>,
    /// One line per probe made, for the report.
    pub steps: Vec<String>,
    pub evidence: Evidence,
    pub elapsed: Duration,
}

/// Why no era could be established.
#[derive(Debug, Clone)]
pub struct HandshakeFailure {
    pub message: String,
    pub hint: String,
    pub steps: Vec<String>,
    pub evidence: Evidence,
    /// The legacy HTTP+SSE transport answered (an `endpoint` event).
    pub legacy_sse: Option<String>,
    pub kind: FailureKind,
}

/// What kind of wrong the handshake met, for the checks that depend on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// No HTTP answer at all (refused, reset, timed out).
    Unreachable,
    /// A redirect, which MCP clients do not follow on POST.
    Redirect {
        status: u16,
        location: Option<String>,
    },
    /// An answer, but not from an MCP endpoint (404, 405, 501, an HTML page).
    NotMcp { status: u16 },
    /// 401 or 403: a token is missing or wrong.
    Refused { status: u16 },
    /// The stateless era was required of a server that speaks only the session era.
    SessionOnly,
    /// An MCP endpoint that got the protocol wrong.
    Protocol,
    /// HTTP 429 to the probe: Runway was rate-limited, nothing is decided.
    RateLimited,
}

/// The handshake met a 429: the era is not decided from it.
fn rate_limited(probe: &str, mut steps: Vec<String>, evidence: Evidence) -> HandshakeFailure {
    steps.push(format!(
        "`{probe}` → HTTP 429 (rate limited); no era decided"
    ));
    HandshakeFailure {
        message: format!(
            "inconclusive: the server rate-limited Runway's `{probe}` (HTTP 429, retried once after `Retry-After`); the era is not decided from a 429"
        ),
        hint: "let the verifier through the rate limit (a token, or a higher anonymous budget for its address), or run it again later".into(),
        steps,
        evidence,
        legacy_sse: None,
        kind: FailureKind::RateLimited,
    }
}

impl HandshakeFailure {
    /// The reason to skip the checks that need an MCP endpoint, when there is none to check.
    pub fn blocker(&self, url: &url::Url) -> Option<String> {
        match &self.kind {
            FailureKind::Redirect { status, location } => Some(match location {
                Some(l) => format!("`{url}` redirects (HTTP {status}) to `{l}`"),
                None => format!("`{url}` redirects (HTTP {status})"),
            }),
            FailureKind::NotMcp { status } => {
                Some(format!("`{url}` does not serve MCP (HTTP {status})"))
            }
            // An endpoint that answers nothing is left to each check to
            // report (a closed port is caught once, before any check runs).
            FailureKind::Unreachable
            | FailureKind::Refused { .. }
            | FailureKind::SessionOnly
            | FailureKind::Protocol
            | FailureKind::RateLimited => None,
        }
    }
}

/// Whether an answer looks like a web page or a missing route rather than an MCP endpoint.
fn not_mcp(status: u16, content_type: Option<&str>) -> bool {
    matches!(status, 404 | 405 | 501)
        || content_type
            .is_some_and(|c| c.trim_start().to_ascii_lowercase().starts_with("text/html"))
}

/// A streamable HTTP connection: the URL, the credentials and, once the
/// handshake ran, the negotiated era and session.
pub struct HttpConn {
    pub client: reqwest::Client,
    pub url: url::Url,
    token: Option<Secret>,
    /// The header that carries `token` as is; `None`: `Authorization: Bearer`.
    auth_header: Option<String>,
    pub limits: Limits,
    pub redactor: Redactor,
    pub era: Era,
    pub session_id: Option<String>,
    next_id: i64,
    /// `notifications/message` seen in the answers (none was asked for).
    pub log_messages: std::sync::atomic::AtomicU64,
}

impl HttpConn {
    pub fn new(url: url::Url, token: Option<Secret>, limits: Limits, redactor: Redactor) -> Self {
        HttpConn {
            client: crate::http::client(limits),
            url,
            token,
            auth_header: None,
            limits,
            redactor,
            era: Era::Unknown,
            session_id: None,
            next_id: 0,
            log_messages: Default::default(),
        }
    }

    /// Sends the token as is in `header` (`X-API-Key`) instead of
    /// `Authorization: Bearer`; `None` keeps the bearer header.
    pub fn with_auth_header(mut self, header: Option<String>) -> HttpConn {
        self.auth_header = header;
        self
    }

    /// The header that carries the token as is, when it is not `Authorization`.
    pub fn auth_header(&self) -> Option<&str> {
        self.auth_header.as_deref()
    }

    /// A new connection to the same endpoint with the same credentials, no era yet.
    pub fn fresh(&self) -> HttpConn {
        HttpConn::new(
            self.url.clone(),
            self.token.clone(),
            self.limits,
            self.redactor.clone(),
        )
        .with_auth_header(self.auth_header.clone())
    }

    pub fn next_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn protocol_version(&self) -> Option<&str> {
        self.era.version()
    }

    /// `params` with the per-request `_meta` the current era requires.
    fn with_meta(&self, params: Value) -> Value {
        wire::with_meta(&self.era, params)
    }

    /// A POST to the MCP endpoint carrying the headers the current era needs.
    pub fn post(
        &self,
        body: Vec<u8>,
        method: Option<&str>,
        name: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut rb = self
            .client
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header("accept", ACCEPT)
            .body(body);
        rb = self.auth(rb);
        if let Some(v) = self.protocol_version() {
            rb = rb.header("mcp-protocol-version", v);
        }
        if let Some(s) = &self.session_id {
            rb = rb.header("mcp-session-id", s);
        }
        if matches!(self.era, Era::Stateless { .. }) {
            if let Some(m) = method {
                rb = rb.header("mcp-method", m);
            }
            if let Some(n) = name {
                // A name that is not plain header-safe ASCII travels Base64-encoded.
                rb = rb.header("mcp-name", wire::header_value(n));
            }
        }
        rb
    }

    pub fn auth(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => {
                let (name, value) = super::raw::credential(self.auth_header.as_deref(), t.expose());
                rb.header(name, value)
            }
            None => rb,
        }
    }

    fn describe(&self, verb: &str, what: &str) -> String {
        self.redactor.redact(&format!("{verb} {} {what}", self.url))
    }

    /// Sends one JSON-RPC request and waits (bounded) for its response.
    pub async fn rpc(&mut self, method: &str, params: Value) -> RpcReply {
        let id = self.next_id();
        let params = self.with_meta(params);
        let name = match method {
            "tools/call" | "prompts/get" => params.get("name").and_then(Value::as_str),
            "resources/read" => params.get("uri").and_then(Value::as_str),
            _ => None,
        }
        .map(str::to_owned);
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let req = self.post(body.to_string().into_bytes(), Some(method), name.as_deref());
        self.exchange(req, method, &json!(id)).await
    }

    /// Sends a request built by the caller and decodes the response to `id`.
    pub async fn exchange(&self, req: reqwest::RequestBuilder, what: &str, id: &Value) -> RpcReply {
        self.exchange_with(req, what, id, |_| {}).await
    }

    /// [`Self::exchange`] with a last edit of the built request (to replace a header).
    pub async fn exchange_with(
        &self,
        req: reqwest::RequestBuilder,
        what: &str,
        id: &Value,
        edit: impl FnOnce(&mut reqwest::Request),
    ) -> RpcReply {
        let request = self.describe("POST", what);
        let start = Instant::now();
        let req = match req.build() {
            Ok(mut r) => {
                edit(&mut r);
                r
            }
            Err(e) => {
                return RpcReply::failure(
                    request,
                    RpcFailure::Transport(error_chain(&e)),
                    start.elapsed(),
                );
            }
        };
        let observed = match fetch_retrying(&self.client, req, self.limits, id).await {
            Ok(o) => o,
            Err(FetchError::Timeout(d)) => {
                return RpcReply::failure(request, RpcFailure::Timeout(d), start.elapsed());
            }
            Err(e) => {
                return RpcReply::failure(
                    request,
                    RpcFailure::Transport(e.to_string()),
                    start.elapsed(),
                );
            }
        };
        let evidence = observed.evidence(&request, &self.redactor);
        let logs = wire::log_notifications(observed.header("content-type"), &observed.body);
        self.log_messages
            .fetch_add(logs, std::sync::atomic::Ordering::Relaxed);
        let outcome = decode_reply(&observed, id, self.limits.timeout);
        RpcReply {
            outcome,
            evidence,
            elapsed: observed.elapsed,
        }
    }

    /// Sends a notification (no response expected beyond HTTP 202).
    pub async fn notify(&self, method: &str) -> Result<Observed, FetchError> {
        let body = notification_body(method, self.with_meta(Value::Null));
        let req = self
            .post(body.to_string().into_bytes(), Some(method), None)
            .build()
            .map_err(|e| FetchError::Other(error_chain(&e)))?;
        crate::http::fetch(&self.client, req, self.limits).await
    }

    /// Ends the session the handshake opened, if any (best effort: the
    /// answer is judged by `mcp.session.delete`, not here).
    pub async fn end_session(&mut self) {
        let Some(sid) = self.session_id.take() else {
            return;
        };
        let mut rb = self
            .auth(self.client.delete(self.url.clone()))
            .header("mcp-session-id", sid);
        if let Some(v) = self.protocol_version() {
            rb = rb.header("mcp-protocol-version", v);
        }
        if let Ok(req) = rb.build() {
            let _ = crate::http::fetch(&self.client, req, self.limits).await;
        }
    }

    /// Establishes the era: `server/discover` first, then `initialize`, then
    /// the legacy HTTP+SSE probe, as the specification's backward
    /// compatibility rules order them.
    pub async fn handshake(&mut self, choice: EraChoice) -> Result<Handshake, HandshakeFailure> {
        let start = Instant::now();
        let mut steps = Vec::new();
        if choice != EraChoice::Session {
            match self.discover(&mut steps, start).await {
                Discovery::Done(r) => return *r,
                Discovery::Legacy if choice == EraChoice::Stateless => {
                    // Say which it is: a session-era server, or no MCP at all.
                    return match self.initialize(steps, start).await {
                        // The session is left to expire, not DELETEd: the
                        // verdict is made, and ending it disturbs some
                        // servers (the Python SDK 1.9 stops serving).
                        Ok(hs) => {
                            Err(HandshakeFailure {
                                message: format!(
                                    "the server only speaks the session era (`initialize` negotiated `{}`; `server/discover` is refused), and the stateless era was required",
                                    hs.era.version().unwrap_or("?")
                                ),
                                hint: "verify the session era, or implement `server/discover` (protocol 2026-07-28)".into(),
                                evidence: hs.evidence,
                                steps: hs.steps,
                                legacy_sse: None,
                                kind: FailureKind::SessionOnly,
                            })
                        }
                        Err(f) => Err(f),
                    };
                }
                Discovery::Legacy => {}
            }
        } else {
            steps.push("session era requested: `server/discover` skipped".into());
        }
        self.initialize(steps, start).await
    }

    async fn discover(&mut self, steps: &mut Vec<String>, start: Instant) -> Discovery {
        // 1. server/discover at the newest stateless version.
        let version = STATELESS_VERSIONS[0];
        let id = json!(self.next_id());
        let body = json!({
            "jsonrpc": "2.0", "id": id, "method": "server/discover",
            "params": wire::with_meta(&Era::Stateless { version: version.to_owned() }, json!({})),
        });
        let req = self
            .auth(self.client.post(self.url.clone()))
            .header("content-type", "application/json")
            .header("accept", ACCEPT)
            .header("mcp-protocol-version", version)
            .header("mcp-method", "server/discover")
            .body(body.to_string());
        let reply = self.exchange(req, "server/discover", &id).await;
        if let Err(RpcFailure::Transport(e)) = &reply.outcome {
            return Discovery::Done(Box::new(Err(HandshakeFailure {
                message: format!("no connection to the MCP endpoint: {e}"),
                hint: "check the URL and that the server is running and reachable".into(),
                steps: std::mem::take(steps),
                evidence: reply.evidence,
                legacy_sse: None,
                kind: FailureKind::Unreachable,
            })));
        }
        if reply.evidence.status == Some(429) {
            return Discovery::Done(Box::new(Err(rate_limited(
                "server/discover",
                std::mem::take(steps),
                reply.evidence,
            ))));
        }
        if let Some(status @ (401 | 403)) = reply.evidence.status {
            return Discovery::Done(Box::new(Err(HandshakeFailure {
                message: format!("the MCP endpoint refused us with HTTP {status}"),
                hint: "pass a valid token (`--token-env`) for this server".into(),
                steps: std::mem::take(steps),
                evidence: reply.evidence,
                legacy_sse: None,
                kind: FailureKind::Refused { status },
            })));
        }
        if let Some(f) = self.redirected(&reply.evidence, steps) {
            return Discovery::Done(Box::new(Err(f)));
        }
        match &reply.outcome {
            Ok(result) => {
                let supported: Vec<String> = result
                    .get("supportedVersions")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                steps.push(format!(
                    "`server/discover` answered, supported versions: {}",
                    supported.join(", ")
                ));
                if let Some(v) = STATELESS_VERSIONS
                    .iter()
                    .find(|v| supported.iter().any(|s| s == *v))
                {
                    self.era = Era::Stateless {
                        version: (*v).to_owned(),
                    };
                    let info = result
                        .get("serverInfo")
                        .or_else(|| result.pointer("/_meta/io.modelcontextprotocol~1serverInfo"));
                    return Discovery::Done(Box::new(Ok(Handshake {
                        era: self.era.clone(),
                        server_name: str_at(info, "name"),
                        server_version: str_at(info, "version"),
                        capabilities: result.get("capabilities").cloned().unwrap_or(Value::Null),
                        supported_versions: supported,
                        steps: std::mem::take(steps),
                        evidence: reply.evidence,
                        elapsed: start.elapsed(),
                    })));
                }
                Discovery::Legacy
            }
            Err(e) => {
                steps.push(format!(
                    "`server/discover` failed ({e}); falling back to `initialize`"
                ));
                Discovery::Legacy
            }
        }
    }

    /// A 3xx to a probe: the endpoint is elsewhere (see [`redirect_effect`]).
    fn redirected(&self, ev: &Evidence, steps: &mut Vec<String>) -> Option<HandshakeFailure> {
        let status @ 300..=399 = ev.status? else {
            return None;
        };
        let location = ev.headers.get("location").map(|l| self.redactor.redact(l));
        Some(HandshakeFailure {
            message: match &location {
                Some(l) => format!(
                    "the MCP endpoint redirects (HTTP {status}) to `{l}`: {}; Runway does not follow it and verified nothing behind it",
                    redirect_effect(status)
                ),
                None => format!(
                    "the MCP endpoint redirects (HTTP {status}) without a `Location`: no client can follow it"
                ),
            },
            hint: "verify the URL the server redirects to and give that one to clients; a trailing slash (`/mcp/` against `/mcp`) is a common cause".into(),
            steps: std::mem::take(steps),
            evidence: ev.clone(),
            legacy_sse: None,
            kind: FailureKind::Redirect { status, location },
        })
    }

    async fn initialize(
        &mut self,
        mut steps: Vec<String>,
        start: Instant,
    ) -> Result<Handshake, HandshakeFailure> {
        // 2. initialize (session era).
        let id = json!(self.next_id());
        let body = json!({
            "jsonrpc": "2.0", "id": id, "method": "initialize",
            "params": wire::initialize_params(SESSION_VERSION),
        });
        let req = self
            .auth(self.client.post(self.url.clone()))
            .header("content-type", "application/json")
            .header("accept", ACCEPT)
            .body(body.to_string());
        let req_built = req.build();
        let start_init = Instant::now();
        let init = match req_built {
            Ok(r) => fetch_retrying(&self.client, r, self.limits, &id).await,
            Err(e) => Err(FetchError::Other(error_chain(&e))),
        };
        let request = self.describe("POST", "initialize");
        let observed = match init {
            Ok(o) => o,
            Err(e) => {
                let r = RpcReply::failure(
                    request,
                    RpcFailure::Transport(e.to_string()),
                    start_init.elapsed(),
                );
                return Err(HandshakeFailure {
                    message: format!("`initialize` got no answer: {e}"),
                    hint: "the server must answer `initialize` (session era) or `server/discover` (stateless era)".into(),
                    steps,
                    evidence: r.evidence,
                    legacy_sse: None,
                    kind: FailureKind::Unreachable,
                });
            }
        };
        let evidence = observed.evidence(&request, &self.redactor);
        if observed.status == 429 {
            return Err(rate_limited("initialize", steps, evidence));
        }
        if let Some(f) = self.redirected(&evidence, &mut steps) {
            return Err(f);
        }
        match decode_reply(&observed, &id, self.limits.timeout) {
            Ok(result) => {
                let negotiated = result
                    .get("protocolVersion")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                steps.push(format!("`initialize` negotiated `{negotiated}`"));
                self.session_id = observed.header("mcp-session-id").map(str::to_owned);
                if negotiated.is_empty() {
                    return Err(HandshakeFailure {
                        message: "`initialize` result has no `protocolVersion`".into(),
                        hint: "return the negotiated `protocolVersion` in the initialize result"
                            .into(),
                        steps,
                        evidence,
                        legacy_sse: None,
                        kind: FailureKind::Protocol,
                    });
                }
                self.era = Era::from_version(&negotiated);
                // The lifecycle requires `notifications/initialized` before other requests.
                match self.notify("notifications/initialized").await {
                    Ok(o) => steps.push(format!("`notifications/initialized` → HTTP {}", o.status)),
                    Err(e) => steps.push(format!("`notifications/initialized` failed: {e}")),
                }
                let info = result.get("serverInfo");
                Ok(Handshake {
                    era: self.era.clone(),
                    server_name: str_at(info, "name"),
                    server_version: str_at(info, "version"),
                    capabilities: result.get("capabilities").cloned().unwrap_or(Value::Null),
                    supported_versions: vec![negotiated],
                    steps,
                    evidence,
                    elapsed: start.elapsed(),
                })
            }
            Err(e) => {
                steps.push(format!("`initialize` failed ({e})"));
                // 3. The deprecated HTTP+SSE transport: a 4xx on POST, then a GET
                // that streams an `endpoint` event.
                let legacy = if matches!(observed.status, 400 | 404 | 405) {
                    self.probe_legacy_sse(&mut steps).await
                } else {
                    None
                };
                let page =
                    legacy.is_none() && not_mcp(observed.status, observed.header("content-type"));
                Err(HandshakeFailure {
                    message: match &legacy {
                        Some(ep) => format!(
                            "the server speaks only the deprecated HTTP+SSE transport (endpoint `{ep}`)"
                        ),
                        None if page => format!(
                            "`{}` does not serve MCP: `initialize` and `server/discover` got HTTP {}{}",
                            self.redactor.redact(self.url.as_str()),
                            observed.status,
                            if observed.header("content-type").is_some_and(|c| c.contains("html")) {
                                " with an HTML page"
                            } else {
                                ""
                            }
                        ),
                        None => format!("neither `server/discover` nor `initialize` succeeded: {e}"),
                    },
                    hint: match &legacy {
                        Some(_) => "move to the streamable HTTP transport (protocol 2025-03-26 or later)".into(),
                        None if page => "check the path: the MCP endpoint is usually `/mcp` (see the server's docs or its startup log)".into(),
                        None => "answer `server/discover` (2026-07-28) or `initialize` (2025-06-18, 2025-11-25) on this URL".into(),
                    },
                    steps,
                    evidence,
                    legacy_sse: legacy,
                    kind: if page {
                        FailureKind::NotMcp { status: observed.status }
                    } else {
                        FailureKind::Protocol
                    },
                })
            }
        }
    }

    /// GETs the endpoint expecting the legacy `endpoint` SSE event.
    async fn probe_legacy_sse(&self, steps: &mut Vec<String>) -> Option<String> {
        let req = self
            .auth(self.client.get(self.url.clone()))
            .header("accept", "text/event-stream")
            .build()
            .ok()?;
        let limits = Limits {
            timeout: self.limits.timeout.min(Duration::from_secs(3)),
            max_body: 16 * 1024,
        };
        let stop = |_: Option<&str>, b: &[u8]| wire::legacy_endpoint(b).is_some();
        match fetch_until(&self.client, req, limits, stop).await {
            Ok(o) => {
                let ep = (o.status == 200 && wire::is_sse(o.header("content-type")))
                    .then(|| wire::legacy_endpoint(&o.body))
                    .flatten();
                steps.push(format!(
                    "GET (legacy HTTP+SSE probe) → HTTP {}{}",
                    o.status,
                    if ep.is_some() {
                        ", `endpoint` event"
                    } else {
                        ""
                    }
                ));
                ep
            }
            Err(e) => {
                steps.push(format!("GET (legacy HTTP+SSE probe) failed: {e}"));
                None
            }
        }
    }
}

enum Discovery {
    /// Discovery settled the matter: a stateless handshake, or a fatal failure.
    Done(Box<Result<Handshake, HandshakeFailure>>),
    /// Not a stateless server (or not one we share a version with): try `initialize`.
    Legacy,
}

/// A notification: `params` is an object or absent, never `null` (JSON-RPC 2.0
/// § 4.2: "params ... MUST be a Structured value"; a session-era notification
/// carries no per-request `_meta`, so it has no `params` at all).
pub(crate) fn notification_body(method: &str, params: Value) -> Value {
    let mut body = json!({"jsonrpc": "2.0", "method": method});
    if !params.is_null() {
        body["params"] = params;
    }
    body
}

fn str_at(v: Option<&Value>, key: &str) -> Option<String> {
    v.and_then(|v| v.get(key))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// What a redirect of the MCP endpoint does to clients: 307/308 keep the
/// POST and its body, and clients that follow redirects (the Python SDK's
/// httpx client, `fetch`-based clients) reach the target; 301/302/303 turn
/// the POST into a GET in most HTTP clients, so the JSON-RPC body is lost.
pub fn redirect_effect(status: u16) -> &'static str {
    match status {
        307 | 308 => {
            "clients that follow redirects (the Python SDK, fetch-based clients) reach the target with the POST intact, clients that do not follow them fail"
        }
        _ => "clients that follow it turn the POST into a GET and lose the JSON-RPC body",
    }
}

/// The longest `Retry-After` Runway waits before its one retry of a 429.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(10);

/// How long to wait before retrying a 429: its `Retry-After` in seconds
/// (1 s when absent or a date), `None` when the server asks for longer than
/// [`MAX_RETRY_WAIT`].
pub fn retry_wait(o: &Observed) -> Option<Duration> {
    let secs = o
        .header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(1);
    let wait = Duration::from_secs(secs);
    (wait <= MAX_RETRY_WAIT).then_some(wait)
}

/// Turns an observed HTTP response into the result of request `id`.
pub fn decode_reply(o: &Observed, id: &Value, timeout: Duration) -> Result<Value, RpcFailure> {
    if o.status == 429 {
        return Err(RpcFailure::RateLimited);
    }
    let decoded = wire::decode_body(o.header("content-type"), &o.body);
    let messages = match decoded {
        Ok(m) => m,
        Err(e) => {
            if !(200..300).contains(&o.status) {
                return Err(RpcFailure::Status(o.status));
            }
            if o.truncated && matches!(e, DecodeError::Empty) {
                return Err(RpcFailure::Timeout(timeout));
            }
            return Err(RpcFailure::Decode(e));
        }
    };
    match wire::response_for(&messages, id).or_else(|| {
        // An error about an unparseable request cannot echo our id.
        messages.iter().find(|m| {
            matches!(
                m,
                Message::Error {
                    id: Value::Null,
                    ..
                }
            )
        })
    }) {
        Some(Message::Result { result, .. }) if (200..300).contains(&o.status) => {
            Ok(result.clone())
        }
        // An error, but about another id: say that, not "no error body".
        None if messages.iter().any(|m| matches!(m, Message::Error { .. })) => {
            match messages.iter().find(|m| matches!(m, Message::Error { .. })) {
                Some(Message::Error {
                    id: other,
                    code,
                    message,
                    ..
                }) => Err(RpcFailure::WrongId {
                    id: other.clone(),
                    code: *code,
                    message: message.clone(),
                }),
                _ => Err(RpcFailure::NoResponse),
            }
        }
        Some(Message::Result { .. }) => Err(RpcFailure::Status(o.status)),
        Some(Message::Error {
            code,
            message,
            data,
            ..
        }) => Err(RpcFailure::Error {
            code: *code,
            message: message.clone(),
            data: data.clone(),
        }),
        _ if !(200..300).contains(&o.status) => Err(RpcFailure::Status(o.status)),
        _ if o.truncated => Err(RpcFailure::Timeout(timeout)),
        _ => Err(RpcFailure::NoResponse),
    }
}

/// [`fetch_until_response`], once more after a 429: a 429 is the server
/// pacing Runway, not a verdict on the request, so Runway waits what
/// `Retry-After` asks (bounded by [`MAX_RETRY_WAIT`]) and sends it again.
pub async fn fetch_retrying(
    client: &reqwest::Client,
    req: reqwest::Request,
    limits: Limits,
    id: &Value,
) -> Result<Observed, FetchError> {
    let url = req.url().clone();
    super::pace::wait_turn(&url).await;
    let retry = req.try_clone();
    let first = fetch_until_response(client, req, limits, id).await;
    match (&first, retry) {
        (Ok(o), Some(again)) if o.status == 429 => match retry_wait(o) {
            Some(wait) => {
                // Pace every later request to this origin too.
                super::pace::slow_down(&url, wait);
                tokio::time::sleep(wait).await;
                fetch_until_response(client, again, limits, id).await
            }
            None => first,
        },
        _ => first,
    }
}

/// [`fetch_until`] that stops once an SSE body holds the response to `id`.
pub async fn fetch_until_response(
    client: &reqwest::Client,
    req: reqwest::Request,
    limits: Limits,
    id: &Value,
) -> Result<Observed, FetchError> {
    let stop = |ct: Option<&str>, b: &[u8]| {
        wire::is_sse(ct)
            && wire::decode_body(ct, b)
                .map(|m| wire::response_for(&m, id).is_some())
                .unwrap_or(false)
    };
    fetch_until(client, req, limits, stop).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_era_notification_has_no_null_params() {
        let body = notification_body("notifications/initialized", Value::Null);
        assert_eq!(
            body,
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
        );
        let meta = notification_body("x", json!({"_meta": {}}));
        assert_eq!(meta["params"], json!({"_meta": {}}));
    }
}
