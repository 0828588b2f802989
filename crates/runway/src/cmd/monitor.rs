//! `runway monitor`: run each monitored environment's suite on its schedule
//! (or once, with `--once`) and print one line per run.
//!
//! Parse, wire, render: the schedule, the reason classes and the statuses
//! are `runway_monitor`'s; this module builds each environment's check
//! context, passes SIGTERM/Ctrl-C in as the shutdown, and prints.

use std::{collections::BTreeMap, sync::Arc};

use anyhow::Context as _;
use async_trait::async_trait;
use runway_core::Exit;
use runway_monitor::{EngineProber, Job, Outcome, Scheduler, Sink, TokioClock};
use runway_verify::{Context, Suite};

use super::Ctx;
use crate::error::usage;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status with `--once`: 0 every run passed, 1 a run failed, 2 usage or configuration error, 3 internal error.

Examples:
  runway monitor                      run until SIGTERM or Ctrl-C
  runway monitor --once --env production
  runway monitor --once --json"
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
}

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
        contexts.insert(name.clone(), c);
        jobs.push(job);
    }
    let sink = Arc::new(Printer { json: args.json });
    let scheduler = Scheduler::new(
        jobs,
        Arc::new(EngineProber::new(contexts)),
        sink,
        Arc::new(TokioClock::new()),
    );
    if args.once {
        let outcomes = scheduler.run_once(|_| true).await;
        return Ok(if outcomes.iter().all(|o| o.ok) {
            Exit::Success
        } else {
            Exit::Failed
        });
    }
    let stats = scheduler.run(shutdown_signal()).await;
    tracing::info!(
        started = stats.started,
        recorded = stats.recorded,
        drained = stats.drained,
        overlapped = stats.overlapped,
        "monitor stopped"
    );
    Ok(Exit::Success)
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

/// SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Prints each run as it finishes.
struct Printer {
    json: bool,
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
}

#[async_trait]
impl Sink for Printer {
    async fn record(&self, outcome: &Outcome) {
        // A closed stdout must not stop the schedule; the runs still happen.
        let _ = outln!("{}", self.line(outcome));
    }
}
