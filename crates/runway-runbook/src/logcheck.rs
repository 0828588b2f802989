//! The `logs` check (Hostaway 6: "JSON logs with timestamp, level,
//! correlation_id, message"): the newest lines of the running version's
//! output, read through the target, against `[environments.<name>.logs]`.
//!
//! `runway verify` reaches the server only over MCP and HTTP, so the check
//! runs where the target is at hand: in the deploy runbook, right after the
//! deploy's verify (a failure fails the deployment like a failed verify),
//! and in `runway triage` (a failure is one of its problems).

use runway_config::sources::LogsPolicyConfig;
use runway_core::Redactor;
use runway_deploy::{
    Target,
    logs::{LogsCheck, check_bytes, check_json_lines, current_run},
};

use crate::env::Env;

/// The check's result and its sentence; `None` when the environment sets no
/// `[logs]` policy; `Err` when the output could not be read.
pub(crate) async fn run(env: &Env) -> Option<Result<(LogsCheck, String), String>> {
    let policy = env.config.logs.as_ref()?;
    Some(check(policy, env.target.as_ref(), &env.redactor).await)
}

/// The `[logs]` policy on what `target` runs now.
pub(crate) async fn check(
    policy: &LogsPolicyConfig,
    target: &dyn Target,
    redactor: &Redactor,
) -> Result<(LogsCheck, String), String> {
    let lines = policy.lines();
    let logs = target
        .logs(check_bytes(lines))
        .await
        .map_err(|e| redactor.redact(&e.to_string()))?;
    let tail = current_run(&logs);
    let check = check_json_lines(&tail, &policy.fields(), lines, redactor);
    let summary = check.summary(&logs.source);
    Ok((check, summary))
}
