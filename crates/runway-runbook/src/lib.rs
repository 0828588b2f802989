//! The deploy runbook, wired: runway-deploy's target, gates and watch,
//! runway-verify's suite, runway-release's check at the tag, and the ledger.
//!
//! runway-deploy, runway-verify, runway-release and runway-ledger never
//! import each other, so the sequence that uses all of them (gates → record →
//! deploy → verify → watch → roll back → incident → end) lives here, once,
//! for every front end: the `runway` binary renders it on a terminal and
//! `runway mcp` serves it as tools. Nothing here reads argv, prints or picks
//! an exit code for the process: each operation returns a serialisable
//! result ([`Finished`], [`Plan`], [`Status`]) and reports progress through
//! the [`Event`] observer set on the [`Env`]; a manual step is confirmed
//! through [`runway_deploy::Confirm`], and an abort (Ctrl-C, SIGTERM, a
//! cancelled MCP request) arrives as a [`runway_core::Shutdown`].
//!
//! A deployment always ends with a record: on an abort the step in flight is
//! dropped and the deployment ends `aborted` with the steps that were done.
//! The environment's deploy lock (the ledger's, so it holds across machines
//! on PostgreSQL) is held from the gates to the end.

mod deploy;
mod env;
mod error;
mod history;
pub mod incident;
mod journal;
mod judge;
pub mod logcheck;
mod plan;
pub mod preflight;
pub mod project;
mod provenance;
pub mod records;
mod recover;
pub mod release;
mod rollback;
pub mod scope;
mod status;
pub mod triage;
mod trial;
mod watch;

pub use deploy::{Run, accept, deploy};
pub use env::{Env, Event, Observer, attach_target_sources, recorded_target};
pub use error::RunbookError;
pub use judge::{GateInput, judge};
pub use plan::{Plan, PlanCondition, PlanDeploy, PlanFailure, PlanVerify, PlanWatch, plan};
pub use preflight::Unresolved;
pub use project::Project;
pub use recover::recover;
pub use status::{LastDeployment, Status, status};
pub use watch::watch;

use runway_core::Exit;
use serde::Serialize;

/// How a `deploy`, `ship`, `rollback` or `watch` ended: what the binary prints
/// (and exits with) and what an MCP tool returns as `structuredContent`.
#[derive(Debug, Clone, Serialize)]
pub struct Finished {
    pub environment: String,
    /// The version deployed, rolled back to, or watched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The ledger's deployment record, when one was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// `verified`, `held`, `rolled_back`, `failed`, `aborted`, `refused`
    /// (a gate), `locked` (another deploy runs), `pass`/`fail`/`inconclusive`
    /// (a watch).
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
    /// One line saying what happened.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// True when the command succeeded (exit 0).
    pub ok: bool,
}

impl Finished {
    pub(crate) fn new(env: &Env, version: Option<&str>, outcome: &str, ok: bool) -> Finished {
        Finished {
            environment: env.name.clone(),
            version: version.map(str::to_owned),
            deployment: None,
            outcome: outcome.to_owned(),
            verification: None,
            incident: None,
            message: String::new(),
            hint: None,
            ok,
        }
    }

    pub(crate) fn message(mut self, m: impl Into<String>) -> Self {
        self.message = m.into();
        self
    }

    pub(crate) fn hint(mut self, h: impl Into<String>) -> Self {
        self.hint = Some(h.into());
        self
    }

    pub(crate) fn deployment(mut self, id: &str) -> Self {
        self.deployment = Some(id.to_owned());
        self
    }

    /// The process exit status this means: 0 or 1.
    pub fn exit(&self) -> Exit {
        if self.ok { Exit::Success } else { Exit::Failed }
    }
}

/// How long the deploy lock's lease lasts between heartbeats.
pub const LOCK_TTL: std::time::Duration = std::time::Duration::from_secs(30);

pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// Takes the environment's deploy lock. A lease held by a process of this
/// machine that is gone (a `runway` killed with SIGKILL) is broken at once
/// rather than waited out: its deployment is recovered by [`recover`].
pub(crate) async fn take_lock(
    env: &Env,
) -> Result<runway_ledger::DeployLock, runway_ledger::LedgerError> {
    match env
        .ledger
        .acquire_deploy_lock(&env.name, &holder(env), LOCK_TTL)
        .await
    {
        Err(runway_ledger::LedgerError::Locked { holder: h, .. })
            if recover::holder_is_gone(&h) =>
        {
            env.ledger.break_deploy_lock(&env.name, &h).await?;
            env.note(format!(
                "took over the deploy lock of {h}: its process is gone"
            ));
            env.ledger
                .acquire_deploy_lock(&env.name, &holder(env), LOCK_TTL)
                .await
        }
        other => other,
    }
}

/// Who holds the deploy lock: operator, host and process.
pub(crate) fn holder(env: &Env) -> String {
    format!(
        "{}@{} (pid {})",
        env.ledger.operator(),
        hostname(),
        std::process::id()
    )
}

/// The artifact a rollback goes back to, in one string.
pub(crate) fn artifact(d: &runway_deploy::Deployed) -> String {
    if let Some(digest) = &d.digest {
        return digest.clone();
    }
    if let Some(cmd) = d.detail.get("command").and_then(|c| c.as_array()) {
        let argv: Vec<String> = cmd
            .iter()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect();
        return runway_deploy::child::display(&argv);
    }
    d.revision
        .clone()
        .or_else(|| d.image.clone())
        .unwrap_or_else(|| d.version.clone())
}

/// One line describing what runs: version, image, digest, command, since.
pub fn describe(d: &runway_deploy::Deployed) -> String {
    let mut s = d.version.clone();
    if let Some(i) = &d.image {
        s.push_str(&format!(" image `{i}`"));
    }
    if let Some(g) = &d.digest {
        s.push_str(&format!(" digest {g}"));
    }
    if let Some(cmd) = d.detail.get("command").and_then(|c| c.as_array()) {
        let argv: Vec<String> = cmd
            .iter()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect();
        s.push_str(&format!(" (`{}`)", runway_deploy::child::display(&argv)));
    }
    if let Some(since) = d.since {
        s.push_str(&format!(" since {}", since.format("%Y-%m-%d %H:%M:%S UTC")));
    }
    s
}

/// Rolls `env` back to `to` (default: the newest verified version before what runs).
pub async fn rollback(
    env: &Env,
    to: Option<&str>,
    confirm: runway_deploy::Confirm,
) -> Result<Finished, RunbookError> {
    preflight::check(env, to)?;
    recover::recover_noting(env).await?;
    let lock = match take_lock(env).await {
        Ok(l) => l,
        Err(e @ runway_ledger::LedgerError::Locked { .. }) => {
            return Ok(Finished::new(env, to, "locked", false).message(e.to_string()));
        }
        Err(e) => return Err(e.into()),
    };
    let r = rollback::rollback_locked(env, to, confirm, None).await;
    let _ = lock.release().await;
    r
}

/// [`rollback`] for an incident: the same lock, verify and record, the
/// rollback fact naming the incident (see [`incident::open`]).
pub(crate) async fn rollback_for(
    env: &Env,
    confirm: runway_deploy::Confirm,
    cause: &rollback::Cause,
) -> Result<Finished, RunbookError> {
    preflight::check(env, None)?;
    recover::recover_noting(env).await?;
    let lock = match take_lock(env).await {
        Ok(l) => l,
        Err(e @ runway_ledger::LedgerError::Locked { .. }) => {
            return Ok(Finished::new(env, None, "locked", false).message(e.to_string()));
        }
        Err(e) => return Err(e.into()),
    };
    let r = rollback::rollback_locked(env, None, confirm, Some(cause)).await;
    let _ = lock.release().await;
    r
}
