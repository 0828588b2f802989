//! The rollback under the lock: back to the recorded previous (or a named) version, verified
//! again and compared with that version's recorded baseline.

use runway_deploy::Confirm;
use runway_ledger::{
    Changes, Deployment, DeploymentEnd, DeploymentFact, Outcome, RollbackDecision,
};

use crate::{
    Env, Finished, RunbookError,
    env::{deployed_fact, recorded_target},
    history::{Baseline, baseline_of, compare_with_baseline},
    journal::Done,
};

/// The rollback itself, under the environment's deploy lock (see [`crate::rollback`]).
pub(crate) async fn rollback_locked(
    env: &Env,
    to: Option<&str>,
    confirm: Confirm,
) -> Result<Finished, RunbookError> {
    let history = env.history().await?;
    let current = history.first();
    let running = env.target.current().await?;
    let current_version = running
        .as_ref()
        .map(|d| d.version.clone())
        .or_else(|| current.map(|c| c.deployment.release.clone()));
    // What runs, as (version, environment): the same version deployed with
    // another environment is an earlier state a rollback can go back to.
    let running_env = running.as_ref().and_then(runway_deploy::EnvRecord::of);
    let differs = |v: &runway_ledger::DeploymentView| {
        if Some(&v.deployment.release) != current_version.as_ref() {
            return true;
        }
        match (recorded_target(v), &running_env) {
            (Some(d), Some(now)) => runway_deploy::EnvRecord::of(&d).unwrap_or_default() != *now,
            _ => false,
        }
    };
    // The newest verified deployment of the wanted version (or the newest
    // whose version or environment differs from what runs).
    let point = history.iter().find(|v| {
        v.status == Outcome::Verified.as_str()
            && match to {
                Some(t) => v.deployment.release == t,
                None => differs(v),
            }
    });
    let version = match (to, point) {
        (Some(t), _) => t.to_owned(),
        (None, Some(p)) => p.deployment.release.clone(),
        (None, None) => {
            return Ok(Finished::new(env, None, "failed", false)
                .message(format!(
                    "nothing to roll back to in `{}`: no earlier verified deployment is recorded",
                    env.name
                ))
                .hint("name a version with `--to VERSION`"));
        }
    };
    // Resolved before anything is recorded or changed: a secret the earlier
    // version needs that is not set now stops the rollback here.
    let recorded = point.and_then(recorded_target);
    let (request, restored) = match &recorded {
        Some(d) => env.restoring(d, confirm)?,
        None => (
            env.request(&version, env.git_sha(&version), confirm),
            Vec::new(),
        ),
    };
    let mut record = Deployment::new(&env.name, &version);
    record.git_sha = env.git_sha(&version);
    record.target = Some(env.deploy.target.as_str().to_owned());
    record.rollback_of = current.map(|c| c.id.clone());
    // The settings put back are the earlier deployment's, as it recorded them.
    record.settings = match point
        .map(|p| p.deployment.settings.clone())
        .filter(|s| !s.is_empty())
    {
        Some(s) => s,
        None => env.settings().await?,
    };
    record.changes = current.map(|c| Changes {
        previous_deployment: Some(c.id.clone()),
        previous_version: Some(c.deployment.release.clone()),
        previous_git_sha: c.deployment.git_sha.clone(),
        code: Vec::new(),
        config: crate::scope::changes(&c.deployment.settings, &record.settings),
    });
    record.scope = crate::history::scope_of(record.changes.as_ref());
    let id = env.ledger.record_deployment(&record).await?;
    env.note(format!(
        "deployment `{id}`: rolling {} back to {version}",
        env.name
    ));
    let done = Done::default();
    let started = chrono::Utc::now();
    let result = crate::journal::journaled(env, &id, &done, |steps| {
        let mut request = request.clone();
        request.steps = steps;
        let recorded = recorded.clone();
        async move {
            match &recorded {
                Some(d) => env.target.rollback(d, &request).await,
                None => env.target.deploy(&request).await,
            }
        }
    })
    .await;
    let mut end = DeploymentEnd::new(Outcome::Failed);
    let deployed = match result {
        Ok(d) => d,
        Err(e) => {
            end.reason = Some(format!("rollback failed: {e}"));
            env.ledger.finish_deployment(&id, &end).await?;
            return Ok(Finished::new(env, Some(&version), "failed", false)
                .deployment(&id)
                .message(format!("rollback to {version} failed: {e}")));
        }
    };
    env.ledger
        .add_deployment_fact(&id, &deployed_fact(&deployed))
        .await?;
    let (report, vid) = env.verify(&version, &id).await?;
    env.ledger
        .add_deployment_fact(
            &id,
            &DeploymentFact::Rollback(runway_ledger::Rollback {
                from_version: current_version.clone(),
                to_version: Some(version.clone()),
                to_artifact: Some(crate::artifact(&deployed)),
                reason: format!("`runway rollback` by {}", env.ledger.operator()),
                automatic: false,
                started_at: started,
                finished_at: Some(chrono::Utc::now()),
                ok: report.ok(),
                verification_id: Some(vid.clone()),
                baseline: None,
                back_to_baseline: None,
                restored,
            }),
        )
        .await?;
    end.done = done.list();
    end.verification_id = Some(vid.clone());
    let baseline_text = match baseline_of(&history, &version) {
        Baseline::Found(base) => {
            let check = compare_with_baseline(env, &base).await?;
            Some(format!(
                "{} baseline: {}",
                if check.back { "back to" } else { "not back to" },
                check.summary
            ))
        }
        Baseline::Failing(why) => Some(why),
        Baseline::None => None,
    };
    let mut f = if report.ok() {
        end.outcome = Outcome::Verified;
        end.rollback = Some(RollbackDecision::NotNeeded);
        end.reason = baseline_text.clone();
        env.ledger.finish_deployment(&id, &end).await?;
        // A deployment held for a human is resolved by going back.
        if let Some(held) = current.filter(|c| c.status == Outcome::Held.as_str()) {
            let mut held_end = DeploymentEnd::new(Outcome::RolledBack);
            held_end.rollback = Some(RollbackDecision::Executed {
                to: Some(version.clone()),
                reason: format!("held, then rolled back by `runway rollback` (`{id}`)"),
            });
            held_end.reason = Some(format!(
                "held, then rolled back to {version} by {} (`{id}`)",
                env.ledger.operator()
            ));
            env.ledger.finish_deployment(&held.id, &held_end).await?;
        }
        crate::history::supersede_held(env, &id, &version).await?;
        Finished::new(env, Some(&version), "verified", true).message(format!(
            "{} is back on {version} (deployment `{id}`, verification `{vid}`){}",
            env.name,
            baseline_text.map(|b| format!("; {b}")).unwrap_or_default()
        ))
    } else {
        end.reason = Some("verify after the rollback failed".into());
        env.ledger.finish_deployment(&id, &end).await?;
        Finished::new(env, Some(&version), "failed", false).message(format!(
            "{version} is running on `{}` but its verify failed (`{vid}`)",
            env.name
        ))
    };
    f.verification = Some(vid);
    Ok(f.deployment(&id))
}
