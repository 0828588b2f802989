//! Which checks run for a suite, in what order, within what time.
//!
//! The order matters: the MCP checks run early because the auth probes must
//! speak the era the server negotiated; load runs near the end because it
//! disturbs latency figures; the rate-limit burst runs last of all because it
//! spends the server's anonymous budget and would turn later probes into 429s.

use std::time::Instant;

use runway_core::{CheckResult, Era, Report};

use crate::{
    checks::{auth, cors, endpoints, headers, ratelimit, tls},
    context::{Context, Suite, Transport},
    http, load,
};

/// What the MCP protocol checks found: the era and their results.
#[derive(Debug, Clone)]
pub struct McpStage {
    pub era: Era,
    pub server_name: Option<String>,
    pub server_version: Option<String>,
    pub checks: Vec<CheckResult>,
}

/// The single place the engine calls the MCP protocol checks (`crate::mcp`).
async fn mcp_checks(ctx: &Context) -> McpStage {
    let outcome = crate::mcp::run(ctx).await;
    McpStage {
        era: outcome.era,
        server_name: outcome.server_name,
        server_version: outcome.server_version,
        checks: outcome.checks,
    }
}

/// Whether a group runs in `suite` when nothing switched it explicitly.
pub fn in_suite(group: &str, suite: Suite) -> bool {
    match group {
        "mcp" | "auth" => true,
        "origin" => suite != Suite::Smoke,
        "http" | "tls" => suite != Suite::Conformance,
        "headers" | "cors" | "load" | "ratelimit" => suite == Suite::Full,
        _ => false,
    }
}

/// Runs the suite and returns the report. Never panics on server behaviour,
/// and returns within `ctx.run_timeout` (plus one request's timeout).
pub async fn run(ctx: &Context) -> Report {
    let started_at = chrono::Utc::now();
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + ctx.run_timeout;
    let client = http::client_with_roots(ctx.limits, &ctx.extra_roots);
    let mut checks: Vec<CheckResult> = Vec::new();
    let mut era = Era::Unknown;
    let is_http = matches!(ctx.transport, Transport::Http { .. });
    let wants = |group: &str| {
        let default = in_suite(group, ctx.suite) || (group == "load" && ctx.load.is_some());
        ctx.wants(group, default)
    };

    macro_rules! stage {
        ($name:expr, $fut:expr) => {
            match tokio::time::timeout_at(deadline, $fut).await {
                Ok(v) => Some(v),
                Err(_) => {
                    checks.push(CheckResult::fail(
                        "engine.deadline",
                        format!("the run's time budget ({:?}) ran out before `{}` finished", ctx.run_timeout, $name),
                        "raise the run budget (`--timeout`) or reduce the load run; the server may also be hanging",
                    ));
                    None
                }
            }
        };
    }

    'run: {
        if is_http && wants("http") {
            let Some(v) = stage!("http", async {
                let mut v = endpoints::health(ctx, &client).await;
                v.extend(
                    endpoints::probe(
                        ctx,
                        &client,
                        "http.livez",
                        ctx.paths.livez.as_ref(),
                        "livez_path",
                    )
                    .await,
                );
                v.extend(
                    endpoints::probe(
                        ctx,
                        &client,
                        "http.readyz",
                        ctx.paths.readyz.as_ref(),
                        "readyz_path",
                    )
                    .await,
                );
                v.extend(endpoints::metrics(ctx, &client).await);
                v
            }) else {
                break 'run;
            };
            checks.extend(v);
        }
        if is_http && wants("tls") {
            let Some(v) = stage!("tls", tls::run(ctx)) else {
                break 'run;
            };
            checks.extend(v);
        }
        if wants("mcp") {
            let Some(m) = stage!("mcp", mcp_checks(ctx)) else {
                break 'run;
            };
            era = m.era;
            checks.extend(m.checks);
        }
        if is_http && wants("auth") {
            let Some(v) = stage!("auth", auth::run(ctx, &client, &era)) else {
                break 'run;
            };
            checks.extend(v);
        }
        if is_http && wants("headers") {
            let Some(v) = stage!("headers", headers::run(ctx, &client, &era)) else {
                break 'run;
            };
            checks.extend(v);
        }
        if is_http && wants("cors") {
            let Some(v) = stage!("cors", cors::cors(ctx, &client)) else {
                break 'run;
            };
            checks.extend(v);
        }
        if is_http && wants("origin") {
            let Some(v) = stage!("origin", cors::origin(ctx, &client, &era)) else {
                break 'run;
            };
            checks.push(v);
        }
        if is_http && wants("load") {
            let Some(v) = stage!("load", load::check(ctx, &client, &era)) else {
                break 'run;
            };
            checks.extend(v);
        }
        if is_http && wants("ratelimit") {
            let Some(v) = stage!("ratelimit", ratelimit::run(ctx, &client, &era)) else {
                break 'run;
            };
            checks.push(v);
        }
    }

    // Individual ids switched off still ran with their group; drop them here.
    checks.retain(|c| ctx.toggles.state(&c.id) != Some(false) || c.id == "engine.deadline");
    if checks.is_empty() {
        // An empty report would read as a pass.
        checks.push(CheckResult::warn(
            "engine.nothing",
            "no check ran",
            "check `--only`/`--skip` and the `checks` table: they switched off every check of the suite",
        ));
    }
    Report::new(
        ctx.display.clone(),
        era,
        ctx.suite.as_str(),
        started_at,
        started.elapsed().as_secs_f64() * 1000.0,
        checks,
    )
}
