//! The two backends, SQLite and PostgreSQL: one generic [`SqlLedger`] over
//! the sqlx database type, the differences between the two in [`Dialect`].
//!
//! This file opens a ledger, migrates it and maps each [`Ledger`](crate::Ledger) method to
//! the module that does the work, by topic: `records` (the append-only
//! history), `locks` (deploy leases), `monitor` (runs and rollups), `alerts`
//! (alerts and their notification outbox) and `schedule` (the shared monitor
//! schedule). The SQL of the last four is beside their types in the crate's
//! `lock`, `monitor`, `alert` and `schedule` modules.

use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use runway_core::Redactor;
use sqlx::{
    ColumnIndex, Encode, Executor, IntoArguments, Pool, Postgres, Sqlite, Type,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

mod alerts;
mod dialect;
mod locks;
mod monitor;
mod records;
mod schedule;

use dialect::{Column, Dialect, RowsAffected};
use records::ts;

use crate::{
    AlertPruneStats, AlertRecord, Delivery, DeployLock, Event, Filter, Guard, Kind, LedgerError,
    LedgerUrl, LockInfo, MonitorDay, MonitorHour, MonitorResult, MonitorRollup, NewNotification,
    Notification, NotifierState, PruneStats, Record, Result, ScheduleClaim, ScheduleRow,
    ScheduledJob, ScheduledRun,
    migrate::{self, SCHEMA_VERSION},
};

/// Tuning for [`open_with`](crate::open_with).
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Connections in the pool; a command-line run needs very few.
    pub max_connections: u32,
    /// How long to wait for a connection (and, on SQLite, for a lock).
    pub timeout: Duration,
    /// Whether a SQLite ledger that does not exist is created (with its
    /// directory); when not, opening it is [`LedgerError::Missing`].
    pub create: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            max_connections: 4,
            timeout: Duration::from_secs(30),
            create: true,
        }
    }
}

/// A ledger in a SQL database: [`SqliteLedger`] or [`PostgresLedger`].
pub struct SqlLedger<D: sqlx::Database> {
    pool: Pool<D>,
    url: LedgerUrl,
    redactor: Redactor,
    url_redactor: Redactor,
    /// Resolved on first write: reading the ledger should not run `git`.
    operator: std::sync::OnceLock<String>,
}

/// SQLite behind the [`Ledger`](crate::Ledger) trait.
pub type SqliteLedger = SqlLedger<Sqlite>;

/// PostgreSQL behind the [`Ledger`](crate::Ledger) trait.
pub type PostgresLedger = SqlLedger<Postgres>;

impl SqlLedger<Sqlite> {
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
        let ledger = SqlLedger {
            pool,
            url: url.clone(),
            redactor: url.redactor(),
            url_redactor: url.redactor(),
            operator: std::sync::OnceLock::new(),
        };
        ledger.migrate().await?;
        Ok(ledger)
    }
}

impl SqlLedger<Postgres> {
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
        let ledger = SqlLedger {
            pool,
            url: url.clone(),
            redactor: url.redactor(),
            url_redactor,
            operator: std::sync::OnceLock::new(),
        };
        ledger.migrate().await?;
        Ok(ledger)
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

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 4)
}

impl<D> SqlLedger<D>
where
    D: Dialect,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'q> D::Arguments<'q>: IntoArguments<'q, D>,
    for<'s> &'s str: ColumnIndex<D::Row> + Encode<'s, D> + Type<D>,
    for<'s> Option<&'s str>: Encode<'s, D> + Type<D>,
    usize: ColumnIndex<D::Row>,
    String: Column<D>,
    Option<String>: Column<D>,
    i64: Column<D>,
    Option<i64>: Column<D>,
    f64: Column<D>,
    Option<f64>: Column<D>,
{
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'_, D>> {
        match D::BEGIN_WRITE {
            Some(begin) => self.pool.begin_with(begin).await,
            None => self.pool.begin().await,
        }
    }

    fn db(&self, action: &'static str, e: sqlx::Error) -> LedgerError {
        database_error(&self.url.to_string(), action, e, &self.url_redactor)
    }

    /// Redacts a string with the caller's redactor and the URL's password.
    fn red(&self, s: &str) -> String {
        self.redactor.redact(&self.url_redactor.redact(s))
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
        if let Some(lock) = D::MIGRATION_LOCK {
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
        for m in D::MIGRATIONS.iter().filter(|m| m.version > current) {
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

    async fn read_settings_key(&self) -> Result<Vec<u8>> {
        let action = "reading its settings key";
        let hex: Option<String> = sqlx::query_scalar(migrate::READ_META)
            .bind(migrate::SETTINGS_KEY)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.db(action, e))?;
        let corrupt = || LedgerError::Database {
            url: self.url.to_string(),
            action,
            message: format!(
                "`runway_meta.{}` is not 64 hex digits",
                migrate::SETTINGS_KEY
            ),
        };
        let hex = hex.ok_or_else(corrupt)?;
        if hex.len() != 64 {
            return Err(corrupt());
        }
        (0..32)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| corrupt()))
            .collect()
    }
}

/// Each method is done by the inherent method of the same name in the
/// topic's module (`records`, `locks`, `monitor`, `alerts`, `schedule`).
/// The trait is not imported here, so `self.name()` can only mean that
/// inherent method: a missing one fails to compile instead of recursing.
#[async_trait]
impl<D> crate::Ledger for SqlLedger<D>
where
    D: Dialect,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'q> D::Arguments<'q>: IntoArguments<'q, D>,
    for<'s> &'s str: ColumnIndex<D::Row> + Encode<'s, D> + Type<D>,
    for<'s> Option<&'s str>: Encode<'s, D> + Type<D>,
    usize: ColumnIndex<D::Row>,
    String: Column<D>,
    Option<String>: Column<D>,
    i64: Column<D>,
    Option<i64>: Column<D>,
    f64: Column<D>,
    Option<f64>: Column<D>,
{
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
        self.operator.get_or_init(crate::operator::detect_operator)
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
        self.insert_batch(records).await
    }

    async fn append_event(&self, id: &str, event: &Event, guard: Guard<'_>) -> Result<()> {
        self.append_event(id, event, guard).await
    }

    async fn query(&self, filter: &Filter, with_checks: bool) -> Result<Vec<Record>> {
        self.query(filter, with_checks).await
    }

    async fn query_latest(&self, filter: &Filter) -> Result<Vec<Record>> {
        self.query_latest(filter).await
    }

    async fn ids_with_prefix(&self, prefix: &str, limit: i64) -> Result<Vec<String>> {
        self.ids_with_prefix(prefix, limit).await
    }

    async fn counts(&self) -> Result<Vec<(Kind, i64)>> {
        self.counts().await
    }

    async fn acquire_deploy_lock(
        &self,
        environment: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<DeployLock> {
        self.acquire_deploy_lock(environment, holder, ttl).await
    }

    async fn settings_key(&self) -> Result<Vec<u8>> {
        self.read_settings_key().await
    }

    async fn deploy_lock(&self, environment: &str) -> Result<Option<LockInfo>> {
        self.deploy_lock(environment).await
    }

    async fn break_deploy_lock(&self, environment: &str, holder: &str) -> Result<bool> {
        self.break_deploy_lock(environment, holder).await
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn record_monitor_result(&self, r: &MonitorResult) -> Result<()> {
        self.record_monitor_result(r).await
    }

    async fn monitor_results(
        &self,
        environment: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<MonitorResult>> {
        self.monitor_results(environment, since).await
    }

    async fn monitor_rollups(
        &self,
        environment: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<MonitorRollup>> {
        self.monitor_rollups(environment, since).await
    }

    async fn prune_monitor(&self, keep_after: DateTime<Utc>) -> Result<PruneStats> {
        self.prune_monitor(keep_after).await
    }

    async fn monitor_latest(&self, environment: &str) -> Result<Option<MonitorResult>> {
        self.monitor_latest(environment).await
    }

    async fn monitor_daily(
        &self,
        environment: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<MonitorDay>> {
        self.monitor_daily(environment, since).await
    }

    async fn monitor_hours(
        &self,
        environment: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<MonitorHour>> {
        self.hours_of(environment, since).await
    }

    async fn monitor_latest_many(&self, environments: &[String]) -> Result<Vec<MonitorResult>> {
        self.latest_many(environments).await
    }

    async fn monitor_daily_many(
        &self,
        environments: &[String],
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, MonitorDay)>> {
        self.daily_many(environments, since).await
    }

    async fn monitor_uptime_many(
        &self,
        environments: &[String],
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, MonitorDay)>> {
        self.uptime_many(environments, since).await
    }

    async fn monitor_hours_many(
        &self,
        environments: &[String],
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, MonitorHour)>> {
        self.hours_many(environments, since).await
    }

    async fn monitor_latest_by_location(
        &self,
        environments: &[String],
        since: DateTime<Utc>,
    ) -> Result<Vec<MonitorResult>> {
        self.latest_by_location(environments, since).await
    }

    async fn save_alert(&self, a: &AlertRecord, notify: &[NewNotification]) -> Result<i64> {
        self.save_alert(a, notify).await
    }

    async fn open_alerts(&self) -> Result<Vec<AlertRecord>> {
        self.open_alerts().await
    }

    async fn alerts_since(&self, since: DateTime<Utc>) -> Result<Vec<AlertRecord>> {
        self.alerts_since(since).await
    }

    async fn alert(&self, id: i64) -> Result<AlertRecord> {
        self.alert(id).await
    }

    async fn acknowledge_alert(&self, id: i64, by: &str) -> Result<()> {
        self.acknowledge_alert(id, by).await
    }

    async fn silence_alert(&self, id: i64, until: Option<DateTime<Utc>>) -> Result<()> {
        self.silence_alert(id, until).await
    }

    async fn schedule_register(&self, jobs: &[ScheduledJob]) -> Result<()> {
        self.schedule_register(jobs).await
    }

    async fn schedule_claim(
        &self,
        owner: &str,
        jobs: &[String],
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<ScheduleClaim>> {
        self.schedule_claim(owner, jobs, lease, limit).await
    }

    async fn schedule_complete(
        &self,
        claim: &ScheduleClaim,
        r: &MonitorResult,
        next_jitter: Duration,
    ) -> Result<Option<Duration>> {
        self.schedule_complete(claim, r, next_jitter).await
    }

    async fn schedule_release(&self, claim: &ScheduleClaim) -> Result<()> {
        self.schedule_release(claim).await
    }

    async fn schedule_next_wake(&self, jobs: &[String], owner: &str) -> Result<Option<Duration>> {
        self.schedule_next_wake(jobs, owner).await
    }

    async fn schedule_state(&self) -> Result<Vec<ScheduleRow>> {
        self.schedule_state().await
    }

    async fn scheduled_runs(&self, since: DateTime<Utc>) -> Result<Vec<ScheduledRun>> {
        self.scheduled_runs(since).await
    }

    async fn due_notifications(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<Notification>> {
        self.due_notifications(now, limit).await
    }

    async fn claim_notifications(
        &self,
        now: DateTime<Utc>,
        limit: i64,
        lease: Duration,
    ) -> Result<Vec<Notification>> {
        self.claim_notifications(now, limit, lease).await
    }

    async fn unclaim_notification(&self, id: i64, due: DateTime<Utc>) -> Result<()> {
        self.unclaim_notification(id, due).await
    }

    async fn notifications_of(&self, alert_id: i64) -> Result<Vec<Notification>> {
        self.notifications_of(alert_id).await
    }

    async fn record_delivery(&self, id: i64, notifier: &str, delivery: &Delivery) -> Result<()> {
        self.record_delivery(id, notifier, delivery).await
    }

    async fn notifier_states(&self) -> Result<Vec<NotifierState>> {
        self.notifier_states().await
    }

    async fn prune_alerts(&self, before: DateTime<Utc>) -> Result<AlertPruneStats> {
        self.prune_alerts(before).await
    }
}
