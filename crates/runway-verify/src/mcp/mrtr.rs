//! Multi round-trip requests (2026-07-28 basic/patterns/mrtr.mdx) and the
//! client capabilities a request may need (basic/index.mdx § `_meta`), probed
//! only where the server offers something that asks for input.
//!
//! Runway never calls a tool it was not told to call: the requests it may send
//! are the configured smoke calls, `resources/read` of the first listed
//! resource and `prompts/get` of the first prompt that needs no argument
//! ([`candidates`]). Each is sent once declaring `elicitation` (form) and
//! `roots`; the first that answers an `InputRequiredResult` is the one the
//! checks use:
//!
//! - `mcp.mrtr.input_required`: the result carries `inputRequests` or
//!   `requestState`, and asks only for what the request declared;
//! - `mcp.mrtr.retry`: the retry with Runway's answers (an elicitation is
//!   declined: Runway has no user; roots are an empty list) and the
//!   `requestState` echoed byte for byte completes, or asks again;
//! - `mcp.mrtr.auth`: over HTTP, where the server wants a token, that retry
//!   sent without the token is refused: `requestState` is no credential;
//! - `mcp.capability.required`: the same request declaring no capability is
//!   either served without input or refused with -32021 whose
//!   `data.requiredCapabilities` names what is missing (HTTP 400).
//!
//! When nothing asks for input, all four are skipped: nothing the server
//! offers needs a client capability that Runway can see.

use runway_core::{CheckResult, Status};
use serde_json::{Value, json};

use super::{
    Conn, Connected,
    client::{RpcFailure, RpcReply},
    probe, result, soft, timed, wire,
};
use crate::context::Context;

/// Every id [`mrtr_checks`] reports.
pub(super) const IDS: &[&str] = &[
    "mcp.mrtr.input_required",
    "mcp.mrtr.retry",
    "mcp.mrtr.auth",
    "mcp.capability.required",
];

/// A request Runway may send on its own: one the operator configured, or one
/// that only reads.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub method: &'static str,
    /// The params without `_meta`.
    pub params: Value,
    /// The value `Mcp-Name` carries (`params.name` or `params.uri`).
    pub name: String,
    /// How the request is named in messages: "`tools/call` of `confirm`".
    pub what: String,
}

impl Candidate {
    fn params_with(&self, version: &str, caps: Value, extra: &[(&str, Value)]) -> Value {
        let mut p = self.params.clone();
        let mut meta = probe::meta(version, &[]);
        meta[wire::META_CLIENT_CAPABILITIES] = caps;
        p["_meta"] = meta;
        for (k, v) in extra {
            p[*k] = v.clone();
        }
        p
    }
}

/// The requests of [`Candidate`]: the smoke calls of listed tools, then the
/// first listed resource and the first prompt without required arguments.
pub(super) async fn candidates(
    ctx: &Context,
    c: &mut Connected,
    tools: Option<&[Value]>,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for call in &ctx.expect.calls {
        let listed = tools.is_none_or(|ts| {
            ts.iter()
                .any(|t| t.get("name").and_then(Value::as_str) == Some(call.tool.as_str()))
        });
        if listed {
            out.push(Candidate {
                method: "tools/call",
                params: json!({"name": call.tool, "arguments": call.arguments}),
                name: call.tool.clone(),
                what: format!("`tools/call` of `{}`", call.tool),
            });
        }
    }
    let declared = |k: &str| c.capabilities.get(k).is_some_and(|v| !v.is_null());
    if declared("resources") {
        let reply = c.conn.rpc("resources/list", json!({})).await;
        if let Some(uri) = reply
            .outcome
            .ok()
            .and_then(|v| v.pointer("/resources/0/uri")?.as_str().map(str::to_owned))
        {
            out.push(Candidate {
                method: "resources/read",
                params: json!({"uri": uri}),
                what: format!("`resources/read` of `{uri}`"),
                name: uri,
            });
        }
    }
    if declared("prompts") {
        let reply = c.conn.rpc("prompts/list", json!({})).await;
        let first = reply.outcome.ok().and_then(|v| {
            v.get("prompts")?.as_array()?.iter().find_map(|p| {
                let needs = p
                    .get("arguments")
                    .and_then(Value::as_array)
                    .is_some_and(|a| {
                        a.iter()
                            .any(|x| x.get("required").and_then(Value::as_bool) == Some(true))
                    });
                (!needs).then(|| p.get("name")?.as_str().map(str::to_owned))?
            })
        });
        if let Some(name) = first {
            out.push(Candidate {
                method: "prompts/get",
                params: json!({"name": name}),
                what: format!("`prompts/get` of `{name}`"),
                name,
            });
        }
    }
    out
}

/// What Runway declares when it looks for input requests: form elicitation
/// (which it answers by declining) and roots (which it answers with none).
fn declared_caps() -> Value {
    json!({"elicitation": {"form": {}}, "roots": {}})
}

fn is_input_required(v: &Value) -> bool {
    v.get("resultType").and_then(Value::as_str) == Some("input_required")
}

/// The capability an input request's method needs.
fn capability_of(method: &str) -> Option<&'static str> {
    match method {
        "elicitation/create" => Some("elicitation"),
        "sampling/createMessage" => Some("sampling"),
        "roots/list" => Some("roots"),
        _ => None,
    }
}

/// What is wrong with an `InputRequiredResult` answering a request that
/// declared `caps` (mrtr.mdx § Server Requirements (Basic Workflow)).
pub(super) fn input_required_problems(v: &Value, caps: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let requests = v.get("inputRequests");
    let state = v.get("requestState");
    if requests.is_none() && state.is_none() {
        out.push("it carries neither `inputRequests` nor `requestState`".into());
    }
    if let Some(s) = state.filter(|s| !s.is_string()) {
        out.push(format!("`requestState` is {s}, not a string"));
    }
    match requests {
        None => {}
        Some(Value::Object(m)) => {
            for (key, r) in m {
                let method = r.get("method").and_then(Value::as_str).unwrap_or("");
                let Some(cap) = capability_of(method) else {
                    out.push(format!(
                        "input request `{key}` is `{method}`, not `elicitation/create`, `sampling/createMessage` or `roots/list`"
                    ));
                    continue;
                };
                if caps.get(cap).is_none() {
                    out.push(format!(
                        "input request `{key}` asks for `{method}`, though the request did not declare `{cap}`"
                    ));
                    continue;
                }
                let mode = r.pointer("/params/mode").and_then(Value::as_str);
                if cap == "elicitation"
                    && mode == Some("url")
                    && caps.pointer("/elicitation/url").is_none()
                {
                    out.push(format!(
                        "input request `{key}` is a URL-mode elicitation, though the request declared form mode only"
                    ));
                }
            }
        }
        Some(other) => out.push(format!("`inputRequests` is {other}, not an object")),
    }
    out
}

/// Runway's answer to each input request: an elicitation declined (there is
/// no user), no roots. Requests it did not declare get no answer.
fn answers(v: &Value) -> Value {
    let mut out = serde_json::Map::new();
    if let Some(m) = v.get("inputRequests").and_then(Value::as_object) {
        for (key, r) in m {
            match r.get("method").and_then(Value::as_str) {
                Some("elicitation/create") => {
                    out.insert(key.clone(), json!({"action": "decline"}));
                }
                Some("roots/list") => {
                    out.insert(key.clone(), json!({"roots": []}));
                }
                _ => {}
            }
        }
    }
    Value::Object(out)
}

fn skip_all(checks: &mut Vec<CheckResult>, why: &str) {
    for id in IDS {
        checks.push(CheckResult::skip(*id, why));
    }
}

/// The four checks of this module (stateless era; the caller skips them otherwise).
pub(super) async fn mrtr_checks(
    ctx: &Context,
    c: &mut Connected,
    version: &str,
    candidates: &[Candidate],
    checks: &mut Vec<CheckResult>,
) {
    if candidates.is_empty() {
        skip_all(
            checks,
            "no request Runway may send on its own (a smoke call, the first resource, a prompt without arguments) to look for input requests",
        );
        return;
    }
    let caps = declared_caps();
    let mut found = None;
    for cand in candidates {
        let reply = probe::send(
            ctx,
            c,
            &format!("{} declaring elicitation and roots", cand.what),
            cand.method,
            cand.params_with(version, caps.clone(), &[]),
            Some(&cand.name),
            &[],
        )
        .await;
        if reply.outcome.as_ref().is_ok_and(is_input_required) {
            found = Some((cand, reply));
            break;
        }
    }
    let Some((cand, first)) = found else {
        skip_all(
            checks,
            &format!(
                "none of {} asked for input (no `InputRequiredResult`): nothing here needs a client capability",
                candidates
                    .iter()
                    .map(|c| c.what.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        return;
    };
    let irr = first.outcome.clone().unwrap_or_default();

    // mcp.mrtr.input_required
    let problems = input_required_problems(&irr, &caps);
    let asks: Vec<String> = irr
        .get("inputRequests")
        .and_then(Value::as_object)
        .map(|m| {
            m.values()
                .filter_map(|r| r.get("method").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let r = if problems.is_empty() {
        CheckResult::pass(
            IDS[0],
            format!(
                "{} answered an InputRequiredResult{}{}",
                cand.what,
                if asks.is_empty() {
                    String::new()
                } else {
                    format!(" asking for {}", asks.join(", "))
                },
                if irr.get("requestState").is_some() {
                    " with a `requestState`"
                } else {
                    ""
                }
            ),
        )
    } else {
        CheckResult::fail(
            IDS[0],
            format!(
                "{} answered a malformed InputRequiredResult: {}",
                cand.what,
                problems.join("; ")
            ),
            "carry `inputRequests` (elicitation, sampling or roots requests the request's `clientCapabilities` declare) or a `requestState`",
        )
    };
    checks.push(timed(r, first.evidence.clone(), first.elapsed));

    // mcp.mrtr.retry
    let state = irr.get("requestState").and_then(Value::as_str);
    let mut extra = vec![("inputResponses", answers(&irr))];
    if let Some(s) = state {
        extra.push(("requestState", json!(s)));
    }
    let retry_params = cand.params_with(version, caps.clone(), &extra);
    let retry = probe::send(
        ctx,
        c,
        &format!("{} retried with the answers and `requestState`", cand.what),
        cand.method,
        retry_params.clone(),
        Some(&cand.name),
        &[],
    )
    .await;
    checks.push(retry_check(ctx, cand, state.is_some(), &retry));

    // mcp.mrtr.auth
    checks.push(auth_check(ctx, c, cand, state.is_some(), retry_params).await);

    // mcp.capability.required
    let bare = probe::send(
        ctx,
        c,
        &format!("{} declaring no client capability", cand.what),
        cand.method,
        cand.params_with(version, json!({}), &[]),
        Some(&cand.name),
        &[],
    )
    .await;
    checks.push(capability_check(ctx, cand, &asks, probe::is_http(c), bare));
}

fn retry_check(ctx: &Context, cand: &Candidate, state: bool, retry: &RpcReply) -> CheckResult {
    let id = IDS[1];
    let with = if state {
        "the answers and `requestState` echoed exactly"
    } else {
        "the answers (there was no `requestState` to echo)"
    };
    let hint = "rebuild the request's state from the echoed `requestState` and complete it, or ask again with a new InputRequiredResult (mrtr.mdx § Error Handling)";
    let r = match &retry.outcome {
        Ok(v) if is_input_required(v) => CheckResult::pass(
            id,
            format!(
                "the retry of {} with {with} asked again (a server MAY ask more than once)",
                cand.what
            ),
        ),
        Ok(_) => CheckResult::pass(
            id,
            format!("the retry of {} with {with} completed", cand.what),
        ),
        Err(e) if retry.evidence.status.is_some_and(|s| s >= 500) => CheckResult::fail(
            id,
            format!("the retry of {} with {with} failed: {e}", cand.what),
            hint,
        ),
        Err(e) => result(
            id,
            soft(ctx),
            format!("the retry of {} with {with} was refused: {e}", cand.what),
            Some(hint),
        ),
    };
    timed(r, retry.evidence.clone(), retry.elapsed)
}

/// `mcp.mrtr.auth`: the retry, without the bearer token, is not served.
async fn auth_check(
    ctx: &Context,
    c: &mut Connected,
    cand: &Candidate,
    state: bool,
    retry_params: Value,
) -> CheckResult {
    let id = IDS[2];
    if !matches!(c.conn, Conn::Http(_)) {
        return CheckResult::skip(id, "an HTTP rule: stdio carries no credentials");
    }
    if ctx.token.is_none() {
        return CheckResult::skip(
            id,
            "no token is configured, so whether `requestState` stands in for one cannot be seen",
        );
    }
    if !state {
        return CheckResult::skip(id, "the InputRequiredResult carried no `requestState`");
    }
    let reply = probe::send(
        ctx,
        c,
        &format!(
            "{} retried with `requestState` and without a token",
            cand.what
        ),
        cand.method,
        retry_params,
        Some(&cand.name),
        &[("authorization", None)],
    )
    .await;
    let status = reply.evidence.status;
    let r = match (&reply.outcome, status) {
        (Err(_), Some(401 | 403)) => CheckResult::pass(
            id,
            format!(
                "the retry carrying `requestState` without a token is refused (HTTP {})",
                status.unwrap_or_default()
            ),
        ),
        (Err(e), _) => CheckResult::pass(
            id,
            format!("the retry carrying `requestState` without a token is not served: {e}"),
        ),
        (Ok(_), _) => {
            // Is the endpoint open anyway? Then nothing was bypassed.
            let control = probe::send(
                ctx,
                c,
                "tools/list without a token",
                "tools/list",
                json!({"_meta": probe::meta(
                    c.era.version().unwrap_or(super::client::STATELESS_VERSIONS[0]),
                    &[],
                )}),
                None,
                &[("authorization", None)],
            )
            .await;
            match (&control.outcome, control.evidence.status) {
                (Ok(_), _) => CheckResult::skip(
                    id,
                    "the endpoint serves requests without a token, so there is no token for `requestState` to stand in for",
                ),
                (Err(_), s) => CheckResult::fail(
                    id,
                    format!(
                        "the retry of {} carrying `requestState` was served without a token, while a request without one gets {}",
                        cand.what,
                        s.map(|s| format!("HTTP {s}"))
                            .unwrap_or_else(|| "refused".into())
                    ),
                    "authenticate every request by its token, never by its `requestState`: the state passes through the client and is attacker-controlled (mrtr.mdx § Security Considerations)",
                ),
            }
        }
    };
    timed(r, reply.evidence, reply.elapsed)
}

/// `mcp.capability.required`: the request that asked for input, declaring
/// nothing, is served without input or refused with -32021 naming the need.
fn capability_check(
    ctx: &Context,
    cand: &Candidate,
    asked: &[String],
    http: bool,
    reply: RpcReply,
) -> CheckResult {
    let id = IDS[3];
    let hint = "refuse a request that needs a capability its `clientCapabilities` lack with the JSON-RPC error -32021, `data.requiredCapabilities` naming it, and HTTP 400";
    let needs = if asked.is_empty() {
        "input".to_owned()
    } else {
        asked.join(", ")
    };
    let status = reply.evidence.status;
    let r = match &reply.outcome {
        Ok(v) if is_input_required(v) => {
            let problems = input_required_problems(v, &json!({}));
            if problems.is_empty() {
                CheckResult::pass(
                    id,
                    format!(
                        "declaring no capability, {} asks for nothing it may not (only a `requestState`)",
                        cand.what
                    ),
                )
            } else {
                CheckResult::fail(
                    id,
                    format!(
                        "declaring no capability, {} still answered an InputRequiredResult: {}",
                        cand.what,
                        problems.join("; ")
                    ),
                    hint,
                )
            }
        }
        Ok(_) => CheckResult::pass(
            id,
            format!(
                "declaring no capability, {} completes without asking for {needs}",
                cand.what
            ),
        ),
        Err(RpcFailure::Error {
            code: -32021, data, ..
        }) => {
            let named = data
                .as_ref()
                .and_then(|d| d.get("requiredCapabilities"))
                .and_then(Value::as_object)
                .filter(|m| !m.is_empty())
                .map(|m| m.keys().cloned().collect::<Vec<_>>().join(", "));
            match (named, status) {
                (None, _) => CheckResult::fail(
                    id,
                    format!(
                        "declaring no capability, {} got -32021 without `data.requiredCapabilities` naming what is missing",
                        cand.what
                    ),
                    hint,
                ),
                (Some(_), Some(s)) if http && s != 400 => CheckResult::fail(
                    id,
                    format!(
                        "declaring no capability, {} got -32021 with HTTP {s}, not 400",
                        cand.what
                    ),
                    hint,
                ),
                (Some(names), _) => CheckResult::pass(
                    id,
                    format!(
                        "declaring no capability, {} is refused with -32021 naming {names}{}",
                        cand.what,
                        status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
                    ),
                ),
            }
        }
        Err(e) if status.is_some_and(|s| s >= 500) => CheckResult::fail(
            id,
            format!("declaring no capability, {} failed: {e}", cand.what),
            hint,
        ),
        Err(e) => result(
            id,
            soft(ctx),
            format!(
                "declaring no capability, {} got {e}, not -32021 (MissingRequiredClientCapability); declaring `elicitation` and `roots` it asked for {needs}",
                cand.what
            ),
            Some(hint),
        ),
    };
    let mut r = timed(r, reply.evidence, reply.elapsed);
    if r.status == Status::Pass {
        r.hint = None;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_required_result_asks_only_for_what_was_declared() {
        let caps = declared_caps();
        let good = json!({"resultType": "input_required", "requestState": "s",
            "inputRequests": {"a": {"method": "elicitation/create", "params": {"mode": "form"}}}});
        assert!(input_required_problems(&good, &caps).is_empty());
        let sampling = json!({"resultType": "input_required",
            "inputRequests": {"b": {"method": "sampling/createMessage", "params": {}}}});
        let p = input_required_problems(&sampling, &caps);
        assert!(p[0].contains("did not declare `sampling`"), "{p:?}");
        let url = json!({"resultType": "input_required",
            "inputRequests": {"c": {"method": "elicitation/create", "params": {"mode": "url"}}}});
        assert!(input_required_problems(&url, &caps)[0].contains("URL-mode"));
        let empty = json!({"resultType": "input_required"});
        assert!(input_required_problems(&empty, &caps)[0].contains("neither"));
        let ping =
            json!({"resultType": "input_required", "inputRequests": {"d": {"method": "ping"}}});
        assert!(input_required_problems(&ping, &caps)[0].contains("not `elicitation/create`"));
    }

    #[test]
    fn runway_declines_elicitations_and_lists_no_roots() {
        let irr = json!({"inputRequests": {
            "a": {"method": "elicitation/create"},
            "b": {"method": "roots/list"},
            "c": {"method": "sampling/createMessage"}}});
        assert_eq!(
            answers(&irr),
            json!({"a": {"action": "decline"}, "b": {"roots": []}})
        );
    }
}
