//! Throw-away git repositories with a pinned identity and dates, so commit
//! ids are the same on every machine and no user or system config leaks in.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The first commit's date; each later git call is one minute on.
pub const EPOCH: i64 = 1_700_000_000;

/// The environment fixture scripts, git and the binary run under in a fixture
/// repository: fixed identity and dates, no user or system git configuration,
/// a fixed release date. With `HOME` set to the repository, commit ids and
/// changelogs are the same on every machine.
pub const PINNED_ENV: &[(&str, &str)] = &[
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
];

/// Runs `git` in `dir` without the system config, fails the test with git's
/// stderr when git fails, and returns its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run git (install the `git` package): {e}"));
    assert!(
        out.status.success(),
        "git {args:?} in `{}`: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `git` in `dir` with the pinned identity and `date` (`@SECS +0000`),
/// fails the test with git's stderr when git fails, and returns its stdout.
pub fn git_dated(dir: &Path, args: &[&str], date: &str) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .env("GIT_AUTHOR_NAME", "Runway Test")
        .env("GIT_AUTHOR_EMAIL", "test@runway.invalid")
        .env("GIT_COMMITTER_NAME", "Runway Test")
        .env("GIT_COMMITTER_EMAIL", "test@runway.invalid")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap_or_else(|e| panic!("cannot run git (install the `git` package): {e}"));
    assert!(
        out.status.success(),
        "git {args:?} in `{}`: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A repository in a temp dir on `main`, with signing and hooks off.
pub struct Repo {
    pub dir: tempfile::TempDir,
    tick: Cell<i64>,
}

impl Default for Repo {
    fn default() -> Self {
        Repo::new()
    }
}

impl Repo {
    pub fn new() -> Repo {
        let r = Repo {
            dir: tempfile::tempdir().unwrap(),
            tick: Cell::new(0),
        };
        r.git(&["init", "-q", "-b", "main"]);
        for (k, v) in [
            ("user.name", "Runway Test"),
            ("user.email", "test@runway.invalid"),
            ("commit.gpgsign", "false"),
            ("tag.gpgsign", "false"),
            ("core.hooksPath", ".no-hooks"),
        ] {
            r.git(&["config", k, v]);
        }
        r
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.path().join(rel)
    }

    /// Runs git here, dated one minute after the previous call.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_at(args, self.dir.path())
    }

    /// Runs git in `dir` (a worktree or clone of this repository) on this repository's clock.
    pub fn git_at(&self, args: &[&str], dir: &Path) -> String {
        let t = self.tick.get() + 1;
        self.tick.set(t);
        git_dated(dir, args, &format!("@{} +0000", EPOCH + t * 60))
    }

    /// Runs git here with an explicit date (seconds since the epoch).
    pub fn git_dated(&self, args: &[&str], epoch: i64) -> String {
        git_dated(self.path(), args, &format!("@{epoch} +0000"))
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap()
    }

    /// Commits a change to a file named after the tick, so every commit touches something.
    pub fn commit(&self, message: &str) -> String {
        let n = self.tick.get();
        self.write(&format!("changes/{n}.txt"), message);
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.head()
    }

    /// Stages everything and commits it with `message`.
    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.head()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_owned()
    }

    /// An annotated tag at HEAD.
    pub fn tag(&self, name: &str) {
        self.git(&["tag", "-a", name, "-m", name]);
    }

    pub fn pyproject(&self, version: &str) {
        self.write(
            "pyproject.toml",
            &format!("[project]\nname = \"hangar\"\nversion = \"{version}\"\n"),
        );
    }
}

/// The repository `tests/fixtures/release/<case>/commit.sh` builds, in a new
/// temporary directory, with the pinned identity and dates.
pub fn release_fixture(case: &str) -> tempfile::TempDir {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/release")
        .join(case)
        .join("commit.sh");
    let dir = tempfile::tempdir().unwrap();
    crate::Test::program("bash")
        .arg(&script)
        .current_dir(dir.path())
        .pinned(dir.path())
        .run()
        .success();
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_are_pinned_so_their_ids_repeat() {
        let ids: Vec<String> = (0..2)
            .map(|_| {
                let r = Repo::new();
                r.commit("feat: first");
                r.tag("v1.0.0");
                r.head()
            })
            .collect();
        assert_eq!(ids[0], ids[1]);
        let r = Repo::new();
        r.commit("fix: one");
        assert_eq!(
            r.git(&["log", "-1", "--format=%an %s"]).trim(),
            "Runway Test fix: one"
        );
    }
}
