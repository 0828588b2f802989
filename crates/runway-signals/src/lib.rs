//! Conditions on real traffic, beside the probe: where a number comes from
//! (a [`Source`]: the server's own `/metrics`, or a Prometheus query) and
//! how it is judged, with the tri-state verdict of the watch.
//!
//! Every evaluation ends in one of three ways: a value within its bounds
//! (pass), a value outside them (fail), or no value to judge
//! (inconclusive). "No value" is itself two things, counted apart: an
//! *empty* reading (no requests in the window, a query that returned no
//! series, `NaN`), which is normal right after a deploy, and an *error* (a
//! scrape that timed out, Prometheus refusing the query), which says the
//! source is broken. Neither is ever a pass; errors in a row past the
//! source's `consecutive_error_limit` leave the whole watch inconclusive,
//! the way Argo Rollouts' `consecutiveErrorLimit` does.
//!
//! The baseline is the same reading for the previous version, taken before
//! the deploy ([`Sources::capture_baseline`]), so a condition can say "no
//! worse than 1.5x the previous version's". A missing baseline is judged on
//! the absolute bounds alone, and is inconclusive when there are none.

mod error;
pub mod logs;
pub mod metrics;
pub mod prometheus;
pub mod resources;

use std::time::Duration;

use runway_config::{
    AnalysisConfig,
    sources::{ConditionConfig, Selector, SourceKind},
};
use serde::{Deserialize, Serialize};

pub use error::{ParseError, ScrapeError, SourcesError};

/// A judgement's verdict: one condition's evaluation, a condition over the
/// whole watch, and the watch itself (`runway_deploy::analysis`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    /// Too few samples to say: held for a human.
    Inconclusive,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// What a condition computes.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Increase of `numerator` over increase of `denominator` in the window.
    Ratio {
        numerator: Selector,
        denominator: Selector,
    },
    /// Increase of the selected counters in the window.
    Increase(Selector),
    /// The `q` quantile of a histogram's observations in the window
    /// (`histogram_quantile` over the buckets' increases).
    Quantile { histogram: Selector, q: f64 },
    /// A PromQL query with one result.
    Query(String),
    /// Lines of the deployed version's output matching a pattern, per minute.
    LogRate(runway_config::sources::LogPattern),
    /// Memory or CPU of the server's process group.
    Resource(resources::Resource),
}

/// One condition, resolved from `[[analysis.conditions]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub name: String,
    pub source: SourceKind,
    pub expr: Expr,
    /// `metrics`: how far back each evaluation looks; `None` is one interval.
    pub window: Option<Duration>,
    pub min_requests: u64,
    pub max: Option<f64>,
    pub min: Option<f64>,
    pub baseline_factor: Option<f64>,
}

impl Condition {
    pub fn from_config(c: &ConditionConfig) -> Condition {
        let expr = if c.source() == SourceKind::Resources {
            Expr::Resource(
                match (c.memory_max_mb, c.memory_max_ratio, c.memory_limit_mb) {
                    (Some(_), _, _) => resources::Resource::MemoryMb,
                    (None, Some(_), Some(limit_mb)) => {
                        resources::Resource::MemoryRatio { limit_mb }
                    }
                    _ => resources::Resource::Cpu,
                },
            )
        } else if c.source() == SourceKind::Logs {
            Expr::LogRate(
                c.pattern
                    .clone()
                    .unwrap_or_else(runway_config::sources::LogPattern::default_pattern),
            )
        } else if let Some(q) = &c.query {
            Expr::Query(q.clone())
        } else if let (Some(n), Some(d)) = (&c.numerator, &c.denominator) {
            Expr::Ratio {
                numerator: n.clone(),
                denominator: d.clone(),
            }
        } else if let Some(h) = &c.histogram {
            Expr::Quantile {
                histogram: h.clone(),
                q: c.quantile(),
            }
        } else {
            // Validation guarantees one form; `increase` is the last.
            Expr::Increase(
                c.increase
                    .clone()
                    .unwrap_or_else(|| Selector::parse("up").expect("a constant selector parses")),
            )
        };
        Condition {
            name: c.name.trim().to_owned(),
            source: c.source(),
            expr,
            window: c.window.map(|w| w.get()),
            min_requests: c.min_requests(),
            max: c
                .max
                .or(c.max_per_minute)
                .or(c.memory_max_mb)
                .or(c.memory_max_ratio)
                .or(c.cpu_max_ratio),
            min: c.min,
            baseline_factor: c.baseline_factor,
        }
    }

    /// What it reads, without the bounds.
    pub fn expression(&self) -> String {
        match &self.expr {
            Expr::Ratio {
                numerator,
                denominator,
            } => format!("increase of {numerator} / increase of {denominator}"),
            Expr::Increase(s) => format!("increase of {s}"),
            Expr::Quantile { histogram, q } => format!("p{} of {histogram}", q * 100.0),
            Expr::Query(q) => q.clone(),
            Expr::LogRate(p) => format!("lines matching `{}` per minute", p.as_str()),
            Expr::Resource(r) => r.describe(),
        }
    }

    /// What it reads, in one line (for `runway plan` and the output).
    pub fn describe(&self) -> String {
        let what = self.expression();
        let mut bounds = Vec::new();
        if let Some(m) = self.max {
            bounds.push(format!("at most {}", num(m)));
        }
        if let Some(m) = self.min {
            bounds.push(format!("at least {}", num(m)));
        }
        if let Some(f) = self.baseline_factor {
            bounds.push(format!("at most {f}x the previous version's"));
        }
        format!("{what}: {}", bounds.join(", "))
    }

    /// Judges one reading against the bounds and the baseline.
    pub fn judge(&self, reading: &Reading, baseline: Option<&Reading>) -> Evaluation {
        let mut e = Evaluation {
            condition: self.name.clone(),
            source: self.source,
            verdict: Verdict::Inconclusive,
            value: None,
            baseline: None,
            error: false,
            message: String::new(),
        };
        let v = match reading {
            Reading::Error(why) => {
                e.error = true;
                e.message = format!("{} could not be read: {why}", self.source.as_str());
                return e;
            }
            Reading::Empty(why) => {
                e.message = format!("nothing to judge: {why}");
                return e;
            }
            Reading::Value(v) => *v,
        };
        e.value = Some(v);
        let base = match baseline {
            Some(Reading::Value(b)) => Some(*b),
            _ => None,
        };
        e.baseline = base;
        let mut breaches = Vec::new();
        if let Some(max) = self.max
            && v > max
        {
            breaches.push(format!("above the maximum {}", num(max)));
        }
        if let Some(min) = self.min
            && v < min
        {
            breaches.push(format!("below the minimum {}", num(min)));
        }
        let mut note = String::new();
        if let Some(f) = self.baseline_factor {
            match base {
                Some(b) if v > b * f => breaches.push(format!(
                    "above {f}x the previous version's {} (= {})",
                    num(b),
                    num(b * f)
                )),
                Some(b) => note = format!(" (previous version {})", num(b)),
                None if self.max.is_none() && self.min.is_none() => {
                    e.message = format!(
                        "{} = {}, but there is no baseline to compare it with (the previous version's reading is missing)",
                        self.name,
                        num(v)
                    );
                    return e;
                }
                None => note = " (no baseline: judged on the bounds alone)".into(),
            }
        }
        if breaches.is_empty() {
            e.verdict = Verdict::Pass;
            e.message = format!("{} = {}{note}", self.name, num(v));
        } else {
            e.verdict = Verdict::Fail;
            e.message = format!("{} = {}, {}", self.name, num(v), breaches.join(" and "));
        }
        e
    }
}

/// A number as the output shows it: up to 4 significant decimals.
pub fn num(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    if v == v.trunc() && v.abs() < 1e15 {
        return format!("{v:.0}");
    }
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// What a source says for a condition at one moment.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    Value(f64),
    /// Nothing to judge (no requests, no series, `NaN`): inconclusive, not an error.
    Empty(String),
    /// The source could not be read: counted toward its error limit.
    Error(String),
}

/// One condition judged once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub condition: String,
    #[serde(with = "source_kind")]
    pub source: SourceKind,
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    /// The source failed (not merely empty).
    #[serde(default)]
    pub error: bool,
    pub message: String,
}

mod source_kind {
    use runway_config::sources::SourceKind;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(k: &SourceKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(k.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SourceKind, D::Error> {
        match String::deserialize(d)?.as_str() {
            "prometheus" => Ok(SourceKind::Prometheus),
            "logs" => Ok(SourceKind::Logs),
            "resources" => Ok(SourceKind::Resources),
            _ => Ok(SourceKind::Metrics),
        }
    }
}

/// A condition over the whole watch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionSummary {
    pub condition: String,
    #[serde(with = "source_kind")]
    pub source: SourceKind,
    pub verdict: Verdict,
    pub passed: u32,
    pub failed: u32,
    /// Readings with nothing to judge.
    pub empty: u32,
    /// Readings the source failed to give.
    pub errors: u32,
    /// The last value read, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_value: Option<f64>,
    /// Why, in a sentence (the breach, or why nothing could be said).
    pub reason: String,
    /// What it reads, without the bounds ([`Condition::expression`]).
    #[serde(default)]
    pub expression: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_factor: Option<f64>,
    /// The previous version's reading, when one was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    /// Each evaluation, oldest first: the last [`MAX_EVALUATIONS`] of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evaluations: Vec<Judged>,
    /// Evaluations older than those kept.
    #[serde(default)]
    pub evaluations_dropped: u32,
}

/// Evaluations kept per condition for the record (a 1-hour watch at 15 s
/// is 240); older ones are only counted.
pub const MAX_EVALUATIONS: usize = 240;

/// One evaluation of a condition, for the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judged {
    pub at: chrono::DateTime<chrono::Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    pub verdict: Verdict,
    #[serde(default)]
    pub error: bool,
    pub message: String,
}

/// Per-condition state across the watch's ticks.
#[derive(Debug, Clone, Default)]
struct Track {
    passed: u32,
    failed: u32,
    empty: u32,
    errors: u32,
    fail_run: u32,
    error_run: u32,
    /// The failing run reached `consecutive_failures`: this message.
    failed_with: Option<String>,
    /// The error run reached the source's limit: this message.
    errored_with: Option<String>,
    /// The last failing evaluation's message.
    last_fail: Option<String>,
    last: Option<Evaluation>,
    /// The newest evaluations, at most [`MAX_EVALUATIONS`].
    judged: std::collections::VecDeque<Judged>,
    dropped: u32,
}

/// Where each condition's number comes from, at one tick.
#[async_trait::async_trait]
pub trait Source: Send + Sync {
    /// Reads every condition of this source once (a scrape or a query each).
    async fn read(&mut self, conditions: &[&Condition]) -> Vec<Reading>;
    /// The same readings for the previous version, taken before the deploy.
    async fn baseline(&mut self, conditions: &[&Condition]) -> Vec<Option<Reading>>;
}

/// The conditions of an environment with their sources and their state.
pub struct Sources {
    pub conditions: Vec<Condition>,
    /// Each source with the errors in a row that make its conditions inconclusive.
    sources: Vec<(SourceKind, Box<dyn Source>, u32)>,
    consecutive_failures: u32,
    baselines: Vec<Option<Reading>>,
    tracks: Vec<Track>,
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources")
            .field("conditions", &self.conditions)
            .finish_non_exhaustive()
    }
}

impl Sources {
    /// Builds the sources an `analysis` table asks for. `metrics_url` is the
    /// default exposition (the environment's origin + `/metrics`); `vars` are
    /// `{version}`, `{previous_version}`, `{environment}` for PromQL.
    pub fn from_config(
        c: &AnalysisConfig,
        metrics_url: Option<url::Url>,
        vars: prometheus::Vars,
    ) -> Result<Sources, SourcesError> {
        let conditions: Vec<Condition> = c.conditions.iter().map(Condition::from_config).collect();
        let mut s = Sources::new(conditions, c.consecutive_failures());
        if s.wants(SourceKind::Metrics) {
            let m = c.metrics.clone().unwrap_or_default();
            let url = match &m.url {
                Some(u) => url::Url::parse(u).map_err(|source| SourcesError::MetricsUrl {
                    url: u.clone(),
                    source,
                })?,
                None => metrics_url.ok_or(SourcesError::NoMetricsUrl)?,
            };
            s = s.with_source(
                SourceKind::Metrics,
                Box::new(metrics::MetricsSource::new(
                    url,
                    m.timeout(),
                    m.max_bytes(),
                    c.interval(),
                )),
                m.consecutive_error_limit(),
            );
        }
        if s.wants(SourceKind::Prometheus) {
            let p = c.prometheus.clone().ok_or(SourcesError::NoPrometheus)?;
            let url = url::Url::parse(&p.url).map_err(|source| SourcesError::PrometheusUrl {
                url: p.url.clone(),
                source,
            })?;
            // Read now, so an unset variable or a missing file stops the
            // watch before it starts, naming the setting.
            let (token, setting) = match (&p.token_env, &p.token_file) {
                (Some(var), _) => (
                    Some(runway_config::token::from_env(
                        var,
                        "`analysis.prometheus.token_env`",
                    )?),
                    format!("`analysis.prometheus.token_env` (`{var}`)"),
                ),
                (None, Some(file)) => (
                    Some(runway_config::token::from_file(
                        std::path::Path::new(file),
                        "`analysis.prometheus.token_file`",
                    )?),
                    format!("`analysis.prometheus.token_file` (`{file}`)"),
                ),
                (None, None) => (None, "`analysis.prometheus.token_env`".to_owned()),
            };
            s = s.with_source(
                SourceKind::Prometheus,
                Box::new(
                    prometheus::PrometheusSource::new(url, p.timeout(), p.max_bytes(), vars)
                        .with_token(token, setting)
                        .with_concurrency(p.concurrency()),
                ),
                p.consecutive_error_limit(),
            );
        }
        Ok(s)
    }

    /// Conditions with no source yet; add them with [`Sources::with_source`].
    pub fn new(conditions: Vec<Condition>, consecutive_failures: u32) -> Sources {
        let n = conditions.len();
        Sources {
            conditions,
            sources: Vec::new(),
            consecutive_failures: consecutive_failures.max(1),
            baselines: vec![None; n],
            tracks: vec![Track::default(); n],
        }
    }

    /// Puts `source` behind the conditions of `kind`, with its error limit.
    pub fn with_source(
        mut self,
        kind: SourceKind,
        source: Box<dyn Source>,
        error_limit: u32,
    ) -> Self {
        self.sources.retain(|(k, _, _)| *k != kind);
        self.sources.push((kind, source, error_limit.max(1)));
        self
    }

    /// Whether `kind` has a source behind its conditions.
    pub fn has_source(&self, kind: SourceKind) -> bool {
        self.sources.iter().any(|(k, _, _)| *k == kind)
    }

    /// Whether any condition reads `kind`.
    pub fn wants(&self, kind: SourceKind) -> bool {
        self.conditions.iter().any(|c| c.source == kind)
    }

    fn source_mut(&mut self, kind: SourceKind) -> Option<&mut Box<dyn Source>> {
        self.sources
            .iter_mut()
            .find(|(k, _, _)| *k == kind)
            .map(|(_, s, _)| s)
    }

    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }

    fn error_limit(&self, k: SourceKind) -> u32 {
        self.sources
            .iter()
            .find(|(kind, _, _)| *kind == k)
            .map(|(_, _, l)| *l)
            .unwrap_or(4)
    }

    fn indices(&self, k: SourceKind) -> Vec<usize> {
        (0..self.conditions.len())
            .filter(|i| self.conditions[*i].source == k)
            .collect()
    }

    /// Takes the previous version's readings (call it before the deploy).
    pub async fn capture_baseline(&mut self) {
        for kind in SourceKind::ALL {
            let idx = self.indices(kind);
            let conds: Vec<Condition> = idx.iter().map(|i| self.conditions[*i].clone()).collect();
            let refs: Vec<&Condition> = conds.iter().collect();
            let src = self.source_mut(kind);
            let Some(src) = src else { continue };
            let got = src.baseline(&refs).await;
            for (i, b) in idx.into_iter().zip(got) {
                self.baselines[i] = b;
            }
        }
    }

    /// Reads `kind`'s conditions once without judging them, so the next
    /// [`Sources::tick`] has a reading before it to compare with (a
    /// `metrics` source's first scrape; the monitor takes it at start).
    pub async fn prime(&mut self, kind: SourceKind) {
        let idx = self.indices(kind);
        if idx.is_empty() {
            return;
        }
        let conds: Vec<Condition> = idx.iter().map(|i| self.conditions[*i].clone()).collect();
        let refs: Vec<&Condition> = conds.iter().collect();
        let src = self.source_mut(kind);
        if let Some(src) = src {
            src.read(&refs).await;
        }
    }

    /// Reads and judges every condition once. A condition whose source has
    /// none is an error reading.
    pub async fn tick(&mut self) -> Vec<Evaluation> {
        let mut readings: Vec<Reading> =
            vec![Reading::Error("no source".into()); self.conditions.len()];
        for kind in SourceKind::ALL {
            let idx = self.indices(kind);
            if idx.is_empty() {
                continue;
            }
            let conds: Vec<Condition> = idx.iter().map(|i| self.conditions[*i].clone()).collect();
            let refs: Vec<&Condition> = conds.iter().collect();
            let src = self.source_mut(kind);
            let got = match src {
                Some(src) => src.read(&refs).await,
                None => vec![
                    Reading::Error(format!("no `{}` source is configured", kind.as_str()));
                    idx.len()
                ],
            };
            for (i, r) in idx.into_iter().zip(got) {
                readings[i] = r;
            }
        }
        let mut out = Vec::with_capacity(self.conditions.len());
        for (i, r) in readings.iter().enumerate() {
            let e = self.conditions[i].judge(r, self.baselines[i].as_ref());
            let limit = self.error_limit(self.conditions[i].source);
            let needed = self.consecutive_failures;
            let t = &mut self.tracks[i];
            match (e.verdict, e.error) {
                (Verdict::Pass, _) => {
                    t.passed += 1;
                    t.fail_run = 0;
                    t.error_run = 0;
                }
                (Verdict::Fail, _) => {
                    t.failed += 1;
                    t.fail_run += 1;
                    t.error_run = 0;
                    t.last_fail = Some(e.message.clone());
                    if t.fail_run >= needed && t.failed_with.is_none() {
                        t.failed_with = Some(e.message.clone());
                    }
                }
                (Verdict::Inconclusive, true) => {
                    t.errors += 1;
                    t.error_run += 1;
                    if t.error_run >= limit && t.errored_with.is_none() {
                        t.errored_with = Some(format!(
                            "{} errors in a row (limit {limit}), the last: {}",
                            t.error_run, e.message
                        ));
                    }
                }
                // Nothing to judge neither counts toward a failing run nor breaks it.
                (Verdict::Inconclusive, false) => {
                    t.empty += 1;
                    t.error_run = 0;
                }
            }
            t.last = Some(e.clone());
            if t.judged.len() >= MAX_EVALUATIONS {
                t.judged.pop_front();
                t.dropped += 1;
            }
            t.judged.push_back(Judged {
                at: chrono::Utc::now(),
                value: e.value,
                verdict: e.verdict,
                error: e.error,
                message: e.message.clone(),
            });
            out.push(e);
        }
        out
    }

    /// A condition has failed `consecutive_failures` ticks in a row: the watch can stop.
    pub fn failed_early(&self) -> bool {
        self.tracks.iter().any(|t| t.failed_with.is_some())
    }

    /// Each condition over the watch so far.
    pub fn summaries(&self) -> Vec<ConditionSummary> {
        self.conditions
            .iter()
            .zip(&self.tracks)
            .zip(&self.baselines)
            .map(|((c, t), b)| {
                let (verdict, reason) = if let Some(m) = &t.failed_with {
                    (
                        Verdict::Fail,
                        format!(
                            "condition `{}` ({}) failed {} times in a row: {m}",
                            c.name,
                            c.source.as_str(),
                            self.consecutive_failures
                        ),
                    )
                } else if t.failed > t.passed {
                    (
                        Verdict::Fail,
                        format!(
                            "condition `{}` ({}) failed {} of {} judged readings, the last: {}",
                            c.name,
                            c.source.as_str(),
                            t.failed,
                            t.failed + t.passed,
                            t.last_fail.as_deref().unwrap_or_default()
                        ),
                    )
                } else if let Some(m) = &t.errored_with {
                    (
                        Verdict::Inconclusive,
                        format!("condition `{}` ({}): {m}", c.name, c.source.as_str()),
                    )
                } else if t.passed == 0 {
                    let last = t
                        .last
                        .as_ref()
                        .map(|e| e.message.clone())
                        .unwrap_or_else(|| "never read".into());
                    (
                        Verdict::Inconclusive,
                        format!(
                            "condition `{}` ({}) was never judged: {last}",
                            c.name,
                            c.source.as_str()
                        ),
                    )
                } else {
                    (Verdict::Pass, String::new())
                };
                ConditionSummary {
                    condition: c.name.clone(),
                    source: c.source,
                    verdict,
                    passed: t.passed,
                    failed: t.failed,
                    empty: t.empty,
                    errors: t.errors,
                    last_value: t.last.as_ref().and_then(|e| e.value),
                    reason,
                    expression: c.expression(),
                    max: c.max,
                    min: c.min,
                    baseline_factor: c.baseline_factor,
                    baseline: match b {
                        Some(Reading::Value(v)) => Some(*v),
                        _ => None,
                    },
                    evaluations: t.judged.iter().cloned().collect(),
                    evaluations_dropped: t.dropped,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
