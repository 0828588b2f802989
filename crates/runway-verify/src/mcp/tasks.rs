//! The Tasks extension (`io.modelcontextprotocol/tasks`, specified in the
//! ext-tasks repository, `specification/draft/tasks.md`) where a server
//! declares it in its `server/discover` capabilities. Runway cannot make a
//! server create a task (the server alone decides), so it checks what every
//! declaring server must do with a task id it never issued:
//!
//! - `mcp.tasks.capability`: `tasks/get` from a client that did not declare
//!   the extension is refused with -32021, `data.requiredCapabilities` naming
//!   the extension (§ Error Handling, MUST; HTTP 400 per basic/index.mdx);
//! - `mcp.tasks.unknown`: from a declaring client, `tasks/get` of an unknown
//!   id is -32602 (MUST); `tasks/update` and `tasks/cancel` of one are a
//!   JSON-RPC error (SHOULD).
//!
//! Each request carries `Mcp-Name: <taskId>`, as the extension asks of
//! clients on HTTP (§ Streamable HTTP: Routing Headers).

use runway_core::{CheckResult, Era};
use serde_json::{Value, json};

use super::{
    Connected,
    client::{RpcFailure, RpcReply},
    probe, result, soft, timed, wire,
};
use crate::context::Context;

/// The extension's identifier.
pub(super) const TASKS: &str = "io.modelcontextprotocol/tasks";

/// Every id [`task_checks`] reports.
pub(super) const IDS: &[&str] = &["mcp.tasks.capability", "mcp.tasks.unknown"];

/// A task id no server issued.
const NO_SUCH_TASK: &str = "runway-no-such-task";

fn declares_tasks(c: &Connected) -> bool {
    c.capabilities
        .get("extensions")
        .and_then(|e| e.get(TASKS))
        .is_some_and(|v| !v.is_null())
}

fn params(version: &str, declare: bool, extra: Value) -> Value {
    let mut p = extra;
    p["taskId"] = json!(NO_SUCH_TASK);
    let mut meta = probe::meta(version, &[]);
    if declare {
        meta[wire::META_CLIENT_CAPABILITIES] = json!({"extensions": {TASKS: {}}});
    }
    p["_meta"] = meta;
    p
}

pub(super) async fn task_checks(ctx: &Context, c: &mut Connected, checks: &mut Vec<CheckResult>) {
    let Era::Stateless { version } = c.era.clone() else {
        for id in IDS {
            checks.push(CheckResult::skip(
                *id,
                "the Tasks extension is checked in the stateless era (2026-07-28)",
            ));
        }
        return;
    };
    if !declares_tasks(c) {
        for id in IDS {
            checks.push(CheckResult::skip(
                *id,
                format!("the server does not declare the Tasks extension (`{TASKS}`)"),
            ));
        }
        return;
    }
    let reply = send(ctx, c, &version, "tasks/get", false, json!({})).await;
    checks.push(capability_check(ctx, probe::is_http(c), reply));
    checks.push(unknown_check(ctx, c, &version).await);
}

async fn send(
    ctx: &Context,
    c: &mut Connected,
    version: &str,
    method: &str,
    declare: bool,
    extra: Value,
) -> RpcReply {
    let what = format!(
        "{method} of an unknown task {} the Tasks extension",
        if declare {
            "declaring"
        } else {
            "without declaring"
        }
    );
    probe::send(
        ctx,
        c,
        &what,
        method,
        params(version, declare, extra),
        Some(NO_SUCH_TASK),
        &[],
    )
    .await
}

/// `mcp.tasks.capability`: -32021 naming the extension, HTTP 400.
fn capability_check(ctx: &Context, http: bool, reply: RpcReply) -> CheckResult {
    let id = IDS[0];
    let what = "`tasks/get` from a client that did not declare the Tasks extension";
    let hint = format!(
        "refuse `tasks/*` from a client whose `clientCapabilities` lack `extensions.{TASKS}` with -32021, `data.requiredCapabilities.extensions` naming it, and HTTP 400"
    );
    let status = reply.evidence.status;
    let r = match &reply.outcome {
        Err(RpcFailure::Error {
            code: -32021, data, ..
        }) => {
            let named = data
                .as_ref()
                .and_then(|d| d.pointer("/requiredCapabilities/extensions"))
                .and_then(|e| e.get(TASKS))
                .is_some();
            match status {
                _ if !named => CheckResult::fail(
                    id,
                    format!(
                        "{what} got -32021 without `data.requiredCapabilities.extensions` naming `{TASKS}`"
                    ),
                    hint,
                ),
                Some(s) if http && s != 400 => CheckResult::fail(
                    id,
                    format!("{what} got -32021 with HTTP {s}, not 400"),
                    hint,
                ),
                _ => CheckResult::pass(
                    id,
                    format!(
                        "{what} is refused with -32021 naming the extension{}",
                        status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
                    ),
                ),
            }
        }
        Err(RpcFailure::Error { code, message, .. }) => CheckResult::fail(
            id,
            format!("{what} got error {code} ({message}), not -32021"),
            hint,
        ),
        Ok(v) => CheckResult::fail(
            id,
            format!(
                "{what} was served: {}",
                crate::http::redacted_excerpt(&ctx.redactor, v.to_string().as_bytes(), 120)
            ),
            hint,
        ),
        Err(e) => CheckResult::fail(id, format!("{what}: {e}, expected -32021"), hint),
    };
    timed(r, reply.evidence, reply.elapsed)
}

/// `mcp.tasks.unknown`: `tasks/get` of an unknown id is -32602 (MUST); an
/// acknowledged `tasks/update` or `tasks/cancel` of one is a SHOULD broken.
async fn unknown_check(ctx: &Context, c: &mut Connected, version: &str) -> CheckResult {
    let id = IDS[1];
    let hint = "answer `tasks/get` of a task id the server does not know with -32602 (Invalid params), and `tasks/update`/`tasks/cancel` of one with a JSON-RPC error";
    let get = send(ctx, c, version, "tasks/get", true, json!({})).await;
    let verdict = match &get.outcome {
        Err(RpcFailure::Error { code: -32602, .. }) => None,
        Err(RpcFailure::Error { code, message, .. }) => Some(CheckResult::fail(
            id,
            format!("`tasks/get` of an unknown task got error {code} ({message}), not -32602"),
            hint,
        )),
        Ok(v) => Some(CheckResult::fail(
            id,
            format!(
                "`tasks/get` of the unknown task `{NO_SUCH_TASK}` answered a task (status {})",
                v.get("status")
                    .map(Value::to_string)
                    .unwrap_or_else(|| "none".into())
            ),
            hint,
        )),
        Err(e) => Some(CheckResult::fail(
            id,
            format!("`tasks/get` of an unknown task: {e}, expected -32602"),
            hint,
        )),
    };
    if let Some(r) = verdict {
        return timed(r, get.evidence, get.elapsed);
    }
    for (method, extra) in [
        ("tasks/update", json!({"inputResponses": {}})),
        ("tasks/cancel", json!({})),
    ] {
        let reply = send(ctx, c, version, method, true, extra).await;
        let r = match &reply.outcome {
            Err(RpcFailure::Error { .. }) => continue,
            Ok(_) => result(
                id,
                soft(ctx),
                format!(
                    "`{method}` of the unknown task `{NO_SUCH_TASK}` was acknowledged (SHOULD be an error)"
                ),
                Some(hint),
            ),
            Err(e) if reply.evidence.status.is_some_and(|s| s >= 500) => {
                CheckResult::fail(id, format!("`{method}` of an unknown task: {e}"), hint)
            }
            Err(e) => result(
                id,
                soft(ctx),
                format!("`{method}` of an unknown task: {e}, expected a JSON-RPC error"),
                Some(hint),
            ),
        };
        return timed(r, reply.evidence, reply.elapsed);
    }
    timed(
        CheckResult::pass(
            id,
            "an unknown task id is refused: `tasks/get` with -32602, `tasks/update` and `tasks/cancel` with an error",
        ),
        get.evidence,
        get.elapsed,
    )
}
