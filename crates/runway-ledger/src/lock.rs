//! The per-environment deploy lock: one deployment at a time per environment.
//!
//! A lease row in `deploy_locks` (environment, holder, token, heartbeat,
//! expiry) is taken in one atomic upsert that only replaces an expired
//! lease, so two takers on one SQLite file or on one PostgreSQL server (from
//! any number of machines) cannot both win. The holder's [`DeployLock`]
//! renews the lease in the background every third of its time to live; a
//! holder that crashed stops renewing and its lease expires; a holder that
//! finishes releases it, and dropping the lock releases it too (best effort:
//! expiry is the backstop). Lease times come from the database's clock on
//! PostgreSQL (machines sharing a ledger need not agree on the time) and
//! from this machine's on SQLite.
//!
//! This table is the one part of the ledger that is updated and deleted: it
//! holds who deploys now, not what happened (that is the deployment record).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{LedgerError, Result};

/// The shortest lease accepted: shorter ones would expire between heartbeats.
pub const MIN_LOCK_TTL: Duration = Duration::from_millis(300);

/// Who holds an environment's deploy lock, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockInfo {
    pub environment: String,
    /// Whoever took it: `alice@build-7 (pid 4242)`.
    pub holder: String,
    pub acquired_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
    /// When it lapses unless renewed.
    pub expires_at: DateTime<Utc>,
}

/// What a backend does for a held lease.
#[async_trait]
pub(crate) trait LeaseStore: Send + Sync + 'static {
    /// Extends the lease `token` holds; `false` when it is no longer ours.
    async fn renew(&self, environment: &str, token: &str, ttl: Duration) -> Result<bool>;
    /// Deletes the lease if `token` still holds it.
    async fn release(&self, environment: &str, token: &str) -> Result<()>;
}

/// A held deploy lock. Renewed in the background while it lives; released
/// by [`DeployLock::release`] or, failing that, on drop (which needs a live
/// runtime: call `release` before a command returns). The heartbeat runs
/// on tokio's timer, so under `tokio::time::pause()` it renews whenever the
/// paused clock jumps.
pub struct DeployLock {
    info: LockInfo,
    token: String,
    ttl: Duration,
    store: Arc<dyn LeaseStore>,
    lost: Arc<AtomicBool>,
    heartbeat: Option<tokio::task::JoinHandle<()>>,
    released: bool,
}

impl std::fmt::Debug for DeployLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeployLock")
            .field("info", &self.info)
            .field("ttl", &self.ttl)
            .field("lost", &self.is_lost())
            .finish_non_exhaustive()
    }
}

impl DeployLock {
    pub(crate) fn start(
        info: LockInfo,
        token: String,
        ttl: Duration,
        store: Arc<dyn LeaseStore>,
    ) -> DeployLock {
        let lost = Arc::new(AtomicBool::new(false));
        let heartbeat = tokio::spawn(heartbeat(
            store.clone(),
            info.environment.clone(),
            token.clone(),
            ttl,
            lost.clone(),
        ));
        DeployLock {
            info,
            token,
            ttl,
            store,
            lost,
            heartbeat: Some(heartbeat),
            released: false,
        }
    }

    /// The lease as taken.
    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    pub fn environment(&self) -> &str {
        &self.info.environment
    }

    /// True once the lease was found taken over (it expired, e.g. while this
    /// process was suspended, and someone else took it) or could not be
    /// renewed for longer than its time to live. A deployment that lost its
    /// lock should stop and say so.
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Renews the lease now; [`LedgerError::LockLost`] when it is no longer ours.
    pub async fn renew(&self) -> Result<()> {
        if self
            .store
            .renew(&self.info.environment, &self.token, self.ttl)
            .await?
        {
            Ok(())
        } else {
            self.lost.store(true, Ordering::SeqCst);
            Err(LedgerError::LockLost {
                environment: self.info.environment.clone(),
                holder: self.info.holder.clone(),
            })
        }
    }

    /// Stops renewing and gives the lease up.
    pub async fn release(mut self) -> Result<()> {
        if let Some(h) = self.heartbeat.take() {
            h.abort();
        }
        self.released = true;
        self.store
            .release(&self.info.environment, &self.token)
            .await
    }
}

impl Drop for DeployLock {
    fn drop(&mut self) {
        if let Some(h) = self.heartbeat.take() {
            h.abort();
        }
        if self.released {
            return;
        }
        // Best effort: when no runtime is left to run the delete, the lease expires.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let store = self.store.clone();
            let env = self.info.environment.clone();
            let token = self.token.clone();
            rt.spawn(async move {
                let _ = store.release(&env, &token).await;
            });
        }
    }
}

/// Renews every third of `ttl` until the lease is found taken, or renewals
/// have failed for longer than `ttl` (then it has lapsed anyway).
async fn heartbeat(
    store: Arc<dyn LeaseStore>,
    environment: String,
    token: String,
    ttl: Duration,
    lost: Arc<AtomicBool>,
) {
    let every = ttl / 3;
    let mut last_ok = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(every).await;
        match store.renew(&environment, &token, ttl).await {
            Ok(true) => last_ok = tokio::time::Instant::now(),
            Ok(false) => break,
            Err(_) if last_ok.elapsed() < ttl => {}
            Err(_) => break,
        }
    }
    lost.store(true, Ordering::SeqCst);
}

/// Checks a requested lease before it is taken.
pub(crate) fn validate(environment: &str, holder: &str, ttl: Duration) -> Result<()> {
    if environment.trim().is_empty() {
        return Err(LedgerError::Invalid {
            what: "a deploy lock needs an environment name".into(),
        });
    }
    if holder.trim().is_empty() {
        return Err(LedgerError::Invalid {
            what: "a deploy lock needs a holder (who is deploying)".into(),
        });
    }
    if ttl < MIN_LOCK_TTL || ttl > Duration::from_secs(7 * 86_400) {
        return Err(LedgerError::Invalid {
            what: format!(
                "a deploy lock's time to live must be between {} ms and 7 days, not {} ms",
                MIN_LOCK_TTL.as_millis(),
                ttl.as_millis()
            ),
        });
    }
    Ok(())
}

/// Microseconds since the epoch, as the lease columns hold them.
pub(crate) fn from_micros(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// Takes the lease unless a live one is there: one atomic statement, so of
/// two concurrent takers exactly one inserts (or replaces an expired lease)
/// and the other changes nothing. `{now}` is the backend's clock in microseconds.
pub(crate) const TAKE_LEASE: &str = "INSERT INTO deploy_locks (environment, holder, token, acquired_us, heartbeat_us, expires_us) \
     VALUES ($1, $2, $3, {now}, {now}, {now} + $4) \
     ON CONFLICT (environment) DO UPDATE SET holder = excluded.holder, token = excluded.token, \
     acquired_us = excluded.acquired_us, heartbeat_us = excluded.heartbeat_us, expires_us = excluded.expires_us \
     WHERE deploy_locks.expires_us <= excluded.acquired_us";
pub(crate) const READ_LEASE: &str = "SELECT holder, token, acquired_us, heartbeat_us, expires_us FROM deploy_locks \
     WHERE environment = $1";
pub(crate) const LIVE_LEASE: &str = "SELECT holder, token, acquired_us, heartbeat_us, expires_us FROM deploy_locks \
     WHERE environment = $1 AND expires_us > {now}";
pub(crate) const RENEW_LEASE: &str = "UPDATE deploy_locks SET heartbeat_us = {now}, expires_us = {now} + $3 \
     WHERE environment = $1 AND token = $2";
pub(crate) const RELEASE_LEASE: &str =
    "DELETE FROM deploy_locks WHERE environment = $1 AND token = $2";
pub(crate) const BREAK_LEASE: &str =
    "DELETE FROM deploy_locks WHERE environment = $1 AND holder = $2";

/// A lease row: holder, token, acquired, heartbeat, expiry (microseconds).
pub(crate) type LeaseRow = (String, String, i64, i64, i64);

pub(crate) fn lease_info(environment: &str, row: &LeaseRow) -> LockInfo {
    LockInfo {
        environment: environment.to_owned(),
        holder: row.0.clone(),
        acquired_at: from_micros(row.2),
        heartbeat_at: from_micros(row.3),
        expires_at: from_micros(row.4),
    }
}
