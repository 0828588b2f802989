//! What can go wrong while changing an environment, with what to do about it.

use std::{path::PathBuf, time::Duration};

use runway_core::{Diagnostic, Exit};

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The environment's deploy table cannot be used as it is.
    #[error("environment `{environment}`: {message}")]
    Config {
        environment: String,
        /// The dotted key (`deploy.command`).
        field: String,
        message: String,
    },
    #[error("failed to start `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    /// A command ran and failed.
    #[error("`{command}` exited with {status}")]
    CommandFailed {
        command: String,
        status: String,
        /// The tail of its output, redacted.
        output: String,
    },
    /// A command or wait ran out of time; the child was killed with its process group.
    #[error("{what} did not finish within {}s", after.as_secs_f64())]
    Timeout { what: String, after: Duration },
    /// The server never answered its health endpoint.
    #[error("`{url}` did not answer 2xx within {}s (last: {last})", after.as_secs_f64())]
    Unhealthy {
        url: String,
        after: Duration,
        last: String,
    },
    /// The server process ended before it became healthy.
    #[error("the server exited before it became healthy ({status})")]
    Exited { status: String, log: String },
    /// A manual step needs a human, and there is no terminal to ask on.
    #[error("a manual step needs confirmation: {instructions}")]
    NeedsConfirmation { instructions: String },
    /// The operator answered no to a manual step.
    #[error("the manual step was not confirmed: {instructions}")]
    Declined { instructions: String },
    /// The deployment cannot go ahead, and the target found out before it
    /// changed anything (the image is not in the registry, nor on the
    /// engine): what ran before still runs, untouched. A refusal, not a
    /// failure: there is nothing to roll back. See [`DeployError::is_before_change`].
    #[error("{message}; nothing was changed")]
    NotChanged {
        message: String,
        hint: Option<String>,
    },
    /// There is nothing recorded to roll back to.
    #[error("nothing to roll back to in `{environment}`: {why}")]
    NothingToRollBack { environment: String, why: String },
    /// A file the target keeps (pid, state, log) could not be read or written.
    #[error("`{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// What a target keeps on disk is not what it wrote.
    #[error("`{}` is unreadable: {message}", path.display())]
    State { path: PathBuf, message: String },
    /// The intent of a step could not be journaled, so the step was not taken.
    #[error("did not {step}: its intent could not be recorded: {message}")]
    Journal { step: String, message: String },
    /// The Docker engine or Kubernetes API refused or failed.
    #[error("{target}: {message}")]
    Engine {
        target: &'static str,
        message: String,
        hint: Option<String>,
    },
}

impl From<runway_process::ChildError> for DeployError {
    fn from(e: runway_process::ChildError) -> DeployError {
        match e {
            runway_process::ChildError::Spawn { program, source } => {
                DeployError::Spawn { program, source }
            }
            runway_process::ChildError::Timeout { what, after } => {
                DeployError::Timeout { what, after }
            }
        }
    }
}

impl DeployError {
    /// The target refused before it changed anything: the caller ends the
    /// deployment refused, with no rollback and no incident.
    pub fn is_before_change(&self) -> bool {
        matches!(self, DeployError::NotChanged { .. })
    }
}

impl Diagnostic for DeployError {
    fn hint(&self) -> Option<String> {
        match self {
            DeployError::Config { field, .. } => Some(format!(
                "fix `{field}` in `runway.toml` (see docs/environments.md)"
            )),
            DeployError::Spawn { program, .. } => Some(format!(
                "check that `{program}` is installed and on `PATH`, or give its full path"
            )),
            DeployError::CommandFailed { .. } => {
                Some("run the command by hand to see why it fails; its output is above".into())
            }
            DeployError::Timeout { .. } => Some(
                "raise `timeout` (or `health_timeout`) in the environment's `deploy` table if it is just slow".into(),
            ),
            DeployError::Unhealthy { .. } | DeployError::Exited { .. } => Some(
                "read the server's log (`runway status <env>` names it) and check `health_path`"
                    .into(),
            ),
            DeployError::NeedsConfirmation { .. } => Some(
                "run it on a terminal to confirm the step, or pass `--yes` once it is done".into(),
            ),
            DeployError::Declined { .. } => None,
            DeployError::NotChanged { hint, .. } => hint.clone(),
            DeployError::NothingToRollBack { .. } => Some(
                "name a version with `--to VERSION`, or deploy one first".into(),
            ),
            DeployError::Io { .. } | DeployError::State { .. } => Some(
                "check the permissions of `.runway/`; a damaged state file can be removed once the server is stopped".into(),
            ),
            DeployError::Engine { hint, .. } => hint.clone(),
            DeployError::Journal { .. } => Some(
                "nothing was changed by that step; fix the ledger (disk space, connection) and deploy again".into(),
            ),
        }
    }

    fn exit(&self) -> Exit {
        match self {
            DeployError::Config { .. } | DeployError::NeedsConfirmation { .. } => Exit::Usage,
            DeployError::Io { .. } | DeployError::State { .. } => Exit::Internal,
            _ => Exit::Failed,
        }
    }
}
