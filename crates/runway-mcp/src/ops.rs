//! Runway's read operations as JSON values, for the tools and resources.
//!
//! Each operation calls the same library function the matching command calls
//! and serialises the same type, so a tool's `structuredContent` is what
//! `runway <command> --format json` prints. Lists are wrapped in an object
//! (`{"records": [...]}`) because MCP's `structuredContent` must be one.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use runway_config::Loaded;
use runway_ledger::{Filter, Kind, Ledger, LedgerUrl};
use serde_json::{Value, json};

use crate::error::OpError;

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

    pub(crate) fn release_config(&self) -> runway_config::ReleaseConfig {
        self.config
            .as_ref()
            .map(|l| l.config.release.clone())
            .unwrap_or_default()
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
        pre: Option<&str>,
        no_surface: bool,
    ) -> Result<Value, OpError> {
        let root = self.root.clone();
        let cfg = self.release_config();
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
        let surface = match (&cfg.surface_source, no_surface) {
            (Some(src), false) => {
                let ctx = runway_verify::environment::surface_source_context(&root, src)?;
                tracing::info!("capturing the tool surface from `{}`", ctx.display);
                Some(
                    runway_verify::mcp::capture_surface(&ctx)
                        .await
                        .map_err(OpError::Surface)?,
                )
            }
            _ => None,
        };
        let st = tokio::task::spawn_blocking(move || {
            let opts = runway_release::plan::PlanOptions {
                pre,
                surface,
                ..Default::default()
            };
            runway_release::plan::status(&root, &cfg, &opts)
        })
        .await
        .map_err(|e| OpError::Internal(e.to_string()))??;
        Ok(serde_json::to_value(&st)?)
    }

    /// The changelog entry `runway release changelog` would print, without writing it.
    pub async fn changelog_preview(&self, version: Option<String>) -> Result<Value, OpError> {
        let root = self.root.clone();
        let cfg = self.release_config();
        tokio::task::spawn_blocking(move || {
            let st = runway_release::plan::status(
                &root,
                &cfg,
                &runway_release::plan::PlanOptions::default(),
            )?;
            let version = match (version, &st.next) {
                (Some(v), _) => v.trim_start_matches(cfg.tag_prefix.as_str()).to_owned(),
                (None, Some(n)) => n.clone(),
                (None, None) => {
                    return Ok(json!({
                        "version": null,
                        "text": "",
                        "warnings": [],
                        "reason": st.nothing_to_release_reason(),
                    }));
                }
            };
            let rendered = runway_release::plan::changelog_entry(
                &root,
                &cfg,
                &st,
                &version,
                &runway_release::plan::release_date(),
            );
            Ok(json!({
                "version": version,
                "text": rendered.text,
                "warnings": rendered.warnings,
                "reason": null,
            }))
        })
        .await
        .map_err(|e| OpError::Internal(e.to_string()))?
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
        self.with_ledger(move |ledger| Box::pin(async move { show(ledger, &id).await }))
            .await
    }

    /// `runway incident list --format json`, as `{"incidents": [...]}`.
    pub async fn incident_list(
        &self,
        all: bool,
        environment: Option<String>,
        since: Option<DateTime<Utc>>,
    ) -> Result<Value, OpError> {
        let filter = Filter {
            kind: Some(Kind::Incident),
            environment,
            since,
            ..Filter::default()
        };
        let mut incidents = self
            .with_ledger(move |ledger| {
                Box::pin(async move { Ok(ledger.query(&filter, false).await?) })
            })
            .await?;
        if !all {
            incidents.retain(|r| !matches!(r.status(), Some("resolved" | "closed")));
        }
        Ok(json!({ "incidents": incidents }))
    }

    /// One incident's record, refusing an id of another kind.
    pub async fn incident_show(&self, id: &str) -> Result<Value, OpError> {
        let id = id.to_owned();
        let record = self
            .with_ledger(move |ledger| Box::pin(async move { Ok(ledger.get(&id).await?) }))
            .await?;
        if record.kind != Kind::Incident {
            return Err(OpError::Argument {
                field: "id",
                message: format!("`{}` is a {}, not an incident", record.id, record.kind),
            });
        }
        Ok(serde_json::to_value(&record)?)
    }

    /// `runway dora --format json`.
    pub async fn dora(
        &self,
        environment: Option<String>,
        since: DateTime<Utc>,
    ) -> Result<Value, OpError> {
        let mut filter = Filter {
            kind: Some(Kind::Deployment),
            environment: environment.clone(),
            since: Some(since),
            ..Filter::default()
        };
        let (deployments, incidents) = self
            .with_ledger(move |ledger| {
                Box::pin(async move {
                    // A deployment's outcome and end are its latest status event: no need for the rest.
                    let deployments = ledger.query_latest(&filter).await?;
                    filter.kind = Some(Kind::Incident);
                    let incidents = ledger.query(&filter, false).await?;
                    Ok((deployments, incidents))
                })
            })
            .await?;
        let shas: std::collections::HashSet<String> = deployments
            .iter()
            .filter(|d| d.outcome() == Some(runway_ledger::Outcome::Verified))
            .filter_map(|d| d.deployment().ok().and_then(|b| b.git_sha))
            .collect();
        let repo = self.root.clone();
        let commit_times =
            tokio::task::spawn_blocking(move || runway_release::git::commit_times(&repo, &shas))
                .await
                .unwrap_or_default();
        let report = runway_ledger::dora::compute(
            &deployments,
            &incidents,
            &commit_times,
            environment.as_deref(),
            since,
            Utc::now(),
        );
        Ok(serde_json::to_value(&report)?)
    }

    /// The pre-filled postmortem of an incident, in Markdown.
    pub async fn postmortem(&self, id: &str) -> Result<String, OpError> {
        let id = id.to_owned();
        self.with_ledger(move |ledger| Box::pin(async move { postmortem(ledger, &id).await }))
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
        self.root.join(&self.release_config().changelog.path)
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

async fn show(ledger: &dyn Ledger, id: &str) -> Result<Value, OpError> {
    let record = ledger.get(id).await?;
    if record.kind == Kind::Deployment {
        let view = ledger.deployment_view(&record.id).await?;
        return Ok(serde_json::to_value(runway_ledger::DeploymentShow {
            record: &record,
            deployment_view: &view,
        })?);
    }
    Ok(serde_json::to_value(&record)?)
}

async fn postmortem(ledger: &dyn Ledger, id: &str) -> Result<String, OpError> {
    let incident = ledger.get(id).await?;
    if incident.kind != Kind::Incident {
        return Err(OpError::Argument {
            field: "id",
            message: format!("`{}` is a {}, not an incident", incident.id, incident.kind),
        });
    }
    let body = incident.incident()?;
    let (deployment, verifications) = match &body.deployment_id {
        Some(d) => {
            let dep = ledger.get(d).await?;
            let filter = Filter {
                kind: Some(Kind::Verification),
                ref_id: Some(dep.id.clone()),
                ..Filter::default()
            };
            let mut runs = ledger.query(&filter, true).await?;
            // The run the deployment names, and any a later fact names, as `incident postmortem` reads them.
            let named = dep
                .deployment()
                .ok()
                .and_then(|b| b.verification_id)
                .into_iter()
                .chain(dep.events.iter().filter_map(|e| {
                    e.data
                        .get("verification_id")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                }))
                .collect::<Vec<_>>();
            for v in named {
                if !runs.iter().any(|r| r.id == v) {
                    runs.push(ledger.get(&v).await?);
                }
            }
            (Some(dep), runs)
        }
        None => (None, Vec::new()),
    };
    Ok(runway_ledger::postmortem::render(
        &incident,
        deployment.as_ref(),
        &verifications,
    )?)
}

/// A duration back from now (`7d`, `12h`: humantime's spelling) or an RFC 3339 time.
pub fn parse_when(field: &'static str, s: &str) -> Result<DateTime<Utc>, OpError> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    const CENTURY: std::time::Duration = std::time::Duration::from_secs(100 * 365 * 86_400);
    humantime::parse_duration(s)
        .ok()
        .filter(|d| *d <= CENTURY)
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .map(|back| Utc::now() - back)
        .ok_or_else(|| OpError::Argument {
            field,
            message: format!(
                "`{s}` is not a duration (`90d`, `12h`) or an RFC 3339 time (`2026-01-31T00:00:00Z`)"
            ),
        })
}
