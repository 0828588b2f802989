//! The gates before a deploy: data in, verdict out.
//!
//! Each gate is a pure function of what the caller observed (the time, the
//! approvers named, which variables are set, the release check's problems, the
//! rollback artifact check), so `runway plan` can show every verdict without
//! changing anything and each rule is unit-tested with no clock, no disk and no
//! ledger. The binary gathers the facts and records the verdicts.

use runway_config::{
    GatesConfig, WindowConfig,
    deploy::{Day, Outside},
};
use runway_core::Severity;

use crate::ArtifactCheck;
pub use crate::verdict::{GateStatus, Verdict, refused};

/// What the ledger says about the incident named by `--emergency`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFacts {
    pub severity: Severity,
    /// Not yet resolved or closed.
    pub open: bool,
}

/// `--emergency <incident id>`, with what was found about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emergency {
    pub incident: String,
    /// `None` when the ledger has no such incident.
    pub facts: Option<IncidentFacts>,
}

/// Why an emergency may not override a refused window.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmergencyRefused {
    #[error("no incident `{0}` in the ledger")]
    NoIncident(String),
    #[error("incident `{0}` is not open")]
    NotOpen(String),
    #[error(
        "incident `{incident}` is {severity}; only a P0 or P1 incident allows an emergency deploy"
    )]
    TooMinor {
        incident: String,
        severity: Severity,
    },
    #[error("an emergency deploy needs `--approver NAME` (someone other than the operator)")]
    NoApprover,
}

/// Whether an emergency may override a refused window: `Ok` says who
/// approved it for which incident.
pub fn emergency_allowed(
    e: &Emergency,
    approvers: &[String],
    operator: &str,
) -> Result<String, EmergencyRefused> {
    let Some(facts) = &e.facts else {
        return Err(EmergencyRefused::NoIncident(e.incident.clone()));
    };
    if !facts.open {
        return Err(EmergencyRefused::NotOpen(e.incident.clone()));
    }
    if facts.severity > Severity::P1 {
        return Err(EmergencyRefused::TooMinor {
            incident: e.incident.clone(),
            severity: facts.severity,
        });
    }
    let approver = approvers
        .iter()
        .find(|a| !a.trim().eq_ignore_ascii_case(operator.trim()));
    match approver {
        Some(a) => Ok(format!(
            "emergency for {} incident `{}`, approved by {a}",
            facts.severity, e.incident
        )),
        None => Err(EmergencyRefused::NoApprover),
    }
}

/// The deploy window at `now`. With no `[window]` table, there is no window.
pub fn window(
    config: Option<&WindowConfig>,
    now: jiff::Timestamp,
    emergency: Option<&Emergency>,
    approvers: &[String],
    operator: &str,
) -> Verdict {
    const GATE: &str = "window";
    let Some(w) = config else {
        return Verdict::new(
            GATE,
            GateStatus::Skipped,
            "no deploy window for this environment",
        );
    };
    let tz = w.timezone.time_zone();
    let local = now.to_zoned(tz);
    let day = Day::ALL[local.weekday().to_monday_zero_offset() as usize];
    let minute = u16::from(local.hour() as u8) * 60 + u16::from(local.minute() as u8);
    let date = local.date();
    let when = format!(
        "{} {} {:02}:{:02} {}",
        day.as_str(),
        date,
        local.hour(),
        local.minute(),
        w.timezone.0
    );
    let refusal = if let Some(f) = w.freeze.iter().find(|f| f.contains(date)) {
        Some(format!("{when} is in the freeze `{}`", f.text))
    } else if let Some(b) = w.block.iter().find(|b| b.contains(day, minute)) {
        Some(format!("{when} is blocked (`{}`)", b.text))
    } else if let Some(a) = w.allow.iter().find(|a| a.contains(day, minute)) {
        return Verdict::new(
            GATE,
            GateStatus::Pass,
            format!("{when} is inside `{}`", a.text),
        );
    } else if w.outside == Outside::Warn {
        return Verdict::new(
            GATE,
            GateStatus::Warn,
            format!("{when} is outside every allowed span ({})", spans(w)),
        );
    } else {
        Some(format!(
            "{when} is outside every allowed span ({})",
            spans(w)
        ))
    };
    let refusal = refusal.unwrap_or_default();
    match emergency {
        Some(e) => match emergency_allowed(e, approvers, operator) {
            Ok(why) => Verdict::new(GATE, GateStatus::Overridden, format!("{refusal}; {why}")),
            Err(why) => Verdict::new(GATE, GateStatus::Refuse, format!("{refusal}; {why}"))
                .hint("an emergency needs an open P0 or P1 incident (`runway incident open`) and `--approver NAME`"),
        },
        None => Verdict::new(GATE, GateStatus::Refuse, refusal).hint(format!(
            "deploy during {}, or pass `--emergency INCIDENT --approver NAME` for an open P0/P1 incident",
            spans(w)
        )),
    }
}

fn spans(w: &WindowConfig) -> String {
    if w.allow.is_empty() {
        return "no allowed spans".into();
    }
    w.allow
        .iter()
        .map(|a| format!("`{}`", a.text))
        .collect::<Vec<_>>()
        .join(", ")
        + &format!(" {}", w.timezone.0)
}

/// Required approvers: distinct names, none of them the operator, from the allowed list if any.
pub fn approvals(config: Option<&GatesConfig>, approvers: &[String], operator: &str) -> Verdict {
    const GATE: &str = "approvals";
    let required = config.map(|g| g.approvals).unwrap_or(0) as usize;
    let allowed = config.map(|g| g.approvers.as_slice()).unwrap_or(&[]);
    let mut valid: Vec<&str> = Vec::new();
    let mut problems = Vec::new();
    for a in approvers {
        let a = a.trim();
        if a.eq_ignore_ascii_case(operator.trim()) {
            problems.push(format!(
                "{a} is the operator and cannot approve their own deploy"
            ));
        } else if !allowed.is_empty() && !allowed.iter().any(|x| x.eq_ignore_ascii_case(a)) {
            problems.push(format!("{a} is not in `gates.approvers`"));
        } else if !valid.iter().any(|v| v.eq_ignore_ascii_case(a)) {
            valid.push(a);
        }
    }
    if required == 0 && approvers.is_empty() {
        return Verdict::new(GATE, GateStatus::Skipped, "no approval required");
    }
    let names = if valid.is_empty() {
        "none".to_owned()
    } else {
        valid.join(", ")
    };
    if valid.len() >= required && problems.is_empty() {
        return Verdict::new(
            GATE,
            GateStatus::Pass,
            format!(
                "approved by {names} ({} of {required} required)",
                valid.len()
            ),
        );
    }
    let mut detail = format!("{} of {required} approvals (valid: {names})", valid.len());
    if !problems.is_empty() {
        detail = format!("{detail}; {}", problems.join("; "));
    }
    let hint = if allowed.is_empty() {
        "pass `--approver NAME` for each approver (someone other than the operator)".to_owned()
    } else {
        format!(
            "pass `--approver NAME` naming one of {}",
            allowed.join(", ")
        )
    };
    Verdict::new(GATE, GateStatus::Refuse, detail).hint(hint)
}

/// Required environment variables, by name; `is_set` says whether one is set and non-empty.
pub fn required_env(config: Option<&GatesConfig>, is_set: impl Fn(&str) -> bool) -> Verdict {
    const GATE: &str = "env";
    let names = config.map(|g| g.required_env.as_slice()).unwrap_or(&[]);
    if names.is_empty() {
        return Verdict::new(
            GATE,
            GateStatus::Skipped,
            "no required environment variables",
        );
    }
    let missing: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !is_set(n))
        .collect();
    if missing.is_empty() {
        Verdict::new(GATE, GateStatus::Pass, format!("set: {}", names.join(", ")))
    } else {
        Verdict::new(
            GATE,
            GateStatus::Refuse,
            format!("not set: {}", missing.join(", ")),
        )
        .hint(format!("export {} before deploying", missing.join(", ")))
    }
}

/// Secret files, by path; `readable` says why one cannot be read (`Err(reason)`).
pub fn secret_files(
    config: Option<&GatesConfig>,
    readable: impl Fn(&str) -> Result<(), String>,
) -> Verdict {
    const GATE: &str = "secret_files";
    let files = config.map(|g| g.secret_files.as_slice()).unwrap_or(&[]);
    if files.is_empty() {
        return Verdict::new(GATE, GateStatus::Skipped, "no required secret files");
    }
    let items = files
        .iter()
        .map(|f| (f.clone(), readable(f).map(|()| f.clone())))
        .collect();
    each_or_refuse(
        GATE,
        items,
        "present",
        "missing",
        "create the files (or mount the secrets) before deploying",
    )
}

/// The `postgres` gate: `outcome` is `None` when no database is
/// configured, else where it is (`host:port/db`, never the URL) and how
/// `SELECT 1` went there.
pub fn postgres(outcome: Option<(String, Result<std::time::Duration, String>)>) -> Verdict {
    const GATE: &str = "postgres";
    match outcome {
        None => Verdict::new(GATE, GateStatus::Skipped, "no database to check"),
        Some((at, Ok(d))) => Verdict::new(
            GATE,
            GateStatus::Pass,
            format!("`SELECT 1` on {at} in {} ms", d.as_millis()),
        ),
        Some((at, Err(why))) => Verdict::new(
            GATE,
            GateStatus::Refuse,
            format!("`SELECT 1` on {at} failed: {why}"),
        )
        .hint("the server needs its database: check it is up, reachable and the credentials are right"),
    }
}

/// A gate over a list of things, each fine (`Ok(how it is shown)`) or not
/// (`Err(why)`): a pass listing them all, or a refusal listing the bad ones
/// as `name (why)`.
fn each_or_refuse(
    gate: &str,
    items: Vec<(String, Result<String, String>)>,
    pass: &str,
    refuse: &str,
    hint: &str,
) -> Verdict {
    let bad: Vec<String> = items
        .iter()
        .filter_map(|(name, r)| r.as_ref().err().map(|why| format!("{name} ({why})")))
        .collect();
    if bad.is_empty() {
        let ok: Vec<String> = items.into_iter().filter_map(|(_, r)| r.ok()).collect();
        Verdict::new(gate, GateStatus::Pass, format!("{pass}: {}", ok.join(", ")))
    } else {
        Verdict::new(
            gate,
            GateStatus::Refuse,
            format!("{refuse}: {}", bad.join(", ")),
        )
        .hint(hint)
    }
}

/// The `tcp` gate: each dependency (`host:port`) and how connecting to it
/// went (`Ok(elapsed)`, or why not: refused, timed out, a name that does not
/// resolve, a `${VAR}` that is not set).
pub fn tcp(
    config: Option<&GatesConfig>,
    results: &[(String, Result<std::time::Duration, String>)],
) -> Verdict {
    const GATE: &str = "tcp";
    if config.is_none_or(|g| g.tcp.is_empty()) {
        return Verdict::new(GATE, GateStatus::Skipped, "no tcp dependencies");
    }
    let items = results
        .iter()
        .map(|(addr, r)| {
            let shown = r
                .as_ref()
                .map(|d| format!("{addr} in {} ms", d.as_millis()))
                .map_err(Clone::clone);
            (addr.clone(), shown)
        })
        .collect();
    each_or_refuse(
        GATE,
        items,
        "accepts",
        "not reachable",
        "the server needs these to start: bring them up (or fix `gates.tcp`) before deploying",
    )
}

/// The variable names an example environment file declares (`NAME=...`,
/// `export NAME=...`; comments and blank lines skipped), in file order.
pub fn example_names(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((name, _)) = line.split_once('=') else {
            continue;
        };
        let name = name.trim();
        if !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !name.as_bytes()[0].is_ascii_digit()
            && !out.iter().any(|n| n == name)
        {
            out.push(name.to_owned());
        }
    }
    out
}

/// The `env_example` gate: the names `example` (the file's text, or why it
/// could not be read) declares, each set for the server or not.
pub fn env_example(
    config: Option<&GatesConfig>,
    example: Result<String, String>,
    is_set: impl Fn(&str) -> bool,
) -> Verdict {
    const GATE: &str = "env_example";
    let Some(file) = config.and_then(|g| g.env_example.as_deref()) else {
        return Verdict::new(GATE, GateStatus::Skipped, "no example environment file");
    };
    let text = match example {
        Ok(t) => t,
        Err(why) => {
            return Verdict::new(GATE, GateStatus::Refuse, format!("{file}: {why}"))
                .hint("fix `gates.env_example` in runway.toml, or remove it");
        }
    };
    let names = example_names(&text);
    let missing: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !is_set(n))
        .collect();
    if missing.is_empty() {
        Verdict::new(
            GATE,
            GateStatus::Pass,
            format!("all {} variable(s) of {file} are set", names.len()),
        )
    } else {
        Verdict::new(
            GATE,
            GateStatus::Refuse,
            format!(
                "{file} names {} not set: {}",
                missing.len(),
                missing.join(", ")
            ),
        )
        .hint(format!(
            "set them in `deploy.env` (secrets as `${{VAR}}`) or export them before deploying: {}",
            missing.join(", ")
        ))
    }
}

/// Why the free space of a path could not be read (`statvfs` failed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct DiskFreeError {
    pub path: std::path::PathBuf,
    #[source]
    pub source: nix::errno::Errno,
}

/// Free space (MiB) and free inodes of the file system holding `path`.
pub fn disk_free(path: &std::path::Path) -> Result<(u64, u64), DiskFreeError> {
    let st = nix::sys::statvfs::statvfs(path).map_err(|source| DiskFreeError {
        path: path.to_owned(),
        source,
    })?;
    let block = st.fragment_size().max(1);
    let free_mb = st.blocks_available().saturating_mul(block) / (1024 * 1024);
    Ok((free_mb, st.files_available()))
}

/// The `disk` gate: each configured path and what its file system has
/// free (`disk_free`), against the entry's minimums.
pub fn disk<E: std::fmt::Display>(
    config: Option<&GatesConfig>,
    free: impl Fn(&str) -> Result<(u64, u64), E>,
) -> Verdict {
    const GATE: &str = "disk";
    let entries = config.map(|g| g.disk.as_slice()).unwrap_or(&[]);
    if entries.is_empty() {
        return Verdict::new(GATE, GateStatus::Skipped, "no disk minimums");
    }
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for e in entries {
        match free(&e.path) {
            Err(why) => bad.push(format!("{} ({why})", e.path)),
            Ok((mb, inodes)) => {
                let mut short = Vec::new();
                if mb < e.min_free_mb {
                    short.push(format!("{mb} MiB free, needs {}", e.min_free_mb));
                }
                if inodes < e.min_free_inodes {
                    short.push(format!("{inodes} inodes free, needs {}", e.min_free_inodes));
                }
                if short.is_empty() {
                    ok.push(format!("{} ({mb} MiB, {inodes} inodes free)", e.path));
                } else {
                    bad.push(format!("{} ({})", e.path, short.join("; ")));
                }
            }
        }
    }
    if bad.is_empty() {
        Verdict::new(GATE, GateStatus::Pass, ok.join(", "))
    } else {
        Verdict::new(
            GATE,
            GateStatus::Refuse,
            format!("short: {}", bad.join(", ")),
        )
        .hint("free space (rotate or ship the logs) or lower `gates.disk` before deploying")
    }
}

/// The `jwks` gate: `observed` is the key set as fetched and the test token
/// (see [`crate::jwks`]); `None` with a configured gate means it was not run.
pub fn jwks(
    config: Option<&GatesConfig>,
    observed: Option<(&crate::jwks::Fetched, Option<crate::jwks::TestToken>)>,
    now: i64,
) -> Verdict {
    let Some(cfg) = config.and_then(|g| g.jwks.as_ref()) else {
        return Verdict::new("jwks", GateStatus::Skipped, "no key set to check");
    };
    match observed {
        None => Verdict::new("jwks", GateStatus::Skipped, "not run"),
        Some((fetched, token)) => crate::jwks::judge(cfg, fetched, token, now),
    }
}

/// The rollback artifact. `previous` is what runs (or last ran) before this
/// deploy; `check` is the target's answer about it.
pub fn rollback_artifact(previous: Option<&str>, check: Option<&ArtifactCheck>) -> Verdict {
    const GATE: &str = "rollback_artifact";
    match (previous, check) {
        (None, _) => Verdict::new(
            GATE,
            GateStatus::Warn,
            "first deployment here: there is nothing to roll back to",
        ),
        (Some(v), Some(c)) if c.ok => {
            Verdict::new(GATE, GateStatus::Pass, format!("{v}: {}", c.what))
        }
        (Some(v), Some(c)) => {
            let mut verdict = Verdict::new(GATE, GateStatus::Refuse, format!("{v}: {}", c.what));
            verdict.hint = c.hint.clone();
            verdict
        }
        (Some(v), None) => Verdict::new(
            GATE,
            GateStatus::Refuse,
            format!("{v}: the target could not say whether it can be put back"),
        ),
    }
}

/// One thing `release check` found wrong at the tag, with its own hints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseProblem {
    pub detail: String,
    pub hints: Vec<String>,
    /// A warning row (a lock file not refreshed at the tag): the release is
    /// real, the gate passes with a warning that says so.
    pub warning: bool,
}

impl From<&str> for ReleaseProblem {
    fn from(detail: &str) -> ReleaseProblem {
        ReleaseProblem {
            detail: detail.to_owned(),
            hints: Vec::new(),
            warning: false,
        }
    }
}

/// `release check` at the version's tag: `problems` is what it found wrong.
/// The hint is the failed rows' own (a stale lock file names its command);
/// "release it first" only when no row says more.
pub fn release_check(
    config: Option<&GatesConfig>,
    version: &str,
    problems: Option<&[ReleaseProblem]>,
) -> Verdict {
    const GATE: &str = "release_check";
    if !config.is_none_or(GatesConfig::release_check) {
        return Verdict::new(GATE, GateStatus::Skipped, "`gates.release_check = false`");
    }
    match problems {
        None => Verdict::new(GATE, GateStatus::Skipped, "not run"),
        Some([]) => Verdict::new(
            GATE,
            GateStatus::Pass,
            format!("{version}: tag, version files and changelog agree"),
        ),
        Some(p) if p.iter().all(|p| p.warning) => {
            let mut hints: Vec<&str> = Vec::new();
            for h in p.iter().flat_map(|p| &p.hints) {
                if !hints.contains(&h.as_str()) {
                    hints.push(h);
                }
            }
            let v = Verdict::new(
                GATE,
                GateStatus::Warn,
                format!(
                    "{version}: tagged, but {}",
                    p.iter()
                        .map(|p| p.detail.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            );
            if hints.is_empty() {
                v
            } else {
                v.hint(hints.join("; "))
            }
        }
        Some(p) => {
            let p: Vec<&ReleaseProblem> = p.iter().filter(|p| !p.warning).collect();
            let mut hints: Vec<&str> = Vec::new();
            for h in p.iter().flat_map(|p| &p.hints) {
                if !hints.contains(&h.as_str()) {
                    hints.push(h);
                }
            }
            let hint = if hints.is_empty() {
                format!(
                    "release {version} first (`runway release bump auto`), or deploy a released version"
                )
            } else {
                hints.join("; ")
            };
            Verdict::new(
                GATE,
                GateStatus::Refuse,
                format!(
                    "{version}: {}",
                    p.iter()
                        .map(|p| p.detail.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            )
            .hint(hint)
        }
    }
}

#[cfg(test)]
mod example_tests {
    #[test]
    fn example_files_name_their_variables_in_every_spelling() {
        let text =
            "# comment\nA=1\nexport B=\"x\"\n\n  C = 3\nnot a line\n1X=2\nA=again\nlower_ok=\n";
        assert_eq!(
            super::example_names(text),
            ["A", "B", "C", "lower_ok"].map(String::from)
        );
    }
}

#[cfg(test)]
mod tests;
