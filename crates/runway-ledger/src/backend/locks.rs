//! Deploy leases: taking, reading and breaking them, and the [`LeaseStore`]
//! a held [`DeployLock`] renews and releases through. The SQL is in
//! [`crate::lock`].

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use runway_core::Redactor;
use sqlx::{ColumnIndex, Encode, Executor, IntoArguments, Pool, Type};

use super::{Column, Dialect, RowsAffected, SqlLedger, database_error, micros};
use crate::{
    DeployLock, LedgerError, LockInfo, Result,
    lock::{
        self, BREAK_LEASE, LIVE_LEASE, LeaseRow, LeaseStore, READ_LEASE, RELEASE_LEASE,
        RENEW_LEASE, TAKE_LEASE, lease_info,
    },
};

/// The deploy-lock half of a ledger, shared with its [`DeployLock`]s.
struct Leases<D: sqlx::Database> {
    pool: Pool<D>,
    url: String,
    url_redactor: Redactor,
}

impl<D: sqlx::Database> Leases<D> {
    fn db(&self, action: &'static str, e: sqlx::Error) -> LedgerError {
        database_error(&self.url, action, e, &self.url_redactor)
    }
}

#[async_trait]
impl<D> LeaseStore for Leases<D>
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
    async fn renew(&self, environment: &str, token: &str, ttl: Duration) -> Result<bool> {
        let sql = RENEW_LEASE.replace("{now}", D::NOW_US);
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
    pub(super) async fn acquire_deploy_lock(
        &self,
        environment: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<DeployLock> {
        lock::validate(environment, holder, ttl)?;
        let action = "taking a deploy lock";
        let holder = self.red(holder.trim());
        let token = uuid::Uuid::new_v4().simple().to_string();
        let take = TAKE_LEASE.replace("{now}", D::NOW_US);
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
        let store = Arc::new(Leases {
            pool: self.pool.clone(),
            url: self.url.to_string(),
            url_redactor: self.url_redactor.clone(),
        });
        Ok(DeployLock::start(info, token, ttl, store))
    }

    pub(super) async fn deploy_lock(&self, environment: &str) -> Result<Option<LockInfo>> {
        let sql = LIVE_LEASE.replace("{now}", D::NOW_US);
        let row: Option<LeaseRow> = sqlx::query_as(&sql)
            .bind(environment)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.db("reading a deploy lock", e))?;
        Ok(row.map(|r| lease_info(environment, &r)))
    }

    pub(super) async fn break_deploy_lock(&self, environment: &str, holder: &str) -> Result<bool> {
        let done = sqlx::query(BREAK_LEASE)
            .bind(environment)
            .bind(holder)
            .execute(&self.pool)
            .await
            .map_err(|e| self.db("breaking a dead holder's deploy lock", e))?;
        Ok(done.rows_affected() > 0)
    }
}
