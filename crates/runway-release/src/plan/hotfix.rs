//! `runway release hotfix start|finish`: a patch branch from a release tag,
//! released there, and its fixes cherry-picked back onto the main branch.

use std::path::Path;

use runway_config::ReleaseConfig;
use semver::Version;
use serde::Serialize;

use super::{BumpOptions, BumpResult, Bumped, PlanOptions, Requested, bump};
use crate::error::{ReleaseError, Result};
use crate::git;
use crate::version::{self, Level};

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
