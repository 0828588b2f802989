//! Shared by the `runway release` tests: git repositories with a pinned identity
//! and the real binary run inside them.

#![allow(dead_code)] // each test file uses its own part

use std::path::Path;
use std::process::{Command, Output};

/// Runs `git` in `dir` and fails the test, with git's stderr, when it fails.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An empty repository on `main` with an identity and signing off.
pub fn repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git(p, &["init", "-q", "-b", "main"]);
    for (k, v) in [
        ("user.name", "T"),
        ("user.email", "t@runway.invalid"),
        ("commit.gpgsign", "false"),
        ("tag.gpgsign", "false"),
    ] {
        git(p, &["config", k, v]);
    }
    d
}

/// The `runway` binary in `dir`, without colour or an inherited `GITHUB_REF`.
pub fn runway(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_runway"));
    c.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_REF");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Fixed identity, dates and no user configuration, so fixture commit ids are
/// the same everywhere.
pub fn pinned(cmd: &mut Command, home: &Path) {
    for (k, v) in [
        ("GIT_AUTHOR_NAME", "Runway Fixture"),
        ("GIT_AUTHOR_EMAIL", "fixture@runway.invalid"),
        ("GIT_COMMITTER_NAME", "Runway Fixture"),
        ("GIT_COMMITTER_EMAIL", "fixture@runway.invalid"),
        ("GIT_AUTHOR_DATE", "@1700000000 +0000"),
        ("GIT_COMMITTER_DATE", "@1700000000 +0000"),
        ("GIT_CONFIG_NOSYSTEM", "1"),
        ("GIT_CONFIG_GLOBAL", "/dev/null"),
        ("SOURCE_DATE_EPOCH", "1768176000"),
        ("NO_COLOR", "1"),
    ] {
        cmd.env(k, v);
    }
    cmd.env("HOME", home).env_remove("GITHUB_REF");
}

/// The repository `tests/fixtures/release/<case>/commit.sh` builds.
pub fn fixture(case: &str) -> tempfile::TempDir {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/release")
        .join(case)
        .join("commit.sh");
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg(&script).current_dir(dir.path());
    pinned(&mut cmd, dir.path());
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// `runway ARGS` in a fixture repository, with the fixture's pinned environment.
pub fn runway_pinned(dir: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_runway"));
    c.args(args).current_dir(dir);
    pinned(&mut c, dir);
    c.output().unwrap()
}

/// Runs `git` with the fixture's pinned environment and returns its stdout.
pub fn git_pinned(dir: &Path, args: &[&str]) -> String {
    let mut c = Command::new("git");
    c.args(args).current_dir(dir);
    pinned(&mut c, dir);
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
