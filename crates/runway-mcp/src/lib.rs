//! Runway's own operations as an MCP server, for the agents that run the runbook.
//!
//! An agent (Claude Desktop, Claude Code, Cursor, any MCP client) asks "what
//! would the next release be?", "is staging healthy?", "what happened last
//! night?"; this crate answers over MCP with the same data the CLI prints
//! with `--format json`: tools over runway-release, runway-verify,
//! runway-ledger and runway-runbook, the ledger records and the project files as resources, and
//! prompts for a postmortem and a release review. The tools only read unless
//! `runway.toml` says `[mcp] allow_writes = true`; then the writing tools
//! (incident open/ack/resolve, changelog write, deploy, rollback) are listed,
//! each behind a plan tool whose one-use, short-lived plan id the write must
//! name.
//!
//! Two transports: [`serve_io`] (stdio, how desktop clients start a server)
//! and [`spawn_http`] (streamable HTTP on loopback, both protocol eras,
//! behind a bearer token, an `Origin` check and `runway-serve`'s guards).

mod catalogue;
mod error;
mod handler;
mod http;
mod ops;
mod plans;
mod redact;
mod runbook;
mod tools;
mod writes;

use std::net::SocketAddr;
use std::sync::Arc;

use rmcp::ServiceExt as _;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use runway_core::Secret;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use error::{OpError, ServeError};
pub use ops::Workspace;
pub use redact::config_text;
pub use tools::TOOL_NAMES;
pub use writes::{CHANGELOG_WRITTEN, WRITE_TOOLS};

/// The most of a file a resource returns.
pub const MAX_RESOURCE_BYTES: usize = 1024 * 1024;

/// How the HTTP transport listens.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub bind: SocketAddr,
    /// Required on `/mcp` as `Authorization: Bearer <token>` when set.
    pub token: Option<Secret>,
    /// Origins a browser may call from; empty means the server's own address only.
    pub allowed_origins: Vec<String>,
    /// Names the server answers to besides its address and `localhost`
    /// (behind a proxy); a request with any other `Host` is refused.
    pub allowed_hosts: Vec<String>,
    /// Listen on a non-loopback address (behind a TLS proxy); refused otherwise.
    pub allow_remote: bool,
}

impl HttpOptions {
    /// A free port on 127.0.0.1 behind `token`, answering only its own address.
    pub fn loopback(token: Option<Secret>) -> HttpOptions {
        HttpOptions {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            token,
            allowed_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            allow_remote: false,
        }
    }
}

/// How long requests under way may take once the server is asked to stop.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// A server running in the background. Stops on [`Running::shutdown`] or when dropped.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    /// `http://HOST:PORT/mcp`.
    pub mcp_url: String,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, ends sessions, and waits a few seconds for open connections.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(std::time::Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }

    /// Waits until the server stops (it only stops when shut down).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
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

/// MCP over any byte streams (newline-delimited JSON-RPC) until `reader` closes.
pub async fn serve_io<R, W>(ws: Workspace, reader: R, writer: W) -> Result<(), ServeError>
where
    R: tokio::io::AsyncRead + Send + Unpin + 'static,
    W: tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let handler = handler::Runway::new(Arc::new(ws));
    // Each stateless result names the server in `_meta` (rmcp's types do
    // not): rmcp's lines pass through a copy that adds it.
    let (rmcp_out, from_rmcp) = tokio::io::duplex(64 * 1024);
    tokio::spawn(name_results(from_rmcp, writer));
    let running = handler
        .serve((reader, rmcp_out))
        .await
        .map_err(|e| ServeError::Handshake(Box::new(e)))?;
    running.waiting().await.map_err(ServeError::Task)?;
    Ok(())
}

/// Copies rmcp's output lines to `writer`, whole lines at a time, with
/// `serverInfo` added to each stateless result.
async fn name_results<W>(from: tokio::io::DuplexStream, mut writer: W)
where
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
        let out = runway_serve::jsonrpc::add_server_info_bytes(
            &line,
            "runway",
            env!("CARGO_PKG_VERSION"),
        );
        if writer.write_all(&out).await.is_err() || writer.flush().await.is_err() {
            break;
        }
    }
}

/// MCP over this process's stdin and stdout until stdin closes.
pub async fn serve_stdio(ws: Workspace) -> Result<(), ServeError> {
    serve_io(ws, tokio::io::stdin(), tokio::io::stdout()).await
}

/// Binds `opts.bind` and serves streamable HTTP on `/mcp` in the background,
/// through `runway_serve::serve` (the header deadline, connection cap and
/// Host allow-list every Runway server has).
pub async fn spawn_http(ws: Workspace, opts: HttpOptions) -> Result<Running, ServeError> {
    if !opts.bind.ip().is_loopback() && !opts.allow_remote {
        return Err(ServeError::NotLoopback { addr: opts.bind });
    }
    let listen = |source| ServeError::Listen {
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
    let allowed_origins = if opts.allowed_origins.is_empty() {
        let mut own = vec![base_url.clone()];
        if addr.ip().is_loopback() {
            own.push(format!("http://localhost:{}", addr.port()));
        }
        own
    } else {
        opts.allowed_origins.clone()
    };
    let hosts = runway_serve::Hosts::for_listener(addr, &opts.allowed_hosts);
    let shutdown = CancellationToken::new();
    // `runway_serve` checks `Host` on every route before rmcp sees a request,
    // against the configured names too, which rmcp's own list would refuse.
    let config = StreamableHttpServerConfig::default()
        .with_json_response(true)
        .with_cancellation_token(shutdown.child_token())
        .disable_allowed_hosts();
    let shared = handler::Runway::new(Arc::new(ws));
    let sessions = Arc::new(LocalSessionManager::default());
    let mcp = StreamableHttpService::new(move || Ok(shared.clone()), sessions.clone(), config);
    let state = Arc::new(http::HttpState {
        token: opts.token.clone(),
        allowed_origins,
        anonymous: runway_serve::Limiter::new(runway_serve::RateLimit::ANONYMOUS),
        sessions,
        mcp,
    });
    let app = http::router(state);
    let stop = shutdown.clone();
    let task = tokio::spawn(async move {
        let served = runway_serve::serve(
            listener,
            app,
            hosts,
            stop.cancelled_owned(),
            runway_serve::Limits {
                shutdown_grace: SHUTDOWN_GRACE,
                ..runway_serve::Limits::default()
            },
        )
        .await;
        if let Err(e) = served {
            tracing::error!("the MCP server stopped: {e}");
        }
    });
    Ok(Running {
        addr,
        mcp_url: format!("{base_url}/mcp"),
        shutdown,
        task: Some(task),
    })
}
