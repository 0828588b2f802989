//! Latency and load: `concurrency` workers send a chosen request until a count
//! or a time is reached, and the latencies go into an HDR histogram.
//!
//! With a target rate, request `i` is due at `start + i / rate` and its latency
//! is measured from that intended send time, not from when a worker got round
//! to it. Otherwise a server that stalls would delay its own measurements and
//! look fast (coordinated omission).

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use runway_core::{CheckResult, Era, Evidence};

use crate::{
    context::{Context, LoadSettings, LoadTarget},
    http,
    mcp::{raw, wire},
};

/// No run goes on longer than this, whatever it was asked.
pub const MAX_DURATION: Duration = Duration::from_secs(600);
/// Nor sends more than this.
pub const MAX_REQUESTS: u64 = 10_000_000;
/// Workers are capped too.
pub const MAX_CONCURRENCY: usize = 1024;
/// The default size of a run bounded by neither count nor time.
pub const DEFAULT_REQUESTS: u64 = 200;

/// The figures of one run. Times are in milliseconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LoadStats {
    pub requests: u64,
    pub errors: u64,
    pub error_rate: f64,
    pub elapsed_s: f64,
    pub throughput_rps: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    pub concurrency: usize,
    /// HTTP statuses seen, and `error` for requests with no response.
    pub statuses: BTreeMap<String, u64>,
    /// True when latency was measured from intended send times.
    pub corrected: bool,
    /// What was sent: `GET /health`, `tools/list`, `tools/call echo`.
    pub target: String,
    /// The requests went to the MCP endpoint (judged by the tool budget).
    pub mcp: bool,
}

/// What every worker sends.
#[derive(Clone)]
enum Prepared {
    Get(url::Url),
    /// One JSON-RPC request to the MCP endpoint (`tools/call`, `tools/list`).
    Rpc {
        url: url::Url,
        era: Era,
        session: Option<String>,
        method: String,
        /// `params` of every request (with the era's `_meta`), serialised once.
        params: String,
        /// What the report calls it: `tools/call echo`, `tools/list`.
        label: String,
    },
}

/// `path` on the MCP endpoint's origin, or a full URL.
fn resolve(url: &url::Url, path: &str) -> Result<url::Url, LoadError> {
    let parsed = if path.starts_with("http://") || path.starts_with("https://") {
        url::Url::parse(path)
    } else {
        url.join(path)
    };
    parsed.map_err(|source| LoadError::Path {
        path: path.to_owned(),
        source,
    })
}

/// Why a load run could not start.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("load runs need an HTTP target")]
    NotHttp,
    #[error("`{path}`: {source}")]
    Path {
        path: String,
        source: url::ParseError,
    },
    #[error("the request cannot be built: {0}")]
    Request(#[from] reqwest::Error),
    #[error("`initialize` failed: {0}")]
    Initialize(#[from] http::FetchError),
    #[error("`initialize` answered {0}")]
    InitializeStatus(u16),
    #[error("a load worker stopped: {0}")]
    Worker(#[from] tokio::task::JoinError),
}

/// One JSON-RPC response out of a JSON or `text/event-stream` body.
pub fn jsonrpc_response(body: &[u8]) -> Option<serde_json::Value> {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        return Some(v);
    }
    let text = std::str::from_utf8(body).ok()?;
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d.trim()).ok())
        .find(|v| v.get("result").is_some() || v.get("error").is_some())
}

impl Prepared {
    async fn prepare(
        ctx: &Context,
        client: &reqwest::Client,
        target: &LoadTarget,
        era: &Era,
    ) -> Result<Prepared, LoadError> {
        let url = ctx.url().ok_or(LoadError::NotHttp)?.clone();
        match target {
            LoadTarget::Http { path } => Ok(Prepared::Get(resolve(&url, path)?)),
            LoadTarget::ToolCall { tool, arguments } => {
                let params = serde_json::json!({"name": tool, "arguments": arguments});
                Self::rpc(
                    ctx,
                    client,
                    url,
                    era,
                    "tools/call",
                    params,
                    format!("tools/call {tool}"),
                )
                .await
            }
            LoadTarget::Auto => {
                // The health endpoint when the server serves it; otherwise the
                // MCP endpoint itself, so a missing path is never counted as
                // the server failing under load.
                if let Some(h) = &ctx.paths.health {
                    let u = resolve(&url, &h.path)?;
                    let served = match client.get(u.clone()).header("accept", "*/*").build() {
                        Ok(req) => http::fetch(client, req, ctx.limits)
                            .await
                            .is_ok_and(|o| (200..300).contains(&o.status)),
                        Err(_) => false,
                    };
                    if served {
                        return Ok(Prepared::Get(u));
                    }
                }
                Self::rpc(
                    ctx,
                    client,
                    url,
                    era,
                    "tools/list",
                    serde_json::json!({}),
                    "tools/list".into(),
                )
                .await
            }
        }
    }

    /// A JSON-RPC load target, with a session opened first where the era needs one.
    async fn rpc(
        ctx: &Context,
        client: &reqwest::Client,
        url: url::Url,
        era: &Era,
        method: &str,
        params: serde_json::Value,
        label: String,
    ) -> Result<Prepared, LoadError> {
        let token = ctx.token.as_ref().map(|t| t.expose());
        let mut session = None;
        if !matches!(era, Era::Stateless { .. }) {
            let auth = raw::RawAuth {
                bearer: token,
                header: ctx.auth_header.as_deref(),
                ..Default::default()
            };
            let req = raw::mcp_post(client, &url, era, &raw::opening_body(era), auth).build()?;
            let o = http::fetch(client, req, ctx.limits).await?;
            if !(200..300).contains(&o.status) {
                return Err(LoadError::InitializeStatus(o.status));
            }
            session = o.header("mcp-session-id").map(str::to_owned);
            let note = serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
            let auth = raw::RawAuth {
                bearer: token,
                header: ctx.auth_header.as_deref(),
                session: session.as_deref(),
                origin: None,
            };
            if let Ok(req) = raw::mcp_post(client, &url, era, &note, auth).build() {
                let _ = http::fetch(client, req, ctx.limits).await;
            }
        }
        Ok(Prepared::Rpc {
            url,
            era: era.clone(),
            session,
            method: method.to_owned(),
            params: wire::with_meta(era, params).to_string(),
            label,
        })
    }

    fn describe(&self) -> String {
        match self {
            Prepared::Get(u) => format!("GET {}", u.path()),
            Prepared::Rpc { label, .. } => label.clone(),
        }
    }

    fn request(&self, ctx: &Context, client: &reqwest::Client, n: u64) -> reqwest::RequestBuilder {
        match self {
            Prepared::Get(u) => client.get(u.clone()).header("accept", "*/*"),
            Prepared::Rpc {
                url, era, session, ..
            } => {
                let body: serde_json::Value =
                    serde_json::from_slice(&self.body(n)).unwrap_or_default();
                let auth = raw::RawAuth {
                    bearer: ctx.token.as_ref().map(|t| t.expose()),
                    header: ctx.auth_header.as_deref(),
                    session: session.as_deref(),
                    origin: None,
                };
                raw::mcp_post(client, url, era, &body, auth)
            }
        }
    }

    /// Whether a response counts as a success.
    fn ok(&self, status: u16, body: &[u8]) -> bool {
        if !(200..300).contains(&status) {
            return false;
        }
        match self {
            Prepared::Get(_) => true,
            Prepared::Rpc { .. } => jsonrpc_response(body).is_some_and(|v| {
                v.get("error").is_none()
                    && v.pointer("/result/isError").and_then(|e| e.as_bool()) != Some(true)
            }),
        }
    }

    /// The body of request `n` (ids differ: a session rejects a reused one).
    fn body(&self, n: u64) -> bytes::Bytes {
        match self {
            Prepared::Get(_) => bytes::Bytes::new(),
            Prepared::Rpc { method, params, .. } => format!(
                r#"{{"jsonrpc":"2.0","id":{},"method":{},"params":{params}}}"#,
                n + 10,
                serde_json::Value::from(method.as_str())
            )
            .into(),
        }
    }

    /// Whether the body is needed to judge a response.
    fn reads_body(&self) -> bool {
        matches!(self, Prepared::Rpc { .. })
    }

    async fn finish(&self, ctx: &Context, client: &reqwest::Client) {
        if let Prepared::Rpc {
            url,
            session: Some(sid),
            ..
        } = self
        {
            let mut req = client.delete(url.clone()).header("mcp-session-id", sid);
            if let Some(t) = &ctx.token {
                let (name, value) = raw::credential(ctx.auth_header.as_deref(), t.expose());
                req = req.header(name, value);
            }
            if let Ok(r) = req.build() {
                let _ = http::fetch(client, r, ctx.limits).await;
            }
        }
    }
}

/// One request of a load run, bounded by `timeout` as a whole and by `max_body`
/// in bytes. Lighter than [`http::fetch`] (one timer, no header copy) because
/// the load generator's own cost must not be what the run measures.
async fn one(
    client: &reqwest::Client,
    req: reqwest::Request,
    timeout: Duration,
    max_body: usize,
    keep_body: bool,
) -> Option<(u16, Vec<u8>)> {
    let work = async {
        let mut resp = client.execute(req).await.ok()?;
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        // The body is drained (within the timeout) so the connection goes back
        // to the pool; a body cut off by a reset counts as a failed request.
        while let Some(chunk) = resp.chunk().await.ok()? {
            if keep_body {
                let room = max_body.saturating_sub(body.len());
                if room == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
        }
        Some((status, body))
    };
    tokio::time::timeout(timeout, work).await.ok().flatten()
}

/// How a worker puts requests on the wire.
enum Wire {
    /// Plain HTTP: one HTTP/1.1 connection owned by this worker, reopened when
    /// it breaks. No pool, no lock shared with other workers.
    Direct {
        addr: std::net::SocketAddr,
        conn: Option<hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>>,
        /// Method, target and headers, built once; only the body changes.
        template: Option<Box<::http::Request<()>>>,
    },
    /// HTTPS: reqwest (with its TLS and the configured roots).
    Client(reqwest::Client),
}

impl Wire {
    fn new(ctx: &Context, addr: Option<std::net::SocketAddr>) -> Wire {
        match addr {
            Some(addr) => Wire::Direct {
                addr,
                conn: None,
                template: None,
            },
            None => Wire::Client(http::load_client(ctx.limits, &ctx.extra_roots, 1)),
        }
    }

    /// Sends request `n`; `None` when no complete response arrived within `timeout`.
    async fn send(
        &mut self,
        ctx: &Context,
        client: &reqwest::Client,
        prepared: &Prepared,
        n: u64,
        timeout: Duration,
        max_body: usize,
    ) -> Option<(u16, Vec<u8>)> {
        let keep_body = prepared.reads_body();
        match self {
            Wire::Client(c) => {
                let req = prepared.request(ctx, client, n).build().ok()?;
                one(c, req, timeout, max_body, keep_body).await
            }
            Wire::Direct {
                addr,
                conn,
                template,
            } => {
                let addr = *addr;
                if template.is_none() {
                    *template =
                        to_hyper(&prepared.request(ctx, client, n).build().ok()?).map(Box::new);
                }
                let t = template.as_ref()?;
                let mut hreq = ::http::Request::new(http_body_util::Full::new(prepared.body(n)));
                *hreq.method_mut() = t.method().clone();
                *hreq.uri_mut() = t.uri().clone();
                *hreq.headers_mut() = t.headers().clone();
                let work = async {
                    if conn.as_ref().is_none_or(|c| c.is_closed()) {
                        *conn = connect(addr).await;
                    }
                    let sender = conn.as_mut()?;
                    sender.ready().await.ok()?;
                    let resp = sender.send_request(hreq).await.ok()?;
                    let status = resp.status().as_u16();
                    let body = read_body(resp.into_body(), max_body, keep_body).await?;
                    Some((status, body))
                };
                let out = tokio::time::timeout(timeout, work).await.ok().flatten();
                if out.is_none() {
                    // The connection's state is unknown after a failure: start afresh.
                    *conn = None;
                }
                out
            }
        }
    }
}

async fn connect(
    addr: std::net::SocketAddr,
) -> Option<hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>> {
    let tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
    let _ = tcp.set_nodelay(true);
    let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
        .await
        .ok()?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Some(sender)
}

/// The same request head for hyper: origin-form target, the headers, a `Host`.
fn to_hyper(req: &reqwest::Request) -> Option<::http::Request<()>> {
    let url = req.url();
    let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
    let host = &url[url::Position::BeforeHost..url::Position::AfterPort];
    let mut out = ::http::Request::builder()
        .method(req.method().clone())
        .uri(target)
        .body(())
        .ok()?;
    *out.headers_mut() = req.headers().clone();
    let h = out.headers_mut();
    h.insert(::http::header::HOST, host.parse().ok()?);
    // Bodies differ in length (the id grows); hyper sets it from each body.
    h.remove(::http::header::CONTENT_LENGTH);
    h.entry(::http::header::USER_AGENT)
        .or_insert(::http::HeaderValue::from_static(concat!(
            "runway/",
            env!("CARGO_PKG_VERSION")
        )));
    Some(out)
}

/// Reads a body: kept up to `max_body` bytes (more is a failure) or drained.
async fn read_body(body: hyper::body::Incoming, max_body: usize, keep: bool) -> Option<Vec<u8>> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.ok()?;
        if let Some(data) = frame.data_ref()
            && keep
        {
            if out.len() + data.len() > max_body {
                return None;
            }
            out.extend_from_slice(data);
        }
    }
    Some(out)
}

fn histogram() -> Histogram<u64> {
    // Microseconds from 1 µs to 10 minutes, 3 significant digits.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("constant histogram bounds are valid")
}

/// Runs a load with `settings` against the context's server.
pub async fn run(
    ctx: &Context,
    client: &reqwest::Client,
    settings: &LoadSettings,
    era: &Era,
) -> Result<LoadStats, LoadError> {
    let prepared = Arc::new(Prepared::prepare(ctx, client, &settings.target, era).await?);
    let concurrency = settings.concurrency.clamp(1, MAX_CONCURRENCY);
    let duration = settings.duration.map(|d| d.min(MAX_DURATION));
    let total = match (settings.requests, duration) {
        (Some(n), _) => n.min(MAX_REQUESTS),
        (None, Some(_)) => MAX_REQUESTS,
        (None, None) => DEFAULT_REQUESTS,
    };
    let rate = settings.rate.filter(|r| r.is_finite() && *r > 0.0);
    let started = Instant::now();
    let deadline = started + duration.unwrap_or(MAX_DURATION);
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let progress_total = if settings.requests.is_some() || duration.is_none() {
        total
    } else {
        0
    };
    let timeout = ctx.limits.timeout;
    let max_body = ctx.limits.max_body.min(256 * 1024);
    // Plain HTTP goes straight to the socket; the address is resolved once.
    let direct = match &*prepared {
        Prepared::Get(u) | Prepared::Rpc { url: u, .. } if u.scheme() == "http" => {
            let target = format!(
                "{}:{}",
                u.host_str().unwrap_or_default(),
                u.port_or_known_default().unwrap_or(80)
            );
            tokio::time::timeout(timeout, tokio::net::lookup_host(target))
                .await
                .ok()
                .and_then(|r| r.ok())
                .and_then(|mut a| a.next())
        }
        _ => None,
    };

    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let prepared = prepared.clone();
        let next = next.clone();
        let done = done.clone();
        let mut wire = Wire::new(ctx, direct);
        // Requests are built with reqwest's builder (shared with the checks) and
        // sent by the worker's own wire.
        let client = client.clone();
        let ctx = ctx.clone();
        workers.push(tokio::spawn(async move {
            let mut h = histogram();
            let mut errors = 0u64;
            let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let intended = match rate {
                    Some(r) => {
                        let at = started + Duration::from_secs_f64(i as f64 / r);
                        if at >= deadline {
                            break;
                        }
                        tokio::time::sleep_until(at.into()).await;
                        at
                    }
                    None => {
                        let now = Instant::now();
                        if now >= deadline {
                            break;
                        }
                        now
                    }
                };
                let outcome = wire
                    .send(&ctx, &client, &prepared, i, timeout, max_body)
                    .await;
                h.saturating_record(intended.elapsed().as_micros().max(1) as u64);
                match outcome {
                    Some((status, body)) => {
                        *statuses.entry(status.to_string()).or_default() += 1;
                        if !prepared.ok(status, &body) {
                            errors += 1;
                        }
                    }
                    None => {
                        *statuses.entry("error".to_owned()).or_default() += 1;
                        errors += 1;
                    }
                }
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                if let Some(p) = &ctx.progress {
                    (p.0)(d, progress_total);
                }
            }
            (h, errors, statuses)
        }));
    }
    let mut h = histogram();
    let mut errors = 0;
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    for w in workers {
        let (wh, we, ws) = w.await?;
        let _ = h.add(&wh);
        errors += we;
        for (k, v) in ws {
            *statuses.entry(k).or_default() += v;
        }
    }
    let elapsed = started.elapsed();
    prepared.finish(ctx, client).await;
    let requests = h.len();
    let q = |x: f64| h.value_at_quantile(x) as f64 / 1000.0;
    Ok(LoadStats {
        requests,
        errors,
        error_rate: if requests == 0 {
            0.0
        } else {
            errors as f64 / requests as f64
        },
        elapsed_s: elapsed.as_secs_f64(),
        throughput_rps: if elapsed.is_zero() {
            0.0
        } else {
            requests as f64 / elapsed.as_secs_f64()
        },
        p50_ms: q(0.50),
        p95_ms: q(0.95),
        p99_ms: q(0.99),
        max_ms: h.max() as f64 / 1000.0,
        mean_ms: h.mean() / 1000.0,
        concurrency,
        statuses,
        corrected: rate.is_some(),
        target: prepared.describe(),
        mcp: matches!(*prepared, Prepared::Rpc { .. }),
    })
}

/// `load.latency` and `load.errors`: a run judged against the thresholds.
pub async fn check(ctx: &Context, client: &reqwest::Client, era: &Era) -> Vec<CheckResult> {
    let settings = ctx.load.clone().unwrap_or_default();
    if ctx.url().is_none() {
        return vec![crate::checks::needs_http("load.latency")];
    }
    let started = Instant::now();
    let target_knob = format!(
        "{} or {}",
        ctx.setting(Some("--load-path"), "load.path"),
        ctx.setting(Some("--load-call"), "load.call")
    );
    let stats = match run(ctx, client, &settings, era).await {
        Ok(s) => s,
        Err(e) => {
            return vec![
                CheckResult::fail(
                    "load.latency",
                    ctx.redactor
                        .redact(&format!("the load run could not start: {e}")),
                    format!(
                        "check that the load target ({target_knob}) exists and the token is valid"
                    ),
                )
                .with_duration_ms(crate::checks::ms(started)),
            ];
        }
    };
    let what = stats.target.clone();
    let budget = if stats.mcp {
        ctx.thresholds.tool_p95
    } else {
        ctx.thresholds.api_p95
    };
    let budget_ms = budget.as_secs_f64() * 1000.0;
    let evidence = Evidence {
        request: Some(format!(
            "{what} x{} at concurrency {}{}",
            stats.requests,
            stats.concurrency,
            settings
                .rate
                .map(|r| format!(", {r} req/s"))
                .unwrap_or_default()
        )),
        elapsed_ms: Some(stats.elapsed_s * 1000.0),
        details: serde_json::to_value(&stats).unwrap_or_default(),
        ..Evidence::default()
    };
    // A path the server does not serve measures nothing; it is not the
    // server failing under load.
    let not_served = !stats.mcp
        && stats.requests > 0
        && stats
            .statuses
            .keys()
            .all(|k| matches!(k.as_str(), "404" | "405" | "410" | "501"));
    if not_served {
        let ms = crate::checks::ms(started);
        let statuses: Vec<&str> = stats.statuses.keys().map(String::as_str).collect();
        return vec![
            CheckResult::fail(
                "load.latency",
                format!(
                    "{what} is not served (HTTP {} on every request): the load run measured nothing",
                    statuses.join(", ")
                ),
                format!("point the load run at a path the server serves, or at a tool ({target_knob})"),
            )
            .with_evidence(evidence)
            .with_duration_ms(ms),
            CheckResult::skip("load.errors", format!("{what} is not served"))
                .with_duration_ms(ms),
        ];
    }
    let figures = format!(
        "p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {:.0} req/s",
        stats.p50_ms, stats.p95_ms, stats.p99_ms, stats.max_ms, stats.throughput_rps
    );
    let latency = if stats.requests == 0 {
        CheckResult::fail(
            "load.latency",
            format!("{what}: no request completed"),
            format!(
                "the run ended before any request finished: raise {} or check the server",
                ctx.setting(Some("--load-duration"), "load.duration_secs")
            ),
        )
    } else if stats.p95_ms > budget_ms {
        CheckResult::fail(
            "load.latency",
            format!("{what}: {figures}; p95 over the {budget_ms:.0} ms budget"),
            format!(
                "find the slow path (profile the handler, check database and upstream latency) or scale out; the budget is {}",
                ctx.setting(
                    None,
                    if stats.mcp {
                        "thresholds.tool_p95_ms"
                    } else {
                        "thresholds.api_p95_ms"
                    }
                )
            ),
        )
    } else {
        CheckResult::pass("load.latency", format!("{what}: {figures}"))
    };
    let errors = if stats.error_rate > ctx.thresholds.max_error_rate {
        CheckResult::fail(
            "load.errors",
            format!(
                "{what}: {} of {} requests failed ({:.1}%)",
                stats.errors,
                stats.requests,
                stats.error_rate * 100.0
            ),
            "the server fails under load: look at the statuses in the evidence and the server's logs for timeouts or pool exhaustion",
        )
    } else {
        CheckResult::pass(
            "load.errors",
            format!(
                "{what}: {} of {} requests failed",
                stats.errors, stats.requests
            ),
        )
    };
    let ms = crate::checks::ms(started);
    vec![
        latency.with_evidence(evidence.clone()).with_duration_ms(ms),
        errors.with_evidence(evidence).with_duration_ms(ms),
    ]
}
