//! An alert condition judged over a window of runs.
//!
//! Pure over the runs the caller passes (the ledger's raw results, or the
//! outcomes in memory): the statistics of the window, and whether a parsed
//! `when` holds. Percentiles are nearest-rank, as in the deploy analysis.
//! Alert state (thresholds, reminders, resolve, dedup) is built on this.

use chrono::{DateTime, Utc};
use runway_config::monitor::{Condition, Metric};

use crate::outcome::{Outcome, Reason};

/// What a window of runs shows.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowStats {
    pub runs: usize,
    pub failures: usize,
    pub auth_failures: usize,
    /// Latencies, sorted.
    latencies: Vec<f64>,
    /// The newest run in the window.
    pub last_ok: Option<bool>,
    pub cert_days: Option<f64>,
    pub token_expiry_secs: Option<f64>,
    /// The checks the newest run failed.
    pub last_failed: Vec<String>,
}

impl WindowStats {
    /// The runs of `outcomes` that started in `(now - window, now]`.
    pub fn of(
        outcomes: &[Outcome],
        now: DateTime<Utc>,
        window: std::time::Duration,
    ) -> WindowStats {
        let from = now - chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
        let mut v: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| o.at > from && o.at <= now)
            .collect();
        v.sort_by_key(|o| o.at);
        let mut latencies: Vec<f64> = v.iter().map(|o| o.latency_ms).collect();
        latencies.sort_by(f64::total_cmp);
        let last = v.last();
        WindowStats {
            runs: v.len(),
            failures: v.iter().filter(|o| !o.ok).count(),
            auth_failures: v.iter().filter(|o| o.reason == Some(Reason::Auth)).count(),
            latencies,
            last_ok: last.map(|o| o.ok),
            cert_days: v.iter().rev().find_map(|o| o.cert_days),
            token_expiry_secs: v.iter().rev().find_map(|o| o.token_expiry_secs),
            last_failed: last.map(|o| o.failed_checks.clone()).unwrap_or_default(),
        }
    }

    fn ratio(&self, n: usize) -> Option<f64> {
        (self.runs > 0).then(|| n as f64 / self.runs as f64)
    }

    /// Nearest-rank percentile `p` (0..100) of the latencies, in ms.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        if self.latencies.is_empty() {
            return None;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        Some(self.latencies[rank.clamp(1, self.latencies.len()) - 1])
    }

    /// The value `metric` has over the window; `None` when the window holds
    /// nothing to judge (no runs, no certificate read).
    pub fn value(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Availability => self.ratio(self.runs - self.failures),
            Metric::ErrorRate => self.ratio(self.failures),
            Metric::AuthFailureRate => self.ratio(self.auth_failures),
            Metric::P50 => self.percentile(50.0),
            Metric::P95 => self.percentile(95.0),
            Metric::P99 => self.percentile(99.0),
            Metric::CertDays => self.cert_days,
            Metric::TokenExpiry => self.token_expiry_secs,
            Metric::Down => self.last_ok.map(|ok| if ok { 0.0 } else { 1.0 }),
            // Needs the check's id: see [`WindowStats::value_of`].
            Metric::CheckFailing => None,
        }
    }

    /// The value `when`'s measure has over the window (1 or 0 for `down`
    /// and `failing(..)`).
    pub fn value_of(&self, when: &Condition) -> Option<f64> {
        match (when.metric, &when.check) {
            (Metric::CheckFailing, Some(id)) => {
                self.last_ok?;
                Some(if self.last_failed.iter().any(|c| c == id) {
                    1.0
                } else {
                    0.0
                })
            }
            (m, _) => self.value(m),
        }
    }

    /// Whether `when` holds; `None` when there is nothing to judge.
    pub fn holds(&self, when: &Condition) -> Option<bool> {
        let v = self.value_of(when)?;
        Some(match when.compare {
            Some((op, threshold)) => op.holds(v, threshold),
            None => v > 0.0,
        })
    }
}

/// A quorum rule's reading: the condition judged at each location over that
/// location's own runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByLocation {
    /// The locations where the condition holds, by name.
    pub holding: Vec<String>,
    /// Every location judged (a fresh run, something to judge), by name.
    pub judged: Vec<String>,
}

/// The name a run without a location is counted under.
pub const NO_LOCATION: &str = "(no location)";

impl ByLocation {
    /// Judges `when` at each location of `outcomes` over its runs in
    /// `(now - window, now]`. A location counts only when its newest run is
    /// within `fresh` of `now` (a location whose worker stopped is not
    /// counted, neither as down nor as up). `None` when no location could
    /// be judged (nothing changes then).
    pub fn of(
        outcomes: &[Outcome],
        now: DateTime<Utc>,
        window: std::time::Duration,
        fresh: std::time::Duration,
        when: &Condition,
    ) -> Option<ByLocation> {
        let stale = now - chrono::Duration::from_std(fresh).unwrap_or(chrono::Duration::MAX);
        let mut groups: std::collections::BTreeMap<&str, Vec<Outcome>> = Default::default();
        for o in outcomes.iter().filter(|o| o.at <= now) {
            let name = o.location.as_deref().unwrap_or(NO_LOCATION);
            groups.entry(name).or_default().push(o.clone());
        }
        let mut out = ByLocation {
            holding: Vec::new(),
            judged: Vec::new(),
        };
        for (name, runs) in groups {
            if !runs.iter().any(|o| o.at > stale) {
                continue;
            }
            let Some(holds) = WindowStats::of(&runs, now, window).holds(when) else {
                continue;
            };
            out.judged.push(name.to_owned());
            if holds {
                out.holding.push(name.to_owned());
            }
        }
        (!out.judged.is_empty()).then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::EnvStatus;
    use runway_core::Summary;

    fn o(at: DateTime<Utc>, ok: bool, reason: Option<Reason>, ms: f64) -> Outcome {
        Outcome {
            environment: "p".into(),
            at,
            ok,
            status: if ok { EnvStatus::Up } else { EnvStatus::Down },
            reason,
            failed_check: None,
            message: None,
            latency_ms: ms,
            cert_days: Some(20.0),
            token_expiry_secs: None,
            summary: Summary::default(),
            failed_checks: reason
                .map(|_| vec!["mcp.handshake".to_owned()])
                .unwrap_or_default(),
            location: None,
        }
    }

    fn at(location: &str, o: Outcome) -> Outcome {
        Outcome {
            location: Some(location.to_owned()),
            ..o
        }
    }

    #[test]
    fn a_quorum_counts_the_fresh_locations_where_the_condition_holds() {
        let now = Utc::now();
        let s = |n: i64| now - chrono::Duration::seconds(n);
        let down = Condition::parse("down").unwrap();
        let window = std::time::Duration::from_secs(600);
        let fresh = std::time::Duration::from_secs(20);
        let runs = vec![
            at("eu-west", o(s(25), false, Some(Reason::Connect), 1.0)),
            at("eu-west", o(s(5), true, None, 1.0)),
            at("us-east", o(s(4), false, Some(Reason::Connect), 1.0)),
            at("ap-south", o(s(3), false, Some(Reason::Connect), 1.0)),
            // Its newest run is older than `fresh`: its worker stopped; not counted.
            at("sa-east", o(s(30), false, Some(Reason::Connect), 1.0)),
        ];
        let b = ByLocation::of(&runs, now, window, fresh, &down).unwrap();
        assert_eq!(b.holding, vec!["ap-south", "us-east"]);
        assert_eq!(b.judged, vec!["ap-south", "eu-west", "us-east"]);
        // Judged at an earlier time: only what had happened by then.
        let b = ByLocation::of(&runs, s(4), window, fresh, &down).unwrap();
        assert_eq!(b.holding, vec!["us-east"]);
        assert_eq!(b.judged, vec!["eu-west", "us-east"]);
        // Every location stale: nothing to judge.
        assert_eq!(
            ByLocation::of(
                &runs,
                now + chrono::Duration::minutes(5),
                window,
                fresh,
                &down
            ),
            None
        );
        // Runs without a location count as one location of their own.
        let plain = vec![o(s(2), false, Some(Reason::Connect), 1.0)];
        let b = ByLocation::of(&plain, now, window, fresh, &down).unwrap();
        assert_eq!(b.holding, vec![NO_LOCATION]);
        // Any condition: the error rate over each location's own runs.
        let rate = Condition::parse("error_rate > 0.4").unwrap();
        let b = ByLocation::of(&runs, now, window, fresh, &rate).unwrap();
        assert_eq!(b.holding, vec!["ap-south", "eu-west", "us-east"]);
    }

    #[test]
    fn conditions_are_judged_over_the_window_only() {
        let now = Utc::now();
        let min = |m: i64| now - chrono::Duration::minutes(m);
        let runs = vec![
            // Outside a 10-minute window: a failure that must not count.
            o(min(11), false, Some(Reason::Connect), 9000.0),
            o(min(9), true, None, 100.0),
            o(min(8), false, Some(Reason::Auth), 200.0),
            o(min(7), true, None, 300.0),
            o(min(1), true, None, 4000.0),
        ];
        let w = WindowStats::of(&runs, now, std::time::Duration::from_secs(600));
        assert_eq!((w.runs, w.failures, w.auth_failures), (4, 1, 1));
        let c = |s: &str| Condition::parse(s).unwrap();
        assert_eq!(w.holds(&c("error_rate > 0.05")), Some(true));
        assert_eq!(w.holds(&c("error_rate > 0.25")), Some(false));
        assert_eq!(w.holds(&c("availability < 0.95")), Some(true));
        assert_eq!(w.holds(&c("auth_failure_rate >= 0.25")), Some(true));
        assert_eq!(w.percentile(50.0), Some(200.0));
        assert_eq!(w.holds(&c("p95 > 3s")), Some(true));
        assert_eq!(w.holds(&c("p50 > 3s")), Some(false));
        assert_eq!(w.holds(&c("down")), Some(false));
        assert_eq!(w.holds(&c("cert_days < 14")), Some(false));
        assert_eq!(w.holds(&c("token_expiry < 5m")), None);
        let empty = WindowStats::of(&runs, min(30), std::time::Duration::from_secs(60));
        assert_eq!(empty.holds(&c("error_rate > 0.05")), None);
        let last_failed = WindowStats::of(&runs[..3], now, std::time::Duration::from_secs(600));
        assert_eq!(last_failed.holds(&c("down")), Some(true));
        assert_eq!(last_failed.holds(&c("failing(mcp.handshake)")), Some(true));
        assert_eq!(last_failed.holds(&c("failing(mcp.call.echo)")), Some(false));
        assert_eq!(w.holds(&c("failing(mcp.handshake)")), Some(false));
        assert_eq!(empty.holds(&c("failing(mcp.handshake)")), None);
    }
}
