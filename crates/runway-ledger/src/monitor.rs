//! `runway monitor`'s results in the ledger: raw runs for a short horizon,
//! hourly rollups after that.
//!
//! A year of one-minute checks on 100 endpoints is 52 million runs; kept raw
//! that is gigabytes. [`crate::Ledger::prune_monitor`] folds every whole hour
//! older than the horizon into one row per environment and hour (runs,
//! failures, auth failures, latency sum and max) and deletes the raw runs it
//! folded, in one transaction, so a run is counted exactly once: raw or
//! rolled up, never both and never neither.

use chrono::{DateTime, Utc};

/// One run as stored (the monitor's `Outcome`, flattened by the binary).
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorResult {
    pub environment: String,
    pub at: DateTime<Utc>,
    pub ok: bool,
    /// `up`, `degraded`, `down`, `maintenance`.
    pub status: String,
    /// The reason class of a failed run (`connect`, `auth`...).
    pub reason: Option<String>,
    pub check_id: Option<String>,
    pub message: Option<String>,
    pub latency_ms: f64,
    /// Where the run was made from (`runway monitor --location`); `None`
    /// for a worker without a location.
    pub location: Option<String>,
}

/// One environment's runs in one hour, after the raw runs were pruned.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorRollup {
    pub environment: String,
    /// The start of the hour (UTC).
    pub bucket: DateTime<Utc>,
    pub runs: i64,
    pub failures: i64,
    pub auth_failures: i64,
    pub latency_sum_ms: f64,
    pub latency_max_ms: f64,
}

/// What one prune did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneStats {
    /// Raw runs folded into rollups and deleted.
    pub folded: u64,
    /// Rollup rows written or added to.
    pub buckets: u64,
}

pub(crate) const HOUR_US: i64 = 3_600_000_000;

pub(crate) fn to_us(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn from_us(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

pub(crate) const SELECT_RESULTS: &str =
    "SELECT environment, at_us, ok, status, reason, check_id, message, latency_ms, location
    FROM monitor_results WHERE environment = $1 AND at_us >= $2 ORDER BY at_us, id";

pub(crate) const SELECT_ROLLUPS: &str =
    "SELECT environment, bucket_us, runs, failures, auth_failures, latency_sum_ms, latency_max_ms
    FROM monitor_rollups WHERE environment = $1 AND bucket_us >= $2 ORDER BY bucket_us";

pub(crate) const FOLD: &str = "INSERT INTO monitor_rollups
    (environment, bucket_us, runs, failures, auth_failures, latency_sum_ms, latency_max_ms)
    SELECT environment, (at_us / 3600000000) * 3600000000, COUNT(*),
           SUM(CASE WHEN ok = 0 THEN 1 ELSE 0 END),
           SUM(CASE WHEN reason = 'auth' THEN 1 ELSE 0 END),
           SUM(latency_ms), MAX(latency_ms)
    FROM monitor_results WHERE environment = $2 AND at_us < $1
    GROUP BY environment, (at_us / 3600000000) * 3600000000
    ON CONFLICT (environment, bucket_us) DO UPDATE SET
        runs = monitor_rollups.runs + excluded.runs,
        failures = monitor_rollups.failures + excluded.failures,
        auth_failures = monitor_rollups.auth_failures + excluded.auth_failures,
        latency_sum_ms = monitor_rollups.latency_sum_ms + excluded.latency_sum_ms,
        latency_max_ms = CASE WHEN excluded.latency_max_ms > monitor_rollups.latency_max_ms
            THEN excluded.latency_max_ms ELSE monitor_rollups.latency_max_ms END";

pub(crate) const DELETE_FOLDED: &str =
    "DELETE FROM monitor_results WHERE environment = $2 AND at_us < $1";

/// The environments that may have raw runs before `$1`: those with a day
/// row starting before it (the summary has a day row for every run). The
/// fold and the delete then go one environment at a time through the
/// `(environment, at_us)` index, instead of scanning every raw run for
/// `at_us < $1` (60 M rows at 1,000 environments every 10 s for a week).
pub(crate) const PRUNE_ENVIRONMENTS: &str =
    "SELECT DISTINCT environment FROM monitor_days WHERE day_us < $1 ORDER BY environment";

/// One environment's runs on one UTC day, from the daily summary (the
/// dashboard's uptime bars; see [`crate::summary`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MonitorDay {
    /// Midnight UTC of the day.
    pub day: DateTime<Utc>,
    pub runs: i64,
    pub failures: i64,
}

pub(crate) const DAY_US: i64 = 86_400_000_000;

pub(crate) const SELECT_LATEST: &str =
    "SELECT environment, at_us, ok, status, reason, check_id, message, latency_ms, location
    FROM monitor_results WHERE environment = $1 ORDER BY at_us DESC, id DESC LIMIT 1";

// The dashboard's batch reads: one query for all the environments named in
// `{envs}` (a dialect's table of the names in the JSON array bound as `$1`,
// with one column, `name`), instead of one query per environment.

/// The newest run of each environment: one index seek per name.
pub(crate) const SELECT_LATEST_MANY: &str =
    "SELECT environment, at_us, ok, status, reason, check_id, message, latency_ms, location
    FROM monitor_results WHERE id IN (
        SELECT (SELECT m.id FROM monitor_results m WHERE m.environment = e.name
                ORDER BY m.at_us DESC, m.id DESC LIMIT 1)
        FROM ({envs}) e)
    ORDER BY environment";

/// The newest run of each location of each environment named in `{envs}`
/// (`$1`) since `$2`: runs without a location are left out. Served by the
/// partial index on `(environment, location, at_us)`.
pub(crate) const SELECT_LATEST_BY_LOCATION: &str =
    "SELECT environment, at_us, ok, status, reason, check_id, message, latency_ms, location FROM (
        SELECT environment, at_us, ok, status, reason, check_id, message, latency_ms, location,
               ROW_NUMBER() OVER (PARTITION BY environment, location ORDER BY at_us DESC, id DESC) AS n
        FROM monitor_results {by_location}
        WHERE environment IN (SELECT name FROM ({envs}) e) AND location IS NOT NULL AND at_us >= $2
    ) x WHERE n = 1 ORDER BY environment, location";
