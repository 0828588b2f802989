//! Reading the ledger as the runbooks do: a record and its joins, incidents,
//! postmortems and the DORA report.
//!
//! One function per read, with typed input and output, for every front end:
//! `runway ledger show`, `runway incident list|postmortem` and `runway dora`
//! render what these return, and `runway mcp` serves the same values as tool
//! results, so the two can never disagree on a filter or a join.

use std::{collections::HashSet, path::Path};

use chrono::{DateTime, Utc};
use runway_ledger::{
    DeploymentView, Filter, Kind, Ledger, LedgerError, Outcome, Record, dora::DoraReport,
};
use serde::Serialize;

/// What `--since` and `--until` accept: a duration back from now (`7d`, `12h`,
/// `30m`, `2w`, `1h 30m`: humantime's spelling, at most a century), an RFC 3339
/// time, or a `YYYY-MM-DD` date (UTC midnight).
pub fn parse_when(text: &str) -> Result<DateTime<Utc>, WhenError> {
    let s = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    const CENTURY: std::time::Duration = std::time::Duration::from_secs(100 * 365 * 86_400);
    humantime::parse_duration(s)
        .ok()
        .filter(|d| *d <= CENTURY)
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .map(|back| Utc::now() - back)
        .ok_or_else(|| WhenError { text: s.to_owned() })
}

/// A `--since`/`--until` value that is neither a duration, a date nor a time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a duration or a time")]
pub struct WhenError {
    pub text: String,
}

impl WhenError {
    /// The forms that are accepted, for a hint.
    pub const FORMS: &'static str = "use a duration such as `90d`, `12h`, `30m`, `2w`, a date such as `2026-01-31`, or an RFC 3339 time such as `2026-01-31T00:00:00Z`";
}

/// One record as `runway ledger show` reads it: a deployment comes with its
/// joined-up view (the `ledger_show` tool's `deployment_view`).
#[derive(Debug, Clone)]
pub struct Shown {
    pub record: Record,
    pub deployment_view: Option<DeploymentView>,
    /// A deployment's provenance chain.
    pub chain: Option<runway_ledger::Chain>,
}

impl Serialize for Shown {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.deployment_view {
            Some(view) => runway_ledger::DeploymentShow {
                record: &self.record,
                deployment_view: view,
                chain: self.chain.as_ref(),
            }
            .serialize(s),
            None => self.record.serialize(s),
        }
    }
}

/// The record `id` (or a unique prefix of one), with its deployment view when it is a deployment.
pub async fn show(ledger: &dyn Ledger, id: &str) -> Result<Shown, LedgerError> {
    let record = ledger.get(id).await?;
    let deployment_view = match record.kind {
        Kind::Deployment => Some(ledger.deployment_view(&record.id).await?),
        _ => None,
    };
    let chain = match &deployment_view {
        Some(v) => Some(chain(ledger, v).await?),
        None => None,
    };
    Ok(Shown {
        record,
        deployment_view,
        chain,
    })
}

/// The provenance chain of deployment `view`, from its version's newest release record.
pub async fn chain(
    ledger: &dyn Ledger,
    view: &DeploymentView,
) -> Result<runway_ledger::Chain, LedgerError> {
    let release = ledger.release_record(&view.deployment.release).await?;
    Ok(runway_ledger::Chain::build(view, release.as_ref()))
}

/// Which incidents `runway incident list` and the `incident_list` tool return.
#[derive(Debug, Clone, Default)]
pub struct IncidentQuery {
    /// Resolved and closed ones too (default: only those still open).
    pub all: bool,
    pub environment: Option<String>,
    /// Detected at or after.
    pub since: Option<DateTime<Utc>>,
}

/// The incidents `query` asks for, oldest first, each with its whole timeline.
pub async fn incidents(
    ledger: &dyn Ledger,
    query: &IncidentQuery,
) -> Result<Vec<Record>, LedgerError> {
    let filter = Filter {
        kind: Some(Kind::Incident),
        environment: query.environment.clone(),
        since: query.since,
        ..Filter::default()
    };
    let mut found = ledger.query(&filter, false).await?;
    if !query.all {
        found.retain(is_open);
    }
    Ok(found)
}

/// Whether an incident is still open (not resolved or closed).
pub fn is_open(incident: &Record) -> bool {
    !matches!(incident.status(), Some("resolved" | "closed"))
}

/// The full id of the incident `id` names (an id or a unique prefix); any other kind is refused.
pub async fn incident_id(ledger: &dyn Ledger, id: &str) -> Result<String, LedgerError> {
    let record = ledger.get(id).await?;
    if record.kind != Kind::Incident {
        return Err(LedgerError::WrongKind {
            id: record.id,
            expected: Kind::Incident,
            found: record.kind,
        });
    }
    Ok(record.id)
}

/// An incident's pre-filled postmortem.
#[derive(Debug, Clone, Serialize)]
pub struct Postmortem {
    /// The incident's full id.
    pub incident: String,
    /// The write-up, in Markdown.
    pub markdown: String,
}

/// The postmortem of incident `id`, pre-filled from the incident, the
/// deployment it names and that deployment's verification runs.
pub async fn postmortem(ledger: &dyn Ledger, id: &str) -> Result<Postmortem, LedgerError> {
    let id = incident_id(ledger, id).await?;
    let incident = ledger.get(&id).await?;
    let body = incident.incident()?;
    let (deployment, verifications) = match &body.deployment_id {
        Some(d) => {
            let dep = ledger.get(d).await?;
            let runs = deployment_verifications(ledger, &dep).await?;
            (Some(dep), runs)
        }
        None => (None, Vec::new()),
    };
    let markdown =
        runway_ledger::postmortem::render(&incident, deployment.as_ref(), &verifications)?;
    Ok(Postmortem {
        incident: id,
        markdown,
    })
}

/// The verification runs of a deployment: those recorded against it, and
/// the one it names and any a later fact names.
pub async fn deployment_verifications(
    ledger: &dyn Ledger,
    dep: &Record,
) -> Result<Vec<Record>, LedgerError> {
    let filter = Filter {
        kind: Some(Kind::Verification),
        ref_id: Some(dep.id.clone()),
        ..Filter::default()
    };
    let mut found = ledger.query(&filter, true).await?;
    let named = dep
        .deployment()
        .ok()
        .and_then(|b| b.verification_id)
        .into_iter()
        .chain(dep.events.iter().filter_map(|e| {
            e.data
                .get("verification_id")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        }));
    for v in named {
        if !found.iter().any(|r| r.id == v) {
            found.push(ledger.get(&v).await?);
        }
    }
    Ok(found)
}

/// The window and scope of a DORA report.
#[derive(Debug, Clone)]
pub struct DoraQuery {
    /// One environment, or every one.
    pub environment: Option<String>,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// The four DORA metrics: deployments and incidents from the ledger, each
/// verified deployment's commit time from the git repository at `repo` (one
/// `git` process for every SHA; none when `repo` is not a repository).
pub async fn dora(
    ledger: &dyn Ledger,
    repo: &Path,
    query: &DoraQuery,
) -> Result<DoraReport, LedgerError> {
    let mut filter = Filter {
        kind: Some(Kind::Deployment),
        environment: query.environment.clone(),
        since: Some(query.since),
        ..Filter::default()
    };
    // A deployment's outcome and end are its latest status event: no need for the rest.
    let deployments = ledger.query_latest(&filter).await?;
    filter.kind = Some(Kind::Incident);
    let incidents = ledger.query(&filter, false).await?;
    let shas: HashSet<String> = deployments
        .iter()
        .filter(|d| d.outcome() == Some(Outcome::Verified))
        .filter_map(|d| d.deployment().ok().and_then(|b| b.git_sha))
        .collect();
    let repo = repo.to_owned();
    let commit_times =
        tokio::task::spawn_blocking(move || runway_release::git::commit_times(&repo, &shas))
            .await
            .unwrap_or_default();
    Ok(runway_ledger::dora::compute(
        &deployments,
        &incidents,
        &commit_times,
        query.environment.as_deref(),
        query.since,
        query.until,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_is_a_duration_back_a_date_or_a_time() {
        let now = Utc::now();
        let week = parse_when("7d").unwrap();
        assert!((now - week - chrono::Duration::days(7)).num_seconds().abs() < 5);
        assert_eq!(
            parse_when("2026-01-31").unwrap().to_rfc3339(),
            "2026-01-31T00:00:00+00:00"
        );
        assert_eq!(
            parse_when(" 2026-01-31T12:00:00+02:00 ")
                .unwrap()
                .to_rfc3339(),
            "2026-01-31T10:00:00+00:00"
        );
        let err = parse_when("soon").unwrap_err();
        assert_eq!(err.to_string(), "`soon` is not a duration or a time");
        // Further back than a century is a typo, not a window.
        assert!(parse_when("1000y").is_err());
    }
}
