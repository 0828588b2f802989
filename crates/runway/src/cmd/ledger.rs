//! `runway ledger`: read, export and import the append-only ledger.
//!
//! Finding the ledger is [`crate::ctx`]'s, reading a record runway-runbook's
//! (`records`), the tables [`crate::render`]'s.

use std::{io::Write, path::PathBuf};

use anyhow::Context as _;
use runway_core::Exit;
use runway_ledger::{Export, Filter, Kind, LedgerUrl, Record};

use super::{Ctx, LedgerOpt};
use crate::render::{Format, stamp, summary, write_history, write_rows};
use crate::term::shown;

/// Which records: shared by `list` and `export`.
#[derive(Debug, Clone, clap::Args)]
pub struct FilterArgs {
    /// Only records of this environment.
    #[arg(long = "env", value_name = "ENV")]
    pub environment: Option<String>,
    /// Only records of this release version.
    #[arg(long = "version", id = "release_version", value_name = "VERSION")]
    pub version: Option<String>,
    /// Only records of this kind: `release`, `deployment`, `verification`, `incident`.
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// Only records created since: a duration back from now (`30m`, `12h`, `7d`, `2w`) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only records created before this time (same forms as `--since`).
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
}

impl FilterArgs {
    pub fn to_filter(&self) -> anyhow::Result<Filter> {
        Ok(Filter {
            kind: self.kind.as_deref().map(str::parse::<Kind>).transpose()?,
            environment: self.environment.clone(),
            version: self.version.clone(),
            since: self
                .since
                .as_deref()
                .map(|s| crate::ctx::parse_when("--since", s))
                .transpose()?,
            until: self
                .until
                .as_deref()
                .map(|s| crate::ctx::parse_when("--until", s))
                .transpose()?,
            ..Filter::default()
        })
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List records, oldest first.
    List(ListArgs),
    /// Show one record with its whole history.
    Show(ShowArgs),
    /// Write records with their full history (`json` re-imports; `csv` is one row per record).
    Export(ExportArgs),
    /// Read an `export --format json` document into this ledger.
    Import(ImportArgs),
    /// Create a ledger (its file and tables) at URL: the one way to start a
    /// SQLite ledger anywhere but the project's own `.runway/ledger.db`.
    Init(InitArgs),
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DB` (default: the ledger the other commands use).
    #[arg(value_name = "URL")]
    pub url: Option<String>,
    #[command(flatten)]
    pub ledger: LedgerOpt,
}

#[derive(Debug, clap::Args)]
#[command(disable_version_flag = true)]
pub struct ListArgs {
    #[command(flatten)]
    pub ledger: LedgerOpt,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// A record id, or a unique prefix of one.
    pub id: String,
    #[command(flatten)]
    pub ledger: LedgerOpt,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
#[command(disable_version_flag = true)]
pub struct ExportArgs {
    #[command(flatten)]
    pub ledger: LedgerOpt,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The export document (`-` for stdin).
    pub file: PathBuf,
    #[command(flatten)]
    pub ledger: LedgerOpt,
}

pub async fn run(ctx: &Ctx, cmd: Command) -> anyhow::Result<Exit> {
    match cmd {
        Command::List(a) => {
            let ledger = ctx.open_ledger(&a.ledger).await?;
            // JSON carries whole histories; the table and CSV need only the current status.
            let filter = a.filter.to_filter()?;
            let records = match a.format {
                Format::Json => ledger.query(&filter, false).await,
                Format::Human | Format::Csv => ledger.query_latest(&filter).await,
            }?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            match a.format {
                Format::Json => {
                    serde_json::to_writer_pretty(&mut out, &records)?;
                    writeln!(out)?;
                }
                Format::Csv => write_csv(&mut out, &records)?,
                Format::Human => write_table(&mut out, &records)?,
            }
            out.flush()?;
            if a.format == Format::Human && records.is_empty() {
                eprintln!("no records match in `{}`", ledger.url());
            }
            ledger.close().await;
            Ok(Exit::Success)
        }
        Command::Show(a) => {
            let ledger = ctx.open_ledger(&a.ledger).await?;
            let record = ledger.get(&a.id).await?;
            let mut out = std::io::stdout().lock();
            if record.kind == Kind::Deployment && a.format != Format::Csv {
                let view = ledger.deployment_view(&record.id).await?;
                let chain = runway_runbook::records::chain(ledger.as_ref(), &view).await?;
                if a.format == Format::Json {
                    let doc = runway_ledger::DeploymentShow {
                        record: &record,
                        deployment_view: &view,
                        chain: Some(&chain),
                    };
                    serde_json::to_writer_pretty(&mut out, &doc)?;
                    writeln!(out)?;
                } else {
                    super::ledger_deployment::write_deployment(&mut out, &record, &view)?;
                    super::ledger_deployment::write_chain(&mut out, &chain)?;
                }
                ledger.close().await;
                return Ok(Exit::Success);
            }
            match a.format {
                Format::Json => {
                    serde_json::to_writer_pretty(&mut out, &record)?;
                    writeln!(out)?;
                }
                Format::Csv => write_csv(&mut out, std::slice::from_ref(&record))?,
                Format::Human => {
                    write_record(&mut out, &record)?;
                    if record.kind == Kind::Release {
                        write_artifacts(&mut out, &record)?;
                        write_release_facts(&mut out, &record)?;
                    }
                    if record.kind == Kind::Release
                        && let Some(v) = &record.version
                    {
                        let filter = Filter {
                            version: Some(v.clone()),
                            ..Filter::default()
                        };
                        let related = ledger.query(&filter, true).await?;
                        write_success(&mut out, &runway_ledger::success::evaluate(v, &related))?;
                    }
                }
            }
            ledger.close().await;
            Ok(Exit::Success)
        }
        Command::Export(a) => {
            let ledger = ctx.open_ledger(&a.ledger).await?;
            let export = ledger.export(&a.filter.to_filter()?).await?;
            let mut buf = Vec::new();
            match a.format {
                Format::Json | Format::Human => {
                    serde_json::to_writer_pretty(&mut buf, &export)?;
                    buf.push(b'\n');
                }
                Format::Csv => write_csv(&mut buf, &export.records)?,
            }
            match &a.output {
                Some(path) => std::fs::write(path, &buf)
                    .with_context(|| format!("failed to write `{}`", path.display()))?,
                None => std::io::stdout().lock().write_all(&buf)?,
            }
            eprintln!(
                "exported {} record(s) from `{}`",
                export.records.len(),
                ledger.url()
            );
            ledger.close().await;
            Ok(Exit::Success)
        }
        Command::Init(a) => {
            let url = match a.url.as_deref().filter(|u| !u.trim().is_empty()) {
                Some(u) => {
                    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
                    LedgerUrl::parse(u, &cwd)?
                }
                None => ctx.ledger_url(&a.ledger)?,
            };
            let existed = match &url {
                LedgerUrl::Sqlite { path } => path.exists(),
                LedgerUrl::Postgres { .. } => false,
            };
            let ledger = runway_ledger::open(&url).await?;
            let version = ledger.schema_version().await?;
            ledger.close().await;
            outln!(
                "{} ledger at `{url}` (schema {version})",
                if existed { "an existing" } else { "a new" }
            )?;
            Ok(Exit::Success)
        }
        Command::Import(a) => {
            let text = if a.file.as_os_str() == "-" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .context("failed to read the export from stdin")?;
                s
            } else {
                std::fs::read_to_string(&a.file)
                    .with_context(|| format!("failed to read `{}`", a.file.display()))?
            };
            let export: Export = serde_json::from_str(&text).map_err(|e| {
                crate::error::usage(format!(
                    "`{}` is not a Runway ledger export: line {}, column {}: {e}",
                    a.file.display(),
                    e.line(),
                    e.column()
                ))
            })?;
            let ledger = ctx.open_ledger(&a.ledger).await?;
            let n = ledger.import(&export).await?;
            eprintln!("imported {n} record(s) into `{}`", ledger.url());
            ledger.close().await;
            Ok(Exit::Success)
        }
    }
}

fn write_table(out: &mut impl Write, records: &[Record]) -> std::io::Result<()> {
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                r.kind.to_string(),
                stamp(r.created_at),
                r.environment.clone().unwrap_or_else(|| "-".into()),
                r.status().unwrap_or("-").to_owned(),
                r.operator.clone(),
                summary(r),
            ]
        })
        .collect();
    write_rows(
        out,
        &[
            "ID", "KIND", "CREATED", "ENV", "STATUS", "OPERATOR", "SUMMARY",
        ],
        &rows,
    )
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn write_csv(out: &mut impl Write, records: &[Record]) -> std::io::Result<()> {
    writeln!(
        out,
        "id,kind,created_at,operator,environment,version,status,ref_id,summary"
    )?;
    for r in records {
        let fields = [
            r.id.clone(),
            r.kind.to_string(),
            r.created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            r.operator.clone(),
            r.environment.clone().unwrap_or_default(),
            r.version.clone().unwrap_or_default(),
            r.status().unwrap_or_default().to_owned(),
            r.ref_id.clone().unwrap_or_default(),
            summary(r),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}

fn write_success(
    out: &mut impl Write,
    s: &runway_ledger::success::ReleaseSuccess,
) -> std::io::Result<()> {
    writeln!(out, "  success criteria ({} deployment(s))", s.deployments)?;
    for c in &s.criteria {
        let verdict = match c.met {
            Some(true) => "met",
            Some(false) => "NOT MET",
            None => "not yet judged",
        };
        writeln!(
            out,
            "    {:<36}{:<22}target {:<6}{verdict}",
            c.name, c.value, c.threshold
        )?;
    }
    let overall = match s.succeeded {
        Some(true) => "succeeded",
        Some(false) => "failed",
        None => "not deployed yet",
    };
    writeln!(out, "  release {overall}")
}

/// The newest `verify-artifacts` run on a release, one line per artifact.
fn write_artifacts(out: &mut impl Write, r: &Record) -> std::io::Result<()> {
    let runs = runway_ledger::artifact_runs(r);
    let Some((at, run)) = runs.last() else {
        return Ok(());
    };
    writeln!(
        out,
        "  artifacts ({}, {} run(s)): {}",
        stamp(*at),
        runs.len(),
        if run.passed { "all work" } else { "FAILED" }
    )?;
    for a in &run.artifacts {
        writeln!(
            out,
            "    {:<5} {:<7} {}",
            if a.ok { "pass" } else { "FAIL" },
            shown(&a.source),
            shown(&a.artifact)
        )?;
        writeln!(out, "          {}", shown(&a.message.replace('\n', " ")))?;
    }
    Ok(())
}

/// Yanks, their confirmations and announcements (`runway release yank|announce`).
fn write_release_facts(out: &mut impl Write, r: &Record) -> std::io::Result<()> {
    use runway_ledger::ReleaseFact;
    for (at, fact) in runway_ledger::release_facts(r) {
        let line = match &fact {
            ReleaseFact::Yanked(y) => format!("yanked: {}", y.reason),
            ReleaseFact::YankConfirmed(c) => format!(
                "yank {}",
                if c.confirmed {
                    "confirmed by every index"
                } else {
                    "NOT yet reported by every index"
                }
            ),
            ReleaseFact::Announced(a) => format!(
                "announced to {}",
                a.deliveries
                    .iter()
                    .map(|d| format!("{}{}", d.notifier, if d.ok { "" } else { " (failed)" }))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ReleaseFact::StepDone(d) => format!(
                "step `{}` done: {}{}",
                d.name,
                d.text,
                d.note
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            ),
        };
        writeln!(out, "  {} {}", stamp(at), shown(&line))?;
    }
    Ok(())
}

fn write_record(out: &mut impl Write, r: &Record) -> std::io::Result<()> {
    writeln!(out, "{} {}", r.kind, shown(&r.id))?;
    writeln!(out, "  {}", shown(&summary(r)))?;
    writeln!(
        out,
        "  created   {} by {}",
        stamp(r.created_at),
        shown(&r.operator)
    )?;
    if let Some(e) = &r.environment {
        writeln!(out, "  env       {}", shown(e))?;
    }
    if let Some(v) = &r.version {
        writeln!(out, "  version   {}", shown(v))?;
    }
    if let Some(s) = r.status() {
        writeln!(out, "  status    {}", shown(s))?;
    }
    if let Some(d) = &r.ref_id {
        writeln!(out, "  belongs   {}", shown(d))?;
    }
    if let serde_json::Value::Object(fields) = &r.body {
        writeln!(out, "  fields")?;
        for (k, v) in fields {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let text = if text.len() > 200 {
                format!("{}…", text.chars().take(200).collect::<String>())
            } else {
                text
            };
            writeln!(out, "    {:<16}{}", shown(k), shown(&text))?;
        }
    }
    write_history(out, r)?;
    if !r.checks.is_empty() {
        writeln!(out, "  checks")?;
        for c in &r.checks {
            writeln!(
                out,
                "    {:<5} {:<28} {}",
                c.status.as_str(),
                shown(&c.id),
                shown(&c.message)
            )?;
            if let Some(h) = &c.hint {
                writeln!(out, "          hint: {}", shown(h))?;
            }
        }
    }
    Ok(())
}
