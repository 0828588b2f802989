//! What the ledger holds: records, each with an append-only list of events.
//!
//! A record is written once (its `created` event) and then only grows: a status
//! change or a note is a new event, never an edit. A record's current status is
//! the status of its latest event that carries one. The typed bodies
//! ([`Release`], [`Deployment`], [`Verification`], [`Incident`]) are stored as
//! JSON, so a field can be added without a migration; the columns the queries
//! filter on (`environment`, `version`, `created_at`, `ref_id`) are real columns.

use std::{collections::BTreeMap, fmt, str::FromStr};

use chrono::{DateTime, SubsecRound, Utc};
use runway_core::{CheckResult, Severity, Summary, ToolSurface};
use serde::{Deserialize, Serialize};

use crate::{
    LedgerError,
    deployment::{Changes, GateRecord},
};

/// The kinds of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Release,
    Deployment,
    Verification,
    Incident,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::Release,
        Kind::Deployment,
        Kind::Verification,
        Kind::Incident,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Release => "release",
            Kind::Deployment => "deployment",
            Kind::Verification => "verification",
            Kind::Incident => "incident",
        }
    }

    /// The prefix of this kind's record ids (`dep-1a2b3c4d5e6f`).
    pub fn id_prefix(self) -> &'static str {
        match self {
            Kind::Release => "rel",
            Kind::Deployment => "dep",
            Kind::Verification => "ver",
            Kind::Incident => "inc",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = LedgerError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| LedgerError::Invalid {
                what: format!(
                    "unknown record kind `{s}`: use one of release, deployment, verification, incident"
                ),
            })
    }
}

/// What an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Created,
    Status,
    Note,
    /// A later fact about a deployment (gates, the target's answer, the
    /// watch's analysis, a rollback, logs): see [`crate::DeploymentFact`].
    Fact,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Status => "status",
            EventKind::Note => "note",
            EventKind::Fact => "fact",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<EventKind, LedgerError> {
        match s {
            "created" => Ok(EventKind::Created),
            "status" => Ok(EventKind::Status),
            "note" => Ok(EventKind::Note),
            "fact" => Ok(EventKind::Fact),
            other => Err(LedgerError::Corrupt {
                what: format!("unknown event kind `{other}`"),
            }),
        }
    }
}

/// One entry in a record's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// UTC, microsecond precision.
    pub at: DateTime<Utc>,
    pub operator: String,
    pub kind: EventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Facts that go with the event (a rollback decision, a deployment's end time...).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub data: serde_json::Value,
}

/// A record with its whole history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub kind: Kind,
    pub created_at: DateTime<Utc>,
    pub operator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The record this one belongs to: a verification's or an incident's deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ref_id: Option<String>,
    /// The typed body ([`Release`], [`Deployment`], [`Verification`], [`Incident`]) as JSON.
    pub body: serde_json::Value,
    pub events: Vec<Event>,
    /// A verification's check results, in the order they ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
}

impl Record {
    /// The latest status any event gave this record.
    pub fn status(&self) -> Option<&str> {
        self.events.iter().rev().find_map(|e| e.status.as_deref())
    }

    /// The time of the first event that set `status`.
    pub fn status_at(&self, status: &str) -> Option<DateTime<Utc>> {
        self.events
            .iter()
            .find(|e| e.status.as_deref() == Some(status))
            .map(|e| e.at)
    }

    pub fn notes(&self) -> impl Iterator<Item = &Event> {
        self.events.iter().filter(|e| e.kind == EventKind::Note)
    }

    fn typed<T: serde::de::DeserializeOwned>(&self, kind: Kind) -> Result<T, LedgerError> {
        if self.kind != kind {
            return Err(LedgerError::WrongKind {
                id: self.id.clone(),
                expected: kind,
                found: self.kind,
            });
        }
        T::deserialize(&self.body).map_err(|e| LedgerError::Corrupt {
            what: format!("{} `{}` has an unreadable body: {e}", self.kind, self.id),
        })
    }

    pub fn release(&self) -> Result<Release, LedgerError> {
        self.typed(Kind::Release)
    }

    pub fn deployment(&self) -> Result<Deployment, LedgerError> {
        self.typed(Kind::Deployment)
    }

    pub fn verification(&self) -> Result<Verification, LedgerError> {
        self.typed(Kind::Verification)
    }

    pub fn incident(&self) -> Result<Incident, LedgerError> {
        self.typed(Kind::Incident)
    }

    /// When a deployment ended: its body's `finished_at`, else the first event
    /// that gave it a final outcome.
    pub fn deployment_finished_at(&self) -> Option<DateTime<Utc>> {
        if let Ok(d) = self.deployment()
            && d.finished_at.is_some()
        {
            return d.finished_at;
        }
        self.events
            .iter()
            .find(|e| {
                e.status
                    .as_deref()
                    .and_then(|s| s.parse::<Outcome>().ok())
                    .is_some()
            })
            .map(|e| {
                e.data
                    .get("finished_at")
                    .and_then(|v| v.as_str())
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .map(|d| d.with_timezone(&Utc))
                    .unwrap_or(e.at)
            })
    }

    /// A deployment's final outcome, if it has one.
    pub fn outcome(&self) -> Option<Outcome> {
        self.status().and_then(|s| s.parse().ok())
    }
}

/// The current time, truncated to what the ledger stores (microseconds).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A cut release.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_sha: Option<String>,
    /// The changelog entry for this version (Markdown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changelog: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_surface: Option<ToolSurface>,
}

/// How a deployment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Verified,
    RolledBack,
    Failed,
    Aborted,
    /// A gate refused it: nothing was changed.
    Refused,
    /// Deployed and verified, but the watch was inconclusive: held for a
    /// human. The one outcome that may end again, once, when a later watch,
    /// `runway deploy --accept` or `runway rollback` resolves it.
    Held,
    /// The `runway` running it died (SIGKILL, a crash, a lost machine) before
    /// it ended; a later `runway` found it and ended it so. Not counted by
    /// DORA, like `aborted`; one whose verify or watch had already failed
    /// ends `failed` instead, and is counted.
    Interrupted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Verified => "verified",
            Outcome::RolledBack => "rolled_back",
            Outcome::Failed => "failed",
            Outcome::Aborted => "aborted",
            Outcome::Refused => "refused",
            Outcome::Held => "held",
            Outcome::Interrupted => "interrupted",
        }
    }

    /// Whether it reached the environment, so DORA counts it: not when a gate
    /// refused it or it was aborted or interrupted.
    pub fn counts_as_deployment(self) -> bool {
        !matches!(
            self,
            Outcome::Aborted | Outcome::Refused | Outcome::Interrupted
        )
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = LedgerError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().replace('-', "_").as_str() {
            "verified" => Ok(Outcome::Verified),
            "rolled_back" => Ok(Outcome::RolledBack),
            "failed" => Ok(Outcome::Failed),
            "aborted" => Ok(Outcome::Aborted),
            "refused" => Ok(Outcome::Refused),
            "held" => Ok(Outcome::Held),
            "interrupted" => Ok(Outcome::Interrupted),
            _ => Err(LedgerError::Invalid {
                what: format!(
                    "unknown deployment outcome `{s}`: use verified, rolled_back, failed, aborted, refused, held or interrupted"
                ),
            }),
        }
    }
}

/// The status of a deployment that has not ended yet.
pub const IN_PROGRESS: &str = "in_progress";

/// What a deployment changed (seed 003: "Scope changes (config/code)").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Config,
    Code,
}

/// Whether the deploy window allowed this deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum WindowDecision {
    /// The environment has no deploy window.
    NoWindow,
    /// Inside the window (e.g. `Tue-Wed 10:00-16:00 UTC`).
    Inside { window: String },
    /// Outside the window, deployed anyway by an explicit override.
    Override { window: String, reason: String },
    /// Outside the window (or on a freeze date) and refused: the deployment did not go ahead.
    Outside { window: String, reason: String },
    /// An emergency deployment (`--emergency`) under an open P0/P1 incident,
    /// approved by someone other than the operator; the window did not apply.
    Emergency {
        /// The window that would otherwise have applied, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window: Option<String>,
        /// The open incident that justifies it.
        incident: String,
        approver: String,
    },
}

impl WindowDecision {
    /// One line for people: `inside the deploy window (Tue 10:00-16:00 UTC)`.
    pub fn describe(&self) -> String {
        match self {
            WindowDecision::NoWindow => "no deploy window applies".to_owned(),
            WindowDecision::Inside { window } => format!("inside the deploy window ({window})"),
            WindowDecision::Override { window, reason } => {
                format!("outside the deploy window ({window}), overridden: {reason}")
            }
            WindowDecision::Outside { window, reason } => {
                format!("outside the deploy window ({window}), refused: {reason}")
            }
            WindowDecision::Emergency {
                window,
                incident,
                approver,
            } => format!(
                "emergency override for incident {incident}, approved by {approver}{}",
                window
                    .as_ref()
                    .map(|w| format!(" (window {w} not applied)"))
                    .unwrap_or_default()
            ),
        }
    }
}

/// Seed 003: "Rollback decision (not needed / executed)".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum RollbackDecision {
    NotNeeded,
    Executed {
        /// The release rolled back to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        reason: String,
    },
}

/// One release rolled to one environment: every field of seed 003's release record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    pub environment: String,
    /// The release's version.
    pub release: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_sha: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    #[serde(default)]
    pub scope: Vec<Scope>,
    pub window: WindowDecision,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Known when the deployment is recorded after it ended; otherwise set later by a status event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// The verification run that decided the outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<RollbackDecision>,
    /// The target kind that ran it (`process`, `command`, `docker`, `kubernetes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// What changed since the previous deployment to this environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
    /// Every gate judged before the deployment, in the order they ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<GateRecord>,
    /// When this deployment is a rollback: the deployment it rolls back.
    /// DORA counts it as a rollback (and the one it undoes as a change
    /// failure), not as a deployment of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<String>,
    /// The environment's settings when it was deployed, one entry per dotted
    /// key (`deploy.command`, `analysis.p95_max_ms`), so that the next
    /// deployment can list what changed. Values the server gets as secrets
    /// (`deploy.env.*`) are kept only as a digest, never as the value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, String>,
}

impl Deployment {
    /// A deployment of `release` to `environment` starting now, with nothing else known.
    pub fn new(environment: impl Into<String>, release: impl Into<String>) -> Deployment {
        Deployment {
            environment: environment.into(),
            release: release.into(),
            image_tag: None,
            image_digest: None,
            git_sha: None,
            approver: None,
            scope: Vec::new(),
            window: WindowDecision::NoWindow,
            started_at: now(),
            finished_at: None,
            outcome: None,
            verification_id: None,
            rollback: None,
            target: None,
            changes: None,
            gates: Vec::new(),
            rollback_of: None,
            settings: BTreeMap::new(),
        }
    }
}

/// A verification run's header; its check results are stored beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub schema: String,
    pub target: String,
    pub era: runway_core::Era,
    pub suite: String,
    pub started_at: String,
    pub duration_ms: f64,
    pub summary: Summary,
    pub environment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
}

/// The incident timeline, in the only order it may move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncidentStatus {
    Detected,
    Acknowledged,
    Mitigated,
    Resolved,
    Closed,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 5] = [
        IncidentStatus::Detected,
        IncidentStatus::Acknowledged,
        IncidentStatus::Mitigated,
        IncidentStatus::Resolved,
        IncidentStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Detected => "detected",
            IncidentStatus::Acknowledged => "acknowledged",
            IncidentStatus::Mitigated => "mitigated",
            IncidentStatus::Resolved => "resolved",
            IncidentStatus::Closed => "closed",
        }
    }

    /// Whether an incident at `self` may move to `to`. The timeline only moves
    /// forward; steps may be skipped (a P3 can be resolved without a
    /// mitigation), except that only a resolved incident can be closed.
    pub fn can_move_to(self, to: IncidentStatus) -> bool {
        to > self && (to != IncidentStatus::Closed || self == IncidentStatus::Resolved)
    }
}

impl fmt::Display for IncidentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IncidentStatus {
    type Err = LedgerError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IncidentStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| LedgerError::Corrupt {
                what: format!("unknown incident status `{s}`"),
            })
    }
}

/// An incident's fixed facts; its timeline is the record's events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub severity: Severity,
    pub title: String,
    /// The deployment that caused it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    pub detected_at: DateTime<Utc>,
    /// `detected_at` plus the severity's response time (P0 15 min ... P3 24 h).
    pub respond_by: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_timeline_only_moves_forward_and_closes_after_resolution() {
        use IncidentStatus::*;
        assert!(Detected.can_move_to(Acknowledged));
        assert!(Detected.can_move_to(Resolved));
        assert!(Acknowledged.can_move_to(Mitigated));
        assert!(Resolved.can_move_to(Closed));
        assert!(!Detected.can_move_to(Closed));
        assert!(!Mitigated.can_move_to(Closed));
        assert!(!Mitigated.can_move_to(Acknowledged));
        assert!(!Acknowledged.can_move_to(Acknowledged));
        assert!(!Closed.can_move_to(Resolved));
    }

    #[test]
    fn outcome_and_kind_parse_what_they_print() {
        for o in [
            Outcome::Verified,
            Outcome::RolledBack,
            Outcome::Failed,
            Outcome::Aborted,
            Outcome::Interrupted,
        ] {
            assert_eq!(o.as_str().parse::<Outcome>().unwrap(), o);
        }
        assert_eq!(
            "rolled-back".parse::<Outcome>().unwrap(),
            Outcome::RolledBack
        );
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>().unwrap(), k);
        }
        assert!("deploy".parse::<Kind>().is_err());
    }
}
