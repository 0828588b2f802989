//! The release operations the command line offers: status, bump, changelog,
//! check and hotfix. Each reads the project once, decides, and returns data
//! for the binary to print.
//!
//! Writes are all-or-none: every new file is written next to its target
//! first, then renamed into place; if a rename fails, the files already
//! replaced are put back, so a failed bump never leaves half the version files
//! changed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use runway_config::ReleaseConfig;
use runway_core::ToolSurface;
use semver::Version;
use serde::Serialize;

use crate::changelog::{self, EntryHeading, Remote};
use crate::commits::{self, Decision, Entry, Rules};
use crate::error::{ReleaseError, Result};
use crate::files::{self, DynamicVersion, VersionFile};
use crate::git::{self, History, Tag};
use crate::surface::{self, SurfaceDiff};
use crate::version::{self, Level, PreKind};

/// Options shared by everything that computes the next version.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub pre: Option<PreKind>,
    /// The surface the server has now (captured by the binary), compared with the committed one.
    pub surface: Option<ToolSurface>,
    /// Work without a git repository (only `--no-git` bumps).
    pub allow_no_repo: bool,
}

/// Commits of one type since the last release.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// The commit type, or `other` for non-conventional commits.
    #[serde(rename = "type")]
    pub kind: String,
    pub count: usize,
    pub entries: Vec<String>,
}

/// Everything `runway release status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub files: Vec<VersionFile>,
    pub dynamic: Vec<DynamicVersion>,
    /// True when every version location states the same release.
    pub files_agree: bool,
    pub file_version: Option<String>,
    pub branch: Option<String>,
    pub head: Option<String>,
    pub shallow: bool,
    pub last_tag: Option<Tag>,
    /// The version the next one is computed from.
    pub current: String,
    pub commits: usize,
    pub groups: Vec<Group>,
    #[serde(skip)]
    pub entries: Vec<Entry>,
    pub surface: Option<SurfaceDiff>,
    pub level: Option<Level>,
    pub next: Option<String>,
    pub next_tag: Option<String>,
    /// The commit (or surface change) that decided the bump.
    pub decided_by: Option<String>,
    pub changelog: String,
    pub changelog_has_next: bool,
    pub changelog_has_current: bool,
    /// Things the user should know (first release, shallow clone, files ahead of the tag...).
    pub notes: Vec<String>,
}

impl Status {
    pub fn nothing_to_release(&self) -> bool {
        self.next.is_none()
    }

    /// Why there is nothing to release, as the plan's note says it.
    pub fn nothing_to_release_reason(&self) -> String {
        self.notes
            .iter()
            .find(|n| n.starts_with("nothing to release"))
            .cloned()
            .unwrap_or_else(|| "nothing to release".into())
    }
}

/// The semver release a version file states (Python files may use PEP 440).
fn file_semver(f: &VersionFile, loc: usize) -> Result<Version> {
    let l = &f.locations[loc];
    version::parse(&l.version).map_err(|reason| ReleaseError::BadVersion {
        path: f.path.clone(),
        line: Some(l.line),
        version: l.version.clone(),
        reason,
    })
}

/// The single version the files agree on, or `None` with `false` when they disagree.
fn agreed(files: &[VersionFile]) -> Result<(Option<Version>, bool)> {
    let mut first: Option<Version> = None;
    let mut agree = true;
    for f in files {
        for i in 0..f.locations.len() {
            let v = file_semver(f, i)?;
            match &first {
                None => first = Some(v),
                Some(fv) if !version::same_release(fv, &v) => agree = false,
                _ => {}
            }
        }
    }
    Ok((first, agree))
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}

fn empty_history() -> History {
    History {
        head: None,
        branch: None,
        shallow: false,
        last_tag: None,
        commits: Vec::new(),
        incomplete: false,
    }
}

/// Reads files, history and (optionally) the surface, and decides the next version.
pub fn status(root: &Path, cfg: &ReleaseConfig, opts: &PlanOptions) -> Result<Status> {
    let det = files::load(root, &cfg.files)?;
    let history = match git::history(root, &cfg.tag_prefix) {
        Ok(h) => h,
        Err(ReleaseError::Git { .. }) if opts.allow_no_repo => empty_history(),
        Err(e) => return Err(e),
    };
    let (file_version, files_agree) = agreed(&det.files)?;
    let mut notes = Vec::new();
    for d in &det.dynamic {
        notes.push(format!(
            "`{}`:{} declares a dynamic version; it lives in {}",
            d.declared_in.display(),
            d.line,
            d.lives_in
        ));
    }
    if history.incomplete {
        notes.push("this is a shallow clone and no release tag is reachable: the commits listed may be incomplete; run `git fetch --unshallow --tags`".into());
    }
    if history.head.is_some() && history.branch.is_none() {
        notes.push("HEAD is detached".into());
    }

    let zero = Version::new(0, 0, 0);
    let current = match (&history.last_tag, &file_version) {
        (Some(t), _) => t.version.clone(),
        (None, Some(v)) => v.clone(),
        (None, None) => zero.clone(),
    };
    if let (Some(t), Some(fv)) = (&history.last_tag, &file_version) {
        match version::cmp_release(fv, &t.version) {
            std::cmp::Ordering::Greater => notes.push(format!(
                "the version files say `{fv}` but the last tag is `{}`: the files are ahead of the last release",
                t.name
            )),
            std::cmp::Ordering::Less => notes.push(format!(
                "the version files say `{fv}` but the last tag is `{}`: the files are behind the last release",
                t.name
            )),
            std::cmp::Ordering::Equal => {}
        }
    }
    if history.last_tag.is_none() && history.head.is_some() {
        notes.push(format!(
            "no release tag matching `{}X.Y.Z` yet: every commit counts",
            cfg.tag_prefix
        ));
    }

    let entries = commits::entries(&history.commits);
    let rules = Rules::from(cfg);
    let Decision {
        level: commit_level,
        decided_by,
    } = commits::decide(&entries, &current, &rules);
    let mut level = commit_level;
    let mut decided = decided_by.map(|e| format!("{} {}", short(&e.commit), e.header()));

    let surface_diff = match &opts.surface {
        Some(now) => {
            let committed = surface::read_surface(&root.join(&cfg.surface_file))?;
            committed.map(|old| surface::compare_surfaces(&old, now))
        }
        None => None,
    };
    if let Some(d) = &surface_diff
        && let Some(sl) = d.required_for(&current, cfg.bump_minor_pre_major)
        && level.is_none_or(|l| sl > l)
    {
        level = Some(sl);
        decided = d.decisive().map(|c| format!("tool surface: {}", c.detail));
    }

    let first_release =
        history.last_tag.is_none() && file_version.as_ref().is_some_and(|v| *v != zero);
    let next = if first_release && history.head.is_some() && !entries.is_empty() {
        decided = Some("first release: the version in the files".into());
        file_version.clone()
    } else {
        match level {
            Some(l) => Some(version::bump(&current, l, opts.pre)?),
            None => None,
        }
    };
    if next.is_none() && history.head.is_some() {
        let since = history
            .last_tag
            .as_ref()
            .map_or("the first commit".to_owned(), |t| format!("`{}`", t.name));
        notes.push(format!(
            "nothing to release: no feature, fix or breaking change since {since}"
        ));
    }

    let changelog_path = root.join(&cfg.changelog.path);
    let changelog_text = std::fs::read_to_string(&changelog_path).unwrap_or_default();
    let mut groups: Vec<Group> = Vec::new();
    for e in &entries {
        let kind = e.kind.clone().unwrap_or_else(|| "other".into());
        match groups.iter_mut().find(|g| g.kind == kind) {
            Some(g) => {
                g.count += 1;
                g.entries.push(e.header());
            }
            None => groups.push(Group {
                kind,
                count: 1,
                entries: vec![e.header()],
            }),
        }
    }
    groups.sort_by(|a, b| b.count.cmp(&a.count).then(a.kind.cmp(&b.kind)));

    Ok(Status {
        files: det.files,
        dynamic: det.dynamic,
        files_agree,
        file_version: file_version.as_ref().map(ToString::to_string),
        branch: history.branch.clone(),
        head: history.head.clone(),
        shallow: history.shallow,
        last_tag: history.last_tag.clone(),
        current: current.to_string(),
        commits: history.commits.len(),
        groups,
        entries,
        surface: surface_diff,
        level,
        next_tag: next.as_ref().map(|v| format!("{}{v}", cfg.tag_prefix)),
        changelog_has_next: next
            .as_ref()
            .is_some_and(|v| changelog::has_entry(&changelog_text, &v.to_string())),
        changelog_has_current: changelog::has_entry(&changelog_text, &current.to_string()),
        next: next.map(|v| v.to_string()),
        decided_by: decided,
        changelog: cfg.changelog.path.clone(),
        notes,
    })
}

/// `SOURCE_DATE_EPOCH` (reproducible builds) when set, else today, as `YYYY-MM-DD` in UTC.
pub fn release_date() -> String {
    let now = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .unwrap_or_else(chrono::Utc::now);
    now.format("%Y-%m-%d").to_string()
}

/// The changelog entry for `version` from the status' entries.
pub fn changelog_entry(
    root: &Path,
    cfg: &ReleaseConfig,
    st: &Status,
    version: &str,
    date: &str,
) -> changelog::Rendered {
    let remote = git::remote_url(root).and_then(|u| Remote::parse(&u));
    let tag = format!("{}{version}", cfg.tag_prefix);
    let heading = EntryHeading {
        version,
        tag: &tag,
        previous_tag: st.last_tag.as_ref().map(|t| t.name.as_str()),
        date,
    };
    changelog::render(&heading, &st.entries, &cfg.changelog, remote.as_ref())
}

/// One file a bump writes.
#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    pub path: PathBuf,
    /// `None` when the file is new.
    #[serde(skip)]
    pub before: Option<String>,
    #[serde(skip)]
    pub after: String,
}

/// Unified diff of every change, as `git diff` would show it.
pub fn unified_diff(changes: &[FileChange]) -> String {
    let mut out = String::new();
    for c in changes {
        let p = c.path.to_string_lossy().replace('\\', "/");
        let before = c.before.as_deref().unwrap_or("");
        let old = if c.before.is_some() {
            format!("a/{p}")
        } else {
            "/dev/null".into()
        };
        let diff = similar::TextDiff::from_lines(before, &c.after);
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&old, &format!("b/{p}"))
                .to_string(),
        );
    }
    out
}

fn tmp_path(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dest.with_file_name(format!(".{name}.runway-{}.tmp", std::process::id()))
}

/// Writes every change or none: temp files first, then renames, undoing on failure.
pub fn write_all(root: &Path, changes: &[FileChange]) -> Result<()> {
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let cleanup = |staged: &[(PathBuf, PathBuf)]| {
        for (tmp, _) in staged {
            let _ = std::fs::remove_file(tmp);
        }
    };
    for c in changes {
        let dest = root.join(&c.path);
        let tmp = tmp_path(&dest);
        if let Err(source) = std::fs::write(&tmp, &c.after) {
            cleanup(&staged);
            return Err(ReleaseError::Write { path: dest, source });
        }
        if let Ok(meta) = std::fs::metadata(&dest) {
            let _ = std::fs::set_permissions(&tmp, meta.permissions());
        }
        staged.push((tmp, dest));
    }
    for (i, (tmp, dest)) in staged.iter().enumerate() {
        if let Err(source) = std::fs::rename(tmp, dest) {
            for (c, (_, done)) in changes[..i].iter().zip(&staged[..i]) {
                let _ = match &c.before {
                    Some(b) => std::fs::write(done, b),
                    None => std::fs::remove_file(done),
                };
            }
            cleanup(&staged[i..]);
            return Err(ReleaseError::Write {
                path: dest.clone(),
                source,
            });
        }
    }
    Ok(())
}

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

fn level_between(from: &Version, to: &Version) -> Level {
    if to.major != from.major {
        Level::Major
    } else if to.minor != from.minor {
        Level::Minor
    } else {
        Level::Patch
    }
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
        Requested::Level(l) => (version::bump(&current, *l, plan.pre)?, None),
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
    if !opts.no_git && git::tag_commit(root, &tag)?.is_some() {
        return Err(ReleaseError::git_hint(
            format!("tag `{tag}` already exists"),
            format!(
                "pick another version, or delete the tag (`git tag -d {tag}`) if it was a mistake"
            ),
        ));
    }

    let mut changes = Vec::new();
    for f in &st.files {
        let text =
            std::fs::read_to_string(root.join(&f.path)).map_err(|source| ReleaseError::Read {
                path: f.path.clone(),
                source,
            })?;
        let written = if f.is_python() {
            version::to_pep440(&next)
        } else {
            next.to_string()
        };
        let after = files::write_version(f, &text, &written)?;
        if after != text {
            changes.push(FileChange {
                path: f.path.clone(),
                before: Some(text),
                after,
            });
        }
    }
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
    let committed =
        git::run(root, &add).and_then(|_| git::run(root, &["commit", "-q", "-m", &message]));
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

/// The outcome of one `check` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RowStatus {
    Pass,
    Fail,
    Skip,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckRow {
    pub name: String,
    pub status: RowStatus,
    pub detail: String,
    pub hints: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u128>,
}

impl CheckRow {
    fn new(name: &str, ok: bool, detail: impl Into<String>) -> CheckRow {
        CheckRow {
            name: name.to_owned(),
            status: if ok { RowStatus::Pass } else { RowStatus::Fail },
            detail: detail.into(),
            hints: Vec::new(),
            duration_ms: None,
        }
    }

    fn hint(mut self, h: impl Into<String>) -> CheckRow {
        self.hints.push(h.into());
        self
    }
}

#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// The tag being released (`v1.2.3` or `refs/tags/v1.2.3`).
    pub tag: Option<String>,
    pub run_gates: bool,
}

/// The pre-release gate of the runbooks: every row must pass.
pub fn check(
    root: &Path,
    cfg: &ReleaseConfig,
    plan: &PlanOptions,
    opts: &CheckOptions,
) -> Result<Vec<CheckRow>> {
    let st = status(root, cfg, plan)?;
    let mut rows = Vec::new();

    let dirty = git::dirty_paths(root)?;
    rows.push(if dirty.is_empty() {
        CheckRow::new("clean tree", true, "no uncommitted changes")
    } else {
        let shown: Vec<String> = dirty.iter().take(5).map(|p| format!("`{p}`")).collect();
        CheckRow::new(
            "clean tree",
            false,
            format!("uncommitted changes: {}", shown.join(", ")),
        )
        .hint("commit or stash them before releasing")
    });

    rows.push(branch_row(root, cfg, &st));

    let listing: Vec<String> = st
        .files
        .iter()
        .flat_map(|f| {
            f.locations
                .iter()
                .map(move |l| format!("{}: {}", f.path.display(), l.version))
        })
        .collect();
    rows.push(if st.files.is_empty() {
        let dynamic = st.dynamic.iter().any(|d| d.from_git_tags);
        CheckRow {
            status: if dynamic {
                RowStatus::Pass
            } else {
                RowStatus::Skip
            },
            ..CheckRow::new(
                "version files agree",
                true,
                if dynamic {
                    "the version comes from the git tag"
                } else {
                    "no version files"
                },
            )
        }
    } else if st.files_agree {
        CheckRow::new("version files agree", true, listing.join(", "))
    } else {
        CheckRow::new("version files agree", false, listing.join(", "))
            .hint("set them all with `runway release bump --version X.Y.Z --no-git`")
    });

    let tag = opts
        .tag
        .as_deref()
        .map(|t| t.strip_prefix("refs/tags/").unwrap_or(t).to_owned());
    let release_version: Option<String> = match &tag {
        Some(t) => {
            let (row, v) = tag_row(cfg, &st, t);
            rows.push(row);
            v
        }
        None => st.file_version.clone(),
    };

    match &release_version {
        Some(v) => {
            let text = std::fs::read_to_string(root.join(&cfg.changelog.path)).unwrap_or_default();
            rows.push(if changelog::has_entry(&text, v) {
                CheckRow::new(
                    "changelog entry",
                    true,
                    format!("`{}` has `{v}`", cfg.changelog.path),
                )
            } else {
                CheckRow::new(
                    "changelog entry",
                    false,
                    format!("`{}` has no entry for `{v}`", cfg.changelog.path),
                )
                .hint("write it with `runway release changelog --write`")
            });
            let tag_name = tag
                .clone()
                .unwrap_or_else(|| format!("{}{v}", cfg.tag_prefix));
            rows.push(match (git::tag_commit(root, &tag_name)?, &st.head) {
                (None, _) => CheckRow::new("tag target", true, format!("`{tag_name}` is not tagged yet")),
                (Some(c), Some(h)) if c == *h => {
                    CheckRow::new("tag target", true, format!("`{tag_name}` points at HEAD"))
                }
                (Some(c), _) => CheckRow::new(
                    "tag target",
                    false,
                    format!(
                        "`{tag_name}` already points at {}, not at HEAD {}",
                        short(&c),
                        st.head.as_deref().map_or("(none)", short)
                    ),
                )
                .hint(if tag.is_some() {
                    format!(
                        "release a new version, or move the tag: `git tag -d {tag_name}` then `git push origin :refs/tags/{tag_name}`"
                    )
                } else {
                    format!(
                        "the version in the files was already released as `{tag_name}`; bump it first: `runway release bump auto`"
                    )
                }),
            });
        }
        None => rows.push(CheckRow {
            status: RowStatus::Skip,
            ..CheckRow::new("changelog entry", true, "no version to look for")
        }),
    }

    if let Some(d) = &st.surface {
        let base = st.last_tag.as_ref().map(|t| t.version.clone());
        let target = release_version
            .as_deref()
            .and_then(|v| Version::parse(v).ok());
        let required = base
            .as_ref()
            .and_then(|b| d.required_for(b, cfg.bump_minor_pre_major));
        rows.push(match (base, target, required) {
            (Some(b), Some(t), Some(req))
                if version::cmp_release(&t, &b).is_gt() && level_between(&b, &t) < req =>
            {
                CheckRow::new(
                    "tool surface",
                    false,
                    format!(
                        "{} since `{b}` needs a {req} release, but `{t}` is a {} release",
                        d.decisive().map_or("a change".into(), |c| c.detail.clone()),
                        level_between(&b, &t)
                    ),
                )
                .hint(format!("release with `runway release bump {req}`"))
            }
            (_, _, None) => CheckRow::new("tool surface", true, "unchanged since the last release"),
            _ => CheckRow::new(
                "tool surface",
                true,
                format!("{} change(s), covered by the version", d.changes.len()),
            ),
        });
    }

    if opts.run_gates {
        for g in &cfg.gates {
            rows.push(run_gate(
                root,
                &g.name,
                &g.run,
                Duration::from_secs(g.timeout_secs),
            ));
        }
    }
    Ok(rows)
}

fn branch_row(root: &Path, cfg: &ReleaseConfig, st: &Status) -> CheckRow {
    let allowed = cfg
        .branches
        .iter()
        .map(|b| format!("`{b}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match (&st.branch, &st.head) {
        (Some(b), _) if cfg.branches.iter().any(|a| a == b) => {
            CheckRow::new("release branch", true, format!("on `{b}`"))
        }
        (Some(b), _) if b.starts_with("hotfix/") => {
            CheckRow::new("release branch", true, format!("on hotfix branch `{b}`"))
        }
        (Some(b), _) => CheckRow::new(
            "release branch",
            false,
            format!("on `{b}`; releases are cut from {allowed}"),
        )
        .hint("switch to a release branch, or add this one to `[release].branches`"),
        (None, Some(head)) => {
            // CI checks out a tag as a detached HEAD: accept it when a release branch contains it.
            let container = cfg.branches.iter().find_map(|b| {
                [b.clone(), format!("origin/{b}")]
                    .into_iter()
                    .find(|r| git::is_ancestor(root, head, r))
            });
            match container {
                Some(r) => CheckRow::new("release branch", true, format!("detached HEAD, contained in `{r}`")),
                None => CheckRow::new(
                    "release branch",
                    false,
                    format!("detached HEAD {} is on none of {allowed}", short(head)),
                )
                .hint("fetch the release branch (`git fetch origin main`) or tag a commit that is on it"),
            }
        }
        (None, None) => CheckRow::new("release branch", false, "the repository has no commits"),
    }
}

fn tag_row(cfg: &ReleaseConfig, st: &Status, tag: &str) -> (CheckRow, Option<String>) {
    let Some(raw) = tag.strip_prefix(cfg.tag_prefix.as_str()) else {
        return (
            CheckRow::new(
                "tag matches version",
                false,
                format!("tag `{tag}` does not start with `{}`", cfg.tag_prefix),
            )
            .hint(format!("release tags look like `{}1.2.3`", cfg.tag_prefix)),
            None,
        );
    };
    let Ok(tag_version) = Version::parse(raw) else {
        return (
            CheckRow::new(
                "tag matches version",
                false,
                format!(
                    "tag `{tag}` is not `{}` followed by a SemVer 2.0.0 version",
                    cfg.tag_prefix
                ),
            ),
            None,
        );
    };
    if st.files.is_empty() {
        return (
            CheckRow::new(
                "tag matches version",
                true,
                "the version comes from the git tag",
            ),
            Some(tag_version.to_string()),
        );
    }
    for f in &st.files {
        for (i, l) in f.locations.iter().enumerate() {
            let same = file_semver(f, i).is_ok_and(|v| version::same_release(&v, &tag_version));
            if !same {
                let shown = if f.is_python() {
                    version::to_pep440(&tag_version)
                } else {
                    tag_version.to_string()
                };
                return (
                    CheckRow::new(
                        "tag matches version",
                        false,
                        format!(
                            "Version mismatch! {}: {}, Git tag: {}",
                            f.path.display(),
                            l.version,
                            raw
                        ),
                    )
                    .hint(format!(
                        "either update `{}` to match the tag: `runway release bump --version {shown} --no-git`",
                        f.path.display()
                    ))
                    .hint(format!(
                        "or delete the tag and re-create it with the right version: `git push origin :refs/tags/{tag}` and `git tag -d {tag}`"
                    )),
                    Some(tag_version.to_string()),
                );
            }
        }
    }
    (
        CheckRow::new(
            "tag matches version",
            true,
            format!("`{tag}` matches every version file"),
        ),
        Some(tag_version.to_string()),
    )
}

/// Names of environment variables whose values are treated as secrets.
const SECRET_NAME_PARTS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
    // Not bare `AUTH`: it would hide `GIT_AUTHOR_NAME` and friends.
    "AUTH_TOKEN",
    "_AUTH",
];

/// Gate commands run with the user's environment, and test or publish tools
/// sometimes echo it: every value of a secret-looking variable is hidden, and
/// so is the user part of any URL (`https://user:token@host`).
pub fn redact_output(text: &str) -> String {
    let mut r = runway_core::Redactor::new();
    for (k, v) in std::env::vars_os() {
        let k = k.to_string_lossy().to_ascii_uppercase();
        if SECRET_NAME_PARTS.iter().any(|p| k.contains(p)) {
            r.add(&runway_core::Secret::new(v.to_string_lossy().into_owned()));
        }
    }
    let text = r.redact(text);
    let re = regex::Regex::new(r"://[^/@\s]+@").expect("static regex");
    re.replace_all(&text, "://[redacted]@").into_owned()
}

/// How much of a gate's output is kept for the report.
const GATE_OUTPUT_TAIL: usize = 4096;

/// Runs one gate with `sh -c`, bounded in time; its output is kept for failures only.
pub fn run_gate(root: &Path, name: &str, cmd: &str, timeout: Duration) -> CheckRow {
    let start = Instant::now();
    let dir = tempfile_dir();
    let log = dir.join(format!(
        "runway-gate-{}-{}.log",
        std::process::id(),
        sanitize(name)
    ));
    let file = match std::fs::File::create(&log) {
        Ok(f) => f,
        Err(e) => {
            return CheckRow::new(
                &format!("gate: {name}"),
                false,
                format!("cannot create a log file: {e}"),
            );
        }
    };
    let err_file = file.try_clone();
    let child = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::from(file))
        .stderr(err_file.map(Stdio::from).unwrap_or_else(|_| Stdio::null()))
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(&log);
            return CheckRow::new(
                &format!("gate: {name}"),
                false,
                format!("`{cmd}` did not start: {e}"),
            );
        }
    };
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                timed_out = true;
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => break None,
        }
    };
    let output = std::fs::read(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    let tail = redact_output(
        String::from_utf8_lossy(&output[output.len().saturating_sub(GATE_OUTPUT_TAIL)..]).trim(),
    );
    let elapsed = start.elapsed();
    let mut row = match (status, timed_out) {
        (Some(s), _) if s.success() => {
            CheckRow::new(&format!("gate: {name}"), true, format!("`{cmd}` passed"))
        }
        (Some(s), _) => CheckRow::new(
            &format!("gate: {name}"),
            false,
            format!(
                "`{cmd}` exited with {}{}",
                s.code().map_or("a signal".into(), |c| format!("code {c}")),
                if tail.is_empty() {
                    String::new()
                } else {
                    format!("\n{tail}")
                }
            ),
        ),
        (None, true) => CheckRow::new(
            &format!("gate: {name}"),
            false,
            format!("`{cmd}` was stopped after {}s", timeout.as_secs()),
        )
        .hint("raise `timeout_secs` for this gate in `runway.toml` if it is just slow"),
        (None, false) => CheckRow::new(
            &format!("gate: {name}"),
            false,
            format!("`{cmd}` could not be waited for"),
        ),
    };
    row.duration_ms = Some(elapsed.as_millis());
    // The command itself may carry a credential (`twine upload -p ...`, a URL).
    row.detail = redact_output(&row.detail);
    row
}

fn tempfile_dir() -> PathBuf {
    std::env::temp_dir()
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(40)
        .collect()
}

/// A hotfix branch made from a release tag.
#[derive(Debug, Clone, Serialize)]
pub struct HotfixStart {
    pub branch: String,
    pub from_tag: String,
    pub version: String,
}

/// `hotfix start <tag>`: branch `hotfix/X.Y.Z+1` from the tag.
pub fn hotfix_start(root: &Path, cfg: &ReleaseConfig, tag: &str) -> Result<HotfixStart> {
    let name = if tag.starts_with(cfg.tag_prefix.as_str()) {
        tag.to_owned()
    } else {
        format!("{}{tag}", cfg.tag_prefix)
    };
    let Some(_) = git::tag_commit(root, &name)? else {
        let known: Vec<String> = git::release_tags(root, &cfg.tag_prefix)?
            .into_iter()
            .take(5)
            .map(|t| format!("`{}`", t.name))
            .collect();
        return Err(ReleaseError::git_hint(
            format!("tag `{name}` does not exist"),
            if known.is_empty() {
                "run `git fetch --tags`; there are no release tags here".to_owned()
            } else {
                format!("run `git fetch --tags`; latest tags: {}", known.join(", "))
            },
        ));
    };
    let v = Version::parse(&name[cfg.tag_prefix.len()..])
        .map_err(|e| ReleaseError::Bump(format!("`{name}` is not a release tag: {e}")))?;
    let next = version::bump(&v, Level::Patch, None)?;
    let branch = format!("hotfix/{next}");
    git::require_clean(root)?;
    git::run(root, &["switch", "-q", "-c", &branch, &name]).map_err(|e| {
        ReleaseError::git_hint(
            format!("could not create `{branch}`: {e}"),
            format!("if it already exists, continue on it: `git switch {branch}`"),
        )
    })?;
    Ok(HotfixStart {
        branch,
        from_tag: name,
        version: next.to_string(),
    })
}

/// The outcome of `hotfix finish`.
#[derive(Debug, Clone, Serialize)]
pub struct HotfixFinish {
    pub bumped: Bumped,
    pub main: String,
    /// Commits cherry-picked onto the main branch (empty on conflict).
    pub picked: Vec<String>,
    /// Set when the cherry-pick conflicted and was aborted.
    pub conflict: Option<Conflict>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    pub files: Vec<String>,
    /// The command to run by hand once ready to resolve it.
    pub command: String,
}

/// `hotfix finish`: patch release on the hotfix branch, then cherry-pick the fixes onto main.
pub fn hotfix_finish(root: &Path, cfg: &ReleaseConfig, date: &str) -> Result<HotfixFinish> {
    let h = git::history(root, &cfg.tag_prefix)?;
    let branch = git::require_branch(&h)?.to_owned();
    let Some(target) = branch.strip_prefix("hotfix/") else {
        return Err(ReleaseError::git_hint(
            format!("`{branch}` is not a hotfix branch"),
            "start one with `runway release hotfix start <tag>`",
        ));
    };
    let target = target.to_owned();
    git::require_clean(root)?;
    let fixes: Vec<String> = h
        .commits
        .iter()
        .rev()
        .filter(|c| c.parents <= 1)
        .map(|c| c.id.clone())
        .collect();
    if fixes.is_empty() {
        return Err(ReleaseError::git_hint(
            format!("`{branch}` has no commits since the release it started from"),
            "commit the fix first",
        ));
    }
    let result = bump(
        root,
        cfg,
        &Requested::Exact(target),
        &PlanOptions::default(),
        &BumpOptions {
            date: date.to_owned(),
            ..BumpOptions::default()
        },
    )?;
    let BumpResult::Bumped(bumped) = result else {
        return Err(ReleaseError::Bump(
            "nothing to release on the hotfix branch".into(),
        ));
    };
    let main = cfg.main_branch.clone();
    git::run(root, &["switch", "-q", &main]).map_err(|e| {
        ReleaseError::git_hint(
            format!("the hotfix is tagged, but switching to `{main}` failed: {e}"),
            format!(
                "cherry-pick by hand: `git switch {main} && git cherry-pick -x {}`",
                fixes.join(" ")
            ),
        )
    })?;
    let mut args = vec!["cherry-pick", "-x"];
    args.extend(fixes.iter().map(String::as_str));
    match git::run(root, &args) {
        Ok(_) => Ok(HotfixFinish {
            bumped: *bumped,
            main,
            picked: fixes,
            conflict: None,
        }),
        Err(_) => {
            let files: Vec<String> = git::run(root, &["diff", "--name-only", "--diff-filter=U"])
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect();
            // Leave nothing half-applied: back to the state before the whole sequence.
            let _ = git::run(root, &["cherry-pick", "--abort"]);
            let _ = git::run(root, &["switch", "-q", &branch]);
            Ok(HotfixFinish {
                bumped: *bumped,
                main: main.clone(),
                picked: Vec::new(),
                conflict: Some(Conflict {
                    files,
                    command: format!(
                        "git switch {main} && git cherry-pick -x {}",
                        fixes.join(" ")
                    ),
                }),
            })
        }
    }
}
