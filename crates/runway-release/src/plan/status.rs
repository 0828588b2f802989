//! `runway release status`: the version files, the last tag, the commits since,
//! the tool surface, and the next version with what decided it.

use std::path::Path;

use runway_config::ReleaseConfig;
use semver::Version;
use serde::Serialize;

use super::{PlanOptions, file_semver, short};
use crate::changelog;
use crate::commits::{self, Decision, Entry, RawCommit, Rules};
use crate::error::{ReleaseError, Result};
use crate::files::{self, DynamicVersion, VersionFile};
use crate::git::{self, History, Tag};
use crate::surface::{self, SurfaceDiff};
use crate::version::{self, Level};

/// Commits of one type since the last release: every commit is in exactly
/// one group (its header's type, `other`, `merge`, or `reverted`), so the
/// counts add up to `commits`.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// The commit type, or `other` for non-conventional commits.
    #[serde(rename = "type")]
    pub kind: String,
    pub count: usize,
    /// The subjects of its commits, newest first.
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
    /// The tag that already carries the next version, when one does (on any branch).
    pub next_tag_exists: Option<String>,
    /// The commit (or surface change) that decided the bump.
    pub decided_by: Option<String>,
    pub changelog: String,
    pub changelog_has_next: bool,
    pub changelog_has_current: bool,
    /// Things the user should know (first release, shallow clone, files ahead of the tag...).
    pub notes: Vec<String>,
}

impl Status {
    /// True when the version lives only in the git tags (hatch-vcs,
    /// setuptools-scm, uv-dynamic-versioning...): a release is a tag.
    pub fn tag_is_version(&self) -> bool {
        self.files.is_empty() && self.dynamic.iter().any(|d| d.from_git_tags)
    }

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
    let det = match &opts.package_dir {
        Some(dir) => {
            let mut det = files::load_except(&root.join(dir), &cfg.files, &cfg.exclude)?;
            for f in &mut det.files {
                f.path = dir.join(&f.path);
            }
            for d in &mut det.dynamic {
                d.declared_in = dir.join(&d.declared_in);
            }
            det
        }
        None => files::load_except(root, &cfg.files, &cfg.exclude)?,
    };
    let mut history = match git::history(root, &cfg.tag_prefix) {
        Ok(h) => h,
        Err(ReleaseError::Git { .. }) if opts.allow_no_repo => empty_history(),
        Err(e) => return Err(e),
    };
    if let Some(dir) = &opts.package_dir
        && history.head.is_some()
    {
        let since = history.last_tag.as_ref().map(|t| t.commit.as_str());
        let touching = git::commits_touching(root, since, dir)?;
        history.commits.retain(|c| touching.contains(&c.id));
    }
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
    notes.extend(det.notes.iter().cloned());
    if det.tag_is_version() {
        notes.push(format!(
            "the git tag is the version: `runway release bump` tags the release (`{}X.Y.Z`) and edits no version file",
            cfg.tag_prefix
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
        let schemes = crate::tags::schemes(root).unwrap_or_default();
        notes.push(
            match crate::tags::other_scheme_hint(&schemes, &cfg.tag_prefix) {
                Some(hint) => hint,
                None => format!(
                    "no release tag matching `{}X.Y.Z` yet: every commit counts",
                    cfg.tag_prefix
                ),
            },
        );
    }

    let entries = commits::entries(&history.commits);
    let rules = Rules::from(cfg);
    let Decision {
        level: commit_level,
        decided_by,
    } = commits::decide(&entries, &current, &rules);
    let mut level = commit_level;
    // The commit's own subject, as written: a squash merge's title, not a bullet.
    let mut decided = decided_by.map(|e| format!("{} {}", short(&e.commit), e.subject));

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
        // A first release is the files' version, not a bump of anything.
        level = None;
        file_version.clone()
    } else {
        match level {
            Some(l) => Some(version::bump_from(
                &current,
                l,
                opts.pre,
                cfg.prerelease_start,
            )?),
            None => None,
        }
    };
    // A version file already ahead of the last tag (bumped by hand, or by a
    // release pull request not yet tagged) is never moved down.
    let mut next = next;
    if let (Some(n), Some(fv), Some(t)) = (&next, &file_version, &history.last_tag)
        && version::cmp_release(fv, &t.version) == std::cmp::Ordering::Greater
        && version::cmp_release(fv, n) == std::cmp::Ordering::Greater
    {
        decided = Some(format!(
            "the version files, already at `{fv}` (ahead of `{}`; never moved down)",
            t.name
        ));
        level = Some(super::level_between(&current, fv));
        next = Some(fv.clone());
    }
    // The base is a pre-release and nothing since asks for more: the next
    // release promotes it (`v19.0.0-beta.2` → `19.0.0`, as semantic-release
    // does when the beta branch reaches the release branch).
    if next.is_none()
        && opts.pre.is_none()
        && let Some(t) = &history.last_tag
        && !t.version.pre.is_empty()
    {
        let release = Version::new(t.version.major, t.version.minor, t.version.patch);
        decided = Some(format!("promotes `{}`: nothing new since it", t.name));
        level = Some(super::level_between(&current, &release));
        next = Some(release);
    }
    // Files bumped by hand to a release ahead of the last tag, with nothing in
    // the commits asking for one: that bump is the release to tag (a
    // pre-release in the files, `2.1.0.dev0` after a release, is not).
    if next.is_none()
        && !history.commits.is_empty()
        && let (Some(fv), Some(t)) = (&file_version, &history.last_tag)
        && fv.pre.is_empty()
        && version::cmp_release(fv, &t.version) == std::cmp::Ordering::Greater
    {
        decided = Some(format!(
            "the version files, set to `{fv}` by hand (ahead of `{}`)",
            t.name
        ));
        level = Some(super::level_between(&current, fv));
        next = Some(fv.clone());
    }
    // release-please's override: the newest `Release-As:` footer names the version.
    if let Some(e) = entries.iter().find(|e| e.release_as.is_some()) {
        let raw = e.release_as.as_deref().unwrap_or_default();
        match version::parse(raw) {
            Ok(v) if v > current => {
                level = Some(super::level_between(&current, &v));
                decided = Some(format!(
                    "`Release-As: {raw}` in {} {}",
                    short(&e.commit),
                    e.subject
                ));
                next = Some(v);
            }
            Ok(_) => notes.push(format!(
                "`Release-As: {raw}` in {} is not above the current version `{current}`; ignored",
                short(&e.commit)
            )),
            Err(reason) => notes.push(format!(
                "`Release-As: {raw}` in {} is not a version ({reason}); ignored",
                short(&e.commit)
            )),
        }
    }
    let mut next_tag_exists = None;
    if let Some(n) = &next
        && history.head.is_some()
        && let Some(t) = git::tag_for_version(root, &cfg.tag_prefix, n)?
    {
        notes.push(format!(
            "the next version `{n}` is already tagged: `{}` points at {}; pick another version with `runway release bump --version X.Y.Z`",
            t.name,
            short(&t.commit)
        ));
        next_tag_exists = Some(t.name);
    }
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
    let groups = groups(&history.commits, &entries);

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
        next_tag_exists,
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

/// One group per kind of commit, largest first.
fn groups(commits: &[RawCommit], entries: &[Entry]) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for c in commits {
        let subject = c.message.lines().next().unwrap_or("").trim().to_owned();
        let kind = match entries.iter().find(|e| e.commit == c.id) {
            Some(e) => e.kind.clone().unwrap_or_else(|| "other".into()),
            None if c.parents > 1 => "merge".to_owned(),
            None => "reverted".to_owned(),
        };
        match groups.iter_mut().find(|g| g.kind == kind) {
            Some(g) => {
                g.count += 1;
                g.entries.push(subject);
            }
            None => groups.push(Group {
                kind,
                count: 1,
                entries: vec![subject],
            }),
        }
    }
    groups.sort_by(|a, b| b.count.cmp(&a.count).then(a.kind.cmp(&b.kind)));
    groups
}
