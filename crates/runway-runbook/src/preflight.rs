//! Resolve, then change: everything the whole runbook will need (deploy,
//! verify, watch, rollback) is resolved before the deploy lock is taken and
//! before the first change, so a deploy that could not finish is refused with
//! nothing touched. A problem is never reported alone: the operator gets
//! every unresolved variable, secret and setting, each with its field.
//!
//! `Env::open` collects the list (see [`unresolved`]); it refuses to open
//! only when the target itself cannot be built (a `deploy.env` variable, the
//! registry password), so `status` still answers. `deploy`, `ship`,
//! `rollback`, `watch` and `plan` call [`check`] first.

use std::path::Path;

use runway_config::{DeployConfig, EnvironmentConfig, Loaded, TargetKind, interpolate};
use serde::Serialize;

use crate::{Env, RunbookError};

/// One thing the runbook needs that cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unresolved {
    /// The `runway.toml` key (`environments.prod.expect_version`).
    pub field: String,
    /// What is wrong (`environment variable `RELEASE_VERSION` is not set`).
    pub problem: String,
    /// The variable to export, when that is the fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub var: Option<String>,
    /// Whether the target cannot even be opened without it.
    #[serde(skip)]
    pub(crate) blocks_open: bool,
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`: {}", self.field, self.problem)
    }
}

fn lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Every problem of environment `name` that no command line could fix: the
/// `${VAR}`s of its URL, expected version, deploy environment and analysis
/// sources, its tokens (variable or file), and the docker registry password.
pub fn unresolved(
    loaded: &Loaded,
    name: &str,
    config: &EnvironmentConfig,
    deploy: &DeployConfig,
) -> Vec<Unresolved> {
    let mut out = Vec::new();
    let at = |f: &str| format!("environments.{name}.{f}");
    let refs = |field: String, value: &str, blocks_open: bool, out: &mut Vec<Unresolved>| {
        for e in interpolate::problems(value, lookup) {
            out.push(Unresolved {
                field: field.clone(),
                var: match &e {
                    interpolate::InterpolateError::Unset { var } => Some(var.clone()),
                    interpolate::InterpolateError::Unterminated { .. } => None,
                },
                problem: e.to_string(),
                blocks_open,
            });
        }
    };
    // Verify: the endpoint, the version it must report, the token.
    if let Some(url) = &config.url {
        refs(at("url"), url, false, &mut out);
    }
    if let Some(v) = &config.expect_version {
        refs(at("expect_version"), v, false, &mut out);
    }
    match (&config.token_env, &config.token_file) {
        (Some(var), _) => {
            if let Err(e) = runway_config::token::from_env(var, &format!("`{}`", at("token_env"))) {
                out.push(Unresolved {
                    field: at("token_env"),
                    problem: e.to_string(),
                    var: Some(var.clone()),
                    blocks_open: false,
                });
            }
        }
        (None, Some(file)) => {
            token_file(&loaded.root, file, at("token_file"), &mut out);
        }
        (None, None) => {}
    }
    // Deploy: the server's environment and the registry password.
    for (k, v) in &deploy.env {
        refs(at(&format!("deploy.env.{k}")), v, true, &mut out);
    }
    if deploy.target == TargetKind::Docker
        && deploy.docker.registry_user.is_some()
        && let Some(var) = &deploy.docker.registry_password_env
        && std::env::var(var).map(|v| v.is_empty()).unwrap_or(true)
    {
        out.push(Unresolved {
            field: at("deploy.docker.registry_password_env"),
            problem: format!("the registry password variable `{var}` is unset or empty"),
            var: Some(var.clone()),
            blocks_open: true,
        });
    }
    // Watch: the traffic sources.
    if let Some(a) = &config.analysis {
        if let Some(u) = a.metrics.as_ref().and_then(|m| m.url.as_ref()) {
            refs(at("analysis.metrics.url"), u, false, &mut out);
        }
        if let Some(p) = &a.prometheus {
            refs(at("analysis.prometheus.url"), &p.url, false, &mut out);
            if let Some(var) = &p.token_env
                && let Err(e) = runway_config::token::from_env(
                    var,
                    &format!("`{}`", at("analysis.prometheus.token_env")),
                )
            {
                out.push(Unresolved {
                    field: at("analysis.prometheus.token_env"),
                    problem: e.to_string(),
                    var: Some(var.clone()),
                    blocks_open: false,
                });
            }
            if let Some(f) = &p.token_file {
                token_file(
                    &loaded.root,
                    f,
                    at("analysis.prometheus.token_file"),
                    &mut out,
                );
            }
        }
    }
    out
}

fn token_file(root: &Path, file: &str, field: String, out: &mut Vec<Unresolved>) {
    if let Err(e) = runway_config::token::from_file(&root.join(file), &format!("`{field}`")) {
        out.push(Unresolved {
            field,
            problem: e.to_string(),
            var: None,
            blocks_open: false,
        });
    }
}

/// What an operation needs resolved before it starts: [`unresolved`], then,
/// when that found nothing, what only the real resolvers can say (a URL that
/// does not parse once interpolated, a verify setting, an analysis source),
/// and `version` checked as the front ends check it.
pub fn problems(env: &Env, version: Option<&str>) -> Vec<Unresolved> {
    let mut out = env.unresolved.clone();
    if let Some(v) = version {
        let python = runway_release::version::python_project(&env.loaded.root);
        match runway_release::version::check_input(v, python) {
            Ok(checked) if checked == v => {}
            other => out.push(Unresolved {
                field: "version".into(),
                problem: format!(
                    "{v:?} is not a version: {}",
                    other
                        .err()
                        .map(|e| e.to_string())
                        .unwrap_or_else(|| "write it without the leading `v`".into())
                ),
                var: None,
                blocks_open: false,
            }),
        }
    }
    if !out.is_empty() {
        return out;
    }
    let at = |f: &str| format!("environments.{}.{f}", env.name);
    if let Err(e) = env.mcp_url() {
        out.push(Unresolved {
            field: at("url"),
            problem: e.to_string(),
            var: None,
            blocks_open: false,
        });
    }
    if let Some(p) = env.config.health_path.as_deref()
        && (p.starts_with("http://") || p.starts_with("https://"))
        && runway_verify::url::Url::parse(p).is_err()
    {
        out.push(Unresolved {
            field: at("health_path"),
            problem: format!("`{p}` is not a valid URL"),
            var: None,
            blocks_open: false,
        });
    }
    if let Err(e) = runway_verify::Context::for_environment(&env.loaded, &env.name, None) {
        out.push(Unresolved {
            field: format!("environments.{}", env.name),
            problem: e.to_string(),
            var: None,
            blocks_open: false,
        });
    }
    if let Err(e) = env.sources(version.unwrap_or_default(), None) {
        out.push(Unresolved {
            field: at("analysis"),
            problem: e.to_string(),
            var: None,
            blocks_open: false,
        });
    }
    out
}

/// Refuses the operation, before its lock and its first change, when
/// anything it needs is unresolved: a [`RunbookError::Unresolved`] (exit 2)
/// listing every item.
pub fn check(env: &Env, version: Option<&str>) -> Result<(), RunbookError> {
    let problems = problems(env, version);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(RunbookError::Unresolved {
            name: env.name.clone(),
            file: env.loaded.path.clone(),
            problems,
        })
    }
}
