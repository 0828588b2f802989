//! Raw MCP requests for the checks that must choose every header themselves.
//!
//! The auth boundary, security headers, CORS, Origin, rate-limit and load
//! checks each send an MCP request with exactly the credentials, session and
//! `Origin` they are testing, and nothing a client library would add, retry
//! or re-initialise. They build those requests here, so the era's routing
//! headers and the request's `_meta` follow the same rules as the raw client
//! ([`super::client`]); the parameters come from [`super::wire`].

use runway_core::Era;
use serde_json::{Value, json};

use super::wire;

/// The session-era protocol version the raw requests announce when the era
/// gives none.
pub const SESSION_VERSION: &str = "2025-06-18";

/// What a raw MCP request carries besides its body.
#[derive(Debug, Default, Clone, Copy)]
pub struct RawAuth<'a> {
    /// The token: `Authorization: Bearer <token>`, or in `header` as is.
    pub bearer: Option<&'a str>,
    /// The header that carries `bearer` as is (`X-API-Key`); `None` is
    /// `Authorization: Bearer`.
    pub header: Option<&'a str>,
    /// `Mcp-Session-Id`.
    pub session: Option<&'a str>,
    /// `Origin`.
    pub origin: Option<&'a str>,
}

/// The JSON-RPC body that opens a conversation in `era`: `initialize` in the
/// session era, `server/discover` in the stateless era.
pub fn opening_body(era: &Era) -> Value {
    match era {
        Era::Stateless { .. } => json!({
            "jsonrpc": "2.0", "id": 1, "method": "server/discover",
            "params": wire::with_meta(era, json!({})),
        }),
        _ => json!({
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": wire::initialize_params(era.version().unwrap_or(SESSION_VERSION)),
        }),
    }
}

/// The header and value that carry `token`: `Authorization: Bearer <token>`,
/// or the token as is in the named `header` (`X-API-Key: <token>`). The value
/// is marked sensitive, so an HTTP library never logs it.
pub fn credential<'h>(
    header: Option<&'h str>,
    token: &str,
) -> (&'h str, reqwest::header::HeaderValue) {
    let (name, value) = match header {
        None => ("authorization", format!("Bearer {token}")),
        Some(h) => (h, token.to_owned()),
    };
    let mut value = reqwest::header::HeaderValue::from_str(&value)
        .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static(""));
    value.set_sensitive(true);
    (name, value)
}

/// A POST of `body` to `url` with the headers a streamable-HTTP MCP server expects.
pub fn mcp_post(
    client: &reqwest::Client,
    url: &url::Url,
    era: &Era,
    body: &Value,
    auth: RawAuth<'_>,
) -> reqwest::RequestBuilder {
    let mut req = client
        .post(url.clone())
        .header("content-type", "application/json")
        .header("accept", wire::ACCEPT)
        .body(body.to_string());
    if let Era::Stateless { .. } = era {
        // The stateless era routes on these headers.
        if let Some(m) = body.get("method").and_then(Value::as_str) {
            req = req.header("mcp-method", m);
        }
        if let Some(n) = body.pointer("/params/name").and_then(Value::as_str) {
            req = req.header("mcp-name", super::wire::header_value(n));
        }
    }
    if let Some(v) = era.version() {
        req = req.header("mcp-protocol-version", v);
    } else if auth.session.is_some() {
        req = req.header("mcp-protocol-version", SESSION_VERSION);
    }
    if let Some(t) = auth.bearer {
        let (name, value) = credential(auth.header, t);
        req = req.header(name, value);
    }
    if let Some(s) = auth.session {
        req = req.header("mcp-session-id", s);
    }
    if let Some(o) = auth.origin {
        req = req.header("origin", o);
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_as_a_bearer_token_or_as_is_in_a_named_header() {
        let (name, value) = credential(None, "t0k");
        assert_eq!(
            (name, value.to_str().unwrap()),
            ("authorization", "Bearer t0k")
        );
        assert!(value.is_sensitive());
        let (name, value) = credential(Some("X-API-Key"), "t0k");
        assert_eq!((name, value.to_str().unwrap()), ("X-API-Key", "t0k"));
        let client = crate::http::client(crate::http::Limits::default());
        let url = url::Url::parse("http://127.0.0.1:1/mcp").unwrap();
        let auth = RawAuth {
            bearer: Some("t0k"),
            header: Some("X-API-Key"),
            ..Default::default()
        };
        let req = mcp_post(&client, &url, &Era::Unknown, &json!({}), auth)
            .build()
            .unwrap();
        assert_eq!(req.headers()["x-api-key"], "t0k");
        assert!(req.headers().get("authorization").is_none());
    }

    #[test]
    fn the_opening_request_follows_the_era() {
        let s = opening_body(&Era::Stateless {
            version: "2026-07-28".into(),
        });
        assert_eq!(s["method"], "server/discover");
        assert_eq!(
            s["params"]["_meta"][wire::META_PROTOCOL_VERSION],
            "2026-07-28"
        );
        let i = opening_body(&Era::Unknown);
        assert_eq!(i["method"], "initialize");
        assert_eq!(i["params"]["protocolVersion"], SESSION_VERSION);
        assert_eq!(i["params"]["clientInfo"], wire::client_info());
    }

    #[test]
    fn stateless_requests_carry_their_routing_headers() {
        let client = crate::http::client(crate::http::Limits::default());
        let url = url::Url::parse("http://127.0.0.1:1/mcp").unwrap();
        let era = Era::Stateless {
            version: "2026-07-28".into(),
        };
        let body =
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo"}});
        let req = mcp_post(
            &client,
            &url,
            &era,
            &body,
            RawAuth {
                bearer: Some("t"),
                ..RawAuth::default()
            },
        )
        .build()
        .unwrap();
        let h = req.headers();
        assert_eq!(h["mcp-method"], "tools/call");
        assert_eq!(h["mcp-name"], "echo");
        assert_eq!(h["mcp-protocol-version"], "2026-07-28");
        assert_eq!(h["authorization"], "Bearer t");
    }
}
