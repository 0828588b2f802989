//! How the server treats bad requests: the four JSON-RPC error cases
//! (`mcp.errors.*`) and an unsupported `MCP-Protocol-Version` header. A bad
//! request is the client's fault: it must get an error, never a 5xx or a hang.

use runway_core::CheckResult;
use serde_json::{Value, json};

use super::{
    Conn,
    client::{RpcFailure, RpcReply},
    result, soft, stdio_checks, timed, wire,
};
use crate::context::Context;

/// The four JSON-RPC error cases every server must handle without a 5xx or a hang.
pub(super) async fn error_checks(
    ctx: &Context,
    conn: &mut Conn,
    tools: Option<&[Value]>,
    checks: &mut Vec<CheckResult>,
) {
    let bad_call = invalid_params_call(tools);
    match conn {
        Conn::Http(h) => {
            let id = h.next_id();
            let cases: [(&str, i64, String, Option<&str>); 4] = [
                (
                    "mcp.errors.parse",
                    -32700,
                    r#"{"jsonrpc":"2.0","id":1,"method":"tools/list""#.to_owned(),
                    None,
                ),
                (
                    "mcp.errors.invalid_request",
                    -32600,
                    json!({"jsonrpc":"2.0","id":id,"method":1,"params":"bar"}).to_string(),
                    None,
                ),
                (
                    "mcp.errors.method_not_found",
                    -32601,
                    json!({"jsonrpc":"2.0","id":id + 1,"method":"runway/no-such-method","params": wire::with_meta(&h.era, json!({}))}).to_string(),
                    Some("runway/no-such-method"),
                ),
                (
                    "mcp.errors.invalid_params",
                    -32602,
                    json!({"jsonrpc":"2.0","id":id + 2,"method":"tools/call","params": wire::with_meta(&h.era, bad_call.clone())}).to_string(),
                    Some("tools/call"),
                ),
            ];
            h.next_id();
            h.next_id();
            for (i, (check, code, body, method)) in cases.into_iter().enumerate() {
                let rid = match i {
                    0 => json!(1),
                    n => json!(id + n as i64 - 1),
                };
                let name = (i == 3)
                    .then(|| bad_call.get("name").and_then(Value::as_str))
                    .flatten();
                let req = h.post(body.into_bytes(), method, name);
                let reply = h.exchange(req, check, &rid).await;
                let mut r = judge_error(ctx, check, code, reply);
                // 2026-07-28: an unknown method is HTTP 404 with -32601 (the
                // body tells it from a legacy server's 404).
                if check == "mcp.errors.method_not_found"
                    && matches!(h.era, runway_core::Era::Stateless { .. })
                    && r.status == runway_core::Status::Pass
                    && let Some(s) = r.evidence.status.filter(|s| *s != 404)
                {
                    r.status = runway_core::Status::Fail;
                    r.message = format!(
                        "JSON-RPC error -32601 with HTTP {s}; the stateless era answers an unknown method with HTTP 404"
                    );
                    r.hint = Some(
                        "answer an unknown method with HTTP 404 and the JSON-RPC error -32601"
                            .into(),
                    );
                }
                checks.push(r);
            }
        }
        Conn::Sdk(s) => {
            // rmcp cannot send malformed JSON: these lines go to the child's stdin directly.
            for (check, code) in [
                ("mcp.errors.parse", -32700),
                ("mcp.errors.invalid_request", -32600),
            ] {
                checks.push(stdio_checks::raw_error_check(ctx, s, check, code).await);
            }
            let reply = conn.rpc("runway/no-such-method", json!({})).await;
            checks.push(judge_error(
                ctx,
                "mcp.errors.method_not_found",
                -32601,
                reply,
            ));
            let reply = conn
                .rpc(
                    "tools/call",
                    json!({"name": 42, "arguments": "not-an-object"}),
                )
                .await;
            checks.push(judge_error(ctx, "mcp.errors.invalid_params", -32602, reply));
        }
    }
}

/// A `tools/call` whose arguments are wrongly typed for a listed tool (a
/// required string gets a number, a number gets a string), or, when no tool
/// has such a property, a call without the required `name`.
pub(super) fn invalid_params_call(tools: Option<&[Value]>) -> Value {
    for t in tools.unwrap_or_default() {
        let (Some(name), Some(schema)) =
            (t.get("name").and_then(Value::as_str), t.get("inputSchema"))
        else {
            continue;
        };
        let required = schema.get("required").and_then(Value::as_array);
        for prop in required.into_iter().flatten().filter_map(Value::as_str) {
            let wrong = match schema
                .pointer(&format!("/properties/{prop}/type"))
                .and_then(Value::as_str)
            {
                Some("string") => json!(12345),
                Some("number" | "integer" | "boolean") => json!("not-a-number"),
                Some("object" | "array") => json!(false),
                _ => continue,
            };
            return json!({"name": name, "arguments": {prop: wrong}});
        }
    }
    json!({"arguments": {}})
}

pub(super) fn judge_error(ctx: &Context, id: &str, want: i64, reply: RpcReply) -> CheckResult {
    let status = reply.evidence.status;
    let r = match (&reply.outcome, status) {
        (_, Some(s)) if s >= 500 => CheckResult::fail(
            id,
            format!("HTTP {s} instead of JSON-RPC error {want}"),
            "a bad request is the client's fault: answer with a JSON-RPC error (HTTP 4xx or 200), never a 5xx",
        ),
        (Err(RpcFailure::Error { code, .. }), _) if *code == want => CheckResult::pass(
            id,
            format!(
                "JSON-RPC error {want}{}",
                status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
            ),
        ),
        (Err(RpcFailure::Error { code, message, .. }), _) => result(
            id,
            soft(ctx),
            format!("JSON-RPC error {code} ({message}), expected {want}"),
            Some(
                "use the JSON-RPC 2.0 error codes: -32700 parse, -32600 invalid request, -32601 method not found, -32602 invalid params",
            ),
        ),
        // The error is there; its id is the fault. A request whose id could
        // not be read (malformed JSON) is answered with a null id; any other
        // with the request's own id.
        (Err(RpcFailure::WrongId { id: got, code, .. }), _) => result(
            id,
            soft(ctx),
            format!(
                "JSON-RPC error {code}{} carries id {got}: {}",
                if *code == want {
                    String::new()
                } else {
                    format!(" (expected {want})")
                },
                if want == -32700 {
                    "an error about a request whose id could not be read must have a null id"
                } else {
                    "an error must carry the id of the request it answers"
                }
            ),
            Some(
                "answer with the request's id, or `null` when it could not be read (JSON-RPC 2.0 § 5)",
            ),
        ),
        (Err(RpcFailure::Timeout(d)), _) => CheckResult::fail(
            id,
            format!("no answer within {} ms", d.as_millis()),
            "the server hangs on a bad request: answer with a JSON-RPC error at once",
        ),
        (Err(RpcFailure::Transport(e)), _) => CheckResult::fail(
            id,
            format!("the request failed: {e}"),
            "the server dropped the connection on a bad request: answer with a JSON-RPC error",
        ),
        // The transport lets the body of a 4xx to a message the server cannot
        // accept be anything; a JSON-RPC error there is only better manners.
        (Err(RpcFailure::Status(s)), _) if *s >= 400 && matches!(want, -32700 | -32600) => {
            CheckResult::warn(
                id,
                format!("HTTP {s} with no JSON-RPC error body, expected {want}"),
                "a JSON-RPC error object in the body of the 4xx response tells the client what was wrong",
            )
        }
        (Err(RpcFailure::Status(s)), _) => result(
            id,
            soft(ctx),
            format!("HTTP {s} with no JSON-RPC error body, expected {want}"),
            Some("put a JSON-RPC error object in the body of the 4xx response"),
        ),
        // Neither a crash nor a hang, but no JSON-RPC error either.
        (Err(e), _) => result(
            id,
            soft(ctx),
            format!("no JSON-RPC error in the answer: {e}"),
            Some("answer a bad request with a JSON-RPC error object"),
        ),
        (Ok(v), _) if want == -32602 && v.get("isError").and_then(Value::as_bool) == Some(true) => {
            CheckResult::pass(
                id,
                "wrongly typed arguments were rejected as a tool error (`isError`), as 2025-11-25 allows",
            )
        }
        (Ok(v), _) => result(
            id,
            soft(ctx),
            format!(
                "the bad request was accepted with a result: {}",
                crate::http::redacted_excerpt(&ctx.redactor, v.to_string().as_bytes(), 120)
            ),
            Some("reject malformed requests with a JSON-RPC error"),
        ),
    };
    timed(r, reply.evidence, reply.elapsed)
}

/// An unsupported `MCP-Protocol-Version` header must get HTTP 400 (2025-06-18
/// on); in the stateless era it also contradicts the request's `_meta`.
pub(super) async fn version_header_check(ctx: &Context, conn: &mut Conn) -> CheckResult {
    let id = "mcp.protocol_version_header";
    let Conn::Http(h) = conn else {
        return CheckResult::skip(id, "stdio has no HTTP headers");
    };
    match h.era.version() {
        Some(v) if v >= "2025-06-18" => {}
        _ => return CheckResult::skip(id, "the negotiated version predates the header"),
    }
    let rid = h.next_id();
    let body = json!({"jsonrpc": "2.0", "id": rid, "method": "tools/list", "params": wire::with_meta(&h.era, json!({}))});
    let req = h.post(body.to_string().into_bytes(), Some("tools/list"), None);
    let reply = h
        .exchange_with(
            req,
            "tools/list with `MCP-Protocol-Version: 1999-01-01`",
            &json!(rid),
            |r| {
                r.headers_mut().insert(
                    "mcp-protocol-version",
                    reqwest::header::HeaderValue::from_static("1999-01-01"),
                );
            },
        )
        .await;
    let r = match reply.evidence.status {
        Some(400) => CheckResult::pass(id, "an unsupported `MCP-Protocol-Version` gets HTTP 400"),
        Some(s) if s >= 500 => CheckResult::fail(
            id,
            format!("an unsupported `MCP-Protocol-Version` gets HTTP {s}"),
            "answer an unsupported protocol version header with 400, never a 5xx",
        ),
        Some(s) => result(
            id,
            soft(ctx),
            format!("an unsupported `MCP-Protocol-Version` gets HTTP {s}, expected 400"),
            Some(
                "validate the `MCP-Protocol-Version` header and answer 400 when it is unsupported",
            ),
        ),
        None => CheckResult::fail(
            id,
            format!(
                "no answer to an unsupported `MCP-Protocol-Version`: {}",
                reply
                    .outcome
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            ),
            "answer an unsupported protocol version header with 400 at once",
        ),
    };
    timed(r, reply.evidence, reply.elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accepted_bad_request_is_quoted_without_a_secret_cut_in_half() {
        let secret = "rw-err-0123456789abcdef0123456789abcdef";
        let url = crate::url::Url::parse("http://127.0.0.1:1/mcp").unwrap();
        let mut ctx = Context::new(
            crate::context::Transport::Http { url },
            None,
            crate::context::Suite::Full,
        );
        ctx.redactor.add(&runway_core::Secret::new(secret));
        // `{"note":"` is 9 bytes: the secret starts 10 bytes before the 120-byte cut.
        let reply = RpcReply {
            outcome: Ok(json!({"note": format!("{}{secret}", "x".repeat(101))})),
            evidence: runway_core::Evidence::default(),
            elapsed: std::time::Duration::from_millis(1),
        };
        let r = judge_error(&ctx, "mcp.errors.invalid_params", -32602, reply);
        assert!(
            r.message.contains("accepted with a result"),
            "{}",
            r.message
        );
        assert!(r.message.contains("xxxxxxxx"), "{}", r.message);
        assert!(!r.message.contains("rw-err"), "{}", r.message);
    }
}
