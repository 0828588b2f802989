//! GitHub Actions output: workflow-command annotations on stdout, and a
//! markdown table for the job's step summary (`$GITHUB_STEP_SUMMARY`).

use std::fmt::Write;

use runway_core::{Report, Status};

use super::evidence_line;

/// Escapes workflow-command data (the message).
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property (`title=`).
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `::error title=...::message` for each failure and `::warning` for each warning.
pub fn annotations(report: &Report) -> String {
    let mut out = String::new();
    for c in &report.checks {
        let level = match c.status {
            Status::Fail => "error",
            Status::Warn => "warning",
            _ => continue,
        };
        let mut msg = c.message.clone();
        if let Some(h) = &c.hint {
            msg.push_str("\nhint: ");
            msg.push_str(h);
        }
        if let Some(e) = evidence_line(&c.evidence) {
            msg.push_str("\nsaw: ");
            msg.push_str(&e);
        }
        let _ = writeln!(
            out,
            "::{level} title={}::{}",
            property(&format!("runway {}", c.id)),
            data(&msg)
        );
    }
    let s = report.summary;
    let _ = writeln!(
        out,
        "runway verify {}: {} passed, {} warned, {} failed, {} skipped",
        report.target, s.passed, s.warned, s.failed, s.skipped
    );
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// A markdown step summary: a headline and one table row per check.
pub fn step_summary(report: &Report) -> String {
    let s = report.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### {} runway verify `{}`\n",
        if report.ok() { "✅" } else { "❌" },
        cell(&report.target)
    );
    let _ = writeln!(
        out,
        "Suite **{}**, era **{}**: {} passed, {} warned, {} failed, {} skipped in {}\n",
        report.suite,
        report.era.label(),
        s.passed,
        s.warned,
        s.failed,
        s.skipped,
        crate::text::duration(std::time::Duration::from_secs_f64(
            report.duration_ms.max(0.0) / 1000.0
        ))
    );
    out.push_str("| | Check | Result | Hint |\n|---|---|---|---|\n");
    for c in &report.checks {
        let icon = match c.status {
            Status::Pass => "✅",
            Status::Warn => "⚠️",
            Status::Fail => "❌",
            Status::Skip => "⏭️",
        };
        let _ = writeln!(
            out,
            "| {icon} | `{}` | {} | {} |",
            c.id,
            cell(&c.message),
            cell(c.hint.as_deref().unwrap_or(""))
        );
    }
    out
}
