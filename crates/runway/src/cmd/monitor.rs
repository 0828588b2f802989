//! `runway monitor`: run each monitored environment's suite on its schedule
//! (or once, with `--once`) and print one line per run.
//!
//! Parse, wire, render: the service (environments, schedule, retention,
//! alerts, delivery) is `runway_monitor::Monitor`, the pages `runway_web`'s,
//! the crash recovery `runway_runbook`'s; this module passes SIGTERM/Ctrl-C
//! in as the shutdown, serves the dashboard beside the schedule
//! (`--listen`), and prints.

use std::sync::Arc;

use anyhow::Context as _;
use runway_core::Exit;
use runway_monitor::{
    Monitor, MonitorOptions, Outcome, Report, ScheduleMode, Setup,
    alerts::{Change, Transition},
};

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

    /// Where this worker probes from (`eu-west`: lowercase letters, digits
    /// and `-`, at most 40). Stored with each run; in the shared schedule
    /// every location runs each environment once per interval (those whose
    /// `monitor.locations` list it), and `quorum` alert rules count locations.
    #[arg(long, value_name = "NAME")]
    pub location: Option<String>,

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

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Exit> {
    let Some(loaded) = ctx.config()? else {
        return Err(usage(format!(
            "no `runway.toml` in `{}` or its parents: `runway monitor` checks the environments it lists",
            ctx.dir().display()
        )));
    };
    if let Some(l) = &args.location {
        runway_config::monitor::check_location(l)
            .map_err(|m| usage(format!("`--location`: {m}")))?;
    }
    let setup = Setup::from_config(&loaded, &args.envs)?;
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
    let ledger = ctx.open_ledger_with(&args.ledger, 8).await?;
    // A deployment cut off by a crash is ended, and a version put back where
    // nothing serves, before the environment is watched.
    for name in setup.environments() {
        if loaded.config.environments[&name].deploy.is_some() {
            recover(ctx, &loaded, &name, &args.ledger).await?;
        }
    }
    let opts = MonitorOptions {
        envs: args.envs.clone(),
        schedule: args.schedule.as_deref().map(|s| match s {
            "shared" => ScheduleMode::Shared,
            _ => ScheduleMode::Local,
        }),
        worker: args.worker.clone(),
        location: args.location.clone(),
        // `logs` and `resources` alert rules read the environment's deploy target.
        target_sources: Some({
            let loaded = loaded.clone();
            runway_monitor::TargetSources(std::sync::Arc::new(move |env, sources| {
                let deploy = loaded
                    .config
                    .environments
                    .get(env)
                    .and_then(|e| e.deploy.as_ref());
                runway_runbook::attach_target_sources(env, deploy, &loaded.root, sources)
                    .map_err(|e| e.to_string())
            }))
        }),
    };
    let extra: Vec<runway_core::Secret> = web_token.iter().cloned().collect();
    let monitor = Monitor::open(&loaded, setup, ledger, &opts, &extra).await?;
    let web = match listen {
        Some(_) => Some(dashboard(&loaded, &monitor, web_token).await),
        None => None,
    };
    let printer = Arc::new(Printer {
        json: args.json,
        metrics: web.as_ref().map(|w| w.metrics.clone()),
    });
    if args.once {
        let outcomes = monitor.run_once(printer).await?;
        return Ok(if outcomes.iter().all(|o| o.ok) {
            Exit::Success
        } else {
            Exit::Failed
        });
    }
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
    let stats = monitor
        .run(printer, runway_core::Shutdown::on_signals())
        .await?;
    if let Some((stop, task)) = server {
        let _ = stop.send(());
        // Requests under way get a moment; the server never holds the exit up for long.
        match tokio::time::timeout(std::time::Duration::from_secs(5), task).await {
            Ok(Ok(Err(e))) => tracing::warn!("the web server stopped with an error: {e}"),
            Ok(_) => {}
            Err(_) => tracing::warn!("the web server did not stop within 5 s"),
        }
    }
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

/// Ends a deployment a crash cut off in environment `name`, and puts a
/// version back where nothing serves (runway-runbook's recovery).
async fn recover(
    ctx: &Ctx,
    loaded: &runway_config::Loaded,
    name: &str,
    ledger: &super::LedgerOpt,
) -> anyhow::Result<()> {
    let own = ctx.open_ledger_with(ledger, 1).await?;
    let env = match runway_runbook::Env::open(loaded.clone(), name, own) {
        Ok(env) => env,
        Err(e) => {
            eprintln!("runway monitor: {name}: no recovery check: {e}");
            return Ok(());
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
    Ok(())
}

/// The dashboard, status page, API and metrics over the monitor's ledger.
async fn dashboard(
    loaded: &runway_config::Loaded,
    monitor: &Monitor,
    token: Option<runway_core::Secret>,
) -> Arc<runway_web::Web> {
    let web_cfg = &loaded.config.web;
    let title = web_cfg
        .title
        .clone()
        .or_else(|| loaded.config.project.name.clone())
        .unwrap_or_else(|| "Status".to_owned());
    let web = runway_web::Web::new(monitor.ledger(), monitor.environments())
        .with_token(token)
        .with_hosts(web_cfg.hosts.clone())
        .with_rate_limit(
            web_cfg
                .rate_limit
                .unwrap_or(runway_web::ANONYMOUS_PER_SECOND),
        )
        .with_title(title)
        .with_intervals(
            loaded
                .config
                .environments
                .iter()
                .filter_map(|(n, e)| Some((n.clone(), e.monitor.as_ref()?.interval())))
                .collect(),
        )
        .with_alerts(Arc::new(runway_web::LedgerAlerts::new(
            monitor.ledger(),
            loaded
                .config
                .notifiers
                .iter()
                .map(|(n, c)| (n.clone(), c.kind.as_str().to_owned()))
                .collect(),
        )));
    web.load_statuses().await;
    Arc::new(web)
}

/// Prints each run as it finishes, and the alerts it moves.
struct Printer {
    json: bool,
    /// The web server's metrics, when it serves.
    metrics: Option<Arc<runway_web::Metrics>>,
}

impl Printer {
    fn line(&self, o: &Outcome) -> String {
        if self.json {
            return serde_json::to_string(o).unwrap_or_default();
        }
        let at = o.at.format("%Y-%m-%dT%H:%M:%SZ");
        let env = match &o.location {
            Some(l) => format!("{}@{l}", o.environment),
            None => o.environment.clone(),
        };
        match (&o.reason, &o.failed_check, &o.message) {
            (Some(r), Some(c), Some(m)) => format!(
                "{at} {env} {status} {ms:.0} ms reason={r} check={c}: {m}",
                c = shown(c),
                m = shown(m),
                status = o.status,
                ms = o.latency_ms
            ),
            _ => format!(
                "{at} {env} {status} {ms:.0} ms ({p} passed, {w} warned)",
                status = o.status,
                ms = o.latency_ms,
                p = o.summary.passed,
                w = o.summary.warned
            ),
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

impl Report for Printer {
    fn run(&self, outcome: &Outcome) {
        if let Some(m) = &self.metrics {
            m.observe(outcome);
        }
        // A closed stdout must not stop the schedule; the runs still happen.
        let _ = outln!("{}", self.line(outcome));
    }

    fn alert(&self, change: &Change) {
        if let Some(line) = self.alert_line(change) {
            let _ = outln!("{line}");
        }
    }

    fn note(&self, text: &str) {
        eprintln!("runway monitor: {text}");
    }
}
