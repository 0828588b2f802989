//! Streamable HTTP in front of the handler: what a production MCP endpoint
//! puts before its transport, in order: security headers (every response,
//! `runway_serve::headers`), the `Origin` check (403, against DNS rebinding
//! from a browser), the anonymous rate limit (429, before the token, so a
//! guesser is throttled), the bearer token (401 with `WWW-Authenticate`),
//! the JSON-RPC envelope of a POST (400 with -32700 or -32600, where rmcp
//! would answer a bare 415), then rmcp's `StreamableHttpService`, which owns
//! sessions and both protocol eras. The accept loop (header deadline,
//! connection cap, Host allow-list) is `runway_serve::serve`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use http::{HeaderValue, Method, StatusCode, header};
use rmcp::transport::streamable_http_server::session::SessionManager as _;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{SessionId, StreamableHttpService};
use runway_core::Secret;
use runway_serve::{ConnectionId, Limiter, auth};
use serde_json::json;

use crate::handler::Runway;
use crate::plans::Binding;

pub(crate) struct HttpState {
    pub token: Option<Secret>,
    pub allowed_origins: Vec<String>,
    pub anonymous: Limiter,
    pub sessions: Arc<LocalSessionManager>,
    pub mcp: StreamableHttpService<Runway, LocalSessionManager>,
}

pub(crate) fn router(state: Arc<HttpState>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/mcp", any(mcp))
        .layer(from_fn(security_headers))
        .with_state(state)
}

fn normalize_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}

async fn health() -> Response {
    json_response(
        StatusCode::OK,
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}),
    )
}

async fn mcp(State(st): State<Arc<HttpState>>, mut req: Request) -> Response {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let allowed = origin.to_str().is_ok_and(|o| {
            let o = normalize_origin(o);
            st.allowed_origins.iter().any(|a| normalize_origin(a) == o)
        });
        if !allowed {
            return json_response(
                StatusCode::FORBIDDEN,
                json!({"error": "forbidden", "error_description": "this `Origin` is not allowed"}),
            );
        }
    }
    // The one configured token is identity 0; more tokens would get their own.
    let token = match &st.token {
        None => None,
        Some(t)
            if auth::bearer(req.headers()).is_some_and(|p| auth::same_secret(p, t.expose())) =>
        {
            Some(0)
        }
        Some(_) => {
            let peer = req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip());
            if let Some(ip) = peer
                && let Err(retry) = st.anonymous.check(ip)
            {
                let mut resp = json_response(
                    StatusCode::TOO_MANY_REQUESTS,
                    json!({"error": "rate_limited", "retry_after": retry}),
                );
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry));
                return resp;
            }
            let mut resp = json_response(
                StatusCode::UNAUTHORIZED,
                json!({
                    "error": "invalid_token",
                    "error_description": "`/mcp` needs `Authorization: Bearer <token>`",
                }),
            );
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"runway\""),
            );
            return resp;
        }
    };
    // A session id counts only when it names a live session the server issued.
    let session = match req
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
    {
        Some(id) => {
            let id: SessionId = id.to_owned().into();
            st.sessions
                .has_session(&id)
                .await
                .unwrap_or(false)
                .then(|| id.to_string())
        }
        None => None,
    };
    let binding = match session {
        Some(session) => Binding::Session { token, session },
        None => Binding::Connection {
            token,
            connection: req.extensions().get::<ConnectionId>().map_or(0, |c| c.0),
        },
    };
    req.extensions_mut()
        .insert(crate::plans::HttpCaller(binding));
    if req.method() == Method::POST {
        let (parts, body) = req.into_parts();
        let message = match runway_serve::jsonrpc::read(body).await {
            Ok(m) => m,
            Err(refusal) => return refusal,
        };
        req = Request::from_parts(parts, Body::from(message.bytes));
    }
    let resp = st.mcp.handle(req).await.map(Body::new);
    runway_serve::jsonrpc::with_server_info(resp, "runway", env!("CARGO_PKG_VERSION")).await
}

/// The headers `runway verify`'s `headers` checks look for, on every response.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    runway_serve::headers::apply(resp.headers_mut(), runway_serve::headers::API_CSP);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_without_case_or_trailing_slash() {
        assert_eq!(
            normalize_origin("HTTP://127.0.0.1:8080/"),
            "http://127.0.0.1:8080"
        );
    }
}
