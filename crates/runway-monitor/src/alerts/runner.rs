//! The alert engine on the ledger: open alerts restored at start, each run
//! and tick evaluated, every change stored with its notifications, and the
//! traffic conditions read after each run.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::Duration,
};

use chrono::{DateTime, Utc};
use runway_config::sources::SourceKind;
use runway_ledger::{AlertRecord, Ledger, LedgerError};
use runway_signals::Sources;

use super::*;
use crate::outcome::Outcome;

/// The engine wired to the ledger: restores the open instances and recent
/// runs at start, and after each run evaluates its environment's rules and
/// stores every change with its notifications (one transaction each).
pub struct AlertRunner {
    engine: tokio::sync::Mutex<AlertEngine>,
    ledger: Arc<dyn Ledger>,
    wake: Option<Arc<tokio::sync::Notify>>,
    /// Other workers share the schedule: start each evaluation from the ledger.
    shared: bool,
    /// Each environment's traffic conditions, read after each of its runs
    /// (one lock each: environments read theirs side by side).
    sources: HashMap<String, tokio::sync::Mutex<Sources>>,
}

/// Bound on reading one environment's traffic conditions after a run (each
/// scrape and query has its own, shorter, timeout; this caps them all).
pub const TRAFFIC_READ_BOUND: Duration = Duration::from_secs(60);

impl AlertRunner {
    /// Restores from `ledger`: its open instances, and the stored runs each
    /// environment's longest window reaches back to at `now`.
    pub async fn start(
        rules: Vec<Rule>,
        ledger: Arc<dyn Ledger>,
        now: DateTime<Utc>,
    ) -> Result<AlertRunner, LedgerError> {
        let mut engine = AlertEngine::new(rules);
        let closed = engine.restore(ledger.open_alerts().await?, now);
        for c in closed {
            ledger.save_alert(&c.alert, &c.notify).await?;
        }
        let mut reach: BTreeMap<String, Duration> = BTreeMap::new();
        for r in engine.rules() {
            let e = reach.entry(r.environment.clone()).or_default();
            *e = (*e).max(r.window);
        }
        for (env, window) in reach {
            let since = now - chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
            for r in ledger.monitor_results(&env, since).await? {
                engine.observe(&Outcome::from_stored(&r));
            }
        }
        Ok(AlertRunner {
            engine: tokio::sync::Mutex::new(engine),
            ledger,
            wake: None,
            shared: false,
            sources: HashMap::new(),
        })
    }

    /// Several workers share the schedule ([`crate::shared`]): before each
    /// evaluation the environment's runs and open instances are read back
    /// from the ledger, so whichever worker ran the check judges the same
    /// window and moves the same instance.
    pub fn shared(mut self) -> AlertRunner {
        self.shared = true;
        self
    }

    /// Wakes the outbox whenever a change queued a notification.
    pub fn with_waker(mut self, wake: Arc<tokio::sync::Notify>) -> AlertRunner {
        self.wake = Some(wake);
        self
    }

    /// Reads these traffic conditions (by environment) after each run, for
    /// the `metrics`/`prometheus` rules ([`traffic_sources`] builds them).
    /// The `metrics` sources are scraped once now, so the first run already
    /// has a window to judge (the traffic while it ran).
    pub async fn with_sources(mut self, sources: HashMap<String, Sources>) -> AlertRunner {
        for (env, mut s) in sources {
            let _ = tokio::time::timeout(TRAFFIC_READ_BOUND, s.prime(SourceKind::Metrics)).await;
            self.sources.insert(env, tokio::sync::Mutex::new(s));
        }
        self
    }

    /// Adds `outcome` to the history, reads its environment's traffic
    /// conditions (bounded by [`TRAFFIC_READ_BOUND`]), evaluates its rules at
    /// `now` and stores what changed. Returns the changes stored.
    pub async fn after_run(&self, outcome: &Outcome, now: DateTime<Utc>) -> Vec<Change> {
        let readings = {
            match self.sources.get(&outcome.environment) {
                Some(s) => match tokio::time::timeout(TRAFFIC_READ_BOUND, async {
                    s.lock().await.tick().await
                })
                .await
                {
                    Ok(e) => e,
                    Err(_) => {
                        tracing::warn!(
                            environment = %outcome.environment,
                            "reading the traffic conditions took longer than {}: nothing judged this run",
                            humantime::format_duration(TRAFFIC_READ_BOUND)
                        );
                        Vec::new()
                    }
                },
                None => Vec::new(),
            }
        };
        let mut engine = self.engine.lock().await;
        // A quorum judges the other locations' runs, which only the ledger has.
        let quorum = engine
            .rules()
            .iter()
            .any(|r| r.environment == outcome.environment && r.quorum.is_some());
        if self.shared || quorum {
            self.resync(&mut engine, outcome, now).await;
        }
        engine.observe(outcome);
        engine.observe_readings(&outcome.environment, readings);
        let changes = engine.evaluate(&outcome.environment, now);
        self.store(&mut engine, changes).await
    }

    /// Between runs: announces a firing alert whose mute or silence ended
    /// and sends the reminders that fell due, without judging anything
    /// again (thresholds count runs, not ticks). The binary calls it every
    /// [`TICK_EVERY`], and `--once` after its runs. With a shared schedule
    /// the open instances are read back from the ledger first; two workers
    /// that both find a reminder due queue it once (its key is its slot).
    pub async fn tick(&self, now: DateTime<Utc>) -> Vec<Change> {
        let mut engine = self.engine.lock().await;
        if self.shared {
            match self.ledger.open_alerts().await {
                Ok(open) => engine.replace_open(open),
                Err(e) => {
                    tracing::warn!(
                        "cannot read the shared alert state; ticking from this worker's: {e}"
                    );
                }
            }
        }
        let changes = engine.tick(now);
        self.store(&mut engine, changes).await
    }

    /// Stores each change with its notifications (one transaction each) and
    /// wakes the outbox when one queued something.
    async fn store(&self, engine: &mut AlertEngine, changes: Vec<Change>) -> Vec<Change> {
        let mut stored = Vec::new();
        let mut queued = false;
        for mut c in changes {
            match self.ledger.save_alert(&c.alert, &c.notify).await {
                Ok(id) => {
                    c.alert.id = id;
                    engine.stored(&c.alert.fingerprint, id);
                    queued |= !c.notify.is_empty();
                    stored.push(c);
                }
                Err(e) => {
                    tracing::error!(
                        alert = %c.alert.rule,
                        environment = %c.alert.environment,
                        "cannot store an alert: {e}"
                    );
                    engine.forget(&c.alert.fingerprint);
                    // Another monitor opened it first: continue from its instance.
                    if matches!(e, LedgerError::Duplicate { .. })
                        && let Ok(open) = self.ledger.open_alerts().await
                        && let Some(a) = open
                            .into_iter()
                            .find(|a| a.fingerprint == c.alert.fingerprint)
                    {
                        engine.adopt(a);
                    }
                }
            }
        }
        if queued && let Some(w) = &self.wake {
            w.notify_one();
        }
        stored
    }

    async fn resync(&self, engine: &mut AlertEngine, outcome: &Outcome, now: DateTime<Utc>) {
        let env = &outcome.environment;
        let Some(reach) = engine.history.reach(env) else {
            return;
        };
        let since = now - chrono::Duration::from_std(reach).unwrap_or(chrono::Duration::MAX);
        let (runs, open) = match (
            self.ledger.monitor_results(env, since).await,
            self.ledger.open_alerts().await,
        ) {
            (Ok(r), Ok(o)) => (r, o),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(environment = %env, "cannot read the shared alert state; judging from this worker's: {e}");
                return;
            }
        };
        // The run just stored is observed whole (with what the ledger does not keep).
        let runs = runs
            .iter()
            .filter(|r| r.at != outcome.at || r.location != outcome.location)
            .map(Outcome::from_stored)
            .collect();
        engine.resync(env, runs, open);
    }

    /// The open instances as this process sees them.
    pub async fn open_alerts(&self) -> Vec<AlertRecord> {
        self.engine
            .lock()
            .await
            .open_alerts()
            .into_iter()
            .cloned()
            .collect()
    }
}

/// The traffic conditions the `metrics`/`prometheus` rules of each
/// environment read, with their sources as `[environments.<env>.analysis]`
/// configures them (`${VAR}` in URLs, `token_env`/`token_file`). A `metrics`
/// condition's window defaults to the environment's monitor interval.
/// `versions` fill `{version}` in PromQL (the version the ledger last
/// deployed there; empty when none); `{environment}` is the name.
pub fn traffic_sources(
    loaded: &runway_config::Loaded,
    rules: &[Rule],
    versions: &BTreeMap<String, String>,
    targets: Option<&crate::service::TargetSources>,
) -> Result<HashMap<String, Sources>, TrafficSetupError> {
    let mut out = HashMap::new();
    let mut wanted: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in rules {
        if let When::Traffic { condition, .. } = &r.when {
            let v = wanted.entry(r.environment.as_str()).or_default();
            if !v.contains(&condition.as_str()) {
                v.push(condition.as_str());
            }
        }
    }
    for (env, names) in wanted {
        let e = loaded
            .config
            .environments
            .get(env)
            .ok_or_else(|| TrafficSetupError::UnknownEnvironment(env.to_owned()))?;
        let mut a = e
            .analysis
            .clone()
            .ok_or_else(|| TrafficSetupError::NoAnalysis(env.to_owned()))?;
        a.conditions.retain(|c| names.contains(&c.name.trim()));
        if let Some(m) = e.monitor.as_ref() {
            a.interval = Some(runway_config::deploy::DurationValue(m.interval()));
        }
        let interp = |f: &'static str, raw: &str| {
            runway_config::interpolate::interpolate_env(raw).map_err(|var| {
                TrafficSetupError::UnsetVariable {
                    env: env.to_owned(),
                    field: f,
                    var: var.to_string(),
                }
            })
        };
        if let Some(m) = a.metrics.as_mut()
            && let Some(u) = &m.url
        {
            m.url = Some(interp("metrics.url", u)?);
        }
        if let Some(p) = a.prometheus.as_mut() {
            p.url = interp("prometheus.url", &p.url)?;
            if let Some(f) = &p.token_file {
                p.token_file = Some(loaded.root.join(f).display().to_string());
            }
        }
        let path = e.metrics_path.as_deref().unwrap_or("/metrics");
        let default_metrics = if path.starts_with("http://") || path.starts_with("https://") {
            url::Url::parse(path).ok()
        } else {
            e.url
                .as_deref()
                .and_then(|u| runway_config::interpolate::interpolate_env(u).ok())
                .and_then(|u| url::Url::parse(&u).ok())
                .and_then(|u| u.join(path).ok())
        };
        let vars = runway_signals::prometheus::Vars {
            version: versions.get(env).cloned().unwrap_or_default(),
            previous_version: None,
            environment: env.to_owned(),
        };
        let mut s = Sources::from_config(&a, default_metrics, vars).map_err(|source| {
            TrafficSetupError::Sources {
                env: env.to_owned(),
                source,
            }
        })?;
        if let Some(t) = targets {
            s = (t.0)(env, s).map_err(|message| TrafficSetupError::Target {
                env: env.to_owned(),
                message,
            })?;
        }
        out.insert(env.to_owned(), s);
    }
    Ok(out)
}

/// Why the traffic an alert rule reads cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum TrafficSetupError {
    #[error("`{0}` is not an environment")]
    UnknownEnvironment(String),
    #[error("alerts read the traffic of `{0}`, but it has no `[environments.{0}.analysis]`")]
    NoAnalysis(String),
    #[error("`environments.{env}.analysis.{field}` uses `${{{var}}}`, which is not set")]
    UnsetVariable {
        env: String,
        field: &'static str,
        var: String,
    },
    #[error("the `logs`/`resources` alerts of `{env}` cannot read its deploy target: {message}")]
    Target { env: String, message: String },
    #[error("the traffic alerts of `{env}`: {source}")]
    Sources {
        env: String,
        source: runway_signals::SourcesError,
    },
}
