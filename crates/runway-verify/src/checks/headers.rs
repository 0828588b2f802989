//! Security headers on the MCP endpoint's responses.
//!
//! A browser that loads a response without them can be made to frame it,
//! sniff it as HTML or run script from it; proxies strip them silently, so
//! they are checked on the deployed server, not in the code.

use std::time::Instant;

use runway_core::{CheckResult, Era};

use super::{describe, needs_http, observed, send, unreachable};
use crate::context::Context;
use crate::mcp::raw;

/// Runs `headers.*` on one anonymous request to the MCP endpoint.
pub async fn run(ctx: &Context, client: &reqwest::Client, era: &Era) -> Vec<CheckResult> {
    let Some(url) = ctx.url().cloned() else {
        return vec![needs_http("headers")];
    };
    let started = Instant::now();
    let request = describe("POST", &url);
    let body = raw::opening_body(era);
    let o = match send(
        ctx,
        client,
        raw::mcp_post(client, &url, era, &body, raw::RawAuth::default()),
    )
    .await
    {
        Ok(o) => o,
        Err(e) => {
            return vec![unreachable(
                ctx,
                "headers.frame_options",
                &request,
                &e,
                started,
            )];
        }
    };
    let mut out = Vec::new();
    let h = |n: &str| o.header(n).map(str::trim).map(str::to_owned);
    let csp = h("content-security-policy");

    let frame_ancestors = csp
        .as_deref()
        .is_some_and(|c| c.to_ascii_lowercase().contains("frame-ancestors"));
    out.push(match h("x-frame-options") {
        Some(v) if v.eq_ignore_ascii_case("deny") || v.eq_ignore_ascii_case("sameorigin") => {
            CheckResult::pass("headers.frame_options", format!("`X-Frame-Options: {v}`"))
        }
        Some(v) => CheckResult::fail(
            "headers.frame_options",
            format!("`X-Frame-Options: {v}` is not `DENY` or `SAMEORIGIN`"),
            "send `X-Frame-Options: DENY`",
        ),
        None if frame_ancestors => CheckResult::pass(
            "headers.frame_options",
            "no `X-Frame-Options`, but the CSP sets `frame-ancestors`",
        ),
        None => CheckResult::fail(
            "headers.frame_options",
            "no `X-Frame-Options` (and no CSP `frame-ancestors`)",
            "send `X-Frame-Options: DENY` (or CSP `frame-ancestors 'none'`) from the server or its proxy",
        ),
    });
    out.push(match h("x-content-type-options") {
        Some(v) if v.eq_ignore_ascii_case("nosniff") => CheckResult::pass(
            "headers.content_type_options",
            "`X-Content-Type-Options: nosniff`",
        ),
        other => CheckResult::fail(
            "headers.content_type_options",
            match other {
                Some(v) => format!("`X-Content-Type-Options: {v}` is not `nosniff`"),
                None => "no `X-Content-Type-Options`".to_owned(),
            },
            "send `X-Content-Type-Options: nosniff`",
        ),
    });
    out.push(match &csp {
        Some(v) if !v.is_empty() => CheckResult::pass("headers.csp", format!("`Content-Security-Policy: {v}`")),
        _ => CheckResult::fail(
            "headers.csp",
            "no `Content-Security-Policy`",
            "send `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'` for an API that serves no pages",
        ),
    });
    out.push(if url.scheme() != "https" {
        CheckResult::skip("headers.hsts", "plain HTTP: HSTS applies to HTTPS only")
    } else {
        match h("strict-transport-security") {
            Some(v) if max_age(&v).is_some_and(|a| a > 0) => {
                CheckResult::pass("headers.hsts", format!("`Strict-Transport-Security: {v}`"))
            }
            Some(v) => CheckResult::fail(
                "headers.hsts",
                format!("`Strict-Transport-Security: {v}` has no positive `max-age`"),
                "send `Strict-Transport-Security: max-age=31536000; includeSubDomains`",
            ),
            None => CheckResult::fail(
                "headers.hsts",
                "no `Strict-Transport-Security` on HTTPS",
                "send `Strict-Transport-Security: max-age=31536000; includeSubDomains` so clients never downgrade to HTTP",
            ),
        }
    });
    // These headers protect pages a browser renders: on an API that answers
    // only JSON or an event stream, their absence is advice, not a defect.
    let html = h("content-type").is_some_and(|c| c.to_ascii_lowercase().contains("html"));
    if !html {
        for r in &mut out {
            if r.status == runway_core::Status::Fail && r.id != "headers.hsts" {
                r.status = runway_core::Status::Warn;
                r.message = format!(
                    "{} (a warning: the endpoint answers {}, not HTML)",
                    r.message,
                    h("content-type").unwrap_or_else(|| "no content type".into())
                );
            }
        }
    }
    out.into_iter()
        .map(|r| observed(ctx, r, &o, &request, started))
        .collect()
}

fn max_age(v: &str) -> Option<u64> {
    v.split(';').find_map(|d| {
        let (k, val) = d.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("max-age")
            .then(|| val.trim().trim_matches('"').parse().ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn max_age_is_read_from_any_position() {
        assert_eq!(
            super::max_age("max-age=31536000; includeSubDomains"),
            Some(31536000)
        );
        assert_eq!(super::max_age("includeSubDomains; max-age=\"5\""), Some(5));
        assert_eq!(super::max_age("includeSubDomains"), None);
    }
}
