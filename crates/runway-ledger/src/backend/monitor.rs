//! The monitor's runs: storing them, reading them back raw, per day and as
//! latencies (for one environment or, for the dashboard, many in one query
//! each), and folding old ones into hourly rollups. The SQL is in
//! [`crate::monitor`].

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Encode, Executor, IntoArguments, Row, Type};

use super::{Column, Dialect, RowsAffected, SqlLedger};
use crate::{
    MonitorDay, MonitorHour, MonitorResult, MonitorRollup, PruneStats, Result,
    monitor::{self, from_us, to_us},
    summary,
};

/// The names as the JSON array the queries take.
fn names_json(environments: &[String]) -> String {
    serde_json::Value::from(environments.to_vec()).to_string()
}

/// A `monitor_results` row as the queries select it.
type ResultRow = (
    String,
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    f64,
    Option<String>,
);

fn decode_result(r: ResultRow) -> MonitorResult {
    MonitorResult {
        environment: r.0,
        at: from_us(r.1),
        ok: r.2 != 0,
        status: r.3,
        reason: r.4,
        check_id: r.5,
        message: r.6,
        latency_ms: r.7,
        location: r.8,
    }
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
    /// Stores one monitor run (redacted), with its shared-schedule slot and
    /// worker when it has them. One statement: the ledger's trigger adds the
    /// run to its day's and hour's summary rows inside it (migration 0007).
    pub(super) async fn insert_result<'e, E>(
        &self,
        e: E,
        r: &MonitorResult,
        scheduled: Option<(i64, &str)>,
    ) -> sqlx::Result<()>
    where
        E: Executor<'e, Database = D>,
    {
        let red = |s: &str| self.red(s);
        sqlx::query(crate::schedule::INSERT_RESULT)
            .bind(red(&r.environment))
            .bind(to_us(r.at))
            .bind(i64::from(r.ok))
            .bind(r.status.clone())
            .bind(r.reason.clone())
            .bind(r.check_id.as_deref().map(red))
            .bind(r.message.as_deref().map(red))
            .bind(r.latency_ms)
            .bind(scheduled.map(|s| s.0))
            .bind(scheduled.map(|s| s.1.to_owned()))
            .bind(r.location.clone())
            .execute(e)
            .await?;
        Ok(())
    }

    pub(super) async fn record_monitor_result(&self, r: &MonitorResult) -> Result<()> {
        self.insert_result(&self.pool, r, None)
            .await
            .map_err(|e| self.db("recording a monitor result", e))?;
        Ok(())
    }

    pub(super) async fn monitor_results(
        &self,
        environment: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<MonitorResult>> {
        let rows: Vec<ResultRow> = sqlx::query_as(monitor::SELECT_RESULTS)
            .bind(environment)
            .bind(to_us(since))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db("reading monitor results", e))?;
        Ok(rows.into_iter().map(decode_result).collect())
    }

    pub(super) async fn monitor_rollups(
        &self,
        environment: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<MonitorRollup>> {
        type Row = (String, i64, i64, i64, i64, f64, f64);
        let rows: Vec<Row> = sqlx::query_as(monitor::SELECT_ROLLUPS)
            .bind(environment)
            .bind(to_us(since))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db("reading monitor rollups", e))?;
        Ok(rows
            .into_iter()
            .map(|r| MonitorRollup {
                environment: r.0,
                bucket: from_us(r.1),
                runs: r.2,
                failures: r.3,
                auth_failures: r.4,
                latency_sum_ms: r.5,
                latency_max_ms: r.6,
            })
            .collect())
    }

    pub(super) async fn monitor_latest(&self, environment: &str) -> Result<Option<MonitorResult>> {
        let row: Option<ResultRow> = sqlx::query_as(monitor::SELECT_LATEST)
            .bind(environment)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.db("reading the latest monitor result", e))?;
        Ok(row.map(decode_result))
    }

    pub(super) async fn monitor_daily(
        &self,
        environment: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<MonitorDay>> {
        let day = monitor::DAY_US;
        let since = to_us(since).div_euclid(day) * day;
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(summary::SELECT_DAYS)
            .bind(environment)
            .bind(since)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db("reading daily monitor results", e))?;
        Ok(rows
            .into_iter()
            .map(|r| MonitorDay {
                day: from_us(r.0),
                runs: r.1,
                failures: r.2,
            })
            .collect())
    }

    /// A `monitor_hours` row as the reads select it: sixty-six columns.
    fn hour_row(r: &D::Row) -> sqlx::Result<(String, MonitorHour)> {
        let mut buckets = Vec::with_capacity(summary::LATENCY_BUCKETS);
        for i in 0..summary::LATENCY_BUCKETS {
            buckets.push(r.try_get(6 + i)?);
        }
        let hour = MonitorHour {
            hour: from_us(r.try_get(1)?),
            runs: r.try_get(2)?,
            failures: r.try_get(3)?,
            latency_sum_ms: r.try_get(4)?,
            latency_max_ms: r.try_get(5)?,
            buckets,
        };
        Ok((r.try_get(0)?, hour))
    }

    pub(super) async fn hours_of(
        &self,
        environment: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<MonitorHour>> {
        let action = "reading the hourly monitor summary";
        let hour = monitor::HOUR_US;
        let rows = sqlx::query(&summary::SELECT_HOURS)
            .bind(environment)
            .bind(to_us(since).div_euclid(hour) * hour)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db(action, e))?;
        rows.iter()
            .map(|r| Self::hour_row(r).map(|(_, h)| h))
            .collect::<sqlx::Result<_>>()
            .map_err(|e| self.db(action, e))
    }

    pub(super) async fn prune_monitor(&self, keep_after: DateTime<Utc>) -> Result<PruneStats> {
        let action = "pruning monitor results";
        let hour = monitor::HOUR_US;
        let cutoff = to_us(keep_after).div_euclid(hour) * hour;
        let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
        let environments: Vec<String> = sqlx::query_scalar(monitor::PRUNE_ENVIRONMENTS)
            .bind(cutoff)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| self.db(action, e))?;
        let (mut buckets, mut folded) = (0, 0);
        for env in &environments {
            buckets += sqlx::query(monitor::FOLD)
                .bind(cutoff)
                .bind(env)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.db(action, e))?
                .rows_affected();
            folded += sqlx::query(monitor::DELETE_FOLDED)
                .bind(cutoff)
                .bind(env)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.db(action, e))?
                .rows_affected();
        }
        sqlx::query(summary::DELETE_HOURS)
            .bind(cutoff)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.db(action, e))?;
        tx.commit().await.map_err(|e| self.db(action, e))?;
        Ok(PruneStats { folded, buckets })
    }

    pub(super) async fn latest_many(&self, environments: &[String]) -> Result<Vec<MonitorResult>> {
        if environments.is_empty() {
            return Ok(Vec::new());
        }
        let sql = monitor::SELECT_LATEST_MANY.replace("{envs}", D::ENV_NAMES);
        let rows: Vec<ResultRow> = sqlx::query_as(&sql)
            .bind(names_json(environments))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db("reading the latest monitor results", e))?;
        Ok(rows.into_iter().map(decode_result).collect())
    }

    pub(super) async fn daily_many(
        &self,
        environments: &[String],
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, MonitorDay)>> {
        if environments.is_empty() {
            return Ok(Vec::new());
        }
        let day = monitor::DAY_US;
        let since = to_us(since).div_euclid(day) * day;
        let sql = summary::SELECT_DAYS_MANY.replace("{envs}", D::ENV_NAMES);
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(&sql)
            .bind(names_json(environments))
            .bind(since)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db("reading daily monitor results", e))?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let d = MonitorDay {
                    day: from_us(r.1),
                    runs: r.2,
                    failures: r.3,
                };
                (r.0, d)
            })
            .collect())
    }

    pub(super) async fn uptime_many(
        &self,
        environments: &[String],
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, MonitorDay)>> {
        if environments.is_empty() {
            return Ok(Vec::new());
        }
        let day = monitor::DAY_US;
        let since = to_us(since).div_euclid(day) * day;
        let sql = summary::SELECT_UPTIME_MANY.replace("{envs}", D::ENV_NAMES);
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(&sql)
            .bind(names_json(environments))
            .bind(since)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db("reading the monitor's uptime", e))?;
        Ok(rows
            .into_iter()
            .map(|(env, runs, failures)| {
                let d = MonitorDay {
                    day: from_us(since),
                    runs,
                    failures,
                };
                (env, d)
            })
            .collect())
    }

    pub(super) async fn hours_many(
        &self,
        environments: &[String],
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, MonitorHour)>> {
        if environments.is_empty() {
            return Ok(Vec::new());
        }
        let action = "reading the hourly monitor summary";
        let hour = monitor::HOUR_US;
        let sql = summary::SELECT_HOURS_MANY.replace("{envs}", D::ENV_NAMES);
        let rows = sqlx::query(&sql)
            .bind(names_json(environments))
            .bind(to_us(since).div_euclid(hour) * hour)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db(action, e))?;
        rows.iter()
            .map(Self::hour_row)
            .collect::<sqlx::Result<_>>()
            .map_err(|e| self.db(action, e))
    }

    pub(super) async fn latest_by_location(
        &self,
        environments: &[String],
        since: DateTime<Utc>,
    ) -> Result<Vec<MonitorResult>> {
        if environments.is_empty() {
            return Ok(Vec::new());
        }
        let sql = monitor::SELECT_LATEST_BY_LOCATION
            .replace("{envs}", D::ENV_NAMES)
            .replace("{by_location}", D::BY_LOCATION);
        let rows: Vec<ResultRow> = sqlx::query_as(&sql)
            .bind(names_json(environments))
            .bind(to_us(since))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db("reading the latest monitor result of each location", e))?;
        Ok(rows.into_iter().map(decode_result).collect())
    }
}
