//! A throw-away git repository with deterministic authors and dates.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Repo {
    pub dir: tempfile::TempDir,
    tick: std::cell::Cell<i64>,
}

impl Repo {
    pub fn new() -> Repo {
        let r = Repo {
            dir: tempfile::tempdir().unwrap(),
            tick: std::cell::Cell::new(0),
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

    /// Runs git with fixed identity and a date one minute after the previous call.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_at(args, self.dir.path())
    }

    pub fn git_at(&self, args: &[&str], dir: &Path) -> String {
        let t = self.tick.get() + 1;
        self.tick.set(t);
        let date = format!("@{} +0000", 1_700_000_000 + t * 60);
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs git with an explicit commit date (seconds since the epoch).
    pub fn git_dated(&self, args: &[&str], epoch: i64) -> String {
        let date = format!("@{epoch} +0000");
        let out = Command::new("git")
            .args(args)
            .current_dir(self.path())
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap()
    }

    /// Commits a change to a file named after the message, so every commit touches something.
    pub fn commit(&self, message: &str) -> String {
        let n = self.tick.get();
        self.write(&format!("changes/{n}.txt"), message);
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.head()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_owned()
    }

    pub fn tag(&self, name: &str) {
        self.git(&["tag", "-a", name, "-m", name]);
    }

    pub fn pyproject(&self, version: &str) {
        self.write(
            "pyproject.toml",
            &format!("[project]\nname = \"hangar\"\nversion = \"{version}\"\n"),
        );
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.path().join(rel)
    }
}
