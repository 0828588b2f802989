//! `runway dora`: the four DORA metrics from the ledger and git.
//!
//! Deployments and incidents come from the ledger; each deployment's commit
//! time comes from the project's git repository through
//! `runway_release::git::commit_times` (one `git` process for every SHA).

use std::{collections::HashSet, io::Write as _};

use chrono::Utc;
use runway_core::Exit;
use runway_ledger::{Filter, Kind, Outcome, dora};

use super::{
    Ctx,
    ledger::{LedgerOpt, open_ledger, parse_when},
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this environment (default: every environment).
    #[arg(long = "env", value_name = "ENV")]
    pub environment: Option<String>,
    /// The window: a duration back from now (`90d`, `12w`) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN", default_value = "90d")]
    pub since: String,
    #[arg(long, value_enum, default_value = "human")]
    pub format: DoraFormat,
    #[command(flatten)]
    pub ledger: LedgerOpt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DoraFormat {
    Human,
    Json,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Exit> {
    let since = parse_when("--since", &args.since)?;
    let until = Utc::now();
    let ledger = open_ledger(ctx, &args.ledger).await?;
    let mut filter = Filter {
        kind: Some(Kind::Deployment),
        environment: args.environment.clone(),
        since: Some(since),
        ..Filter::default()
    };
    // A deployment's outcome and end are its latest status event: no need for the rest.
    let deployments = ledger.query_latest(&filter).await?;
    filter.kind = Some(Kind::Incident);
    let incidents = ledger.query(&filter, false).await?;
    ledger.close().await;

    let shas: HashSet<String> = deployments
        .iter()
        .filter(|d| d.outcome() == Some(Outcome::Verified))
        .filter_map(|d| d.deployment().ok().and_then(|b| b.git_sha))
        .collect();
    let repo = ctx
        .config()
        .ok()
        .flatten()
        .map(|l| l.root)
        .unwrap_or_else(|| ctx.dir());
    let commit_times =
        tokio::task::spawn_blocking(move || runway_release::git::commit_times(&repo, &shas))
            .await
            .unwrap_or_default();

    let report = dora::compute(
        &deployments,
        &incidents,
        &commit_times,
        args.environment.as_deref(),
        since,
        until,
    );
    let mut out = std::io::stdout().lock();
    match args.format {
        DoraFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        DoraFormat::Human => write_human(&mut out, &report)?,
    }
    for n in &report.notes {
        eprintln!("note: {}", crate::term::shown(n));
    }
    Ok(Exit::Success)
}

fn write_human(out: &mut impl std::io::Write, r: &dora::DoraReport) -> std::io::Result<()> {
    use runway_ledger::postmortem::human_duration;
    let hours = |h: f64| human_duration(chrono::Duration::milliseconds((h * 3_600_000.0) as i64));
    let days = (r.until - r.since).num_days();
    writeln!(
        out,
        "DORA metrics for {}, {} to {} ({days} days): {} deployment(s), {} failed",
        r.environment.as_deref().unwrap_or("every environment"),
        r.since.format("%Y-%m-%d"),
        r.until.format("%Y-%m-%d"),
        r.deployments,
        r.failed_deployments
    )?;
    let o = &r.outcomes;
    writeln!(
        out,
        "  {} verified, {} held, {} rolled back, {} failed; {} aborted, {} interrupted, {} refused (not counted); {} rollback(s), {} restore(s)",
        o.verified,
        o.held,
        o.rolled_back,
        o.failed,
        o.aborted,
        o.interrupted,
        o.refused,
        r.rollbacks,
        r.restores
    )?;
    let band = |m: &dora::Metric| m.band.map(|b| b.as_str()).unwrap_or("n/a");
    let rows = [
        (
            "deployment frequency",
            r.deployment_frequency
                .value
                .map(|v| format!("{v:.2} per day"))
                .unwrap_or_else(|| "n/a".into()),
            band(&r.deployment_frequency),
        ),
        (
            "lead time for changes",
            r.lead_time_for_changes
                .value
                .map(|v| {
                    format!(
                        "{} (median of {})",
                        hours(v),
                        r.lead_time_for_changes.sample
                    )
                })
                .unwrap_or_else(|| "n/a (no verified deployment with a known commit)".into()),
            band(&r.lead_time_for_changes),
        ),
        (
            "change failure rate",
            r.change_failure_rate
                .value
                .map(|v| format!("{v:.1}% ({} of {})", r.failed_deployments, r.deployments))
                .unwrap_or_else(|| "n/a (no deployments)".into()),
            band(&r.change_failure_rate),
        ),
        (
            "failed-deployment recovery",
            r.failed_deployment_recovery_time
                .value
                .map(|v| {
                    format!(
                        "{} (median of {})",
                        hours(v),
                        r.failed_deployment_recovery_time.sample
                    )
                })
                .unwrap_or_else(|| "n/a (no recovered failures)".into()),
            band(&r.failed_deployment_recovery_time),
        ),
    ];
    for (name, value, band) in rows {
        writeln!(out, "  {name:<28}{band:<8}{value}")?;
    }
    Ok(())
}
