//! How `runway ledger show` prints a deployment: every field of its record.
//!
//! A deployment's record is spread over its body, its `fact` events, its
//! final status event and the verification runs and incidents that point at
//! it; [`runway_ledger::DeploymentView`] joins them, and this module only
//! renders the view (a block per part, in the order a deployment happens);
//! its JSON is [`runway_ledger::DeploymentShow`], shared with `runway mcp`.

use std::io::Write;

use runway_ledger::{Analysis, DeploymentView, Record, Rollback, RollbackDecision, Scope};

use crate::render::{stamp, summary, write_history};

/// How many of the kept log lines the human view prints; JSON has them all.
const LOG_LINES: usize = 20;

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn ms(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0} ms")
    } else {
        format!("{x:.1} ms")
    }
}

/// A recorded value on one line, its control characters escapes ([`crate::term::shown`]).
fn one_line(s: &str) -> String {
    crate::term::shown(s).into_owned()
}

pub(crate) fn write_deployment(
    out: &mut impl Write,
    r: &Record,
    v: &DeploymentView,
) -> std::io::Result<()> {
    let d = &v.deployment;
    writeln!(out, "deployment {}", one_line(&v.id))?;
    writeln!(out, "  {}", one_line(&summary(r)))?;
    writeln!(out, "  status    {}", one_line(&v.status.to_string()))?;
    writeln!(
        out,
        "  started   {} by {}",
        stamp(d.started_at),
        one_line(&v.operator)
    )?;
    if let Some(t) = v.finished_at {
        writeln!(out, "  finished  {}", stamp(t))?;
    }
    writeln!(out, "  env       {}", one_line(&d.environment))?;
    writeln!(out, "  version   {}", one_line(&d.release))?;
    let field = |out: &mut dyn Write, name: &str, value: &Option<String>| match value {
        Some(x) => writeln!(out, "  {name:<10}{}", one_line(x)),
        None => Ok(()),
    };
    field(out, "target", &d.target)?;
    field(out, "image", &d.image_tag)?;
    field(out, "digest", &d.image_digest)?;
    field(out, "git sha", &d.git_sha)?;
    writeln!(out, "  operator  {}", one_line(&v.operator))?;
    writeln!(
        out,
        "  approver  {}",
        one_line(d.approver.as_deref().unwrap_or("none recorded"))
    )?;
    writeln!(out, "  window    {}", one_line(&d.window.describe()))?;
    if let Some(of) = &d.rollback_of {
        writeln!(out, "  rolls back {}", one_line(of))?;
    }
    let scope: Vec<&str> = d
        .scope
        .iter()
        .map(|s| match s {
            Scope::Code => "code",
            Scope::Config => "config",
        })
        .collect();
    writeln!(
        out,
        "  scope     {}",
        if scope.is_empty() {
            "not recorded".to_owned()
        } else {
            scope.join(", ")
        }
    )?;
    if let Some(c) = &d.changes {
        let mut since = Vec::new();
        if let Some(p) = &c.previous_version {
            since.push(one_line(p));
        }
        if let Some(p) = &c.previous_deployment {
            since.push(format!("({})", one_line(p)));
        }
        if let Some(p) = &c.previous_git_sha {
            since.push(format!("at {}", one_line(p.get(..12).unwrap_or(p))));
        }
        writeln!(
            out,
            "  changes since the previous deployment{}",
            if since.is_empty() {
                String::new()
            } else {
                format!(" {}", since.join(" "))
            }
        )?;
        if c.code.is_empty() && c.config.is_empty() {
            writeln!(out, "    none")?;
        }
        for line in &c.code {
            writeln!(out, "    code    {}", one_line(line))?;
        }
        for line in &c.config {
            writeln!(out, "    config  {}", one_line(line))?;
        }
    }

    writeln!(out, "  gates")?;
    if v.gates.is_empty() {
        writeln!(out, "    none recorded")?;
    }
    let width = v.gates.iter().map(|g| g.name.len()).max().unwrap_or(0);
    for g in &v.gates {
        writeln!(
            out,
            "    {:<11}{:<width$}  {}",
            g.verdict.as_str(),
            one_line(&g.name),
            one_line(&g.detail)
        )?;
        if let Some(h) = &g.hint {
            writeln!(out, "    {:<11}{:<width$}  hint: {}", "", "", one_line(h))?;
        }
    }

    // What this deployment put in place, and apart from it what a rollback
    // put back: each names its version.
    for (label, x) in [("deployed", &v.deployed), ("back to", &v.rolled_back_to)] {
        let Some(x) = x else { continue };
        let mut parts = Vec::new();
        for (k, val) in [
            ("image", &x.image),
            ("digest", &x.digest),
            ("revision", &x.revision),
            ("detail", &x.detail),
        ] {
            if let Some(val) = val {
                parts.push(format!("{k} {}", one_line(val)));
            }
        }
        let version = x
            .version
            .as_deref()
            .map(|v| format!("{v}: "))
            .unwrap_or_default();
        writeln!(out, "  {label:<9} {version}{}", parts.join(", "))?;
    }

    writeln!(out, "  verification")?;
    if v.verifications.is_empty() {
        writeln!(out, "    none recorded")?;
    }
    let deciding = v.end.as_ref().and_then(|e| e.verification_id.as_deref());
    for x in &v.verifications {
        let s = x.summary;
        writeln!(
            out,
            "    {}  {}  {:<7} {} of {}: {} passed, {} warned, {} failed, {} skipped{}",
            one_line(&x.id),
            stamp(x.at),
            one_line(&x.status.to_string()),
            one_line(&x.suite.to_string()),
            one_line(x.version.as_deref().unwrap_or("-")),
            s.passed,
            s.warned,
            s.failed,
            s.skipped,
            if deciding == Some(x.id.as_str()) {
                "  (decided the outcome)"
            } else {
                ""
            }
        )?;
    }

    writeln!(out, "  analysis")?;
    if v.analyses.is_empty() {
        writeln!(out, "    none recorded")?;
    }
    for a in &v.analyses {
        write_analysis(out, a)?;
    }

    for rb in &v.rollbacks {
        write_rollback(out, rb)?;
    }

    writeln!(out, "  incidents")?;
    if v.incidents.is_empty() {
        writeln!(out, "    none")?;
    }
    for i in &v.incidents {
        writeln!(
            out,
            "    {}  {}  {:<12} {}  (detected {})",
            one_line(&i.id),
            i.severity,
            one_line(&i.status.to_string()),
            one_line(&i.title),
            stamp(i.detected_at)
        )?;
    }

    match &v.end {
        None => writeln!(out, "  outcome   not ended yet")?,
        Some(e) => {
            write!(out, "  outcome   {}", e.outcome)?;
            if let Some(reason) = &e.reason {
                write!(out, ": {}", one_line(reason))?;
            }
            writeln!(out)?;
            let rollback = match &e.rollback {
                Some(RollbackDecision::NotNeeded) => "not needed".to_owned(),
                Some(RollbackDecision::Executed { to, reason }) => format!(
                    "executed{}: {}",
                    to.as_ref()
                        .map(|t| format!(" to {}", one_line(t)))
                        .unwrap_or_default(),
                    one_line(reason)
                ),
                None => "no decision recorded".to_owned(),
            };
            writeln!(out, "  rollback  {rollback}")?;
            if !e.done.is_empty() {
                writeln!(out, "  done")?;
                for step in &e.done {
                    writeln!(out, "    - {}", one_line(step))?;
                }
            }
        }
    }

    for l in &v.logs {
        let lines: Vec<&str> = l.text.lines().collect();
        let shown = &lines[lines.len().saturating_sub(LOG_LINES)..];
        writeln!(
            out,
            "  logs of {}{}: {} bytes{}, last {} of {} kept line(s) shown",
            one_line(l.version.as_deref().unwrap_or("the failed version")),
            format_args!(" ({})", one_line(&l.source)),
            l.bytes,
            if l.truncated {
                format!(", the last {} kept", l.text.len())
            } else {
                String::new()
            },
            shown.len(),
            lines.len()
        )?;
        for line in shown {
            writeln!(out, "    | {}", one_line(line))?;
        }
    }

    write_history(out, r)
}

fn write_analysis(out: &mut impl Write, a: &Analysis) -> std::io::Result<()> {
    let mut parts = vec![format!(
        "{} sample(s){}",
        a.samples,
        a.min_samples
            .map(|m| format!(" (min {m})"))
            .unwrap_or_default()
    )];
    let mut push = |name: &str, v: Option<String>| {
        if let Some(v) = v {
            parts.push(format!("{name} {v}"));
        }
    };
    push("availability", a.availability.map(pct));
    push("error rate", a.error_rate.map(pct));
    push("auth failures", a.auth_failure_rate.map(pct));
    push("p50", a.p50_ms.map(ms));
    push("p95", a.p95_ms.map(ms));
    writeln!(out, "    {:<13}{}", a.verdict.as_str(), parts.join(", "))?;
    if let (Some(s), Some(e)) = (a.started_at, a.ended_at) {
        writeln!(out, "    {:<13}window {} to {}", "", stamp(s), stamp(e))?;
    }
    if let Some(f) = &a.failing {
        writeln!(out, "    {:<13}failing: {}", "", one_line(f))?;
    }
    for c in &a.conditions {
        write_condition(out, c)?;
    }
    Ok(())
}

/// Evaluations of a condition shown by `ledger show` (the newest; the JSON has all kept).
const SHOWN_EVALUATIONS: usize = 10;

fn write_condition(
    out: &mut impl Write,
    c: &runway_ledger::ConditionRecord,
) -> std::io::Result<()> {
    let num = runway_signals::num;
    writeln!(
        out,
        "    {:<13}`{}` ({}): {}: {}",
        "condition",
        one_line(&c.name),
        one_line(&c.source.to_string()),
        c.verdict.as_str(),
        one_line(&c.expression)
    )?;
    let mut bounds = Vec::new();
    if let Some(m) = c.max {
        bounds.push(format!("at most {}", num(m)));
    }
    if let Some(m) = c.min {
        bounds.push(format!("at least {}", num(m)));
    }
    if let Some(f) = c.baseline_factor {
        bounds.push(match c.baseline {
            Some(b) => format!("at most {f}x the previous version's {}", num(b)),
            None => format!("at most {f}x the previous version's (no baseline was read)"),
        });
    } else if let Some(b) = c.baseline {
        bounds.push(format!("previous version {}", num(b)));
    }
    writeln!(out, "    {:<13}bounds: {}", "", bounds.join(", "))?;
    writeln!(
        out,
        "    {:<13}{} passed, {} failed, {} empty, {} errors{}",
        "",
        c.passed,
        c.failed,
        c.empty,
        c.errors,
        c.reason
            .as_deref()
            .map(|r| format!(": {}", one_line(r)))
            .unwrap_or_default()
    )?;
    let skip = c.evaluations.len().saturating_sub(SHOWN_EVALUATIONS);
    let earlier = skip as u64 + u64::from(c.evaluations_dropped);
    if earlier > 0 {
        writeln!(
            out,
            "    {:<13}({earlier} earlier evaluation(s) not shown)",
            ""
        )?;
    }
    for e in &c.evaluations[skip..] {
        writeln!(
            out,
            "    {:<13}{} {} {}: {}",
            "",
            stamp(e.at),
            if e.error { "error" } else { e.verdict.as_str() },
            e.value.map(num).unwrap_or_else(|| "-".into()),
            one_line(&e.message)
        )?;
    }
    Ok(())
}

fn write_rollback(out: &mut impl Write, rb: &Rollback) -> std::io::Result<()> {
    writeln!(
        out,
        "  rolled back {} to {}{} ({}, {}), {}",
        one_line(rb.from_version.as_deref().unwrap_or("?")),
        one_line(rb.to_version.as_deref().unwrap_or("the previous version")),
        rb.to_artifact
            .as_ref()
            .map(|a| format!(" [{}]", one_line(a)))
            .unwrap_or_default(),
        if rb.automatic { "automatic" } else { "by hand" },
        if rb.ok { "succeeded" } else { "FAILED" },
        match rb.finished_at {
            Some(end) => format!("{} to {}", stamp(rb.started_at), stamp(end)),
            None => format!("started {}", stamp(rb.started_at)),
        }
    )?;
    writeln!(out, "    reason    {}", one_line(&rb.reason))?;
    if let Some(v) = &rb.verification_id {
        writeln!(out, "    verified  by {}", one_line(v))?;
    }
    if let Some(b) = &rb.baseline {
        let back = match rb.back_to_baseline {
            Some(true) => "back to baseline: ",
            Some(false) => "NOT back to baseline: ",
            None => "",
        };
        writeln!(out, "    baseline  {back}{}", one_line(b))?;
    }
    for r in &rb.restored {
        writeln!(out, "    restored  {}", one_line(r))?;
    }
    Ok(())
}

/// The provenance chain, after the deployment: commit → release → artifacts
/// → deployed → verified, then every link that does not hold.
pub(crate) fn write_chain(out: &mut impl Write, c: &runway_ledger::Chain) -> std::io::Result<()> {
    writeln!(out, "  provenance")?;
    let none = "none recorded";
    writeln!(
        out,
        "    commit    {}",
        one_line(c.commit.as_deref().unwrap_or(none))
    )?;
    match &c.release {
        Some(r) => writeln!(
            out,
            "    release   {} {}{}{}, recorded {}",
            one_line(&r.id),
            one_line(&r.version),
            r.tag
                .as_deref()
                .map(|t| format!(" (tag {})", one_line(t)))
                .unwrap_or_default(),
            r.git_sha
                .as_deref()
                .map(|s| format!(" at {}", one_line(s)))
                .unwrap_or_default(),
            stamp(r.recorded_at)
        )?,
        None => writeln!(out, "    release   {none}")?,
    }
    match &c.artifacts {
        Some(a) => {
            writeln!(
                out,
                "    artifacts verified {} ({})",
                stamp(a.checked_at),
                if a.passed { "passed" } else { "FAILED" }
            )?;
            for x in &a.artifacts {
                writeln!(
                    out,
                    "      {:<4} {:<6} {}{}",
                    if x.ok { "ok" } else { "FAIL" },
                    one_line(&x.source),
                    one_line(&x.artifact),
                    x.digest
                        .as_deref()
                        .map(|d| format!("  {}", one_line(d)))
                        .unwrap_or_default()
                )?;
            }
        }
        None => writeln!(out, "    artifacts never verified")?,
    }
    match &c.deployed {
        Some(d) => {
            let mut parts = Vec::new();
            if let Some(i) = &d.image {
                parts.push(one_line(i));
            }
            if let Some(x) = &d.digest {
                parts.push(format!("id {}", one_line(x)));
            }
            for r in &d.repo_digests {
                parts.push(one_line(r));
            }
            if parts.is_empty() {
                parts.push(match &d.revision {
                    Some(r) => format!("revision {} (no image)", one_line(r)),
                    None => "no image or revision reported".to_owned(),
                });
            }
            writeln!(out, "    deployed  {}", parts.join(", "))?;
        }
        None => writeln!(out, "    deployed  nothing was put in place")?,
    }
    match &c.verification {
        Some(v) => writeln!(
            out,
            "    verified  {} {}",
            one_line(&v.id),
            one_line(&v.status)
        )?,
        None => writeln!(out, "    verified  {none}")?,
    }
    for b in &c.breaks {
        writeln!(out, "    broken    {}", one_line(b))?;
    }
    Ok(())
}
