//! `runway monitor`: run each monitored environment's suite on its schedule
//! (or once, with `--once`) and print one line per run.
//!
//! Parse, wire, render: the schedule, the reason classes and the statuses
//! are `runway_monitor`'s, the pages `runway_web`'s; this module builds each
//! environment's check context, passes SIGTERM/Ctrl-C in as the shutdown,
//! serves the dashboard beside the schedule (`--listen`), and prints.

use std::{collections::BTreeMap, sync::Arc};

use anyhow::Context as _;
use async_trait::async_trait;
use runway_core::Exit;
use runway_ledger::Ledger;
use runway_monitor::{
    AlertRunner, Clock, EngineProber, Job, Notifier, Outbox, Outcome, Rule, Scheduler,
    SharedOptions, Sink, TokioClock,
    alerts::{Change, Transition},
};
use runway_verify::{Context, Suite};

use super::Ctx;
use crate::error::usage;
use crate::term::shown;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status with `--once`: 0 every run passed, 1 a run failed, 2 usage or configuration error, 3 internal error.

Examples:
  runway monitor                      run until SIGTERM or Ctrl-C
  runway monitor --once --env production
  runway monitor --once --json
  runway monitor --listen 127.0.0.1:8787   serve the dashboard, /status, /api, /metrics"
)]
pub struct Args {
    /// Run every monitored environment's suite once, print the results and exit.
    #[arg(long)]
    pub once: bool,

    /// Only this environment (repeat for several; default: every environment
    /// with an `[environments.<name>.monitor]` table).
    #[arg(long = "env", value_name = "NAME")]
    pub envs: Vec<String>,

    /// Print each run as one JSON object per line.
    #[arg(long)]
    pub json: bool,

    /// Serve the dashboard, the status page, the JSON API, `/metrics`,
    /// `/livez` and `/readyz` on ADDR beside the schedule (`127.0.0.1:8787`, or a
    /// bare port for 127.0.0.1; default: `[web] listen`, else nothing is served).
    #[arg(long, value_name = "ADDR", conflicts_with = "once")]
    pub listen: Option<String>,

    /// `shared`: claim each due check through the ledger, so several
    /// workers on one ledger run every check exactly once per interval and
    /// take over a dead worker's checks when its leases lapse; `local`: this
    /// process keeps its own schedule. Default: `shared` on a PostgreSQL
    /// ledger, `local` on SQLite.
    #[arg(long, value_name = "MODE", value_parser = ["local", "shared"])]
    pub schedule: Option<String>,

    /// This worker's name in the shared schedule (stored with each run it
    /// makes; default `HOST:PID`).
    #[arg(long, value_name = "NAME")]
    pub worker: Option<String>,

    #[command(flatten)]
    pub ledger: super::LedgerOpt,
}

/// `ADDR` as a socket address: `host:port`, `[::1]:port`, or a bare port on 127.0.0.1.
fn listen_addr(s: &str, origin: &str) -> anyhow::Result<std::net::SocketAddr> {
    let s = s.trim();
    if let Ok(port) = s.parse::<u16>() {
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Some(port) = s
        .strip_prefix("localhost:")
        .and_then(|p| p.parse::<u16>().ok())
    {
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse().map_err(|_| {
        usage(format!(
            "{origin} `{s}` is not an address to listen on: give `127.0.0.1:8787`, `[::1]:8787` or a port"
        ))
    })
}

/// Raw runs older than this are folded into hourly rollups (see `docs/monitor.md`).
const RAW_HORIZON: chrono::Duration = chrono::Duration::days(7);
/// How often the running monitor applies retention.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);
/// Resolved alerts and delivered notifications older than this are deleted
/// (the dashboard shows 90 days); undelivered ones are kept whatever their age.
const ALERT_HORIZON: chrono::Duration = chrono::Duration::days(90);
/// How often the running monitor looks for notifications due for a retry.
const OUTBOX_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
/// How long the last flush at shutdown may take.
const FINAL_FLUSH: std::time::Duration = std::time::Duration::from_secs(30);

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Exit> {
    let Some(loaded) = ctx.config()? else {
        return Err(usage(format!(
            "no `runway.toml` in `{}` or its parents: `runway monitor` checks the environments it lists",
            ctx.dir().display()
        )));
    };
    let monitored: Vec<&String> = loaded
        .config
        .environments
        .iter()
        .filter(|(_, e)| e.monitor.is_some())
        .map(|(n, _)| n)
        .collect();
    for name in &args.envs {
        if !monitored.contains(&name) {
            return Err(usage(format!(
                "`{name}` is not a monitored environment in `{}` (monitored: {}); add `[environments.{name}.monitor]`",
                loaded.path.display(),
                names(&monitored)
            )));
        }
    }
    let chosen: Vec<&String> = monitored
        .into_iter()
        .filter(|n| args.envs.is_empty() || args.envs.contains(n))
        .collect();
    if chosen.is_empty() {
        return Err(usage(format!(
            "no environment in `{}` has a `monitor` table: add `[environments.<name>.monitor]` with an `interval`",
            loaded.path.display()
        )));
    }
    let mut jobs = Vec::new();
    let mut contexts = BTreeMap::new();
    for name in chosen {
        let env = &loaded.config.environments[name];
        let Some(m) = env.monitor.as_ref() else {
            continue;
        };
        let job = Job::from_config(name, m);
        let mut c = Context::for_environment(&loaded, name, None)
            .with_context(|| format!("cannot monitor environment `{name}`"))?;
        if let Some(s) = m.suite {
            c.suite = s.as_str().parse().unwrap_or(Suite::Smoke);
        }
        c.run_timeout = job.timeout;
        let mut job = job;
        job.token_expires_at = c
            .token
            .as_ref()
            .and_then(|t| runway_monitor::token::jwt_expiry(t.expose()));
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
            Rule::from_config_with(a, &maintenance, env.analysis.as_ref())
        })
        .collect();
    let mut notifiers = Vec::new();
    for (name, n) in &loaded.config.notifiers {
        if !rules.iter().any(|r| r.notify.contains(name)) {
            continue;
        }
        let n = Notifier::from_config(name, n, |k| std::env::var(k).ok())
            .map_err(|e| usage(format!("{e} (in `{}`)", loaded.path.display())))?;
        notifiers.push(n);
    }
    let web_cfg = &loaded.config.web;
    let listen = match (&args.listen, &web_cfg.listen) {
        (Some(a), _) => Some(listen_addr(a, "`--listen`")?),
        (None, Some(a)) if !args.once => Some(listen_addr(a, "`[web] listen`")?),
        _ => None,
    };
    let web_token = match (&listen, &web_cfg.token_env) {
        (Some(_), Some(var)) => Some(runway_config::token::from_env(var, "`[web] token_env`")?),
        _ => None,
    };
    // Opened before any run, so a bad ledger URL costs nothing.
    // Runs finish many at a time: enough connections that storing them does not queue.
    let mut ledger = ctx.open_ledger_with(&args.ledger, 8).await?;
    // A deployment cut off by a crash is ended, and a version put back where
    // nothing serves, before the environment is watched.
    for name in contexts.keys() {
        if loaded.config.environments[name].deploy.is_none() {
            continue;
        }
        let own = ctx.open_ledger_with(&args.ledger, 1).await?;
        let env = match runway_runbook::Env::open(loaded.clone(), name, own) {
            Ok(env) => env,
            Err(e) => {
                eprintln!("runway monitor: {name}: no recovery check: {e}");
                continue;
            }
        };
        match runway_runbook::recover(&env).await {
            Ok(notes) => {
                for note in notes {
                    eprintln!("runway monitor: {name}: recovery: {note}");
                }
            }
            Err(e) => eprintln!("runway monitor: {name}: recovery failed: {e}"),
        }
        env.ledger.close().await;
    }
    let mut redactor = runway_core::Redactor::new();
    for c in contexts.values() {
        if let Some(t) = &c.token {
            redactor.add(t);
        }
    }
    for n in &notifiers {
        for s in n.secrets() {
            redactor.add(&s);
        }
    }
    if let Some(t) = &web_token {
        redactor.add(t);
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
    let shared = match args.schedule.as_deref() {
        Some("shared") => true,
        Some(_) => false,
        None => ledger.url().backend() == "postgres",
    };
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::new());
    let outbox = Arc::new(Outbox::new(ledger.clone(), notifiers));
    let alerts = if rules.is_empty() {
        None
    } else {
        // `{version}` in a rule's PromQL: what the ledger last deployed there.
        let mut versions = BTreeMap::new();
        for r in &rules {
            if let Some(d) = ledger.recent_deployments(&r.environment, 1).await?.first() {
                versions.insert(r.environment.clone(), d.deployment.release.clone());
            }
        }
        let sources = runway_monitor::alerts::traffic_sources(&loaded, &rules, &versions)
            .map_err(|e| usage(format!("{e} (in `{}`)", loaded.path.display())))?;
        let runner = AlertRunner::start(rules, ledger.clone(), clock.now())
            .await?
            .with_waker(outbox.waker())
            .with_sources(sources)
            .await;
        Some(Arc::new(if shared { runner.shared() } else { runner }))
    };
    // `--once` runs what is due: no stored run within its interval.
    let mut due = BTreeMap::new();
    for job in &jobs {
        let since = chrono::Utc::now()
            - chrono::Duration::from_std(job.interval).unwrap_or(chrono::Duration::MAX);
        let recent = ledger.monitor_results(&job.environment, since).await?;
        due.insert(job.environment.clone(), recent.is_empty());
    }
    let web = match listen {
        Some(_) => {
            let title = web_cfg
                .title
                .clone()
                .or_else(|| loaded.config.project.name.clone())
                .unwrap_or_else(|| "Status".to_owned());
            let web = runway_web::Web::new(
                ledger.clone(),
                jobs.iter().map(|j| j.environment.clone()).collect(),
            )
            .with_token(web_token)
            .with_hosts(web_cfg.hosts.clone())
            .with_rate_limit(
                web_cfg
                    .rate_limit
                    .unwrap_or(runway_web::ANONYMOUS_PER_SECOND),
            )
            .with_title(title)
            .with_alerts(Arc::new(runway_web::LedgerAlerts::new(
                ledger.clone(),
                loaded
                    .config
                    .notifiers
                    .iter()
                    .map(|(n, c)| (n.clone(), c.kind.as_str().to_owned()))
                    .collect(),
            )));
            web.load_statuses().await;
            Some(Arc::new(web))
        }
        None => None,
    };
    let sink = Arc::new(Printer {
        json: args.json,
        ledger: ledger.clone(),
        alerts,
        clock: clock.clone(),
        metrics: web.as_ref().map(|w| w.metrics.clone()),
    });
    let ticking = sink.clone();
    let scheduler = Scheduler::new(
        jobs,
        Arc::new(EngineProber::new(contexts)),
        sink,
        clock.clone(),
    );
    let worker = args.worker.clone().unwrap_or_else(default_worker);
    if args.once {
        let outcomes = if shared {
            // Whatever is due in the shared schedule, claimed like any worker does.
            let opts = SharedOptions::for_jobs(worker, scheduler.jobs());
            scheduler.run_shared_once(ledger.clone(), opts).await?
        } else {
            scheduler
                .run_once(|j| due.get(&j.environment).copied().unwrap_or(true))
                .await
        };
        // Reminders and announcements due between runs (cron's `--once` too),
        // then what this round queued and whatever earlier rounds could not deliver.
        ticking.tick().await;
        let flushed = outbox.flush(clock.as_ref()).await;
        if flushed.waiting > 0 {
            tracing::warn!(
                waiting = flushed.waiting,
                "some notifications could not be delivered; they stay queued for the next run"
            );
        }
        return Ok(if outcomes.iter().all(|o| o.ok) {
            Exit::Success
        } else {
            Exit::Failed
        });
    }
    // Between runs: reminders and the announcements of mutes that ended.
    let ticker = {
        let ticking = ticking.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(runway_monitor::alerts::TICK_EVERY).await;
                ticking.tick().await;
            }
        })
    };
    let pruner = {
        let ledger = ledger.clone();
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
        let outbox = outbox.clone();
        let clock = clock.clone();
        tokio::spawn(async move {
            outbox
                .run(clock, OUTBOX_EVERY, std::future::pending::<()>())
                .await
        })
    };
    // Bound before the first run, so the address is taken (or refused) at start-up.
    let server = match (listen, &web) {
        (Some(addr), Some(web)) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            let bound = listener.local_addr()?;
            if !bound.ip().is_loopback() {
                tracing::warn!(
                    "serving on {bound}, which is not a loopback address: the status page and /metrics are reachable from other machines"
                );
            }
            eprintln!("runway monitor: serving the dashboard on http://{bound}/");
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let web = web.clone();
            let task = tokio::spawn(async move {
                runway_web::serve(listener, web, async {
                    let _ = stopped.await;
                })
                .await
            });
            Some((stop, task))
        }
        _ => None,
    };
    if let Some(web) = &web {
        web.set_ready();
    }
    let shutdown = runway_core::Shutdown::on_signals();
    let stop = async move {
        shutdown.fired().await;
    };
    let stats = if shared {
        let opts = SharedOptions::for_jobs(worker.clone(), scheduler.jobs());
        eprintln!(
            "runway monitor: worker `{worker}` shares the schedule in {} (lease {})",
            ledger.url(),
            humantime::format_duration(opts.lease)
        );
        scheduler.run_shared(ledger.clone(), opts, stop).await?
    } else {
        scheduler.run(stop).await
    };
    pruner.abort();
    ticker.abort();
    if let Some((stop, task)) = server {
        let _ = stop.send(());
        // Requests under way get a moment; the server never holds the exit up for long.
        match tokio::time::timeout(std::time::Duration::from_secs(5), task).await {
            Ok(Ok(Err(e))) => tracing::warn!("the web server stopped with an error: {e}"),
            Ok(_) => {}
            Err(_) => tracing::warn!("the web server did not stop within 5 s"),
        }
    }
    delivery.abort();
    // What the last runs queued; a notification cut here stays queued.
    let _ = tokio::time::timeout(FINAL_FLUSH, outbox.flush(clock.as_ref())).await;
    tracing::info!(
        started = stats.started,
        recorded = stats.recorded,
        drained = stats.drained,
        overlapped = stats.overlapped,
        taken_over = stats.taken_over,
        lost = stats.lost,
        skipped = stats.skipped,
        late = stats.late,
        max_late_ms = stats.max_late_ms,
        "monitor stopped"
    );
    Ok(Exit::Success)
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

fn names(v: &[&String]) -> String {
    if v.is_empty() {
        return "none".into();
    }
    v.iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Prints each run as it finishes, and the alerts it moves.
struct Printer {
    json: bool,
    ledger: Arc<dyn Ledger>,
    alerts: Option<Arc<AlertRunner>>,
    clock: Arc<dyn Clock>,
    /// The web server's metrics, when it serves.
    metrics: Option<Arc<runway_web::Metrics>>,
}

impl Printer {
    fn line(&self, o: &Outcome) -> String {
        if self.json {
            return serde_json::to_string(o).unwrap_or_default();
        }
        let at = o.at.format("%Y-%m-%dT%H:%M:%SZ");
        match (&o.reason, &o.failed_check, &o.message) {
            (Some(r), Some(c), Some(m)) => format!(
                "{at} {env} {status} {ms:.0} ms reason={r} check={c}: {m}",
                env = o.environment,
                c = shown(c),
                m = shown(m),
                status = o.status,
                ms = o.latency_ms
            ),
            _ => format!(
                "{at} {env} {status} {ms:.0} ms ({p} passed, {w} warned)",
                env = o.environment,
                status = o.status,
                ms = o.latency_ms,
                p = o.summary.passed,
                w = o.summary.warned
            ),
        }
    }

    /// Sends what fell due between runs and prints it.
    async fn tick(&self) {
        let Some(alerts) = &self.alerts else {
            return;
        };
        for c in alerts.tick(self.clock.now()).await {
            if let Some(line) = self.alert_line(&c) {
                let _ = outln!("{line}");
            }
        }
    }

    /// A line for an alert that fired, resolved, reminded or was announced;
    /// `None` for a change nobody needs to see (a counter moved).
    fn alert_line(&self, c: &Change) -> Option<String> {
        let what = match c.transition {
            Transition::Opened | Transition::Updated => return None,
            Transition::Fired => "firing",
            Transition::Announced => "firing (announced after its mute)",
            Transition::Reminded => "still firing",
            Transition::Resolved => "resolved",
        };
        let a = &c.alert;
        if self.json {
            return serde_json::to_string(&serde_json::json!({
                "type": "alert",
                "alert": a.rule,
                "environment": a.environment,
                "level": a.level,
                "state": a.state,
                "event": what,
                "muted": a.muted,
                "at": a.evaluated_at,
                "message": a.message,
                "notified": c.notify.iter().map(|n| n.notifier.as_str()).collect::<Vec<_>>(),
            }))
            .ok();
        }
        let muted = if a.muted { " (muted)" } else { "" };
        Some(format!(
            "{at} ALERT {rule} [{level}] {env} {what}{muted}: {msg}",
            at = a.evaluated_at.format("%Y-%m-%dT%H:%M:%SZ"),
            rule = a.rule,
            level = a.level,
            env = a.environment,
            msg = shown(a.message.as_deref().unwrap_or(""))
        ))
    }
}

#[async_trait]
impl Sink for Printer {
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
        if let Some(m) = &self.metrics {
            m.observe(outcome);
        }
        // A closed stdout must not stop the schedule; the runs still happen.
        let _ = outln!("{}", self.line(outcome));
        if let Some(alerts) = &self.alerts {
            for c in alerts.after_run(outcome, self.clock.now()).await {
                if let Some(line) = self.alert_line(&c) {
                    let _ = outln!("{line}");
                }
            }
        }
    }
}
