//! The deploy runbook over MCP, through runway-runbook (the library the
//! `runway plan|deploy|rollback|status` commands call): `deploy_plan` and
//! `environment_status` read; `deploy` and `rollback` write, behind plans.
//!
//! A deploy runs for minutes: its runbook events go out as MCP progress, and
//! a cancelled request aborts it (the deployment then ends `aborted` in the
//! ledger, with the steps that were done). It is the CLI's runbook: `runway
//! deploy` when the environment has no `[analysis]` table, and `runway ship`
//! (deploy, verify, then the watch over the bake window) when it has one;
//! each watch interval is a progress message with the running availability.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use runway_core::Shutdown;
use runway_runbook::{Env, Event, GateInput, Observer};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::OpError;
use crate::ops::Running;
use crate::ops::Workspace;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployArgs {
    pub environment: String,
    pub version: String,
    #[serde(default)]
    pub approvers: Vec<String>,
    pub emergency: Option<String>,
}

impl DeployArgs {
    fn gates(&self) -> GateInput {
        GateInput {
            // Checked by `check_versions` before any tool runs.
            version: self
                .version
                .strip_prefix('v')
                .unwrap_or(&self.version)
                .to_owned(),
            approvers: self.approvers.clone(),
            emergency: self.emergency.clone(),
        }
    }
}

/// Checks the version arguments of `deploy`, `deploy_plan` and `rollback`
/// (`version`, `to`) with the CLI's own rule
/// (`runway_release::version::check_input`): a bad one is invalid params,
/// refused before any environment is opened or anything recorded.
pub fn check_versions(
    ws: &Workspace,
    tool: &str,
    arguments: &rmcp::model::JsonObject,
) -> Result<(), BadVersion> {
    let field = match tool {
        "deploy" | "deploy_plan" => "version",
        "rollback" | "rollback_plan" => "to",
        _ => return Ok(()),
    };
    let Some(Value::String(v)) = arguments.get(field) else {
        return Ok(());
    };
    let python = runway_release::version::python_project(&ws.root);
    runway_release::version::check_input(v, python)
        .map(drop)
        .map_err(|why| BadVersion {
            field,
            value: v.clone(),
            why,
        })
}

/// A version argument that is not a version.
#[derive(Debug, thiserror::Error)]
#[error("`{field}` {value:?} is not a version: {why}")]
pub struct BadVersion {
    pub field: &'static str,
    pub value: String,
    #[source]
    pub why: runway_release::version::InputError,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentArgs {
    pub environment: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackArgs {
    pub environment: String,
    pub to: Option<String>,
}

type Job<T> = Box<
    dyn for<'a> FnOnce(&'a Env) -> Pin<Box<dyn Future<Output = Result<T, OpError>> + 'a>> + Send,
>;

/// Runs `job` on environment `name`, with the ledger writing as `operator`,
/// on a blocking thread that drives this runtime (as `Workspace::with_ledger`).
async fn with_env<T: Send + 'static>(
    ws: &Workspace,
    name: &str,
    operator: Option<String>,
    observer: Option<Observer>,
    job: Job<T>,
) -> Result<T, OpError> {
    let loaded = ws.config.clone().ok_or_else(|| OpError::Argument {
        field: "environment",
        message: format!(
            "`{name}` cannot be found: the project has no `runway.toml` (run `runway init`)"
        ),
    })?;
    let url = ws.ledger.clone();
    let name = name.to_owned();
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        handle.block_on(async move {
            let mut ledger =
                runway_ledger::open_for_project(&url, &loaded.root, Default::default()).await?;
            if let Some(op) = operator {
                ledger.set_operator(op);
            }
            let mut env = Env::open(loaded, &name, ledger)?;
            if let Some(o) = observer {
                env.observe(o);
            }
            let out = job(&env).await;
            env.ledger.close().await;
            out
        })
    })
    .await
    .map_err(|e| OpError::Internal(e.to_string()))?
}

/// `runway plan ENV VERSION --format json`.
pub async fn deploy_plan(ws: &Workspace, a: &DeployArgs) -> Result<Value, OpError> {
    let gates = a.gates();
    with_env(
        ws,
        &a.environment,
        None,
        None,
        Box::new(move |env| {
            Box::pin(async move {
                Ok(serde_json::to_value(
                    runway_runbook::plan(env, &gates).await?,
                )?)
            })
        }),
    )
    .await
}

/// `runway status ENV --format json`.
pub async fn status(ws: &Workspace, a: &EnvironmentArgs) -> Result<Value, OpError> {
    with_env(
        ws,
        &a.environment,
        None,
        None,
        Box::new(|env| {
            Box::pin(async move { Ok(serde_json::to_value(runway_runbook::status(env).await?)?) })
        }),
    )
    .await
}

/// What `rollback` would do: from what runs to which verified version.
pub async fn rollback_plan(ws: &Workspace, a: &RollbackArgs) -> Result<(String, Value), OpError> {
    let to = a.to.clone();
    let name = a.environment.clone();
    with_env(
        ws,
        &a.environment,
        None,
        None,
        Box::new(move |env| {
            Box::pin(async move {
                let history = env.history().await?;
                let running = env
                    .target
                    .current()
                    .await
                    .map_err(runway_runbook::RunbookError::from)?;
                let current = running
                    .as_ref()
                    .map(|d| d.version.clone())
                    .or_else(|| history.first().map(|c| c.deployment.release.clone()));
                let verified = runway_ledger::Outcome::Verified.as_str();
                let point = history.iter().find(|v| {
                    v.status == verified
                        && match &to {
                            Some(t) => &v.deployment.release == t,
                            None => Some(&v.deployment.release) != current.as_ref(),
                        }
                });
                let version = match (&to, point) {
                    (Some(t), _) => t.clone(),
                    (None, Some(p)) => p.deployment.release.clone(),
                    (None, None) => {
                        return Err(OpError::Argument {
                            field: "to",
                            message: format!(
                                "nothing to roll back to in `{name}`: no earlier verified deployment is recorded; name a version in `to`"
                            ),
                        });
                    }
                };
                let summary = format!(
                    "roll `{name}` back from {} to {version}, then verify it",
                    current.as_deref().unwrap_or("(nothing recorded)")
                );
                Ok((
                    summary,
                    json!({
                        "environment": name,
                        "running": running,
                        "from": current,
                        "to": version,
                        "restores_deployment": point.map(|p| p.id.clone()),
                    }),
                ))
            })
        }),
    )
    .await
}

/// What the progress of a watch says: how many of its intervals are done
/// and the availability so far. Shared by the observer and the run, which
/// sets the number of intervals once the environment is open.
#[derive(Default)]
struct WatchTally {
    /// Samples the watch takes at most (`bake / interval + 1`); 0 until known.
    intervals: AtomicUsize,
    /// Failed samples of the watch in flight, by sample number.
    failed: Mutex<Vec<bool>>,
}

impl WatchTally {
    fn set_intervals(&self, env: &Env) {
        let c = env.criteria(None);
        let n = (c.bake.as_nanos() / c.interval.as_nanos().max(1)) as usize + 1;
        self.intervals.store(n, Ordering::Relaxed);
    }

    /// `watch: 3/12 intervals, availability 100%` for the `n`th sample.
    fn sample(&self, n: usize, failed: bool) -> String {
        let mut seen = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        // Sample 1 starts a watch (a later one, after a rollback, starts over).
        if n <= 1 {
            seen.clear();
        }
        seen.push(failed);
        let ok = seen.iter().filter(|f| !**f).count();
        let availability = ok as f64 * 100.0 / seen.len() as f64;
        let of = match self.intervals.load(Ordering::Relaxed) {
            0 => String::new(),
            total => format!("/{}", total.max(n)),
        };
        format!(
            "watch: {n}{of} intervals, availability {availability:.0}%{}",
            if failed { " (this sample failed)" } else { "" }
        )
    }
}

fn describe(e: &Event<'_>, tally: &WatchTally) -> String {
    match e {
        Event::Note(t) | Event::Step(t) => (*t).to_owned(),
        Event::Gates { version, verdicts } => {
            format!("{} gates judged for {version}", verdicts.len())
        }
        Event::Sample { n, sample } => tally.sample(*n, sample.failed()),
        Event::Problem { message } => format!("problem: {message}"),
    }
}

/// Runs a deploy or a rollback as `operator`: its events go out as progress,
/// and cancelling the request aborts it.
async fn run_writing<F>(
    ws: &Workspace,
    name: &str,
    operator: String,
    running: &Running<'_>,
    make: F,
) -> Result<Value, OpError>
where
    F: for<'a> FnOnce(
            &'a Env,
            Shutdown,
        ) -> Pin<Box<dyn Future<Output = Result<Value, OpError>> + 'a>>
        + Send
        + 'static,
{
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let tally = Arc::new(WatchTally::default());
    let seen = tally.clone();
    let observer: Observer = Arc::new(move |e: &Event<'_>| {
        let _ = tx.send(describe(e, &seen));
    });
    let (abort_handle, abort) = Shutdown::channel();
    let work = with_env(
        ws,
        name,
        Some(operator),
        Some(observer),
        Box::new(move |env| {
            tally.set_intervals(env);
            make(env, abort)
        }),
    );
    tokio::pin!(work);
    let mut steps = 0.0;
    let mut cancelled = false;
    loop {
        tokio::select! {
            out = &mut work => {
                while let Ok(m) = rx.try_recv() {
                    steps += 1.0;
                    (running.progress)(steps, 0.0, m);
                }
                return out;
            }
            () = running.cancel.cancelled(), if !cancelled => {
                cancelled = true;
                abort_handle.fire(CANCELLED);
            }
            Some(m) = rx.recv() => {
                steps += 1.0;
                (running.progress)(steps, 0.0, m);
            }
        }
    }
}

/// Why a deployment the client cancelled ended: its record says
/// `interrupted by the MCP client's cancellation`.
pub const CANCELLED: &str = "the MCP client's cancellation";

/// `runway deploy ENV VERSION`, or `runway ship ENV VERSION` when the
/// environment has an `[analysis]` table; manual steps refused.
pub async fn deploy(
    ws: &Workspace,
    a: DeployArgs,
    operator: String,
    running: &Running<'_>,
) -> Result<Value, OpError> {
    let gates = a.gates();
    run_writing(ws, &a.environment, operator, running, move |env, abort| {
        Box::pin(async move {
            let run = runway_runbook::Run {
                gates,
                confirm: runway_deploy::Confirm::Refuse,
                // The CLI's `ship` when the environment says how to watch it.
                watch: env.config.analysis.is_some(),
                bake: None,
                abort,
            };
            Ok(serde_json::to_value(
                runway_runbook::deploy(env, &run).await?,
            )?)
        })
    })
    .await
}

/// `runway rollback ENV --to VERSION --format json`, to the planned version.
pub async fn rollback(
    ws: &Workspace,
    name: &str,
    to: String,
    operator: String,
    running: &Running<'_>,
) -> Result<Value, OpError> {
    run_writing(ws, name, operator, running, move |env, _abort| {
        Box::pin(async move {
            Ok(serde_json::to_value(
                runway_runbook::rollback(env, Some(&to), runway_deploy::Confirm::Refuse).await?,
            )?)
        })
    })
    .await
}
