//! The `performance` gate's trial: the release is started locally beside
//! whatever serves (a process, or a container on the host network, on a free
//! port of 127.0.0.1), timed to healthy, its memory sampled while it starts
//! and under load, loaded by runway-verify's load run, then stopped with
//! everything it started. Nothing of the environment itself is touched: the
//! trial has an environment name of its own (`<env>-trial`), so its state
//! file, log and container are its own.

use std::time::{Duration, Instant};

use runway_config::{TargetKind, deploy::PerformanceGate};
use runway_core::Secret;
use runway_deploy::{
    DeployRequest, HealthWait, Target,
    performance::{LoadFigures, TrialOutcome},
};
use runway_signals::resources::ResourceFeed;

use crate::Env;

/// How often memory is sampled during the trial.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// A port of 127.0.0.1 that nothing listens on now.
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port())
}

/// `url`'s path (and query) on `http://127.0.0.1:port`.
fn local(url: &runway_verify::url::Url, port: u16) -> Option<runway_verify::url::Url> {
    let mut u = runway_verify::url::Url::parse(&format!("http://127.0.0.1:{port}/")).ok()?;
    u.set_path(url.path());
    u.set_query(url.query());
    Some(u)
}

/// What starts the trial, and how it is described.
struct Started {
    target: Box<dyn Target>,
    feed: Box<dyn ResourceFeed>,
    kind: TargetKind,
    docker: Option<runway_deploy::docker::DockerTarget>,
}

/// What stands in for the feed once the sampler took it.
struct NoFeed;

#[async_trait::async_trait]
impl ResourceFeed for NoFeed {
    async fn usage(&self) -> Result<runway_signals::resources::Usage, String> {
        Err("not sampled".into())
    }
}

fn not_started(why: impl Into<String>) -> TrialOutcome {
    TrialOutcome {
        started_as: "not started".into(),
        startup: Some(Err(why.into())),
        ..TrialOutcome::default()
    }
}

/// Starts `version` locally as `cfg` (or the environment's own process or
/// docker deploy) says, measures it, and stops it.
pub async fn run(env: &Env, version: &str, cfg: &PerformanceGate) -> TrialOutcome {
    let name = format!("{}-trial", env.name);
    let port = match cfg.port.map(Ok).unwrap_or_else(free_port) {
        Ok(p) => p,
        Err(e) => return not_started(format!("no free port on 127.0.0.1: {e}")),
    };
    let mut deploy = env.deploy.clone();
    deploy.port = Some(port);
    if let Some(c) = &cfg.command {
        deploy.target = TargetKind::Process;
        deploy.command = Some(c.clone());
    } else if let Some(i) = &cfg.image {
        deploy.target = TargetKind::Docker;
        deploy.image = Some(i.clone());
    }
    let image = deploy
        .image
        .as_ref()
        .map(|t| t.replace("{version}", version));
    let mut started = match open(&name, &env.name, &mut deploy, &env.loaded.root) {
        Ok(s) => s,
        Err(why) => return not_started(why),
    };
    let vars = runway_deploy::child::Vars {
        version: version.to_owned(),
        port: Some(port),
        image: image.clone(),
        sha: None,
    };
    let mcp = env.mcp_url().ok().and_then(|u| local(&u, port));
    let health = env.health_url().and_then(|u| local(&u, port));
    let request = DeployRequest {
        environment: name.clone(),
        version: version.to_owned(),
        image: image.clone(),
        env: env
            .vars
            .iter()
            .map(|(k, v)| (k.clone(), Secret::new(vars.apply(v.expose()))))
            .collect(),
        sha: None,
        env_record: runway_deploy::EnvRecord::default(),
        redactor: env.redactor.clone(),
        port: Some(port),
        health: HealthWait {
            url: health.clone(),
            health_optional: env.config.health_path.is_none(),
            mcp: mcp.clone(),
            token: env.health_wait(Duration::ZERO, Duration::ZERO).token,
            auth_header: env.config.auth_header.clone(),
            timeout: cfg.startup_max(),
            interval: SAMPLE_EVERY,
        },
        confirm: runway_deploy::Confirm::Refuse,
        steps: runway_deploy::Steps::none(),
    };
    let started_as = match started.kind {
        TargetKind::Docker => format!(
            "container `{}` ({}) on port {port}",
            deploy.docker.container.as_deref().unwrap_or_default(),
            image.as_deref().unwrap_or("no image")
        ),
        _ => format!(
            "process `{}` on port {port}",
            runway_deploy::child::display(
                &vars.apply_all(deploy.command.as_deref().unwrap_or(&[]))
            )
        ),
    };
    env.note(format!(
        "performance: starting {version} locally as {started_as}"
    ));

    // Memory is sampled from the start, so a server that peaks while it loads counts.
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let feed = std::mem::replace(&mut started.feed, Box::new(NoFeed));
    let sampler = tokio::spawn(async move {
        let mut peak: Option<u64> = None;
        let mut last_error: Option<String> = None;
        loop {
            match feed.usage().await {
                Ok(u) => peak = Some(peak.unwrap_or(0).max(u.rss_bytes)),
                Err(e) => last_error = Some(e),
            }
            tokio::select! {
                _ = tokio::time::sleep(SAMPLE_EVERY) => {}
                _ = stop_rx.changed() => break,
            }
        }
        // One last reading, after the load.
        if let Ok(u) = feed.usage().await {
            peak = Some(peak.unwrap_or(0).max(u.rss_bytes));
        }
        (peak, last_error)
    });

    let t0 = Instant::now();
    let deployed = started.target.deploy(&request).await;
    let startup = deployed
        .as_ref()
        .map(|_| t0.elapsed())
        .map_err(|e| first_line(&env.redactor.redact(&e.to_string())));
    let load = match (&startup, &mcp) {
        (Err(_), _) => None,
        (Ok(_), None) => Some(Err(
            "the environment has no `url`: the load needs the server's path".to_owned(),
        )),
        (Ok(_), Some(url)) => Some(load(env, cfg, url.clone()).await),
    };
    let _ = stop_tx.send(true);
    let (peak, rss_error) = sampler
        .await
        .unwrap_or((None, Some("the sampler failed".into())));

    let cleanup = stop(&started).await;
    TrialOutcome {
        started_as,
        startup: Some(startup),
        peak_rss_bytes: peak,
        rss_error: if peak.is_some() { None } else { rss_error },
        load,
        cleanup: Some(cleanup),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_owned()
}

/// The trial's target and its memory feed, from the environment's deploy
/// table made the trial's (its own container name).
fn open(
    name: &str,
    env_name: &str,
    deploy: &mut runway_config::DeployConfig,
    root: &std::path::Path,
) -> Result<Started, String> {
    match deploy.target {
        TargetKind::Process => {
            if deploy.command.is_none() {
                return Err(format!(
                    "no command line to start: set `environments.{env_name}.gates.performance.command`"
                ));
            }
            let open = || {
                runway_deploy::process::ProcessSettings::from_config(name, deploy, root)
                    .map(runway_deploy::process::ProcessTarget::new)
                    .map_err(|e| e.to_string())
            };
            Ok(Started {
                target: Box::new(open()?),
                feed: Box::new(runway_deploy::resources::ProcessResources::new(Box::new(
                    open()?,
                ))),
                kind: TargetKind::Process,
                docker: None,
            })
        }
        TargetKind::Docker => {
            if deploy.image.is_none() {
                return Err(format!(
                    "no image to run: set `environments.{env_name}.gates.performance.image`"
                ));
            }
            // Beside the environment's own container, never in its place.
            let container = match &deploy.docker.container {
                Some(c) => format!("{c}-runway-trial"),
                None => format!("runway-trial-{env_name}"),
            };
            deploy.docker.container = Some(container);
            // The trial's image is never pushed or tagged.
            deploy.docker.rollback_tag = None;
            let open = || {
                runway_deploy::docker::DockerSettings::from_config(name, deploy)
                    .map(runway_deploy::docker::DockerTarget::new)
                    .map_err(|e| e.to_string())
            };
            Ok(Started {
                target: Box::new(open()?),
                feed: Box::new(runway_deploy::resources::DockerResources::new(open()?)),
                kind: TargetKind::Docker,
                docker: Some(open()?),
            })
        }
        other => Err(format!(
            "the trial starts the release locally, as a process or a container, and this environment deploys with the `{other}` target: set `environments.{env_name}.gates.performance.command` (or `image`)"
        )),
    }
}

/// Stops the trial's server with everything it started; says how it went.
async fn stop(started: &Started) -> String {
    if let Some(d) = &started.docker {
        return match d.discard().await {
            Ok(_) => "the trial container was removed".into(),
            Err(e) => format!("removing the trial container failed: {e}"),
        };
    }
    match started.target.stop_current().await {
        Ok(_) => "the trial server was stopped".into(),
        Err(e) => format!("stopping the trial server failed: {e}"),
    }
}

/// The load against the trial server, as runway-verify runs it.
async fn load(
    env: &Env,
    cfg: &PerformanceGate,
    url: runway_verify::url::Url,
) -> Result<LoadFigures, String> {
    use runway_verify::context::{LoadSettings, LoadTarget, Transport};
    let mut ctx = runway_verify::Context::for_environment(&env.loaded, &env.name, None)
        .map_err(|e| e.to_string())?;
    ctx.transport = Transport::Http { url: url.clone() };
    let target = match (&cfg.path, &cfg.tool) {
        (Some(p), _) => LoadTarget::Http { path: p.clone() },
        (None, Some(t)) => LoadTarget::ToolCall {
            tool: t.clone(),
            arguments: cfg
                .arguments
                .clone()
                .unwrap_or_else(|| serde_json::json!({})),
        },
        (None, None) => LoadTarget::Auto,
    };
    let settings = LoadSettings {
        target,
        concurrency: cfg.concurrency(),
        requests: cfg.requests(),
        duration: cfg.duration.map(|d| d.get()),
        rate: None,
    };
    let client = runway_verify::http::client_with_roots(ctx.limits, &ctx.extra_roots);
    // The era, found as the verify engine finds it (`server/discover`, then
    // `initialize`): a 2026-07-28 server takes each tool call on its own, a
    // 2025-11-25 one in a session the load opens.
    let era = {
        let mut conn = runway_verify::mcp::client::HttpConn::new(
            url,
            ctx.token.clone(),
            ctx.limits,
            ctx.redactor.clone(),
        )
        .with_auth_header(ctx.auth_header.clone());
        let era = match conn.handshake(ctx.era).await {
            Ok(h) => h.era,
            Err(_) => runway_core::Era::Unknown,
        };
        conn.end_session().await;
        era
    };
    let stats = runway_verify::load::run(&ctx, &client, &settings, &era)
        .await
        .map_err(|e| env.redactor.redact(&e.to_string()))?;
    Ok(LoadFigures {
        target: stats.target,
        concurrency: stats.concurrency,
        requests: stats.requests,
        errors: stats.errors,
        p95_ms: stats.p95_ms,
        throughput_rps: stats.throughput_rps,
        statuses: stats.statuses,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trial_keeps_the_path_and_query_on_loopback() {
        let u = runway_verify::url::Url::parse("https://mcp.example.com/v1/mcp?x=1").unwrap();
        assert_eq!(
            local(&u, 4242).unwrap().as_str(),
            "http://127.0.0.1:4242/v1/mcp?x=1"
        );
        assert_ne!(free_port().unwrap(), 0);
    }
}
