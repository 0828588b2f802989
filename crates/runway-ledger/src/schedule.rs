//! `runway monitor`'s shared schedule: several workers on one ledger run
//! each due check exactly once per interval.
//!
//! Each job (an environment's check suite; for a worker with a location,
//! one per environment and location, keyed `environment@location`) is a row
//! in `monitor_schedule` with the slot it waits for (`base_us`) and when that slot may start
//! (`next_due_us`, the slot plus jitter). A worker *claims* due rows with a
//! lease ([`crate::Ledger::schedule_claim`]: on PostgreSQL
//! `FOR UPDATE SKIP LOCKED`, so concurrent claimers never block on or take
//! the same row; on SQLite the write lock serialises them), runs them, and
//! *completes* each ([`crate::Ledger::schedule_complete`]): in one
//! transaction, and only while its lease still holds, it stores the result
//! and moves the row to the next slot after now. A worker that dies stops
//! completing; when its leases lapse another worker claims those rows (a
//! takeover, counted) and runs the slot; a late completion from the first
//! worker then finds the lease gone and stores nothing. Every time in these
//! statements is the database's clock on PostgreSQL, so the workers'
//! machines need not agree on the time.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::monitor::from_us;

/// A job as the workers register it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledJob {
    pub job: String,
    pub interval: Duration,
    /// Delay of the first slot after registration (the worker's jitter).
    pub first_delay: Duration,
}

/// One slot of one job, held by a worker until `lease_until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleClaim {
    pub job: String,
    /// The slot (without jitter): what makes a run "the run of this interval".
    pub slot: DateTime<Utc>,
    pub owner: String,
    pub lease_until: DateTime<Utc>,
    /// The worker whose lapsed lease this claim took over, if any.
    pub took_over_from: Option<String>,
}

/// A stored result of the shared schedule: which slot it ran, and who ran it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduledRun {
    pub environment: String,
    pub slot: DateTime<Utc>,
    pub at: DateTime<Utc>,
    pub worker: String,
    /// The worker's `--location`, if it has one.
    pub location: Option<String>,
}

/// A job's row as stored: what `runway monitor` and its tests inspect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleRow {
    pub job: String,
    pub interval_us: i64,
    pub next_due: DateTime<Utc>,
    pub owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub last_owner: Option<String>,
    pub last_run: Option<DateTime<Utc>>,
    pub runs: i64,
    pub missed: i64,
    pub takeovers: i64,
}

pub(crate) type ClaimRow = (String, i64, String, i64, Option<String>);

pub(crate) fn decode_claim(r: ClaimRow) -> ScheduleClaim {
    ScheduleClaim {
        job: r.0,
        slot: from_us(r.1),
        owner: r.2,
        lease_until: from_us(r.3),
        took_over_from: r.4,
    }
}

pub(crate) type StateRow = (
    String,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    i64,
    i64,
    i64,
);

pub(crate) fn decode_state(r: StateRow) -> ScheduleRow {
    ScheduleRow {
        job: r.0,
        interval_us: r.1,
        next_due: from_us(r.2),
        owner: r.3,
        lease_until: r.4.map(from_us),
        last_owner: r.5,
        last_run: r.6.map(from_us),
        runs: r.7,
        missed: r.8,
        takeovers: r.9,
    }
}

/// Inserts a job that is not there yet, due `$3` microseconds from now.
/// `{now}` is the backend's clock expression.
pub(crate) const REGISTER: &str =
    "INSERT INTO monitor_schedule (job, interval_us, base_us, next_due_us)
    VALUES ($1, $2, {now}, {now} + $3)
    ON CONFLICT (job) DO NOTHING";

/// A changed interval applies from the next slot; an earlier next slot is kept.
pub(crate) const SET_INTERVAL: &str = "UPDATE monitor_schedule SET interval_us = $2,
        base_us = CASE WHEN base_us > {now} + $2 THEN {now} ELSE base_us END,
        next_due_us = CASE WHEN next_due_us > {now} + $2 THEN {now} ELSE next_due_us END
    WHERE job = $1 AND interval_us <> $2";

/// Claims up to `$4` due rows among the jobs in the JSON array `$3` for
/// owner `$1` with a lease of `$2` microseconds. `{jobs}` lists the array's
/// elements (`$3`) and `{skip_locked}` is `FOR UPDATE SKIP LOCKED` on PostgreSQL.
pub(crate) const CLAIM: &str = "UPDATE monitor_schedule SET
        taken_from = owner,
        takeovers = takeovers + CASE WHEN owner IS NULL THEN 0 ELSE 1 END,
        owner = $1,
        slot_us = base_us,
        lease_until_us = {now} + $2
    WHERE job IN (
        SELECT job FROM monitor_schedule
        WHERE job IN ({jobs})
          AND next_due_us <= {now}
          AND (owner IS NULL OR lease_until_us < {now})
        ORDER BY next_due_us
        LIMIT $4 {skip_locked}
    )
    RETURNING job, slot_us, owner, lease_until_us, taken_from";

/// Moves a held row to the first slot after now, if `$2` still holds slot
/// `$3` of job `$1`; `$4` is the next slot's jitter. Slots that passed
/// meanwhile are counted as missed.
pub(crate) const COMPLETE: &str = "UPDATE monitor_schedule SET
        missed = missed + ({now} - base_us) / interval_us,
        base_us = base_us + interval_us * (({now} - base_us) / interval_us + 1),
        next_due_us = base_us + interval_us * (({now} - base_us) / interval_us + 1) + $4,
        owner = NULL, slot_us = NULL, lease_until_us = NULL, taken_from = NULL,
        last_owner = $2, last_run_us = {now}, runs = runs + 1
    WHERE job = $1 AND owner = $2 AND slot_us = $3
    RETURNING next_due_us - {now}";

/// Gives a held slot back unrun (a worker shutting down before it started it).
pub(crate) const RELEASE: &str = "UPDATE monitor_schedule SET
        owner = NULL, slot_us = NULL, lease_until_us = NULL, taken_from = NULL
    WHERE job = $1 AND owner = $2 AND slot_us = $3";

/// Microseconds until the next row among `{jobs}` (`$1`) can be claimed (a
/// free row's due time, another worker's lease expiry), negative when one is
/// due. Rows `$2` holds are left out: it learns their next slot when it
/// completes them.
pub(crate) const NEXT_WAKE: &str = "SELECT MIN(CASE WHEN owner IS NULL THEN next_due_us
        ELSE lease_until_us END) - {now}
    FROM monitor_schedule WHERE job IN ({jobs}) AND (owner IS NULL OR owner <> $2)";

pub(crate) const STATE: &str = "SELECT job, interval_us, next_due_us, owner, lease_until_us,
        last_owner, last_run_us, runs, missed, takeovers
    FROM monitor_schedule ORDER BY job";

pub(crate) const INSERT_RESULT: &str = "INSERT INTO monitor_results
    (environment, at_us, ok, status, reason, check_id, message, latency_ms, slot_us, worker, location)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

pub(crate) const SELECT_RUNS: &str = "SELECT environment, slot_us, at_us, worker, location
    FROM monitor_results WHERE slot_us IS NOT NULL AND at_us >= $1 ORDER BY environment, slot_us, id";

/// The job list as JSON, for [`CLAIM`] and [`NEXT_WAKE`].
pub(crate) fn jobs_json(jobs: &[String]) -> String {
    serde_json::to_string(jobs).unwrap_or_else(|_| "[]".to_owned())
}
