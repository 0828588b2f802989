//! Pacing after a 429: once a server has said "too many requests" to
//! Runway, every later request to the same origin waits out the
//! `Retry-After` it gave, so the verifier's own traffic does not keep
//! drawing 429s (#19). Per origin, so one run (or test) never slows another.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

static NOT_BEFORE: Mutex<Option<HashMap<String, Instant>>> = Mutex::new(None);

fn origin(url: &url::Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or_default()
    )
}

/// Remembers that `url`'s origin asked for `wait` before the next request.
pub fn slow_down(url: &url::Url, wait: Duration) {
    let mut guard = NOT_BEFORE.lock().unwrap_or_else(|p| p.into_inner());
    let map = guard.get_or_insert_with(HashMap::new);
    let until = Instant::now() + wait;
    let entry = map.entry(origin(url)).or_insert(until);
    if *entry < until {
        *entry = until;
    }
}

/// Waits until `url`'s origin may be asked again.
pub async fn wait_turn(url: &url::Url) {
    let until = {
        let guard = NOT_BEFORE.lock().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().and_then(|m| m.get(&origin(url)).copied())
    };
    if let Some(t) = until {
        let now = Instant::now();
        if t > now {
            tokio::time::sleep(t - now).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_slowed_origin_waits_and_another_does_not() {
        let a: url::Url = "http://127.0.0.1:1/mcp".parse().unwrap();
        let b: url::Url = "http://127.0.0.1:2/mcp".parse().unwrap();
        slow_down(&a, Duration::from_millis(150));
        let t = Instant::now();
        wait_turn(&b).await;
        assert!(t.elapsed() < Duration::from_millis(100));
        wait_turn(&a).await;
        assert!(t.elapsed() >= Duration::from_millis(140));
    }
}
