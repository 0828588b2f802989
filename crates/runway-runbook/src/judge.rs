//! Every gate before a deploy, judged from the config, the flags, the
//! release at its tag, the environment and the ledger's incidents.

use runway_deploy::{
    Deployed,
    gates::{self, Emergency, GateStatus, IncidentFacts, Verdict},
};
use runway_ledger::{GateRecord, GateVerdict, IncidentStatus, Kind, WindowDecision};

use crate::Env;

/// The flags the gates read.
#[derive(Debug, Clone, Default)]
pub struct GateInput {
    pub version: String,
    pub approvers: Vec<String>,
    pub emergency: Option<String>,
}

/// Judges every gate for `input.version`; `previous` is the rollback artifact.
/// `trial` runs the `performance` gate's trial (a deploy does; a plan only
/// says what it would measure).
pub async fn judge(
    env: &Env,
    input: &GateInput,
    previous: Option<&Deployed>,
    trial: bool,
) -> Vec<Verdict> {
    let gates_cfg = env.config.gates.as_ref();
    let operator = env.ledger.operator().to_owned();
    let mut v = Vec::new();

    let problems = if gates_cfg.is_none_or(|g| g.release_check()) {
        Some(
            match runway_release::plan::check_at_tag(
                &env.loaded.root,
                &env.loaded.config.release,
                &input.version,
            ) {
                Ok(rows) => rows
                    .into_iter()
                    .filter(|r| r.status != runway_release::plan::RowStatus::Pass)
                    .filter(|r| r.status != runway_release::plan::RowStatus::Skip)
                    .map(|r| gates::ReleaseProblem {
                        warning: r.status == runway_release::plan::RowStatus::Warn,
                        detail: r.detail,
                        hints: r.hints,
                    })
                    .collect::<Vec<_>>(),
                Err(e) => vec![gates::ReleaseProblem {
                    warning: false,
                    detail: e.to_string(),
                    hints: runway_core::Diagnostic::hint(&e).into_iter().collect(),
                }],
            },
        )
    } else {
        None
    };
    v.push(gates::release_check(
        gates_cfg,
        &input.version,
        problems.as_deref(),
    ));

    let emergency = match &input.emergency {
        None => None,
        Some(id) => {
            let facts = match env.ledger.get(id).await {
                Ok(r) if r.kind == Kind::Incident => r.incident().ok().map(|i| IncidentFacts {
                    severity: i.severity,
                    open: !matches!(
                        r.status(),
                        Some(s) if s == IncidentStatus::Resolved.as_str() || s == IncidentStatus::Closed.as_str()
                    ),
                }),
                _ => None,
            };
            Some(Emergency {
                incident: id.clone(),
                facts,
            })
        }
    };
    v.push(gates::window(
        env.config.window.as_ref(),
        jiff::Timestamp::now(),
        emergency.as_ref(),
        &input.approvers,
        &operator,
    ));
    v.push(gates::approvals(gates_cfg, &input.approvers, &operator));
    v.push(gates::required_env(gates_cfg, |name| {
        std::env::var(name).is_ok_and(|x| !x.is_empty())
    }));
    let root = env.loaded.root.clone();
    v.push(gates::secret_files(gates_cfg, |f| {
        std::fs::File::open(root.join(f))
            .map(|_| ())
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => "not found".to_owned(),
                std::io::ErrorKind::PermissionDenied => "not readable".to_owned(),
                _ => e.to_string(),
            })
    }));
    v.push(gates::tcp(gates_cfg, &tcp_results(gates_cfg).await));
    v.push(gates::postgres(postgres_outcome(gates_cfg).await));
    let root = env.loaded.root.clone();
    v.push(gates::disk(gates_cfg, |p| gates::disk_free(&root.join(p))));
    let jwks_cfg = gates_cfg.and_then(|g| g.jwks.as_ref());
    let fetched = match jwks_cfg {
        Some(j) => Some(runway_deploy::jwks::fetch(j).await),
        None => None,
    };
    v.push(gates::jwks(
        gates_cfg,
        fetched
            .as_ref()
            .zip(jwks_cfg)
            .map(|(f, j)| (f, runway_deploy::jwks::token_from_env(j))),
        jiff::Timestamp::now().as_second(),
    ));
    let example = gates_cfg
        .and_then(|g| g.env_example.as_deref())
        .map(|f| {
            std::fs::read_to_string(root.join(f)).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => "not found".to_owned(),
                _ => e.to_string(),
            })
        })
        .unwrap_or_else(|| Ok(String::new()));
    v.push(gates::env_example(gates_cfg, example, |name| {
        env.deploy.env.contains_key(name) || std::env::var(name).is_ok_and(|x| !x.is_empty())
    }));
    let mode = gates_cfg.map(|g| g.provenance).unwrap_or_default();
    let facts = crate::provenance::facts(env, &input.version, mode).await;
    v.push(runway_deploy::provenance::judge(mode, &facts));
    let perf = gates_cfg.and_then(|g| g.performance.as_ref());
    let refused_already = gates::refused(&v);
    let outcome = match perf {
        // The trial starts a server: not when another gate already refuses.
        Some(p) if trial && !refused_already => {
            Some(crate::trial::run(env, &input.version, p).await)
        }
        _ => None,
    };
    let mut verdict = runway_deploy::performance::judge(perf, outcome.as_ref());
    if perf.is_some() && trial && refused_already {
        verdict.detail = "not run: another gate refuses this deploy".into();
    }
    v.push(verdict);
    let check = match previous {
        Some(p) => Some(env.target.check_artifact(p).await),
        None => None,
    };
    v.push(gates::rollback_artifact(
        previous.map(|p| p.version.as_str()),
        check.as_ref(),
    ));
    v
}

pub(crate) fn gate_records(verdicts: &[Verdict]) -> Vec<GateRecord> {
    verdicts
        .iter()
        .map(|v| {
            let (verdict, detail) = match v.status {
                GateStatus::Pass => (GateVerdict::Pass, v.detail.clone()),
                GateStatus::Warn => (GateVerdict::Pass, format!("warning: {}", v.detail)),
                GateStatus::Skipped => (GateVerdict::Pass, format!("skipped: {}", v.detail)),
                GateStatus::Overridden => (GateVerdict::Overridden, v.detail.clone()),
                GateStatus::Refuse => (GateVerdict::Refused, v.detail.clone()),
            };
            GateRecord::new(v.gate.clone(), verdict, detail)
        })
        .collect()
}

pub(crate) fn window_decision(verdicts: &[Verdict], input: &GateInput) -> WindowDecision {
    let Some(w) = verdicts.iter().find(|v| v.gate == "window") else {
        return WindowDecision::NoWindow;
    };
    match w.status {
        GateStatus::Skipped => WindowDecision::NoWindow,
        GateStatus::Pass => WindowDecision::Inside {
            window: w.detail.clone(),
        },
        GateStatus::Warn => WindowDecision::Override {
            window: w.detail.clone(),
            reason: "`window.outside = \"warn\"`".into(),
        },
        GateStatus::Overridden => WindowDecision::Emergency {
            window: Some(w.detail.clone()),
            incident: input.emergency.clone().unwrap_or_default(),
            approver: input.approvers.first().cloned().unwrap_or_default(),
        },
        GateStatus::Refuse => WindowDecision::Outside {
            window: w.detail.clone(),
            reason: w.hint.clone().unwrap_or_default(),
        },
    }
}

/// Connects to each `gates.tcp` dependency at once, each bounded by
/// `gates.tcp_timeout`.
/// A `tcp` dependency as tried, and how long it took to accept (or why not).
type Tried = (String, Result<std::time::Duration, String>);

async fn tcp_results(cfg: Option<&runway_config::deploy::GatesConfig>) -> Vec<Tried> {
    let Some(cfg) = cfg else {
        return Vec::new();
    };
    let timeout = cfg.tcp_timeout();
    let mut set = tokio::task::JoinSet::new();
    for (i, raw) in cfg.tcp.iter().cloned().enumerate() {
        set.spawn(async move { (i, connect(&raw, timeout).await) });
    }
    let mut out: Vec<(usize, Tried)> = Vec::new();
    while let Some(r) = set.join_next().await {
        if let Ok(r) = r {
            out.push(r);
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

async fn connect(raw: &str, timeout: std::time::Duration) -> Tried {
    {
        let addr = match runway_config::interpolate::interpolate_env(raw) {
            Ok(a) => a,
            Err(var) => return (raw.to_owned(), Err(format!("`{var}` is not set"))),
        };
        let started = std::time::Instant::now();
        let r = match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(&addr)).await {
            Ok(Ok(_)) => Ok(started.elapsed()),
            Ok(Err(e)) => Err(match e.kind() {
                std::io::ErrorKind::ConnectionRefused => "refused".to_owned(),
                _ => e.to_string(),
            }),
            Err(_) => Err(format!(
                "no answer within {}",
                humantime::format_duration(timeout)
            )),
        };
        (addr, r)
    }
}

/// `SELECT 1` on the database `gates.postgres_url_env` names.
async fn postgres_outcome(
    cfg: Option<&runway_config::deploy::GatesConfig>,
) -> Option<(String, Result<std::time::Duration, String>)> {
    let cfg = cfg?;
    let var = cfg.postgres_url_env.as_deref()?;
    let url = match std::env::var(var) {
        Ok(u) if !u.trim().is_empty() => u,
        _ => return Some((format!("`${var}`"), Err(format!("`{var}` is not set")))),
    };
    let at = runway_ledger::probe::postgres_target(&url);
    let r = runway_ledger::probe::postgres_select_one(&url, cfg.tcp_timeout())
        .await
        .map_err(|e| e.to_string());
    Some((at, r))
}
