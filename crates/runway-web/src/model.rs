//! The read model: what the pages and the API show, built from the ledger.
//!
//! Handlers stay thin: each asks for an [`Overview`] or one
//! [`EnvironmentView`] and renders it as HTML, JSON or an SVG. The ledger
//! does the counting: its summary holds each environment's runs per day and
//! per hour with a latency histogram, kept current as runs are stored, so a
//! view costs 90 day rows and 24 hour rows whatever the check interval; this
//! module reads the hourly percentiles off the histograms.

use chrono::{DateTime, Duration, DurationRound, Utc};
use std::collections::HashMap;

use runway_ledger::{
    Filter, Kind, Ledger, LedgerError, MonitorDay, MonitorHour, MonitorResult, Record,
};
use serde::Serialize;

use crate::alerts::{AlertView, NotifierView};

/// Days of uptime bars.
pub const UPTIME_DAYS: i64 = 90;
/// Hours of latency chart.
pub const LATENCY_HOURS: i64 = 24;
/// Deployments shown per environment (newest).
pub const MAX_DEPLOYMENTS: usize = 100;

#[derive(Debug, Clone, Serialize)]
pub struct EnvironmentView {
    pub name: String,
    /// `up`, `degraded`, `down`, `maintenance`, or `unknown` (no run yet).
    pub status: String,
    pub last_run: Option<LastRun>,
    /// Runs that passed over runs, over the days shown; `None` without runs.
    pub uptime: Option<f64>,
    /// One entry per day, oldest first, `UPTIME_DAYS` of them (days without runs included).
    pub days: Vec<Day>,
    /// One entry per hour with runs, oldest first.
    pub latency: Vec<LatencyPoint>,
    /// Newest first.
    pub deployments: Vec<DeploymentMark>,
    /// The newest run of each location, by name (the dashboard's; see [`crate::locations`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<crate::locations::LocationView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LastRun {
    pub at: DateTime<Utc>,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub latency_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Day {
    pub day: DateTime<Utc>,
    pub runs: i64,
    pub failures: i64,
}

impl Day {
    pub fn uptime(&self) -> Option<f64> {
        (self.runs > 0).then(|| (self.runs - self.failures) as f64 / self.runs as f64)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencyPoint {
    /// The start of the hour.
    pub hour: DateTime<Utc>,
    pub runs: i64,
    /// Read from the hour's latency histogram (within about 15 %).
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeploymentMark {
    pub id: String,
    pub version: String,
    pub at: DateTime<Utc>,
    /// `in_progress` or the outcome (`verified`, `rolled_back`...).
    pub status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct IncidentView {
    pub id: String,
    pub severity: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub status: String,
    pub detected_at: DateTime<Utc>,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub generated_at: DateTime<Utc>,
    pub environments: Vec<EnvironmentView>,
    pub incidents: Vec<IncidentView>,
    pub alerts: Vec<AlertView>,
    pub notifiers: Vec<NotifierView>,
}

fn midnight(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::days(1)).unwrap_or(t)
}

fn hour_of(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::hours(1)).unwrap_or(t)
}

/// Fills the days without runs, so the bars always span `days` days ending today.
pub fn fill_days(found: &[MonitorDay], now: DateTime<Utc>, days: i64) -> Vec<Day> {
    let first = midnight(now) - Duration::days(days - 1);
    (0..days)
        .map(|i| {
            let day = first + Duration::days(i);
            let hit = found.iter().find(|d| d.day == day);
            Day {
                day,
                runs: hit.map_or(0, |d| d.runs),
                failures: hit.map_or(0, |d| d.failures),
            }
        })
        .collect()
}

/// One environment's view at `now`, over `days` days of uptime.
pub async fn environment(
    ledger: &dyn Ledger,
    name: &str,
    now: DateTime<Utc>,
    days: i64,
) -> Result<EnvironmentView, LedgerError> {
    let latest = ledger.monitor_latest(name).await?;
    let since = midnight(now) - Duration::days(days - 1);
    let found = ledger.monitor_daily(name, since).await?;
    let lat_since = hour_of(now) - Duration::hours(LATENCY_HOURS - 1);
    let hours = ledger.monitor_hours(name, lat_since).await?;
    let filter = Filter {
        kind: Some(Kind::Deployment),
        environment: Some(name.to_owned()),
        since: Some(since),
        ..Filter::default()
    };
    let deployments = ledger.query_latest(&filter).await?;
    Ok(view(
        name,
        latest,
        &found,
        None,
        &hours,
        deployments,
        now,
        days,
    ))
}

/// The views of all of `names` at `now`, over `days` days of uptime, in
/// order: at most four ledger queries whatever the number of environments (the
/// dashboard's), where [`environment`] for each would take four apiece.
/// Without `latency` the views have no latency points (the status page's).
pub async fn environments(
    ledger: &dyn Ledger,
    names: &[String],
    now: DateTime<Utc>,
    days: i64,
    latency: bool,
) -> Result<Vec<EnvironmentView>, LedgerError> {
    read_views(ledger, names, now, days, latency, false).await
}

/// [`environments`] for the compact pages (above [`COMPACT_ABOVE`]): each
/// environment's uptime summed in the query, one row each, and no day bars
/// or latency (every day reads as without runs until
/// [`compact_details`] fills in those shown in full). The day rows of 1,000
/// environments over 90 days were 90,000 rows a page load.
pub async fn environments_compact(
    ledger: &dyn Ledger,
    names: &[String],
    now: DateTime<Utc>,
    days: i64,
) -> Result<Vec<EnvironmentView>, LedgerError> {
    read_views(ledger, names, now, days, false, true).await
}

async fn read_views(
    ledger: &dyn Ledger,
    names: &[String],
    now: DateTime<Utc>,
    days: i64,
    latency: bool,
    compact: bool,
) -> Result<Vec<EnvironmentView>, LedgerError> {
    let since = midnight(now) - Duration::days(days - 1);
    let lat_since = hour_of(now) - Duration::hours(LATENCY_HOURS - 1);
    let mut latest: HashMap<String, MonitorResult> = ledger
        .monitor_latest_many(names)
        .await?
        .into_iter()
        .map(|r| (r.environment.clone(), r))
        .collect();
    let mut daily: HashMap<String, Vec<MonitorDay>> = HashMap::new();
    let mut totals: HashMap<String, (i64, i64)> = HashMap::new();
    if compact {
        for (env, d) in ledger.monitor_uptime_many(names, since).await? {
            totals.insert(env, (d.runs, d.failures));
        }
    } else {
        for (env, d) in ledger.monitor_daily_many(names, since).await? {
            daily.entry(env).or_default().push(d);
        }
    }
    let mut hours: HashMap<String, Vec<MonitorHour>> = HashMap::new();
    if latency {
        for (env, h) in ledger.monitor_hours_many(names, lat_since).await? {
            hours.entry(env).or_default().push(h);
        }
    }
    // All deployments since `since`, then each environment's share.
    let filter = Filter {
        kind: Some(Kind::Deployment),
        since: Some(since),
        ..Filter::default()
    };
    let mut deployments: HashMap<String, Vec<Record>> = HashMap::new();
    for r in ledger.query_latest(&filter).await? {
        if let Some(env) = r.environment.clone() {
            deployments.entry(env).or_default().push(r);
        }
    }
    Ok(names
        .iter()
        .map(|name| {
            view(
                name,
                latest.remove(name),
                daily.get(name).map_or(&[], Vec::as_slice),
                totals.get(name).copied(),
                hours.get(name).map_or(&[], Vec::as_slice),
                deployments.remove(name).unwrap_or_default(),
                now,
                days,
            )
        })
        .collect())
}

/// The chart's points: one per hour with runs.
fn latency_points(hours: &[MonitorHour]) -> Vec<LatencyPoint> {
    hours
        .iter()
        .filter_map(|h| {
            Some(LatencyPoint {
                hour: h.hour,
                runs: h.runs,
                p50_ms: h.percentile(50.0)?,
                p95_ms: h.percentile(95.0)?,
                max_ms: h.latency_max_ms,
            })
        })
        .collect()
}

/// Above this many environments the pages are compact: a row per
/// environment, full sections only for those not up (at most this many).
pub const COMPACT_ABOVE: usize = 50;

/// What the compact pages show beyond [`environments_compact`]: the day
/// bars of those not up (their full sections, at most [`COMPACT_ABOVE`]),
/// and with `latency` (the dashboard) the current hour's point for each
/// (its row's p95) and the last [`LATENCY_HOURS`] for those not up. Three
/// queries of at most 4,500, 1,000 and 1,200 rows, instead of 90 day rows
/// and 24 hour rows for every environment.
pub async fn compact_details(
    ledger: &dyn Ledger,
    views: &mut [EnvironmentView],
    now: DateTime<Utc>,
    days: i64,
    latency: bool,
) -> Result<(), LedgerError> {
    // The day bars of those shown in full (not up, at most COMPACT_ABOVE).
    let troubled: Vec<String> = views
        .iter()
        .filter(|v| v.status != "up")
        .take(COMPACT_ABOVE)
        .map(|v| v.name.clone())
        .collect();
    if !troubled.is_empty() {
        let since = midnight(now) - Duration::days(days - 1);
        let mut found: HashMap<String, Vec<MonitorDay>> = HashMap::new();
        for (env, d) in ledger.monitor_daily_many(&troubled, since).await? {
            found.entry(env).or_default().push(d);
        }
        for v in views.iter_mut() {
            if let Some(f) = found.remove(&v.name) {
                v.days = fill_days(&f, now, days);
            }
        }
    }
    if !latency {
        return Ok(());
    }
    let names: Vec<String> = views.iter().map(|v| v.name.clone()).collect();
    let mut current: HashMap<String, MonitorHour> = ledger
        .monitor_hours_many(&names, hour_of(now))
        .await?
        .into_iter()
        .collect();
    let mut full: HashMap<String, Vec<MonitorHour>> = HashMap::new();
    if !troubled.is_empty() {
        let since = hour_of(now) - Duration::hours(LATENCY_HOURS - 1);
        for (env, h) in ledger.monitor_hours_many(&troubled, since).await? {
            full.entry(env).or_default().push(h);
        }
    }
    for v in views {
        v.latency = match (full.remove(&v.name), current.remove(&v.name)) {
            (Some(hours), _) => latency_points(&hours),
            (None, Some(h)) => latency_points(std::slice::from_ref(&h)),
            (None, None) => Vec::new(),
        };
    }
    Ok(())
}

/// Builds one view from what the ledger returned for the environment.
/// `totals`: the runs and failures over the days when the days themselves
/// were not read (the compact pages).
#[allow(clippy::too_many_arguments)]
fn view(
    name: &str,
    latest: Option<MonitorResult>,
    found: &[MonitorDay],
    totals: Option<(i64, i64)>,
    hours: &[MonitorHour],
    deployments: Vec<Record>,
    now: DateTime<Utc>,
    days: i64,
) -> EnvironmentView {
    let days = fill_days(found, now, days);
    let (runs, failures) = totals.unwrap_or_else(|| {
        days.iter()
            .fold((0, 0), |(r, f), d| (r + d.runs, f + d.failures))
    });
    let uptime = (runs > 0).then(|| (runs - failures) as f64 / runs as f64);

    let latency = latency_points(hours);

    let mut deployments: Vec<DeploymentMark> = deployments
        .into_iter()
        .map(|r| DeploymentMark {
            version: r.version.clone().unwrap_or_default(),
            status: r.status().unwrap_or("in_progress").to_owned(),
            id: r.id,
            at: r.created_at,
        })
        .collect();
    deployments.sort_by_key(|d| std::cmp::Reverse(d.at));
    deployments.truncate(MAX_DEPLOYMENTS);

    EnvironmentView {
        name: name.to_owned(),
        status: latest
            .as_ref()
            .map_or_else(|| "unknown".to_owned(), |l| l.status.clone()),
        last_run: latest.map(|l| LastRun {
            at: l.at,
            ok: l.ok,
            reason: l.reason,
            check: l.check_id,
            message: l.message,
            latency_ms: l.latency_ms,
        }),
        uptime,
        days,
        latency,
        deployments,
        locations: Vec::new(),
    }
}

/// The incidents not yet resolved or closed, newest first.
pub async fn open_incidents(ledger: &dyn Ledger) -> Result<Vec<IncidentView>, LedgerError> {
    let filter = Filter {
        kind: Some(Kind::Incident),
        ..Filter::default()
    };
    let mut out = Vec::new();
    for r in ledger.query_latest(&filter).await? {
        let status = r.status().unwrap_or("detected").to_owned();
        if status == "resolved" || status == "closed" {
            continue;
        }
        let Ok(inc) = r.incident() else { continue };
        out.push(IncidentView {
            id: r.id.clone(),
            severity: inc.severity.to_string(),
            title: inc.title,
            environment: r.environment.clone(),
            status,
            detected_at: inc.detected_at,
        });
    }
    out.sort_by_key(|i| std::cmp::Reverse(i.detected_at));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn days_without_runs_are_filled_up_to_today() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 13, 0, 0).unwrap();
        let found = vec![MonitorDay {
            day: Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap(),
            runs: 10,
            failures: 1,
        }];
        let d = fill_days(&found, now, 90);
        assert_eq!(d.len(), 90);
        assert_eq!(
            d[89].day,
            Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(d[88].runs, 10);
        assert_eq!(d[88].uptime(), Some(0.9));
        assert_eq!(d[89].uptime(), None);
    }
}
