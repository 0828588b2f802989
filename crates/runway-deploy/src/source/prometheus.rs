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

use std::time::Duration;

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

pub struct PrometheusSource {
    base: url::Url,
    limits: Limits,
    vars: Vars,
}

impl PrometheusSource {
    pub fn new(base: url::Url, timeout: Duration, max_bytes: u64, vars: Vars) -> Self {
        PrometheusSource {
            base,
            limits: Limits {
                timeout,
                max_body: usize::try_from(max_bytes).unwrap_or(usize::MAX),
            },
            vars,
        }
    }

    fn endpoint(&self) -> url::Url {
        let mut u = self.base.clone();
        let path = format!("{}/api/v1/query", u.path().trim_end_matches('/'));
        u.set_path(&path);
        u
    }

    /// One bounded instant query.
    pub async fn query(&self, promql: &str) -> Reading {
        let client = http::client(self.limits);
        let mut url = self.endpoint();
        url.query_pairs_mut().append_pair("query", promql);
        let req = match client.get(url).build() {
            Ok(r) => r,
            Err(e) => return Reading::Error(e.to_string()),
        };
        match http::fetch(&client, req, self.limits).await {
            Err(e) => Reading::Error(format!("{}: {e}", self.endpoint())),
            Ok(o) if o.truncated => Reading::Error(format!(
                "{}: more than {} bytes, or cut off at the deadline",
                self.endpoint(),
                self.limits.max_body
            )),
            Ok(o) => reading_of(o.status, &o.body),
        }
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
        let mut out = Vec::with_capacity(conditions.len());
        for c in conditions {
            out.push(match self.promql(c, &self.vars.version) {
                Some(q) => self.query(&q).await,
                None => Reading::Error("a `prometheus` condition needs a `query`".into()),
            });
        }
        out
    }

    async fn baseline(&mut self, conditions: &[&Condition]) -> Vec<Option<Reading>> {
        let Some(prev) = self.vars.previous_version.clone() else {
            return conditions.iter().map(|_| None).collect();
        };
        let mut out = Vec::with_capacity(conditions.len());
        for c in conditions {
            let r = match self.promql(c, &prev) {
                Some(q) => Some(self.query(&q).await),
                None => None,
            };
            out.push(r.filter(|r| matches!(r, Reading::Value(_))));
        }
        out
    }
}
