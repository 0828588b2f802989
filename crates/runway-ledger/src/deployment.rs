//! What a deployment's record holds beyond its body, and the view that joins it up.
//!
//! A deployment is written once, when it starts ([`crate::Deployment`]: the
//! seed's release-record fields and the gate verdicts). Everything learnt
//! later is appended, never edited in: each [`DeploymentFact`] (what the
//! target reported, the watch's analysis, a rollback, the failed version's
//! logs) is an event of kind `fact`, and the end ([`DeploymentEnd`]) is a
//! status event. Verification runs and incidents are records of their own
//! that point at the deployment (`ref_id`). [`DeploymentView`] puts all of
//! that back together for `runway ledger show` and its JSON.

use chrono::{DateTime, Utc};
use runway_core::{Severity, Summary};
use serde::{Deserialize, Serialize};

use crate::{Deployment, EventKind, Kind, LedgerError, Outcome, Record, RollbackDecision};

/// The most of a failed version's output the ledger keeps: the last 64 KiB.
pub const MAX_LOG_BYTES: usize = 64 * 1024;

/// A gate's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateVerdict {
    Pass,
    /// Allowed, with something the operator should know.
    Warn,
    Refused,
    /// It would have refused, and an explicit override let the deployment go on.
    Overridden,
    /// Not configured for this environment.
    Skipped,
}

impl GateVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            GateVerdict::Pass => "pass",
            GateVerdict::Warn => "warn",
            GateVerdict::Refused => "refused",
            GateVerdict::Overridden => "overridden",
            GateVerdict::Skipped => "skipped",
        }
    }
}

impl std::fmt::Display for GateVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One gate judged before a deployment (`release-check`, `window`, `approvers`...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateRecord {
    pub name: String,
    pub verdict: GateVerdict,
    /// Why: what was checked, what was missing, who overrode it.
    #[serde(default)]
    pub detail: String,
    /// What to do when it refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl GateRecord {
    pub fn new(name: impl Into<String>, verdict: GateVerdict, detail: impl Into<String>) -> Self {
        GateRecord {
            name: name.into(),
            verdict,
            detail: detail.into(),
            hint: None,
        }
    }
}

/// The scope of a deployment (seed 003: "Scope changes (config/code)"):
/// what changed since the previous deployment to the same environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    /// The deployment this one is compared with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_deployment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_git_sha: Option<String>,
    /// Code changes: one line per commit (`abc1234 fix: ...`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub code: Vec<String>,
    /// Configuration changes: one line per changed setting (names, never secret values).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<String>,
}

/// The watch's verdict over its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnalysisVerdict {
    Pass,
    Fail,
    /// Too few samples to judge: held for a human.
    Inconclusive,
}

impl AnalysisVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            AnalysisVerdict::Pass => "pass",
            AnalysisVerdict::Fail => "fail",
            AnalysisVerdict::Inconclusive => "inconclusive",
        }
    }
}

/// The aggregates of one analysis window (the watch after a deploy). Rates
/// are fractions (`0.95`), latencies milliseconds; `None` when no sample
/// measured it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub verdict: AnalysisVerdict,
    pub samples: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_samples: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_failure_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ms: Option<f64>,
    /// The condition that failed (`availability 0.80 < 0.95`), or why it is inconclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing: Option<String>,
    /// Each traffic condition (`[[analysis.conditions]]`) as configured and
    /// judged; absent from records written before they were stored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<ConditionRecord>,
}

/// One traffic condition of a watch: what it read, its bounds, the
/// baseline, its verdict and each evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionRecord {
    pub name: String,
    /// `metrics` or `prometheus`.
    pub source: String,
    /// What it reads (`increase of a / increase of b`, a PromQL query).
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
    pub verdict: AnalysisVerdict,
    #[serde(default)]
    pub passed: u32,
    #[serde(default)]
    pub failed: u32,
    /// Readings with nothing to judge.
    #[serde(default)]
    pub empty: u32,
    /// Readings the source failed to give.
    #[serde(default)]
    pub errors: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The evaluations, oldest first (the newest ones when there were more
    /// than the watch keeps; `evaluations_dropped` counts the rest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evaluations: Vec<ConditionEvaluation>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub evaluations_dropped: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One reading of a traffic condition and its verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionEvaluation {
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    pub verdict: AnalysisVerdict,
    /// The source failed (not merely empty).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub error: bool,
    pub message: String,
}

/// A rollback carried out for this deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollback {
    /// The version rolled back from (this deployment's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_version: Option<String>,
    /// The version rolled back to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_version: Option<String>,
    /// What exactly was restored: an image digest, a Kubernetes revision, a command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_artifact: Option<String>,
    pub reason: String,
    /// Decided by the policy (`[rollback] auto`), not by a person.
    #[serde(default)]
    pub automatic: bool,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Whether the rolled-back version is running and passed its verification.
    pub ok: bool,
    /// The verification run after the rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_id: Option<String>,
    /// The comparison with the previous version's baseline (error rate, latency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_to_baseline: Option<bool>,
    /// The settings put back: the command line, the image, each variable
    /// (`env MODE = "fast"`, `env API_KEY from ${API_KEY} (secret)`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restored: Vec<String>,
    /// The incident whose policy asked for it (`runway incident open --env`
    /// under `rollback.on_incident`); the incident's timeline names this
    /// deployment back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
}

/// What the target reported once a version ran: the deployment's own
/// version, or the one a rollback put back (`version` says which).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployed {
    /// The version now running. Records written before it was kept have none:
    /// their first `Deployed` fact is the deployment's, a later one a rollback's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// A Kubernetes revision, a container id, a process id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A bounded excerpt of a version's output (container or process logs),
/// kept with the record when that version failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logs {
    /// Whose output: `process stdout+stderr`, `container 3f2a...`.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The last [`MAX_LOG_BYTES`] at most, redacted.
    pub text: String,
    /// The size of what the target returned, before the cut.
    pub bytes: u64,
    pub truncated: bool,
}

impl Logs {
    /// Keeps the tail of `text` within [`MAX_LOG_BYTES`], on a character boundary.
    pub fn bounded(source: impl Into<String>, version: Option<String>, text: &str) -> Logs {
        let bytes = text.len() as u64;
        let mut start = text.len().saturating_sub(MAX_LOG_BYTES);
        while !text.is_char_boundary(start) {
            start += 1;
        }
        Logs {
            source: source.into(),
            version,
            text: text[start..].to_owned(),
            bytes,
            truncated: start > 0,
        }
    }
}

/// A fact learnt about a deployment after it was recorded; appended with
/// [`crate::Ledger::add_deployment_fact`] as an event of kind `fact`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub enum DeploymentFact {
    /// Gate verdicts judged after the record was written.
    Gates {
        gates: Vec<GateRecord>,
    },
    /// The target's answer: image, digest, revision.
    Deployed(Deployed),
    /// One analysis window's aggregates and verdict.
    Analysis(Analysis),
    Rollback(Rollback),
    Logs(Logs),
    /// A step that changes what serves, written before it is taken (an
    /// intent) and once it was taken: the journal a later `runway` reads when
    /// the one running the deployment died.
    Step(Step),
    /// The deployment failed (verify, watch, deploy) and its failure path
    /// began: written before the rollback, so a deployment cut off during its
    /// rollback still ends `failed` (and DORA counts it).
    Failing {
        reason: String,
    },
}

/// One entry of a deployment's journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Written before the step was taken; `false` once it was.
    pub intent: bool,
    /// `stop 1.0.0 (pid 4242)`, `started 2.0.0 (pid 4300)`.
    pub step: String,
    pub at: DateTime<Utc>,
}

/// How a deployment ended; [`crate::Ledger::finish_deployment`] appends it
/// as the final status event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentEnd {
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<RollbackDecision>,
    /// The verification run that decided the outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_id: Option<String>,
    /// Why it ended so: the failed check or condition, the signal that stopped it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What was done before the end (above all for `aborted`: `gates passed`,
    /// `v2 started`, `verify interrupted`), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub done: Vec<String>,
}

impl DeploymentEnd {
    pub fn new(outcome: Outcome) -> DeploymentEnd {
        DeploymentEnd {
            outcome,
            rollback: None,
            verification_id: None,
            reason: None,
            done: Vec::new(),
        }
    }
}

/// A verification run of a deployment, as its view lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerificationLine {
    pub id: String,
    pub at: DateTime<Utc>,
    /// `passed` or `failed`.
    pub status: String,
    pub suite: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub summary: Summary,
}

/// An incident blamed on a deployment, as its view lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentLine {
    pub id: String,
    pub severity: Severity,
    pub title: String,
    /// Its current place on the timeline.
    pub status: String,
    pub detected_at: DateTime<Utc>,
}

/// `runway ledger show ID --format json` for a deployment, and the
/// `ledger_show` MCP tool's result: the record as every kind prints it, plus
/// its [`DeploymentView`] under `deployment_view`. One type, so the two agree.
#[derive(Debug, Clone, Serialize)]
pub struct DeploymentShow<'a> {
    #[serde(flatten)]
    pub record: &'a Record,
    pub deployment_view: &'a DeploymentView,
    /// commit → release → artifacts → deployment → verification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<&'a crate::Chain>,
}

/// A deployment with everything the ledger knows about it, joined up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentView {
    pub id: String,
    pub operator: String,
    /// The body as recorded when it started.
    pub deployment: Deployment,
    /// `in_progress` or the outcome.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<DeploymentEnd>,
    /// The body's gates, then any appended later, in order.
    pub gates: Vec<GateRecord>,
    /// What the target reported running once this deployment's own version
    /// was in place (never a rollback's: see `rolled_back_to`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployed: Option<Deployed>,
    /// What a rollback of this deployment put back in its place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolled_back_to: Option<Deployed>,
    pub analyses: Vec<Analysis>,
    pub rollbacks: Vec<Rollback>,
    pub logs: Vec<Logs>,
    /// The journal of the steps that changed what serves, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// Why it began to fail, when its failure path began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing: Option<String>,
    pub verifications: Vec<VerificationLine>,
    pub incidents: Vec<IncidentLine>,
}

impl DeploymentView {
    /// Joins `record` (a deployment with its whole history) with `related`
    /// (the records whose `ref_id` is it; others are ignored).
    pub fn build(record: &Record, related: &[Record]) -> Result<DeploymentView, LedgerError> {
        let deployment = record.deployment()?;
        let mut gates = deployment.gates.clone();
        let mut deployed: Option<Deployed> = None;
        let mut rolled_back_to = None;
        let mut analyses = Vec::new();
        let mut rollbacks = Vec::new();
        let mut logs = Vec::new();
        let mut steps = Vec::new();
        let mut failing = None;
        for e in record.events.iter().filter(|e| e.kind == EventKind::Fact) {
            let fact =
                DeploymentFact::deserialize(&e.data).map_err(|err| LedgerError::Corrupt {
                    what: format!("deployment `{}` has an unreadable fact: {err}", record.id),
                })?;
            match fact {
                DeploymentFact::Gates { gates: g } => gates.extend(g),
                // This deployment's version, or (an older record that does
                // not say) the first one reported; anything else was put
                // back by a rollback.
                DeploymentFact::Deployed(d) => {
                    let ours = match d.version.as_deref() {
                        Some(v) => v == deployment.release && deployed.is_none(),
                        None => deployed.is_none() && rolled_back_to.is_none(),
                    };
                    if ours {
                        deployed = Some(d);
                    } else {
                        rolled_back_to = Some(d);
                    }
                }
                DeploymentFact::Analysis(a) => analyses.push(a),
                DeploymentFact::Rollback(r) => rollbacks.push(r),
                DeploymentFact::Logs(l) => logs.push(l),
                DeploymentFact::Step(s) => steps.push(s),
                DeploymentFact::Failing { reason } => failing = failing.or(Some(reason)),
            }
        }
        let end = record
            .events
            .iter()
            .rev()
            .find(|e| {
                e.status
                    .as_deref()
                    .and_then(|s| s.parse::<Outcome>().ok())
                    .is_some()
            })
            .map(|e| end_of(e, &record.id))
            .transpose()?;
        let end = end.or_else(|| {
            deployment.outcome.map(|o| DeploymentEnd {
                outcome: o,
                rollback: deployment.rollback.clone(),
                verification_id: deployment.verification_id.clone(),
                reason: None,
                done: Vec::new(),
            })
        });
        let ours = |r: &&Record| r.ref_id.as_deref() == Some(record.id.as_str());
        let mut verifications = Vec::new();
        let mut incidents = Vec::new();
        for r in related.iter().filter(ours) {
            match r.kind {
                Kind::Verification => {
                    let v = r.verification()?;
                    verifications.push(VerificationLine {
                        id: r.id.clone(),
                        at: r.created_at,
                        status: r.status().unwrap_or("-").to_owned(),
                        suite: v.suite,
                        version: r.version.clone(),
                        summary: v.summary,
                    });
                }
                Kind::Incident => {
                    let i = r.incident()?;
                    incidents.push(IncidentLine {
                        id: r.id.clone(),
                        severity: i.severity,
                        title: i.title,
                        status: r.status().unwrap_or("detected").to_owned(),
                        detected_at: i.detected_at,
                    });
                }
                Kind::Release | Kind::Deployment => {}
            }
        }
        Ok(DeploymentView {
            id: record.id.clone(),
            operator: record.operator.clone(),
            status: record.status().unwrap_or(crate::IN_PROGRESS).to_owned(),
            finished_at: record.deployment_finished_at(),
            deployment,
            end,
            gates,
            deployed,
            rolled_back_to,
            analyses,
            rollbacks,
            logs,
            steps,
            failing,
            verifications,
            incidents,
        })
    }
}

/// The [`DeploymentEnd`] an outcome status event carries.
fn end_of(e: &crate::Event, id: &str) -> Result<DeploymentEnd, LedgerError> {
    let corrupt = |what: String| LedgerError::Corrupt {
        what: format!("deployment `{id}` has an unreadable end: {what}"),
    };
    let outcome: Outcome = e.status.as_deref().unwrap_or_default().parse()?;
    let field = |k: &str| e.data.get(k).filter(|v| !v.is_null()).cloned();
    let rollback = field("rollback")
        .map(serde_json::from_value::<RollbackDecision>)
        .transpose()
        .map_err(|err| corrupt(err.to_string()))?;
    let done = field("done")
        .map(serde_json::from_value::<Vec<String>>)
        .transpose()
        .map_err(|err| corrupt(err.to_string()))?
        .unwrap_or_default();
    let text = |k: &str| field(k).and_then(|v| v.as_str().map(str::to_owned));
    Ok(DeploymentEnd {
        outcome,
        rollback,
        verification_id: text("verification_id"),
        reason: text("reason").or_else(|| e.note.clone()),
        done,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_keep_the_tail_on_a_character_boundary() {
        let short = Logs::bounded("process", None, "one\ntwo\n");
        assert_eq!(short.text, "one\ntwo\n");
        assert!(!short.truncated);
        assert_eq!(short.bytes, 8);

        // A two-byte character straddles the cut: it is dropped whole, never split.
        let mut text = "é".repeat(MAX_LOG_BYTES / 2 + 10);
        text.push_str("last line\n");
        let l = Logs::bounded("process", Some("2.0.0".into()), &text);
        assert!(l.truncated);
        assert_eq!(l.bytes, text.len() as u64);
        assert!(l.text.len() <= MAX_LOG_BYTES);
        assert!(l.text.len() >= MAX_LOG_BYTES - 1);
        assert!(l.text.ends_with("last line\n"));
        assert!(l.text.starts_with('é'));
    }

    #[test]
    fn facts_are_tagged_by_kind_in_json() {
        let fact = DeploymentFact::Analysis(Analysis {
            verdict: AnalysisVerdict::Fail,
            samples: 12,
            min_samples: Some(10),
            started_at: None,
            ended_at: None,
            availability: Some(0.75),
            error_rate: Some(0.25),
            auth_failure_rate: Some(0.0),
            p50_ms: Some(12.0),
            p95_ms: Some(40.5),
            failing: Some("availability 0.75 < 0.95".into()),
            conditions: Vec::new(),
        });
        let v = serde_json::to_value(&fact).unwrap();
        assert_eq!(v["fact"], "analysis");
        assert_eq!(v["verdict"], "fail");
        assert_eq!(v["samples"], 12);
        assert_eq!(DeploymentFact::deserialize(&v).unwrap(), fact);
        let g = DeploymentFact::Gates {
            gates: vec![GateRecord::new(
                "window",
                GateVerdict::Overridden,
                "P1 inc-1",
            )],
        };
        let v = serde_json::to_value(&g).unwrap();
        assert_eq!(v["fact"], "gates");
        assert_eq!(v["gates"][0]["verdict"], "overridden");
    }
}
