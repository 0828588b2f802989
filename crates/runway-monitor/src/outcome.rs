//! One scheduled run's result, why it failed, and what it makes of the environment.
//!
//! An alert must say what broke, so every failed run carries one [`Reason`]
//! class taken from the first failing check of its report; the environment's
//! [`EnvStatus`] follows from the class (a server that does not answer is
//! `down`, one that answers but misjudges a condition is `degraded`).

use chrono::{DateTime, Utc};
use runway_core::{CheckResult, Report, Status, Summary};
use serde::{Deserialize, Serialize};

/// Why a run failed, coarse enough to alert and count on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The host name does not resolve.
    Dns,
    /// Nothing accepted the connection.
    Connect,
    /// The TLS handshake or certificate failed.
    Tls,
    /// No answer in time (a request's timeout or the run's).
    Timeout,
    /// An HTTP status that is not the expected one (5xx, 404...).
    Status,
    /// The server answered, but not as MCP says it must.
    McpProtocol,
    /// Our credentials were refused (401/403), or the auth boundary is wrong.
    Auth,
    /// Everything answered, but a judged condition failed (a slow call, a
    /// missing tool, a wrong version).
    Condition,
}

impl Reason {
    pub const ALL: [Reason; 8] = [
        Reason::Dns,
        Reason::Connect,
        Reason::Tls,
        Reason::Timeout,
        Reason::Status,
        Reason::McpProtocol,
        Reason::Auth,
        Reason::Condition,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Dns => "dns",
            Reason::Connect => "connect",
            Reason::Tls => "tls",
            Reason::Timeout => "timeout",
            Reason::Status => "status",
            Reason::McpProtocol => "mcp_protocol",
            Reason::Auth => "auth",
            Reason::Condition => "condition",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether a failure of this class means the service is not usable.
    pub fn is_outage(self) -> bool {
        !matches!(self, Reason::Condition)
    }

    /// The class of one failing check.
    pub fn of_check(c: &CheckResult) -> Reason {
        let m = c.message.to_ascii_lowercase();
        let status = c.evidence.status;
        if m.contains("does not resolve") {
            return Reason::Dns;
        }
        if m.contains("could not connect") || m.contains("nothing listens") {
            return Reason::Connect;
        }
        if c.id == "engine.deadline" || m.contains("timed out") {
            return Reason::Timeout;
        }
        if c.group() == "tls" {
            return Reason::Tls;
        }
        if c.group() == "auth" || matches!(status, Some(401 | 403)) {
            return Reason::Auth;
        }
        if let Some(s) = status
            && (s >= 500 || (c.group() == "http" && s >= 400))
        {
            return Reason::Status;
        }
        if c.id.starts_with("mcp.call.")
            || c.id == "mcp.tools.count"
            || c.id == "mcp.tools.required"
        {
            return Reason::Condition;
        }
        if c.group() == "mcp" {
            if let Some(s) = status
                && s >= 400
            {
                return Reason::Status;
            }
            return Reason::McpProtocol;
        }
        Reason::Condition
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An environment's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvStatus {
    /// The last run passed.
    Up,
    /// The last run failed a condition, or passed with warnings: the server answers.
    Degraded,
    /// The last run could not use the server (connect, dns, tls, timeout, status, protocol, auth).
    Down,
    /// A maintenance window is open: runs still happen, alerts do not fire.
    Maintenance,
    /// No run yet.
    Unknown,
}

impl EnvStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EnvStatus::Up => "up",
            EnvStatus::Degraded => "degraded",
            EnvStatus::Down => "down",
            EnvStatus::Maintenance => "maintenance",
            EnvStatus::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<EnvStatus> {
        [
            EnvStatus::Up,
            EnvStatus::Degraded,
            EnvStatus::Down,
            EnvStatus::Maintenance,
            EnvStatus::Unknown,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

impl std::fmt::Display for EnvStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One run of an environment's suite, as the monitor keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub environment: String,
    /// When the run started.
    pub at: DateTime<Utc>,
    pub ok: bool,
    pub status: EnvStatus,
    /// Set on every failed run.
    pub reason: Option<Reason>,
    /// The first failing check's id and message, redacted as the report is.
    pub failed_check: Option<String>,
    pub message: Option<String>,
    /// How long the suite took.
    pub latency_ms: f64,
    /// Days left on the TLS certificate, when the suite read it.
    pub cert_days: Option<f64>,
    /// Seconds left on the bearer token, when it is a JWT with `exp`.
    pub token_expiry_secs: Option<f64>,
    pub summary: Summary,
    /// Every check that failed (the first is `failed_check`), for `failing(..)` rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_checks: Vec<String>,
    /// Where the run was made from (`runway monitor --location`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl Outcome {
    /// The outcome of a finished report. `maintenance` makes the status
    /// `maintenance` whatever the result.
    pub fn from_report(
        environment: &str,
        at: DateTime<Utc>,
        report: &Report,
        maintenance: bool,
    ) -> Outcome {
        let failed = report.checks.iter().find(|c| c.status == Status::Fail);
        let reason = failed.map(Reason::of_check);
        let status = if maintenance {
            EnvStatus::Maintenance
        } else {
            match reason {
                Some(r) if r.is_outage() => EnvStatus::Down,
                Some(_) => EnvStatus::Degraded,
                None if report.summary.warned > 0 => EnvStatus::Degraded,
                None => EnvStatus::Up,
            }
        };
        let cert_days = report
            .checks
            .iter()
            .find(|c| c.id == "tls.expiry" || c.id == "tls.certificate")
            .and_then(|c| c.evidence.details.get("days_left"))
            .and_then(serde_json::Value::as_f64);
        Outcome {
            environment: environment.to_owned(),
            at,
            ok: failed.is_none(),
            status,
            reason,
            failed_check: failed.map(|c| c.id.clone()),
            message: failed.map(|c| c.message.clone()),
            latency_ms: report.duration_ms,
            cert_days,
            token_expiry_secs: None,
            summary: report.summary,
            failed_checks: report
                .checks
                .iter()
                .filter(|c| c.status == Status::Fail)
                .map(|c| c.id.clone())
                .collect(),
            location: None,
        }
    }

    /// A run as the ledger stored it (no certificate or token reading, only
    /// the first failing check), for rebuilding an alert window after a restart.
    pub fn from_stored(r: &runway_ledger::MonitorResult) -> Outcome {
        Outcome {
            environment: r.environment.clone(),
            at: r.at,
            ok: r.ok,
            status: EnvStatus::parse(&r.status).unwrap_or(EnvStatus::Unknown),
            reason: r.reason.as_deref().and_then(Reason::parse),
            failed_check: r.check_id.clone(),
            message: r.message.clone(),
            latency_ms: r.latency_ms,
            cert_days: None,
            token_expiry_secs: None,
            summary: Summary::default(),
            failed_checks: r.check_id.iter().cloned().collect(),
            location: r.location.clone(),
        }
    }

    /// The run as the ledger stores it.
    pub fn to_stored(&self) -> runway_ledger::MonitorResult {
        runway_ledger::MonitorResult {
            environment: self.environment.clone(),
            at: self.at,
            ok: self.ok,
            status: self.status.as_str().to_owned(),
            reason: self.reason.map(|r| r.as_str().to_owned()),
            check_id: self.failed_check.clone(),
            message: self.message.clone(),
            latency_ms: self.latency_ms,
            location: self.location.clone(),
        }
    }

    /// A run cut at its timeout: no report, a `timeout` failure.
    pub fn timed_out(
        environment: &str,
        at: DateTime<Utc>,
        timeout: std::time::Duration,
        maintenance: bool,
    ) -> Outcome {
        Outcome {
            environment: environment.to_owned(),
            at,
            ok: false,
            status: if maintenance {
                EnvStatus::Maintenance
            } else {
                EnvStatus::Down
            },
            reason: Some(Reason::Timeout),
            failed_check: Some("monitor.timeout".into()),
            message: Some(format!(
                "the suite did not finish within its timeout ({})",
                humantime_like(timeout)
            )),
            latency_ms: timeout.as_secs_f64() * 1000.0,
            cert_days: None,
            token_expiry_secs: None,
            summary: Summary {
                failed: 1,
                ..Summary::default()
            },
            failed_checks: vec!["monitor.timeout".into()],
            location: None,
        }
    }
}

fn humantime_like(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if d.subsec_millis() != 0 || s == 0 {
        format!("{} ms", d.as_millis())
    } else if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runway_core::{Era, Evidence};

    fn report(checks: Vec<CheckResult>) -> Report {
        Report::new("t", Era::Unknown, "smoke", Utc::now(), 12.0, checks)
    }

    fn with_status(mut c: CheckResult, s: u16) -> CheckResult {
        c.evidence = Evidence {
            status: Some(s),
            ..Evidence::default()
        };
        c
    }

    #[test]
    fn each_failure_gets_its_reason_class() {
        let cases = [
            (
                CheckResult::fail(
                    "http.health",
                    "could not connect: the host `x.invalid` does not resolve (x)",
                    "h",
                ),
                Reason::Dns,
            ),
            (
                CheckResult::fail(
                    "http.health",
                    "could not connect: nothing listens on 127.0.0.1:9",
                    "h",
                ),
                Reason::Connect,
            ),
            (
                CheckResult::fail("mcp.handshake", "no response: timed out after 10s", "h"),
                Reason::Timeout,
            ),
            (
                CheckResult::fail("engine.deadline", "budget ran out", "h"),
                Reason::Timeout,
            ),
            (
                CheckResult::fail("tls.certificate", "does not verify", "h"),
                Reason::Tls,
            ),
            (
                with_status(CheckResult::fail("http.health", "503", "h"), 503),
                Reason::Status,
            ),
            (
                with_status(CheckResult::fail("mcp.handshake", "401", "h"), 401),
                Reason::Auth,
            ),
            (
                CheckResult::fail("auth.no_token", "200 without a token", "h"),
                Reason::Auth,
            ),
            (
                with_status(CheckResult::fail("mcp.handshake", "not JSON-RPC", "h"), 200),
                Reason::McpProtocol,
            ),
            (
                CheckResult::fail("mcp.call.echo", "took 4 s (max 3 s)", "h"),
                Reason::Condition,
            ),
        ];
        for (c, want) in cases {
            assert_eq!(Reason::of_check(&c), want, "{}: {}", c.id, c.message);
        }
    }

    #[test]
    fn status_follows_the_class_and_maintenance_overrides_it() {
        let now = Utc::now();
        let up = report(vec![CheckResult::pass("mcp.handshake", "ok")]);
        assert_eq!(
            Outcome::from_report("p", now, &up, false).status,
            EnvStatus::Up
        );
        let slow = report(vec![
            CheckResult::pass("mcp.handshake", "ok"),
            CheckResult::fail("mcp.call.echo", "slow", "h"),
        ]);
        let o = Outcome::from_report("p", now, &slow, false);
        assert_eq!(
            (o.status, o.reason, o.ok),
            (EnvStatus::Degraded, Some(Reason::Condition), false)
        );
        assert_eq!(o.failed_check.as_deref(), Some("mcp.call.echo"));
        let down = report(vec![CheckResult::fail(
            "http.health",
            "could not connect: nothing listens on x",
            "h",
        )]);
        assert_eq!(
            Outcome::from_report("p", now, &down, false).status,
            EnvStatus::Down
        );
        assert_eq!(
            Outcome::from_report("p", now, &down, true).status,
            EnvStatus::Maintenance
        );
        let warned = report(vec![CheckResult::warn("mcp.sse.priming", "w", "h")]);
        assert_eq!(
            Outcome::from_report("p", now, &warned, false).status,
            EnvStatus::Degraded
        );
    }
}
