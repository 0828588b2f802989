//! `runway plan|deploy|ship|watch|rollback|status <env>`: parse, open the
//! environment, render. The sequence itself is `runway_runbook`'s.

use std::{
    io::{BufRead, IsTerminal, Write},
    sync::Arc,
    time::Duration,
};

use runway_core::Exit;
use runway_core::Shutdown;
use runway_deploy::{Confirm, gates::Verdict};
use runway_runbook::{Env, Event, Finished, GateInput, Run};

use super::Ctx;
use crate::error::UsageError;
use crate::term::{shown, shown_text};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct GateArgs {
    /// The version to deploy (a release: its tag is `release.tag_prefix` + VERSION).
    /// Default: the version the project's version files state (else its last release tag).
    #[arg(long = "version", id = "release_version", value_name = "VERSION")]
    pub version: Option<String>,
    /// Someone other than the operator who approves this deploy (repeatable).
    #[arg(long = "approver", value_name = "NAME")]
    pub approvers: Vec<String>,
    /// Deploy outside the window for this open P0 or P1 incident (needs `--approver`).
    #[arg(long, value_name = "INCIDENT")]
    pub emergency: Option<String>,
}

impl GateArgs {
    /// The gates' input, its `--version` checked (see [`checked_version`]).
    fn input(&self, ctx: &Ctx) -> anyhow::Result<GateInput> {
        let version = match &self.version {
            Some(v) => v.clone(),
            None => project_version(ctx)?,
        };
        Ok(GateInput {
            version: checked_version(ctx, "--version", &version)?,
            approvers: self.approvers.clone(),
            emergency: self.emergency.clone(),
        })
    }
}

/// The version of the checkout, for a `plan`/`deploy`/`ship` without
/// `--version`: what the version files state, else the last release tag.
fn project_version(ctx: &Ctx) -> anyhow::Result<String> {
    let no_version = || {
        UsageError::new("no `--version` given, and the project states none")
            .with_hint("pass `--version X.Y.Z`, or add the version file to `[release].files`")
    };
    let Some(l) = ctx.config()? else {
        return Err(no_version().into());
    };
    let opts = runway_release::plan::PlanOptions {
        allow_no_repo: true,
        ..Default::default()
    };
    let st = runway_release::plan::status(&l.root, &l.config.release, &opts)?;
    match (&st.file_version, &st.last_tag) {
        (Some(v), _) => Ok(v.clone()),
        (None, Some(t)) => Ok(t.version.to_string()),
        (None, None) => Err(no_version().into()),
    }
}

/// A version given as `flag`, checked before anything is opened, started or
/// recorded: SemVer, or PEP 440 in a Python project; one leading `v` dropped
/// (`runway_release::version::check_input`, which `runway mcp` calls too).
pub fn checked_version(ctx: &Ctx, flag: &str, value: &str) -> anyhow::Result<String> {
    let python = match ctx.config() {
        Ok(Some(l)) => runway_release::version::python_project(&l.root),
        _ => false,
    };
    runway_release::version::check_input(value, python).map_err(|why| {
        UsageError::new(format!("`{flag}` {value:?} is not a version: {why}"))
            .with_hint(if python {
                "give a SemVer or PEP 440 version, such as `1.4.0` or `1.4.0rc1`"
            } else {
                "give a SemVer version, such as `1.4.0` or `2.0.0-rc.1`"
            })
            .into()
    })
}

#[derive(Debug, clap::Args)]
#[command(
    disable_version_flag = true,
    after_help = "Exit status: 0 deployed and verified (with `--accept`: the held deployment accepted), 1 a gate refused (recorded as `refused`) or the deploy failed (rolled back when the policy says so), 2 usage or configuration error."
)]
pub struct DeployArgs {
    /// The environment (`[environments.<name>]` in `runway.toml`).
    pub env: String,
    #[command(flatten)]
    pub gates: GateArgs,
    /// Take manual steps as done (no terminal needed).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Accept the held deployment of `--version` (its watch was inconclusive) as verified; deploys nothing.
    #[arg(long)]
    pub accept: bool,
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
}

#[derive(Debug, clap::Args)]
#[command(
    disable_version_flag = true,
    after_help = "Exit status: 0 shipped (verified and watched), 1 a gate refused, the deploy, verify or watch failed (rolled back per policy, incident opened), or the watch was inconclusive (the deployment is `held` for a human: `runway watch`, `runway deploy --accept` or `runway rollback` resolves it), 2 usage or configuration error."
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
    /// `human` or `json` (the plan as data: gates, steps, rollback artifact).
    #[arg(long, value_enum, default_value = "human")]
    pub format: OutputFormat,
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    pub env: String,
    /// How long to watch (default `analysis.bake`).
    #[arg(long = "for", value_name = "DURATION", value_parser = duration)]
    pub bake: Option<Duration>,
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
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
    pub ledger: super::LedgerOpt,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    pub env: String,
    /// `human` or `json`.
    #[arg(long, value_enum, default_value = "human")]
    pub format: OutputFormat,
    /// The same as `--format json`.
    #[arg(long, hide = true)]
    pub json: bool,
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
}

/// Opens environment `name` with its ledger, progress printed on stderr.
pub async fn open(ctx: &Ctx, name: &str, ledger: &super::LedgerOpt) -> anyhow::Result<Env> {
    let loaded = ctx.config()?.ok_or_else(|| {
        UsageError::new("there is no `runway.toml` here or in a parent directory")
            .with_hint("run `runway init`, or pass `-C DIR` for the project")
    })?;
    let ledger = ctx.open_ledger(ledger).await?;
    let mut env = Env::open(loaded, name, ledger)?;
    env.observe(terminal_observer(name));
    Ok(env)
}

/// Progress on stderr, one line per event.
pub fn terminal_observer(name: &str) -> runway_runbook::Observer {
    let name = name.to_owned();
    Arc::new(move |e: &Event<'_>| match e {
        Event::Note(t) => eprintln!("{}", shown_text(t)),
        Event::Step(s) => eprintln!("  {}", shown_text(s)),
        Event::Gates { version, verdicts } => {
            eprintln!("gates for {} to {name}:", shown(version));
            print_verdicts(verdicts);
        }
        Event::Sample { n, sample: s } => eprintln!(
            "  sample {n}: {} {:.0} ms{}",
            if s.failed() { "FAIL" } else { "ok" },
            s.latency_ms,
            s.error
                .as_deref()
                .map(|e| format!(" ({})", shown(e)))
                .unwrap_or_default()
        ),
        Event::Problem { message } => {
            eprintln!("{} {}", crate::term::error_label(), shown_text(message))
        }
    })
}

/// Prints the verdicts, one per line, on stderr.
fn print_verdicts(verdicts: &[Verdict]) {
    for v in verdicts {
        eprintln!(
            "  gate {:<18} {:<10} {}",
            v.gate,
            v.status.as_str(),
            shown(&v.detail)
        );
        if v.refuses()
            && let Some(h) = &v.hint
        {
            eprintln!("{:>32}hint: {}", "", shown(h));
        }
    }
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

/// The result: data on stdout when it succeeded, `error:` and `hint:` on stderr when not.
pub fn render(f: &Finished) -> anyhow::Result<Exit> {
    if f.ok {
        outln!("{}", shown_text(&f.message))?;
    } else {
        eprintln!("{} {}", crate::term::error_label(), shown_text(&f.message));
        if let Some(h) = &f.hint {
            eprintln!("{} {}", crate::term::hint_label(), shown_text(h));
        }
    }
    Ok(f.exit())
}

pub async fn deploy(ctx: &Ctx, args: DeployArgs) -> anyhow::Result<Exit> {
    let gates = args.gates.input(ctx)?;
    let env = open(ctx, &args.env, &args.ledger).await?;
    if args.accept {
        return render(&runway_runbook::accept(&env, &gates.version).await?);
    }
    let run = Run {
        gates,
        confirm: confirm(args.yes),
        watch: false,
        bake: None,
        abort: Shutdown::on_signals(),
    };
    render(&runway_runbook::deploy(&env, &run).await?)
}

pub async fn ship(ctx: &Ctx, args: ShipArgs) -> anyhow::Result<Exit> {
    let gates = args.deploy.gates.input(ctx)?;
    let env = open(ctx, &args.deploy.env, &args.deploy.ledger).await?;
    let run = Run {
        gates,
        confirm: confirm(args.deploy.yes),
        watch: true,
        bake: args.bake,
        abort: Shutdown::on_signals(),
    };
    render(&runway_runbook::deploy(&env, &run).await?)
}

pub async fn plan(ctx: &Ctx, args: PlanArgs) -> anyhow::Result<Exit> {
    let gates = args.gates.input(ctx)?;
    let env = open(ctx, &args.env, &args.ledger).await?;
    let plan = runway_runbook::plan(&env, &gates).await?;
    let exit = if plan.refused {
        Exit::Failed
    } else {
        Exit::Success
    };
    if args.format == OutputFormat::Json {
        outln!("{}", serde_json::to_string_pretty(&plan)?)?;
        return Ok(exit);
    }
    let secs = |s: f64| humantime::format_duration(Duration::from_secs_f64(s.max(0.0)));
    outln!(
        "plan: {} to {} ({} target)",
        shown(&plan.version),
        plan.environment,
        plan.target
    )?;
    outln!(
        "  now running: {}",
        plan.running
            .as_ref()
            .map(|r| shown(&runway_runbook::describe(r)).into_owned())
            .unwrap_or_else(|| "nothing".into())
    )?;
    outln!(
        "  rollback to: {}",
        plan.rollback_to
            .as_ref()
            .map(|r| shown(&runway_runbook::describe(r)).into_owned())
            .unwrap_or_else(|| "nothing (first deployment)".into())
    )?;
    outln!("  gates:")?;
    for v in &plan.gates {
        outln!(
            "    {:<18} {:<10} {}",
            v.gate,
            v.status.as_str(),
            shown(&v.detail)
        )?;
        if v.refuses()
            && let Some(h) = &v.hint
        {
            outln!("    {:<29}hint: {}", "", shown(h))?;
        }
    }
    outln!("  steps:")?;
    outln!(
        "    1. deploy {}{}, wait up to {} for {}",
        shown(&plan.version),
        plan.deploy
            .image
            .as_deref()
            .map(|i| format!(" (`{}`)", shown(i)))
            .unwrap_or_default(),
        secs(plan.deploy.health_timeout_secs),
        plan.deploy.health_url.as_deref().unwrap_or("the target")
    )?;
    outln!(
        "    2. verify (suite `{}`), expecting version {}",
        plan.verify.suite,
        shown(&plan.verify.expect_version)
    )?;
    let w = &plan.watch;
    outln!(
        "    3. ship only: watch {} (a sample every {}, {} samples at least; availability >= {:.0}%, error rate <= {:.0}%, auth failures <= {:.0}%, p95 <= {} ms); detection delay {}",
        secs(w.bake_secs),
        secs(w.interval_secs),
        w.min_samples,
        w.availability_min * 100.0,
        w.error_rate_max * 100.0,
        w.auth_failure_max * 100.0,
        w.p95_max_ms,
        secs(w.detection_delay_secs)
    )?;
    for c in &w.conditions {
        outln!(
            "       condition `{}` ({}): {}; detection delay {}{}",
            c.name,
            c.source,
            c.reads,
            secs(c.detection_delay_secs),
            if c.source == "prometheus" {
                " plus the query's range and Prometheus' scrape interval"
            } else {
                ""
            }
        )?;
    }
    outln!(
        "    4. on failure: {}, open a {} incident",
        if plan.on_failure.rollback {
            "roll back, verify again, compare with the baseline"
        } else {
            "no automatic rollback (`rollback.auto = false`)"
        },
        plan.on_failure.incident
    )?;
    if !plan.on_failure.on_incident.is_empty() {
        outln!(
            "    on an incident: `runway incident open --sev {} --env {}` rolls back at once (`rollback.on_incident`)",
            plan.on_failure
                .on_incident
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join("|"),
            plan.environment
        )?;
    }
    Ok(exit)
}

pub async fn watch(ctx: &Ctx, args: WatchArgs) -> anyhow::Result<Exit> {
    let env = open(ctx, &args.env, &args.ledger).await?;
    let f = runway_runbook::watch(&env, args.bake, &Shutdown::on_signals()).await?;
    outln!("{}", shown_text(&f.message))?;
    Ok(f.exit())
}

pub async fn rollback(ctx: &Ctx, args: RollbackArgs) -> anyhow::Result<Exit> {
    let to = match &args.to {
        Some(t) => Some(checked_version(ctx, "--to", t)?),
        None => None,
    };
    let env = open(ctx, &args.env, &args.ledger).await?;
    render(&runway_runbook::rollback(&env, to.as_deref(), confirm(args.yes)).await?)
}

pub async fn status(ctx: &Ctx, args: StatusArgs) -> anyhow::Result<Exit> {
    let env = open(ctx, &args.env, &args.ledger).await?;
    let st = runway_runbook::status(&env).await?;
    if args.json || args.format == OutputFormat::Json {
        outln!("{}", serde_json::to_string_pretty(&st)?)?;
    } else {
        outln!("{} ({} target)", shown(&st.environment), st.target)?;
        outln!(
            "  running:  {}",
            st.running
                .as_ref()
                .map(|r| shown(&runway_runbook::describe(r)).into_owned())
                .unwrap_or_else(|| "nothing".into())
        )?;
        match &st.last_deployment {
            Some(l) => outln!(
                "  ledger:   {} `{}` by {} at {}: {}",
                shown(&l.version),
                shown(&l.id),
                shown(&l.operator),
                l.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
                shown(&l.status)
            )?,
            None => outln!("  ledger:   no deployment recorded")?,
        }
        if let Some(l) = &st.last_deployment
            && let (Some(id), Some(status)) = (&l.verification, &l.verification_status)
        {
            outln!("  verdict:  verification `{}` {}", shown(id), shown(status))?;
        }
        if let Some(l) = st.last_deployment.as_ref().filter(|l| l.status == "held") {
            outln!(
                "  held:     {}",
                shown(l.reason.as_deref().unwrap_or("the watch was inconclusive"))
            )?;
            outln!(
                "            resolve it: `runway watch {0}`, `runway deploy {0} --version {1} --accept` or `runway rollback {0}`",
                shown(&st.environment),
                shown(&l.version)
            )?;
        }
        if let Some(h) = &st.deploying {
            outln!("  deploying now: {}", shown(h))?;
        }
        for r in &st.recovered {
            outln!("  recovered: {r}")?;
        }
        if let Some(d) = &st.drift {
            outln!("  drift:    {}", shown(d))?;
        }
    }
    Ok(if st.drift.is_some() {
        Exit::Failed
    } else {
        Exit::Success
    })
}
