//! The monitor's shared schedule: registering its jobs, claiming due slots
//! (many workers, each slot run once), completing them with their run and
//! reading the schedule's state. The SQL is in [`crate::schedule`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Encode, Executor, IntoArguments, Type};

use super::{Column, Dialect, SqlLedger, micros};
use crate::{
    MonitorResult, Result, ScheduleClaim, ScheduleRow, ScheduledJob, ScheduledRun,
    monitor::{from_us, to_us},
    schedule,
};

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
    pub(super) async fn schedule_register(&self, jobs: &[ScheduledJob]) -> Result<()> {
        let action = "registering the monitor schedule";
        let register = schedule::REGISTER.replace("{now}", D::NOW_US);
        let set_interval = schedule::SET_INTERVAL.replace("{now}", D::NOW_US);
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

    pub(super) async fn schedule_claim(
        &self,
        owner: &str,
        jobs: &[String],
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<ScheduleClaim>> {
        let action = "claiming due monitor checks";
        if jobs.is_empty() || limit <= 0 {
            return Ok(Vec::new());
        }
        let sql = schedule::CLAIM
            .replace("{jobs}", &D::JOB_LIST.replace('#', "$3"))
            .replace("{skip_locked}", D::SKIP_LOCKED)
            .replace("{now}", D::NOW_US);
        let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
        if let Some(relax) = D::RELAXED_COMMIT {
            sqlx::query(relax)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.db(action, e))?;
        }
        let rows: Vec<schedule::ClaimRow> = sqlx::query_as(&sql)
            .bind(owner)
            .bind(micros(lease).max(1_000))
            .bind(schedule::jobs_json(jobs))
            .bind(limit)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| self.db(action, e))?;
        tx.commit().await.map_err(|e| self.db(action, e))?;
        Ok(rows.into_iter().map(schedule::decode_claim).collect())
    }

    pub(super) async fn schedule_complete(
        &self,
        claim: &ScheduleClaim,
        r: &MonitorResult,
        next_jitter: Duration,
    ) -> Result<Option<Duration>> {
        let action = "storing a scheduled monitor run";
        let slot = to_us(claim.slot);
        let sql = schedule::COMPLETE.replace("{now}", D::NOW_US);
        let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
        if let Some(relax) = D::RELAXED_COMMIT {
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

    pub(super) async fn schedule_release(&self, claim: &ScheduleClaim) -> Result<()> {
        sqlx::query(schedule::RELEASE)
            .bind(&claim.job)
            .bind(&claim.owner)
            .bind(to_us(claim.slot))
            .execute(&self.pool)
            .await
            .map_err(|e| self.db("releasing a monitor check", e))?;
        Ok(())
    }

    pub(super) async fn schedule_next_wake(
        &self,
        jobs: &[String],
        owner: &str,
    ) -> Result<Option<Duration>> {
        if jobs.is_empty() {
            return Ok(None);
        }
        let sql = schedule::NEXT_WAKE
            .replace("{jobs}", &D::JOB_LIST.replace('#', "$1"))
            .replace("{now}", D::NOW_US);
        let wait: Option<i64> = sqlx::query_scalar(&sql)
            .bind(schedule::jobs_json(jobs))
            .bind(owner)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.db("reading the monitor schedule", e))?;
        Ok(wait.map(|us| Duration::from_micros(us.max(0) as u64)))
    }

    pub(super) async fn schedule_state(&self) -> Result<Vec<ScheduleRow>> {
        let rows: Vec<schedule::StateRow> = sqlx::query_as(schedule::STATE)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db("reading the monitor schedule", e))?;
        Ok(rows.into_iter().map(schedule::decode_state).collect())
    }

    pub(super) async fn scheduled_runs(&self, since: DateTime<Utc>) -> Result<Vec<ScheduledRun>> {
        type Row = (String, i64, i64, String, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(schedule::SELECT_RUNS)
            .bind(to_us(since))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db("reading monitor results", e))?;
        Ok(rows
            .into_iter()
            .map(|r| ScheduledRun {
                environment: r.0,
                slot: from_us(r.1),
                at: from_us(r.2),
                worker: r.3,
                location: r.4,
            })
            .collect())
    }
}
