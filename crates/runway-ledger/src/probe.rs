//! A PostgreSQL reachability probe for the deploy gate `postgres`
//! (dynamic-mcp: "Confirm PostgreSQL connectivity"): connect, `SELECT 1`,
//! disconnect, within a time limit. It lives beside the ledger's own
//! PostgreSQL access so that Runway has one PostgreSQL client.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::{Connection, postgres::PgConnectOptions};

/// Where a connection URL points, without its credentials: `host:port/db`.
pub fn postgres_target(url: &str) -> String {
    match PgConnectOptions::from_str(url) {
        Ok(o) => format!(
            "{}:{}/{}",
            o.get_host(),
            o.get_port(),
            o.get_database().unwrap_or("postgres")
        ),
        Err(_) => "(an unparsable PostgreSQL URL)".to_owned(),
    }
}

/// Why [`postgres_select_one`] failed. No variant holds the URL's password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("not a PostgreSQL URL (`postgres://USER:PASSWORD@HOST:PORT/DB`)")]
    BadUrl,
    /// The connection failed; the driver's message, password hidden.
    #[error("{message}")]
    Connect { message: String },
    /// `SELECT 1` failed; the driver's message, password hidden.
    #[error("{message}")]
    Query { message: String },
    #[error("`SELECT 1` returned {value}")]
    Unexpected { value: i32 },
    #[error("no answer within {} ms", timeout.as_millis())]
    Timeout { timeout: Duration },
}

/// Connects to `url`, runs `SELECT 1` and disconnects within `timeout`:
/// how long it took, or why not. The error never holds the URL's password.
pub async fn postgres_select_one(url: &str, timeout: Duration) -> Result<Duration, ProbeError> {
    let opts = PgConnectOptions::from_str(url).map_err(|_| ProbeError::BadUrl)?;
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(creds, _)| creds.split_once(':'))
        .map(|(_, p)| p.to_owned());
    let hide = |e: String| match &password {
        Some(p) if !p.is_empty() => e.replace(p.as_str(), "[redacted]"),
        _ => e,
    };
    let started = Instant::now();
    let run = async {
        let mut conn = sqlx::postgres::PgConnection::connect_with(&opts)
            .await
            .map_err(|e| ProbeError::Connect {
                message: hide(e.to_string()),
            })?;
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| ProbeError::Query {
                message: hide(e.to_string()),
            })?;
        let _ = conn.close().await;
        if one == 1 {
            Ok(started.elapsed())
        } else {
            Err(ProbeError::Unexpected { value: one })
        }
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(r) => r,
        Err(_) => Err(ProbeError::Timeout { timeout }),
    }
}
