//! `runway incident open --env`: the incident first, then what the
//! environment's policy says to do about it.
//!
//! The Tabcorp incident flow is "P0 → immediate rollback → verify the
//! rollback → root cause". An environment opts in with
//! `[environments.<name>.rollback] on_incident = ["P0"]`; opening an
//! incident of a listed severity then rolls the environment back through
//! [`crate::rollback`]'s own path (the deploy lock, the verify after, the
//! ledger's deployment record), with the rollback fact naming the incident
//! and the incident's timeline naming the rollback deployment.
//!
//! The incident is written before anything is tried, so a rollback that
//! cannot start, finds nothing to go back to or fails leaves the incident
//! open, and [`Opened::rollback`] says what happened.

use chrono::{DateTime, Utc};
use runway_config::Loaded;
use runway_core::Severity;
use runway_deploy::Confirm;
use runway_ledger::{IncidentStatus, Ledger};
use serde::Serialize;

use crate::{Env, Observer, RunbookError, rollback::Cause};

/// What to open.
#[derive(Debug, Clone)]
pub struct OpenRequest {
    pub severity: Severity,
    pub title: String,
    /// The deployment that caused it (id or unique prefix).
    pub deployment: Option<String>,
    /// The environment it is in (`--env`): its `rollback.on_incident` applies.
    pub environment: Option<String>,
    /// Open it and roll nothing back, whatever the policy says (`--no-rollback`).
    pub no_rollback: bool,
}

/// The incident opened, and what its environment's policy did.
#[derive(Debug, Clone, Serialize)]
pub struct Opened {
    /// The incident's id.
    pub incident: String,
    pub severity: Severity,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The deployment it is recorded against: the one named, else (when the
    /// policy rolls back) the environment's newest deployment, the one the
    /// rollback undoes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    pub detected_at: DateTime<Utc>,
    /// Detection plus the severity's response time (P0 15 min ... P3 next business day).
    pub respond_by: DateTime<Utc>,
    /// What the runbooks say to do at this severity.
    pub action: String,
    pub rollback: PolicyRollback,
}

/// What `rollback.on_incident` did for this incident.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyRollback {
    /// `not_configured` (no environment, or its `on_incident` does not name
    /// the severity), `skipped` (`--no-rollback`), `rolled_back` (verified),
    /// `failed` (started and failed, or could not start), `locked` (another
    /// deploy holds the lock), `nothing_to_roll_back_to` (no earlier
    /// verified deployment is recorded).
    pub status: String,
    /// Whether the environment's policy names this severity.
    pub policy: bool,
    /// One line saying what happened.
    pub message: String,
    /// The rollback's deployment record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// The version rolled back to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The verification after the rollback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl PolicyRollback {
    fn nothing(status: &str, policy: bool, message: String) -> PolicyRollback {
        PolicyRollback {
            status: status.to_owned(),
            policy,
            message,
            deployment: None,
            version: None,
            verification: None,
            hint: None,
        }
    }

    /// Whether the policy asked for a rollback that did not happen.
    pub fn failed(&self) -> bool {
        matches!(
            self.status.as_str(),
            "failed" | "locked" | "nothing_to_roll_back_to"
        )
    }
}

/// Opens the incident on `ledger`, then rolls its environment back when the
/// environment's `rollback.on_incident` names its severity (and
/// `no_rollback` is not set). Only an unusable request (an unknown
/// environment, a deployment that does not exist) or a ledger that cannot
/// write the incident is an error; anything after the incident is written
/// is reported in [`Opened::rollback`]. Closes the ledger.
pub async fn open(
    loaded: Option<Loaded>,
    ledger: Box<dyn Ledger>,
    req: &OpenRequest,
    confirm: Confirm,
    observer: Option<Observer>,
) -> Result<Opened, RunbookError> {
    let env_config = match (&req.environment, &loaded) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(RunbookError::NoConfig {
                dir: std::env::current_dir().unwrap_or_default(),
            });
        }
        (Some(name), Some(l)) => Some(l.config.environment(name).cloned().ok_or_else(|| {
            RunbookError::UnknownEnvironment {
                name: name.clone(),
                file: l.path.clone(),
                known: l.config.environments.keys().cloned().collect(),
            }
        })?),
    };
    let policy = env_config
        .as_ref()
        .and_then(|c| c.rollback.as_ref())
        .is_some_and(|r| r.rolls_back_on(req.severity));
    let wants = policy && !req.no_rollback;
    // What the rollback undoes is what the incident is blamed on, unless
    // the operator named another deployment.
    let blamed = match (&req.deployment, &req.environment) {
        (Some(d), _) => Some(d.clone()),
        (None, Some(name)) if wants => ledger
            .recent_deployments(name, 1)
            .await?
            .first()
            .map(|v| v.id.clone()),
        _ => None,
    };
    let id = ledger
        .open_incident_in(
            req.severity,
            &req.title,
            blamed.as_deref(),
            req.environment.as_deref(),
        )
        .await?;
    let record = ledger.get(&id).await?;
    let body = record.incident()?;
    let mut opened = Opened {
        incident: id.clone(),
        severity: req.severity,
        title: body.title.clone(),
        environment: record.environment.clone(),
        deployment: body.deployment_id.clone(),
        detected_at: body.detected_at,
        respond_by: body.respond_by,
        action: req.severity.action().to_owned(),
        rollback: PolicyRollback::nothing("not_configured", policy, String::new()),
    };
    let name = match (&req.environment, wants) {
        (Some(name), true) => name.clone(),
        (Some(name), false) => {
            opened.rollback.status = if policy { "skipped" } else { "not_configured" }.into();
            opened.rollback.message = if policy {
                format!(
                    "`--no-rollback`: `{name}` was not rolled back, though `rollback.on_incident` names {}",
                    req.severity
                )
            } else {
                format!(
                    "`environments.{name}.rollback.on_incident` does not name {}: nothing was rolled back",
                    req.severity
                )
            };
            ledger.close().await;
            return Ok(opened);
        }
        (None, _) => {
            opened.rollback.message =
                "no `--env`: no environment's rollback policy applies".to_owned();
            ledger.close().await;
            return Ok(opened);
        }
    };
    let loaded = loaded.expect("an environment was found in it");
    let cause = Cause {
        incident: id.clone(),
        severity: req.severity,
        title: body.title.clone(),
    };
    let mut env = match Env::try_open(loaded, &name, ledger) {
        Ok(env) => env,
        Err((e, ledger)) => {
            let mut r = PolicyRollback::nothing(
                "failed",
                true,
                format!("the rollback of `{name}` could not start: {e}"),
            );
            r.hint = runway_core::Diagnostic::hint(&e);
            let _ = ledger.add_note(&id, &r.message).await;
            ledger.close().await;
            opened.rollback = r;
            return Ok(opened);
        }
    };
    if let Some(o) = observer {
        env.observe(o);
    }
    env.note(format!(
        "incident `{id}` ({}): `rollback.on_incident` rolls `{name}` back",
        req.severity
    ));
    let rollback = match crate::rollback_for(&env, confirm, &cause).await {
        Ok(f) => {
            let status = match (f.outcome.as_str(), &f.deployment) {
                ("verified", _) => "rolled_back",
                ("locked", _) => "locked",
                ("failed", None) => "nothing_to_roll_back_to",
                _ => "failed",
            };
            PolicyRollback {
                status: status.to_owned(),
                policy: true,
                message: f.message.clone(),
                deployment: f.deployment.clone(),
                version: f.version.clone(),
                verification: f.verification.clone(),
                hint: f.hint.clone(),
            }
        }
        Err(e) => {
            let mut r = PolicyRollback::nothing(
                "failed",
                true,
                format!("the rollback of `{name}` failed: {e}"),
            );
            r.hint = runway_core::Diagnostic::hint(&e);
            r
        }
    };
    let note = match &rollback.deployment {
        Some(d) => format!(
            "rollback by `rollback.on_incident` (deployment `{d}`): {}",
            rollback.message
        ),
        None => format!("rollback by `rollback.on_incident`: {}", rollback.message),
    };
    // A verified rollback has stopped the impact: the incident is mitigated
    // (its recovery time for DORA); anything else stays `detected` for a human.
    let written = if rollback.status == "rolled_back" {
        env.ledger
            .move_incident(&id, IncidentStatus::Mitigated, Some(&note))
            .await
    } else {
        env.ledger.add_note(&id, &note).await
    };
    if let Err(e) = written {
        env.problem(format!("could not note the rollback on `{id}`: {e}"));
    }
    env.ledger.close().await;
    opened.rollback = rollback;
    Ok(opened)
}
