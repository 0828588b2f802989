//! The fixture repositories under `tests/fixtures/release/<case>/`: each
//! `commit.sh` builds a repository; the next version and the changelog entry
//! Runway computes must equal `expected_version` and `expected_changelog.md`,
//! `status`'s "decided by" must equal `expected_decided_by` when there is one,
//! and every line of `expected_notes` must be part of one of its notes
//! (`args` holds extra arguments for both commands, such as `--package`). In
//! every case the commit counts of the groups add up to the commits since the
//! last release.
//! The same scripts feed `bench/release-peers.sh`.

use std::path::{Path, PathBuf};

use runway_testkit::{Output, Test};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/release")
}

fn build(case: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    Test::program("bash")
        .arg(case.join("commit.sh"))
        .current_dir(dir.path())
        .pinned(dir.path())
        .run()
        .success();
    dir
}

fn runway(dir: &Path, args: &[&str]) -> Output {
    Test::new().args(args).current_dir(dir).pinned(dir).run()
}

#[test]
fn every_fixture_gives_the_expected_version_and_changelog() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("commit.sh").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "fixtures missing: {cases:?}");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let repo = build(case);
        // `args`: extra arguments for both commands (`--package server`).
        let extra = std::fs::read_to_string(case.join("args")).unwrap_or_default();
        let extra: Vec<&str> = extra.split_whitespace().collect();
        let mut args = vec!["release", "status", "--format", "json"];
        args.extend(&extra);
        let out = runway(repo.path(), &args);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let st: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let next = st["next"].as_str().unwrap_or("none").to_owned();
        let expected = std::fs::read_to_string(case.join("expected_version")).unwrap();
        if next != expected.trim() {
            failures.push(format!(
                "{name}: next version {next}, expected {}",
                expected.trim()
            ));
        }
        let decided = case.join("expected_decided_by");
        if decided.is_file() {
            let want = std::fs::read_to_string(&decided).unwrap();
            let got = st["decided_by"].as_str().unwrap_or("none");
            if got != want.trim() {
                failures.push(format!(
                    "{name}: decided by `{got}`, expected `{}`",
                    want.trim()
                ));
            }
        }
        let notes_file = case.join("expected_notes");
        if notes_file.is_file() {
            let notes: Vec<&str> = st["notes"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|n| n.as_str())
                .collect();
            for want in std::fs::read_to_string(&notes_file).unwrap().lines() {
                if !want.trim().is_empty() && !notes.iter().any(|n| n.contains(want.trim())) {
                    failures.push(format!("{name}: no note says `{want}`: {notes:?}"));
                }
            }
        }
        let counted: u64 = st["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["count"].as_u64().unwrap())
            .sum();
        if Some(counted) != st["commits"].as_u64() {
            failures.push(format!(
                "{name}: groups count {counted} commits, status says {}",
                st["commits"]
            ));
        }
        let mut args = vec!["release", "changelog"];
        args.extend(&extra);
        let out = runway(repo.path(), &args);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = String::from_utf8_lossy(&out.stdout).into_owned();
        let expected_log = case.join("expected_changelog.md");
        if expected_log.is_file() {
            let want = std::fs::read_to_string(&expected_log).unwrap();
            if got != want {
                failures.push(format!(
                    "{name}: changelog differs\n--- got\n{got}\n--- expected\n{want}"
                ));
            }
        } else if expected.trim() == "none" {
            let stderr = String::from_utf8_lossy(&out.stderr);
            if !got.is_empty() || !stderr.contains("nothing to release") {
                failures.push(format!(
                    "{name}: expected `nothing to release`, got `{got}` / `{stderr}`"
                ));
            }
        } else {
            failures.push(format!("{name}: `expected_changelog.md` is missing"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
