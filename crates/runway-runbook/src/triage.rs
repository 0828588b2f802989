//! `runway triage <env>`: the dynamic-mcp incident triage on one screen, in
//! its order: readiness first (the health endpoint, `/readyz`, an MCP
//! handshake and a call), then auth failures and errors in the server's own
//! numbers (the environment's `[[analysis.conditions]]` over a short
//! window), then what changed (the last deployments), what is already known
//! (open incidents against their response times) and who is changing it now
//! (the deploy lock).
//!
//! Reads only: nothing is recorded, no lock is taken. Every probe is bounded
//! ([`TriageOptions::timeout`] each, the traffic window once). The binary
//! renders the [`Triage`]; `runway mcp` returns it as the `triage` tool's
//! structured content.

use std::time::Duration;

use chrono::{DateTime, Utc};
use runway_config::{Loaded, sources::SourceKind};
use runway_core::{Redactor, Severity};
use runway_deploy::{analysis::Sampler, probe::HttpSampler};
use runway_ledger::Ledger;
use runway_signals::{Evaluation, Verdict};
use runway_verify::{
    Transport,
    http::{self, Limits},
};
use serde::Serialize;

use crate::RunbookError;

/// How far triage looks.
#[derive(Debug, Clone)]
pub struct TriageOptions {
    /// How long the `metrics` conditions watch the server's counters: a
    /// scrape at the start and one at the end. PromQL conditions carry
    /// their own range and are read once.
    pub window: Duration,
    /// Each probe's bound.
    pub timeout: Duration,
    /// How many deployments to list.
    pub deployments: usize,
}

impl Default for TriageOptions {
    fn default() -> Self {
        TriageOptions {
            window: Duration::from_secs(10),
            timeout: Duration::from_secs(5),
            deployments: 5,
        }
    }
}

/// The screen (`runway triage ENV --format json`, the `triage` MCP tool).
#[derive(Debug, Clone, Serialize)]
pub struct Triage {
    pub environment: String,
    pub at: DateTime<Utc>,
    /// Nothing below is wrong (`runway triage` exits 0).
    pub healthy: bool,
    /// What is wrong, in the order found, one line each.
    pub problems: Vec<String>,
    pub readiness: Readiness,
    pub traffic: Traffic,
    /// The newest deployments, newest first.
    pub deployments: Vec<DeploymentLine>,
    /// Open incidents of this environment, oldest first.
    pub incidents: Vec<IncidentLine>,
    /// Who holds the deploy lock, if anyone.
    pub lock: Option<LockLine>,
    /// The `[logs]` policy on the running version's output, when one is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs: Option<LogsLine>,
}

/// The `[environments.<name>.logs]` policy on the server's recent output.
#[derive(Debug, Clone, Serialize)]
pub struct LogsLine {
    /// `ok`, `failed`, or `error` (the output could not be read).
    pub status: String,
    /// The first offending line, by its number in the sample, redacted.
    pub message: String,
}

/// Readiness: the health endpoint, `/readyz`, an MCP handshake and one call.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub ok: bool,
    /// The health endpoint (`health_path`, default `/health`).
    pub health: Endpoint,
    /// `readyz_path`, else `/readyz` when the server serves it.
    pub readyz: Endpoint,
    /// The MCP handshake and a call (`analysis.call`, else `tools/list`).
    pub mcp: McpProbe,
}

/// One `GET`.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    pub url: Option<String>,
    /// `ok`, `failed`, `not_served` (a default path the server does not
    /// have: 404/405) or `skipped`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct McpProbe {
    /// `ok` or `failed`: tried whatever the health endpoint said.
    pub status: String,
    /// The token was refused (401/403).
    pub auth_refused: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub latency_ms: f64,
    pub message: String,
}

/// Auth denials and errors in the server's own numbers.
#[derive(Debug, Clone, Serialize)]
pub struct Traffic {
    /// Whether the environment has `[[analysis.conditions]]` to read.
    pub configured: bool,
    /// The window the `metrics` conditions covered, in seconds.
    pub window_secs: f64,
    /// Each condition judged once over the window.
    pub conditions: Vec<Evaluation>,
    /// One line: what was read, or why nothing was.
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeploymentLine {
    pub id: String,
    pub version: String,
    pub status: String,
    pub operator: String,
    pub started_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it ended so, when the record says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The deployment it rolled back, for a rollback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IncidentLine {
    pub id: String,
    pub severity: Severity,
    pub title: String,
    pub status: String,
    pub detected_at: DateTime<Utc>,
    /// Seconds since it was detected.
    pub age_secs: i64,
    /// Detection plus the severity's response time (P0 15 min, P1 1 h, P2 4 h, P3 next business day).
    pub respond_by: DateTime<Utc>,
    /// Still `detected` past `respond_by`: no one has acknowledged it in time.
    pub overdue: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct LockLine {
    pub holder: String,
    pub acquired_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The holder is a process of this machine that is gone: the next deploy breaks the lock.
    pub stale: bool,
}

/// Triage of environment `name` of `loaded`, reading `ledger`.
///
/// A configuration the triage cannot run on (an unknown environment, no
/// `url`, a token variable that is not set, an analysis source that cannot
/// be set up) is an error; everything the server or the ledger says is in
/// the [`Triage`].
pub async fn triage(
    loaded: &Loaded,
    name: &str,
    ledger: &dyn Ledger,
    opts: &TriageOptions,
) -> Result<Triage, RunbookError> {
    let config = loaded.config.environment(name).cloned().ok_or_else(|| {
        RunbookError::UnknownEnvironment {
            name: name.to_owned(),
            file: loaded.path.clone(),
            known: loaded.config.environments.keys().cloned().collect(),
        }
    })?;
    let ctx = runway_verify::Context::for_environment(loaded, name, None)?;
    let Transport::Http { url: mcp } = &ctx.transport else {
        return Err(RunbookError::NoUrl {
            name: name.to_owned(),
        });
    };
    let recent = ledger.recent_deployments(name, opts.deployments).await?;
    let version = recent
        .first()
        .map(|d| d.deployment.release.clone())
        .unwrap_or_default();
    let previous = recent.get(1).map(|d| d.deployment.release.clone());
    let mut sources = crate::env::sources_of(
        loaded,
        name,
        &config,
        Some(mcp.clone()),
        &version,
        previous.as_deref(),
    )?;
    // `logs` and `resources` conditions read the target (read only).
    if let Some(s) = sources.take() {
        sources = Some(crate::env::attach_target_sources(
            name,
            config.deploy.as_ref(),
            &loaded.root,
            s,
        )?);
    }
    // The health endpoint is read on its own (its status and body), so the
    // MCP probe runs whatever it says: a server can fail one and not the other.
    let health_url = endpoint_url(mcp, config.health_path.as_deref(), "/health");
    let sampler = HttpSampler {
        health: None,
        health_optional: true,
        probe: runway_config::ProbeKind::Tools,
        mcp: mcp.clone(),
        token: ctx.token.clone(),
        auth_header: config.auth_header.clone(),
        call: config
            .analysis
            .as_ref()
            .and_then(|a| a.call.as_ref())
            .map(|c| runway_deploy::probe::ProbeCall {
                tool: c.tool.clone(),
                arguments: c.arguments.clone(),
            }),
        timeout: opts.timeout,
        redactor: ctx.redactor.clone(),
        reuse: Default::default(),
    };
    let readyz_url = endpoint_url(mcp, config.readyz_path.as_deref(), "/readyz");
    // The window opens with the first scrape; readiness is probed inside it.
    // Sources read twice: at the start (a scrape, the lines so far, the
    // CPU time so far) and at the end of the window.
    let has_metrics = sources.as_ref().is_some_and(|s| {
        s.conditions.iter().any(|c| {
            matches!(
                c.source,
                SourceKind::Metrics | SourceKind::Logs | SourceKind::Resources
            )
        })
    });
    if let Some(s) = sources.as_mut()
        && has_metrics
    {
        for kind in [SourceKind::Metrics, SourceKind::Logs, SourceKind::Resources] {
            s.prime(kind).await;
        }
    }
    let started = tokio::time::Instant::now();
    let (sample, health, readyz) = tokio::join!(
        sampler.sample(),
        get(
            health_url,
            config.health_path.is_none(),
            opts.timeout,
            &ctx.redactor
        ),
        get(
            readyz_url,
            config.readyz_path.is_none(),
            opts.timeout,
            &ctx.redactor
        )
    );
    let traffic = match sources.as_mut() {
        None => Traffic {
            configured: false,
            window_secs: 0.0,
            conditions: Vec::new(),
            message: format!(
                "no traffic conditions are configured for `{name}`: auth denials and error rates are not read (add `[[environments.{name}.analysis.conditions]]` on `/metrics` or Prometheus)"
            ),
        },
        Some(s) => {
            if has_metrics {
                tokio::time::sleep_until(started + opts.window).await;
            }
            let conditions = s.tick().await;
            let window = if has_metrics {
                started.elapsed().as_secs_f64()
            } else {
                0.0
            };
            Traffic {
                configured: true,
                window_secs: window,
                message: format!(
                    "{} judged{}",
                    runway_verify::text::count(conditions.len(), "condition"),
                    if has_metrics {
                        format!(
                            " over the last {}",
                            humantime::format_duration(Duration::from_secs(window.round() as u64))
                        )
                    } else {
                        String::new()
                    }
                ),
                conditions,
            }
        }
    };
    let mcp_probe = McpProbe {
        status: match sample.mcp_ok {
            Some(true) => "ok",
            Some(false) => "failed",
            None => "skipped",
        }
        .into(),
        auth_refused: sample.auth_refused,
        version: sample.version.clone(),
        latency_ms: sample.latency_ms,
        message: match (sample.mcp_ok, &sample.error) {
            (Some(false), Some(e)) => e.clone(),
            (Some(true), _) => format!(
                "handshake and `{}` answered",
                sampler
                    .call
                    .as_ref()
                    .map(|c| c.tool.as_str())
                    .unwrap_or("tools/list")
            ),
            (Some(false), None) => "failed".into(),
            (None, _) => "not tried".into(),
        },
    };
    let readiness = Readiness {
        ok: health.status != "failed" && readyz.status != "failed" && mcp_probe.status == "ok",
        health,
        readyz,
        mcp: mcp_probe,
    };
    let deployments = recent
        .iter()
        .map(|d| DeploymentLine {
            id: d.id.clone(),
            version: d.deployment.release.clone(),
            status: d.status.clone(),
            operator: d.operator.clone(),
            started_at: d.deployment.started_at,
            finished_at: d.finished_at,
            reason: d.end.as_ref().and_then(|e| e.reason.clone()),
            rollback_of: d.deployment.rollback_of.clone(),
        })
        .collect::<Vec<_>>();
    let now = Utc::now();
    let query = crate::records::IncidentQuery {
        environment: Some(name.to_owned()),
        ..Default::default()
    };
    let mut incidents = Vec::new();
    for r in crate::records::incidents(ledger, &query).await? {
        let b = r.incident()?;
        let status = r.status().unwrap_or("detected").to_owned();
        incidents.push(IncidentLine {
            overdue: status == "detected" && now > b.respond_by,
            id: r.id.clone(),
            severity: b.severity,
            title: b.title,
            status,
            detected_at: b.detected_at,
            age_secs: (now - b.detected_at).num_seconds(),
            respond_by: b.respond_by,
        });
    }
    let lock = ledger.deploy_lock(name).await?.map(|l| LockLine {
        stale: crate::recover::holder_is_gone(&l.holder),
        holder: l.holder,
        acquired_at: l.acquired_at,
        expires_at: l.expires_at,
    });
    let mut problems = problems(&readiness, &traffic, &deployments, &incidents);
    let logs = match (&config.logs, &config.deploy) {
        (Some(policy), Some(deploy)) => {
            let target = runway_deploy::open(name, deploy, &loaded.root)?;
            Some(
                match crate::logcheck::check(policy, target.as_ref(), &ctx.redactor).await {
                    Ok((c, summary)) => LogsLine {
                        status: if c.ok() { "ok" } else { "failed" }.into(),
                        message: summary,
                    },
                    Err(why) => LogsLine {
                        status: "error".into(),
                        message: why,
                    },
                },
            )
        }
        _ => None,
    };
    if let Some(l) = logs.as_ref().filter(|l| l.status == "failed") {
        problems.push(format!("logs: {}", l.message));
    }
    Ok(Triage {
        environment: name.to_owned(),
        at: now,
        healthy: problems.is_empty(),
        problems,
        readiness,
        traffic,
        deployments,
        incidents,
        lock,
        logs,
    })
}

/// What is wrong, in the triage's order. An open P0/P1 incident, or any
/// incident past its response time unacknowledged, is wrong; an open
/// P2/P3 that someone has acknowledged is known and not.
pub fn problems(
    readiness: &Readiness,
    traffic: &Traffic,
    deployments: &[DeploymentLine],
    incidents: &[IncidentLine],
) -> Vec<String> {
    let mut out = Vec::new();
    if readiness.health.status == "failed" {
        out.push(format!("not healthy: {}", readiness.health.message));
    }
    if readiness.readyz.status == "failed" {
        out.push(format!("not ready: {}", readiness.readyz.message));
    }
    if readiness.mcp.status == "failed" {
        out.push(format!(
            "MCP {}: {}",
            if readiness.mcp.auth_refused {
                "refused the token"
            } else {
                "failed"
            },
            readiness.mcp.message
        ));
    }
    for c in &traffic.conditions {
        // A breach, or a source that could not be read (not merely empty).
        if c.verdict == Verdict::Fail || c.error {
            out.push(format!("condition `{}`: {}", c.condition, c.message));
        }
    }
    if let Some(d) = deployments.first().filter(|d| d.status == "held") {
        out.push(format!(
            "deployment `{}` of {} is held for a human: {}",
            d.id,
            d.version,
            d.reason.as_deref().unwrap_or("its watch was inconclusive")
        ));
    }
    for i in incidents {
        if matches!(i.severity, Severity::P0 | Severity::P1) || i.overdue {
            out.push(format!(
                "{} incident `{}` is {}{}: {}",
                i.severity,
                i.id,
                i.status,
                if i.overdue {
                    " and past its response time"
                } else {
                    ""
                },
                i.title
            ));
        }
    }
    out
}

/// `path` (a path on the MCP URL's origin, or a URL), else `default` on it.
fn endpoint_url(
    mcp: &runway_verify::url::Url,
    path: Option<&str>,
    default: &str,
) -> Option<runway_verify::url::Url> {
    let p = path.unwrap_or(default);
    if p.starts_with("http://") || p.starts_with("https://") {
        return runway_verify::url::Url::parse(p).ok();
    }
    mcp.join(p).ok()
}

/// One bounded `GET`; a default path the server does not serve is `not_served`.
async fn get(
    url: Option<runway_verify::url::Url>,
    optional: bool,
    timeout: Duration,
    redactor: &Redactor,
) -> Endpoint {
    let Some(url) = url else {
        return Endpoint {
            url: None,
            status: "skipped".into(),
            http_status: None,
            latency_ms: None,
            message: "no URL".into(),
        };
    };
    let limits = Limits {
        timeout,
        max_body: 64 * 1024,
    };
    let client = http::client(limits);
    let started = std::time::Instant::now();
    let got = match client.get(url.clone()).build() {
        Ok(req) => http::fetch(&client, req, limits)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let latency = Some(started.elapsed().as_secs_f64() * 1000.0);
    let mut e = Endpoint {
        url: Some(url.to_string()),
        status: "ok".into(),
        http_status: None,
        latency_ms: latency,
        message: String::new(),
    };
    match got {
        Ok(o) => {
            e.http_status = Some(o.status);
            if (200..300).contains(&o.status) {
                e.message = match o
                    .json()
                    .and_then(|j| j.get("version").and_then(|v| v.as_str()).map(str::to_owned))
                {
                    Some(v) => format!("HTTP {}, version {}", o.status, redactor.redact(&v)),
                    None => format!("HTTP {}", o.status),
                };
            } else if optional && matches!(o.status, 404 | 405) {
                e.status = "not_served".into();
                e.message = format!("HTTP {}: the server has no such endpoint", o.status);
            } else {
                e.status = "failed".into();
                e.message = format!("HTTP {}", o.status);
            }
        }
        Err(why) => {
            e.status = "failed".into();
            e.message = redactor.redact(&why);
        }
    }
    e
}

#[cfg(test)]
mod tests;
