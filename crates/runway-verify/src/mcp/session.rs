//! The end of a session-era conversation: `DELETE` ends the session and the
//! ended id then gets 404 (`mcp.session.delete`).

use std::time::Instant;

use runway_core::{CheckResult, Era, Evidence};
use serde_json::json;

use super::{Conn, timed};
use crate::context::Context;

/// `mcp.session.unknown` (2025-11-25): a request with a session id the
/// server does not know (expired, or from before a restart) gets 404, so the
/// client starts a new session; a 400 leaves it stuck.
pub(super) async fn unknown_session_check(_ctx: &Context, conn: &mut Conn) -> CheckResult {
    let id = "mcp.session.unknown";
    let Conn::Http(h) = conn else {
        return CheckResult::skip(id, "stdio has no HTTP sessions");
    };
    if !matches!(h.era, Era::Session { .. }) {
        return CheckResult::skip(id, "the stateless era has no sessions");
    }
    let Some(real) = h.session_id.clone() else {
        return CheckResult::skip(id, "the server issued no `Mcp-Session-Id`");
    };
    h.session_id = Some("runway-unknown-session-0000".into());
    let reply = h.rpc("tools/list", json!({})).await;
    h.session_id = Some(real);
    let r = match reply.evidence.status {
        Some(404) => CheckResult::pass(id, "an unknown `Mcp-Session-Id` gets 404"),
        Some(s) => CheckResult::fail(
            id,
            format!("an unknown `Mcp-Session-Id` gets HTTP {s}, not 404"),
            "answer a session id you do not know (expired, or issued before a restart) with 404: clients then open a new session; on a 400 they stay stuck",
        ),
        None => CheckResult::fail(
            id,
            format!(
                "an unknown `Mcp-Session-Id` got no answer: {}",
                reply
                    .outcome
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            ),
            "answer a session id you do not know with 404 at once",
        ),
    };
    timed(r, reply.evidence, reply.elapsed)
}

/// Session era: DELETE ends the session, and the ended id then gets 404.
pub(super) async fn session_end_check(ctx: &Context, conn: &mut Conn) -> CheckResult {
    let id = "mcp.session.delete";
    let Conn::Http(h) = conn else {
        return CheckResult::skip(id, "stdio has no HTTP sessions");
    };
    if !matches!(h.era, Era::Session { .. }) {
        return CheckResult::skip(id, "the stateless era has no sessions");
    }
    let Some(sid) = h.session_id.clone() else {
        return CheckResult::skip(id, "the server issued no `Mcp-Session-Id`");
    };
    let start = Instant::now();
    let mut rb = h
        .auth(h.client.delete(h.url.clone()))
        .header("mcp-session-id", &sid);
    if let Some(v) = h.protocol_version() {
        rb = rb.header("mcp-protocol-version", v);
    }
    let request = ctx
        .redactor
        .redact(&format!("DELETE {} (Mcp-Session-Id)", h.url));
    let del = match rb.build() {
        Ok(req) => crate::http::fetch(&h.client, req, ctx.limits).await,
        Err(e) => Err(crate::http::FetchError::Other(e.to_string())),
    };
    let del = match del {
        Ok(o) => o,
        Err(e) => {
            return timed(
                CheckResult::fail(
                    id,
                    format!("DELETE failed: {e}"),
                    "answer DELETE with 2xx (or 405 if clients may not end sessions)",
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
    let del_ev = del.evidence(&request, &ctx.redactor);
    if del.status == 405 {
        return timed(
            CheckResult::pass(
                id,
                "DELETE → 405: the server does not let clients end sessions (allowed)",
            ),
            del_ev,
            start.elapsed(),
        );
    }
    if !(200..300).contains(&del.status) {
        return timed(
            CheckResult::fail(
                id,
                format!("DELETE → HTTP {}", del.status),
                "answer DELETE with 2xx and end the session, or 405 if clients may not end sessions",
            ),
            del_ev,
            start.elapsed(),
        );
    }
    // Use of the ended session must now get 404.
    let after = h.rpc("tools/list", json!({})).await;
    h.session_id = None;
    let mut ev = after.evidence.clone();
    ev.details = json!({"delete_status": del.status});
    let r = match after.evidence.status {
        Some(404) => CheckResult::pass(
            id,
            format!("DELETE → {}, then the ended session → 404", del.status),
        ),
        Some(s) => CheckResult::fail(
            id,
            format!(
                "DELETE → {}, but the ended session still answers HTTP {s}",
                del.status
            ),
            "after DELETE, answer every request carrying that `Mcp-Session-Id` with 404",
        ),
        None => CheckResult::fail(
            id,
            format!(
                "DELETE → {}, then no answer for the ended session: {}",
                del.status,
                after
                    .outcome
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            ),
            "after DELETE, answer every request carrying that `Mcp-Session-Id` with 404",
        ),
    };
    timed(r, ev, start.elapsed())
}

/// 2025-11-25: a POST answered with an SSE stream should open with a priming
/// event (an id and empty data) so the client can resume the stream. A
/// SHOULD, so a warning in every suite.
pub(super) async fn priming_check(conn: &mut Conn) -> CheckResult {
    let id = "mcp.sse.priming";
    let Conn::Http(h) = conn else {
        return CheckResult::skip(id, "stdio has no SSE streams");
    };
    match &h.era {
        Era::Session { version } if version.as_str() == "2025-11-25" => {}
        other => {
            return CheckResult::skip(
                id,
                format!(
                    "priming events are a 2025-11-25 rule; the server speaks {}",
                    other.label()
                ),
            );
        }
    }
    let start = Instant::now();
    let rid = h.next_id();
    let body = json!({"jsonrpc": "2.0", "id": rid, "method": "ping", "params": {}});
    let request = h.redactor.redact(&format!("POST {} ping", h.url));
    let observed = match h
        .post(body.to_string().into_bytes(), Some("ping"), None)
        .build()
    {
        Ok(req) => super::client::fetch_until_response(&h.client, req, h.limits, &json!(rid)).await,
        Err(e) => Err(crate::http::FetchError::Other(e.to_string())),
    };
    let o = match observed {
        Ok(o) => o,
        Err(e) => {
            return CheckResult::skip(id, format!("the `ping` to look at got no answer: {e}"))
                .with_duration_ms(super::ms(start.elapsed()));
        }
    };
    let ev = o.evidence(&request, &h.redactor);
    let r = if !super::wire::is_sse(o.header("content-type")) {
        CheckResult::skip(id, "the server answers POSTs with JSON, not an SSE stream")
    } else if super::wire::opens_with_priming_event(&o.body) {
        CheckResult::pass(
            id,
            "the SSE answer opens with a priming event (an id, no data)",
        )
    } else {
        CheckResult::warn(
            id,
            "the SSE answer does not open with a priming event",
            "start every SSE stream with an event that has an `id` and empty `data`, so a client that loses the stream can resume it with `Last-Event-ID` (2025-11-25)",
        )
    };
    timed(r, ev, start.elapsed())
}
