//! A reference MCP server with switches that inject each fault Runway's checks must catch.
//!
//! Runway's tests and `runway demo` need a real MCP server to verify: one that is right
//! on every line of the contract in `REFERENCE_API.md` by default, and wrong on exactly
//! one line per [`Faults`] switch. It is built on rmcp (both protocol eras over
//! streamable HTTP, or the session era over stdio) with axum layers for auth, rate
//! limiting, security headers, CORS and Origin checks.
//!
//! ```no_run
//! # async fn demo() -> Result<(), runway_reference::ReferenceError> {
//! let server = runway_reference::spawn(runway_reference::Options::default()).await?;
//! println!("{}", server.mcp_url);
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod faults;
mod handler;
mod http;
mod metrics;
mod mrtr;
mod requestlog;
mod rewrite;
mod tools;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rmcp::ServiceExt as _;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use runway_core::Secret;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use faults::{FaultError, Faults, token_bucket};
pub use handler::{PAGE_SIZE, WRONG_VERSION};
pub use http::AUTHORIZATION_SERVER;
pub use metrics::SERIES as METRIC_SERIES;
pub use requestlog::{LogFormat, line as log_line};
pub use tools::{BAD_SCHEMA_TOOL, FEW_TOOLS, SLOW_MAX_MS, TOOL_NAMES};

/// Which protocol eras `/mcp` speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EraSupport {
    /// `initialize` + `Mcp-Session-Id` (2024-11-05 to 2025-11-25) and `server/discover` (2026-07-28).
    #[default]
    Both,
    /// Only the session era: `server/discover` is refused as an unsupported version.
    SessionOnly,
    /// Only 2026-07-28: `initialize` is refused, every request must carry its version.
    StatelessOnly,
}

/// At most `requests` per `window`, per client IP (`runway_serve`'s, shared with `runway mcp`).
pub use runway_serve::RateLimit;

/// How to run the server. `Options::default()` is the well-behaved server on a free
/// loopback port with no token.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen; default `127.0.0.1:0` (a free port).
    pub bind: SocketAddr,
    /// When set, `/mcp` requires `Authorization: Bearer <token>`. A [`Secret`],
    /// so `{:?}` of the options never shows it.
    pub token: Option<Secret>,
    /// More tokens `/mcp` accepts beside `token` (only when `token` is set): the
    /// users whose traffic `reject-tokens` splits.
    pub user_tokens: Vec<Secret>,
    /// When set, `/mcp` reads the token as is from this header (`X-API-Key`)
    /// instead of `Authorization: Bearer`, as servers with an API key do.
    pub token_header: Option<::http::HeaderName>,
    /// `serverInfo.version` and the `/health` version; default this crate's version.
    pub version: String,
    pub era: EraSupport,
    /// Origins allowed on `/mcp` and echoed by CORS. Empty means the server's own
    /// `http://127.0.0.1:PORT` (and `http://localhost:PORT`).
    pub allowed_origins: Vec<String>,
    /// Budget for `/mcp` requests without a valid token; default 20 per second per IP.
    pub anonymous_rate_limit: Option<RateLimit>,
    /// Budget for requests with a valid token; default unlimited.
    pub token_rate_limit: Option<RateLimit>,
    pub faults: Faults,
    /// One output line (stdout) per `tools/list` and tool call, in this
    /// format; `None` logs nothing (but `log-errors` logs in text).
    pub log_requests: Option<LogFormat>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            token: None,
            user_tokens: Vec::new(),
            token_header: None,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            era: EraSupport::Both,
            allowed_origins: Vec::new(),
            anonymous_rate_limit: Some(RateLimit::ANONYMOUS),
            token_rate_limit: None,
            faults: Faults::default(),
            log_requests: None,
        }
    }
}

/// A server running in the background. Stops on [`Running::shutdown`] or when dropped.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    /// `base_url` + `/mcp`.
    pub mcp_url: String,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

/// How long [`Running::shutdown`] waits for open connections before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

impl Running {
    /// Stops accepting, wakes sleeping tools and hung requests, ends sessions, and
    /// waits (at most a few seconds) for open connections to finish.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(SHUTDOWN_GRACE, task).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn shared(opts: &Options, shutdown: &CancellationToken) -> Arc<handler::Shared> {
    Arc::new(handler::Shared {
        version: opts.version.clone(),
        faults: opts.faults.clone(),
        era: opts.era,
        shutdown: shutdown.clone(),
        calls: Default::default(),
        listings: Default::default(),
        state_key: mrtr::StateKey::random(),
        log_requests: opts.log_requests,
        logged: Default::default(),
        // Every byte written, so the pages are resident, not only reserved.
        _hog: vec![1u8; opts.faults.hog_memory.unwrap_or(0) as usize * 1024 * 1024],
    })
}

/// Why the reference server could not start or stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    #[error("cannot listen on `{addr}`")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the stdio client did not complete the `initialize` handshake")]
    Handshake(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the stdio server task failed")]
    Task(#[source] tokio::task::JoinError),
}

impl runway_core::Diagnostic for ReferenceError {
    fn hint(&self) -> Option<String> {
        match self {
            ReferenceError::Listen { .. } => Some(
                "another process may hold the port: pick another `--port`, or `0` for a free one"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// Binds `opts.bind` and serves the HTTP surface in the background.
pub async fn spawn(opts: Options) -> Result<Running, ReferenceError> {
    let listen = |source| ReferenceError::Listen {
        addr: opts.bind,
        source,
    };
    let listener = tokio::net::TcpListener::bind(opts.bind)
        .await
        .map_err(listen)?;
    let addr = listener.local_addr().map_err(listen)?;
    let host = match addr.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    let base_url = format!("http://{host}:{}", addr.port());
    let mcp_url = format!("{base_url}/mcp");
    let allowed_origins = if opts.allowed_origins.is_empty() {
        let mut own = vec![base_url.clone()];
        if host == "127.0.0.1" {
            own.push(format!("http://localhost:{}", addr.port()));
        }
        own
    } else {
        opts.allowed_origins.clone()
    };

    let shutdown = CancellationToken::new();
    let shared = shared(&opts, &shutdown);
    let mut config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(opts.era != EraSupport::StatelessOnly)
        .with_stateless_protocol_metadata_required(opts.era == EraSupport::StatelessOnly)
        .with_json_response(true)
        .with_cancellation_token(shutdown.child_token());
    if !addr.ip().is_loopback() {
        // Reachable under names we cannot know; the Origin check still guards browsers.
        config = config.disable_allowed_hosts();
    }
    let factory_shared = shared.clone();
    let mcp = StreamableHttpService::new(
        move || Ok(handler::Reference::new(factory_shared.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let state = Arc::new(http::HttpState {
        shared,
        token: opts.token.clone(),
        user_tokens: opts.user_tokens.clone(),
        token_header: opts.token_header.clone(),
        echo_calls: Default::default(),
        base_url: base_url.clone(),
        mcp_url: mcp_url.clone(),
        allowed_origins,
        anon_limiter: opts.anonymous_rate_limit.map(runway_serve::Limiter::new),
        token_limiter: opts.token_rate_limit.map(runway_serve::Limiter::new),
        metrics: metrics::Metrics::for_version(&opts.version),
        mcp,
    });
    let app = http::router(state);
    let stop = shutdown.clone();
    let task = tokio::spawn(async move {
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stop.cancelled_owned())
        .await;
        if let Err(e) = served {
            tracing::error!("the reference server stopped: {e}");
        }
    });
    Ok(Running {
        addr,
        base_url,
        mcp_url,
        shutdown,
        task: Some(task),
    })
}

/// MCP over this process's stdin and stdout (session era), until stdin closes.
pub async fn serve_stdio(opts: Options) -> Result<(), ReferenceError> {
    serve_io(opts, tokio::io::stdin(), tokio::io::stdout()).await
}

/// MCP over any byte streams (newline-delimited JSON-RPC), until `reader` closes.
pub async fn serve_io<R, W>(opts: Options, reader: R, writer: W) -> Result<(), ReferenceError>
where
    R: tokio::io::AsyncRead + Send + Unpin + 'static,
    W: tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let shutdown = CancellationToken::new();
    let _stop_tools = shutdown.clone().drop_guard();
    let shared = shared(&opts, &shutdown);
    let handler = handler::Reference::new(shared.clone());
    // rmcp's types cannot hold what the reference adds or breaks in the
    // bytes (`rewrite`): its lines pass through a rewriting copy each way.
    let (rmcp_out, from_rmcp) = tokio::io::duplex(64 * 1024);
    let (to_rmcp, rmcp_in) = tokio::io::duplex(64 * 1024);
    tokio::spawn(rewrite_lines(
        from_rmcp,
        writer,
        shared.clone(),
        Direction::Out,
    ));
    tokio::spawn(rewrite_lines(
        reader,
        to_rmcp,
        shared.clone(),
        Direction::In,
    ));
    let running = handler
        .serve((rmcp_in, rmcp_out))
        .await
        .map_err(|e| ReferenceError::Handshake(Box::new(e)))?;
    // `crash-on-unknown-method` stops the server as a crash would.
    tokio::select! {
        done = running.waiting() => { done.map_err(ReferenceError::Task)?; }
        () = shutdown.cancelled() => {}
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Direction {
    In,
    Out,
}

/// Copies newline-delimited JSON-RPC from `from` to `to`, one whole line at a
/// time, through [`rewrite`] (`Out`: rmcp's answers; `In`: the client's requests).
async fn rewrite_lines<R, W>(from: R, mut to: W, shared: Arc<handler::Shared>, dir: Direction)
where
    R: tokio::io::AsyncRead + Send + Unpin + 'static,
    W: tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let mut from = tokio::io::BufReader::new(from);
    let mut line = Vec::new();
    loop {
        line.clear();
        match from.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let out = match dir {
            Direction::Out => rewrite::outgoing_bytes(&line, &shared),
            Direction::In if rewrite::rewrites_incoming(&shared.faults) => {
                match serde_json::from_slice::<serde_json::Value>(&line) {
                    Ok(mut v) => {
                        if rewrite::incoming(&mut v, &shared.faults) {
                            let mut b = v.to_string().into_bytes();
                            b.push(b'\n');
                            b
                        } else {
                            line.clone()
                        }
                    }
                    Err(_) => line.clone(),
                }
            }
            Direction::In => line.clone(),
        };
        if to.write_all(&out).await.is_err() || to.flush().await.is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_debug_never_shows_the_token() {
        let opts = Options {
            token: Some(Secret::new("reference-token-7781")),
            ..Options::default()
        };
        let shown = format!("{opts:?} {opts:#?}");
        assert!(!shown.contains("reference-token-7781"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }
}
