//! The operational endpoints: `/health`, `/livez`, `/readyz` and `/metrics`.
//!
//! These are what a load balancer and Prometheus see; a deploy whose health
//! endpoint says `unhealthy`, or reports the previous version, is not done.

use std::time::Instant;

use runway_core::CheckResult;

use super::{describe, needs_http, observed, prometheus, send, unreachable};
use crate::context::{Context, Endpoint};

/// Values of a health body's `status` that mean healthy.
const HEALTHY: &[&str] = &["ok", "healthy", "up", "pass", "ready", "alive", "green"];

fn resolve(ctx: &Context, ep: &Endpoint) -> Option<url::Url> {
    if ep.path.starts_with("http://") || ep.path.starts_with("https://") {
        url::Url::parse(&ep.path).ok()
    } else {
        ctx.origin_url(&ep.path)
    }
}

/// A GET of an operational endpoint, with the shared "absent" handling.
/// Returns the observation, or the finished result when there is nothing more to judge.
async fn get(
    ctx: &Context,
    client: &reqwest::Client,
    id: &str,
    ep: &Endpoint,
    key: &str,
) -> Result<(crate::http::Observed, String, Instant), CheckResult> {
    let started = Instant::now();
    let Some(url) = resolve(ctx, ep) else {
        return Err(needs_http(id));
    };
    let request = describe("GET", &url);
    let o = match send(ctx, client, client.get(url.clone())).await {
        Ok(o) => o,
        Err(e) => return Err(unreachable(ctx, id, &request, &e, started)),
    };
    if o.status == 404 && !ep.required {
        let r = CheckResult::skip(
            id,
            format!(
                "`{}` is not served (404); set {} to check another path",
                ep.path,
                ctx.setting(None, key)
            ),
        );
        return Err(observed(ctx, r, &o, &request, started));
    }
    Ok((o, request, started))
}

/// `http.health` and, when a version is expected, `http.version`.
pub async fn health(ctx: &Context, client: &reqwest::Client) -> Vec<CheckResult> {
    let id = "http.health";
    let Some(ep) = ctx.paths.health.clone() else {
        return vec![];
    };
    let (o, request, started) = match get(ctx, client, id, &ep, "health_path").await {
        Ok(x) => x,
        Err(r) => {
            let mut out = vec![r];
            if ctx.expect.version.is_some() {
                out.push(CheckResult::skip(
                    "http.version",
                    "no health response to read a version from",
                ));
            }
            return out;
        }
    };
    let json = o.json();
    let status_field = json
        .as_ref()
        .and_then(|j| j.get("status"))
        .and_then(|s| s.as_str())
        .map(str::to_owned);
    let r = if o.truncated {
        CheckResult::fail(
            id,
            format!(
                "`{}` answered {} but the body did not end within {:?} or {} bytes",
                ep.path, o.status, ctx.limits.timeout, ctx.limits.max_body
            ),
            "a health endpoint must answer small and fast: check for a blocked handler or a proxy buffering the response",
        )
    } else if !(200..300).contains(&o.status) {
        CheckResult::fail(
            id,
            format!(
                "`{}` answered {}{}",
                ep.path,
                o.status,
                status_field
                    .as_deref()
                    .map(|s| format!(" with status `{s}`"))
                    .unwrap_or_default()
            ),
            "the server reports itself unhealthy: check its logs and dependencies before routing traffic to it",
        )
    } else if let Some(s) = &status_field {
        if HEALTHY.iter().any(|h| h.eq_ignore_ascii_case(s)) {
            CheckResult::pass(id, format!("`{}` answered {} `{s}`", ep.path, o.status))
        } else {
            CheckResult::fail(
                id,
                format!("`{}` answered {} but status is `{s}`", ep.path, o.status),
                "the health body says the server is not healthy: check its logs and dependencies",
            )
        }
    } else if json.is_none() {
        CheckResult::warn(
            id,
            format!(
                "`{}` answered {} but the body is not JSON",
                ep.path, o.status
            ),
            "return `{\"status\":\"ok\",\"version\":\"x.y.z\"}` so deploys can be confirmed by version",
        )
    } else {
        CheckResult::pass(id, format!("`{}` answered {}", ep.path, o.status))
    };
    let mut out = vec![observed(ctx, r, &o, &request, started)];
    if let Some(want) = &ctx.expect.version {
        let got = json
            .as_ref()
            .and_then(|j| j.get("version"))
            .and_then(|v| v.as_str());
        let v = match got {
            Some(g) if g == want => CheckResult::pass(
                "http.version",
                format!("`{}` reports version `{g}`", ep.path),
            ),
            Some(g) => CheckResult::fail(
                "http.version",
                format!("`{}` reports version `{g}`, expected `{want}`", ep.path),
                "the old release is still serving: check the rollout finished and the right image tag was deployed (if the server reports a fixed version, set `expect_version = \"\"` for the environment in runway.toml)",
            ),
            None => CheckResult::warn(
                "http.version",
                format!(
                    "`{}` has no `version` field to compare with `{want}`",
                    ep.path
                ),
                "add `version` to the health body so a deploy can be confirmed",
            ),
        };
        out.push(observed(ctx, v, &o, &request, started));
    }
    out
}

/// `http.livez` or `http.readyz`: a 2xx answer.
pub async fn probe(
    ctx: &Context,
    client: &reqwest::Client,
    id: &str,
    ep: Option<&Endpoint>,
    key: &str,
) -> Option<CheckResult> {
    let ep = ep?;
    let (o, request, started) = match get(ctx, client, id, ep, key).await {
        Ok(x) => x,
        Err(r) => return Some(r),
    };
    let r = if (200..300).contains(&o.status) {
        CheckResult::pass(id, format!("`{}` answered {}", ep.path, o.status))
    } else {
        let hint = if id.ends_with("readyz") {
            "the server is up but not ready: a dependency (database, upstream API) is failing; check readiness details in its logs"
        } else {
            "the process is not live: it may be deadlocked or crash-looping; check its logs and restarts"
        };
        CheckResult::fail(id, format!("`{}` answered {}", ep.path, o.status), hint)
    };
    Some(observed(ctx, r, &o, &request, started))
}

/// `http.metrics`: Prometheus text that parses and holds the required series.
pub async fn metrics(ctx: &Context, client: &reqwest::Client) -> Option<CheckResult> {
    let id = "http.metrics";
    let ep = ctx.paths.metrics.as_ref()?;
    let (o, request, started) = match get(ctx, client, id, ep, "metrics_path").await {
        Ok(x) => x,
        Err(r) => return Some(r),
    };
    let done = |r: CheckResult, details: serde_json::Value| {
        let mut r = observed(ctx, r, &o, &request, started);
        r.evidence.details = details;
        r
    };
    if !(200..300).contains(&o.status) {
        return Some(done(
            CheckResult::fail(
                id,
                format!("`{}` answered {}", ep.path, o.status),
                format!(
                    "serve Prometheus metrics there, or set {} to where they are",
                    ctx.setting(None, "metrics_path")
                ),
            ),
            serde_json::Value::Null,
        ));
    }
    let text = o.text();
    let e = prometheus::parse(&text);
    // `# HELP`/`# TYPE` lines with no sample yet (a freshly started
    // prometheus_client app) are valid text; a page with nothing at all is
    // accepted by Prometheus too, but exports nothing: a warning.
    if e.errors.is_empty() && e.samples.is_empty() && e.types.is_empty() {
        return Some(done(
            CheckResult::warn(
                id,
                format!("`{}` is empty: no metric family and no sample", ep.path),
                "export at least the metrics dashboards and alerts read; an empty page scrapes without error but says nothing",
            ),
            serde_json::json!({"samples": 0, "families": 0}),
        ));
    }
    if !e.errors.is_empty() {
        let first = e
            .errors
            .first()
            .map(|l| format!("line {}: {}", l.line, l.message))
            .unwrap_or_else(|| "no samples".to_owned());
        return Some(done(
            CheckResult::fail(
                id,
                format!(
                    "`{}` is not valid Prometheus text ({} bad lines; {first})",
                    ep.path,
                    e.errors.len()
                ),
                "Prometheus will reject this scrape: use your metrics library's text encoder and `text/plain; version=0.0.4`",
            ),
            serde_json::json!({
                "bad_lines": e.errors.iter().take(5).map(|l| serde_json::json!({"line": l.line, "error": l.message})).collect::<Vec<_>>(),
                "samples": e.samples.len(),
            }),
        ));
    }
    let missing: Vec<&String> = ctx
        .required_metrics
        .iter()
        .filter(|s| !e.has_series(s))
        .collect();
    let details = serde_json::json!({
        "samples": e.samples.len(),
        "families": e.types.len(),
        "missing": missing,
    });
    let r = if missing.is_empty() {
        CheckResult::pass(
            id,
            format!(
                "`{}` parses: {}{}",
                ep.path,
                if e.samples.is_empty() {
                    format!(
                        "{} metric {} declared, no samples yet",
                        e.types.len(),
                        if e.types.len() == 1 {
                            "family"
                        } else {
                            "families"
                        }
                    )
                } else {
                    format!("{} samples", e.samples.len())
                },
                if ctx.required_metrics.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", all {} required series present",
                        ctx.required_metrics.len()
                    )
                }
            ),
        )
    } else {
        CheckResult::fail(
            id,
            format!(
                "`{}` lacks required series: {}",
                ep.path,
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "dashboards and alerts that use these series will go blank: export them, or update `required_metrics`",
        )
    };
    Some(done(r, details))
}
