//! The append-only ledger of releases, deployments, verifications and incidents.
//!
//! Runbooks end with "record these fields in your change management system";
//! this crate is that system. One trait, [`Ledger`], has two backends: SQLite
//! (a file under `.runway/`, the default) and PostgreSQL (for a team). Both
//! apply the same forward-only migrations on open, refuse a ledger written by
//! a newer Runway, write every record in one transaction (a killed writer
//! leaves no half record) and forbid UPDATE and DELETE with triggers.
//!
//! This is the only crate that contains SQL.

pub mod alert;
pub mod artifacts;
mod backend;
pub mod deployment;
pub mod dora;
mod lock;
mod migrate;
pub mod model;
pub mod monitor;
pub mod postmortem;
pub mod probe;
pub mod schedule;
pub mod success;
pub mod testing;
mod url;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use runway_core::{CheckResult, Redactor, Report, Severity};

pub use alert::{
    AlertPruneStats, AlertRecord, AlertState, Delivery, NewNotification, Notification,
    NotifierState, NotifyEvent,
};
pub use artifacts::{ArtifactResult, ArtifactsRun, artifact_runs};
pub use backend::{PostgresLedger, SqliteLedger};
pub use deployment::{
    Analysis, AnalysisVerdict, Changes, ConditionEvaluation, ConditionRecord, Deployed,
    DeploymentEnd, DeploymentFact, DeploymentShow, DeploymentView, GateRecord, GateVerdict, Logs,
    MAX_LOG_BYTES, Rollback, Step,
};
pub use lock::{DeployLock, LockInfo, MIN_LOCK_TTL};
pub use migrate::SCHEMA_VERSION;
pub use model::{
    Deployment, Event, EventKind, IN_PROGRESS, Incident, IncidentStatus, Kind, Outcome, Record,
    Release, RollbackDecision, Scope, Verification, WindowDecision, now,
};
pub use monitor::{MonitorDay, MonitorLatency, MonitorResult, MonitorRollup, PruneStats};
pub use schedule::{ScheduleClaim, ScheduleRow, ScheduledJob, ScheduledRun};
pub use url::{DEFAULT_SQLITE_PATH, LedgerUrl};

/// Everything that can go wrong with a ledger. Messages name the ledger by its
/// URL without the password.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("invalid ledger URL `{url}`: {reason}")]
    Url { url: String, reason: String },
    #[error("cannot open the ledger at `{url}`: {message}")]
    Connect { url: String, message: String },
    /// A SQLite ledger that does not exist, named somewhere other than the
    /// project's own `.runway/ledger.db`: most likely a typo, so it is not
    /// created behind the user's back.
    #[error("there is no ledger at `{}`", path.display())]
    Missing { path: std::path::PathBuf },
    /// No space left where the ledger is written.
    #[error(
        "disk full: the ledger at `{url}` could not be written while {action}; {place} has no space left"
    )]
    DiskFull {
        url: String,
        action: &'static str,
        place: String,
    },
    #[error("the ledger at `{url}` failed while {action}: {message}")]
    Database {
        url: String,
        action: &'static str,
        message: String,
    },
    #[error(
        "the ledger at `{url}` has schema version {found}, but this Runway ({runway}) knows only up to {known}: it was written by a newer Runway; upgrade `runway` to use it"
    )]
    NewerSchema {
        url: String,
        found: i64,
        known: i64,
        runway: &'static str,
    },
    #[error("no record `{id}` in the ledger")]
    NotFound { id: String },
    #[error("`{prefix}` matches more than one record ({matches}); give more of the id")]
    Ambiguous { prefix: String, matches: String },
    #[error("record `{id}` is a {found}, not a {expected}")]
    WrongKind {
        id: String,
        expected: Kind,
        found: Kind,
    },
    #[error(
        "incident `{id}` is `{from}`; it cannot become `{to}` (the timeline only moves forward: detected → acknowledged → mitigated → resolved → closed, and only a resolved incident can be closed)"
    )]
    IllegalTransition {
        id: String,
        from: IncidentStatus,
        to: IncidentStatus,
    },
    #[error("deployment `{id}` already ended as `{outcome}`")]
    AlreadyEnded { id: String, outcome: String },
    #[error(
        "`{environment}` is being deployed by {holder} (since {acquired_at}); its lock expires at {expires_at} unless renewed"
    )]
    Locked {
        environment: String,
        holder: String,
        acquired_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    },
    #[error(
        "the deploy lock on `{environment}` held by {holder} was lost: it expired and was taken over"
    )]
    LockLost { environment: String, holder: String },
    #[error("record `{id}` is already in the ledger")]
    Duplicate { id: String },
    #[error("{what}")]
    Invalid { what: String },
    #[error("the ledger holds unreadable data: {what}")]
    Corrupt { what: String },
}

impl runway_core::Diagnostic for LedgerError {
    fn hint(&self) -> Option<String> {
        match self {
            LedgerError::NotFound { .. } => Some("`runway ledger list` shows the ids".into()),
            LedgerError::NewerSchema { .. } => {
                Some("install the newer `runway` that wrote this ledger".into())
            }
            LedgerError::Url { .. } => Some(
                "pass `--ledger sqlite://PATH` or `--ledger postgres://USER@HOST:PORT/DB`".into(),
            ),
            LedgerError::Locked { environment, .. } => Some(format!(
                "wait for that deployment to finish (`runway status {environment}` shows it); a crashed holder's lock lapses at its expiry"
            )),
            LedgerError::DiskFull { place, .. } => Some(format!(
                "free space on {place}; what was written before stays readable (`runway ledger show`, `runway status ENV`)"
            )),
            LedgerError::Missing { path } => Some(format!(
                "check `--ledger`, `RUNWAY_LEDGER_URL` or `[ledger] url`; to start a new ledger there, run `runway ledger init sqlite://{}`",
                path.display()
            )),
            LedgerError::LockLost { .. } => Some(
                "the deployment paused longer than its lock's time to live; check what now runs there before deploying again".into(),
            ),
            _ => None,
        }
    }

    /// The user's mistakes (an unknown id, an illegal move, bad input, a newer
    /// ledger) are usage errors; a database that fails is not.
    fn exit(&self) -> runway_core::Exit {
        match self {
            LedgerError::Connect { .. }
            | LedgerError::DiskFull { .. }
            | LedgerError::Database { .. }
            | LedgerError::Corrupt { .. } => runway_core::Exit::Internal,
            _ => runway_core::Exit::Usage,
        }
    }
}

pub type Result<T, E = LedgerError> = std::result::Result<T, E>;

/// Which records to read. Every field narrows the selection; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub id: Option<String>,
    pub kind: Option<Kind>,
    pub environment: Option<String>,
    pub version: Option<String>,
    pub ref_id: Option<String>,
    /// Created at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Created before this time.
    pub until: Option<DateTime<Utc>>,
}

/// The export document: every record with its full history.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Export {
    /// Always [`EXPORT_SCHEMA`].
    pub schema: String,
    pub records: Vec<Record>,
}

/// The identifier of the export format; bump the suffix on a breaking change.
pub const EXPORT_SCHEMA: &str = "runway.ledger/v1";

/// Records per transaction when importing: large enough that a commit's
/// fsync is amortised, small enough that a transaction stays short.
pub const IMPORT_BATCH: usize = 200;

/// A check for an event about to be appended, run inside the write
/// transaction against the record as it is then.
pub type Guard<'a> = &'a (dyn Fn(&Record) -> Result<()> + Send + Sync);

/// The ledger: one trait, two backends.
///
/// The required methods are the storage primitives each backend implements;
/// the provided ones are the operations Runway performs, written once on top.
#[async_trait]
pub trait Ledger: Send + Sync {
    /// Where this ledger lives (prints without a password).
    fn url(&self) -> &LedgerUrl;
    /// The redactor every string passes through on the way in.
    fn redactor(&self) -> &Redactor;
    /// Adds secrets to redact (the ledger URL's password is always there).
    fn set_redactor(&mut self, redactor: Redactor);
    /// Who is acting: `RUNWAY_OPERATOR`, else `git config user.name`, else the OS user.
    fn operator(&self) -> &str;
    fn set_operator(&mut self, operator: String);

    /// The schema version stored in the database.
    async fn schema_version(&self) -> Result<i64>;
    /// Writes a whole record (its events and check results) in one transaction.
    async fn insert(&self, record: &Record) -> Result<()>;
    /// Writes several whole records in one transaction: all or none.
    async fn insert_batch(&self, records: &[Record]) -> Result<()>;
    /// Appends an event to record `id` (exact id) after `guard` approves the
    /// record as it stands inside the same transaction.
    async fn append_event(&self, id: &str, event: &Event, guard: Guard<'_>) -> Result<()>;
    /// The records matching `filter`, oldest first, with their events; check
    /// results only when `with_checks`.
    async fn query(&self, filter: &Filter, with_checks: bool) -> Result<Vec<Record>>;
    /// The records matching `filter`, oldest first, each with only its latest
    /// status event (enough for its current status and, for a deployment, its
    /// end): one query, for listings over many records.
    async fn query_latest(&self, filter: &Filter) -> Result<Vec<Record>>;
    /// Ids that start with `prefix` (at most `limit`).
    async fn ids_with_prefix(&self, prefix: &str, limit: i64) -> Result<Vec<String>>;
    /// Counts of records per kind.
    async fn counts(&self) -> Result<Vec<(Kind, i64)>>;
    /// Takes the deploy lock on `environment` for `holder`, for `ttl` at a
    /// time (renewed in the background while the [`DeployLock`] lives).
    /// Refused with [`LedgerError::Locked`] while another holder's lease is
    /// live; an expired lease (a crashed holder) is taken over.
    async fn acquire_deploy_lock(
        &self,
        environment: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<DeployLock>;

    /// This ledger's random key (32 bytes, made when the ledger was created;
    /// never exported) for [`Ledger::settings_digest`].
    async fn settings_key(&self) -> Result<Vec<u8>>;

    /// A keyed digest of a secret setting's value, `hmac:` + the first 16 hex
    /// digits of HMAC-SHA256 under this ledger's key: the same value gives
    /// the same digest in this ledger (so a change shows), and no one without
    /// the key can test guesses against it.
    async fn settings_digest(&self, value: &str) -> Result<String> {
        use hmac::Mac as _;
        let key = self.settings_key().await?;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key)
            .expect("HMAC takes a key of any length");
        mac.update(value.as_bytes());
        let tag = mac.finalize().into_bytes();
        let hex: String = tag.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Ok(format!("hmac:{hex}"))
    }

    /// Who holds the deploy lock on `environment` now, if anyone.
    async fn deploy_lock(&self, environment: &str) -> Result<Option<LockInfo>>;

    /// Deletes the lease of `holder` (exactly as [`Ledger::deploy_lock`]
    /// named it) on `environment`, live or not: for a holder known to be dead
    /// (its process is gone on this machine), so the environment is not
    /// blocked until the lease expires. `false` when that holder no longer
    /// held it. Whoever calls it must be sure: a live holder loses its lock.
    async fn break_deploy_lock(&self, environment: &str, holder: &str) -> Result<bool>;

    /// Closes the pool, waiting for connections to finish.
    async fn close(&self);

    /// Stores one `runway monitor` run (message redacted on the way in).
    async fn record_monitor_result(&self, result: &MonitorResult) -> Result<()>;

    /// The raw runs of `environment` since `since`, oldest first.
    async fn monitor_results(
        &self,
        environment: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<MonitorResult>>;

    /// The hourly rollups of `environment` whose hour starts at or after `since`.
    async fn monitor_rollups(
        &self,
        environment: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<MonitorRollup>>;

    /// Retention: folds the raw runs of every whole hour before `keep_after`
    /// (floored to the hour) into hourly rollups and deletes them, in one
    /// transaction.
    async fn prune_monitor(&self, keep_after: chrono::DateTime<chrono::Utc>) -> Result<PruneStats>;

    /// The newest raw run of `environment`, if any (its current status).
    async fn monitor_latest(&self, environment: &str) -> Result<Option<MonitorResult>>;

    /// Runs and failures of `environment` per UTC day since `since` (floored
    /// to its day), raw runs and hourly rollups added up, oldest day first.
    async fn monitor_daily(
        &self,
        environment: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<MonitorDay>>;

    /// The latency and outcome of each raw run of `environment` since
    /// `since`, oldest first (no messages: cheap enough for charts).
    async fn monitor_latencies(
        &self,
        environment: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<MonitorLatency>>;

    /// [`Ledger::monitor_latest`] of each of `environments` that has a run,
    /// in one query (the dashboard's N environments), by environment name.
    async fn monitor_latest_many(&self, environments: &[String]) -> Result<Vec<MonitorResult>>;

    /// [`Ledger::monitor_daily`] of each of `environments`, in one query:
    /// `(environment, day)` pairs by environment name, then oldest day first.
    async fn monitor_daily_many(
        &self,
        environments: &[String],
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(String, MonitorDay)>>;

    /// [`Ledger::monitor_latencies`] of each of `environments`, in one query:
    /// `(environment, run)` pairs by environment name, then oldest run first.
    async fn monitor_latencies_many(
        &self,
        environments: &[String],
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(String, MonitorLatency)>>;
    /// Stores an alert instance (inserted when `alert.id` is 0, else updated;
    /// its acknowledgement and silence are left alone) and queues `notify`
    /// for it, in one transaction. Returns the instance's id. A second open
    /// instance of one fingerprint is refused ([`LedgerError::Duplicate`]);
    /// a notification whose `dedup_key` is already queued is skipped.
    async fn save_alert(&self, alert: &AlertRecord, notify: &[NewNotification]) -> Result<i64>;

    /// The open (pending or firing) alert instances, oldest first.
    async fn open_alerts(&self) -> Result<Vec<AlertRecord>>;

    /// The open instances and those resolved at or after `since`, oldest first.
    async fn alerts_since(&self, since: DateTime<Utc>) -> Result<Vec<AlertRecord>>;

    /// One alert instance.
    async fn alert(&self, id: i64) -> Result<AlertRecord>;

    /// Marks an alert instance acknowledged by `by` now.
    async fn acknowledge_alert(&self, id: i64, by: &str) -> Result<()>;

    /// Holds an alert instance's notifications back until `until` (`None` lifts it).
    async fn silence_alert(&self, id: i64, until: Option<DateTime<Utc>>) -> Result<()>;

    /// Adds the jobs of the shared monitor schedule that are not there yet
    /// (the first slot `first_delay` from now) and applies changed intervals.
    async fn schedule_register(&self, jobs: &[ScheduledJob]) -> Result<()>;

    /// Claims up to `limit` due slots among `jobs` for `owner`, each held
    /// for `lease`: free rows that are due, and rows whose holder's lease
    /// lapsed (a takeover). Two claimers never get the same row.
    async fn schedule_claim(
        &self,
        owner: &str,
        jobs: &[String],
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<ScheduleClaim>>;

    /// Stores `result` as the run of `claim`'s slot and moves the job to
    /// its first slot after now (plus `next_jitter`), in one transaction,
    /// only while `claim` still holds the row. Returns the time until that
    /// next slot, or `None` (nothing stored) when the lease lapsed and
    /// another worker took the slot.
    async fn schedule_complete(
        &self,
        claim: &ScheduleClaim,
        result: &MonitorResult,
        next_jitter: Duration,
    ) -> Result<Option<Duration>>;

    /// Gives a claimed slot back unrun.
    async fn schedule_release(&self, claim: &ScheduleClaim) -> Result<()>;

    /// How long until one of `jobs` not held by `owner` can be claimed
    /// (zero when one is due now); `None` when there is none.
    async fn schedule_next_wake(&self, jobs: &[String], owner: &str) -> Result<Option<Duration>>;

    /// Every job of the shared schedule as stored.
    async fn schedule_state(&self) -> Result<Vec<ScheduleRow>>;

    /// The stored runs of the shared schedule since `since` (raw results
    /// only), by environment and slot.
    async fn scheduled_runs(&self, since: DateTime<Utc>) -> Result<Vec<ScheduledRun>>;

    /// Undelivered notifications whose next attempt is due at `now`, oldest first, at most `limit`.
    async fn due_notifications(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<Notification>>;

    /// Like [`Ledger::due_notifications`], but each returned notification is
    /// held for `lease` (its next attempt moved past it), so several monitor
    /// workers never send one twice: a worker delivers what it claimed, and
    /// what a dead worker claimed is due again when the lease ends.
    async fn claim_notifications(
        &self,
        now: DateTime<Utc>,
        limit: i64,
        lease: Duration,
    ) -> Result<Vec<Notification>>;

    /// Hands a claimed notification back to the outbox, due at `due`.
    async fn unclaim_notification(&self, id: i64, due: DateTime<Utc>) -> Result<()>;

    /// Every notification queued for an alert instance, delivered or not, oldest first.
    async fn notifications_of(&self, alert_id: i64) -> Result<Vec<Notification>>;

    /// Records one delivery attempt of notification `id` to `notifier`, and
    /// the notifier's health with it, in one transaction.
    async fn record_delivery(&self, id: i64, notifier: &str, delivery: &Delivery) -> Result<()>;

    /// Every notifier that has been attempted or has notifications waiting:
    /// pending count, last error, consecutive failures. Sorted by name.
    async fn notifier_states(&self) -> Result<Vec<NotifierState>>;

    /// Retention: deletes delivered notifications sent before `before`, and
    /// resolved instances resolved before it that have no notification left.
    async fn prune_alerts(&self, before: DateTime<Utc>) -> Result<AlertPruneStats>;

    /// A record by id or unique id prefix, with its events and check results.
    async fn get(&self, id: &str) -> Result<Record> {
        let id = self.resolve_id(id).await?;
        let filter = Filter {
            id: Some(id.clone()),
            ..Filter::default()
        };
        self.query(&filter, true)
            .await?
            .pop()
            .ok_or(LedgerError::NotFound { id })
    }

    /// Turns an id or a unique prefix of one into the full id.
    async fn resolve_id(&self, id: &str) -> Result<String> {
        let id = id.trim();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(LedgerError::NotFound { id: id.to_owned() });
        }
        let found = self.ids_with_prefix(id, 6).await?;
        if found.iter().any(|f| f == id) {
            return Ok(id.to_owned());
        }
        match found.len() {
            0 => Err(LedgerError::NotFound { id: id.to_owned() }),
            1 => Ok(found.into_iter().next().unwrap_or_default()),
            _ => Err(LedgerError::Ambiguous {
                prefix: id.to_owned(),
                matches: found.join(", "),
            }),
        }
    }

    /// Records a cut release.
    async fn record_release(&self, release: &Release) -> Result<String> {
        let body = to_body(release)?;
        let record = self.new_record(
            Kind::Release,
            None,
            Some(release.version.clone()),
            None,
            body,
        );
        self.insert_redacted(record, None).await
    }

    /// Appends a `runway release verify-artifacts` run to the newest release
    /// record of `release.version` (recording `release` first when that
    /// version has none), redacted. Returns the release record's id.
    async fn record_artifacts(&self, release: &Release, run: &ArtifactsRun) -> Result<String> {
        let filter = Filter {
            kind: Some(Kind::Release),
            version: Some(release.version.clone()),
            ..Filter::default()
        };
        let id = match self.query_latest(&filter).await?.pop() {
            Some(r) => r.id,
            None => self.record_release(release).await?,
        };
        let mut data = to_body(run)?;
        data["fact"] = artifacts::ARTIFACTS_FACT.into();
        redact_json(self.redactor(), &mut data);
        let event = self.event(EventKind::Fact, None, None, data);
        self.append_event(&id, &event, &|_| Ok(())).await?;
        Ok(id)
    }

    /// Records a deployment. When its outcome is already known it is the
    /// deployment's first status; otherwise it starts `in_progress` and
    /// [`Ledger::finish_deployment`] ends it. A deploy that a gate refused
    /// is best recorded with its gates and ended `aborted` (reason: the
    /// refusal): it leaves a record, and DORA does not count it.
    async fn record_deployment(&self, deployment: &Deployment) -> Result<String> {
        if let Some(v) = &deployment.verification_id {
            self.expect_kind(v, Kind::Verification).await?;
        }
        let body = to_body(deployment)?;
        let mut record = self.new_record(
            Kind::Deployment,
            Some(deployment.environment.clone()),
            Some(deployment.release.clone()),
            None,
            body,
        );
        record.created_at = deployment.started_at;
        let status = deployment
            .outcome
            .map(|o| o.as_str().to_owned())
            .unwrap_or_else(|| IN_PROGRESS.to_owned());
        self.insert_redacted(record, Some(status)).await
    }

    /// Ends an in-progress deployment: its outcome, rollback decision, the
    /// verification that decided it, why, and what was done (for `aborted`).
    /// A deployment ends once; a second end is [`LedgerError::AlreadyEnded`].
    async fn finish_deployment(&self, id: &str, end: &DeploymentEnd) -> Result<()> {
        let id = self.expect_kind(id, Kind::Deployment).await?;
        let mut data = serde_json::json!({ "finished_at": now() });
        if let Some(r) = &end.rollback {
            data["rollback"] = to_body(r)?;
        }
        if let Some(v) = &end.verification_id {
            data["verification_id"] = self.expect_kind(v, Kind::Verification).await?.into();
        }
        if let Some(r) = &end.reason {
            data["reason"] = r.clone().into();
        }
        if !end.done.is_empty() {
            data["done"] = to_body(&end.done)?;
        }
        redact_json(self.redactor(), &mut data);
        let event = self.event(
            EventKind::Status,
            Some(end.outcome.as_str().to_owned()),
            None,
            data,
        );
        // A held deployment ends once more, when a human or a watch resolves it.
        let held = Outcome::Held.as_str();
        let guard = |r: &Record| match r.status() {
            Some(s) if s != IN_PROGRESS && !(s == held && end.outcome != Outcome::Held) => {
                Err(LedgerError::AlreadyEnded {
                    id: r.id.clone(),
                    outcome: s.to_owned(),
                })
            }
            _ => Ok(()),
        };
        self.append_event(&id, &event, &guard).await
    }

    /// Appends a fact learnt after the deployment was recorded (gates, the
    /// target's answer, an analysis window, a rollback, logs), redacted; logs
    /// are cut to their last [`MAX_LOG_BYTES`]. Facts may follow the end (a
    /// rollback decided after a deployment was verified).
    async fn add_deployment_fact(&self, id: &str, fact: &DeploymentFact) -> Result<()> {
        let id = self.expect_kind(id, Kind::Deployment).await?;
        let fact = match fact {
            DeploymentFact::Logs(l) if l.text.len() > MAX_LOG_BYTES => {
                let mut cut = Logs::bounded(l.source.clone(), l.version.clone(), &l.text);
                cut.bytes = cut.bytes.max(l.bytes);
                DeploymentFact::Logs(cut)
            }
            other => other.clone(),
        };
        let mut data = to_body(&fact)?;
        redact_json(self.redactor(), &mut data);
        let event = self.event(EventKind::Fact, None, None, data);
        self.append_event(&id, &event, &|_| Ok(())).await
    }

    /// A deployment with its facts, end, verification runs and incidents.
    async fn deployment_view(&self, id: &str) -> Result<DeploymentView> {
        let record = self.get(id).await?;
        let filter = Filter {
            ref_id: Some(record.id.clone()),
            ..Filter::default()
        };
        let related = self.query(&filter, false).await?;
        DeploymentView::build(&record, &related)
    }

    /// The latest `limit` deployments to `environment`, newest first, each
    /// joined up as by [`Ledger::deployment_view`], in three queries however
    /// many there are (for `runway status`, rollback targets and baselines).
    async fn recent_deployments(
        &self,
        environment: &str,
        limit: usize,
    ) -> Result<Vec<DeploymentView>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut filter = Filter {
            kind: Some(Kind::Deployment),
            environment: Some(environment.to_owned()),
            ..Filter::default()
        };
        // The listing is cheap; it says from when the whole histories are needed.
        let listed = self.query_latest(&filter).await?;
        let Some(oldest) = listed.iter().rev().take(limit).map(|r| r.created_at).min() else {
            return Ok(Vec::new());
        };
        filter.since = Some(oldest);
        let mut deployments = self.query(&filter, false).await?;
        filter.kind = None;
        let related = self.query(&filter, false).await?;
        deployments.reverse();
        deployments.truncate(limit);
        deployments
            .iter()
            .map(|d| DeploymentView::build(d, &related))
            .collect()
    }

    /// Records a verification run and every check result with its evidence,
    /// redacted. Returns the new record's id. With a deployment, the run is
    /// recorded as of that deployment's version; a run of another version
    /// (the one a rollback put back) goes through [`Ledger::record_verification_of`].
    async fn record_verification(
        &self,
        report: &Report,
        environment: &str,
        deployment_id: Option<&str>,
    ) -> Result<String> {
        self.record_verification_of(report, environment, deployment_id, None)
            .await
    }

    /// [`Ledger::record_verification`] of the server running `version`
    /// (default: the deployment's own version), so the verify after a
    /// rollback names the version it checked, not the one rolled back from.
    async fn record_verification_of(
        &self,
        report: &Report,
        environment: &str,
        deployment_id: Option<&str>,
        version: Option<&str>,
    ) -> Result<String> {
        let (deployment_id, release) = match deployment_id {
            Some(d) => {
                let dep = self.get(d).await?;
                let body = dep.deployment()?;
                (Some(dep.id), Some(body.release))
            }
            None => (None, None),
        };
        let version = version.map(str::to_owned).or(release);
        let header = Verification {
            schema: report.schema.clone(),
            target: report.target.clone(),
            era: report.era.clone(),
            suite: report.suite.clone(),
            started_at: report.started_at.clone(),
            duration_ms: report.duration_ms,
            summary: report.summary,
            environment: environment.to_owned(),
            deployment_id: deployment_id.clone(),
        };
        let mut record = self.new_record(
            Kind::Verification,
            Some(environment.to_owned()),
            version,
            deployment_id,
            to_body(&header)?,
        );
        record.checks = report.checks.clone();
        let status = if report.ok() { "passed" } else { "failed" };
        self.insert_redacted(record, Some(status.to_owned())).await
    }

    /// Opens an incident at `detected`, optionally blaming a deployment.
    async fn open_incident(
        &self,
        severity: Severity,
        title: &str,
        deployment_id: Option<&str>,
    ) -> Result<String> {
        if title.trim().is_empty() {
            return Err(LedgerError::Invalid {
                what: "an incident needs a title: pass `--title TEXT`".into(),
            });
        }
        let (deployment_id, env, version) = match deployment_id {
            Some(d) => {
                let dep = self.get(d).await?;
                let body = dep.deployment()?;
                (Some(dep.id), Some(body.environment), Some(body.release))
            }
            None => (None, None, None),
        };
        let detected_at = now();
        let respond_by = detected_at
            + chrono::Duration::from_std(severity.response_time())
                .unwrap_or_else(|_| chrono::Duration::hours(24));
        let incident = Incident {
            severity,
            title: title.trim().to_owned(),
            deployment_id: deployment_id.clone(),
            detected_at,
            respond_by,
        };
        let mut record = self.new_record(
            Kind::Incident,
            env,
            version,
            deployment_id,
            to_body(&incident)?,
        );
        record.created_at = detected_at;
        self.insert_redacted(record, Some(IncidentStatus::Detected.as_str().to_owned()))
            .await
    }

    /// Moves an incident along its timeline, with an optional note; an illegal
    /// move is an [`LedgerError::IllegalTransition`].
    async fn move_incident(&self, id: &str, to: IncidentStatus, note: Option<&str>) -> Result<()> {
        let id = self.expect_kind(id, Kind::Incident).await?;
        let note = note.map(|n| self.redactor().redact(n));
        let event = self.event(
            EventKind::Status,
            Some(to.as_str().to_owned()),
            note,
            serde_json::Value::Null,
        );
        let guard = move |r: &Record| {
            let from: IncidentStatus = r.status().unwrap_or("detected").parse()?;
            if from.can_move_to(to) {
                Ok(())
            } else {
                Err(LedgerError::IllegalTransition {
                    id: r.id.clone(),
                    from,
                    to,
                })
            }
        };
        self.append_event(&id, &event, &guard).await
    }

    /// Adds a note to any record.
    async fn add_note(&self, id: &str, note: &str) -> Result<()> {
        if note.trim().is_empty() {
            return Err(LedgerError::Invalid {
                what: "a note cannot be empty".into(),
            });
        }
        let id = self.resolve_id(id).await?;
        let note = self.redactor().redact(note);
        let event = self.event(EventKind::Note, None, Some(note), serde_json::Value::Null);
        self.append_event(&id, &event, &|_| Ok(())).await
    }

    /// Every record matching `filter`, in the export format.
    async fn export(&self, filter: &Filter) -> Result<Export> {
        Ok(Export {
            schema: EXPORT_SCHEMA.to_owned(),
            records: self.query(filter, true).await?,
        })
    }

    /// Writes an export's records, keeping their ids, times and operators, in
    /// transactions of [`IMPORT_BATCH`] records (a killed import leaves whole
    /// batches). Stops at the first batch holding a record already present.
    async fn import(&self, export: &Export) -> Result<usize> {
        if export.schema != EXPORT_SCHEMA {
            return Err(LedgerError::Invalid {
                what: format!(
                    "unsupported export schema `{}`: this Runway reads `{EXPORT_SCHEMA}`",
                    export.schema
                ),
            });
        }
        for r in &export.records {
            validate_import(r)?;
        }
        for chunk in export.records.chunks(IMPORT_BATCH) {
            let mut batch = chunk.to_vec();
            for r in &mut batch {
                redact_record(self.redactor(), r);
            }
            self.insert_batch(&batch).await?;
        }
        Ok(export.records.len())
    }

    /// A new record of `kind` created now by this operator (not yet written).
    fn new_record(
        &self,
        kind: Kind,
        environment: Option<String>,
        version: Option<String>,
        ref_id: Option<String>,
        body: serde_json::Value,
    ) -> Record {
        Record {
            id: new_id(kind),
            kind,
            created_at: now(),
            operator: self.operator().to_owned(),
            environment,
            version,
            ref_id,
            body,
            events: Vec::new(),
            checks: Vec::new(),
        }
    }

    /// An event happening now, by this operator.
    fn event(
        &self,
        kind: EventKind,
        status: Option<String>,
        note: Option<String>,
        data: serde_json::Value,
    ) -> Event {
        Event {
            at: now(),
            operator: self.operator().to_owned(),
            kind,
            status,
            note,
            data,
        }
    }

    /// Redacts `record`, adds its `created` event and writes it.
    async fn insert_redacted(&self, mut record: Record, status: Option<String>) -> Result<String> {
        let created = Event {
            at: record.created_at,
            operator: record.operator.clone(),
            kind: EventKind::Created,
            status,
            note: None,
            data: serde_json::Value::Null,
        };
        record.events.insert(0, created);
        redact_record(self.redactor(), &mut record);
        self.insert(&record).await?;
        Ok(record.id)
    }

    /// Resolves `id` and checks that it is a record of `kind`.
    async fn expect_kind(&self, id: &str, kind: Kind) -> Result<String> {
        let id = self.resolve_id(id).await?;
        let filter = Filter {
            id: Some(id.clone()),
            ..Filter::default()
        };
        let found = self
            .query(&filter, false)
            .await?
            .pop()
            .ok_or_else(|| LedgerError::NotFound { id: id.clone() })?;
        if found.kind != kind {
            return Err(LedgerError::WrongKind {
                id,
                expected: kind,
                found: found.kind,
            });
        }
        Ok(id)
    }
}

/// Opens (creating when missing) the ledger at `url` and applies migrations.
pub async fn open(url: &LedgerUrl) -> Result<Box<dyn Ledger>> {
    open_with(url, OpenOptions::default()).await
}

/// Tuning for [`open_with`].
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

/// Whether a command of the project at `root` may create the ledger at
/// `url`: only the project's own `.runway/ledger.db` is made on first use;
/// anywhere else a missing SQLite file is most likely a typo, and
/// `runway ledger init` creates it on purpose. (A PostgreSQL database is
/// never created by Runway, only its tables.)
pub fn may_create(url: &LedgerUrl, root: &std::path::Path) -> bool {
    match (url, LedgerUrl::default_for(root)) {
        (LedgerUrl::Sqlite { path }, LedgerUrl::Sqlite { path: default }) => {
            // The same file, or the same place spelt through a symlink or `..`.
            *path == default
                || (path.ends_with(DEFAULT_SQLITE_PATH)
                    && matches!(
                        (
                            path.ancestors().nth(2).and_then(|p| p.canonicalize().ok()),
                            root.canonicalize().ok()
                        ),
                        (Some(a), Some(b)) if a == b
                    ))
        }
        _ => true,
    }
}

/// Opens the ledger a command of the project at `root` uses, creating it
/// only where [`may_create`] allows.
pub async fn open_for_project(
    url: &LedgerUrl,
    root: &std::path::Path,
    options: OpenOptions,
) -> Result<Box<dyn Ledger>> {
    let create = options.create && may_create(url, root);
    open_with(url, OpenOptions { create, ..options }).await
}

/// [`open`] with explicit pool options.
pub async fn open_with(url: &LedgerUrl, options: OpenOptions) -> Result<Box<dyn Ledger>> {
    match url {
        LedgerUrl::Sqlite { .. } => Ok(Box::new(SqliteLedger::open(url, &options).await?)),
        LedgerUrl::Postgres { .. } => Ok(Box::new(PostgresLedger::open(url, &options).await?)),
    }
}

/// Who is acting: `RUNWAY_OPERATOR`, else `git config user.name`, else the OS user.
pub fn detect_operator() -> String {
    if let Ok(v) = std::env::var("RUNWAY_OPERATOR")
        && !v.trim().is_empty()
    {
        return v.trim().to_owned();
    }
    if let Ok(out) = std::process::Command::new("git")
        .args(["config", "user.name"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        && out.status.success()
    {
        let name = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !name.is_empty() {
            return name;
        }
    }
    for var in ["USER", "LOGNAME", "USERNAME"] {
        if let Ok(v) = std::env::var(var)
            && !v.trim().is_empty()
        {
            return v.trim().to_owned();
        }
    }
    "unknown".to_owned()
}

fn new_id(kind: Kind) -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("{}-{}", kind.id_prefix(), &hex[..12])
}

fn to_body<T: serde::Serialize>(value: &T) -> Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| LedgerError::Invalid {
        what: format!("cannot encode a ledger record: {e}"),
    })
}

/// Runs every string of `record` through `redactor`; header values of
/// sensitive headers are hidden whatever they hold.
pub fn redact_record(redactor: &Redactor, record: &mut Record) {
    redact_json(redactor, &mut record.body);
    for e in &mut record.events {
        if let Some(n) = &mut e.note {
            *n = redactor.redact(n);
        }
        redact_json(redactor, &mut e.data);
    }
    for c in &mut record.checks {
        redact_check(redactor, c);
    }
}

/// Brings a float to the value its shortest JSON form parses back to, so an
/// export and a re-import print the same digits (serde_json's default parser
/// may be one ULP off for long mantissas).
fn stable_f64(mut x: f64) -> f64 {
    for _ in 0..4 {
        let Ok(text) = serde_json::to_string(&x) else {
            return x;
        };
        match serde_json::from_str::<f64>(&text) {
            Ok(y) if y != x => x = y,
            _ => break,
        }
    }
    x
}

fn redact_check(redactor: &Redactor, c: &mut CheckResult) {
    c.duration_ms = stable_f64(c.duration_ms);
    c.evidence.elapsed_ms = c.evidence.elapsed_ms.map(stable_f64);
    c.id = redactor.redact(&c.id);
    c.message = redactor.redact(&c.message);
    if let Some(h) = &mut c.hint {
        *h = redactor.redact(h);
    }
    let ev = &mut c.evidence;
    if let Some(r) = &mut ev.request {
        *r = redactor.redact(r);
    }
    if let Some(b) = &mut ev.body_excerpt {
        *b = redactor.redact(b);
    }
    for (name, value) in ev.headers.iter_mut() {
        *value = redactor.redact_header(name, value);
    }
    redact_json(redactor, &mut ev.details);
}

pub(crate) fn redact_json(redactor: &Redactor, v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => *s = redactor.redact(s),
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(f) = n
                .as_f64()
                .and_then(|f| serde_json::Number::from_f64(stable_f64(f)))
            {
                *n = f;
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| redact_json(redactor, x)),
        serde_json::Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if let serde_json::Value::String(s) = x
                    && runway_core::secret::SENSITIVE_HEADERS
                        .iter()
                        .any(|h| h.eq_ignore_ascii_case(k))
                {
                    *s = "[redacted]".to_owned();
                } else {
                    redact_json(redactor, x);
                }
            }
        }
        _ => {}
    }
}

/// An imported record must be whole: a `created` event first and, for a
/// verification, exactly as many check results as its summary counts.
fn validate_import(r: &Record) -> Result<()> {
    let bad = |why: &str| {
        Err(LedgerError::Invalid {
            what: format!("cannot import record `{}`: {why}", r.id),
        })
    };
    if !r.id.starts_with(r.kind.id_prefix())
        || !r.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return bad("its id does not match its kind");
    }
    if r.events.first().map(|e| e.kind) != Some(EventKind::Created) {
        return bad("its history does not start with a `created` event");
    }
    if r.kind == Kind::Verification {
        let v = r.verification()?;
        if v.summary.total() != r.checks.len() {
            return bad("its check results do not match its summary");
        }
    }
    Ok(())
}
