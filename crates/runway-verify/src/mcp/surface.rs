//! The rest of the surface a client uses besides tools: `resources/read` of
//! the first listed resource (`mcp.resources.read`), `resources/templates/list`
//! (`mcp.resources.templates`), `prompts/get` of the first prompt with its
//! declared arguments (`mcp.prompts.get`), the types of tool `annotations`
//! (`mcp.tools.annotations`), and, in the stateless era, `GET` on the MCP
//! endpoint answering 405 (`mcp.stateless.get`). Each runs over every
//! transport where it applies.

use std::time::Instant;

use runway_core::{CheckResult, Era, Evidence, Redactor};
use serde_json::{Value, json};

use super::{Conn, Connected, client::RpcFailure, result, soft, timed};
use crate::context::Context;

/// Appends the five checks, in the order above (annotations first: it needs no request).
pub(super) async fn surface_checks(
    ctx: &Context,
    c: &mut Connected,
    tools: Option<&[Value]>,
    checks: &mut Vec<CheckResult>,
) {
    checks.push(annotations_check(&ctx.redactor, tools));
    checks.push(resource_read_check(c).await);
    checks.push(templates_check(c).await);
    checks.push(prompt_get_check(c).await);
    checks.push(stateless_get_check(ctx, c).await);
}

fn advertised(c: &Connected, kind: &str) -> bool {
    c.capabilities.get(kind).is_some_and(|v| !v.is_null())
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The annotation keys of 2025-11-25 and the JSON type each must have.
const ANNOTATIONS: &[(&str, &str)] = &[
    ("title", "string"),
    ("readOnlyHint", "boolean"),
    ("destructiveHint", "boolean"),
    ("idempotentHint", "boolean"),
    ("openWorldHint", "boolean"),
];

/// Wrongly typed `annotations`, one phrase per problem (`null` is accepted as absent).
pub(super) fn annotation_problems(redactor: &Redactor, tools: &[Value]) -> (usize, Vec<String>) {
    let mut annotated = 0;
    let mut bad = Vec::new();
    for t in tools {
        let name = t.get("name").and_then(Value::as_str).unwrap_or("?");
        let Some(a) = t.get("annotations").filter(|a| !a.is_null()) else {
            continue;
        };
        annotated += 1;
        let Some(map) = a.as_object() else {
            bad.push(format!(
                "`{name}`: `annotations` is {}, not an object",
                type_name(a)
            ));
            continue;
        };
        for (key, want) in ANNOTATIONS {
            let Some(v) = map.get(*key).filter(|v| !v.is_null()) else {
                continue;
            };
            let ok = match *want {
                "string" => v.is_string(),
                _ => v.is_boolean(),
            };
            if !ok {
                bad.push(format!(
                    "`{name}`: `annotations.{key}` is {} ({}), not a {want}",
                    type_name(v),
                    crate::http::redacted_excerpt(redactor, v.to_string().as_bytes(), 40)
                ));
            }
        }
    }
    (annotated, bad)
}

fn annotations_check(redactor: &Redactor, tools: Option<&[Value]>) -> CheckResult {
    let id = "mcp.tools.annotations";
    let Some(tools) = tools else {
        return CheckResult::skip(id, "the tool list could not be read");
    };
    let (annotated, bad) = annotation_problems(redactor, tools);
    let ev = Evidence {
        details: json!({"annotated_tools": annotated, "problems": bad}),
        ..Evidence::default()
    };
    let r = if !bad.is_empty() {
        CheckResult::fail(
            id,
            format!(
                "{} wrongly typed tool annotation(s): {}",
                bad.len(),
                bad.join("; ")
            ),
            "annotation hints are booleans and `title` is a string: clients with typed models reject the whole tool list otherwise",
        )
    } else if annotated == 0 {
        CheckResult::pass(id, "no tool declares annotations")
    } else {
        CheckResult::pass(
            id,
            format!("the annotations of {annotated} tool(s) are well typed"),
        )
    };
    r.with_evidence(ev)
}

/// The first item of the first page of `<kind>/list`, or why there is none.
async fn first_item(c: &mut Connected, kind: &str) -> Result<Value, String> {
    let reply = c.conn.rpc(&format!("{kind}/list"), json!({})).await;
    match reply.outcome {
        Ok(v) => v
            .get(kind)
            .and_then(Value::as_array)
            .and_then(|a| a.first().cloned())
            .ok_or_else(|| format!("the server lists no {kind}")),
        Err(e) => Err(format!("`{kind}/list` failed ({e}); see `mcp.{kind}.list`")),
    }
}

async fn resource_read_check(c: &mut Connected) -> CheckResult {
    let id = "mcp.resources.read";
    if !advertised(c, "resources") {
        return CheckResult::skip(id, "the server does not advertise `resources`");
    }
    let first = match first_item(c, "resources").await {
        Ok(v) => v,
        Err(why) => return CheckResult::skip(id, why),
    };
    let Some(uri) = first.get("uri").and_then(Value::as_str).map(str::to_owned) else {
        return CheckResult::fail(
            id,
            "the first listed resource has no `uri` string",
            "give every listed resource a `uri`",
        );
    };
    let reply = c.conn.rpc("resources/read", json!({"uri": uri})).await;
    let r = match &reply.outcome {
        Err(e) => CheckResult::fail(
            id,
            format!("`resources/read` of `{uri}` (the first listed resource) failed: {e}"),
            "a listed resource must be readable: answer `resources/read` with its `contents`",
        ),
        Ok(v) => match v.get("contents").and_then(Value::as_array) {
            None => CheckResult::fail(
                id,
                format!("`resources/read` of `{uri}` has no `contents` array"),
                "answer `resources/read` with `{\"contents\": [{\"uri\", \"text\" or \"blob\"}]}`",
            ),
            Some(items) => {
                let bad: Vec<String> = items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| {
                        let has_uri = item.get("uri").is_some_and(Value::is_string);
                        let has_body = item.get("text").is_some_and(Value::is_string)
                            || item.get("blob").is_some_and(Value::is_string);
                        (!(has_uri && has_body)).then(|| format!("contents[{i}]"))
                    })
                    .collect();
                if bad.is_empty() {
                    CheckResult::pass(id, format!("`{uri}` read: {} content item(s)", items.len()))
                } else {
                    CheckResult::fail(
                        id,
                        format!(
                            "`resources/read` of `{uri}`: {} need a `uri` string and a `text` or `blob` string",
                            bad.join(", ")
                        ),
                        "each item of `contents` has a `uri` and either `text` or base64 `blob`",
                    )
                }
            }
        },
    };
    timed(r, reply.evidence, reply.elapsed)
}

async fn templates_check(c: &mut Connected) -> CheckResult {
    let id = "mcp.resources.templates";
    if !advertised(c, "resources") {
        return CheckResult::skip(id, "the server does not advertise `resources`");
    }
    let reply = c.conn.rpc("resources/templates/list", json!({})).await;
    let r = match &reply.outcome {
        // Templates are optional within `resources`: a server without any may
        // not implement the method. Clients handle that; it is advice only.
        Err(RpcFailure::Error { code: -32601, .. }) => CheckResult::warn(
            id,
            "`resources/templates/list` is not implemented (-32601) though `resources` is declared",
            "answer `resources/templates/list` with an empty `resourceTemplates` list: clients that list templates then need no special case",
        ),
        Err(e) => CheckResult::fail(
            id,
            format!("`resources/templates/list` failed though `resources` is declared: {e}"),
            "answer `resources/templates/list`, with an empty `resourceTemplates` list if there are none",
        ),
        Ok(v) => match v.get("resourceTemplates").and_then(Value::as_array) {
            None => CheckResult::fail(
                id,
                "`resources/templates/list` has no `resourceTemplates` array",
                "return the templates in the `resourceTemplates` field of the result",
            ),
            Some(items) => {
                let bad: Vec<String> = items
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| {
                        !(t.get("uriTemplate").is_some_and(Value::is_string)
                            && t.get("name").is_some_and(Value::is_string))
                    })
                    .map(|(i, _)| format!("resourceTemplates[{i}]"))
                    .collect();
                if bad.is_empty() {
                    CheckResult::pass(id, format!("{} resource template(s)", items.len()))
                } else {
                    CheckResult::fail(
                        id,
                        format!(
                            "{} need a `uriTemplate` and a `name` string",
                            bad.join(", ")
                        ),
                        "give every resource template a `uriTemplate` (RFC 6570) and a `name`",
                    )
                }
            }
        },
    };
    timed(r, reply.evidence, reply.elapsed)
}

async fn prompt_get_check(c: &mut Connected) -> CheckResult {
    let id = "mcp.prompts.get";
    if !advertised(c, "prompts") {
        return CheckResult::skip(id, "the server does not advertise `prompts`");
    }
    let listed = c.conn.rpc("prompts/list", json!({})).await;
    let prompts = match listed.outcome {
        Ok(v) => v
            .get("prompts")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        Err(e) => {
            return CheckResult::skip(
                id,
                format!("`prompts/list` failed ({e}); see `mcp.prompts.list`"),
            );
        }
    };
    if prompts.is_empty() {
        return CheckResult::skip(id, "the server lists no prompts");
    }
    // Runway invents no argument values: a made-up value may rightly be
    // refused. It renders the first prompt that needs none.
    let needs_none = |p: &&Value| {
        !p.get("arguments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|a| a.get("required").and_then(Value::as_bool) == Some(true))
    };
    let Some(first) = prompts.iter().find(needs_none).cloned() else {
        return CheckResult::skip(
            id,
            format!(
                "every listed prompt ({}) has required arguments, and Runway invents no values for them",
                crate::text::count(prompts.len(), "prompt")
            ),
        );
    };
    let Some(name) = first.get("name").and_then(Value::as_str).map(str::to_owned) else {
        return CheckResult::fail(
            id,
            "a listed prompt has no `name` string",
            "give every listed prompt a `name`",
        );
    };
    let reply = c.conn.rpc("prompts/get", json!({"name": name})).await;
    let with = "with no arguments (it requires none)".to_owned();
    let r = match &reply.outcome {
        Err(e) => CheckResult::fail(
            id,
            format!("`prompts/get` of `{name}` {with} failed: {e}"),
            "a listed prompt without required arguments must render without them: declare the arguments it needs as `required`",
        ),
        Ok(v) => match v.get("messages").and_then(Value::as_array) {
            None => CheckResult::fail(
                id,
                format!("`prompts/get` of `{name}` has no `messages` array"),
                "answer `prompts/get` with `{\"messages\": [{\"role\", \"content\"}]}`",
            ),
            Some(messages) => {
                let bad: Vec<String> = messages
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| {
                        let role = m.get("role").and_then(Value::as_str);
                        !(matches!(role, Some("user" | "assistant"))
                            && m.pointer("/content/type").is_some_and(Value::is_string))
                    })
                    .map(|(i, _)| format!("messages[{i}]"))
                    .collect();
                if bad.is_empty() {
                    CheckResult::pass(
                        id,
                        format!("`{name}` {with}: {} message(s)", messages.len()),
                    )
                } else {
                    CheckResult::fail(
                        id,
                        format!(
                            "`prompts/get` of `{name}`: {} need a `role` of `user` or `assistant` and a typed `content`",
                            bad.join(", ")
                        ),
                        "each prompt message has `role` (`user`/`assistant`) and `content` with a `type`",
                    )
                }
            }
        },
    };
    timed(r, reply.evidence, reply.elapsed)
}

/// Stateless era: there is no standalone stream, so `GET` on the endpoint is 405.
async fn stateless_get_check(ctx: &Context, c: &mut Connected) -> CheckResult {
    let id = "mcp.stateless.get";
    let Conn::Http(h) = &c.conn else {
        return CheckResult::skip(id, "stdio has no HTTP `GET`");
    };
    let Era::Stateless { version } = &h.era else {
        return CheckResult::skip(id, "only the stateless era rules out a `GET` stream");
    };
    let start = Instant::now();
    let request = ctx.redactor.redact(&format!("GET {}", h.url));
    let rb = h
        .auth(h.client.get(h.url.clone()))
        .header("accept", "text/event-stream")
        .header("mcp-protocol-version", version.as_str());
    let got = match rb.build() {
        Ok(req) => crate::http::fetch(&h.client, req, ctx.limits).await,
        Err(e) => Err(crate::http::FetchError::Other(e.to_string())),
    };
    let o = match got {
        Ok(o) => o,
        Err(e) => {
            return timed(
                CheckResult::fail(
                    id,
                    format!("`GET` on the endpoint got no whole answer: {e}"),
                    "answer `GET` on the MCP endpoint with 405 Method Not Allowed at once",
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
    let r = match o.status {
        405 => CheckResult::pass(id, "`GET` → 405: no standalone stream in the stateless era"),
        s if (200..300).contains(&s) => result(
            id,
            soft(ctx),
            format!(
                "`GET` → {s} ({}): the stateless era has no standalone stream (a server of that era only SHOULD answer 405)",
                o.header("content-type").unwrap_or("no content type")
            ),
            Some("answer `GET` on the MCP endpoint with 405 Method Not Allowed"),
        ),
        s => result(
            id,
            soft(ctx),
            format!("`GET` → {s}, expected 405"),
            Some("answer `GET` on the MCP endpoint with 405 Method Not Allowed"),
        ),
    };
    timed(r, ev, start.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quoted_annotation_leaves_no_head_of_a_secret() {
        let secret = "rw-ann-0123456789abcdef";
        let mut r = Redactor::new();
        r.add(&runway_core::Secret::new(secret));
        // `"` then 30 bytes: the secret straddles the 40-byte cut.
        let tools = vec![
            json!({"name": "a", "annotations": {"title": [format!("{}{secret}", "x".repeat(30))]}}),
        ];
        let (_, bad) = annotation_problems(&r, &tools);
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert!(bad[0].contains("xxxxxxxx"), "{bad:?}");
        assert!(!bad[0].contains("rw-ann"), "{bad:?}");
    }

    #[test]
    fn annotations_are_type_checked_and_null_or_unknown_keys_pass() {
        let tools = vec![
            json!({"name": "a", "annotations": {"readOnlyHint": "yes", "title": 3, "custom": "x"}}),
            json!({"name": "b", "annotations": {"destructiveHint": false, "openWorldHint": null}}),
            json!({"name": "c", "annotations": [true]}),
            json!({"name": "d"}),
        ];
        let (annotated, bad) = annotation_problems(&Redactor::new(), &tools);
        assert_eq!(annotated, 3);
        assert_eq!(bad.len(), 3, "{bad:?}");
        assert!(
            bad[0].contains("`a`: `annotations.title` is a number"),
            "{bad:?}"
        );
        assert!(
            bad[1].contains("`annotations.readOnlyHint` is a string (\"yes\")"),
            "{bad:?}"
        );
        assert!(bad[2].contains("`c`: `annotations` is an array"), "{bad:?}");
    }
}
