//! What can stop a runbook operation before it has a result to report.
//!
//! A refused gate, a failed deploy or a held lock is not an error: it is a
//! [`crate::Finished`] with `ok = false`. These are the cases where there is
//! nothing to run (configuration) or the ledger itself failed.

use std::path::PathBuf;

use runway_core::{Diagnostic, Exit};

#[derive(Debug, thiserror::Error)]
pub enum RunbookError {
    #[error("there is no `runway.toml` in `{}` or a parent directory", dir.display())]
    NoConfig { dir: PathBuf },
    #[error("`{name}` is not an environment of `{}`", file.display())]
    UnknownEnvironment {
        name: String,
        file: PathBuf,
        known: Vec<String>,
    },
    #[error("environment `{name}` has no `[environments.{name}.deploy]` table")]
    NoDeployTable { name: String },
    #[error("environment `{name}` has no `url`")]
    NoUrl { name: String },
    /// What the whole runbook needs and cannot resolve, every item (see `preflight`).
    #[error(
        "environment `{name}` of `{}` cannot run: {}",
        file.display(),
        problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; ")
    )]
    Unresolved {
        name: String,
        file: PathBuf,
        problems: Vec<crate::preflight::Unresolved>,
    },
    #[error("`{field}` uses `${{{var}}}`, which is not set")]
    UnsetVariable { field: String, var: String },
    /// A traffic condition's source cannot be set up (`[analysis.metrics|prometheus]`).
    #[error("environment `{name}`: {message}")]
    Analysis { name: String, message: String },
    #[error(transparent)]
    Config(#[from] runway_config::ConfigError),
    #[error(transparent)]
    Deploy(#[from] runway_deploy::DeployError),
    #[error(transparent)]
    Ledger(#[from] runway_ledger::LedgerError),
    #[error(transparent)]
    Environment(#[from] runway_verify::EnvironmentError),
}

impl Diagnostic for RunbookError {
    fn hint(&self) -> Option<String> {
        match self {
            RunbookError::NoConfig { .. } => Some(
                "run `runway init`, or pass `-C DIR` for the project".into(),
            ),
            RunbookError::UnknownEnvironment { known, .. } => Some(if known.is_empty() {
                "add `[environments.NAME]` with a `deploy` table (see docs/environments.md)"
                    .to_owned()
            } else {
                format!("known environments: {}", known.join(", "))
            }),
            RunbookError::NoDeployTable { .. } => Some(
                "say how it is deployed: `target = \"process\"` with `command`, or `target = \"command\"` with `deploy` (docs/environments.md)".into(),
            ),
            RunbookError::NoUrl { .. } => Some(
                "add `url = \"http://127.0.0.1:PORT/mcp\"` so Runway can verify it".into(),
            ),
            RunbookError::Unresolved { problems, .. } => {
                let mut vars: Vec<&str> = problems.iter().filter_map(|p| p.var.as_deref()).collect();
                vars.dedup();
                Some(if vars.is_empty() {
                    "fix these settings and run again; nothing was started or recorded".to_owned()
                } else {
                    format!(
                        "export {} and run again; nothing was started or recorded",
                        vars.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")
                    )
                })
            }
            RunbookError::UnsetVariable { var, .. } => {
                Some(format!("export `{var}` before deploying"))
            }
            RunbookError::Analysis { name, .. } => Some(format!(
                "see `[environments.{name}.analysis]` and its conditions in docs/environments.md"
            )),
            RunbookError::Config(e) => e.hint(),
            RunbookError::Deploy(e) => e.hint(),
            RunbookError::Ledger(e) => e.hint(),
            RunbookError::Environment(e) => e.hint(),
        }
    }

    fn exit(&self) -> Exit {
        match self {
            RunbookError::Config(e) => e.exit(),
            RunbookError::Ledger(e) => e.exit(),
            RunbookError::Environment(e) => e.exit(),
            RunbookError::Deploy(e) => e.exit(),
            _ => Exit::Usage,
        }
    }
}
