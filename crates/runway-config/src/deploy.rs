//! `[environments.<name>.deploy|window|analysis|rollback|gates]`: how an
//! environment is changed and what guards the change. Owned by runway-deploy.
//!
//! The deploy table is one flat table whose `target` key says which of the
//! other keys apply (`command` and `port` for `process`, `deploy`/`rollback`/
//! `status`/`manual` for `command`...). It is flat, not a tagged enum, so the
//! TOML reader still knows the line and column of every bad key and value; a
//! key that belongs to another target is refused afterwards, at its own line,
//! by [`DeployConfig::validate`].
//!
//! Durations are written as `15s`, `10m`, `1h` (humantime); the deploy window
//! is parsed here, day names, hours, time zone and freeze dates, so a typo in
//! it fails at load time with its position instead of refusing a deploy later.

use std::{collections::BTreeMap, fmt, num::NonZeroU32, time::Duration};

use serde::Deserialize;

mod analysis;
mod gates;
mod window;

pub use crate::duration::DurationValue;
pub use analysis::{AnalysisConfig, ProbeKind, RollbackConfig};
pub use gates::{
    DiskGate, GatesConfig, JWKS_ALGORITHMS, JwksGate, PerformanceGate, ProvenanceMode,
};
pub use window::{Day, Freeze, Outside, TimeZoneName, WeekSpan, WindowConfig, WindowError};

/// How an environment is changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// A detached local process started from a command line.
    Process,
    /// The operator's own deploy, rollback and status commands.
    Command,
    /// A container on a Docker engine.
    Docker,
    /// A Deployment on a Kubernetes cluster.
    Kubernetes,
}

impl TargetKind {
    pub const ALL: [TargetKind; 4] = [
        TargetKind::Process,
        TargetKind::Command,
        TargetKind::Docker,
        TargetKind::Kubernetes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Process => "process",
            TargetKind::Command => "command",
            TargetKind::Docker => "docker",
            TargetKind::Kubernetes => "kubernetes",
        }
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[environments.<name>.deploy]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployConfig {
    /// `process`, `command`, `docker` or `kubernetes`.
    pub target: TargetKind,
    /// Environment variables given to the server (or to the commands). Values
    /// may use `${VAR}`, resolved at deploy time and never printed.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The variables whose values are secrets (`["DB_PASSWORD"]`): a `deploy.env`
    /// value that uses one is never printed or stored, and a rollback reads it
    /// again from the variable. A variable whose name says it is a secret
    /// (see [`DeployConfig::is_secret_var`]) is one without being listed; every
    /// other value (a literal, `${HOST}`) is a plain setting, recorded as it is
    /// so that a rollback can put it back.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// How long the server may take to answer its health endpoint after a deploy (default `30s`).
    pub health_timeout: Option<DurationValue>,

    // `process`
    /// The server's command line, with `{version}` and `{port}` substituted.
    #[serde(default, deserialize_with = "crate::validate::command_line")]
    pub command: Option<Vec<String>>,
    /// The port the server listens on (`{port}`): the process target's, or
    /// the docker target's on the host network, given to `deploy.env` as
    /// `{port}` (`PORT = "{port}"`) so a performance trial can run beside it.
    #[serde(default, deserialize_with = "crate::validate::port")]
    pub port: Option<u16>,
    /// Working directory of the server, relative to the project root.
    pub workdir: Option<String>,
    /// Most bytes of the server's output kept in its log file (default 1 MiB).
    pub log_max_bytes: Option<NonZeroU32>,

    // `command`
    /// Deploys `{version}` (`{image}`, `{sha}`): `["kubectl", "apply", "-f", "k8s.yaml"]`.
    #[serde(default, deserialize_with = "crate::validate::command_line")]
    pub deploy: Option<Vec<String>>,
    /// Rolls back to `{version}` (`{image}`, `{sha}`).
    #[serde(default, deserialize_with = "crate::validate::command_line")]
    pub rollback: Option<Vec<String>>,
    /// Prints what runs now; its first line, trimmed, is taken as the version.
    #[serde(default, deserialize_with = "crate::validate::command_line")]
    pub status: Option<Vec<String>>,
    /// Instructions for a step a human does (a Deploy button), confirmed on the terminal.
    pub manual: Option<String>,
    /// Longest time each command may run before it is killed with its process group (default `10m`).
    pub timeout: Option<DurationValue>,

    // `docker` and `kubernetes` (and `{image}` for `command`)
    /// The image to run, with `{version}` substituted: `registry.example.com/mcp:{version}`.
    pub image: Option<String>,
    #[serde(default)]
    pub docker: DockerConfig,
    #[serde(default)]
    pub kubernetes: KubernetesConfig,
}

/// Whether a variable's name says it holds a secret (`API_KEY`, `DB_PASSWORD`,
/// `GITHUB_TOKEN`, `SENTRY_DSN`...). The words are matched on `_`-separated
/// parts of the upper-cased name, so `KEYCLOAK_URL` or `MONKEY` are not.
pub fn secret_name(var: &str) -> bool {
    let upper = var.to_ascii_uppercase();
    let words: Vec<&str> = upper.split(['_', '-', '.']).collect();
    const PARTS: [&str; 7] = [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "PASSPHRASE",
        "CREDENTIAL",
        "PRIVATE",
    ];
    const WORDS: [&str; 8] = [
        "KEY",
        "APIKEY",
        "PWD",
        "PASS",
        "DSN",
        "CREDENTIALS",
        "COOKIE",
        "AUTHKEY",
    ];
    PARTS.iter().any(|p| upper.contains(p))
        || words.iter().any(|w| WORDS.contains(w))
        || upper.contains("DATABASE_URL")
}

/// `[environments.<name>.deploy.docker]`: the docker target's keys.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DockerConfig {
    /// The container that runs the server (`docker run --name`); its
    /// configuration is carried over to each new one.
    pub container: Option<String>,
    /// The engine: `unix:///run/docker.sock` or `tcp://127.0.0.1:2375`
    /// (default: `DOCKER_HOST`, else the local socket).
    pub host: Option<String>,
    /// Grace period of `docker stop` for the old container (default `10s`).
    pub stop_timeout: Option<DurationValue>,
    /// Bound on each engine call, and on each pull or push (default `2m`).
    pub api_timeout: Option<DurationValue>,
    /// A registry tag moved back to the rolled-back image (`registry.example.com/mcp:latest`).
    pub rollback_tag: Option<String>,
    /// Push `rollback_tag` after moving it (default `true`).
    pub push: Option<bool>,
    /// Registry login for pulls and pushes; the password is read from `registry_password_env`.
    pub registry_user: Option<String>,
    /// The variable holding the registry password (never the password itself).
    pub registry_password_env: Option<String>,
}

/// `[environments.<name>.deploy.kubernetes]`: the kubernetes target's keys.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KubernetesConfig {
    /// The Deployment's namespace (default: the kubeconfig context's, else `default`).
    pub namespace: Option<String>,
    /// The Deployment whose image is set.
    pub deployment: Option<String>,
    /// The container in its pod template (default: the only one).
    pub container: Option<String>,
    /// A kubeconfig file (default: `KUBECONFIG`, `~/.kube/config`, or the in-cluster service account).
    pub kubeconfig: Option<String>,
    /// The kubeconfig context to use (default: its current context).
    pub context: Option<String>,
    /// Longest wait for a rollout to finish (default: the Deployment's
    /// `progressDeadlineSeconds` plus a minute).
    pub rollout_timeout: Option<DurationValue>,
}

impl DeployConfig {
    /// Default time a server has to become healthy.
    pub const DEFAULT_HEALTH_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default bound of one operator command.
    pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(600);
    /// Default size bound of a process target's log.
    pub const DEFAULT_LOG_MAX_BYTES: u32 = 1 << 20;

    /// Whether variable `var` holds a secret: listed in `secrets`, or named
    /// like one (`TOKEN`, `SECRET`, `PASSWORD`, `PASSWD`, `PASSPHRASE`,
    /// `CREDENTIAL`, `PRIVATE`, `API_KEY`, a `KEY` word, `DSN`, `DATABASE_URL`).
    pub fn is_secret_var(&self, var: &str) -> bool {
        self.secrets.iter().any(|s| s == var) || secret_name(var)
    }

    /// Whether `deploy.env.<key>` is a secret: its value uses a secret variable.
    /// A key that is not in `env` is not one.
    pub fn is_secret_env(&self, key: &str) -> bool {
        self.env.get(key).is_some_and(|v| {
            crate::interpolate::variables(v)
                .iter()
                .any(|var| self.is_secret_var(var))
        })
    }

    pub fn health_timeout(&self) -> Duration {
        self.health_timeout
            .map(DurationValue::get)
            .unwrap_or(Self::DEFAULT_HEALTH_TIMEOUT)
    }

    pub fn command_timeout(&self) -> Duration {
        self.timeout
            .map(DurationValue::get)
            .unwrap_or(Self::DEFAULT_COMMAND_TIMEOUT)
    }

    /// Which keys belong to which target; the error is `(key, message)`.
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        use TargetKind::*;
        let set: [(&str, bool, &[TargetKind]); 10] = [
            ("command", self.command.is_some(), &[Process]),
            ("port", self.port.is_some(), &[Process, Docker]),
            ("workdir", self.workdir.is_some(), &[Process, Command]),
            ("log_max_bytes", self.log_max_bytes.is_some(), &[Process]),
            ("deploy", self.deploy.is_some(), &[Command]),
            ("rollback", self.rollback.is_some(), &[Command]),
            ("status", self.status.is_some(), &[Command]),
            ("manual", self.manual.is_some(), &[Command]),
            (
                "image",
                self.image.is_some(),
                &[Command, Docker, Kubernetes],
            ),
            ("timeout", self.timeout.is_some(), &[Command]),
        ];
        for (key, present, targets) in set {
            if present && !targets.contains(&self.target) {
                let owners = targets
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(" or ");
                return Err((
                    key.to_owned(),
                    format!(
                        "`{key}` is a key of the {owners} target, and this environment's target is `{}`; remove it or change `target`",
                        self.target
                    ),
                ));
            }
        }
        if self.docker != DockerConfig::default() && self.target != Docker {
            return Err((
                "target".into(),
                format!(
                    "a `docker` table is set but `target` is `{}`; remove it or set `target = \"docker\"`",
                    self.target
                ),
            ));
        }
        if self.kubernetes != KubernetesConfig::default() && self.target != Kubernetes {
            return Err((
                "target".into(),
                format!(
                    "a `kubernetes` table is set but `target` is `{}`; remove it or set `target = \"kubernetes\"`",
                    self.target
                ),
            ));
        }
        match self.target {
            Process => {
                if self.command.is_none() {
                    return Err((
                        "target".into(),
                        "the `process` target needs `command = [\"program\", \"arg\", ...]` (`{version}` and `{port}` are substituted)".into(),
                    ));
                }
            }
            Command => {
                if self.deploy.is_none() && self.manual.is_none() {
                    return Err((
                        "target".into(),
                        "the `command` target needs `deploy = [...]` or `manual = \"instructions\"`"
                            .into(),
                    ));
                }
            }
            Docker => {
                if self
                    .docker
                    .container
                    .as_deref()
                    .is_none_or(|c| c.trim().is_empty())
                {
                    return Err((
                        "target".into(),
                        "the `docker` target needs `[deploy.docker] container = \"name\"`: the container it replaces".into(),
                    ));
                }
                if let Some(var) = &self.docker.registry_password_env
                    && self.docker.registry_user.is_none()
                {
                    return Err((
                        "docker.registry_password_env".into(),
                        format!(
                            "`registry_password_env = \"{var}\"` needs `registry_user` beside it"
                        ),
                    ));
                }
            }
            Kubernetes => {
                if self
                    .kubernetes
                    .deployment
                    .as_deref()
                    .is_none_or(|d| d.trim().is_empty())
                {
                    return Err((
                        "target".into(),
                        "the `kubernetes` target needs `[deploy.kubernetes] deployment = \"name\"`: the Deployment whose image it sets".into(),
                    ));
                }
            }
        }
        for key in self.env.keys() {
            if key.is_empty() || key.contains('=') || key.contains('\0') {
                return Err((
                    "env".into(),
                    format!("`{key}` is not an environment variable name"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::{path::Path, time::Duration};

    use runway_core::Severity;

    use super::*;
    use crate::Config;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new("/p/runway.toml")).map_err(|e| e.to_string())
    }

    /// The issue's example, verbatim.
    const ISSUE: &str = r#"
[environments.staging]
url = "http://127.0.0.1:18710/mcp"
health_path = "/health"

[environments.staging.deploy]
target = "process"
command = ["python3", "server.py", "{version}", "{port}"]
port = 18710

[environments.staging.analysis]        # the watch after a deploy
bake = "1h"
interval = "60s"
min_samples = 10
availability_min = 0.95
auth_failure_max = 0.10
p95_max_ms = 2000

[environments.staging.rollback]
auto = true                            # roll back on a failed verify or watch
incident = "P1"                        # open an incident of this severity when it does
on_incident = ["P0"]                   # Tabcorp: P0 -> immediate rollback

[environments.production.window]
timezone = "UTC"
allow = ["Tue 10:00-16:00", "Wed 10:00-16:00"]
freeze = ["2026-12-24", "2026-12-31"]
"#;

    #[test]
    fn only_values_from_secret_variables_are_secrets() {
        let c = parse(
            r#"
[environments.s]
url = "http://127.0.0.1:1/mcp"
[environments.s.deploy]
target = "process"
command = ["srv"]
secrets = ["UPSTREAM"]
env = { MCP_TRANSPORT = "http", MCP_HOST = "127.0.0.1", API_KEY = "${API_KEY}", AUD = "${AUDIENCE}", UP = "x-${UPSTREAM}", DB = "postgres://u:${DB_PASSWORD}@db/x" }
"#,
        )
        .unwrap();
        let d = c.environment("s").unwrap().deploy.clone().unwrap();
        for plain in ["MCP_TRANSPORT", "MCP_HOST", "AUD", "MISSING"] {
            assert!(!d.is_secret_env(plain), "{plain}");
        }
        for secret in ["API_KEY", "UP", "DB"] {
            assert!(d.is_secret_env(secret), "{secret}");
        }
        for name in [
            "GITHUB_TOKEN",
            "api_key",
            "SENTRY_DSN",
            "DATABASE_URL",
            "MCP_ADMIN_TOKEN",
            "X_PASS",
        ] {
            assert!(secret_name(name), "{name}");
        }
        for name in [
            "KEYCLOAK_URL",
            "MONKEY",
            "MCP_AUTH_AUDIENCE",
            "PORT",
            "LOG_LEVEL",
            "PASSTHROUGH",
        ] {
            assert!(!secret_name(name), "{name}");
        }
    }

    #[test]
    fn the_issue_example_parses() {
        let c = parse(ISSUE).unwrap();
        let s = c.environment("staging").unwrap();
        let d = s.deploy.as_ref().unwrap();
        assert_eq!(d.target, TargetKind::Process);
        assert_eq!(d.command.as_ref().unwrap()[3], "{port}");
        assert_eq!(d.port, Some(18710));
        let a = s.analysis.as_ref().unwrap();
        assert_eq!(a.bake(), Duration::from_secs(3600));
        assert_eq!(a.interval(), Duration::from_secs(60));
        assert_eq!(a.min_samples(), 10);
        assert_eq!(a.availability_min(), 0.95);
        assert_eq!(a.auth_failure_max(), 0.10);
        assert_eq!(a.p95_max_ms(), 2000);
        let r = s.rollback.as_ref().unwrap();
        assert!(r.auto());
        assert_eq!(r.incident(), Severity::P1);
        assert!(r.rolls_back_on(Severity::P0));
        assert!(!r.rolls_back_on(Severity::P1));
        // Unset, no incident rolls back.
        assert!(!RollbackConfig::default().rolls_back_on(Severity::P0));
        let w = c
            .environment("production")
            .unwrap()
            .window
            .as_ref()
            .unwrap();
        assert_eq!(w.timezone.0, "UTC");
        assert_eq!(w.allow.len(), 2);
        assert_eq!(w.allow[0].days, vec![Day::Tue]);
        assert_eq!((w.allow[0].start_minute, w.allow[0].end_minute), (600, 960));
        assert_eq!(w.freeze[1].from, jiff::civil::date(2026, 12, 31));
        // Unset keys take the Tabcorp defaults.
        assert_eq!(w.block.len(), 3);
        assert_eq!(w.outside, Outside::Refuse);
    }

    #[test]
    fn the_documented_deploy_examples_parse() {
        let doc = include_str!("../../../docs/environments.md");
        let section = &doc[doc.find("## Deploying").unwrap()..];
        let mut blocks = 0;
        let mut rest = section;
        while let Some(i) = rest.find("```toml\n") {
            let start = i + "```toml\n".len();
            let end = start + rest[start..].find("```").unwrap();
            let c = parse(&rest[start..end]).unwrap();
            assert!(c.environments.values().any(|e| e.deploy.is_some()
                || e.window.is_some()
                || e.analysis.is_some()
                || e.logs.is_some()));
            blocks += 1;
            rest = &rest[end..];
        }
        // Deploy, command, docker, kubernetes, the seeds' traffic conditions,
        // triage's auth-denial condition, the `logs` condition, the `[logs]`
        // policy and the `resources` conditions.
        assert_eq!(blocks, 9);
    }

    #[test]
    fn defaults_follow_the_runbooks() {
        let a = AnalysisConfig::default();
        assert_eq!(
            (a.bake(), a.interval(), a.consecutive_failures()),
            (Duration::from_secs(3600), Duration::from_secs(60), 3)
        );
        let w = WindowConfig::default();
        assert!(w.allow[1].contains(Day::Wed, 10 * 60));
        assert!(!w.allow[1].contains(Day::Wed, 16 * 60));
        assert!(w.block.iter().any(|b| b.contains(Day::Fri, 12 * 60)));
        assert!(!w.block.iter().any(|b| b.contains(Day::Thu, 12 * 60)));
        assert_eq!(RollbackConfig::default().incident(), Severity::P1);
    }

    #[test]
    fn the_command_target_and_durations_parse() {
        let c = parse(
            r#"
[environments.prod.deploy]
target = "command"
deploy = ["kubectl", "set", "image", "deploy/mcp", "mcp={image}"]
rollback = ["kubectl", "rollout", "undo", "deploy/mcp"]
status = ["./current-version.sh"]
manual = "Press Deploy in the console for {version}"
timeout = "1h 30m"
image = "registry.local/mcp:{version}"
env = { LOG_LEVEL = "info" }
health_timeout = "15s"

[environments.prod.gates]
approvals = 1
required_env = ["PROD_MCP_TOKEN"]
secret_files = ["secrets/prod.pem"]
"#,
        )
        .unwrap();
        let e = c.environment("prod").unwrap();
        let d = e.deploy.as_ref().unwrap();
        assert_eq!(d.command_timeout(), Duration::from_secs(5400));
        assert_eq!(d.health_timeout(), Duration::from_secs(15));
        assert_eq!(d.env["LOG_LEVEL"], "info");
        let g = e.gates.as_ref().unwrap();
        assert_eq!(g.approvals, 1);
        assert!(g.release_check());
    }

    #[test]
    fn bad_keys_and_values_name_file_line_and_column() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "[environments.p.deploy]\ntarget = \"proces\"\n",
                "/p/runway.toml:2:10",
                "proces",
            ),
            (
                "[environments.p.deploy]\ntarget = \"process\"\ncommand = [\"x\"]\nprot = 1\n",
                "/p/runway.toml:4:1",
                "prot",
            ),
            (
                "[environments.p.deploy]\ntarget = \"process\"\ncommand = []\n",
                "/p/runway.toml:3:11",
                "non-empty list",
            ),
            (
                "[environments.p.deploy]\ntarget = \"process\"\ncommand = [\"x\"]\nport = 0\n",
                "/p/runway.toml:4:8",
                "fixed port",
            ),
            (
                "[environments.p.analysis]\nbake = \"ten minutes\"\n",
                "/p/runway.toml:2:8",
                "`15s`, `10m` or `1h`",
            ),
            (
                "[environments.p.analysis]\ninterval = \"0s\"\n",
                "/p/runway.toml:2:12",
                "longer than zero",
            ),
            (
                "[environments.p.analysis]\navailability_min = 95\n",
                "/p/runway.toml:2:20",
                "between 0 and 1",
            ),
            (
                "[environments.p.rollback]\nincident = \"P7\"\n",
                "/p/runway.toml:2:12",
                "P7",
            ),
            (
                "[environments.p.rollback]\non_incident = [\"P0\", \"P9\"]\n",
                "/p/runway.toml:2:",
                "P9",
            ),
            (
                "[environments.p.window]\nallow = [\"Tues 10:00-16:00\"]\n",
                "/p/runway.toml:2:9",
                "unknown day",
            ),
            (
                "[environments.p.window]\nallow = [\"Tue 16:00-10:00\"]\n",
                "/p/runway.toml:2:9",
                "end after it starts",
            ),
            (
                "[environments.p.window]\nallow = [\"Tue 10:00-25:00\"]\n",
                "/p/runway.toml:2:9",
                "bad time",
            ),
            (
                "[environments.p.window]\ntimezone = \"Mars/Olympus\"\n",
                "/p/runway.toml:2:12",
                "IANA",
            ),
            (
                "[environments.p.window]\nfreeze = [\"2026-13-01\"]\n",
                "/p/runway.toml:2:10",
                "not a date",
            ),
            (
                "[environments.p.window]\nwindow = \"x\"\n",
                "/p/runway.toml:2:1",
                "window",
            ),
            (
                "[environments.p.gates]\napprover = [\"x\"]\n",
                "/p/runway.toml:2:1",
                "approver",
            ),
        ];
        for (text, location, needle) in cases {
            let e = parse(text).unwrap_err();
            assert!(e.starts_with(location), "{text:?}: {e}");
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn a_key_of_another_target_is_refused_at_its_line() {
        let e = parse(
            "[environments.p.deploy]\ntarget = \"command\"\ndeploy = [\"./d\"]\nport = 8000\n",
        )
        .unwrap_err();
        assert!(e.starts_with("/p/runway.toml:4:1"), "{e}");
        assert!(
            e.contains("`port` is a key of the `process` or `docker` target"),
            "{e}"
        );
        let e = parse("[environments.p.deploy]\ntarget = \"process\"\n").unwrap_err();
        assert!(e.starts_with("/p/runway.toml:2:1"), "{e}");
        assert!(e.contains("needs `command"), "{e}");
        let e = parse("[environments.p.deploy]\ntarget = \"command\"\n").unwrap_err();
        assert!(e.contains("`deploy = [...]` or `manual"), "{e}");
        let e = parse("[environments.p.analysis]\nbake = \"1m\"\ninterval = \"5m\"\n").unwrap_err();
        assert!(e.starts_with("/p/runway.toml:3:1"), "{e}");
        assert!(e.contains("longer than `bake`"), "{e}");
    }

    #[test]
    fn the_docker_and_kubernetes_tables_parse() {
        let c = parse(
            r#"
[environments.prod.deploy]
target = "docker"
image = "127.0.0.1:5000/mcp:{version}"
health_timeout = "45s"

[environments.prod.deploy.docker]
container = "mcp"
host = "unix:///run/docker.sock"
stop_timeout = "5s"
api_timeout = "1m"
rollback_tag = "127.0.0.1:5000/mcp:latest"
push = false
registry_user = "ci"
registry_password_env = "REGISTRY_PASSWORD"

[environments.k8s.deploy]
target = "kubernetes"
image = "ghcr.io/x/mcp:{version}"

[environments.k8s.deploy.kubernetes]
namespace = "mcp"
deployment = "mcp-server"
container = "server"
kubeconfig = "ops/kubeconfig"
context = "prod"
rollout_timeout = "10m"
"#,
        )
        .unwrap();
        let d = c.environment("prod").unwrap().deploy.clone().unwrap();
        assert_eq!(d.docker.container.as_deref(), Some("mcp"));
        assert_eq!(d.docker.stop_timeout.unwrap().get(), Duration::from_secs(5));
        assert_eq!(d.docker.api_timeout.unwrap().get(), Duration::from_secs(60));
        assert_eq!(
            d.docker.rollback_tag.as_deref(),
            Some("127.0.0.1:5000/mcp:latest")
        );
        assert_eq!(d.docker.push, Some(false));
        assert_eq!(
            d.docker.registry_password_env.as_deref(),
            Some("REGISTRY_PASSWORD")
        );
        let k = c.environment("k8s").unwrap().deploy.clone().unwrap();
        assert_eq!(k.kubernetes.deployment.as_deref(), Some("mcp-server"));
        assert_eq!(
            k.kubernetes.rollout_timeout.unwrap().get(),
            Duration::from_secs(600)
        );
    }

    #[test]
    fn docker_and_kubernetes_name_what_they_replace() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "[environments.p.deploy]\ntarget = \"docker\"\n",
                "/p/runway.toml:2:",
                "container = ",
            ),
            (
                "[environments.p.deploy]\ntarget = \"kubernetes\"\n",
                "/p/runway.toml:2:",
                "deployment = ",
            ),
            (
                "[environments.p.deploy]\ntarget = \"docker\"\n[environments.p.deploy.docker]\ncontainer = \"c\"\npassword = \"x\"\n",
                "/p/runway.toml:5:1",
                "password",
            ),
            (
                "[environments.p.deploy]\ntarget = \"docker\"\n[environments.p.deploy.docker]\ncontainer = \"c\"\nstop_timeout = \"soon\"\n",
                "/p/runway.toml:5:16",
                "not a duration",
            ),
            (
                "[environments.p.deploy]\ntarget = \"kubernetes\"\n[environments.p.deploy.kubernetes]\ndeployment = \"d\"\nreplicas = 3\n",
                "/p/runway.toml:5:1",
                "replicas",
            ),
            (
                "[environments.p.deploy]\ntarget = \"process\"\ncommand = [\"x\"]\n[environments.p.deploy.docker]\ncontainer = \"c\"\n",
                "/p/runway.toml:2:",
                "`docker` table",
            ),
        ];
        for (text, location, needle) in cases {
            let e = parse(text).unwrap_err();
            assert!(e.starts_with(location), "{text:?}: {e}");
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }
}
