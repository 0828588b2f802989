//! The watch's sampler on a live server, through runway-verify's raw clients.
//!
//! Each sample is what a user's client would do: `GET` the health endpoint,
//! then an MCP handshake and one call (a configured tool, else `tools/list`),
//! with the environment's token. Everything is bounded by the verify crate's
//! limits; a refused token (401/403) counts as an auth failure, not as the
//! server being down.
//!
//! On a session-era server the session a sample opens is kept for the next
//! ([`SessionReuse`]): a watch or a monitor sampling every few seconds would
//! otherwise leave one session per sample, which a server keeps until it
//! expires them (the Python SDK keeps them until it stops). Runway does not
//! end them with `DELETE` instead: some servers stop serving after one
//! (`mcp` 1.9). A session the server no longer knows (404, 400) is opened
//! again in the same sample.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use runway_core::{Redactor, Secret};
use runway_verify::{
    EraChoice,
    http::{self, Limits},
    mcp::client::{HttpConn, RpcFailure},
};
use serde_json::{Value, json};

use crate::analysis::{Sample, Sampler};

/// What one sample calls.
#[derive(Debug, Clone)]
pub struct ProbeCall {
    pub tool: String,
    pub arguments: Value,
}

#[derive(Debug, Clone)]
pub struct HttpSampler {
    pub health: Option<url::Url>,
    /// The health endpoint is the `/health` default, not configured: a 404 or
    /// 405 there means the server has none, and the sample goes on to MCP.
    pub health_optional: bool,
    /// How far a sample goes (`analysis.probe`).
    pub probe: runway_config::ProbeKind,
    pub mcp: url::Url,
    pub token: Option<Secret>,
    /// The header that carries the token (`X-API-Key`); `None` is
    /// `Authorization: Bearer`.
    pub auth_header: Option<String>,
    pub call: Option<ProbeCall>,
    pub timeout: Duration,
    pub redactor: Redactor,
    /// The session kept between samples.
    pub reuse: SessionReuse,
}

/// The connection of the last good sample with its session, and the server
/// version its handshake reported.
#[derive(Default)]
pub struct SessionReuse(tokio::sync::Mutex<Option<(HttpConn, Option<String>)>>);

impl std::fmt::Debug for SessionReuse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionReuse")
    }
}

/// A cloned sampler opens its own session.
impl Clone for SessionReuse {
    fn clone(&self) -> SessionReuse {
        SessionReuse::default()
    }
}

impl SessionReuse {
    /// The session kept for the next sample, if any.
    pub async fn session_id(&self) -> Option<String> {
        self.0
            .lock()
            .await
            .as_ref()
            .and_then(|(c, _)| c.session_id.clone())
    }
}

impl HttpSampler {
    fn limits(&self) -> Limits {
        Limits {
            timeout: self.timeout,
            max_body: 256 * 1024,
        }
    }
}

fn refused(status: Option<u16>) -> bool {
    matches!(status, Some(401 | 403))
}

impl HttpSampler {
    /// The sample's call on an open connection: `ping` for a handshake-only
    /// probe, else the configured tool or `tools/list`.
    async fn call_on(&self, conn: &mut HttpConn) -> runway_verify::mcp::client::RpcReply {
        match (&self.probe, &self.call) {
            (runway_config::ProbeKind::Handshake, _) => conn.rpc("ping", json!({})).await,
            (_, Some(c)) => {
                conn.rpc(
                    "tools/call",
                    json!({ "name": c.tool, "arguments": c.arguments }),
                )
                .await
            }
            (_, None) => conn.rpc("tools/list", json!({})).await,
        }
    }

    /// Judges a call's reply into the sample; true when it succeeded.
    fn judge(&self, s: &mut Sample, reply: &runway_verify::mcp::client::RpcReply) -> bool {
        match &reply.outcome {
            Ok(v) if v.get("isError").and_then(Value::as_bool) == Some(true) => {
                s.mcp_ok = Some(false);
                s.error = Some("the tool answered `isError: true`".into());
                false
            }
            Ok(_) => {
                s.mcp_ok = Some(true);
                true
            }
            Err(f) => {
                s.mcp_ok = Some(false);
                s.auth_refused = self.token.is_some()
                    && (refused(reply.evidence.status)
                        || matches!(f, RpcFailure::Status(401 | 403)));
                s.error = Some(self.redactor.redact(&f.to_string()));
                false
            }
        }
    }

    /// A new connection: the handshake (either era), then the call; a
    /// session it opens is kept for the next sample.
    async fn fresh(&self, s: &mut Sample, limits: Limits) {
        let mut conn = HttpConn::new(
            self.mcp.clone(),
            self.token.clone(),
            limits,
            self.redactor.clone(),
        )
        .with_auth_header(self.auth_header.clone());
        match conn.handshake(EraChoice::Auto).await {
            Err(f) => {
                s.mcp_ok = Some(false);
                s.auth_refused = self.token.is_some() && refused(f.evidence.status);
                s.error = Some(format!("handshake: {}", self.redactor.redact(&f.message)));
            }
            Ok(h) => {
                if s.version.is_none() {
                    s.version = h.server_version.clone();
                }
                let ok = if self.probe == runway_config::ProbeKind::Handshake {
                    s.mcp_ok = Some(true);
                    true
                } else {
                    let reply = self.call_on(&mut conn).await;
                    self.judge(s, &reply)
                };
                if ok && conn.session_id.is_some() {
                    *self.reuse.0.lock().await = Some((conn, h.server_version));
                }
            }
        }
    }
}

#[async_trait]
impl Sampler for HttpSampler {
    async fn sample(&self) -> Sample {
        let started = Instant::now();
        let at = chrono::Utc::now();
        let limits = self.limits();
        let mut s = Sample {
            at,
            healthy: true,
            mcp_ok: None,
            auth_refused: false,
            latency_ms: 0.0,
            version: None,
            error: None,
        };
        if let Some(h) = &self.health {
            let client = http::client(limits);
            let got = match client.get(h.clone()).build() {
                Ok(req) => http::fetch(&client, req, limits)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match got {
                Ok(o) if (200..300).contains(&o.status) => {
                    s.version = o
                        .json()
                        .and_then(|j| j.get("version").and_then(Value::as_str).map(str::to_owned));
                }
                Ok(o) if self.health_optional && matches!(o.status, 404 | 405) => {}
                Ok(o) => {
                    s.healthy = false;
                    s.error = Some(format!("health answered HTTP {}", o.status));
                }
                Err(e) => {
                    s.healthy = false;
                    s.error = Some(format!("health: {e}"));
                }
            }
        }
        if s.healthy && self.probe != runway_config::ProbeKind::Health {
            let kept = self.reuse.0.lock().await.take();
            let mut done = false;
            if let Some((mut conn, version)) = kept {
                let reply = self.call_on(&mut conn).await;
                // A session the server forgot (restarted, expired): open a new one.
                let forgotten = matches!(&reply.outcome, Err(RpcFailure::Status(404 | 400)));
                if !forgotten {
                    if s.version.is_none() {
                        s.version = version.clone();
                    }
                    if self.judge(&mut s, &reply) {
                        *self.reuse.0.lock().await = Some((conn, version));
                    }
                    done = true;
                }
            }
            if !done {
                self.fresh(&mut s, limits).await;
            }
        }
        s.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        s
    }
}
