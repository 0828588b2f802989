//! What differs between SQLite and PostgreSQL, as constants of one trait
//! implemented by each sqlx database type; everything else is written once,
//! generic over it.
//!
//! The SQL shared by both is in the subset they agree on (`$N` placeholders,
//! text timestamps, `ON CONFLICT` upserts). What remains is how a write
//! transaction starts and how a record is locked: SQLite takes the database
//! write lock up front (`BEGIN IMMEDIATE`, so a busy writer waits instead of
//! failing), PostgreSQL locks the record's row (`FOR UPDATE`) so two
//! operators cannot both move an incident from the same state; whose clock
//! a lease is measured by; and how a JSON array of names becomes rows.

use sqlx::{
    Database, Decode, Encode, Postgres, Sqlite, Type, postgres::PgQueryResult,
    sqlite::SqliteQueryResult,
};

use crate::migrate::{self, Migration};

/// A database a ledger can live in.
pub trait Dialect: Database<QueryResult: RowsAffected> {
    /// The forward-only migrations, in order.
    const MIGRATIONS: &'static [Migration];
    /// Taken first in the migration transaction, when concurrent first opens
    /// need serialising beyond the transaction itself.
    const MIGRATION_LOCK: Option<&'static str>;
    /// How a write transaction starts (`None`: the driver's plain `BEGIN`).
    const BEGIN_WRITE: Option<&'static str>;
    /// How a read transaction over several queries starts.
    const BEGIN_READ: &'static str;
    /// Selects a record's id inside a write transaction, locking it.
    const LOCK_RECORD: &'static str;
    /// The clock leases and the schedule are measured by, in microseconds.
    const NOW_US: &'static str;
    /// Durability of the monitor's operational writes (`None`: the database's setting).
    const RELAXED_COMMIT: Option<&'static str>;
    /// What concurrent claimers of the same rows add to their `SELECT`.
    const SKIP_LOCKED: &'static str;
    /// The elements of a JSON array of text (`#` is its placeholder).
    const JOB_LIST: &'static str;
    /// The names in the JSON array bound as `$1`, as a table with a `name` column.
    const ENV_NAMES: &'static str;
    /// What makes the latest-run-per-location read use the partial
    /// location index: SQLite without statistics otherwise walks every run
    /// of the last day through `(environment, at_us)` (seconds at 60 M runs).
    const BY_LOCATION: &'static str;
    /// The select list of [`crate::Ledger::query_latest`]: one row holding a
    /// JSON array of every record with its latest status event.
    const LATEST_SELECT: &'static str;
}

impl Dialect for Sqlite {
    const MIGRATIONS: &'static [Migration] = migrate::SQLITE;
    const MIGRATION_LOCK: Option<&'static str> = None;
    const BEGIN_WRITE: Option<&'static str> = Some("BEGIN IMMEDIATE");
    const BEGIN_READ: &'static str = "BEGIN";
    const LOCK_RECORD: &'static str = "SELECT id FROM records WHERE id = $1";
    /// This machine's clock: a SQLite ledger is one file on one machine.
    const NOW_US: &'static str = "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)";
    const RELAXED_COMMIT: Option<&'static str> = None;
    /// The write lock taken by `BEGIN IMMEDIATE` already serialises claimers.
    const SKIP_LOCKED: &'static str = "";
    const JOB_LIST: &'static str = "SELECT value FROM json_each(#)";
    const ENV_NAMES: &'static str = "SELECT value AS name FROM json_each($1)";
    const BY_LOCATION: &'static str = "INDEXED BY monitor_results_location";
    /// Text concatenation rather than `json_array(.., json(body))`: the bodies
    /// are already JSON, and re-parsing them in SQL cost more than the query.
    /// Order is restored by `decode_latest` (by time, then `seq`), which spares
    /// SQLite a sort of the whole listing.
    const LATEST_SELECT: &'static str = "SELECT '[' || COALESCE(group_concat('[' || r.seq || ',' || \
         json_quote(r.id) || ',' || json_quote(r.kind) || ',' || json_quote(r.created_at) || ',' || \
         json_quote(r.operator) || ',' || json_quote(r.environment) || ',' || json_quote(r.version) || ',' || \
         json_quote(r.ref_id) || ',' || r.body || ',' || json_quote(e.at) || ',' || json_quote(e.operator) || ',' || \
         json_quote(e.kind) || ',' || json_quote(e.status) || ',' || json_quote(e.note) || ',' || \
         COALESCE(e.data, 'null') || ']', ','), '') || ']' AS j";
}

impl Dialect for Postgres {
    const MIGRATIONS: &'static [Migration] = migrate::POSTGRES;
    /// Serialises concurrent first opens of one database; the key is arbitrary but fixed.
    const MIGRATION_LOCK: Option<&'static str> = Some("SELECT pg_advisory_xact_lock(7216202611)");
    const BEGIN_WRITE: Option<&'static str> = None;
    const BEGIN_READ: &'static str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    const LOCK_RECORD: &'static str = "SELECT id FROM records WHERE id = $1 FOR UPDATE";
    /// The server's clock, so machines sharing the ledger need not agree on the time.
    const NOW_US: &'static str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)";
    /// The schedule's claims and stored runs are operational state, not
    /// history: a server crash may forget the last fraction of a second of
    /// them (a forgotten completion means the slot runs again, once; a
    /// forgotten claim is free again), never corrupt them, and not waiting
    /// for the WAL flush keeps many workers' commits from queueing.
    const RELAXED_COMMIT: Option<&'static str> = Some("SET LOCAL synchronous_commit TO OFF");
    /// Concurrent claimers skip the rows another one is taking, never wait on them.
    const SKIP_LOCKED: &'static str = "FOR UPDATE SKIP LOCKED";
    const JOB_LIST: &'static str = "SELECT json_array_elements_text(CAST(# AS JSON))";
    const ENV_NAMES: &'static str = "SELECT json_array_elements_text(CAST($1 AS JSON)) AS name";
    const BY_LOCATION: &'static str = "";
    const LATEST_SELECT: &'static str = "SELECT COALESCE(json_agg(json_build_array(\
         r.seq, r.id, r.kind, r.created_at, r.operator, r.environment, r.version, r.ref_id, r.body::json, \
         e.at, e.operator, e.kind, e.status, e.note, e.data::json))::text, '[]') AS j";
}

/// How many rows a statement changed: each driver has the method, no sqlx
/// trait names it.
pub trait RowsAffected {
    fn rows_affected(&self) -> u64;
}

impl RowsAffected for SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        SqliteQueryResult::rows_affected(self)
    }
}

impl RowsAffected for PgQueryResult {
    fn rows_affected(&self) -> u64 {
        PgQueryResult::rows_affected(self)
    }
}

/// A Rust type stored in a column: bound as a parameter and read back.
pub trait Column<D: Database>:
    for<'q> Encode<'q, D> + for<'r> Decode<'r, D> + Type<D> + Send
{
}

impl<D: Database, T> Column<D> for T where
    T: for<'q> Encode<'q, D> + for<'r> Decode<'r, D> + Type<D> + Send
{
}

// Rust cannot name a set of bounds once, so each generic `impl` block of the
// backend repeats these (and only these):
//
//     for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
//     for<'q> D::Arguments<'q>: IntoArguments<'q, D>,
//     for<'s> &'s str: ColumnIndex<D::Row> + Encode<'s, D> + Type<D>,
//     for<'s> Option<&'s str>: Encode<'s, D> + Type<D>,
//     usize: ColumnIndex<D::Row>,
//     String: Column<D>, Option<String>: Column<D>, (the same for i64 and f64)
//
// Both `sqlx::Sqlite` and `sqlx::Postgres` meet them.
