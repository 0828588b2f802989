//! The security headers every response of Runway's servers carries: the one
//! list, so the MCP server, the dashboard and the reference server cannot
//! drift apart (and `runway verify`'s `headers` checks pass on each).

use http::{HeaderMap, HeaderName, HeaderValue, header};

/// For responses that are data, never a page: nothing may load, nothing may frame.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// For HTML pages that load one stylesheet (and images) from the server
/// itself and nothing else: no script, no frames, no form posts, no plug-ins.
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Every header but the CSP, which depends on what the server serves.
pub const HEADERS: [(HeaderName, &str); 6] = [
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::CACHE_CONTROL, "no-store"),
    (
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=31536000; includeSubDomains",
    ),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
];

/// Adds the CSP `csp` ([`API_CSP`] or [`PAGE_CSP`]) and [`HEADERS`] to a
/// response, keeping any of them the handler already set (an SSE stream's
/// own `Cache-Control`, say).
pub fn apply(h: &mut HeaderMap, csp: &'static str) {
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        );
    }
    for (name, value) in HEADERS {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_adds_every_header_and_keeps_the_handlers_own() {
        let mut h = HeaderMap::new();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        apply(&mut h, API_CSP);
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], API_CSP);
        assert_eq!(h[header::CACHE_CONTROL], "no-cache");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h.len(), 1 + HEADERS.len());
    }
}
