//! Conventional Commits 1.0 → changelog entries and the bump they require.
//!
//! One git commit can hold several entries: a squash-merge body lists every
//! commit of the pull request (`* feat: ...`, `* fix: ...`), and each counts.
//! Merge commits hold none (the commits they bring are walked instead), and a
//! revert whose target is in the same unreleased range cancels it out.

use semver::Version;
use serde::Serialize;

use crate::version::Level;

/// A commit as read from history: what parsing needs and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RawCommit {
    /// Full hex id.
    pub id: String,
    pub message: String,
    pub parents: usize,
}

/// One changelog line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Full hex id of the commit it came from.
    pub commit: String,
    /// The Conventional Commit type, lower-case; `None` when the commit is not conventional.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub scope: Option<String>,
    pub description: String,
    pub breaking: bool,
    /// The `BREAKING CHANGE:` footer text, when there is one.
    pub breaking_note: Option<String>,
    /// Pull request / issue numbers written as `(#123)`.
    pub refs: Vec<u64>,
    /// For `git revert` commits: the id of the reverted commit.
    pub reverts: Option<String>,
}

impl Entry {
    /// The header as written: `feat(api)!: description`.
    pub fn header(&self) -> String {
        match &self.kind {
            None => self.description.clone(),
            Some(k) => {
                let scope = self
                    .scope
                    .as_ref()
                    .map(|s| format!("({s})"))
                    .unwrap_or_default();
                let bang = if self.breaking { "!" } else { "" };
                format!("{k}{scope}{bang}: {}", self.description)
            }
        }
    }
}

/// How commit types map to bumps (from `[release]`).
#[derive(Debug, Clone)]
pub struct Rules {
    pub patch_types: Vec<String>,
    pub bump_minor_pre_major: bool,
    pub bump_patch_for_minor_pre_major: bool,
}

impl Default for Rules {
    fn default() -> Self {
        let c = runway_config::ReleaseConfig::default();
        Rules::from(&c)
    }
}

impl From<&runway_config::ReleaseConfig> for Rules {
    fn from(c: &runway_config::ReleaseConfig) -> Self {
        Rules {
            patch_types: c.patch_types.clone(),
            bump_minor_pre_major: c.bump_minor_pre_major,
            bump_patch_for_minor_pre_major: c.bump_patch_for_minor_pre_major,
        }
    }
}

static HEADER_RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
            r"^\s*(?:[*-]\s+)?(?P<type>[a-z]+)(?:\((?P<scope>[^()\n]*)\))?(?P<bang>!)?: (?P<desc>\S.*)$",
        )
        .expect("static regex")
});

static REFS_RE: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"\(#(\d+)\)").expect("static regex"));

static REVERT_RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"This reverts commit ([0-9a-f]{7,64})").expect("static regex")
});

fn refs_in(text: &str) -> Vec<u64> {
    REFS_RE
        .captures_iter(text)
        .filter_map(|c| c[1].parse().ok())
        .collect()
}

fn is_breaking_footer(line: &str) -> Option<&str> {
    line.strip_prefix("BREAKING CHANGE:")
        .or_else(|| line.strip_prefix("BREAKING-CHANGE:"))
        .map(str::trim)
}

/// The entries of one commit (none for a merge commit).
pub fn parse_commit(c: &RawCommit) -> Vec<Entry> {
    if c.parents > 1 {
        return Vec::new();
    }
    let message = c.message.trim();
    let subject = message.lines().next().unwrap_or("").trim();
    let body: Vec<&str> = message.lines().skip(1).collect();
    let entry = |kind: Option<String>, scope: Option<String>, description: String| Entry {
        commit: c.id.clone(),
        kind,
        scope,
        refs: refs_in(&description),
        description,
        breaking: false,
        breaking_note: None,
        reverts: None,
    };

    // `git revert` writes `Revert "<subject>"` and names the reverted commit.
    if let Some(inner) = subject
        .strip_prefix("Revert \"")
        .and_then(|s| s.strip_suffix('"'))
    {
        let mut e = entry(Some("revert".into()), None, inner.to_owned());
        e.reverts = REVERT_RE.captures(message).map(|m| m[1].to_owned());
        return vec![e];
    }

    let mut out = Vec::new();
    match git_conventional::Commit::parse(message) {
        Ok(cc) => {
            let mut e = entry(
                Some(cc.type_().as_str().to_ascii_lowercase()),
                cc.scope().map(|s| s.as_str().to_owned()),
                cc.description().trim().to_owned(),
            );
            e.breaking = cc.breaking();
            e.breaking_note = cc
                .breaking_description()
                .filter(|d| d.trim() != cc.description().trim())
                .map(|d| d.trim().to_owned());
            if e.kind.as_deref() == Some("revert") {
                e.reverts = REVERT_RE.captures(message).map(|m| m[1].to_owned());
            }
            out.push(e);
        }
        Err(_) => {
            // A header that only looks conventional still counts (e.g. a body that
            // does not parse as footers); otherwise the commit is not conventional.
            if let Some(m) = HEADER_RE.captures(subject) {
                let mut e = entry(
                    Some(m["type"].to_owned()),
                    m.name("scope").map(|s| s.as_str().to_owned()),
                    m["desc"].trim().to_owned(),
                );
                e.breaking = m.name("bang").is_some();
                out.push(e);
            }
        }
    }
    let header_parsed = !out.is_empty();

    // Squash-merge bodies: every line that is itself a conventional header.
    let mut extra: Vec<Entry> = Vec::new();
    for line in &body {
        if let Some(m) = HEADER_RE.captures(line) {
            let mut e = entry(
                Some(m["type"].to_owned()),
                m.name("scope").map(|s| s.as_str().to_owned()),
                m["desc"].trim().to_owned(),
            );
            e.breaking = m.name("bang").is_some();
            extra.push(e);
        } else if let Some(note) = is_breaking_footer(line.trim_start_matches(['*', '-', ' ']))
            && !header_parsed
            && let Some(last) = extra.last_mut()
        {
            last.breaking = true;
            last.breaking_note = Some(note.to_owned());
        }
    }
    let subject_refs = refs_in(subject);
    for e in &mut extra {
        for r in &subject_refs {
            if !e.refs.contains(r) {
                e.refs.push(*r);
            }
        }
    }
    out.extend(extra);
    if out.is_empty() {
        out.push(entry(None, None, subject.to_owned()));
    }
    out
}

/// Parses every commit (newest first, as walked) and drops revert pairs that
/// both sit in the range: neither reaches users, so neither is released.
pub fn entries(commits: &[RawCommit]) -> Vec<Entry> {
    let mut all: Vec<Entry> = commits.iter().flat_map(parse_commit).collect();
    let reverted: Vec<(String, String)> = all
        .iter()
        .filter_map(|e| e.reverts.as_ref().map(|r| (e.commit.clone(), r.clone())))
        .collect();
    let mut drop: Vec<String> = Vec::new();
    for (revert_commit, target) in reverted {
        if commits.iter().any(|c| c.id.starts_with(&target)) {
            drop.push(revert_commit);
            drop.push(
                commits
                    .iter()
                    .find(|c| c.id.starts_with(&target))
                    .map(|c| c.id.clone())
                    .unwrap_or_default(),
            );
        }
    }
    all.retain(|e| !drop.contains(&e.commit));
    all
}

/// The bump an entry asks for on its own (ignoring the pre-1.0 rules).
pub fn entry_level(e: &Entry, rules: &Rules) -> Option<Level> {
    let kind = e.kind.as_deref()?;
    if e.breaking {
        Some(Level::Major)
    } else if kind == "feat" {
        Some(Level::Minor)
    } else if kind == "fix" || rules.patch_types.iter().any(|t| t == kind) {
        Some(Level::Patch)
    } else {
        None
    }
}

/// Applies the pre-1.0 rules: a breaking change is a minor bump and a feature
/// may be a patch bump, so `0.x` projects do not jump to `1.0.0` by accident.
pub fn adjust_for_major_zero(level: Level, current: &Version, rules: &Rules) -> Level {
    if current.major != 0 {
        return level;
    }
    match level {
        Level::Major if rules.bump_minor_pre_major => Level::Minor,
        Level::Minor if rules.bump_patch_for_minor_pre_major => Level::Patch,
        l => l,
    }
}

/// Which bump the entries require, and the entry that decided it.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub level: Option<Level>,
    pub decided_by: Option<Entry>,
}

pub fn decide(entries: &[Entry], current: &Version, rules: &Rules) -> Decision {
    let mut best: Option<(Level, &Entry)> = None;
    for e in entries {
        if let Some(l) = entry_level(e, rules) {
            let l = adjust_for_major_zero(l, current, rules);
            if best.is_none_or(|(b, _)| l > b) {
                best = Some((l, e));
            }
        }
    }
    Decision {
        level: best.map(|(l, _)| l),
        decided_by: best.map(|(_, e)| e.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str, msg: &str) -> RawCommit {
        RawCommit {
            id: id.into(),
            message: msg.into(),
            parents: 1,
        }
    }

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    fn level(msgs: &[&str], current: &str, rules: &Rules) -> Option<Level> {
        let commits: Vec<RawCommit> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| c(&format!("{i:040x}"), m))
            .collect();
        decide(&entries(&commits), &v(current), rules).level
    }

    #[test]
    fn types_map_to_levels() {
        let r = Rules::default();
        assert_eq!(level(&["fix: a"], "1.0.0", &r), Some(Level::Patch));
        assert_eq!(
            level(&["fix: a", "feat(x): b"], "1.0.0", &r),
            Some(Level::Minor)
        );
        assert_eq!(level(&["feat!: drop"], "1.0.0", &r), Some(Level::Major));
        assert_eq!(
            level(
                &["fix: a\n\nBREAKING CHANGE: the flag is gone"],
                "1.0.0",
                &r
            ),
            Some(Level::Major)
        );
        assert_eq!(
            level(
                &["fix: a\n\nBREAKING-CHANGE: the flag is gone"],
                "1.0.0",
                &r
            ),
            Some(Level::Major)
        );
        assert_eq!(level(&["perf: faster"], "1.0.0", &r), Some(Level::Patch));
    }

    #[test]
    fn only_chores_and_docs_release_nothing() {
        let r = Rules::default();
        assert_eq!(
            level(
                &["chore: deps", "docs: typo", "ci: cache", "random words"],
                "1.0.0",
                &r
            ),
            None
        );
    }

    #[test]
    fn before_one_zero_breaking_is_minor_and_feat_is_configurable() {
        let mut r = Rules::default();
        assert_eq!(level(&["feat!: x"], "0.4.0", &r), Some(Level::Minor));
        assert_eq!(level(&["feat: x"], "0.4.0", &r), Some(Level::Minor));
        r.bump_patch_for_minor_pre_major = true;
        assert_eq!(level(&["feat: x"], "0.4.0", &r), Some(Level::Patch));
        assert_eq!(level(&["feat!: x"], "0.4.0", &r), Some(Level::Minor));
        r.bump_minor_pre_major = false;
        assert_eq!(level(&["feat!: x"], "0.4.0", &r), Some(Level::Major));
    }

    #[test]
    fn squash_merge_bodies_count_each_entry() {
        let msg = "Add search (#42)\n\n* feat(search): add the search tool\n\n* fix: escape queries\n\n* chore: bump deps\n";
        let es = parse_commit(&c("a", msg));
        assert_eq!(es.len(), 3);
        assert_eq!(es[0].kind.as_deref(), Some("feat"));
        assert_eq!(es[0].scope.as_deref(), Some("search"));
        assert_eq!(es[0].refs, vec![42]);
        assert_eq!(es[1].description, "escape queries");

        let msg = "feat: outer (#7)\n\n* fix(api): inner one\n* feat!: inner two\n";
        let es = parse_commit(&c("b", msg));
        assert_eq!(es.len(), 3);
        assert!(es[2].breaking);
        assert_eq!(
            decide(&es, &v("2.0.0"), &Rules::default()).level,
            Some(Level::Major)
        );
    }

    #[test]
    fn the_deciding_commit_is_named() {
        let commits = vec![
            c("aaa", "fix: small"),
            c("bbb", "feat: big"),
            c("ccc", "fix: other"),
        ];
        let d = decide(&entries(&commits), &v("1.0.0"), &Rules::default());
        assert_eq!(d.decided_by.unwrap().commit, "bbb");
    }

    #[test]
    fn merge_commits_hold_no_entries() {
        let m = RawCommit {
            id: "m".into(),
            message: "Merge branch 'feature'".into(),
            parents: 2,
        };
        assert!(parse_commit(&m).is_empty());
    }

    #[test]
    fn a_revert_inside_the_range_cancels_its_target() {
        let target = "1111111111111111111111111111111111111111";
        let commits = vec![
            c(
                "2222222222222222222222222222222222222222",
                &format!("Revert \"feat: risky\"\n\nThis reverts commit {target}.\n"),
            ),
            c(target, "feat: risky"),
            c("3333333333333333333333333333333333333333", "fix: keep"),
        ];
        let es = entries(&commits);
        assert_eq!(es.len(), 1);
        assert_eq!(es[0].description, "keep");
        // A revert of something already released stays, as a patch.
        let es = entries(&commits[..1]);
        assert_eq!(es[0].kind.as_deref(), Some("revert"));
        assert_eq!(
            decide(&es, &v("1.0.0"), &Rules::default()).level,
            Some(Level::Patch)
        );
    }

    #[test]
    fn non_conventional_commits_are_kept_untyped() {
        let es = parse_commit(&c("x", "Update README.md"));
        assert_eq!(es[0].kind, None);
        assert_eq!(es[0].header(), "Update README.md");
    }

    #[test]
    fn breaking_note_is_kept() {
        let es = parse_commit(&c(
            "x",
            "feat(api): new auth\n\nBREAKING CHANGE: tokens from v1 are rejected\n",
        ));
        assert!(es[0].breaking);
        assert_eq!(
            es[0].breaking_note.as_deref(),
            Some("tokens from v1 are rejected")
        );
        assert_eq!(es[0].header(), "feat(api)!: new auth");
    }
}
