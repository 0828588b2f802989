//! `runway release bump`: the new version into every file and the changelog,
//! then one release commit and an annotated tag.

use std::path::{Path, PathBuf};

use runway_config::ReleaseConfig;
use semver::Version;
use serde::Serialize;

use super::{
    FileChange, PlanOptions, Status, changelog_entry, level_between, status, unified_diff,
    write_all,
};
use crate::changelog;
use crate::error::{ReleaseError, Result};
use crate::files;
use crate::git;
use crate::surface;
use crate::version::{self, Level};

/// What `bump` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    Auto,
    Level(Level),
    Exact(String),
}

#[derive(Debug, Clone, Default)]
pub struct BumpOptions {
    pub dry_run: bool,
    pub no_git: bool,
    pub allow_dirty: bool,
    /// `YYYY-MM-DD` for the changelog heading.
    pub date: String,
}

/// A bump that happened (or would, with `--dry-run`).
#[derive(Debug, Clone, Serialize)]
pub struct Bumped {
    pub from: String,
    pub to: String,
    pub tag: String,
    pub changes: Vec<FileChange>,
    pub diff: String,
    pub commit: Option<String>,
    pub tagged: bool,
    /// The commands that publish it.
    pub push: Vec<String>,
    pub warnings: Vec<String>,
    pub decided_by: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum BumpResult {
    NothingToRelease { reason: String },
    Bumped(Box<Bumped>),
}

/// Writes the new version into every file and the changelog, commits and tags.
pub fn bump(
    root: &Path,
    cfg: &ReleaseConfig,
    requested: &Requested,
    plan: &PlanOptions,
    opts: &BumpOptions,
) -> Result<BumpResult> {
    let mut plan = plan.clone();
    plan.allow_no_repo = opts.no_git;
    let st = status(root, cfg, &plan)?;
    let mut history_branch = None;
    if !opts.no_git {
        if st.head.is_none() {
            return Err(ReleaseError::git_hint(
                "the repository has no commits yet",
                "commit your work first, or pass `--no-git` to only edit files",
            ));
        }
        if st.shallow && st.last_tag.is_none() {
            return Err(ReleaseError::git_hint(
                "this is a shallow clone and no release tag is reachable from HEAD, so the commits since the last release are unknown",
                "run `git fetch --unshallow --tags` (in GitHub Actions: `actions/checkout` with `fetch-depth: 0`)",
            ));
        }
        if st.branch.is_none() {
            return Err(ReleaseError::git_hint(
                "HEAD is detached, so a release commit would belong to no branch",
                "check out the release branch first (`git switch main`), or pass `--no-git` to only edit files",
            ));
        }
        history_branch = st.branch.clone();
        if !opts.allow_dirty && !opts.dry_run {
            git::require_clean(root)?;
        }
    }
    if st.files.is_empty() && !st.tag_is_version() {
        return Err(ReleaseError::NoVersionFile {
            dynamic: st.dynamic.first().map(|d| d.lives_in.clone()),
        });
    }
    if !st.files_agree && !matches!(requested, Requested::Exact(_)) {
        let list: Vec<String> = st
            .files
            .iter()
            .map(|f| format!("`{}`: `{}`", f.path.display(), f.version()))
            .collect();
        return Err(ReleaseError::Bump(format!(
            "the version files disagree ({}); make them agree first, or pass `--version X.Y.Z` to set them all",
            list.join(", ")
        )));
    }
    bump_inner(root, cfg, requested, &plan, opts, st, history_branch)
}

fn bump_inner(
    root: &Path,
    cfg: &ReleaseConfig,
    requested: &Requested,
    plan: &PlanOptions,
    opts: &BumpOptions,
    st: Status,
    branch: Option<String>,
) -> Result<BumpResult> {
    let current = Version::parse(&st.current).map_err(|e| ReleaseError::Bump(e.to_string()))?;
    let (next, decided_by) = match requested {
        Requested::Auto => match &st.next {
            Some(n) => (
                Version::parse(n).map_err(|e| ReleaseError::Bump(e.to_string()))?,
                st.decided_by.clone(),
            ),
            None => {
                return Ok(BumpResult::NothingToRelease {
                    reason: st.nothing_to_release_reason(),
                });
            }
        },
        Requested::Level(l) => (
            version::bump_from(&current, *l, plan.pre, cfg.prerelease_start)?,
            None,
        ),
        Requested::Exact(v) => (version::explicit(&current, v)?, None),
    };
    if let Some(d) = &st.surface
        && let Some(req) = d.required_for(&current, cfg.bump_minor_pre_major)
        && !matches!(requested, Requested::Auto)
        && level_between(&current, &next) < req
        && (current.major > 0 || req > Level::Patch)
    {
        let why = d.decisive().map_or(String::new(), |c| c.detail.clone());
        return Err(ReleaseError::Bump(format!(
            "the tool surface changed in a way that needs a {req} release ({why}), but `{next}` is only a {} release; use `runway release bump {req}` or `auto`",
            level_between(&current, &next)
        )));
    }
    let tag = format!("{}{next}", cfg.tag_prefix);
    if !opts.no_git {
        let existing = match git::tag_commit(root, &tag)? {
            Some(_) => Some(tag.clone()),
            // The same release under another spelling (`v2.0.0rc1`).
            None => git::tag_for_version(root, &cfg.tag_prefix, &next)?.map(|t| t.name),
        };
        if let Some(existing) = existing {
            return Err(ReleaseError::git_hint(
                format!("tag `{existing}` already exists"),
                git::existing_tag_hint(root, &existing),
            ));
        }
    }

    // One change per file, even when `runway.toml` lists a file twice to
    // reach two of its versions: each write starts from the previous one.
    let mut changes: Vec<FileChange> = Vec::new();
    for f in &st.files {
        let written = if f.is_python() {
            version::to_pep440(&next)
        } else {
            next.to_string()
        };
        let at = match changes.iter().position(|c| c.path == f.path) {
            Some(i) => i,
            None => {
                let text = std::fs::read_to_string(root.join(&f.path)).map_err(|source| {
                    ReleaseError::Read {
                        path: f.path.clone(),
                        source,
                    }
                })?;
                changes.push(FileChange {
                    path: f.path.clone(),
                    before: Some(text.clone()),
                    after: text,
                });
                changes.len() - 1
            }
        };
        changes[at].after = files::write_version(f, &changes[at].after, &written)?;
    }
    changes.retain(|c| c.before.as_deref() != Some(c.after.as_str()));
    let mut warnings = Vec::new();
    let changelog_rel = PathBuf::from(&cfg.changelog.path);
    let existing = std::fs::read_to_string(root.join(&changelog_rel)).ok();
    if existing
        .as_deref()
        .is_some_and(|t| changelog::has_entry(t, &next.to_string()))
    {
        warnings.push(format!(
            "`{}` already has an entry for `{next}`; left as it is",
            cfg.changelog.path
        ));
    } else {
        let rendered = changelog_entry(root, cfg, &st, &next.to_string(), &opts.date);
        warnings.extend(rendered.warnings);
        let after = changelog::prepend(existing.as_deref(), &rendered.text);
        changes.push(FileChange {
            path: changelog_rel,
            before: existing,
            after,
        });
    }
    if let Some(now) = &plan.surface {
        let rel = PathBuf::from(&cfg.surface_file);
        let before = std::fs::read_to_string(root.join(&rel)).ok();
        let after = surface::render_surface(now);
        if before.as_deref() != Some(after.as_str()) {
            if let Some(parent) = root.join(&rel).parent()
                && !opts.dry_run
            {
                let _ = std::fs::create_dir_all(parent);
            }
            changes.push(FileChange {
                path: rel,
                before,
                after,
            });
        }
    }
    let diff = unified_diff(&changes);
    let mut out = Bumped {
        from: current.to_string(),
        to: next.to_string(),
        tag: tag.clone(),
        diff,
        commit: None,
        tagged: false,
        push: Vec::new(),
        warnings,
        decided_by,
        changes,
    };
    if opts.dry_run {
        return Ok(BumpResult::Bumped(Box::new(out)));
    }
    write_all(root, &out.changes)?;
    if opts.no_git {
        return Ok(BumpResult::Bumped(Box::new(out)));
    }

    let paths: Vec<String> = out
        .changes
        .iter()
        .map(|c| c.path.to_string_lossy().into_owned())
        .collect();
    let mut add = vec!["add", "--"];
    add.extend(paths.iter().map(String::as_str));
    let message = format!("chore(release): {tag}");
    let committed = if out.changes.is_empty() {
        // A version that lives in the tags alone: the tag is the whole release.
        Ok(String::new())
    } else {
        git::run(root, &add).and_then(|_| git::run(root, &["commit", "-q", "-m", &message]))
    };
    if let Err(e) = committed {
        // All or none: put the files back as they were and unstage them.
        let undo: Vec<FileChange> = out
            .changes
            .iter()
            .map(|c| FileChange {
                path: c.path.clone(),
                before: Some(c.after.clone()),
                after: c.before.clone().unwrap_or_default(),
            })
            .collect();
        let _ = write_all(root, &undo);
        for c in &out.changes {
            if c.before.is_none() {
                let _ = std::fs::remove_file(root.join(&c.path));
            }
        }
        let mut reset = vec!["reset", "-q", "--"];
        reset.extend(paths.iter().map(String::as_str));
        let _ = git::run(root, &reset);
        return Err(ReleaseError::git_hint(
            format!("the release commit failed, so every file was restored: {e}"),
            "fix what git reports (a commit hook, a missing `user.email`) and run the bump again",
        ));
    }
    out.commit = Some(git::run(root, &["rev-parse", "HEAD"])?.trim().to_owned());
    git::run(root, &["tag", "-a", &tag, "-m", &format!("Release {tag}")]).map_err(|e| {
        ReleaseError::git_hint(
            format!("the release commit was made but tagging failed: {e}"),
            format!("tag it by hand: `git tag -a {tag} -m \"Release {tag}\"`"),
        )
    })?;
    out.tagged = true;
    let branch = branch.unwrap_or_else(|| "HEAD".into());
    out.push = vec![format!("git push --atomic origin {branch} {tag}")];
    Ok(BumpResult::Bumped(Box::new(out)))
}
