//! Rendering records for a terminal: the aligned tables and one-line summaries
//! `runway ledger`, `runway incident` and the deployment view share.

use std::io::Write;

use chrono::{DateTime, Utc};
use runway_ledger::{Kind, Record};

use crate::term::shown;

/// `--format` of the record-listing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Csv,
}

/// One line describing a record, by kind.
pub fn summary(r: &Record) -> String {
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

pub fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// A plain aligned table: fast for tens of thousands of rows, no colour.
/// Every cell goes through [`shown`], so a value cannot split a row.
pub fn write_rows(
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

/// A record's events, oldest first.
pub fn write_history(out: &mut impl Write, r: &Record) -> std::io::Result<()> {
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
