//! `runway ledger`: read, export and import the append-only ledger.
//!
//! Also home to what `incident` and `dora` share with it: finding and opening
//! the ledger (`--ledger`, `RUNWAY_LEDGER_URL`, `[ledger] url`, else
//! `.runway/ledger.db`), reading `--since`, and rendering records.

use std::{io::Write, path::PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use runway_core::Exit;
use runway_ledger::{Export, Filter, Kind, Ledger, LedgerUrl, Record};

use super::Ctx;
use crate::term::shown;

/// Where the ledger is; shared by every ledger-reading command.
#[derive(Debug, Clone, clap::Args)]
pub struct LedgerOpt {
    /// The ledger: `sqlite://PATH` or `postgres://USER@HOST:PORT/DB` (default: `[ledger] url`, else `.runway/ledger.db`).
    #[arg(
        long = "ledger",
        env = "RUNWAY_LEDGER_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub ledger: Option<String>,
}

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
                .map(|s| parse_when("--since", s))
                .transpose()?,
            until: self
                .until
                .as_deref()
                .map(|s| parse_when("--until", s))
                .transpose()?,
            ..Filter::default()
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Csv,
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
            let ledger = open_ledger(ctx, &a.ledger).await?;
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
            let ledger = open_ledger(ctx, &a.ledger).await?;
            let record = ledger.get(&a.id).await?;
            let mut out = std::io::stdout().lock();
            if record.kind == Kind::Deployment && a.format != Format::Csv {
                let view = ledger.deployment_view(&record.id).await?;
                if a.format == Format::Json {
                    let doc = runway_ledger::DeploymentShow {
                        record: &record,
                        deployment_view: &view,
                    };
                    serde_json::to_writer_pretty(&mut out, &doc)?;
                    writeln!(out)?;
                } else {
                    super::ledger_deployment::write_deployment(&mut out, &record, &view)?;
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
            let ledger = open_ledger(ctx, &a.ledger).await?;
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
                None => ledger_url(ctx, &a.ledger)?,
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
            let ledger = open_ledger(ctx, &a.ledger).await?;
            let n = ledger.import(&export).await?;
            eprintln!("imported {n} record(s) into `{}`", ledger.url());
            ledger.close().await;
            Ok(Exit::Success)
        }
    }
}

/// Finds the ledger: `--ledger`/`RUNWAY_LEDGER_URL`, else `[ledger] url` in
/// `runway.toml`, else `.runway/ledger.db` in the project.
pub(crate) fn ledger_url(ctx: &Ctx, opt: &LedgerOpt) -> anyhow::Result<LedgerUrl> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    if let Some(u) = opt.ledger.as_deref().filter(|u| !u.trim().is_empty()) {
        return Ok(LedgerUrl::parse(u, &cwd)?);
    }
    let loaded = ctx.config()?;
    if let Some(l) = &loaded
        && let Some(u) = l.config.ledger.resolved_url(&l.path)?
    {
        return Ok(LedgerUrl::parse(&u, &l.root)?);
    }
    let root = loaded.map(|l| l.root).unwrap_or_else(|| ctx.dir());
    Ok(LedgerUrl::default_for(&root))
}

/// The project root the default ledger belongs to.
fn project_root(ctx: &Ctx) -> std::path::PathBuf {
    match ctx.config() {
        Ok(Some(l)) => l.root,
        _ => ctx.dir(),
    }
}

/// Opens the ledger for a command: created only when it is the project's
/// own `.runway/ledger.db` (`runway ledger init` makes one elsewhere).
pub(crate) async fn open_ledger(ctx: &Ctx, opt: &LedgerOpt) -> anyhow::Result<Box<dyn Ledger>> {
    let url = ledger_url(ctx, opt)?;
    Ok(runway_ledger::open_for_project(&url, &project_root(ctx), Default::default()).await?)
}

/// [`open_ledger`] with a pool of `connections` (a monitor stores many runs at once).
pub(crate) async fn open_ledger_with(
    ctx: &Ctx,
    opt: &LedgerOpt,
    connections: u32,
) -> anyhow::Result<Box<dyn Ledger>> {
    let url = ledger_url(ctx, opt)?;
    let options = runway_ledger::OpenOptions {
        max_connections: connections,
        ..runway_ledger::OpenOptions::default()
    };
    Ok(runway_ledger::open_for_project(&url, &project_root(ctx), options).await?)
}

/// A duration back from now (`7d`, `12h`, `30m`, `45s`, `2w`, `1h 30m`: humantime's
/// spelling), or an RFC 3339 time, or a `YYYY-MM-DD` date (UTC midnight).
pub(crate) fn parse_when(flag: &str, s: &str) -> anyhow::Result<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    const CENTURY: std::time::Duration = std::time::Duration::from_secs(100 * 365 * 86_400);
    humantime::parse_duration(s)
        .ok()
        .filter(|d| *d <= CENTURY)
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .map(|back| Utc::now() - back)
        .ok_or_else(|| {
            crate::error::UsageError::new(format!("`{flag} {s}` is not a duration or a time"))
                .with_hint("use a duration such as `90d`, `12h`, `30m`, `2w`, or an RFC 3339 time such as `2026-01-31T00:00:00Z`")
                .into()
        })
}

/// One line describing a record, by kind.
pub(crate) fn summary(r: &Record) -> String {
    match r.kind {
        Kind::Release => match r.release() {
            Ok(b) => {
                let mut s = b.version;
                if let Some(t) = b.tag {
                    s.push_str(&format!(" tag {t}"));
                }
                if let Some(sha) = b.git_sha {
                    s.push_str(&format!(" at {}", short_sha(&sha)));
                }
                s
            }
            Err(e) => e.to_string(),
        },
        Kind::Deployment => match r.deployment() {
            Ok(b) => {
                let mut s = format!("{} to {}", b.release, b.environment);
                if let Some(t) = b.image_tag {
                    s.push_str(&format!(" ({t})"));
                }
                if let Some(a) = b.approver {
                    s.push_str(&format!(", approved by {a}"));
                }
                s
            }
            Err(e) => e.to_string(),
        },
        Kind::Verification => match r.verification() {
            Ok(b) => {
                let s = b.summary;
                format!(
                    "{} of {}: {} passed, {} warned, {} failed, {} skipped",
                    b.suite, b.target, s.passed, s.warned, s.failed, s.skipped
                )
            }
            Err(e) => e.to_string(),
        },
        Kind::Incident => match r.incident() {
            Ok(b) => format!("{} {}", b.severity, b.title),
            Err(e) => e.to_string(),
        },
    }
}

fn short_sha(s: &str) -> &str {
    s.get(..12).unwrap_or(s)
}

pub(crate) fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// A plain aligned table: fast for tens of thousands of rows, no colour.
/// Every cell goes through [`shown`], so a value cannot split a row.
pub(crate) fn write_rows(
    out: &mut impl Write,
    header: &[&str],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| shown(c).into_owned()).collect())
        .collect();
    let rows = &rows;
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, c) in row.iter().enumerate().take(widths.len()) {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let last = header.len().saturating_sub(1);
    let line =
        |out: &mut dyn Write, cells: &mut dyn Iterator<Item = &str>| -> std::io::Result<()> {
            for (i, c) in cells.enumerate() {
                if i == last {
                    writeln!(out, "{c}")?;
                } else {
                    write!(out, "{c:<w$}  ", w = widths[i])?;
                }
            }
            Ok(())
        };
    line(out, &mut header.iter().copied())?;
    for row in rows {
        line(out, &mut row.iter().map(String::as_str))?;
    }
    Ok(())
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

/// A record's events, oldest first.
pub(crate) fn write_history(out: &mut impl Write, r: &Record) -> std::io::Result<()> {
    writeln!(out, "  history")?;
    for e in &r.events {
        write!(
            out,
            "    {}  {:<8} {}",
            stamp(e.at),
            e.kind.as_str(),
            shown(&e.operator)
        )?;
        if let Some(s) = &e.status {
            write!(out, "  → {}", shown(s))?;
        }
        if let Some(n) = &e.note {
            write!(out, "  \"{}\"", shown(n))?;
        }
        if let Some(fact) = e.data.get("fact").and_then(|f| f.as_str()) {
            write!(out, "  {}", shown(fact))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_is_a_duration_back_a_time_or_a_date() {
        let now = Utc::now();
        let back = |s: &str| (now - parse_when("--since", s).unwrap()).num_seconds();
        for (s, secs) in [
            ("45s", 45),
            ("30m", 1800),
            ("12h", 43_200),
            ("7d", 604_800),
            ("2w", 1_209_600),
            ("1h 30m", 5400),
        ] {
            let got = back(s);
            assert!((secs - 1..secs + 5).contains(&got), "`{s}`: {got} s");
        }
        assert_eq!(
            parse_when("--since", "2026-01-31T00:00:00Z")
                .unwrap()
                .to_rfc3339(),
            "2026-01-31T00:00:00+00:00"
        );
        assert_eq!(
            parse_when("--until", "2026-01-31").unwrap().to_rfc3339(),
            "2026-01-31T00:00:00+00:00"
        );
    }

    #[test]
    fn a_bad_when_names_the_flag_and_the_forms() {
        for s in ["yesterday", "7x", "-3d", "", "999999999w"] {
            let e = parse_when("--since", s).unwrap_err();
            let u = e.downcast_ref::<crate::error::UsageError>().unwrap();
            assert_eq!(
                u.message,
                format!("`--since {s}` is not a duration or a time")
            );
            assert!(u.hint.as_deref().unwrap().contains("`90d`"));
        }
    }
}
