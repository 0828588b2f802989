//! Runway's read operations as JSON values, for the tools and resources.
//!
//! Each operation calls the same library function the matching command calls
//! and serialises the same type, so a tool's `structuredContent` is what
//! `runway <command> --format json` prints. Lists are wrapped in an object
//! (`{"records": [...]}`) because MCP's `structuredContent` must be one.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use runway_config::Loaded;
use runway_ledger::{Filter, Ledger, LedgerUrl};
use runway_runbook::{
    Project,
    records::{self, DoraQuery, IncidentQuery},
    release::{ReleaseScope, SurfaceChoice},
};
use serde_json::{Value, json};

use crate::error::OpError;

/// What a long operation reports while it runs, and how it learns it was cancelled.
pub struct Running<'a> {
    pub cancel: &'a tokio_util::sync::CancellationToken,
    /// Called with (done, total, message) as the operation moves.
    pub progress: &'a (dyn Fn(f64, f64, String) + Send + Sync),
}

/// What every operation reads: the project and its ledger.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The project root (where `runway.toml` is, or the directory Runway was started in).
    pub root: PathBuf,
    /// `runway.toml`, when the project has one.
    pub config: Option<Loaded>,
    /// The ledger the CLI would open (`--ledger`, `RUNWAY_LEDGER_URL`, `[ledger] url`, default).
    pub ledger: LedgerUrl,
}

impl Workspace {
    /// The project at `dir` with its own default ledger (`.runway/ledger.db`),
    /// whatever `[ledger] url` says: what a test or an embedding wants.
    pub fn at(dir: &std::path::Path) -> Result<Workspace, runway_config::ConfigError> {
        Ok(Workspace {
            root: dir.to_path_buf(),
            config: runway_config::Config::discover(dir)?,
            ledger: LedgerUrl::default_for(dir),
        })
    }

    /// `[mcp] allow_writes`: whether the writing tools are listed and accepted.
    pub fn writes_allowed(&self) -> bool {
        self.config
            .as_ref()
            .is_some_and(|l| l.config.mcp.allow_writes)
    }

    /// `[mcp] plan_ttl`: how long a plan id stays valid.
    pub fn plan_ttl(&self) -> std::time::Duration {
        self.config
            .as_ref()
            .map(|l| l.config.mcp.plan_ttl())
            .unwrap_or(runway_config::mcp::DEFAULT_PLAN_TTL)
    }

    /// The project as runway-runbook sees it.
    pub(crate) fn project(&self) -> Project {
        Project {
            dir: self.root.clone(),
            loaded: self.config.clone(),
        }
    }

    /// The `[release]` settings of `package` (one must be named when the project has several).
    pub(crate) fn release_scope(&self, package: Option<&str>) -> Result<ReleaseScope, OpError> {
        Ok(ReleaseScope::new(&self.project(), package)?)
    }

    /// Runs `job` with the ledger open, on a blocking thread that drives it
    /// with this runtime: sqlx's futures are `Send` only for specific
    /// lifetimes, which rmcp's `Send` bounds on handler futures cannot prove.
    pub(crate) async fn with_ledger<T, F>(&self, job: F) -> Result<T, OpError>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(
                &'a dyn Ledger,
            ) -> std::pin::Pin<
                Box<dyn std::future::Future<Output = Result<T, OpError>> + 'a>,
            > + Send
            + 'static,
    {
        self.with_ledger_as(None, job).await
    }

    /// [`Workspace::with_ledger`], writing as `operator` when one is given.
    pub(crate) async fn with_ledger_as<T, F>(
        &self,
        operator: Option<String>,
        job: F,
    ) -> Result<T, OpError>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(
                &'a dyn Ledger,
            ) -> std::pin::Pin<
                Box<dyn std::future::Future<Output = Result<T, OpError>> + 'a>,
            > + Send
            + 'static,
    {
        let url = self.ledger.clone();
        let root = self.root.clone();
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            handle.block_on(async move {
                let mut ledger =
                    runway_ledger::open_for_project(&url, &root, Default::default()).await?;
                if let Some(op) = operator {
                    ledger.set_operator(op);
                }
                let out = job(ledger.as_ref()).await;
                ledger.close().await;
                out
            })
        })
        .await
        .map_err(|e| OpError::Internal(e.to_string()))?
    }

    /// `runway release status --format json`: with `[release.surface_source]`
    /// the live tool surface is captured and compared, as the command does,
    /// unless `no_surface` (the command's `--no-surface`).
    pub async fn release_status(
        &self,
        package: Option<&str>,
        pre: Option<&str>,
        no_surface: bool,
    ) -> Result<Value, OpError> {
        let pre = match pre {
            None => None,
            Some("alpha") => Some(runway_release::version::PreKind::Alpha),
            Some("beta") => Some(runway_release::version::PreKind::Beta),
            Some("rc") => Some(runway_release::version::PreKind::Rc),
            Some(other) => {
                return Err(OpError::Argument {
                    field: "pre",
                    message: format!("unknown pre-release line `{other}`: use alpha, beta or rc"),
                });
            }
        };
        let surface = if no_surface {
            SurfaceChoice::Skip
        } else {
            SurfaceChoice::Configured
        };
        let st = self
            .release_scope(package)?
            .status(pre, &surface, |from| {
                tracing::info!("capturing the tool surface from `{from}`")
            })
            .await?;
        Ok(serde_json::to_value(&st)?)
    }

    /// The changelog entry `runway release changelog` would print, without writing it.
    pub async fn changelog_preview(
        &self,
        package: Option<&str>,
        version: Option<String>,
    ) -> Result<Value, OpError> {
        let entry = self
            .release_scope(package)?
            .changelog_entry(version)
            .await?;
        Ok(serde_json::to_value(&entry)?)
    }

    /// `runway release notes --format json`.
    pub async fn release_notes(
        &self,
        package: Option<&str>,
        version: Option<String>,
    ) -> Result<Value, OpError> {
        let notes = self.release_scope(package)?.notes(version).await?;
        Ok(serde_json::to_value(&notes)?)
    }

    /// `runway release report VERSION --format json` (a release that misses
    /// its criteria is a result with `passed: false`, not an error).
    pub async fn release_report(
        &self,
        package: Option<&str>,
        version: String,
    ) -> Result<Value, OpError> {
        let scope = self.release_scope(package)?;
        let report = self
            .with_ledger(move |ledger| {
                Box::pin(async move { Ok(scope.report(ledger, &version).await?) })
            })
            .await?;
        Ok(serde_json::to_value(&report)?)
    }

    /// The verification context for a URL or an environment of `runway.toml`.
    pub fn verify_context(
        &self,
        target: &str,
        suite: Option<runway_verify::Suite>,
    ) -> Result<runway_verify::Context, OpError> {
        use runway_verify::{Context, Suite, Transport};
        let mut c = if target.contains("://") {
            let url = runway_verify::environment::parse_url(target)?;
            Context::new(Transport::Http { url }, None, Suite::Smoke)
        } else {
            let loaded = self.config.as_ref().ok_or_else(|| OpError::Argument {
                field: "target",
                message: format!(
                    "`{target}` is not a URL and the project has no `runway.toml` to find an environment in"
                ),
            })?;
            Context::for_environment(loaded, target, None)?
        };
        if let Some(s) = suite {
            c.suite = s;
        }
        Ok(c)
    }

    /// `runway ledger list --format json`, as `{"records": [...]}`.
    pub async fn ledger_list(&self, filter: Filter) -> Result<Value, OpError> {
        self.with_ledger(move |ledger| {
            Box::pin(async move {
                let records = ledger.query(&filter, false).await?;
                Ok(json!({ "records": records }))
            })
        })
        .await
    }

    /// `runway ledger show ID --format json`: the record, and for a deployment its view.
    pub async fn ledger_show(&self, id: &str) -> Result<Value, OpError> {
        let id = id.to_owned();
        self.with_ledger(move |ledger| {
            Box::pin(async move { Ok(serde_json::to_value(records::show(ledger, &id).await?)?) })
        })
        .await
    }

    /// `runway incident list --format json`, as `{"incidents": [...]}`.
    pub async fn incident_list(&self, query: IncidentQuery) -> Result<Value, OpError> {
        let incidents = self
            .with_ledger(move |ledger| {
                Box::pin(async move { Ok(records::incidents(ledger, &query).await?) })
            })
            .await?;
        Ok(json!({ "incidents": incidents }))
    }

    /// One incident's record, refusing an id of another kind.
    pub async fn incident_show(&self, id: &str) -> Result<Value, OpError> {
        let id = id.to_owned();
        self.with_ledger(move |ledger| {
            Box::pin(async move {
                let id = records::incident_id(ledger, &id).await?;
                Ok(serde_json::to_value(ledger.get(&id).await?)?)
            })
        })
        .await
    }

    /// `runway dora --format json`.
    pub async fn dora(&self, query: DoraQuery) -> Result<Value, OpError> {
        let repo = self.root.clone();
        let report = self
            .with_ledger(move |ledger| {
                Box::pin(async move { Ok(records::dora(ledger, &repo, &query).await?) })
            })
            .await?;
        Ok(serde_json::to_value(&report)?)
    }

    /// The pre-filled postmortem of an incident, in Markdown.
    pub async fn postmortem(&self, id: &str) -> Result<String, OpError> {
        let id = id.to_owned();
        self.with_ledger(move |ledger| {
            Box::pin(async move { Ok(records::postmortem(ledger, &id).await?.markdown) })
        })
        .await
    }

    /// `runway.toml` as written, with anything secret-looking replaced by `[redacted]`.
    pub fn config_text(&self) -> Option<String> {
        self.config
            .as_ref()
            .map(|l| crate::redact::config_text(&l.text))
    }

    /// Where the changelog is (`[release.changelog].path`).
    pub fn changelog_path(&self) -> PathBuf {
        self.root.join(&self.project().release().changelog.path)
    }

    /// The changelog file as it is on disk, if it exists (bounded).
    pub async fn changelog_text(&self) -> Result<Option<String>, OpError> {
        let path = self.changelog_path();
        match tokio::fs::read(&path).await {
            Ok(bytes) => {
                let cut = bytes.len().min(crate::MAX_RESOURCE_BYTES);
                Ok(Some(runway_release::redact::redact_output(
                    &String::from_utf8_lossy(&bytes[..cut]),
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(OpError::Io { path, source: e }),
        }
    }
}

/// A `since`/`until` argument: a duration back from now (`7d`, `12h`), a
/// `YYYY-MM-DD` date or an RFC 3339 time, as the CLI's `--since` takes it.
pub fn parse_when(field: &'static str, s: &str) -> Result<DateTime<Utc>, OpError> {
    records::parse_when(s).map_err(|e| OpError::Argument {
        field,
        message: format!("{e}: {}", records::WhenError::FORMS),
    })
}
