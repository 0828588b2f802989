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

    /// `runway release notes`: the notes of `version` (`1.2.0` or `v1.2.0`),
    /// else of the next version when there is one, else of the last release tag.
    pub async fn notes(&self, version: Option<String>) -> Result<plan::Notes, RunbookError> {
        let (root, cfg, opts) = (
            self.root.clone(),
            self.cfg.clone(),
            self.options(None, None),
        );
        blocking(move || Ok(plan::notes(&root, &cfg, &opts, version.as_deref())?)).await
    }

    /// `runway release report`: what the ledger recorded of `version` since
    /// it was released, judged by `[release.criteria]`. A version the ledger
    /// has no record of is an error naming the versions it has.
    pub async fn report(
        &self,
        ledger: &dyn runway_ledger::Ledger,
        version: &str,
    ) -> Result<runway_ledger::report::ReleaseReport, RunbookError> {
        let bare = version
            .strip_prefix(self.cfg.tag_prefix.as_str())
            .unwrap_or(version)
            .trim();
        let mut spellings = vec![bare.to_owned()];
        if let Ok(v) = runway_release::version::parse(bare) {
            spellings.push(v.to_string());
            spellings.push(runway_release::version::to_pep440(&v));
        }
        spellings.dedup();
        let c = self.cfg.criteria;
        let criteria = runway_ledger::report::Criteria {
            max_rollbacks: c.max_rollbacks,
            max_incidents_p0_p1: c.max_incidents_p0_p1,
            min_verify_pass_rate: c.min_verify_pass_rate,
        };
        for v in &spellings {
            let records = ledger.release_history(v).await?;
            let report = runway_ledger::report::build(v, &records, &criteria, runway_ledger::now());
            if !report.is_empty() {
                return Ok(report);
            }
        }
        Err(RunbookError::UnknownRelease {
            version: bare.to_owned(),
            ledger: ledger.url().to_string(),
            known: known_versions(ledger).await?,
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

impl ReleaseScope {
    /// `runway release verify-artifacts`, first half: what the release
    /// published (`[release.artifacts]`: PyPI, npm, Docker) at `version`
    /// (default: the version the files state now, with its PEP 440
    /// spelling). Nothing is opened or recorded yet: a bad version or
    /// setting is refused before the ledger is touched.
    pub async fn artifacts(
        &self,
        project: &Project,
        version: Option<&str>,
    ) -> Result<ArtifactCheck, RunbookError> {
        let Some(loaded) = &project.loaded else {
            return Err(RunbookError::NoArtifacts { file: None });
        };
        if self.cfg.artifacts.is_empty() {
            return Err(RunbookError::NoArtifacts {
                file: Some(loaded.path.clone()),
            });
        }
        let python = runway_release::version::python_project(&self.root);
        let version = match version {
            Some(v) => {
                // `v1.4.0` when the tag prefix is `v`: the version is what follows.
                let v = v.strip_prefix(self.cfg.tag_prefix.as_str()).unwrap_or(v);
                runway_release::version::check_input(v, python).map_err(|why| {
                    RunbookError::BadVersion {
                        version: v.to_owned(),
                        why: why.to_string(),
                    }
                })?
            }
            None => {
                let (root, cfg) = (self.root.clone(), self.cfg.clone());
                let opts = PlanOptions {
                    allow_no_repo: true,
                    ..self.options(None, None)
                };
                blocking(move || Ok(plan::status(&root, &cfg, &opts)?.current)).await?
            }
        };
        let parsed =
            runway_release::version::parse(&version).map_err(|e| RunbookError::BadVersion {
                version: version.clone(),
                why: e.to_string(),
            })?;
        let wanted = runway_artifacts::Wanted {
            version: parsed.to_string(),
            python: runway_release::version::to_pep440(&parsed),
        };
        let specs = runway_artifacts::specs(&self.cfg.artifacts, &self.root, &wanted.version)
            .map_err(|e| RunbookError::Config(loaded.error_at(&e.field, e.message)))?;
        Ok(ArtifactCheck {
            settings: runway_artifacts::Settings::from_config(&self.cfg.artifacts),
            tag: format!("{}{}", self.cfg.tag_prefix, wanted.version),
            specs,
            wanted,
        })
    }
}

/// The versions the ledger has releases or deployments of, newest first (at most 10).
async fn known_versions(ledger: &dyn runway_ledger::Ledger) -> Result<Vec<String>, RunbookError> {
    let mut seen: Vec<(chrono::DateTime<chrono::Utc>, String)> = Vec::new();
    for kind in [
        runway_ledger::Kind::Release,
        runway_ledger::Kind::Deployment,
    ] {
        let filter = runway_ledger::Filter {
            kind: Some(kind),
            ..runway_ledger::Filter::default()
        };
        for r in ledger.query_latest(&filter).await? {
            if let Some(v) = r.version {
                seen.push((r.created_at, v));
            }
        }
    }
    seen.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out: Vec<String> = Vec::new();
    for (_, v) in seen {
        if !out.contains(&v) && out.len() < 10 {
            out.push(v);
        }
    }
    Ok(out)
}

/// The artifacts of one release version, ready to check.
pub struct ArtifactCheck {
    specs: Vec<runway_artifacts::Spec>,
    wanted: runway_artifacts::Wanted,
    settings: runway_artifacts::Settings,
    tag: String,
}

impl ArtifactCheck {
    /// How many artifacts, of which version.
    pub fn describe(&self) -> (usize, &str) {
        (self.specs.len(), &self.wanted.version)
    }

    /// The version, SemVer spelling (what the ledger records).
    pub fn version(&self) -> &str {
        &self.wanted.version
    }

    /// The release tag of the version (`v1.2.0`).
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The release record the ledger keeps facts about this version on.
    pub fn release(&self) -> runway_ledger::Release {
        runway_ledger::Release {
            version: self.wanted.version.clone(),
            tag: Some(self.tag.clone()),
            ..runway_ledger::Release::default()
        }
    }

    /// `runway release yank X --reason`: what to do on each index.
    pub fn yank_steps(&self, reason: &str) -> Vec<runway_artifacts::YankStep> {
        runway_artifacts::yank_steps(&self.specs, &self.wanted, reason)
    }

    /// `runway release yank X --confirm`: what each checkable index reports now.
    pub async fn check_yanked(&self) -> Vec<runway_artifacts::YankState> {
        runway_artifacts::check_yanked(&self.specs, &self.wanted, &self.settings).await
    }

    /// Installs and runs each artifact and records the verdicts with the release in `ledger`.
    pub async fn run(
        self,
        ledger: &dyn runway_ledger::Ledger,
    ) -> Result<ArtifactsRun, RunbookError> {
        let artifacts = runway_artifacts::verify(&self.specs, &self.wanted, &self.settings).await;
        let passed = artifacts.iter().all(|o| o.ok);
        let release = runway_ledger::Release {
            version: self.wanted.version.clone(),
            tag: Some(self.tag),
            ..runway_ledger::Release::default()
        };
        let run = runway_ledger::ArtifactsRun {
            version: self.wanted.version.clone(),
            passed,
            artifacts: artifacts.iter().map(to_ledger).collect(),
        };
        let release_id = ledger.record_artifacts(&release, &run).await?;
        Ok(ArtifactsRun {
            version: self.wanted.version,
            passed,
            release_id,
            artifacts,
        })
    }
}

/// What `verify-artifacts` found, as `--format json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct ArtifactsRun {
    pub version: String,
    pub passed: bool,
    /// The release record the verdicts were appended to.
    pub release_id: String,
    pub artifacts: Vec<runway_artifacts::ArtifactOutcome>,
}

fn to_ledger(o: &runway_artifacts::ArtifactOutcome) -> runway_ledger::ArtifactResult {
    runway_ledger::ArtifactResult {
        source: o.source.as_str().to_owned(),
        artifact: o.artifact.clone(),
        index: o.index.clone(),
        ok: o.ok,
        problem: o.problem.map(|p| {
            serde_json::to_value(p)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        }),
        message: o.message.clone(),
        printed: o.printed.clone(),
        digest: o.digest.clone(),
        duration_ms: o.duration_ms,
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
