//! `runway release steps|step`: the `[[release.steps]]` done by hand in a
//! vendor's product (a milestone closed, a dashboard's Deploy button).
//! `steps` shows each with the release's data and whether it was recorded
//! done, `step NAME` records one done (a `step_done` fact on the release
//! record), and `runway release check` fails while a `when = "before"` step
//! of the version being released is not done ([`before_steps_row`]).

use std::io::Write;

use runway_core::Exit;
use runway_ledger::{Ledger, ReleaseFact, StepDone};
use runway_release::plan::{CheckRow, RowStatus};
use runway_runbook::release::ReleaseScope;

use super::Ctx;
use super::release::json;
use crate::args::{PackageArg, ReleaseFormat as Format};
use crate::error::UsageError;

#[derive(Debug, clap::Args)]
pub struct StepsArgs {
    #[command(flatten)]
    pub package: PackageArg,
    /// The release (`1.2.0` or `v1.2.0`); default: the next version when
    /// there is one (not tagged yet), else the last release tag.
    #[arg(value_name = "VERSION")]
    pub version: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
}

#[derive(Debug, clap::Args)]
pub struct StepArgs {
    #[command(flatten)]
    pub package: PackageArg,
    /// The step's `name` in `[[release.steps]]`.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The release (`1.2.0` or `v1.2.0`); default as for `steps`.
    #[arg(long = "version", id = "step_version", value_name = "X.Y.Z")]
    pub version: Option<String>,
    /// What to keep with it (`closed with 0 open issues`).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
}

/// The steps recorded done for `version`, oldest first: when, by whom, what.
type Done = Vec<(chrono::DateTime<chrono::Utc>, String, StepDone)>;

async fn done_steps(ledger: &dyn Ledger, version: &str) -> anyhow::Result<Done> {
    let record = ledger.release_record(version).await?;
    Ok(record
        .iter()
        .flat_map(|r| {
            runway_ledger::release_facts(r)
                .into_iter()
                .filter_map(|(at, f)| match f {
                    ReleaseFact::StepDone(d) => Some((at, r.operator.clone(), d)),
                    _ => None,
                })
        })
        .collect())
}

/// `runway release check`'s row for the `when = "before"` steps of the
/// version being released (`version`: the tag checked, else the next
/// version): a failure naming each one not recorded done; a warning when
/// the ledger cannot be read, so nothing says whether they were. `None`
/// when no step is `before`.
pub async fn before_steps_row(
    ctx: &Ctx,
    scope: &ReleaseScope,
    version: Option<String>,
    ledger: &super::LedgerOpt,
) -> Option<CheckRow> {
    let before: Vec<&runway_config::ReleaseStep> = scope
        .cfg
        .steps
        .iter()
        .filter(|s| s.when == runway_config::StepWhen::Before)
        .collect();
    if before.is_empty() {
        return None;
    }
    let row = |status, detail: String, hints: Vec<String>| CheckRow {
        name: "steps before release".to_owned(),
        status,
        detail,
        hints,
        duration_ms: None,
    };
    let notes = match scope.notes(version).await {
        Ok(n) => n,
        Err(e) => {
            return Some(row(
                RowStatus::Warn,
                format!("cannot tell which release the steps are for: {e}"),
                vec!["pass the tag being released with `--tag`".to_owned()],
            ));
        }
    };
    // A gate reads: it never creates a ledger (a new `.runway/` would make
    // the next check's `clean tree` fail).
    let done = match ctx.open_existing_ledger(ledger).await {
        Ok(l) => {
            let d = done_steps(l.as_ref(), &notes.version).await;
            l.close().await;
            d
        }
        Err(e) => Err(e),
    };
    let done = match done {
        Ok(d) => d,
        Err(e) => {
            return Some(row(
                RowStatus::Warn,
                format!(
                    "{} step(s) to do before {}, and the ledger that records them cannot be read: {}",
                    before.len(),
                    notes.version,
                    e.to_string().lines().next().unwrap_or_default()
                ),
                vec![format!(
                    "point `--ledger` (or `RUNWAY_LEDGER_URL`) at the ledger where `runway release step NAME --version {}` records them",
                    notes.version
                )],
            ));
        }
    };
    let pending: Vec<&&runway_config::ReleaseStep> = before
        .iter()
        .filter(|s| !done.iter().any(|(_, _, d)| d.name == s.name))
        .collect();
    Some(if pending.is_empty() {
        row(
            RowStatus::Pass,
            format!(
                "{} step(s) before {} recorded done",
                before.len(),
                notes.version
            ),
            Vec::new(),
        )
    } else {
        row(
            RowStatus::Fail,
            format!(
                "not recorded done before {}: {}",
                notes.version,
                pending
                    .iter()
                    .map(|s| format!("`{}`", s.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            pending
                .iter()
                .map(|s| {
                    format!(
                        "{}; then `runway release step {} --version {}`",
                        step_text(s, &notes.version, &notes.tag),
                        s.name,
                        notes.version
                    )
                })
                .collect(),
        )
    })
}

/// A step's text with the release's data filled in.
fn step_text(step: &runway_config::ReleaseStep, version: &str, tag: &str) -> String {
    step.text
        .replace("{version}", version)
        .replace("{tag}", tag)
}

fn no_steps(scope: &ReleaseScope) -> UsageError {
    UsageError::new(format!(
        "no `[[release.steps]]` in `{}`",
        scope.root.join("runway.toml").display()
    ))
    .with_hint("add one per step done by hand: `[[release.steps]]` with `name`, `text` (`{version}`, `{tag}` filled in) and `when = \"before\"` or `\"after\"`; see docs/release.md")
}

/// `runway release steps [VERSION]`: each step with its data, done or not.
pub async fn steps(ctx: &Ctx, scope: &ReleaseScope, a: StepsArgs) -> anyhow::Result<Exit> {
    if scope.cfg.steps.is_empty() {
        return Err(no_steps(scope).into());
    }
    let notes = scope.notes(a.version.clone()).await?;
    let ledger = ctx.open_ledger(&a.ledger).await?;
    let done = done_steps(ledger.as_ref(), &notes.version).await;
    ledger.close().await;
    let done = done?;
    let rows: Vec<serde_json::Value> = scope
        .cfg
        .steps
        .iter()
        .map(|s| {
            let last = done.iter().rev().find(|(_, _, d)| d.name == s.name);
            serde_json::json!({
                "name": s.name,
                "when": s.when.as_str(),
                "text": step_text(s, &notes.version, &notes.tag),
                "done": last.is_some(),
                "done_at": last.map(|(at, _, _)| at),
                "note": last.and_then(|(_, _, d)| d.note.clone()),
            })
        })
        .collect();
    let pending = rows.iter().filter(|r| r["done"] == false).count();
    if a.format == Format::Json {
        json(&serde_json::json!({
            "version": notes.version,
            "tag": notes.tag,
            "pending": pending,
            "steps": rows,
        }))?;
    } else {
        for r in &rows {
            let state = if r["done"] == true { "done" } else { "pending" };
            outln!(
                "{:<7} {:<6} {}  {}",
                state,
                r["when"].as_str().unwrap_or_default(),
                r["name"].as_str().unwrap_or_default(),
                crate::term::shown(r["text"].as_str().unwrap_or_default())
            )?;
        }
        let mut err = anstream::stderr();
        let _ = writeln!(
            err,
            "{} of {} step(s) of {} done; record one with `runway release step NAME --version {}`",
            rows.len() - pending,
            rows.len(),
            notes.version,
            notes.version
        );
    }
    Ok(Exit::Success)
}

/// `runway release step NAME`: records the step done on the release record.
pub async fn step(ctx: &Ctx, scope: &ReleaseScope, a: StepArgs) -> anyhow::Result<Exit> {
    if scope.cfg.steps.is_empty() {
        return Err(no_steps(scope).into());
    }
    let Some(s) = scope.cfg.steps.iter().find(|s| s.name == a.name) else {
        let names: Vec<&str> = scope.cfg.steps.iter().map(|s| s.name.as_str()).collect();
        return Err(
            UsageError::new(format!("no step `{}` in `[[release.steps]]`", a.name))
                .with_hint(format!("the steps are: {}", names.join(", ")))
                .into(),
        );
    };
    let notes = scope.notes(a.version.clone()).await?;
    let ledger = ctx.open_ledger(&a.ledger).await?;
    let fact = ReleaseFact::StepDone(runway_ledger::StepDone {
        version: notes.version.clone(),
        name: s.name.clone(),
        text: step_text(s, &notes.version, &notes.tag),
        when: s.when.as_str().to_owned(),
        note: a.note.clone().filter(|n| !n.trim().is_empty()),
    });
    let release_id = super::release_post::record_and_close(ledger, &notes, &fact).await?;
    if a.format == Format::Json {
        json(&serde_json::json!({
            "version": notes.version,
            "step": s.name,
            "release_id": release_id,
        }))?;
    } else {
        outln!(
            "recorded step `{}` done for {} (release `{release_id}`)",
            s.name,
            notes.version
        )?;
    }
    Ok(Exit::Success)
}
