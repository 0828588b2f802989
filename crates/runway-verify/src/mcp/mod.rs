//! The MCP protocol half of `runway verify`: handshake or discovery, tools,
//! smoke calls, JSON-RPC error handling and session rules, in both eras.
//!
//! HTTP targets are driven by a raw client ([`client::HttpConn`]) so every
//! verdict carries the status, headers and body that earned it; the official
//! SDK (rmcp, [`sdk::SdkConn`]) drives stdio targets and, on HTTP, proves that
//! a real client can connect. Checks are written once against [`Conn`].
//!
//! Which checks run: `smoke` = handshake, tools list/count/required and the
//! smoke calls; `full` = everything; `conformance` = everything, and what is
//! a warning in `full` (a SHOULD, or a wrong but harmless error code) fails.
//!
//! This module holds the order of the checks and what they share; each job
//! has its own module: [`connect`] (handshake, version, ping, SDK interop),
//! [`listing`] (paginated lists), [`tools`] (the tool surface and smoke
//! calls), [`errors`] (bad requests), [`session`] (ending a session). The
//! transports are [`client`] (raw HTTP), [`sdk`] (rmcp) and [`raw`] (single
//! raw requests for the HTTP checks); [`wire`] is the pure wire format.

pub mod client;
mod connect;
mod errors;
mod listing;
pub mod raw;
pub mod schema;
pub mod sdk;
mod session;
pub mod stdio;
mod stdio_checks;
mod surface;
mod tools;
pub mod wire;

use std::time::Duration;

use runway_core::{CheckResult, Era, Evidence, Exit, Status, ToolSignature, ToolSurface};
use serde_json::Value;

use crate::context::{Context, Suite};
use client::{HttpConn, RpcReply, ms};
use sdk::SdkConn;

/// Most list pages followed before pagination is declared broken.
pub const MAX_PAGES: usize = 100;

/// What the MCP checks found.
#[derive(Debug, Clone)]
pub struct McpOutcome {
    pub era: Era,
    pub server_name: Option<String>,
    pub server_version: Option<String>,
    pub checks: Vec<CheckResult>,
}

/// Why the tool surface could not be captured.
#[derive(Debug, thiserror::Error)]
pub enum SurfaceError {
    #[error("could not connect to `{target}`: {message}")]
    Connect { target: String, message: String },
    #[error("could not list the tools of `{target}`: {message}")]
    List { target: String, message: String },
}

impl runway_core::Diagnostic for SurfaceError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            SurfaceError::Connect { .. } => {
                "start the server the surface is read from, and check that it speaks MCP (`runway verify` on it shows why not)".into()
            }
            SurfaceError::List { .. } => {
                "the server's `tools/list` is broken: `runway verify --suite full` on it shows the listing problem".into()
            }
        })
    }

    /// The server named in the user's configuration is not there or not sound.
    fn exit(&self) -> Exit {
        Exit::Usage
    }
}

/// A connection the checks can send JSON-RPC requests through.
pub enum Conn {
    Http(HttpConn),
    Sdk(SdkConn),
}

impl Conn {
    pub async fn rpc(&mut self, method: &str, params: Value) -> RpcReply {
        match self {
            Conn::Http(c) => c.rpc(method, params).await,
            Conn::Sdk(c) => c.rpc(method, params).await,
        }
    }
}

/// The connection and what the handshake learnt.
struct Connected {
    conn: Conn,
    era: Era,
    server_name: Option<String>,
    server_version: Option<String>,
    capabilities: Value,
}

/// Runs the MCP checks of `ctx.suite` against `ctx.transport`.
pub async fn run(ctx: &Context) -> McpOutcome {
    let mut checks = Vec::new();
    let Some(mut c) = connect::connect(ctx, &mut checks).await else {
        let era = if checks.iter().any(|c| c.id == "mcp.transport.legacy_sse") {
            Era::LegacySse
        } else {
            Era::Unknown
        };
        return McpOutcome {
            era,
            server_name: None,
            server_version: None,
            checks,
        };
    };
    let full = ctx.suite >= Suite::Full;

    if let Some(want) = &ctx.expect.version {
        checks.push(connect::version_check(want, c.server_version.as_deref()));
    }
    if full {
        checks.push(connect::ping_check(ctx, &mut c).await);
    }
    let tools = tools::tool_checks(ctx, &mut c, &mut checks).await;
    for (i, call) in ctx.expect.calls.iter().enumerate() {
        let id = tools::call_id(&ctx.expect.calls, i);
        checks.push(tools::call_check(&mut c.conn, &id, call, tools.as_deref()).await);
    }
    if ctx.expect.calls.is_empty() {
        checks.push(CheckResult::skip("mcp.call", "no smoke calls configured"));
    }
    if full {
        for kind in ["resources", "prompts"] {
            checks.push(listing::list_capability_check(&mut c, kind).await);
        }
        surface::surface_checks(ctx, &mut c, tools.as_deref(), &mut checks).await;
        errors::error_checks(ctx, &mut c.conn, tools.as_deref(), &mut checks).await;
        checks.push(errors::version_header_check(ctx, &mut c.conn).await);
        if let Conn::Http(h) = &c.conn {
            checks.push(connect::sdk_check(ctx, h, tools.as_ref().map(Vec::len)).await);
        }
        checks.push(session::session_end_check(ctx, &mut c.conn).await);
    }
    if let Conn::Sdk(s) = c.conn {
        checks.extend(stdio_checks::stdout_check(ctx, &s));
        s.close().await;
    }
    McpOutcome {
        era: c.era,
        server_name: c.server_name,
        server_version: c.server_version,
        checks,
    }
}

/// Lists every tool (following cursors) with its schemas, for the release record.
pub async fn capture_surface(ctx: &Context) -> Result<ToolSurface, SurfaceError> {
    let mut checks = Vec::new();
    let Some(mut c) = connect::connect(ctx, &mut checks).await else {
        let message = checks
            .first()
            .map(|c| c.message.clone())
            .unwrap_or_else(|| "no handshake".into());
        return Err(SurfaceError::Connect {
            target: ctx.display.clone(),
            message,
        });
    };
    let listing = listing::list_all(&mut c.conn, "tools", MAX_PAGES).await;
    if let Conn::Sdk(s) = c.conn {
        s.close().await;
    }
    if let Some(p) = listing.problem {
        return Err(SurfaceError::List {
            target: ctx.display.clone(),
            message: p.message,
        });
    }
    let tools = listing
        .items
        .iter()
        .filter_map(|t| {
            Some(ToolSignature {
                name: t.get("name")?.as_str()?.to_owned(),
                description: t
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                input_schema: t.get("inputSchema").cloned().unwrap_or(Value::Null),
                output_schema: t.get("outputSchema").cloned(),
            })
        })
        .collect();
    let mut surface = ToolSurface::new(tools);
    surface.server = c.server_name;
    surface.server_version = c.server_version;
    Ok(surface)
}

/// `Warn` in `full`, `Fail` in `conformance`: for SHOULD-level findings.
fn soft(ctx: &Context) -> Status {
    if ctx.suite == Suite::Conformance {
        Status::Fail
    } else {
        Status::Warn
    }
}

fn result(id: &str, status: Status, message: String, hint: Option<&str>) -> CheckResult {
    let mut r = CheckResult::new(id, status, message);
    if matches!(status, Status::Warn | Status::Fail) {
        r.hint = Some(hint.unwrap_or("see the evidence").to_owned());
    }
    r
}

fn timed(mut r: CheckResult, ev: Evidence, elapsed: Duration) -> CheckResult {
    r.evidence = ev;
    r.duration_ms = ms(elapsed);
    r
}
