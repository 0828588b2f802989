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

use runway_core::Severity;
use serde::{Deserialize, Deserializer, de::Error as _};

/// A duration written as `15s`, `10m`, `1h` or `1h 30m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DurationValue(pub Duration);

impl DurationValue {
    pub fn get(self) -> Duration {
        self.0
    }
}

impl fmt::Display for DurationValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match humantime::parse_duration(s.trim()) {
            Ok(v) if !v.is_zero() => Ok(DurationValue(v)),
            Ok(_) => Err(D::Error::custom(format!(
                "`{s}` must be longer than zero (e.g. `15s`, `10m`, `1h`)"
            ))),
            Err(_) => Err(D::Error::custom(format!(
                "`{s}` is not a duration: write it as `15s`, `10m` or `1h`"
            ))),
        }
    }
}

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
    /// The port the server listens on (`{port}`).
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
            ("port", self.port.is_some(), &[Process]),
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

/// A day of the week, Monday first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    pub const ALL: [Day; 7] = [
        Day::Mon,
        Day::Tue,
        Day::Wed,
        Day::Thu,
        Day::Fri,
        Day::Sat,
        Day::Sun,
    ];

    /// 0 for Monday ... 6 for Sunday.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][self.index()]
    }

    fn parse(s: &str) -> Option<Day> {
        let l = s.trim().to_ascii_lowercase();
        let full = [
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ];
        Day::ALL
            .into_iter()
            .zip(full)
            .find(|(d, f)| l == d.as_str().to_ascii_lowercase() || l == *f)
            .map(|(d, _)| d)
    }
}

/// Days and hours of the week, local to the window's time zone: `Tue 10:00-16:00`,
/// `Mon-Fri 09:00-17:30`, `Fri` (the whole day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekSpan {
    /// The days it covers, Monday first.
    pub days: Vec<Day>,
    /// Minutes after midnight, inclusive.
    pub start_minute: u16,
    /// Minutes after midnight, exclusive (1440 = the end of the day).
    pub end_minute: u16,
    /// As written, for messages and the record.
    pub text: String,
}

impl WeekSpan {
    pub fn parse(text: &str) -> Result<WeekSpan, String> {
        let shape = "write it as `Tue 10:00-16:00`, `Mon-Fri 09:00-17:00` or `Fri`";
        let t = text.trim();
        let (days_part, hours_part) = match t.split_once(char::is_whitespace) {
            Some((d, h)) => (d, Some(h.trim())),
            None => (t, None),
        };
        let days = match days_part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (Day::parse(a), Day::parse(b));
                let (Some(a), Some(b)) = (a, b) else {
                    return Err(format!("`{text}` has an unknown day: {shape}"));
                };
                // A range may wrap the week: `Sat-Sun`, `Fri-Mon`.
                let mut v = Vec::new();
                let mut i = a.index();
                loop {
                    v.push(Day::ALL[i]);
                    if i == b.index() {
                        break;
                    }
                    i = (i + 1) % 7;
                }
                v
            }
            None => match Day::parse(days_part) {
                Some(d) => vec![d],
                None => return Err(format!("`{text}` has an unknown day: {shape}")),
            },
        };
        let (start_minute, end_minute) = match hours_part {
            None => (0, 1440),
            Some(h) => {
                let Some((a, b)) = h.split_once('-') else {
                    return Err(format!("`{text}` needs hours as `HH:MM-HH:MM`: {shape}"));
                };
                let (Some(a), Some(b)) = (minute_of_day(a), minute_of_day(b)) else {
                    return Err(format!(
                        "`{text}` has a bad time (use 24-hour `HH:MM`, up to `24:00`): {shape}"
                    ));
                };
                if a >= b {
                    return Err(format!(
                        "`{text}`: the window must end after it starts on the same day"
                    ));
                }
                (a, b)
            }
        };
        Ok(WeekSpan {
            days,
            start_minute,
            end_minute,
            text: t.to_owned(),
        })
    }

    /// Whether `day` at `minute` after midnight falls in this span.
    pub fn contains(&self, day: Day, minute: u16) -> bool {
        self.days.contains(&day) && minute >= self.start_minute && minute < self.end_minute
    }
}

fn minute_of_day(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

impl<'de> Deserialize<'de> for WeekSpan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        WeekSpan::parse(&s).map_err(D::Error::custom)
    }
}

/// A freeze: one date or an inclusive range, in the window's time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freeze {
    pub from: jiff::civil::Date,
    pub to: jiff::civil::Date,
    pub text: String,
}

impl Freeze {
    pub fn parse(text: &str) -> Result<Freeze, String> {
        let t = text.trim();
        let date = |s: &str| {
            s.trim().parse::<jiff::civil::Date>().map_err(|_| {
                format!(
                    "`{text}` is not a date: write `2026-12-24` or a range `2026-12-20..2027-01-02`"
                )
            })
        };
        let (from, to) = match t.split_once("..") {
            Some((a, b)) => (date(a)?, date(b)?),
            None => (date(t)?, date(t)?),
        };
        if to < from {
            return Err(format!("`{text}`: the range ends before it starts"));
        }
        Ok(Freeze {
            from,
            to,
            text: t.to_owned(),
        })
    }

    pub fn contains(&self, date: jiff::civil::Date) -> bool {
        date >= self.from && date <= self.to
    }
}

impl<'de> Deserialize<'de> for Freeze {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Freeze::parse(&s).map_err(D::Error::custom)
    }
}

/// An IANA time zone name that was found in the time zone database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneName(pub String);

impl TimeZoneName {
    pub fn time_zone(&self) -> jiff::tz::TimeZone {
        // Validated on load; UTC only if the database changed under us.
        jiff::tz::TimeZone::get(&self.0).unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

impl Default for TimeZoneName {
    fn default() -> Self {
        TimeZoneName("UTC".into())
    }
}

impl<'de> Deserialize<'de> for TimeZoneName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match jiff::tz::TimeZone::get(s.trim()) {
            Ok(_) => Ok(TimeZoneName(s.trim().to_owned())),
            Err(_) => Err(D::Error::custom(format!(
                "`{s}` is not an IANA time zone (e.g. `UTC`, `Europe/London`, `Australia/Sydney`)"
            ))),
        }
    }
}

/// What a deploy outside every `allow` span (and not blocked) gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outside {
    /// Refused, unless `--emergency` (the default).
    #[default]
    Refuse,
    /// Allowed, with a warning in the plan and the record.
    Warn,
}

fn default_allow() -> Vec<WeekSpan> {
    ["Tue 10:00-16:00", "Wed 10:00-16:00"]
        .into_iter()
        .map(|s| WeekSpan::parse(s).expect("the default window parses"))
        .collect()
}

fn default_block() -> Vec<WeekSpan> {
    ["Fri", "Sat", "Sun"]
        .into_iter()
        .map(|s| WeekSpan::parse(s).expect("the default block parses"))
        .collect()
}

/// `[environments.<name>.window]`: when deploys may happen. Defaults are the
/// Tabcorp runbook's: Tue and Wed 10:00-16:00 UTC, never Friday or the weekend.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowConfig {
    /// IANA name (default `UTC`).
    #[serde(default)]
    pub timezone: TimeZoneName,
    /// When deploys are preferred.
    #[serde(default = "default_allow")]
    pub allow: Vec<WeekSpan>,
    /// When deploys are refused even inside `allow` (default Fri, Sat, Sun).
    #[serde(default = "default_block")]
    pub block: Vec<WeekSpan>,
    /// Dates (or `from..to` ranges) with no deploys.
    #[serde(default)]
    pub freeze: Vec<Freeze>,
    /// `refuse` (default) or `warn` outside `allow`.
    #[serde(default)]
    pub outside: Outside,
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            timezone: TimeZoneName::default(),
            allow: default_allow(),
            block: default_block(),
            freeze: Vec::new(),
            outside: Outside::default(),
        }
    }
}

/// How far each watch sample goes (`analysis.probe`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeKind {
    #[default]
    Tools,
    Handshake,
    Health,
}

/// `[environments.<name>.analysis]`: the watch after a deploy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisConfig {
    /// How long to watch (default `1h`).
    pub bake: Option<DurationValue>,
    /// Time between samples (default `60s`).
    pub interval: Option<DurationValue>,
    /// Fewer samples than this is inconclusive (default 10).
    pub min_samples: Option<NonZeroU32>,
    /// Failing samples in a row that fail the watch early (default 3).
    pub consecutive_failures: Option<NonZeroU32>,
    /// Lowest share of healthy samples (default 0.95).
    #[serde(default, deserialize_with = "crate::validate::ratio")]
    pub availability_min: Option<f64>,
    /// Highest share of samples with a failed MCP call (default 0.05).
    #[serde(default, deserialize_with = "crate::validate::ratio")]
    pub error_rate_max: Option<f64>,
    /// Highest share of authenticated requests refused with 401/403 (default 0.10).
    #[serde(default, deserialize_with = "crate::validate::ratio")]
    pub auth_failure_max: Option<f64>,
    /// Highest p95 latency of the samples, in milliseconds (default 2000).
    pub p95_max_ms: Option<std::num::NonZeroU64>,
    /// The MCP tool each sample calls (default: none, `tools/list` only).
    pub call: Option<crate::environment::LoadCallConfig>,
    /// What each sample does: `tools` (default: health, handshake, then the
    /// call or `tools/list`), `handshake` (health and the handshake only, for
    /// servers whose tools cannot be listed, such as the legacy SSE
    /// transport) or `health` (the health endpoint only).
    #[serde(default)]
    pub probe: ProbeKind,
    /// The server's own `/metrics`, scraped at each interval (`source = "metrics"`).
    pub metrics: Option<crate::sources::MetricsSourceConfig>,
    /// A Prometheus server's query API (`source = "prometheus"`).
    pub prometheus: Option<crate::sources::PrometheusSourceConfig>,
    /// Conditions on real traffic, judged beside the probe's thresholds.
    #[serde(default)]
    pub conditions: Vec<crate::sources::ConditionConfig>,
}

impl AnalysisConfig {
    pub fn bake(&self) -> Duration {
        self.bake
            .map(DurationValue::get)
            .unwrap_or(Duration::from_secs(3600))
    }
    pub fn interval(&self) -> Duration {
        self.interval
            .map(DurationValue::get)
            .unwrap_or(Duration::from_secs(60))
    }
    pub fn min_samples(&self) -> u32 {
        self.min_samples.map(NonZeroU32::get).unwrap_or(10)
    }
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures.map(NonZeroU32::get).unwrap_or(3)
    }
    pub fn availability_min(&self) -> f64 {
        self.availability_min.unwrap_or(0.95)
    }
    pub fn error_rate_max(&self) -> f64 {
        self.error_rate_max.unwrap_or(0.05)
    }
    pub fn auth_failure_max(&self) -> f64 {
        self.auth_failure_max.unwrap_or(0.10)
    }
    pub fn p95_max_ms(&self) -> u64 {
        self.p95_max_ms.map(|v| v.get()).unwrap_or(2000)
    }

    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        crate::sources::validate(
            self.metrics.as_ref(),
            self.prometheus.as_ref(),
            &self.conditions,
        )?;
        if self.interval() > self.bake() {
            return Err((
                "interval".into(),
                format!(
                    "`interval` ({}) is longer than `bake` ({}): no sample would be taken",
                    humantime::format_duration(self.interval()),
                    humantime::format_duration(self.bake())
                ),
            ));
        }
        Ok(())
    }
}

/// `[environments.<name>.rollback]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackConfig {
    /// Roll back on a failed verify or watch (default true).
    pub auto: Option<bool>,
    /// Open an incident of this severity when it does (default `P1`).
    pub incident: Option<Severity>,
    /// After a rollback, latency may be this many times the previous version's baseline (default 1.5).
    pub baseline_tolerance: Option<f64>,
}

impl RollbackConfig {
    pub fn auto(&self) -> bool {
        self.auto.unwrap_or(true)
    }
    pub fn incident(&self) -> Severity {
        self.incident.unwrap_or(Severity::P1)
    }
    pub fn baseline_tolerance(&self) -> f64 {
        self.baseline_tolerance.unwrap_or(1.5)
    }

    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        if let Some(t) = self.baseline_tolerance
            && !(t.is_finite() && t >= 1.0)
        {
            return Err((
                "baseline_tolerance".into(),
                format!(
                    "`{t}` must be at least 1 (1.5 means 50% slower than before is still fine)"
                ),
            ));
        }
        Ok(())
    }
}

/// `[environments.<name>.gates]`: what must be true before a deploy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatesConfig {
    /// Run `release check` for the version at its tag (default true).
    pub release_check: Option<bool>,
    /// How many distinct `--approver` names a deploy needs (default 0).
    #[serde(default)]
    pub approvals: u32,
    /// Who may approve (default: anyone but the operator).
    #[serde(default)]
    pub approvers: Vec<String>,
    /// Environment variables that must be set (their names are printed, never their values).
    #[serde(default)]
    pub required_env: Vec<String>,
    /// Files that must exist and be readable (secrets, certificates), relative to the project root.
    #[serde(default)]
    pub secret_files: Vec<String>,
    /// `host:port` dependencies that must accept a TCP connection before a
    /// deploy (dynamic-mcp: "Confirm PostgreSQL connectivity"); `${VAR}` is
    /// interpolated when the gate runs.
    #[serde(default)]
    pub tcp: Vec<String>,
    /// The variable holding a PostgreSQL URL (`postgres://user:pass@host/db`)
    /// the server needs: before a deploy Runway connects and runs `SELECT 1`
    /// (bounded by `tcp_timeout`). The URL is a secret: only its
    /// `host:port/db` is ever shown.
    pub postgres_url_env: Option<String>,
    /// How long each `tcp` dependency may take to accept (default 3s).
    pub tcp_timeout: Option<DurationValue>,
    /// An example environment file (`.env.example`), relative to the project
    /// root: every variable it names must be set for the server (in
    /// `deploy.env` or in Runway's own environment).
    pub env_example: Option<String>,
    /// Paths whose file system must have room (dynamic-mcp: "audit log
    /// capacity"): free space and free inodes.
    #[serde(default)]
    pub disk: Vec<DiskGate>,
}

/// One `[[environments.<name>.gates.disk]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiskGate {
    /// A path on the file system to check, relative to the project root.
    pub path: String,
    /// Free space it needs, in MiB.
    #[serde(default)]
    pub min_free_mb: u64,
    /// Free inodes it needs.
    #[serde(default)]
    pub min_free_inodes: u64,
}

impl GatesConfig {
    pub fn release_check(&self) -> bool {
        self.release_check.unwrap_or(true)
    }

    /// The `tcp` gate's bound on each connection.
    pub fn tcp_timeout(&self) -> Duration {
        self.tcp_timeout
            .map_or(Duration::from_secs(3), DurationValue::get)
    }

    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        for t in &self.tcp {
            let ok = t.contains("${")
                || t.rsplit_once(':')
                    .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
            if !ok {
                return Err((
                    "tcp".into(),
                    format!("`{t}` is not `host:port` (e.g. `db.internal:5432`)"),
                ));
            }
        }
        if self.approvals as usize > self.approvers.len() && !self.approvers.is_empty() {
            return Err((
                "approvals".into(),
                format!(
                    "{} approvals are required but only {} approvers are listed",
                    self.approvals,
                    self.approvers.len()
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::{path::Path, time::Duration};

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
            assert!(
                c.environments
                    .values()
                    .any(|e| e.deploy.is_some() || e.window.is_some() || e.analysis.is_some())
            );
            blocks += 1;
            rest = &rest[end..];
        }
        // Deploy, command, docker, kubernetes, and the seeds' traffic conditions.
        assert_eq!(blocks, 5);
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
        assert!(e.contains("`port` is a key of the `process` target"), "{e}");
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
    fn week_spans_cover_ranges_and_whole_days() {
        let s = WeekSpan::parse("Fri-Mon").unwrap();
        assert_eq!(s.days, vec![Day::Fri, Day::Sat, Day::Sun, Day::Mon]);
        assert_eq!((s.start_minute, s.end_minute), (0, 1440));
        let s = WeekSpan::parse("monday-wednesday 09:30-24:00").unwrap();
        assert_eq!(s.days, vec![Day::Mon, Day::Tue, Day::Wed]);
        assert!(s.contains(Day::Tue, 23 * 60 + 59));
        assert!(!s.contains(Day::Tue, 9 * 60 + 29));
        assert!(WeekSpan::parse("Tue 10-16").is_err());
        let f = Freeze::parse("2026-12-20..2027-01-02").unwrap();
        assert!(f.contains(jiff::civil::date(2027, 1, 1)));
        assert!(!f.contains(jiff::civil::date(2027, 1, 3)));
        assert!(Freeze::parse("2027-01-02..2026-12-20").is_err());
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
