//! The `logs` check (Hostaway 6: "JSON logs with timestamp, level,
//! correlation_id, message"): the newest lines of the running version's
//! output, read through the target, against `[environments.<name>.logs]`.
//!
//! The check reads the output through the environment's deploy target, so
//! it runs where an environment is at hand: in the deploy runbook, right
//! after the deploy's verify (a failure fails the deployment like a failed
//! verify), in `runway triage` (a failure is one of its problems), and in
//! `runway verify ENV` and the MCP `verify` tool as the check `logs.format`.

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
pub async fn check(
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

/// `logs.format` for `runway verify ENV`: the `[logs]` policy on what the
/// environment's target runs now, as a check of the report. `None` when the
/// environment sets no `[logs]` policy.
pub async fn verify_check(
    loaded: &runway_config::Loaded,
    name: &str,
    redactor: &Redactor,
) -> Option<runway_core::CheckResult> {
    use runway_core::CheckResult;
    const ID: &str = "logs.format";
    let env = loaded.config.environment(name)?;
    let policy = env.logs.as_ref()?;
    let started = std::time::Instant::now();
    let Some(deploy) = env.deploy.as_ref() else {
        return Some(CheckResult::skip(
            ID,
            format!(
                "`environments.{name}.logs` is set but there is no `deploy` table: no target to read the output from"
            ),
        ));
    };
    let target = match runway_deploy::open(name, deploy, &loaded.root) {
        Ok(t) => t,
        Err(e) => {
            return Some(CheckResult::fail(
                ID,
                redactor.redact(&format!(
                    "cannot open the `{}` target to read its output: {e}",
                    deploy.target
                )),
                format!("fix `environments.{name}.deploy`"),
            ));
        }
    };
    let ms = |s: std::time::Instant| s.elapsed().as_secs_f64() * 1000.0;
    // A stopped server's old output says nothing about what serves.
    if let Ok(None) = target.current().await {
        return Some(
            CheckResult::skip(
                ID,
                format!("no server runs in `{name}` now: its output is not judged"),
            )
            .with_duration_ms(ms(started)),
        );
    }
    let out = match check(policy, target.as_ref(), redactor).await {
        Err(e) => CheckResult::fail(
            ID,
            format!("the server's output could not be read: {e}"),
            "check that the server runs (`runway status`) and its log is readable",
        ),
        Ok((c, summary)) if c.checked == 0 => CheckResult::skip(ID, summary),
        Ok((c, summary)) if c.ok() => CheckResult::pass(ID, summary),
        Ok((_, summary)) => CheckResult::fail(
            ID,
            summary,
            format!(
                "log one JSON object per line with the fields `environments.{name}.logs.fields` names (Hostaway 6: timestamp, level, correlation_id, message)"
            ),
        ),
    };
    Some(out.with_duration_ms(ms(started)))
}

/// Adds `logs.format` to `report`, a verify of `ctx`, when `ctx` is an
/// environment of `loaded` with a `[logs]` policy and the check is wanted
/// (`--only` and `--skip` apply): what `runway verify ENV` and `runway
/// mcp`'s `verify` tool both do.
pub async fn add_to_report(
    report: &mut runway_core::Report,
    ctx: &runway_verify::Context,
    loaded: &runway_config::Loaded,
) {
    let runway_verify::context::Origin::Environment(name) = &ctx.origin else {
        return;
    };
    if !ctx.wants("logs.format", true) {
        return;
    }
    if let Some(mut check) = verify_check(loaded, name, &ctx.redactor).await {
        runway_verify::spec::annotate(&mut check, &report.era, false);
        // `--only logs`: the engine ran nothing and said so; this one ran.
        report.checks.retain(|c| c.id != "engine.nothing");
        report.push(check);
    }
}
