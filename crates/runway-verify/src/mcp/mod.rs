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

mod capabilities;
pub mod client;
mod connect;
mod crash;
mod errors;
mod failure;
mod listing;
mod mrtr;
mod pace;
mod probe;
pub mod raw;
pub mod schema;
pub mod sdk;
mod session;
mod stateless;
pub mod stdio;
mod stdio_checks;
mod subscriptions;
mod surface;
mod tasks;
mod tools;
mod unknown;
pub mod wire;

use std::time::Duration;

use runway_core::{CheckResult, Era, Evidence, Exit, Status, ToolSignature, ToolSurface};
use serde_json::Value;

use crate::context::{Context, EraChoice, Suite, Transport};
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
    /// Set when the target is not an MCP endpoint at all (a 404, a redirect,
    /// nothing listening): why the checks that need one are skipped.
    pub blocked: Option<String>,
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

/// What the handshake established, filled in by [`run_into`] as it goes.
#[derive(Debug, Clone)]
pub struct Found {
    pub era: Era,
    pub server_name: Option<String>,
    pub server_version: Option<String>,
    /// See [`McpOutcome::blocked`].
    pub blocked: Option<String>,
}

impl Default for Found {
    fn default() -> Self {
        Found {
            era: Era::Unknown,
            server_name: None,
            server_version: None,
            blocked: None,
        }
    }
}

/// Runs the MCP checks of `ctx.suite` against `ctx.transport`.
pub async fn run(ctx: &Context) -> McpOutcome {
    let mut checks = Vec::new();
    let mut found = Found::default();
    run_into(ctx, &mut checks, &mut found).await;
    McpOutcome {
        era: found.era,
        server_name: found.server_name,
        server_version: found.server_version,
        checks,
        blocked: found.blocked,
    }
}

/// [`run`], pushing each result into `checks` as soon as it is known, so a
/// caller that stops waiting (the engine's deadline) keeps the finished ones.
///
/// A server that speaks both eras is verified in both by `full` and
/// `conformance` under `--era auto`: first in the era a current client picks
/// (stateless), then in the session era, whose checks carry a `.session`
/// suffix (`mcp.errors.invalid_request.session`) and `"era"` in their details.
pub async fn run_into(ctx: &Context, checks: &mut Vec<CheckResult>, found: &mut Found) {
    if !run_era(ctx, checks, found, None).await || found.blocked.is_some() {
        return;
    }
    let both = ctx.era == EraChoice::Auto
        && ctx.suite >= Suite::Full
        && matches!(found.era, Era::Stateless { .. })
        && matches!(ctx.transport, Transport::Http { .. });
    if !both {
        return;
    }
    // Whether the server also speaks the session era is found by asking:
    // `supportedVersions` of discovery lists only the stateless versions.
    let mut session = ctx.clone();
    session.era = EraChoice::Session;
    let from = checks.len();
    let mut second = Found::default();
    if run_era(&session, checks, &mut second, Some("session")).await {
        // A dual-era server: the stateless-only rules (405 on GET and
        // DELETE, session ids ignored) are not demanded of it.
        stateless::relax_for_dual_era(&mut checks[..from]);
        if second.blocked.is_some() {
            found.blocked = second.blocked;
        }
        return;
    }
    let refused = checks[from..]
        .iter()
        .find(|c| c.id == "mcp.handshake.session")
        .cloned();
    checks.truncate(from);
    match refused {
        Some(r) if r.message.contains("HTTP 429") || r.message.starts_with("inconclusive") => {
            checks.push(CheckResult::skip(
                "mcp.handshake.session",
                "inconclusive: the server rate-limited Runway's `initialize` (HTTP 429), so whether it also speaks the session era is unknown",
            ));
        }
        other => {
            checks.push(CheckResult::skip(
                "mcp.handshake.session",
                "the server does not answer `initialize`: it speaks only the stateless era",
            ));
            checks.push(stateless::initialize_refusal_check(ctx, other.as_ref()));
        }
    }
}

/// Where one era's results go: straight into the run's list, renamed with
/// the era's suffix (and the era in their details) on the second era.
struct Sink<'a> {
    checks: &'a mut Vec<CheckResult>,
    suffix: Option<&'a str>,
    era: String,
    /// The era the checks ran in, for the section each one cites.
    spoken: Era,
}

impl Sink<'_> {
    fn push(&mut self, mut c: CheckResult) {
        crate::text::fold_message(&mut c);
        crate::spec::annotate(&mut c, &self.spoken, false);
        if let Some(s) = self.suffix {
            c.id = format!("{}.{s}", c.id);
            match &mut c.evidence.details {
                Value::Object(m) => {
                    m.insert("era".into(), Value::String(self.era.clone()));
                }
                Value::Null => c.evidence.details = serde_json::json!({ "era": self.era }),
                _ => {}
            }
        }
        self.checks.push(c);
    }

    fn extend(&mut self, batch: Vec<CheckResult>) {
        for c in batch {
            self.push(c);
        }
    }

    /// The server died during the checks pushed from `from` on: see [`crash::attribute`].
    fn crash(&mut self, from: usize, why: &str) {
        let mut c = crash::attribute(&mut self.checks[from..], why);
        crate::spec::annotate(&mut c, &self.spoken, false);
        if let Some(s) = self.suffix {
            c.id = format!("{}.{s}", c.id);
        }
        self.checks.push(c);
    }
}

/// One era's checks; `false` when there was no handshake.
async fn run_era(
    ctx: &Context,
    checks: &mut Vec<CheckResult>,
    found: &mut Found,
    suffix: Option<&str>,
) -> bool {
    let mut out = Sink {
        checks,
        suffix,
        era: String::new(),
        spoken: Era::Unknown,
    };
    let mut batch = Vec::new();
    let connected = connect::connect(ctx, &mut batch, &mut found.blocked).await;
    let Some(mut c) = connected else {
        found.era = if batch.iter().any(|c| c.id == "mcp.transport.legacy_sse") {
            Era::LegacySse
        } else {
            Era::Unknown
        };
        out.extend(batch);
        return false;
    };
    out.era = c.era.label();
    out.spoken = c.era.clone();
    out.extend(std::mem::take(&mut batch));
    found.era = c.era.clone();
    found.server_name = c.server_name.clone();
    found.server_version = c.server_version.clone();
    let full = ctx.suite >= Suite::Full;

    // After each step: did that step's probes take the server down? Then the
    // crash is one failure naming the probe, and nothing after it runs.
    macro_rules! step {
        ($body:expr) => {{
            let from = out.checks.len();
            $body;
            if let Some(why) = crash::crashed(&mut c).await {
                out.crash(from, &why);
                found.blocked = Some(format!("the server crashed during the MCP checks ({why})"));
                return true;
            }
        }};
    }

    if let Some(want) = &ctx.expect.version {
        out.push(connect::version_check(want, c.server_version.as_deref()));
    }
    if full {
        step!(out.push(connect::ping_check(ctx, &mut c).await));
    }
    let tools;
    step!({
        tools = tools::tool_checks(ctx, &mut c, &mut batch).await;
        out.extend(std::mem::take(&mut batch));
    });
    for (i, call) in ctx.expect.calls.iter().enumerate() {
        let id = tools::call_id(&ctx.expect.calls, i);
        step!(out.push(tools::call_check(ctx, &mut c.conn, &id, call, tools.as_deref()).await));
    }
    if ctx.expect.calls.is_empty() {
        out.push(CheckResult::skip("mcp.call", "no smoke calls configured"));
    }
    if full {
        for kind in ["resources", "prompts"] {
            step!(out.push(listing::list_capability_check(&mut c, kind).await));
        }
        step!({
            surface::surface_checks(ctx, &mut c, tools.as_deref(), &mut batch).await;
            out.extend(std::mem::take(&mut batch));
        });
        step!({
            capabilities::gated_checks(ctx, &mut c, &mut batch).await;
            out.extend(std::mem::take(&mut batch));
        });
        step!({
            stateless::stateless_checks(ctx, &mut c, tools.as_deref(), &mut batch).await;
            out.extend(std::mem::take(&mut batch));
        });
        step!({
            unknown::unknown_name_checks(ctx, &mut c, &mut batch).await;
            out.extend(std::mem::take(&mut batch));
        });
        step!({
            errors::error_checks(ctx, &mut c.conn, tools.as_deref(), &mut batch).await;
            out.extend(std::mem::take(&mut batch));
        });
        step!(out.push(errors::version_header_check(ctx, &mut c.conn).await));
        step!(out.push(session::priming_check(&mut c.conn).await));
        if let Conn::Http(h) = &c.conn {
            step!(out.push(connect::sdk_check(ctx, h, tools.as_ref().map(Vec::len)).await));
        }
        step!(out.push(session::unknown_session_check(ctx, &mut c.conn).await));
        step!(out.push(session::session_end_check(ctx, &mut c.conn).await));
        out.push(capabilities::log_silence_check(&c));
    }
    if let Conn::Sdk(s) = c.conn {
        out.extend(
            stdio_checks::stdout_check(ctx, &s)
                .await
                .into_iter()
                .collect(),
        );
        s.close().await;
    }
    true
}

/// Lists every tool (following cursors) with its schemas, for the release record.
pub async fn capture_surface(ctx: &Context) -> Result<ToolSurface, SurfaceError> {
    let mut checks = Vec::new();
    let Some(mut c) = connect::connect(ctx, &mut checks, &mut None).await else {
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
