//! The analysis sources beside the probe: `[environments.<name>.analysis.metrics]`
//! (the server's own `/metrics`, scraped by Runway), `.analysis.prometheus` (a
//! Prometheus server's query API) and the conditions judged on them,
//! `[[environments.<name>.analysis.conditions]]`. Owned by runway-deploy.
//!
//! A series selector (`http_requests_total{code=~"5..",path="/mcp"}`) is parsed
//! here, regular expressions included, so a typo in one fails at load time at
//! its line and column, not in the middle of a watch.

use std::{collections::BTreeMap, fmt, num::NonZeroU32, time::Duration};

use serde::{Deserialize, Deserializer, de::Error as _};

use crate::duration::DurationValue;

/// How a label is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~` (anchored, as in PromQL)
    Regex,
    /// `!~`
    NotRegex,
}

/// One `label<op>"value"` of a selector.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub label: String,
    pub op: MatchOp,
    pub value: String,
    regex: Option<regex::Regex>,
}

impl Matcher {
    /// Whether a series' label value (empty when the label is absent) matches.
    pub fn matches(&self, actual: &str) -> bool {
        match self.op {
            MatchOp::Equal => actual == self.value,
            MatchOp::NotEqual => actual != self.value,
            MatchOp::Regex => self.regex.as_ref().is_some_and(|r| r.is_match(actual)),
            MatchOp::NotRegex => !self.regex.as_ref().is_some_and(|r| r.is_match(actual)),
        }
    }
}

/// A PromQL instant-vector selector without functions: `name{label="v",...}`.
#[derive(Debug, Clone)]
pub struct Selector {
    pub name: String,
    pub matchers: Vec<Matcher>,
    text: String,
}

impl PartialEq for Selector {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// How a selector is written, for the messages that refuse one.
const SELECTOR_EXAMPLE: &str = "write it as `http_requests_total{code=~\"5..\"}`";

/// Why [`Selector::parse`] refused a selector; each names the text as written.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SelectorError {
    #[error(
        "`{text}` does not start with a metric name (or select names with `{{__name__=~\"a|b\"}}`); {}",
        SELECTOR_EXAMPLE
    )]
    NoName { text: String },
    #[error("`{text}`: expected a label name at `{at}`")]
    NoLabel { text: String, at: String },
    #[error("`{text}`: label `{label}` needs `=`, `!=`, `=~` or `!~`")]
    NoOperator { text: String, label: String },
    #[error("`{text}`: the value of label `{label}` must be in double quotes")]
    Unquoted { text: String, label: String },
    #[error("`{text}`: the value of label `{label}` is not closed")]
    Unclosed { text: String, label: String },
    #[error("`{text}`: `{value}` is not a regular expression: {error}")]
    BadRegex {
        text: String,
        value: String,
        error: regex::Error,
    },
    #[error("`{text}`: labels are separated by `,` and closed by `}}`")]
    NoSeparator { text: String },
    #[error(
        "`{text}`: unexpected `{rest}` after the selector (functions such as `rate()` belong in a `prometheus` query); {}",
        SELECTOR_EXAMPLE
    )]
    Trailing { text: String, rest: String },
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

/// The label that is the metric's name in PromQL (`{__name__=~"..."}`).
pub const NAME_LABEL: &str = "__name__";

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

impl Selector {
    /// Parses `name`, `name{}`, `name{a="x",b=~"y.*"}` or, as PromQL does,
    /// `{__name__=~"a_total|b_total"}` (several metrics, summed).
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        let s = text.trim();
        let end = s.find(|c: char| !is_name_char(c)).unwrap_or(s.len());
        let name = &s[..end];
        if !name.chars().next().is_some_and(is_name_start) && !s.starts_with('{') {
            return Err(SelectorError::NoName { text: text.into() });
        }
        let mut rest = s[end..].trim_start();
        let mut matchers = Vec::new();
        if let Some(after) = rest.strip_prefix('{') {
            rest = after;
            loop {
                rest = rest.trim_start();
                if let Some(after) = rest.strip_prefix('}') {
                    rest = after;
                    break;
                }
                let lend = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
                let label = &rest[..lend];
                if !label.chars().next().is_some_and(is_name_start) {
                    return Err(SelectorError::NoLabel {
                        text: text.into(),
                        at: rest.into(),
                    });
                }
                rest = rest[lend..].trim_start();
                let (op, after) = if let Some(a) = rest.strip_prefix("=~") {
                    (MatchOp::Regex, a)
                } else if let Some(a) = rest.strip_prefix("!~") {
                    (MatchOp::NotRegex, a)
                } else if let Some(a) = rest.strip_prefix("!=") {
                    (MatchOp::NotEqual, a)
                } else if let Some(a) = rest.strip_prefix('=') {
                    (MatchOp::Equal, a)
                } else {
                    return Err(SelectorError::NoOperator {
                        text: text.into(),
                        label: label.into(),
                    });
                };
                let after = after.trim_start().strip_prefix('"').ok_or_else(|| {
                    SelectorError::Unquoted {
                        text: text.into(),
                        label: label.into(),
                    }
                })?;
                let mut value = String::new();
                let mut chars = after.char_indices();
                let close = loop {
                    match chars.next() {
                        None => {
                            return Err(SelectorError::Unclosed {
                                text: text.into(),
                                label: label.into(),
                            });
                        }
                        Some((i, '"')) => break i,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, 'n')) => value.push('\n'),
                            Some((_, c)) => value.push(c),
                            None => {
                                return Err(SelectorError::Unclosed {
                                    text: text.into(),
                                    label: label.into(),
                                });
                            }
                        },
                        Some((_, c)) => value.push(c),
                    }
                };
                let regex = match op {
                    MatchOp::Regex | MatchOp::NotRegex => Some(
                        regex::Regex::new(&format!("^(?:{value})$")).map_err(|error| {
                            SelectorError::BadRegex {
                                text: text.into(),
                                value: value.clone(),
                                error,
                            }
                        })?,
                    ),
                    _ => None,
                };
                matchers.push(Matcher {
                    label: label.to_owned(),
                    op,
                    value,
                    regex,
                });
                rest = after[close + 1..].trim_start();
                if let Some(a) = rest.strip_prefix(',') {
                    rest = a;
                } else if !rest.starts_with('}') {
                    return Err(SelectorError::NoSeparator { text: text.into() });
                }
            }
        }
        if !rest.trim().is_empty() {
            return Err(SelectorError::Trailing {
                text: text.into(),
                rest: rest.trim().into(),
            });
        }
        if name.is_empty() && !matchers.iter().any(|m| m.label == NAME_LABEL) {
            return Err(SelectorError::NoName { text: text.into() });
        }
        Ok(Selector {
            name: name.to_owned(),
            matchers,
            text: s.to_owned(),
        })
    }

    /// Whether a series (its name and labels) is selected.
    pub fn matches(&self, name: &str, labels: &BTreeMap<String, String>) -> bool {
        (self.name.is_empty() || name == self.name)
            && self.matchers.iter().all(|m| {
                if m.label == NAME_LABEL {
                    m.matches(name)
                } else {
                    m.matches(labels.get(&m.label).map(String::as_str).unwrap_or_default())
                }
            })
    }
}

impl<'de> Deserialize<'de> for Selector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Selector::parse(&s).map_err(D::Error::custom)
    }
}

/// Where a condition reads its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// The server's own `/metrics`, scraped by Runway at each interval.
    Metrics,
    /// A PromQL query to a Prometheus server.
    Prometheus,
    /// Lines of the deployed version's output matching a pattern, per minute
    /// (the process target's log file, the docker target's container logs).
    Logs,
    /// Memory (RSS) and CPU of the server's process group (the process target).
    Resources,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Metrics => "metrics",
            SourceKind::Prometheus => "prometheus",
            SourceKind::Logs => "logs",
            SourceKind::Resources => "resources",
        }
    }

    /// Every source, in the order a tick reads them.
    pub const ALL: [SourceKind; 4] = [
        SourceKind::Metrics,
        SourceKind::Prometheus,
        SourceKind::Logs,
        SourceKind::Resources,
    ];
}

/// A `logs` condition's `pattern`: a regular expression, checked at load time.
#[derive(Debug, Clone)]
pub struct LogPattern(regex::Regex);

impl LogPattern {
    /// What a `logs` condition counts when it sets no `pattern`: a JSON line
    /// whose `level` is ERROR or CRITICAL (any case), or a text line with
    /// the word ERROR, CRITICAL or FATAL in capitals.
    pub const DEFAULT: &'static str = r#"(?i:"(level|severity|levelname)"\s*:\s*"(error|critical|fatal)")|\b(ERROR|CRITICAL|FATAL)\b"#;

    pub fn parse(text: &str) -> Result<LogPattern, String> {
        regex::Regex::new(text)
            .map(LogPattern)
            .map_err(|e| format!("`{text}` is not a regular expression: {e}"))
    }

    pub fn default_pattern() -> LogPattern {
        LogPattern::parse(Self::DEFAULT).expect("the default pattern parses")
    }

    pub fn is_match(&self, line: &str) -> bool {
        self.0.is_match(line)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl PartialEq for LogPattern {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl<'de> Deserialize<'de> for LogPattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        LogPattern::parse(&s).map_err(D::Error::custom)
    }
}

/// `[environments.<name>.analysis.metrics]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSourceConfig {
    /// The exposition to scrape (default: the environment URL's origin + `/metrics`).
    pub url: Option<String>,
    /// Bound on each scrape (default `5s`).
    pub timeout: Option<DurationValue>,
    /// Largest exposition read (default 4 MiB); a bigger one is an error.
    pub max_bytes: Option<std::num::NonZeroU64>,
    /// Failed scrapes in a row that end the watch as inconclusive (default 4).
    pub consecutive_error_limit: Option<NonZeroU32>,
}

impl MetricsSourceConfig {
    pub fn timeout(&self) -> Duration {
        self.timeout
            .map(DurationValue::get)
            .unwrap_or(Duration::from_secs(5))
    }
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes.map(|v| v.get()).unwrap_or(4 * 1024 * 1024)
    }
    pub fn consecutive_error_limit(&self) -> u32 {
        self.consecutive_error_limit
            .map(NonZeroU32::get)
            .unwrap_or(4)
    }
}

/// `[environments.<name>.analysis.prometheus]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusSourceConfig {
    /// The server's base URL, e.g. `http://127.0.0.1:9090` (`/api/v1/query` is appended).
    pub url: String,
    /// Bound on each query (default `10s`).
    pub timeout: Option<DurationValue>,
    /// Largest answer read (default 1 MiB).
    pub max_bytes: Option<std::num::NonZeroU64>,
    /// Failed queries in a row that end the watch as inconclusive (default 4).
    pub consecutive_error_limit: Option<NonZeroU32>,
    /// Queries in flight at once (default 8); each keeps its own `timeout`.
    pub concurrency: Option<NonZeroU32>,
    /// Variable holding a bearer token sent as `Authorization: Bearer`.
    pub token_env: Option<String>,
    /// File holding that token (relative to `runway.toml`'s directory).
    pub token_file: Option<String>,
}

impl PrometheusSourceConfig {
    pub fn concurrency(&self) -> usize {
        self.concurrency.map(|n| n.get() as usize).unwrap_or(8)
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
            .map(DurationValue::get)
            .unwrap_or(Duration::from_secs(10))
    }
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes.map(|v| v.get()).unwrap_or(1024 * 1024)
    }
    pub fn consecutive_error_limit(&self) -> u32 {
        self.consecutive_error_limit
            .map(NonZeroU32::get)
            .unwrap_or(4)
    }
}

fn quantile<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = f64::deserialize(d)?;
    if v > 0.0 && v < 1.0 {
        Ok(Some(v))
    } else {
        Err(D::Error::custom(format!(
            "`{v}` must be between 0 and 1, exclusive (0.95 is p95)"
        )))
    }
}

fn positive<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = f64::deserialize(d)?;
    if v.is_finite() && v > 0.0 {
        Ok(Some(v))
    } else {
        Err(D::Error::custom(format!(
            "`{v}` must be a number above 0 (1.5 means \"no worse than 1.5x the baseline\")"
        )))
    }
}

fn finite<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = f64::deserialize(d)?;
    if v.is_finite() {
        Ok(Some(v))
    } else {
        Err(D::Error::custom(format!("`{v}` must be a finite number")))
    }
}

/// The format `[environments.<name>.logs]` requires of each line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLineFormat {
    /// One JSON object per line with the `fields`.
    #[default]
    Json,
}

/// `[environments.<name>.logs]`: what the server's output must look like
/// (Hostaway 6: "JSON logs with timestamp, level, correlation_id, message").
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsPolicyConfig {
    /// `json` (the only format so far, and the default).
    #[serde(default)]
    pub format: LogLineFormat,
    /// Keys every line must have (default `timestamp`, `level`, `message`).
    pub fields: Option<Vec<String>>,
    /// How many of the newest lines are checked (default 200, at most 10000).
    pub lines: Option<std::num::NonZeroUsize>,
}

impl LogsPolicyConfig {
    pub const DEFAULT_FIELDS: [&'static str; 3] = ["timestamp", "level", "message"];
    pub const MAX_LINES: usize = 10_000;

    pub fn fields(&self) -> Vec<String> {
        self.fields.clone().unwrap_or_else(|| {
            Self::DEFAULT_FIELDS
                .iter()
                .map(|f| (*f).to_owned())
                .collect()
        })
    }

    pub fn lines(&self) -> usize {
        self.lines.map(|n| n.get()).unwrap_or(200)
    }

    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        if let Some(f) = &self.fields {
            if f.is_empty() {
                return Err((
                    "fields".into(),
                    "`fields` is empty: name the keys every line must have, e.g. [\"timestamp\", \"level\", \"correlation_id\", \"message\"], or leave it out for the default".into(),
                ));
            }
            if let Some(bad) = f.iter().find(|k| k.trim().is_empty()) {
                return Err(("fields".into(), format!("`{bad:?}` is not a key name")));
            }
        }
        if self.lines() > Self::MAX_LINES {
            return Err((
                "lines".into(),
                format!(
                    "`lines = {}` is more than the {} lines a check reads",
                    self.lines(),
                    Self::MAX_LINES
                ),
            ));
        }
        Ok(())
    }
}

/// `[[environments.<name>.analysis.conditions]]`: one number, where it comes
/// from, and the bounds it must stay within.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionConfig {
    /// Named in the watch's output, the deployment record and the incident.
    pub name: String,
    pub source: Option<SourceKind>,
    /// `metrics`: the ratio of the increase of `numerator` to that of `denominator`.
    pub numerator: Option<Selector>,
    pub denominator: Option<Selector>,
    /// `metrics`: the increase of these counters.
    pub increase: Option<Selector>,
    /// `metrics`: a quantile (`quantile`, default 0.95) of this histogram, in its unit.
    pub histogram: Option<Selector>,
    #[serde(default, deserialize_with = "quantile")]
    pub quantile: Option<f64>,
    /// `metrics`: how far back each evaluation looks (default: one interval).
    pub window: Option<DurationValue>,
    /// `metrics`: fewer requests (ratio denominator, histogram count) is inconclusive (default 1).
    pub min_requests: Option<std::num::NonZeroU64>,
    /// `prometheus`: a PromQL query with one result; `{version}`, `{environment}` substituted.
    pub query: Option<String>,
    /// The value must be at most this.
    #[serde(default, deserialize_with = "finite")]
    pub max: Option<f64>,
    /// The value must be at least this.
    #[serde(default, deserialize_with = "finite")]
    pub min: Option<f64>,
    /// The value must be at most this many times the previous version's.
    #[serde(default, deserialize_with = "positive")]
    pub baseline_factor: Option<f64>,
    /// `logs`: the lines counted (a regular expression; default
    /// [`LogPattern::DEFAULT`], ERROR/CRITICAL lines).
    pub pattern: Option<LogPattern>,
    /// `logs`: at most this many matching lines per minute.
    #[serde(default, deserialize_with = "finite")]
    pub max_per_minute: Option<f64>,
    /// `resources`: the process group's resident memory at most this many MiB.
    #[serde(default, deserialize_with = "positive")]
    pub memory_max_mb: Option<f64>,
    /// `resources`: resident memory at most this share of `memory_limit_mb`.
    #[serde(default, deserialize_with = "positive")]
    pub memory_max_ratio: Option<f64>,
    /// `resources`: the memory the server may use, in MiB (for `memory_max_ratio`).
    #[serde(default, deserialize_with = "positive")]
    pub memory_limit_mb: Option<f64>,
    /// `resources`: CPU time per wall-clock time between ticks at most this
    /// (1.0 is one core busy all the time).
    #[serde(default, deserialize_with = "positive")]
    pub cpu_max_ratio: Option<f64>,
}

impl ConditionConfig {
    pub fn source(&self) -> SourceKind {
        self.source.unwrap_or(if self.query.is_some() {
            SourceKind::Prometheus
        } else if self.pattern.is_some() || self.max_per_minute.is_some() {
            SourceKind::Logs
        } else if self.memory_max_mb.is_some()
            || self.memory_max_ratio.is_some()
            || self.cpu_max_ratio.is_some()
        {
            SourceKind::Resources
        } else {
            SourceKind::Metrics
        })
    }
    pub fn quantile(&self) -> f64 {
        self.quantile.unwrap_or(0.95)
    }
    pub fn min_requests(&self) -> u64 {
        self.min_requests.map(|v| v.get()).unwrap_or(1)
    }

    /// `(key, message)` naming the condition.
    pub(crate) fn validate(&self, has_prometheus: bool) -> Result<(), (String, String)> {
        let name = self.name.trim();
        let err = |key: &str, m: String| Err((key.to_owned(), m));
        if name.is_empty() {
            return err("name", "a condition needs a `name`".into());
        }
        let who = format!("condition `{name}`");
        if self.source() != SourceKind::Logs {
            if self.pattern.is_some() {
                return err(
                    "pattern",
                    format!("{who}: `pattern` is for `source = \"logs\"`"),
                );
            }
            if self.max_per_minute.is_some() {
                return err(
                    "max_per_minute",
                    format!("{who}: `max_per_minute` is for `source = \"logs\"`; use `max`"),
                );
            }
        }
        let resource_bounds = [
            self.memory_max_mb.is_some(),
            self.memory_max_ratio.is_some(),
            self.cpu_max_ratio.is_some(),
        ];
        if self.source() != SourceKind::Resources
            && (resource_bounds.iter().any(|b| *b) || self.memory_limit_mb.is_some())
        {
            return err(
                "source",
                format!(
                    "{who}: `memory_max_mb`, `memory_max_ratio`, `memory_limit_mb` and `cpu_max_ratio` are for `source = \"resources\"`"
                ),
            );
        }
        if self.max.is_none()
            && self.min.is_none()
            && self.baseline_factor.is_none()
            && self.max_per_minute.is_none()
            && !resource_bounds.iter().any(|b| *b)
        {
            return err(
                "max",
                format!(
                    "{who} sets no bound: give it `max`, `min` or `baseline_factor` (`max_per_minute` for `logs`)"
                ),
            );
        }
        let forms = [
            self.numerator.is_some() || self.denominator.is_some(),
            self.increase.is_some(),
            self.histogram.is_some(),
        ];
        match self.source() {
            SourceKind::Metrics => {
                if self.query.is_some() {
                    return err(
                        "query",
                        format!(
                            "{who}: `query` is for `source = \"prometheus\"`; a `metrics` condition uses `numerator`/`denominator`, `increase` or `histogram`"
                        ),
                    );
                }
                if forms.iter().filter(|f| **f).count() != 1 {
                    return err(
                        "numerator",
                        format!(
                            "{who}: set exactly one of `numerator` with `denominator`, `increase`, or `histogram`"
                        ),
                    );
                }
                if self.numerator.is_some() != self.denominator.is_some() {
                    return err(
                        "denominator",
                        format!("{who}: a ratio needs both `numerator` and `denominator`"),
                    );
                }
                if self.quantile.is_some() && self.histogram.is_none() {
                    return err(
                        "quantile",
                        format!("{who}: `quantile` goes with `histogram`"),
                    );
                }
            }
            SourceKind::Prometheus => {
                if forms.iter().any(|f| *f) || self.window.is_some() {
                    return err(
                        "query",
                        format!(
                            "{who}: a `prometheus` condition takes a PromQL `query`, not `numerator`, `increase`, `histogram` or `window`"
                        ),
                    );
                }
                if self.query.as_deref().is_none_or(|q| q.trim().is_empty()) {
                    return err("query", format!("{who} needs a PromQL `query`"));
                }
                if !has_prometheus {
                    return err(
                        "source",
                        format!(
                            "{who} reads Prometheus, but `[analysis.prometheus]` with its `url` is not set"
                        ),
                    );
                }
            }
            SourceKind::Resources => {
                if forms.iter().any(|f| *f)
                    || self.query.is_some()
                    || self.pattern.is_some()
                    || self.max.is_some()
                    || self.min.is_some()
                    || self.window.is_some()
                {
                    return err(
                        "source",
                        format!(
                            "{who}: a `resources` condition takes one of `memory_max_mb`, `memory_max_ratio` (with `memory_limit_mb`) or `cpu_max_ratio`, and optionally `baseline_factor`"
                        ),
                    );
                }
                if resource_bounds.iter().filter(|b| **b).count() != 1 {
                    return err(
                        "memory_max_mb",
                        format!(
                            "{who}: set exactly one of `memory_max_mb`, `memory_max_ratio` or `cpu_max_ratio` (one number per condition: write two conditions for memory and CPU)"
                        ),
                    );
                }
                if self.memory_max_ratio.is_some() != self.memory_limit_mb.is_some() {
                    return err(
                        "memory_limit_mb",
                        format!(
                            "{who}: `memory_max_ratio` is a share of `memory_limit_mb` (the server's memory limit in MiB): set both"
                        ),
                    );
                }
            }
            SourceKind::Logs => {
                if forms.iter().any(|f| *f) || self.query.is_some() || self.quantile.is_some() {
                    return err(
                        "pattern",
                        format!(
                            "{who}: a `logs` condition counts lines matching `pattern` (default: ERROR/CRITICAL lines); it takes no `numerator`, `increase`, `histogram` or `query`"
                        ),
                    );
                }
                if self.max.is_some() || self.min.is_some() {
                    return err(
                        "max",
                        format!(
                            "{who}: a `logs` condition is bounded by `max_per_minute` (matching lines per minute) and/or `baseline_factor`, not `max`/`min`"
                        ),
                    );
                }
                if self.window.is_some() || self.min_requests.is_some() {
                    return err(
                        "window",
                        format!(
                            "{who}: a `logs` condition counts the lines since the previous reading; `window` and `min_requests` do not apply"
                        ),
                    );
                }
                if let Some(m) = self.max_per_minute
                    && m < 0.0
                {
                    return err(
                        "max_per_minute",
                        format!("{who}: `max_per_minute` ({m}) must be 0 or more"),
                    );
                }
            }
        }
        if let (Some(min), Some(max)) = (self.min, self.max)
            && min > max
        {
            return err(
                "min",
                format!("{who}: `min` ({min}) is above `max` ({max})"),
            );
        }
        Ok(())
    }
}

/// Checks the sources and conditions of one `analysis` table.
pub(crate) fn validate(
    metrics: Option<&MetricsSourceConfig>,
    prometheus: Option<&PrometheusSourceConfig>,
    conditions: &[ConditionConfig],
) -> Result<(), (String, String)> {
    if let Some(m) = metrics
        && let Some(u) = &m.url
        && !u.contains("${")
        && url::Url::parse(u).is_err()
    {
        return Err((
            "metrics.url".into(),
            format!("`{u}` is not a URL (e.g. `http://127.0.0.1:8080/metrics`)"),
        ));
    }
    if let Some(p) = prometheus
        && !p.url.contains("${")
        && url::Url::parse(&p.url).is_err()
    {
        return Err((
            "prometheus.url".into(),
            format!("`{}` is not a URL (e.g. `http://127.0.0.1:9090`)", p.url),
        ));
    }
    if let Some(p) = prometheus
        && p.token_env.is_some()
        && p.token_file.is_some()
    {
        return Err((
            "prometheus.token_file".into(),
            "set either `token_env` or `token_file`, not both".into(),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for c in conditions {
        c.validate(prometheus.is_some())
            .map_err(|(k, m)| (format!("conditions.{k}"), m))?;
        if !seen.insert(c.name.trim()) {
            return Err((
                "conditions.name".into(),
                format!("two conditions are named `{}`", c.name.trim()),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
