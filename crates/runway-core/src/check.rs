//! A check result and the report that collects them.
//!
//! The JSON form of [`Report`] is a public, versioned schema (`runway.report/v1`):
//! CI systems parse it, so fields are only ever added, never renamed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::era::Era;

/// The identifier of the report's JSON schema; bump the suffix on a breaking change.
pub const REPORT_SCHEMA: &str = "runway.report/v1";

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// What a check saw: enough for a human to believe the verdict without re-running it.
///
/// Every field is optional because a check may fail before it sees a response.
/// Header values and body excerpts pass through a [`crate::Redactor`] before
/// they are stored here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_excerpt: Option<String>,
    /// Check-specific facts (latency percentiles, tool names, expiry days...).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Stable, dotted identifier such as `auth.no_token` or `mcp.tools.list`.
    pub id: String,
    pub status: Status,
    /// One line saying what was found.
    pub message: String,
    pub duration_ms: f64,
    #[serde(default)]
    pub evidence: Evidence,
    /// How to fix it; present on every warn and fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl CheckResult {
    pub fn new(id: impl Into<String>, status: Status, message: impl Into<String>) -> Self {
        CheckResult {
            id: id.into(),
            status,
            message: message.into(),
            duration_ms: 0.0,
            evidence: Evidence::default(),
            hint: None,
        }
    }

    pub fn pass(id: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(id, Status::Pass, message)
    }

    pub fn warn(
        id: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::new(id, Status::Warn, message).with_hint(hint)
    }

    pub fn fail(
        id: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::new(id, Status::Fail, message).with_hint(hint)
    }

    pub fn skip(id: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(id, Status::Skip, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_evidence(mut self, evidence: Evidence) -> Self {
        self.evidence = evidence;
        self
    }

    pub fn with_duration_ms(mut self, ms: f64) -> Self {
        self.duration_ms = ms;
        self
    }

    /// The group a check belongs to: the part of its id before the first dot.
    pub fn group(&self) -> &str {
        self.id.split('.').next().unwrap_or(&self.id)
    }
}

/// Counts of each status in a report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub passed: usize,
    pub warned: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Summary {
    pub fn of(checks: &[CheckResult]) -> Summary {
        let mut s = Summary::default();
        for c in checks {
            match c.status {
                Status::Pass => s.passed += 1,
                Status::Warn => s.warned += 1,
                Status::Fail => s.failed += 1,
                Status::Skip => s.skipped += 1,
            }
        }
        s
    }

    pub fn total(&self) -> usize {
        self.passed + self.warned + self.failed + self.skipped
    }
}

/// A whole verification run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`REPORT_SCHEMA`].
    pub schema: String,
    /// The URL, environment name or stdio command line verified (without secrets).
    pub target: String,
    /// The protocol era the server spoke.
    pub era: Era,
    /// The suite that ran (`smoke`, `full`, `conformance`).
    pub suite: String,
    /// RFC 3339 UTC time the run started.
    pub started_at: String,
    pub duration_ms: f64,
    pub summary: Summary,
    pub checks: Vec<CheckResult>,
}

impl Report {
    pub fn new(
        target: impl Into<String>,
        era: Era,
        suite: impl Into<String>,
        started_at: chrono::DateTime<chrono::Utc>,
        duration_ms: f64,
        checks: Vec<CheckResult>,
    ) -> Report {
        Report {
            schema: REPORT_SCHEMA.to_owned(),
            target: target.into(),
            era,
            suite: suite.into(),
            started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            duration_ms,
            summary: Summary::of(&checks),
            checks,
        }
    }

    /// True when no check failed (warnings do not fail a run).
    pub fn ok(&self) -> bool {
        self.summary.failed == 0
    }

    pub fn check(&self, id: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// Adds a check made outside the engine (the server's output, read
    /// through its deploy target), keeping the summary true.
    pub fn push(&mut self, check: CheckResult) {
        self.checks.push(check);
        self.summary = Summary::of(&self.checks);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_each_status_and_ok_ignores_warnings() {
        let checks = vec![
            CheckResult::pass("http.health", "ok"),
            CheckResult::warn("ratelimit.burst", "no 429", "configure a limit"),
            CheckResult::skip("tls.expiry", "plain http"),
        ];
        let report = Report::new(
            "http://x",
            Era::Unknown,
            "smoke",
            chrono::Utc::now(),
            1.0,
            checks,
        );
        assert_eq!(
            report.summary,
            Summary {
                passed: 1,
                warned: 1,
                failed: 0,
                skipped: 1
            }
        );
        assert!(report.ok());
        assert_eq!(
            report.check("ratelimit.burst").unwrap().group(),
            "ratelimit"
        );
    }

    #[test]
    fn json_has_the_documented_top_level_fields() {
        let report = Report::new(
            "http://x",
            Era::from_version("2025-11-25"),
            "smoke",
            chrono::Utc::now(),
            1.0,
            vec![CheckResult::fail(
                "auth.no_token",
                "got 200",
                "require a bearer token",
            )],
        );
        let v = serde_json::to_value(&report).unwrap();
        for key in ["schema", "target", "era", "summary", "checks"] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["schema"], REPORT_SCHEMA);
        assert_eq!(v["era"]["kind"], "session");
        assert_eq!(v["checks"][0]["status"], "fail");
        assert_eq!(v["summary"]["failed"], 1);
        assert!(!report.ok());
    }
}
