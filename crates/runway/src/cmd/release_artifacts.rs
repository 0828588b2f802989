//! `runway release verify-artifacts`: the release's published packages and
//! images, installed and run (runway-artifacts), recorded with the
//! release in the ledger.
//!
//! Exit 0 when every artifact works, 1 when one does not, 2 when the
//! configuration or the version cannot be used.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use runway_artifacts::{self as artifacts, ArtifactOutcome, Settings, Wanted};
use runway_config::ReleaseConfig;
use runway_core::Exit;
use runway_release::plan::{self, PlanOptions};

use super::Ctx;
use crate::args::{PackageArg, ReleaseFormat as Format};

#[derive(Debug, clap::Args)]
pub struct VerifyArtifactsArgs {
    #[command(flatten)]
    pub package: PackageArg,
    /// The version whose artifacts to check (default: the current version).
    #[arg(long = "version", id = "artifacts_version", value_name = "X.Y.Z")]
    pub version: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub ledger: super::LedgerOpt,
}

pub async fn run(
    ctx: &Ctx,
    root: &Path,
    cfg: &ReleaseConfig,
    package_dir: Option<PathBuf>,
    a: VerifyArtifactsArgs,
) -> anyhow::Result<Exit> {
    let fix = "add `[release.artifacts.pypi]`, `[release.artifacts.npm]` or `[release.artifacts.docker]` to `runway.toml` (see docs/release.md)";
    let Some(loaded) = ctx.config()? else {
        return Err(crate::error::UsageError::new(
            "there is no `runway.toml` here, so no artifacts to verify",
        )
        .with_hint(fix)
        .into());
    };
    if cfg.artifacts.is_empty() {
        return Err(crate::error::UsageError::new(format!(
            "`{}` names no artifacts",
            loaded.path.display()
        ))
        .with_hint(fix)
        .into());
    }
    let version = match &a.version {
        Some(v) => {
            // `v1.4.0` when the tag prefix is `v`: the version is what follows.
            let v = v.strip_prefix(cfg.tag_prefix.as_str()).unwrap_or(v);
            runway_release::version::check_input(v, runway_release::version::python_project(root))
                .map_err(|why| {
                crate::error::UsageError::new(format!("`--version` {v:?} is not a version: {why}"))
                    .with_hint("pass `--version X.Y.Z`")
            })?
        }
        None => {
            let st = plan::status(
                root,
                cfg,
                &PlanOptions {
                    allow_no_repo: true,
                    package_dir: package_dir.clone(),
                    ..PlanOptions::default()
                },
            )?;
            st.current
        }
    };
    let parsed = runway_release::version::parse(&version).map_err(|e| {
        crate::error::UsageError::new(format!("`{version}` is not a version: {e}"))
            .with_hint("pass `--version X.Y.Z`")
    })?;
    let wanted = Wanted {
        version: parsed.to_string(),
        python: runway_release::version::to_pep440(&parsed),
    };
    let specs = artifacts::specs(&cfg.artifacts, root, &wanted.version)
        .map_err(|e| loaded.error_at(&e.field, e.message))?;
    // The ledger first: a bad URL costs nothing.
    let ledger = ctx.open_ledger(&a.ledger).await?;

    let mut err = anstream::stderr();
    let _ = writeln!(
        err,
        "verifying {} artifact(s) of {}",
        specs.len(),
        wanted.version
    );
    let settings = Settings::from_config(&cfg.artifacts);
    let outcomes = artifacts::verify(&specs, &wanted, &settings).await;
    let passed = outcomes.iter().all(|o| o.ok);

    let release = runway_ledger::Release {
        version: wanted.version.clone(),
        tag: Some(format!("{}{}", cfg.tag_prefix, wanted.version)),
        ..runway_ledger::Release::default()
    };
    let run = runway_ledger::ArtifactsRun {
        version: wanted.version.clone(),
        passed,
        artifacts: outcomes.iter().map(to_ledger).collect(),
    };
    let release_id = ledger.record_artifacts(&release, &run).await?;
    ledger.close().await;

    if a.format == Format::Json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({
                "version": wanted.version,
                "passed": passed,
                "release_id": release_id,
                "artifacts": outcomes,
            }),
        )?;
        writeln!(out)?;
    } else {
        let mut o = String::new();
        for r in &outcomes {
            o.push_str(&format!(
                "{:<5} {:<7} {}  ({} ms)\n      {}\n",
                if r.ok { "pass" } else { "FAIL" },
                r.source.as_str(),
                r.artifact,
                r.duration_ms,
                r.message
            ));
        }
        out!("{o}")?;
        for r in outcomes.iter().filter(|r| !r.ok) {
            if let Some(h) = &r.hint {
                let _ = writeln!(
                    err,
                    "{} {}: {h}",
                    crate::term::hint_label(),
                    r.source.as_str()
                );
            }
        }
    }
    let failed = outcomes.iter().filter(|o| !o.ok).count();
    let _ = writeln!(
        err,
        "{}; recorded with release `{release_id}`",
        if failed == 0 {
            format!("all {} artifact(s) work", outcomes.len())
        } else {
            format!("{failed} of {} artifact(s) failed", outcomes.len())
        }
    );
    Ok(if passed { Exit::Success } else { Exit::Failed })
}

fn to_ledger(o: &ArtifactOutcome) -> runway_ledger::ArtifactResult {
    runway_ledger::ArtifactResult {
        source: o.source.as_str().to_owned(),
        artifact: o.artifact.clone(),
        index: o.index.clone(),
        ok: o.ok,
        problem: o.problem.map(|p| {
            serde_json::to_value(p)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        }),
        message: o.message.clone(),
        printed: o.printed.clone(),
        digest: o.digest.clone(),
        duration_ms: o.duration_ms,
    }
}
