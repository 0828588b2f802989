//! Helpers for tests that run against PostgreSQL (this crate's and the CLI's).
//!
//! Every PostgreSQL test gets a scratch database of its own on the server
//! named by `RUNWAY_TEST_PG_URL` (set up by `scripts/setup.d/10-postgres.sh`),
//! so tests run in parallel without seeing each other's records. When the
//! variable is unset the tests fail, unless `RUNWAY_SKIP_PG=1` says to skip
//! them, and then they say so: a backend that was never tested must not look
//! like one that passed.

use std::{io::Write as _, str::FromStr};

use sqlx::{Connection, postgres::PgConnectOptions};

use crate::{LedgerError, LedgerUrl, Result};

/// The test server's URL, or `None` (after printing why) when `RUNWAY_SKIP_PG=1`.
///
/// # Panics
/// When neither `RUNWAY_TEST_PG_URL` nor `RUNWAY_SKIP_PG=1` is set: the test
/// cannot run and must not pass.
pub fn pg_url_or_skip(test: &str) -> Option<String> {
    match std::env::var("RUNWAY_TEST_PG_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("RUNWAY_SKIP_PG").as_deref() == Ok("1") => {
            // Straight to the stderr handle: the test harness captures `eprintln!`
            // of passing tests, and a skip must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test} on PostgreSQL: RUNWAY_TEST_PG_URL is unset and RUNWAY_SKIP_PG=1"
            );
            None
        }
        _ => panic!(
            "{test}: RUNWAY_TEST_PG_URL is not set; run `scripts/setup.d/10-postgres.sh` and source the file it writes (or `./scripts/test`), or set RUNWAY_SKIP_PG=1 to skip the PostgreSQL tests"
        ),
    }
}

/// A database created for one test and dropped by [`ScratchDb::drop`].
pub struct ScratchDb {
    pub url: LedgerUrl,
    base: String,
    name: String,
}

impl ScratchDb {
    /// Creates an empty database on the server at `base`.
    pub async fn create(base: &str) -> Result<ScratchDb> {
        let name = format!(
            "runway_t_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..16]
        );
        let mut conn = admin(base).await?;
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .map_err(|e| pg_error(base, e))?;
        let _ = conn.close().await;
        let mut u = url::Url::parse(base).map_err(|e| LedgerError::Url {
            url: base.to_owned(),
            reason: e.to_string(),
        })?;
        u.set_path(&format!("/{name}"));
        let url = LedgerUrl::parse(u.as_str(), std::path::Path::new("/"))?;
        Ok(ScratchDb {
            url,
            base: base.to_owned(),
            name,
        })
    }

    /// The URL with its password, for handing to a child `runway` process.
    pub fn url_with_password(&self) -> String {
        self.url.connect_string().expose().to_owned()
    }

    /// Drops the database, disconnecting anyone still in it.
    pub async fn drop(self) -> Result<()> {
        let mut conn = admin(&self.base).await?;
        sqlx::raw_sql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await
        .map_err(|e| pg_error(&self.base, e))?;
        let _ = conn.close().await;
        Ok(())
    }
}

/// Runs SQL against a ledger's database directly, bypassing the [`crate::Ledger`]
/// API: for tests that tamper with a ledger (bump its schema, try an UPDATE).
pub async fn execute_raw(url: &LedgerUrl, sql: &str) -> Result<()> {
    match url {
        LedgerUrl::Sqlite { path } => {
            let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
            let mut conn = sqlx::SqliteConnection::connect_with(&opts)
                .await
                .map_err(|e| pg_error(&url.to_string(), e))?;
            let r = sqlx::raw_sql(sql).execute(&mut conn).await;
            let _ = conn.close().await;
            r.map(|_| ()).map_err(|e| LedgerError::Database {
                url: url.to_string(),
                action: "running raw SQL",
                message: e.to_string(),
            })
        }
        LedgerUrl::Postgres { .. } => {
            let mut conn = admin(url.connect_string().expose()).await?;
            let r = sqlx::raw_sql(sql).execute(&mut conn).await;
            let _ = conn.close().await;
            r.map(|_| ()).map_err(|e| LedgerError::Database {
                url: url.to_string(),
                action: "running raw SQL",
                message: e.to_string(),
            })
        }
    }
}

async fn admin(base: &str) -> Result<sqlx::PgConnection> {
    let opts = PgConnectOptions::from_str(base).map_err(|e| pg_error(base, e))?;
    sqlx::PgConnection::connect_with(&opts)
        .await
        .map_err(|e| pg_error(base, e))
}

fn pg_error(url: &str, e: sqlx::Error) -> LedgerError {
    let shown = LedgerUrl::parse(url, std::path::Path::new("/"))
        .map(|u| u.to_string())
        .unwrap_or_else(|_| "(unparseable URL)".into());
    LedgerError::Connect {
        url: shown,
        message: e.to_string(),
    }
}

/// Every record of `kind` in the ledger at `url`, with whole histories.
pub async fn records_of(url: &LedgerUrl, kind: crate::Kind) -> Result<Vec<crate::Record>> {
    let ledger = crate::open(url).await?;
    let filter = crate::Filter {
        kind: Some(kind),
        ..Default::default()
    };
    let out = ledger.query(&filter, false).await;
    ledger.close().await;
    out
}
