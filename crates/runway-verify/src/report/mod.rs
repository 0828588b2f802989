//! Renderers of a [`runway_core::Report`]: for a person (`human`), for tools
//! (`json`, the versioned `runway.report/v1` schema), for CI test tabs
//! (`junit`) and for GitHub Actions (`github`).
//!
//! Every renderer works from the report alone, which has already passed
//! through the redactor, and redacts once more on the way out: a renderer is
//! the last door before a secret would leave the process.

pub mod github;
pub mod human;
pub mod json;
pub mod junit;

use runway_core::{CheckResult, Evidence, Redactor};

/// The output formats of `runway verify --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Junit,
    Github,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "human" => Ok(Format::Human),
            "json" => Ok(Format::Json),
            "junit" => Ok(Format::Junit),
            "github" => Ok(Format::Github),
            other => Err(format!(
                "unknown format `{other}`: use human, json, junit or github"
            )),
        }
    }
}

/// One line summarising what a check saw: `POST http://h/mcp -> 401 in 2.1 ms`.
pub fn evidence_line(e: &Evidence) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(r) = &e.request {
        parts.push(r.clone());
    }
    if let Some(s) = e.status {
        parts.push(format!("-> {s}"));
    }
    if let Some(ms) = e.elapsed_ms {
        parts.push(format!("in {ms:.1} ms"));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Groups checks by their group, keeping the order groups first appear in.
pub fn grouped(checks: &[CheckResult]) -> Vec<(&str, Vec<&CheckResult>)> {
    let mut out: Vec<(&str, Vec<&CheckResult>)> = Vec::new();
    for c in checks {
        match out.iter_mut().find(|(g, _)| *g == c.group()) {
            Some((_, v)) => v.push(c),
            None => out.push((c.group(), vec![c])),
        }
    }
    out
}

/// Renders `report` in `format`. `redactor` scrubs any secret a server echoed.
pub fn render(
    report: &runway_core::Report,
    format: Format,
    color: bool,
    redactor: &Redactor,
) -> String {
    let text = match format {
        Format::Human => human::render(report, color),
        Format::Json => json::render(report),
        Format::Junit => junit::render(report),
        Format::Github => github::annotations(report),
    };
    redactor.redact(&text)
}

#[cfg(test)]
mod tests;
