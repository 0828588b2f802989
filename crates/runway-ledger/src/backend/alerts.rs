//! Alerts and their notification outbox: saving an alert with the
//! notifications it queues in one transaction, acknowledging and silencing
//! it, and the outbox's claims, deliveries and retention. The SQL is in
//! [`crate::alert`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Encode, Executor, IntoArguments, Row, Type};

use super::{Column, Dialect, RowsAffected, SqlLedger, micros};
use crate::{
    AlertPruneStats, AlertRecord, Delivery, LedgerError, NewNotification, Notification,
    NotifierState, Result,
    alert::{self, opt_us},
    monitor::to_us,
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
    /// An `alerts` row: twenty columns, more than a tuple decodes.
    fn alert_row(r: &D::Row) -> sqlx::Result<alert::AlertRow> {
        Ok((
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
            r.try_get(5)?,
            r.try_get(6)?,
            r.try_get(7)?,
            r.try_get(8)?,
            r.try_get(9)?,
            r.try_get(10)?,
            r.try_get(11)?,
            r.try_get(12)?,
            r.try_get(13)?,
            r.try_get(14)?,
            r.try_get(15)?,
            r.try_get(16)?,
            r.try_get(17)?,
            r.try_get(18)?,
            r.try_get(19)?,
        ))
    }

    fn decode_alerts(&self, rows: Vec<D::Row>) -> Result<Vec<AlertRecord>> {
        rows.iter()
            .map(|r| {
                Self::alert_row(r)
                    .map_err(|e| self.db("reading alerts", e))
                    .and_then(alert::decode_alert)
            })
            .collect()
    }

    pub(super) async fn save_alert(
        &self,
        a: &AlertRecord,
        notify: &[NewNotification],
    ) -> Result<i64> {
        use alert::{INSERT_ALERT, INSERT_NOTIFICATION, UPDATE_ALERT};
        let action = "saving an alert";
        let red = |s: &str| self.red(s);
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
            crate::redact::redact_json(&self.redactor, &mut payload);
            crate::redact::redact_json(&self.url_redactor, &mut payload);
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

    pub(super) async fn open_alerts(&self) -> Result<Vec<AlertRecord>> {
        let rows = sqlx::query(&alert::select_open())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db("reading open alerts", e))?;
        self.decode_alerts(rows)
    }

    pub(super) async fn alerts_since(&self, since: DateTime<Utc>) -> Result<Vec<AlertRecord>> {
        let rows = sqlx::query(&alert::select_since())
            .bind(to_us(since))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db("reading alerts", e))?;
        self.decode_alerts(rows)
    }

    pub(super) async fn alert(&self, id: i64) -> Result<AlertRecord> {
        let rows = sqlx::query(&alert::select_one())
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

    pub(super) async fn acknowledge_alert(&self, id: i64, by: &str) -> Result<()> {
        let by = self.redactor.redact(by);
        let done = sqlx::query(alert::ACK_ALERT)
            .bind(by)
            .bind(to_us(crate::now()))
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

    pub(super) async fn silence_alert(&self, id: i64, until: Option<DateTime<Utc>>) -> Result<()> {
        let done = sqlx::query(alert::SILENCE_ALERT)
            .bind(opt_us(until))
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

    pub(super) async fn due_notifications(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Notification>> {
        let rows: Vec<alert::OutboxRow> = sqlx::query_as(&alert::select_due())
            .bind(to_us(now))
            .bind(limit.max(0))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db("reading the notification outbox", e))?;
        rows.into_iter().map(alert::decode_notification).collect()
    }

    pub(super) async fn claim_notifications(
        &self,
        now: DateTime<Utc>,
        limit: i64,
        lease: Duration,
    ) -> Result<Vec<Notification>> {
        let action = "claiming due notifications";
        let sql = alert::claim_due().replace("{skip_locked}", D::SKIP_LOCKED);
        let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
        let rows: Vec<alert::OutboxRow> = sqlx::query_as(&sql)
            .bind(to_us(now))
            .bind(limit.max(0))
            .bind(micros(lease).max(1_000))
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| self.db(action, e))?;
        tx.commit().await.map_err(|e| self.db(action, e))?;
        let mut out = rows
            .into_iter()
            .map(alert::decode_notification)
            .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|n| n.id);
        Ok(out)
    }

    pub(super) async fn unclaim_notification(&self, id: i64, due: DateTime<Utc>) -> Result<()> {
        sqlx::query(alert::UNCLAIM)
            .bind(id)
            .bind(to_us(due))
            .execute(&self.pool)
            .await
            .map_err(|e| self.db("handing a notification back to the outbox", e))?;
        Ok(())
    }

    pub(super) async fn notifications_of(&self, alert_id: i64) -> Result<Vec<Notification>> {
        let rows: Vec<alert::OutboxRow> = sqlx::query_as(&alert::select_outbox())
            .bind(alert_id)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db("reading the notification outbox", e))?;
        rows.into_iter().map(alert::decode_notification).collect()
    }

    pub(super) async fn record_delivery(
        &self,
        id: i64,
        notifier: &str,
        delivery: &Delivery,
    ) -> Result<()> {
        use to_us;
        let action = "recording a notification attempt";
        let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
        match delivery {
            Delivery::Sent { at } => {
                let done = sqlx::query(alert::MARK_SENT)
                    .bind(to_us(*at))
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.db(action, e))?;
                // Already delivered (a second worker, a late retry): nothing to count.
                if done.rows_affected() == 0 {
                    return Ok(());
                }
                sqlx::query(alert::NOTIFIER_SENT)
                    .bind(notifier)
                    .bind(to_us(*at))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.db(action, e))?;
            }
            Delivery::Failed {
                at,
                error,
                retry_at,
            } => {
                let error = self.red(error);
                let done = sqlx::query(alert::MARK_FAILED)
                    .bind(&error)
                    .bind(to_us(*retry_at))
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.db(action, e))?;
                if done.rows_affected() == 0 {
                    return Ok(());
                }
                sqlx::query(alert::NOTIFIER_FAILED)
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

    pub(super) async fn notifier_states(&self) -> Result<Vec<NotifierState>> {
        let action = "reading notifier states";
        let rows: Vec<alert::NotifierRow> = sqlx::query_as(alert::SELECT_NOTIFIERS)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db(action, e))?;
        let pending: Vec<(String, i64, Option<i64>)> = sqlx::query_as(alert::SELECT_PENDING)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db(action, e))?;
        Ok(alert::merge_states(rows, pending))
    }

    pub(super) async fn prune_alerts(&self, before: DateTime<Utc>) -> Result<AlertPruneStats> {
        let action = "pruning alerts";
        let cutoff = to_us(before);
        let mut tx = self.begin_write().await.map_err(|e| self.db(action, e))?;
        let notifications = sqlx::query(alert::PRUNE_OUTBOX)
            .bind(cutoff)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.db(action, e))?
            .rows_affected();
        let alerts = sqlx::query(alert::PRUNE_ALERTS)
            .bind(cutoff)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.db(action, e))?
            .rows_affected();
        tx.commit().await.map_err(|e| self.db(action, e))?;
        Ok(AlertPruneStats {
            notifications,
            alerts,
        })
    }
}
