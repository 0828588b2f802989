//! `runway incident`: open an incident, move it along its timeline, write it up.
//!
//! The timeline is the runbooks' (detected → acknowledged → mitigated →
//! resolved → closed) and only moves forward; the ledger enforces it, so the
//! same rule holds for every client. Severities carry the runbooks' response
//! times (P0 15 min, P1 1 h, P2 4 h, P3 next business day).

use std::{io::Write, path::PathBuf};

use anyhow::Context as _;
use runway_core::{Exit, Severity};
use runway_ledger::IncidentStatus;
use runway_runbook::incident::OpenRequest;
use runway_runbook::records::{self, IncidentQuery, incident_id};

use super::{Ctx, LedgerOpt};
use crate::ctx::parse_when;
use crate::render::{Format, stamp, write_rows};
use crate::term::{shown, shown_text};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Open an incident (status `detected`); prints its id.
    Open(OpenArgs),
    /// Acknowledge: someone is on it.
    Ack(MoveArgs),
    /// Add a note to the incident's timeline.
    Note(NoteArgs),
    /// Mitigated: the impact has stopped (e.g. rolled back).
    Mitigate(MoveArgs),
    /// Resolved: the cause is fixed.
    Resolve(MoveArgs),
    /// Closed: the write-up is done. Only a resolved incident can be closed.
    Close(MoveArgs),
    /// List incidents (open ones unless `--all`).
    List(ListArgs),
    /// Write a postmortem in Markdown, pre-filled from the incident, its deployment and that deployment's verification.
    Postmortem(PostmortemArgs),
}

#[derive(Debug, clap::Args)]
pub struct OpenArgs {
    /// Severity: `P0` (respond < 15 min), `P1` (< 1 h), `P2` (< 4 h), `P3` (next business day).
    #[arg(long = "sev", value_name = "P0-P3")]
    pub severity: Severity,
    /// What is wrong, in a line.
    #[arg(long)]
    pub title: String,
    /// The deployment that caused it (id or unique prefix).
    #[arg(long, value_name = "ID")]
    pub deployment: Option<String>,
    /// The environment it is in. When its `[environments.<env>.rollback]`
    /// `on_incident` names the severity (`["P0"]`), the environment is rolled
    /// back at once, verified, and the rollback recorded with the incident.
    #[arg(long = "env", value_name = "ENV")]
    pub environment: Option<String>,
    /// Open the incident without the rollback its environment's policy asks for.
    #[arg(long)]
    pub no_rollback: bool,
    /// Take the rollback's manual steps as done (no terminal needed).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// `human` (the id on stdout, what was done on stderr) or `json`.
    #[arg(long, value_enum, default_value = "human")]
    pub format: super::deploy::OutputFormat,
    #[command(flatten)]
    pub ledger: LedgerOpt,
}

#[derive(Debug, clap::Args)]
pub struct MoveArgs {
    /// The incident's id (or a unique prefix).
    pub id: String,
    /// A note to record with the change.
    #[arg(long)]
    pub note: Option<String>,
    #[command(flatten)]
    pub ledger: LedgerOpt,
}

#[derive(Debug, clap::Args)]
pub struct NoteArgs {
    /// The incident's id (or a unique prefix).
    pub id: String,
    /// The note.
    pub text: String,
    #[command(flatten)]
    pub ledger: LedgerOpt,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Include resolved and closed incidents.
    #[arg(long)]
    pub all: bool,
    /// Only incidents in this environment.
    #[arg(long = "env", value_name = "ENV")]
    pub environment: Option<String>,
    /// Only incidents detected since (`7d`, `12h`, RFC 3339).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    #[command(flatten)]
    pub ledger: LedgerOpt,
}

#[derive(Debug, clap::Args)]
pub struct PostmortemArgs {
    /// The incident's id (or a unique prefix).
    pub id: String,
    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub ledger: LedgerOpt,
}

pub async fn run(ctx: &Ctx, cmd: Command) -> anyhow::Result<Exit> {
    match cmd {
        Command::Open(a) => open(ctx, a).await,
        Command::Ack(a) => step(ctx, a, IncidentStatus::Acknowledged).await,
        Command::Mitigate(a) => step(ctx, a, IncidentStatus::Mitigated).await,
        Command::Resolve(a) => step(ctx, a, IncidentStatus::Resolved).await,
        Command::Close(a) => step(ctx, a, IncidentStatus::Closed).await,
        Command::Note(a) => {
            let ledger = ctx.open_ledger(&a.ledger).await?;
            let id = incident_id(ledger.as_ref(), &a.id).await?;
            ledger.add_note(&id, &a.text).await?;
            eprintln!("noted on `{id}`");
            ledger.close().await;
            Ok(Exit::Success)
        }
        Command::List(a) => {
            let ledger = ctx.open_ledger(&a.ledger).await?;
            let query = IncidentQuery {
                all: a.all,
                environment: a.environment.clone(),
                since: a
                    .since
                    .as_deref()
                    .map(|s| parse_when("--since", s))
                    .transpose()?,
            };
            let incidents = records::incidents(ledger.as_ref(), &query).await?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            match a.format {
                Format::Json => {
                    serde_json::to_writer_pretty(&mut out, &incidents)?;
                    writeln!(out)?;
                }
                Format::Csv => {
                    writeln!(
                        out,
                        "id,severity,status,detected_at,respond_by,deployment,title"
                    )?;
                    for r in &incidents {
                        let b = r.incident()?;
                        writeln!(
                            out,
                            "{},{},{},{},{},{},\"{}\"",
                            r.id,
                            b.severity,
                            r.status().unwrap_or_default(),
                            b.detected_at.to_rfc3339(),
                            b.respond_by.to_rfc3339(),
                            b.deployment_id.unwrap_or_default(),
                            b.title.replace('"', "\"\"")
                        )?;
                    }
                }
                Format::Human => {
                    let now = chrono::Utc::now();
                    let mut rows = Vec::new();
                    for r in &incidents {
                        let b = r.incident()?;
                        let status = r.status().unwrap_or("detected").to_owned();
                        let respond = if status == "detected" && now > b.respond_by {
                            format!("OVERDUE since {}", stamp(b.respond_by))
                        } else {
                            stamp(b.respond_by)
                        };
                        rows.push(vec![
                            r.id.clone(),
                            b.severity.to_string(),
                            status,
                            stamp(b.detected_at),
                            respond,
                            b.title,
                        ]);
                    }
                    write_rows(
                        &mut out,
                        &["ID", "SEV", "STATUS", "DETECTED", "RESPOND BY", "TITLE"],
                        &rows,
                    )?;
                }
            }
            out.flush()?;
            ledger.close().await;
            Ok(Exit::Success)
        }
        Command::Postmortem(a) => {
            let ledger = ctx.open_ledger(&a.ledger).await?;
            let pm = records::postmortem(ledger.as_ref(), &a.id).await?;
            let (id, md) = (pm.incident, pm.markdown);
            match &a.output {
                Some(path) => {
                    std::fs::write(path, &md)
                        .with_context(|| format!("failed to write `{}`", path.display()))?;
                    eprintln!("wrote the postmortem of `{id}` to `{}`", path.display());
                }
                None => std::io::stdout().lock().write_all(md.as_bytes())?,
            }
            ledger.close().await;
            Ok(Exit::Success)
        }
    }
}

/// `runway incident open`: the incident, then its environment's rollback policy.
async fn open(ctx: &Ctx, a: OpenArgs) -> anyhow::Result<Exit> {
    let loaded = match &a.environment {
        Some(_) => Some(ctx.config()?.ok_or_else(|| {
            crate::error::UsageError::new(
                "`--env` names an environment, but there is no `runway.toml` here or in a parent directory",
            )
            .with_hint("pass `-C DIR` for the project, or leave out `--env`")
        })?),
        None => None,
    };
    let ledger = ctx.open_ledger(&a.ledger).await?;
    let req = OpenRequest {
        severity: a.severity,
        title: a.title.clone(),
        deployment: a.deployment.clone(),
        environment: a.environment.clone(),
        no_rollback: a.no_rollback,
    };
    let observer = a
        .environment
        .as_deref()
        .map(super::deploy::terminal_observer);
    let opened = runway_runbook::incident::open(
        loaded,
        ledger,
        &req,
        super::deploy::confirm(a.yes),
        observer,
    )
    .await?;
    let exit = if opened.rollback.failed() {
        Exit::Failed
    } else {
        Exit::Success
    };
    if a.format == super::deploy::OutputFormat::Json {
        outln!("{}", serde_json::to_string_pretty(&opened)?)?;
        return Ok(exit);
    }
    outln!("{}", opened.incident)?;
    eprintln!(
        "opened {} incident `{}`{}: respond within {} ({})",
        a.severity,
        opened.incident,
        opened
            .environment
            .as_deref()
            .map(|e| format!(" in {}", shown(e)))
            .unwrap_or_default(),
        runway_ledger::postmortem::human_duration(
            chrono::Duration::from_std(a.severity.response_time()).unwrap_or_default()
        ),
        a.severity.action()
    );
    let r = &opened.rollback;
    if r.policy || a.environment.is_some() {
        let label = match r.status.as_str() {
            "rolled_back" => "rolled back:".to_owned(),
            "skipped" | "not_configured" => "no rollback:".to_owned(),
            _ => format!(
                "{} the rollback did not happen:",
                crate::term::error_label()
            ),
        };
        eprintln!("{label} {}", shown_text(&r.message));
        if r.failed() {
            eprintln!(
                "the incident `{}` is open; roll back by hand with `runway rollback {}`",
                opened.incident,
                shown(opened.environment.as_deref().unwrap_or("ENV"))
            );
            if let Some(h) = &r.hint {
                eprintln!("{} {}", crate::term::hint_label(), shown_text(h));
            }
        }
    }
    Ok(exit)
}

async fn step(ctx: &Ctx, a: MoveArgs, to: IncidentStatus) -> anyhow::Result<Exit> {
    let ledger = ctx.open_ledger(&a.ledger).await?;
    let id = incident_id(ledger.as_ref(), &a.id).await?;
    ledger.move_incident(&id, to, a.note.as_deref()).await?;
    eprintln!("incident `{id}` is now `{to}`");
    ledger.close().await;
    Ok(Exit::Success)
}
