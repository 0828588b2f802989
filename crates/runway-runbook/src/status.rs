//! `status`: what runs in an environment, from the target and the ledger,
//! with any drift between them.

use chrono::{DateTime, Utc};
use runway_deploy::Deployed;
use serde::Serialize;

use crate::{Env, RunbookError};

/// What runs in an environment now (`runway status --format json`).
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub environment: String,
    pub target: String,
    /// What the target says runs.
    pub running: Option<Deployed>,
    /// The ledger's newest deployment of this environment.
    pub last_deployment: Option<LastDeployment>,
    /// Who holds the deploy lock, while a deploy runs.
    pub deploying: Option<String>,
    /// How the target and the ledger disagree, if they do (`runway status` exits 1).
    pub drift: Option<String>,
    /// What recovery did first: an interrupted deployment ended, a version put back.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recovered: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LastDeployment {
    pub id: String,
    pub version: String,
    pub status: String,
    pub operator: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The newest verification of it: id and status.
    pub verification: Option<String>,
    pub verification_status: Option<String>,
    /// Why it ended so (for `held`: what the watch could not decide).
    pub reason: Option<String>,
}

/// Reads the target and the ledger.
pub async fn status(env: &Env) -> Result<Status, RunbookError> {
    let recovered = crate::recover::recover_noting(env).await?;
    let running = env.target.current().await?;
    let history = env.history().await?;
    let last = history.first();
    let last_good = history
        .iter()
        .find(|v| v.status == runway_ledger::Outcome::Verified.as_str());
    let lock = env.ledger.deploy_lock(&env.name).await?;
    let drift = match (&running, last_good) {
        (Some(r), Some(l)) if r.version != l.deployment.release => Some(format!(
            "the target runs {} but the ledger's last verified deployment is {}",
            r.version, l.deployment.release
        )),
        (None, Some(l))
            if env.deploy.status.is_some()
                || env.deploy.target == runway_config::TargetKind::Process =>
        {
            Some(format!(
                "nothing runs, but the ledger's last verified deployment is {}",
                l.deployment.release
            ))
        }
        (Some(r), None) => Some(format!(
            "the target runs {} but the ledger has no verified deployment",
            r.version
        )),
        _ => None,
    };
    Ok(Status {
        environment: env.name.clone(),
        target: env.deploy.target.as_str().to_owned(),
        running,
        last_deployment: last.map(|l| LastDeployment {
            id: l.id.clone(),
            version: l.deployment.release.clone(),
            status: l.status.clone(),
            operator: l.operator.clone(),
            started_at: l.deployment.started_at,
            finished_at: l.finished_at,
            verification: l.verifications.last().map(|v| v.id.clone()),
            verification_status: l.verifications.last().map(|v| v.status.clone()),
            reason: l.end.as_ref().and_then(|e| e.reason.clone()),
        }),
        deploying: lock
            .filter(|l| !crate::recover::holder_is_gone(&l.holder))
            .map(|l| l.holder),
        drift,
        recovered,
    })
}
