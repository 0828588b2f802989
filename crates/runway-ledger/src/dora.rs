//! The four DORA metrics, computed from the ledger's deployments and incidents.
//!
//! Pure functions over records: the caller loads the deployments and incidents
//! of a window and supplies commit times (read from git), so the arithmetic is
//! tested without a database or a repository.
//!
//! Definitions, as Runway applies them:
//! - a *deployment* is one that ended (verified, held, rolled back or
//!   failed); refused, aborted and in-progress ones never reached the
//!   environment; a
//!   deployment that is itself a rollback (`rollback_of`) is counted as a
//!   *rollback*, not as a deployment;
//! - *rollbacks*: deployments rolled back by `runway deploy` (outcome
//!   `rolled_back`) plus rollback deployments (`runway rollback`);
//! - *restores*: failed deployments whose service was restored (the
//!   sample of the recovery time);
//! - *deployment frequency*: deployments per day over the window;
//! - *lead time for changes*: median of commit time → end of each verified
//!   deployment (the commit is the deployment's `git_sha`);
//! - *change failure rate*: deployments rolled back, failed, undone by a
//!   later rollback deployment, or blamed by an incident, over all deployments;
//! - *failed-deployment recovery time*: median, over failed deployments, of
//!   the time until service was restored: a linked incident's detection →
//!   mitigation (or resolution); else, for one rolled back, its start → the
//!   end of its rollback; for one undone by a rollback deployment, its start
//!   → the end of that (verified) rollback; else its start → the end of the
//!   next verified deployment to the same environment.
//!
//! Bands follow the 2023 Accelerate State of DevOps report's clusters (elite,
//! high, medium, low); where the report's low band overlaps medium, anything
//! worse than medium is low.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::{Kind, Outcome, Record};

/// A DORA performance band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Band {
    Elite,
    High,
    Medium,
    Low,
}

impl Band {
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Elite => "elite",
            Band::High => "high",
            Band::Medium => "medium",
            Band::Low => "low",
        }
    }

    /// Deployments per day: at least daily is elite, weekly high, monthly medium.
    pub fn for_frequency(per_day: f64) -> Band {
        if per_day >= 1.0 {
            Band::Elite
        } else if per_day >= 1.0 / 7.0 {
            Band::High
        } else if per_day >= 1.0 / 30.0 {
            Band::Medium
        } else {
            Band::Low
        }
    }

    /// Lead time: under a day elite, a week high, a month medium.
    pub fn for_lead_time(hours: f64) -> Band {
        if hours < 24.0 {
            Band::Elite
        } else if hours < 24.0 * 7.0 {
            Band::High
        } else if hours < 24.0 * 30.0 {
            Band::Medium
        } else {
            Band::Low
        }
    }

    /// Change failure rate (percent): 5 elite, 10 high, 15 medium.
    pub fn for_failure_rate(percent: f64) -> Band {
        if percent <= 5.0 {
            Band::Elite
        } else if percent <= 10.0 {
            Band::High
        } else if percent <= 15.0 {
            Band::Medium
        } else {
            Band::Low
        }
    }

    /// Recovery time: under an hour elite, a day high, a week medium.
    pub fn for_recovery(hours: f64) -> Band {
        if hours < 1.0 {
            Band::Elite
        } else if hours < 24.0 {
            Band::High
        } else if hours < 24.0 * 7.0 {
            Band::Medium
        } else {
            Band::Low
        }
    }
}

/// One metric: its value (absent when there is nothing to measure), unit,
/// band, and how many observations it rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metric {
    pub value: Option<f64>,
    pub unit: &'static str,
    pub band: Option<Band>,
    pub sample: usize,
}

/// How the window's deployments (rollback deployments aside) ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcomes {
    pub verified: usize,
    pub rolled_back: usize,
    pub failed: usize,
    /// Stopped before the end; not counted as deployments.
    pub aborted: usize,
    /// Deployed, the watch inconclusive: held for a human (counted).
    pub held: usize,
    /// A gate refused them; nothing changed, not counted as deployments.
    pub refused: usize,
    /// Their `runway` died before they ended (see `Outcome::Interrupted`); not counted.
    pub interrupted: usize,
}

/// The four metrics for one environment (or all) over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DoraReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub deployments: usize,
    pub failed_deployments: usize,
    pub outcomes: Outcomes,
    /// Rollbacks carried out: automatic ones and rollback deployments.
    pub rollbacks: usize,
    /// Failed deployments whose service was restored.
    pub restores: usize,
    pub deployment_frequency: Metric,
    pub lead_time_for_changes: Metric,
    pub change_failure_rate: Metric,
    pub failed_deployment_recovery_time: Metric,
    /// Why some deployments were left out of a metric.
    pub notes: Vec<String>,
}

/// Computes the report. `deployments` and `incidents` may hold records of
/// other kinds or outside the window; they are filtered here.
pub fn compute(
    deployments: &[Record],
    incidents: &[Record],
    commit_times: &HashMap<String, DateTime<Utc>>,
    environment: Option<&str>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> DoraReport {
    let mut notes = Vec::new();
    let in_env = |r: &Record| environment.is_none_or(|e| r.environment.as_deref() == Some(e));
    let in_window: Vec<&Record> = deployments
        .iter()
        .filter(|r| r.kind == Kind::Deployment && in_env(r))
        .filter(|r| r.created_at >= since && r.created_at < until)
        .collect();
    let mut outcomes = Outcomes::default();
    for r in in_window.iter().filter(|r| rollback_of(r).is_none()) {
        match r.outcome() {
            Some(Outcome::Verified) => outcomes.verified += 1,
            Some(Outcome::RolledBack) => outcomes.rolled_back += 1,
            Some(Outcome::Failed) => outcomes.failed += 1,
            Some(Outcome::Aborted) => outcomes.aborted += 1,
            Some(Outcome::Held) => outcomes.held += 1,
            Some(Outcome::Refused) => outcomes.refused += 1,
            Some(Outcome::Interrupted) => outcomes.interrupted += 1,
            None => {}
        }
    }
    let ended: Vec<&Record> = in_window
        .iter()
        .copied()
        .filter(|r| rollback_of(r).is_none())
        .filter(|r| r.outcome().is_some_and(Outcome::counts_as_deployment))
        .collect();
    let rollback_deployments = in_window
        .iter()
        .filter(|r| rollback_of(r).is_some())
        .filter(|r| r.outcome().is_some_and(Outcome::counts_as_deployment))
        .count();
    let rollbacks = outcomes.rolled_back + rollback_deployments;
    // Each deployment undone by a verified rollback deployment: the earliest such end.
    let mut undone: HashMap<&str, DateTime<Utc>> = HashMap::new();
    for r in deployments.iter().filter(|r| r.kind == Kind::Deployment) {
        if let Some(target) = rollback_of(r)
            && r.outcome() == Some(Outcome::Verified)
        {
            let end = r.deployment_finished_at().unwrap_or(r.created_at);
            let slot = undone.entry(target).or_insert(end);
            *slot = (*slot).min(end);
        }
    }

    let blamed: HashMap<&str, Vec<&Record>> = incidents
        .iter()
        .filter(|r| r.kind == Kind::Incident)
        .filter_map(|r| r.ref_id.as_deref().map(|d| (d, r)))
        .fold(HashMap::new(), |mut m, (d, r)| {
            m.entry(d).or_insert_with(Vec::new).push(r);
            m
        });

    let days = ((until - since).num_seconds() as f64 / 86_400.0).max(1.0 / 24.0);
    let per_day = ended.len() as f64 / days;
    let deployment_frequency = Metric {
        value: Some(per_day),
        unit: "deployments/day",
        band: Some(Band::for_frequency(per_day)),
        sample: ended.len(),
    };

    // Lead time for changes.
    let mut lead_hours = Vec::new();
    let mut unknown_commits = 0usize;
    for d in ended
        .iter()
        .filter(|d| d.outcome() == Some(Outcome::Verified))
    {
        let sha = d.deployment().ok().and_then(|b| b.git_sha);
        let end = d.deployment_finished_at().unwrap_or(d.created_at);
        match sha.as_deref().and_then(|s| commit_times.get(s)) {
            Some(t) => lead_hours.push(hours(end - *t).max(0.0)),
            None => unknown_commits += 1,
        }
    }
    if unknown_commits > 0 {
        notes.push(format!(
            "{unknown_commits} verified deployment(s) left out of lead time: no git SHA, or the commit is not in this repository"
        ));
    }
    let lead = median(&mut lead_hours);
    let lead_time_for_changes = Metric {
        value: lead,
        unit: "hours (median)",
        band: lead.map(Band::for_lead_time),
        sample: lead_hours.len(),
    };

    // Change failure rate.
    let failed: Vec<&Record> = ended
        .iter()
        .copied()
        .filter(|d| {
            matches!(d.outcome(), Some(Outcome::RolledBack | Outcome::Failed))
                || blamed.contains_key(d.id.as_str())
                || undone.contains_key(d.id.as_str())
        })
        .collect();
    let cfr = (!ended.is_empty()).then(|| 100.0 * failed.len() as f64 / ended.len() as f64);
    let change_failure_rate = Metric {
        value: cfr,
        unit: "percent",
        band: cfr.map(Band::for_failure_rate),
        sample: ended.len(),
    };

    // Failed-deployment recovery time.
    let mut verified_by_env: VerifiedByEnv<'_> = HashMap::new();
    for d in deployments
        .iter()
        .filter(|d| d.kind == Kind::Deployment && d.outcome() == Some(Outcome::Verified))
    {
        if let Some(env) = d.environment.as_deref() {
            let end = d.deployment_finished_at().unwrap_or(d.created_at);
            verified_by_env
                .entry(env)
                .or_default()
                .push((d.created_at, end));
        }
    }
    for v in verified_by_env.values_mut() {
        v.sort();
    }
    let mut recovery_hours = Vec::new();
    let mut unrecovered = 0usize;
    let mut seen = HashSet::new();
    for d in &failed {
        if !seen.insert(d.id.as_str()) {
            continue;
        }
        let restored = recovery(
            d,
            blamed.get(d.id.as_str()),
            undone.get(d.id.as_str()).copied(),
            &verified_by_env,
        );
        match restored {
            Some(h) => recovery_hours.push(h),
            None => unrecovered += 1,
        }
    }
    if unrecovered > 0 {
        notes.push(format!(
            "{unrecovered} failed deployment(s) not yet recovered, left out of recovery time"
        ));
    }
    let rec = median(&mut recovery_hours);
    let failed_deployment_recovery_time = Metric {
        value: rec,
        unit: "hours (median)",
        band: rec.map(Band::for_recovery),
        sample: recovery_hours.len(),
    };

    DoraReport {
        environment: environment.map(str::to_owned),
        since,
        until,
        deployments: ended.len(),
        failed_deployments: failed.len(),
        outcomes,
        rollbacks,
        restores: recovery_hours.len(),
        deployment_frequency,
        lead_time_for_changes,
        change_failure_rate,
        failed_deployment_recovery_time,
        notes,
    }
}

/// Per environment, the (start, end) of each verified deployment, by start.
type VerifiedByEnv<'a> = HashMap<&'a str, Vec<(DateTime<Utc>, DateTime<Utc>)>>;

/// The deployment a rollback deployment undoes (cheap: no body decoding).
fn rollback_of(r: &Record) -> Option<&str> {
    r.body.get("rollback_of").and_then(|v| v.as_str())
}

fn recovery(
    d: &Record,
    incidents: Option<&Vec<&Record>>,
    undone_at: Option<DateTime<Utc>>,
    verified_by_env: &VerifiedByEnv<'_>,
) -> Option<f64> {
    if let Some(incs) = incidents {
        let times: Vec<f64> = incs
            .iter()
            .filter_map(|i| {
                let restored = i
                    .status_at("mitigated")
                    .or_else(|| i.status_at("resolved"))?;
                Some(hours(restored - i.created_at).max(0.0))
            })
            .collect();
        if let Some(max) = times.into_iter().reduce(f64::max) {
            return Some(max);
        }
    }
    if d.outcome() == Some(Outcome::RolledBack) {
        let end = d.deployment_finished_at()?;
        return Some(hours(end - d.created_at).max(0.0));
    }
    if let Some(end) = undone_at {
        return Some(hours(end - d.created_at).max(0.0));
    }
    let env = d.environment.as_deref()?;
    let next = verified_by_env
        .get(env)?
        .iter()
        .find(|(start, _)| *start > d.created_at)?;
    Some(hours(next.1 - d.created_at).max(0.0))
}

fn hours(d: Duration) -> f64 {
    d.num_milliseconds() as f64 / 3_600_000.0
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Deployment, Event, EventKind};

    fn t(h: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::hours(h)
    }

    fn dep(id: &str, env: &str, start_h: i64, end_h: i64, outcome: Outcome, sha: &str) -> Record {
        let mut d = Deployment::new(env, "1.0.0");
        d.started_at = t(start_h);
        d.finished_at = Some(t(end_h));
        d.git_sha = Some(sha.into());
        Record {
            id: id.into(),
            kind: Kind::Deployment,
            created_at: t(start_h),
            operator: "o".into(),
            environment: Some(env.into()),
            version: Some("1.0.0".into()),
            ref_id: None,
            body: serde_json::to_value(&d).unwrap(),
            events: vec![Event {
                at: t(end_h),
                operator: "o".into(),
                kind: EventKind::Created,
                status: Some(outcome.as_str().into()),
                note: None,
                data: serde_json::Value::Null,
            }],
            checks: vec![],
        }
    }

    fn incident(dep: &str, detected_h: i64, mitigated_h: i64) -> Record {
        let ev = |h, s: &str| Event {
            at: t(h),
            operator: "o".into(),
            kind: EventKind::Status,
            status: Some(s.into()),
            note: None,
            data: serde_json::Value::Null,
        };
        Record {
            id: "inc-1".into(),
            kind: Kind::Incident,
            created_at: t(detected_h),
            operator: "o".into(),
            environment: Some("prod".into()),
            version: None,
            ref_id: Some(dep.into()),
            body: serde_json::json!({}),
            events: vec![ev(detected_h, "detected"), ev(mitigated_h, "mitigated")],
            checks: vec![],
        }
    }

    #[test]
    fn four_metrics_from_a_small_history() {
        // Ten days, prod: 4 verified, 1 rolled back (recovered in 1 h by its
        // rollback), 1 verified but blamed by an incident mitigated after 3 h,
        // 1 aborted (not counted); staging ignored.
        let deps = vec![
            dep("d1", "prod", 0, 1, Outcome::Verified, "c1"),
            dep("d2", "prod", 24, 25, Outcome::Verified, "c2"),
            dep("d3", "prod", 48, 49, Outcome::RolledBack, "c3"),
            dep("d4", "prod", 72, 73, Outcome::Verified, "c4"),
            dep("d5", "prod", 96, 97, Outcome::Verified, "unknown"),
            dep("d6", "prod", 120, 121, Outcome::Verified, "c1"),
            dep("d7", "prod", 144, 145, Outcome::Aborted, "c1"),
            // A gate refused it: recorded, never counted.
            dep("d8", "prod", 150, 150, Outcome::Refused, "c1"),
            dep("s1", "staging", 0, 1, Outcome::Failed, "c1"),
        ];
        let incs = vec![incident("d6", 130, 133)];
        let commits: HashMap<String, DateTime<Utc>> = [
            ("c1".to_owned(), t(-2)),
            ("c2".to_owned(), t(20)),
            ("c4".to_owned(), t(-47)),
        ]
        .into_iter()
        .collect();
        let r = compute(&deps, &incs, &commits, Some("prod"), t(0), t(240));
        assert_eq!(r.deployments, 6);
        assert_eq!(r.failed_deployments, 2);
        assert_eq!(r.rollbacks, 1);
        assert_eq!(r.restores, 2);
        assert_eq!(r.outcomes.aborted, 1);
        assert_eq!(r.outcomes.refused, 1);
        assert_eq!(r.outcomes.verified, 5);
        let f = r.deployment_frequency.value.unwrap();
        assert!((f - 0.6).abs() < 1e-9, "{f}");
        assert_eq!(r.deployment_frequency.band, Some(Band::High));
        // Lead times (hours): d1 3, d2 5, d4 120, d6 123 -> median (5 + 120) / 2.
        assert_eq!(r.lead_time_for_changes.sample, 4);
        assert_eq!(r.lead_time_for_changes.value, Some(62.5));
        assert_eq!(r.lead_time_for_changes.band, Some(Band::High));
        assert!(
            r.notes
                .iter()
                .any(|n| n.starts_with("1 verified deployment"))
        );
        let cfr = r.change_failure_rate.value.unwrap();
        assert!((cfr - 100.0 / 3.0).abs() < 1e-9);
        assert_eq!(r.change_failure_rate.band, Some(Band::Low));
        // Recovery: d3 rollback 1 h, d6 incident 3 h -> median 2 h.
        assert_eq!(r.failed_deployment_recovery_time.value, Some(2.0));
        assert_eq!(r.failed_deployment_recovery_time.band, Some(Band::High));
    }

    #[test]
    fn rollback_deployments_count_as_rollbacks_and_restore_what_they_undo() {
        // d1 verified, then undone 5 h after it started by r1 (a rollback
        // deployment); d2 rolled back automatically within 1 h; d3 aborted;
        // r2 rolled back d2 again but was aborted (not counted).
        let mut r1 = dep("r1", "prod", 4, 5, Outcome::Verified, "c");
        let mut body = r1.deployment().unwrap();
        body.rollback_of = Some("d1".into());
        r1.body = serde_json::to_value(&body).unwrap();
        let mut r2 = dep("r2", "prod", 12, 13, Outcome::Aborted, "c");
        body.rollback_of = Some("d2".into());
        r2.body = serde_json::to_value(&body).unwrap();
        let deps = vec![
            dep("d1", "prod", 0, 1, Outcome::Verified, "c"),
            r1,
            dep("d2", "prod", 10, 11, Outcome::RolledBack, "c"),
            r2,
            dep("d3", "prod", 14, 15, Outcome::Aborted, "c"),
        ];
        let r = compute(&deps, &[], &HashMap::new(), Some("prod"), t(0), t(24));
        assert_eq!(r.deployments, 2, "rollback deployments are not deployments");
        assert_eq!(
            r.outcomes,
            Outcomes {
                verified: 1,
                rolled_back: 1,
                failed: 0,
                aborted: 1,
                held: 0,
                refused: 0,
                interrupted: 0,
            }
        );
        assert_eq!(r.rollbacks, 2);
        assert_eq!(r.failed_deployments, 2, "d1 was undone, d2 rolled back");
        assert_eq!(r.change_failure_rate.value, Some(100.0));
        assert_eq!(r.restores, 2);
        // d1: 0 -> 5 h (r1's end); d2: 10 -> 11 h -> median 3 h.
        assert_eq!(r.failed_deployment_recovery_time.value, Some(3.0));
    }

    #[test]
    fn a_failed_deployment_recovers_at_the_next_verified_one() {
        let deps = vec![
            dep("d1", "prod", 0, 1, Outcome::Failed, "c"),
            dep("d2", "prod", 5, 6, Outcome::Verified, "c"),
        ];
        let r = compute(&deps, &[], &HashMap::new(), None, t(0), t(24));
        assert_eq!(r.failed_deployment_recovery_time.value, Some(6.0));
        assert_eq!(r.change_failure_rate.value, Some(50.0));
        assert_eq!(r.deployment_frequency.band, Some(Band::Elite));
        assert_eq!(r.lead_time_for_changes.value, None);
        assert_eq!(r.lead_time_for_changes.band, None);
    }

    #[test]
    fn an_empty_window_has_no_rates() {
        let r = compute(&[], &[], &HashMap::new(), Some("prod"), t(0), t(24 * 90));
        assert_eq!(r.deployments, 0);
        assert_eq!(r.change_failure_rate.value, None);
        assert_eq!(r.deployment_frequency.band, Some(Band::Low));
    }

    #[test]
    fn band_edges() {
        assert_eq!(Band::for_frequency(1.0), Band::Elite);
        assert_eq!(Band::for_frequency(1.0 / 7.0), Band::High);
        assert_eq!(Band::for_frequency(1.0 / 31.0), Band::Low);
        assert_eq!(Band::for_lead_time(23.9), Band::Elite);
        assert_eq!(Band::for_lead_time(24.0 * 29.0), Band::Medium);
        assert_eq!(Band::for_failure_rate(5.0), Band::Elite);
        assert_eq!(Band::for_failure_rate(15.1), Band::Low);
        assert_eq!(Band::for_recovery(0.5), Band::Elite);
        assert_eq!(Band::for_recovery(24.0 * 8.0), Band::Low);
    }
}
