//! Streamable HTTP in front of the handler: what a production MCP endpoint
//! puts before its transport, in order: security headers (every response),
//! the `Origin` check (403, against DNS rebinding from a browser), the bearer
//! token (401 with `WWW-Authenticate`), then rmcp's `StreamableHttpService`,
//! which owns sessions and both protocol eras.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use http::{HeaderValue, StatusCode, header};
use rmcp::transport::streamable_http_server::StreamableHttpService;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use runway_core::Secret;
use serde_json::json;

use crate::handler::Runway;

pub(crate) struct HttpState {
    pub token: Option<Secret>,
    pub allowed_origins: Vec<String>,
    pub mcp: StreamableHttpService<Runway, LocalSessionManager>,
}

pub(crate) fn router(state: Arc<HttpState>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/mcp", any(mcp))
        .layer(from_fn(security_headers))
        .with_state(state)
}

/// Compares without stopping at the first differing byte, so timing does not leak the token.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
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

async fn mcp(State(st): State<Arc<HttpState>>, req: Request) -> Response {
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
    if let Some(token) = &st.token {
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            });
        if !presented.is_some_and(|p| same_secret(p, token.expose())) {
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
    }
    st.mcp.handle(req).await.map(Body::new)
}

/// The headers `runway verify`'s `headers` checks look for, on every response.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
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
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
