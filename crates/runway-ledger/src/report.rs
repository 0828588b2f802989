//! `runway release report X`: what happened since a release, from the
//! ledger, against its success criteria (MockLoop's release retrospective).
//!
//! Pure over records: the release's deployments per environment with their
//! outcomes, the rollbacks of those deployments (ended `rolled_back` by the
//! policy, or undone later by a rollback deployment), the incidents blamed on
//! them (severity, open or resolved), the pass rate of its verification runs,
//! and the release facts (yanks, announcements). Each criterion is met, not
//! met, or not judged (nothing recorded to judge it by).

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use runway_core::Severity;
use serde::Serialize;

use crate::deployment::DeploymentFact;
use crate::model::{EventKind, Kind, Outcome, Record};
use crate::release_facts::{ReleaseFact, release_facts};

/// The thresholds a release is judged by (`[release.criteria]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Criteria {
    pub max_rollbacks: u32,
    pub max_incidents_p0_p1: u32,
    /// A fraction: `0.99` is 99%.
    pub min_verify_pass_rate: f64,
}

impl Default for Criteria {
    /// The seeds' numbers: no rollback, no critical issue, errors under 1%.
    fn default() -> Self {
        Criteria {
            max_rollbacks: 0,
            max_incidents_p0_p1: 0,
            min_verify_pass_rate: 0.99,
        }
    }
}

/// Everything `runway release report` shows.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseReport {
    pub version: String,
    /// When the release was recorded, else its first deployment.
    pub since: Option<DateTime<Utc>>,
    pub generated_at: DateTime<Utc>,
    pub environments: Vec<EnvironmentReport>,
    pub rollbacks: Vec<RollbackLine>,
    pub incidents: Vec<IncidentLine>,
    pub verification: VerifyStats,
    /// Yanks, their confirmations and announcements, oldest first.
    pub release_facts: Vec<FactLine>,
    pub criteria: Vec<CriterionResult>,
    /// No criterion is unmet.
    pub passed: bool,
}

/// The release's deployments to one environment.
#[derive(Debug, Clone, Serialize)]
pub struct EnvironmentReport {
    pub environment: String,
    /// Oldest first.
    pub deployments: Vec<DeploymentLine>,
    /// How many ended each way (`verified`, `rolled_back`, `in_progress`...).
    pub outcomes: BTreeMap<String, usize>,
    /// The watch's analysis windows recorded on these deployments.
    pub analysis_windows: usize,
    /// The highest error rate a window measured (a fraction), if any did.
    pub max_error_rate: Option<f64>,
    /// The highest p95 latency a window measured, in milliseconds.
    pub max_p95_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeploymentLine {
    pub id: String,
    pub started_at: DateTime<Utc>,
    /// Its outcome, or `in_progress`.
    pub status: String,
    pub operator: String,
}

/// One deployment of the release that was rolled back.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackLine {
    /// The deployment of the release that was undone.
    pub deployment: String,
    pub environment: String,
    pub at: DateTime<Utc>,
    /// The version put back, when known.
    pub to_version: Option<String>,
    pub reason: Option<String>,
    /// Decided by the `[rollback]` policy, not a person.
    pub automatic: bool,
    /// The rollback deployment, when it was a `runway rollback` of its own.
    pub by_deployment: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IncidentLine {
    pub id: String,
    pub severity: Severity,
    pub title: String,
    pub environment: Option<String>,
    pub status: String,
    pub open: bool,
    pub detected_at: DateTime<Utc>,
}

/// The release's verification runs.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct VerifyStats {
    pub runs: usize,
    pub passed: usize,
    pub failed: usize,
    /// `passed / runs`; `None` without runs.
    pub pass_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FactLine {
    pub at: DateTime<Utc>,
    pub operator: String,
    pub fact: ReleaseFact,
}

/// One criterion judged.
#[derive(Debug, Clone, Serialize)]
pub struct CriterionResult {
    /// The `[release.criteria]` key.
    pub name: &'static str,
    /// `≤ 0`, `≥ 99%`.
    pub threshold: String,
    pub value: String,
    /// `None` when there is nothing to judge it by.
    pub met: Option<bool>,
}

/// A deployment's facts, in order (unreadable ones skipped).
fn facts_of(d: &Record) -> impl Iterator<Item = DeploymentFact> + '_ {
    d.events
        .iter()
        .filter(|e| e.kind == EventKind::Fact)
        .filter_map(|e| serde_json::from_value::<DeploymentFact>(e.data.clone()).ok())
}

/// Whether an incident is still open (not resolved or closed).
fn open(incident: &Record) -> bool {
    !matches!(incident.status(), Some("resolved" | "closed"))
}

/// Builds the report of `version` from `records`: every record of that
/// version (the release, its deployments, their verification runs and
/// incidents) and the rollback deployments of any version whose
/// `rollback_of` is one of its deployments. Other records are ignored.
pub fn build(
    version: &str,
    records: &[Record],
    criteria: &Criteria,
    now: DateTime<Utc>,
) -> ReleaseReport {
    let ours = |r: &&Record| r.version.as_deref() == Some(version);
    let deployments: Vec<&Record> = records
        .iter()
        .filter(ours)
        .filter(|r| r.kind == Kind::Deployment)
        .collect();
    let ids: HashSet<&str> = deployments.iter().map(|d| d.id.as_str()).collect();

    let mut environments: BTreeMap<String, EnvironmentReport> = BTreeMap::new();
    for d in &deployments {
        let env = d.environment.clone().unwrap_or_else(|| "-".into());
        let status = d.status().unwrap_or(crate::IN_PROGRESS).to_owned();
        let e = environments
            .entry(env.clone())
            .or_insert_with(|| EnvironmentReport {
                environment: env,
                deployments: Vec::new(),
                outcomes: BTreeMap::new(),
                analysis_windows: 0,
                max_error_rate: None,
                max_p95_ms: None,
            });
        *e.outcomes.entry(status.clone()).or_default() += 1;
        let max = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        };
        for a in facts_of(d).filter_map(|f| match f {
            DeploymentFact::Analysis(a) => Some(a),
            _ => None,
        }) {
            e.analysis_windows += 1;
            e.max_error_rate = max(e.max_error_rate, a.error_rate);
            e.max_p95_ms = max(e.max_p95_ms, a.p95_ms);
        }
        e.deployments.push(DeploymentLine {
            id: d.id.clone(),
            started_at: d.created_at,
            status,
            operator: d.operator.clone(),
        });
    }

    // Rolled back by the policy: the deployment ended `rolled_back`, its
    // rollback fact says to what and why.
    let mut rollbacks: Vec<RollbackLine> = Vec::new();
    for d in &deployments {
        if d.outcome() != Some(Outcome::RolledBack) {
            continue;
        }
        let fact = facts_of(d).find_map(|f| match f {
            DeploymentFact::Rollback(r) => Some(r),
            _ => None,
        });
        rollbacks.push(RollbackLine {
            deployment: d.id.clone(),
            environment: d.environment.clone().unwrap_or_default(),
            at: fact
                .as_ref()
                .map(|f| f.started_at)
                .or_else(|| d.deployment_finished_at())
                .unwrap_or(d.created_at),
            to_version: fact.as_ref().and_then(|f| f.to_version.clone()),
            reason: fact.as_ref().map(|f| f.reason.clone()),
            automatic: fact.as_ref().is_some_and(|f| f.automatic),
            by_deployment: None,
        });
    }
    // Undone later by `runway rollback`: a deployment of another version whose
    // `rollback_of` is one of ours (counted once per deployment undone).
    for r in records.iter().filter(|r| r.kind == Kind::Deployment) {
        let Ok(body) = r.deployment() else { continue };
        let Some(of) = body.rollback_of.as_deref() else {
            continue;
        };
        if !ids.contains(of) || rollbacks.iter().any(|l| l.deployment == of) {
            continue;
        }
        rollbacks.push(RollbackLine {
            deployment: of.to_owned(),
            environment: body.environment.clone(),
            at: r.created_at,
            to_version: Some(body.release.clone()),
            reason: match &body.rollback {
                Some(crate::RollbackDecision::Executed { reason, .. }) => Some(reason.clone()),
                _ => None,
            },
            automatic: false,
            by_deployment: Some(r.id.clone()),
        });
    }
    rollbacks.sort_by_key(|l| l.at);

    let incidents: Vec<IncidentLine> = records
        .iter()
        .filter(ours)
        .filter(|r| r.kind == Kind::Incident)
        .filter_map(|r| {
            let i = r.incident().ok()?;
            Some(IncidentLine {
                id: r.id.clone(),
                severity: i.severity,
                title: i.title,
                environment: r.environment.clone(),
                status: r.status().unwrap_or("detected").to_owned(),
                open: open(r),
                detected_at: i.detected_at,
            })
        })
        .collect();
    let critical = incidents
        .iter()
        .filter(|i| matches!(i.severity, Severity::P0 | Severity::P1))
        .count();

    let (runs, passed) = records
        .iter()
        .filter(ours)
        .filter(|r| r.kind == Kind::Verification)
        .fold((0usize, 0usize), |(n, p), r| {
            (n + 1, p + usize::from(r.status() == Some("passed")))
        });
    let verification = VerifyStats {
        runs,
        passed,
        failed: runs - passed,
        pass_rate: (runs > 0).then(|| passed as f64 / runs as f64),
    };

    let release = records
        .iter()
        .filter(ours)
        .filter(|r| r.kind == Kind::Release)
        .min_by_key(|r| r.created_at);
    let mut facts: Vec<FactLine> = records
        .iter()
        .filter(ours)
        .filter(|r| r.kind == Kind::Release)
        .flat_map(|r| {
            release_facts(r).into_iter().map(|(at, fact)| {
                let operator = r
                    .events
                    .iter()
                    .find(|e| e.at == at && e.kind == EventKind::Fact)
                    .map(|e| e.operator.clone())
                    .unwrap_or_default();
                FactLine { at, operator, fact }
            })
        })
        .collect();
    facts.sort_by_key(|f| f.at);
    let since = release
        .map(|r| r.created_at)
        .into_iter()
        .chain(deployments.iter().map(|d| d.created_at))
        .min();

    let percent = |r: f64| {
        let p = format!("{:.2}", r * 100.0);
        let p = p.trim_end_matches('0').trim_end_matches('.');
        format!("{p}%")
    };
    let criteria_results = vec![
        CriterionResult {
            name: "max_rollbacks",
            threshold: format!("≤ {}", criteria.max_rollbacks),
            value: format!("{} of {} deployment(s)", rollbacks.len(), deployments.len()),
            met: Some(rollbacks.len() <= criteria.max_rollbacks as usize),
        },
        CriterionResult {
            name: "max_incidents_p0_p1",
            threshold: format!("≤ {}", criteria.max_incidents_p0_p1),
            value: format!(
                "{critical} ({} open)",
                incidents
                    .iter()
                    .filter(|i| i.open && matches!(i.severity, Severity::P0 | Severity::P1))
                    .count()
            ),
            met: Some(critical <= criteria.max_incidents_p0_p1 as usize),
        },
        CriterionResult {
            name: "min_verify_pass_rate",
            threshold: format!("≥ {}", percent(criteria.min_verify_pass_rate)),
            value: match verification.pass_rate {
                Some(r) => format!("{} ({passed} of {runs} runs)", percent(r)),
                None => "no verification recorded".into(),
            },
            met: verification
                .pass_rate
                .map(|r| r + 1e-9 >= criteria.min_verify_pass_rate),
        },
    ];
    let passed_all = criteria_results.iter().all(|c| c.met != Some(false));
    ReleaseReport {
        version: version.to_owned(),
        since,
        generated_at: now,
        environments: environments.into_values().collect(),
        rollbacks,
        incidents,
        verification,
        release_facts: facts,
        criteria: criteria_results,
        passed: passed_all,
    }
}

impl ReleaseReport {
    /// Whether the ledger knows anything of this version at all.
    pub fn is_empty(&self) -> bool {
        self.since.is_none() && self.incidents.is_empty() && self.verification.runs == 0
    }

    /// The report as Markdown (a retrospective's "Metrics" section, filled in).
    pub fn markdown(&self) -> String {
        let mut o = String::new();
        let day = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
        o.push_str(&format!("# Release report: {}\n\n", self.version));
        o.push_str(&format!(
            "Since {} (report of {}).\n\n",
            self.since.map_or("-".to_owned(), day),
            day(self.generated_at)
        ));
        o.push_str(&format!(
            "**Result: {}**\n\n",
            if self.passed {
                "every criterion met"
            } else {
                "criteria NOT met"
            }
        ));
        o.push_str(
            "## Criteria\n\n| criterion | threshold | value | result |\n|---|---|---|---|\n",
        );
        for c in &self.criteria {
            o.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                c.name,
                c.threshold,
                cell(&c.value),
                match c.met {
                    Some(true) => "met",
                    Some(false) => "**not met**",
                    None => "not judged",
                }
            ));
        }
        o.push_str("\n## Deployments\n\n");
        if self.environments.is_empty() {
            o.push_str("None recorded.\n");
        } else {
            o.push_str(
                "| environment | deployments | outcomes | watch: highest error rate | watch: highest p95 |\n|---|---|---|---|---|\n",
            );
            for e in &self.environments {
                let outcomes: Vec<String> =
                    e.outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect();
                o.push_str(&format!(
                    "| {} | {} | {} | {} | {} |\n",
                    cell(&e.environment),
                    e.deployments.len(),
                    cell(&outcomes.join(", ")),
                    e.max_error_rate
                        .map_or("-".to_owned(), |r| format!("{:.2}%", r * 100.0)),
                    e.max_p95_ms
                        .map_or("-".to_owned(), |p| format!("{p:.0} ms")),
                ));
            }
        }
        o.push_str("\n## Rollbacks\n\n");
        if self.rollbacks.is_empty() {
            o.push_str("None.\n");
        }
        for r in &self.rollbacks {
            o.push_str(&format!(
                "- {} `{}` on {}{}{}{}\n",
                day(r.at),
                r.deployment,
                cell(&r.environment),
                r.to_version
                    .as_ref()
                    .map(|v| format!(", back to {}", cell(v)))
                    .unwrap_or_default(),
                if r.automatic {
                    " (automatic)"
                } else {
                    " (by hand)"
                },
                r.reason
                    .as_ref()
                    .map(|w| format!(": {}", cell(w)))
                    .unwrap_or_default()
            ));
        }
        o.push_str("\n## Incidents\n\n");
        if self.incidents.is_empty() {
            o.push_str("None.\n");
        } else {
            o.push_str("| id | severity | status | environment | title |\n|---|---|---|---|---|\n");
            for i in &self.incidents {
                o.push_str(&format!(
                    "| `{}` | {} | {}{} | {} | {} |\n",
                    i.id,
                    i.severity,
                    i.status,
                    if i.open { " (open)" } else { "" },
                    cell(i.environment.as_deref().unwrap_or("-")),
                    cell(&i.title)
                ));
            }
        }
        o.push_str("\n## Verification\n\n");
        let v = &self.verification;
        match v.pass_rate {
            Some(r) => o.push_str(&format!(
                "{} of {} run(s) passed ({:.1}%); {} failed.\n",
                v.passed,
                v.runs,
                r * 100.0,
                v.failed
            )),
            None => o.push_str("No verification run recorded.\n"),
        }
        if !self.release_facts.is_empty() {
            o.push_str("\n## Release events\n\n");
            for f in &self.release_facts {
                let what = match &f.fact {
                    ReleaseFact::Yanked(y) => format!("yanked: {}", cell(&y.reason)),
                    ReleaseFact::YankConfirmed(c) => format!(
                        "yank {} by the index",
                        if c.confirmed {
                            "confirmed"
                        } else {
                            "NOT yet reported"
                        }
                    ),
                    ReleaseFact::Announced(a) => format!(
                        "announced to {}",
                        a.deliveries
                            .iter()
                            .map(|d| format!(
                                "{}{}",
                                d.notifier,
                                if d.ok { "" } else { " (failed)" }
                            ))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    ReleaseFact::StepDone(d) => {
                        format!("step `{}` done: {}", cell(&d.name), cell(&d.text))
                    }
                };
                o.push_str(&format!("- {} {what} ({})\n", day(f.at), cell(&f.operator)));
            }
        }
        o
    }
}

/// A value inside a Markdown table or list: one line, no column breaks.
fn cell(s: &str) -> String {
    runway_core::shown::shown(s).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_a_table_row() {
        assert_eq!(cell("a|b\nc"), "a\\|b\\nc");
    }
}
