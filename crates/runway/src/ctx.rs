//! What every command shares: the project directory, the ledger flag and
//! the `--since`/`--until` reader.
//!
//! Finding the project and its ledger is runway-runbook's
//! ([`runway_runbook::Project`]), the same for `runway mcp`; this module only
//! turns flags into its inputs.

use chrono::{DateTime, Utc};
use runway_ledger::{Ledger, LedgerUrl};
use runway_runbook::Project;

/// What every command may need from the global flags.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub project_dir: Option<std::path::PathBuf>,
}

/// Where the ledger is; shared by every ledger-reading command.
#[derive(Debug, Clone, clap::Args)]
pub struct LedgerOpt {
    /// The ledger: `sqlite://PATH` or `postgres://USER@HOST:PORT/DB` (default: `[ledger] url`, else `.runway/ledger.db`).
    #[arg(
        long = "ledger",
        env = "RUNWAY_LEDGER_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub ledger: Option<String>,
}

impl Ctx {
    /// The project directory: `-C DIR`, else the current directory.
    pub fn dir(&self) -> std::path::PathBuf {
        self.project_dir
            .clone()
            .unwrap_or_else(|| std::env::current_dir().unwrap_or_else(|_| ".".into()))
    }

    /// `runway.toml` from the project directory or its parents, if any.
    pub fn config(&self) -> anyhow::Result<Option<runway_config::Loaded>> {
        Ok(runway_config::Config::discover(&self.dir())?)
    }

    /// The project: the directory and the `runway.toml` found from it.
    pub fn project(&self) -> anyhow::Result<Project> {
        Ok(Project::discover(self.dir())?)
    }

    /// Finds the ledger: `--ledger`/`RUNWAY_LEDGER_URL`, else `[ledger] url` in
    /// `runway.toml`, else `.runway/ledger.db` in the project.
    pub fn ledger_url(&self, opt: &LedgerOpt) -> anyhow::Result<LedgerUrl> {
        Ok(self.project()?.ledger_url(opt.ledger.as_deref())?)
    }

    /// Opens the ledger for a command: created only when it is the project's
    /// own `.runway/ledger.db` (`runway ledger init` makes one elsewhere).
    pub async fn open_ledger(&self, opt: &LedgerOpt) -> anyhow::Result<Box<dyn Ledger>> {
        self.open_ledger_with(opt, 0).await
    }

    /// [`Ctx::open_ledger`] that never creates one: for reads in a gate
    /// (`release check`) that must not leave a new file in the tree.
    pub async fn open_existing_ledger(&self, opt: &LedgerOpt) -> anyhow::Result<Box<dyn Ledger>> {
        let project = self.project()?;
        let url = project.ledger_url(opt.ledger.as_deref())?;
        Ok(project.open_existing_ledger(&url).await?)
    }

    /// [`Ctx::open_ledger`] with a pool of `connections` (a monitor stores many runs at once).
    pub async fn open_ledger_with(
        &self,
        opt: &LedgerOpt,
        connections: u32,
    ) -> anyhow::Result<Box<dyn Ledger>> {
        let project = self.project()?;
        let url = project.ledger_url(opt.ledger.as_deref())?;
        Ok(project.open_ledger(&url, connections).await?)
    }
}

/// `--since`/`--until`: a duration back from now (`7d`, `12h`, `30m`, `45s`, `2w`,
/// `1h 30m`: humantime's spelling), an RFC 3339 time, or a `YYYY-MM-DD` date (UTC midnight).
pub fn parse_when(flag: &str, s: &str) -> anyhow::Result<DateTime<Utc>> {
    runway_runbook::records::parse_when(s).map_err(|e| {
        crate::error::UsageError::new(format!("`{flag} {}` is not a duration or a time", e.text))
            .with_hint(runway_runbook::records::WhenError::FORMS)
            .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_is_a_duration_back_a_time_or_a_date() {
        let now = Utc::now();
        let back = |s: &str| (now - parse_when("--since", s).unwrap()).num_seconds();
        for (s, secs) in [
            ("45s", 45),
            ("30m", 1800),
            ("12h", 43_200),
            ("7d", 604_800),
            ("2w", 1_209_600),
            ("1h 30m", 5400),
        ] {
            let got = back(s);
            assert!((secs - 1..secs + 5).contains(&got), "`{s}`: {got} s");
        }
        assert_eq!(
            parse_when("--since", "2026-01-31T00:00:00Z")
                .unwrap()
                .to_rfc3339(),
            "2026-01-31T00:00:00+00:00"
        );
        assert_eq!(
            parse_when("--until", "2026-01-31").unwrap().to_rfc3339(),
            "2026-01-31T00:00:00+00:00"
        );
    }

    #[test]
    fn a_bad_when_names_the_flag_and_the_forms() {
        for s in ["yesterday", "7x", "-3d", "", "999999999w"] {
            let e = parse_when("--since", s).unwrap_err();
            let u = e.downcast_ref::<crate::error::UsageError>().unwrap();
            assert_eq!(
                u.message,
                format!("`--since {s}` is not a duration or a time")
            );
            assert!(u.hint.as_deref().unwrap().contains("`90d`"));
        }
    }
}
