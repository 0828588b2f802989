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
    let per_try = Limits {
        timeout: Duration::from_secs(2).min(health.timeout),
        max_body: 64 * 1024,
    };
    let client = http::client(per_try);
    loop {
        if let Some(e) = gone() {
            return Err(e);
        }
        let last = match client.get(url.clone()).build() {
            Ok(req) => match http::fetch(&client, req, per_try).await {
                Ok(o) if (200..300).contains(&o.status) => return Ok(()),
                Ok(o) => format!("HTTP {}", o.status),
                Err(e) => e.to_string(),
            },
            Err(e) => e.to_string(),
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
