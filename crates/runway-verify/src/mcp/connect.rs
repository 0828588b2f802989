//! Reaching the server: the handshake (or stateless discovery) over HTTP and
//! stdio, the checks on what it announced (`mcp.version`, `mcp.ping`), and
//! `mcp.sdk`, the proof that the official SDK connects where the raw client did.

use std::time::Instant;

use runway_core::{CheckResult, Era, Evidence, Status};
use serde_json::json;

use super::{
    Conn, Connected, MAX_PAGES,
    client::{FailureKind, HttpConn, RpcFailure, ms},
    listing::list_all,
    result,
    sdk::SdkConn,
    soft, timed,
};
use crate::context::{Context, Transport};

/// Connects and records `mcp.handshake`; when the URL turns out not to be an
/// MCP endpoint at all, `blocked` says why, for the checks that need one.
pub(super) async fn connect(
    ctx: &Context,
    checks: &mut Vec<CheckResult>,
    blocked: &mut Option<String>,
) -> Option<Connected> {
    let start = Instant::now();
    match &ctx.transport {
        Transport::Http { url } => {
            let mut h = HttpConn::new(
                url.clone(),
                ctx.token.clone(),
                ctx.limits,
                ctx.redactor.clone(),
            )
            .with_auth_header(ctx.auth_header.clone());
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
                Err(mut f) => {
                    // Name the knob the way this run was configured.
                    match f.kind {
                        FailureKind::Refused { .. } => {
                            f.hint = format!(
                                "pass a valid token for this server ({})",
                                ctx.setting(Some("--token-env"), "token_env")
                            );
                        }
                        FailureKind::SessionOnly => {
                            f.hint = format!(
                                "verify the session era ({}), or implement `server/discover` (protocol 2026-07-28)",
                                ctx.setting(Some("--era session"), "era = \"session\"")
                            );
                        }
                        _ => {}
                    }
                    *blocked = f.blocker(url);
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
                    // A 307/308 is not a protocol fault: clients that follow
                    // redirects work. Nothing was verified behind it, though.
                    let status = match f.kind {
                        FailureKind::Redirect {
                            status: 307 | 308,
                            location: Some(_),
                        } => Status::Warn,
                        FailureKind::RateLimited => Status::Skip,
                        _ => Status::Fail,
                    };
                    let mut r = CheckResult::new("mcp.handshake", status, f.message);
                    if status != Status::Skip {
                        r.hint = Some(f.hint);
                    }
                    checks.push(timed(r, ev, start.elapsed()));
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
                    let mut ev = ev;
                    let (status, note, hint) = match &hello.restarted {
                        // Not a failure: the client restarts and falls back, as
                        // the specification says; but other clients meet it too.
                        Some(died) => {
                            ev.details["restarted"] = json!(died);
                            (
                                Status::Warn,
                                format!(
                                    " (the first process exited on the `server/discover` probe: {died}; restarted with `initialize`)"
                                ),
                                "answer a request you do not know with a JSON-RPC error instead of exiting: dual-era clients probe with `server/discover` first (2026-07-28 basic/transports/stdio.mdx § Backward Compatibility)",
                            )
                        }
                        None if ok => (Status::Pass, String::new(), ""),
                        None => (
                            soft(ctx),
                            String::new(),
                            "report `serverInfo` with `name` and `version`",
                        ),
                    };
                    checks.push(timed(
                        result(
                            "mcp.handshake",
                            status,
                            format!(
                                "{} server `{}` {} over stdio{note}",
                                hello.era.label(),
                                hello.server_name.as_deref().unwrap_or("?"),
                                hello.server_version.as_deref().unwrap_or("?")
                            ),
                            Some(hint),
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
                    // rmcp cannot read a malformed discovery result, and says
                    // so opaquely: ask a fresh process ourselves and name the
                    // broken field.
                    if ctx.era != crate::context::EraChoice::Session
                        && e.contains("supportedVersions")
                        && let Some((problems, reply)) = super::stateless::stdio_discover_problems(
                            ctx,
                            program,
                            args,
                            env,
                            cwd.as_deref(),
                        )
                        .await
                    {
                        checks.push(timed(
                            CheckResult::fail(
                                "mcp.discover.result",
                                format!(
                                    "the `server/discover` result is malformed: {}",
                                    problems.join("; ")
                                ),
                                "return `resultType: \"complete\"`, `supportedVersions` (strings), `capabilities` (an object), `ttlMs` (an integer >= 0) and `cacheScope` (`public` or `private`)",
                            ),
                            Evidence {
                                request: Some(ctx.display.clone()),
                                body_excerpt: Some(reply),
                                ..Evidence::default()
                            },
                            start.elapsed(),
                        ));
                        checks.push(timed(
                            CheckResult::fail(
                                "mcp.handshake",
                                format!(
                                    "no MCP handshake over stdio: the SDK cannot read the `server/discover` result ({})",
                                    problems.join("; ")
                                ),
                                "fix the `server/discover` result (see `mcp.discover.result`)",
                            ),
                            Evidence {
                                request: Some(ctx.display.clone()),
                                body_excerpt: Some(e),
                                ..Evidence::default()
                            },
                            start.elapsed(),
                        ));
                        return None;
                    }
                    // `--era stateless` against a server that answers
                    // `server/discover` with an error: say which era it is.
                    if ctx.era == crate::context::EraChoice::Stateless
                        && e.contains("JSON-RPC error")
                    {
                        checks.push(timed(
                            CheckResult::fail(
                                "mcp.handshake",
                                format!(
                                    "the stateless era was required, and the server refuses `server/discover` ({e}): it speaks only the session era, or no MCP"
                                ),
                                format!(
                                    "verify the session era ({}), or implement `server/discover` (protocol 2026-07-28)",
                                    ctx.setting(Some("--era session"), "era = \"session\"")
                                ),
                            ),
                            Evidence {
                                request: Some(ctx.display.clone()),
                                body_excerpt: Some(e),
                                ..Evidence::default()
                            },
                            start.elapsed(),
                        ));
                        return None;
                    }
                    checks.push(timed(
                        CheckResult::fail(
                            "mcp.handshake",
                            format!("no MCP handshake over stdio: {e}"),
                            "the server must answer `server/discover` (2026-07-28) or `initialize` (2025-11-25) on stdout and log only to stderr; the evidence holds its exit status and last stderr lines",
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

pub(super) fn version_check(want: &str, got: Option<&str>) -> CheckResult {
    let ev = Evidence {
        details: json!({"expected": want, "reported": got}),
        ..Evidence::default()
    };
    match got {
        Some(g) if g == want => CheckResult::pass("mcp.version", format!("serverInfo.version is `{g}`")),
        Some(g) => CheckResult::fail(
            "mcp.version",
            format!("serverInfo.version is `{g}`, expected `{want}`"),
            "the running server is not the release you meant to verify: check the deployed image or build (if the server reports a fixed `serverInfo.version`, set `expect_version = \"\"` for the environment in runway.toml)",
        ),
        None => CheckResult::fail(
            "mcp.version",
            format!("the server reports no version, expected `{want}`"),
            "report `serverInfo.version`",
        ),
    }
    .with_evidence(ev)
}

pub(super) async fn ping_check(ctx: &Context, c: &mut Connected) -> CheckResult {
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

/// Interoperability: the official Rust SDK connects in the same era and sees the same tools.
pub(super) async fn sdk_check(
    ctx: &Context,
    h: &HttpConn,
    raw_count: Option<usize>,
) -> CheckResult {
    let start = Instant::now();
    let token = ctx.token.as_ref().map(|t| t.expose().to_owned());
    let (conn, hello) = match SdkConn::http(
        &h.url,
        token.as_deref(),
        ctx.auth_header.as_deref(),
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
                    if e.contains("supportedVersions") {
                        "the rmcp client cannot read the `server/discover` result (`mcp.discover.result` names the broken field)".to_owned()
                    } else {
                        format!("the rmcp client could not connect: {e}")
                    },
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
                    "rmcp connects ({}) and lists {} (the raw client saw {n}: the list depends on the client)",
                    hello.era.label(),
                    crate::text::count(seen, "tool")
                ),
                _ => format!(
                    "rmcp connects ({}) and lists {}",
                    hello.era.label(),
                    crate::text::count(seen, "tool")
                ),
            },
        ),
    };
    timed(r, ev, start.elapsed())
}
