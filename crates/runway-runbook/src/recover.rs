//! Recovery: what the next `runway` does about a deployment whose `runway`
//! died (SIGKILL, a crash, a full disk) before it ended.
//!
//! Every command that touches an environment (`status`, `deploy`, `ship`,
//! `rollback`, `watch`, `monitor`) calls [`recover`] first. A deployment
//! still `in_progress` whose deploy lock is not held by a live process is
//! interrupted; a lock whose holder ran on this machine and whose process is
//! gone is taken over at once, not after its lease. With the lock, each such
//! record is ended, from what its journal and the target say:
//!
//! - its verify or watch had failed (a `failing` fact, a failed analysis):
//!   `failed`, so DORA counts the failed change;
//! - its version is what runs now, unjudged: `held` for a human, as an
//!   inconclusive watch is (`runway watch`, `deploy --accept` or `rollback`
//!   resolve it);
//! - otherwise `interrupted` (not counted by DORA).
//!
//! Then, when the newest deployment ended `interrupted`, `aborted` or
//! `failed` and nothing serves (or the failed version does), the newest
//! verified version is put back exactly as it was recorded (a rollback
//! deployment of its own, verified), so an environment is never left empty.

use runway_deploy::Confirm;
use runway_ledger::{DeploymentEnd, DeploymentView, IN_PROGRESS, LedgerError, Outcome};

use crate::{Env, RunbookError};

/// Whether `holder` (as the lock names it: `alice@host (pid 42)`) is a
/// process of this machine that is gone. A holder on another machine is
/// judged by its lease alone.
pub(crate) fn holder_is_gone(holder: &str) -> bool {
    let Some((who, pid)) = holder.rsplit_once(" (pid ") else {
        return false;
    };
    let Some(pid) = pid.strip_suffix(')').and_then(|p| p.parse::<u32>().ok()) else {
        return false;
    };
    let Some((_, host)) = who.rsplit_once('@') else {
        return false;
    };
    host == crate::hostname() && pid != std::process::id() && !runway_deploy::child::alive(pid)
}

/// What happened to an interrupted deployment's record.
fn ending(view: &DeploymentView, running: Option<&str>) -> (Outcome, String) {
    let failed_watch = view
        .analyses
        .iter()
        .any(|a| a.verdict == runway_ledger::AnalysisVerdict::Fail);
    let last = view
        .steps
        .last()
        .map(|s| {
            if s.intent {
                format!("; it was about to {}", s.step)
            } else {
                format!("; its last step: {}", s.step)
            }
        })
        .unwrap_or_default();
    if let Some(why) = view.failing.clone().or_else(|| {
        failed_watch.then(|| {
            view.analyses
                .iter()
                .rev()
                .find_map(|a| a.failing.clone())
                .unwrap_or_else(|| "watch failed".into())
        })
    }) {
        return (
            Outcome::Failed,
            format!("{why}; then the `runway` running it stopped before it ended{last}"),
        );
    }
    if running == Some(view.deployment.release.as_str()) && view.deployment.rollback_of.is_none() {
        return (
            Outcome::Held,
            format!(
                "interrupted: the `runway` running it stopped before its verify and watch ended, and {} runs unjudged; held for a human{last}",
                view.deployment.release
            ),
        );
    }
    (
        Outcome::Interrupted,
        format!("interrupted: the `runway` running it stopped before it ended{last}"),
    )
}

/// [`recover`], with each line sent to the environment's observer as a note.
pub(crate) async fn recover_noting(env: &Env) -> Result<Vec<String>, RunbookError> {
    let notes = recover(env).await?;
    for n in &notes {
        env.note(format!("recovery: {n}"));
    }
    Ok(notes)
}

/// Whether the environment answers its health endpoint within a few seconds
/// (true when it has none to ask).
async fn answers(env: &Env) -> bool {
    let wait = env.health_wait(
        std::time::Duration::from_secs(3),
        std::time::Duration::from_millis(250),
    );
    runway_deploy::health::wait(&wait, &mut || None)
        .await
        .is_ok()
}

/// Whether the target can say that nothing runs (a `command` target needs its `status` command).
fn knows_what_runs(env: &Env) -> bool {
    env.deploy.target != runway_config::TargetKind::Command || env.deploy.status.is_some()
}

/// Finds and ends interrupted deployments of `env`, and puts the newest
/// verified version back when nothing serves because of one. Returns one
/// line per thing it did (nothing when there was nothing to do).
pub async fn recover(env: &Env) -> Result<Vec<String>, RunbookError> {
    let history = env.history().await?;
    let pending = history.iter().any(|v| v.status == IN_PROGRESS);
    let newest_cut = history.first().is_some_and(|v| {
        v.status == Outcome::Aborted.as_str() || v.status == Outcome::Interrupted.as_str()
    });
    if !pending && !newest_cut {
        return Ok(Vec::new());
    }
    let mut notes = Vec::new();
    if let Some(info) = env.ledger.deploy_lock(&env.name).await?
        && !holder_is_gone(&info.holder)
    {
        // Someone is deploying now: their deployment is not interrupted.
        return Ok(notes);
    }
    let lock = match crate::take_lock(env).await {
        Ok(l) => l,
        // Another `runway` took it first (and recovers, or deploys).
        Err(LedgerError::Locked { .. }) => return Ok(notes),
        Err(e) => return Err(e.into()),
    };
    let r = recover_locked(env, &mut notes).await;
    let _ = lock.release().await;
    r.map(|()| notes)
}

async fn recover_locked(env: &Env, notes: &mut Vec<String>) -> Result<(), RunbookError> {
    // Read again under the lock: another `runway` may have recovered first.
    let history = env.history().await?;
    let running = match env.target.current().await {
        Ok(r) => r,
        Err(e) => {
            notes.push(format!("could not ask the target what runs: {e}"));
            None
        }
    };
    // A process that runs but does not answer (cut off while it stopped, or
    // before it became healthy) does not serve.
    let running = match running {
        Some(r) if !answers(env).await => {
            notes.push(format!(
                "{} runs but does not answer its health endpoint",
                r.version
            ));
            None
        }
        other => other,
    };
    let mut just_failed = None;
    for view in history.iter().rev().filter(|v| v.status == IN_PROGRESS) {
        let (outcome, reason) = ending(view, running.as_ref().map(|r| r.version.as_str()));
        let mut end = DeploymentEnd::new(outcome);
        end.reason = Some(reason);
        end.done = view
            .steps
            .iter()
            .filter(|s| !s.intent)
            .map(|s| s.step.clone())
            .collect();
        if let Some(s) = view.steps.last().filter(|s| s.intent) {
            end.done
                .push(format!("about to {} when it stopped", s.step));
        }
        env.ledger.finish_deployment(&view.id, &end).await?;
        notes.push(format!(
            "deployment `{}` of {} was cut off before it ended: now `{outcome}`",
            view.id, view.deployment.release
        ));
        if outcome == Outcome::Failed {
            just_failed = Some(view.deployment.release.clone());
        }
    }
    if !knows_what_runs(env) {
        return Ok(());
    }
    let history = env.history().await?;
    let Some(newest) = history.first() else {
        return Ok(());
    };
    let cut = [Outcome::Aborted, Outcome::Interrupted, Outcome::Failed]
        .iter()
        .any(|o| o.as_str() == newest.status);
    let failed_serves = match (&running, &just_failed) {
        (Some(r), Some(f)) => &r.version == f,
        _ => false,
    };
    if !cut || (running.is_some() && !failed_serves) {
        return Ok(());
    }
    let bad = just_failed.as_deref();
    let Some(good) = history.iter().find(|v| {
        v.status == Outcome::Verified.as_str()
            && Some(v.deployment.release.as_str()) != bad
            && crate::recorded_target(v).is_some()
    }) else {
        notes.push(format!(
            "nothing serves `{}` and no verified deployment is recorded to put back",
            env.name
        ));
        return Ok(());
    };
    let version = good.deployment.release.clone();
    notes.push(format!(
        "{} `{}`: putting back {version}, its last verified version",
        if running.is_none() {
            "nothing serves"
        } else {
            "the failed version serves"
        },
        env.name
    ));
    let f = crate::rollback::rollback_locked(env, Some(&version), Confirm::Assume, None).await?;
    notes.push(f.message);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_is_gone_only_when_its_process_on_this_machine_is() {
        let host = crate::hostname();
        // A process that surely ran and ended.
        let mut c = std::process::Command::new("true").spawn().unwrap();
        let dead = c.id();
        c.wait().unwrap();
        assert!(holder_is_gone(&format!("alice@{host} (pid {dead})")));
        assert!(!holder_is_gone(&format!(
            "alice@{host} (pid {})",
            std::process::id()
        )));
        assert!(!holder_is_gone(&format!(
            "alice@elsewhere.example (pid {dead})"
        )));
        assert!(!holder_is_gone("no pid here"));
        assert!(!holder_is_gone(&format!("a@b@{host} (pid x)")));
    }
}
