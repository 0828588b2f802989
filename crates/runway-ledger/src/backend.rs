//! The two backends: SQLite and PostgreSQL.
//!
//! The SQL is written once, in the subset both databases share (`$N`
//! placeholders, text timestamps, `RETURNING`-free inserts), and a macro
//! stamps out the [`Ledger`] implementation for each pool type. What differs
//! is only how a write transaction starts and how a record is locked:
//! SQLite takes the database write lock up front (`BEGIN IMMEDIATE`, so a
//! busy writer waits instead of failing), PostgreSQL locks the record's row
//! (`FOR UPDATE`) so two operators cannot both move an incident from the same
//! state.

use std::{collections::HashMap, str::FromStr, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use runway_core::{CheckResult, Evidence, Redactor, Status};
use sqlx::{
    Row,
    postgres::{PgConnectOptions, PgPool, PgPoolOptions},
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};

mod batch;

use crate::{
    DeployLock, Event, EventKind, Filter, Guard, Kind, Ledger, LedgerError, LedgerUrl, LockInfo,
    OpenOptions, Record, Result,
    lock::{self, LeaseStore},
    migrate::{self, Migration, SCHEMA_VERSION},
};

/// How timestamps are stored: fixed width, so text order is time order.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| LedgerError::Corrupt {
            what: format!("bad timestamp `{s}`: {e}"),
        })
}

fn parse_json(s: &str) -> Result<serde_json::Value> {
    serde_json::from_str(s).map_err(|e| LedgerError::Corrupt {
        what: format!("bad JSON in the ledger: {e}"),
    })
}

fn status_from_str(s: &str) -> Result<Status> {
    match s {
        "pass" => Ok(Status::Pass),
        "warn" => Ok(Status::Warn),
        "fail" => Ok(Status::Fail),
        "skip" => Ok(Status::Skip),
        other => Err(LedgerError::Corrupt {
            what: format!("unknown check status `{other}`"),
        }),
    }
}

/// A `WHERE` clause over `records r` with its `$N` parameters, all text.
fn where_clause(f: &Filter) -> (String, Vec<String>) {
    let mut parts = Vec::new();
    let mut binds = Vec::new();
    let mut push = |col: &str, op: &str, v: String| {
        binds.push(v);
        parts.push(format!("r.{col} {op} ${}", binds.len()));
    };
    if let Some(v) = &f.id {
        push("id", "=", v.clone());
    }
    if let Some(v) = f.kind {
        push("kind", "=", v.as_str().to_owned());
    }
    if let Some(v) = &f.environment {
        push("environment", "=", v.clone());
    }
    if let Some(v) = &f.version {
        push("version", "=", v.clone());
    }
    if let Some(v) = &f.ref_id {
        push("ref_id", "=", v.clone());
    }
    if let Some(v) = f.since {
        push("created_at", ">=", ts(v));
    }
    if let Some(v) = f.until {
        push("created_at", "<", ts(v));
    }
    if parts.is_empty() {
        ("1 = 1".to_owned(), binds)
    } else {
        (parts.join(" AND "), binds)
    }
}

/// One element of [`Ledger::query_latest`]'s JSON array: a record's `seq` and
/// columns, then its latest status event's (all null when it has none).
type LatestRow = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    serde_json::Value,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<serde_json::Value>,
);

fn decode_latest(text: &str) -> Result<Vec<Record>> {
    let mut rows: Vec<LatestRow> =
        serde_json::from_str(text).map_err(|e| LedgerError::Corrupt {
            what: format!("unreadable record listing: {e}"),
        })?;
    // Oldest first, as `query` returns them; fixed-width timestamps sort as text.
    rows.sort_unstable_by(|a, b| (&a.3, a.0).cmp(&(&b.3, b.0)));
    let mut records = Vec::with_capacity(rows.len());
    for (
        _,
        id,
        kind,
        created_at,
        operator,
        environment,
        version,
        ref_id,
        body,
        at,
        e_operator,
        e_kind,
        status,
        note,
        data,
    ) in rows
    {
        let mut events = Vec::new();
        if let (Some(at), Some(e_operator), Some(e_kind)) = (at, e_operator, e_kind) {
            events.push(Event {
                at: parse_ts(&at)?,
                operator: e_operator,
                kind: EventKind::parse(&e_kind)?,
                status,
                note,
                data: data.unwrap_or(serde_json::Value::Null),
            });
        }
        records.push(Record {
            id,
            kind: kind.parse()?,
            created_at: parse_ts(&created_at)?,
            operator,
            environment,
            version,
            ref_id,
            body,
            events,
            checks: Vec::new(),
        });
    }
    Ok(records)
}

const INSERT_RECORD: &str = "INSERT INTO records (id, kind, created_at, operator, environment, version, ref_id, body) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const INSERT_EVENT: &str = "INSERT INTO events (record_id, at, operator, kind, status, note, data) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Takes the lease unless a live one is there: one atomic statement, so of
/// two concurrent takers exactly one inserts (or replaces an expired lease)
/// and the other changes nothing. `{now}` is the backend's clock in microseconds.
const TAKE_LEASE: &str = "INSERT INTO deploy_locks (environment, holder, token, acquired_us, heartbeat_us, expires_us) \
     VALUES ($1, $2, $3, {now}, {now}, {now} + $4) \
     ON CONFLICT (environment) DO UPDATE SET holder = excluded.holder, token = excluded.token, \
     acquired_us = excluded.acquired_us, heartbeat_us = excluded.heartbeat_us, expires_us = excluded.expires_us \
     WHERE deploy_locks.expires_us <= excluded.acquired_us";
const READ_LEASE: &str = "SELECT holder, token, acquired_us, heartbeat_us, expires_us FROM deploy_locks \
     WHERE environment = $1";
const LIVE_LEASE: &str = "SELECT holder, token, acquired_us, heartbeat_us, expires_us FROM deploy_locks \
     WHERE environment = $1 AND expires_us > {now}";
const RENEW_LEASE: &str = "UPDATE deploy_locks SET heartbeat_us = {now}, expires_us = {now} + $3 \
     WHERE environment = $1 AND token = $2";
const RELEASE_LEASE: &str = "DELETE FROM deploy_locks WHERE environment = $1 AND token = $2";
const BREAK_LEASE: &str = "DELETE FROM deploy_locks WHERE environment = $1 AND holder = $2";

/// A lease row: holder, token, acquired, heartbeat, expiry (microseconds).
type LeaseRow = (String, String, i64, i64, i64);

fn lease_info(environment: &str, row: &LeaseRow) -> LockInfo {
    LockInfo {
        environment: environment.to_owned(),
        holder: row.0.clone(),
        acquired_at: lock::from_micros(row.2),
        heartbeat_at: lock::from_micros(row.3),
        expires_at: lock::from_micros(row.4),
    }
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 4)
}

/// Check results per multi-row insert; well under both databases' parameter limits.
const CHECK_CHUNK: usize = 500;

/// SQLite behind the [`Ledger`] trait.
pub struct SqliteLedger {
    pool: SqlitePool,
    url: LedgerUrl,
    redactor: Redactor,
    url_redactor: Redactor,
    /// Resolved on first write: reading the ledger should not run `git`.
    operator: std::sync::OnceLock<String>,
}

/// PostgreSQL behind the [`Ledger`] trait.
pub struct PostgresLedger {
    pool: PgPool,
    url: LedgerUrl,
    redactor: Redactor,
    url_redactor: Redactor,
    /// Resolved on first write: reading the ledger should not run `git`.
    operator: std::sync::OnceLock<String>,
}

impl SqliteLedger {
    const MIGRATIONS: &'static [Migration] = migrate::SQLITE;
    const MIGRATION_LOCK: Option<&'static str> = None;
    const LOCK_RECORD: &'static str = "SELECT id FROM records WHERE id = $1";
    const BEGIN_READ: &'static str = "BEGIN";
    /// This machine's clock: a SQLite ledger is one file on one machine.
    const NOW_US: &'static str = "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)";
    /// Durability of the monitor's operational writes: the pragmas' setting.
    const RELAXED_COMMIT: Option<&'static str> = None;
    /// The write lock taken by `BEGIN IMMEDIATE` already serialises claimers.
    const SKIP_LOCKED: &'static str = "";
    /// The elements of a JSON array of text (`#` is its placeholder).
    const JOB_LIST: &'static str = "SELECT value FROM json_each(#)";
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

    pub async fn open(url: &LedgerUrl, options: &OpenOptions) -> Result<SqliteLedger> {
        let LedgerUrl::Sqlite { path } = url else {
            return Err(LedgerError::Url {
                url: url.to_string(),
                reason: "not a SQLite URL".into(),
            });
        };
        if !options.create && !path.exists() {
            return Err(LedgerError::Missing { path: path.clone() });
        }
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| LedgerError::Connect {
                url: url.to_string(),
                message: format!("cannot create `{}`: {e}", dir.display()),
            })?;
        }
        let connect = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL survives a killed process; only a power cut can lose the last commits.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(options.timeout)
            .foreign_keys(true)
            // The worker thread hands rows over in batches this large: listing
            // thousands of records otherwise costs a context switch every 50 rows.
            .row_buffer_size(4096)
            // Read pages through a memory map instead of a read() and a copy each:
            // a listing touches thousands of scattered pages.
            .pragma("mmap_size", "268435456")
            .pragma("cache_size", "-16384")
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.timeout)
            .connect_with(connect)
            .await
            .map_err(|e| LedgerError::Connect {
                url: url.to_string(),
                message: e.to_string(),
            })?;
        let ledger = SqliteLedger {
            pool,
            url: url.clone(),
            redactor: url.redactor(),
            url_redactor: url.redactor(),
            operator: std::sync::OnceLock::new(),
        };
        ledger.migrate().await?;
        Ok(ledger)
    }

    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'_, sqlx::Sqlite>> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }
}

impl PostgresLedger {
    const MIGRATIONS: &'static [Migration] = migrate::POSTGRES;
    /// Serialises concurrent first opens of one database; the key is arbitrary but fixed.
    const MIGRATION_LOCK: Option<&'static str> = Some("SELECT pg_advisory_xact_lock(7216202611)");
    const LOCK_RECORD: &'static str = "SELECT id FROM records WHERE id = $1 FOR UPDATE";
    const BEGIN_READ: &'static str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
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
    const LATEST_SELECT: &'static str = "SELECT COALESCE(json_agg(json_build_array(\
         r.seq, r.id, r.kind, r.created_at, r.operator, r.environment, r.version, r.ref_id, r.body::json, \
         e.at, e.operator, e.kind, e.status, e.note, e.data::json))::text, '[]') AS j";

    pub async fn open(url: &LedgerUrl, options: &OpenOptions) -> Result<PostgresLedger> {
        let url_redactor = url.redactor();
        let connect_err = |message: String| LedgerError::Connect {
            url: url.to_string(),
            message: url_redactor.redact(&message),
        };
        let connect = PgConnectOptions::from_str(url.connect_string().expose())
            .map_err(|e| connect_err(e.to_string()))?;
        // A burst of processes can briefly exceed the server's connection limit;
        // that is worth a short, bounded wait. Anything else fails at once.
        let mut attempt = 0u32;
        let pool = loop {
            attempt += 1;
            let result = PgPoolOptions::new()
                .max_connections(options.max_connections.max(1))
                .acquire_timeout(options.timeout.min(Duration::from_secs(10)))
                .connect_with(connect.clone())
                .await;
            match result {
                Ok(pool) => break pool,
                Err(sqlx::Error::Database(e))
                    if attempt < 40
                        && matches!(e.code().as_deref(), Some("53300") | Some("57P03")) =>
                {
                    tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt.min(10))))
                        .await;
                }
                Err(e) => return Err(connect_err(e.to_string())),
            }
        };
        let ledger = PostgresLedger {
            pool,
            url: url.clone(),
            redactor: url.redactor(),
            url_redactor,
            operator: std::sync::OnceLock::new(),
        };
        ledger.migrate().await?;
        Ok(ledger)
    }

    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'_, sqlx::Postgres>> {
        self.pool.begin().await
    }
}

/// A database error as the user should read it: a full disk says so and
/// where (SQLite's `SQLITE_FULL` and its shared-memory file that cannot grow,
/// "disk I/O error (code: 4874)"; PostgreSQL's `53100`), everything else as
/// the driver put it, without the URL's password.
fn database_error(
    url: &str,
    action: &'static str,
    e: sqlx::Error,
    redactor: &Redactor,
) -> LedgerError {
    if let sqlx::Error::Database(d) = &e
        && let Some(code) = d.code()
        && is_disk_full(&code)
    {
        let place = match url.strip_prefix("sqlite://") {
            Some(path) => {
                let path = std::path::Path::new(path);
                format!(
                    "the disk holding `{}`",
                    path.parent().unwrap_or(path).display()
                )
            }
            None => "the database server's disk".to_owned(),
        };
        return LedgerError::DiskFull {
            url: url.to_owned(),
            action,
            place,
        };
    }
    LedgerError::Database {
        url: url.to_owned(),
        action,
        message: redactor.redact(&e.to_string()),
    }
}

/// Whether a database error code means there is no space left.
fn is_disk_full(code: &str) -> bool {
    match code.parse::<i64>() {
        // SQLITE_FULL (13, with any extended code), SQLITE_IOERR_SHMSIZE
        // (10 | 19 << 8: the `-shm` file cannot grow on a full disk).
        Ok(n) => n & 0xff == 13 || n == 4874,
        // PostgreSQL: `disk_full`.
        Err(_) => code == "53100",
    }
}

/// The deploy-lock half of a SQLite ledger, shared with its [`DeployLock`]s.
struct SqliteLeases {
    pool: SqlitePool,
    url: String,
    url_redactor: Redactor,
}

/// The deploy-lock half of a PostgreSQL ledger, shared with its [`DeployLock`]s.
struct PostgresLeases {
    pool: PgPool,
    url: String,
    url_redactor: Redactor,
}

macro_rules! ledger_impl {
    ($ty:ident, $db:ty, $leases:ident) => {
        impl $leases {
            fn db(&self, action: &'static str, e: sqlx::Error) -> LedgerError {
                database_error(&self.url, action, e, &self.url_redactor)
            }
        }

        #[async_trait]
        impl LeaseStore for $leases {
            async fn renew(&self, environment: &str, token: &str, ttl: Duration) -> Result<bool> {
                let sql = RENEW_LEASE.replace("{now}", $ty::NOW_US);
                let done = sqlx::query(&sql)
                    .bind(environment)
                    .bind(token)
                    .bind(micros(ttl))
                    .execute(&self.pool)
                    .await
                    .map_err(|e| self.db("renewing a deploy lock", e))?;
                Ok(done.rows_affected() == 1)
            }

            async fn release(&self, environment: &str, token: &str) -> Result<()> {
                sqlx::query(RELEASE_LEASE)
                    .bind(environment)
                    .bind(token)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| self.db("releasing a deploy lock", e))?;
                Ok(())
            }
        }

        impl $ty {
            /// Stores one monitor run (redacted), with its shared-schedule
            /// slot and worker when it has them.
            async fn insert_result<'e, E>(
                &self,
                e: E,
                r: &crate::MonitorResult,
                scheduled: Option<(i64, &str)>,
            ) -> sqlx::Result<()>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                let red = |s: &str| self.redactor.redact(&self.url_redactor.redact(s));
                sqlx::query(crate::schedule::INSERT_RESULT)
                    .bind(red(&r.environment))
                    .bind(crate::monitor::to_us(r.at))
                    .bind(i64::from(r.ok))
                    .bind(r.status.clone())
                    .bind(r.reason.clone())
                    .bind(r.check_id.as_deref().map(red))
                    .bind(r.message.as_deref().map(red))
                    .bind(r.latency_ms)
                    .bind(scheduled.map(|s| s.0))
                    .bind(scheduled.map(|s| s.1.to_owned()))
                    .execute(e)
                    .await?;
                Ok(())
            }

            /// An `alerts` row: twenty columns, more than a tuple decodes.
            fn alert_row(r: &<$db as sqlx::Database>::Row) -> sqlx::Result<crate::alert::AlertRow> {
                Ok((
                    r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?,
                    r.try_get(5)?, r.try_get(6)?, r.try_get(7)?, r.try_get(8)?, r.try_get(9)?,
                    r.try_get(10)?, r.try_get(11)?, r.try_get(12)?, r.try_get(13)?, r.try_get(14)?,
                    r.try_get(15)?, r.try_get(16)?, r.try_get(17)?, r.try_get(18)?, r.try_get(19)?,
                ))
            }

            fn decode_alerts(&self, rows: Vec<<$db as sqlx::Database>::Row>) -> Result<Vec<crate::AlertRecord>> {
                rows.iter()
                    .map(|r| {
                        Self::alert_row(r)
                            .map_err(|e| self.db("reading alerts", e))
                            .and_then(crate::alert::decode_alert)
                    })
                    .collect()
            }

            fn db(&self, action: &'static str, e: sqlx::Error) -> LedgerError {
                database_error(&self.url.to_string(), action, e, &self.url_redactor)
            }

            fn newer(&self, found: i64) -> LedgerError {
                LedgerError::NewerSchema {
                    url: self.url.to_string(),
                    found,
                    known: SCHEMA_VERSION,
                    runway: env!("CARGO_PKG_VERSION"),
                }
            }

            async fn migrate(&self) -> Result<()> {
                // Fast path: an up-to-date ledger needs no write lock.
                match sqlx::query_scalar::<_, i64>(migrate::CURRENT_VERSION)
                    .fetch_one(&self.pool)
                    .await
                {
                    Ok(v) if v == SCHEMA_VERSION => return Ok(()),
                    Ok(v) if v > SCHEMA_VERSION => return Err(self.newer(v)),
                    _ => {}
                }
                let action = "applying its schema migrations";
                let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
                if let Some(lock) = Self::MIGRATION_LOCK {
                    sqlx::query(lock)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.db(action, e))?;
                }
                sqlx::query(migrate::CREATE_TABLE)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.db(action, e))?;
                let current: i64 = sqlx::query_scalar(migrate::CURRENT_VERSION)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| self.db(action, e))?;
                if current > SCHEMA_VERSION {
                    return Err(self.newer(current));
                }
                for m in Self::MIGRATIONS.iter().filter(|m| m.version > current) {
                    sqlx::raw_sql(m.sql)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.db(action, e))?;
                    if m.name == "meta" {
                        // The ledger's own key, created with its table.
                        let key = migrate::new_settings_key().map_err(|e| LedgerError::Database {
                            url: self.url.to_string(),
                            action,
                            message: format!("no random key from the operating system: {e}"),
                        })?;
                        sqlx::query(migrate::INSERT_META)
                            .bind(migrate::SETTINGS_KEY)
                            .bind(key)
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| self.db(action, e))?;
                    }
                    sqlx::query(migrate::RECORD)
                        .bind(m.version)
                        .bind(m.name)
                        .bind(ts(crate::now()))
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.db(action, e))?;
                }
                tx.commit().await.map_err(|e| self.db(action, e))
            }

            async fn insert_event(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                id: &str,
                e: &Event,
            ) -> Result<()> {
                sqlx::query(INSERT_EVENT)
                    .bind(id)
                    .bind(ts(e.at))
                    .bind(&e.operator)
                    .bind(e.kind.as_str())
                    .bind(e.status.as_deref())
                    .bind(e.note.as_deref())
                    .bind(e.data.to_string())
                    .execute(&mut *conn)
                    .await
                    .map_err(|err| self.db("appending an event", err))?;
                Ok(())
            }

            async fn insert_one(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                record: &Record,
            ) -> Result<()> {
                let action = "writing a record";
                // The URL's own password never reaches the ledger, whatever redactor the caller set.
                let mut owned;
                let mut r = record;
                if self.url.password().is_some() {
                    owned = record.clone();
                    crate::redact_record(&self.url_redactor, &mut owned);
                    r = &owned;
                }
                let inserted = sqlx::query(INSERT_RECORD)
                    .bind(&r.id)
                    .bind(r.kind.as_str())
                    .bind(ts(r.created_at))
                    .bind(&r.operator)
                    .bind(r.environment.as_deref())
                    .bind(r.version.as_deref())
                    .bind(r.ref_id.as_deref())
                    .bind(r.body.to_string())
                    .execute(&mut *conn)
                    .await;
                match inserted {
                    Ok(_) => {}
                    Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                        return Err(LedgerError::Duplicate { id: r.id.clone() });
                    }
                    Err(e) => return Err(self.db(action, e)),
                }
                for e in &r.events {
                    self.insert_event(&mut *conn, &r.id, e).await?;
                }
                for (n, chunk) in r.checks.chunks(CHECK_CHUNK).enumerate() {
                    let mut qb: sqlx::QueryBuilder<$db> = sqlx::QueryBuilder::new(
                        "INSERT INTO check_results \
                         (verification_id, idx, check_id, status, message, duration_ms, hint, evidence) ",
                    );
                    let base = n * CHECK_CHUNK;
                    let mut encoded = Vec::with_capacity(chunk.len());
                    for c in chunk {
                        let evidence = serde_json::to_string(&c.evidence).map_err(|e| {
                            LedgerError::Invalid {
                                what: format!("cannot encode evidence of `{}`: {e}", c.id),
                            }
                        })?;
                        encoded.push(evidence);
                    }
                    qb.push_values(chunk.iter().zip(encoded).enumerate(), |mut b, (i, (c, evidence))| {
                        b.push_bind(r.id.clone())
                            .push_bind((base + i) as i64)
                            .push_bind(c.id.clone())
                            .push_bind(c.status.as_str())
                            .push_bind(c.message.clone())
                            .push_bind(c.duration_ms)
                            .push_bind(c.hint.clone())
                            .push_bind(evidence);
                    });
                    qb.build()
                        .execute(&mut *conn)
                        .await
                        .map_err(|e| self.db(action, e))?;
                }
                Ok(())
            }

            async fn load(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                filter: &Filter,
                with_checks: bool,
            ) -> Result<Vec<Record>> {
                let action = "reading records";
                let (w, binds) = where_clause(filter);
                let sql = format!(
                    "SELECT r.id, r.kind, r.created_at, r.operator, r.environment, r.version, r.ref_id, r.body \
                     FROM records r WHERE {w} ORDER BY r.created_at, r.seq"
                );
                let mut q = sqlx::query(&sql);
                for b in &binds {
                    q = q.bind(b.as_str());
                }
                let rows = q.fetch_all(&mut *conn).await.map_err(|e| self.db(action, e))?;
                let mut records = Vec::with_capacity(rows.len());
                let mut index: HashMap<String, usize> = HashMap::with_capacity(rows.len());
                for row in rows {
                    let get = |c: &str| row.try_get::<String, _>(c);
                    let opt = |c: &str| row.try_get::<Option<String>, _>(c);
                    let id = get("id").map_err(|e| self.db(action, e))?;
                    let kind: Kind = get("kind").map_err(|e| self.db(action, e))?.parse()?;
                    let record = Record {
                        kind,
                        created_at: parse_ts(&get("created_at").map_err(|e| self.db(action, e))?)?,
                        operator: get("operator").map_err(|e| self.db(action, e))?,
                        environment: opt("environment").map_err(|e| self.db(action, e))?,
                        version: opt("version").map_err(|e| self.db(action, e))?,
                        ref_id: opt("ref_id").map_err(|e| self.db(action, e))?,
                        body: parse_json(&get("body").map_err(|e| self.db(action, e))?)?,
                        events: Vec::new(),
                        checks: Vec::new(),
                        id: id.clone(),
                    };
                    index.insert(id, records.len());
                    records.push(record);
                }
                if records.is_empty() {
                    return Ok(records);
                }

                let sql = format!(
                    "SELECT e.record_id, e.at, e.operator, e.kind, e.status, e.note, e.data \
                     FROM events e JOIN records r ON r.id = e.record_id WHERE {w} ORDER BY e.seq"
                );
                let mut q = sqlx::query(&sql);
                for b in &binds {
                    q = q.bind(b.as_str());
                }
                let rows = q.fetch_all(&mut *conn).await.map_err(|e| self.db(action, e))?;
                for row in rows {
                    let get = |c: &str| row.try_get::<String, _>(c);
                    let opt = |c: &str| row.try_get::<Option<String>, _>(c);
                    let rid = get("record_id").map_err(|e| self.db(action, e))?;
                    let Some(&i) = index.get(&rid) else { continue };
                    records[i].events.push(Event {
                        at: parse_ts(&get("at").map_err(|e| self.db(action, e))?)?,
                        operator: get("operator").map_err(|e| self.db(action, e))?,
                        kind: EventKind::parse(&get("kind").map_err(|e| self.db(action, e))?)?,
                        status: opt("status").map_err(|e| self.db(action, e))?,
                        note: opt("note").map_err(|e| self.db(action, e))?,
                        data: parse_json(&get("data").map_err(|e| self.db(action, e))?)?,
                    });
                }

                let wants_checks = with_checks
                    && filter.kind.is_none_or(|k| k == Kind::Verification)
                    && records.iter().any(|r| r.kind == Kind::Verification);
                if wants_checks {
                    let sql = format!(
                        "SELECT c.verification_id, c.check_id, c.status, c.message, c.duration_ms, c.hint, c.evidence \
                         FROM check_results c JOIN records r ON r.id = c.verification_id WHERE {w} \
                         ORDER BY c.verification_id, c.idx"
                    );
                    let mut q = sqlx::query(&sql);
                    for b in &binds {
                        q = q.bind(b.as_str());
                    }
                    let rows = q.fetch_all(&mut *conn).await.map_err(|e| self.db(action, e))?;
                    for row in rows {
                        let get = |c: &str| row.try_get::<String, _>(c);
                        let rid = get("verification_id").map_err(|e| self.db(action, e))?;
                        let Some(&i) = index.get(&rid) else { continue };
                        let evidence: Evidence = serde_json::from_str(
                            &get("evidence").map_err(|e| self.db(action, e))?,
                        )
                        .map_err(|e| LedgerError::Corrupt {
                            what: format!("bad evidence in verification `{rid}`: {e}"),
                        })?;
                        records[i].checks.push(CheckResult {
                            id: get("check_id").map_err(|e| self.db(action, e))?,
                            status: status_from_str(&get("status").map_err(|e| self.db(action, e))?)?,
                            message: get("message").map_err(|e| self.db(action, e))?,
                            duration_ms: row
                                .try_get::<f64, _>("duration_ms")
                                .map_err(|e| self.db(action, e))?,
                            hint: row
                                .try_get::<Option<String>, _>("hint")
                                .map_err(|e| self.db(action, e))?,
                            evidence,
                        });
                    }
                }
                Ok(records)
            }
        }

        #[async_trait]
        impl Ledger for $ty {
            fn url(&self) -> &LedgerUrl {
                &self.url
            }

            fn redactor(&self) -> &Redactor {
                &self.redactor
            }

            fn set_redactor(&mut self, redactor: Redactor) {
                self.redactor = redactor;
            }

            fn operator(&self) -> &str {
                self.operator.get_or_init(crate::detect_operator)
            }

            fn set_operator(&mut self, operator: String) {
                self.operator = std::sync::OnceLock::from(operator);
            }

            async fn schema_version(&self) -> Result<i64> {
                sqlx::query_scalar(migrate::CURRENT_VERSION)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| self.db("reading its schema version", e))
            }

            async fn insert(&self, record: &Record) -> Result<()> {
                self.insert_batch(std::slice::from_ref(record)).await
            }

            async fn insert_batch(&self, records: &[Record]) -> Result<()> {
                let action = "writing a record";
                let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
                for record in records {
                    self.insert_one(&mut tx, record).await?;
                }
                tx.commit().await.map_err(|e| self.db(action, e))
            }

            async fn append_event(&self, id: &str, event: &Event, guard: Guard<'_>) -> Result<()> {
                let action = "appending an event";
                let mut event = event.clone();
                if let Some(n) = &mut event.note {
                    *n = self.url_redactor.redact(n);
                }
                if self.url.password().is_some() {
                    crate::redact_json(&self.url_redactor, &mut event.data);
                }
                let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
                let found: Option<String> = sqlx::query_scalar(Self::LOCK_RECORD)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(|e| self.db(action, e))?;
                if found.is_none() {
                    return Err(LedgerError::NotFound { id: id.to_owned() });
                }
                let filter = Filter {
                    id: Some(id.to_owned()),
                    ..Filter::default()
                };
                let record = self
                    .load(&mut tx, &filter, false)
                    .await?
                    .pop()
                    .ok_or_else(|| LedgerError::NotFound { id: id.to_owned() })?;
                guard(&record)?;
                self.insert_event(&mut tx, id, &event).await?;
                tx.commit().await.map_err(|e| self.db(action, e))
            }

            async fn query(&self, filter: &Filter, with_checks: bool) -> Result<Vec<Record>> {
                let action = "reading records";
                // One read transaction, so the three queries see one snapshot.
                let mut tx = self
                    .pool
                    .begin_with(Self::BEGIN_READ)
                    .await
                    .map_err(|e| self.db(action, e))?;
                let records = self.load(&mut tx, filter, with_checks).await?;
                tx.commit().await.map_err(|e| self.db(action, e))?;
                Ok(records)
            }

            async fn query_latest(&self, filter: &Filter) -> Result<Vec<Record>> {
                let action = "reading records";
                let (w, binds) = where_clause(filter);
                // One row holding a JSON array of every record: moving thousands of
                // rows one at a time costs more than the query itself.
                let sql = format!(
                    "{} FROM records r LEFT JOIN events e ON e.seq = \
                     (SELECT MAX(x.seq) FROM events x WHERE x.record_id = r.id AND x.status IS NOT NULL) \
                     WHERE {w}",
                    Self::LATEST_SELECT
                );
                let mut q = sqlx::query_scalar::<_, String>(&sql);
                for b in &binds {
                    q = q.bind(b.as_str());
                }
                let text = q.fetch_one(&self.pool).await.map_err(|e| self.db(action, e))?;
                decode_latest(&text)
            }

            async fn ids_with_prefix(&self, prefix: &str, limit: i64) -> Result<Vec<String>> {
                // Ids are ASCII letters, digits and `-`, all below `~`.
                sqlx::query_scalar(
                    "SELECT id FROM records WHERE id >= $1 AND id < $2 ORDER BY id LIMIT $3",
                )
                .bind(prefix)
                .bind(format!("{prefix}~"))
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.db("looking up an id", e))
            }

            async fn counts(&self) -> Result<Vec<(Kind, i64)>> {
                let rows = sqlx::query("SELECT kind, COUNT(*) AS n FROM records GROUP BY kind ORDER BY kind")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.db("counting records", e))?;
                let mut out = Vec::new();
                for row in rows {
                    let kind: String = row.try_get("kind").map_err(|e| self.db("counting records", e))?;
                    let n: i64 = row.try_get("n").map_err(|e| self.db("counting records", e))?;
                    out.push((kind.parse()?, n));
                }
                Ok(out)
            }

            async fn acquire_deploy_lock(
                &self,
                environment: &str,
                holder: &str,
                ttl: Duration,
            ) -> Result<DeployLock> {
                lock::validate(environment, holder, ttl)?;
                let action = "taking a deploy lock";
                let holder = self.redactor.redact(&self.url_redactor.redact(holder.trim()));
                let token = uuid::Uuid::new_v4().simple().to_string();
                let take = TAKE_LEASE.replace("{now}", Self::NOW_US);
                let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
                sqlx::query(&take)
                    .bind(environment)
                    .bind(&holder)
                    .bind(&token)
                    .bind(micros(ttl))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.db(action, e))?;
                let row: LeaseRow = sqlx::query_as(READ_LEASE)
                    .bind(environment)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| self.db(action, e))?;
                tx.commit().await.map_err(|e| self.db(action, e))?;
                let info = lease_info(environment, &row);
                if row.1 != token {
                    return Err(LedgerError::Locked {
                        environment: environment.to_owned(),
                        holder: info.holder,
                        acquired_at: info.acquired_at,
                        expires_at: info.expires_at,
                    });
                }
                let store = std::sync::Arc::new($leases {
                    pool: self.pool.clone(),
                    url: self.url.to_string(),
                    url_redactor: self.url_redactor.clone(),
                });
                Ok(DeployLock::start(info, token, ttl, store))
            }

            async fn settings_key(&self) -> Result<Vec<u8>> {
                let action = "reading its settings key";
                let hex: Option<String> = sqlx::query_scalar(migrate::READ_META)
                    .bind(migrate::SETTINGS_KEY)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(|e| self.db(action, e))?;
                let corrupt = || LedgerError::Database {
                    url: self.url.to_string(),
                    action,
                    message: format!("`runway_meta.{}` is not 64 hex digits", migrate::SETTINGS_KEY),
                };
                let hex = hex.ok_or_else(corrupt)?;
                if hex.len() != 64 {
                    return Err(corrupt());
                }
                (0..32)
                    .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| corrupt()))
                    .collect()
            }

            async fn deploy_lock(&self, environment: &str) -> Result<Option<LockInfo>> {
                let sql = LIVE_LEASE.replace("{now}", Self::NOW_US);
                let row: Option<LeaseRow> = sqlx::query_as(&sql)
                    .bind(environment)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(|e| self.db("reading a deploy lock", e))?;
                Ok(row.map(|r| lease_info(environment, &r)))
            }

            async fn break_deploy_lock(&self, environment: &str, holder: &str) -> Result<bool> {
                let done = sqlx::query(BREAK_LEASE)
                    .bind(environment)
                    .bind(holder)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| self.db("breaking a dead holder's deploy lock", e))?;
                Ok(done.rows_affected() > 0)
            }

            async fn close(&self) {
                self.pool.close().await;
            }

            async fn record_monitor_result(&self, r: &crate::MonitorResult) -> Result<()> {
                self.insert_result(&self.pool, r, None)
                    .await
                    .map_err(|e| self.db("recording a monitor result", e))?;
                Ok(())
            }

            async fn monitor_results(
                &self,
                environment: &str,
                since: DateTime<Utc>,
            ) -> Result<Vec<crate::MonitorResult>> {
                type Row = (String, i64, i64, String, Option<String>, Option<String>, Option<String>, f64);
                let rows: Vec<Row> = sqlx::query_as(crate::monitor::SELECT_RESULTS)
                    .bind(environment)
                    .bind(crate::monitor::to_us(since))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.db("reading monitor results", e))?;
                Ok(rows
                    .into_iter()
                    .map(|r| crate::MonitorResult {
                        environment: r.0,
                        at: crate::monitor::from_us(r.1),
                        ok: r.2 != 0,
                        status: r.3,
                        reason: r.4,
                        check_id: r.5,
                        message: r.6,
                        latency_ms: r.7,
                    })
                    .collect())
            }

            async fn monitor_rollups(
                &self,
                environment: &str,
                since: DateTime<Utc>,
            ) -> Result<Vec<crate::MonitorRollup>> {
                type Row = (String, i64, i64, i64, i64, f64, f64);
                let rows: Vec<Row> = sqlx::query_as(crate::monitor::SELECT_ROLLUPS)
                    .bind(environment)
                    .bind(crate::monitor::to_us(since))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.db("reading monitor rollups", e))?;
                Ok(rows
                    .into_iter()
                    .map(|r| crate::MonitorRollup {
                        environment: r.0,
                        bucket: crate::monitor::from_us(r.1),
                        runs: r.2,
                        failures: r.3,
                        auth_failures: r.4,
                        latency_sum_ms: r.5,
                        latency_max_ms: r.6,
                    })
                    .collect())
            }

            async fn monitor_latest(&self, environment: &str) -> Result<Option<crate::MonitorResult>> {
                type Row = (String, i64, i64, String, Option<String>, Option<String>, Option<String>, f64);
                let row: Option<Row> = sqlx::query_as(crate::monitor::SELECT_LATEST)
                    .bind(environment)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(|e| self.db("reading the latest monitor result", e))?;
                Ok(row.map(|r| crate::MonitorResult {
                    environment: r.0,
                    at: crate::monitor::from_us(r.1),
                    ok: r.2 != 0,
                    status: r.3,
                    reason: r.4,
                    check_id: r.5,
                    message: r.6,
                    latency_ms: r.7,
                }))
            }

            async fn monitor_daily(
                &self,
                environment: &str,
                since: DateTime<Utc>,
            ) -> Result<Vec<crate::MonitorDay>> {
                let day = crate::monitor::DAY_US;
                let since = crate::monitor::to_us(since).div_euclid(day) * day;
                let rows: Vec<(i64, i64, i64)> = sqlx::query_as(crate::monitor::SELECT_DAILY)
                    .bind(environment)
                    .bind(since)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.db("reading daily monitor results", e))?;
                Ok(rows
                    .into_iter()
                    .map(|r| crate::MonitorDay {
                        day: crate::monitor::from_us(r.0),
                        runs: r.1,
                        failures: r.2,
                    })
                    .collect())
            }

            async fn monitor_latencies(
                &self,
                environment: &str,
                since: DateTime<Utc>,
            ) -> Result<Vec<crate::MonitorLatency>> {
                let rows: Vec<(i64, i64, f64)> = sqlx::query_as(crate::monitor::SELECT_LATENCIES)
                    .bind(environment)
                    .bind(crate::monitor::to_us(since))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.db("reading monitor latencies", e))?;
                Ok(rows
                    .into_iter()
                    .map(|r| crate::MonitorLatency {
                        at: crate::monitor::from_us(r.0),
                        ok: r.1 != 0,
                        latency_ms: r.2,
                    })
                    .collect())
            }

            async fn monitor_latest_many(&self, environments: &[String]) -> Result<Vec<crate::MonitorResult>> {
                self.latest_many(environments).await
            }

            async fn monitor_daily_many(
                &self,
                environments: &[String],
                since: DateTime<Utc>,
            ) -> Result<Vec<(String, crate::MonitorDay)>> {
                self.daily_many(environments, since).await
            }

            async fn monitor_latencies_many(
                &self,
                environments: &[String],
                since: DateTime<Utc>,
            ) -> Result<Vec<(String, crate::MonitorLatency)>> {
                self.latencies_many(environments, since).await
            }

            async fn prune_monitor(&self, keep_after: DateTime<Utc>) -> Result<crate::PruneStats> {
                let action = "pruning monitor results";
                let hour = crate::monitor::HOUR_US;
                let cutoff = crate::monitor::to_us(keep_after).div_euclid(hour) * hour;
                let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
                let buckets = sqlx::query(crate::monitor::FOLD)
                    .bind(cutoff)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.db(action, e))?
                    .rows_affected();
                let folded = sqlx::query(crate::monitor::DELETE_FOLDED)
                    .bind(cutoff)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.db(action, e))?
                    .rows_affected();
                tx.commit().await.map_err(|e| self.db(action, e))?;
                Ok(crate::PruneStats { folded, buckets })
            }

            async fn save_alert(
                &self,
                a: &crate::AlertRecord,
                notify: &[crate::NewNotification],
            ) -> Result<i64> {
                use crate::alert::{opt_us, INSERT_ALERT, INSERT_NOTIFICATION, UPDATE_ALERT};
                use crate::monitor::to_us;
                let action = "saving an alert";
                let red = |s: &str| self.redactor.redact(&self.url_redactor.redact(s));
                let message = a.message.as_deref().map(red);
                let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
                let id = if a.id == 0 {
                    let r = sqlx::query_scalar::<_, i64>(INSERT_ALERT)
                        .bind(red(&a.fingerprint))
                        .bind(red(&a.rule))
                        .bind(red(&a.environment))
                        .bind(&a.level)
                        .bind(a.state.as_str())
                        .bind(red(&a.condition))
                        .bind(to_us(a.started_at))
                        .bind(opt_us(a.fired_at))
                        .bind(opt_us(a.resolved_at))
                        .bind(to_us(a.evaluated_at))
                        .bind(a.last_value)
                        .bind(a.hits)
                        .bind(a.clears)
                        .bind(opt_us(a.notified_at))
                        .bind(i64::from(a.muted))
                        .bind(message.as_deref())
                        .bind(a.acknowledged_by.as_deref())
                        .bind(opt_us(a.acknowledged_at))
                        .bind(opt_us(a.silenced_until))
                        .fetch_one(&mut *tx)
                        .await;
                    match r {
                        Ok(id) => id,
                        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                            return Err(LedgerError::Duplicate {
                                id: format!("open alert {}", a.fingerprint),
                            });
                        }
                        Err(e) => return Err(self.db(action, e)),
                    }
                } else {
                    let done = sqlx::query(UPDATE_ALERT)
                        .bind(red(&a.fingerprint))
                        .bind(red(&a.rule))
                        .bind(red(&a.environment))
                        .bind(&a.level)
                        .bind(a.state.as_str())
                        .bind(red(&a.condition))
                        .bind(to_us(a.started_at))
                        .bind(opt_us(a.fired_at))
                        .bind(opt_us(a.resolved_at))
                        .bind(to_us(a.evaluated_at))
                        .bind(a.last_value)
                        .bind(a.hits)
                        .bind(a.clears)
                        .bind(opt_us(a.notified_at))
                        .bind(i64::from(a.muted))
                        .bind(message.as_deref())
                        .bind(a.id)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.db(action, e))?;
                    if done.rows_affected() == 0 {
                        return Err(LedgerError::NotFound {
                            id: format!("alert {}", a.id),
                        });
                    }
                    a.id
                };
                let now = to_us(crate::now());
                for n in notify {
                    let mut payload = n.payload.clone();
                    crate::redact_json(&self.redactor, &mut payload);
                    crate::redact_json(&self.url_redactor, &mut payload);
                    let text = serde_json::to_string(&payload).map_err(|e| LedgerError::Invalid {
                        what: format!("cannot encode a notification: {e}"),
                    })?;
                    sqlx::query(INSERT_NOTIFICATION)
                        .bind(id)
                        .bind(&n.notifier)
                        .bind(n.event.as_str())
                        .bind(red(&n.dedup_key))
                        .bind(text)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.db(action, e))?;
                }
                tx.commit().await.map_err(|e| self.db(action, e))?;
                Ok(id)
            }

            async fn open_alerts(&self) -> Result<Vec<crate::AlertRecord>> {
                let rows = sqlx::query(&crate::alert::select_open())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.db("reading open alerts", e))?;
                self.decode_alerts(rows)
            }

            async fn alerts_since(&self, since: DateTime<Utc>) -> Result<Vec<crate::AlertRecord>> {
                let rows = sqlx::query(&crate::alert::select_since())
                    .bind(crate::monitor::to_us(since))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.db("reading alerts", e))?;
                self.decode_alerts(rows)
            }

            async fn alert(&self, id: i64) -> Result<crate::AlertRecord> {
                let rows = sqlx::query(&crate::alert::select_one())
                    .bind(id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.db("reading an alert", e))?;
                self.decode_alerts(rows)?
                    .pop()
                    .ok_or_else(|| LedgerError::NotFound {
                        id: format!("alert {id}"),
                    })
            }

            async fn acknowledge_alert(&self, id: i64, by: &str) -> Result<()> {
                let by = self.redactor.redact(by);
                let done = sqlx::query(crate::alert::ACK_ALERT)
                    .bind(by)
                    .bind(crate::monitor::to_us(crate::now()))
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| self.db("acknowledging an alert", e))?;
                if done.rows_affected() == 0 {
                    return Err(LedgerError::NotFound {
                        id: format!("alert {id}"),
                    });
                }
                Ok(())
            }

            async fn silence_alert(&self, id: i64, until: Option<DateTime<Utc>>) -> Result<()> {
                let done = sqlx::query(crate::alert::SILENCE_ALERT)
                    .bind(crate::alert::opt_us(until))
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| self.db("silencing an alert", e))?;
                if done.rows_affected() == 0 {
                    return Err(LedgerError::NotFound {
                        id: format!("alert {id}"),
                    });
                }
                Ok(())
            }

            async fn schedule_register(&self, jobs: &[crate::ScheduledJob]) -> Result<()> {
                let action = "registering the monitor schedule";
                let register = crate::schedule::REGISTER.replace("{now}", Self::NOW_US);
                let set_interval = crate::schedule::SET_INTERVAL.replace("{now}", Self::NOW_US);
                let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
                for j in jobs {
                    let interval = micros(j.interval).max(1_000);
                    sqlx::query(&register)
                        .bind(&j.job)
                        .bind(interval)
                        .bind(micros(j.first_delay))
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.db(action, e))?;
                    sqlx::query(&set_interval)
                        .bind(&j.job)
                        .bind(interval)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.db(action, e))?;
                }
                tx.commit().await.map_err(|e| self.db(action, e))?;
                Ok(())
            }

            async fn schedule_claim(
                &self,
                owner: &str,
                jobs: &[String],
                lease: Duration,
                limit: i64,
            ) -> Result<Vec<crate::ScheduleClaim>> {
                let action = "claiming due monitor checks";
                if jobs.is_empty() || limit <= 0 {
                    return Ok(Vec::new());
                }
                let sql = crate::schedule::CLAIM
                    .replace("{jobs}", &Self::JOB_LIST.replace('#', "$3"))
                    .replace("{skip_locked}", Self::SKIP_LOCKED)
                    .replace("{now}", Self::NOW_US);
                let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
                if let Some(relax) = Self::RELAXED_COMMIT {
                    sqlx::query(relax)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.db(action, e))?;
                }
                let rows: Vec<crate::schedule::ClaimRow> = sqlx::query_as(&sql)
                    .bind(owner)
                    .bind(micros(lease).max(1_000))
                    .bind(crate::schedule::jobs_json(jobs))
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(|e| self.db(action, e))?;
                tx.commit().await.map_err(|e| self.db(action, e))?;
                Ok(rows.into_iter().map(crate::schedule::decode_claim).collect())
            }

            async fn schedule_complete(
                &self,
                claim: &crate::ScheduleClaim,
                r: &crate::MonitorResult,
                next_jitter: Duration,
            ) -> Result<Option<Duration>> {
                let action = "storing a scheduled monitor run";
                let slot = crate::monitor::to_us(claim.slot);
                let sql = crate::schedule::COMPLETE.replace("{now}", Self::NOW_US);
                let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
                if let Some(relax) = Self::RELAXED_COMMIT {
                    sqlx::query(relax)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.db(action, e))?;
                }
                let next: Option<i64> = sqlx::query_scalar(&sql)
                    .bind(&claim.job)
                    .bind(&claim.owner)
                    .bind(slot)
                    .bind(micros(next_jitter))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(|e| self.db(action, e))?;
                let Some(next) = next else {
                    // The lease lapsed and another worker holds the slot now: its run counts.
                    return Ok(None);
                };
                self.insert_result(&mut *tx, r, Some((slot, &claim.owner)))
                    .await
                    .map_err(|e| self.db(action, e))?;
                tx.commit().await.map_err(|e| self.db(action, e))?;
                Ok(Some(Duration::from_micros(next.max(0) as u64)))
            }

            async fn schedule_release(&self, claim: &crate::ScheduleClaim) -> Result<()> {
                sqlx::query(crate::schedule::RELEASE)
                    .bind(&claim.job)
                    .bind(&claim.owner)
                    .bind(crate::monitor::to_us(claim.slot))
                    .execute(&self.pool)
                    .await
                    .map_err(|e| self.db("releasing a monitor check", e))?;
                Ok(())
            }

            async fn schedule_next_wake(
                &self,
                jobs: &[String],
                owner: &str,
            ) -> Result<Option<Duration>> {
                if jobs.is_empty() {
                    return Ok(None);
                }
                let sql = crate::schedule::NEXT_WAKE
                    .replace("{jobs}", &Self::JOB_LIST.replace('#', "$1"))
                    .replace("{now}", Self::NOW_US);
                let wait: Option<i64> = sqlx::query_scalar(&sql)
                    .bind(crate::schedule::jobs_json(jobs))
                    .bind(owner)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| self.db("reading the monitor schedule", e))?;
                Ok(wait.map(|us| Duration::from_micros(us.max(0) as u64)))
            }

            async fn schedule_state(&self) -> Result<Vec<crate::ScheduleRow>> {
                let rows: Vec<crate::schedule::StateRow> = sqlx::query_as(crate::schedule::STATE)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.db("reading the monitor schedule", e))?;
                Ok(rows.into_iter().map(crate::schedule::decode_state).collect())
            }

            async fn scheduled_runs(
                &self,
                since: DateTime<Utc>,
            ) -> Result<Vec<crate::ScheduledRun>> {
                let rows: Vec<(String, i64, i64, String)> =
                    sqlx::query_as(crate::schedule::SELECT_RUNS)
                        .bind(crate::monitor::to_us(since))
                        .fetch_all(&self.pool)
                        .await
                        .map_err(|e| self.db("reading monitor results", e))?;
                Ok(rows
                    .into_iter()
                    .map(|r| crate::ScheduledRun {
                        environment: r.0,
                        slot: crate::monitor::from_us(r.1),
                        at: crate::monitor::from_us(r.2),
                        worker: r.3,
                    })
                    .collect())
            }

            async fn due_notifications(
                &self,
                now: DateTime<Utc>,
                limit: i64,
            ) -> Result<Vec<crate::Notification>> {
                let rows: Vec<crate::alert::OutboxRow> =
                    sqlx::query_as(&crate::alert::select_due())
                        .bind(crate::monitor::to_us(now))
                        .bind(limit.max(0))
                        .fetch_all(&self.pool)
                        .await
                        .map_err(|e| self.db("reading the notification outbox", e))?;
                rows.into_iter()
                    .map(crate::alert::decode_notification)
                    .collect()
            }

            async fn claim_notifications(
                &self,
                now: DateTime<Utc>,
                limit: i64,
                lease: Duration,
            ) -> Result<Vec<crate::Notification>> {
                let action = "claiming due notifications";
                let sql = crate::alert::claim_due().replace("{skip_locked}", Self::SKIP_LOCKED);
                let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
                let rows: Vec<crate::alert::OutboxRow> = sqlx::query_as(&sql)
                    .bind(crate::monitor::to_us(now))
                    .bind(limit.max(0))
                    .bind(micros(lease).max(1_000))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(|e| self.db(action, e))?;
                tx.commit().await.map_err(|e| self.db(action, e))?;
                let mut out = rows
                    .into_iter()
                    .map(crate::alert::decode_notification)
                    .collect::<Result<Vec<_>>>()?;
                out.sort_by_key(|n| n.id);
                Ok(out)
            }

            async fn unclaim_notification(&self, id: i64, due: DateTime<Utc>) -> Result<()> {
                sqlx::query(crate::alert::UNCLAIM)
                    .bind(id)
                    .bind(crate::monitor::to_us(due))
                    .execute(&self.pool)
                    .await
                    .map_err(|e| self.db("handing a notification back to the outbox", e))?;
                Ok(())
            }

            async fn notifications_of(&self, alert_id: i64) -> Result<Vec<crate::Notification>> {
                let rows: Vec<crate::alert::OutboxRow> =
                    sqlx::query_as(&crate::alert::select_outbox())
                        .bind(alert_id)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(|e| self.db("reading the notification outbox", e))?;
                rows.into_iter()
                    .map(crate::alert::decode_notification)
                    .collect()
            }

            async fn record_delivery(
                &self,
                id: i64,
                notifier: &str,
                delivery: &crate::Delivery,
            ) -> Result<()> {
                use crate::monitor::to_us;
                let action = "recording a notification attempt";
                let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
                match delivery {
                    crate::Delivery::Sent { at } => {
                        let done = sqlx::query(crate::alert::MARK_SENT)
                            .bind(to_us(*at))
                            .bind(id)
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| self.db(action, e))?;
                        // Already delivered (a second worker, a late retry): nothing to count.
                        if done.rows_affected() == 0 {
                            return Ok(());
                        }
                        sqlx::query(crate::alert::NOTIFIER_SENT)
                            .bind(notifier)
                            .bind(to_us(*at))
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| self.db(action, e))?;
                    }
                    crate::Delivery::Failed { at, error, retry_at } => {
                        let error = self.redactor.redact(&self.url_redactor.redact(error));
                        let done = sqlx::query(crate::alert::MARK_FAILED)
                            .bind(&error)
                            .bind(to_us(*retry_at))
                            .bind(id)
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| self.db(action, e))?;
                        if done.rows_affected() == 0 {
                            return Ok(());
                        }
                        sqlx::query(crate::alert::NOTIFIER_FAILED)
                            .bind(notifier)
                            .bind(to_us(*at))
                            .bind(&error)
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| self.db(action, e))?;
                    }
                }
                tx.commit().await.map_err(|e| self.db(action, e))
            }

            async fn notifier_states(&self) -> Result<Vec<crate::NotifierState>> {
                let action = "reading notifier states";
                let rows: Vec<crate::alert::NotifierRow> =
                    sqlx::query_as(crate::alert::SELECT_NOTIFIERS)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(|e| self.db(action, e))?;
                let pending: Vec<(String, i64, Option<i64>)> =
                    sqlx::query_as(crate::alert::SELECT_PENDING)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(|e| self.db(action, e))?;
                Ok(crate::alert::merge_states(rows, pending))
            }

            async fn prune_alerts(&self, before: DateTime<Utc>) -> Result<crate::AlertPruneStats> {
                let action = "pruning alerts";
                let cutoff = crate::monitor::to_us(before);
                let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
                let notifications = sqlx::query(crate::alert::PRUNE_OUTBOX)
                    .bind(cutoff)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.db(action, e))?
                    .rows_affected();
                let alerts = sqlx::query(crate::alert::PRUNE_ALERTS)
                    .bind(cutoff)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.db(action, e))?
                    .rows_affected();
                tx.commit().await.map_err(|e| self.db(action, e))?;
                Ok(crate::AlertPruneStats {
                    notifications,
                    alerts,
                })
            }
        }
    };
}

ledger_impl!(SqliteLedger, sqlx::Sqlite, SqliteLeases);
ledger_impl!(PostgresLedger, sqlx::Postgres, PostgresLeases);
