//! The positive path through rmcp, the official Rust SDK.
//!
//! Used for stdio targets (a child process speaking MCP on stdin/stdout) and,
//! on HTTP targets, as an interoperability check: the SDK a real client uses
//! must be able to connect and list tools. Everything that would hide a
//! fault is switched off: no silent re-initialisation on an expired session,
//! no SSE reconnection retries, no response cache (which would otherwise
//! serve a stale `tools/list` when the server fails).

use std::{sync::Arc, time::Instant};

use rmcp::{
    model::{
        ClientCapabilities, ClientConfig, ClientRequest, Implementation, ProtocolVersion,
        ServerResult,
    },
    service::{ClientLifecycleMode, ClientServiceExt, RoleClient, RunningService, ServiceError},
    transport::{
        StreamableHttpClientTransport, common::client_side_sse::NeverRetry,
        streamable_http_client::StreamableHttpClientTransportConfig,
    },
};
use runway_core::{Era, Evidence, Redactor};
use serde_json::{Value, json};

use super::client::{RpcFailure, RpcReply, ms};
use super::stdio::{Seen, StdioChild};
use crate::context::EraChoice;
use crate::http::Limits;

/// A connected rmcp client; the child process (stdio) is killed on drop.
pub struct SdkConn {
    service: RunningService<RoleClient, ClientConfig>,
    pub limits: Limits,
    pub redactor: Redactor,
    pub label: String,
    /// The era the handshake settled on.
    pub era: Era,
    /// The stdio server (raw lines, what it wrote besides MCP); `None` over HTTP.
    pub child: Option<StdioChild>,
}

/// What the SDK's handshake found.
pub struct SdkHello {
    pub era: Era,
    pub server_name: Option<String>,
    pub server_version: Option<String>,
    pub capabilities: Value,
    /// Set when the first child died on the `server/discover` probe and a
    /// second one was started with `initialize`: what the first one did.
    pub restarted: Option<String>,
}

fn client_config() -> ClientConfig {
    let mut c = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("runway", env!("CARGO_PKG_VERSION")),
    );
    c.protocol_version = ProtocolVersion::V_2025_11_25;
    c
}

impl SdkConn {
    /// Spawns `program` and runs the MCP lifecycle over its stdio: discovery
    /// first, falling back to `initialize` for a session-era server.
    pub async fn stdio(
        program: &str,
        args: &[String],
        env: &[(String, String)],
        cwd: Option<&std::path::Path>,
        choice: EraChoice,
        limits: Limits,
        redactor: Redactor,
    ) -> Result<(SdkConn, SdkHello), String> {
        let spawn = || {
            let mut cmd = tokio::process::Command::new(program);
            cmd.args(args);
            for (k, v) in env {
                cmd.env(k, v);
            }
            if let Some(dir) = cwd {
                cmd.current_dir(dir);
            }
            StdioChild::spawn(cmd, limits.max_body, redactor.clone())
                .map_err(|e| format!("could not start `{program}`: {e}"))
        };
        let lifecycle = match choice {
            EraChoice::Auto => ClientLifecycleMode::Auto {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                legacy_version: Some(ProtocolVersion::V_2025_11_25),
            },
            EraChoice::Session => ClientLifecycleMode::Initialize,
            EraChoice::Stateless => ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        };
        let first = Self::stdio_once(spawn()?, program, lifecycle, limits, &redactor).await;
        match first {
            Ok(x) => Ok(x),
            // A legacy server that dies on the `server/discover` probe (the
            // Python SDK 1.x exits on a method it cannot parse): the
            // specification has the client restart a server that exited
            // (2026-07-28 stdio § Unexpected Termination) and fall back to
            // `initialize` (§ Backward Compatibility).
            Err((e, seen))
                if choice == EraChoice::Auto && (seen.exit.is_some() || seen.stdout_closed) =>
            {
                let died = explain(program, &seen).unwrap_or(e);
                let (conn, mut hello) = Self::stdio_once(
                    spawn()?,
                    program,
                    ClientLifecycleMode::Initialize,
                    limits,
                    &redactor,
                )
                .await
                .map_err(|(e2, _)| format!("{died}; restarted with `initialize`: {e2}"))?;
                hello.restarted = Some(redactor.redact(&died));
                Ok((conn, hello))
            }
            Err((e, _)) => Err(e),
        }
    }

    /// One child, one lifecycle: the connection, or why not and what the child did.
    async fn stdio_once(
        (child, read, write): (StdioChild, tokio::io::DuplexStream, tokio::io::DuplexStream),
        program: &str,
        lifecycle: ClientLifecycleMode,
        limits: Limits,
        redactor: &Redactor,
    ) -> Result<(SdkConn, SdkHello), (String, Seen)> {
        // A server that exits or prints garbage is named as soon as that is
        // certain, not after the handshake's time limit.
        let started = tokio::select! {
            r = Self::start((read, write), lifecycle, limits, redactor.clone(), program.to_owned()) => r,
            seen = child.fatal() => Err(explain(program, &seen).unwrap_or_else(|| "no MCP handshake".into())),
        };
        match started {
            Ok((mut conn, hello)) => {
                conn.child = Some(child);
                Ok((conn, hello))
            }
            Err(e) => {
                let seen = child.settle(std::time::Duration::from_millis(500)).await;
                Err((redactor.redact(&explain(program, &seen).unwrap_or(e)), seen))
            }
        }
    }

    /// Connects over streamable HTTP in the era the raw handshake found.
    pub async fn http(
        url: &url::Url,
        token: Option<&str>,
        auth_header: Option<&str>,
        era: &Era,
        limits: Limits,
        redactor: Redactor,
    ) -> Result<(SdkConn, SdkHello), String> {
        let mut config = StreamableHttpClientTransportConfig::with_uri(url.as_str())
            .reinit_on_expired_session(false)
            .max_concurrent_requests(1);
        config.retry_config = Arc::new(NeverRetry::default());
        match (token, auth_header) {
            (Some(t), None) => config = config.auth_header(t.to_owned()),
            (Some(t), Some(h)) => {
                let (name, value) = super::raw::credential(Some(h), t);
                let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                    .map_err(|e| format!("`{h}` is not a header name: {e}"))?;
                config.custom_headers.insert(name, value);
            }
            (None, _) => {}
        }
        let http = crate::http::client(limits);
        let transport = StreamableHttpClientTransport::with_client(http, config);
        let lifecycle = match era {
            Era::Stateless { version } => ClientLifecycleMode::Discover {
                preferred_versions: vec![
                    serde_json::from_value(json!(version)).unwrap_or(ProtocolVersion::V_2026_07_28),
                ],
            },
            _ => ClientLifecycleMode::Initialize,
        };
        Self::start(transport, lifecycle, limits, redactor, url.to_string()).await
    }

    async fn start<T, E, A>(
        transport: T,
        lifecycle: ClientLifecycleMode,
        limits: Limits,
        redactor: Redactor,
        label: String,
    ) -> Result<(SdkConn, SdkHello), String>
    where
        T: rmcp::transport::IntoTransport<RoleClient, E, A>,
        E: std::error::Error + Send + Sync + 'static,
    {
        // Auto mode may wait up to 10 s for a silent legacy server; our own bound is the limit.
        let fut = client_config().serve_with_lifecycle(transport, lifecycle);
        let service = match tokio::time::timeout(limits.timeout + limits.timeout, fut).await {
            Err(_) => {
                return Err(format!(
                    "no handshake within {} ms",
                    limits.timeout.as_millis() * 2
                ));
            }
            Ok(Err(e)) => return Err(redactor.redact(&crate::http::error_chain(&e))),
            Ok(Ok(s)) => s,
        };
        service
            .peer()
            .set_response_cache_config(rmcp::service::ClientCacheConfig::disabled())
            .await;
        let info = service.peer().peer_info();
        let hello = SdkHello {
            era: info
                .as_ref()
                .map(|i| {
                    let v = i.protocol_version.to_string();
                    Era::from_version(v.trim_matches('"'))
                })
                .unwrap_or(Era::Unknown),
            server_name: info
                .as_ref()
                .and_then(|i| i.server_info.as_ref().map(|s| s.name.clone())),
            server_version: info
                .as_ref()
                .and_then(|i| i.server_info.as_ref().map(|s| s.version.clone())),
            capabilities: info
                .as_ref()
                .and_then(|i| serde_json::to_value(&i.capabilities).ok())
                .unwrap_or(Value::Null),
            restarted: None,
        };

        Ok((
            SdkConn {
                service,
                limits,
                redactor,
                label,
                era: hello.era.clone(),
                child: None,
            },
            hello,
        ))
    }

    /// Sends any request by method name and returns its result as JSON.
    pub async fn rpc(&self, method: &str, params: Value) -> RpcReply {
        let request = self.redactor.redact(&format!("{} {method}", self.label));
        let start = Instant::now();
        let req: ClientRequest =
            match serde_json::from_value(json!({"method": method, "params": params})) {
                Ok(r) => r,
                Err(e) => {
                    return RpcReply::failure(
                        request,
                        RpcFailure::Transport(format!("rmcp cannot express `{method}`: {e}")),
                        start.elapsed(),
                    );
                }
            };
        let sent =
            tokio::time::timeout(self.limits.timeout, self.service.peer().send_request(req)).await;
        let elapsed = start.elapsed();
        let outcome = match sent {
            Err(_) => Err(RpcFailure::Timeout(self.limits.timeout)),
            Ok(Err(ServiceError::McpError(e))) => Err(RpcFailure::Error {
                code: i64::from(e.code.0),
                message: e.message.to_string(),
                data: e.data,
            }),
            Ok(Err(e)) => Err(RpcFailure::Transport(self.redactor.redact(&e.to_string()))),
            Ok(Ok(result)) => Ok(result_json(result)),
        };
        let body = match &outcome {
            Ok(v) => crate::http::redacted_excerpt(&self.redactor, v.to_string().as_bytes(), 512),
            Err(e) => e.to_string(),
        };
        RpcReply {
            outcome,
            evidence: Evidence {
                request: Some(request),
                elapsed_ms: Some(ms(elapsed)),
                body_excerpt: Some(self.redactor.redact(&body)),
                ..Evidence::default()
            },
            elapsed,
        }
    }

    /// Ends the connection (and the child process) within the time limit.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(self.limits.timeout, self.service.close()).await;
    }
}

/// Why a stdio server gave no handshake, from what its watchers saw: its exit
/// status and last stderr lines, or the non-MCP line it wrote instead.
fn explain(program: &str, seen: &Seen) -> Option<String> {
    let garbage = seen
        .first_offence
        .as_ref()
        .filter(|_| seen.mcp_messages == 0)
        .map(|o| format!("line {} of its stdout is not MCP: `{}`", o.line, o.text));
    if let Some(exit) = &seen.exit {
        let stderr = match seen.stderr_summary(3) {
            Some(s) => format!("its stderr ends: {s}"),
            None => "it wrote nothing to stderr".into(),
        };
        let garbage = garbage.map(|g| format!("; {g}")).unwrap_or_default();
        return Some(format!(
            "`{program}` exited at start-up with {exit}, before the MCP handshake; {stderr}{garbage}"
        ));
    }
    if let Some(g) = garbage {
        return Some(format!(
            "`{program}` writes output that is not MCP to stdout ({g}) and no MCP message"
        ));
    }
    seen.stdout_closed
        .then(|| format!("`{program}` closed its stdout before the MCP handshake"))
}

fn result_json(r: ServerResult) -> Value {
    serde_json::to_value(r).unwrap_or(Value::Null)
}
