//! CORS and Origin validation: what a web page on someone else's site can do
//! with the server.
//!
//! Echoing any `Origin` (or `*` with credentials) lets any site act as the
//! logged-in user; the MCP transport also requires a 403 for a foreign `Origin`
//! to stop DNS rebinding against local servers.

use std::time::Instant;

use runway_core::{CheckResult, Era};

use super::{describe, needs_http, observed, send, unreachable};
use crate::mcp::raw;
use crate::{context::Context, http::Observed};

/// `cors.foreign_origin` and `cors.credentials`: a preflight and a GET from a foreign origin.
pub async fn cors(ctx: &Context, client: &reqwest::Client) -> Vec<CheckResult> {
    let Some(url) = ctx.url().cloned() else {
        return vec![needs_http("cors")];
    };
    let origin = ctx.foreign_origin.as_str();
    let started = Instant::now();
    let mut seen: Vec<(String, Observed)> = Vec::new();
    let preflight = client
        .request(reqwest::Method::OPTIONS, url.clone())
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, mcp-session-id",
        );
    let preflight_req = format!(
        "{} (preflight, Origin: {origin})",
        describe("OPTIONS", &url)
    );
    match send(ctx, client, preflight).await {
        Ok(o) => seen.push((preflight_req, o)),
        Err(e) => {
            return vec![unreachable(
                ctx,
                "cors.foreign_origin",
                &preflight_req,
                &e,
                started,
            )];
        }
    }
    if let Some(health) = ctx
        .paths
        .health
        .as_ref()
        .and_then(|h| ctx.origin_url(&h.path))
    {
        let req = format!("{} (Origin: {origin})", describe("GET", &health));
        if let Ok(o) = send(ctx, client, client.get(health).header("origin", origin)).await {
            seen.push((req, o));
        }
    }

    let echoed = seen
        .iter()
        .find(|(_, o)| o.header("access-control-allow-origin").map(str::trim) == Some(origin));
    let wildcard_creds = seen.iter().find(|(_, o)| {
        o.header("access-control-allow-origin").map(str::trim) == Some("*")
            && o.header("access-control-allow-credentials")
                .is_some_and(|c| c.trim().eq_ignore_ascii_case("true"))
    });
    let (first_req, first) = &seen[0];
    let foreign = match echoed {
        Some((req, o)) => observed(
            ctx,
            CheckResult::fail(
                "cors.foreign_origin",
                format!("the foreign origin `{origin}` is echoed in `Access-Control-Allow-Origin`"),
                "allow only your own web origins: a CORS layer that mirrors `Origin` lets any website call the server from a user's browser",
            ),
            o,
            req,
            started,
        ),
        None => observed(
            ctx,
            CheckResult::pass(
                "cors.foreign_origin",
                format!("the foreign origin `{origin}` is not allowed"),
            ),
            first,
            first_req,
            started,
        ),
    };
    let creds = match wildcard_creds {
        Some((req, o)) => observed(
            ctx,
            CheckResult::fail(
                "cors.credentials",
                "`Access-Control-Allow-Origin: *` together with `Access-Control-Allow-Credentials: true`",
                "never combine `*` with credentials: list the allowed origins explicitly",
            ),
            o,
            req,
            started,
        ),
        None => observed(
            ctx,
            CheckResult::pass("cors.credentials", "no wildcard origin with credentials"),
            first,
            first_req,
            started,
        ),
    };
    vec![foreign, creds]
}

/// `origin.foreign`: an MCP request with a foreign `Origin` must get 403.
pub async fn origin(ctx: &Context, client: &reqwest::Client, era: &Era) -> CheckResult {
    let id = "origin.foreign";
    let Some(url) = ctx.url().cloned() else {
        return needs_http(id);
    };
    let origin = ctx.foreign_origin.as_str();
    let started = Instant::now();
    let request = format!("{} (Origin: {origin})", describe("POST", &url));
    let token = ctx.token.as_ref().map(|t| t.expose());
    let raw = raw::RawAuth {
        bearer: token,
        header: ctx.auth_header.as_deref(),
        session: None,
        origin: Some(origin),
    };
    let o = match send(
        ctx,
        client,
        raw::mcp_post(client, &url, era, &raw::opening_body(era), raw),
    )
    .await
    {
        Ok(o) => o,
        Err(e) => return unreachable(ctx, id, &request, &e, started),
    };
    let r = match o.status {
        403 => CheckResult::pass(id, "a foreign `Origin` gets 403"),
        401 if token.is_none() => CheckResult::skip(
            id,
            format!(
                "the server wants a token first; give one ({}) to test Origin validation",
                ctx.setting(Some("--token-env"), "token_env")
            ),
        ),
        s if (200..300).contains(&s) => CheckResult::fail(
            id,
            format!("a request with `Origin: {origin}` gets {s}"),
            "validate `Origin` on `/mcp` and answer 403 to origins you do not serve (MCP transport spec, DNS rebinding)",
        ),
        s => CheckResult::warn(
            id,
            format!("a request with `Origin: {origin}` gets {s}, expected 403"),
            "answer a foreign `Origin` with 403 Forbidden, as the MCP transport spec requires",
        ),
    };
    observed(ctx, r, &o, &request, started)
}
