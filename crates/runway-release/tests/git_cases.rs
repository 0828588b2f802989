//! Each repository state the issue names, with its outcome: no tags, merges,
//! reverts, shallow clones, dirty trees, detached HEAD, failing writes and
//! commits, hotfix conflicts, and the `check` gate.

mod common;

use common::Repo;
use runway_config::ReleaseConfig;
use runway_core::{Diagnostic, ToolSignature, ToolSurface};
use runway_release::ReleaseError;
use runway_release::plan::{
    self, BumpOptions, BumpResult, CheckOptions, FileChange, PlanOptions, Requested, RowStatus,
};
use runway_release::version::Level;

fn cfg() -> ReleaseConfig {
    ReleaseConfig::default()
}

fn status(r: &Repo) -> plan::Status {
    plan::status(r.path(), &cfg(), &PlanOptions::default()).unwrap()
}

fn opts() -> BumpOptions {
    BumpOptions {
        date: "2026-01-12".into(),
        ..BumpOptions::default()
    }
}

/// A Python project released as `v1.0.0`.
fn project_at_1_0_0() -> Repo {
    let r = Repo::new();
    r.pyproject("1.0.0");
    r.write(
        "CHANGELOG.md",
        "# Changelog\n\n## [1.0.0] - 2026-01-01\n\n- first\n",
    );
    r.commit("feat: first release");
    r.tag("v1.0.0");
    r
}

#[test]
fn no_tags_and_version_in_files_is_a_first_release_of_that_version() {
    let r = Repo::new();
    r.pyproject("0.3.0");
    r.commit("feat: hello");
    let st = status(&r);
    assert!(st.last_tag.is_none());
    assert_eq!(st.next.as_deref(), Some("0.3.0"));
    assert!(
        st.notes.iter().any(|n| n.contains("no release tag")),
        "{:?}",
        st.notes
    );
    assert!(st.decided_by.unwrap().contains("first release"));
}

#[test]
fn no_tags_and_no_files_starts_from_zero() {
    let r = Repo::new();
    r.commit("fix: one");
    r.commit("feat: two");
    let st = status(&r);
    assert_eq!(st.current, "0.0.0");
    assert_eq!(st.next.as_deref(), Some("0.1.0"));
    assert_eq!(st.commits, 2);
}

#[test]
fn empty_repository_has_nothing_to_release() {
    let r = Repo::new();
    let st = status(&r);
    assert!(st.head.is_none());
    assert!(st.nothing_to_release());
    let err = plan::bump(
        r.path(),
        &cfg(),
        &Requested::Auto,
        &PlanOptions::default(),
        &opts(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no commits"), "{err}");
}

#[test]
fn walk_stops_at_the_last_tag_and_names_the_deciding_commit() {
    let r = project_at_1_0_0();
    r.commit("fix: a");
    let feat = r.commit("feat(api): b");
    r.commit("docs: c");
    let st = status(&r);
    assert_eq!(st.last_tag.as_ref().unwrap().name, "v1.0.0");
    assert_eq!(st.commits, 3);
    assert_eq!(st.next.as_deref(), Some("1.1.0"));
    assert_eq!(st.level, Some(Level::Minor));
    let by = st.decided_by.unwrap();
    assert!(
        by.starts_with(&feat[..7]) && by.ends_with("feat(api): b"),
        "{by}"
    );
    let kinds: Vec<(&str, usize)> = st
        .groups
        .iter()
        .map(|g| (g.kind.as_str(), g.count))
        .collect();
    assert_eq!(kinds, [("docs", 1), ("feat", 1), ("fix", 1)]);
    assert!(!st.changelog_has_next);
    assert!(st.changelog_has_current);
}

#[test]
fn only_chores_since_the_tag_is_nothing_to_release() {
    let r = project_at_1_0_0();
    r.commit("chore: deps");
    r.commit("docs: typo");
    let before = r.head();
    let res = plan::bump(
        r.path(),
        &cfg(),
        &Requested::Auto,
        &PlanOptions::default(),
        &opts(),
    )
    .unwrap();
    match res {
        BumpResult::NothingToRelease { reason } => {
            assert!(
                reason.contains("nothing to release") && reason.contains("`v1.0.0`"),
                "{reason}"
            )
        }
        BumpResult::Bumped(b) => panic!("bumped to {}", b.to),
    }
    assert_eq!(r.head(), before);
}

#[test]
fn a_merged_branch_with_commits_older_than_the_tag_is_counted_exactly() {
    let r = Repo::new();
    r.pyproject("1.0.0");
    r.git_dated(&["add", "-A"], 1_000);
    r.git_dated(&["commit", "-q", "-m", "feat: base"], 1_000);
    r.git_dated(&["switch", "-q", "-c", "side"], 1_000);
    r.write("side.txt", "x");
    r.git_dated(&["add", "-A"], 2_000);
    // Authored before the release below, merged after it.
    r.git_dated(&["commit", "-q", "-m", "feat: from the side branch"], 2_000);
    r.git_dated(&["switch", "-q", "main"], 2_000);
    r.write("main.txt", "y");
    r.git_dated(&["add", "-A"], 3_000);
    r.git_dated(&["commit", "-q", "-m", "fix: on main"], 3_000);
    r.git_dated(&["tag", "-a", "v1.0.0", "-m", "v1.0.0"], 3_000);
    r.write("later.txt", "z");
    r.git_dated(&["add", "-A"], 4_000);
    r.git_dated(&["commit", "-q", "-m", "fix: after the release"], 4_000);
    r.git_dated(
        &[
            "merge",
            "-q",
            "--no-ff",
            "side",
            "-m",
            "Merge branch 'side'",
        ],
        5_000,
    );
    let st = status(&r);
    let headers: Vec<String> = st.entries.iter().map(|e| e.header()).collect();
    assert_eq!(
        headers,
        ["fix: after the release", "feat: from the side branch"]
    );
    assert_eq!(
        st.commits, 3,
        "the merge commit, the fix and the side commit"
    );
    assert_eq!(st.next.as_deref(), Some("1.1.0"));
}

#[test]
fn a_revert_of_an_unreleased_commit_cancels_both() {
    let r = project_at_1_0_0();
    r.commit("fix: keep me");
    let feat = r.commit("feat: risky");
    r.git(&["revert", "--no-edit", &feat]);
    let st = status(&r);
    let headers: Vec<String> = st.entries.iter().map(|e| e.header()).collect();
    assert_eq!(headers, ["fix: keep me"]);
    assert_eq!(st.next.as_deref(), Some("1.0.1"));
}

#[test]
fn a_shallow_clone_without_a_reachable_tag_explains_how_to_unshallow() {
    let r = project_at_1_0_0();
    r.commit("fix: one");
    r.commit("fix: two");
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", r.path().display());
    r.git_at(
        &["clone", "-q", "--depth", "1", "--no-tags", &url, "c"],
        clone.path(),
    );
    let c = clone.path().join("c");
    for (k, v) in [("user.name", "T"), ("user.email", "t@runway.invalid")] {
        r.git_at(&["config", k, v], &c);
    }
    let st = plan::status(&c, &cfg(), &PlanOptions::default()).unwrap();
    assert!(st.shallow);
    assert!(
        st.notes
            .iter()
            .any(|n| n.contains("git fetch --unshallow --tags")),
        "{:?}",
        st.notes
    );
    let err = plan::bump(
        &c,
        &cfg(),
        &Requested::Auto,
        &PlanOptions::default(),
        &opts(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("shallow clone"), "{err}");
    assert_eq!(
        err.hint().unwrap(),
        "run `git fetch --unshallow --tags` (in GitHub Actions: `actions/checkout` with `fetch-depth: 0`)"
    );
}

#[test]
fn a_dirty_tree_is_refused_with_the_paths() {
    let r = project_at_1_0_0();
    r.commit("fix: one");
    r.write("notes.txt", "wip");
    let err = plan::bump(
        r.path(),
        &cfg(),
        &Requested::Auto,
        &PlanOptions::default(),
        &opts(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("`notes.txt`"), "{err}");
    assert!(err.hint().unwrap().contains("--allow-dirty"));
    let rows = plan::check(
        r.path(),
        &cfg(),
        &PlanOptions::default(),
        &CheckOptions::default(),
    )
    .unwrap();
    assert_eq!(rows[0].name, "clean tree");
    assert_eq!(rows[0].status, RowStatus::Fail);
}

#[test]
fn a_detached_head_is_refused_for_bumps_and_accepted_by_check_when_on_main() {
    let r = project_at_1_0_0();
    r.commit("fix: one");
    let head = r.head();
    r.git(&["switch", "-q", "--detach", &head]);
    let err = plan::bump(
        r.path(),
        &cfg(),
        &Requested::Auto,
        &PlanOptions::default(),
        &opts(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("detached"), "{err}");
    let rows = plan::check(
        r.path(),
        &cfg(),
        &PlanOptions::default(),
        &CheckOptions::default(),
    )
    .unwrap();
    let branch = rows.iter().find(|r| r.name == "release branch").unwrap();
    assert_eq!(branch.status, RowStatus::Pass, "{}", branch.detail);
    assert!(branch.detail.contains("contained in `main`"));
    // --no-git still edits the files.
    let no_git = BumpOptions {
        no_git: true,
        ..opts()
    };
    let res = plan::bump(
        r.path(),
        &cfg(),
        &Requested::Auto,
        &PlanOptions::default(),
        &no_git,
    )
    .unwrap();
    assert!(matches!(res, BumpResult::Bumped(ref b) if b.to == "1.0.1" && !b.tagged));
    assert!(r.read("pyproject.toml").contains("version = \"1.0.1\""));
}

#[test]
fn a_bump_commits_tags_and_prepends_the_changelog() {
    let r = project_at_1_0_0();
    r.git(&[
        "remote",
        "add",
        "origin",
        "https://github.com/mcp-hangar/mcp-hangar.git",
    ]);
    r.commit("feat: search (#12)");
    let res = plan::bump(
        r.path(),
        &cfg(),
        &Requested::Auto,
        &PlanOptions::default(),
        &opts(),
    )
    .unwrap();
    let BumpResult::Bumped(b) = res else {
        panic!("nothing released")
    };
    assert_eq!(b.to, "1.1.0");
    assert_eq!(b.push, ["git push --atomic origin main v1.1.0"]);
    assert_eq!(
        r.git(&["describe", "--tags", "--exact-match"]).trim(),
        "v1.1.0"
    );
    assert_eq!(
        r.git(&["log", "-1", "--format=%s"]).trim(),
        "chore(release): v1.1.0"
    );
    assert_eq!(
        r.git(&["cat-file", "-t", "v1.1.0"]).trim(),
        "tag",
        "annotated"
    );
    let log = r.read("CHANGELOG.md");
    assert!(log.starts_with("# Changelog\n\n## [1.1.0](https://github.com/mcp-hangar/mcp-hangar/compare/v1.0.0...v1.1.0) - 2026-01-12\n\n### Features\n\n- search ([#12](https://github.com/mcp-hangar/mcp-hangar/issues/12))"), "{log}");
    assert!(log.ends_with("## [1.0.0] - 2026-01-01\n\n- first\n"));
    assert!(r.git(&["status", "--porcelain"]).is_empty());
    // Releasing again right away: nothing to release.
    let again = plan::bump(
        r.path(),
        &cfg(),
        &Requested::Auto,
        &PlanOptions::default(),
        &opts(),
    )
    .unwrap();
    assert!(matches!(again, BumpResult::NothingToRelease { .. }));
}

#[test]
fn dry_run_prints_a_unified_diff_and_writes_nothing() {
    let r = project_at_1_0_0();
    r.commit("fix: a");
    let dry = BumpOptions {
        dry_run: true,
        ..opts()
    };
    let BumpResult::Bumped(b) = plan::bump(
        r.path(),
        &cfg(),
        &Requested::Level(Level::Major),
        &PlanOptions::default(),
        &dry,
    )
    .unwrap() else {
        panic!()
    };
    assert!(
        b.diff
            .contains("--- a/pyproject.toml\n+++ b/pyproject.toml\n"),
        "{}",
        b.diff
    );
    assert!(
        b.diff
            .contains("-version = \"1.0.0\"\n+version = \"2.0.0\"\n"),
        "{}",
        b.diff
    );
    assert!(b.diff.contains("+## [2.0.0] - 2026-01-12\n"), "{}", b.diff);
    assert!(r.read("pyproject.toml").contains("1.0.0"));
    assert!(r.git(&["tag"]).trim().lines().count() == 1);
}

#[test]
fn a_failing_rename_restores_the_files_already_written() {
    let r = Repo::new();
    r.write("a.txt", "old a");
    r.write("blocker/inside.txt", "x");
    let changes = vec![
        FileChange {
            path: "a.txt".into(),
            before: Some("old a".into()),
            after: "new a".into(),
        },
        // Renaming a file over a non-empty directory fails.
        FileChange {
            path: "blocker".into(),
            before: None,
            after: "new".into(),
        },
    ];
    let err = plan::write_all(r.path(), &changes).unwrap_err();
    assert!(matches!(err, ReleaseError::Write { .. }), "{err}");
    assert_eq!(r.read("a.txt"), "old a");
    let leftovers: Vec<String> = std::fs::read_dir(r.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("runway"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_failing_commit_hook_leaves_every_file_as_it_was() {
    let r = project_at_1_0_0();
    r.commit("fix: a");
    r.write(
        ".hooks/pre-commit",
        "#!/bin/sh\necho 'hook says no' >&2\nexit 1\n",
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            r.join(".hooks/pre-commit"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "--no-verify", "-m", "chore: add hook"]);
    r.git(&["config", "core.hooksPath", ".hooks"]);
    let before_py = r.read("pyproject.toml");
    let before_log = r.read("CHANGELOG.md");
    let err = plan::bump(
        r.path(),
        &cfg(),
        &Requested::Auto,
        &PlanOptions::default(),
        &opts(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("restored"), "{err}");
    assert!(err.to_string().contains("hook says no"), "{err}");
    assert_eq!(r.read("pyproject.toml"), before_py);
    assert_eq!(r.read("CHANGELOG.md"), before_log);
    assert!(r.git(&["status", "--porcelain"]).is_empty());
    assert_eq!(r.git(&["tag"]).trim(), "v1.0.0");
}

#[test]
fn check_reports_the_seed_mismatch_message_and_both_fixes() {
    let r = project_at_1_0_0();
    r.commit("fix: a");
    let rows = plan::check(
        r.path(),
        &cfg(),
        &PlanOptions::default(),
        &CheckOptions {
            tag: Some("refs/tags/v1.0.1".into()),
            run_gates: false,
        },
    )
    .unwrap();
    let row = rows
        .iter()
        .find(|r| r.name == "tag matches version")
        .unwrap();
    assert_eq!(row.status, RowStatus::Fail);
    assert_eq!(
        row.detail,
        "Version mismatch! pyproject.toml: 1.0.0, Git tag: 1.0.1"
    );
    assert_eq!(row.hints.len(), 2);
    assert!(row.hints[0].contains("update `pyproject.toml`"));
    assert!(
        row.hints[1].contains("git push origin :refs/tags/v1.0.1")
            && row.hints[1].contains("git tag -d v1.0.1")
    );
}

#[test]
fn check_fails_when_the_tag_already_points_elsewhere() {
    let r = project_at_1_0_0();
    r.commit("fix: moved on");
    let rows = plan::check(
        r.path(),
        &cfg(),
        &PlanOptions::default(),
        &CheckOptions {
            tag: Some("v1.0.0".into()),
            run_gates: false,
        },
    )
    .unwrap();
    let row = rows.iter().find(|r| r.name == "tag target").unwrap();
    assert_eq!(row.status, RowStatus::Fail, "{}", row.detail);
    assert!(row.detail.contains("not at HEAD"));
    let ok = rows
        .iter()
        .find(|r| r.name == "tag matches version")
        .unwrap();
    assert_eq!(ok.status, RowStatus::Pass);
}

#[test]
fn gates_run_with_a_pass_fail_table_and_a_time_limit() {
    let r = project_at_1_0_0();
    let mut c = cfg();
    for (name, run, timeout) in [
        ("ok", "true", 30),
        ("tests", "echo 3 failed; exit 4", 30),
        ("slow", "sleep 5", 1),
    ] {
        c.gates.push(runway_config::release::GateConfig {
            name: name.into(),
            run: run.into(),
            timeout_secs: timeout,
        });
    }
    let rows = plan::check(
        r.path(),
        &c,
        &PlanOptions::default(),
        &CheckOptions {
            tag: None,
            run_gates: true,
        },
    )
    .unwrap();
    let gate = |n: &str| {
        rows.iter()
            .find(|r| r.name == format!("gate: {n}"))
            .unwrap()
    };
    assert_eq!(gate("ok").status, RowStatus::Pass);
    assert_eq!(gate("tests").status, RowStatus::Fail);
    assert!(gate("tests").detail.contains("code 4") && gate("tests").detail.contains("3 failed"));
    assert_eq!(gate("slow").status, RowStatus::Fail);
    assert!(gate("slow").detail.contains("stopped after 1s"));
    assert!(gate("slow").duration_ms.unwrap() < 4_000);
}

#[test]
fn hotfix_start_and_finish_cherry_pick_onto_main() {
    let r = project_at_1_0_0();
    r.commit("feat: next big thing");
    let st = plan::hotfix_start(r.path(), &cfg(), "v1.0.0").unwrap();
    assert_eq!(st.branch, "hotfix/1.0.1");
    r.write("fix.txt", "fixed");
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "-m", "fix: [CRITICAL] token leak"]);
    let f = plan::hotfix_finish(r.path(), &cfg(), "2026-01-12").unwrap();
    assert!(f.conflict.is_none());
    assert_eq!(f.bumped.tag, "v1.0.1");
    assert_eq!(f.picked.len(), 1);
    assert_eq!(r.git(&["branch", "--show-current"]).trim(), "main");
    assert_eq!(r.read("fix.txt"), "fixed");
    assert!(
        r.git(&["log", "-1", "--format=%B"])
            .contains("cherry picked from commit")
    );
    assert!(
        r.git(&["show", "hotfix/1.0.1:pyproject.toml"])
            .contains("1.0.1")
    );
}

#[test]
fn hotfix_conflict_is_reported_and_aborted() {
    let r = project_at_1_0_0();
    r.write("server.py", "TIMEOUT = 10\n");
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "-m", "feat: timeouts"]);
    r.tag("v1.1.0");
    r.write("server.py", "TIMEOUT = 30\n");
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "-m", "feat: longer timeouts"]);
    let main_head = r.head();
    plan::hotfix_start(r.path(), &cfg(), "1.1.0").unwrap();
    r.write("server.py", "TIMEOUT = 15\n");
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "-m", "fix: timeout too short"]);
    let f = plan::hotfix_finish(r.path(), &cfg(), "2026-01-12").unwrap();
    let c = f.conflict.expect("conflict");
    assert_eq!(c.files, ["server.py"]);
    assert!(
        c.command
            .starts_with("git switch main && git cherry-pick -x ")
    );
    assert_eq!(r.git(&["rev-parse", "main"]).trim(), main_head);
    assert!(!r.join(".git/CHERRY_PICK_HEAD").exists());
    assert_eq!(r.git(&["branch", "--show-current"]).trim(), "hotfix/1.1.1");
    assert!(r.git(&["status", "--porcelain"]).is_empty());
    assert_eq!(r.git(&["tag", "--list", "v1.1.1"]).trim(), "v1.1.1");
}

#[test]
fn hotfix_start_from_an_unknown_tag_lists_the_known_ones() {
    let r = project_at_1_0_0();
    let err = plan::hotfix_start(r.path(), &cfg(), "v9.9.9").unwrap_err();
    assert!(err.to_string().contains("`v9.9.9` does not exist"));
    assert!(err.hint().unwrap().contains("`v1.0.0`"));
}

fn surface(tools: &[&str]) -> ToolSurface {
    ToolSurface::new(
        tools
            .iter()
            .map(|n| ToolSignature {
                name: (*n).into(),
                description: None,
                input_schema: serde_json::json!({"type": "object"}),
                output_schema: None,
            })
            .collect(),
    )
}

#[test]
fn a_removed_tool_makes_auto_a_major_release_even_with_only_fixes() {
    let r = project_at_1_0_0();
    r.write(
        ".runway/tool-surface.json",
        &runway_release::surface::render_surface(&surface(&["search", "fetch"])),
    );
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "-m", "chore: record the tool surface"]);
    r.commit("fix: small");
    let plan_opts = PlanOptions {
        surface: Some(surface(&["search"])),
        ..PlanOptions::default()
    };
    let st = plan::status(r.path(), &cfg(), &plan_opts).unwrap();
    assert_eq!(st.next.as_deref(), Some("2.0.0"));
    assert_eq!(
        st.decided_by.as_deref(),
        Some("tool surface: tool `fetch` was removed")
    );
    // An explicit patch is refused; auto writes the new surface file.
    let err = plan::bump(
        r.path(),
        &cfg(),
        &Requested::Level(Level::Patch),
        &plan_opts,
        &opts(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("needs a major release"), "{err}");
    let BumpResult::Bumped(b) =
        plan::bump(r.path(), &cfg(), &Requested::Auto, &plan_opts, &opts()).unwrap()
    else {
        panic!()
    };
    assert_eq!(b.to, "2.0.0");
    assert!(!r.read(".runway/tool-surface.json").contains("fetch"));
}

#[test]
fn check_fails_when_the_version_does_not_cover_the_surface_change() {
    let r = project_at_1_0_0();
    r.write(
        ".runway/tool-surface.json",
        &runway_release::surface::render_surface(&surface(&["search"])),
    );
    r.pyproject("1.0.1");
    r.write(
        "CHANGELOG.md",
        "# Changelog\n\n## [1.0.1] - 2026-01-02\n\n- x\n",
    );
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "-m", "fix: prepare 1.0.1"]);
    let plan_opts = PlanOptions {
        surface: Some(surface(&[])),
        ..PlanOptions::default()
    };
    let rows = plan::check(r.path(), &cfg(), &plan_opts, &CheckOptions::default()).unwrap();
    let row = rows.iter().find(|r| r.name == "tool surface").unwrap();
    assert_eq!(row.status, RowStatus::Fail, "{}", row.detail);
    assert!(row.detail.contains("needs a major release"));
}

#[test]
fn before_one_zero_a_breaking_change_is_a_minor_bump() {
    let r = Repo::new();
    r.pyproject("0.4.2");
    r.commit("feat: start");
    r.tag("v0.4.2");
    r.commit("feat!: rename every tool");
    assert_eq!(status(&r).next.as_deref(), Some("0.5.0"));
    let mut c = cfg();
    c.bump_minor_pre_major = false;
    let st = plan::status(r.path(), &c, &PlanOptions::default()).unwrap();
    assert_eq!(st.next.as_deref(), Some("1.0.0"));
}

#[test]
fn rc_line_then_promotion_through_bumps() {
    let r = project_at_1_0_0();
    r.commit("feat: new");
    let pre = PlanOptions {
        pre: Some(runway_release::version::PreKind::Rc),
        ..PlanOptions::default()
    };
    let BumpResult::Bumped(b) =
        plan::bump(r.path(), &cfg(), &Requested::Auto, &pre, &opts()).unwrap()
    else {
        panic!()
    };
    assert_eq!(b.to, "1.1.0-rc.1");
    assert!(
        r.read("pyproject.toml").contains("version = \"1.1.0rc1\""),
        "PEP 440 in Python files"
    );
    r.commit("fix: during rc");
    let BumpResult::Bumped(b) =
        plan::bump(r.path(), &cfg(), &Requested::Auto, &pre, &opts()).unwrap()
    else {
        panic!()
    };
    assert_eq!(b.to, "1.1.0-rc.2");
    let BumpResult::Bumped(b) = plan::bump(
        r.path(),
        &cfg(),
        &Requested::Level(Level::Minor),
        &PlanOptions::default(),
        &opts(),
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(b.to, "1.1.0");
    assert!(r.read("pyproject.toml").contains("version = \"1.1.0\""));
}

#[test]
fn disagreeing_files_block_auto_but_not_an_explicit_version() {
    let r = project_at_1_0_0();
    r.write("hangar/__init__.py", "__version__ = \"0.9.0\"\n");
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "-m", "fix: add module"]);
    let st = status(&r);
    assert!(!st.files_agree);
    let err = plan::bump(
        r.path(),
        &cfg(),
        &Requested::Auto,
        &PlanOptions::default(),
        &opts(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("disagree"), "{err}");
    let BumpResult::Bumped(b) = plan::bump(
        r.path(),
        &cfg(),
        &Requested::Exact("1.0.1".into()),
        &PlanOptions::default(),
        &opts(),
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(b.to, "1.0.1");
    assert_eq!(r.read("hangar/__init__.py"), "__version__ = \"1.0.1\"\n");
}

#[test]
fn a_version_that_lives_in_git_tags_is_released_by_tag_and_changelog_only() {
    let r = Repo::new();
    r.write(
        "pyproject.toml",
        "[build-system]\nrequires = [\"setuptools>=64\", \"setuptools-scm>=8\"]\n\n[project]\nname = \"hangar\"\ndynamic = [\"version\"]\n",
    );
    r.commit("feat: first");
    r.tag("v0.2.0");
    r.commit("fix: a bug");
    let st = status(&r);
    assert!(st.files.is_empty());
    assert!(
        st.notes
            .iter()
            .any(|n| n.contains("git tags (setuptools-scm)")),
        "{:?}",
        st.notes
    );
    let before = r.read("pyproject.toml");
    let BumpResult::Bumped(b) = plan::bump(
        r.path(),
        &cfg(),
        &Requested::Auto,
        &PlanOptions::default(),
        &opts(),
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(b.to, "0.2.1");
    let paths: Vec<String> = b
        .changes
        .iter()
        .map(|c| c.path.display().to_string())
        .collect();
    assert_eq!(paths, ["CHANGELOG.md"]);
    assert_eq!(r.read("pyproject.toml"), before);
    let rows = plan::check(
        r.path(),
        &cfg(),
        &PlanOptions::default(),
        &CheckOptions {
            tag: Some("v0.2.1".into()),
            run_gates: false,
        },
    )
    .unwrap();
    assert!(rows.iter().all(|r| r.status != RowStatus::Fail), "{rows:?}");
}

#[path = "git_cases/checks.rs"]
mod checks;
