//! The auth boundary of `/mcp`: what a request without, with a wrong, or with
//! a smuggled token gets, and whether the server says where to get a token
//! (RFC 9728 protected resource metadata).
//!
//! These checks speak raw HTTP on purpose: an MCP client library would attach
//! the token, retry or re-initialise, and hide exactly what is being tested.

use std::time::Instant;

use runway_core::{CheckResult, Era};

use super::{describe, needs_http, observed, send, unreachable};
use crate::{
    context::{AuthScheme, Context},
    http::Observed,
    mcp::raw::{RawAuth, mcp_post, opening_body},
};

/// The `resource_metadata` parameter of a `WWW-Authenticate: Bearer ...` header.
pub fn resource_metadata_param(header: &str) -> Option<String> {
    let lower = header.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("resource_metadata") {
        let start = from + i;
        from = start + "resource_metadata".len();
        // A whole parameter name, not the tail of another.
        if start > 0 && !matches!(lower.as_bytes()[start - 1], b' ' | b',' | b'\t') {
            continue;
        }
        let rest = header[from..].trim_start();
        let Some(rest) = rest.strip_prefix('=') else {
            continue;
        };
        let rest = rest.trim_start();
        return if let Some(q) = rest.strip_prefix('"') {
            q.find('"').map(|end| q[..end].to_owned())
        } else {
            let end = rest.find([',', ' ']).unwrap_or(rest.len());
            Some(rest[..end].to_owned())
        };
    }
    None
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Runs every `auth.*` check against the MCP endpoint.
pub async fn run(ctx: &Context, client: &reqwest::Client, era: &Era) -> Vec<CheckResult> {
    let Some(url) = ctx.url().cloned() else {
        return vec![needs_http("auth.no_token")];
    };
    let body = opening_body(era);
    let request = describe("POST", &url);
    let mut out = Vec::new();
    if *era == Era::LegacySse {
        out.push(legacy_stream(ctx, client, &url).await);
    }

    // 1. No token at all.
    let started = Instant::now();
    let no_token = match send(
        ctx,
        client,
        mcp_post(client, &url, era, &body, RawAuth::default()),
    )
    .await
    {
        Ok(o) => o,
        Err(e) => {
            out.push(unreachable(ctx, "auth.no_token", &request, &e, started));
            return out;
        }
    };
    let requires_auth = no_token.status == 401;
    let custom = ctx.auth_header.is_some();
    let r = match (no_token.status, ctx.token.is_some()) {
        (401, _) => CheckResult::pass("auth.no_token", "a request without a token gets 401"),
        // The environment says the server authenticates: an open endpoint
        // contradicts the operator's own declaration.
        (s, has_token)
            if is_success(s) && (has_token || ctx.auth != crate::context::AuthScheme::Unknown) =>
        {
            CheckResult::fail(
                "auth.no_token",
                format!(
                    "a request without a token gets {s}: the endpoint is open, though {}",
                    if ctx.auth != crate::context::AuthScheme::Unknown {
                        format!("the environment declares {}", ctx.setting(None, "auth"))
                    } else {
                        "a token was given for it".to_owned()
                    }
                ),
                format!(
                    "require {} in front of the MCP endpoint (check the proxy or middleware order), or remove the auth declaration if the server is meant to be public",
                    ctx.token_header_label()
                ),
            )
        }
        (s, false) if is_success(s) => CheckResult::warn(
            "auth.no_token",
            format!("a request without a token gets {s}: the server is open to anyone"),
            format!(
                "if the server is public this is expected; otherwise require {} and pass the token with {}",
                ctx.token_header_label(),
                ctx.setting(Some("--token-env"), "token_env")
            ),
        ),
        (403, _) => CheckResult::warn(
            "auth.no_token",
            "a request without a token gets 403, not 401",
            "answer 401 with `WWW-Authenticate: Bearer` so clients know to authenticate",
        ),
        (s, _) => CheckResult::fail(
            "auth.no_token",
            format!("a request without a token gets {s}, expected 401"),
            format!(
                "the auth middleware is not in front of `/mcp`: require {} before any MCP handling",
                ctx.token_header_label()
            ),
        ),
    };
    out.push(observed(ctx, r, &no_token, &request, started));

    // 2. The 401 must say how to authenticate.
    let www = no_token.header("www-authenticate").map(str::to_owned);
    out.push(if !requires_auth {
        CheckResult::skip("auth.www_authenticate", "no 401 to inspect")
    } else if custom {
        // A token in a header of its own (`X-API-Key`) is no Bearer scheme:
        // any challenge will do, and HTTP asks for one with every 401.
        let r = match &www {
            Some(v) => CheckResult::pass(
                "auth.www_authenticate",
                format!("the 401 carries `WWW-Authenticate: {}`", ctx.redactor.redact(v)),
            ),
            None => CheckResult::warn(
                "auth.www_authenticate",
                "the 401 has no `WWW-Authenticate` header",
                format!("send a challenge with every 401 naming how to authenticate (RFC 9110 section 15.5.2), such as `WWW-Authenticate: ApiKey header=\"{}\"`", ctx.auth_header.as_deref().unwrap_or_default()),
            ),
        };
        observed(ctx, r, &no_token, &request, started)
    } else {
        let r = match &www {
            Some(v) if v.trim_start().to_ascii_lowercase().starts_with("bearer") => {
                CheckResult::pass("auth.www_authenticate", "the 401 carries `WWW-Authenticate: Bearer`")
            }
            Some(v) => CheckResult::fail(
                "auth.www_authenticate",
                format!("`WWW-Authenticate` is `{}`, not a Bearer challenge", ctx.redactor.redact(v)),
                "send `WWW-Authenticate: Bearer resource_metadata=\"<metadata URL>\"` with every 401",
            ),
            None => CheckResult::fail(
                "auth.www_authenticate",
                "the 401 has no `WWW-Authenticate` header",
                "send `WWW-Authenticate: Bearer resource_metadata=\"<metadata URL>\"` with every 401 (RFC 6750, MCP authorization)",
            ),
        };
        observed(ctx, r, &no_token, &request, started)
    });

    // 3. Protected resource metadata (RFC 9728).
    if requires_auth {
        out.push(resource_metadata(ctx, client, &url, www.as_deref()).await);
    } else {
        out.push(CheckResult::skip(
            "auth.resource_metadata",
            "the server does not require a token",
        ));
    }

    let Some(token) = ctx.token.clone() else {
        for id in [
            "auth.wrong_token",
            "auth.valid_token",
            "auth.query_token",
            "auth.session_without_token",
        ] {
            out.push(CheckResult::skip(
                id,
                format!(
                    "no token given ({})",
                    ctx.setting(Some("--token-env"), "token_env")
                ),
            ));
        }
        return out;
    };
    let token = token.expose();

    // 4. A wrong token.
    let started = Instant::now();
    let wrong = format!("runway-wrong-{}", uuid::Uuid::new_v4().simple());
    out.push(
        match send(ctx, client, mcp_post(client, &url, era, &body, RawAuth { bearer: Some(&wrong), header: ctx.auth_header.as_deref(), ..Default::default() })).await {
            Err(e) => unreachable(ctx, "auth.wrong_token", &request, &e, started),
            Ok(o) => {
                let r = match o.status {
                    401 => CheckResult::pass("auth.wrong_token", "a wrong token gets 401"),
                    403 => CheckResult::warn(
                        "auth.wrong_token",
                        "a wrong token gets 403, not 401",
                        "answer 401 for an invalid token; 403 means a valid token without the needed scope",
                    ),
                    s => CheckResult::fail(
                        "auth.wrong_token",
                        format!("a wrong token gets {s}, expected 401"),
                        "the server does not validate tokens: check signature/issuer/audience validation or the token comparison",
                    ),
                };
                observed(ctx, r, &o, &request, started)
            }
        },
    );

    // 5. The right token.
    let started = Instant::now();
    let mut session: Option<String> = None;
    out.push(
        match send(ctx, client, mcp_post(client, &url, era, &body, RawAuth { bearer: Some(token), header: ctx.auth_header.as_deref(), ..Default::default() })).await {
            Err(e) => unreachable(ctx, "auth.valid_token", &request, &e, started),
            Ok(o) => {
                session = o.header("mcp-session-id").map(str::to_owned);
                let r = match o.status {
                    401 | 403 => CheckResult::fail(
                        "auth.valid_token",
                        format!("the configured token gets {}", o.status),
                        "the token is rejected: check it is current, for this environment, and has the required scopes",
                    ),
                    s => CheckResult::pass("auth.valid_token", format!("the configured token gets {s}")),
                };
                observed(ctx, r, &o, &request, started)
            }
        },
    );

    // 6. The token in the query string instead of the header.
    let started = Instant::now();
    let mut q = url.clone();
    q.query_pairs_mut().append_pair("access_token", token);
    let q_request = describe("POST", &q);
    out.push(
        match send(ctx, client, mcp_post(client, &q, era, &body, RawAuth::default())).await {
            Err(e) => unreachable(ctx, "auth.query_token", &q_request, &e, started),
            Ok(o) => {
                let r = if is_success(o.status) {
                    CheckResult::fail(
                        "auth.query_token",
                        format!("a token in the query string (`?access_token=`) gets {}", o.status),
                        format!("accept tokens only in the {} header: URLs end up in logs and browser history (OAuth 2.1, MCP authorization)", ctx.token_header_label()),
                    )
                } else {
                    CheckResult::pass(
                        "auth.query_token",
                        format!("a token in the query string gets {}", o.status),
                    )
                };
                observed(ctx, r, &o, &q_request, started)
            }
        },
    );

    // 7. A live session id without the token. A server that answered the
    // stateless opening may still run sessions: ask for one the session way.
    if session.is_none() && matches!(era, Era::Stateless { .. }) {
        let raw = RawAuth {
            bearer: Some(token),
            header: ctx.auth_header.as_deref(),
            ..Default::default()
        };
        let init = opening_body(&Era::Unknown);
        if let Ok(o) = send(
            ctx,
            client,
            mcp_post(client, &url, &Era::Unknown, &init, raw),
        )
        .await
        {
            session = o.header("mcp-session-id").map(str::to_owned);
        }
    }
    out.push(match session {
        None => CheckResult::skip(
            "auth.session_without_token",
            "the server issued no `Mcp-Session-Id`",
        ),
        Some(sid) => session_without_token(ctx, client, &url, token, &sid).await,
    });
    out
}

async fn session_without_token(
    ctx: &Context,
    client: &reqwest::Client,
    url: &url::Url,
    token: &str,
    sid: &str,
) -> CheckResult {
    let id = "auth.session_without_token";
    // Sessions belong to the session era, whatever era the server prefers.
    let era = &Era::Unknown;
    let with_token = RawAuth {
        bearer: Some(token),
        header: ctx.auth_header.as_deref(),
        session: Some(sid),
        origin: None,
    };
    // Complete the handshake so that a server that accepts the request is
    // accepting it for the session, not rejecting it as premature.
    let initialized = serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let _ = send(
        ctx,
        client,
        mcp_post(client, url, era, &initialized, with_token),
    )
    .await;
    let started = Instant::now();
    let list = serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}});
    let request = format!(
        "{} (Mcp-Session-Id, no {})",
        describe("POST", url),
        ctx.auth_header.as_deref().unwrap_or("Authorization")
    );
    let anonymous = RawAuth {
        session: Some(sid),
        ..Default::default()
    };
    let r = match send(ctx, client, mcp_post(client, url, era, &list, anonymous)).await {
        Err(e) => unreachable(ctx, id, &request, &e, started),
        Ok(o) => {
            let r = match o.status {
                401 | 403 => CheckResult::pass(
                    id,
                    format!("a session id without a token gets {}", o.status),
                ),
                s if is_success(s) => CheckResult::fail(
                    id,
                    format!(
                        "a session id without a token gets {s}: the session id works as a credential"
                    ),
                    "authenticate every request, not just `initialize`: a leaked session id must not grant access",
                ),
                s => CheckResult::warn(
                    id,
                    format!("a session id without a token gets {s}, expected 401"),
                    "answer 401 to any request without a valid token, session or not",
                ),
            };
            observed(ctx, r, &o, &request, started)
        }
    };
    // Leave nothing behind on the server.
    let (name, value) = crate::mcp::raw::credential(ctx.auth_header.as_deref(), token);
    let _ = send(
        ctx,
        client,
        client
            .delete(url.clone())
            .header(name, value)
            .header("mcp-session-id", sid),
    )
    .await;
    r
}

/// RFC 9728 metadata URLs to try, best first.
fn metadata_urls(url: &url::Url, www: Option<&str>) -> Vec<url::Url> {
    let mut out = Vec::new();
    if let Some(u) = www
        .and_then(resource_metadata_param)
        .and_then(|p| url.join(&p).ok())
    {
        out.push(u);
    }
    let path = url.path().trim_end_matches('/');
    if !path.is_empty()
        && let Ok(u) = url.join(&format!("/.well-known/oauth-protected-resource{path}"))
    {
        out.push(u);
    }
    if let Ok(u) = url.join("/.well-known/oauth-protected-resource") {
        out.push(u);
    }
    out.dedup();
    out
}

async fn resource_metadata(
    ctx: &Context,
    client: &reqwest::Client,
    url: &url::Url,
    www: Option<&str>,
) -> CheckResult {
    let id = "auth.resource_metadata";
    let started = Instant::now();
    // RFC 9728 metadata is required only of a server that does OAuth: one
    // whose 401 points to it, or one the environment says does.
    let named = www.and_then(resource_metadata_param).is_some();
    let required = match ctx.auth {
        AuthScheme::OAuth => true,
        AuthScheme::Bearer => false,
        AuthScheme::Unknown => named,
    };
    let mut last: Option<(Observed, String)> = None;
    for candidate in metadata_urls(url, www) {
        let request = describe("GET", &candidate);
        let o = match send(
            ctx,
            client,
            client
                .get(candidate.clone())
                .header("accept", "application/json"),
        )
        .await
        {
            Ok(o) => o,
            Err(e) => return unreachable(ctx, id, &request, &e, started),
        };
        if o.status == 404 {
            last = Some((o, request));
            continue;
        }
        let r = judge_metadata(url, &candidate, &o);
        return observed(ctx, r, &o, &request, started);
    }
    let r = if required {
        CheckResult::fail(
            id,
            if named {
                "no protected resource metadata: the `resource_metadata` URL of `WWW-Authenticate` and `/.well-known/oauth-protected-resource` are missing"
            } else {
                "no protected resource metadata at `/.well-known/oauth-protected-resource`, and the environment says the server does OAuth"
            },
            "serve RFC 9728 metadata naming your authorization server, and point to it from `WWW-Authenticate`; clients cannot discover how to log in otherwise",
        )
    } else {
        CheckResult::skip(
            id,
            format!(
                "no OAuth protected resource metadata: fine for a static bearer token (set {} if the server does OAuth)",
                ctx.setting(None, "auth = \"oauth\"")
            ),
        )
    };
    match last {
        Some((o, request)) => observed(ctx, r, &o, &request, started),
        None => r.with_duration_ms(super::ms(started)),
    }
}

fn judge_metadata(url: &url::Url, at: &url::Url, o: &Observed) -> CheckResult {
    let id = "auth.resource_metadata";
    if !is_success(o.status) {
        return CheckResult::fail(
            id,
            format!("`{at}` answered {}", o.status),
            "serve RFC 9728 metadata at that URL with status 200",
        );
    }
    let Some(json) = o.json() else {
        return CheckResult::fail(
            id,
            format!("`{at}` is not JSON"),
            "serve RFC 9728 metadata as `application/json`",
        );
    };
    let servers: Vec<&str> = json
        .get("authorization_servers")
        .and_then(|a| a.as_array())
        .map(|a| a.iter().filter_map(|s| s.as_str()).collect())
        .unwrap_or_default();
    if servers.is_empty() {
        return CheckResult::fail(
            id,
            format!("`{at}` names no `authorization_servers`"),
            "list the issuer URL of your authorization server in `authorization_servers`",
        );
    }
    let resource = json.get("resource").and_then(|r| r.as_str());
    match resource {
        Some(r) if !names_endpoint(r, url) => CheckResult::warn(
            id,
            format!("metadata `resource` is `{r}`, not the endpoint `{url}`"),
            "set `resource` to the exact MCP endpoint URL so clients request tokens for the right audience",
        ),
        None => CheckResult::warn(
            id,
            "metadata has no `resource`",
            "RFC 9728 requires `resource`: set it to the MCP endpoint URL",
        ),
        Some(_) => CheckResult::pass(
            id,
            format!(
                "metadata at `{at}` names authorization server `{}`",
                servers[0]
            ),
        ),
    }
}

/// Whether the metadata's `resource` names the endpoint `url`: the same
/// URL (scheme and host in any case, the default port written or not, a
/// trailing slash or not), or the same without the endpoint's query, which
/// RFC 8707 section 2 (the MCP specification's "Canonical Server URI") says
/// a resource identifier should not carry: servers configured through query
/// parameters (`/mcp?api_key=...`, `?profile=...`) declare their path alone.
fn names_endpoint(resource: &str, url: &url::Url) -> bool {
    let Ok(r) = url::Url::parse(resource.trim()) else {
        return false;
    };
    let path = |u: &url::Url| u.path().trim_end_matches('/').to_owned();
    r.scheme() == url.scheme()
        && r.host_str() == url.host_str()
        && r.port_or_known_default() == url.port_or_known_default()
        && path(&r) == path(url)
        && (r.query().is_none() || r.query() == url.query())
        && r.fragment().is_none()
}

/// `auth.legacy_sse_stream`: on the deprecated HTTP+SSE transport the `GET`
/// stream is the session; opened without a token, it must be refused. Open
/// is a failure where a token or `auth` says the server authenticates, a
/// warning otherwise.
async fn legacy_stream(ctx: &Context, client: &reqwest::Client, url: &url::Url) -> CheckResult {
    let id = "auth.legacy_sse_stream";
    let started = Instant::now();
    let request = describe("GET", url);
    let req = match client
        .get(url.clone())
        .header("accept", "text/event-stream")
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return CheckResult::fail(
                id,
                format!("could not build the request: {e}"),
                "see the evidence",
            );
        }
    };
    let limits = crate::http::Limits {
        timeout: ctx.limits.timeout.min(std::time::Duration::from_secs(3)),
        max_body: 16 * 1024,
    };
    let stop = |_: Option<&str>, b: &[u8]| crate::mcp::wire::legacy_endpoint(b).is_some();
    let o = match crate::http::fetch_until(client, req, limits, stop).await {
        Ok(o) => o,
        Err(e) => return unreachable(ctx, id, &request, &e, started),
    };
    let declared = ctx.token.is_some() || ctx.auth != crate::context::AuthScheme::Unknown;
    let r = match o.status {
        401 | 403 => CheckResult::pass(
            id,
            format!("the `GET` stream without a token gets {}", o.status),
        ),
        s if is_success(s) && declared => CheckResult::fail(
            id,
            format!(
                "the `GET` stream (the HTTP+SSE session) opens without a token ({s}), though the server authenticates"
            ),
            "require the bearer token on the `GET` stream as on every other request",
        ),
        s if is_success(s) => CheckResult::warn(
            id,
            format!(
                "the `GET` stream (the HTTP+SSE session) opens without a token ({s}): the server is open to anyone"
            ),
            format!(
                "if the server is not public, require {} on the stream too",
                ctx.token_header_label()
            ),
        ),
        s => CheckResult::pass(
            id,
            format!("the `GET` stream without a token gets {s}, not a stream"),
        ),
    };
    observed(ctx, r, &o, &request, started)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_names_the_endpoint_with_or_without_its_query() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        let with_query = u("https://mcp.example.com/mcp?api_key=k&profile=p");
        for ok in [
            "https://mcp.example.com/mcp",
            "https://mcp.example.com/mcp/",
            "HTTPS://MCP.example.com:443/mcp",
            "https://mcp.example.com/mcp?api_key=k&profile=p",
        ] {
            assert!(names_endpoint(ok, &with_query), "{ok}");
        }
        for wrong in [
            "https://mcp.example.com",
            "https://mcp.example.com/other",
            "http://mcp.example.com/mcp",
            "https://mcp.example.com:8443/mcp",
            "https://evil.example/mcp",
            "https://mcp.example.com/mcp?api_key=other",
            "https://mcp.example.com/mcp#frag",
            "mcp.example.com/mcp",
        ] {
            assert!(!names_endpoint(wrong, &with_query), "{wrong}");
        }
        // An endpoint without a query is not named by a resource with one.
        assert!(!names_endpoint(
            "https://mcp.example.com/mcp?x=1",
            &u("https://mcp.example.com/mcp")
        ));
    }

    #[test]
    fn finds_resource_metadata_quoted_or_bare() {
        assert_eq!(
            resource_metadata_param(r#"Bearer realm="x", resource_metadata="https://a/.well-known/oauth-protected-resource""#).as_deref(),
            Some("https://a/.well-known/oauth-protected-resource")
        );
        assert_eq!(
            resource_metadata_param("Bearer resource_metadata=https://a/m, error=\"x\"").as_deref(),
            Some("https://a/m")
        );
        assert_eq!(resource_metadata_param("Bearer realm=\"x\""), None);
        assert_eq!(
            resource_metadata_param("Bearer xresource_metadata=\"u\""),
            None
        );
    }

    #[test]
    fn metadata_urls_try_the_header_then_both_well_known_forms() {
        let url = url::Url::parse("http://h:1/mcp").unwrap();
        let got: Vec<String> = metadata_urls(&url, Some("Bearer resource_metadata=\"/prm\""))
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(
            got,
            vec![
                "http://h:1/prm",
                "http://h:1/.well-known/oauth-protected-resource/mcp",
                "http://h:1/.well-known/oauth-protected-resource"
            ]
        );
    }
}
