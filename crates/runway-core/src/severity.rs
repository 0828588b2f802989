//! Incident severities P0-P3 and the response time each one implies.
//!
//! The numbers come from the runbooks in ../shared/seeds/: P0 < 15 minutes,
//! P1 < 1 hour, P2 < 4 hours, P3 next business day (counted as 24 hours).

use std::{fmt, str::FromStr, time::Duration};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    P0,
    P1,
    P2,
    P3,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::P0, Severity::P1, Severity::P2, Severity::P3];

    /// The time within which someone must respond.
    pub fn response_time(self) -> Duration {
        let minutes = match self {
            Severity::P0 => 15,
            Severity::P1 => 60,
            Severity::P2 => 4 * 60,
            Severity::P3 => 24 * 60,
        };
        Duration::from_secs(minutes * 60)
    }

    /// What the runbook says to do at this severity.
    pub fn action(self) -> &'static str {
        match self {
            Severity::P0 => "immediate rollback, then investigate",
            Severity::P1 => "investigate; fix if quick, otherwise roll back",
            Severity::P2 => "monitor; schedule a fix for the next deployment",
            Severity::P3 => "create an issue; fix in the regular cycle",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Severity::P0 => "critical: server unavailable, data loss or security breach",
            Severity::P1 => "high: partial degradation, auth failures > 50%, latency > 5x",
            Severity::P2 => "medium: intermittent errors < 10%, latency 2-5x, non-critical feature",
            Severity::P3 => "low: cosmetic, documentation, minor performance",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::P0 => "P0",
            Severity::P1 => "P1",
            Severity::P2 => "P2",
            Severity::P3 => "P3",
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown severity `{0}`: use one of P0, P1, P2, P3")]
pub struct ParseSeverityError(pub String);

impl FromStr for Severity {
    type Err = ParseSeverityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "P0" => Ok(Severity::P0),
            "P1" => Ok(Severity::P1),
            "P2" => Ok(Severity::P2),
            "P3" => Ok(Severity::P3),
            _ => Err(ParseSeverityError(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_times_follow_the_runbook() {
        assert_eq!(Severity::P0.response_time(), Duration::from_secs(15 * 60));
        assert_eq!(Severity::P1.response_time(), Duration::from_secs(3600));
        assert_eq!(Severity::P2.response_time(), Duration::from_secs(4 * 3600));
        assert_eq!(Severity::P3.response_time(), Duration::from_secs(24 * 3600));
    }

    #[test]
    fn parses_case_insensitively_and_rejects_others() {
        assert_eq!("p1".parse::<Severity>().unwrap(), Severity::P1);
        let err = "P5".parse::<Severity>().unwrap_err();
        assert!(err.to_string().contains("P0, P1, P2, P3"));
    }
}
