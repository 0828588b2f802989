//! Checks that judge a server by plain HTTP: the operational endpoints, TLS,
//! security headers, CORS, Origin validation, the auth boundary and rate limits.
//!
//! They live apart from the MCP protocol checks because they must see exactly
//! what the server sent (status, headers) with no client library retrying,
//! following redirects or re-initialising in between.

pub mod auth;
pub mod cors;
pub mod endpoints;
pub mod exposure;
pub mod headers;
pub mod prometheus;
pub mod ratelimit;
pub mod tls;

use std::time::Instant;

use runway_core::{CheckResult, Evidence};

use crate::{
    context::Context,
    http::{self, FetchError, Observed},
};

/// A one-line description of a request for evidence, e.g. `GET http://host/health`.
pub(crate) fn describe(method: &str, url: &url::Url) -> String {
    format!("{method} {url}")
}

/// Sends `req`, bounded by the context's limits.
pub(crate) async fn send(
    ctx: &Context,
    client: &reqwest::Client,
    req: reqwest::RequestBuilder,
) -> Result<Observed, FetchError> {
    let req = req
        .build()
        .map_err(|e| FetchError::Other(http::error_chain(&e)))?;
    http::fetch(client, req, ctx.limits).await
}

/// The failed result for a request that got no response at all.
pub(crate) fn unreachable(
    ctx: &Context,
    id: &str,
    request: &str,
    err: &FetchError,
    started: Instant,
) -> CheckResult {
    let hint = match err {
        FetchError::Timeout(_) => format!(
            "the server did not answer in time: check that it is up and not overloaded, or raise {}",
            ctx.setting(Some("--timeout"), "timeout_secs")
        ),
        _ => runway_core::Diagnostic::hint(err).unwrap_or_default(),
    };
    CheckResult::fail(
        id,
        ctx.redactor.redact(&format!("no response: {err}")),
        hint,
    )
    .with_evidence(Evidence {
        request: Some(ctx.redactor.redact(request)),
        elapsed_ms: Some(ms(started)),
        ..Evidence::default()
    })
    .with_duration_ms(ms(started))
}

/// Milliseconds since `t`.
pub(crate) fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Attaches evidence from `o` and the time since `started`.
pub(crate) fn observed(
    ctx: &Context,
    r: CheckResult,
    o: &Observed,
    request: &str,
    started: Instant,
) -> CheckResult {
    r.with_evidence(o.evidence(request, &ctx.redactor))
        .with_duration_ms(ms(started))
}

/// A check that cannot apply to a stdio target.
pub(crate) fn needs_http(id: &str) -> CheckResult {
    CheckResult::skip(id, "not an HTTP target")
}
