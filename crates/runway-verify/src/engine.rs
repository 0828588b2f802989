//! Which checks run for a suite, in what order, within what time.
//!
//! The order matters: the MCP checks run early because the auth probes must
//! speak the era the server negotiated; load runs near the end because it
//! disturbs latency figures; the rate-limit burst runs last of all because it
//! spends the server's anonymous budget and would turn later probes into 429s.

use std::time::Instant;

use runway_core::{CheckResult, Era, Report, Status};

use crate::{
    checks::{auth, cors, endpoints, exposure, headers, ratelimit, tls},
    context::{Context, Suite, Transport},
    http, load,
};

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
///
/// An MCP endpoint that redirects (307/308) within its own origin is
/// followed once, as the Python SDK and fetch-based clients follow it: the
/// report keeps the redirect as a warning and verifies what is behind it,
/// so a run is never green on a server it verified nothing of.
pub async fn run(ctx: &Context) -> Report {
    let report = run_once(ctx).await;
    let Some(to) = same_origin_redirect(ctx, &report) else {
        return report;
    };
    let mut follow = ctx.clone();
    follow.transport = Transport::Http { url: to.clone() };
    let mut behind = run_once(&follow).await;
    if let Some(mut redirect) = report.check("mcp.handshake").cloned() {
        redirect.id = "mcp.redirect".into();
        redirect.message = format!(
            "{}; the checks below followed it to `{to}`",
            redirect
                .message
                .split("; Runway does not follow it")
                .next()
                .unwrap_or(&redirect.message)
        );
        behind.checks.insert(0, redirect);
        behind.summary = runway_core::Summary::of(&behind.checks);
    }
    behind.target = report.target;
    behind
}

/// The `Location` of a 307/308 redirect of the MCP endpoint that stays on
/// the same scheme, host and port (another origin is not followed: the
/// token would travel to it).
fn same_origin_redirect(ctx: &Context, report: &Report) -> Option<url::Url> {
    let from = ctx.url()?;
    let h = report.check("mcp.handshake")?;
    if !matches!(h.evidence.status, Some(307 | 308)) {
        return None;
    }
    let location = h.evidence.headers.get("location")?;
    let to = from.join(location).ok()?;
    (to != *from
        && to.scheme() == from.scheme()
        && to.host_str() == from.host_str()
        && to.port_or_known_default() == from.port_or_known_default())
    .then_some(to)
}

async fn run_once(ctx: &Context) -> Report {
    let started_at = chrono::Utc::now();
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + ctx.run_timeout;
    let client = http::client_with_roots(ctx.limits, &ctx.extra_roots);
    let mut checks: Vec<CheckResult> = Vec::new();
    let mut era = Era::Unknown;
    let is_http = matches!(ctx.transport, Transport::Http { .. });
    let wants = |group: &str| {
        let default = in_suite(group, ctx.suite)
            || (group == "load" && ctx.load.is_some())
            || (group == "exposure" && ctx.exposure.is_some());
        // `policies = false`: the groups that hold only policies do not run
        // unless asked for by name.
        if !ctx.policies
            && crate::spec::POLICY_GROUPS.contains(&group)
            && ctx.toggles.state(group) != Some(true)
        {
            return false;
        }
        ctx.wants(group, default)
    };

    macro_rules! stage {
        ($name:expr, $fut:expr) => {
            match tokio::time::timeout_at(deadline, $fut).await {
                Ok(v) => Some(v),
                Err(_) => {
                    checks.push(deadline_failure(ctx, $name));
                    None
                }
            }
        };
    }

    // A closed port or a name that does not resolve is one failure, not one
    // per check: everything else is skipped with that reason.
    if is_http && let Some(reason) = unreachable(ctx).await {
        let first = [
            "http",
            "mcp",
            "auth",
            "headers",
            "cors",
            "origin",
            "load",
            "ratelimit",
            "exposure",
        ]
        .into_iter()
        .find(|g| wants(g) && (is_http || *g == "mcp"));
        if let Some(first) = first {
            let id = match first {
                "http" => "http.health",
                "mcp" => "mcp.handshake",
                g => g,
            };
            checks.push(CheckResult::fail(
                id,
                format!("could not connect: {reason}"),
                "check the URL and the port, and that the server is running and reachable from here",
            ));
            for g in [
                "http",
                "tls",
                "mcp",
                "auth",
                "headers",
                "cors",
                "origin",
                "load",
                "ratelimit",
                "exposure",
            ] {
                if g != first && wants(g) {
                    checks.push(CheckResult::skip(g, format!("skipped: {reason}")));
                }
            }
        }
        return finish(ctx, started_at, started, era, checks);
    }
    // Set when the URL turns out not to be an MCP endpoint: the checks that
    // need one are skipped with the reason instead of failing one by one.
    let mut blocked: Option<String> = None;

    'run: {
        if is_http && wants("http") {
            // A check turned off sends nothing (its result would be dropped
            // anyway): `runway monitor`'s health suite is one request a run.
            let on = |id: &str| ctx.toggles.state(id) != Some(false);
            let Some(v) = stage!("http", async {
                let mut v = Vec::new();
                if on("http.health") || on("http.version") {
                    v.extend(endpoints::health(ctx, &client).await);
                }
                if on("http.livez") {
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
                }
                if on("http.readyz") {
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
                }
                if on("http.metrics") {
                    v.extend(endpoints::metrics(ctx, &client).await);
                }
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
        if is_http && wants("exposure") {
            let Some(v) = stage!("exposure", exposure::run(ctx, &client)) else {
                break 'run;
            };
            checks.extend(v);
        }
        if wants("mcp") {
            // Results are pushed as they finish, so a deadline keeps them.
            let mut found = crate::mcp::Found::default();
            let mut done = Vec::new();
            let finished =
                tokio::time::timeout_at(deadline, crate::mcp::run_into(ctx, &mut done, &mut found))
                    .await
                    .is_ok();
            checks.append(&mut done);
            era = found.era;
            blocked = found.blocked;
            if !finished {
                checks.push(deadline_failure(ctx, "mcp"));
                break 'run;
            }
        }
        if let Some(reason) = &blocked {
            for g in ["auth", "headers", "cors", "origin", "load", "ratelimit"] {
                if is_http && wants(g) {
                    checks.push(CheckResult::skip(g, format!("skipped: {reason}")));
                }
            }
            break 'run;
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

    finish(ctx, started_at, started, era, checks)
}

/// The `engine.deadline` failure for a stage the run's budget cut short.
fn deadline_failure(ctx: &Context, stage: &str) -> CheckResult {
    CheckResult::fail(
        "engine.deadline",
        format!(
            "the run's time budget ({}) ran out before `{stage}` finished; the checks that finished are listed",
            crate::text::duration(ctx.run_timeout)
        ),
        "raise the run budget (`--run-timeout`) or reduce the load run; the server may also be hanging",
    )
}

/// Why nothing can be verified at the target's address: the port is closed
/// or the host name does not resolve. `None` when a connection opens (or a
/// proxy is configured, which reqwest would use instead).
async fn unreachable(ctx: &Context) -> Option<String> {
    let url = ctx.url()?;
    let proxied = [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
    if proxied {
        return None;
    }
    let host = url
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default()?;
    let limit = ctx.limits.timeout.min(std::time::Duration::from_secs(5));
    let addrs: Vec<std::net::SocketAddr> =
        match tokio::time::timeout(limit, tokio::net::lookup_host((host.as_str(), port))).await {
            Err(_) => return None,
            Ok(Err(e)) => return Some(format!("the host `{host}` does not resolve ({e})")),
            Ok(Ok(a)) => a.collect(),
        };
    let mut refused = false;
    for addr in &addrs {
        match tokio::time::timeout(limit, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(_)) => return None,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => refused = true,
            // A timeout or another error is left to the checks, which report it with evidence.
            _ => return None,
        }
    }
    refused.then(|| format!("nothing listens on {host}:{port}"))
}

/// A 429 that Runway's own traffic drew is no verdict on the rule a check
/// tests (only the rate-limit checks look for 429s): the check says it was
/// rate limited and is skipped, instead of failing "got 429, expected 401".
pub fn rate_limited_is_inconclusive(c: &mut CheckResult) {
    let limited = c.evidence.status == Some(429)
        || c.message.contains("HTTP 429")
        || c.message.contains("429 Too Many Requests");
    if limited
        && matches!(c.status, Status::Warn | Status::Fail)
        && !c.id.starts_with("ratelimit.")
        && !c.id.starts_with("load.")
        && c.id != "engine.deadline"
    {
        c.message = format!(
            "inconclusive: the server rate-limited Runway's requests (HTTP 429{}): {}",
            c.evidence
                .headers
                .get("retry-after")
                .map(|r| format!(", Retry-After {r}"))
                .unwrap_or_default(),
            c.message
        );
        c.status = Status::Skip;
        c.hint = None;
        if let serde_json::Value::Object(m) = &mut c.evidence.details {
            m.insert("inconclusive".into(), serde_json::json!("rate_limited"));
        } else if c.evidence.details.is_null() {
            c.evidence.details = serde_json::json!({"inconclusive": "rate_limited"});
        }
    }
}

fn finish(
    ctx: &Context,
    started_at: chrono::DateTime<chrono::Utc>,
    started: Instant,
    era: Era,
    mut checks: Vec<CheckResult>,
) -> Report {
    // Individual ids switched off still ran with their group; drop them here.
    checks.retain(|c| ctx.toggles.state(&c.id) != Some(false) || c.id == "engine.deadline");
    let auth_declared = ctx.auth != crate::context::AuthScheme::Unknown || ctx.token.is_some();
    for c in &mut checks {
        crate::text::fold_message(c);
        rate_limited_is_inconclusive(c);
        crate::spec::annotate(c, &era, auth_declared);
        if !ctx.policies {
            crate::spec::silence_policy(c, auth_declared);
        }
    }
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
