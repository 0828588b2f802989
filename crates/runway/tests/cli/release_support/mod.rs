//! Shared by the `runway release` tests: git repositories with a pinned identity
//! and the real binary run inside them, all through `runway-testkit`.

#![allow(dead_code)] // each test file uses its own part

use std::path::Path;
use std::process::Command;

use runway_testkit::{Output, Test, git::PINNED_ENV};

/// Runs `git` in `dir` and fails the test, with git's stderr, when it fails.
pub fn git(dir: &Path, args: &[&str]) {
    runway_testkit::git::git(dir, args);
}

/// An empty repository on `main` with an identity and signing off.
pub fn repo() -> tempfile::TempDir {
    runway_testkit::Repo::new().dir
}

/// The `runway` binary in `dir`, without colour or an inherited `GITHUB_REF`.
pub fn runway(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Test::new()
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .run()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Fixed identity, dates and no user configuration, so fixture commit ids are
/// the same everywhere.
pub fn pinned(cmd: &mut Command, home: &Path) {
    cmd.envs(PINNED_ENV.iter().copied())
        .env("HOME", home)
        .env_remove("GITHUB_REF");
}

pub use runway_testkit::git::release_fixture as fixture;

/// `runway ARGS` in a fixture repository, with the fixture's pinned environment.
pub fn runway_pinned(dir: &Path, args: &[&str]) -> Output {
    Test::new().args(args).current_dir(dir).pinned(dir).run()
}

/// Runs `git` with the fixture's pinned environment and returns its stdout.
pub fn git_pinned(dir: &Path, args: &[&str]) -> String {
    let out = Test::program("git")
        .args(args)
        .current_dir(dir)
        .pinned(dir)
        .run();
    out.success();
    out.stdout_text()
}
