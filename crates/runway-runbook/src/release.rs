//! The release runbook's shared steps: which package, which tool surface,
//! the status and the next changelog entry.
//!
//! `runway release status|bump|changelog|check` and the `release_status`,
//! `changelog_preview` and `changelog_write` tools of `runway mcp` all start
//! here, so a package scope, a captured surface or a changelog entry is
//! worked out once, the same way, for both.

use std::path::PathBuf;

use runway_config::ReleaseConfig;
use runway_core::ToolSurface;
use runway_release::plan::{self, PlanOptions, Status};
use runway_release::version::PreKind;
use serde::Serialize;

use crate::{RunbookError, project::Project};

/// What a release operation works on: the repository root and the `[release]`
/// settings of the whole project or of one `[[release.packages]]` package.
#[derive(Debug, Clone)]
pub struct ReleaseScope {
    /// The repository root (canonical where it can be).
    pub root: PathBuf,
    /// The settings in force: the package's own, merged over the project's.
    pub cfg: ReleaseConfig,
    /// The package's directory (relative to the root), or none for the whole project.
    pub package_dir: Option<PathBuf>,
}

impl ReleaseScope {
    /// The project's release settings, for package `package` when the project
    /// has several (then one must be named). `hotfix` work is never scoped.
    pub fn new(project: &Project, package: Option<&str>) -> Result<ReleaseScope, RunbookError> {
        let root = project.root();
        let root = root.canonicalize().unwrap_or(root);
        let cfg = project.release();
        let names = || {
            cfg.packages
                .iter()
                .map(|p| p.name.clone())
                .collect::<Vec<_>>()
        };
        let (cfg, package_dir) = match package {
            None if cfg.packages.is_empty() => (cfg.clone(), None),
            None => return Err(RunbookError::PackageRequired { packages: names() }),
            Some(name) => match cfg.package(name) {
                Some((p, c)) => (c, Some(PathBuf::from(p.path))),
                None => {
                    return Err(RunbookError::UnknownPackage {
                        name: name.to_owned(),
                        packages: names(),
                    });
                }
            },
        };
        Ok(ReleaseScope {
            root,
            cfg,
            package_dir,
        })
    }

    /// The whole project, whatever packages it has (hotfix branches, the MCP resources).
    pub fn whole(project: &Project) -> ReleaseScope {
        let root = project.root();
        ReleaseScope {
            root: root.canonicalize().unwrap_or(root),
            cfg: project.release(),
            package_dir: None,
        }
    }

    /// Plan options for this scope.
    pub fn options(&self, pre: Option<PreKind>, surface: Option<ToolSurface>) -> PlanOptions {
        PlanOptions {
            pre,
            surface,
            allow_no_repo: false,
            package_dir: self.package_dir.clone(),
        }
    }

    /// The server's tool surface now, as `choice` says where it comes from.
    /// `capturing` hears the source's name before a live capture starts (it can take seconds).
    pub async fn surface(
        &self,
        choice: &SurfaceChoice,
        capturing: impl FnOnce(&str),
    ) -> Result<Option<ToolSurface>, RunbookError> {
        match choice {
            SurfaceChoice::File(path) => match runway_release::surface::read_surface(path)? {
                Some(s) => Ok(Some(s)),
                None => Err(RunbookError::NoSurfaceFile { path: path.clone() }),
            },
            SurfaceChoice::Skip => Ok(None),
            SurfaceChoice::Configured => {
                let Some(src) = &self.cfg.surface_source else {
                    return Ok(None);
                };
                let ctx = runway_verify::environment::surface_source_context(&self.root, src)?;
                capturing(&ctx.display);
                runway_verify::mcp::capture_surface(&ctx)
                    .await
                    .map(Some)
                    .map_err(RunbookError::Surface)
            }
        }
    }

    /// `runway release status`: the versions, the last tag, the commits since
    /// and the next version, on the `pre` line when one is given.
    pub async fn status(
        &self,
        pre: Option<PreKind>,
        surface: &SurfaceChoice,
        capturing: impl FnOnce(&str),
    ) -> Result<Status, RunbookError> {
        let surface = self.surface(surface, capturing).await?;
        let (root, cfg, opts) = (
            self.root.clone(),
            self.cfg.clone(),
            self.options(pre, surface),
        );
        blocking(move || Ok(plan::status(&root, &cfg, &opts)?)).await
    }

    /// The changelog entry for `version` (default: the next version), without writing it.
    pub async fn changelog_entry(
        &self,
        version: Option<String>,
    ) -> Result<ChangelogEntry, RunbookError> {
        let scope = self.clone();
        blocking(move || scope.changelog_entry_now(version.as_deref())).await
    }

    fn changelog_entry_now(&self, version: Option<&str>) -> Result<ChangelogEntry, RunbookError> {
        let st = plan::status(&self.root, &self.cfg, &self.options(None, None))?;
        let version = match (version, &st.next) {
            (Some(v), _) => v
                .trim_start_matches(self.cfg.tag_prefix.as_str())
                .to_owned(),
            (None, Some(n)) => n.clone(),
            (None, None) => {
                return Ok(ChangelogEntry {
                    version: None,
                    text: String::new(),
                    warnings: Vec::new(),
                    reason: Some(st.nothing_to_release_reason()),
                    path: self.cfg.changelog.path.clone(),
                    exists: false,
                });
            }
        };
        let rendered =
            plan::changelog_entry(&self.root, &self.cfg, &st, &version, &plan::release_date());
        let exists = std::fs::read_to_string(self.root.join(&self.cfg.changelog.path))
            .is_ok_and(|t| runway_release::changelog::has_entry(&t, &version));
        Ok(ChangelogEntry {
            version: Some(version),
            text: rendered.text,
            warnings: rendered.warnings,
            reason: None,
            path: self.cfg.changelog.path.clone(),
            exists,
        })
    }

    /// Prepends `entry` to the changelog (refused when the file already has it).
    pub async fn write_changelog(&self, entry: &ChangelogEntry) -> Result<(), RunbookError> {
        let Some(version) = entry.version.clone() else {
            return Err(RunbookError::NothingToRelease {
                reason: entry.reason.clone().unwrap_or_default(),
            });
        };
        let rendered = runway_release::changelog::Rendered {
            text: entry.text.clone(),
            warnings: entry.warnings.clone(),
        };
        let (root, cfg) = (self.root.clone(), self.cfg.clone());
        blocking(move || Ok(plan::write_changelog(&root, &cfg, &version, &rendered)?)).await
    }
}

/// Where the server's current tool surface comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SurfaceChoice {
    /// Captured live from `[release.surface_source]`, when it is set.
    #[default]
    Configured,
    /// Read from this file (`--surface FILE`).
    File(PathBuf),
    /// None: compare nothing (`--no-surface`, `no_surface: true`).
    Skip,
}

/// The next changelog entry, as `runway release changelog` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct ChangelogEntry {
    /// `None` when there is nothing to release and no version was named.
    pub version: Option<String>,
    pub text: String,
    pub warnings: Vec<String>,
    /// Why there is no entry (nothing to release).
    pub reason: Option<String>,
    /// The changelog file, relative to the root.
    #[serde(skip)]
    pub path: String,
    /// Whether the changelog already has an entry for this version.
    #[serde(skip)]
    pub exists: bool,
}

/// Runs git and file work off the async threads.
async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> Result<T, RunbookError> + Send + 'static,
) -> Result<T, RunbookError> {
    match tokio::task::spawn_blocking(job).await {
        Ok(out) => out,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(RunbookError::Task(e.to_string())),
    }
}
