//! Waiting for a deployed server to answer its health endpoint, bounded.
//!
//! A target calls [`wait`] after it has started a version; the wait ends at
//! the first 2xx, at its deadline, or as soon as the target says the server
//! is gone (a process that exited will never become healthy, so waiting out
//! the deadline would only hide the reason).

use std::time::{Duration, Instant};

use runway_verify::http::{self, Limits};

use crate::{DeployError, HealthWait};

/// What to say when the server is gone: `Some(reason)` ends the wait at once.
pub type Gone<'a> = &'a mut (dyn FnMut() -> Option<DeployError> + Send);

/// Polls `health.url` until it answers 2xx. `gone` is asked before every attempt.
pub async fn wait(health: &HealthWait, gone: Gone<'_>) -> Result<(), DeployError> {
    let Some(url) = &health.url else {
        return match gone() {
            Some(e) => Err(e),
            None => Ok(()),
        };
    };
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + health.timeout;
    let probe = Probe::new(health.timeout);
    loop {
        if let Some(e) = gone() {
            return Err(e);
        }
        let last = match probe.once(url).await {
            Ok(()) => return Ok(()),
            Err(last) => last,
        };
        if tokio::time::Instant::now() + health.interval >= deadline {
            return Err(DeployError::Unhealthy {
                url: url.to_string(),
                after: started.elapsed(),
                last,
            });
        }
        tokio::time::sleep(health.interval).await;
    }
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

    /// `Ok` on a 2xx; else what went wrong (`HTTP 503`, the fetch error).
    pub(crate) async fn once(&self, url: &url::Url) -> Result<(), String> {
        let req = self
            .client
            .get(url.clone())
            .build()
            .map_err(|e| e.to_string())?;
        match http::fetch(&self.client, req, self.limits).await {
            Ok(o) if (200..300).contains(&o.status) => Ok(()),
            Ok(o) => Err(format!("HTTP {}", o.status)),
            Err(e) => Err(e.to_string()),
        }
    }
}
