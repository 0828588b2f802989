//! Why a Runway operation behind a tool, resource or prompt failed.
//!
//! Each variant keeps the library error it wraps, so the message an agent
//! reads is the one the CLI would print; `Diagnostic` gives the hint.

use std::path::PathBuf;

/// A failed operation; shown to the MCP client as a tool error or a JSON-RPC error.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("`{field}`: {message}")]
    Argument {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Ledger(#[from] runway_ledger::LedgerError),
    #[error(transparent)]
    Release(#[from] runway_release::ReleaseError),
    #[error(transparent)]
    Environment(#[from] runway_verify::EnvironmentError),
    #[error(transparent)]
    Runbook(#[from] runway_runbook::RunbookError),
    #[error(transparent)]
    SurfaceSource(#[from] runway_verify::SurfaceSourceError),
    #[error("cannot read `{path}`")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the result could not be serialised: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{message}")]
    Plan { message: String, hint: String },
    #[error("the operation was cancelled by the client")]
    Cancelled,
    #[error("internal error: {0}")]
    Internal(String),
}

impl runway_core::Diagnostic for OpError {
    fn hint(&self) -> Option<String> {
        match self {
            OpError::Ledger(e) => e.hint(),
            OpError::Release(e) => e.hint(),
            OpError::Environment(e) => e.hint(),
            OpError::SurfaceSource(e) => e.hint(),
            // The CLI prints every hint of the chain; a tool error has room for one text.
            OpError::Runbook(e @ runway_runbook::RunbookError::Surface(source)) => Some(format!(
                "{}; {}",
                source.hint().unwrap_or_default(),
                e.hint().unwrap_or_default()
            )),
            OpError::Runbook(e) => e.hint(),
            OpError::Plan { hint, .. } => Some(hint.clone()),
            OpError::Argument { field, .. } => Some(format!(
                "fix `{field}` (the tool's `inputSchema` lists the accepted values)"
            )),
            _ => None,
        }
    }
}

impl OpError {
    /// The message with its cause chain and hint, as one text for the client.
    pub fn to_text(&self) -> String {
        use runway_core::Diagnostic as _;
        let mut s = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            s.push_str(&format!(": {c}"));
            cause = c.source();
        }
        if let Some(h) = self.hint() {
            s.push_str(&format!(" (hint: {h})"));
        }
        s
    }
}

/// Why `runway mcp` could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on `{addr}`")]
    Listen {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("`--listen {addr}` is not a loopback address")]
    NotLoopback { addr: std::net::SocketAddr },
    #[error("the MCP client did not complete the `initialize` handshake")]
    Handshake(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the MCP server task failed")]
    Task(#[source] tokio::task::JoinError),
}

impl runway_core::Diagnostic for ServeError {
    fn hint(&self) -> Option<String> {
        match self {
            ServeError::Listen { .. } => {
                Some("another process may hold the port: pick another, or `0` for a free one".into())
            }
            ServeError::NotLoopback { .. } => Some(
                "listen on `127.0.0.1:PORT`, or pass `--allow-remote` to serve other hosts behind TLS"
                    .into(),
            ),
            _ => None,
        }
    }

    fn exit(&self) -> runway_core::Exit {
        match self {
            ServeError::NotLoopback { .. } | ServeError::Listen { .. } => runway_core::Exit::Usage,
            _ => runway_core::Exit::Internal,
        }
    }
}
