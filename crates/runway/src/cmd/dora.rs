//! `runway dora`: the four DORA metrics from the ledger and git.
//!
//! The report is runway-runbook's (`records::dora`: deployments and
//! incidents from the ledger, commit times from git), the same the `dora`
//! tool of `runway mcp` returns; this module parses and renders.

use std::io::Write as _;

use chrono::Utc;
use runway_core::Exit;
use runway_ledger::dora;
use runway_runbook::records::{self, DoraQuery};

use super::{Ctx, LedgerOpt};
use crate::ctx::parse_when;

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
    let query = DoraQuery {
        environment: args.environment.clone(),
        since: parse_when("--since", &args.since)?,
        until: Utc::now(),
    };
    let project = ctx.project()?;
    let ledger = ctx.open_ledger(&args.ledger).await?;
    let report = records::dora(ledger.as_ref(), &project.root(), &query).await;
    ledger.close().await;
    let report = report?;
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
