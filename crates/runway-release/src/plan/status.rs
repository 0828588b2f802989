//! `runway release status`: the version files, the last tag, the commits since,
//! the tool surface, and the next version with what decided it.

use std::path::Path;

use runway_config::ReleaseConfig;
use semver::Version;
use serde::Serialize;

use super::{PlanOptions, file_semver, short};
use crate::changelog;
use crate::commits::{self, Decision, Entry, Rules};
use crate::error::{ReleaseError, Result};
use crate::files::{self, DynamicVersion, VersionFile};
use crate::git::{self, History, Tag};
use crate::surface::{self, SurfaceDiff};
use crate::version::{self, Level};

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
