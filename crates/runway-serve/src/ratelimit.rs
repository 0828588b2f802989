//! A fixed-window request budget per client address, for the requests a
//! server answers before it knows who is asking (a token guesser is throttled).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `requests` per `window`, per client IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub window: Duration,
}

impl RateLimit {
    /// What Runway's servers allow a client without a valid token: 20 per second.
    pub const ANONYMOUS: RateLimit = RateLimit {
        requests: 20,
        window: Duration::from_secs(1),
    };
}

/// Clients tracked before expired windows are swept, so memory stays bounded.
const MAX_TRACKED_CLIENTS: usize = 10_000;

/// The counters of one [`RateLimit`].
#[derive(Debug)]
pub struct Limiter {
    limit: RateLimit,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl Limiter {
    pub fn new(limit: RateLimit) -> Self {
        Limiter {
            limit,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` when `ip` is over budget: how long until its window
    /// resets (for `Retry-After`).
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let window = self.limit.window.max(Duration::from_millis(1));
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= MAX_TRACKED_CLIENTS && !windows.contains_key(&ip) {
            windows.retain(|_, (start, _)| now.duration_since(*start) < window);
            if windows.len() >= MAX_TRACKED_CLIENTS {
                // Every tracked client is inside its window: refuse newcomers
                // until one expires rather than grow without bound.
                return Err(window.as_secs_f64().ceil().max(1.0) as u64);
            }
        }
        let entry = windows.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit.requests {
            let left = window.saturating_sub(now.duration_since(entry.0));
            return Err(left.as_secs_f64().ceil().max(1.0) as u64);
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_allows_the_budget_then_says_when_to_retry() {
        let l = Limiter::new(RateLimit {
            requests: 2,
            window: Duration::from_secs(3),
        });
        let ip: IpAddr = [127, 0, 0, 1].into();
        assert!(l.check(ip).is_ok());
        assert!(l.check(ip).is_ok());
        let retry = l.check(ip).unwrap_err();
        assert!((1..=3).contains(&retry), "{retry}");
        assert!(l.check([10, 0, 0, 1].into()).is_ok());
    }
}
