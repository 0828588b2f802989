//! `watch`: the bake window on what runs now. The analysis is appended to
//! the newest deployment's record.

use std::time::Duration;

use runway_deploy::analysis;

use runway_ledger::{DeploymentEnd, Outcome, RollbackDecision};

use runway_core::Shutdown;

use crate::{
    Env, Event, Finished, RunbookError,
    deploy::{analysis_fact, fail, held_hint},
    journal::Done,
};

/// Watches `env` for `bake` (default `analysis.bake`), stopping early on `abort`.
pub async fn watch(
    env: &Env,
    bake: Option<Duration>,
    abort: &Shutdown,
) -> Result<Finished, RunbookError> {
    crate::preflight::check(env, None)?;
    crate::recover::recover_noting(env).await?;
    let criteria = env.criteria(bake);
    let sampler = env.sampler()?;
    env.note(format!(
        "watching {} for {} (a sample every {}; detection delay {})",
        env.name,
        humantime::format_duration(criteria.bake),
        humantime::format_duration(criteria.interval),
        humantime::format_duration(criteria.detection_delay())
    ));
    let running = env.target.current().await.ok().flatten().map(|d| d.version);
    let mut sources = env.sources(running.as_deref().unwrap_or_default(), None)?;
    let stop = async {
        abort.fired().await;
    };
    let out = analysis::watch_with(
        &sampler,
        sources.as_mut(),
        &criteria,
        stop,
        |s, n| env.emit(Event::Sample { n, sample: s }),
        |e| env.note_evaluations(e),
    )
    .await;
    env.note_conditions(&out);
    let latest = env.history().await?.into_iter().next();
    if let Some(latest) = &latest {
        env.ledger
            .add_deployment_fact(&latest.id, &analysis_fact(&out, &criteria))
            .await?;
    }
    let a = &out.analysis.aggregates;
    let verdict = out.analysis.verdict;
    let mut f = Finished::new(
        env,
        latest.as_ref().map(|l| l.deployment.release.as_str()),
        verdict.as_str(),
        verdict == analysis::Verdict::Pass,
    )
    .message(format!(
        "{}: {} over {} samples: availability {:.1}%, error rate {:.1}%, auth failures {:.1}%, p95 {:.0} ms{}",
        env.name,
        verdict.as_str(),
        a.samples,
        a.availability * 100.0,
        a.error_rate * 100.0,
        a.auth_failure_rate * 100.0,
        a.p95_ms,
        if out.analysis.reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", out.analysis.reasons.join("; "))
        }
    ));
    let Some(latest) = latest else {
        return Ok(f);
    };
    f.deployment = Some(latest.id.clone());
    if latest.status != Outcome::Held.as_str() || verdict == analysis::Verdict::Inconclusive {
        if latest.status == Outcome::Held.as_str() {
            f.hint = Some(held_hint(&env.name, &latest.deployment.release));
        }
        return Ok(f);
    }
    // The newest deployment was held for a human: this watch decides it.
    let lock = match crate::take_lock(env).await {
        Ok(l) => l,
        Err(e @ runway_ledger::LedgerError::Locked { .. }) => {
            f.ok = false;
            f.message = format!("{}; the held deployment stays held: {e}", f.message);
            return Ok(f);
        }
        Err(e) => return Err(e.into()),
    };
    let version = latest.deployment.release.clone();
    let r = match verdict {
        analysis::Verdict::Pass => {
            let mut end = DeploymentEnd::new(Outcome::Verified);
            end.rollback = Some(RollbackDecision::NotNeeded);
            end.reason = Some(format!("held, then passed a later watch: {}", f.message));
            end.done = latest
                .end
                .as_ref()
                .map(|e| e.done.clone())
                .unwrap_or_default();
            env.ledger.finish_deployment(&latest.id, &end).await?;
            f.outcome = Outcome::Verified.as_str().to_owned();
            f.message = format!(
                "{}; deployment `{}` of {version} was held and is now verified",
                f.message, latest.id
            );
            Ok(f)
        }
        _ => {
            // Leaving the held deployment as it was deployed (the
            // environment it runs with), whatever `runway.toml` says now.
            let held = crate::env::recorded_target(&latest)
                .map(|d| runway_deploy::EnvRecord::of(&d).unwrap_or_default())
                .unwrap_or_else(|| env.env_record());
            let previous = env.rollback_point_from(Some((&version, &held))).await?;
            let done = Done::default();
            let reason = format!(
                "held, then failed a later watch: {}",
                out.analysis.reasons.join("; ")
            );
            done.did(env, reason.clone());
            let verification = latest.end.as_ref().and_then(|e| e.verification_id.clone());
            fail(
                env,
                &version,
                &latest.id,
                previous.as_ref(),
                &reason,
                verification.as_deref(),
                &done,
            )
            .await
        }
    };
    let _ = lock.release().await;
    r
}
