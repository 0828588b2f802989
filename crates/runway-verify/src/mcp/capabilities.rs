//! Methods a server offers only when it declares them: `logging/setLevel`
//! (`logging`), `completion/complete` (`completions`) and
//! `resources/subscribe` (`resources.subscribe`). Each is exercised only when
//! the server declares its capability, and then it must work: a client that
//! reads the declaration will call it.

use runway_core::{CheckResult, Era, Redactor};
use serde_json::{Value, json};

use super::{
    Connected,
    client::{RpcFailure, RpcReply},
    result, soft, timed,
};
use crate::context::Context;

fn declared(c: &Connected, pointer: &str) -> bool {
    c.capabilities
        .pointer(pointer)
        .is_some_and(|v| !v.is_null() && v != &Value::Bool(false))
}

/// Judges one reply: a JSON-RPC result passes, anything else fails.
fn judge(
    redactor: &Redactor,
    id: &str,
    what: &str,
    reply: RpcReply,
    ok: impl Fn(&Value) -> bool,
) -> CheckResult {
    let r = match &reply.outcome {
        Ok(v) if ok(v) => CheckResult::pass(id, format!("{what} works")),
        Ok(v) => CheckResult::fail(
            id,
            format!(
                "{what} answered an unexpected result: {}",
                crate::http::redacted_excerpt(redactor, v.to_string().as_bytes(), 160)
            ),
            "return the result the specification defines for this method",
        ),
        Err(e) => CheckResult::fail(
            id,
            format!("{what} failed: {e}"),
            "the server declares this capability, so clients will call it: implement the method or stop declaring it",
        ),
    };
    timed(r, reply.evidence, reply.elapsed)
}

/// `mcp.logging.set_level` (or, from 2026-07-28, `mcp.logging.level`),
/// `mcp.completion.complete`, `mcp.resources.subscribe`.
pub(super) async fn gated_checks(ctx: &Context, c: &mut Connected, checks: &mut Vec<CheckResult>) {
    let redactor = &ctx.redactor;
    let stateless = matches!(c.era, Era::Stateless { .. });
    let id = "mcp.logging.set_level";
    checks.push(if stateless {
        // 2026-07-28 removed `logging/setLevel`: the level travels with each
        // request (`_meta` `io.modelcontextprotocol/logLevel`), and -32601 is
        // the right answer to the old method.
        CheckResult::skip(
            id,
            "2026-07-28 removed `logging/setLevel` (the level travels per request in `_meta`); see `mcp.logging.level`",
        )
    } else if declared(c, "/logging") {
        let reply = c
            .conn
            .rpc("logging/setLevel", json!({"level": "info"}))
            .await;
        judge(redactor, id, "`logging/setLevel`", reply, Value::is_object)
    } else {
        CheckResult::skip(id, "the server does not declare `logging`")
    });
    if stateless {
        checks.push(log_level_check(ctx, c).await);
    }

    let id = "mcp.completion.complete";
    checks.push(if !declared(c, "/completions") {
        CheckResult::skip(id, "the server does not declare `completions`")
    } else {
        match first_prompt_argument(c).await {
            None => CheckResult::skip(
                id,
                "`completions` is declared, but no prompt has an argument to complete",
            ),
            Some((prompt, argument)) => {
                let reply = c
                    .conn
                    .rpc(
                        "completion/complete",
                        json!({
                            "ref": {"type": "ref/prompt", "name": prompt},
                            "argument": {"name": argument, "value": ""},
                        }),
                    )
                    .await;
                judge(
                    redactor,
                    id,
                    &format!("`completion/complete` of prompt `{prompt}` argument `{argument}`"),
                    reply,
                    |v| v.pointer("/completion/values").is_some_and(Value::is_array),
                )
            }
        }
    });

    let id = "mcp.resources.subscribe";
    checks.push(if matches!(c.era, Era::Stateless { .. }) {
        // From 2026-07-28 the capability promises `subscriptions/listen`
        // streams; `resources/subscribe` belongs to the session era.
        CheckResult::skip(
            id,
            "in the stateless era `resources.subscribe` means `subscriptions/listen` (see `mcp.subscriptions.listen`)",
        )
    } else if !declared(c, "/resources/subscribe") {
        CheckResult::skip(id, "the server does not declare `resources.subscribe`")
    } else {
        match first_resource(c).await {
            None => CheckResult::skip(
                id,
                "`resources.subscribe` is declared, but no resource is listed to subscribe to",
            ),
            Some(uri) => {
                let reply = c.conn.rpc("resources/subscribe", json!({"uri": uri})).await;
                let r = judge(
                    redactor,
                    id,
                    &format!("`resources/subscribe` to `{uri}`"),
                    reply,
                    Value::is_object,
                );
                let _ = c
                    .conn
                    .rpc("resources/unsubscribe", json!({"uri": uri}))
                    .await;
                r
            }
        }
    });
}

/// `mcp.logging.level` (2026-07-28): a request whose `_meta` carries a log
/// level that is not one of the eight is rejected with -32602 (SHOULD).
/// Asked only of a server that declares `logging`.
async fn log_level_check(ctx: &Context, c: &mut Connected) -> CheckResult {
    let id = "mcp.logging.level";
    if !declared(c, "/logging") {
        return CheckResult::skip(id, "the server does not declare `logging`");
    }
    let reply = c
        .conn
        .rpc(
            "tools/list",
            json!({"_meta": {"io.modelcontextprotocol/logLevel": "runway-no-such-level"}}),
        )
        .await;
    let r = match &reply.outcome {
        Err(RpcFailure::Error { code: -32602, .. }) => {
            CheckResult::pass(id, "an unknown `_meta` log level is rejected with -32602")
        }
        Err(RpcFailure::Error { code, message, .. }) => result(
            id,
            soft(ctx),
            format!("an unknown `_meta` log level got error {code} ({message}), expected -32602"),
            Some(
                "reject an unrecognised `io.modelcontextprotocol/logLevel` with -32602 (Invalid params)",
            ),
        ),
        Ok(_) => result(
            id,
            soft(ctx),
            "a request with the log level `runway-no-such-level` in `_meta` was served".into(),
            Some(
                "reject an unrecognised `io.modelcontextprotocol/logLevel` with -32602 (Invalid params)",
            ),
        ),
        Err(e) => result(
            id,
            soft(ctx),
            format!("an unknown `_meta` log level: {e}"),
            Some(
                "reject an unrecognised `io.modelcontextprotocol/logLevel` with a JSON-RPC error -32602",
            ),
        ),
    };
    timed(r, reply.evidence, reply.elapsed)
}

/// The first prompt with a declared argument, from the first page of `prompts/list`.
async fn first_prompt_argument(c: &mut Connected) -> Option<(String, String)> {
    if !declared(c, "/prompts") {
        return None;
    }
    let reply = c.conn.rpc("prompts/list", json!({})).await;
    let list = reply.outcome.ok()?;
    list.get("prompts")?.as_array()?.iter().find_map(|p| {
        let name = p.get("name")?.as_str()?;
        let arg = p
            .get("arguments")?
            .as_array()?
            .first()?
            .get("name")?
            .as_str()?;
        Some((name.to_owned(), arg.to_owned()))
    })
}

/// The URI of the first resource on the first page of `resources/list`.
async fn first_resource(c: &mut Connected) -> Option<String> {
    let reply = c.conn.rpc("resources/list", json!({})).await;
    let list = reply.outcome.ok()?;
    list.get("resources")?
        .as_array()?
        .first()?
        .get("uri")?
        .as_str()
        .map(str::to_owned)
}

/// `mcp.logging.silent` (2026-07-28 server/utilities/logging.mdx § Per-request
/// log level): Runway never sends a log level, so no `notifications/message`
/// may arrive. Counted over the whole run of the era (SSE answers on HTTP,
/// stdout lines on stdio); judged at its end.
pub(super) fn log_silence_check(c: &Connected) -> CheckResult {
    let id = "mcp.logging.silent";
    if !matches!(c.era, Era::Stateless { .. }) {
        return CheckResult::skip(id, "a rule of the stateless era (2026-07-28)");
    }
    let (seen, where_) = match &c.conn {
        super::Conn::Http(h) => (
            h.log_messages.load(std::sync::atomic::Ordering::Relaxed),
            "in the event streams answering its requests",
        ),
        super::Conn::Sdk(s) => match &s.child {
            Some(child) => (child.seen().log_messages, "on stdout"),
            None => return CheckResult::skip(id, "no stdio child to watch"),
        },
    };
    if seen == 0 {
        CheckResult::pass(
            id,
            "no `notifications/message` arrived for requests that set no log level",
        )
    } else {
        CheckResult::fail(
            id,
            format!(
                "{seen} log message(s) (`notifications/message`) arrived {where_}, though no request carried `io.modelcontextprotocol/logLevel`"
            ),
            "send log messages only for a request whose `_meta` sets `io.modelcontextprotocol/logLevel`, at or above that level",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unexpected_result_is_quoted_without_a_secret_cut_in_half() {
        let secret = "rw-cap-0123456789abcdef0123456789abcdef";
        let mut redactor = Redactor::new();
        redactor.add(&runway_core::Secret::new(secret));
        // `{"note":"` is 9 bytes: the secret starts 10 bytes before the 160-byte cut.
        let v = json!({"note": format!("{}{secret}", "x".repeat(141))});
        let reply = RpcReply {
            outcome: Ok(v),
            evidence: runway_core::Evidence::default(),
            elapsed: std::time::Duration::from_millis(1),
        };
        let r = judge(&redactor, "mcp.logging.set_level", "`x`", reply, |_| false);
        assert!(r.message.contains("xxxxxxxx"), "{}", r.message);
        assert!(!r.message.contains("rw-cap"), "{}", r.message);
    }
}
