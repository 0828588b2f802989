//! Waiting for a deployed server to answer its health endpoint, bounded.
//!
//! A target calls [`wait`] after it has started a version; the wait ends at
//! the first 2xx, at its deadline, or as soon as the target says the server
//! is gone (a process that exited will never become healthy, so waiting out
//! the deadline would only hide the reason).

use std::time::{Duration, Instant};

use runway_core::Redactor;
use runway_verify::{
    EraChoice,
    http::{self, Limits},
    mcp::client::HttpConn,
};

use crate::{DeployError, HealthWait};

/// What to say when the server is gone: `Some(reason)` ends the wait at once.
pub type Gone<'a> = &'a mut (dyn FnMut() -> Option<DeployError> + Send);

/// Polls `health.url` until it answers 2xx, or, when there is no health
/// endpoint (none configured and `/health` answers 404/405), until the MCP
/// endpoint completes a handshake. `gone` is asked before every attempt.
pub async fn wait(health: &HealthWait, gone: Gone<'_>) -> Result<(), DeployError> {
    if health.url.is_none() && health.mcp.is_none() {
        return match gone() {
            Some(e) => Err(e),
            None => Ok(()),
        };
    }
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + health.timeout;
    let probe = Probe::new(health.timeout);
    let what = health
        .url
        .as_ref()
        .or(health.mcp.as_ref())
        .map(|u| u.to_string())
        .unwrap_or_default();
    loop {
        if let Some(e) = gone() {
            return Err(e);
        }
        let last = match probe.ready(health).await {
            Ok(()) => return Ok(()),
            Err(last) => last,
        };
        if tokio::time::Instant::now() + health.interval >= deadline {
            return Err(DeployError::Unhealthy {
                url: what,
                after: started.elapsed(),
                last,
            });
        }
        tokio::time::sleep(health.interval).await;
    }
}

/// Why one health `GET` did not pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// No answer: the request could not be built or sent, or the answer not read.
    #[error("{0}")]
    Fetch(String),
    /// An answer other than 2xx.
    #[error("HTTP {0}")]
    Status(u16),
}

/// One bounded `GET` of a health endpoint: every target's wait makes its
/// attempts through this, so they share one timeout per try and one body bound.
pub(crate) struct Probe {
    client: reqwest::Client,
    limits: Limits,
}

impl Probe {
    /// Each try takes at most 2 s, and never longer than the whole `wait`.
    pub(crate) fn new(wait: Duration) -> Probe {
        let limits = Limits {
            timeout: Duration::from_secs(2).min(wait),
            max_body: 64 * 1024,
        };
        Probe {
            client: http::client(limits),
            limits,
        }
    }

    /// `Ok` on a 2xx; else the status, when there was one (`HTTP 503`), or
    /// the fetch error.
    pub(crate) async fn get(&self, url: &url::Url) -> Result<(), ProbeError> {
        let req = self
            .client
            .get(url.clone())
            .build()
            .map_err(|e| ProbeError::Fetch(e.to_string()))?;
        match http::fetch(&self.client, req, self.limits).await {
            Ok(o) if (200..300).contains(&o.status) => Ok(()),
            Ok(o) => Err(ProbeError::Status(o.status)),
            Err(e) => Err(ProbeError::Fetch(e.to_string())),
        }
    }

    /// `Ok` on a 2xx; else what went wrong.
    #[cfg(feature = "docker")]
    pub(crate) async fn once(&self, url: &url::Url) -> Result<(), ProbeError> {
        self.get(url).await
    }

    /// One readiness attempt: the health endpoint, else (none there) the
    /// MCP handshake.
    async fn ready(&self, health: &HealthWait) -> Result<(), String> {
        if let Some(url) = &health.url {
            match self.get(url).await {
                Ok(()) => return Ok(()),
                Err(ProbeError::Status(404 | 405))
                    if health.health_optional && health.mcp.is_some() =>
                {
                    // No health endpoint: the handshake decides.
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        let Some(mcp) = &health.mcp else {
            return Ok(());
        };
        let mut redactor = Redactor::new();
        if let Some(t) = &health.token {
            redactor.add(t);
        }
        let mut conn = HttpConn::new(mcp.clone(), health.token.clone(), self.limits, redactor)
            .with_auth_header(health.auth_header.clone());
        match conn.handshake(EraChoice::Auto).await {
            Ok(_) => Ok(()),
            // Up, and asking for a token it was not given.
            Err(f) if matches!(f.evidence.status, Some(401 | 403)) && health.token.is_none() => {
                Ok(())
            }
            Err(f) => Err(format!("MCP handshake on {mcp}: {}", f.message)),
        }
    }
}
