//! The monitor as one service: which environments, their checks, rules and
//! notifiers from `runway.toml`; retention; the shared or local schedule; the
//! background loops (reminders, retention, delivery) and the last flush.
//!
//! A front end opens a [`Monitor`] on a ledger and runs it, once
//! ([`Monitor::run_once`], cron's `--once`) or until a [`Shutdown`]
//! ([`Monitor::run`]); what happens is told to its [`Report`] (the binary
//! prints lines and feeds the dashboard's metrics). Serving the dashboard
//! stays with the front end: it reads the same ledger ([`Monitor::ledger`]).

use std::{collections::BTreeMap, path::PathBuf, sync::Arc, time::Duration};

use async_trait::async_trait;
use runway_config::Loaded;
use runway_core::{Redactor, Secret, Shutdown};
use runway_ledger::{Ledger, LedgerError};
use runway_verify::{Context, Suite};

use crate::{
    AlertRunner, Clock, EngineProber, Job, Notifier, Outbox, Outcome, Rule, RunStats, Scheduler,
    SharedOptions, Sink, TokioClock, alerts::Change,
};

/// Raw runs older than this are folded into hourly rollups (see `docs/monitor.md`).
pub const RAW_HORIZON: chrono::Duration = chrono::Duration::days(7);
/// How often the running monitor applies retention.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Resolved alerts and delivered notifications older than this are deleted
/// (the dashboard shows 90 days); undelivered ones are kept whatever their age.
pub const ALERT_HORIZON: chrono::Duration = chrono::Duration::days(90);
/// How often the running monitor looks for notifications due for a retry.
pub const OUTBOX_EVERY: Duration = Duration::from_secs(5);
/// How long the last flush at shutdown may take.
pub const FINAL_FLUSH: Duration = Duration::from_secs(30);

/// Why the monitor cannot start.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error(
        "`{name}` is not a monitored environment in `{}` (monitored: {monitored})",
        file.display()
    )]
    NotMonitored {
        name: String,
        file: PathBuf,
        monitored: String,
    },
    #[error("no environment in `{}` has a `monitor` table", file.display())]
    NothingMonitored { file: PathBuf },
    #[error(
        "no monitored environment in `{}` is run from location `{location}`: each lists other `locations`",
        file.display()
    )]
    NotAtLocation { location: String, file: PathBuf },
    #[error("cannot monitor environment `{name}`")]
    Environment {
        name: String,
        #[source]
        source: runway_verify::EnvironmentError,
    },
    /// A notifier or a traffic source of an alert rule cannot be set up.
    #[error("{message} (in `{}`)", file.display())]
    Setting { message: String, file: PathBuf },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl runway_core::Diagnostic for MonitorError {
    fn hint(&self) -> Option<String> {
        match self {
            MonitorError::NotMonitored { name, .. } => {
                Some(format!("add `[environments.{name}.monitor]`"))
            }
            MonitorError::NothingMonitored { .. } => {
                Some("add `[environments.<name>.monitor]` with an `interval`".into())
            }
            MonitorError::NotAtLocation { location, .. } => Some(format!(
                "add `{location}` to an environment's `[environments.<name>.monitor] locations`, or start this worker with another `--location`"
            )),
            MonitorError::Environment { source, .. } => source.hint(),
            MonitorError::Setting { .. } => {
                Some("see `[notifiers]` and `[[alerts]]` in docs/monitor.md".into())
            }
            MonitorError::Ledger(e) => e.hint(),
        }
    }

    fn exit(&self) -> runway_core::Exit {
        match self {
            MonitorError::Ledger(e) => e.exit(),
            _ => runway_core::Exit::Usage,
        }
    }
}

/// Who runs the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleMode {
    /// This process keeps its own schedule.
    Local,
    /// Each due check is claimed through the ledger: several workers on one
    /// ledger run every check once per interval.
    Shared,
}

/// How to run: which environments, which schedule, under which worker name.
#[derive(Debug, Clone, Default)]
pub struct MonitorOptions {
    /// Only these environments (default: every monitored one).
    pub envs: Vec<String>,
    /// Default: shared on PostgreSQL, local on SQLite.
    pub schedule: Option<ScheduleMode>,
    /// This worker's name in the shared schedule (default `HOST:PID`).
    pub worker: Option<String>,
    /// Where this worker probes from (`--location`, already checked with
    /// [`runway_config::monitor::check_location`]): stored with each run;
    /// in the shared schedule each location runs every environment (of
    /// those whose `locations` list it) once per interval.
    pub location: Option<String>,
    /// Gives an environment's `logs` and `resources` conditions their feeds
    /// (its deploy target's output and process group or container); without
    /// it such conditions read as errors (inconclusive).
    pub target_sources: Option<TargetSources>,
}

/// What [`TargetSources`] calls: environment name and its sources in, the
/// sources with the target's feeds out.
pub type AttachTargets =
    dyn Fn(&str, runway_signals::Sources) -> Result<runway_signals::Sources, String> + Send + Sync;

/// Attaches the deploy target's feeds to an environment's sources: what the
/// binary passes, since this crate does not know the targets.
#[derive(Clone)]
pub struct TargetSources(pub std::sync::Arc<AttachTargets>);

impl std::fmt::Debug for TargetSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TargetSources")
    }
}

/// What the monitor tells its front end.
pub trait Report: Send + Sync {
    /// A run finished (and is stored).
    fn run(&self, outcome: &Outcome);
    /// An alert changed: fired, resolved, reminded, announced, or only updated.
    fn alert(&self, change: &Change);
    /// Something the operator should know about the service itself.
    fn note(&self, text: &str) {
        tracing::info!("{text}");
    }
}

/// The environments of `runway.toml` to monitor, with their checks, rules and notifiers.
pub struct Setup {
    pub jobs: Vec<Job>,
    contexts: BTreeMap<String, Context>,
    rules: Vec<Rule>,
    notifiers: Vec<Notifier>,
}

impl Setup {
    /// Reads the monitored environments of `loaded` (`envs`, or every one with a `monitor` table).
    pub fn from_config(loaded: &Loaded, envs: &[String]) -> Result<Setup, MonitorError> {
        let monitored: Vec<&String> = loaded
            .config
            .environments
            .iter()
            .filter(|(_, e)| e.monitor.is_some())
            .map(|(n, _)| n)
            .collect();
        for name in envs {
            if !monitored.contains(&name) {
                return Err(MonitorError::NotMonitored {
                    name: name.clone(),
                    file: loaded.path.clone(),
                    monitored: quoted(&monitored),
                });
            }
        }
        let chosen: Vec<&String> = monitored
            .into_iter()
            .filter(|n| envs.is_empty() || envs.contains(n))
            .collect();
        if chosen.is_empty() {
            return Err(MonitorError::NothingMonitored {
                file: loaded.path.clone(),
            });
        }
        let mut jobs = Vec::new();
        let mut contexts = BTreeMap::new();
        for name in chosen {
            let Some(m) = loaded.config.environments[name].monitor.as_ref() else {
                continue;
            };
            let mut job = Job::from_config(name, m);
            let mut c = Context::for_environment(loaded, name, None).map_err(|source| {
                MonitorError::Environment {
                    name: name.clone(),
                    source,
                }
            })?;
            if let Some(s) = m.suite {
                c.suite = s.as_str().parse().unwrap_or(Suite::Smoke);
            }
            c.run_timeout = job.timeout;
            job.token_expires_at = c
                .token
                .as_ref()
                .and_then(|t| crate::token::jwt_expiry(t.expose()));
            contexts.insert(name.clone(), c);
            jobs.push(job);
        }
        // The rules of the chosen environments, and the notifiers they use.
        let rules: Vec<Rule> = loaded
            .config
            .alerts
            .iter()
            .filter(|a| contexts.contains_key(a.environment.get_ref()))
            .map(|a| {
                let env = &loaded.config.environments[a.environment.get_ref()];
                let maintenance = env
                    .monitor
                    .as_ref()
                    .map(|m| m.maintenance.clone())
                    .unwrap_or_default();
                let rule = Rule::from_config_with(a, &maintenance, env.analysis.as_ref());
                match env.monitor.as_ref() {
                    Some(m) => rule.with_interval(m.interval()),
                    None => rule,
                }
            })
            .collect();
        let mut notifiers = Vec::new();
        for (name, n) in &loaded.config.notifiers {
            if !rules.iter().any(|r| r.notify.contains(name)) {
                continue;
            }
            let n = Notifier::from_config(name, n, |k| std::env::var(k).ok()).map_err(|e| {
                MonitorError::Setting {
                    message: e.to_string(),
                    file: loaded.path.clone(),
                }
            })?;
            notifiers.push(n);
        }
        Ok(Setup {
            jobs,
            contexts,
            rules,
            notifiers,
        })
    }

    /// The monitored environments, in schedule order.
    pub fn environments(&self) -> Vec<String> {
        self.jobs.iter().map(|j| j.environment.clone()).collect()
    }

    /// Every secret the checks and notifiers hold, for the ledger's redactor.
    fn secrets(&self) -> Vec<Secret> {
        let mut out: Vec<Secret> = self
            .contexts
            .values()
            .filter_map(|c| c.token.clone())
            .collect();
        for n in &self.notifiers {
            out.extend(n.secrets());
        }
        out
    }
}

/// The monitor, opened on its ledger, ready to run.
pub struct Monitor {
    ledger: Arc<dyn Ledger>,
    jobs: Vec<Job>,
    prober: Arc<EngineProber>,
    shared: bool,
    worker: String,
    location: Option<String>,
    /// Every chosen environment, also those this location does not run.
    monitored: Vec<String>,
    clock: Arc<dyn Clock>,
    outbox: Arc<Outbox>,
    alerts: Option<Arc<AlertRunner>>,
}

impl Monitor {
    /// Opens the monitor on `ledger`: secrets (the checks', the notifiers' and
    /// `extra_secrets`) are redacted from what it stores, retention is applied,
    /// the alert rules start from the alerts the ledger holds.
    pub async fn open(
        loaded: &Loaded,
        setup: Setup,
        mut ledger: Box<dyn Ledger>,
        opts: &MonitorOptions,
        extra_secrets: &[Secret],
    ) -> Result<Monitor, MonitorError> {
        let mut redactor = Redactor::new();
        for s in setup.secrets().iter().chain(extra_secrets) {
            redactor.add(s);
        }
        ledger.set_redactor(redactor);
        let ledger: Arc<dyn Ledger> = Arc::from(ledger);
        let pruned = ledger
            .prune_monitor(chrono::Utc::now() - RAW_HORIZON)
            .await?;
        tracing::debug!(folded = pruned.folded, "monitor retention");
        let pruned = ledger
            .prune_alerts(chrono::Utc::now() - ALERT_HORIZON)
            .await?;
        tracing::debug!(
            alerts = pruned.alerts,
            notifications = pruned.notifications,
            "alert retention"
        );
        let shared = match opts.schedule {
            Some(mode) => mode == ScheduleMode::Shared,
            None => ledger.url().backend() == "postgres",
        };
        let monitored = setup.environments();
        let jobs = located(loaded, setup.jobs, opts.location.as_deref())?;
        let clock: Arc<dyn Clock> = Arc::new(TokioClock::new());
        let outbox = Arc::new(Outbox::new(ledger.clone(), setup.notifiers));
        let alerts = if setup.rules.is_empty() {
            None
        } else {
            // `{version}` in a rule's PromQL: what the ledger last deployed there.
            let mut versions = BTreeMap::new();
            for r in &setup.rules {
                if let Some(d) = ledger.recent_deployments(&r.environment, 1).await?.first() {
                    versions.insert(r.environment.clone(), d.deployment.release.clone());
                }
            }
            let sources = crate::alerts::traffic_sources(
                loaded,
                &setup.rules,
                &versions,
                opts.target_sources.as_ref(),
            )
            .map_err(|e| MonitorError::Setting {
                message: e.to_string(),
                file: loaded.path.clone(),
            })?;
            let runner = AlertRunner::start(setup.rules, ledger.clone(), clock.now())
                .await?
                .with_waker(outbox.waker())
                .with_sources(sources)
                .await;
            Some(Arc::new(if shared { runner.shared() } else { runner }))
        };
        Ok(Monitor {
            ledger,
            jobs,
            prober: Arc::new(EngineProber::new(setup.contexts)),
            shared,
            worker: opts.worker.clone().unwrap_or_else(default_worker),
            location: opts.location.clone(),
            monitored,
            clock,
            outbox,
            alerts,
        })
    }

    /// The ledger the monitor stores its runs in (the dashboard reads it).
    pub fn ledger(&self) -> Arc<dyn Ledger> {
        self.ledger.clone()
    }

    /// Whether the schedule is shared through the ledger.
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// The monitored environments, in schedule order (the dashboard's):
    /// with a location, also those only other locations run.
    pub fn environments(&self) -> Vec<String> {
        self.monitored.clone()
    }

    fn scheduler(&self, report: Arc<dyn Report>) -> (Scheduler, Arc<Recorder>) {
        let recorder = Arc::new(Recorder {
            ledger: self.ledger.clone(),
            alerts: self.alerts.clone(),
            clock: self.clock.clone(),
            report,
        });
        let scheduler = Scheduler::new(
            self.jobs.clone(),
            self.prober.clone(),
            recorder.clone(),
            self.clock.clone(),
        );
        (scheduler, recorder)
    }

    /// Runs what is due once (cron's `--once`): on a local schedule, each
    /// environment with no stored run within its interval; on a shared one,
    /// what is due there, claimed as any worker does. Then the reminders and
    /// announcements that fell due and the notifications still queued.
    pub async fn run_once(&self, report: Arc<dyn Report>) -> Result<Vec<Outcome>, MonitorError> {
        let mut due = BTreeMap::new();
        for job in &self.jobs {
            let since = chrono::Utc::now()
                - chrono::Duration::from_std(job.interval).unwrap_or(chrono::Duration::MAX);
            let recent = self.ledger.monitor_results(&job.environment, since).await?;
            let here = recent.iter().any(|r| r.location == job.location);
            due.insert(job.environment.clone(), !here);
        }
        let (scheduler, recorder) = self.scheduler(report);
        let outcomes = if self.shared {
            let opts = SharedOptions::for_jobs(self.worker.clone(), scheduler.jobs());
            scheduler.run_shared_once(self.ledger.clone(), opts).await?
        } else {
            scheduler
                .run_once(|j| due.get(&j.environment).copied().unwrap_or(true))
                .await
        };
        recorder.tick().await;
        let flushed = self.outbox.flush(self.clock.as_ref()).await;
        if flushed.waiting > 0 {
            tracing::warn!(
                waiting = flushed.waiting,
                "some notifications could not be delivered; they stay queued for the next run"
            );
        }
        Ok(outcomes)
    }

    /// Runs the schedule until `shutdown`, with reminders, retention and
    /// delivery in the background; at the end, the runs under way are
    /// drained and what they queued is flushed (bounded by [`FINAL_FLUSH`]).
    pub async fn run(
        self,
        report: Arc<dyn Report>,
        shutdown: Shutdown,
    ) -> Result<RunStats, MonitorError> {
        let (scheduler, recorder) = self.scheduler(report.clone());
        let ticker = tokio::spawn(async move {
            loop {
                tokio::time::sleep(crate::alerts::TICK_EVERY).await;
                recorder.tick().await;
            }
        });
        let pruner = {
            let ledger = self.ledger.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(PRUNE_EVERY).await;
                    if let Err(e) = ledger.prune_monitor(chrono::Utc::now() - RAW_HORIZON).await {
                        tracing::warn!("monitor retention failed: {e}");
                    }
                    if let Err(e) = ledger
                        .prune_alerts(chrono::Utc::now() - ALERT_HORIZON)
                        .await
                    {
                        tracing::warn!("alert retention failed: {e}");
                    }
                }
            })
        };
        let delivery = {
            let outbox = self.outbox.clone();
            let clock = self.clock.clone();
            tokio::spawn(async move {
                outbox
                    .run(clock, OUTBOX_EVERY, std::future::pending::<()>())
                    .await
            })
        };
        let stop = async move {
            shutdown.fired().await;
        };
        let stats = if self.shared {
            let opts = SharedOptions::for_jobs(self.worker.clone(), scheduler.jobs());
            let from = match &self.location {
                Some(l) => format!(" from location `{l}`"),
                None => String::new(),
            };
            report.note(&format!(
                "worker `{}`{from} shares the schedule in {} (lease {})",
                self.worker,
                self.ledger.url(),
                humantime::format_duration(opts.lease)
            ));
            scheduler.run_shared(self.ledger.clone(), opts, stop).await
        } else {
            Ok(scheduler.run(stop).await)
        };
        pruner.abort();
        ticker.abort();
        delivery.abort();
        // What the last runs queued; a notification cut here stays queued.
        let _ = tokio::time::timeout(FINAL_FLUSH, self.outbox.flush(self.clock.as_ref())).await;
        Ok(stats?)
    }

    /// The worker's name in the shared schedule.
    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// Where this worker probes from (`--location`).
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }
}

/// Stores each run, moves the alerts it touches, and tells the report.
struct Recorder {
    ledger: Arc<dyn Ledger>,
    alerts: Option<Arc<AlertRunner>>,
    clock: Arc<dyn Clock>,
    report: Arc<dyn Report>,
}

impl Recorder {
    /// Reminders and the announcements of mutes that ended, due between runs.
    async fn tick(&self) {
        let Some(alerts) = &self.alerts else {
            return;
        };
        for c in alerts.tick(self.clock.now()).await {
            self.report.alert(&c);
        }
    }
}

#[async_trait]
impl Sink for Recorder {
    async fn record(&self, outcome: &Outcome) {
        if let Err(e) = self
            .ledger
            .record_monitor_result(&outcome.to_stored())
            .await
        {
            tracing::error!("could not record a monitor run: {e}");
        }
        self.record_stored(outcome).await;
    }

    async fn record_stored(&self, outcome: &Outcome) {
        self.report.run(outcome);
        if let Some(alerts) = &self.alerts {
            for c in alerts.after_run(outcome, self.clock.now()).await {
                self.report.alert(&c);
            }
        }
    }
}

/// The jobs this worker runs from `location`: each gets the location (its
/// runs carry it; its shared-schedule key is `environment@location`), and an
/// environment whose `monitor.locations` does not list it is left out.
fn located(
    loaded: &Loaded,
    jobs: Vec<Job>,
    location: Option<&str>,
) -> Result<Vec<Job>, MonitorError> {
    let Some(location) = location else {
        return Ok(jobs);
    };
    let listed = |env: &str| {
        loaded
            .config
            .environments
            .get(env)
            .and_then(|e| e.monitor.as_ref())
            .and_then(|m| m.locations.as_ref())
            .is_none_or(|l| l.iter().any(|x| x == location))
    };
    let out: Vec<Job> = jobs
        .into_iter()
        .filter(|j| listed(&j.environment))
        .map(|mut j| {
            j.location = Some(location.to_owned());
            j
        })
        .collect();
    if out.is_empty() {
        return Err(MonitorError::NotAtLocation {
            location: location.to_owned(),
            file: loaded.path.clone(),
        });
    }
    Ok(out)
}

/// `HOST:PID`: unique among live workers, readable in the ledger.
fn default_worker() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{host}:{}", std::process::id())
}

fn quoted(v: &[&String]) -> String {
    if v.is_empty() {
        return "none".into();
    }
    v.iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
