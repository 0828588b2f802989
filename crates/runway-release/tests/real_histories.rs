//! Histories as real projects write them: bare and component-prefixed tags,
//! odd tags after a release, reverts in every spelling, Conventional headers
//! on merge commits, version files ahead of the last tag, first releases.

mod common;

use common::Repo;
use runway_config::ReleaseConfig;
use runway_release::plan::{self, PlanOptions};
use runway_release::tags;

fn cfg(prefix: &str) -> ReleaseConfig {
    ReleaseConfig {
        tag_prefix: prefix.to_owned(),
        ..ReleaseConfig::default()
    }
}

fn status_with(r: &Repo, c: &ReleaseConfig) -> plan::Status {
    plan::status(r.path(), c, &PlanOptions::default()).unwrap()
}

fn headers(st: &plan::Status) -> Vec<String> {
    st.entries.iter().map(|e| e.header()).collect()
}

/// A Python project released as `<tag>` at 1.0.0.
fn released(tag: &str) -> Repo {
    let r = Repo::new();
    r.pyproject("1.0.0");
    r.commit("feat: first release");
    r.tag(tag);
    r
}

#[test]
fn bare_tags_are_detected_and_used_as_the_base() {
    let r = Repo::new();
    r.pyproject("2.2.0");
    r.commit("feat: one");
    r.tag("2.1.0");
    r.commit("fix: two");
    r.tag("2.2.0");
    r.commit("feat: three");
    let schemes = tags::schemes(r.path()).unwrap();
    assert_eq!(schemes[0].prefix, "");
    assert_eq!(schemes[0].count, 2);
    assert_eq!(schemes[0].highest_tag, "2.2.0");

    // With the default `v` it says which prefix to set, not "first release".
    let st = status_with(&r, &cfg("v"));
    assert!(
        st.notes.iter().any(|n| n.contains("tag_prefix = \"\"")),
        "{:?}",
        st.notes
    );
    let st = status_with(&r, &cfg(""));
    assert_eq!(st.last_tag.as_ref().unwrap().name, "2.2.0");
    assert_eq!(st.next.as_deref(), Some("2.3.0"));
    assert_eq!(st.next_tag.as_deref(), Some("2.3.0"));
}

#[test]
fn component_prefixed_tags_are_their_own_scheme() {
    let r = Repo::new();
    r.pyproject("3.1.3");
    r.commit("feat: sdk");
    r.tag("rmcp-v3.1.3");
    r.tag("rmcp-macros-v3.1.3");
    r.commit("fix(rmcp): a fix");
    let schemes = tags::schemes(r.path()).unwrap();
    let prefixes: Vec<&str> = schemes.iter().map(|s| s.prefix.as_str()).collect();
    assert_eq!(prefixes.len(), 2);
    assert!(prefixes.contains(&"rmcp-v") && prefixes.contains(&"rmcp-macros-v"));
    let st = status_with(&r, &cfg("rmcp-v"));
    assert_eq!(st.last_tag.as_ref().unwrap().name, "rmcp-v3.1.3");
    assert_eq!(st.next.as_deref(), Some("3.1.4"));
    assert_eq!(st.next_tag.as_deref(), Some("rmcp-v3.1.4"));
}

#[test]
fn the_base_is_the_highest_release_reachable_not_the_nearest_tag() {
    let r = Repo::new();
    r.pyproject("0.19.0");
    r.commit("feat: the 0.19 line");
    r.tag("0.19.0");
    r.commit("fix: hot");
    // A later tag that SemVer reads as a pre-release of 0.19.0.
    r.tag("0.19.0-hotfix");
    r.commit("feat: next");
    let st = status_with(&r, &cfg(""));
    assert_eq!(st.current, "0.19.0");
    assert_eq!(st.last_tag.as_ref().unwrap().name, "0.19.0");
    assert_eq!(st.next.as_deref(), Some("0.20.0"), "{:?}", st.notes);
    assert!(st.next_tag_exists.is_none());
    // Only the commit after both tags counts.
    assert_eq!(headers(&st), ["feat: next"]);
}

#[test]
fn many_higher_tags_on_another_branch_do_not_hide_the_base() {
    let r = Repo::new();
    r.pyproject("1.0.0");
    r.commit("feat: one");
    r.tag("1.0.0");
    r.git(&["switch", "-q", "-c", "next"]);
    for n in 1..=20 {
        r.commit(&format!("feat: beta {n}"));
        r.tag(&format!("2.0.0-beta.{n}"));
    }
    r.git(&["switch", "-q", "main"]);
    r.commit("fix: hot");
    r.tag("1.0.0-hotfix");
    r.commit("fix: after");
    let st = status_with(&r, &cfg(""));
    assert_eq!(st.last_tag.as_ref().unwrap().name, "1.0.0");
    assert_eq!(st.next.as_deref(), Some("1.0.1"));
    assert_eq!(headers(&st), ["fix: after"]);
}

#[test]
fn a_chore_revert_with_gits_trailer_cancels_the_feature() {
    let r = released("v1.0.0");
    r.commit("fix: keep me");
    let feat = r.commit("feat: risky");
    r.commit(&format!(
        "chore(revert): Revert \"feat: risky\"\n\nThis reverts commit {feat}.\n"
    ));
    let st = status_with(&r, &cfg("v"));
    assert_eq!(headers(&st), ["fix: keep me"]);
    assert_eq!(st.next.as_deref(), Some("1.0.1"));
}

#[test]
fn a_plain_chore_revert_without_quotes_cancels_by_trailer() {
    let r = released("v1.0.0");
    r.commit("fix: keep me");
    let feat = r.commit("feat: risky");
    r.commit(&format!(
        "chore: Revert risky feature\n\nThis reverts commit {feat}.\n"
    ));
    let st = status_with(&r, &cfg("v"));
    assert_eq!(headers(&st), ["fix: keep me"]);
    assert_eq!(st.next.as_deref(), Some("1.0.1"));
    let reverted = st.groups.iter().find(|g| g.kind == "reverted").unwrap();
    assert_eq!(reverted.count, 2);
}

#[test]
fn a_typed_revert_by_subject_cancels_without_a_trailer() {
    let r = released("v1.0.0");
    r.commit("fix: keep me");
    r.commit("feat: risky (#11)");
    r.commit("chore(revert): Revert \"feat: risky (#11)\" (#12)");
    let st = status_with(&r, &cfg("v"));
    assert_eq!(headers(&st), ["fix: keep me"]);
    // `revert: <header>` (the Conventional spelling) by subject too.
    let r = released("v1.0.0");
    r.commit("feat: risky");
    r.commit("revert: feat: risky");
    let st = status_with(&r, &cfg("v"));
    assert!(st.entries.is_empty(), "{:?}", headers(&st));
    assert!(st.next.is_none());
}

#[test]
fn a_chore_revert_of_a_released_commit_releases_nothing() {
    let r = released("v1.0.0");
    let old = r.head();
    r.commit(&format!(
        "chore: Revert \"feat: first release\"\n\nThis reverts commit {old}.\n"
    ));
    let st = status_with(&r, &cfg("v"));
    assert!(st.next.is_none(), "{:?}", st.next);
    assert_eq!(st.entries[0].kind.as_deref(), Some("chore"));
}

/// A feature branch merged with `--no-ff` under `message`; returns the merge.
fn merge_branch(r: &Repo, name: &str, commits: &[&str], message: &str) -> String {
    r.git(&["switch", "-q", "-c", name]);
    for c in commits {
        r.commit(c);
    }
    r.git(&["switch", "-q", "main"]);
    r.git(&["merge", "-q", "--no-ff", name, "-m", message]);
    r.head()
}

#[test]
fn a_revert_of_a_merged_pull_request_undoes_the_commits_it_brought() {
    let r = released("v1.0.0");
    r.commit("fix: keep me");
    let merge = merge_branch(
        &r,
        "feature",
        &["feat: part one", "feat: part two"],
        "Merge pull request #12 from me/feature",
    );
    r.git(&["revert", "--no-edit", "-m", "1", &merge]);
    let st = status_with(&r, &cfg("v"));
    assert_eq!(headers(&st), ["fix: keep me"]);
    assert_eq!(st.next.as_deref(), Some("1.0.1"));

    // GitHub's button on the merged pull request: no trailer, the PR named.
    let r = released("v1.0.0");
    r.commit("fix: keep me");
    merge_branch(
        &r,
        "feature",
        &["feat: part one"],
        "Merge pull request #13 from me/feature",
    );
    r.commit("Revert \"Merge pull request #13 from me/feature\" (#14)\n\nReverts me/repo#13\n");
    let st = status_with(&r, &cfg("v"));
    assert_eq!(headers(&st), ["fix: keep me"]);
}

#[test]
fn a_conventional_header_on_a_merge_commit_counts() {
    let r = released("v1.0.0");
    merge_branch(
        &r,
        "feature",
        &["add the search tool", "tidy up"],
        "feat: search (#20)",
    );
    let st = status_with(&r, &cfg("v"));
    assert_eq!(st.next.as_deref(), Some("1.1.0"), "{:?}", st.notes);
    assert!(headers(&st).contains(&"feat: search (#20)".to_owned()));
    assert!(st.groups.iter().any(|g| g.kind == "feat"));
    // A plain merge message still holds nothing of its own.
    let r = released("v1.0.0");
    merge_branch(&r, "feature", &["docs: words"], "Merge branch 'feature'");
    let st = status_with(&r, &cfg("v"));
    assert!(st.next.is_none());
    assert!(st.groups.iter().any(|g| g.kind == "merge"));
}

#[test]
fn auto_never_moves_a_version_file_below_where_it_is() {
    let r = released("v1.0.0");
    // Bumped by hand (or by a release pull request) ahead of the tag.
    r.pyproject("1.2.0");
    r.commit_all("chore: prepare 1.2.0");
    r.commit("fix: small");
    let st = status_with(&r, &cfg("v"));
    assert_eq!(st.next.as_deref(), Some("1.2.0"));
    assert!(
        st.decided_by
            .as_deref()
            .unwrap()
            .contains("never moved down")
    );
    // A bigger change still wins.
    r.commit("feat!: drop the old flag");
    let st = status_with(&r, &cfg("v"));
    assert_eq!(st.next.as_deref(), Some("2.0.0"));
}

#[test]
fn a_version_bumped_by_hand_is_the_release_to_tag() {
    let r = released("v1.0.0");
    r.commit("docs: words");
    r.pyproject("1.1.0");
    r.commit_all("chore: bump version to 1.1.0");
    let st = status_with(&r, &cfg("v"));
    assert_eq!(st.next.as_deref(), Some("1.1.0"));
    assert!(st.decided_by.as_deref().unwrap().contains("by hand"));
    // A development version after a release is not one.
    let r = released("v1.0.0");
    r.pyproject("1.1.0-dev.0");
    r.commit_all("chore: start 1.1.0");
    assert!(status_with(&r, &cfg("v")).next.is_none());
    // A release candidate promoted by hand.
    let r = Repo::new();
    r.pyproject("2.0.0-rc.3");
    r.commit("feat: two");
    r.tag("v2.0.0-rc.3");
    r.pyproject("2.0.0");
    r.commit_all("chore: 2.0.0");
    assert_eq!(status_with(&r, &cfg("v")).next.as_deref(), Some("2.0.0"));
}

#[test]
fn a_pre_release_with_nothing_new_is_promoted() {
    let r = released("v18.0.0");
    r.git(&["switch", "-q", "-c", "beta"]);
    r.commit("feat!: the new core");
    r.tag("v19.0.0-beta.1");
    r.git(&["switch", "-q", "main"]);
    r.git(&[
        "merge",
        "-q",
        "--no-ff",
        "beta",
        "-m",
        "Merge branch 'beta'",
    ]);
    let st = status_with(&r, &cfg("v"));
    assert_eq!(st.last_tag.as_ref().unwrap().name, "v19.0.0-beta.1");
    assert_eq!(st.next.as_deref(), Some("19.0.0"), "{:?}", st.notes);
    assert!(st.decided_by.as_deref().unwrap().contains("promotes"));
    // Asked for another pre-release, it is one.
    let st = plan::status(
        r.path(),
        &cfg("v"),
        &PlanOptions {
            pre: runway_release::version::PreKind::parse("beta"),
            ..PlanOptions::default()
        },
    )
    .unwrap();
    assert!(st.next.is_none(), "{:?}", st.next);
}

#[test]
fn a_first_release_is_not_called_a_minor_bump() {
    let r = Repo::new();
    r.pyproject("0.3.0");
    r.commit("feat: hello");
    let st = status_with(&r, &cfg("v"));
    assert_eq!(st.next.as_deref(), Some("0.3.0"));
    assert!(st.level.is_none(), "{:?}", st.level);
    assert!(st.decided_by.unwrap().contains("first release"));
}
