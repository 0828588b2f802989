//! How an environment is changed, and what guards the change.
//!
//! A [`Target`] is one way to put a version in an environment: a local
//! process, the operator's own commands, a Docker engine, a Kubernetes
//! cluster. Every target answers the same questions (what runs now, can the
//! previous version be put back, deploy this, roll back to that, what did it
//! print) so the runbook around it (gates, verify, watch, rollback) is written
//! once. Like runway-verify, this crate returns results and never records
//! them: the binary writes them to the ledger.

pub mod analysis;
mod error;
pub mod gates;
pub mod health;
pub mod jwks;
pub mod logs;
pub mod performance;
pub mod probe;
pub mod provenance;
pub mod resources;
pub mod target;
pub mod targets;
pub mod verdict;

// Each target under its old path, as the binary, the runbook and the tests name it.
#[cfg(feature = "docker")]
pub use targets::docker;
#[cfg(feature = "kubernetes")]
pub use targets::kubernetes;
pub use targets::{command, process, process::child};

use std::path::Path;

use runway_config::{DeployConfig, TargetKind};

pub use error::DeployError;
pub use target::{
    ArtifactCheck, Confirm, DeployRequest, Deployed, EnvRecord, HealthWait, Journal, Logs, Steps,
    Target,
};

/// The target an environment's `[deploy]` table describes. `root` is the project root.
pub fn open(
    environment: &str,
    config: &DeployConfig,
    root: &Path,
) -> Result<Box<dyn Target>, DeployError> {
    match config.target {
        TargetKind::Process => Ok(Box::new(process::ProcessTarget::new(
            process::ProcessSettings::from_config(environment, config, root)?,
        ))),
        TargetKind::Command => Ok(Box::new(command::CommandTarget::new(
            command::CommandSettings::from_config(environment, config, root),
        ))),
        #[cfg(feature = "docker")]
        TargetKind::Docker => Ok(Box::new(docker::DockerTarget::new(
            docker::DockerSettings::from_config(environment, config)?,
        ))),
        #[cfg(feature = "kubernetes")]
        TargetKind::Kubernetes => Ok(Box::new(kubernetes::KubernetesTarget::new(
            kubernetes::KubernetesSettings::from_config(environment, config, root)?,
        ))),
        #[allow(unreachable_patterns)]
        kind @ (TargetKind::Docker | TargetKind::Kubernetes) => Err(DeployError::Engine {
            target: kind.as_str(),
            message: format!("the `{kind}` target is not built into this `runway`"),
            hint: Some(format!(
                "use a `runway` built with the `{kind}` feature, or `target = \"command\"`"
            )),
        }),
    }
}
