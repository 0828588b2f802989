//! How an environment is changed, and what guards the change.
//!
//! A [`Target`] is one way to put a version in an environment: a local
//! process, the operator's own commands, a Docker engine, a Kubernetes
//! cluster. Every target answers the same five questions (what runs now, can
//! the previous version be put back, deploy this, roll back to that, what did
//! it print) so the runbook around it (gates, verify, watch, rollback) is
//! written once. Like runway-verify, this crate returns results and never
//! records them: the binary writes them to the ledger.

mod error;
pub mod target;

pub use error::DeployError;
pub use target::{ArtifactCheck, Confirm, DeployRequest, Deployed, HealthWait, Logs, Target};
