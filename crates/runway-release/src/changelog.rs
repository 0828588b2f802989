//! Changelog entries in the Keep a Changelog layout, built from commits.
//!
//! A new entry is prepended after the file's header (and after an
//! `## [Unreleased]` section, which stays where it is); older entries are
//! never touched, because people edit them by hand.

use std::sync::LazyLock;

use runway_config::release::{ChangelogConfig, NonConventional};
use serde::Serialize;

use crate::commits::Entry;

/// `(#123)`: a pull request or issue reference.
static REFS: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"\(#(\d+)\)").expect("static regex"));

/// Where the repository is hosted, for links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Remote {
    pub host: Host,
    /// `https://github.com/owner/repo`.
    pub base: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Host {
    GitHub,
    GitLab,
}

impl Remote {
    /// Recognises GitHub and GitLab remotes in their https, ssh and scp-like forms.
    pub fn parse(url: &str) -> Option<Remote> {
        let u = url.trim();
        let rest = if let Some(r) = u
            .strip_prefix("https://")
            .or_else(|| u.strip_prefix("http://"))
        {
            r.split_once('@').map_or(r, |(_, after)| after).to_owned()
        } else if let Some(r) = u.strip_prefix("ssh://") {
            let r = r.split_once('@').map_or(r, |(_, after)| after);
            // ssh://git@host:port/path → host/path
            match r.split_once('/') {
                Some((host, path)) => format!("{}/{path}", host.split(':').next().unwrap_or(host)),
                None => return None,
            }
        } else if let Some((user_host, path)) = u.split_once(':') {
            let host = user_host.split_once('@').map_or(user_host, |(_, h)| h);
            format!("{host}/{path}")
        } else {
            return None;
        };
        let rest = rest.trim_end_matches('/').trim_end_matches(".git");
        let (host, path) = rest.split_once('/')?;
        let kind = if host == "github.com" {
            Host::GitHub
        } else if host == "gitlab.com" || host.starts_with("gitlab.") {
            Host::GitLab
        } else {
            return None;
        };
        if path.split('/').filter(|s| !s.is_empty()).count() < 2 {
            return None;
        }
        Some(Remote {
            host: kind,
            base: format!("https://{host}/{path}"),
        })
    }

    pub fn commit_url(&self, sha: &str) -> String {
        match self.host {
            Host::GitHub => format!("{}/commit/{sha}", self.base),
            Host::GitLab => format!("{}/-/commit/{sha}", self.base),
        }
    }

    pub fn compare_url(&self, from: &str, to: &str) -> String {
        match self.host {
            Host::GitHub => format!("{}/compare/{from}...{to}", self.base),
            Host::GitLab => format!("{}/-/compare/{from}...{to}", self.base),
        }
    }

    pub fn issue_url(&self, n: u64) -> String {
        match self.host {
            Host::GitHub => format!("{}/issues/{n}", self.base),
            Host::GitLab => format!("{}/-/issues/{n}", self.base),
        }
    }
}

/// What an entry is about: which release, compared with which.
#[derive(Debug, Clone)]
pub struct EntryHeading<'a> {
    pub version: &'a str,
    pub tag: &'a str,
    pub previous_tag: Option<&'a str>,
    /// `YYYY-MM-DD`.
    pub date: &'a str,
}

/// A rendered entry plus what the user should know about it.
#[derive(Debug, Clone, Serialize)]
pub struct Rendered {
    pub text: String,
    /// Non-conventional commits left out (when `non_conventional = "warn"`).
    pub warnings: Vec<String>,
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}

fn linkify_refs(text: &str, remote: Option<&Remote>) -> String {
    let Some(remote) = remote else {
        return text.to_owned();
    };
    REFS.replace_all(text, |c: &regex::Captures<'_>| {
        let n: u64 = c[1].parse().unwrap_or(0);
        format!("([#{n}]({}))", remote.issue_url(n))
    })
    .into_owned()
}

fn line(e: &Entry, text: &str, remote: Option<&Remote>) -> String {
    let scope = e
        .scope
        .as_ref()
        .map(|s| format!("**{s}:** "))
        .unwrap_or_default();
    let commit = match remote {
        Some(r) => format!("[{}]({})", short(&e.commit), r.commit_url(&e.commit)),
        None => short(&e.commit).to_owned(),
    };
    let mut body = linkify_refs(text, remote);
    // A squash-merge sub-entry inherits the pull request number from the subject.
    for n in &e.refs {
        if !text.contains(&format!("#{n}")) {
            body.push_str(&match remote {
                Some(r) => format!(" ([#{n}]({}))", r.issue_url(*n)),
                None => format!(" (#{n})"),
            });
        }
    }
    format!("- {scope}{body} ({commit})\n")
}

/// The same change listed once: entries of one type, scope and description
/// (pull request numbers aside) fold into the first, which keeps every
/// number. A squash merge whose body repeats its header, or a change
/// cherry-picked twice, is one line.
fn fold<'a>(entries: impl Iterator<Item = &'a Entry>) -> Vec<Entry> {
    let key = |e: &Entry| {
        let d = REFS.replace_all(&e.description, "");
        (
            e.kind.clone(),
            e.scope.clone(),
            d.split_whitespace().collect::<Vec<_>>().join(" "),
        )
    };
    let mut out: Vec<Entry> = Vec::new();
    for e in entries {
        let k = key(e);
        match out.iter_mut().find(|o| key(o) == k) {
            Some(first) => {
                first.breaking |= e.breaking;
                if first.breaking_note.is_none() {
                    first.breaking_note = e.breaking_note.clone();
                }
                for r in refs_of(e) {
                    if !refs_of(first).contains(&r) {
                        first.refs.push(r);
                    }
                }
            }
            None => out.push(e.clone()),
        }
    }
    out
}

/// Every pull request number an entry names, in its text or inherited.
fn refs_of(e: &Entry) -> Vec<u64> {
    let mut refs: Vec<u64> = REFS
        .captures_iter(&e.description)
        .filter_map(|c| c[1].parse().ok())
        .collect();
    for r in &e.refs {
        if !refs.contains(r) {
            refs.push(*r);
        }
    }
    refs
}

/// Renders one release entry. `entries` come newest first (as walked); the
/// entry lists them oldest first, breaking changes before everything else.
pub fn render(
    heading: &EntryHeading<'_>,
    entries: &[Entry],
    cfg: &ChangelogConfig,
    remote: Option<&Remote>,
) -> Rendered {
    let mut text = String::new();
    let title = match (remote, heading.previous_tag) {
        (Some(r), Some(prev)) => format!(
            "[{}]({})",
            heading.version,
            r.compare_url(prev, heading.tag)
        ),
        _ => format!("[{}]", heading.version),
    };
    text.push_str(&format!("## {title} - {}\n", heading.date));
    let folded = fold(entries.iter().rev());
    let ordered: Vec<&Entry> = folded.iter().collect();
    let mut warnings = Vec::new();

    let breaking: Vec<&&Entry> = ordered.iter().filter(|e| e.breaking).collect();
    if !breaking.is_empty() {
        text.push_str("\n### ⚠ BREAKING CHANGES\n\n");
        for e in breaking {
            let what = e.breaking_note.as_deref().unwrap_or(&e.description);
            text.push_str(&line(e, what, remote));
        }
    }
    for section in cfg.sections.iter().filter(|s| !s.hidden) {
        let items: Vec<&&Entry> = ordered
            .iter()
            .filter(|e| e.kind.as_deref() == Some(section.kind.as_str()))
            .collect();
        if items.is_empty() {
            continue;
        }
        // Several types may share one heading (`feat` and `feature`); merge them.
        let heading_line = format!("\n### {}\n\n", section.section);
        if let Some(pos) = text.find(&heading_line) {
            let insert_at = text[pos + heading_line.len()..]
                .find("\n### ")
                .map_or(text.len(), |p| pos + heading_line.len() + p);
            let mut extra = String::new();
            for e in items {
                extra.push_str(&line(e, &e.description, remote));
            }
            text.insert_str(insert_at, &extra);
            continue;
        }
        text.push_str(&heading_line);
        for e in items {
            text.push_str(&line(e, &e.description, remote));
        }
    }
    let other: Vec<&&Entry> = ordered.iter().filter(|e| e.kind.is_none()).collect();
    if !other.is_empty() {
        match cfg.non_conventional {
            NonConventional::Other => {
                text.push_str("\n### Other\n\n");
                for e in other {
                    text.push_str(&line(e, &e.description, remote));
                }
            }
            NonConventional::Warn => {
                for e in other {
                    warnings.push(format!(
                        "commit {} is not a Conventional Commit and was left out of the changelog: `{}`",
                        short(&e.commit),
                        e.description
                    ));
                }
            }
        }
    }
    Rendered { text, warnings }
}

/// The header of a new changelog.
pub const NEW_HEADER: &str = "# Changelog\n\nAll notable changes to this project are documented in this file.\n\nThe format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/),\nand this project adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html).\n";

fn is_release_heading(line: &str) -> bool {
    line.starts_with("## ")
        && !line[3..]
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("[unreleased]")
        && !line[3..]
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("unreleased")
}

/// `existing` with `entry` inserted before its first release heading (or at
/// the end of the header when it has none). Everything else is kept byte for byte.
pub fn prepend(existing: Option<&str>, entry: &str) -> String {
    let Some(existing) = existing.filter(|e| !e.trim().is_empty()) else {
        return format!("{NEW_HEADER}\n{entry}");
    };
    let mut offset = 0;
    for l in existing.split_inclusive('\n') {
        if is_release_heading(l) {
            let (head, tail) = existing.split_at(offset);
            let mut out = String::with_capacity(existing.len() + entry.len() + 2);
            out.push_str(head);
            if !head.ends_with("\n\n") && !head.is_empty() {
                out.push('\n');
            }
            out.push_str(entry);
            out.push('\n');
            out.push_str(tail);
            return out;
        }
        offset += l.len();
    }
    let mut out = existing.to_owned();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    if !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str(entry);
    out
}

/// An entry heading (`## [1.2.0]`, `## v1.2.0`, `## 1.2.0 - date`) and its version.
static HEADING: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"(?m)^##\s+\[?v?(?P<v>[^\s\[\](:]+)\]?(?:[\s(:]|$)").expect("static regex")
});

/// True when the changelog has an entry for `version` (`## [1.2.0]`, `## v1.2.0`, `## 1.2.0 - date`).
pub fn has_entry(text: &str, version: &str) -> bool {
    HEADING
        .captures_iter(text)
        .any(|c| c.name("v").is_some_and(|v| v.as_str() == version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(sha: &str, kind: Option<&str>, desc: &str) -> Entry {
        Entry {
            commit: sha.repeat(40 / sha.len()),
            kind: kind.map(str::to_owned),
            scope: None,
            description: desc.to_owned(),
            breaking: false,
            breaking_note: None,
            refs: Vec::new(),
            reverts: None,
            subject: String::new(),
            release_as: None,
        }
    }

    fn heading() -> EntryHeading<'static> {
        EntryHeading {
            version: "1.3.0",
            tag: "v1.3.0",
            previous_tag: Some("v1.2.0"),
            date: "2026-01-12",
        }
    }

    #[test]
    fn remotes_in_every_spelling() {
        for u in [
            "https://github.com/mcp-hangar/mcp-hangar.git",
            "git@github.com:mcp-hangar/mcp-hangar.git",
            "ssh://git@github.com/mcp-hangar/mcp-hangar",
            "https://token@github.com/mcp-hangar/mcp-hangar/",
        ] {
            let r = Remote::parse(u).unwrap_or_else(|| panic!("{u}"));
            assert_eq!(r.base, "https://github.com/mcp-hangar/mcp-hangar", "{u}");
            assert_eq!(r.host, Host::GitHub);
        }
        let g = Remote::parse("git@gitlab.com:group/sub/proj.git").unwrap();
        assert_eq!(
            g.compare_url("v1", "v2"),
            "https://gitlab.com/group/sub/proj/-/compare/v1...v2"
        );
        assert!(Remote::parse("https://example.com/a/b").is_none());
        assert!(Remote::parse("/srv/git/repo").is_none());
    }

    #[test]
    fn breaking_first_then_sections_in_config_order_hidden_types_left_out() {
        let mut b = e("b", Some("feat"), "drop v1 auth");
        b.breaking = true;
        b.breaking_note = Some("tokens from v1 are rejected".into());
        let mut f = e("c", Some("fix"), "escape queries (#12)");
        f.scope = Some("search".into());
        let entries = vec![
            e("d", Some("chore"), "bump deps"),
            f,
            b,
            e("a", Some("feat"), "add search"),
        ];
        let r = Remote::parse("https://github.com/o/r").unwrap();
        let out = render(&heading(), &entries, &ChangelogConfig::default(), Some(&r)).text;
        let expected = "## [1.3.0](https://github.com/o/r/compare/v1.2.0...v1.3.0) - 2026-01-12\n\n### ⚠ BREAKING CHANGES\n\n- tokens from v1 are rejected ([bbbbbbb](https://github.com/o/r/commit/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb))\n\n### Features\n\n- add search ([aaaaaaa](https://github.com/o/r/commit/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa))\n- drop v1 auth ([bbbbbbb](https://github.com/o/r/commit/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb))\n\n### Bug Fixes\n\n- **search:** escape queries ([#12](https://github.com/o/r/issues/12)) ([ccccccc](https://github.com/o/r/commit/cccccccccccccccccccccccccccccccccccccccc))\n";
        assert_eq!(out, expected);
    }

    #[test]
    fn types_sharing_a_heading_are_listed_under_one_heading() {
        let mut cfg = ChangelogConfig::default();
        cfg.sections.insert(
            1,
            runway_config::release::SectionConfig {
                kind: "feature".into(),
                section: "Features".into(),
                hidden: false,
            },
        );
        let entries = vec![
            e("c", Some("fix"), "c"),
            e("b", Some("feature"), "b"),
            e("a", Some("feat"), "a"),
        ];
        let expected = "## [1.3.0] - 2026-01-12\n\n### Features\n\n- a (aaaaaaa)\n- b (bbbbbbb)\n\n### Bug Fixes\n\n- c (ccccccc)\n";
        assert_eq!(render(&heading(), &entries, &cfg, None).text, expected);
        // Also when the shared heading's second type comes after another section.
        let feature = cfg.sections.remove(1);
        cfg.sections.insert(3, feature);
        assert_eq!(render(&heading(), &entries, &cfg, None).text, expected);
    }

    #[test]
    fn non_conventional_go_to_other_or_warn() {
        let entries = vec![e("a", None, "Update README")];
        let mut cfg = ChangelogConfig::default();
        let r = render(&heading(), &entries, &cfg, None);
        assert!(
            r.text.contains("### Other\n\n- Update README (aaaaaaa)\n"),
            "{}",
            r.text
        );
        assert!(r.text.starts_with("## [1.3.0] - 2026-01-12\n"));
        cfg.non_conventional = NonConventional::Warn;
        let r = render(&heading(), &entries, &cfg, None);
        assert!(!r.text.contains("Other"));
        assert!(r.warnings[0].contains("`Update README`"));
    }

    #[test]
    fn prepend_keeps_header_unreleased_and_older_entries() {
        let old = "# Changelog\n\nIntro.\n\n## [Unreleased]\n\n- wip\n\n## [1.2.0] - 2026-01-01\n\n### Fixed\n- old  entry   kept\n";
        let out = prepend(
            Some(old),
            "## [1.3.0] - 2026-01-12\n\n### Features\n\n- x (abc)\n",
        );
        assert_eq!(
            out,
            "# Changelog\n\nIntro.\n\n## [Unreleased]\n\n- wip\n\n## [1.3.0] - 2026-01-12\n\n### Features\n\n- x (abc)\n\n## [1.2.0] - 2026-01-01\n\n### Fixed\n- old  entry   kept\n"
        );
        let fresh = prepend(None, "## [0.1.0] - d\n");
        assert!(fresh.starts_with("# Changelog\n"));
        assert!(fresh.ends_with("\n\n## [0.1.0] - d\n"));
        let header_only = prepend(Some("# Changelog\n"), "## [0.1.0] - d\n");
        assert_eq!(header_only, "# Changelog\n\n## [0.1.0] - d\n");
    }

    #[test]
    fn has_entry_accepts_common_headings() {
        let t = "# C\n\n## [1.2.0](https://x) - 2026\n## v1.1.0\n## 1.0.0 - 2025\n";
        assert!(has_entry(t, "1.2.0"));
        assert!(has_entry(t, "1.1.0"));
        assert!(has_entry(t, "1.0.0"));
        assert!(!has_entry(t, "1.2"));
        assert!(!has_entry(t, "2.0.0"));
        assert!(!has_entry("## [1.2.0-rc.1]", "1.2.0"));
    }
}
