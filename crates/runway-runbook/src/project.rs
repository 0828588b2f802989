//! The project a command or an MCP session works on: its `runway.toml` (if
//! any), its root, its ledger and its release settings.
//!
//! Every front end finds these the same way: the ledger is the one given
//! (`--ledger`, `RUNWAY_LEDGER_URL`, the MCP server's own `--ledger`), else
//! `[ledger] url` in `runway.toml`, else `.runway/ledger.db` at the project
//! root; a project without `runway.toml` tags its releases the way its
//! existing tags do.

use std::path::PathBuf;

use runway_config::{Loaded, ReleaseConfig};
use runway_ledger::{Ledger, LedgerUrl, OpenOptions};

use crate::RunbookError;

/// A directory and the `runway.toml` found from it upwards.
#[derive(Debug, Clone)]
pub struct Project {
    /// Where the search started (`-C DIR`, the current directory, an MCP root).
    pub dir: PathBuf,
    pub loaded: Option<Loaded>,
}

impl Project {
    /// Finds `runway.toml` from `dir` up; a directory without one is a project too.
    pub fn discover(dir: PathBuf) -> Result<Project, RunbookError> {
        let loaded = runway_config::Config::discover(&dir)?;
        Ok(Project { dir, loaded })
    }

    /// Where `runway.toml` is, else the directory itself.
    pub fn root(&self) -> PathBuf {
        self.loaded
            .as_ref()
            .map(|l| l.root.clone())
            .unwrap_or_else(|| self.dir.clone())
    }

    /// The ledger: `given` (relative paths from the current directory), else
    /// `[ledger] url`, else `.runway/ledger.db` at the root.
    pub fn ledger_url(&self, given: Option<&str>) -> Result<LedgerUrl, RunbookError> {
        if let Some(u) = given.filter(|u| !u.trim().is_empty()) {
            let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
            return Ok(LedgerUrl::parse(u, &cwd)?);
        }
        match &self.loaded {
            Some(l) => configured_ledger_url(l),
            None => Ok(LedgerUrl::default_for(&self.dir)),
        }
    }

    /// Opens the ledger at `url` with a pool of `connections` (0: the default).
    /// It is created only when it is the project's own `.runway/ledger.db`
    /// (`runway ledger init` makes one anywhere else).
    pub async fn open_ledger(
        &self,
        url: &LedgerUrl,
        connections: u32,
    ) -> Result<Box<dyn Ledger>, RunbookError> {
        let mut options = OpenOptions::default();
        if connections > 0 {
            options.max_connections = connections;
        }
        Ok(runway_ledger::open_for_project(url, &self.root(), options).await?)
    }

    /// [`Project::open_ledger`] for a read that must leave no trace: a
    /// ledger that does not exist yet is an error, never created.
    pub async fn open_existing_ledger(
        &self,
        url: &LedgerUrl,
    ) -> Result<Box<dyn Ledger>, RunbookError> {
        let options = OpenOptions {
            create: false,
            ..OpenOptions::default()
        };
        Ok(runway_ledger::open_for_project(url, &self.root(), options).await?)
    }

    /// The `[release]` settings; without `runway.toml`, the defaults with the
    /// tag prefix the repository's tags use (`2.2.0`, `rmcp-v3.1.3`), as
    /// `runway init` would write it.
    pub fn release(&self) -> ReleaseConfig {
        if let Some(l) = &self.loaded {
            return l.config.release.clone();
        }
        let mut cfg = ReleaseConfig::default();
        if let Ok(schemes) = runway_release::tags::schemes(&self.dir)
            && let Some(top) = schemes.first()
            && !schemes.iter().any(|s| s.prefix == cfg.tag_prefix)
        {
            cfg.tag_prefix = top.prefix.clone();
        }
        cfg
    }
}

/// `[ledger] url` of a loaded `runway.toml` (variables filled in), else the project's own file.
pub fn configured_ledger_url(loaded: &Loaded) -> Result<LedgerUrl, RunbookError> {
    Ok(match loaded.config.ledger.resolved_url(&loaded.path)? {
        Some(u) => LedgerUrl::parse(&u, &loaded.root)?,
        None => LedgerUrl::default_for(&loaded.root),
    })
}
