//! Tag schemes: how a repository spells its release tags, read from the tags
//! it already has. `2.2.0` (bare), `v1.4.0`, or component-prefixed as
//! release-plz and release-please monorepos write them (`rmcp-v3.1.3`,
//! `server-v1.2.0`, `mcp-hangar-v0.4.0`).

use std::collections::BTreeMap;
use std::path::Path;

use semver::Version;
use serde::Serialize;

use crate::error::{ReleaseError, Result};

/// One spelling of release tags and how many tags use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagScheme {
    /// What comes before the version: `""`, `"v"`, `"rmcp-v"`.
    pub prefix: String,
    pub count: usize,
    /// The highest version tagged this way, and its tag.
    pub highest: Version,
    pub highest_tag: String,
    /// The commits its tags point at (to tell components released together
    /// from packages released on their own).
    #[serde(skip)]
    pub commits: Vec<String>,
}

impl TagScheme {
    /// The component a prefix names (`rmcp` of `rmcp-v`, `server` of `server@`), if any.
    pub fn component(&self) -> Option<&str> {
        let p = self.prefix.as_str();
        let p = p
            .strip_suffix("-v")
            .or_else(|| p.strip_suffix("_v"))
            .or_else(|| p.strip_suffix("/v"))
            .or_else(|| p.strip_suffix("@v"))
            .or_else(|| p.strip_suffix('-'))
            .or_else(|| p.strip_suffix('/'))
            .or_else(|| p.strip_suffix('@'))
            .unwrap_or(p);
        (!p.is_empty() && p != "v" && p != "release").then_some(p)
    }
}

/// Splits a tag into its prefix and version: the first place a version
/// starts whose rest parses (`rmcp-v3.1.3` → `rmcp-v`, `3.1.3`). `None` for a
/// tag that holds no version.
pub fn split(tag: &str) -> Option<(&str, Version)> {
    let bytes = tag.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if !b.is_ascii_digit() {
            continue;
        }
        if i > 0 && (bytes[i - 1].is_ascii_digit() || bytes[i - 1] == b'.') {
            continue;
        }
        if let Ok(v) = crate::version::parse(&tag[i..]) {
            return Some((&tag[..i], v));
        }
    }
    None
}

/// Groups tag names by scheme, the most used first (ties: the higher version).
pub fn schemes_of<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<TagScheme> {
    let mut by: BTreeMap<String, TagScheme> = BTreeMap::new();
    for (name, commit) in tags {
        let Some((prefix, v)) = split(name) else {
            continue;
        };
        let s = by.entry(prefix.to_owned()).or_insert_with(|| TagScheme {
            prefix: prefix.to_owned(),
            count: 0,
            highest: v.clone(),
            highest_tag: name.to_owned(),
            commits: Vec::new(),
        });
        s.count += 1;
        s.commits.push(commit.to_owned());
        if v > s.highest {
            s.highest = v;
            s.highest_tag = name.to_owned();
        }
    }
    let mut out: Vec<TagScheme> = by.into_values().collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(b.highest.cmp(&a.highest)));
    out
}

/// Every tag scheme of the repository at `root`.
pub fn schemes(root: &Path) -> Result<Vec<TagScheme>> {
    let repo = crate::git::open(root)?;
    let err = |e: &dyn std::fmt::Display| ReleaseError::Repo(e.to_string());
    let refs = repo.references().map_err(|e| err(&e))?;
    let mut names: Vec<(String, String)> = Vec::new();
    for r in refs
        .tags()
        .map_err(|e| err(&e))?
        .peeled()
        .map_err(|e| err(&e))?
    {
        let Ok(r) = r else { continue };
        let full = r.name().as_bstr().to_string();
        let name = full.strip_prefix("refs/tags/").unwrap_or(&full).to_owned();
        let commit = r.try_id().map(|i| i.to_string()).unwrap_or_default();
        names.push((name, commit));
    }
    Ok(schemes_of(
        names.iter().map(|(n, c)| (n.as_str(), c.as_str())),
    ))
}

/// What to say when no tag has the configured prefix but others exist.
pub fn other_scheme_hint(schemes: &[TagScheme], prefix: &str) -> Option<String> {
    let s = schemes.iter().find(|s| s.prefix != prefix)?;
    if schemes.iter().any(|s| s.prefix == prefix) {
        return None;
    }
    Some(format!(
        "no tag reads `{prefix}X.Y.Z`, but {} tag(s) read `{}X.Y.Z` (highest `{}`): set `tag_prefix = {:?}` in `[release]` (`runway init` detects it)",
        s.count, s.prefix, s.highest_tag, s.prefix
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_split_into_prefix_and_version() {
        let p = |t: &str| split(t).map(|(p, v)| (p.to_owned(), v.to_string()));
        assert_eq!(p("2.2.0"), Some(("".into(), "2.2.0".into())));
        assert_eq!(p("v1.4.0"), Some(("v".into(), "1.4.0".into())));
        assert_eq!(p("rmcp-v3.1.3"), Some(("rmcp-v".into(), "3.1.3".into())));
        assert_eq!(
            p("rmcp-macros-v3.0.0-beta.4"),
            Some(("rmcp-macros-v".into(), "3.0.0-beta.4".into()))
        );
        assert_eq!(
            p("0.19.0-hotfix"),
            Some(("".into(), "0.19.0-hotfix".into()))
        );
        assert_eq!(p("v2.0.0rc1"), Some(("v".into(), "2.0.0-rc.1".into())));
        assert_eq!(p("py3-v1.0.0"), Some(("py3-v".into(), "1.0.0".into())));
        assert_eq!(p("latest"), None);
        assert_eq!(p("v1.2"), None);
    }

    #[test]
    fn the_most_used_scheme_comes_first_and_names_its_component() {
        let s = schemes_of([
            ("rmcp-v1.0.0", "a"),
            ("rmcp-v1.1.0", "b"),
            ("rmcp-macros-v1.1.0", "b"),
            ("nightly", "c"),
        ]);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].prefix, "rmcp-v");
        assert_eq!(s[0].count, 2);
        assert_eq!(s[0].highest_tag, "rmcp-v1.1.0");
        assert_eq!(s[0].component(), Some("rmcp"));
        assert_eq!(s[1].component(), Some("rmcp-macros"));
        let bare = schemes_of([("1.0.0", "a"), ("v0.1.0", "b"), ("1.1.0", "c")]);
        assert_eq!(bare[0].prefix, "");
        assert_eq!(bare[0].component(), None);
        assert_eq!(bare[1].component(), None);
        let hint = other_scheme_hint(&bare[..1], "v").unwrap();
        assert!(hint.contains("tag_prefix = \"\""), "{hint}");
        assert!(other_scheme_hint(&bare, "v").is_none());
    }
}
