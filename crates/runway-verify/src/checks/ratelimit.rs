//! The rate-limit probe: a bounded burst of anonymous requests that should
//! meet a 429 with `Retry-After`.
//!
//! It spends the server's anonymous budget, so the engine runs it last.

use std::time::{Duration, Instant};

use futures::StreamExt;
use runway_core::{CheckResult, Era};

use super::{describe, needs_http, observed};
use crate::mcp::raw;
use crate::{context::Context, http};

/// The burst is capped in count and time whatever the configuration says.
const MAX_BURST: u32 = 1000;
const MAX_TIME: Duration = Duration::from_secs(10);
const PARALLEL: usize = 8;

/// `ratelimit.burst`.
pub async fn run(ctx: &Context, client: &reqwest::Client, era: &Era) -> CheckResult {
    let id = "ratelimit.burst";
    let Some(url) = ctx.url().cloned() else {
        return needs_http(id);
    };
    let burst = ctx.rate_limit.burst.clamp(1, MAX_BURST);
    let started = Instant::now();
    let deadline = started + MAX_TIME;
    let body = raw::opening_body(era);
    let request = format!("{} x{burst} without a token", describe("POST", &url));
    let limits = http::Limits {
        timeout: ctx.limits.timeout.min(MAX_TIME),
        ..ctx.limits
    };
    let mut statuses: std::collections::BTreeMap<String, u32> = Default::default();
    let mut limited: Option<http::Observed> = None;
    let mut errors = 0u32;
    let mut sent = 0u32;
    let mut stream = futures::stream::iter(0..burst)
        .map(|_| {
            let req = raw::mcp_post(client, &url, era, &body, raw::RawAuth::default()).build();
            async move {
                match req {
                    Ok(r) => http::fetch(client, r, limits).await.ok(),
                    Err(_) => None,
                }
            }
        })
        .buffer_unordered(PARALLEL);
    while let Ok(Some(next)) = tokio::time::timeout_at(deadline.into(), stream.next()).await {
        sent += 1;
        match next {
            Some(o) => {
                *statuses.entry(o.status.to_string()).or_default() += 1;
                if o.status == 429 && limited.is_none() {
                    limited = Some(o);
                }
            }
            None => errors += 1,
        }
        if limited.is_some() {
            break;
        }
    }
    drop(stream);
    let details = serde_json::json!({ "sent": sent, "statuses": statuses, "errors": errors });
    let mut r = match &limited {
        Some(o) => {
            let retry = o.header("retry-after").map(str::trim).map(str::to_owned);
            let r = match retry {
                Some(v)
                    if v.parse::<u64>().is_ok()
                        || chrono::DateTime::parse_from_rfc2822(&v).is_ok() =>
                {
                    CheckResult::pass(id, format!("429 after {sent} requests, `Retry-After: {v}`"))
                }
                Some(v) => CheckResult::warn(
                    id,
                    format!(
                        "429 after {sent} requests, but `Retry-After: {v}` is neither seconds nor a date"
                    ),
                    "send `Retry-After` as a number of seconds",
                ),
                None => CheckResult::warn(
                    id,
                    format!("429 after {sent} requests, without `Retry-After`"),
                    "send `Retry-After: <seconds>` with 429 so clients back off instead of hammering",
                ),
            };
            observed(ctx, r, o, &request, started)
        }
        None => {
            let message = format!(
                "no 429 after {sent} anonymous requests in {}",
                crate::text::duration(started.elapsed())
            );
            let hint = format!(
                "limit unauthenticated requests per client (e.g. 20 per second) and answer 429 with `Retry-After`; raise {} if your limit is higher",
                ctx.setting(None, "rate_limit.burst")
            );
            let r = if ctx.rate_limit.required {
                CheckResult::fail(id, message, hint)
            } else {
                CheckResult::warn(id, message, hint)
            };
            r.with_duration_ms(super::ms(started))
        }
    };
    r.evidence.request = Some(request);
    r.evidence.details = details;
    r
}
