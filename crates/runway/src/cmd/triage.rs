//! `runway triage <env>`: the incident triage on one screen, in the
//! dynamic-mcp runbook's order. The assembly is `runway_runbook::triage`'s
//! (the `triage` MCP tool returns the same); this renders it.

use std::{io::Write, time::Duration};

use runway_core::Exit;
use runway_runbook::triage::{Endpoint, Triage, TriageOptions};

use super::Ctx;
use super::deploy::OutputFormat;
use crate::error::UsageError;
use crate::render::stamp;
use crate::term::shown;

fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|_| format!("`{s}` is not a duration: write it as `5s`, `30s` or `2m`"))
        .and_then(|d| {
            if d.is_zero() {
                Err("the duration must be longer than zero".into())
            } else if d > Duration::from_secs(600) {
                Err("at most `10m`: triage is a quick look".into())
            } else {
                Ok(d)
            }
        })
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 nothing is wrong, 1 something is (each problem listed), 2 usage or configuration error. Reads only: nothing is recorded."
)]
pub struct Args {
    /// The environment (`[environments.<name>]` in `runway.toml`).
    pub env: String,
    /// How long the `/metrics` conditions watch the server's counters (a scrape at each end).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    pub window: Duration,
    /// Each probe's bound (health, `/readyz`, the handshake, a scrape, a query).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = duration)]
    pub timeout: Duration,
    /// How many of the last deployments to list.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub deployments: usize,
    /// `human` or `json`.
    #[arg(long, value_enum, default_value = "human")]
    pub format: OutputFormat,
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Exit> {
    let loaded = ctx.config()?.ok_or_else(|| {
        UsageError::new("there is no `runway.toml` here or in a parent directory")
            .with_hint("run `runway init`, or pass `-C DIR` for the project")
    })?;
    let ledger = ctx.open_ledger(&args.ledger).await?;
    let opts = TriageOptions {
        window: args.window,
        timeout: args.timeout,
        deployments: args.deployments,
    };
    let t = runway_runbook::triage::triage(&loaded, &args.env, ledger.as_ref(), &opts).await;
    ledger.close().await;
    let t = t?;
    let exit = if t.healthy {
        Exit::Success
    } else {
        Exit::Failed
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &t)?;
            writeln!(out)?;
        }
        OutputFormat::Human => human(&mut out, &t)?,
    }
    out.flush()?;
    Ok(exit)
}

fn endpoint(out: &mut impl Write, what: &str, e: &Endpoint) -> std::io::Result<()> {
    writeln!(
        out,
        "  {what:<9}{:<11}{}{}",
        e.status,
        e.url
            .as_deref()
            .map(|u| format!("{} ", shown(u)))
            .unwrap_or_default(),
        shown(&e.message)
    )
}

fn human(out: &mut impl Write, t: &Triage) -> std::io::Result<()> {
    writeln!(
        out,
        "triage of {} at {}: {}",
        shown(&t.environment),
        stamp(t.at),
        if t.healthy {
            "nothing is wrong".to_owned()
        } else {
            format!(
                "{} wrong",
                runway_verify::text::count(t.problems.len(), "thing")
            )
        }
    )?;
    writeln!(out, "1. readiness")?;
    let r = &t.readiness;
    endpoint(out, "health", &r.health)?;
    endpoint(out, "readyz", &r.readyz)?;
    writeln!(
        out,
        "  {:<9}{:<11}{}{} ({:.0} ms)",
        "mcp",
        r.mcp.status,
        shown(&r.mcp.message),
        r.mcp
            .version
            .as_deref()
            .map(|v| format!(", version {}", shown(v)))
            .unwrap_or_default(),
        r.mcp.latency_ms
    )?;
    writeln!(out, "2. auth denials and errors")?;
    writeln!(out, "  {}", shown(&t.traffic.message))?;
    for c in &t.traffic.conditions {
        writeln!(
            out,
            "  {:<11}{} ({}): {}",
            if c.error { "error" } else { c.verdict.as_str() },
            shown(&c.condition),
            c.source.as_str(),
            shown(&c.message)
        )?;
    }
    if let Some(l) = &t.logs {
        writeln!(
            out,
            "  {:<11}output ([logs]): {}",
            l.status,
            shown(&l.message)
        )?;
    }
    writeln!(out, "3. last deployments")?;
    if t.deployments.is_empty() {
        writeln!(out, "  none recorded")?;
    }
    for d in &t.deployments {
        writeln!(
            out,
            "  {} {} {} by {} at {}{}",
            shown(&d.id),
            shown(&d.version),
            shown(&d.status),
            shown(&d.operator),
            stamp(d.started_at),
            d.reason
                .as_deref()
                .map(|r| format!(": {}", shown(r)))
                .unwrap_or_default()
        )?;
    }
    writeln!(out, "4. open incidents")?;
    if t.incidents.is_empty() {
        writeln!(out, "  none")?;
    }
    for i in &t.incidents {
        let age =
            runway_ledger::postmortem::human_duration(chrono::Duration::seconds(i.age_secs.max(0)));
        writeln!(
            out,
            "  {} {} {} for {age}, {}: {}",
            shown(&i.id),
            i.severity,
            shown(&i.status),
            if i.overdue {
                format!("OVERDUE since {}", stamp(i.respond_by))
            } else {
                format!("respond by {}", stamp(i.respond_by))
            },
            shown(&i.title)
        )?;
    }
    writeln!(out, "5. deploy lock")?;
    match &t.lock {
        None => writeln!(out, "  free")?,
        Some(l) => writeln!(
            out,
            "  held by {} since {} (lease until {}){}",
            shown(&l.holder),
            stamp(l.acquired_at),
            stamp(l.expires_at),
            if l.stale {
                "; its process is gone: the next deploy takes it over"
            } else {
                ""
            }
        )?,
    }
    if !t.problems.is_empty() {
        writeln!(out, "wrong:")?;
        for p in &t.problems {
            writeln!(out, "  - {}", shown(p))?;
        }
    }
    Ok(())
}
