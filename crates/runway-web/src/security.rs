//! What every response carries and what every request is held to: the
//! security headers, a time limit, and the bearer token of the writes.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::Web;

/// The pages load one stylesheet from here and nothing else: no script,
/// no frames, no form posts, no plug-ins.
pub const CSP: &str = runway_serve::headers::PAGE_CSP;

/// Whether a request that may change something comes from another site: its
/// `Origin` names a host other than the one it was sent to. Browsers send
/// `Origin` on every cross-site POST, so this refuses cross-site writes
/// whatever the token (a page elsewhere cannot drive the operator's browser).
fn foreign_origin(req: &Request) -> bool {
    if req.method() == axum::http::Method::GET || req.method() == axum::http::Method::HEAD {
        return false;
    }
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin
        .split_once("://")
        .map_or(origin, |(_, rest)| rest)
        .trim_end_matches('/');
    origin == "null" || !origin_host.eq_ignore_ascii_case(host)
}

/// Adds the security headers to every response (404s and errors too),
/// refuses cross-site writes, and cuts a request that outlives
/// [`crate::REQUEST_TIMEOUT`].
pub async fn harden(req: Request, next: Next) -> Response {
    let mut res = if foreign_origin(&req) {
        error(
            StatusCode::FORBIDDEN,
            "a request from another origin cannot change anything here",
        )
    } else {
        match tokio::time::timeout(crate::REQUEST_TIMEOUT, next.run(req)).await {
            Ok(r) => r,
            Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "the request timed out"),
        }
    };
    runway_serve::headers::apply(res.headers_mut(), CSP);
    res
}

/// The anonymous budget: a client without the write token gets
/// [`crate::Web::anonymous`] requests a second per address, then 429 with
/// `Retry-After` (a scraper or a token guesser is slowed; the operator's
/// token is never limited). A request whose address is unknown (an
/// in-process test) is not counted.
pub async fn throttle(
    axum::extract::State(web): axum::extract::State<std::sync::Arc<Web>>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(limiter) = &web.anonymous
        && !has_token(&web, req.headers())
        && let Some(ip) = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip())
        && let Err(retry) = limiter.check(ip)
    {
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests from this address: retry after the time in `Retry-After`",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry));
        runway_serve::headers::apply(r.headers_mut(), CSP);
        return r;
    }
    next.run(req).await
}

fn has_token(web: &Web, headers: &HeaderMap) -> bool {
    match (&web.token, runway_serve::auth::bearer(headers)) {
        (Some(t), Some(g)) => runway_serve::auth::same_secret(g, t.expose()),
        _ => false,
    }
}

/// The write endpoints' gate: 403 while no token is configured, 401 with
/// `WWW-Authenticate` for a missing or wrong one.
pub fn authorize(web: &Web, headers: &HeaderMap) -> Result<(), Reject> {
    let Some(token) = &web.token else {
        return Err(error(
            StatusCode::FORBIDDEN,
            "write endpoints are off: set `[web] token_env` in runway.toml to the variable holding a token",
        )
        .into());
    };
    match runway_serve::auth::bearer(headers) {
        Some(g) if runway_serve::auth::same_secret(g, token.expose()) => Ok(()),
        _ => {
            let mut r = error(
                StatusCode::UNAUTHORIZED,
                "this endpoint needs `Authorization: Bearer <token>` with the token from `[web] token_env`",
            );
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer realm="runway""#),
            );
            Err(r.into())
        }
    }
}

/// A body of `bytes` with a content type.
pub fn typed(content_type: &'static str, body: impl Into<Body>) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body.into()).into_response()
}

/// A JSON error body `{"error": message}`.
pub fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

/// A refused request, small enough to return by value (a `Response` is not).
pub struct Reject(pub Box<Response>);

impl From<Response> for Reject {
    fn from(r: Response) -> Reject {
        Reject(Box::new(r))
    }
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        *self.0
    }
}
