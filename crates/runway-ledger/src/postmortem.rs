//! A postmortem, pre-filled from the ledger.
//!
//! The runbooks ask for a write-up after every incident (summary, impact,
//! root cause, resolution, prevention, action items). Most of its facts are
//! already recorded: the incident's timeline, the deployment that caused it
//! and that deployment's verification results. This renders them as Markdown
//! and leaves clearly marked blanks for what only a human knows.

use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};
use runway_core::Status;

use serde::Deserialize as _;

use crate::{DeploymentFact, Record, Result, RollbackDecision};

/// One timeline row for a deployment fact (gates are not events worth a row).
fn fact_line(data: &serde_json::Value) -> Option<String> {
    match DeploymentFact::deserialize(data).ok()? {
        DeploymentFact::Gates { .. } => None,
        DeploymentFact::Deployed(d) => Some(format!(
            "target reported{}",
            [
                ("image", &d.image),
                ("digest", &d.digest),
                ("revision", &d.revision)
            ]
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!(" {k} `{v}`")))
            .collect::<String>()
        )),
        DeploymentFact::Analysis(a) => Some(format!(
            "watch analysis `{}` over {} sample(s){}",
            a.verdict.as_str(),
            a.samples,
            a.failing.map(|f| format!(": {f}")).unwrap_or_default()
        )),
        DeploymentFact::Rollback(r) => Some(format!(
            "rolled back{} to {} ({})",
            r.from_version.map(|v| format!(" {v}")).unwrap_or_default(),
            r.to_version.as_deref().unwrap_or("the previous version"),
            if r.ok { "succeeded" } else { "failed" }
        )),
        DeploymentFact::Logs(l) => Some(format!(
            "{} bytes of {}'s output kept ({})",
            l.bytes,
            l.version.as_deref().unwrap_or("the failed version"),
            l.source
        )),
        // The timeline shows what was done, not what was about to be.
        DeploymentFact::Step(s) if s.intent => None,
        DeploymentFact::Step(s) => Some(s.step),
        DeploymentFact::Failing { reason } => Some(format!("failed: {reason}")),
    }
}

/// `2 h 5 min`, `12 min`, `40 s`, `3 d 4 h`.
pub fn human_duration(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    let (days, hours, mins, secs) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{secs} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

const FILL: &str = "_To fill in._";

/// Renders the postmortem of `incident`, using its deployment and that
/// deployment's verification runs when the incident names one.
pub fn render(
    incident: &Record,
    deployment: Option<&Record>,
    verifications: &[Record],
) -> Result<String> {
    let inc = incident.incident()?;
    let sev = inc.severity;
    let status = incident.status().unwrap_or("detected");
    let detected = inc.detected_at;
    let acked = incident.status_at("acknowledged");
    let mitigated = incident.status_at("mitigated");
    let resolved = incident.status_at("resolved");
    let closed = incident.status_at("closed");
    let dep = deployment
        .map(|d| d.deployment().map(|b| (d, b)))
        .transpose()?;
    let failed_checks: Vec<_> = verifications
        .iter()
        .flat_map(|v| v.checks.iter().map(move |c| (v, c)))
        .filter(|(_, c)| c.status == Status::Fail)
        .collect();

    let mut md = String::new();
    let w = &mut md;
    let _ = writeln!(w, "# Postmortem: {} (`{}`)\n", inc.title, incident.id);
    let _ = writeln!(w, "| | |\n|---|---|");
    let _ = writeln!(
        w,
        "| Severity | {sev}: {} (respond within {}) |",
        sev.description(),
        human_duration(inc.respond_by - detected)
    );
    let _ = writeln!(w, "| Status | {status} |");
    let _ = writeln!(
        w,
        "| Detected | {} by {} |",
        stamp(detected),
        incident.operator
    );
    for (label, t) in [
        ("Acknowledged", acked),
        ("Mitigated", mitigated),
        ("Resolved", resolved),
        ("Closed", closed),
    ] {
        if let Some(t) = t {
            let _ = writeln!(
                w,
                "| {label} | {} ({} after detection) |",
                stamp(t),
                human_duration(t - detected)
            );
        }
    }
    if let Some((d, b)) = &dep {
        let _ = writeln!(
            w,
            "| Deployment | `{}`: release {} to {} |",
            d.id, b.release, b.environment
        );
    }
    let _ = writeln!(w);

    let _ = writeln!(w, "## Summary\n");
    let outcome = match (mitigated.or(resolved), resolved) {
        (_, Some(r)) => format!("resolved {} after detection", human_duration(r - detected)),
        (Some(m), None) => format!(
            "mitigated {} after detection, not yet resolved",
            human_duration(m - detected)
        ),
        _ => "not yet mitigated".to_owned(),
    };
    let _ = write!(
        w,
        "A {sev} incident, \"{}\", was detected at {} and {outcome}.",
        inc.title,
        stamp(detected)
    );
    if let Some((d, b)) = &dep {
        let _ = write!(
            w,
            " It is attributed to deployment `{}` of release {} to {}.",
            d.id, b.release, b.environment
        );
    }
    let _ = writeln!(w, "\n");

    let _ = writeln!(w, "## Impact\n");
    if let Some((_, b)) = &dep {
        let _ = writeln!(w, "- Environment: {}", b.environment);
        let _ = writeln!(w, "- Release: {}", b.release);
    }
    let end = resolved.or(mitigated);
    match end {
        Some(e) => {
            let _ = writeln!(
                w,
                "- Duration (detection to restoration): {}",
                human_duration(e - detected)
            );
        }
        None => {
            let _ = writeln!(w, "- Duration: ongoing");
        }
    }
    for v in verifications {
        if let Ok(h) = v.verification() {
            let s = h.summary;
            let _ = writeln!(
                w,
                "- Verification `{}` ({} suite against `{}`): {} passed, {} warned, {} failed, {} skipped",
                v.id, h.suite, h.target, s.passed, s.warned, s.failed, s.skipped
            );
        }
    }
    let _ = writeln!(w, "- Users and requests affected: {FILL}\n");

    let _ = writeln!(w, "## Timeline (UTC)\n");
    let _ = writeln!(w, "| Time | Event | By | Note |\n|---|---|---|---|");
    let mut rows: Vec<(DateTime<Utc>, String, String, String)> = Vec::new();
    if let Some((d, b)) = &dep {
        rows.push((
            b.started_at,
            format!("deployment `{}` of {} started", d.id, b.release),
            d.operator.clone(),
            String::new(),
        ));
        for e in d.events.iter().filter(|e| e.kind == crate::EventKind::Fact) {
            if let Some(what) = fact_line(&e.data) {
                rows.push((e.at, what, e.operator.clone(), String::new()));
            }
        }
        for e in d.events.iter().filter(|e| e.status.is_some()) {
            let s = e.status.as_deref().unwrap_or_default();
            if s != crate::IN_PROGRESS {
                rows.push((
                    e.at,
                    format!("deployment {s}"),
                    e.operator.clone(),
                    e.note.clone().unwrap_or_default(),
                ));
            }
        }
    }
    for v in verifications {
        if let Ok(h) = v.verification() {
            rows.push((
                v.created_at,
                format!(
                    "verification `{}`: {} failed of {}",
                    v.id,
                    h.summary.failed,
                    h.summary.total()
                ),
                v.operator.clone(),
                String::new(),
            ));
        }
    }
    for e in &incident.events {
        let what = match (&e.status, e.kind) {
            (Some(s), _) => format!("incident {s}"),
            (None, crate::EventKind::Note) => "note".to_owned(),
            (None, k) => k.as_str().to_owned(),
        };
        rows.push((
            e.at,
            what,
            e.operator.clone(),
            e.note.clone().unwrap_or_default(),
        ));
    }
    rows.sort_by_key(|r| r.0);
    for (t, what, by, note) in rows {
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} |",
            stamp(t),
            what,
            by,
            note.replace('|', "\\|").replace('\n', " ")
        );
    }
    let _ = writeln!(w);

    let _ = writeln!(w, "## Root cause\n");
    if dep.is_none() {
        let _ = writeln!(
            w,
            "No deployment is linked to this incident (`runway incident open --deployment ID` links one)."
        );
    }
    if let Some((d, b)) = &dep {
        let scope: Vec<&str> = b
            .scope
            .iter()
            .map(|s| match s {
                crate::Scope::Config => "config",
                crate::Scope::Code => "code",
            })
            .collect();
        let _ = writeln!(
            w,
            "Deployment `{}` shipped release {}{}{} (scope: {}).",
            d.id,
            b.release,
            b.git_sha
                .as_deref()
                .map(|s| format!(" at commit `{s}`"))
                .unwrap_or_default(),
            b.image_tag
                .as_deref()
                .map(|s| format!(", image `{s}`"))
                .unwrap_or_default(),
            if scope.is_empty() {
                "not recorded".to_owned()
            } else {
                scope.join(", ")
            }
        );
    }
    if let Some((d, b)) = &dep {
        if let Some(c) = &b.changes {
            let since = c
                .previous_version
                .as_deref()
                .map(|v| format!(" (since {v})"))
                .unwrap_or_default();
            let _ = writeln!(w, "\nChanges in this deployment{since}:\n");
            for line in &c.code {
                let _ = writeln!(w, "- code: {line}");
            }
            for line in &c.config {
                let _ = writeln!(w, "- config: {line}");
            }
            if c.code.is_empty() && c.config.is_empty() {
                let _ = writeln!(w, "- none recorded");
            }
        }
        for e in d.events.iter().filter(|e| e.kind == crate::EventKind::Fact) {
            if let Ok(DeploymentFact::Analysis(a)) = DeploymentFact::deserialize(&e.data)
                && let Some(f) = &a.failing
            {
                let _ = writeln!(
                    w,
                    "\nThe watch after the deployment judged `{}` over {} sample(s): {f}.",
                    a.verdict.as_str(),
                    a.samples
                );
            }
        }
    }
    if failed_checks.is_empty() {
        let _ = writeln!(w, "\nNo verification check failed.");
    } else {
        let _ = writeln!(w, "\nFailed checks:\n");
        for (v, c) in &failed_checks {
            let _ = write!(w, "- `{}` (verification `{}`): {}", c.id, v.id, c.message);
            if let Some(h) = &c.hint {
                let _ = write!(w, "; hint: {h}");
            }
            let _ = writeln!(w);
        }
    }
    let _ = writeln!(w, "\nWhat went wrong, and why: {FILL}\n");

    let _ = writeln!(w, "## Resolution\n");
    if let Some((d, b)) = &dep {
        let rollback = d
            .events
            .iter()
            .rev()
            .find_map(|e| e.data.get("rollback").cloned())
            .and_then(|v| serde_json::from_value::<RollbackDecision>(v).ok())
            .or_else(|| b.rollback.clone());
        let text = match rollback {
            Some(RollbackDecision::Executed { to, reason }) => format!(
                "rollback executed{}: {reason}",
                to.map(|t| format!(" to {t}")).unwrap_or_default()
            ),
            Some(RollbackDecision::NotNeeded) => "rollback not needed".to_owned(),
            None => "no rollback decision recorded".to_owned(),
        };
        let _ = writeln!(
            w,
            "- Deployment outcome: {}; {text}",
            d.status().unwrap_or("unknown")
        );
    }
    for n in incident.notes() {
        let _ = writeln!(
            w,
            "- {} ({}, {})",
            n.note.as_deref().unwrap_or_default(),
            n.operator,
            stamp(n.at)
        );
    }
    match end {
        Some(e) => {
            let _ = writeln!(
                w,
                "- Time to restore service: {}",
                human_duration(e - detected)
            );
        }
        None => {
            let _ = writeln!(w, "- Service not yet restored");
        }
    }
    let _ = writeln!(w, "- Verification of the fix: {FILL}\n");

    let _ = writeln!(w, "## Detection\n");
    let _ = writeln!(
        w,
        "- Detected at {} by {}.",
        stamp(detected),
        incident.operator
    );
    match acked {
        Some(a) => {
            let met = if a <= inc.respond_by { "met" } else { "missed" };
            let _ = writeln!(
                w,
                "- Acknowledged {} after detection: the {sev} response target of {} was {met}.",
                human_duration(a - detected),
                human_duration(inc.respond_by - detected)
            );
        }
        None => {
            let _ = writeln!(
                w,
                "- Not acknowledged; the {sev} response target was {}.",
                stamp(inc.respond_by)
            );
        }
    }
    if let Some((_, b)) = &dep {
        let window = b.window.describe();
        let _ = writeln!(w, "- The deployment ran {window}.");
    }
    let _ = writeln!(w, "- How could it have been caught earlier? {FILL}\n");

    let _ = writeln!(w, "## Action items\n");
    let _ = writeln!(w, "| Action | Owner | Due |\n|---|---|---|");
    for (_, c) in &failed_checks {
        let _ = writeln!(
            w,
            "| Make `{}` pass before the next release, and gate on it | | |",
            c.id
        );
    }
    if dep.is_some() {
        let _ = writeln!(
            w,
            "| Add a check that would have caught this before production | | |"
        );
    }
    let _ = writeln!(w, "| {FILL} | | |\n");

    let _ = writeln!(w, "## Lessons learned\n");
    let _ = writeln!(w, "- What went well: {FILL}");
    let _ = writeln!(w, "- What went wrong: {FILL}");
    let _ = writeln!(w, "- Where we got lucky: {FILL}");
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_facts_reach_the_timeline_and_the_root_cause() {
        use crate::{Analysis, AnalysisVerdict, Changes, Deployment, Event, EventKind, Kind};
        let t = crate::now();
        let ev = |kind, status: Option<&str>, data: serde_json::Value| Event {
            at: t,
            operator: "o".into(),
            kind,
            status: status.map(str::to_owned),
            note: None,
            data,
        };
        let mut body = Deployment::new("prod", "2.0.0");
        body.changes = Some(Changes {
            previous_version: Some("1.9.0".into()),
            code: vec!["abc1234 feat: new tool".into()],
            ..Changes::default()
        });
        let analysis = DeploymentFact::Analysis(Analysis {
            verdict: AnalysisVerdict::Fail,
            samples: 12,
            min_samples: None,
            started_at: None,
            ended_at: None,
            availability: Some(0.75),
            error_rate: None,
            auth_failure_rate: None,
            p50_ms: None,
            p95_ms: None,
            failing: Some("availability 75.0% < 95.0%".into()),
            conditions: Vec::new(),
        });
        let dep = Record {
            id: "dep-1".into(),
            kind: Kind::Deployment,
            created_at: t,
            operator: "o".into(),
            environment: Some("prod".into()),
            version: Some("2.0.0".into()),
            ref_id: None,
            body: serde_json::to_value(&body).unwrap(),
            events: vec![
                ev(
                    EventKind::Created,
                    Some("in_progress"),
                    serde_json::Value::Null,
                ),
                ev(
                    EventKind::Fact,
                    None,
                    serde_json::to_value(&analysis).unwrap(),
                ),
                ev(
                    EventKind::Status,
                    Some("rolled_back"),
                    serde_json::Value::Null,
                ),
            ],
            checks: vec![],
        };
        let incident = Record {
            id: "inc-1".into(),
            kind: Kind::Incident,
            created_at: t,
            operator: "o".into(),
            environment: Some("prod".into()),
            version: Some("2.0.0".into()),
            ref_id: Some("dep-1".into()),
            body: serde_json::to_value(crate::Incident {
                severity: runway_core::Severity::P1,
                title: "watch failed".into(),
                deployment_id: Some("dep-1".into()),
                detected_at: t,
                respond_by: t + Duration::hours(1),
            })
            .unwrap(),
            events: vec![ev(
                EventKind::Created,
                Some("detected"),
                serde_json::Value::Null,
            )],
            checks: vec![],
        };
        let md = render(&incident, Some(&dep), &[]).unwrap();
        assert!(
            md.contains("watch analysis `fail` over 12 sample(s): availability 75.0% < 95.0%"),
            "{md}"
        );
        assert!(
            md.contains("Changes in this deployment (since 1.9.0):"),
            "{md}"
        );
        assert!(md.contains("- code: abc1234 feat: new tool"), "{md}");
        assert!(
            md.contains("The watch after the deployment judged `fail` over 12 sample(s): availability 75.0% < 95.0%."),
            "{md}"
        );
    }

    #[test]
    fn durations_read_like_a_person_wrote_them() {
        assert_eq!(human_duration(Duration::seconds(40)), "40 s");
        assert_eq!(human_duration(Duration::minutes(12)), "12 min");
        assert_eq!(human_duration(Duration::minutes(125)), "2 h 5 min");
        assert_eq!(human_duration(Duration::hours(3)), "3 h");
        assert_eq!(human_duration(Duration::hours(76)), "3 d 4 h");
        assert_eq!(human_duration(Duration::seconds(-5)), "0 s");
    }
}
