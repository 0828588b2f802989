//! `exposure`: the operational endpoints are closed at the public edge and
//! served on the internal network (dynamic-mcp step 7: "Confirm `/livez`,
//! `/readyz`, `/metrics` are restricted at network edge").
//!
//! From the environment's public URL each path must answer 401, 403 or 404
//! (`exposure.public`); from `internal_url`, when set, it must answer 2xx
//! (`exposure.internal`), which shows the public refusal is the edge's doing
//! and not a path the server never served. A policy, not a rule of the MCP
//! specification.

use std::time::Instant;

use runway_core::{CheckResult, Evidence};
use serde_json::json;

use super::{describe, ms, needs_http, send};
use crate::context::{Context, Exposure};

/// Statuses that show a path is closed to the public.
const CLOSED: &[u16] = &[401, 403, 404];

/// What one path answered.
struct Answer {
    path: String,
    request: String,
    outcome: Result<u16, String>,
}

async fn ask(ctx: &Context, client: &reqwest::Client, base: &url::Url, path: &str) -> Answer {
    let Ok(url) = base.join(path) else {
        return Answer {
            path: path.to_owned(),
            request: format!("GET {path}"),
            outcome: Err(format!("`{path}` does not join `{base}`")),
        };
    };
    let request = describe("GET", &url);
    let outcome = send(ctx, client, client.get(url))
        .await
        .map(|o| o.status)
        .map_err(|e| e.to_string());
    Answer {
        path: path.to_owned(),
        request,
        outcome,
    }
}

fn evidence(
    ctx: &Context,
    answers: &[Answer],
    first: Option<&Answer>,
    started: Instant,
) -> Evidence {
    let rows: Vec<serde_json::Value> = answers
        .iter()
        .map(|a| match &a.outcome {
            Ok(s) => json!({"path": a.path, "request": ctx.redactor.redact(&a.request), "status": s}),
            Err(e) => json!({"path": a.path, "request": ctx.redactor.redact(&a.request), "error": ctx.redactor.redact(e)}),
        })
        .collect();
    Evidence {
        request: first
            .or(answers.first())
            .map(|a| ctx.redactor.redact(&a.request)),
        status: first.and_then(|a| a.outcome.as_ref().ok().copied()),
        elapsed_ms: Some(ms(started)),
        details: json!({ "paths": rows }),
        ..Evidence::default()
    }
}

/// `exposure.public` and, with an internal URL, `exposure.internal`.
pub async fn run(ctx: &Context, client: &reqwest::Client) -> Vec<CheckResult> {
    let settings = ctx.exposure.clone().unwrap_or_default();
    let Some(public) = ctx.url().cloned() else {
        return vec![needs_http("exposure.public")];
    };
    let mut out = vec![public_side(ctx, client, &public, &settings).await];
    if let Some(internal) = &settings.internal_url {
        out.push(internal_side(ctx, client, internal, &settings).await);
    }
    out
}

async fn public_side(
    ctx: &Context,
    client: &reqwest::Client,
    public: &url::Url,
    settings: &Exposure,
) -> CheckResult {
    const ID: &str = "exposure.public";
    let started = Instant::now();
    let mut answers = Vec::new();
    for p in &settings.paths {
        answers.push(ask(ctx, client, public, p).await);
    }
    let open: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.outcome.as_ref().is_ok_and(|s| (200..300).contains(s)))
        .collect();
    let silent: Vec<&Answer> = answers.iter().filter(|a| a.outcome.is_err()).collect();
    let odd: Vec<&Answer> = answers
        .iter()
        .filter(|a| {
            a.outcome
                .as_ref()
                .is_ok_and(|s| !(200..300).contains(s) && !CLOSED.contains(s))
        })
        .collect();
    let list = |v: &[&Answer]| {
        v.iter()
            .map(|a| match &a.outcome {
                Ok(s) => format!("`{}` answered {s}", a.path),
                Err(e) => format!("`{}`: {e}", a.path),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let r = if !open.is_empty() {
        CheckResult::fail(
            ID,
            ctx.redactor.redact(&format!(
                "open at the public edge: {} from {}",
                list(&open),
                public.origin().ascii_serialization()
            )),
            "restrict these at the network edge (private network, ingress policy or gateway ACL): from the public URL they must answer 401, 403 or 404",
        )
    } else if !silent.is_empty() {
        CheckResult::fail(
            ID,
            ctx.redactor
                .redact(&format!("no answer from the public URL: {}", list(&silent))),
            "check the environment's `url` and that the server is reachable from here",
        )
    } else if !odd.is_empty() {
        CheckResult::warn(
            ID,
            format!(
                "{} from the public URL; expected 401, 403 or 404",
                list(&odd)
            ),
            "a redirect or an error page may still leak the endpoint: make the edge answer 401, 403 or 404 for these paths",
        )
    } else {
        CheckResult::pass(
            ID,
            format!(
                "closed at the public edge: {}",
                list(&answers.iter().collect::<Vec<_>>())
            ),
        )
    };
    let first = open.first().or(silent.first()).or(odd.first()).copied();
    r.with_evidence(evidence(ctx, &answers, first, started))
        .with_duration_ms(ms(started))
}

async fn internal_side(
    ctx: &Context,
    client: &reqwest::Client,
    internal: &url::Url,
    settings: &Exposure,
) -> CheckResult {
    const ID: &str = "exposure.internal";
    let started = Instant::now();
    let shown = ctx.redactor.redact(internal.as_str());
    let mut answers = Vec::new();
    for p in &settings.paths {
        answers.push(ask(ctx, client, internal, p).await);
    }
    let silent: Vec<&Answer> = answers.iter().filter(|a| a.outcome.is_err()).collect();
    let refused: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.outcome.as_ref().is_ok_and(|s| !(200..300).contains(s)))
        .collect();
    let r = if !silent.is_empty() {
        CheckResult::warn(
            ID,
            ctx.redactor.redact(&format!(
                "the internal URL {shown} did not answer ({}); the public refusals alone do not show these endpoints are served",
                silent
                    .iter()
                    .map(|a| format!("`{}`: {}", a.path, a.outcome.as_ref().err().map_or("", |e| e.as_str())))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            "run the check from inside the network, or fix `exposure.internal_url`",
        )
    } else if !refused.is_empty() {
        CheckResult::fail(
            ID,
            format!(
                "not served on the internal URL {shown}: {}",
                refused
                    .iter()
                    .map(|a| format!(
                        "`{}` answered {}",
                        a.path,
                        a.outcome.as_ref().map_or(0, |s| *s)
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "probes and Prometheus scrape these on the internal network: serve them there (or fix `exposure.internal_paths`)",
        )
    } else {
        CheckResult::pass(
            ID,
            format!(
                "served on the internal URL {shown}: {}",
                answers
                    .iter()
                    .map(|a| format!("`{}` {}", a.path, a.outcome.as_ref().map_or(0, |s| *s)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    };
    let first = silent.first().or(refused.first()).copied();
    r.with_evidence(evidence(ctx, &answers, first, started))
        .with_duration_ms(ms(started))
}
