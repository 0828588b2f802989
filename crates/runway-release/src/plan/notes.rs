//! `runway release notes`: the release notes of one version, for a GitHub or
//! GitLab release (`gh release create vX --notes-file -`).
//!
//! The notes are the changelog entry of that version without its heading
//! (the release page has its own title), rendered by the same
//! [`changelog::render`] from the same Conventional Commits grouping: a
//! tagged version from the commits between the release tag before it and its
//! own tag ([`git::history_of_tag`]), a version not tagged yet from the
//! commits since the last release tag, exactly as `release changelog` would
//! write it.

use std::path::Path;

use runway_config::ReleaseConfig;
use semver::Version;
use serde::Serialize;

use super::{PlanOptions, Status, status};
use crate::changelog::{self, EntryHeading, Remote};
use crate::commits;
use crate::error::{ReleaseError, Result};
use crate::git::{self, Tag};
use crate::version;

/// What the notes say when no commit of the release is in a visible section.
pub const NO_CHANGES: &str = "No notable changes.";

/// The release notes of one version.
#[derive(Debug, Clone, Serialize)]
pub struct Notes {
    pub version: String,
    /// The release tag (`v1.2.0`), existing or to be made.
    pub tag: String,
    /// Whether the tag exists; `false` for the next version, not tagged yet.
    pub tagged: bool,
    /// The release tag the notes start from (none for a first release).
    pub previous_tag: Option<String>,
    /// The commits the release brought (before grouping and hiding).
    pub commits: usize,
    /// The notes as Markdown, without the changelog heading.
    pub markdown: String,
    /// The compare URL (`…/compare/v1.1.0...v1.2.0`), when the remote is GitHub or GitLab.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compare_url: Option<String>,
    /// Non-conventional commits left out (`non_conventional = "warn"`).
    pub warnings: Vec<String>,
}

/// The notes of `version` (`1.2.0` or `v1.2.0`), else of the next version
/// when there is one (not tagged yet), else of the last release tag.
pub fn notes(
    root: &Path,
    cfg: &ReleaseConfig,
    opts: &PlanOptions,
    version: Option<&str>,
) -> Result<Notes> {
    match version {
        None => {
            let st = status(root, cfg, opts)?;
            match (&st.next, &st.last_tag) {
                (Some(next), _) => Ok(untagged(root, cfg, &st, next)),
                (None, Some(last)) => tagged(root, cfg, opts, last),
                (None, None) => Err(ReleaseError::git_hint(
                    format!(
                        "no release tag matching `{}X.Y.Z` and nothing to release, so there are no notes to write",
                        cfg.tag_prefix
                    ),
                    "commit a Conventional Commit (`feat: ...`, `fix: ...`) and run `runway release bump auto`, or name the version: `runway release notes X.Y.Z`",
                )),
            }
        }
        Some(text) => {
            let bare = text.strip_prefix(cfg.tag_prefix.as_str()).unwrap_or(text);
            let wanted = version::parse(bare).map_err(|e| {
                ReleaseError::git_hint(
                    format!("`{text}` is not a version: {e}"),
                    format!(
                        "name a release as `X.Y.Z` or by its tag `{}X.Y.Z`",
                        cfg.tag_prefix
                    ),
                )
            })?;
            if let Some(tag) = git::tag_for_version(root, &cfg.tag_prefix, &wanted)? {
                return tagged(root, cfg, opts, &tag);
            }
            let st = status(root, cfg, opts)?;
            let ahead = st
                .last_tag
                .as_ref()
                .is_none_or(|t| version::cmp_release(&wanted, &t.version).is_gt());
            if ahead {
                // The coming release, as `release changelog --version` renders it.
                return Ok(untagged(root, cfg, &st, &wanted.to_string()));
            }
            Err(not_tagged(root, cfg, text, &wanted))
        }
    }
}

/// A version at or below the last release with no tag of its own.
fn not_tagged(root: &Path, cfg: &ReleaseConfig, text: &str, wanted: &Version) -> ReleaseError {
    let tags = git::release_tags(root, &cfg.tag_prefix).unwrap_or_default();
    let shown: Vec<String> = tags
        .iter()
        .take(8)
        .map(|t| format!("`{}`", t.name))
        .collect();
    ReleaseError::git_hint(
        format!(
            "there is no release tag `{}{wanted}` for `{text}`{}",
            cfg.tag_prefix,
            if shown.is_empty() {
                " (the repository has no release tags)".to_owned()
            } else {
                format!("; the release tags are {}", shown.join(", "))
            }
        ),
        "name one of those versions, run `git fetch --tags` when the tag is on the remote only, or leave the version out for the next release's notes",
    )
}

fn tagged(root: &Path, cfg: &ReleaseConfig, opts: &PlanOptions, tag: &Tag) -> Result<Notes> {
    let mut history = git::history_of_tag(root, &cfg.tag_prefix, tag)?;
    if let Some(dir) = &opts.package_dir {
        let since = history.last_tag.as_ref().map(|t| t.commit.as_str());
        let touching = git::commits_touching_until(root, since, &tag.commit, dir)?;
        history.commits.retain(|c| touching.contains(&c.id));
    }
    let entries = commits::entries(&history.commits);
    let version = tag.version.to_string();
    Ok(render(
        root,
        cfg,
        &version,
        &tag.name,
        true,
        history.last_tag.as_ref(),
        history.commits.len(),
        &entries,
    ))
}

fn untagged(root: &Path, cfg: &ReleaseConfig, st: &Status, version: &str) -> Notes {
    let tag = format!("{}{version}", cfg.tag_prefix);
    render(
        root,
        cfg,
        version,
        &tag,
        false,
        st.last_tag.as_ref(),
        st.commits,
        &st.entries,
    )
}

#[allow(clippy::too_many_arguments)]
fn render(
    root: &Path,
    cfg: &ReleaseConfig,
    version: &str,
    tag: &str,
    is_tagged: bool,
    previous: Option<&Tag>,
    commits: usize,
    entries: &[commits::Entry],
) -> Notes {
    let remote = git::remote_url(root).and_then(|u| Remote::parse(&u));
    let previous_tag = previous.map(|t| t.name.clone());
    let heading = EntryHeading {
        version,
        tag,
        previous_tag: previous_tag.as_deref(),
        date: &super::release_date(),
    };
    let rendered = changelog::render(&heading, entries, &cfg.changelog, remote.as_ref());
    let compare_url = match (&remote, &previous_tag) {
        (Some(r), Some(p)) => Some(r.compare_url(p, tag)),
        _ => None,
    };
    Notes {
        version: version.to_owned(),
        tag: tag.to_owned(),
        tagged: is_tagged,
        previous_tag,
        commits,
        markdown: body(&rendered.text, compare_url.as_deref()),
        compare_url,
        warnings: rendered.warnings,
    }
}

/// The entry without its `## [X] - date` heading, plus the compare link.
fn body(entry: &str, compare_url: Option<&str>) -> String {
    let rest = entry
        .split_once('\n')
        .map_or("", |(heading, rest)| {
            debug_assert!(heading.starts_with("## "));
            rest
        })
        .trim();
    let mut out = if rest.is_empty() {
        NO_CHANGES.to_owned()
    } else {
        rest.to_owned()
    };
    out.push('\n');
    if let Some(u) = compare_url {
        out.push_str(&format!("\n**Full Changelog**: {u}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_drops_the_heading_and_adds_the_compare_link() {
        let entry = "## [1.2.0](https://x/compare/v1.1.0...v1.2.0) - 2026-01-02\n\n### Features\n\n- a (abc1234)\n";
        assert_eq!(
            body(entry, Some("https://x/compare/v1.1.0...v1.2.0")),
            "### Features\n\n- a (abc1234)\n\n**Full Changelog**: https://x/compare/v1.1.0...v1.2.0\n"
        );
        assert_eq!(
            body("## [1.2.0] - 2026-01-02\n", None),
            "No notable changes.\n"
        );
    }
}
