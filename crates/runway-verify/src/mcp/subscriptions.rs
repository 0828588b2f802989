//! `mcp.subscriptions.listen` (2026-07-28 basic/patterns/subscriptions.mdx §
//! Acknowledgment): where a server declares change notifications
//! (`listChanged` of tools, prompts or resources, or `resources.subscribe`),
//! a `subscriptions/listen` stream opens with
//! `notifications/subscriptions/acknowledged`, carrying the request's id as
//! `_meta` `io.modelcontextprotocol/subscriptionId`, before anything else.
//! HTTP only: over stdio the acknowledgment is a notification rmcp consumes.

use std::time::{Duration, Instant};

use runway_core::{CheckResult, Era, Evidence};
use serde_json::{Value, json};

use super::{Conn, Connected, result, soft, timed, wire};
use crate::context::Context;
use crate::http::{Limits, fetch_until};

const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";

/// The filter for what the server declares, `None` when it declares nothing.
fn filter(capabilities: &Value) -> Option<Value> {
    let on = |p: &str| capabilities.pointer(p).and_then(Value::as_bool) == Some(true);
    let mut f = serde_json::Map::new();
    for (pointer, key) in [
        ("/tools/listChanged", "toolsListChanged"),
        ("/prompts/listChanged", "promptsListChanged"),
        ("/resources/listChanged", "resourcesListChanged"),
    ] {
        if on(pointer) {
            f.insert(key.into(), json!(true));
        }
    }
    (!f.is_empty()).then_some(Value::Object(f))
}

pub(super) async fn listen_check(ctx: &Context, c: &mut Connected) -> CheckResult {
    let id = "mcp.subscriptions.listen";
    let Era::Stateless { version } = c.era.clone() else {
        return CheckResult::skip(id, "a rule of the stateless era (2026-07-28)");
    };
    let Some(notifications) = filter(&c.capabilities) else {
        return CheckResult::skip(id, "the server declares no `listChanged` notifications");
    };
    let Conn::Http(h) = &mut c.conn else {
        return CheckResult::skip(
            id,
            "over stdio the acknowledgment is a notification the SDK consumes; checked over HTTP",
        );
    };
    let rid = h.next_id();
    let params = wire::with_meta(
        &Era::Stateless { version },
        json!({"notifications": notifications}),
    );
    let body =
        json!({"jsonrpc": "2.0", "id": rid, "method": "subscriptions/listen", "params": params});
    let request = ctx
        .redactor
        .redact(&format!("POST {} subscriptions/listen", h.url));
    let start = Instant::now();
    let req = match h
        .post(
            body.to_string().into_bytes(),
            Some("subscriptions/listen"),
            None,
        )
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return CheckResult::fail(
                id,
                format!("could not build the request: {e}"),
                "see the evidence",
            );
        }
    };
    // The stream stays open: read until the first whole message, bounded.
    let limits = Limits {
        timeout: ctx.limits.timeout.min(Duration::from_secs(5)),
        max_body: 64 * 1024,
    };
    let first = |ct: Option<&str>, b: &[u8]| {
        !wire::is_sse(ct) || wire::decode_body(ct, b).is_ok_and(|m| !m.is_empty())
    };
    let o = match fetch_until(&h.client, req, limits, first).await {
        Ok(o) => o,
        Err(e) => {
            return timed(
                CheckResult::fail(
                    id,
                    format!("`subscriptions/listen` got no first message: {e}"),
                    "acknowledge a `subscriptions/listen` at once with `notifications/subscriptions/acknowledged`",
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
    let ev = o.evidence(&request, &ctx.redactor);
    let messages = wire::decode_body(o.header("content-type"), &o.body).unwrap_or_default();
    let first: Option<Value> = serde_json::from_slice::<Value>(&o.body)
        .ok()
        .filter(|_| !wire::is_sse(o.header("content-type")))
        .or_else(|| sse_first(&o.body));
    let hint = "open the stream with `notifications/subscriptions/acknowledged` whose `_meta` carries `io.modelcontextprotocol/subscriptionId` (the request's id), before any other message";
    let r = match first {
        Some(m) if m.pointer("/error/code").and_then(Value::as_i64) == Some(-32601) => result(
            id,
            soft(ctx),
            "the server declares `listChanged` but answers `subscriptions/listen` with -32601: clients cannot receive the changes it announces".into(),
            Some("serve `subscriptions/listen`, or stop declaring `listChanged`"),
        ),
        Some(m) if m.get("method").and_then(Value::as_str) == Some("notifications/subscriptions/acknowledged") => {
            match m.pointer("/params/_meta").and_then(|x| x.get(SUBSCRIPTION_ID)) {
                Some(s) if *s == json!(rid) => CheckResult::pass(
                    id,
                    "`subscriptions/listen` opens with the acknowledgment carrying its subscription id",
                ),
                Some(s) => CheckResult::fail(
                    id,
                    format!("the acknowledgment's `subscriptionId` is {s}, not the request's id {rid}"),
                    hint,
                ),
                None => CheckResult::fail(
                    id,
                    "the acknowledgment carries no `_meta` `io.modelcontextprotocol/subscriptionId`",
                    hint,
                ),
            }
        }
        Some(m) => CheckResult::fail(
            id,
            format!(
                "the first message on the `subscriptions/listen` stream is not the acknowledgment: {}",
                crate::http::redacted_excerpt(&ctx.redactor, m.to_string().as_bytes(), 160)
            ),
            hint,
        ),
        None => CheckResult::fail(
            id,
            format!(
                "`subscriptions/listen` answered HTTP {} with no message ({} decoded)",
                o.status,
                messages.len()
            ),
            hint,
        ),
    };
    timed(r, ev, start.elapsed())
}

/// The first `data:` payload of an SSE body that parses as JSON.
fn sse_first(body: &[u8]) -> Option<Value> {
    std::str::from_utf8(body)
        .ok()?
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .find_map(|d| serde_json::from_str(d.trim()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_follows_what_is_declared() {
        assert_eq!(filter(&json!({"tools": {}})), None);
        assert_eq!(
            filter(&json!({"tools": {"listChanged": true}, "prompts": {"listChanged": false}})),
            Some(json!({"toolsListChanged": true}))
        );
        let sse = b"id: 1\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n\n";
        assert_eq!(sse_first(sse).unwrap()["method"], "x");
    }
}
