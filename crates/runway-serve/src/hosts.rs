//! The Host allow-list: a browser tricked by DNS rebinding sends the
//! attacker's name in `Host`, so a name the server was not told it goes by is
//! refused before any route runs.
//!
//! Allowed: the address the server listens on (any IP literal when it
//! listens on all addresses: an IP literal cannot be rebound), `localhost`,
//! and the names the operator configured. Names compare without case, a
//! trailing dot or the port.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use http::{StatusCode, header};

/// Which `Host` values a server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hosts {
    /// `None`: any IP literal (the server listens on every address).
    ip: Option<IpAddr>,
    /// Lower case, no trailing dot, no port; always holds `localhost`.
    names: Vec<String>,
}

impl Hosts {
    /// The listen address, `localhost`, and `configured` (names, or
    /// `name:port`, whose port is ignored).
    pub fn for_listener(addr: SocketAddr, configured: &[String]) -> Hosts {
        let ip = addr.ip();
        let mut names = vec!["localhost".to_owned()];
        for c in configured {
            let (name, _) = split_port(c.trim());
            let name = normalize(name);
            if !name.is_empty() && !names.contains(&name) {
                names.push(name);
            }
        }
        Hosts {
            ip: (!ip.is_unspecified()).then_some(ip),
            names,
        }
    }

    /// Whether a request with this `Host` header value is served.
    pub fn allows(&self, host: &str) -> bool {
        let (name, port) = split_port(host.trim());
        if port.is_some_and(|p| p.parse::<u16>().is_err()) {
            return false;
        }
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            // An IPv6 literal must be bracketed in `Host`.
            if ip.is_ipv6() && !name.starts_with('[') {
                return false;
            }
            return self.ip.is_none_or(|own| own == ip);
        }
        let name = normalize(name);
        self.names.contains(&name)
    }

    /// The names allowed besides IP literals, for an error message.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// `host[:port]` or `[v6][:port]` into the host and the port text.
fn split_port(s: &str) -> (&str, Option<&str>) {
    if s.starts_with('[') {
        return match s.find(']') {
            Some(end) => {
                let rest = &s[end + 1..];
                (&s[..=end], rest.strip_prefix(':'))
            }
            None => (s, None),
        };
    }
    match s.rsplit_once(':') {
        // More than one colon and no brackets: a bare IPv6 address, no port.
        Some((h, _)) if h.contains(':') => (s, None),
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    }
}

/// Wraps `app` so every request (every route and the fallback) passes the
/// allow-list first.
pub(crate) fn guard(app: axum::Router, hosts: Arc<Hosts>) -> axum::Router {
    app.layer(from_fn_with_state(hosts, check))
}

async fn check(State(hosts): State<Arc<Hosts>>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .map(|v| v.to_str().map_err(|_| ()));
    match host {
        Some(Ok(h)) if hosts.allows(h) => next.run(req).await,
        Some(Ok(h)) => {
            tracing::debug!("refused a request for host `{h}`");
            refusal(
                StatusCode::FORBIDDEN,
                &format!(
                    "this server does not answer to the `Host` it was sent (DNS rebinding guard); it answers to its own address and {}",
                    hosts
                        .names()
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        }
        Some(Err(())) => refusal(StatusCode::BAD_REQUEST, "the `Host` header is not text"),
        None => refusal(StatusCode::BAD_REQUEST, "the request has no `Host` header"),
    }
}

fn refusal(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({"error": "forbidden_host", "error_description": message});
    let mut resp = axum::response::IntoResponse::into_response((
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    ));
    crate::headers::apply(resp.headers_mut(), crate::headers::API_CSP);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(addr: &str, configured: &[&str]) -> Hosts {
        let configured: Vec<String> = configured.iter().map(|s| s.to_string()).collect();
        Hosts::for_listener(addr.parse().unwrap(), &configured)
    }

    #[test]
    fn the_listen_address_localhost_and_configured_names_pass() {
        let h = hosts(
            "127.0.0.1:8787",
            &["Status.Example.com:443", "ops.internal."],
        );
        for ok in [
            "127.0.0.1:8787",
            "127.0.0.1",
            "localhost:8787",
            "LOCALHOST",
            "status.example.com",
            "status.example.com.:8443",
            "ops.internal",
        ] {
            assert!(h.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8787",
            "127.0.0.2:8787",
            "[::1]:8787",
            "localhost.evil.example",
            "127.0.0.1:notaport",
            "",
        ] {
            assert!(!h.allows(bad), "{bad}");
        }
    }

    #[test]
    fn every_address_allows_ip_literals_but_not_unknown_names() {
        let h = hosts("0.0.0.0:80", &[]);
        assert!(h.allows("10.1.2.3:80"));
        assert!(h.allows("[2001:db8::1]:80"));
        assert!(!h.allows("2001:db8::1"));
        assert!(!h.allows("rebind.attacker.example"));
        let v6 = hosts("[::1]:9000", &[]);
        assert!(v6.allows("[::1]:9000"));
        assert!(!v6.allows("127.0.0.1:9000"));
    }
}
