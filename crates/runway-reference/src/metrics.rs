//! `/metrics` in the Prometheus text exposition format (version 0.0.4).
//!
//! Three series are enough for Runway's metrics check, so they are kept by hand rather
//! than through a metrics library: a per-method request counter, a latency histogram
//! and the process start time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Histogram bucket upper bounds, in seconds.
const BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Distinct method labels kept; anything past this is counted as `other` so a client
/// sending random method names cannot grow the map without bound.
const MAX_METHODS: usize = 64;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The series `/metrics` exposes, for callers that require them (`runway demo`).
pub const SERIES: &[&str] = &[
    "mcp_requests_total",
    "mcp_request_duration_seconds",
    "process_start_time_seconds",
];

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<String, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug)]
pub struct Metrics {
    start_time: f64,
    inner: Mutex<Inner>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let start_time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Metrics {
            start_time,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves plain counters, still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts one JSON-RPC message by its method and records how long it took.
    pub fn observe(&self, method: &str, elapsed: Duration) {
        let mut inner = self.lock();
        let key = if inner.requests.contains_key(method) || inner.requests.len() < MAX_METHODS {
            method.to_owned()
        } else {
            "other".to_owned()
        };
        *inner.requests.entry(key).or_default() += 1;
        let secs = elapsed.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                inner.buckets[i] += 1;
            }
        }
        inner.count += 1;
        inner.sum += secs;
    }

    pub fn render(&self) -> String {
        let inner = self.lock();
        let mut out = String::new();
        out.push_str("# HELP mcp_requests_total JSON-RPC messages received on /mcp, by method.\n");
        out.push_str("# TYPE mcp_requests_total counter\n");
        for (method, n) in &inner.requests {
            let _ = writeln!(
                out,
                "mcp_requests_total{{method=\"{}\"}} {n}",
                escape_label(method)
            );
        }
        out.push_str(
            "# HELP mcp_request_duration_seconds Time to answer a POST on /mcp, until the response headers.\n",
        );
        out.push_str("# TYPE mcp_request_duration_seconds histogram\n");
        for (bound, n) in BUCKETS.iter().zip(inner.buckets.iter()) {
            let _ = writeln!(
                out,
                "mcp_request_duration_seconds_bucket{{le=\"{bound}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "mcp_request_duration_seconds_bucket{{le=\"+Inf\"}} {}",
            inner.count
        );
        let _ = writeln!(out, "mcp_request_duration_seconds_sum {}", inner.sum);
        let _ = writeln!(out, "mcp_request_duration_seconds_count {}", inner.count);
        out.push_str(
            "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n",
        );
        out.push_str("# TYPE process_start_time_seconds gauge\n");
        let _ = writeln!(out, "process_start_time_seconds {}", self.start_time);
        out
    }

    /// What `bad-metrics` serves: looks like Prometheus text, but a parser must reject it.
    pub fn render_broken(&self) -> String {
        "# TYPE mcp_requests_total counter\n\
         mcp_requests_total{method=\"initialize\" 1\n\
         mcp_request_duration_seconds_bucket{le=0.1} one\n\
         this line is not a metric at all\n"
            .to_owned()
    }
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_series_is_rendered() {
        let text = Metrics::new().render();
        for s in SERIES {
            assert!(
                text.contains(&format!("# TYPE {s} ")),
                "{s} missing from {text}"
            );
        }
    }

    #[test]
    fn counts_by_method_and_fills_cumulative_buckets() {
        let m = Metrics::new();
        m.observe("tools/list", Duration::from_millis(3));
        m.observe("tools/list", Duration::from_millis(30));
        m.observe("we\"ird", Duration::from_secs(20));
        let text = m.render();
        assert!(
            text.contains("mcp_requests_total{method=\"tools/list\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("mcp_requests_total{method=\"we\\\"ird\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("mcp_request_duration_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(text.contains("mcp_request_duration_seconds_bucket{le=\"0.05\"} 2\n"));
        assert!(text.contains("mcp_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("mcp_request_duration_seconds_count 3\n"));
        assert!(text.contains("process_start_time_seconds "));
    }

    #[test]
    fn method_labels_are_bounded() {
        let m = Metrics::new();
        for i in 0..200 {
            m.observe(&format!("m{i}"), Duration::ZERO);
        }
        let text = m.render();
        assert_eq!(text.matches("mcp_requests_total{").count(), MAX_METHODS + 1);
        assert!(
            text.contains("mcp_requests_total{method=\"other\"} 136\n"),
            "{text}"
        );
    }
}
