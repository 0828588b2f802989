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
    #[error(
        "this project has several packages ({}); say which one",
        quoted(packages)
    )]
    PackageRequired { packages: Vec<String> },
    #[error("there is no package `{name}` in `[[release.packages]]`")]
    UnknownPackage { name: String, packages: Vec<String> },
    #[error("`{}` does not exist", path.display())]
    NoSurfaceFile { path: PathBuf },
    #[error("could not capture the tool surface")]
    Surface(#[source] runway_verify::mcp::SurfaceError),
    #[error("{reason}")]
    NothingToRelease { reason: String },
    #[error("{}", match file {
        Some(f) => format!("`{}` names no artifacts", f.display()),
        None => "there is no `runway.toml` here, so no artifacts to verify".to_owned(),
    })]
    NoArtifacts { file: Option<PathBuf> },
    #[error("`--version` {version:?} is not a version: {why}")]
    BadVersion { version: String, why: String },
    #[error(
        "the ledger `{ledger}` has no record of release `{version}`: no release, deployment, verification or incident of it"
    )]
    UnknownRelease {
        version: String,
        ledger: String,
        known: Vec<String>,
    },
    #[error("a background task failed: {0}")]
    Task(String),
    #[error(transparent)]
    Release(#[from] runway_release::ReleaseError),
    #[error(transparent)]
    SurfaceSource(#[from] runway_verify::SurfaceSourceError),
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
            RunbookError::PackageRequired { .. } => {
                Some("name one: `--package NAME` (`package` in a tool call)".into())
            }
            RunbookError::UnknownPackage { packages, .. } => Some(if packages.is_empty() {
                "this project has no packages; leave out `--package`".to_owned()
            } else {
                format!("the packages are {}", quoted(packages))
            }),
            RunbookError::NoSurfaceFile { .. } => Some(
                "pass the JSON file `runway release status` should compare (as in `.runway/tool-surface.json`)".into(),
            ),
            // The capture's own hint is its source's, next in the chain.
            RunbookError::Surface(_) => Some(
                "to release without comparing tool surfaces, pass `--no-surface` (`no_surface: true` in a tool call)".into(),
            ),
            RunbookError::NothingToRelease { .. } => {
                Some("name the version whose entry to write".into())
            }
            RunbookError::NoArtifacts { .. } => Some(
                "add `[release.artifacts.pypi]`, `[release.artifacts.npm]` or `[release.artifacts.docker]` to `runway.toml` (see docs/release.md)".into(),
            ),
            RunbookError::BadVersion { .. } => Some("pass `--version X.Y.Z`".into()),
            RunbookError::UnknownRelease { known, version, .. } => Some(if known.is_empty() {
                format!(
                    "the ledger is empty: deploy `{version}` first (`runway deploy ENV --version {version}`), or pass `--ledger URL` for the team's ledger"
                )
            } else {
                format!(
                    "the ledger has {}; check the version, or pass `--ledger URL` for the team's ledger",
                    quoted(known)
                )
            }),
            RunbookError::Task(_) => None,
            RunbookError::Release(e) => e.hint(),
            RunbookError::SurfaceSource(e) => e.hint(),
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
            RunbookError::Release(e) => e.exit(),
            RunbookError::SurfaceSource(e) => e.exit(),
            RunbookError::Task(_) => Exit::Internal,
            _ => Exit::Usage,
        }
    }
}

/// `a`, `b` as `` `a`, `b` ``.
fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
