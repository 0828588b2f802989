//! `plan`: everything a deploy would do, judged now, changing nothing. The
//! plan is data: `runway plan` prints it (as text or `--format json`) and
//! `runway mcp` returns it.

use runway_core::Severity;
use runway_deploy::{Confirm, Deployed, gates::Verdict};
use serde::Serialize;

use crate::{Env, GateInput, RunbookError, judge};

/// What `runway deploy` (and `ship`) would do.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub environment: String,
    pub version: String,
    /// `process`, `command`, `docker` or `kubernetes`.
    pub target: String,
    /// What runs there now, as the target says.
    pub running: Option<Deployed>,
    /// What a rollback would go back to.
    pub rollback_to: Option<Deployed>,
    /// Every gate's verdict.
    pub gates: Vec<Verdict>,
    /// True when a gate would refuse the deploy (`runway plan` exits 1).
    pub refused: bool,
    pub deploy: PlanDeploy,
    pub verify: PlanVerify,
    /// `ship` only.
    pub watch: PlanWatch,
    pub on_failure: PlanFailure,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanDeploy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_sha: Option<String>,
    /// Where health is awaited; `None` when the target alone says.
    pub health_url: Option<String>,
    pub health_timeout_secs: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanVerify {
    pub suite: String,
    pub expect_version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanWatch {
    pub bake_secs: f64,
    pub interval_secs: f64,
    pub min_samples: u32,
    pub consecutive_failures: u32,
    pub availability_min: f64,
    pub error_rate_max: f64,
    pub auth_failure_max: f64,
    pub p95_max_ms: u64,
    /// interval × consecutive failures: how long a broken server goes unnoticed.
    pub detection_delay_secs: f64,
    /// The traffic conditions (`[[analysis.conditions]]`).
    pub conditions: Vec<PlanCondition>,
}

/// One traffic condition of the watch.
#[derive(Debug, Clone, Serialize)]
pub struct PlanCondition {
    pub name: String,
    /// `metrics` or `prometheus`.
    pub source: String,
    /// What it reads and its bounds, in one line.
    pub reads: String,
    /// interval × consecutive failures; a `prometheus` query adds its own range.
    pub detection_delay_secs: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanFailure {
    /// `rollback.auto`.
    pub rollback: bool,
    pub incident: Severity,
    /// `rollback.on_incident`: severities at which `runway incident open
    /// --env` rolls back at once.
    pub on_incident: Vec<Severity>,
}

/// Judges every gate for `input.version` and lays out the steps.
pub async fn plan(env: &Env, input: &GateInput) -> Result<Plan, RunbookError> {
    crate::preflight::check(env, Some(&input.version))?;
    let running = env.target.current().await?;
    let rollback_to = env.rollback_point(Some(&input.version)).await?;
    let gates = judge(env, input, rollback_to.as_ref(), false).await;
    let criteria = env.criteria(None);
    let sha = env.git_sha(&input.version);
    let request = env.request(&input.version, sha.clone(), Confirm::Refuse);
    let policy = env.config.rollback.clone().unwrap_or_default();
    Ok(Plan {
        environment: env.name.clone(),
        version: input.version.clone(),
        target: env.deploy.target.as_str().to_owned(),
        running,
        rollback_to,
        refused: runway_deploy::gates::refused(&gates),
        gates,
        deploy: PlanDeploy {
            image: request.image,
            git_sha: sha,
            health_url: request.health.url.map(|u| u.to_string()),
            health_timeout_secs: request.health.timeout.as_secs_f64(),
        },
        verify: PlanVerify {
            suite: env
                .config
                .suite
                .map(|s| s.as_str())
                .unwrap_or("smoke")
                .to_owned(),
            expect_version: input.version.clone(),
        },
        watch: PlanWatch {
            bake_secs: criteria.bake.as_secs_f64(),
            interval_secs: criteria.interval.as_secs_f64(),
            min_samples: criteria.min_samples,
            consecutive_failures: criteria.consecutive_failures,
            availability_min: criteria.availability_min,
            error_rate_max: criteria.error_rate_max,
            auth_failure_max: criteria.auth_failure_max,
            p95_max_ms: criteria.p95_max_ms,
            detection_delay_secs: criteria.detection_delay().as_secs_f64(),
            conditions: env
                .config
                .analysis
                .iter()
                .flat_map(|a| &a.conditions)
                .map(runway_signals::Condition::from_config)
                .map(|c| PlanCondition {
                    reads: c.describe(),
                    source: c.source.as_str().to_owned(),
                    name: c.name,
                    detection_delay_secs: criteria.detection_delay().as_secs_f64(),
                })
                .collect(),
        },
        on_failure: PlanFailure {
            rollback: policy.auto(),
            incident: policy.incident(),
            on_incident: policy.on_incident.clone(),
        },
    })
}
