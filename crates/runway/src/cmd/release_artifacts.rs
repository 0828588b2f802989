//! `runway release verify-artifacts`: the release's published packages and
//! images, installed and run, recorded with the release in the ledger
//! (`ReleaseScope::verify_artifacts`); this module prints the verdicts.
//!
//! Exit 0 when every artifact works, 1 when one does not, 2 when the
//! configuration or the version cannot be used.

use std::io::Write;

use runway_core::Exit;
use runway_runbook::release::ReleaseScope;

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

pub async fn run(ctx: &Ctx, scope: &ReleaseScope, a: VerifyArtifactsArgs) -> anyhow::Result<Exit> {
    let project = ctx.project()?;
    let check = scope.artifacts(&project, a.version.as_deref()).await?;
    // The ledger before the (slow) checks: a bad URL costs nothing.
    let ledger = ctx.open_ledger(&a.ledger).await?;
    let mut err = anstream::stderr();
    let (n, version) = check.describe();
    let _ = writeln!(err, "verifying {n} artifact(s) of {version}");
    let run = check.run(ledger.as_ref()).await;
    ledger.close().await;
    let run = run?;
    let outcomes = &run.artifacts;
    if a.format == Format::Json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &run)?;
        writeln!(out)?;
    } else {
        let mut o = String::new();
        for r in outcomes {
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
        "{}; recorded with release `{}`",
        if failed == 0 {
            format!("all {} artifact(s) work", outcomes.len())
        } else {
            format!("{failed} of {} artifact(s) failed", outcomes.len())
        },
        run.release_id
    );
    Ok(if run.passed {
        Exit::Success
    } else {
        Exit::Failed
    })
}
