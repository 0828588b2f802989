//! The docker target's errors, and how they become a [`DeployError`].

use super::*;

/// Errors of the docker target.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error("cannot reach the Docker engine at `{host}`")]
    Connect {
        host: String,
        #[source]
        source: BollardError,
    },
    #[error("the Docker engine refused `{call}` on `{object}`")]
    Api {
        call: &'static str,
        object: String,
        #[source]
        source: BollardError,
    },
    #[error("the Docker engine did not answer `{call}` on `{object}` within {timeout:?}")]
    Timeout {
        call: &'static str,
        object: String,
        timeout: Duration,
    },
    #[error("no container named `{name}` on the Docker engine")]
    NoContainer { name: String },
    #[error("image `{image}` is not on the Docker engine and could not be pulled: {message}")]
    Pull { image: String, message: String },
    #[error("pushing `{reference}` failed: {message}")]
    Push { reference: String, message: String },
    #[error(
        "container `{name}` ({image}) stopped with exit code {exit_code} before it was healthy"
    )]
    Exited {
        name: String,
        image: String,
        exit_code: i64,
        /// The container's last output, bounded.
        logs: String,
    },
    #[error("container `{name}` ({image}) was not healthy within {timeout:?}: {last}")]
    Unhealthy {
        name: String,
        image: String,
        timeout: Duration,
        /// The last thing the probe saw.
        last: String,
        logs: String,
    },
    #[error("cannot read what container `{name}` uses: {message}")]
    Stats { name: String, message: String },
    #[error("nothing to roll back to: {reason}")]
    NoRollback { reason: String },
    #[error("`{reference}` is not a valid image reference for a tag: {reason}")]
    BadReference { reference: String, reason: String },
    /// Failed before anything that serves was touched (the image could not
    /// be pulled, the new container could not be created): the old
    /// container still runs as it did.
    #[error("{0}")]
    BeforeChange(Box<DockerError>),
    /// The intent of a step could not be journaled, so it was not taken.
    #[error("did not {step}: its intent could not be recorded: {message}")]
    Journal { step: String, message: String },
}

impl DockerError {
    /// `e`, marked as found before any change.
    pub fn before_change(e: DockerError) -> DockerError {
        match e {
            already @ DockerError::BeforeChange(_) => already,
            // A journal that failed is the runbook's to report, not a refusal.
            journal @ DockerError::Journal { .. } => journal,
            other => DockerError::BeforeChange(Box::new(other)),
        }
    }

    /// The failed container's output, when the error carries it.
    pub fn logs(&self) -> Option<&str> {
        match self {
            DockerError::Exited { logs, .. } | DockerError::Unhealthy { logs, .. } => Some(logs),
            _ => None,
        }
    }
}

impl Diagnostic for DockerError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            DockerError::Connect { .. } => {
                "check that dockerd runs and that `DOCKER_HOST` (or `host` in the deploy table) names its socket".into()
            }
            DockerError::Api { .. } | DockerError::Timeout { .. } => {
                "see the engine's log (`journalctl -u docker` or the dockerd output) for why".into()
            }
            DockerError::NoContainer { name } => format!(
                "the docker target replaces a running container: create it once with `docker run --name {name} ...`"
            ),
            DockerError::Pull { image, .. } => format!(
                "push `{image}` to its registry (or build it on this host), or check the version and `deploy.image`; with a private registry set `registry_user` and `registry_password_env` in the deploy table"
            ),
            DockerError::Push { .. } => "check the registry's address and the login for it".into(),
            DockerError::Exited { .. } | DockerError::Unhealthy { .. } => {
                "the previous container is kept: `runway rollback` starts it again".into()
            }
            DockerError::Stats { name, .. } => format!(
                "check that container `{name}` runs (`docker ps -a`) and that the engine reports its memory (cgroup accounting)"
            ),
            DockerError::NoRollback { .. } => {
                "name the version to go back to with `--to`, or deploy it again".into()
            }
            DockerError::BadReference { .. } => {
                "write the tag's image as `registry/repository:tag`".into()
            }
            DockerError::BeforeChange(inner) => return inner.hint(),
            DockerError::Journal { .. } => {
                "nothing was changed by that step; fix the ledger (disk space, connection) and deploy again".into()
            }
        })
    }

    fn exit(&self) -> Exit {
        match self {
            DockerError::Exited { .. } | DockerError::Unhealthy { .. } => Exit::Failed,
            DockerError::NoContainer { .. } | DockerError::BadReference { .. } => Exit::Usage,
            DockerError::BeforeChange(inner) => inner.exit(),
            _ => Exit::Internal,
        }
    }
}

impl From<DockerError> for DeployError {
    fn from(e: DockerError) -> DeployError {
        match e {
            DockerError::Exited {
                name,
                image,
                exit_code,
                logs,
            } => DeployError::Exited {
                status: format!("container `{name}` ({image}) exit code {exit_code}"),
                log: logs,
            },
            DockerError::Unhealthy {
                name,
                timeout,
                last,
                ..
            } => DeployError::Unhealthy {
                url: format!("container `{name}`"),
                after: timeout,
                last,
            },
            DockerError::BeforeChange(inner) => DeployError::NotChanged {
                message: format!("docker: {}", with_causes(&*inner)),
                hint: inner.hint(),
            },
            DockerError::Journal { step, message } => DeployError::Journal { step, message },
            other => DeployError::Engine {
                target: "docker",
                message: other.to_string(),
                hint: other.hint(),
            },
        }
    }
}

/// `e` and each error under it, `: `-separated.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}
