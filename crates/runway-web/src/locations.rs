//! Probes from several places: the newest run of each location
//! (`runway monitor --location`) of each environment, for `/api/status` and
//! the dashboard's environment cards. One ledger query for all the
//! environments ([`runway_ledger::Ledger::monitor_latest_by_location`]).

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};
use runway_ledger::{Ledger, LedgerError, MonitorResult};
use serde::Serialize;

use crate::Web;
use crate::escape::esc;
use crate::model::EnvironmentView;

/// A location whose newest run is older than this is not shown.
pub const LOCATION_HORIZON: Duration = Duration::hours(24);

/// One location's newest run of an environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocationView {
    pub location: String,
    /// `up`, `degraded`, `down` or `maintenance`.
    pub status: String,
    pub ok: bool,
    pub at: DateTime<Utc>,
    pub latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
}

impl LocationView {
    fn of(r: MonitorResult) -> Option<LocationView> {
        Some(LocationView {
            location: r.location?,
            status: r.status,
            ok: r.ok,
            at: r.at,
            latency_ms: r.latency_ms,
            reason: r.reason,
            check: r.check_id,
        })
    }
}

/// The newest run of each location of each of `names` within
/// [`LOCATION_HORIZON`] of `now`, by environment, locations by name. An
/// environment no located worker ran is absent.
pub async fn latest(
    ledger: &dyn Ledger,
    names: &[String],
    now: DateTime<Utc>,
) -> Result<HashMap<String, Vec<LocationView>>, LedgerError> {
    let mut out: HashMap<String, Vec<LocationView>> = HashMap::new();
    for r in ledger
        .monitor_latest_by_location(names, now - LOCATION_HORIZON)
        .await?
    {
        let env = r.environment.clone();
        if let Some(v) = LocationView::of(r) {
            out.entry(env).or_default().push(v);
        }
    }
    Ok(out)
}

/// Fills each view's `locations`, and gives an environment with fresh
/// locations their [`consensus`] as its status.
pub async fn attach(
    web: &Web,
    views: &mut [EnvironmentView],
    now: DateTime<Utc>,
) -> Result<(), LedgerError> {
    let names: Vec<String> = views.iter().map(|v| v.name.clone()).collect();
    let mut by_env = latest(web.ledger.as_ref(), &names, now).await?;
    for v in views {
        v.locations = by_env.remove(&v.name).unwrap_or_default();
        if let Some(s) = consensus(&v.locations, now, web.fresh(&v.name)) {
            v.status = s;
        }
    }
    Ok(())
}

/// An environment's status from its locations: the status most of the
/// locations whose newest run is within `fresh` of `now` see (more than
/// half of them), else `degraded` (they disagree: one place cannot reach
/// it). `None` without a fresh location (the newest run of any decides).
pub fn consensus(
    locations: &[LocationView],
    now: DateTime<Utc>,
    fresh: Duration,
) -> Option<String> {
    let fresh: Vec<&LocationView> = locations.iter().filter(|l| l.at >= now - fresh).collect();
    if fresh.is_empty() {
        return None;
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for l in &fresh {
        *counts.entry(l.status.as_str()).or_default() += 1;
    }
    let (status, n) = counts.into_iter().max_by_key(|(s, n)| (*n, *s))?;
    Some(if n * 2 > fresh.len() {
        status.to_owned()
    } else {
        "degraded".to_owned()
    })
}

impl Web {
    /// How recent a location's newest run must be to count towards the
    /// environment's status: two of its intervals (else [`LOCATION_HORIZON`]).
    pub fn fresh(&self, environment: &str) -> Duration {
        self.intervals
            .get(environment)
            .and_then(|i| Duration::from_std(*i * 2).ok())
            .unwrap_or(LOCATION_HORIZON)
    }
}

/// The environment card's table of locations (nothing without any).
pub fn card(locations: &[LocationView], now: DateTime<Utc>) -> String {
    if locations.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        r#"<h3>Locations</h3><table class="locations"><tr><th>location</th><th>status</th><th>last run</th><th>latency</th><th>problem</th></tr>"#,
    );
    for l in locations {
        let known = ["up", "degraded", "down", "maintenance"];
        let class = if known.contains(&l.status.as_str()) {
            l.status.as_str()
        } else {
            "unknown"
        };
        let ago = (now - l.at).num_seconds().max(0);
        let problem = match (&l.reason, &l.check) {
            (Some(r), Some(c)) => format!("{} · <code>{}</code>", esc(r), esc(c)),
            (Some(r), None) => esc(r),
            _ => String::new(),
        };
        let _ = write!(
            s,
            r#"<tr class="location" data-location="{n}" data-status="{st}"><td>{n}</td><td><span class="status status-{class}">{st}</span></td><td>{ago} s ago</td><td>{ms:.0} ms</td><td>{problem}</td></tr>"#,
            n = esc(&l.location),
            st = esc(&l.status),
            ms = l.latency_ms,
        );
    }
    s.push_str("</table>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(location: &str, status: &str, ago: i64, now: DateTime<Utc>) -> LocationView {
        LocationView {
            location: location.into(),
            status: status.into(),
            ok: status == "up",
            at: now - Duration::seconds(ago),
            latency_ms: 1.0,
            reason: None,
            check: None,
        }
    }

    #[test]
    fn the_environment_is_what_most_fresh_locations_see_and_degraded_when_they_split() {
        let now = Utc::now();
        let fresh = Duration::seconds(30);
        let c = |v: &[LocationView]| consensus(v, now, fresh);
        let one_down = [
            at("ap-south", "down", 1, now),
            at("eu-west", "up", 2, now),
            at("us-east", "up", 3, now),
        ];
        assert_eq!(c(&one_down).as_deref(), Some("up"));
        let two_down = [
            at("ap-south", "down", 1, now),
            at("eu-west", "up", 2, now),
            at("us-east", "down", 3, now),
        ];
        assert_eq!(c(&two_down).as_deref(), Some("down"));
        let split = [at("eu-west", "up", 2, now), at("us-east", "down", 3, now)];
        assert_eq!(c(&split).as_deref(), Some("degraded"));
        // A location whose newest run is stale does not count.
        let stale = [at("eu-west", "up", 2, now), at("us-east", "down", 60, now)];
        assert_eq!(c(&stale).as_deref(), Some("up"));
        assert_eq!(c(&[at("us-east", "down", 60, now)]), None);
        assert_eq!(c(&[]), None);
    }

    #[test]
    fn a_card_lists_each_location_escaped_and_nothing_without_locations() {
        let now = Utc::now();
        assert_eq!(card(&[], now), "");
        let v = vec![
            LocationView {
                location: "ap-south".into(),
                status: "down".into(),
                ok: false,
                at: now - Duration::seconds(4),
                latency_ms: 2.4,
                reason: Some("connect".into()),
                check: Some("<http.health>".into()),
            },
            LocationView {
                location: "eu-west".into(),
                status: "up".into(),
                ok: true,
                at: now,
                latency_ms: 31.0,
                reason: None,
                check: None,
            },
        ];
        let html = card(&v, now);
        assert!(
            html.contains(r#"data-location="ap-south" data-status="down""#),
            "{html}"
        );
        assert!(html.contains("4 s ago"), "{html}");
        assert!(html.contains("&lt;http.health&gt;"), "{html}");
        assert!(
            html.contains(r#"<span class="status status-up">up</span>"#),
            "{html}"
        );
    }
}
