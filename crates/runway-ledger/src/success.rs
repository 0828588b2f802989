//! Did a release succeed? Its criteria, judged from what the ledger recorded.
//!
//! The MockLoop release process ends with success criteria (no critical
//! issues, an error rate under 1%, no regression). Runway can judge the ones
//! its own records measure: critical incidents (P0/P1) blamed on the release's
//! deployments, the failure rate of the checks run against it, and whether
//! any of its deployments had to be rolled back or failed.

use runway_core::{Severity, Status};
use serde::Serialize;

use crate::{Kind, Outcome, Record};

/// The error-rate ceiling: failed checks over checks run (MockLoop: `error_rate: 0.01`).
pub const MAX_ERROR_RATE: f64 = 0.01;

/// One criterion and whether the release met it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Criterion {
    pub name: &'static str,
    pub threshold: String,
    pub value: String,
    /// `None` when there is nothing to judge yet.
    pub met: Option<bool>,
}

/// A release's record against its criteria.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseSuccess {
    pub version: String,
    pub deployments: usize,
    pub criteria: Vec<Criterion>,
    /// `Some(true)` when every criterion that can be judged is met; `None`
    /// before the release was deployed anywhere.
    pub succeeded: Option<bool>,
}

/// Judges `version` from `records` (its deployments, their verification runs
/// with check results, and incidents; other records are ignored).
pub fn evaluate(version: &str, records: &[Record]) -> ReleaseSuccess {
    let ours = |r: &&Record| r.version.as_deref() == Some(version);
    let deployments: Vec<&Record> = records
        .iter()
        .filter(ours)
        .filter(|r| {
            r.kind == Kind::Deployment && r.outcome().is_none_or(Outcome::counts_as_deployment)
        })
        .collect();
    let critical = records
        .iter()
        .filter(ours)
        .filter(|r| r.kind == Kind::Incident)
        .filter(|r| {
            r.incident()
                .is_ok_and(|i| matches!(i.severity, Severity::P0 | Severity::P1))
        })
        .count();
    let (run, failed) = records
        .iter()
        .filter(ours)
        .filter(|r| r.kind == Kind::Verification)
        .flat_map(|r| r.checks.iter())
        .filter(|c| c.status != Status::Skip)
        .fold((0usize, 0usize), |(n, f), c| {
            (n + 1, f + usize::from(c.status == Status::Fail))
        });
    let bad_deployments = deployments
        .iter()
        .filter(|d| matches!(d.outcome(), Some(Outcome::RolledBack | Outcome::Failed)))
        .count();
    let deployed = !deployments.is_empty();
    let rate = (run > 0).then(|| failed as f64 / run as f64);
    let criteria = vec![
        Criterion {
            name: "critical issues (P0/P1 incidents)",
            threshold: "0".into(),
            value: critical.to_string(),
            met: deployed.then_some(critical == 0),
        },
        Criterion {
            name: "error rate (failed checks)",
            threshold: format!("< {:.0}%", MAX_ERROR_RATE * 100.0),
            value: match rate {
                Some(r) => format!("{:.2}% ({failed} of {run})", r * 100.0),
                None => "no checks recorded".into(),
            },
            met: rate.map(|r| r < MAX_ERROR_RATE),
        },
        Criterion {
            name: "deployments rolled back or failed",
            threshold: "0".into(),
            value: format!("{bad_deployments} of {}", deployments.len()),
            met: deployed.then_some(bad_deployments == 0),
        },
    ];
    let succeeded = deployed.then(|| criteria.iter().all(|c| c.met != Some(false)));
    ReleaseSuccess {
        version: version.to_owned(),
        deployments: deployments.len(),
        criteria,
        succeeded,
    }
}
