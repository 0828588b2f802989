//! The report for a person at a terminal: grouped, aligned, a hint under each
//! problem, and one summary line at the end.

use std::fmt::Write;

use runway_core::shown::shown;
use runway_core::{Report, Status};

use super::{evidence_line, grouped};

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    fn status(&self, s: Status) -> String {
        match s {
            Status::Pass => self.wrap("32", "PASS"),
            Status::Warn => self.wrap("33;1", "WARN"),
            Status::Fail => self.wrap("31;1", "FAIL"),
            Status::Skip => self.wrap("2", "SKIP"),
        }
    }
}

/// Renders `report`; `color` adds ANSI colours (pass `false` when `NO_COLOR` is set or stdout is not a terminal).
pub fn render(report: &Report, color: bool) -> String {
    let p = Paint(color);
    let mut out = String::new();
    // A server's words (its name, tool names, error messages) reach these
    // lines: each is escaped so it cannot recolour the terminal or split a row.
    let _ = writeln!(
        out,
        "{} {}",
        p.wrap("1", "runway verify"),
        shown(&report.target)
    );
    let _ = writeln!(out, "suite {}, era {}", report.suite, report.era.label());
    let width = report.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
    for (group, checks) in grouped(&report.checks) {
        let _ = writeln!(out, "\n{}", p.wrap("1", group));
        for c in checks {
            let _ = writeln!(
                out,
                "  {} {:<width$}  {}{}",
                p.status(c.status),
                shown(&c.id),
                shown(&c.message),
                if c.duration_ms >= 1.0 {
                    p.wrap("2", &format!("  ({:.0} ms)", c.duration_ms))
                } else {
                    String::new()
                },
            );
            if matches!(c.status, Status::Warn | Status::Fail) {
                if let Some(h) = &c.hint {
                    let _ = writeln!(out, "       {} {}", p.wrap("36;1", "hint:"), shown(h));
                }
                if let Some(e) = evidence_line(&c.evidence) {
                    let _ = writeln!(out, "       {} {}", p.wrap("2", "saw:"), shown(&e));
                }
                if let Some(r) = rests_on(&c.evidence.details) {
                    let _ = writeln!(out, "       {} {}", p.wrap("2", "rule:"), shown(&r));
                }
            }
        }
    }
    let s = report.summary;
    let verdict = if report.ok() {
        p.wrap("32;1", "ok")
    } else {
        p.wrap("31;1", "FAILED")
    };
    let _ = writeln!(
        out,
        "\n{verdict}: {} passed, {} warned, {} failed, {} skipped in {}",
        s.passed,
        s.warned,
        s.failed,
        s.skipped,
        crate::text::duration(std::time::Duration::from_secs_f64(
            report.duration_ms.max(0.0) / 1000.0
        ))
    );
    out
}

/// What a finding rests on, for the `rule:` line: the specification's
/// section, Runway's policy (and how to turn it off), or the operator's own
/// expectation.
fn rests_on(details: &serde_json::Value) -> Option<String> {
    match details.get("kind")?.as_str()? {
        "spec" => Some(match details.get("spec").and_then(|s| s.as_str()) {
            Some(s) => format!("MCP specification {s}"),
            None => "MCP specification".to_owned(),
        }),
        "policy" => {
            Some("Runway policy (off with `policies = false` in the environment)".to_owned())
        }
        "expectation" => {
            Some("your expectation (the environment's or the flags' settings)".to_owned())
        }
        _ => None,
    }
}
