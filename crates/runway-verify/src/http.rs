//! Raw HTTP with hard bounds on size and time.
//!
//! Everything a remote server sends is read through [`fetch`], which stops at
//! [`Limits::max_body`] bytes and [`Limits::timeout`], so a drip-feeding or
//! endless response becomes a clean observation, never a hang.

use std::time::{Duration, Instant};

use futures::StreamExt;
use runway_core::{Evidence, Redactor};

/// Bounds applied to every request a check makes.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Whole-request deadline: connect, headers and body.
    pub timeout: Duration,
    /// Bytes of body kept; the rest is discarded and `truncated` is set.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(10),
            max_body: 1024 * 1024,
        }
    }
}

/// What came back from one request.
#[derive(Debug, Clone)]
pub struct Observed {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
    /// The body was longer than the limit (or the deadline hit mid-body).
    pub truncated: bool,
    pub elapsed: Duration,
}

/// Why no response could be observed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("request failed: {0}")]
    Other(String),
}

impl runway_core::Diagnostic for FetchError {
    fn hint(&self) -> Option<String> {
        Some(
            match self {
                FetchError::Timeout(_) => {
                    "the server did not answer in time: check that it is up and not overloaded, or raise `--timeout`"
                }
                FetchError::Connect(_) => {
                    "nothing accepted the connection: check the URL, the port and that the server is running"
                }
                FetchError::Other(_) => {
                    "the request failed before a response arrived: see the evidence"
                }
            }
            .to_owned(),
        )
    }
}

impl Observed {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// Evidence for a report: status, (redacted) headers, timing and a body excerpt.
    pub fn evidence(&self, request: &str, redactor: &Redactor) -> Evidence {
        let headers = self
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    redactor.redact_header(k.as_str(), &String::from_utf8_lossy(v.as_bytes())),
                )
            })
            .collect();
        Evidence {
            request: Some(redactor.redact(request)),
            status: Some(self.status),
            headers,
            elapsed_ms: Some(self.elapsed.as_secs_f64() * 1000.0),
            body_excerpt: Some(redacted_excerpt(redactor, &self.body, 512)),
            details: serde_json::Value::Null,
        }
    }
}

/// How far past an excerpt's cut a body is read before it is redacted: a
/// secret that starts before the cut is recognised whole when it is shorter.
pub const REDACT_WINDOW: usize = 8192;

/// The one way a server's bytes become an excerpt in a report: the first
/// `max` bytes as text, with a marker when cut, its secrets removed *before*
/// the cut. Cut first, a secret that straddles the cut would leave its head in
/// the excerpt, where the redactor no longer recognises it.
pub fn redacted_excerpt(redactor: &Redactor, body: &[u8], max: usize) -> String {
    // Past the cut, enough for any secret that starts before it; the body is bounded anyway.
    let window = &body[..body.len().min(max.saturating_add(REDACT_WINDOW))];
    let clean = redactor.redact(&String::from_utf8_lossy(window));
    let mut end = clean.len().min(max);
    while !clean.is_char_boundary(end) {
        end -= 1;
    }
    let mut s = clean[..end].to_owned();
    if body.len() > max || clean.len() > end {
        s.push_str(&format!("… ({} bytes in all)", body.len()));
    }
    s
}

/// The first `max` bytes of a body as text, with a marker when cut, and
/// nothing redacted: only for bytes that hold no secret. Whatever a server
/// answered goes through [`redacted_excerpt`].
pub fn excerpt(body: &[u8], max: usize) -> String {
    let cut = body.len() > max;
    let mut s = String::from_utf8_lossy(&body[..body.len().min(max)]).into_owned();
    if cut {
        s.push_str(&format!("… ({} bytes in all)", body.len()));
    }
    s
}

/// Sends `req` and reads at most `limits.max_body` bytes of the answer within `limits.timeout`.
pub async fn fetch(
    client: &reqwest::Client,
    req: reqwest::Request,
    limits: Limits,
) -> Result<Observed, FetchError> {
    fetch_until(client, req, limits, |_, _| false).await
}

/// [`fetch`], but stops reading as soon as `stop(content_type, body_so_far)`
/// says the body holds what the caller waits for, so a server that keeps an
/// SSE stream open after answering costs no time. Same bounds as [`fetch`].
pub async fn fetch_until(
    client: &reqwest::Client,
    req: reqwest::Request,
    limits: Limits,
    stop: impl Fn(Option<&str>, &[u8]) -> bool,
) -> Result<Observed, FetchError> {
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + limits.timeout;
    let resp = match tokio::time::timeout_at(deadline, client.execute(req)).await {
        Err(_) => return Err(FetchError::Timeout(limits.timeout)),
        Ok(Err(e)) if e.is_connect() => return Err(FetchError::Connect(error_chain(&e))),
        Ok(Err(e)) if e.is_timeout() => return Err(FetchError::Timeout(limits.timeout)),
        Ok(Err(e)) => return Err(FetchError::Other(error_chain(&e))),
        Ok(Ok(r)) => r,
    };
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    let mut truncated = false;
    let mut stream = resp.bytes_stream();
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            // The deadline hit mid-body, or the connection reset: keep what
            // arrived and let the check judge it.
            Err(_) | Ok(Some(Err(_))) => {
                truncated = true;
                break;
            }
            Ok(None) => break,
            Ok(Some(Ok(chunk))) => {
                let room = limits.max_body.saturating_sub(body.len());
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    truncated = true;
                    break;
                }
                body.extend_from_slice(&chunk);
                if stop(content_type.as_deref(), &body) {
                    break;
                }
            }
        }
    }
    Ok(Observed {
        status,
        headers,
        body,
        truncated,
        elapsed: start.elapsed(),
    })
}

/// `e` and its sources on one line, for evidence.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

/// Makes `ring` the process's rustls crypto provider, once. Runway compiles
/// no other (reqwest's `rustls-no-provider`), and reqwest panics when it
/// builds a client with none installed; the binary calls this at start-up,
/// and every client built here calls it too, so tests and library users
/// need nothing else.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // An error means another provider is already installed: keep it.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client for checks: no automatic redirects, no retries, no cookie store,
/// so what the report shows is exactly what the server did.
pub fn client(limits: Limits) -> reqwest::Client {
    client_with_roots(limits, &[])
}

/// [`client`] that also trusts the given DER root certificates (a private CA).
pub fn client_with_roots(limits: Limits, roots: &[Vec<u8>]) -> reqwest::Client {
    install_crypto_provider();
    let b = match tls_config(roots) {
        Some(tls) => reqwest::Client::builder().tls_backend_preconfigured(tls),
        None => with_roots(reqwest::Client::builder(), roots),
    };
    b.redirect(reqwest::redirect::Policy::none())
        .timeout(limits.timeout)
        .connect_timeout(limits.timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("runway/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// A client for load runs: like [`client_with_roots`] but without a per-request
/// timer of its own (the load loop puts one deadline around each request) and
/// with an idle pool as large as the number of workers.
pub fn load_client(limits: Limits, roots: &[Vec<u8>], workers: usize) -> reqwest::Client {
    install_crypto_provider();
    let b = match tls_config(roots) {
        Some(tls) => reqwest::Client::builder().tls_backend_preconfigured(tls),
        None => with_roots(reqwest::Client::builder(), roots),
    };
    b.redirect(reqwest::redirect::Policy::none())
        .connect_timeout(limits.timeout.min(Duration::from_secs(5)))
        .pool_max_idle_per_host(workers)
        .tcp_nodelay(true)
        .user_agent(concat!("runway/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// reqwest's own way to trust `roots` (it reads the platform's roots again
/// for every client).
fn with_roots(mut b: reqwest::ClientBuilder, roots: &[Vec<u8>]) -> reqwest::ClientBuilder {
    for der in roots {
        if let Ok(c) = reqwest::Certificate::from_der(der) {
            b = b.add_root_certificate(c);
        }
    }
    b
}

/// Sets of extra roots whose verifier is kept; a process that meets more
/// (it never does: one per environment at most) builds the rest afresh.
const VERIFIERS_KEPT: usize = 64;

/// TLS sessions a client keeps to resume (one per server it talked to).
const SESSIONS_KEPT: usize = 4;

/// The TLS settings reqwest would build for a client that trusts the
/// platform's roots and `roots` (rustls-platform-verifier, TLS 1.2 and 1.3,
/// SNI, ALPN `h2` then `http/1.1`), with the verifier built once per set of
/// roots and process: building it reads and parses every certificate of the
/// system's store, which made each client cost milliseconds, and `runway
/// monitor` builds one or more clients per run. `None` when the verifier
/// cannot be built (no system roots, a root that does not parse): the caller
/// then lets reqwest build its own, so errors stay what they were.
fn tls_config(roots: &[Vec<u8>]) -> Option<rustls::ClientConfig> {
    let provider = rustls::crypto::CryptoProvider::get_default()?.clone();
    let mut tls = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .ok()?
        .dangerous()
        .with_custom_certificate_verifier(verifier(roots, provider)?)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // A client lives for one run and talks to one server: rustls's default
    // cache of 256 servers' sessions, allocated up front for every client,
    // was a tenth of `runway monitor`'s heap at 1,000 environments.
    tls.resumption = rustls::client::Resumption::in_memory_sessions(SESSIONS_KEPT);
    Some(tls)
}

/// The platform verifier trusting `roots` too, built on first use per set of roots.
fn verifier(
    roots: &[Vec<u8>],
    provider: std::sync::Arc<rustls::crypto::CryptoProvider>,
) -> Option<std::sync::Arc<rustls_platform_verifier::Verifier>> {
    type Kept = Vec<(
        Vec<Vec<u8>>,
        std::sync::Arc<rustls_platform_verifier::Verifier>,
    )>;
    static VERIFIERS: std::sync::Mutex<Kept> = std::sync::Mutex::new(Vec::new());
    if let Some(v) = VERIFIERS
        .lock()
        .ok()
        .and_then(|v| v.iter().find(|(r, _)| r == roots).map(|(_, v)| v.clone()))
    {
        return Some(v);
    }
    // reqwest skips a root that does not parse as a certificate.
    let extra: Vec<rustls::pki_types::CertificateDer<'static>> = roots
        .iter()
        .filter(|der| reqwest::Certificate::from_der(der).is_ok())
        .map(|der| rustls::pki_types::CertificateDer::from(der.clone()))
        .collect();
    let v = std::sync::Arc::new(if extra.is_empty() {
        rustls_platform_verifier::Verifier::new(provider).ok()?
    } else {
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider).ok()?
    });
    if let Ok(mut all) = VERIFIERS.lock()
        && all.len() < VERIFIERS_KEPT
    {
        all.push((roots.to_vec(), v.clone()));
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// An HTTPS server on 127.0.0.1 with a fresh self-signed certificate,
    /// answering every request 200 `ok`: its port and the certificate.
    async fn https_server() -> (u16, Vec<u8>, tokio::task::JoinHandle<()>) {
        use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
        install_crypto_provider();
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let der = cert.der().to_vec();
        let provider = rustls::crypto::CryptoProvider::get_default()
            .unwrap()
            .clone();
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(server));
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            for _ in 0..10 {
                let Ok((s, _)) = l.accept().await else { break };
                let a = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut s) = a.accept(s).await else { return };
                    let mut buf = [0u8; 2048];
                    let _ = s.read(&mut buf).await;
                    let _ = s
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                        )
                        .await;
                    let _ = s.shutdown().await;
                });
            }
        });
        (port, der, task)
    }

    #[tokio::test]
    async fn check_clients_share_one_verifier_and_still_trust_exactly_their_roots() {
        let (port, der, task) = https_server().await;
        let url = format!("https://127.0.0.1:{port}/health");
        let limits = Limits {
            timeout: Duration::from_secs(5),
            ..Limits::default()
        };
        // Trusted through the extra root, on two clients in a row.
        for _ in 0..2 {
            let r = client_with_roots(limits, std::slice::from_ref(&der))
                .get(&url)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.text().await.unwrap(), "ok");
        }
        // Without it the certificate is refused.
        let e = client(limits).get(&url).send().await.unwrap_err();
        let chain = error_chain(&e);
        assert!(chain.to_lowercase().contains("certificate"), "{chain}");
        // The verifier (the parsed system roots) was built once per set of roots.
        let provider = rustls::crypto::CryptoProvider::get_default()
            .unwrap()
            .clone();
        let a = verifier(std::slice::from_ref(&der), provider.clone()).unwrap();
        let b = verifier(std::slice::from_ref(&der), provider.clone()).unwrap();
        assert!(std::sync::Arc::ptr_eq(&a, &b));
        let none = verifier(&[], provider).unwrap();
        assert!(!std::sync::Arc::ptr_eq(&a, &none));
        task.abort();
    }

    /// A raw TCP server that answers with `head` and then drips `body_chunks` slowly.
    async fn drip_server(
        head: &'static str,
        chunks: usize,
        delay: Duration,
    ) -> std::net::SocketAddr {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            if let Ok((mut s, _)) = l.accept().await {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(head.as_bytes()).await;
                for _ in 0..chunks {
                    if s.write_all(b"x").await.is_err() {
                        break;
                    }
                    tokio::time::sleep(delay).await;
                }
            }
        });
        addr
    }

    #[tokio::test]
    async fn body_is_capped_at_the_limit() {
        let addr = drip_server(
            "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n",
            100,
            Duration::ZERO,
        )
        .await;
        let c = client(Limits::default());
        let req = c.get(format!("http://{addr}/")).build().unwrap();
        let o = fetch(
            &c,
            req,
            Limits {
                timeout: Duration::from_secs(5),
                max_body: 10,
            },
        )
        .await
        .unwrap();
        assert_eq!(o.status, 200);
        assert_eq!(o.body.len(), 10);
        assert!(o.truncated);
    }

    #[tokio::test]
    async fn a_slow_drip_stops_at_the_deadline() {
        let addr = drip_server(
            "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n",
            1000,
            Duration::from_millis(50),
        )
        .await;
        let c = client(Limits::default());
        let req = c.get(format!("http://{addr}/")).build().unwrap();
        let start = Instant::now();
        let o = fetch(
            &c,
            req,
            Limits {
                timeout: Duration::from_millis(300),
                max_body: 1 << 20,
            },
        )
        .await
        .unwrap();
        assert!(o.truncated);
        assert!(o.body.len() < 1000);
        assert!(start.elapsed() < Duration::from_secs(3));
    }

    #[tokio::test]
    async fn an_unreachable_port_is_a_connect_error() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        let c = client(Limits::default());
        let req = c.get(format!("http://{addr}/")).build().unwrap();
        let e = fetch(&c, req, Limits::default()).await.unwrap_err();
        assert!(matches!(e, FetchError::Connect(_)), "{e:?}");
    }

    #[test]
    fn a_secret_cut_by_the_excerpt_does_not_leave_its_head_behind() {
        let mut r = Redactor::new();
        r.add(&runway_core::Secret::new("rw-secret-7f3a9c2e51d84b06aa"));
        // The secret starts 10 bytes before the 512-byte cut.
        let body = format!("{}rw-secret-7f3a9c2e51d84b06aa and more", "x".repeat(502));
        let plain = r.redact(&excerpt(body.as_bytes(), 512));
        assert!(
            plain.contains("rw-secret-"),
            "the old order leaks a head: {plain}"
        );
        let ex = redacted_excerpt(&r, body.as_bytes(), 512);
        assert!(!ex.contains("rw-secret"), "{ex}");
        assert!(
            ex.ends_with(&format!("… ({} bytes in all)", body.len())),
            "{ex}"
        );
        assert_eq!(redacted_excerpt(&r, b"short", 512), "short");
    }

    #[test]
    fn evidence_redacts_secrets_and_authorization() {
        let mut r = Redactor::new();
        r.add(&runway_core::Secret::new("tok-123456"));
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "www-authenticate",
            "Bearer realm=\"tok-123456\"".parse().unwrap(),
        );
        let o = Observed {
            status: 401,
            headers,
            body: b"bad token tok-123456".to_vec(),
            truncated: false,
            elapsed: Duration::from_millis(3),
        };
        let ev = o.evidence("POST /mcp Authorization: Bearer tok-123456", &r);
        let all = serde_json::to_string(&ev).unwrap();
        assert!(!all.contains("tok-123456"), "{all}");
        assert_eq!(ev.status, Some(401));
    }
}
