//! The `prometheus` source: one PromQL instant query per condition against
//! a Prometheus server's HTTP API (`GET /api/v1/query`), bounded in bytes and
//! time, with `{version}` and `{environment}` substituted.
//!
//! A query must come back with exactly one number: a scalar, or a vector of
//! one series. No series (the version has no traffic yet, a label typo) and
//! `NaN` (`0/0`) are empty readings, inconclusive, never a pass; a refused
//! query, a timeout, an answer that is not Prometheus' JSON, or several
//! series are errors. The baseline is the same query with `{version}` set to
//! the previous version, asked before the deploy, while it still serves.

use std::{sync::Arc, time::Duration};

use runway_core::Secret;
use runway_verify::http::{self, Limits};
use serde_json::Value;

use super::{Condition, Expr, Reading, Source};

/// What is substituted into a query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars {
    pub version: String,
    pub previous_version: Option<String>,
    pub environment: String,
}

/// Replaces `{version}`, `{previous_version}` and `{environment}` (the values
/// escaped for a PromQL double-quoted string).
pub fn substitute(query: &str, version: &str, previous: Option<&str>, environment: &str) -> String {
    let esc = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"");
    query
        .replace("{version}", &esc(version))
        .replace("{previous_version}", &esc(previous.unwrap_or_default()))
        .replace("{environment}", &esc(environment))
}

/// Reads Prometheus' answer to an instant query.
pub fn reading_of(status: u16, body: &[u8]) -> Reading {
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        return Reading::Error(format!(
            "HTTP {status}, not the JSON of Prometheus' query API: {}",
            runway_verify::text::one_line(&text)
        ));
    };
    if json.get("status").and_then(Value::as_str) != Some("success") {
        let kind = json
            .get("errorType")
            .and_then(Value::as_str)
            .unwrap_or("error");
        let why = json
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("no `error` given");
        return Reading::Error(format!(
            "Prometheus refused the query (HTTP {status}, {kind}): {}",
            runway_verify::text::one_line(why)
        ));
    }
    let data = json.get("data").unwrap_or(&Value::Null);
    let value_of = |pair: &Value| -> Option<f64> {
        let v = pair.get(1)?.as_str()?;
        match v {
            "NaN" => Some(f64::NAN),
            "+Inf" | "Inf" => Some(f64::INFINITY),
            "-Inf" => Some(f64::NEG_INFINITY),
            other => other.parse().ok(),
        }
    };
    let v = match data.get("resultType").and_then(Value::as_str) {
        Some("scalar") => data.get("result").and_then(value_of),
        Some("vector") => {
            let result = data
                .get("result")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            match result.len() {
                0 => return Reading::Empty("the query returned no series".into()),
                1 => result[0].get("value").and_then(value_of),
                n => {
                    return Reading::Error(format!(
                        "the query returned {n} series; aggregate it to one (`sum(...)`, `max(...)`)"
                    ));
                }
            }
        }
        other => {
            return Reading::Error(format!(
                "the query returned a {}, not one number (use an instant vector or a scalar)",
                other.unwrap_or("nothing")
            ));
        }
    };
    match v {
        None => Reading::Error("the answer holds no number".into()),
        Some(v) if v.is_nan() => Reading::Empty("the query returned NaN (no requests?)".into()),
        Some(v) => Reading::Value(v),
    }
}

/// Queries in flight at once when nothing else is configured.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// How a query reaches Prometheus: shared by the queries of one tick.
struct Endpoint {
    client: reqwest::Client,
    url: url::Url,
    limits: Limits,
    token: Option<Secret>,
    /// The setting that holds the token, quoted, for the hint of a 401/403
    /// (`` `analysis.prometheus.token_env` ``).
    auth_setting: String,
}

impl Endpoint {
    /// One bounded instant query; the token never appears in what it says,
    /// even when a server echoes it back.
    async fn query(&self, promql: &str) -> Reading {
        let r = self.query_raw(promql).await;
        let Some(t) = self.token.as_ref().filter(|t| !t.expose().is_empty()) else {
            return r;
        };
        let clean = |m: String| m.replace(t.expose(), "[redacted]");
        match r {
            Reading::Error(m) => Reading::Error(clean(m)),
            Reading::Empty(m) => Reading::Empty(clean(m)),
            v => v,
        }
    }

    async fn query_raw(&self, promql: &str) -> Reading {
        let mut url = self.url.clone();
        url.query_pairs_mut().append_pair("query", promql);
        let mut req = self.client.get(url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t.expose());
        }
        let req = match req.build() {
            Ok(r) => r,
            Err(e) => return Reading::Error(format!("{}: {e}", self.url)),
        };
        match http::fetch(&self.client, req, self.limits).await {
            Err(e) => Reading::Error(format!("{}: {e}", self.url)),
            Ok(o) if o.status == 401 || o.status == 403 => Reading::Error(match &self.token {
                None => format!(
                    "{} answered HTTP {}: it wants a bearer token; set {} (or `token_file`) to one it accepts",
                    self.url, o.status, self.auth_setting
                ),
                Some(_) => format!(
                    "{} answered HTTP {}: it refused the token from {}; put one it accepts there",
                    self.url, o.status, self.auth_setting
                ),
            }),
            Ok(o) if o.truncated => Reading::Error(format!(
                "{}: more than {} bytes, or cut off at the deadline",
                self.url, self.limits.max_body
            )),
            Ok(o) => reading_of(o.status, &o.body),
        }
    }
}

pub struct PrometheusSource {
    endpoint: Arc<Endpoint>,
    vars: Vars,
    concurrency: usize,
}

impl PrometheusSource {
    pub fn new(base: url::Url, timeout: Duration, max_bytes: u64, vars: Vars) -> Self {
        let limits = Limits {
            timeout,
            max_body: usize::try_from(max_bytes).unwrap_or(usize::MAX),
        };
        let mut url = base;
        let path = format!("{}/api/v1/query", url.path().trim_end_matches('/'));
        url.set_path(&path);
        PrometheusSource {
            endpoint: Arc::new(Endpoint {
                client: http::client(limits),
                url,
                limits,
                token: None,
                auth_setting: "`analysis.prometheus.token_env`".into(),
            }),
            vars,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }

    /// Sends `token` as `Authorization: Bearer` with every query; `setting`
    /// names where it comes from, for the hint when Prometheus refuses it.
    pub fn with_token(mut self, token: Option<Secret>, setting: impl Into<String>) -> Self {
        let e = &self.endpoint;
        self.endpoint = Arc::new(Endpoint {
            client: e.client.clone(),
            url: e.url.clone(),
            limits: e.limits,
            token,
            auth_setting: setting.into(),
        });
        self
    }

    /// At most `n` queries in flight at once (at least 1).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// One bounded instant query.
    pub async fn query(&self, promql: &str) -> Reading {
        self.endpoint.query(promql).await
    }

    /// Every query at once, at most `concurrency` in flight, each bounded
    /// by the per-query timeout: a tick of slow queries takes about one
    /// timeout per `concurrency` queries, not one per query. The readings
    /// come back in the order of `queries`.
    async fn query_all(&self, queries: Vec<Option<String>>) -> Vec<Option<Reading>> {
        let n = queries.len();
        let permits = Arc::new(tokio::sync::Semaphore::new(self.concurrency));
        let mut set = tokio::task::JoinSet::new();
        for (i, q) in queries.into_iter().enumerate() {
            let Some(q) = q else { continue };
            let endpoint = self.endpoint.clone();
            let permits = permits.clone();
            set.spawn(async move {
                let Ok(_permit) = permits.acquire_owned().await else {
                    return (i, Reading::Error("the query was cancelled".into()));
                };
                (i, endpoint.query(&q).await)
            });
        }
        let mut out: Vec<Option<Reading>> = vec![None; n];
        // A query task that panicked leaves its slot empty: the caller
        // reads that as an error reading.
        while let Some(done) = set.join_next().await {
            if let Ok((i, r)) = done {
                out[i] = Some(r);
            }
        }
        out
    }

    fn promql(&self, c: &Condition, version: &str) -> Option<String> {
        match &c.expr {
            Expr::Query(q) => Some(substitute(
                q,
                version,
                self.vars.previous_version.as_deref(),
                &self.vars.environment,
            )),
            _ => None,
        }
    }
}

#[async_trait::async_trait]
impl Source for PrometheusSource {
    async fn read(&mut self, conditions: &[&Condition]) -> Vec<Reading> {
        let version = self.vars.version.clone();
        let queries = conditions
            .iter()
            .map(|c| self.promql(c, &version))
            .collect();
        let got = self.query_all(queries).await;
        conditions
            .iter()
            .zip(got)
            .map(|(c, r)| match (r, &c.expr) {
                (Some(r), _) => r,
                (None, Expr::Query(_)) => Reading::Error("the query did not finish".into()),
                (None, _) => Reading::Error("a `prometheus` condition needs a `query`".into()),
            })
            .collect()
    }

    async fn baseline(&mut self, conditions: &[&Condition]) -> Vec<Option<Reading>> {
        let Some(prev) = self.vars.previous_version.clone() else {
            return conditions.iter().map(|_| None).collect();
        };
        let queries = conditions.iter().map(|c| self.promql(c, &prev)).collect();
        self.query_all(queries)
            .await
            .into_iter()
            .map(|r| r.filter(|r| matches!(r, Reading::Value(_))))
            .collect()
    }
}
