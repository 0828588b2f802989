//! The deploy runbook, wired: runway-deploy's target, gates and watch,
//! runway-verify's suite, runway-release's check at the tag, and the ledger.
//!
//! The libraries never import each other, so the sequence that uses all of
//! them (gates → record → deploy → verify → watch → roll back → incident →
//! end) lives here, with each step's result written to the ledger as it
//! happens. A deployment always ends with a record: on Ctrl-C or SIGTERM the
//! step in flight is dropped and the deployment ends `aborted` with the steps
//! that were done. The environment's deploy lock (the ledger's, so it holds
//! across machines on PostgreSQL) is held from the gates to the end.

use std::{
    io::{BufRead, IsTerminal, Write},
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Context as _;
use runway_config::{DeployConfig, EnvironmentConfig, Loaded};
use runway_core::{Redactor, Secret, Severity};
use runway_deploy::{
    Confirm, DeployRequest, Deployed, HealthWait, Target,
    analysis::{self, Criteria, WatchOutcome},
    gates::{self, Emergency, GateStatus, IncidentFacts, Verdict},
    probe::{HttpSampler, ProbeCall},
};
use runway_ledger::{
    AnalysisVerdict, Changes, Deployment, DeploymentEnd, DeploymentFact, GateRecord, GateVerdict,
    IncidentStatus, Kind, Ledger, Outcome, RollbackDecision, WindowDecision,
};
use tokio::sync::watch;

use crate::{cmd::Ctx, error::UsageError};

/// How long the deploy lock's lease lasts between heartbeats.
const LOCK_TTL: Duration = Duration::from_secs(30);

/// An environment ready to be changed: its config, its target, the ledger.
pub struct Env {
    pub loaded: Loaded,
    pub name: String,
    pub config: EnvironmentConfig,
    pub deploy: DeployConfig,
    pub target: Box<dyn Target>,
    pub ledger: Box<dyn Ledger>,
    /// The server's environment variables (values are secrets).
    pub vars: Vec<(String, Secret)>,
    pub redactor: Redactor,
}

impl Env {
    pub async fn open(
        ctx: &Ctx,
        name: &str,
        ledger: &crate::cmd::ledger::LedgerOpt,
    ) -> anyhow::Result<Env> {
        let loaded = ctx.config()?.ok_or_else(|| {
            UsageError::new("there is no `runway.toml` here or in a parent directory")
                .with_hint("run `runway init`, or pass `-C DIR` for the project")
        })?;
        let config = loaded.config.environment(name).cloned().ok_or_else(|| {
            let known: Vec<String> = loaded.config.environments.keys().cloned().collect();
            UsageError::new(format!(
                "`{name}` is not an environment of `{}`",
                loaded.path.display()
            ))
            .with_hint(if known.is_empty() {
                "add `[environments.NAME]` with a `deploy` table (see docs/environments.md)"
                    .to_owned()
            } else {
                format!("known environments: {}", known.join(", "))
            })
        })?;
        let deploy = config.deploy.clone().ok_or_else(|| {
            UsageError::new(format!(
                "environment `{name}` has no `[environments.{name}.deploy]` table"
            ))
            .with_hint("say how it is deployed: `target = \"process\"` with `command`, or `target = \"command\"` with `deploy` (docs/environments.md)")
        })?;
        let mut vars = Vec::new();
        for (k, v) in &deploy.env {
            let value = runway_config::interpolate::interpolate_env(v).map_err(|var| {
                UsageError::new(format!(
                    "`environments.{name}.deploy.env.{k}` uses `${{{var}}}`, which is not set"
                ))
                .with_hint(format!("export `{var}` before deploying"))
            })?;
            vars.push((k.clone(), Secret::new(value)));
        }
        let mut redactor = runway_deploy::child::redactor_for(&vars);
        if let Some(var) = &config.token_env
            && let Ok(t) = std::env::var(var)
            && !t.trim().is_empty()
        {
            redactor.add(&Secret::new(t.trim()));
        }
        let target = runway_deploy::open(name, &deploy, &loaded.root).map_err(|e| {
            anyhow::anyhow!(
                UsageError::new(e.to_string())
                    .with_hint(runway_core::Diagnostic::hint(&e).unwrap_or_default())
            )
        })?;
        let mut ledger = crate::cmd::ledger::open_ledger(ctx, ledger).await?;
        ledger.set_redactor(redactor.clone());
        Ok(Env {
            loaded,
            name: name.to_owned(),
            config,
            deploy,
            target,
            ledger,
            vars,
            redactor,
        })
    }

    /// The MCP endpoint.
    pub fn mcp_url(&self) -> anyhow::Result<runway_verify::url::Url> {
        let raw = self.config.url.as_deref().ok_or_else(|| {
            UsageError::new(format!("environment `{}` has no `url`", self.name))
                .with_hint("add `url = \"http://127.0.0.1:PORT/mcp\"` so Runway can verify it")
        })?;
        let url = runway_config::interpolate::interpolate_env(raw).map_err(|var| {
            UsageError::new(format!(
                "`environments.{}.url` uses `${{{var}}}`, which is not set",
                self.name
            ))
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

    fn token(&self) -> Option<Secret> {
        let var = self.config.token_env.as_ref()?;
        std::env::var(var)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .map(|t| Secret::new(t.trim()))
    }

    /// The request that puts `version` in place.
    pub fn request(&self, version: &str, sha: Option<String>, confirm: Confirm) -> DeployRequest {
        let image = self
            .deploy
            .image
            .as_ref()
            .map(|t| t.replace("{version}", version));
        DeployRequest {
            environment: self.name.clone(),
            version: version.to_owned(),
            image,
            sha,
            env: self.vars.clone(),
            port: self.deploy.port,
            health: HealthWait {
                url: self.health_url(),
                timeout: self.deploy.health_timeout(),
                interval: Duration::from_millis(200),
            },
            confirm,
        }
    }

    pub fn criteria(&self, bake: Option<Duration>) -> Criteria {
        let c = Criteria::from_config(self.config.analysis.as_ref());
        match bake {
            Some(b) => c.with_bake(b),
            None => c,
        }
    }

    /// The traffic conditions of `[analysis]` with their sources, judging
    /// `version`; `previous` is the version the baselines are read for.
    /// `None` when there are none.
    pub fn sources(
        &self,
        version: &str,
        previous: Option<&str>,
    ) -> anyhow::Result<Option<runway_deploy::source::Sources>> {
        let Some(a) = self.config.analysis.as_ref() else {
            return Ok(None);
        };
        if a.conditions.is_empty() {
            return Ok(None);
        }
        let mut a = a.clone();
        let interpolate = |field: &str, raw: &str| -> anyhow::Result<String> {
            runway_config::interpolate::interpolate_env(raw).map_err(|var| {
                UsageError::new(format!(
                    "`environments.{}.analysis.{field}` uses `${{{var}}}`, which is not set",
                    self.name
                ))
                .into()
            })
        };
        if let Some(m) = a.metrics.as_mut()
            && let Some(u) = &m.url
        {
            m.url = Some(interpolate("metrics.url", u)?);
        }
        if let Some(p) = a.prometheus.as_mut() {
            p.url = interpolate("prometheus.url", &p.url)?;
        }
        let path = self.config.metrics_path.as_deref().unwrap_or("/metrics");
        let default_metrics = if path.starts_with("http://") || path.starts_with("https://") {
            runway_verify::url::Url::parse(path).ok()
        } else {
            self.mcp_url().ok().and_then(|u| u.join(path).ok())
        };
        let vars = runway_deploy::source::prometheus::Vars {
            version: version.to_owned(),
            previous_version: previous.map(str::to_owned),
            environment: self.name.clone(),
        };
        runway_deploy::source::Sources::from_config(&a, default_metrics, vars)
            .map(Some)
            .map_err(|e| {
                UsageError::new(e)
                    .with_hint("see `[environments.<name>.analysis]` in docs/environments.md")
                    .into()
            })
    }

    pub fn sampler(&self) -> anyhow::Result<HttpSampler> {
        Ok(HttpSampler {
            health: self.health_url(),
            mcp: self.mcp_url()?,
            token: self.token(),
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
        })
    }

    /// The release tag's commit, when the project is a git repository with that tag.
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
    ) -> anyhow::Result<(runway_core::Report, String)> {
        let mut c = runway_verify::Context::for_environment(&self.loaded, &self.name, None)?;
        c.expect.version = Some(version.to_owned());
        let report = runway_verify::engine::run(&c).await;
        let id = self
            .ledger
            .record_verification(&report, &self.name, Some(deployment))
            .await?;
        Ok((report, id))
    }

    /// The deployments of this environment, newest first.
    pub async fn history(&self) -> anyhow::Result<Vec<runway_ledger::DeploymentView>> {
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

    /// What to roll back to: what runs now, else the newest verified deployment's target state.
    pub async fn rollback_point(
        &self,
        exclude_version: Option<&str>,
    ) -> anyhow::Result<Option<Deployed>> {
        if let Some(d) = self.target.current().await?
            && Some(d.version.as_str()) != exclude_version
        {
            return Ok(Some(d));
        }
        for v in self.history().await? {
            if v.status == Outcome::Verified.as_str()
                && Some(v.deployment.release.as_str()) != exclude_version
                && let Some(d) = recorded_target(&v)
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

fn deployed_fact(d: &Deployed) -> DeploymentFact {
    DeploymentFact::Deployed(runway_ledger::Deployed {
        image: d.image.clone(),
        digest: d.digest.clone(),
        revision: d.revision.clone(),
        detail: serde_json::to_string(d).ok(),
    })
}

/// How a manual step is confirmed: `--yes`, a terminal, or not at all.
pub fn confirm(yes: bool) -> Confirm {
    if yes {
        return Confirm::Assume;
    }
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        return Confirm::Ask(Arc::new(|instructions: &str| {
            eprint!("manual step: {instructions}\ntype `yes` once it is done: ");
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).is_ok()
                && matches!(line.trim(), "yes" | "y")
        }));
    }
    Confirm::Refuse
}

/// The flags the gates read.
#[derive(Debug, Clone, Default)]
pub struct GateInput {
    pub version: String,
    pub approvers: Vec<String>,
    pub emergency: Option<String>,
}

/// Judges every gate for `input.version`; `previous` is the rollback artifact.
pub async fn judge(env: &Env, input: &GateInput, previous: Option<&Deployed>) -> Vec<Verdict> {
    let gates_cfg = env.config.gates.as_ref();
    let operator = env.ledger.operator().to_owned();
    let mut v = Vec::new();

    let problems = if gates_cfg.is_none_or(|g| g.release_check()) {
        Some(
            match runway_release::plan::check_at_tag(
                &env.loaded.root,
                &env.loaded.config.release,
                &input.version,
            ) {
                Ok(rows) => rows
                    .into_iter()
                    .filter(|r| r.status == runway_release::plan::RowStatus::Fail)
                    .map(|r| r.detail)
                    .collect::<Vec<_>>(),
                Err(e) => vec![e.to_string()],
            },
        )
    } else {
        None
    };
    v.push(gates::release_check(
        gates_cfg,
        &input.version,
        problems.as_deref(),
    ));

    let emergency = match &input.emergency {
        None => None,
        Some(id) => {
            let facts = match env.ledger.get(id).await {
                Ok(r) if r.kind == Kind::Incident => r.incident().ok().map(|i| IncidentFacts {
                    severity: i.severity,
                    open: !matches!(
                        r.status(),
                        Some(s) if s == IncidentStatus::Resolved.as_str() || s == IncidentStatus::Closed.as_str()
                    ),
                }),
                _ => None,
            };
            Some(Emergency {
                incident: id.clone(),
                facts,
            })
        }
    };
    v.push(gates::window(
        env.config.window.as_ref(),
        jiff::Timestamp::now(),
        emergency.as_ref(),
        &input.approvers,
        &operator,
    ));
    v.push(gates::approvals(gates_cfg, &input.approvers, &operator));
    v.push(gates::required_env(gates_cfg, |name| {
        std::env::var(name).is_ok_and(|x| !x.is_empty())
    }));
    let root = env.loaded.root.clone();
    v.push(gates::secret_files(gates_cfg, |f| {
        std::fs::File::open(root.join(f))
            .map(|_| ())
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => "not found".to_owned(),
                std::io::ErrorKind::PermissionDenied => "not readable".to_owned(),
                _ => e.to_string(),
            })
    }));
    let check = match previous {
        Some(p) => Some(env.target.check_artifact(p).await),
        None => None,
    };
    v.push(gates::rollback_artifact(
        previous.map(|p| p.version.as_str()),
        check.as_ref(),
    ));
    v
}

fn gate_records(verdicts: &[Verdict]) -> Vec<GateRecord> {
    verdicts
        .iter()
        .map(|v| {
            let (verdict, detail) = match v.status {
                GateStatus::Pass => (GateVerdict::Pass, v.detail.clone()),
                GateStatus::Warn => (GateVerdict::Pass, format!("warning: {}", v.detail)),
                GateStatus::Skipped => (GateVerdict::Pass, format!("skipped: {}", v.detail)),
                GateStatus::Overridden => (GateVerdict::Overridden, v.detail.clone()),
                GateStatus::Refuse => (GateVerdict::Refused, v.detail.clone()),
            };
            GateRecord::new(v.gate.clone(), verdict, detail)
        })
        .collect()
}

fn window_decision(verdicts: &[Verdict], input: &GateInput) -> WindowDecision {
    let Some(w) = verdicts.iter().find(|v| v.gate == "window") else {
        return WindowDecision::NoWindow;
    };
    match w.status {
        GateStatus::Skipped => WindowDecision::NoWindow,
        GateStatus::Pass => WindowDecision::Inside {
            window: w.detail.clone(),
        },
        GateStatus::Warn => WindowDecision::Override {
            window: w.detail.clone(),
            reason: "`window.outside = \"warn\"`".into(),
        },
        GateStatus::Overridden => WindowDecision::Emergency {
            window: Some(w.detail.clone()),
            incident: input.emergency.clone().unwrap_or_default(),
            approver: input.approvers.first().cloned().unwrap_or_default(),
        },
        GateStatus::Refuse => WindowDecision::Outside {
            window: w.detail.clone(),
            reason: w.hint.clone().unwrap_or_default(),
        },
    }
}

/// Prints the verdicts, one per line, on stderr.
pub fn print_verdicts(verdicts: &[Verdict]) {
    for v in verdicts {
        eprintln!(
            "  gate {:<18} {:<10} {}",
            v.gate,
            v.status.as_str(),
            v.detail
        );
        if v.refuses()
            && let Some(h) = &v.hint
        {
            eprintln!("{:>32}hint: {h}", "");
        }
    }
}

/// Ctrl-C or SIGTERM, as a value that flips once.
pub fn shutdown_signal() -> watch::Receiver<Option<&'static str>> {
    let (tx, rx) = watch::channel(None);
    tokio::spawn(async move {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        let which = tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            () = term => "SIGTERM",
        };
        let _ = tx.send(Some(which));
    });
    rx
}

async fn signalled(mut rx: watch::Receiver<Option<&'static str>>) -> &'static str {
    loop {
        if let Some(s) = *rx.borrow() {
            return s;
        }
        if rx.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

/// What `deploy` and `ship` were asked to do.
#[derive(Debug, Clone)]
pub struct Run {
    pub gates: GateInput,
    pub yes: bool,
    /// `ship`: watch the bake window after the verify.
    pub watch: bool,
    pub bake: Option<Duration>,
}

/// The steps done so far, for an `aborted` record.
type Done = Arc<Mutex<Vec<String>>>;

fn did(done: &Done, step: impl Into<String>) {
    let step = step.into();
    eprintln!("  {step}");
    done.lock().unwrap_or_else(|p| p.into_inner()).push(step);
}

/// `deploy` or `ship` to the end: returns the exit code.
pub async fn deploy(env: &Env, run: &Run) -> anyhow::Result<runway_core::Exit> {
    let version = run.gates.version.clone();
    let holder = format!(
        "{}@{} (pid {})",
        env.ledger.operator(),
        hostname(),
        std::process::id()
    );
    let lock = match env
        .ledger
        .acquire_deploy_lock(&env.name, &holder, LOCK_TTL)
        .await
    {
        Ok(l) => l,
        Err(e @ runway_ledger::LedgerError::Locked { .. }) => {
            eprintln!("{} {e}", crate::term::error_label());
            eprintln!(
                "{} wait for it to finish (`runway status {}`), then deploy again",
                crate::term::hint_label(),
                env.name
            );
            return Ok(runway_core::Exit::Failed);
        }
        Err(e) => return Err(e.into()),
    };
    let result = deploy_locked(env, run, &version).await;
    let _ = lock.release().await;
    result
}

async fn deploy_locked(env: &Env, run: &Run, version: &str) -> anyhow::Result<runway_core::Exit> {
    let previous = env.rollback_point(Some(version)).await?;
    eprintln!("gates for {version} to {}:", env.name);
    let verdicts = judge(env, &run.gates, previous.as_ref()).await;
    print_verdicts(&verdicts);
    if gates::refused(&verdicts) {
        eprintln!(
            "{} a gate refused the deployment of {version} to `{}`; nothing was changed",
            crate::term::error_label(),
            env.name
        );
        return Ok(runway_core::Exit::Failed);
    }

    let sha = env.git_sha(version);
    let history = env.history().await?;
    let last = history.first();
    let mut record = Deployment::new(&env.name, version);
    record.git_sha = sha.clone();
    record.image_tag = env
        .deploy
        .image
        .as_ref()
        .map(|t| t.replace("{version}", version));
    record.approver = (!run.gates.approvers.is_empty()).then(|| run.gates.approvers.join(", "));
    record.window = window_decision(&verdicts, &run.gates);
    record.gates = gate_records(&verdicts);
    record.target = Some(env.deploy.target.as_str().to_owned());
    record.changes = last.map(|l| Changes {
        previous_deployment: Some(l.id.clone()),
        previous_version: Some(l.deployment.release.clone()),
        previous_git_sha: l.deployment.git_sha.clone(),
        code: code_changes(env, l.deployment.git_sha.as_deref(), sha.as_deref()),
        config: Vec::new(),
    });
    let id = env.ledger.record_deployment(&record).await?;
    eprintln!("deployment `{id}`: {version} to {}", env.name);

    let done: Done = Arc::new(Mutex::new(vec!["gates passed".to_owned()]));
    let shutdown = shutdown_signal();
    let flow = steps(env, run, version, &id, previous.as_ref(), &done);
    // The signal is polled first, so a step that notices it too never wins the race.
    tokio::select! {
        biased;
        sig = signalled(shutdown) => {
            let mut end = DeploymentEnd::new(Outcome::Aborted);
            end.reason = Some(format!("interrupted by {sig}"));
            end.done = done.lock().unwrap_or_else(|p| p.into_inner()).clone();
            env.ledger.finish_deployment(&id, &end).await?;
            eprintln!("{} deployment `{id}` aborted by {sig}; recorded what was done", crate::term::error_label());
            Ok(runway_core::Exit::Failed)
        }
        r = flow => r,
    }
}

/// `git log --format='%h %s' from..to`, bounded to 200 lines; empty without both commits.
fn code_changes(env: &Env, from: Option<&str>, to: Option<&str>) -> Vec<String> {
    let (Some(from), Some(to)) = (from, to) else {
        return Vec::new();
    };
    let range = format!("{from}..{to}");
    runway_release::git::run(
        &env.loaded.root,
        &["log", "--format=%h %s", "--max-count=200", &range],
    )
    .map(|out| out.lines().map(str::to_owned).collect())
    .unwrap_or_default()
}

async fn steps(
    env: &Env,
    run: &Run,
    version: &str,
    id: &str,
    previous: Option<&Deployed>,
    done: &Done,
) -> anyhow::Result<runway_core::Exit> {
    let request = env.request(version, env.git_sha(version), confirm(run.yes));
    // The traffic conditions' baselines: the previous version, while it still serves.
    let mut sources = if run.watch {
        env.sources(version, previous.map(|p| p.version.as_str()))?
    } else {
        None
    };
    if let Some(s) = sources.as_mut() {
        s.capture_baseline().await;
    }
    let deployed = match env.target.deploy(&request).await {
        Ok(d) => d,
        Err(e) => {
            let reason = format!("deploy failed: {e}");
            return fail(env, version, id, previous, &reason, None, done).await;
        }
    };
    env.ledger
        .add_deployment_fact(id, &deployed_fact(&deployed))
        .await?;
    did(done, format!("{version} deployed and healthy"));

    let (report, verification) = env.verify(version, id).await?;
    if !report.ok() {
        let failed: Vec<String> = report
            .checks
            .iter()
            .filter(|c| c.status == runway_core::Status::Fail)
            .map(|c| c.id.clone())
            .collect();
        did(done, format!("verify failed ({})", failed.join(", ")));
        let reason = format!("verify failed: {}", failed.join(", "));
        return fail(
            env,
            version,
            id,
            previous,
            &reason,
            Some(&verification),
            done,
        )
        .await;
    }
    did(
        done,
        format!(
            "verify passed ({} checks, `{verification}`)",
            report.checks.len()
        ),
    );

    let mut held = None;
    if run.watch {
        let criteria = env.criteria(run.bake);
        eprintln!(
            "watching {} for {} (a sample every {}, fails after {} failures in a row: detection delay {})",
            env.name,
            humantime::format_duration(criteria.bake),
            humantime::format_duration(criteria.interval),
            criteria.consecutive_failures,
            humantime::format_duration(criteria.detection_delay()),
        );
        let sampler = env.sampler()?;
        let out = analysis::watch_with(
            &sampler,
            sources.as_mut(),
            &criteria,
            std::future::pending(),
            |s, n| {
                eprintln!(
                    "  sample {n}: {} {:.0} ms{}",
                    if s.failed() { "FAIL" } else { "ok" },
                    s.latency_ms,
                    s.error
                        .as_deref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                );
            },
            print_evaluations,
        )
        .await;
        print_conditions(&out);
        env.ledger
            .add_deployment_fact(id, &analysis_fact(&out, &criteria))
            .await?;
        match out.analysis.verdict {
            analysis::Verdict::Fail => {
                let reason = format!("watch failed: {}", out.analysis.reasons.join("; "));
                did(done, reason.clone());
                return fail(
                    env,
                    version,
                    id,
                    previous,
                    &reason,
                    Some(&verification),
                    done,
                )
                .await;
            }
            analysis::Verdict::Inconclusive => {
                let why = out.analysis.reasons.join("; ");
                did(done, format!("watch inconclusive: {why}"));
                held = Some(why);
            }
            analysis::Verdict::Pass => did(
                done,
                format!(
                    "watch passed ({} samples, availability {:.1}%, p95 {:.0} ms)",
                    out.analysis.aggregates.samples,
                    out.analysis.aggregates.availability * 100.0,
                    out.analysis.aggregates.p95_ms
                ),
            ),
        }
    }
    env.target.retire_previous().await?;
    let mut end = DeploymentEnd::new(Outcome::Verified);
    end.verification_id = Some(verification);
    end.rollback = Some(RollbackDecision::NotNeeded);
    end.done = done.lock().unwrap_or_else(|p| p.into_inner()).clone();
    end.reason = held
        .as_ref()
        .map(|w| format!("watch inconclusive, held for a human: {w}"));
    env.ledger.finish_deployment(id, &end).await?;
    match held {
        Some(why) => {
            eprintln!(
                "{} {version} is running on `{}` but the watch was inconclusive ({why}); judge it by hand",
                crate::term::error_label(),
                env.name
            );
            Ok(runway_core::Exit::Failed)
        }
        None => {
            outln!("{version} is live on {} (deployment `{id}`)", env.name)?;
            Ok(runway_core::Exit::Success)
        }
    }
}

/// One line per condition judged at a tick.
fn print_evaluations(evals: &[runway_deploy::source::Evaluation]) {
    for e in evals {
        eprintln!(
            "    condition `{}` ({}): {}: {}",
            e.condition,
            e.source.as_str(),
            if e.error { "error" } else { e.verdict.as_str() },
            e.message
        );
    }
}

/// Each condition over the whole watch.
fn print_conditions(out: &WatchOutcome) {
    for c in &out.conditions {
        eprintln!(
            "  condition `{}` ({}): {} ({} passed, {} failed, {} empty, {} errors{})",
            c.condition,
            c.source.as_str(),
            c.verdict.as_str(),
            c.passed,
            c.failed,
            c.empty,
            c.errors,
            c.last_value
                .map(|v| format!(", last {}", runway_deploy::source::num(v)))
                .unwrap_or_default()
        );
    }
}

fn analysis_fact(out: &WatchOutcome, c: &Criteria) -> DeploymentFact {
    let a = &out.analysis.aggregates;
    let lat: Vec<f64> = out.samples.iter().map(|s| s.latency_ms).collect();
    let p50 = {
        let mut v = lat.clone();
        v.sort_by(f64::total_cmp);
        v.get(v.len().saturating_sub(1) / 2).copied()
    };
    DeploymentFact::Analysis(runway_ledger::Analysis {
        verdict: match out.analysis.verdict {
            analysis::Verdict::Pass => AnalysisVerdict::Pass,
            analysis::Verdict::Fail => AnalysisVerdict::Fail,
            analysis::Verdict::Inconclusive => AnalysisVerdict::Inconclusive,
        },
        samples: u64::from(a.samples),
        min_samples: Some(u64::from(c.min_samples)),
        started_at: out.samples.first().map(|s| s.at),
        ended_at: out.samples.last().map(|s| s.at),
        availability: (a.samples > 0).then_some(a.availability),
        error_rate: (a.samples > 0).then_some(a.error_rate),
        auth_failure_rate: (a.samples > 0).then_some(a.auth_failure_rate),
        p50_ms: p50,
        p95_ms: (a.samples > 0).then_some(a.p95_ms),
        failing: (!out.analysis.reasons.is_empty()).then(|| out.analysis.reasons.join("; ")),
    })
}

/// The previous version's numbers, from its newest recorded analysis.
fn baseline_of(
    history: &[runway_ledger::DeploymentView],
    version: &str,
) -> Option<analysis::Aggregates> {
    history
        .iter()
        .filter(|v| v.deployment.release == version)
        .flat_map(|v| v.analyses.iter().rev())
        .find(|a| a.samples > 0)
        .map(|a| analysis::Aggregates {
            samples: a.samples as u32,
            availability: a.availability.unwrap_or(1.0),
            error_rate: a.error_rate.unwrap_or(0.0),
            auth_failure_rate: a.auth_failure_rate.unwrap_or(0.0),
            p95_ms: a.p95_ms.unwrap_or(0.0),
            max_consecutive_failures: 0,
        })
}

/// A deploy that failed at some step: keep its logs, roll back per policy,
/// verify again, compare with the baseline, open an incident, end the record.
async fn fail(
    env: &Env,
    version: &str,
    id: &str,
    previous: Option<&Deployed>,
    reason: &str,
    verification: Option<&str>,
    done: &Done,
) -> anyhow::Result<runway_core::Exit> {
    eprintln!("{} {reason}", crate::term::error_label());
    if let Ok(logs) = env.target.logs(runway_ledger::MAX_LOG_BYTES).await
        && !logs.text.is_empty()
    {
        let text = env.redactor.redact(&logs.text);
        env.ledger
            .add_deployment_fact(
                id,
                &DeploymentFact::Logs(runway_ledger::Logs::bounded(
                    logs.source,
                    Some(version.to_owned()),
                    &text,
                )),
            )
            .await?;
        did(done, "kept the failed version's logs");
    }
    let policy = env.config.rollback.clone().unwrap_or_default();
    let mut end = DeploymentEnd::new(Outcome::Failed);
    end.verification_id = verification.map(str::to_owned);
    end.reason = Some(reason.to_owned());
    let mut incident_title = format!("{version} to {} failed: {reason}", env.name);
    match (policy.auto(), previous) {
        (true, Some(prev)) => {
            let started = chrono::Utc::now();
            eprintln!("rolling back {} to {}", env.name, prev.version);
            let request = env.request(&prev.version, env.git_sha(&prev.version), Confirm::Assume);
            let back = env.target.rollback(prev, &request).await;
            let mut fact = runway_ledger::Rollback {
                from_version: Some(version.to_owned()),
                to_version: Some(prev.version.clone()),
                to_artifact: Some(artifact(prev)),
                reason: reason.to_owned(),
                automatic: true,
                started_at: started,
                finished_at: None,
                ok: false,
                verification_id: None,
                baseline: None,
                back_to_baseline: None,
            };
            match back {
                Err(e) => {
                    did(done, format!("rollback to {} failed: {e}", prev.version));
                    fact.finished_at = Some(chrono::Utc::now());
                    incident_title =
                        format!("{incident_title}; rollback to {} failed", prev.version);
                }
                Ok(d) => {
                    env.ledger
                        .add_deployment_fact(id, &deployed_fact(&d))
                        .await?;
                    did(done, format!("rolled back to {}", prev.version));
                    let (report, vid) = env.verify(&prev.version, id).await?;
                    fact.verification_id = Some(vid.clone());
                    fact.ok = report.ok();
                    did(
                        done,
                        format!(
                            "verify after rollback {} (`{vid}`)",
                            if report.ok() { "passed" } else { "failed" }
                        ),
                    );
                    // A short burst of samples against the previous version's recorded numbers.
                    let history = env.history().await.unwrap_or_default();
                    if let Some(base) = baseline_of(&history, &prev.version) {
                        let burst = Criteria {
                            bake: Duration::from_secs(2),
                            interval: Duration::from_millis(400),
                            min_samples: 1,
                            consecutive_failures: u32::MAX,
                            ..env.criteria(None)
                        };
                        let sampler = env.sampler()?;
                        let now =
                            analysis::watch(&sampler, &burst, std::future::pending(), |_, _| {})
                                .await;
                        let cmp = analysis::back_to_baseline(
                            &base,
                            &now.analysis.aggregates,
                            policy.baseline_tolerance(),
                        );
                        let (ok, text) = match cmp {
                            Ok(t) => (true, t),
                            Err(t) => (false, t),
                        };
                        did(
                            done,
                            format!(
                                "{} baseline: {text}",
                                if ok { "back to" } else { "not back to" }
                            ),
                        );
                        fact.baseline = Some(text);
                        fact.back_to_baseline = Some(ok);
                    } else {
                        fact.baseline = Some(format!(
                            "no analysis recorded for {} to compare with",
                            prev.version
                        ));
                    }
                    fact.finished_at = Some(chrono::Utc::now());
                    incident_title = format!("{incident_title}; rolled back to {}", prev.version);
                    if fact.ok {
                        end.outcome = Outcome::RolledBack;
                    }
                    end.rollback = Some(RollbackDecision::Executed {
                        to: Some(prev.version.clone()),
                        reason: reason.to_owned(),
                    });
                }
            }
            env.ledger
                .add_deployment_fact(id, &DeploymentFact::Rollback(fact))
                .await?;
        }
        (true, None) => did(done, "nothing to roll back to (first deployment here)"),
        (false, _) => did(done, "no rollback: `rollback.auto = false`"),
    }
    let severity: Severity = policy.incident();
    let incident = env
        .ledger
        .open_incident(severity, &incident_title, Some(id))
        .await?;
    did(done, format!("opened {severity} incident `{incident}`"));
    end.done = done.lock().unwrap_or_else(|p| p.into_inner()).clone();
    env.ledger.finish_deployment(id, &end).await?;
    eprintln!(
        "deployment `{id}` ended `{}`; incident `{incident}` ({severity})",
        end.outcome
    );
    Ok(runway_core::Exit::Failed)
}

fn artifact(d: &Deployed) -> String {
    if let Some(digest) = &d.digest {
        return digest.clone();
    }
    if let Some(cmd) = d.detail.get("command").and_then(|c| c.as_array()) {
        let argv: Vec<String> = cmd
            .iter()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect();
        return runway_deploy::child::display(&argv);
    }
    d.revision
        .clone()
        .or_else(|| d.image.clone())
        .unwrap_or_else(|| d.version.clone())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// `runway rollback`: back to the recorded previous (or `--to`) version, verified and compared.
pub async fn rollback(env: &Env, to: Option<&str>, yes: bool) -> anyhow::Result<runway_core::Exit> {
    let holder = format!(
        "{}@{} (pid {})",
        env.ledger.operator(),
        hostname(),
        std::process::id()
    );
    let lock = match env
        .ledger
        .acquire_deploy_lock(&env.name, &holder, LOCK_TTL)
        .await
    {
        Ok(l) => l,
        Err(e @ runway_ledger::LedgerError::Locked { .. }) => {
            eprintln!("{} {e}", crate::term::error_label());
            return Ok(runway_core::Exit::Failed);
        }
        Err(e) => return Err(e.into()),
    };
    let r = rollback_locked(env, to, yes).await;
    let _ = lock.release().await;
    r
}

async fn rollback_locked(
    env: &Env,
    to: Option<&str>,
    yes: bool,
) -> anyhow::Result<runway_core::Exit> {
    let history = env.history().await?;
    let current = history.first();
    let current_version = env
        .target
        .current()
        .await?
        .map(|d| d.version)
        .or_else(|| current.map(|c| c.deployment.release.clone()));
    // The newest verified deployment of the wanted version (or of any other version).
    let point = history.iter().find(|v| {
        v.status == Outcome::Verified.as_str()
            && match to {
                Some(t) => v.deployment.release == t,
                None => Some(&v.deployment.release) != current_version.as_ref(),
            }
    });
    let version = match (to, point) {
        (Some(t), _) => t.to_owned(),
        (None, Some(p)) => p.deployment.release.clone(),
        (None, None) => {
            eprintln!(
                "{} nothing to roll back to in `{}`: no earlier verified deployment is recorded",
                crate::term::error_label(),
                env.name
            );
            eprintln!(
                "{} name a version with `--to VERSION`",
                crate::term::hint_label()
            );
            return Ok(runway_core::Exit::Failed);
        }
    };
    let mut record = Deployment::new(&env.name, &version);
    record.git_sha = env.git_sha(&version);
    record.target = Some(env.deploy.target.as_str().to_owned());
    record.rollback_of = current.map(|c| c.id.clone());
    record.changes = current.map(|c| Changes {
        previous_deployment: Some(c.id.clone()),
        previous_version: Some(c.deployment.release.clone()),
        previous_git_sha: c.deployment.git_sha.clone(),
        code: Vec::new(),
        config: Vec::new(),
    });
    let id = env.ledger.record_deployment(&record).await?;
    eprintln!("deployment `{id}`: rolling {} back to {version}", env.name);
    let request = env.request(&version, env.git_sha(&version), confirm(yes));
    let recorded = point.and_then(recorded_target);
    let result = match &recorded {
        Some(d) => env.target.rollback(d, &request).await,
        None => env.target.deploy(&request).await,
    };
    let mut end = DeploymentEnd::new(Outcome::Failed);
    let deployed = match result {
        Ok(d) => d,
        Err(e) => {
            end.reason = Some(format!("rollback failed: {e}"));
            env.ledger.finish_deployment(&id, &end).await?;
            eprintln!(
                "{} rollback to {version} failed: {e}",
                crate::term::error_label()
            );
            return Ok(runway_core::Exit::Failed);
        }
    };
    env.ledger
        .add_deployment_fact(&id, &deployed_fact(&deployed))
        .await?;
    let (report, vid) = env.verify(&version, &id).await?;
    end.verification_id = Some(vid.clone());
    let mut baseline_text = None;
    if let Some(base) = baseline_of(&history, &version) {
        let burst = Criteria {
            bake: Duration::from_secs(2),
            interval: Duration::from_millis(400),
            min_samples: 1,
            consecutive_failures: u32::MAX,
            ..env.criteria(None)
        };
        let now = analysis::watch(&env.sampler()?, &burst, std::future::pending(), |_, _| {}).await;
        let tol = env
            .config
            .rollback
            .clone()
            .unwrap_or_default()
            .baseline_tolerance();
        baseline_text = Some(
            match analysis::back_to_baseline(&base, &now.analysis.aggregates, tol) {
                Ok(t) => format!("back to baseline: {t}"),
                Err(t) => format!("not back to baseline: {t}"),
            },
        );
    }
    if report.ok() {
        end.outcome = Outcome::Verified;
        end.rollback = Some(RollbackDecision::NotNeeded);
        end.reason = baseline_text.clone();
        env.ledger.finish_deployment(&id, &end).await?;
        outln!(
            "{} is back on {version} (deployment `{id}`, verification `{vid}`){}",
            env.name,
            baseline_text.map(|b| format!("; {b}")).unwrap_or_default()
        )?;
        Ok(runway_core::Exit::Success)
    } else {
        end.reason = Some("verify after the rollback failed".into());
        env.ledger.finish_deployment(&id, &end).await?;
        eprintln!(
            "{} {version} is running on `{}` but its verify failed (`{vid}`)",
            crate::term::error_label(),
            env.name
        );
        Ok(runway_core::Exit::Failed)
    }
}

/// `runway watch`: the bake window on what runs now; the analysis is appended
/// to the newest deployment's record.
pub async fn watch_now(env: &Env, bake: Option<Duration>) -> anyhow::Result<runway_core::Exit> {
    let criteria = env.criteria(bake);
    let sampler = env.sampler()?;
    eprintln!(
        "watching {} for {} (a sample every {}; detection delay {})",
        env.name,
        humantime::format_duration(criteria.bake),
        humantime::format_duration(criteria.interval),
        humantime::format_duration(criteria.detection_delay())
    );
    let running = env.target.current().await.ok().flatten().map(|d| d.version);
    let mut sources = env.sources(running.as_deref().unwrap_or_default(), None)?;
    let shutdown = shutdown_signal();
    let stop = async move {
        signalled(shutdown).await;
    };
    let out = analysis::watch_with(
        &sampler,
        sources.as_mut(),
        &criteria,
        stop,
        |s, n| {
            eprintln!(
                "  sample {n}: {} {:.0} ms{}",
                if s.failed() { "FAIL" } else { "ok" },
                s.latency_ms,
                s.error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            );
        },
        print_evaluations,
    )
    .await;
    print_conditions(&out);
    if let Some(latest) = env.history().await?.first() {
        env.ledger
            .add_deployment_fact(&latest.id, &analysis_fact(&out, &criteria))
            .await
            .context("recording the analysis")?;
    }
    let a = &out.analysis.aggregates;
    outln!(
        "{}: {} over {} samples: availability {:.1}%, error rate {:.1}%, auth failures {:.1}%, p95 {:.0} ms{}",
        env.name,
        out.analysis.verdict.as_str(),
        a.samples,
        a.availability * 100.0,
        a.error_rate * 100.0,
        a.auth_failure_rate * 100.0,
        a.p95_ms,
        if out.analysis.reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", out.analysis.reasons.join("; "))
        }
    )?;
    Ok(match out.analysis.verdict {
        analysis::Verdict::Pass => runway_core::Exit::Success,
        _ => runway_core::Exit::Failed,
    })
}
