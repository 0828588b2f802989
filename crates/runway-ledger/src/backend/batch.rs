//! The monitor's batch reads for the dashboard: each environment's newest
//! run, daily counts and recent latencies, for many environments in one
//! query each (the [`crate::Ledger`] methods `monitor_*_many` call these).

use chrono::{DateTime, Utc};

use super::{PostgresLedger, SqliteLedger};
use crate::{MonitorDay, MonitorLatency, MonitorResult, Result, monitor};

impl SqliteLedger {
    /// The names in the JSON array bound as `$1`, as a table with a `name` column.
    const ENV_NAMES: &'static str = "SELECT value AS name FROM json_each($1)";
}

impl PostgresLedger {
    const ENV_NAMES: &'static str = "SELECT json_array_elements_text(CAST($1 AS JSON)) AS name";
}

/// The names as the JSON array the queries take.
fn names_json(environments: &[String]) -> String {
    serde_json::Value::from(environments.to_vec()).to_string()
}

type LatestRow = (
    String,
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    f64,
);

macro_rules! batch_impl {
    ($ty:ident) => {
        impl $ty {
            pub(super) async fn latest_many(
                &self,
                environments: &[String],
            ) -> Result<Vec<MonitorResult>> {
                if environments.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = monitor::SELECT_LATEST_MANY.replace("{envs}", Self::ENV_NAMES);
                let rows: Vec<LatestRow> = sqlx::query_as(&sql)
                    .bind(names_json(environments))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.db("reading the latest monitor results", e))?;
                Ok(rows
                    .into_iter()
                    .map(|r| MonitorResult {
                        environment: r.0,
                        at: monitor::from_us(r.1),
                        ok: r.2 != 0,
                        status: r.3,
                        reason: r.4,
                        check_id: r.5,
                        message: r.6,
                        latency_ms: r.7,
                    })
                    .collect())
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
                let since = monitor::to_us(since).div_euclid(day) * day;
                let sql = monitor::SELECT_DAILY_MANY.replace("{envs}", Self::ENV_NAMES);
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
                            day: monitor::from_us(r.1),
                            runs: r.2,
                            failures: r.3,
                        };
                        (r.0, d)
                    })
                    .collect())
            }

            pub(super) async fn latencies_many(
                &self,
                environments: &[String],
                since: DateTime<Utc>,
            ) -> Result<Vec<(String, MonitorLatency)>> {
                if environments.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = monitor::SELECT_LATENCIES_MANY.replace("{envs}", Self::ENV_NAMES);
                let rows: Vec<(String, i64, i64, f64)> = sqlx::query_as(&sql)
                    .bind(names_json(environments))
                    .bind(monitor::to_us(since))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.db("reading monitor latencies", e))?;
                Ok(rows
                    .into_iter()
                    .map(|r| {
                        let l = MonitorLatency {
                            at: monitor::from_us(r.1),
                            ok: r.2 != 0,
                            latency_ms: r.3,
                        };
                        (r.0, l)
                    })
                    .collect())
            }
        }
    };
}

batch_impl!(SqliteLedger);
batch_impl!(PostgresLedger);
