//! The monitor's summary, kept current as runs are stored: one row per
//! environment and UTC day (runs, failures) and one per environment and hour
//! (runs, failures, latency sum and maximum, and a latency histogram).
//!
//! The dashboard reads these instead of the raw runs: its uptime bars are
//! 90 day rows per environment and its latency chart 24 hour rows, whatever
//! the check interval, so `/` at 1,000 environments checked every 10 s reads
//! 114,000 small rows instead of aggregating 60 million raw runs. A trigger
//! on `monitor_results` (migration 0007) upserts both rows inside the
//! statement that stores a run, whoever stores it, so the summary never
//! disagrees with the runs and storing a run is still one statement; the
//! migration built the summary of the runs stored before it. Pruning folds raw runs into rollups and leaves the
//! day rows alone; hour rows older than the raw horizon are deleted with the
//! runs they summed.
//!
//! The histogram has [`LATENCY_BUCKETS`] buckets on a 1-1.2-1.5-2-2.5-3-4-5-6-8
//! series (ten per decade, about a third of an octave each) from 0.1 ms to
//! 60 s: a percentile read from it is within about 10 % of the run's latency,
//! enough for a chart; the exact figures stay in the raw runs.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Buckets of the latency histogram: below the first bound, between each
/// two bounds, and at or above the last.
pub const LATENCY_BUCKETS: usize = BOUNDS_MS.len() + 1;

/// The buckets' lower bounds in ms (bucket `i + 1` starts at `BOUNDS_MS[i]`).
/// Exact decimals, so SQL and Rust compare the same values.
pub const BOUNDS_MS: [f64; 59] = [
    0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, //
    1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, //
    10.0, 12.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0, 80.0, //
    100.0, 120.0, 150.0, 200.0, 250.0, 300.0, 400.0, 500.0, 600.0, 800.0, //
    1000.0, 1200.0, 1500.0, 2000.0, 2500.0, 3000.0, 4000.0, 5000.0, 6000.0, 8000.0, //
    10000.0, 12000.0, 15000.0, 20000.0, 25000.0, 30000.0, 40000.0, 50000.0, 60000.0,
];

/// The bucket a latency falls in (a negative or NaN latency in the first).
pub fn latency_bucket(ms: f64) -> usize {
    BOUNDS_MS.partition_point(|&b| b <= ms)
}

/// The value a percentile that falls in `bucket` is read as: the geometric
/// middle of its bounds (the first bucket's upper bound, the last's lower).
fn bucket_value(bucket: usize) -> f64 {
    match bucket {
        0 => BOUNDS_MS[0],
        b if b >= BOUNDS_MS.len() => BOUNDS_MS[BOUNDS_MS.len() - 1],
        b => (BOUNDS_MS[b - 1] * BOUNDS_MS[b]).sqrt(),
    }
}

/// One environment's runs in one hour, from the summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitorHour {
    /// The start of the hour (UTC).
    pub hour: DateTime<Utc>,
    pub runs: i64,
    pub failures: i64,
    pub latency_sum_ms: f64,
    pub latency_max_ms: f64,
    /// Runs per latency bucket ([`LATENCY_BUCKETS`] of them).
    pub buckets: Vec<i64>,
}

impl MonitorHour {
    /// The nearest-rank percentile (`p` in 0..=100) of the hour's
    /// latencies, read from the histogram and never above the hour's
    /// maximum; `None` without runs.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        let total: i64 = self.buckets.iter().sum();
        if total <= 0 {
            return None;
        }
        let rank = ((p / 100.0) * total as f64).ceil().clamp(1.0, total as f64) as i64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Some(bucket_value(i).min(self.latency_max_ms));
            }
        }
        Some(self.latency_max_ms)
    }

    /// Adds another hour's counts (the same hour from elsewhere).
    pub fn add(&mut self, other: &MonitorHour) {
        self.runs += other.runs;
        self.failures += other.failures;
        self.latency_sum_ms += other.latency_sum_ms;
        self.latency_max_ms = self.latency_max_ms.max(other.latency_max_ms);
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
    }
}

/// The histogram's columns, `b00` to `b59` (the migration's trigger and
/// backfill compare with the same [`BOUNDS_MS`]).
pub(crate) fn bucket_column(i: usize) -> String {
    format!("b{i:02}")
}

/// Day rows of the environments in `{envs}` from `$2` (a day's start), by
/// environment then day.
pub(crate) const SELECT_DAYS_MANY: &str = "SELECT environment, day_us, runs, failures
    FROM monitor_days WHERE environment IN (SELECT name FROM ({envs}) e) AND day_us >= $2
    ORDER BY environment, day_us";

/// [`SELECT_DAYS_MANY`] summed per environment (the compact dashboard's
/// uptime: one row each, whatever the days kept).
pub(crate) const SELECT_UPTIME_MANY: &str = "SELECT environment,
    CAST(SUM(runs) AS BIGINT), CAST(SUM(failures) AS BIGINT)
    FROM monitor_days WHERE environment IN (SELECT name FROM ({envs}) e) AND day_us >= $2
    GROUP BY environment ORDER BY environment";

/// [`SELECT_DAYS_MANY`] for one environment.
pub(crate) const SELECT_DAYS: &str = "SELECT day_us, runs, failures
    FROM monitor_days WHERE environment = $1 AND day_us >= $2 ORDER BY day_us";

/// The hour rows' columns as the reads select them, after `environment`.
pub(crate) static HOUR_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    let mut c = "hour_us, runs, failures, latency_sum_ms, latency_max_ms".to_owned();
    for i in 0..LATENCY_BUCKETS {
        c.push_str(", ");
        c.push_str(&bucket_column(i));
    }
    c
});

/// Hour rows of the environments in `{envs}` from `$2`, by environment then hour.
pub(crate) static SELECT_HOURS_MANY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT environment, {} FROM monitor_hours
        WHERE environment IN (SELECT name FROM ({{envs}}) e) AND hour_us >= $2
        ORDER BY environment, hour_us",
        *HOUR_COLUMNS
    )
});

/// Hour rows of one environment (`$1`) from `$2`, oldest first.
pub(crate) static SELECT_HOURS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT environment, {} FROM monitor_hours
        WHERE environment = $1 AND hour_us >= $2 ORDER BY hour_us",
        *HOUR_COLUMNS
    )
});

/// Hour rows before the raw horizon (their runs were folded into rollups).
pub(crate) const DELETE_HOURS: &str = "DELETE FROM monitor_hours WHERE hour_us < $1";

#[cfg(test)]
mod tests {
    use super::*;

    fn hour(latencies: &[f64]) -> MonitorHour {
        let mut buckets = vec![0; LATENCY_BUCKETS];
        for &l in latencies {
            buckets[latency_bucket(l)] += 1;
        }
        MonitorHour {
            hour: DateTime::default(),
            runs: latencies.len() as i64,
            failures: 0,
            latency_sum_ms: latencies.iter().sum(),
            latency_max_ms: latencies.iter().copied().fold(0.0, f64::max),
            buckets,
        }
    }

    #[test]
    fn buckets_cover_every_latency_in_order() {
        assert_eq!(LATENCY_BUCKETS, 60);
        assert_eq!(latency_bucket(0.0), 0);
        assert_eq!(latency_bucket(-1.0), 0);
        assert_eq!(latency_bucket(f64::NAN), 0);
        assert_eq!(latency_bucket(0.1), 1);
        assert_eq!(latency_bucket(1.0), 11);
        assert_eq!(latency_bucket(1.19), 11);
        assert_eq!(latency_bucket(1.2), 12);
        assert_eq!(latency_bucket(60_000.0), 59);
        assert_eq!(latency_bucket(f64::INFINITY), 59);
        assert!(BOUNDS_MS.windows(2).all(|w| w[0] < w[1]));
        // Each step is at most 1.34x: a percentile is within ~16 % either way.
        assert!(BOUNDS_MS.windows(2).all(|w| w[1] / w[0] <= 1.34));
    }

    #[test]
    fn percentiles_read_from_the_histogram_are_close_to_the_exact_ones() {
        let v: Vec<f64> = (1..=1000).map(|i| f64::from(i) * 0.7).collect();
        let h = hour(&v);
        for (p, exact) in [(50.0, 350.0), (95.0, 665.0), (99.0, 693.0)] {
            let got = h.percentile(p).unwrap();
            assert!((got - exact).abs() / exact < 0.16, "p{p}: {got} vs {exact}");
        }
        // Never above the largest run.
        let one = hour(&[3.1]);
        assert_eq!(one.percentile(95.0), Some((3.0f64 * 4.0).sqrt().min(3.1)));
        assert!(one.percentile(100.0).unwrap() <= 3.1);
        assert_eq!(hour(&[]).percentile(50.0), None);
    }

    #[test]
    fn adding_hours_adds_their_counts() {
        let mut a = hour(&[1.0, 2.0]);
        a.add(&hour(&[5.0]));
        assert_eq!(a.runs, 3);
        assert_eq!(a.latency_max_ms, 5.0);
        assert_eq!(a.buckets.iter().sum::<i64>(), 3);
        assert_eq!(a.latency_sum_ms, 8.0);
    }
}
