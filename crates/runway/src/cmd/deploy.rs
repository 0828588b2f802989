//! `runway plan|deploy|ship|watch|rollback|status <env>`: parse, wire, render.
//! The sequence itself is in [`crate::runbook`].

use std::time::Duration;

use runway_core::Exit;
use runway_deploy::gates;

use super::Ctx;
use crate::runbook::{self, Env, GateInput, Run};

fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|_| format!("`{s}` is not a duration: write it as `15s`, `10m` or `1h`"))
        .and_then(|d| {
            if d.is_zero() {
                Err("the duration must be longer than zero".into())
            } else {
                Ok(d)
            }
        })
}

#[derive(Debug, clap::Args)]
pub struct GateArgs {
    /// The version to deploy (a release: its tag is `release.tag_prefix` + VERSION).
    #[arg(long = "version", id = "release_version", value_name = "VERSION")]
    pub version: String,
    /// Someone other than the operator who approves this deploy (repeatable).
    #[arg(long = "approver", value_name = "NAME")]
    pub approvers: Vec<String>,
    /// Deploy outside the window for this open P0 or P1 incident (needs `--approver`).
    #[arg(long, value_name = "INCIDENT")]
    pub emergency: Option<String>,
}

impl GateArgs {
    fn input(&self) -> GateInput {
        GateInput {
            version: self.version.trim().to_owned(),
            approvers: self.approvers.clone(),
            emergency: self.emergency.clone(),
        }
    }
}

#[derive(Debug, clap::Args)]
#[command(
    disable_version_flag = true,
    after_help = "Exit status: 0 deployed and verified, 1 a gate refused or the deploy failed (rolled back when the policy says so), 2 usage or configuration error."
)]
pub struct DeployArgs {
    /// The environment (`[environments.<name>]` in `runway.toml`).
    pub env: String,
    #[command(flatten)]
    pub gates: GateArgs,
    /// Take manual steps as done (no terminal needed).
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub ledger: super::ledger::LedgerOpt,
}

#[derive(Debug, clap::Args)]
#[command(
    disable_version_flag = true,
    after_help = "Exit status: 0 shipped (verified and watched), 1 a gate refused, the deploy, verify or watch failed (rolled back per policy, incident opened), or the watch was inconclusive, 2 usage or configuration error."
)]
pub struct ShipArgs {
    #[command(flatten)]
    pub deploy: DeployArgs,
    /// Watch for this long instead of `analysis.bake` (`30s`, `10m`, `1h`).
    #[arg(long = "for", value_name = "DURATION", value_parser = duration)]
    pub bake: Option<Duration>,
}

#[derive(Debug, clap::Args)]
#[command(
    disable_version_flag = true,
    after_help = "Exit status: 0 every gate passes, 1 a gate would refuse, 2 usage or configuration error. Changes nothing."
)]
pub struct PlanArgs {
    pub env: String,
    #[command(flatten)]
    pub gates: GateArgs,
    #[command(flatten)]
    pub ledger: super::ledger::LedgerOpt,
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    pub env: String,
    /// How long to watch (default `analysis.bake`).
    #[arg(long = "for", value_name = "DURATION", value_parser = duration)]
    pub bake: Option<Duration>,
    #[command(flatten)]
    pub ledger: super::ledger::LedgerOpt,
}

#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    pub env: String,
    /// The version to go back to (default: the newest verified one before what runs).
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    /// Take manual steps as done (no terminal needed).
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub ledger: super::ledger::LedgerOpt,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    pub env: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub ledger: super::ledger::LedgerOpt,
}

pub async fn deploy(ctx: &Ctx, args: DeployArgs) -> anyhow::Result<Exit> {
    let env = Env::open(ctx, &args.env, &args.ledger).await?;
    let run = Run {
        gates: args.gates.input(),
        yes: args.yes,
        watch: false,
        bake: None,
    };
    runbook::deploy(&env, &run).await
}

pub async fn ship(ctx: &Ctx, args: ShipArgs) -> anyhow::Result<Exit> {
    let env = Env::open(ctx, &args.deploy.env, &args.deploy.ledger).await?;
    let run = Run {
        gates: args.deploy.gates.input(),
        yes: args.deploy.yes,
        watch: true,
        bake: args.bake,
    };
    runbook::deploy(&env, &run).await
}

pub async fn plan(ctx: &Ctx, args: PlanArgs) -> anyhow::Result<Exit> {
    let env = Env::open(ctx, &args.env, &args.ledger).await?;
    let input = args.gates.input();
    let current = env.target.current().await?;
    let previous = env.rollback_point(Some(&input.version)).await?;
    let verdicts = runbook::judge(&env, &input, previous.as_ref()).await;
    let criteria = env.criteria(None);
    let request = env.request(
        &input.version,
        env.git_sha(&input.version),
        runway_deploy::Confirm::Refuse,
    );
    outln!(
        "plan: {} to {} ({} target)",
        input.version,
        env.name,
        env.deploy.target
    )?;
    outln!(
        "  now running: {}",
        current
            .as_ref()
            .map(describe)
            .unwrap_or_else(|| "nothing".into())
    )?;
    outln!(
        "  rollback to: {}",
        previous
            .as_ref()
            .map(describe)
            .unwrap_or_else(|| "nothing (first deployment)".into())
    )?;
    outln!("  gates:")?;
    for v in &verdicts {
        outln!("    {:<18} {:<10} {}", v.gate, v.status.as_str(), v.detail)?;
        if v.refuses()
            && let Some(h) = &v.hint
        {
            outln!("    {:<29}hint: {h}", "")?;
        }
    }
    outln!("  steps:")?;
    outln!(
        "    1. deploy {}{}, wait up to {} for {}",
        input.version,
        request
            .image
            .as_deref()
            .map(|i| format!(" (`{i}`)"))
            .unwrap_or_default(),
        humantime::format_duration(request.health.timeout),
        request
            .health
            .url
            .as_ref()
            .map(|u| u.to_string())
            .unwrap_or_else(|| "the target".into())
    )?;
    outln!(
        "    2. verify (suite `{}`), expecting version {}",
        env.config.suite.map(|s| s.as_str()).unwrap_or("smoke"),
        input.version
    )?;
    outln!(
        "    3. ship only: watch {} (a sample every {}, {} samples at least; availability >= {:.0}%, error rate <= {:.0}%, auth failures <= {:.0}%, p95 <= {} ms); detection delay {}",
        humantime::format_duration(criteria.bake),
        humantime::format_duration(criteria.interval),
        criteria.min_samples,
        criteria.availability_min * 100.0,
        criteria.error_rate_max * 100.0,
        criteria.auth_failure_max * 100.0,
        criteria.p95_max_ms,
        humantime::format_duration(criteria.detection_delay())
    )?;
    for c in env
        .config
        .analysis
        .iter()
        .flat_map(|a| &a.conditions)
        .map(runway_deploy::source::Condition::from_config)
    {
        outln!(
            "       condition `{}` ({}): {}; detection delay {}{}",
            c.name,
            c.source.as_str(),
            c.describe(),
            humantime::format_duration(criteria.detection_delay()),
            match c.source {
                runway_config::sources::SourceKind::Prometheus =>
                    " plus the query's range and Prometheus' scrape interval",
                runway_config::sources::SourceKind::Metrics => "",
            }
        )?;
    }
    let policy = env.config.rollback.clone().unwrap_or_default();
    outln!(
        "    4. on failure: {}, open a {} incident",
        if policy.auto() {
            "roll back, verify again, compare with the baseline"
        } else {
            "no automatic rollback (`rollback.auto = false`)"
        },
        policy.incident()
    )?;
    Ok(if gates::refused(&verdicts) {
        Exit::Failed
    } else {
        Exit::Success
    })
}

fn describe(d: &runway_deploy::Deployed) -> String {
    let mut s = d.version.clone();
    if let Some(i) = &d.image {
        s.push_str(&format!(" image `{i}`"));
    }
    if let Some(g) = &d.digest {
        s.push_str(&format!(" digest {g}"));
    }
    if let Some(cmd) = d.detail.get("command").and_then(|c| c.as_array()) {
        let argv: Vec<String> = cmd
            .iter()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect();
        s.push_str(&format!(" (`{}`)", runway_deploy::child::display(&argv)));
    }
    if let Some(since) = d.since {
        s.push_str(&format!(" since {}", since.format("%Y-%m-%d %H:%M:%S UTC")));
    }
    s
}

pub async fn watch(ctx: &Ctx, args: WatchArgs) -> anyhow::Result<Exit> {
    let env = Env::open(ctx, &args.env, &args.ledger).await?;
    runbook::watch_now(&env, args.bake).await
}

pub async fn rollback(ctx: &Ctx, args: RollbackArgs) -> anyhow::Result<Exit> {
    let env = Env::open(ctx, &args.env, &args.ledger).await?;
    runbook::rollback(&env, args.to.as_deref(), args.yes).await
}

pub async fn status(ctx: &Ctx, args: StatusArgs) -> anyhow::Result<Exit> {
    let env = Env::open(ctx, &args.env, &args.ledger).await?;
    let running = env.target.current().await?;
    let history = env.history().await?;
    let last = history.first();
    let last_good = history
        .iter()
        .find(|v| v.status == runway_ledger::Outcome::Verified.as_str());
    let lock = env.ledger.deploy_lock(&env.name).await?;
    let drift = match (&running, last_good) {
        (Some(r), Some(l)) if r.version != l.deployment.release => Some(format!(
            "the target runs {} but the ledger's last verified deployment is {}",
            r.version, l.deployment.release
        )),
        (None, Some(l))
            if env.deploy.status.is_some()
                || env.deploy.target == runway_config::TargetKind::Process =>
        {
            Some(format!(
                "nothing runs, but the ledger's last verified deployment is {}",
                l.deployment.release
            ))
        }
        (Some(r), None) => Some(format!(
            "the target runs {} but the ledger has no verified deployment",
            r.version
        )),
        _ => None,
    };
    if args.json {
        let doc = serde_json::json!({
            "environment": env.name,
            "target": env.deploy.target.as_str(),
            "running": running,
            "last_deployment": last.map(|l| serde_json::json!({
                "id": l.id,
                "version": l.deployment.release,
                "status": l.status,
                "operator": l.operator,
                "started_at": l.deployment.started_at,
                "finished_at": l.finished_at,
            })),
            "deploying": lock.as_ref().map(|l| &l.holder),
            "drift": drift,
        });
        outln!("{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        outln!("{} ({} target)", env.name, env.deploy.target)?;
        outln!(
            "  running:  {}",
            running
                .as_ref()
                .map(describe)
                .unwrap_or_else(|| "nothing".into())
        )?;
        match last {
            Some(l) => outln!(
                "  ledger:   {} `{}` by {} at {}: {}",
                l.deployment.release,
                l.id,
                l.operator,
                l.deployment.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
                l.status
            )?,
            None => outln!("  ledger:   no deployment recorded")?,
        }
        if let Some(v) = last.and_then(|l| l.verifications.last()) {
            outln!("  verdict:  verification `{}` {}", v.id, v.status)?;
        }
        if let Some(l) = &lock {
            outln!("  deploying now: {}", l.holder)?;
        }
        if let Some(d) = &drift {
            outln!("  drift:    {d}")?;
        }
    }
    Ok(if drift.is_some() {
        Exit::Failed
    } else {
        Exit::Success
    })
}
