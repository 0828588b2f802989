//! What only a stdio server is checked for: `mcp.stdio.stdout` (nothing but
//! MCP messages on stdout, as the stdio transport requires), and the stdio
//! halves of `mcp.errors.parse` and `mcp.errors.invalid_request`, whose raw
//! lines Runway writes to the child's stdin itself, since rmcp cannot send
//! malformed JSON.

use runway_core::{CheckResult, Evidence};
use serde_json::{Value, json};

use super::{client::ms, result, sdk::SdkConn, soft, timed, wire};
use crate::context::Context;

/// `mcp.stdio.stdout`: `None` when the connection is not a stdio child.
pub(super) async fn stdout_check(ctx: &Context, s: &SdkConn) -> Option<CheckResult> {
    let id = "mcp.stdio.stdout";
    let child = s.child.as_ref()?;
    // A last `ping` answered means every line written before it has been read.
    child
        .probe(
            None,
            None,
            wire::with_meta(&s.era, json!({})),
            ctx.limits.timeout,
        )
        .await;
    let seen = child.seen();
    let mut ev = Evidence {
        request: Some(ctx.display.clone()),
        details: json!({
            "mcp_messages": seen.mcp_messages,
            "other_lines": seen.offences,
            "oversized_lines": seen.oversized,
        }),
        ..Evidence::default()
    };
    let r = match &seen.first_offence {
        Some(o) => {
            let quote = ctx.redactor.redact(&o.text);
            ev.body_excerpt = Some(quote.clone());
            let when = if o.before_mcp {
                "before its first MCP message"
            } else {
                "between MCP messages"
            };
            let others = match seen.offences {
                1 => String::new(),
                n => format!(" (and {} more such lines)", n - 1),
            };
            CheckResult::fail(
                id,
                format!(
                    "the server wrote a line that is not MCP to stdout {when}, line {}: `{quote}`{others}",
                    o.line
                ),
                "write logs and banners to stderr: the stdio transport allows only MCP messages on stdout, and many clients disconnect on anything else",
            )
        }
        None if seen.oversized > 0 => CheckResult::warn(
            id,
            format!(
                "{} stdout line(s) were longer than the {}-byte limit and were not read",
                seen.oversized, ctx.limits.max_body
            ),
            "keep each message under the limit, or raise it",
        ),
        None => CheckResult::pass(
            id,
            format!("only MCP messages on stdout ({} read)", seen.mcp_messages),
        ),
    };
    Some(r.with_evidence(ev))
}

/// Writes a malformed line (`-32700`) or an invalid request (`-32600`) to the
/// server's stdin, then a `ping`, and judges the answer: the right error
/// passes; silence while the server goes on answering is a warning (one that
/// `conformance` fails for an invalid request, which has an id to answer);
/// dying or hanging fails.
pub(super) async fn raw_error_check(
    ctx: &Context,
    s: &SdkConn,
    id: &str,
    want: i64,
) -> CheckResult {
    let Some(child) = &s.child else {
        return CheckResult::skip(id, "not a stdio server Runway started");
    };
    let line_id = child.raw_id();
    let (line, what) = if want == -32700 {
        (
            format!(r#"{{"jsonrpc":"2.0","id":"{line_id}","method":"tools/list""#),
            "a line of malformed JSON",
        )
    } else {
        (
            json!({"jsonrpc": "2.0", "id": line_id, "method": 1, "params": "bar"}).to_string(),
            "an invalid request (`method` is a number)",
        )
    };
    let p = child
        .probe(
            Some(&line),
            Some(&line_id),
            wire::with_meta(&s.era, json!({})),
            ctx.limits.timeout,
        )
        .await;
    let stderr = p
        .stderr
        .as_deref()
        .map(|e| format!("; its stderr ends: {}", ctx.redactor.redact(e)))
        .unwrap_or_default();
    let ev = Evidence {
        request: Some(format!("stdin: {line}")),
        elapsed_ms: Some(ms(p.elapsed)),
        body_excerpt: p
            .reply
            .as_ref()
            .map(|v| crate::http::redacted_excerpt(&ctx.redactor, v.to_string().as_bytes(), 512)),
        details: json!({"ping_answered_after": p.alive, "exit": p.exit}),
        ..Evidence::default()
    };
    let codes = "use the JSON-RPC 2.0 error codes: -32700 parse, -32600 invalid request, -32601 method not found, -32602 invalid params";
    let r = if let Some(g) = &p.garbage {
        CheckResult::fail(
            id,
            format!(
                "the server answered {what} with output that is not MCP: `{}`",
                ctx.redactor.redact(g)
            ),
            "answer a bad line with a JSON-RPC error object on one line of stdout",
        )
    } else if let Some(reply) = &p.reply {
        match reply.get("error") {
            Some(e) => {
                let code = e.get("code").and_then(Value::as_i64);
                let message = e.get("message").and_then(Value::as_str).unwrap_or("");
                if code == Some(want) {
                    CheckResult::pass(id, format!("JSON-RPC error {want} over stdio"))
                } else {
                    result(
                        id,
                        soft(ctx),
                        format!(
                            "JSON-RPC error {} ({}), expected {want}",
                            code.map(|c| c.to_string())
                                .unwrap_or_else(|| "without a code".into()),
                            ctx.redactor.redact(message)
                        ),
                        Some(codes),
                    )
                }
            }
            None => result(
                id,
                soft(ctx),
                format!("{what} was accepted with a result"),
                Some("reject a malformed request with a JSON-RPC error"),
            ),
        }
    } else if p.alive {
        // Unparsable input has no id to answer, and the official SDKs ignore it
        // on purpose (an answer can start an error storm with a confused
        // peer): a warning even in `conformance`. An invalid request with an
        // id is owed an answer.
        let status = if want == -32700 {
            runway_core::Status::Warn
        } else {
            soft(ctx)
        };
        result(
            id,
            status,
            format!(
                "no answer to {what} (JSON-RPC asks for error {want} with a null id); the server still answers `ping`"
            ),
            Some(
                "answer a line that is not a valid request with a JSON-RPC error (id null) and carry on",
            ),
        )
    } else if let Some(exit) = &p.exit {
        CheckResult::fail(
            id,
            format!("the server exited with {exit} after {what}{stderr}"),
            "a bad line is the client's fault: answer it with a JSON-RPC error and keep serving",
        )
    } else {
        CheckResult::fail(
            id,
            format!(
                "the server stopped answering after {what}: no answer to `ping` within {} ms{stderr}",
                ctx.limits.timeout.as_millis()
            ),
            "a bad line is the client's fault: answer it with a JSON-RPC error and keep serving",
        )
    };
    timed(r, ev, p.elapsed)
}
