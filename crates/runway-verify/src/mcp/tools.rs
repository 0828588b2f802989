//! The tool surface as a client meets it: `mcp.tools.list`/`.count`/
//! `.required`/`.schemas`, and the smoke calls (`mcp.call.<tool>`) judged
//! against their expectations and the tool's `outputSchema`.

use std::{collections::HashSet, time::Instant};

use runway_core::{CheckResult, Evidence};
use serde_json::{Value, json};

use super::{
    Conn, Connected, MAX_PAGES, client::ms, listing::list_all, result, schema, soft, timed,
};
use crate::context::{Context, SmokeCall};
use crate::text::count;

pub(super) fn tool_names(tools: &[Value]) -> Vec<String> {
    tools
        .iter()
        .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// `mcp.tools.list`, `.count`, `.required` and (full) `.schemas`; returns the tools.
pub(super) async fn tool_checks(
    ctx: &Context,
    c: &mut Connected,
    checks: &mut Vec<CheckResult>,
) -> Option<Vec<Value>> {
    let listing = list_all(&mut c.conn, "tools", MAX_PAGES).await;
    if let Some(p) = listing.problem {
        checks.push(timed(
            CheckResult::fail("mcp.tools.list", p.message, p.hint),
            p.evidence,
            listing.elapsed,
        ));
        for id in ["mcp.tools.count", "mcp.tools.required"] {
            checks.push(CheckResult::skip(id, "the tool list could not be read"));
        }
        return None;
    }
    let names = tool_names(&listing.items);
    let mut ev = listing.last_evidence.clone();
    ev.details = json!({"tools": names, "pages": listing.pages});
    let unique: HashSet<&String> = names.iter().collect();
    let list_check = if unique.len() != names.len() {
        result(
            "mcp.tools.list",
            soft(ctx),
            format!(
                "{} in {}, with duplicate names",
                count(names.len(), "tool"),
                count(listing.pages, "page")
            ),
            Some("give every tool a unique name"),
        )
    } else if names.len() != listing.items.len() {
        CheckResult::fail(
            "mcp.tools.list",
            format!(
                "{} of {} {} no `name`",
                listing.items.len() - names.len(),
                count(listing.items.len(), "tool"),
                if listing.items.len() - names.len() == 1 {
                    "has"
                } else {
                    "have"
                }
            ),
            "every tool needs a `name` string",
        )
    } else {
        CheckResult::pass(
            "mcp.tools.list",
            format!(
                "{} in {}",
                count(names.len(), "tool"),
                count(listing.pages, "page")
            ),
        )
    };
    checks.push(timed(list_check, ev, listing.elapsed));

    let n = names.len();
    checks.push(match ctx.expect.min_tools {
        Some(min) if n < min => CheckResult::fail(
            "mcp.tools.count",
            format!("{} listed, expected at least {min}", count(n, "tool")),
            "a tool is missing from this build: check the server's tool registration",
        ),
        Some(min) => CheckResult::pass(
            "mcp.tools.count",
            format!("{} listed (at least {min})", count(n, "tool")),
        ),
        None if n == 0 => result(
            "mcp.tools.count",
            soft(ctx),
            "the server lists no tools".into(),
            Some(&format!(
                "register tools, or set {} to 0 if that is intended",
                ctx.setting(Some("--expect-tools"), "min_tools")
            )),
        ),
        None => CheckResult::pass("mcp.tools.count", format!("{} listed", count(n, "tool"))),
    });
    let missing: Vec<&String> = ctx
        .expect
        .required_tools
        .iter()
        .filter(|t| !names.contains(t))
        .collect();
    checks.push(if ctx.expect.required_tools.is_empty() {
        CheckResult::skip("mcp.tools.required", "no required tools configured")
    } else if missing.is_empty() {
        CheckResult::pass(
            "mcp.tools.required",
            match ctx.expect.required_tools.len() {
                1 => "the required tool is listed".to_owned(),
                n => format!("all {n} required tools listed"),
            },
        )
    } else {
        CheckResult::fail(
            "mcp.tools.required",
            format!(
                "missing required tools: {}",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!(
                "register the missing tools or update {}",
                ctx.setting(Some("--require-tool"), "required_tools")
            ),
        )
        .with_evidence(Evidence {
            details: json!({"missing": missing, "listed": names}),
            ..Evidence::default()
        })
    });
    // Every suite: a tool whose schema is invalid cannot be called by
    // clients that validate arguments, which is a smoke-level defect.
    checks.push(schema_check(&listing.items));
    Some(listing.items)
}

pub(super) fn schema_check(tools: &[Value]) -> CheckResult {
    let start = Instant::now();
    let mut bad = Vec::new();
    let mut checked = 0;
    for t in tools {
        let name = t.get("name").and_then(Value::as_str).unwrap_or("?");
        match t.get("inputSchema") {
            None => bad.push(format!("`{name}`: no `inputSchema`")),
            Some(s) => {
                checked += 1;
                if let Some(p) = schema::schema_problem(s, true) {
                    bad.push(format!("`{name}` inputSchema {p}"));
                }
            }
        }
        if let Some(s) = t.get("outputSchema") {
            checked += 1;
            if let Some(p) = schema::schema_problem(s, true) {
                bad.push(format!("`{name}` outputSchema {p}"));
            }
        }
    }
    let ev = Evidence {
        details: json!({"problems": bad, "schemas_checked": checked}),
        ..Evidence::default()
    };
    let r = if bad.is_empty() {
        CheckResult::pass(
            "mcp.tools.schemas",
            match checked {
                1 => "1 schema is valid JSON Schema".to_owned(),
                n => format!("{n} schemas are valid JSON Schema"),
            },
        )
    } else {
        CheckResult::fail(
            "mcp.tools.schemas",
            format!(
                "{}: {}",
                count(bad.len(), "invalid tool schema"),
                bad.join("; ")
            ),
            "fix the schema: clients validate arguments against it and reject the tool",
        )
    };
    timed(r, ev, start.elapsed())
}

pub(super) fn call_id(calls: &[SmokeCall], i: usize) -> String {
    let tool = &calls[i].tool;
    let before = calls[..i].iter().filter(|c| &c.tool == tool).count();
    if before == 0 {
        format!("mcp.call.{tool}")
    } else {
        format!("mcp.call.{tool}.{}", before + 1)
    }
}

pub(super) fn texts(result: &Value) -> String {
    result
        .get("content")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter(|c| c.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|c| c.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

pub(super) async fn call_check(
    ctx: &Context,
    conn: &mut Conn,
    id: &str,
    call: &SmokeCall,
    tools: Option<&[Value]>,
) -> CheckResult {
    let tool = tools.and_then(|ts| {
        ts.iter()
            .find(|t| t.get("name").and_then(Value::as_str) == Some(call.tool.as_str()))
    });
    if let Some(ts) = tools
        && tool.is_none()
    {
        return CheckResult::fail(
            id,
            format!(
                "tool `{}` is not listed ({} {})",
                call.tool,
                count(ts.len(), "tool"),
                if ts.len() == 1 { "is" } else { "are" }
            ),
            "register the tool or fix the smoke call's `tool` name",
        );
    }
    let reply = conn
        .rpc(
            "tools/call",
            json!({"name": call.tool, "arguments": call.arguments}),
        )
        .await;
    let mut ev = reply.evidence.clone();
    let elapsed = reply.elapsed;
    let fail = |msg: String, hint: &str, ev: Evidence| {
        timed(CheckResult::fail(id, msg, hint), ev, elapsed)
    };
    let result = match reply.outcome {
        Ok(v) => v,
        // A tool that needs a client capability (elicitation, sampling, roots)
        // refuses a client that declared none with -32021: right, and nothing
        // Runway can complete. `mcp.capability.required` and `mcp.mrtr.*`
        // judge the refusal and the rounds.
        Err(super::client::RpcFailure::Error {
            code: -32021,
            ref data,
            ..
        }) => {
            let needs = data
                .as_ref()
                .and_then(|d| d.get("requiredCapabilities"))
                .and_then(Value::as_object)
                .map(|m| m.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>())
                .filter(|k| !k.is_empty())
                .map(|k| k.join(", "))
                .unwrap_or_else(|| "a client capability".into());
            return timed(
                CheckResult::skip(
                    id,
                    format!(
                        "`{}` needs {needs}, which Runway's smoke calls do not declare (-32021): it cannot be completed without a user; see `mcp.capability.required` and `mcp.mrtr.*`",
                        call.tool
                    ),
                ),
                ev,
                elapsed,
            );
        }
        Err(e) => {
            return fail(
                format!("`{}` call failed: {e}", call.tool),
                "the call must return a result within the time limit; see the evidence",
                ev,
            );
        }
    };
    // 2026-07-28 basic/patterns/mrtr.mdx § Server Requirements: Runway
    // declares no client capability, so a server must not ask it for input
    // (elicitation, sampling, roots), and an `InputRequiredResult` carries
    // `inputRequests` or `requestState`.
    if result.get("resultType").and_then(Value::as_str) == Some("input_required") {
        let asks: Vec<String> = result
            .get("inputRequests")
            .and_then(Value::as_object)
            .map(|m| {
                m.values()
                    .filter_map(|r| r.get("method").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let state = result.get("requestState").is_some();
        let msg = if !asks.is_empty() {
            format!(
                "`{}` answered an InputRequiredResult asking for {}, though Runway declared no client capability (a server MUST NOT send input requests the client has not declared)",
                call.tool,
                asks.join(", ")
            )
        } else if !state {
            format!(
                "`{}` answered an InputRequiredResult with neither `inputRequests` nor `requestState`",
                call.tool
            )
        } else {
            format!(
                "`{}` answered an InputRequiredResult (only `requestState`): the call did not complete",
                call.tool
            )
        };
        // A rule of the specification, not the operator's expectation.
        ev.details = json!({
            "kind": "spec",
            "spec": "2026-07-28 basic/patterns/mrtr.mdx § Server Requirements (Basic Workflow)",
            "spec_era": "2026-07-28",
        });
        return fail(
            msg,
            "ask for client input only where the request's `clientCapabilities` declare it, and complete the call otherwise",
            ev,
        );
    }
    // ext-tasks specification/draft/tasks.md § Capability Negotiation: a
    // task handle only to a client that declared the Tasks extension, and
    // Runway's smoke calls declare nothing.
    if result.get("resultType").and_then(Value::as_str) == Some("task") {
        ev.details = json!({
            "kind": "spec",
            "spec": "2026-07-28 ext-tasks specification/draft/tasks.md § Capability Negotiation",
            "spec_era": "2026-07-28",
        });
        return fail(
            format!(
                "`{}` answered a task (`resultType: \"task\"`), though Runway did not declare the Tasks extension (a server MUST NOT return CreateTaskResult to such a client)",
                call.tool
            ),
            "return a task only where the request's `clientCapabilities` declare `extensions.io.modelcontextprotocol/tasks`; otherwise complete the call, or refuse it with -32021",
            ev,
        );
    }
    let text = texts(&result);
    ev.details = json!({"text": crate::http::redacted_excerpt(&ctx.redactor, text.as_bytes(), 256), "elapsed_ms": ms(elapsed)});
    let e = &call.expect;
    if e.not_error && result.get("isError").and_then(Value::as_bool) == Some(true) {
        return fail(
            format!(
                "`{}` returned isError: {}",
                call.tool,
                crate::http::redacted_excerpt(&ctx.redactor, text.as_bytes(), 200)
            ),
            "the tool reported an error for known-good arguments: check its logs and dependencies",
            ev,
        );
    }
    // The output schema is a protocol rule, so it is judged before the caller's expectations.
    if e.output_schema
        && let Some(schema) = tool.and_then(|t| t.get("outputSchema"))
    {
        match result.get("structuredContent") {
            None if result.get("isError").and_then(Value::as_bool) != Some(true) => {
                return fail(
                    format!(
                        "`{}` declares an outputSchema but returned no structuredContent",
                        call.tool
                    ),
                    "a tool with an outputSchema must return `structuredContent` that conforms to it",
                    ev,
                );
            }
            Some(sc) => {
                if let Some(p) = schema::instance_problem(schema, sc) {
                    return fail(
                        format!(
                            "`{}` structuredContent violates its outputSchema: {p}",
                            call.tool
                        ),
                        "make the tool's result conform to its declared outputSchema",
                        ev,
                    );
                }
            }
            None => {}
        }
    }
    if let Some(want) = &e.text_contains
        && !text.contains(want.as_str())
    {
        return fail(
            format!("`{}` text does not contain `{want}`", call.tool),
            "compare the tool's output in the evidence with the expectation",
            ev,
        );
    }
    if let Some(pattern) = &e.text_matches {
        match pattern.regex() {
            Err(err) => {
                return fail(
                    format!(
                        "the expected pattern `{}` is not a valid regex: {err}",
                        pattern.as_str()
                    ),
                    &format!("fix {}", ctx.setting(None, "calls.expect_match")),
                    ev,
                );
            }
            Ok(re) if !re.is_match(&text) => {
                return fail(
                    format!("`{}` text does not match `{}`", call.tool, pattern.as_str()),
                    "compare the tool's output in the evidence with the expectation",
                    ev,
                );
            }
            Ok(_) => {}
        }
    }
    if let Some((pointer, want)) = &e.json_at {
        let doc = result
            .get("structuredContent")
            .cloned()
            .or_else(|| serde_json::from_str::<Value>(&text).ok());
        let got = doc.as_ref().and_then(|d| d.pointer(pointer));
        if got != Some(want) {
            return fail(
                format!(
                    "`{}` value at `{pointer}` is {}, expected {want}",
                    call.tool,
                    got.map(Value::to_string).unwrap_or_else(|| "absent".into())
                ),
                "compare the tool's structured output in the evidence with the expectation",
                ev,
            );
        }
    }
    // Every call has a budget: its own, else the environment's tool budget.
    let budget = e.max_latency.unwrap_or(ctx.thresholds.tool_p95);
    if elapsed > budget {
        let knob = if e.max_latency.is_some() {
            ctx.setting(None, "calls.max_latency_ms")
        } else {
            format!(
                "{} (or the call's `max_latency_ms`)",
                ctx.setting(None, "thresholds.tool_p95_ms")
            )
        };
        return fail(
            format!(
                "`{}` took {:.0} ms, over the {} ms budget",
                call.tool,
                ms(elapsed),
                budget.as_millis()
            ),
            &format!("find what slows the tool (a dependency, a cold start) or raise {knob}"),
            ev,
        );
    }
    timed(
        CheckResult::pass(
            id,
            format!("`{}` answered in {:.1} ms", call.tool, ms(elapsed)),
        ),
        ev,
        elapsed,
    )
}
