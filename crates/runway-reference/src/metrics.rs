//! `/metrics` in the Prometheus text exposition format (version 0.0.4).
//!
//! Kept by hand rather than through a metrics library: the MCP-level series Runway's
//! metrics check reads (a per-method counter, a latency histogram, the process start
//! time), and the HTTP-level series a production server exposes for its own traffic,
//! which Runway's `metrics` and `prometheus` analysis sources judge: every request by
//! HTTP method, route, status code and MCP method (`http_requests_total`), its latency
//! by route (`http_request_duration_seconds`), and the refused credentials
//! (`reference_mcp_http_auth_denied_total`). Every label set is bounded.

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
    "http_requests_total",
    "http_request_duration_seconds",
    "reference_mcp_http_auth_denied_total",
];

/// The routes the server serves; any other path is labelled `other`.
const ROUTES: &[&str] = &[
    "/health",
    "/livez",
    "/readyz",
    "/metrics",
    "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-protected-resource/mcp",
    "/mcp",
];

/// HTTP methods kept as labels; any other is `other`.
const HTTP_METHODS: &[&str] = &["GET", "POST", "DELETE", "OPTIONS", "HEAD"];

/// The MCP method a response answered, set by the `/mcp` handler for the
/// metrics layer (`mcp_method` label).
#[derive(Debug, Clone)]
pub struct McpMethod(pub String);

/// Why a request's credentials were refused (`reason` label).
#[derive(Debug, Clone, Copy)]
pub enum Denied {
    /// No `Authorization: Bearer` at all.
    MissingToken,
    /// A token that is not (or no longer) accepted.
    InvalidToken,
}

impl Denied {
    fn label(self) -> &'static str {
        match self {
            Denied::MissingToken => "missing_token",
            Denied::InvalidToken => "invalid_token",
        }
    }
}

#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.buckets[i] += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, n) in BUCKETS.iter().zip(self.buckets.iter()) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = |l: &str| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{{{l}}}")
            }
        };
        let _ = writeln!(out, "{name}_sum{} {}", braces(labels), self.sum);
        let _ = writeln!(out, "{name}_count{} {}", braces(labels), self.count);
    }
}

/// `(http method, route, status code, mcp method)`.
type HttpKey = (&'static str, &'static str, u16, String);

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<String, u64>,
    mcp_latency: Histogram,
    http: BTreeMap<HttpKey, u64>,
    http_latency: BTreeMap<&'static str, Histogram>,
    denied: BTreeMap<&'static str, u64>,
}

impl Inner {
    /// `method` itself while fewer than [`MAX_METHODS`] are known, else `other`.
    fn method_label(&self, method: &str) -> String {
        if self.requests.contains_key(method) || self.requests.len() < MAX_METHODS {
            method.to_owned()
        } else {
            "other".to_owned()
        }
    }
}

fn route_label(path: &str) -> &'static str {
    ROUTES
        .iter()
        .find(|r| **r == path)
        .copied()
        .unwrap_or("other")
}

fn http_method_label(method: &str) -> &'static str {
    HTTP_METHODS
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("other")
}

#[derive(Debug)]
pub struct Metrics {
    start_time: f64,
    /// `reference_build_info{version}`; none when empty.
    version: String,
    inner: Mutex<Inner>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        Self::for_version("")
    }

    /// Metrics that also say which version serves them (`reference_build_info`).
    pub fn for_version(version: &str) -> Self {
        let start_time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Metrics {
            start_time,
            version: version.to_owned(),
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
        let key = inner.method_label(method);
        *inner.requests.entry(key).or_default() += 1;
        inner.mcp_latency.observe(elapsed.as_secs_f64());
    }

    /// Counts one HTTP request as it was answered (every route).
    pub fn observe_http(
        &self,
        method: &str,
        path: &str,
        code: u16,
        mcp_method: Option<&str>,
        elapsed: Duration,
    ) {
        let mut inner = self.lock();
        let mcp = match mcp_method {
            // Labels follow the same bound as `mcp_requests_total`: a method seen there.
            Some(m) if inner.requests.contains_key(m) => m.to_owned(),
            Some(_) => "other".to_owned(),
            None => String::new(),
        };
        let route = route_label(path);
        let key = (http_method_label(method), route, code, mcp);
        *inner.http.entry(key).or_default() += 1;
        inner
            .http_latency
            .entry(route)
            .or_default()
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one request refused for its credentials.
    pub fn auth_denied(&self, why: Denied) {
        *self.lock().denied.entry(why.label()).or_default() += 1;
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
        inner
            .mcp_latency
            .render(&mut out, "mcp_request_duration_seconds", "");
        out.push_str(
            "# HELP http_requests_total HTTP requests answered, by method, route, status code and MCP method.\n",
        );
        out.push_str("# TYPE http_requests_total counter\n");
        for ((method, path, code, mcp), n) in &inner.http {
            let _ = writeln!(
                out,
                "http_requests_total{{method=\"{method}\",path=\"{path}\",code=\"{code}\",mcp_method=\"{}\"}} {n}",
                escape_label(mcp)
            );
        }
        out.push_str(
            "# HELP http_request_duration_seconds Time to answer an HTTP request, by route, until the response headers.\n",
        );
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for (path, h) in &inner.http_latency {
            h.render(
                &mut out,
                "http_request_duration_seconds",
                &format!("path=\"{path}\""),
            );
        }
        out.push_str(
            "# HELP reference_mcp_http_auth_denied_total Requests to /mcp refused for their credentials, by reason.\n",
        );
        out.push_str("# TYPE reference_mcp_http_auth_denied_total counter\n");
        for (reason, n) in &inner.denied {
            let _ = writeln!(
                out,
                "reference_mcp_http_auth_denied_total{{reason=\"{reason}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n",
        );
        out.push_str("# TYPE process_start_time_seconds gauge\n");
        let _ = writeln!(out, "process_start_time_seconds {}", self.start_time);
        if !self.version.is_empty() {
            out.push_str("# HELP reference_build_info The version this process serves.\n");
            out.push_str("# TYPE reference_build_info gauge\n");
            let _ = writeln!(
                out,
                "reference_build_info{{version=\"{}\"}} 1",
                escape_label(&self.version)
            );
        }
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
    fn http_requests_are_counted_by_method_route_code_and_mcp_method() {
        let m = Metrics::new();
        m.observe("tools/list", Duration::from_millis(2));
        m.observe_http(
            "POST",
            "/mcp",
            200,
            Some("tools/list"),
            Duration::from_millis(2),
        );
        m.observe_http("POST", "/mcp", 401, None, Duration::from_millis(1));
        m.observe_http("POST", "/mcp", 200, Some("never-seen"), Duration::ZERO);
        m.observe_http("PATCH", "/nope", 404, None, Duration::from_secs(30));
        m.auth_denied(Denied::InvalidToken);
        m.auth_denied(Denied::InvalidToken);
        m.auth_denied(Denied::MissingToken);
        let text = m.render();
        assert!(!text.contains("reference_build_info"), "{text}");
        let versioned = Metrics::for_version("2.0.0").render();
        assert!(
            versioned.contains("reference_build_info{version=\"2.0.0\"} 1\n"),
            "{versioned}"
        );
        for line in [
            "http_requests_total{method=\"POST\",path=\"/mcp\",code=\"200\",mcp_method=\"tools/list\"} 1\n",
            "http_requests_total{method=\"POST\",path=\"/mcp\",code=\"401\",mcp_method=\"\"} 1\n",
            "http_requests_total{method=\"POST\",path=\"/mcp\",code=\"200\",mcp_method=\"other\"} 1\n",
            "http_requests_total{method=\"other\",path=\"other\",code=\"404\",mcp_method=\"\"} 1\n",
            "http_request_duration_seconds_bucket{path=\"/mcp\",le=\"0.001\"} 2\n",
            "http_request_duration_seconds_bucket{path=\"/mcp\",le=\"+Inf\"} 3\n",
            "http_request_duration_seconds_count{path=\"/mcp\"} 3\n",
            "http_request_duration_seconds_bucket{path=\"other\",le=\"10\"} 0\n",
            "reference_mcp_http_auth_denied_total{reason=\"invalid_token\"} 2\n",
            "reference_mcp_http_auth_denied_total{reason=\"missing_token\"} 1\n",
        ] {
            assert!(text.contains(line), "{line} missing from {text}");
        }
        // What Runway's own reader makes of it: every line parses.
        assert!(!text.lines().any(|l| l.contains("{,")), "{text}");
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
