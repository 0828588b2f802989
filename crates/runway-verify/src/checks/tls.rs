//! TLS: does the certificate chain verify for the host, and how long until it expires.
//!
//! The handshake is done here with rustls directly rather than through the
//! HTTP client so that the report can show the certificate (subject, issuer,
//! expiry) even when verification fails, which is when it matters most.

use std::{sync::Arc, time::Instant};

use runway_core::{CheckResult, Evidence};
use rustls::{
    DigitallySignedStruct, SignatureScheme,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::CryptoProvider,
    pki_types::{CertificateDer, ServerName, UnixTime},
};

use super::ms;
use crate::context::Context;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A verifier that accepts any chain: used only to read the certificate after
/// real verification failed, never to send data.
#[derive(Debug)]
struct ReadOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for ReadOnly {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn config(ctx: &Context, verify: bool) -> Result<rustls::ClientConfig, String> {
    let p = provider();
    let b = rustls::ClientConfig::builder_with_provider(p.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    Ok(if verify {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for der in &ctx.extra_roots {
            roots
                .add(CertificateDer::from(der.clone()))
                .map_err(|e| format!("an extra root certificate is invalid: {e}"))?;
        }
        b.with_root_certificates(roots).with_no_client_auth()
    } else {
        b.dangerous()
            .with_custom_certificate_verifier(Arc::new(ReadOnly(p)))
            .with_no_client_auth()
    })
}

/// Handshakes with `host:port`; returns the peer's chain (leaf first).
async fn handshake(
    ctx: &Context,
    host: &str,
    port: u16,
    verify: bool,
) -> Result<Vec<CertificateDer<'static>>, String> {
    let name = ServerName::try_from(
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
    )
    .map_err(|e| format!("`{host}` is not a valid TLS server name: {e}"))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config(ctx, verify)?));
    let work = async {
        let tcp = tokio::net::TcpStream::connect((
            host.trim_start_matches('[').trim_end_matches(']'),
            port,
        ))
        .await
        .map_err(|e| format!("could not connect: {e}"))?;
        let tls = connector
            .connect(name, tcp)
            .await
            .map_err(|e| crate::http::error_chain(&e))?;
        Ok(tls
            .get_ref()
            .1
            .peer_certificates()
            .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
            .unwrap_or_default())
    };
    match tokio::time::timeout(ctx.limits.timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "the TLS handshake timed out after {:?}",
            ctx.limits.timeout
        )),
    }
}

/// What the leaf certificate says.
struct Leaf {
    subject: String,
    issuer: String,
    not_after: chrono::DateTime<chrono::Utc>,
}

fn leaf(chain: &[CertificateDer<'_>]) -> Option<Leaf> {
    let (_, cert) = x509_parser::parse_x509_certificate(chain.first()?.as_ref()).ok()?;
    Some(Leaf {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_after: chrono::DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)?,
    })
}

/// `tls.chain` and `tls.expiry`.
pub async fn run(ctx: &Context) -> Vec<CheckResult> {
    let Some(url) = ctx.url().cloned() else {
        return vec![CheckResult::skip("tls.chain", "not an HTTP target")];
    };
    let host = url.host_str().unwrap_or_default().to_owned();
    if url.scheme() != "https" {
        let local = matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]" | "::1");
        return vec![if local {
            CheckResult::skip("tls.chain", "plain HTTP on a loopback address")
        } else {
            CheckResult::warn(
                "tls.chain",
                format!("`{url}` is plain HTTP: tokens travel in clear text"),
                "serve the MCP endpoint over HTTPS (terminate TLS at the proxy or load balancer)",
            )
        }];
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let started = Instant::now();
    let request = format!("TLS handshake with {host}:{port}");
    let verified = handshake(ctx, &host, port, true).await;
    let (chain, chain_result) = match verified {
        Ok(chain) => (
            Some(chain),
            CheckResult::pass(
                "tls.chain",
                format!("the certificate chain verifies for `{host}`"),
            ),
        ),
        Err(e) => {
            let chain = handshake(ctx, &host, port, false).await.ok();
            (
                chain,
                CheckResult::fail(
                    "tls.chain",
                    format!("the certificate does not verify for `{host}`: {e}"),
                    "serve the full chain from a public CA for this host name (check the SAN, the intermediate certificates and the clock)",
                ),
            )
        }
    };
    let info = chain.as_deref().and_then(leaf);
    let days = info
        .as_ref()
        .map(|l| (l.not_after - chrono::Utc::now()).num_days());
    let evidence = Evidence {
        request: Some(request.clone()),
        elapsed_ms: Some(ms(started)),
        details: match &info {
            Some(l) => serde_json::json!({
                "subject": l.subject,
                "issuer": l.issuer,
                "not_after": l.not_after.to_rfc3339(),
                "days_left": days,
            }),
            None => serde_json::Value::Null,
        },
        ..Evidence::default()
    };
    let min = ctx.thresholds.tls_min_days;
    let expiry = match (&info, days) {
        (Some(l), Some(d)) if d < 0 => CheckResult::fail(
            "tls.expiry",
            format!(
                "the certificate expired on {}",
                l.not_after.format("%Y-%m-%d")
            ),
            "renew the certificate now and check that automatic renewal runs",
        ),
        (Some(_), Some(d)) if d < min / 2 => CheckResult::fail(
            "tls.expiry",
            format!("the certificate expires in {d} days"),
            "renew the certificate now and check that automatic renewal runs",
        ),
        (Some(_), Some(d)) if d < min => CheckResult::warn(
            "tls.expiry",
            format!("the certificate expires in {d} days (threshold {min})"),
            "renew soon: automatic renewal normally runs 30 days before expiry",
        ),
        (Some(l), Some(d)) => CheckResult::pass(
            "tls.expiry",
            format!(
                "the certificate expires in {d} days ({})",
                l.not_after.format("%Y-%m-%d")
            ),
        ),
        _ => CheckResult::skip("tls.expiry", "no certificate could be read"),
    };
    let duration = ms(started);
    vec![
        chain_result
            .with_evidence(evidence.clone())
            .with_duration_ms(duration),
        expiry.with_evidence(evidence).with_duration_ms(duration),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{Suite, Transport};
    use runway_core::Status;
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    /// A TLS server on 127.0.0.1 with a fresh self-signed certificate valid until `not_after`.
    async fn tls_server(
        not_after: chrono::DateTime<chrono::Utc>,
    ) -> (u16, Vec<u8>, tokio::task::JoinHandle<()>) {
        use chrono::Datelike;
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
        params.not_after = rcgen::date_time_ymd(
            not_after.year(),
            not_after.month() as u8,
            not_after.day() as u8,
        );
        let cert = params.self_signed(&key).unwrap();
        let der = cert.der().to_vec();
        let server = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            for _ in 0..20 {
                let Ok((s, _)) = l.accept().await else { break };
                let a = acceptor.clone();
                tokio::spawn(async move {
                    // The handshake is all the check needs; a failed one is expected too.
                    let _ = a.accept(s).await;
                });
            }
        });
        (port, der, task)
    }

    fn ctx(port: u16) -> Context {
        let url = url::Url::parse(&format!("https://127.0.0.1:{port}/mcp")).unwrap();
        let mut c = Context::new(Transport::Http { url }, None, Suite::Smoke);
        c.limits.timeout = std::time::Duration::from_secs(3);
        c
    }

    fn by_id<'a>(r: &'a [CheckResult], id: &str) -> &'a CheckResult {
        r.iter().find(|c| c.id == id).unwrap()
    }

    #[tokio::test]
    async fn an_untrusted_certificate_fails_the_chain_but_its_expiry_is_still_read() {
        let (port, _, task) = tls_server(chrono::Utc::now() + chrono::Duration::days(200)).await;
        let r = run(&ctx(port)).await;
        let chain = by_id(&r, "tls.chain");
        assert_eq!(chain.status, Status::Fail, "{chain:?}");
        assert!(chain.hint.is_some());
        let expiry = by_id(&r, "tls.expiry");
        assert_eq!(expiry.status, Status::Pass, "{expiry:?}");
        let days = expiry.evidence.details["days_left"].as_i64().unwrap();
        assert!((197..=200).contains(&days), "{days}");
        task.abort();
    }

    #[tokio::test]
    async fn a_trusted_certificate_passes_and_near_expiry_warns_then_fails() {
        let (port, der, task) = tls_server(chrono::Utc::now() + chrono::Duration::days(100)).await;
        let mut c = ctx(port);
        c.extra_roots = vec![der];
        let r = run(&c).await;
        assert_eq!(by_id(&r, "tls.chain").status, Status::Pass, "{r:?}");
        assert_eq!(by_id(&r, "tls.expiry").status, Status::Pass);
        task.abort();

        let (port, der, task) = tls_server(chrono::Utc::now() + chrono::Duration::days(10)).await;
        let mut c = ctx(port);
        c.extra_roots = vec![der];
        let r = run(&c).await;
        assert_eq!(by_id(&r, "tls.expiry").status, Status::Warn, "{r:?}");
        task.abort();

        let (port, der, task) = tls_server(chrono::Utc::now() + chrono::Duration::days(3)).await;
        let mut c = ctx(port);
        c.extra_roots = vec![der];
        let r = run(&c).await;
        assert_eq!(by_id(&r, "tls.expiry").status, Status::Fail, "{r:?}");
        task.abort();
    }

    #[tokio::test]
    async fn plain_http_is_skipped_on_loopback_and_warned_elsewhere() {
        let url = url::Url::parse("http://127.0.0.1:9/mcp").unwrap();
        let r = run(&Context::new(Transport::Http { url }, None, Suite::Smoke)).await;
        assert_eq!(r[0].status, Status::Skip);
        let url = url::Url::parse("http://mcp.example.com/mcp").unwrap();
        let r = run(&Context::new(Transport::Http { url }, None, Suite::Smoke)).await;
        assert_eq!(r[0].status, Status::Warn);
    }
}
