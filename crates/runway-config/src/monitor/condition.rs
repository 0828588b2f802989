//! The alert condition of `[[alerts]] when`: `error_rate > 0.05`,
//! `p95 > 3s`, `down`, `failing(CHECK_ID)`, parsed when `runway.toml` is
//! loaded so that a typo fails with its line and column.

use std::fmt;

use serde::{Deserialize, Deserializer, de::Error as _};

/// What a condition measures over its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Share of runs that passed (0..1).
    Availability,
    /// Share of runs that failed (0..1).
    ErrorRate,
    /// Share of runs that failed on authentication (0..1).
    AuthFailureRate,
    /// Latency percentiles of the runs, in milliseconds.
    P50,
    P95,
    P99,
    /// Days left on the TLS certificate.
    CertDays,
    /// Time left on the bearer token, in seconds.
    TokenExpiry,
    /// The last run failed.
    Down,
    /// The named check failed in the last run that ran it (`failing(mcp.call.search)`).
    CheckFailing,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Availability => "availability",
            Metric::ErrorRate => "error_rate",
            Metric::AuthFailureRate => "auth_failure_rate",
            Metric::P50 => "p50",
            Metric::P95 => "p95",
            Metric::P99 => "p99",
            Metric::CertDays => "cert_days",
            Metric::TokenExpiry => "token_expiry",
            Metric::Down => "down",
            Metric::CheckFailing => "failing",
        }
    }

    const ALL: [Metric; 9] = [
        Metric::Availability,
        Metric::ErrorRate,
        Metric::AuthFailureRate,
        Metric::P50,
        Metric::P95,
        Metric::P99,
        Metric::CertDays,
        Metric::TokenExpiry,
        Metric::Down,
    ];

    fn is_ratio(self) -> bool {
        matches!(
            self,
            Metric::Availability | Metric::ErrorRate | Metric::AuthFailureRate
        )
    }

    fn is_duration(self) -> bool {
        matches!(
            self,
            Metric::P50 | Metric::P95 | Metric::P99 | Metric::TokenExpiry
        )
    }
}

/// A comparison in a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        }
    }

    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::Gt => value > threshold,
            Op::Ge => value >= threshold,
            Op::Lt => value < threshold,
            Op::Le => value <= threshold,
        }
    }
}

/// How a condition is written, for the messages that refuse one.
const CONDITION_SHAPE: &str = "write it as `error_rate > 0.05`, `p95 > 3s`, `cert_days < 14`, `down` or `failing(mcp.call.search)`";

/// The measures a condition may name, as its messages list them.
fn measure_names() -> String {
    Metric::ALL
        .iter()
        .map(|m| format!("`{}`", m.as_str()))
        .chain(std::iter::once("`failing(CHECK_ID)`".to_owned()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why [`Condition::parse`] refused a condition; each names the text as written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConditionError {
    #[error(
        "`{text}`: name the check as `failing(CHECK_ID)`, e.g. `failing(mcp.call.search)` (ids as `runway verify --list-checks` prints them)"
    )]
    NoCheckId { text: String },
    #[error(
        "`{text}` has an unknown measure `{name}`: use one of {}",
        measure_names()
    )]
    UnknownMeasure { text: String, name: String },
    #[error("`{text}` has no comparison: {}", CONDITION_SHAPE)]
    NoComparison { text: String },
    #[error("`{text}`: `down` takes no comparison, write `down`")]
    DownCompared { text: String },
    #[error("`{text}`: {}", CONDITION_SHAPE)]
    NoOperator { text: String },
    #[error(
        "`{text}`: `{value}` is not a duration; `{}` takes one such as `3s` or `500ms`",
        metric.as_str()
    )]
    NotADuration {
        text: String,
        value: String,
        metric: Metric,
    },
    #[error("`{text}`: `{value}` is not a number")]
    NotANumber { text: String, value: String },
    #[error("`{text}`: `{value}` must be between 0 and 1 (0.05 means 5%)")]
    NotARatio { text: String, value: f64 },
}

/// A parsed `when`: `metric op threshold`, `down`, or `failing(CHECK_ID)`.
/// Durations are kept in milliseconds for percentiles and seconds for
/// `token_expiry`; ratios as 0..1.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub metric: Metric,
    /// `None` only for `down` and `failing(..)`.
    pub compare: Option<(Op, f64)>,
    /// The check id of `failing(..)`.
    pub check: Option<String>,
    /// As written, for messages and notifications.
    pub text: String,
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Condition {
    pub fn parse(text: &str) -> Result<Condition, ConditionError> {
        let t = text.trim();
        if let Some(inner) = t.strip_prefix("failing") {
            let inner = inner.trim();
            let id = inner
                .strip_prefix('(')
                .and_then(|x| x.strip_suffix(')'))
                .map(str::trim)
                .filter(|id| {
                    !id.is_empty()
                        && id.chars().all(|c| {
                            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/')
                        })
                })
                .ok_or_else(|| ConditionError::NoCheckId { text: text.into() })?;
            return Ok(Condition {
                metric: Metric::CheckFailing,
                compare: None,
                check: Some(id.to_owned()),
                text: t.to_owned(),
            });
        }
        let op_at = t.find(['<', '>']);
        let (name, rest) = match op_at {
            Some(i) => (t[..i].trim(), Some(&t[i..])),
            None => (t, None),
        };
        let Some(metric) = Metric::ALL.into_iter().find(|m| m.as_str() == name) else {
            return Err(ConditionError::UnknownMeasure {
                text: text.into(),
                name: name.into(),
            });
        };
        let Some(rest) = rest else {
            if metric == Metric::Down {
                return Ok(Condition {
                    metric,
                    compare: None,
                    check: None,
                    text: t.to_owned(),
                });
            }
            return Err(ConditionError::NoComparison { text: text.into() });
        };
        if metric == Metric::Down {
            return Err(ConditionError::DownCompared { text: text.into() });
        }
        let (op, value) = if let Some(v) = rest.strip_prefix(">=") {
            (Op::Ge, v)
        } else if let Some(v) = rest.strip_prefix("<=") {
            (Op::Le, v)
        } else if let Some(v) = rest.strip_prefix('>') {
            (Op::Gt, v)
        } else if let Some(v) = rest.strip_prefix('<') {
            (Op::Lt, v)
        } else {
            return Err(ConditionError::NoOperator { text: text.into() });
        };
        let value = value.trim();
        let threshold = if metric.is_duration() {
            let d = humantime::parse_duration(value).map_err(|_| ConditionError::NotADuration {
                text: text.into(),
                value: value.into(),
                metric,
            })?;
            if metric == Metric::TokenExpiry {
                d.as_secs_f64()
            } else {
                d.as_secs_f64() * 1000.0
            }
        } else {
            let v: f64 = value
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| ConditionError::NotANumber {
                    text: text.into(),
                    value: value.into(),
                })?;
            if metric.is_ratio() && !(0.0..=1.0).contains(&v) {
                return Err(ConditionError::NotARatio {
                    text: text.into(),
                    value: v,
                });
            }
            v
        };
        Ok(Condition {
            metric,
            compare: Some((op, threshold)),
            check: None,
            text: t.to_owned(),
        })
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Condition::parse(&s).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_parse_every_measure_and_refuse_nonsense() {
        assert_eq!(Condition::parse("down").unwrap().compare, None);
        assert_eq!(
            Condition::parse("token_expiry < 5m").unwrap().compare,
            Some((Op::Lt, 300.0))
        );
        assert_eq!(
            Condition::parse("cert_days <= 14").unwrap().compare,
            Some((Op::Le, 14.0))
        );
        assert_eq!(
            Condition::parse("availability<0.95").unwrap().compare,
            Some((Op::Lt, 0.95))
        );
        let e = Condition::parse("errors > 1").unwrap_err().to_string();
        assert!(e.contains("unknown measure `errors`"), "{e}");
        assert!(e.contains("`error_rate`"), "{e}");
        assert!(
            Condition::parse("error_rate > 5")
                .unwrap_err()
                .to_string()
                .contains("between 0 and 1")
        );
        assert!(
            Condition::parse("p95 > 3")
                .unwrap_err()
                .to_string()
                .contains("not a duration")
        );
        assert!(
            Condition::parse("p95")
                .unwrap_err()
                .to_string()
                .contains("no comparison")
        );
        assert!(
            Condition::parse("down > 1")
                .unwrap_err()
                .to_string()
                .contains("no comparison")
        );
    }

    #[test]
    fn a_named_check_condition_parses_and_a_bad_one_says_how() {
        let c = Condition::parse("failing(mcp.call.search)").unwrap();
        assert_eq!(c.metric, Metric::CheckFailing);
        assert_eq!(c.check.as_deref(), Some("mcp.call.search"));
        assert_eq!(c.compare, None);
        assert_eq!(
            Condition::parse(" failing( http.health ) ")
                .unwrap()
                .check
                .as_deref(),
            Some("http.health")
        );
        for bad in ["failing", "failing()", "failing(a b)", "failing(x"] {
            let e = Condition::parse(bad).unwrap_err().to_string();
            assert!(e.contains("failing(CHECK_ID)"), "{bad}: {e}");
        }
    }
}
