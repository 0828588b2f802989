//! Names that do not exist: an unknown tool (`mcp.tools.unknown`, a protocol
//! error -32602, not an `isError` result), an unknown prompt
//! (`mcp.prompts.unknown`, -32602) and a missing resource
//! (`mcp.resources.not_found`: -32602 from 2026-07-28, which forbids the old
//! -32002; -32002 in 2025-11-25). Both eras, both transports.

use runway_core::{CheckResult, Era};
use serde_json::{Value, json};

use super::{Connected, client::RpcFailure, result, soft, timed};
use crate::context::Context;

pub(super) async fn unknown_name_checks(
    ctx: &Context,
    c: &mut Connected,
    checks: &mut Vec<CheckResult>,
) {
    checks.push(unknown_tool(ctx, c).await);
    checks.push(unknown_prompt(ctx, c).await);
    checks.push(missing_resource(ctx, c).await);
}

fn declared(c: &Connected, kind: &str) -> bool {
    c.capabilities.get(kind).is_some_and(|v| !v.is_null())
}

async fn unknown_tool(ctx: &Context, c: &mut Connected) -> CheckResult {
    let id = "mcp.tools.unknown";
    let name = "runway-no-such-tool";
    let reply = c
        .conn
        .rpc("tools/call", json!({"name": name, "arguments": {}}))
        .await;
    let hint = "answer a call of an unknown tool with the JSON-RPC error -32602 (a protocol error), not a tool result";
    let r = match &reply.outcome {
        Err(RpcFailure::Error { code: -32602, .. }) => {
            CheckResult::pass(id, "an unknown tool is a protocol error -32602")
        }
        Err(RpcFailure::Error { code, message, .. }) => result(
            id,
            soft(ctx),
            format!("an unknown tool got JSON-RPC error {code} ({message}), expected -32602"),
            Some(hint),
        ),
        // The specification lists an unknown tool among the protocol errors
        // (a JSON-RPC error, -32602 in its example), in prose without a
        // MUST: a warning in `full`, a failure in `conformance`.
        Ok(v) if v.get("isError").and_then(Value::as_bool) == Some(true) => result(
            id,
            soft(ctx),
            "an unknown tool got a tool result with `isError: true`; the specification lists an unknown tool among the protocol errors (a JSON-RPC error, -32602)".into(),
            Some(hint),
        ),
        Ok(v) => CheckResult::fail(
            id,
            format!(
                "a call of the unknown tool `{name}` succeeded: {}",
                crate::http::redacted_excerpt(&ctx.redactor, v.to_string().as_bytes(), 120)
            ),
            hint,
        ),
        Err(e) => CheckResult::fail(id, format!("a call of an unknown tool: {e}"), hint),
    };
    timed(r, reply.evidence, reply.elapsed)
}

async fn unknown_prompt(ctx: &Context, c: &mut Connected) -> CheckResult {
    let id = "mcp.prompts.unknown";
    if !declared(c, "prompts") {
        return CheckResult::skip(id, "the server does not declare `prompts`");
    }
    let reply = c
        .conn
        .rpc("prompts/get", json!({"name": "runway-no-such-prompt"}))
        .await;
    let hint =
        "answer `prompts/get` of an unknown prompt with the JSON-RPC error -32602 (Invalid params)";
    let r = match &reply.outcome {
        Err(RpcFailure::Error { code: -32602, .. }) => {
            CheckResult::pass(id, "an unknown prompt gets -32602")
        }
        Err(RpcFailure::Error { code, message, .. }) => result(
            id,
            soft(ctx),
            format!("an unknown prompt got JSON-RPC error {code} ({message}), expected -32602"),
            Some(hint),
        ),
        Ok(v) => result(
            id,
            soft(ctx),
            format!(
                "`prompts/get` of an unknown prompt succeeded: {}",
                crate::http::redacted_excerpt(&ctx.redactor, v.to_string().as_bytes(), 120)
            ),
            Some(hint),
        ),
        Err(e) => CheckResult::fail(id, format!("`prompts/get` of an unknown prompt: {e}"), hint),
    };
    timed(r, reply.evidence, reply.elapsed)
}

async fn missing_resource(ctx: &Context, c: &mut Connected) -> CheckResult {
    let id = "mcp.resources.not_found";
    if !declared(c, "resources") {
        return CheckResult::skip(id, "the server does not declare `resources`");
    }
    let uri = "runway-test:///no-such-resource";
    let reply = c.conn.rpc("resources/read", json!({"uri": uri})).await;
    let stateless = matches!(c.era, Era::Stateless { .. });
    let r = match (&reply.outcome, stateless) {
        (Err(RpcFailure::Error { code: -32602, .. }), _) => {
            CheckResult::pass(id, "a missing resource gets -32602")
        }
        (Err(RpcFailure::Error { code: -32002, .. }), false) => {
            CheckResult::pass(id, "a missing resource gets -32002 (the 2025-11-25 code)")
        }
        (Err(RpcFailure::Error { code: -32002, .. }), true) => CheckResult::fail(
            id,
            "a missing resource gets -32002, a code 2026-07-28 retired (implementations of it MUST NOT emit it); the code is now -32602",
            "answer a missing resource with -32602 (Invalid params)",
        ),
        (Err(RpcFailure::Error { code, message, .. }), true) => CheckResult::fail(
            id,
            format!("a missing resource got error {code} ({message}), expected -32602"),
            "answer a missing resource with -32602 (Invalid params)",
        ),
        (Err(RpcFailure::Error { code, message, .. }), false) => result(
            id,
            soft(ctx),
            format!("a missing resource got error {code} ({message}), expected -32002"),
            Some("answer a missing resource with -32002 (2025-11-25; -32602 from 2026-07-28)"),
        ),
        (Ok(v), _) => {
            let empty = v
                .get("contents")
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty);
            let what = if empty {
                "an empty `contents` list".to_owned()
            } else {
                crate::http::redacted_excerpt(&ctx.redactor, v.to_string().as_bytes(), 120)
            };
            let status = if stateless || empty {
                runway_core::Status::Fail
            } else {
                soft(ctx)
            };
            result(
                id,
                status,
                format!("`resources/read` of the missing `{uri}` succeeded with {what}"),
                Some(
                    "answer a resource that does not exist with a JSON-RPC error (-32602), never an empty `contents`",
                ),
            )
        }
        (Err(e), _) => CheckResult::fail(
            id,
            format!("`resources/read` of a missing resource: {e}"),
            "answer a missing resource with a JSON-RPC error",
        ),
    };
    timed(r, reply.evidence, reply.elapsed)
}
