//! `watch`: the bake window on what runs now. The analysis is appended to
//! the newest deployment's record.

use std::time::Duration;

use runway_deploy::analysis;

use crate::{Abort, Env, Event, Finished, RunbookError, deploy::analysis_fact};

/// Watches `env` for `bake` (default `analysis.bake`), stopping early on `abort`.
pub async fn watch(
    env: &Env,
    bake: Option<Duration>,
    abort: &Abort,
) -> Result<Finished, RunbookError> {
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
    f.deployment = latest.map(|l| l.id);
    Ok(f)
}
