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

pub mod client;
pub mod schema;
pub mod sdk;
pub mod wire;

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use runway_core::{CheckResult, Era, Evidence, Status, ToolSignature, ToolSurface};
use serde_json::{Value, json};

use crate::context::{Context, SmokeCall, Suite, Transport};
use client::{HttpConn, RpcFailure, RpcReply, ms};
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
    let Some(mut c) = connect(ctx, &mut checks).await else {
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
        checks.push(version_check(want, c.server_version.as_deref()));
    }
    if full {
        checks.push(ping_check(ctx, &mut c).await);
    }
    let tools = tool_checks(ctx, &mut c, &mut checks).await;
    for (i, call) in ctx.expect.calls.iter().enumerate() {
        let id = call_id(&ctx.expect.calls, i);
        checks.push(call_check(&mut c.conn, &id, call, tools.as_deref()).await);
    }
    if ctx.expect.calls.is_empty() {
        checks.push(CheckResult::skip("mcp.call", "no smoke calls configured"));
    }
    if full {
        for kind in ["resources", "prompts"] {
            checks.push(list_capability_check(&mut c, kind).await);
        }
        error_checks(ctx, &mut c.conn, tools.as_deref(), &mut checks).await;
        checks.push(version_header_check(ctx, &mut c.conn).await);
        if let Conn::Http(h) = &c.conn {
            checks.push(sdk_check(ctx, h, tools.as_ref().map(Vec::len)).await);
        }
        checks.push(session_end_check(ctx, &mut c.conn).await);
    }
    if let Conn::Sdk(s) = c.conn {
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
    let Some(mut c) = connect(ctx, &mut checks).await else {
        let message = checks
            .first()
            .map(|c| c.message.clone())
            .unwrap_or_else(|| "no handshake".into());
        return Err(SurfaceError::Connect {
            target: ctx.display.clone(),
            message,
        });
    };
    let listing = list_all(&mut c.conn, "tools", MAX_PAGES).await;
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

async fn connect(ctx: &Context, checks: &mut Vec<CheckResult>) -> Option<Connected> {
    let start = Instant::now();
    match &ctx.transport {
        Transport::Http { url } => {
            let mut h = HttpConn::new(
                url.clone(),
                ctx.token.clone(),
                ctx.limits,
                ctx.redactor.clone(),
            );
            match h.handshake(ctx.era).await {
                Ok(hs) => {
                    let mut ev = hs.evidence.clone();
                    ev.details = json!({
                        "era": hs.era.label(),
                        "steps": hs.steps,
                        "supported_versions": hs.supported_versions,
                        "session": h.session_id.is_some(),
                    });
                    let mut status = Status::Pass;
                    let mut hint = None;
                    let mut note = String::new();
                    if hs.server_name.is_none() || hs.server_version.is_none() {
                        status = soft(ctx);
                        hint = Some("report `serverInfo` with `name` and `version`");
                        note = ", without serverInfo name/version".into();
                    }
                    checks.push(timed(
                        result(
                            "mcp.handshake",
                            status,
                            format!(
                                "{} server `{}` {}{note}",
                                hs.era.label(),
                                hs.server_name.as_deref().unwrap_or("?"),
                                hs.server_version.as_deref().unwrap_or("?"),
                            ),
                            hint,
                        ),
                        ev,
                        hs.elapsed,
                    ));
                    Some(Connected {
                        era: hs.era,
                        server_name: hs.server_name,
                        server_version: hs.server_version,
                        capabilities: hs.capabilities,
                        conn: Conn::Http(h),
                    })
                }
                Err(f) => {
                    let mut ev = f.evidence.clone();
                    ev.details = json!({"steps": f.steps});
                    if let Some(ep) = &f.legacy_sse {
                        checks.push(timed(
                            CheckResult::fail(
                                "mcp.transport.legacy_sse",
                                format!("the server speaks only the deprecated HTTP+SSE transport of 2024-11-05 (endpoint `{ep}`)"),
                                "serve the streamable HTTP transport; HTTP+SSE was deprecated in 2025-03-26 and current clients cannot connect",
                            ),
                            ev.clone(),
                            start.elapsed(),
                        ));
                    }
                    checks.push(timed(
                        CheckResult::fail("mcp.handshake", f.message, f.hint),
                        ev,
                        start.elapsed(),
                    ));
                    None
                }
            }
        }
        Transport::Stdio {
            program,
            args,
            env,
            cwd,
        } => {
            match SdkConn::stdio(
                program,
                args,
                env,
                cwd.as_deref(),
                ctx.era,
                ctx.limits,
                ctx.redactor.clone(),
            )
            .await
            {
                Ok((s, hello)) => {
                    let ev = Evidence {
                        request: Some(ctx.display.clone()),
                        elapsed_ms: Some(ms(start.elapsed())),
                        details: json!({"era": hello.era.label(), "transport": "stdio"}),
                        ..Evidence::default()
                    };
                    let ok = hello.server_name.is_some();
                    checks.push(timed(
                        result(
                            "mcp.handshake",
                            if ok { Status::Pass } else { soft(ctx) },
                            format!(
                                "{} server `{}` {} over stdio",
                                hello.era.label(),
                                hello.server_name.as_deref().unwrap_or("?"),
                                hello.server_version.as_deref().unwrap_or("?")
                            ),
                            Some("report `serverInfo` with `name` and `version`"),
                        ),
                        ev,
                        start.elapsed(),
                    ));
                    Some(Connected {
                        era: hello.era,
                        server_name: hello.server_name,
                        server_version: hello.server_version,
                        capabilities: hello.capabilities,
                        conn: Conn::Sdk(s),
                    })
                }
                Err(e) => {
                    checks.push(timed(
                        CheckResult::fail(
                            "mcp.handshake",
                            format!("no MCP handshake over stdio: {e}"),
                            "run the command by hand: it must speak MCP on stdin/stdout and log only to stderr",
                        ),
                        Evidence {
                            request: Some(ctx.display.clone()),
                            body_excerpt: Some(e),
                            ..Evidence::default()
                        },
                        start.elapsed(),
                    ));
                    None
                }
            }
        }
    }
}

fn version_check(want: &str, got: Option<&str>) -> CheckResult {
    let ev = Evidence {
        details: json!({"expected": want, "reported": got}),
        ..Evidence::default()
    };
    match got {
        Some(g) if g == want => CheckResult::pass("mcp.version", format!("serverInfo.version is `{g}`")),
        Some(g) => CheckResult::fail(
            "mcp.version",
            format!("serverInfo.version is `{g}`, expected `{want}`"),
            "the running server is not the release you meant to verify: check the deployed image or build",
        ),
        None => CheckResult::fail(
            "mcp.version",
            format!("the server reports no version, expected `{want}`"),
            "report `serverInfo.version`",
        ),
    }
    .with_evidence(ev)
}

async fn ping_check(ctx: &Context, c: &mut Connected) -> CheckResult {
    let reply = c.conn.rpc("ping", json!({})).await;
    let r = match &reply.outcome {
        Ok(v) if v.is_object() => CheckResult::pass(
            "mcp.ping",
            format!("answered in {:.1} ms", ms(reply.elapsed)),
        ),
        Ok(v) => result(
            "mcp.ping",
            soft(ctx),
            format!("`ping` answered with {v}, not an empty object"),
            Some("answer `ping` with an empty result `{}`"),
        ),
        Err(RpcFailure::Error { code: -32601, .. }) if matches!(c.era, Era::Stateless { .. }) => {
            CheckResult::skip(
                "mcp.ping",
                "`ping` is not offered in the stateless era (-32601)",
            )
        }
        Err(e) => CheckResult::fail(
            "mcp.ping",
            format!("`ping` failed: {e}"),
            "a server must answer `ping` promptly with an empty result",
        ),
    };
    timed(r, reply.evidence, reply.elapsed)
}

/// A listing problem, already phrased for the report.
struct Problem {
    message: String,
    hint: String,
    evidence: Evidence,
}

struct Listing {
    items: Vec<Value>,
    pages: usize,
    problem: Option<Problem>,
    last_evidence: Evidence,
    elapsed: Duration,
}

/// Follows `nextCursor` through `<kind>/list` with a page cap and loop detection.
async fn list_all(conn: &mut Conn, kind: &str, max_pages: usize) -> Listing {
    let start = Instant::now();
    let method = format!("{kind}/list");
    let mut items: Vec<Value> = Vec::new();
    let mut seen_cursors = HashSet::new();
    let mut seen_names = HashSet::new();
    let mut cursor: Option<String> = None;
    let mut last_evidence = Evidence::default();
    let problem = |message: String, hint: &str, evidence: Evidence| {
        Some(Problem {
            message,
            hint: hint.to_owned(),
            evidence,
        })
    };
    for page in 1..=max_pages {
        let params = match &cursor {
            Some(c) => json!({"cursor": c}),
            None => json!({}),
        };
        let reply = conn.rpc(&method, params).await;
        last_evidence = reply.evidence.clone();
        let result = match reply.outcome {
            Ok(v) => v,
            Err(e) => {
                return Listing {
                    items,
                    pages: page,
                    problem: problem(
                        format!("`{method}` page {page} failed: {e}"),
                        "answer the request with a JSON-RPC result (see the evidence)",
                        reply.evidence,
                    ),
                    last_evidence,
                    elapsed: start.elapsed(),
                };
            }
        };
        let Some(list) = result.get(kind).and_then(Value::as_array) else {
            return Listing {
                items,
                pages: page,
                problem: problem(
                    format!("`{method}` page {page} has no `{kind}` array"),
                    "return the list in the `{kind}` field of the result",
                    reply.evidence,
                ),
                last_evidence,
                elapsed: start.elapsed(),
            };
        };
        let key = if kind == "resources" { "uri" } else { "name" };
        let names: Vec<String> = list
            .iter()
            .filter_map(|t| t.get(key).and_then(Value::as_str).map(str::to_owned))
            .collect();
        if page > 1 && !names.is_empty() && names.iter().all(|n| seen_names.contains(n)) {
            return Listing {
                items,
                pages: page,
                problem: problem(
                    format!(
                        "`{method}` pagination loops: page {page} repeats items already listed ({})",
                        names.join(", ")
                    ),
                    "make `nextCursor` point past the current page and omit it on the last page",
                    reply.evidence,
                ),
                last_evidence,
                elapsed: start.elapsed(),
            };
        }
        seen_names.extend(names);
        items.extend(list.iter().cloned());
        match result.get("nextCursor") {
            None | Some(Value::Null) => {
                return Listing {
                    items,
                    pages: page,
                    problem: None,
                    last_evidence,
                    elapsed: start.elapsed(),
                };
            }
            Some(Value::String(c)) if !seen_cursors.contains(c) => {
                seen_cursors.insert(c.clone());
                cursor = Some(c.clone());
            }
            Some(other) => {
                let msg = if other.is_string() {
                    format!("`{method}` pagination loops: cursor {other} came back on page {page}")
                } else {
                    format!("`{method}` page {page}: `nextCursor` is {other}, not a string")
                };
                return Listing {
                    items,
                    pages: page,
                    problem: problem(
                        msg,
                        "make `nextCursor` an opaque string that moves forward, and omit it on the last page",
                        reply.evidence,
                    ),
                    last_evidence,
                    elapsed: start.elapsed(),
                };
            }
        }
    }
    Listing {
        items,
        pages: max_pages,
        problem: problem(
            format!("`{method}` still had a `nextCursor` after {max_pages} pages"),
            "end pagination: omit `nextCursor` on the last page",
            last_evidence.clone(),
        ),
        last_evidence,
        elapsed: start.elapsed(),
    }
}

fn tool_names(tools: &[Value]) -> Vec<String> {
    tools
        .iter()
        .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// `mcp.tools.list`, `.count`, `.required` and (full) `.schemas`; returns the tools.
async fn tool_checks(
    ctx: &Context,
    c: &mut Connected,
    checks: &mut Vec<CheckResult>,
) -> Option<Vec<Value>> {
    let listing = list_all(&mut c.conn, "tools", MAX_PAGES).await;
    if let Some(p) = listing.problem {
        checks.push(timed(
            CheckResult::fail("mcp.tools.list", p.message, p.hint),
            p.evidence,
            listing.elapsed,
        ));
        for id in ["mcp.tools.count", "mcp.tools.required"] {
            checks.push(CheckResult::skip(id, "the tool list could not be read"));
        }
        return None;
    }
    let names = tool_names(&listing.items);
    let mut ev = listing.last_evidence.clone();
    ev.details = json!({"tools": names, "pages": listing.pages});
    let unique: HashSet<&String> = names.iter().collect();
    let list_check = if unique.len() != names.len() {
        result(
            "mcp.tools.list",
            soft(ctx),
            format!(
                "{} tools in {} page(s), with duplicate names",
                names.len(),
                listing.pages
            ),
            Some("give every tool a unique name"),
        )
    } else if names.len() != listing.items.len() {
        CheckResult::fail(
            "mcp.tools.list",
            format!(
                "{} of {} tools have no `name`",
                listing.items.len() - names.len(),
                listing.items.len()
            ),
            "every tool needs a `name` string",
        )
    } else {
        CheckResult::pass(
            "mcp.tools.list",
            format!("{} tools in {} page(s)", names.len(), listing.pages),
        )
    };
    checks.push(timed(list_check, ev, listing.elapsed));

    let n = names.len();
    checks.push(match ctx.expect.min_tools {
        Some(min) if n < min => CheckResult::fail(
            "mcp.tools.count",
            format!("{n} tools listed, expected at least {min}"),
            "a tool is missing from this build: check the server's tool registration",
        ),
        Some(min) => CheckResult::pass(
            "mcp.tools.count",
            format!("{n} tools listed (at least {min})"),
        ),
        None if n == 0 => result(
            "mcp.tools.count",
            soft(ctx),
            "the server lists no tools".into(),
            Some("register tools, or set `min_tools = 0` if that is intended"),
        ),
        None => CheckResult::pass("mcp.tools.count", format!("{n} tools listed")),
    });
    let missing: Vec<&String> = ctx
        .expect
        .required_tools
        .iter()
        .filter(|t| !names.contains(t))
        .collect();
    checks.push(if ctx.expect.required_tools.is_empty() {
        CheckResult::skip("mcp.tools.required", "no required tools configured")
    } else if missing.is_empty() {
        CheckResult::pass(
            "mcp.tools.required",
            format!(
                "all {} required tools listed",
                ctx.expect.required_tools.len()
            ),
        )
    } else {
        CheckResult::fail(
            "mcp.tools.required",
            format!(
                "missing required tools: {}",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "register the missing tools or update `required_tools`",
        )
        .with_evidence(Evidence {
            details: json!({"missing": missing, "listed": names}),
            ..Evidence::default()
        })
    });
    if ctx.suite >= Suite::Full {
        checks.push(schema_check(&listing.items));
    }
    Some(listing.items)
}

fn schema_check(tools: &[Value]) -> CheckResult {
    let start = Instant::now();
    let mut bad = Vec::new();
    let mut checked = 0;
    for t in tools {
        let name = t.get("name").and_then(Value::as_str).unwrap_or("?");
        match t.get("inputSchema") {
            None => bad.push(format!("`{name}`: no `inputSchema`")),
            Some(s) => {
                checked += 1;
                if let Some(p) = schema::schema_problem(s, true) {
                    bad.push(format!("`{name}` inputSchema {p}"));
                }
            }
        }
        if let Some(s) = t.get("outputSchema") {
            checked += 1;
            if let Some(p) = schema::schema_problem(s, true) {
                bad.push(format!("`{name}` outputSchema {p}"));
            }
        }
    }
    let ev = Evidence {
        details: json!({"problems": bad, "schemas_checked": checked}),
        ..Evidence::default()
    };
    let r = if bad.is_empty() {
        CheckResult::pass(
            "mcp.tools.schemas",
            format!("{checked} schemas are valid JSON Schema"),
        )
    } else {
        CheckResult::fail(
            "mcp.tools.schemas",
            format!("{} invalid tool schema(s): {}", bad.len(), bad.join("; ")),
            "fix the schema: clients validate arguments against it and reject the tool",
        )
    };
    timed(r, ev, start.elapsed())
}

fn call_id(calls: &[SmokeCall], i: usize) -> String {
    let tool = &calls[i].tool;
    let before = calls[..i].iter().filter(|c| &c.tool == tool).count();
    if before == 0 {
        format!("mcp.call.{tool}")
    } else {
        format!("mcp.call.{tool}.{}", before + 1)
    }
}

fn texts(result: &Value) -> String {
    result
        .get("content")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter(|c| c.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|c| c.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

async fn call_check(
    conn: &mut Conn,
    id: &str,
    call: &SmokeCall,
    tools: Option<&[Value]>,
) -> CheckResult {
    let tool = tools.and_then(|ts| {
        ts.iter()
            .find(|t| t.get("name").and_then(Value::as_str) == Some(call.tool.as_str()))
    });
    if let Some(ts) = tools
        && tool.is_none()
    {
        return CheckResult::fail(
            id,
            format!(
                "tool `{}` is not listed ({} tools are)",
                call.tool,
                ts.len()
            ),
            "register the tool or fix the smoke call's `tool` name",
        );
    }
    let reply = conn
        .rpc(
            "tools/call",
            json!({"name": call.tool, "arguments": call.arguments}),
        )
        .await;
    let mut ev = reply.evidence.clone();
    let elapsed = reply.elapsed;
    let fail = |msg: String, hint: &str, ev: Evidence| {
        timed(CheckResult::fail(id, msg, hint), ev, elapsed)
    };
    let result = match reply.outcome {
        Ok(v) => v,
        Err(e) => {
            return fail(
                format!("`{}` call failed: {e}", call.tool),
                "the call must return a result within the time limit; see the evidence",
                ev,
            );
        }
    };
    let text = texts(&result);
    ev.details =
        json!({"text": crate::http::excerpt(text.as_bytes(), 256), "elapsed_ms": ms(elapsed)});
    let e = &call.expect;
    if e.not_error && result.get("isError").and_then(Value::as_bool) == Some(true) {
        return fail(
            format!(
                "`{}` returned isError: {}",
                call.tool,
                crate::http::excerpt(text.as_bytes(), 200)
            ),
            "the tool reported an error for known-good arguments: check its logs and dependencies",
            ev,
        );
    }
    // The output schema is a protocol rule, so it is judged before the caller's expectations.
    if e.output_schema
        && let Some(schema) = tool.and_then(|t| t.get("outputSchema"))
    {
        match result.get("structuredContent") {
            None if result.get("isError").and_then(Value::as_bool) != Some(true) => {
                return fail(
                    format!(
                        "`{}` declares an outputSchema but returned no structuredContent",
                        call.tool
                    ),
                    "a tool with an outputSchema must return `structuredContent` that conforms to it",
                    ev,
                );
            }
            Some(sc) => {
                if let Some(p) = schema::instance_problem(schema, sc) {
                    return fail(
                        format!(
                            "`{}` structuredContent violates its outputSchema: {p}",
                            call.tool
                        ),
                        "make the tool's result conform to its declared outputSchema",
                        ev,
                    );
                }
            }
            None => {}
        }
    }
    if let Some(want) = &e.text_contains
        && !text.contains(want.as_str())
    {
        return fail(
            format!("`{}` text does not contain `{want}`", call.tool),
            "compare the tool's output in the evidence with the expectation",
            ev,
        );
    }
    if let Some(pattern) = &e.text_matches {
        match regex::Regex::new(pattern) {
            Err(err) => {
                return fail(
                    format!("the expected pattern `{pattern}` is not a valid regex: {err}"),
                    "fix `text_matches` in the smoke call",
                    ev,
                );
            }
            Ok(re) if !re.is_match(&text) => {
                return fail(
                    format!("`{}` text does not match `{pattern}`", call.tool),
                    "compare the tool's output in the evidence with the expectation",
                    ev,
                );
            }
            Ok(_) => {}
        }
    }
    if let Some((pointer, want)) = &e.json_at {
        let doc = result
            .get("structuredContent")
            .cloned()
            .or_else(|| serde_json::from_str::<Value>(&text).ok());
        let got = doc.as_ref().and_then(|d| d.pointer(pointer));
        if got != Some(want) {
            return fail(
                format!(
                    "`{}` value at `{pointer}` is {}, expected {want}",
                    call.tool,
                    got.map(Value::to_string).unwrap_or_else(|| "absent".into())
                ),
                "compare the tool's structured output in the evidence with the expectation",
                ev,
            );
        }
    }
    if let Some(budget) = e.max_latency
        && elapsed > budget
    {
        return fail(
            format!(
                "`{}` took {:.0} ms, over the {} ms budget",
                call.tool,
                ms(elapsed),
                budget.as_millis()
            ),
            "find what slows the tool (a dependency, a cold start) or raise `max_latency`",
            ev,
        );
    }
    timed(
        CheckResult::pass(
            id,
            format!("`{}` answered in {:.1} ms", call.tool, ms(elapsed)),
        ),
        ev,
        elapsed,
    )
}

async fn list_capability_check(c: &mut Connected, kind: &str) -> CheckResult {
    let id = format!("mcp.{kind}.list");
    let advertised = c.capabilities.get(kind).is_some_and(|v| !v.is_null());
    if !advertised {
        return CheckResult::skip(id, format!("the server does not advertise `{kind}`"));
    }
    let listing = list_all(&mut c.conn, kind, MAX_PAGES).await;
    let r = match listing.problem {
        Some(p) => {
            return timed(
                CheckResult::fail(id, p.message, p.hint),
                p.evidence,
                listing.elapsed,
            );
        }
        None => CheckResult::pass(
            &id,
            format!(
                "{} {kind} in {} page(s)",
                listing.items.len(),
                listing.pages
            ),
        ),
    };
    timed(r, listing.last_evidence, listing.elapsed)
}

/// The four JSON-RPC error cases every server must handle without a 5xx or a hang.
async fn error_checks(
    ctx: &Context,
    conn: &mut Conn,
    tools: Option<&[Value]>,
    checks: &mut Vec<CheckResult>,
) {
    let bad_call = invalid_params_call(tools);
    match conn {
        Conn::Http(h) => {
            let id = h.next_id();
            let cases: [(&str, i64, String, Option<&str>); 4] = [
                (
                    "mcp.errors.parse",
                    -32700,
                    r#"{"jsonrpc":"2.0","id":1,"method":"tools/list""#.to_owned(),
                    None,
                ),
                (
                    "mcp.errors.invalid_request",
                    -32600,
                    json!({"jsonrpc":"2.0","id":id,"method":1,"params":"bar"}).to_string(),
                    None,
                ),
                (
                    "mcp.errors.method_not_found",
                    -32601,
                    json!({"jsonrpc":"2.0","id":id + 1,"method":"runway/no-such-method","params": meta_params(h, json!({}))}).to_string(),
                    Some("runway/no-such-method"),
                ),
                (
                    "mcp.errors.invalid_params",
                    -32602,
                    json!({"jsonrpc":"2.0","id":id + 2,"method":"tools/call","params": meta_params(h, bad_call.clone())}).to_string(),
                    Some("tools/call"),
                ),
            ];
            h.next_id();
            h.next_id();
            for (i, (check, code, body, method)) in cases.into_iter().enumerate() {
                let rid = match i {
                    0 => json!(1),
                    n => json!(id + n as i64 - 1),
                };
                let name = (i == 3)
                    .then(|| bad_call.get("name").and_then(Value::as_str))
                    .flatten();
                let req = h.post(body.into_bytes(), method, name);
                let reply = h.exchange(req, check, &rid).await;
                checks.push(judge_error(ctx, check, code, reply));
            }
        }
        Conn::Sdk(_) => {
            for check in ["mcp.errors.parse", "mcp.errors.invalid_request"] {
                checks.push(CheckResult::skip(
                    check,
                    "malformed JSON cannot be sent through the stdio SDK client",
                ));
            }
            let reply = conn.rpc("runway/no-such-method", json!({})).await;
            checks.push(judge_error(
                ctx,
                "mcp.errors.method_not_found",
                -32601,
                reply,
            ));
            let reply = conn
                .rpc(
                    "tools/call",
                    json!({"name": 42, "arguments": "not-an-object"}),
                )
                .await;
            checks.push(judge_error(ctx, "mcp.errors.invalid_params", -32602, reply));
        }
    }
}

/// A `tools/call` whose arguments are wrongly typed for a listed tool (a
/// required string gets a number, a number gets a string), or, when no tool
/// has such a property, a call without the required `name`.
fn invalid_params_call(tools: Option<&[Value]>) -> Value {
    for t in tools.unwrap_or_default() {
        let (Some(name), Some(schema)) =
            (t.get("name").and_then(Value::as_str), t.get("inputSchema"))
        else {
            continue;
        };
        let required = schema.get("required").and_then(Value::as_array);
        for prop in required.into_iter().flatten().filter_map(Value::as_str) {
            let wrong = match schema
                .pointer(&format!("/properties/{prop}/type"))
                .and_then(Value::as_str)
            {
                Some("string") => json!(12345),
                Some("number" | "integer" | "boolean") => json!("not-a-number"),
                Some("object" | "array") => json!(false),
                _ => continue,
            };
            return json!({"name": name, "arguments": {prop: wrong}});
        }
    }
    json!({"arguments": {}})
}

fn meta_params(h: &HttpConn, params: Value) -> Value {
    let Era::Stateless { version } = &h.era else {
        return params;
    };
    let mut p = params;
    if let Value::Object(m) = &mut p {
        m.insert(
            "_meta".into(),
            json!({
                "io.modelcontextprotocol/protocolVersion": version,
                "io.modelcontextprotocol/clientInfo": {"name": "runway", "version": env!("CARGO_PKG_VERSION")},
                "io.modelcontextprotocol/clientCapabilities": {},
            }),
        );
    }
    p
}

fn judge_error(ctx: &Context, id: &str, want: i64, reply: RpcReply) -> CheckResult {
    let status = reply.evidence.status;
    let r = match (&reply.outcome, status) {
        (_, Some(s)) if s >= 500 => CheckResult::fail(
            id,
            format!("HTTP {s} instead of JSON-RPC error {want}"),
            "a bad request is the client's fault: answer with a JSON-RPC error (HTTP 4xx or 200), never a 5xx",
        ),
        (Err(RpcFailure::Error { code, .. }), _) if *code == want => CheckResult::pass(
            id,
            format!(
                "JSON-RPC error {want}{}",
                status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
            ),
        ),
        (Err(RpcFailure::Error { code, message, .. }), _) => result(
            id,
            soft(ctx),
            format!("JSON-RPC error {code} ({message}), expected {want}"),
            Some(
                "use the JSON-RPC 2.0 error codes: -32700 parse, -32600 invalid request, -32601 method not found, -32602 invalid params",
            ),
        ),
        (Err(RpcFailure::Timeout(d)), _) => CheckResult::fail(
            id,
            format!("no answer within {} ms", d.as_millis()),
            "the server hangs on a bad request: answer with a JSON-RPC error at once",
        ),
        (Err(RpcFailure::Transport(e)), _) => CheckResult::fail(
            id,
            format!("the request failed: {e}"),
            "the server dropped the connection on a bad request: answer with a JSON-RPC error",
        ),
        (Err(RpcFailure::Status(s)), _) => result(
            id,
            soft(ctx),
            format!("HTTP {s} with no JSON-RPC error body, expected {want}"),
            Some("put a JSON-RPC error object in the body of the 4xx response"),
        ),
        // Neither a crash nor a hang, but no JSON-RPC error either.
        (Err(e), _) => result(
            id,
            soft(ctx),
            format!("no JSON-RPC error in the answer: {e}"),
            Some("answer a bad request with a JSON-RPC error object"),
        ),
        (Ok(v), _) if want == -32602 && v.get("isError").and_then(Value::as_bool) == Some(true) => {
            CheckResult::pass(
                id,
                "wrongly typed arguments were rejected as a tool error (`isError`), as 2025-11-25 allows",
            )
        }
        (Ok(v), _) => result(
            id,
            soft(ctx),
            format!(
                "the bad request was accepted with a result: {}",
                crate::http::excerpt(v.to_string().as_bytes(), 120)
            ),
            Some("reject malformed requests with a JSON-RPC error"),
        ),
    };
    timed(r, reply.evidence, reply.elapsed)
}

/// An unsupported `MCP-Protocol-Version` header must get HTTP 400 (2025-06-18
/// on); in the stateless era it also contradicts the request's `_meta`.
async fn version_header_check(ctx: &Context, conn: &mut Conn) -> CheckResult {
    let id = "mcp.protocol_version_header";
    let Conn::Http(h) = conn else {
        return CheckResult::skip(id, "stdio has no HTTP headers");
    };
    match h.era.version() {
        Some(v) if v >= "2025-06-18" => {}
        _ => return CheckResult::skip(id, "the negotiated version predates the header"),
    }
    let rid = h.next_id();
    let body = json!({"jsonrpc": "2.0", "id": rid, "method": "tools/list", "params": meta_params(h, json!({}))});
    let req = h.post(body.to_string().into_bytes(), Some("tools/list"), None);
    let reply = h
        .exchange_with(
            req,
            "tools/list with `MCP-Protocol-Version: 1999-01-01`",
            &json!(rid),
            |r| {
                r.headers_mut().insert(
                    "mcp-protocol-version",
                    reqwest::header::HeaderValue::from_static("1999-01-01"),
                );
            },
        )
        .await;
    let r = match reply.evidence.status {
        Some(400) => CheckResult::pass(id, "an unsupported `MCP-Protocol-Version` gets HTTP 400"),
        Some(s) if s >= 500 => CheckResult::fail(
            id,
            format!("an unsupported `MCP-Protocol-Version` gets HTTP {s}"),
            "answer an unsupported protocol version header with 400, never a 5xx",
        ),
        Some(s) => result(
            id,
            soft(ctx),
            format!("an unsupported `MCP-Protocol-Version` gets HTTP {s}, expected 400"),
            Some(
                "validate the `MCP-Protocol-Version` header and answer 400 when it is unsupported",
            ),
        ),
        None => CheckResult::fail(
            id,
            format!(
                "no answer to an unsupported `MCP-Protocol-Version`: {}",
                reply
                    .outcome
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            ),
            "answer an unsupported protocol version header with 400 at once",
        ),
    };
    timed(r, reply.evidence, reply.elapsed)
}

/// Interoperability: the official Rust SDK connects in the same era and sees the same tools.
async fn sdk_check(ctx: &Context, h: &HttpConn, raw_count: Option<usize>) -> CheckResult {
    let start = Instant::now();
    let token = ctx.token.as_ref().map(|t| t.expose().to_owned());
    let (conn, hello) = match SdkConn::http(
        &h.url,
        token.as_deref(),
        &h.era,
        ctx.limits,
        ctx.redactor.clone(),
    )
    .await
    {
        Ok(x) => x,
        Err(e) => {
            return timed(
                CheckResult::fail(
                    "mcp.sdk",
                    format!("the rmcp client could not connect: {e}"),
                    "the official SDK failed where our raw client succeeded: see the evidence for the protocol detail",
                ),
                Evidence {
                    request: Some(ctx.display.clone()),
                    body_excerpt: Some(e),
                    ..Evidence::default()
                },
                start.elapsed(),
            );
        }
    };
    let mut conn = Conn::Sdk(conn);
    let listing = list_all(&mut conn, "tools", MAX_PAGES).await;
    if let Conn::Sdk(s) = conn {
        s.close().await;
    }
    let ev = Evidence {
        request: Some(ctx.display.clone()),
        details: json!({"era": hello.era.label(), "tools": listing.items.len()}),
        ..Evidence::default()
    };
    // A count that differs from the raw client's is reported, not judged: servers
    // may offer tools that depend on the client's declared capabilities.
    let seen = listing.items.len();
    let r = match listing.problem {
        Some(p) => CheckResult::fail("mcp.sdk", format!("rmcp: {}", p.message), p.hint),
        None => CheckResult::pass(
            "mcp.sdk",
            match raw_count {
                Some(n) if n != seen => format!(
                    "rmcp connects ({}) and lists {seen} tools (the raw client saw {n}: the list depends on the client)",
                    hello.era.label()
                ),
                _ => format!(
                    "rmcp connects ({}) and lists {seen} tools",
                    hello.era.label()
                ),
            },
        ),
    };
    timed(r, ev, start.elapsed())
}

/// Session era: DELETE ends the session, and the ended id then gets 404.
async fn session_end_check(ctx: &Context, conn: &mut Conn) -> CheckResult {
    let id = "mcp.session.delete";
    let Conn::Http(h) = conn else {
        return CheckResult::skip(id, "stdio has no HTTP sessions");
    };
    if !matches!(h.era, Era::Session { .. }) {
        return CheckResult::skip(id, "the stateless era has no sessions");
    }
    let Some(sid) = h.session_id.clone() else {
        return CheckResult::skip(id, "the server issued no `Mcp-Session-Id`");
    };
    let start = Instant::now();
    let mut rb = h
        .auth(h.client.delete(h.url.clone()))
        .header("mcp-session-id", &sid);
    if let Some(v) = h.protocol_version() {
        rb = rb.header("mcp-protocol-version", v);
    }
    let request = ctx
        .redactor
        .redact(&format!("DELETE {} (Mcp-Session-Id)", h.url));
    let del = match rb.build() {
        Ok(req) => crate::http::fetch(&h.client, req, ctx.limits).await,
        Err(e) => Err(crate::http::FetchError::Other(e.to_string())),
    };
    let del = match del {
        Ok(o) => o,
        Err(e) => {
            return timed(
                CheckResult::fail(
                    id,
                    format!("DELETE failed: {e}"),
                    "answer DELETE with 2xx (or 405 if clients may not end sessions)",
                ),
                Evidence {
                    request: Some(request),
                    body_excerpt: Some(e.to_string()),
                    ..Evidence::default()
                },
                start.elapsed(),
            );
        }
    };
    let del_ev = del.evidence(&request, &ctx.redactor);
    if del.status == 405 {
        return timed(
            CheckResult::pass(
                id,
                "DELETE → 405: the server does not let clients end sessions (allowed)",
            ),
            del_ev,
            start.elapsed(),
        );
    }
    if !(200..300).contains(&del.status) {
        return timed(
            CheckResult::fail(
                id,
                format!("DELETE → HTTP {}", del.status),
                "answer DELETE with 2xx and end the session, or 405 if clients may not end sessions",
            ),
            del_ev,
            start.elapsed(),
        );
    }
    // Use of the ended session must now get 404.
    let after = h.rpc("tools/list", json!({})).await;
    h.session_id = None;
    let mut ev = after.evidence.clone();
    ev.details = json!({"delete_status": del.status});
    let r = match after.evidence.status {
        Some(404) => CheckResult::pass(
            id,
            format!("DELETE → {}, then the ended session → 404", del.status),
        ),
        Some(s) => CheckResult::fail(
            id,
            format!(
                "DELETE → {}, but the ended session still answers HTTP {s}",
                del.status
            ),
            "after DELETE, answer every request carrying that `Mcp-Session-Id` with 404",
        ),
        None => CheckResult::fail(
            id,
            format!(
                "DELETE → {}, then no answer for the ended session: {}",
                del.status,
                after
                    .outcome
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            ),
            "after DELETE, answer every request carrying that `Mcp-Session-Id` with 404",
        ),
    };
    timed(r, ev, start.elapsed())
}
