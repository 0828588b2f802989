//! Conventional Commits 1.0 → changelog entries and the bump they require.
//!
//! Only a commit's header and real footers count, as release-please reads
//! them: the `* feat: ...` bullets GitHub writes into a squash merge's body are
//! the pull request's history, not separate changes (they count only when the
//! header is not conventional). Merge commits hold none (the commits they
//! bring are walked instead), and a revert (`git revert` or GitHub's button)
//! whose target is in the same unreleased range cancels it out. A
//! `Release-As: X.Y.Z` footer names the next version by hand.

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
    /// Full hex ids of its parents, first parent first (empty when unknown).
    #[serde(skip)]
    pub parent_ids: Vec<String>,
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
    /// For revert commits: what they say they undo.
    pub reverts: Option<Reverted>,
    /// The commit's first line, as written.
    pub subject: String,
    /// A `Release-As: X.Y.Z` footer of the commit: the next version, set by hand.
    pub release_as: Option<String>,
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

/// `Revert "<subject>"`, as `git revert` writes it, or with the pull request
/// GitHub's revert button adds: `Revert "feat: risky (#11)" (#12)`; also
/// behind a Conventional header (`chore(revert): Revert "feat: x"`) and
/// unquoted (`chore: Revert feat: x`).
static REVERT_SUBJECT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r#"^(?:(?P<type>[a-z]+)(?:\((?P<scope>[^()\n]*)\))?!?:\s*)?[Rr]evert(?:\s+"(?P<inner>.+)"(?:\s*\(#(?P<pr>\d+)\))?|:?\s+(?P<bare>.+))$"#,
    )
    .expect("static regex")
});

/// GitHub's revert body: `Reverts owner/repo#11` (or `Reverts #11`).
static REVERTS_PR: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"(?m)^Reverts (?:[\w.-]+/[\w.-]+)?#(\d+)\s*$").expect("static regex")
});

/// release-please's override footer: `Release-As: 2.0.0`.
static RELEASE_AS: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"(?mi)^release-as:\s*v?(?P<v>\S+)\s*$").expect("static regex")
});

/// The last paragraph of a body, where Conventional Commits footers live.
fn last_paragraph(body: &str) -> &str {
    let body = body.trim_end();
    body.rsplit("\n\n").next().unwrap_or(body)
}

/// The entries of one commit (none for a merge commit).
///
/// Only the header and the real footers count. A GitHub squash merge lists the
/// pull request's commits as `* feat: ...` bullets (often repeating the
/// header): those are not separate changes, so with a conventional header
/// they are ignored. A squash whose header is not conventional falls back to
/// its bullets, one entry each, but a bullet's `!` never makes a breaking
/// change: only a `BREAKING CHANGE:` footer does.
pub fn parse_commit(c: &RawCommit) -> Vec<Entry> {
    let message = c.message.trim();
    let subject = message.lines().next().unwrap_or("").trim();
    let body_text = message.split_once('\n').map_or("", |(_, b)| b);
    let body: Vec<&str> = body_text.lines().collect();
    let release_as = RELEASE_AS.captures(body_text).map(|m| m["v"].to_owned());
    let entry = |kind: Option<String>, scope: Option<String>, description: String| Entry {
        commit: c.id.clone(),
        subject: subject.to_owned(),
        kind,
        scope,
        refs: refs_in(&description),
        description,
        breaking: false,
        breaking_note: None,
        reverts: None,
        release_as: release_as.clone(),
    };

    // `git revert` and GitHub's revert button both write `Revert "<subject>"`;
    // people also put it behind a type (`chore(revert): Revert "..."`).
    if let Some(e) = revert_entry(subject, message, &entry) {
        return vec![e];
    }
    // A merge commit counts only by a Conventional header of its own (as
    // semantic-release reads it); the commits it brings in are walked anyway.
    if c.parents > 1 {
        return HEADER_RE
            .captures(subject)
            .map(|m| {
                let mut e = entry(
                    Some(m["type"].to_owned()),
                    m.name("scope").map(|s| s.as_str().to_owned()),
                    m["desc"].trim().to_owned(),
                );
                e.breaking = m.name("bang").is_some()
                    || last_paragraph(body_text)
                        .lines()
                        .any(|l| is_breaking_footer(l).is_some());
                e
            })
            .into_iter()
            .collect();
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
                e.reverts = Some(Reverted {
                    sha: REVERT_RE.captures(message).map(|m| m[1].to_owned()),
                    pr: REVERTS_PR.captures(message).and_then(|m| m[1].parse().ok()),
                    subject: Some(cc.description().trim().to_owned()),
                });
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
    if !out.is_empty() {
        // A `BREAKING CHANGE:` note right under the header, with no blank line
        // (so not a footer by the letter of the spec), is still one to
        // conventional-commits-parser, which semantic-release and
        // release-please read with.
        if let Some(e) = out.first_mut()
            && !e.breaking
            && let Some(note) = body.iter().find_map(|l| is_breaking_footer(l.trim_start()))
        {
            e.breaking = true;
            e.breaking_note = Some(note.to_owned());
        }
        return out;
    }

    // A squash merge with a plain header: its bullets are what it holds.
    let subject_refs = refs_in(subject);
    for line in &body {
        if let Some(m) = HEADER_RE.captures(line) {
            let mut e = entry(
                Some(m["type"].to_owned()),
                m.name("scope").map(|s| s.as_str().to_owned()),
                m["desc"].trim().to_owned(),
            );
            for r in &subject_refs {
                if !e.refs.contains(r) {
                    e.refs.push(*r);
                }
            }
            let same = |o: &Entry| {
                o.kind == e.kind && o.scope == e.scope && o.description == e.description
            };
            if !out.iter().any(same) {
                out.push(e);
            }
        }
    }
    if let Some(note) = last_paragraph(body_text)
        .lines()
        .find_map(is_breaking_footer)
        && let Some(first) = out.first_mut()
    {
        first.breaking = true;
        first.breaking_note = Some(note.to_owned());
    }
    if out.is_empty() {
        out.push(entry(None, None, subject.to_owned()));
    }
    out
}

/// The entry of a revert commit in any spelling, or `None` when `c` is not one.
/// Its type is the Conventional header's when it has one (`chore: Revert ...`
/// releases nothing on its own), else `revert`.
fn revert_entry(
    subject: &str,
    message: &str,
    entry: &dyn Fn(Option<String>, Option<String>, String) -> Entry,
) -> Option<Entry> {
    let sha = REVERT_RE.captures(message).map(|m| m[1].to_owned());
    let pr = REVERTS_PR.captures(message).and_then(|m| m[1].parse().ok());
    let m = REVERT_SUBJECT.captures(subject).filter(|m| {
        // An unquoted `Revert x` needs a type before it or git's trailer.
        m.name("inner").is_some() || m.name("type").is_some() || sha.is_some()
    });
    let (kind, scope, description, inner, pr_in_subject) = match &m {
        Some(m) => {
            let inner = m
                .name("inner")
                .or_else(|| m.name("bare"))
                .map(|i| i.as_str().trim().trim_matches('"').to_owned());
            let description = match m.name("type") {
                Some(_) => subject
                    .split_once(':')
                    .map_or(subject, |(_, d)| d)
                    .trim()
                    .to_owned(),
                None => inner.clone().unwrap_or_default(),
            };
            (
                m.name("type").map_or("revert", |t| t.as_str()).to_owned(),
                m.name("scope").map(|s| s.as_str().to_owned()),
                description,
                inner,
                m.name("pr").and_then(|p| p.as_str().parse::<u64>().ok()),
            )
        }
        None => {
            sha.as_ref()?;
            match HEADER_RE.captures(subject) {
                Some(h) => (
                    h["type"].to_owned(),
                    h.name("scope").map(|s| s.as_str().to_owned()),
                    h["desc"].trim().to_owned(),
                    None,
                    None,
                ),
                None => ("revert".to_owned(), None, subject.to_owned(), None, None),
            }
        }
    };
    let mut e = entry(Some(kind), scope, description);
    if let Some(p) = pr_in_subject
        && !e.refs.contains(&p)
    {
        e.refs.push(p);
    }
    e.reverts = Some(Reverted {
        sha,
        pr,
        subject: inner,
    });
    Some(e)
}

/// What a revert commit names as the commit it undoes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reverted {
    /// `This reverts commit <sha>.` (`git revert`).
    pub sha: Option<String>,
    /// `Reverts owner/repo#11` (GitHub's revert button).
    pub pr: Option<u64>,
    /// The subject inside `Revert "..."`.
    pub subject: Option<String>,
}

static MERGE_PR: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"^Merge pull request #(\d+) ").expect("static regex")
});

impl Reverted {
    /// True when `c` is the commit this revert undoes.
    fn is(&self, c: &RawCommit) -> bool {
        let subject = c.message.lines().next().unwrap_or("").trim();
        if let Some(sha) = &self.sha {
            return c.id.starts_with(sha.as_str());
        }
        let pr_of = |subject: &str| -> Vec<u64> {
            let mut prs = refs_in(subject);
            prs.extend(
                MERGE_PR
                    .captures(subject)
                    .and_then(|m| m[1].parse::<u64>().ok()),
            );
            prs
        };
        self.subject.as_deref() == Some(subject)
            || self.pr.is_some_and(|pr| pr_of(subject).contains(&pr))
    }
}

/// The commits a merge commit brought in: reachable from its other parents
/// but not from its first, within `commits` (the unreleased range).
fn brought_in(commits: &[RawCommit], merge: &RawCommit) -> Vec<String> {
    let by_id: std::collections::HashMap<&str, &RawCommit> =
        commits.iter().map(|c| (c.id.as_str(), c)).collect();
    let reach = |starts: &[String]| -> std::collections::HashSet<String> {
        let mut seen = std::collections::HashSet::new();
        let mut stack: Vec<&str> = starts.iter().map(String::as_str).collect();
        while let Some(id) = stack.pop() {
            let Some(c) = by_id.get(id) else { continue };
            if seen.insert(c.id.clone()) {
                stack.extend(c.parent_ids.iter().map(String::as_str));
            }
        }
        seen
    };
    let Some((first, others)) = merge.parent_ids.split_first() else {
        return Vec::new();
    };
    let mainline = reach(std::slice::from_ref(first));
    reach(others)
        .into_iter()
        .filter(|id| !mainline.contains(id))
        .collect()
}

/// Parses every commit (newest first, as walked) and drops revert pairs that
/// both sit in the range: neither reaches users, so neither is released. A
/// revert of a merge commit (a merged pull request) also drops the commits
/// that merge brought in.
pub fn entries(commits: &[RawCommit]) -> Vec<Entry> {
    let mut all: Vec<Entry> = commits.iter().flat_map(parse_commit).collect();
    let mut drop: std::collections::HashSet<String> = std::collections::HashSet::new();
    let reverts: Vec<(String, Reverted)> = all
        .iter()
        .filter_map(|e| e.reverts.clone().map(|r| (e.commit.clone(), r)))
        .collect();
    for (id, r) in reverts {
        if drop.contains(&id) {
            continue;
        }
        // The reverted commit is older than its revert: look after it only.
        let older = commits
            .iter()
            .skip_while(|c| c.id != id)
            .skip(1)
            .find(|c| !drop.contains(&c.id) && r.is(c));
        if let Some(target) = older {
            drop.insert(id.clone());
            drop.insert(target.id.clone());
            if target.parents > 1 {
                drop.extend(brought_in(commits, target));
            }
        }
    }
    all.retain(|e| !drop.contains(&e.commit));
    all
}

/// The commits `entries` cancelled as revert pairs, as ids.
pub fn cancelled(commits: &[RawCommit], kept: &[Entry]) -> Vec<String> {
    commits
        .iter()
        .filter(|c| c.parents <= 1 && !kept.iter().any(|e| e.commit == c.id))
        .map(|c| c.id.clone())
        .collect()
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
            parent_ids: Vec::new(),
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
    fn a_plain_squash_header_falls_back_to_its_bullets() {
        let msg = "Add search (#42)\n\n* feat(search): add the search tool\n\n* fix: escape queries\n\n* chore: bump deps\n";
        let es = parse_commit(&c("a", msg));
        assert_eq!(es.len(), 3);
        assert_eq!(es[0].kind.as_deref(), Some("feat"));
        assert_eq!(es[0].scope.as_deref(), Some("search"));
        assert_eq!(es[0].refs, vec![42]);
        assert_eq!(es[1].description, "escape queries");
        assert!(es.iter().all(|e| e.subject == "Add search (#42)"));
    }

    #[test]
    fn squash_bullets_under_a_conventional_header_are_not_changes() {
        let msg = "feat: outer (#7)\n\n* fix(api): inner one\n* feat!: inner two\n* feat: outer\n";
        let es = parse_commit(&c("b", msg));
        assert_eq!(es.len(), 1, "{es:?}");
        assert_eq!(es[0].header(), "feat: outer (#7)");
        assert_eq!(
            decide(&es, &v("2.0.0"), &Rules::default()).level,
            Some(Level::Minor)
        );
        // Under a plain header a bullet's `!` is not a breaking change either.
        let es = parse_commit(&c("c", "Big PR (#8)\n\n* feat!: inner\n"));
        assert!(!es[0].breaking);
        // A real footer is.
        let es = parse_commit(&c(
            "d",
            "feat: outer (#9)\n\n* feat: inner\n\nBREAKING CHANGE: the old flag is gone\n",
        ));
        assert_eq!(es.len(), 1);
        assert!(es[0].breaking);
    }

    #[test]
    fn release_as_footer_is_read() {
        let es = parse_commit(&c("e", "chore: prepare 2.0\n\nRelease-As: 2.0.0\n"));
        assert_eq!(es[0].release_as.as_deref(), Some("2.0.0"));
        let es = parse_commit(&c("f", "fix: x\n\nrelease-as: v1.5.0"));
        assert_eq!(es[0].release_as.as_deref(), Some("1.5.0"));
    }

    #[test]
    fn a_github_revert_cancels_the_pull_request_it_reverts() {
        let commits = vec![
            c(
                "2222222222222222222222222222222222222222",
                "Revert \"feat: risky (#11)\" (#12)\n\nReverts owner/repo#11",
            ),
            c(
                "1111111111111111111111111111111111111111",
                "feat: risky (#11)",
            ),
            c(
                "3333333333333333333333333333333333333333",
                "fix: keep (#10)",
            ),
        ];
        let es = entries(&commits);
        assert_eq!(es.len(), 1, "{es:?}");
        assert_eq!(es[0].description, "keep (#10)");
        // Of a release already out, it is a change of its own.
        let es = entries(&commits[..1]);
        assert_eq!(es[0].kind.as_deref(), Some("revert"));
        assert_eq!(es[0].description, "feat: risky (#11)");
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
            parent_ids: Vec::new(),
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
    fn a_breaking_note_without_a_blank_line_still_breaks() {
        let es = parse_commit(&c(
            "x",
            "feat: make SSE a fallback\nBREAKING CHANGE: SSE is no longer a separate option\n",
        ));
        assert!(es[0].breaking);
        assert_eq!(
            decide(&es, &v("1.27.7"), &Rules::default()).level,
            Some(Level::Major)
        );
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
