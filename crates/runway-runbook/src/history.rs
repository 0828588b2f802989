//! The ledger's history of an environment as deploy and rollback read it:
//! a version's baseline, the kinds of change a deployment carries, and the
//! held deployments a verified one replaces.

use std::time::Duration;

use runway_deploy::analysis::{self, Criteria};
use runway_ledger::{AnalysisVerdict, Changes, DeploymentEnd, Outcome};

use crate::{Env, RunbookError};

/// What kinds of change a deployment carries, from its recorded changes.
pub(crate) fn scope_of(changes: Option<&Changes>) -> Vec<runway_ledger::Scope> {
    let mut scope = Vec::new();
    if let Some(c) = changes {
        if !c.config.is_empty() {
            scope.push(runway_ledger::Scope::Config);
        }
        if !c.code.is_empty() {
            scope.push(runway_ledger::Scope::Code);
        }
    }
    scope
}

/// Ends the deployments still held for a human that a verified deployment
/// (`id` of `version`) has replaced: their versions no longer run, so nobody
/// can judge them any more. They end `interrupted` (not counted by DORA:
/// they were never judged), naming what replaced them.
pub(crate) async fn supersede_held(env: &Env, id: &str, version: &str) -> Result<(), RunbookError> {
    for old in env
        .history()
        .await?
        .into_iter()
        .filter(|d| d.id != id && d.status == Outcome::Held.as_str())
    {
        let mut end = DeploymentEnd::new(Outcome::Interrupted);
        end.reason = Some(format!(
            "held, then replaced by {version} (`{id}`) before it was judged"
        ));
        end.done = old.end.as_ref().map(|e| e.done.clone()).unwrap_or_default();
        env.ledger.finish_deployment(&old.id, &end).await?;
        env.note(format!(
            "  deployment `{}` of {} was held and is replaced: now `interrupted`",
            old.id, old.deployment.release
        ));
    }
    Ok(())
}

/// What a rolled-back version is compared with.
pub(crate) enum Baseline {
    /// Its newest passing analysis.
    Found(analysis::Aggregates),
    /// Every analysis recorded for it failed: not a baseline (why, in words).
    Failing(String),
    /// None recorded.
    None,
}

/// The previous version's numbers, from its newest recorded analysis that
/// passed. An analysis that failed is not a baseline: comparing 100% errors
/// with 100% errors would call a broken version "recovered".
pub(crate) fn baseline_of(history: &[runway_ledger::DeploymentView], version: &str) -> Baseline {
    let analyses = || {
        history
            .iter()
            .filter(|v| v.deployment.release == version)
            .flat_map(|v| v.analyses.iter().rev())
            .filter(|a| a.samples > 0)
    };
    if let Some(a) = analyses().find(|a| a.verdict == AnalysisVerdict::Pass) {
        return Baseline::Found(analysis::Aggregates {
            samples: a.samples as u32,
            availability: a.availability.unwrap_or(1.0),
            error_rate: a.error_rate.unwrap_or(0.0),
            auth_failure_rate: a.auth_failure_rate.unwrap_or(0.0),
            p95_ms: a.p95_ms.unwrap_or(0.0),
            max_consecutive_failures: 0,
        });
    }
    match analyses().next() {
        Some(a) => Baseline::Failing(format!(
            "no baseline: {version}'s recorded analysis was itself {} (availability {}{})",
            a.verdict.as_str(),
            a.availability
                .map(|x| format!("{:.1}%", x * 100.0))
                .unwrap_or_else(|| "unknown".into()),
            a.failing
                .as_deref()
                .map(|f| format!("; {f}"))
                .unwrap_or_default()
        )),
        None => Baseline::None,
    }
}

/// A short burst of samples compared with `base`.
pub(crate) async fn compare_with_baseline(
    env: &Env,
    base: &analysis::Aggregates,
) -> Result<analysis::BaselineCheck, RunbookError> {
    let burst = Criteria {
        bake: Duration::from_secs(2),
        interval: Duration::from_millis(400),
        min_samples: 1,
        consecutive_failures: u32::MAX,
        ..env.criteria(None)
    };
    let sampler = env.sampler()?;
    let now = analysis::watch(&sampler, &burst, std::future::pending(), |_, _| {}).await;
    let tol = env
        .config
        .rollback
        .clone()
        .unwrap_or_default()
        .baseline_tolerance();
    Ok(analysis::back_to_baseline(
        base,
        &now.analysis.aggregates,
        tol,
    ))
}
