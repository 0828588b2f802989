//! After the release: `runway release notes|report|yank|announce`.
//!
//! `notes` renders one version's notes with the changelog's renderer
//! (`ReleaseScope::notes`); `report` reads the ledger (`ReleaseScope::report`)
//! and judges `[release.criteria]`; `yank` gives the steps per index and
//! records the yank, then `--confirm` reads the indexes back
//! (`ArtifactCheck::check_yanked`); `announce` posts the notes to the
//! `[release] announce` notifiers (`runway_monitor::Notifier::announce`).
//! Each records what it did on the release record (`record_release_fact`).

use std::io::Write;

use runway_core::Exit;
use runway_ledger::{
    AnnounceDelivery, Announcement, ReleaseFact, Yank, YankCheck, YankConfirmation, YankStep,
};
use runway_runbook::release::ReleaseScope;

use super::Ctx;
use super::release::json;
use crate::args::{PackageArg, ReleaseFormat as Format};
use crate::error::UsageError;

#[derive(Debug, clap::Args)]
pub struct NotesArgs {
    #[command(flatten)]
    pub package: PackageArg,
    /// The release (`1.2.0` or `v1.2.0`); default: the next version when
    /// there is one (not tagged yet), else the last release tag.
    #[arg(value_name = "VERSION")]
    pub version: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub package: PackageArg,
    /// The release (`1.2.0` or `v1.2.0`).
    #[arg(value_name = "VERSION")]
    pub version: String,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
}

#[derive(Debug, clap::Args)]
pub struct YankArgs {
    #[command(flatten)]
    pub package: PackageArg,
    /// The release to yank (`1.2.0` or `v1.2.0`).
    #[arg(value_name = "VERSION")]
    pub version: String,
    /// Why (recorded, and the reason `npm deprecate` shows).
    #[arg(long, value_name = "TEXT", required_unless_present = "confirm")]
    pub reason: Option<String>,
    /// Read the indexes and record whether they report the version yanked.
    #[arg(long, conflicts_with = "reason")]
    pub confirm: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
}

#[derive(Debug, clap::Args)]
pub struct AnnounceArgs {
    #[command(flatten)]
    pub package: PackageArg,
    /// The release (`1.2.0` or `v1.2.0`); default: the last release tag.
    #[arg(value_name = "VERSION")]
    pub version: Option<String>,
    /// Post again to notifiers that already took this release.
    #[arg(long)]
    pub again: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
}

/// Records `fact` on the release record of `notes`' version and tag, then
/// closes the ledger (whether or not the write took): the record's id.
pub(super) async fn record_and_close(
    ledger: Box<dyn runway_ledger::Ledger>,
    notes: &runway_release::plan::Notes,
    fact: &ReleaseFact,
) -> anyhow::Result<String> {
    let release = runway_ledger::Release {
        version: notes.version.clone(),
        tag: Some(notes.tag.clone()),
        ..runway_ledger::Release::default()
    };
    let recorded = ledger.record_release_fact(&release, fact).await;
    ledger.close().await;
    Ok(recorded?)
}

pub async fn notes(scope: &ReleaseScope, a: NotesArgs) -> anyhow::Result<Exit> {
    let notes = scope.notes(a.version).await?;
    let mut err = anstream::stderr();
    for w in &notes.warnings {
        let _ = writeln!(err, "warning: {}", crate::term::shown_text(w));
    }
    if !notes.tagged {
        let _ = writeln!(
            err,
            "note: `{}` is not tagged yet: these are the commits since {}",
            notes.tag,
            notes
                .previous_tag
                .as_deref()
                .map_or("the first commit".to_owned(), |t| format!("`{t}`"))
        );
    }
    if a.format == Format::Json {
        json(&notes)?;
    } else {
        out!("{}", notes.markdown)?;
    }
    Ok(Exit::Success)
}

pub async fn report(ctx: &Ctx, scope: &ReleaseScope, a: ReportArgs) -> anyhow::Result<Exit> {
    let ledger = ctx.open_ledger(&a.ledger).await?;
    let report = scope.report(ledger.as_ref(), &a.version).await;
    ledger.close().await;
    let report = report?;
    if a.format == Format::Json {
        json(&report)?;
    } else {
        out!("{}", report.markdown())?;
    }
    if !report.passed {
        let unmet: Vec<&str> = report
            .criteria
            .iter()
            .filter(|c| c.met == Some(false))
            .map(|c| c.name)
            .collect();
        let mut err = anstream::stderr();
        let _ = writeln!(
            err,
            "{} `{}` does not meet {} (`[release.criteria]` in runway.toml)",
            crate::term::error_label(),
            crate::term::shown(&report.version),
            unmet
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(if report.passed {
        Exit::Success
    } else {
        Exit::Failed
    })
}

/// A version that was never released (no tag, no release record) cannot be yanked.
async fn require_release(
    scope: &ReleaseScope,
    ledger: &dyn runway_ledger::Ledger,
    version: &str,
    tag: &str,
) -> anyhow::Result<()> {
    if ledger.release_record(version).await?.is_some() {
        return Ok(());
    }
    let tagged = runway_release::version::parse(version)
        .ok()
        .and_then(|v| {
            runway_release::git::tag_for_version(&scope.root, &scope.cfg.tag_prefix, &v).ok()
        })
        .flatten()
        .is_some();
    if tagged {
        return Ok(());
    }
    Err(UsageError::new(format!(
        "there is no release `{version}`: no tag `{tag}` and no release record of it in the ledger `{}`",
        ledger.url()
    ))
    .with_hint("check the version (`git tag --list`), run `git fetch --tags`, or pass `--ledger URL` for the team's ledger")
    .into())
}

pub async fn yank(ctx: &Ctx, scope: &ReleaseScope, a: YankArgs) -> anyhow::Result<Exit> {
    let project = ctx.project()?;
    let check = scope.artifacts(&project, Some(&a.version)).await?;
    let ledger = ctx.open_ledger(&a.ledger).await?;
    let result = if a.confirm {
        confirm(ledger.as_ref(), &check, a.format).await
    } else {
        let reason = a.reason.as_deref().unwrap_or("").trim().to_owned();
        start_yank(scope, ledger.as_ref(), &check, &reason, a.format).await
    };
    ledger.close().await;
    result
}

async fn start_yank(
    scope: &ReleaseScope,
    ledger: &dyn runway_ledger::Ledger,
    check: &runway_runbook::release::ArtifactCheck,
    reason: &str,
    format: Format,
) -> anyhow::Result<Exit> {
    if reason.is_empty() {
        return Err(UsageError::new("`--reason` is empty")
            .with_hint("say why, e.g. `--reason \"crashes on start with Python 3.13\"`")
            .into());
    }
    require_release(scope, ledger, check.version(), check.tag()).await?;
    let steps = check.yank_steps(reason);
    let fact = ReleaseFact::Yanked(Yank {
        version: check.version().to_owned(),
        reason: reason.to_owned(),
        steps: steps
            .iter()
            .map(|s| YankStep {
                source: s.source.as_str().to_owned(),
                artifact: s.artifact.clone(),
                action: s.action.clone(),
                note: s.note.clone(),
                checkable: s.checkable,
            })
            .collect(),
    });
    let release_id = ledger.record_release_fact(&check.release(), &fact).await?;
    if format == Format::Json {
        json(&serde_json::json!({
            "version": check.version(),
            "reason": reason,
            "release_id": release_id,
            "steps": steps,
        }))?;
    } else {
        let mut err = anstream::stderr();
        for s in &steps {
            let _ = writeln!(
                err,
                "{} {}: {}",
                s.source.as_str(),
                s.artifact,
                crate::term::shown(&s.note)
            );
            outln!("{}", crate::term::shown(&s.action))?;
        }
    }
    let mut err = anstream::stderr();
    let _ = writeln!(
        err,
        "recorded the yank of `{}` with release `{release_id}`; once it is done, run `runway release yank {} --confirm`",
        check.version(),
        check.version()
    );
    Ok(Exit::Success)
}

async fn confirm(
    ledger: &dyn runway_ledger::Ledger,
    check: &runway_runbook::release::ArtifactCheck,
    format: Format,
) -> anyhow::Result<Exit> {
    let version = check.version();
    let yanked = ledger
        .release_record(version)
        .await?
        .and_then(|r| runway_ledger::release_facts::last_yank(&r));
    if yanked.is_none() {
        return Err(UsageError::new(format!(
            "no yank of `{version}` is recorded, so there is nothing to confirm"
        ))
        .with_hint(format!(
            "run `runway release yank {version} --reason TEXT` first"
        ))
        .into());
    }
    let states = check.check_yanked().await;
    if states.is_empty() {
        return Err(UsageError::new(
            "no configured artifact can be checked for a yank (a Docker registry has none)",
        )
        .with_hint("`--confirm` reads `[release.artifacts.pypi]` and `[release.artifacts.npm]`")
        .into());
    }
    let confirmed = states.iter().all(|s| s.yanked);
    let fact = ReleaseFact::YankConfirmed(YankConfirmation {
        version: version.to_owned(),
        confirmed,
        checks: states
            .iter()
            .map(|s| YankCheck {
                source: s.source.as_str().to_owned(),
                artifact: s.artifact.clone(),
                index: s.index.clone(),
                yanked: s.yanked,
                index_reason: s.reason.clone(),
                message: s.message.clone(),
            })
            .collect(),
    });
    let release_id = ledger.record_release_fact(&check.release(), &fact).await?;
    if format == Format::Json {
        json(&serde_json::json!({
            "version": version,
            "confirmed": confirmed,
            "release_id": release_id,
            "checks": states,
        }))?;
    } else {
        let mut o = String::new();
        for s in &states {
            o.push_str(&format!(
                "{:<10} {:<5} {}  ({})\n           {}\n",
                if s.yanked {
                    "yanked"
                } else if s.unreachable {
                    "UNKNOWN"
                } else {
                    "NOT YANKED"
                },
                s.source.as_str(),
                s.artifact,
                s.index,
                crate::term::shown(&s.message)
            ));
        }
        out!("{o}")?;
    }
    let mut err = anstream::stderr();
    if confirmed {
        let _ = writeln!(
            err,
            "every index reports `{version}` yanked; recorded with release `{release_id}`"
        );
        Ok(Exit::Success)
    } else {
        let _ = writeln!(
            err,
            "{} not every index reports `{version}` yanked yet (recorded with release `{release_id}`); do the steps `runway release yank {version} --reason` printed, then run `--confirm` again",
            crate::term::error_label()
        );
        Ok(Exit::Failed)
    }
}

pub async fn announce(ctx: &Ctx, scope: &ReleaseScope, a: AnnounceArgs) -> anyhow::Result<Exit> {
    let project = ctx.project()?;
    let Some(loaded) = &project.loaded else {
        return Err(UsageError::new("there is no `runway.toml` here, so no notifier to announce to")
            .with_hint("run `runway init`, then add `announce = [\"team\"]` under `[release]` and a `[notifiers.team]` table")
            .into());
    };
    if scope.cfg.announce.is_empty() {
        return Err(UsageError::new(format!(
            "`{}` names no notifier to announce to",
            loaded.path.display()
        ))
        .with_hint("add `announce = [\"team\"]` under `[release]` and a `[notifiers.team]` table (`type = \"webhook\"` or `\"slack\"`, `url`); see docs/release.md")
        .into());
    }
    let mut notifiers = Vec::new();
    for name in &scope.cfg.announce {
        let Some(c) = loaded.config.notifiers.get(name) else {
            return Err(loaded
                .error_at("release.announce", format!("`{name}` is not a notifier"))
                .into());
        };
        let n = runway_monitor::Notifier::from_config(name, c, |k| std::env::var(k).ok()).map_err(
            |e| {
                UsageError::new(e.to_string())
                    .with_hint("export the variable, then run again; nothing was sent")
            },
        )?;
        notifiers.push(n);
    }
    let notes = scope.notes(a.version.clone()).await?;
    if !notes.tagged {
        return Err(UsageError::new(format!(
            "`{}` is not tagged yet: announce a release once it is cut",
            notes.tag
        ))
        .with_hint("run `runway release bump` (it tags), or name a released version: `runway release announce X.Y.Z`")
        .into());
    }
    let mut ledger = ctx.open_ledger(&a.ledger).await?;
    // A re-run (a retried CI job) does not post twice to a notifier that took it.
    let done: Vec<String> = match ledger.release_record(&notes.version).await {
        Ok(r) => r
            .map(|r| {
                runway_ledger::release_facts(&r)
                    .into_iter()
                    .filter_map(|(_, f)| match f {
                        ReleaseFact::Announced(a) => Some(a.deliveries),
                        _ => None,
                    })
                    .flatten()
                    .filter(|d| d.ok)
                    .map(|d| d.notifier)
                    .collect()
            })
            .unwrap_or_default(),
        Err(e) => {
            ledger.close().await;
            return Err(e.into());
        }
    };
    let mut err = anstream::stderr();
    if !a.again {
        notifiers.retain(|n| {
            let sent = done.contains(&n.name);
            if sent {
                let _ = writeln!(
                    err,
                    "`{}` was already announced to `{}`; `--again` posts it again",
                    notes.tag, n.name
                );
            }
            !sent
        });
        if notifiers.is_empty() {
            ledger.close().await;
            return Ok(Exit::Success);
        }
    }
    let mut redactor = ledger.redactor().clone();
    for n in &notifiers {
        for s in n.secrets() {
            redactor.add(&s);
        }
    }
    ledger.set_redactor(redactor.clone());
    let client = runway_monitor::notify::client();
    let announcement = runway_monitor::Announcement {
        project: loaded.config.project.name.as_deref(),
        version: &notes.version,
        tag: &notes.tag,
        notes: &notes.markdown,
    };
    let mut deliveries = Vec::new();
    for n in &notifiers {
        let sent = n
            .announce(&client, &announcement, runway_ledger::now())
            .await;
        deliveries.push(AnnounceDelivery {
            notifier: n.name.clone(),
            kind: n.kind.as_str().to_owned(),
            ok: sent.is_ok(),
            error: sent.err().map(|e| redactor.redact(&e.to_string())),
        });
    }
    let sent = deliveries.iter().all(|d| d.ok);
    let fact = ReleaseFact::Announced(Announcement {
        version: notes.version.clone(),
        tag: notes.tag.clone(),
        sent,
        deliveries: deliveries.clone(),
    });
    let release_id = record_and_close(ledger, &notes, &fact).await?;
    if a.format == Format::Json {
        json(&serde_json::json!({
            "version": notes.version,
            "tag": notes.tag,
            "sent": sent,
            "release_id": release_id,
            "deliveries": deliveries,
        }))?;
    } else {
        for d in &deliveries {
            match &d.error {
                None => outln!("sent    {} ({})", d.notifier, d.kind)?,
                Some(e) => outln!(
                    "FAILED  {} ({}): {}",
                    d.notifier,
                    d.kind,
                    crate::term::shown(e)
                )?,
            }
        }
    }
    let _ = writeln!(
        err,
        "{} `{}` to {} of {} notifier(s); recorded with release `{release_id}`",
        if sent {
            "announced"
        } else {
            "announcing failed for"
        },
        notes.tag,
        deliveries.iter().filter(|d| d.ok).count(),
        deliveries.len()
    );
    Ok(if sent { Exit::Success } else { Exit::Failed })
}
