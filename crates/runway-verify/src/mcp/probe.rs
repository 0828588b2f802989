//! One hand-made request over either transport, for the checks that must
//! send what a well-behaved client never would (a wrong protocol version, a
//! `_meta` without capabilities, a header that contradicts the body): on HTTP
//! through the raw client with its headers edited, on stdio as a raw line
//! written to the child's stdin (rmcp cannot express these requests).

use std::time::Instant;

use runway_core::Evidence;
use serde_json::{Value, json};

use super::{
    Conn, Connected,
    client::{RpcFailure, RpcReply, ms},
    wire,
};
use crate::context::Context;

/// Header edits for the HTTP half: set (`Some`) or remove (`None`).
pub(super) type Edits<'a> = &'a [(&'static str, Option<&'a str>)];

/// Sends `method` with `params` exactly as given (no `_meta` is added: the
/// caller builds it), with `edits` applied to the HTTP headers the raw client
/// would send. `name` is the `Mcp-Name` the client would derive.
pub(super) async fn send(
    ctx: &Context,
    c: &mut Connected,
    what: &str,
    method: &str,
    params: Value,
    name: Option<&str>,
    edits: Edits<'_>,
) -> RpcReply {
    match &mut c.conn {
        Conn::Http(h) => {
            let rid = h.next_id();
            let body = json!({"jsonrpc": "2.0", "id": rid, "method": method, "params": params});
            let req = h.post(body.to_string().into_bytes(), Some(method), name);
            h.exchange_with(req, what, &json!(rid), |r| {
                for (k, v) in edits {
                    match v {
                        Some(v) => {
                            if let Ok(v) = reqwest::header::HeaderValue::from_str(v) {
                                r.headers_mut().insert(*k, v);
                            }
                        }
                        None => {
                            r.headers_mut().remove(*k);
                        }
                    }
                }
            })
            .await
        }
        Conn::Sdk(s) => {
            let request = ctx.redactor.redact(&format!("stdio {what}"));
            let start = Instant::now();
            let Some(child) = s.child.as_ref() else {
                return RpcReply::failure(
                    request,
                    RpcFailure::Transport("no stdio child to write to".into()),
                    start.elapsed(),
                );
            };
            let rid = child.raw_id();
            let line = json!({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
                .to_string();
            let p = child
                .probe(
                    Some(&line),
                    Some(&rid),
                    wire::with_meta(&s.era, json!({})),
                    ctx.limits.timeout,
                )
                .await;
            let outcome = match &p.reply {
                Some(m) if m.get("error").is_some() => Err(RpcFailure::Error {
                    code: m
                        .pointer("/error/code")
                        .and_then(Value::as_i64)
                        .unwrap_or(0),
                    message: m
                        .pointer("/error/message")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    data: m.pointer("/error/data").cloned(),
                }),
                Some(m) => match m.get("result") {
                    Some(r) => Ok(r.clone()),
                    None => Err(RpcFailure::NoResponse),
                },
                None if p.exit.is_some() => Err(RpcFailure::Transport(format!(
                    "the server exited ({}){}",
                    p.exit.as_deref().unwrap_or("?"),
                    p.stderr
                        .as_deref()
                        .map(|s| format!("; stderr: {s}"))
                        .unwrap_or_default()
                ))),
                None if !p.alive => Err(RpcFailure::Timeout(ctx.limits.timeout)),
                None => Err(RpcFailure::NoResponse),
            };
            let excerpt = p.reply.as_ref().map(|m| {
                crate::http::redacted_excerpt(&ctx.redactor, m.to_string().as_bytes(), 512)
            });
            RpcReply {
                outcome,
                evidence: Evidence {
                    request: Some(request),
                    elapsed_ms: Some(ms(p.elapsed)),
                    body_excerpt: excerpt,
                    ..Evidence::default()
                },
                elapsed: p.elapsed,
            }
        }
    }
}

/// The stateless era's `_meta` for `version`, with `drop` keys removed.
pub(super) fn meta(version: &str, drop: &[&str]) -> Value {
    let mut m = serde_json::Map::new();
    m.insert(wire::META_PROTOCOL_VERSION.into(), json!(version));
    m.insert(wire::META_CLIENT_INFO.into(), wire::client_info());
    m.insert(wire::META_CLIENT_CAPABILITIES.into(), json!({}));
    for k in drop {
        m.remove(*k);
    }
    Value::Object(m)
}

/// Whether the connection is over HTTP (the status code is part of the rule).
pub(super) fn is_http(c: &Connected) -> bool {
    matches!(c.conn, Conn::Http(_))
}
