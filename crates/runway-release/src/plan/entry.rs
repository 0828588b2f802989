//! The changelog entry of a release: rendered from the status' entries, and
//! prepended to the changelog file once.

use std::path::{Path, PathBuf};

use runway_config::ReleaseConfig;

use super::{FileChange, Status, write_all};
use crate::changelog::{self, EntryHeading, Remote};
use crate::error::{ReleaseError, Result};
use crate::git;

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

/// `release changelog --write`: prepends `rendered` (the entry for `version`)
/// to the changelog, refusing when the file already has an entry for it.
pub fn write_changelog(
    root: &Path,
    cfg: &ReleaseConfig,
    version: &str,
    rendered: &changelog::Rendered,
) -> Result<()> {
    let rel = PathBuf::from(&cfg.changelog.path);
    let existing = std::fs::read_to_string(root.join(&rel)).ok();
    if existing
        .as_deref()
        .is_some_and(|t| changelog::has_entry(t, version))
    {
        return Err(ReleaseError::EntryExists {
            path: rel,
            version: version.to_owned(),
        });
    }
    let after = changelog::prepend(existing.as_deref(), &rendered.text);
    write_all(
        root,
        &[FileChange {
            path: rel,
            before: existing,
            after,
        }],
    )
}
