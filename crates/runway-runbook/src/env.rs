//! An environment ready to be changed: its config, its target, its ledger,
//! and whoever watches the progress.

use std::{path::Path, sync::Arc, time::Duration};

use runway_config::{DeployConfig, EnvironmentConfig, Loaded};
use runway_core::{Redactor, Secret};
use runway_deploy::{
    Confirm, DeployRequest, Deployed, EnvRecord, HealthWait, Target,
    analysis::{Criteria, Sample},
    gates::Verdict,
    probe::{HttpSampler, ProbeCall},
};
use runway_ledger::{DeploymentFact, Kind, Ledger, LedgerUrl, Outcome};

use crate::RunbookError;

/// What an operation reports while it runs. The binary prints these on
/// stderr; the MCP server sends them as progress notifications.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A line of progress (`deployment `ID`: 1.0.0 to staging`, `watching ...`).
    Note(&'a str),
    /// A step done, as an `aborted` record would list it.
    Step(&'a str),
    /// Every gate's verdict for a version, before anything changes.
    Gates {
        version: &'a str,
        verdicts: &'a [Verdict],
    },
    /// One watch sample (the `n`th).
    Sample { n: usize, sample: &'a Sample },
    /// Something failed on the way; the operation goes on (to a rollback, an incident).
    Problem { message: &'a str },
}

/// Receives the [`Event`]s.
pub type Observer = Arc<dyn Fn(&Event<'_>) + Send + Sync>;

/// What [`Env::open`] resolves before it takes the ledger.
struct Parts {
    config: EnvironmentConfig,
    deploy: DeployConfig,
    target: Box<dyn Target>,
    vars: Vec<(String, Secret)>,
    secret_vars: std::collections::BTreeSet<String>,
    redactor: Redactor,
    unresolved: Vec<crate::preflight::Unresolved>,
}

/// An environment ready to be changed: its config, its target, the ledger.
pub struct Env {
    pub loaded: Loaded,
    pub name: String,
    pub config: EnvironmentConfig,
    pub deploy: DeployConfig,
    pub target: Box<dyn Target>,
    pub ledger: Box<dyn Ledger>,
    /// The server's environment variables, resolved.
    pub vars: Vec<(String, Secret)>,
    /// Those of `vars` whose values are secrets (see `DeployConfig::is_secret_env`).
    pub secret_vars: std::collections::BTreeSet<String>,
    /// Hides the secrets: the secret `vars` and the environment's token. Plain
    /// settings (`MCP_HOST = "127.0.0.1"`) are not secrets and stay readable.
    pub redactor: Redactor,
    /// What the runbook needs and cannot resolve (`preflight::check` refuses on it).
    pub unresolved: Vec<crate::preflight::Unresolved>,
    observer: Observer,
}

impl Env {
    /// Opens environment `name` of `loaded` on `ledger` (whose redactor it sets).
    pub fn open(loaded: Loaded, name: &str, ledger: Box<dyn Ledger>) -> Result<Env, RunbookError> {
        Env::try_open(loaded, name, ledger).map_err(|(e, _)| e)
    }

    /// [`Env::open`] that hands `ledger` back when the environment cannot be
    /// opened, so a caller that must still write (an incident) can.
    #[allow(clippy::result_large_err)]
    pub fn try_open(
        loaded: Loaded,
        name: &str,
        ledger: Box<dyn Ledger>,
    ) -> Result<Env, (RunbookError, Box<dyn Ledger>)> {
        match Env::parts(&loaded, name) {
            Ok(p) => Ok(Env::assemble(loaded, name, ledger, p)),
            Err(e) => Err((e, ledger)),
        }
    }

    fn assemble(loaded: Loaded, name: &str, mut ledger: Box<dyn Ledger>, p: Parts) -> Env {
        ledger.set_redactor(p.redactor.clone());
        Env {
            loaded,
            name: name.to_owned(),
            config: p.config,
            deploy: p.deploy,
            target: p.target,
            ledger,
            vars: p.vars,
            secret_vars: p.secret_vars,
            redactor: p.redactor,
            unresolved: p.unresolved,
            observer: Arc::new(|_| {}),
        }
    }

    fn parts(loaded: &Loaded, name: &str) -> Result<Parts, RunbookError> {
        let config = loaded.config.environment(name).cloned().ok_or_else(|| {
            RunbookError::UnknownEnvironment {
                name: name.to_owned(),
                file: loaded.path.clone(),
                known: loaded.config.environments.keys().cloned().collect(),
            }
        })?;
        let deploy = config
            .deploy
            .clone()
            .ok_or_else(|| RunbookError::NoDeployTable {
                name: name.to_owned(),
            })?;
        let unresolved = crate::preflight::unresolved(loaded, name, &config, &deploy);
        if unresolved.iter().any(|u| u.blocks_open) {
            return Err(RunbookError::Unresolved {
                name: name.to_owned(),
                file: loaded.path.clone(),
                problems: unresolved,
            });
        }
        let mut vars = Vec::new();
        let mut secret_vars = std::collections::BTreeSet::new();
        let mut redactor = Redactor::new();
        for (k, v) in &deploy.env {
            let value = runway_config::interpolate::interpolate_env(v).map_err(|var| {
                RunbookError::UnsetVariable {
                    field: format!("environments.{name}.deploy.env.{k}"),
                    var: var.to_string(),
                }
            })?;
            let value = Secret::new(value);
            if deploy.is_secret_env(k) {
                secret_vars.insert(k.clone());
                if value.expose().len() >= 4 {
                    redactor.add(&value);
                }
            }
            vars.push((k.clone(), value));
        }
        if let Some(var) = &config.token_env
            && let Ok(t) = std::env::var(var)
            && !t.trim().is_empty()
        {
            redactor.add(&Secret::new(t.trim()));
        }
        let target = runway_deploy::open(name, &deploy, &loaded.root)?;
        Ok(Parts {
            config,
            deploy,
            target,
            vars,
            secret_vars,
            redactor,
            unresolved,
        })
    }

    /// Discovers `runway.toml` from `dir` up, opens the ledger (`ledger`, else
    /// `[ledger] url`, else `.runway/ledger.db` in the project) and then
    /// environment `name`: what `runway mcp` calls for a workspace root.
    pub async fn open_at(
        dir: &Path,
        name: &str,
        ledger: Option<&LedgerUrl>,
    ) -> Result<Env, RunbookError> {
        let loaded =
            runway_config::Config::discover(dir)?.ok_or_else(|| RunbookError::NoConfig {
                dir: dir.to_owned(),
            })?;
        let url = match ledger {
            Some(u) => u.clone(),
            None => crate::project::configured_ledger_url(&loaded)?,
        };
        let ledger =
            runway_ledger::open_for_project(&url, &loaded.root, Default::default()).await?;
        Env::open(loaded, name, ledger)
    }

    /// Sends progress to `observer` from now on.
    pub fn observe(&mut self, observer: Observer) {
        self.observer = observer;
    }

    pub(crate) fn emit(&self, e: Event<'_>) {
        (self.observer)(&e);
    }

    pub(crate) fn note(&self, text: impl AsRef<str>) {
        self.emit(Event::Note(text.as_ref()));
    }

    pub(crate) fn problem(&self, text: impl AsRef<str>) {
        self.emit(Event::Problem {
            message: text.as_ref(),
        });
    }

    /// The MCP endpoint.
    pub fn mcp_url(&self) -> Result<runway_verify::url::Url, RunbookError> {
        let raw = self
            .config
            .url
            .as_deref()
            .ok_or_else(|| RunbookError::NoUrl {
                name: self.name.clone(),
            })?;
        let url = runway_config::interpolate::interpolate_env(raw).map_err(|var| {
            RunbookError::UnsetVariable {
                field: format!("environments.{}.url", self.name),
                var: var.to_string(),
            }
        })?;
        Ok(runway_verify::environment::parse_url(&url)?)
    }

    /// The health endpoint: `health_path` (a path on the MCP URL's origin, or a URL), default `/health`.
    pub fn health_url(&self) -> Option<runway_verify::url::Url> {
        let path = self.config.health_path.as_deref().unwrap_or("/health");
        if path.starts_with("http://") || path.starts_with("https://") {
            return runway_verify::url::Url::parse(path).ok();
        }
        self.mcp_url().ok()?.join(path).ok()
    }

    /// How readiness is judged: the health endpoint; without one configured,
    /// `/health` if the server serves it, else the MCP handshake (either era).
    pub fn health_wait(&self, timeout: Duration, interval: Duration) -> HealthWait {
        HealthWait {
            url: self.health_url(),
            health_optional: self.config.health_path.is_none(),
            mcp: self.mcp_url().ok(),
            token: self.token(),
            auth_header: self.config.auth_header.clone(),
            timeout,
            interval,
        }
    }

    fn token(&self) -> Option<Secret> {
        let var = self.config.token_env.as_ref()?;
        std::env::var(var)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .map(|t| Secret::new(t.trim()))
    }

    /// `env` with `{version}`, `{port}`, `{image}` and `{sha}` filled in, as
    /// the command's are.
    pub fn with_placeholders(
        &self,
        env: &[(String, Secret)],
        version: &str,
        sha: Option<&str>,
    ) -> Vec<(String, Secret)> {
        let vars = runway_deploy::child::Vars {
            version: version.to_owned(),
            port: self.deploy.port,
            image: self.image(version),
            sha: sha.map(str::to_owned),
        };
        env.iter()
            .map(|(k, v)| (k.clone(), Secret::new(vars.apply(v.expose()))))
            .collect()
    }

    /// How the server's environment is kept with a deployment: plain values
    /// as resolved, secrets as the `${VAR}` text of `runway.toml`.
    pub fn env_record(&self) -> EnvRecord {
        let mut r = EnvRecord::default();
        for (k, v) in &self.vars {
            if self.secret_vars.contains(k) {
                let from = self.deploy.env.get(k).cloned().unwrap_or_default();
                r.secret.insert(k.clone(), from);
            } else {
                r.plain.insert(k.clone(), v.expose().to_owned());
            }
        }
        r
    }

    /// The request that puts `version` back with the environment `to` was
    /// deployed with (its [`EnvRecord`]): plain values as recorded, secrets
    /// read again from their variables. Without a record (a deployment made
    /// before Runway kept one), the environment of `runway.toml` as it is now.
    pub fn restoring(
        &self,
        to: &Deployed,
        confirm: Confirm,
    ) -> Result<(DeployRequest, Vec<String>), RunbookError> {
        let mut request = self.request(&to.version, self.git_sha(&to.version), confirm);
        let mut restored = Vec::new();
        if let Some(cmd) = to.detail.get("command").and_then(|c| c.as_array()) {
            let argv: Vec<String> = cmd
                .iter()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect();
            restored.push(format!(
                "command `{}`",
                runway_deploy::child::display(&argv)
            ));
        }
        if let Some(i) = &to.image {
            restored.push(format!("image `{i}`"));
        }
        if let Some(d) = &to.digest {
            restored.push(format!("digest {d}"));
        }
        let Some(record) = EnvRecord::of(to) else {
            if !self.vars.is_empty() {
                restored.push(format!(
                    "environment of runway.toml as it is now ({} recorded none)",
                    to.version
                ));
            }
            return Ok((request, restored));
        };
        let mut env = Vec::new();
        let mut redactor = self.redactor.clone();
        for (k, v) in &record.plain {
            env.push((k.clone(), Secret::new(v.clone())));
        }
        for (k, from) in &record.secret {
            let value = runway_config::interpolate::interpolate_env(from).map_err(|var| {
                RunbookError::UnsetVariable {
                    field: format!(
                        "the secret `{k}` that {} was deployed with (from `{from}`)",
                        to.version
                    ),
                    var: var.to_string(),
                }
            })?;
            let value = Secret::new(value);
            if value.expose().len() >= 4 {
                redactor.add(&value);
            }
            env.push((k.clone(), value));
        }
        env.sort_by(|a, b| a.0.cmp(&b.0));
        restored.extend(record.lines().into_iter().map(|l| format!("env {l}")));
        request.env = self.with_placeholders(&env, &to.version, request.sha.as_deref());
        request.env_record = record;
        request.redactor = redactor;
        Ok((request, restored))
    }

    /// The request that puts `version` in place.
    pub fn request(&self, version: &str, sha: Option<String>, confirm: Confirm) -> DeployRequest {
        DeployRequest {
            environment: self.name.clone(),
            version: version.to_owned(),
            image: self.image(version),
            env: self.with_placeholders(&self.vars, version, sha.as_deref()),
            sha,
            env_record: self.env_record(),
            redactor: self.redactor.clone(),
            port: self.deploy.port,
            health: self.health_wait(self.deploy.health_timeout(), Duration::from_millis(200)),
            confirm,
            steps: runway_deploy::Steps::none(),
        }
    }

    /// The image `version` runs as, when the target has one.
    pub fn image(&self, version: &str) -> Option<String> {
        self.deploy
            .image
            .as_ref()
            .map(|t| t.replace("{version}", version))
    }

    pub fn criteria(&self, bake: Option<Duration>) -> Criteria {
        let c = Criteria::from_config(self.config.analysis.as_ref());
        match bake {
            Some(b) => c.with_bake(b),
            None => c,
        }
    }

    /// [`attach_target_sources`] for this environment.
    pub(crate) fn with_logs(
        &self,
        s: runway_signals::Sources,
    ) -> Result<runway_signals::Sources, RunbookError> {
        attach_target_sources(&self.name, Some(&self.deploy), &self.loaded.root, s)
    }

    /// The traffic conditions of `[analysis]` with their sources, judging
    /// `version`; `previous` is the version the baselines are read for.
    /// `None` when there are none.
    pub fn sources(
        &self,
        version: &str,
        previous: Option<&str>,
    ) -> Result<Option<runway_signals::Sources>, RunbookError> {
        let mut sources = sources_of(
            &self.loaded,
            &self.name,
            &self.config,
            self.mcp_url().ok(),
            version,
            previous,
        )?;
        if let Some(s) = sources.take() {
            sources = Some(self.with_logs(s)?);
        }
        Ok(sources)
    }

    /// One progress line per condition judged at a watch tick.
    pub(crate) fn note_evaluations(&self, evals: &[runway_signals::Evaluation]) {
        for e in evals {
            self.note(format!(
                "    condition `{}` ({}): {}: {}",
                e.condition,
                e.source.as_str(),
                if e.error { "error" } else { e.verdict.as_str() },
                e.message
            ));
        }
    }

    /// One progress line per condition over the whole watch.
    pub(crate) fn note_conditions(&self, out: &runway_deploy::analysis::WatchOutcome) {
        for c in &out.conditions {
            self.note(format!(
                "  condition `{}` ({}): {} ({} passed, {} failed, {} empty, {} errors{})",
                c.condition,
                c.source.as_str(),
                c.verdict.as_str(),
                c.passed,
                c.failed,
                c.empty,
                c.errors,
                c.last_value
                    .map(|v| format!(", last {}", runway_signals::num(v)))
                    .unwrap_or_default()
            ));
        }
    }

    pub fn sampler(&self) -> Result<HttpSampler, RunbookError> {
        Ok(HttpSampler {
            health: self.health_url(),
            health_optional: self.config.health_path.is_none(),
            probe: self
                .config
                .analysis
                .as_ref()
                .map(|a| a.probe)
                .unwrap_or_default(),
            mcp: self.mcp_url()?,
            token: self.token(),
            auth_header: self.config.auth_header.clone(),
            call: self
                .config
                .analysis
                .as_ref()
                .and_then(|a| a.call.as_ref())
                .map(|c| ProbeCall {
                    tool: c.tool.clone(),
                    arguments: c.arguments.clone(),
                }),
            timeout: Duration::from_secs(10),
            redactor: self.redactor.clone(),
            reuse: Default::default(),
        })
    }

    /// The release tag's commit, when the project is a git repository with that tag.
    /// The environment's settings as they are now, for the deployment's
    /// record (secret values only as digests; see [`crate::scope`]).
    pub async fn settings(
        &self,
    ) -> Result<std::collections::BTreeMap<String, String>, RunbookError> {
        // Keyed by the ledger's own key: the ledger cannot confirm guesses.
        let mut digests = std::collections::BTreeMap::new();
        for (k, v) in self
            .vars
            .iter()
            .filter(|(k, _)| self.secret_vars.contains(k))
        {
            digests.insert(k.clone(), self.ledger.settings_digest(v.expose()).await?);
        }
        Ok(crate::scope::settings(
            &self.loaded.text,
            &self.name,
            &self.vars,
            &digests,
        ))
    }

    pub fn git_sha(&self, version: &str) -> Option<String> {
        let tag = format!("{}{version}", self.loaded.config.release.tag_prefix);
        runway_release::git::tag_commit(&self.loaded.root, &tag)
            .ok()
            .flatten()
    }

    /// Runs the environment's verify suite, expecting `version` on the wire, and records it.
    pub async fn verify(
        &self,
        version: &str,
        deployment: &str,
    ) -> Result<(runway_core::Report, String), RunbookError> {
        let mut c = runway_verify::Context::for_environment(&self.loaded, &self.name, None)?;
        c.expect.version = match self.config.expect_version.as_deref() {
            None => Some(version.to_owned()),
            Some(v) if v.trim().is_empty() => None,
            Some(v) if v.contains("{version}") => Some(
                runway_config::interpolate::interpolate_env(v)
                    .map_err(|var| {
                        RunbookError::Config(self.loaded.error_at(
                            &format!("environments.{}.expect_version", self.name),
                            format!("environment variable `{var}` is not set"),
                        ))
                    })?
                    .replace("{version}", version),
            ),
            // A fixed expectation, already read by the verify settings.
            Some(_) => c.expect.version.take(),
        };
        let report = runway_verify::engine::run(&c).await;
        let id = self
            .ledger
            .record_verification_of(&report, &self.name, Some(deployment), Some(version))
            .await?;
        Ok((report, id))
    }

    /// The deployments of this environment, newest first (at most 50).
    pub async fn history(&self) -> Result<Vec<runway_ledger::DeploymentView>, RunbookError> {
        let filter = runway_ledger::Filter {
            kind: Some(Kind::Deployment),
            environment: Some(self.name.clone()),
            ..runway_ledger::Filter::default()
        };
        let mut out = Vec::new();
        for r in self
            .ledger
            .query(&filter, false)
            .await?
            .iter()
            .rev()
            .take(50)
        {
            out.push(self.ledger.deployment_view(&r.id).await?);
        }
        Ok(out)
    }

    /// What to roll back to when `leaving` (the version being deployed or
    /// judged, with this environment's settings) fails: what runs now, else
    /// the newest verified deployment's target state; never a state the
    /// same as the one being left. The same version with other settings is
    /// a different state: when only `deploy.env` changed, the rollback puts
    /// the same version back with its old environment, not an older version.
    pub async fn rollback_point(
        &self,
        leaving: Option<&str>,
    ) -> Result<Option<Deployed>, RunbookError> {
        let settings = self.env_record();
        self.rollback_point_from(leaving.map(|v| (v, &settings)))
            .await
    }

    /// [`Env::rollback_point`] when the state being left is known as
    /// deployed (a held deployment's recorded version and environment),
    /// not as `runway.toml` says now.
    pub async fn rollback_point_from(
        &self,
        leaving: Option<(&str, &EnvRecord)>,
    ) -> Result<Option<Deployed>, RunbookError> {
        let same = |d: &Deployed| {
            leaving.is_some_and(|(version, env)| {
                // A state that keeps no environment (a target that does not
                // report one) is told apart by its version alone.
                d.version == version && EnvRecord::of(d).is_none_or(|e| e == *env)
            })
        };
        if let Some(d) = self.target.current().await?
            && !same(&d)
        {
            return Ok(Some(d));
        }
        for v in self.history().await? {
            if v.status == Outcome::Verified.as_str()
                && let Some(d) = recorded_target(&v)
                && !same(&d)
            {
                return Ok(Some(d));
            }
        }
        Ok(None)
    }
}

/// The target's own description of a deployed version, as recorded.
pub fn recorded_target(v: &runway_ledger::DeploymentView) -> Option<Deployed> {
    let detail = v.deployed.as_ref()?.detail.as_deref()?;
    serde_json::from_str(detail).ok()
}

pub(crate) fn deployed_fact(d: &Deployed) -> DeploymentFact {
    DeploymentFact::Deployed(runway_ledger::Deployed {
        version: Some(d.version.clone()),
        image: d.image.clone(),
        digest: d.digest.clone(),
        revision: d.revision.clone(),
        detail: serde_json::to_string(d).ok(),
    })
}

/// Puts the target's output behind the `logs` conditions and its process
/// group behind the `resources` ones: each reads a target of its own (a
/// watch's source outlives no borrow), opened from `deploy`. Without a
/// `deploy` table they stay without a source (error readings).
pub fn attach_target_sources(
    name: &str,
    deploy: Option<&DeployConfig>,
    root: &std::path::Path,
    mut s: runway_signals::Sources,
) -> Result<runway_signals::Sources, RunbookError> {
    use runway_config::sources::SourceKind;
    let Some(deploy) = deploy else {
        return Ok(s);
    };
    if s.wants(SourceKind::Logs) {
        let feed = runway_deploy::logs::TargetLogs::new(runway_deploy::open(name, deploy, root)?);
        s = s.with_source(
            SourceKind::Logs,
            Box::new(runway_signals::logs::LogsSource::new(
                Box::new(feed),
                runway_signals::logs::DEFAULT_MAX_BYTES,
            )),
            4,
        );
    }
    // `resources`: the process and docker targets (`runway.toml` refuses it for others).
    if s.wants(SourceKind::Resources) {
        let feed: Box<dyn runway_signals::resources::ResourceFeed> = match deploy.target {
            runway_config::TargetKind::Docker => {
                Box::new(runway_deploy::resources::DockerResources::new(
                    runway_deploy::docker::DockerTarget::new(
                        runway_deploy::docker::DockerSettings::from_config(name, deploy)?,
                    ),
                ))
            }
            _ => Box::new(runway_deploy::resources::ProcessResources::new(
                runway_deploy::open(name, deploy, root)?,
            )),
        };
        s = s.with_source(
            SourceKind::Resources,
            Box::new(runway_signals::resources::ResourcesSource::new(feed)),
            4,
        );
    }
    Ok(s)
}

/// [`Env::sources`] for environment `name` of `loaded` (`config`), whose MCP
/// endpoint is `mcp_url`: the watch's and `triage`'s alike.
pub(crate) fn sources_of(
    loaded: &Loaded,
    name: &str,
    config: &EnvironmentConfig,
    mcp_url: Option<runway_verify::url::Url>,
    version: &str,
    previous: Option<&str>,
) -> Result<Option<runway_signals::Sources>, RunbookError> {
    let Some(a) = config.analysis.as_ref() else {
        return Ok(None);
    };
    if a.conditions.is_empty() {
        return Ok(None);
    }
    let mut a = a.clone();
    let interpolate = |field: &str, raw: &str| {
        runway_config::interpolate::interpolate_env(raw).map_err(|var| {
            RunbookError::UnsetVariable {
                field: format!("environments.{}.analysis.{field}", name),
                var: var.to_string(),
            }
        })
    };
    if let Some(m) = a.metrics.as_mut()
        && let Some(u) = &m.url
    {
        m.url = Some(interpolate("metrics.url", u)?);
    }
    if let Some(p) = a.prometheus.as_mut() {
        p.url = interpolate("prometheus.url", &p.url)?;
        // Relative to `runway.toml`, wherever Runway runs from.
        if let Some(f) = &p.token_file {
            p.token_file = Some(loaded.root.join(f).display().to_string());
        }
    }
    let path = config.metrics_path.as_deref().unwrap_or("/metrics");
    let default_metrics = if path.starts_with("http://") || path.starts_with("https://") {
        runway_verify::url::Url::parse(path).ok()
    } else {
        mcp_url.and_then(|u| u.join(path).ok())
    };
    let vars = runway_signals::prometheus::Vars {
        version: version.to_owned(),
        previous_version: previous.map(str::to_owned),
        environment: name.to_owned(),
    };
    runway_signals::Sources::from_config(&a, default_metrics, vars)
        .map(Some)
        .map_err(|e| RunbookError::Analysis {
            name: name.to_owned(),
            message: e.to_string(),
        })
}
