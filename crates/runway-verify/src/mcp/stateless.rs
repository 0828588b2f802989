//! The server rules of the stateless era (2026-07-28) that a well-behaved
//! client never trips over, each probed on purpose: the `server/discover`
//! result field by field (`mcp.discover.result`), an unsupported version
//! (`mcp.stateless.version`, -32022 with `data.supported`), a `_meta` without
//! the required fields (`mcp.stateless.meta`, -32602), `Mcp-Method`/`Mcp-Name`
//! headers that contradict the body (`mcp.stateless.headers`, -32020),
//! `resultType` and caching hints on results (`mcp.stateless.result_type`,
//! `mcp.stateless.cache`), `serverInfo` in each result's `_meta`
//! (`mcp.stateless.server_info`), what a stateless-only server does with the
//! previous revision's traffic (`mcp.stateless.delete`, `.session_id`,
//! `.last_event_id`, `.initialize`), `X-Accel-Buffering` on event streams
//! (`mcp.sse.accel_buffering`) and a deterministic tool order
//! (`mcp.tools.order`). Sections: `crate::spec`.

use runway_core::{CheckResult, Era, Status};
use serde_json::{Value, json};

use super::{
    Conn, Connected,
    client::{RpcFailure, RpcReply},
    probe, result, soft, timed, wire,
};
use crate::context::Context;

/// The checks of this module, in the stateless era only (skipped otherwise).
pub(super) async fn stateless_checks(
    ctx: &Context,
    c: &mut Connected,
    tools: Option<&[Value]>,
    checks: &mut Vec<CheckResult>,
) {
    let Era::Stateless { version } = c.era.clone() else {
        for id in IDS.iter().chain(super::mrtr::IDS).chain(super::tasks::IDS) {
            checks.push(CheckResult::skip(
                *id,
                "a rule of the stateless era (2026-07-28)",
            ));
        }
        return;
    };
    checks.push(discover_check(ctx, c, &version).await);
    checks.push(expect_error(
        ctx,
        "mcp.stateless.version",
        probe::send(
            ctx,
            c,
            "tools/list at protocol version 1999-01-01",
            "tools/list",
            json!({"_meta": probe::meta("1999-01-01", &[])}),
            None,
            &[("mcp-protocol-version", Some("1999-01-01"))],
        )
        .await,
        -32022,
        probe::is_http(c),
        "an unsupported protocol version",
        Some("/data/supported"),
    ));
    checks.push(expect_error(
        ctx,
        "mcp.stateless.meta",
        probe::send(
            ctx,
            c,
            "tools/list without `clientCapabilities` in `_meta`",
            "tools/list",
            json!({"_meta": probe::meta(&version, &[wire::META_CLIENT_CAPABILITIES])}),
            None,
            &[],
        )
        .await,
        -32602,
        probe::is_http(c),
        "a request whose `_meta` lacks the required `io.modelcontextprotocol/clientCapabilities`",
        None,
    ));
    checks.push(headers_check(ctx, c, &version, tools).await);
    let listed = probe::send(
        ctx,
        c,
        "tools/list",
        "tools/list",
        json!({"_meta": probe::meta(&version, &[])}),
        None,
        &[],
    )
    .await;
    checks.extend(result_checks(ctx, &listed));
    checks.push(accel_buffering_check(ctx, &listed));
    checks.push(order_check(ctx, c, &version, &listed).await);
    checks.push(super::subscriptions::listen_check(ctx, c).await);
    let candidates = super::mrtr::candidates(ctx, c, tools).await;
    checks.push(name_encoding_check(ctx, c, &version, &candidates).await);
    super::mrtr::mrtr_checks(ctx, c, &version, &candidates, checks).await;
    super::tasks::task_checks(ctx, c, checks).await;
    if let Conn::Http(_) = c.conn {
        checks.push(old_traffic_check(ctx, c, &version, OldTraffic::Delete).await);
        checks.push(old_traffic_check(ctx, c, &version, OldTraffic::SessionId).await);
        checks.push(old_traffic_check(ctx, c, &version, OldTraffic::LastEventId).await);
    } else {
        for id in [
            "mcp.stateless.delete",
            "mcp.stateless.session_id",
            "mcp.stateless.last_event_id",
        ] {
            checks.push(CheckResult::skip(
                id,
                "an HTTP rule: stdio has no methods or headers",
            ));
        }
    }
}

/// Every id [`stateless_checks`] reports.
const IDS: &[&str] = &[
    "mcp.discover.result",
    "mcp.stateless.version",
    "mcp.stateless.meta",
    "mcp.stateless.headers",
    "mcp.stateless.result_type",
    "mcp.stateless.server_info",
    "mcp.stateless.cache",
    "mcp.sse.accel_buffering",
    "mcp.tools.order",
    "mcp.subscriptions.listen",
    "mcp.stateless.name_encoding",
    "mcp.stateless.delete",
    "mcp.stateless.session_id",
    "mcp.stateless.last_event_id",
];

/// `mcp.discover.result`: every field of the `DiscoverResult` the rules ask for.
async fn discover_check(ctx: &Context, c: &mut Connected, version: &str) -> CheckResult {
    let id = "mcp.discover.result";
    let reply = probe::send(
        ctx,
        c,
        "server/discover",
        "server/discover",
        json!({"_meta": probe::meta(version, &[])}),
        None,
        &[],
    )
    .await;
    let r = match &reply.outcome {
        Err(e) => CheckResult::fail(
            id,
            format!("`server/discover` failed: {e}"),
            "servers MUST implement `server/discover` (2026-07-28 server/discover.mdx)",
        ),
        Ok(v) => {
            let mut broken = discover_problems(v);
            broken.extend(cache_problems(v));
            let serverinfo = server_info(v).is_some();
            if !broken.is_empty() {
                CheckResult::fail(
                    id,
                    format!(
                        "the `server/discover` result is malformed: {}",
                        broken.join("; ")
                    ),
                    "return `resultType: \"complete\"`, `supportedVersions` (strings), `capabilities` (an object), `ttlMs` (an integer >= 0) and `cacheScope` (`public` or `private`)",
                )
            } else if !serverinfo {
                result(
                    id,
                    soft(ctx),
                    "the `server/discover` result has no `_meta` `io.modelcontextprotocol/serverInfo` with `name` and `version`".into(),
                    Some("include `_meta: {\"io.modelcontextprotocol/serverInfo\": {\"name\", \"version\"}}` (SHOULD)"),
                )
            } else {
                CheckResult::pass(
                    id,
                    "the `server/discover` result has every required field, well typed",
                )
            }
        }
    };
    timed(r, reply.evidence, reply.elapsed)
}

/// What is wrong with a discovery result, one phrase per broken field.
pub(super) fn discover_problems(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = result_type_problem(v) {
        out.push(p);
    }
    match v.get("supportedVersions") {
        None => out.push("`supportedVersions` is missing".into()),
        Some(Value::Array(a)) if a.is_empty() => out.push("`supportedVersions` is empty".into()),
        Some(Value::Array(a)) if !a.iter().all(Value::is_string) => {
            out.push("`supportedVersions` holds a value that is not a string".into())
        }
        Some(Value::Array(_)) => {}
        Some(other) => out.push(format!(
            "`supportedVersions` is {}, not an array",
            kind(other)
        )),
    }
    match v.get("capabilities") {
        None => out.push("`capabilities` is missing".into()),
        Some(Value::Object(_)) => {}
        Some(other) => out.push(format!("`capabilities` is {}, not an object", kind(other))),
    }
    out
}

/// `resultType` must be present and one the client knows (2026-07-28 basic/index.mdx § ResultType).
fn result_type_problem(v: &Value) -> Option<String> {
    match v.get("resultType") {
        None => Some("`resultType` is missing".into()),
        Some(Value::String(s)) if s == "complete" || s == "input_required" => None,
        Some(Value::String(s)) => Some(format!(
            "`resultType` is `{s}`, not `complete` or `input_required`"
        )),
        Some(other) => Some(format!("`resultType` is {}, not a string", kind(other))),
    }
}

/// The caching hints of a cacheable result (2026-07-28 server/utilities/caching.mdx).
pub(super) fn cache_problems(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match v.get("ttlMs") {
        None => out.push("`ttlMs` is missing".into()),
        Some(t) if t.as_u64().is_some() => {}
        Some(t) if t.as_i64().is_some_and(|n| n < 0) => {
            out.push(format!("`ttlMs` is {t}, below 0"))
        }
        Some(t) => out.push(format!("`ttlMs` is {}, not an integer >= 0", kind(t))),
    }
    match v.get("cacheScope") {
        None => out.push("`cacheScope` is missing".into()),
        Some(Value::String(s)) if s == "public" || s == "private" => {}
        Some(other) => out.push(format!(
            "`cacheScope` is {other}, not `public` or `private`"
        )),
    }
    out
}

fn server_info(v: &Value) -> Option<&Value> {
    v.pointer("/_meta/io.modelcontextprotocol~1serverInfo")
        .filter(|i| {
            i.get("name").is_some_and(Value::is_string)
                && i.get("version").is_some_and(Value::is_string)
        })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A request the server must refuse with `code` (and HTTP 400 over HTTP);
/// `data` is a pointer into the error that must hold a non-empty array.
#[allow(clippy::too_many_arguments)]
fn expect_error(
    ctx: &Context,
    id: &str,
    reply: RpcReply,
    code: i64,
    http: bool,
    what: &str,
    data: Option<&str>,
) -> CheckResult {
    let status = reply.evidence.status;
    let hint = format!(
        "answer {what} with JSON-RPC error {code}{}",
        if http { " and HTTP 400" } else { "" }
    );
    let r = match &reply.outcome {
        Err(RpcFailure::Error {
            code: got, data: d, ..
        }) if *got == code => {
            let missing = data.filter(|p| {
                json!({"data": d})
                    .pointer(p)
                    .and_then(Value::as_array)
                    .is_none_or(Vec::is_empty)
            });
            match (missing, status) {
                (Some(p), _) => CheckResult::fail(
                    id,
                    format!("{what} got error {code}, but `error{p}` is not a non-empty list"),
                    format!("{hint}, listing the supported versions in `error.data.supported`"),
                ),
                (None, Some(s)) if http && s != 400 => CheckResult::fail(
                    id,
                    format!("{what} got error {code} with HTTP {s}, expected HTTP 400"),
                    hint,
                ),
                _ => CheckResult::pass(
                    id,
                    format!(
                        "{what} is refused with error {code}{}",
                        status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
                    ),
                ),
            }
        }
        Err(RpcFailure::Error {
            code: got, message, ..
        }) => CheckResult::fail(
            id,
            format!(
                "{what} got error {got} ({message}){}, expected {code}",
                status
                    .map(|s| format!(" with HTTP {s}"))
                    .unwrap_or_default()
            ),
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
        Err(e) => CheckResult::fail(id, format!("{what}: {e}, expected error {code}"), hint),
    };
    timed(r, reply.evidence, reply.elapsed)
}

/// `mcp.stateless.headers`: `Mcp-Method` missing or not the body's method,
/// and `Mcp-Name` not the called tool's name, are each refused with -32020.
async fn headers_check(
    ctx: &Context,
    c: &mut Connected,
    version: &str,
    tools: Option<&[Value]>,
) -> CheckResult {
    let id = "mcp.stateless.headers";
    if !probe::is_http(c) {
        return CheckResult::skip(id, "an HTTP rule: stdio has no headers");
    }
    let params = json!({"_meta": probe::meta(version, &[])});
    let mut cases: Vec<(String, RpcReply)> = Vec::new();
    let r = probe::send(
        ctx,
        c,
        "tools/list with `Mcp-Method: prompts/list`",
        "tools/list",
        params.clone(),
        None,
        &[("mcp-method", Some("prompts/list"))],
    )
    .await;
    cases.push((
        "an `Mcp-Method` header that is not the body's method".into(),
        r,
    ));
    let r = probe::send(
        ctx,
        c,
        "tools/list without `Mcp-Method`",
        "tools/list",
        params.clone(),
        None,
        &[("mcp-method", None)],
    )
    .await;
    cases.push(("a request without the `Mcp-Method` header".into(), r));
    if let Some(tool) = tools
        .and_then(|t| t.first())
        .and_then(|t| t.get("name"))
        .and_then(Value::as_str)
    {
        let call = json!({"name": tool, "arguments": {}, "_meta": probe::meta(version, &[])});
        let r = probe::send(
            ctx,
            c,
            "tools/call with a wrong `Mcp-Name`",
            "tools/call",
            call,
            Some(tool),
            &[("mcp-name", Some("runway-not-the-tool"))],
        )
        .await;
        cases.push((
            "an `Mcp-Name` header that is not the called tool's name".into(),
            r,
        ));
    }
    let total = cases.len();
    let mut last = None;
    for (what, reply) in cases {
        let verdict = expect_error(ctx, id, reply, -32020, true, &what, None);
        if verdict.status != Status::Pass {
            return verdict;
        }
        last = Some(verdict);
    }
    let mut r = last.unwrap_or_else(|| CheckResult::skip(id, "nothing to send"));
    r.message = format!("all {total} header mismatches are refused with HTTP 400 and -32020");
    r
}

/// `mcp.stateless.name_encoding`: an `Mcp-Name` in its Base64 form
/// (`=?base64?...?=`, § Value Encoding) is decoded before it is compared with
/// the body (§ Server Validation, MUST). Sent on a request Runway may send on
/// its own (a name that is not header-safe first), and judged against the
/// same request with the plain name: the encoding alone must change nothing.
async fn name_encoding_check(
    ctx: &Context,
    c: &mut Connected,
    version: &str,
    candidates: &[super::mrtr::Candidate],
) -> CheckResult {
    let id = "mcp.stateless.name_encoding";
    if !probe::is_http(c) {
        return CheckResult::skip(id, "an HTTP rule: stdio has no headers");
    }
    let Some(cand) = candidates
        .iter()
        .find(|k| wire::header_value(&k.name) != k.name)
        .or_else(|| candidates.first())
    else {
        return CheckResult::skip(
            id,
            "no `tools/call`, `resources/read` or `prompts/get` Runway may send on its own (configure a smoke call)",
        );
    };
    let params = {
        let mut p = cand.params.clone();
        p["_meta"] = probe::meta(version, &[]);
        p
    };
    let encoded = wire::base64_header(&cand.name);
    let reply = probe::send(
        ctx,
        c,
        &format!("{} with a Base64-encoded `Mcp-Name`", cand.what),
        cand.method,
        params.clone(),
        Some(&cand.name),
        &[("mcp-name", Some(&encoded))],
    )
    .await;
    let hint = "decode an `Mcp-Name` of the form `=?base64?...?=` before comparing it with the body's name or URI";
    let code = |r: &RpcReply| match &r.outcome {
        Ok(_) => None,
        Err(RpcFailure::Error { code, .. }) => Some(*code),
        Err(_) => Some(0),
    };
    let r = match &reply.outcome {
        Err(RpcFailure::Error {
            code: -32020,
            message,
            ..
        }) => CheckResult::fail(
            id,
            format!(
                "{} with `Mcp-Name: {encoded}` (the Base64 form of `{}`) was refused as a header mismatch: {message}",
                cand.what, cand.name
            ),
            hint,
        ),
        _ if wire::header_value(&cand.name) != cand.name => CheckResult::pass(
            id,
            format!(
                "{} with its name Base64-encoded in `Mcp-Name` is accepted",
                cand.what
            ),
        ),
        _ => {
            let plain = probe::send(
                ctx,
                c,
                &format!("{} with a plain `Mcp-Name`", cand.what),
                cand.method,
                params,
                Some(&cand.name),
                &[],
            )
            .await;
            if code(&plain) == code(&reply) {
                CheckResult::pass(
                    id,
                    format!(
                        "{} is answered alike with `Mcp-Name` plain and Base64-encoded",
                        cand.what
                    ),
                )
            } else {
                result(
                    id,
                    soft(ctx),
                    format!(
                        "{} with `Mcp-Name` Base64-encoded got {}, but with it plain {}",
                        cand.what,
                        describe(&reply),
                        describe(&plain)
                    ),
                    Some(hint),
                )
            }
        }
    };
    timed(r, reply.evidence, reply.elapsed)
}

fn describe(r: &RpcReply) -> String {
    match &r.outcome {
        Ok(_) => "a result".into(),
        Err(e) => e.to_string(),
    }
}

/// `mcp.stateless.result_type`, `.server_info` and `.cache` on a `tools/list` result.
fn result_checks(ctx: &Context, listed: &RpcReply) -> Vec<CheckResult> {
    let ids = [
        "mcp.stateless.result_type",
        "mcp.stateless.server_info",
        "mcp.stateless.cache",
    ];
    let Ok(v) = &listed.outcome else {
        let why = listed
            .outcome
            .as_ref()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        return ids
            .iter()
            .map(|id| {
                CheckResult::skip(
                    *id,
                    format!("`tools/list` failed ({why}); see `mcp.tools.list`"),
                )
            })
            .collect();
    };
    let ev = || listed.evidence.clone();
    let rt = match result_type_problem(v) {
        None => CheckResult::pass(ids[0], "the `tools/list` result carries `resultType`"),
        Some(p) => CheckResult::fail(
            ids[0],
            format!("the `tools/list` result: {p}"),
            "every result carries `resultType` (`complete` for an ordinary result)",
        ),
    };
    let si = match server_info(v) {
        Some(_) => CheckResult::pass(
            ids[1],
            "the `tools/list` result names the server in `_meta`",
        ),
        None => result(
            ids[1],
            soft(ctx),
            "the `tools/list` result has no `_meta` `io.modelcontextprotocol/serverInfo` (SHOULD)"
                .into(),
            Some(
                "include `io.modelcontextprotocol/serverInfo` (`name`, `version`) in every result's `_meta`",
            ),
        ),
    };
    let problems = cache_problems(v);
    let cache = if problems.is_empty() {
        CheckResult::pass(
            ids[2],
            "the `tools/list` result carries `ttlMs` and `cacheScope`",
        )
    } else {
        CheckResult::fail(
            ids[2],
            format!("the `tools/list` result: {}", problems.join("; ")),
            "cacheable results (`tools/list`, `prompts/list`, `resources/list`, `resources/read`, `resources/templates/list`, `server/discover`) carry `ttlMs` >= 0 and `cacheScope`",
        )
    };
    [rt, si, cache]
        .into_iter()
        .map(|r| timed(r, ev(), listed.elapsed))
        .collect()
}

/// `mcp.sse.accel_buffering`: an event-stream answer says `X-Accel-Buffering: no` (SHOULD).
fn accel_buffering_check(ctx: &Context, listed: &RpcReply) -> CheckResult {
    let id = "mcp.sse.accel_buffering";
    let h = &listed.evidence.headers;
    let sse = h
        .get("content-type")
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("text/event-stream"));
    if listed.evidence.status.is_none() {
        return CheckResult::skip(id, "an HTTP rule: stdio has no headers");
    }
    if !sse {
        return CheckResult::skip(
            id,
            "the server answered `tools/list` with JSON, not an event stream",
        );
    }
    let r = match h.get("x-accel-buffering") {
        Some(v) if v.trim().eq_ignore_ascii_case("no") => {
            CheckResult::pass(id, "the event stream is sent with `X-Accel-Buffering: no`")
        }
        other => result(
            id,
            soft(ctx),
            format!(
                "the event stream answering `tools/list` has {} (SHOULD be `no`)",
                other
                    .map(|v| format!("`X-Accel-Buffering: {v}`"))
                    .unwrap_or_else(|| "no `X-Accel-Buffering`".into())
            ),
            Some(
                "send `X-Accel-Buffering: no` with every SSE answer, so proxies such as nginx do not hold events back",
            ),
        ),
    };
    timed(r, listed.evidence.clone(), listed.elapsed)
}

/// `mcp.tools.order`: two listings give the tools in the same order (SHOULD).
async fn order_check(
    ctx: &Context,
    c: &mut Connected,
    version: &str,
    first: &RpcReply,
) -> CheckResult {
    let id = "mcp.tools.order";
    let names = |v: &Value| -> Vec<String> {
        v.get("tools")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.get("name")?.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let Ok(a) = &first.outcome else {
        return CheckResult::skip(id, "`tools/list` failed; see `mcp.tools.list`");
    };
    let second = probe::send(
        ctx,
        c,
        "tools/list (again)",
        "tools/list",
        json!({"_meta": probe::meta(version, &[])}),
        None,
        &[],
    )
    .await;
    let Ok(b) = &second.outcome else {
        return CheckResult::skip(id, "the second `tools/list` failed; see `mcp.tools.list`");
    };
    let (a, b) = (names(a), names(b));
    let r = if a == b {
        CheckResult::pass(
            id,
            format!(
                "two listings give the same order ({})",
                crate::text::count(a.len(), "tool")
            ),
        )
    } else {
        result(
            id,
            soft(ctx),
            format!(
                "two listings differ: [{}] then [{}]",
                a.join(", "),
                b.join(", ")
            ),
            Some(
                "return tools in a deterministic order (SHOULD): clients and LLM prompt caches key on it",
            ),
        )
    };
    timed(r, second.evidence, second.elapsed)
}

#[derive(Clone, Copy)]
enum OldTraffic {
    Delete,
    SessionId,
    LastEventId,
}

/// What a stateless-only server does with the previous revision's traffic
/// (SHOULD): DELETE is 405; `Mcp-Session-Id` and `Last-Event-ID` are ignored
/// (the request is served, and no session id is minted or echoed).
async fn old_traffic_check(
    ctx: &Context,
    c: &mut Connected,
    version: &str,
    what: OldTraffic,
) -> CheckResult {
    let params = json!({"_meta": probe::meta(version, &[])});
    match what {
        OldTraffic::Delete => {
            let id = "mcp.stateless.delete";
            let Conn::Http(h) = &c.conn else {
                return CheckResult::skip(id, "an HTTP rule");
            };
            let request = ctx.redactor.redact(&format!("DELETE {}", h.url));
            let rb = h
                .auth(h.client.delete(h.url.clone()))
                .header("mcp-protocol-version", version);
            let start = std::time::Instant::now();
            let got = match rb.build() {
                Ok(req) => crate::http::fetch(&h.client, req, ctx.limits).await,
                Err(e) => Err(crate::http::FetchError::Other(e.to_string())),
            };
            match got {
                Err(e) => CheckResult::fail(
                    id,
                    format!("`DELETE` got no whole answer: {e}"),
                    "answer `DELETE` with 405 at once",
                ),
                Ok(o) => {
                    let ev = o.evidence(&request, &ctx.redactor);
                    let r = match o.status {
                        405 => CheckResult::pass(
                            id,
                            "`DELETE` → 405: no sessions to end in the stateless era",
                        ),
                        s if s >= 500 => CheckResult::fail(
                            id,
                            format!("`DELETE` → {s}"),
                            "answer `DELETE` on the MCP endpoint with 405 Method Not Allowed, never a 5xx",
                        ),
                        s => result(
                            id,
                            soft(ctx),
                            format!(
                                "`DELETE` → {s}, expected 405 from a server of the stateless era only"
                            ),
                            Some("answer `DELETE` on the MCP endpoint with 405 Method Not Allowed"),
                        ),
                    };
                    timed(r, ev, start.elapsed())
                }
            }
        }
        OldTraffic::SessionId | OldTraffic::LastEventId => {
            let (id, header, value, what) = match what {
                OldTraffic::SessionId => (
                    "mcp.stateless.session_id",
                    "mcp-session-id",
                    "runway-no-such-session",
                    "an `Mcp-Session-Id` header",
                ),
                _ => (
                    "mcp.stateless.last_event_id",
                    "last-event-id",
                    "runway-1",
                    "a `Last-Event-ID` header",
                ),
            };
            let reply = probe::send(
                ctx,
                c,
                &format!("tools/list with {what}"),
                "tools/list",
                params,
                None,
                &[(header, Some(value))],
            )
            .await;
            let minted: Option<String> = reply.evidence.headers.get("mcp-session-id").cloned();
            let r = match (&reply.outcome, minted) {
                (Ok(_), None) => {
                    CheckResult::pass(id, format!("a request with {what} is served as any other"))
                }
                (Ok(_), Some(s)) => result(
                    id,
                    soft(ctx),
                    format!(
                        "a request with {what} is answered with `Mcp-Session-Id: {}`",
                        ctx.redactor.redact(&s)
                    ),
                    Some("a server of the stateless era mints and echoes no session ids"),
                ),
                (Err(e), _) => result(
                    id,
                    soft(ctx),
                    format!("a request with {what} is refused: {e}"),
                    Some(
                        "ignore the header: the stateless era has no sessions and no resumable streams",
                    ),
                ),
            };
            timed(r, reply.evidence, reply.elapsed)
        }
    }
}

/// A dual-era server answers the previous revision's traffic by its rules:
/// the stateless-only SHOULDs become passes that say so.
pub(super) fn relax_for_dual_era(checks: &mut [CheckResult]) {
    for c in checks {
        let only = matches!(
            c.id.as_str(),
            "mcp.stateless.get"
                | "mcp.stateless.delete"
                | "mcp.stateless.session_id"
                | "mcp.stateless.last_event_id"
        );
        if only && matches!(c.status, Status::Warn | Status::Fail) {
            c.status = Status::Pass;
            c.message = format!(
                "{} (not demanded of a dual-era server, which also serves the session era)",
                c.message
            );
            c.hint = None;
        }
    }
}

/// `mcp.stateless.initialize`: a server of the stateless era only names the
/// versions it supports in its refusal of `initialize` (SHOULD).
pub(super) fn initialize_refusal_check(
    ctx: &Context,
    refused: Option<&CheckResult>,
) -> CheckResult {
    let id = "mcp.stateless.initialize";
    let Some(r) = refused else {
        return CheckResult::skip(id, "no refusal of `initialize` was seen");
    };
    let body = r.evidence.body_excerpt.clone().unwrap_or_default();
    let names = runway_core::era::STATELESS_ERA_VERSIONS
        .iter()
        .any(|v| body.contains(v));
    let out = if names {
        CheckResult::pass(
            id,
            "the refusal of `initialize` names the supported versions",
        )
    } else {
        result(
            id,
            soft(ctx),
            "the refusal of `initialize` does not name the protocol versions the server supports"
                .into(),
            Some(
                "name the supported versions (`2026-07-28`) in the error to `initialize`: a legacy client has no other way to tell its user why",
            ),
        )
    };
    out.with_evidence(r.evidence.clone())
}

/// Over stdio: a fresh process of the server, one raw `server/discover`, and
/// what is wrong with its result (`None` when nothing is, or no result came).
/// Returns the problems and the (redacted, cut) answer.
pub(super) async fn stdio_discover_problems(
    ctx: &Context,
    program: &str,
    args: &[String],
    env: &[(String, String)],
    cwd: Option<&std::path::Path>,
) -> Option<(Vec<String>, String)> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    // The rmcp ends stay open while the probe runs: closing them closes stdin.
    let (child, _read, _write) =
        super::stdio::StdioChild::spawn(cmd, ctx.limits.max_body, ctx.redactor.clone()).ok()?;
    let rid = child.raw_id();
    let version = runway_core::era::STATELESS_ERA_VERSIONS[0];
    let line = json!({"jsonrpc": "2.0", "id": rid, "method": "server/discover",
        "params": {"_meta": probe::meta(version, &[])}})
    .to_string();
    let p = child
        .probe(
            Some(&line),
            Some(&rid),
            json!({"_meta": probe::meta(version, &[])}),
            ctx.limits.timeout,
        )
        .await;
    let result = p.reply?.get("result")?.clone();
    let mut problems = discover_problems(&result);
    problems.extend(cache_problems(&result));
    let excerpt = crate::http::redacted_excerpt(&ctx.redactor, result.to_string().as_bytes(), 512);
    (!problems.is_empty()).then_some((problems, excerpt))
}
