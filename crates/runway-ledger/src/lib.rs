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
pub mod chain;
pub mod deployment;
pub mod dora;
mod error;
mod export;
mod filter;
mod lock;
mod migrate;
pub mod model;
pub mod monitor;
mod open;
mod operator;
pub mod postmortem;
pub mod probe;
mod redact;
pub mod release_facts;
pub mod report;
pub mod schedule;
pub mod success;
pub mod summary;
pub mod testing;
mod url;
pub use filter::Filter;
use filter::{new_id, to_body};

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use runway_core::{Redactor, Report, Severity};

pub use alert::{
    AlertPruneStats, AlertRecord, AlertState, Delivery, NewNotification, Notification,
    NotifierState, NotifyEvent,
};
pub use artifacts::{ArtifactResult, ArtifactsRun, artifact_runs};
pub use backend::{OpenOptions, PostgresLedger, SqliteLedger};
pub use chain::Chain;
pub use deployment::{
    Analysis, AnalysisVerdict, Changes, ConditionEvaluation, ConditionRecord, Deployed,
    DeploymentEnd, DeploymentFact, DeploymentShow, DeploymentView, GateRecord, GateVerdict, Logs,
    MAX_LOG_BYTES, Rollback, Step,
};
pub use error::LedgerError;
use export::validate_import;
pub use export::{EXPORT_SCHEMA, Export, IMPORT_BATCH};
pub use lock::{DeployLock, LockInfo, MIN_LOCK_TTL};
pub use migrate::SCHEMA_VERSION;
pub use model::{
    Deployment, Event, EventKind, IN_PROGRESS, Incident, IncidentStatus, Kind, Outcome, Record,
    Release, RollbackDecision, Scope, Verification, WindowDecision, now,
};
pub use monitor::{MonitorDay, MonitorResult, MonitorRollup, PruneStats};
pub use open::{may_create, open, open_for_project, open_with};
pub use operator::detect_operator;
pub(crate) use redact::redact_json;
pub use redact::redact_record;
pub use release_facts::{
    AnnounceDelivery, Announcement, ReleaseFact, StepDone, Yank, YankCheck, YankConfirmation,
    YankStep, release_facts,
};
pub use schedule::{ScheduleClaim, ScheduleRow, ScheduledJob, ScheduledRun};
pub use summary::{LATENCY_BUCKETS, MonitorHour};
pub use url::{DEFAULT_SQLITE_PATH, LedgerUrl};

pub type Result<T, E = LedgerError> = std::result::Result<T, E>;

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
    /// to its day), from the daily summary (every run stored, raw or folded
    /// into a rollup since), oldest day first.
    async fn monitor_daily(
        &self,
        environment: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<MonitorDay>>;

    /// The hourly summary of `environment` from the hour holding `since`,
    /// oldest first (runs, failures and a latency histogram per hour with
    /// runs, kept for the raw horizon).
    async fn monitor_hours(
        &self,
        environment: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<MonitorHour>>;

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

    /// [`Ledger::monitor_daily_many`] summed per environment: one pair per
    /// environment with runs since `since`, `day` the first day counted.
    async fn monitor_uptime_many(
        &self,
        environments: &[String],
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, MonitorDay)>>;

    /// [`Ledger::monitor_hours`] of each of `environments`, in one query:
    /// `(environment, hour)` pairs by environment name, then oldest hour first.
    async fn monitor_hours_many(
        &self,
        environments: &[String],
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(String, MonitorHour)>>;

    /// The newest run of each location (`runway monitor --location`) of
    /// each of `environments` since `since`, in one query, by environment
    /// then location; runs without a location are left out.
    async fn monitor_latest_by_location(
        &self,
        environments: &[String],
        since: DateTime<Utc>,
    ) -> Result<Vec<MonitorResult>>;

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
        let id = self.release_id_for(release).await?;
        let mut data = to_body(run)?;
        data["fact"] = artifacts::ARTIFACTS_FACT.into();
        redact_json(self.redactor(), &mut data);
        let event = self.event(EventKind::Fact, None, None, data);
        self.append_event(&id, &event, &|_| Ok(())).await?;
        Ok(id)
    }

    /// The id of the newest release record of `release.version`, recording
    /// `release` first when that version has none.
    async fn release_id_for(&self, release: &Release) -> Result<String> {
        let filter = Filter {
            kind: Some(Kind::Release),
            version: Some(release.version.clone()),
            ..Filter::default()
        };
        match self.query_latest(&filter).await?.pop() {
            Some(r) => Ok(r.id),
            None => self.record_release(release).await,
        }
    }

    /// The newest release record of `version` with its whole history, if any.
    async fn release_record(&self, version: &str) -> Result<Option<Record>> {
        let filter = Filter {
            kind: Some(Kind::Release),
            version: Some(version.to_owned()),
            ..Filter::default()
        };
        Ok(self.query(&filter, false).await?.pop())
    }

    /// What `runway release report` reads: every record of `version` (with
    /// check results left out) and the rollback deployments, of any version,
    /// that undo one of its deployments. Two queries.
    async fn release_history(&self, version: &str) -> Result<Vec<Record>> {
        let mut records = self
            .query(
                &Filter {
                    version: Some(version.to_owned()),
                    ..Filter::default()
                },
                false,
            )
            .await?;
        let ours: std::collections::HashSet<String> = records
            .iter()
            .filter(|r| r.kind == Kind::Deployment)
            .map(|r| r.id.clone())
            .collect();
        let Some(first) = records
            .iter()
            .filter(|r| r.kind == Kind::Deployment)
            .map(|r| r.created_at)
            .min()
        else {
            return Ok(records);
        };
        let later = self
            .query(
                &Filter {
                    kind: Some(Kind::Deployment),
                    since: Some(first),
                    ..Filter::default()
                },
                false,
            )
            .await?;
        records.extend(later.into_iter().filter(|r| {
            r.version.as_deref() != Some(version)
                && r.deployment()
                    .ok()
                    .and_then(|d| d.rollback_of)
                    .is_some_and(|of| ours.contains(&of))
        }));
        Ok(records)
    }

    /// Appends a yank, a yank's confirmation or an announcement to the newest
    /// release record of `release.version` (recording `release` first when
    /// that version has none), redacted. A confirmation is refused unless the
    /// record already holds a yank (checked inside the write transaction).
    /// Returns the release record's id.
    async fn record_release_fact(&self, release: &Release, fact: &ReleaseFact) -> Result<String> {
        let version = release.version.clone();
        let no_yank = || LedgerError::Invalid {
            what: format!(
                "no yank of `{version}` is recorded, so there is nothing to confirm: run `runway release yank {version} --reason TEXT` first"
            ),
        };
        let needs_yank = matches!(fact, ReleaseFact::YankConfirmed(_));
        let id = if needs_yank {
            // A confirmation never creates the release it confirms a yank of.
            self.release_record(&version).await?.ok_or_else(no_yank)?.id
        } else {
            self.release_id_for(release).await?
        };
        let mut data = to_body(fact)?;
        redact_json(self.redactor(), &mut data);
        let event = self.event(EventKind::Fact, None, None, data);
        let guard = move |r: &Record| {
            if needs_yank && release_facts::last_yank(r).is_none() {
                return Err(no_yank());
            }
            Ok(())
        };
        self.append_event(&id, &event, &guard).await?;
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
        self.open_incident_in(severity, title, deployment_id, None)
            .await
    }

    /// [`Ledger::open_incident`] in `environment` (`runway incident open
    /// --env`), with or without a deployment to blame; a blamed deployment
    /// of another environment is refused.
    async fn open_incident_in(
        &self,
        severity: Severity,
        title: &str,
        deployment_id: Option<&str>,
        environment: Option<&str>,
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
                if let Some(e) = environment.filter(|e| *e != body.environment) {
                    return Err(LedgerError::Invalid {
                        what: format!(
                            "deployment `{}` is of environment `{}`, not `{e}`: name a deployment of `{e}`, or leave out one of the two",
                            dep.id, body.environment
                        ),
                    });
                }
                (Some(dep.id), Some(body.environment), Some(body.release))
            }
            None => (None, environment.map(str::to_owned), None),
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
