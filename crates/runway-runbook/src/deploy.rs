//! `deploy` and `ship`: lock, gates, record, deploy, verify, (watch), and on
//! failure keep the logs, roll back, verify again, compare with the
//! baseline, open an incident and end the record.

use std::time::Duration;

use runway_core::{Severity, Shutdown};
use runway_deploy::{
    Confirm, Deployed,
    analysis::{self, Criteria, WatchOutcome},
    gates,
};
use runway_ledger::{
    AnalysisVerdict, Changes, Deployment, DeploymentEnd, DeploymentFact, Outcome, RollbackDecision,
};

use crate::{
    Env, Event, Finished, GateInput, RunbookError, artifact,
    env::deployed_fact,
    history::{Baseline, baseline_of, compare_with_baseline, scope_of, supersede_held},
    journal::Done,
    judge::{gate_records, judge, window_decision},
};

/// What `deploy` and `ship` were asked to do.
#[derive(Debug, Clone)]
pub struct Run {
    pub gates: GateInput,
    /// How a manual step is confirmed (`Confirm::Assume` for `--yes`).
    pub confirm: Confirm,
    /// `ship`: watch the bake window after the verify.
    pub watch: bool,
    /// Watch for this long instead of `analysis.bake`.
    pub bake: Option<Duration>,
    /// Ends the deployment `aborted` when it fires.
    pub abort: Shutdown,
}

impl Run {
    /// A deploy of `version`, manual steps refused, never aborted.
    pub fn new(version: &str) -> Run {
        Run {
            gates: GateInput {
                version: version.to_owned(),
                ..GateInput::default()
            },
            confirm: Confirm::Refuse,
            watch: false,
            bake: None,
            abort: Shutdown::never(),
        }
    }
}

/// `deploy` or `ship` to the end.
pub async fn deploy(env: &Env, run: &Run) -> Result<Finished, RunbookError> {
    crate::preflight::check(env, Some(&run.gates.version))?;
    let version = run.gates.version.clone();
    crate::recover::recover_noting(env).await?;
    let lock = match crate::take_lock(env).await {
        Ok(l) => l,
        Err(e @ runway_ledger::LedgerError::Locked { .. }) => {
            return Ok(Finished::new(env, Some(&version), "locked", false)
                .message(e.to_string())
                .hint(format!(
                    "wait for it to finish (`runway status {}`), then deploy again",
                    env.name
                )));
        }
        Err(e) => return Err(e.into()),
    };
    let result = deploy_locked(env, run, &version).await;
    let _ = lock.release().await;
    result
}

async fn deploy_locked(env: &Env, run: &Run, version: &str) -> Result<Finished, RunbookError> {
    let previous = env.rollback_point(Some(version)).await?;
    let verdicts = judge(env, &run.gates, previous.as_ref(), true).await;
    env.emit(Event::Gates {
        version,
        verdicts: &verdicts,
    });
    let refused = gates::refused(&verdicts);

    let sha = env.git_sha(version);
    let history = env.history().await?;
    let last = history.first();
    let mut record = Deployment::new(&env.name, version);
    record.git_sha = sha.clone();
    record.image_tag = env.image(version);
    record.approver = (!run.gates.approvers.is_empty()).then(|| run.gates.approvers.join(", "));
    record.window = window_decision(&verdicts, &run.gates);
    record.gates = gate_records(&verdicts);
    record.target = Some(env.deploy.target.as_str().to_owned());
    record.settings = env.settings().await?;
    record.changes = last.map(|l| Changes {
        previous_deployment: Some(l.id.clone()),
        previous_version: Some(l.deployment.release.clone()),
        previous_git_sha: l.deployment.git_sha.clone(),
        code: code_changes(env, l.deployment.git_sha.as_deref(), sha.as_deref()),
        config: crate::scope::changes(&l.deployment.settings, &record.settings),
    });
    record.scope = scope_of(record.changes.as_ref());
    let id = env.ledger.record_deployment(&record).await?;
    if refused {
        // The record keeps every verdict and the window decision; nothing changed.
        let why: Vec<String> = verdicts
            .iter()
            .filter(|v| v.refuses())
            .map(|v| format!("{}: {}", v.gate, v.detail))
            .collect();
        let mut end = DeploymentEnd::new(Outcome::Refused);
        end.reason = Some(format!("refused by a gate: {}", why.join("; ")));
        env.ledger.finish_deployment(&id, &end).await?;
        return Ok(Finished::new(env, Some(version), "refused", false)
            .deployment(&id)
            .message(format!(
                "a gate refused the deployment of {version} to `{}`; nothing was changed (recorded as `{id}`)",
                env.name
            )));
    }
    env.note(format!("deployment `{id}`: {version} to {}", env.name));

    let done = Done::default();
    done.0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push("gates passed".to_owned());
    let flow = steps(env, run, version, &id, previous.as_ref(), &done);
    // The abort is polled first, so a step that notices it too never wins the race.
    tokio::select! {
        biased;
        sig = run.abort.fired() => {
            let mut end = DeploymentEnd::new(Outcome::Aborted);
            end.reason = Some(format!("interrupted by {sig}"));
            end.done = done.list();
            // The step it was taking when the signal came, from the journal.
            if let Ok(view) = env.ledger.deployment_view(&id).await
                && let Some(s) = view.steps.last().filter(|s| s.intent)
            {
                end.done.push(format!("about to {} when it stopped", s.step));
            }
            let running = env.target.current().await.ok().flatten();
            let next = aborted_hint(env, version, running.as_ref());
            end.reason = Some(format!("interrupted by {sig}; {next}"));
            env.ledger.finish_deployment(&id, &end).await?;
            Ok(Finished::new(env, Some(version), "aborted", false)
                .deployment(&id)
                .message(format!("deployment `{id}` aborted by {sig}; recorded what was done"))
                .hint(next))
        }
        r = flow => r,
    }
}

/// `text` on one line, cut to about `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line,
    }
}

/// `git log --format='%h %s' from..to`, bounded to 200 lines; empty without both commits.
fn code_changes(env: &Env, from: Option<&str>, to: Option<&str>) -> Vec<String> {
    let (Some(from), Some(to)) = (from, to) else {
        return Vec::new();
    };
    let range = format!("{from}..{to}");
    runway_release::git::run(
        &env.loaded.root,
        &["log", "--format=%h %s", "--max-count=200", &range],
    )
    .map(|out| out.lines().map(str::to_owned).collect())
    .unwrap_or_default()
}

pub(crate) fn watch_note(env: &Env, criteria: &Criteria) -> String {
    format!(
        "watching {} for {} (a sample every {}, fails after {} failures in a row: detection delay {})",
        env.name,
        humantime::format_duration(criteria.bake),
        humantime::format_duration(criteria.interval),
        criteria.consecutive_failures,
        humantime::format_duration(criteria.detection_delay()),
    )
}

async fn steps(
    env: &Env,
    run: &Run,
    version: &str,
    id: &str,
    previous: Option<&Deployed>,
    done: &Done,
) -> Result<Finished, RunbookError> {
    let request = env.request(version, env.git_sha(version), run.confirm.clone());
    // The traffic conditions' baselines: the previous version, while it still serves.
    let mut sources = if run.watch {
        env.sources(version, previous.map(|p| p.version.as_str()))?
    } else {
        None
    };
    if let Some(s) = sources.as_mut() {
        s.capture_baseline().await;
    }
    let deployed = match crate::journal::journaled(env, id, done, |steps| {
        let mut request = request.clone();
        request.steps = steps;
        async move { env.target.deploy(&request).await }
    })
    .await
    {
        Ok(d) => d,
        Err(e) if e.is_before_change() => {
            return refused_unchanged(env, version, id, &e, done).await;
        }
        Err(e) => {
            let reason = format!("deploy failed: {e}");
            return fail(env, version, id, previous, &reason, None, done).await;
        }
    };
    env.ledger
        .add_deployment_fact(id, &deployed_fact(&deployed))
        .await?;
    done.did(env, format!("{version} deployed and healthy"));

    let (report, verification) = env.verify(version, id).await?;
    if !report.ok() {
        // The reason names what failed and why, not only the check ids.
        let failed: Vec<String> = report
            .checks
            .iter()
            .filter(|c| c.status == runway_core::Status::Fail)
            .map(|c| format!("{}: {}", c.id, one_line(&c.message, 200)))
            .collect();
        done.did(env, format!("verify failed ({})", failed.join("; ")));
        // Each distinct hint once, as the verify report would show it.
        let mut hints: Vec<&str> = Vec::new();
        for h in report
            .checks
            .iter()
            .filter(|c| c.status == runway_core::Status::Fail)
            .filter_map(|c| c.hint.as_deref())
        {
            if !hints.contains(&h) {
                hints.push(h);
            }
        }
        for h in hints.iter().take(3) {
            env.note(format!("  hint: {}", one_line(h, 300)));
        }
        let reason = format!("verify failed: {}", failed.join("; "));
        return fail(
            env,
            version,
            id,
            previous,
            &reason,
            Some(&verification),
            done,
        )
        .await;
    }
    done.did(
        env,
        format!(
            "verify passed ({} checks, `{verification}`)",
            report.checks.len()
        ),
    );
    // `[logs]`: the new version's output is the format asked for.
    match crate::logcheck::run(env).await {
        None => {}
        Some(Ok((check, summary))) if check.ok() => {
            done.did(env, format!("logs check passed: {summary}"));
        }
        Some(Ok((_, summary))) => {
            let reason = format!("logs check failed: {summary}");
            done.did(env, reason.clone());
            env.note(
                "  hint: make the server log one JSON object per line with the fields of `[environments.<name>.logs]`, or change that policy",
            );
            return fail(
                env,
                version,
                id,
                previous,
                &reason,
                Some(&verification),
                done,
            )
            .await;
        }
        Some(Err(why)) => done.did(env, format!("logs check not run: {why}")),
    }

    let mut held = None;
    if run.watch {
        let criteria = env.criteria(run.bake);
        env.note(watch_note(env, &criteria));
        let sampler = env.sampler()?;
        let out = analysis::watch_with(
            &sampler,
            sources.as_mut(),
            &criteria,
            std::future::pending(),
            |s, n| env.emit(Event::Sample { n, sample: s }),
            |e| env.note_evaluations(e),
        )
        .await;
        env.note_conditions(&out);
        env.ledger
            .add_deployment_fact(id, &analysis_fact(&out, &criteria))
            .await?;
        match out.analysis.verdict {
            analysis::Verdict::Fail => {
                let reason = format!("watch failed: {}", out.analysis.reasons.join("; "));
                done.did(env, reason.clone());
                return fail(
                    env,
                    version,
                    id,
                    previous,
                    &reason,
                    Some(&verification),
                    done,
                )
                .await;
            }
            analysis::Verdict::Inconclusive => {
                let why = out.analysis.reasons.join("; ");
                done.did(env, format!("watch inconclusive: {why}"));
                held = Some(why);
            }
            analysis::Verdict::Pass => done.did(
                env,
                format!(
                    "watch passed ({} samples, availability {:.1}%, p95 {:.0} ms)",
                    out.analysis.aggregates.samples,
                    out.analysis.aggregates.availability * 100.0,
                    out.analysis.aggregates.p95_ms
                ),
            ),
        }
    }
    env.target.retire_previous().await?;
    let mut end = DeploymentEnd::new(if held.is_some() {
        Outcome::Held
    } else {
        Outcome::Verified
    });
    end.verification_id = Some(verification.clone());
    end.rollback = Some(RollbackDecision::NotNeeded);
    end.done = done.list();
    end.reason = held
        .as_ref()
        .map(|w| format!("watch inconclusive, held for a human: {w}"));
    env.ledger.finish_deployment(id, &end).await?;
    if held.is_none() {
        supersede_held(env, id, version).await?;
    }
    let mut f = match held {
        Some(why) => Finished::new(env, Some(version), "held", false)
            .message(format!(
                "{version} is running on `{}` but the watch was inconclusive ({why}): deployment `{id}` is held for a human",
                env.name
            ))
            .hint(held_hint(&env.name, version)),
        None => Finished::new(env, Some(version), "verified", true).message(format!(
            "{version} is live on {} (deployment `{id}`)",
            env.name
        )),
    };
    f.verification = Some(verification);
    Ok(f.deployment(id))
}

pub(crate) fn analysis_fact(out: &WatchOutcome, c: &Criteria) -> DeploymentFact {
    let a = &out.analysis.aggregates;
    let lat: Vec<f64> = out.samples.iter().map(|s| s.latency_ms).collect();
    let p50 = {
        let mut v = lat.clone();
        v.sort_by(f64::total_cmp);
        v.get(v.len().saturating_sub(1) / 2).copied()
    };
    DeploymentFact::Analysis(runway_ledger::Analysis {
        verdict: match out.analysis.verdict {
            analysis::Verdict::Pass => AnalysisVerdict::Pass,
            analysis::Verdict::Fail => AnalysisVerdict::Fail,
            analysis::Verdict::Inconclusive => AnalysisVerdict::Inconclusive,
        },
        samples: u64::from(a.samples),
        min_samples: Some(u64::from(c.min_samples)),
        started_at: out.samples.first().map(|s| s.at),
        ended_at: out.samples.last().map(|s| s.at),
        availability: (a.samples > 0).then_some(a.availability),
        error_rate: (a.samples > 0).then_some(a.error_rate),
        auth_failure_rate: (a.samples > 0).then_some(a.auth_failure_rate),
        p50_ms: p50,
        p95_ms: (a.samples > 0).then_some(a.p95_ms),
        failing: (!out.analysis.reasons.is_empty()).then(|| out.analysis.reasons.join("; ")),
        conditions: out.conditions.iter().map(condition_record).collect(),
    })
}

fn ledger_verdict(v: analysis::Verdict) -> AnalysisVerdict {
    match v {
        analysis::Verdict::Pass => AnalysisVerdict::Pass,
        analysis::Verdict::Fail => AnalysisVerdict::Fail,
        analysis::Verdict::Inconclusive => AnalysisVerdict::Inconclusive,
    }
}

/// A traffic condition over the watch, structured for the record.
fn condition_record(c: &runway_signals::ConditionSummary) -> runway_ledger::ConditionRecord {
    runway_ledger::ConditionRecord {
        name: c.condition.clone(),
        source: c.source.as_str().to_owned(),
        expression: c.expression.clone(),
        max: c.max,
        min: c.min,
        baseline_factor: c.baseline_factor,
        baseline: c.baseline,
        verdict: ledger_verdict(c.verdict),
        passed: c.passed,
        failed: c.failed,
        empty: c.empty,
        errors: c.errors,
        reason: (!c.reason.is_empty()).then(|| c.reason.clone()),
        evaluations: c
            .evaluations
            .iter()
            .map(|e| runway_ledger::ConditionEvaluation {
                at: e.at,
                value: e.value,
                verdict: ledger_verdict(e.verdict),
                error: e.error,
                message: e.message.clone(),
            })
            .collect(),
        evaluations_dropped: c.evaluations_dropped,
    }
}

/// How many lines of a failed version's output the operator is shown.
const LOG_TAIL_LINES: usize = 8;
/// The longest line shown of that output, in characters.
const LOG_LINE_MAX: usize = 240;

/// The last `n` non-blank lines of `text`, each cut to [`LOG_LINE_MAX`]
/// characters and stripped of terminal colour codes (structlog and uvicorn
/// colour their output even into a file).
pub(crate) fn last_lines(text: &str, n: usize) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        .rev()
        .map(strip_ansi)
        .filter(|l| !l.trim().is_empty())
        .take(n)
        .map(|l| {
            let l = l.trim_end();
            match l.char_indices().nth(LOG_LINE_MAX) {
                Some((at, _)) => format!("{}…", &l[..at]),
                None => l.to_owned(),
            }
        })
        .collect();
    lines.reverse();
    lines
}

/// `s` without ANSI CSI sequences (`ESC [ ... letter`); other control
/// characters are left for the renderer to escape.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A deploy that failed at some step: keep its logs, roll back per policy,
/// verify again, compare with the baseline, open an incident, end the record.
pub(crate) async fn fail(
    env: &Env,
    version: &str,
    id: &str,
    previous: Option<&Deployed>,
    reason: &str,
    verification: Option<&str>,
    done: &Done,
) -> Result<Finished, RunbookError> {
    env.problem(reason);
    // Before anything else: a `runway` cut off from here on leaves a record
    // that recovery ends `failed`, so the failed change is counted.
    if let Err(e) = env
        .ledger
        .add_deployment_fact(
            id,
            &DeploymentFact::Failing {
                reason: reason.to_owned(),
            },
        )
        .await
    {
        env.problem(format!("could not record the failure: {e}"));
    }
    if let Ok(logs) = env.target.logs(runway_ledger::MAX_LOG_BYTES).await
        && !logs.text.is_empty()
    {
        let text = env.redactor.redact(&logs.text);
        // The target says whose output it is when it can: a swap that failed
        // early put the old version back, and its logs are not the new one's.
        let of = logs.version.clone().unwrap_or_else(|| version.to_owned());
        env.ledger
            .add_deployment_fact(
                id,
                &DeploymentFact::Logs(runway_ledger::Logs::bounded(
                    logs.source,
                    Some(of.clone()),
                    &text,
                )),
            )
            .await?;
        done.did(
            env,
            if of == version {
                "kept the failed version's logs".to_owned()
            } else {
                format!("kept {of}'s logs ({version} left none to read)")
            },
        );
        // The operator's first question is why: the last lines say it
        // (`No solution found when resolving mcp-hangar==2.99.0`), without
        // a trip to the ledger.
        // The process log holds every start: only the failed start's own.
        let own = text
            .rfind(runway_deploy::process::RUN_MARKER)
            .map_or(text.as_str(), |at| &text[at..]);
        let tail = last_lines(own, LOG_TAIL_LINES);
        // Only a version that never got as far as its verify (it exited, or
        // never answered): a verified one's output is its traffic, not a cause.
        if verification.is_none() && !tail.is_empty() {
            env.note(format!("  last lines of {of}'s output:"));
            for line in tail {
                env.note(format!("    | {line}"));
            }
        }
    }
    let policy = env.config.rollback.clone().unwrap_or_default();
    let mut end = DeploymentEnd::new(Outcome::Failed);
    end.verification_id = verification.map(str::to_owned);
    end.reason = Some(reason.to_owned());
    let mut incident_title = format!("{version} to {} failed: {reason}", env.name);
    match (policy.auto(), previous) {
        (true, Some(prev)) => {
            let started = chrono::Utc::now();
            env.note(format!("rolling back {} to {}", env.name, prev.version));
            let (back, restored) = match env.restoring(prev, Confirm::Assume) {
                Ok((request, restored)) => (
                    crate::journal::journaled(env, id, done, |steps| {
                        let mut request = request.clone();
                        request.steps = steps;
                        async move { env.target.rollback(prev, &request).await }
                    })
                    .await
                    .map_err(|e| e.to_string()),
                    restored,
                ),
                Err(e) => (Err(e.to_string()), Vec::new()),
            };
            let mut fact = runway_ledger::Rollback {
                from_version: Some(version.to_owned()),
                to_version: Some(prev.version.clone()),
                to_artifact: Some(artifact(prev)),
                reason: reason.to_owned(),
                automatic: true,
                started_at: started,
                finished_at: None,
                ok: false,
                verification_id: None,
                baseline: None,
                back_to_baseline: None,
                restored,
                incident: None,
            };
            match back {
                Err(e) => {
                    done.did(env, format!("rollback to {} failed: {e}", prev.version));
                    fact.finished_at = Some(chrono::Utc::now());
                    incident_title =
                        format!("{incident_title}; rollback to {} failed", prev.version);
                }
                Ok(d) => {
                    env.ledger
                        .add_deployment_fact(id, &deployed_fact(&d))
                        .await?;
                    done.did(env, format!("rolled back to {}", prev.version));
                    let (report, vid) = env.verify(&prev.version, id).await?;
                    fact.verification_id = Some(vid.clone());
                    fact.ok = report.ok();
                    done.did(
                        env,
                        format!(
                            "verify after rollback {} (`{vid}`)",
                            if report.ok() { "passed" } else { "failed" }
                        ),
                    );
                    let history = env.history().await.unwrap_or_default();
                    match baseline_of(&history, &prev.version) {
                        Baseline::Found(base) => {
                            let analysis::BaselineCheck {
                                back: ok,
                                summary: text,
                            } = compare_with_baseline(env, &base).await?;
                            done.did(
                                env,
                                format!(
                                    "{} baseline: {text}",
                                    if ok { "back to" } else { "not back to" }
                                ),
                            );
                            fact.baseline = Some(text);
                            fact.back_to_baseline = Some(ok);
                        }
                        Baseline::Failing(why) => {
                            done.did(env, why.clone());
                            fact.baseline = Some(why);
                        }
                        Baseline::None => {
                            fact.baseline = Some(format!(
                                "no analysis recorded for {} to compare with",
                                prev.version
                            ));
                        }
                    }
                    fact.finished_at = Some(chrono::Utc::now());
                    incident_title = format!("{incident_title}; rolled back to {}", prev.version);
                    if fact.ok {
                        end.outcome = Outcome::RolledBack;
                    }
                    end.rollback = Some(RollbackDecision::Executed {
                        to: Some(prev.version.clone()),
                        reason: reason.to_owned(),
                    });
                }
            }
            env.ledger
                .add_deployment_fact(id, &DeploymentFact::Rollback(fact))
                .await?;
        }
        (true, None) => {
            // A first deployment that failed is not left serving.
            match env.target.stop_current().await {
                Ok(true) => {
                    done.did(
                        env,
                        format!(
                            "stopped the failed {version}: nothing to roll back to (first deployment here)"
                        ),
                    );
                    incident_title = format!("{incident_title}; {version} stopped");
                }
                Ok(false) => done.did(
                    env,
                    format!(
                        "nothing to roll back to (first deployment here); the `{}` target cannot stop {version}: it may still run",
                        env.deploy.target.as_str()
                    ),
                ),
                Err(e) => done.did(env, format!("could not stop the failed {version}: {e}")),
            }
        }
        (false, _) => done.did(
            env,
            format!("no rollback (`rollback.auto = false`): {version} is left as it is"),
        ),
    }
    let severity: Severity = policy.incident();
    let incident = env
        .ledger
        .open_incident(severity, &incident_title, Some(id))
        .await?;
    done.did(env, format!("opened {severity} incident `{incident}`"));
    end.done = done.list();
    env.ledger.finish_deployment(id, &end).await?;
    let mut f = Finished::new(env, Some(version), end.outcome.as_str(), false)
        .deployment(id)
        .message(format!(
            "deployment `{id}` ended `{}`; incident `{incident}` ({severity})",
            end.outcome
        ));
    f.incident = Some(incident);
    f.verification = verification.map(str::to_owned);
    Ok(f)
}

/// The target refused before it changed anything (the image is missing):
/// the record ends `refused`, with no rollback and no incident, since what
/// ran before still runs.
async fn refused_unchanged(
    env: &Env,
    version: &str,
    id: &str,
    e: &runway_deploy::DeployError,
    done: &Done,
) -> Result<Finished, RunbookError> {
    use runway_core::Diagnostic;
    env.problem(e.to_string());
    let mut end = DeploymentEnd::new(Outcome::Refused);
    end.reason = Some(format!("refused by the target before any change: {e}"));
    end.rollback = Some(RollbackDecision::NotNeeded);
    end.done = done.list();
    env.ledger.finish_deployment(id, &end).await?;
    let mut f = Finished::new(env, Some(version), "refused", false)
        .deployment(id)
        .message(format!(
            "{version} was not deployed to `{}`: {e} (recorded as `{id}`)",
            env.name
        ));
    if let Some(h) = e.hint() {
        f = f.hint(h);
    }
    Ok(f)
}

/// What to run after a deployment of `version` was aborted, from what runs now.
fn aborted_hint(env: &Env, version: &str, running: Option<&Deployed>) -> String {
    let name = &env.name;
    match running {
        Some(r) if r.version == version => format!(
            "{version} runs unjudged: judge it with `runway watch {name}`, or go back with `runway rollback {name}`"
        ),
        Some(r) => format!(
            "{} still runs; nothing else was changed: deploy again when ready",
            r.version
        ),
        None => format!(
            "nothing serves `{name}`: `runway status {name}` puts the last verified version back (or `runway rollback {name} --to VERSION`)"
        ),
    }
}

/// How a held deployment is resolved.
pub(crate) fn held_hint(env: &str, version: &str) -> String {
    format!(
        "watch it again (`runway watch {env}`), accept it (`runway deploy {env} --version {version} --accept`) or roll it back (`runway rollback {env}`)"
    )
}

/// `runway deploy ENV --version X --accept`: a human judges the held
/// deployment of `version` good; it ends `verified`.
pub async fn accept(env: &Env, version: &str) -> Result<Finished, RunbookError> {
    let latest = env.history().await?.into_iter().next();
    let Some(held) =
        latest.filter(|l| l.status == Outcome::Held.as_str() && l.deployment.release == version)
    else {
        return Ok(Finished::new(env, Some(version), "failed", false)
            .message(format!(
                "no deployment of {version} is held in `{}`: only the newest deployment, when its watch was inconclusive, can be accepted",
                env.name
            ))
            .hint(format!("`runway status {}` shows what runs there", env.name)));
    };
    let mut end = DeploymentEnd::new(Outcome::Verified);
    end.rollback = Some(RollbackDecision::NotNeeded);
    end.verification_id = held.end.as_ref().and_then(|e| e.verification_id.clone());
    end.reason = Some(format!(
        "held, then accepted by {} (`runway deploy --accept`)",
        env.ledger.operator()
    ));
    end.done = held
        .end
        .as_ref()
        .map(|e| e.done.clone())
        .unwrap_or_default();
    env.ledger.finish_deployment(&held.id, &end).await?;
    Ok(Finished::new(env, Some(version), "verified", true)
        .deployment(&held.id)
        .message(format!(
            "{version} on {} accepted: deployment `{}` is verified",
            env.name, held.id
        )))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_last_lines_skip_blanks_drop_colour_and_are_bounded() {
        let log = "one\n\n\u{1b}[2m2026\u{1b}[0m [\u{1b}[31merror\u{1b}[0m] boom\n  \nthree\n";
        assert_eq!(
            super::last_lines(log, 2),
            vec!["2026 [error] boom".to_owned(), "three".to_owned()]
        );
        let long = "x".repeat(1000);
        let got = super::last_lines(&long, 8);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].chars().count(), super::LOG_LINE_MAX + 1);
        assert!(super::last_lines("", 8).is_empty());
    }
}
