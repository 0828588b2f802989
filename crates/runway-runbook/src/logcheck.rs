//! The `logs` check (Hostaway 6: "JSON logs with timestamp, level,
//! correlation_id, message"): the newest lines of the running version's
//! output, read through the target, against `[environments.<name>.logs]`.
//!
//! `runway verify` reaches the server only over MCP and HTTP, so the check
//! runs where the target is at hand: in the deploy runbook, right after the
//! deploy's verify (a failure fails the deployment like a failed verify).

use runway_deploy::logs::{LogsCheck, check_bytes, check_json_lines, current_run};

use crate::env::Env;

/// The check's result and its sentence; `None` when the environment sets no
/// `[logs]` policy; `Err` when the output could not be read.
pub(crate) async fn run(env: &Env) -> Option<Result<(LogsCheck, String), String>> {
    let policy = env.config.logs.as_ref()?;
    let lines = policy.lines();
    let logs = match env.target.logs(check_bytes(lines)).await {
        Ok(l) => l,
        Err(e) => return Some(Err(env.redactor.redact(&e.to_string()))),
    };
    let tail = current_run(&logs);
    let check = check_json_lines(&tail, &policy.fields(), lines, &env.redactor);
    let summary = check.summary(&logs.source);
    Some(Ok((check, summary)))
}
