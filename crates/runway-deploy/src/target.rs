//! The [`Target`] trait and the data that crosses it.
//!
//! A target is asked for the whole change, not for steps of it: `deploy`
//! returns once the new version answers its health endpoint (or fails), and
//! `rollback` puts back an exact earlier [`Deployed`] (an image digest, a
//! Kubernetes revision, a command line), never "whatever was before", so a
//! rollback recorded in the ledger can be replayed later by another `runway`.

use std::{collections::BTreeMap, fmt, sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use runway_config::TargetKind;
use runway_core::{Redactor, Secret};
use serde::{Deserialize, Serialize};

use crate::DeployError;

/// How a target may confirm a step that a human does (the `command`
/// target's `manual` instructions).
#[derive(Clone, Default)]
pub enum Confirm {
    /// `--yes`: the step is taken as done.
    Assume,
    /// Ask on the terminal; the function shows the instructions and returns the answer.
    Ask(Arc<dyn Fn(&str) -> bool + Send + Sync>),
    /// No terminal and no `--yes`: a manual step is an error.
    #[default]
    Refuse,
}

impl fmt::Debug for Confirm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Confirm::Assume => "Assume",
            Confirm::Ask(_) => "Ask",
            Confirm::Refuse => "Refuse",
        })
    }
}

/// Where and how long to wait for a deployed server to answer.
#[derive(Debug, Clone)]
pub struct HealthWait {
    /// `GET` this until it answers 2xx; with neither it nor `mcp`, there is no wait.
    pub url: Option<url::Url>,
    /// The health endpoint was not configured (`url` is the `/health`
    /// default): a 404 or 405 there means "no health endpoint", and readiness
    /// is the MCP handshake on `mcp` (FastMCP servers have no `/health`).
    pub health_optional: bool,
    /// The MCP endpoint, for readiness without a health endpoint: ready once
    /// a handshake (either era) succeeds, or the endpoint refuses it for want
    /// of a token (401/403: it is up).
    pub mcp: Option<url::Url>,
    /// The token for that handshake.
    pub token: Option<Secret>,
    /// The header that carries it (`X-API-Key`); `None` is `Authorization: Bearer`.
    pub auth_header: Option<String>,
    /// The whole wait's deadline.
    pub timeout: Duration,
    /// Time between attempts.
    pub interval: Duration,
}

impl Default for HealthWait {
    fn default() -> Self {
        HealthWait {
            url: None,
            health_optional: false,
            mcp: None,
            token: None,
            auth_header: None,
            timeout: runway_config::DeployConfig::DEFAULT_HEALTH_TIMEOUT,
            interval: Duration::from_millis(200),
        }
    }
}

/// Where a target writes down each step that changes what serves, as it
/// goes: the intent before the step (durably: the step is taken only once
/// [`Journal::intend`] returned `Ok`), and the step once taken. The runbook
/// journals them in the ledger, so a `runway` killed between "stop the old
/// version" and "start the new one" leaves a record of what it was doing, and
/// the next `runway` can put a version back (see runway-runbook's `recover`).
#[async_trait]
pub trait Journal: Send + Sync {
    /// About to take `step` (`stop 1.0.0 (pid 4242)`). An error (the ledger
    /// is full, gone) means the step must not be taken.
    async fn intend(&self, step: &str) -> Result<(), String>;
    /// `step` was taken (`stopped 1.0.0 (pid 4242)`).
    async fn did(&self, step: &str);
}

/// The journal a [`DeployRequest`] carries; [`Steps::none`] writes nowhere.
#[derive(Clone)]
pub struct Steps(Option<Arc<dyn Journal>>);

impl Steps {
    pub fn none() -> Steps {
        Steps(None)
    }

    pub fn to(journal: Arc<dyn Journal>) -> Steps {
        Steps(Some(journal))
    }

    /// Writes the intent of `step` down; the caller takes the step only on `Ok`.
    pub async fn intend(&self, step: &str) -> Result<(), DeployError> {
        match &self.0 {
            Some(j) => j
                .intend(step)
                .await
                .map_err(|message| DeployError::Journal {
                    step: step.to_owned(),
                    message,
                }),
            None => Ok(()),
        }
    }

    pub async fn did(&self, step: &str) {
        if let Some(j) = &self.0 {
            j.did(step).await;
        }
    }
}

impl Default for Steps {
    fn default() -> Self {
        Steps::none()
    }
}

impl fmt::Debug for Steps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Steps(journal)"
        } else {
            "Steps(none)"
        })
    }
}

/// One change to make: this version, with this configuration.
#[derive(Debug, Clone, Default)]
pub struct DeployRequest {
    pub environment: String,
    /// `{version}`.
    pub version: String,
    /// `{image}`, when the target runs images.
    pub image: Option<String>,
    /// `{sha}`: the release's git commit.
    pub sha: Option<String>,
    /// Environment variables for the server or the commands.
    pub env: Vec<(String, Secret)>,
    /// What a rollback needs to give the server this environment again: each
    /// plain variable's value, and for a secret the `${VAR}` it is read from
    /// (never its value). A target keeps it with what it deployed
    /// (`Deployed::detail["env"]`).
    pub env_record: EnvRecord,
    /// Hides the secrets among `env` (and the environment's token) in
    /// whatever a target returns; plain values stay readable.
    pub redactor: Redactor,
    /// `{port}`.
    pub port: Option<u16>,
    pub health: HealthWait,
    pub confirm: Confirm,
    /// Where each step that changes what serves is journaled before it is taken.
    pub steps: Steps,
}

/// The server's environment as a deployment keeps it, so that a rollback
/// gives the earlier version the environment it ran with, not the new
/// version's: plain values as they were, secrets by the `${VAR}` they are
/// read from (a secret's value is never kept).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvRecord {
    /// Plain variables and their values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub plain: BTreeMap<String, String>,
    /// Secret variables and where their values come from (`${API_KEY}`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secret: BTreeMap<String, String>,
}

impl EnvRecord {
    pub fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.secret.is_empty()
    }

    /// The record kept in `deployed.detail["env"]`, when there is one.
    pub fn of(deployed: &Deployed) -> Option<EnvRecord> {
        serde_json::from_value(deployed.detail.get("env")?.clone()).ok()
    }

    /// One line per variable, for the record of a rollback (`MODE = "fast"`,
    /// `API_KEY from ${API_KEY}`).
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .plain
            .iter()
            .map(|(k, v)| format!("{k} = {v:?}"))
            .collect();
        out.extend(
            self.secret
                .iter()
                .map(|(k, from)| format!("{k} from {from} (secret)")),
        );
        out.sort();
        out
    }
}

/// What runs in an environment: enough to put it back exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployed {
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The image's content digest (`sha256:...`), for a rollback to exactly it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// A Kubernetes revision, a process id... whatever the target rolls back to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// When it started running, when the target knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// Target-specific facts (the process target's command line...).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub detail: serde_json::Value,
}

/// Whether a rollback artifact is there: the previous image is present or
/// pullable, the previous command is runnable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactCheck {
    pub ok: bool,
    /// What was checked, for the plan and the record (`image sha256:ab12... present`).
    pub what: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// The tail of what a deployed version printed, bounded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logs {
    /// Where it came from (`.runway/process/staging.log`, `container mcp-1a2b`).
    pub source: String,
    /// The version whose output it is, when the target can tell (a docker
    /// container's label): after a failed swap put the old version back, the
    /// logs a caller reads are the old version's, and say so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The last bytes, lossily decoded.
    pub text: String,
    /// Whether older output was left out.
    pub truncated: bool,
}

/// One way to change an environment. Implementations live one per module
/// (`process`, `command`, `docker`, `kubernetes`).
#[async_trait]
pub trait Target: Send + Sync {
    fn kind(&self) -> TargetKind;

    /// What runs now, as the target itself reports it; `None` when nothing does.
    async fn current(&self) -> Result<Option<Deployed>, DeployError>;

    /// Whether `previous` could be put back right now.
    async fn check_artifact(&self, previous: &Deployed) -> ArtifactCheck;

    /// Puts `request.version` in place and waits for it to be healthy
    /// (`request.health`). What it replaced stays available to
    /// [`Target::rollback`] until [`Target::retire_previous`].
    async fn deploy(&self, request: &DeployRequest) -> Result<Deployed, DeployError>;

    /// Puts exactly `to` back (its digest, revision or command line) and waits
    /// for it to be healthy; `request` carries the environment and the health wait.
    async fn rollback(
        &self,
        to: &Deployed,
        request: &DeployRequest,
    ) -> Result<Deployed, DeployError>;

    /// Stops what runs, for a first deployment that failed with nothing to
    /// roll back to (a failed server is not left serving). `Ok(false)` when
    /// this target cannot stop it (the `command` target, Kubernetes): the
    /// runbook then says that it still runs.
    async fn stop_current(&self) -> Result<bool, DeployError> {
        Ok(false)
    }

    /// The new version passed: let go of what was kept for a rollback.
    async fn retire_previous(&self) -> Result<(), DeployError> {
        Ok(())
    }

    /// The last `max_bytes` of what runs now printed.
    async fn logs(&self, max_bytes: usize) -> Result<Logs, DeployError>;
}
