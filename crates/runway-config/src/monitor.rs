//! `[environments.<name>.monitor]`, `[[alerts]]` and `[notifiers.<name>]`:
//! what `runway monitor` checks, when it raises an alert, and whom it tells.
//! Owned by runway-monitor.
//!
//! Everything is parsed at load time, the alert condition included
//! (`error_rate > 0.05`, `p95 > 3s`, `down`), so a typo in a rule fails with
//! its line and column instead of an alert that silently never fires. The
//! references between tables (an alert's `environment` and `notify`) are kept
//! with their position ([`toml::Spanned`]) so a dangling one names its line too.

use std::{collections::BTreeMap, num::NonZeroU32, time::Duration};

use serde::{Deserialize, Deserializer, de::Error as _};

mod condition;
mod location;

pub use condition::{Condition, ConditionError, Metric, Op};
pub use location::{MAX_LOCATION_LEN, check_location};

use crate::{
    deploy::{TimeZoneName, WeekSpan},
    duration::DurationValue,
    suite::SuiteName,
};

/// `[environments.<name>.monitor]`: how often the environment's suite runs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorConfig {
    /// How often the suite runs (default `15m`, the Tabcorp runbook's).
    pub interval: Option<DurationValue>,
    /// The suite to run (default: the environment's `suite`, else `smoke`).
    pub suite: Option<SuiteName>,
    /// At most this much random delay before each run, so many environments
    /// do not fire at once (default: a tenth of the interval, at most 30s).
    pub jitter: Option<JitterValue>,
    /// A run that takes longer is cut and recorded as a timeout (default: the
    /// interval, at most `5m`).
    pub timeout: Option<DurationValue>,
    /// When the environment is in planned maintenance: no alert fires and its
    /// status is `maintenance`.
    #[serde(default)]
    pub maintenance: Vec<MaintenanceConfig>,
    /// The locations (`runway monitor --location`) that run this
    /// environment's suite (default: every worker's); a worker with another
    /// location skips it, one without a location runs it.
    pub locations: Option<Vec<String>>,
}

pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15 * 60);

impl MonitorConfig {
    pub fn interval(&self) -> Duration {
        self.interval.map(|d| d.get()).unwrap_or(DEFAULT_INTERVAL)
    }

    pub fn jitter(&self) -> Duration {
        match self.jitter {
            Some(j) => j.0,
            None => (self.interval() / 10).min(Duration::from_secs(30)),
        }
    }

    pub fn timeout(&self) -> Duration {
        match self.timeout {
            Some(t) => t.get(),
            None => self.interval().min(Duration::from_secs(300)),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        if let Some(j) = self.jitter
            && j.0 >= self.interval()
        {
            return Err((
                "jitter".into(),
                format!(
                    "`{}` must be shorter than the interval (`{}`)",
                    humantime::format_duration(j.0),
                    humantime::format_duration(self.interval())
                ),
            ));
        }
        if let Some(locs) = &self.locations {
            if locs.is_empty() {
                return Err((
                    "locations".into(),
                    "is empty: list the locations that run this environment (`[\"eu-west\", \"us-east\"]`), or remove it to let every worker run it".into(),
                ));
            }
            for (i, l) in locs.iter().enumerate() {
                check_location(l).map_err(|m| ("locations".to_owned(), m))?;
                if locs[..i].contains(l) {
                    return Err(("locations".into(), format!("`{l}` is listed twice")));
                }
            }
        }
        Ok(())
    }
}

/// A duration that may be zero (`jitter = "0s"` switches jitter off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterValue(pub Duration);

impl<'de> Deserialize<'de> for JitterValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(s.trim())
            .map(JitterValue)
            .map_err(|_| {
                D::Error::custom(format!(
                    "`{s}` is not a duration: write it as `0s`, `5s` or `1m`"
                ))
            })
    }
}

/// One maintenance window: days and hours in an IANA time zone.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceConfig {
    /// `Sun 02:00-04:00`, `Mon-Fri 23:00-24:00`, `Sat`.
    pub when: Vec<WeekSpan>,
    /// IANA name (default `UTC`).
    #[serde(default)]
    pub timezone: TimeZoneName,
}

impl MaintenanceConfig {
    /// Whether `at` falls in this window.
    pub fn contains(&self, at: jiff::Timestamp) -> bool {
        let local = at.to_zoned(self.timezone.time_zone());
        let day = crate::deploy::Day::ALL[local.weekday().to_monday_zero_offset() as usize];
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        self.when.iter().any(|s| s.contains(day, minute))
    }
}

/// An alert's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Critical,
    Warning,
    Info,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Critical => "critical",
            Level::Warning => "warning",
            Level::Info => "info",
        }
    }
}

/// One `[[alerts]]` rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertConfig {
    /// Unique among the alerts; the dedup key with the environment.
    pub name: String,
    /// The environment it watches (must have a `monitor` table).
    pub environment: toml::Spanned<String>,
    /// What the rule judges: `probe` (default: the monitor's own runs,
    /// judged by `when`), or `metrics`/`prometheus`/`logs`/`resources` (the
    /// environment's `[[analysis.conditions]]` entry named by `condition`,
    /// read at each run).
    pub source: Option<toml::Spanned<AlertSource>>,
    /// `probe` rules: the condition over the runs in the window.
    pub when: Option<toml::Spanned<Condition>>,
    /// `metrics`/`prometheus` rules: the name of an
    /// `[[environments.<env>.analysis.conditions]]` entry of that source.
    pub condition: Option<toml::Spanned<String>>,
    /// How far back the condition looks (default `10m`).
    pub window: Option<DurationValue>,
    /// `critical` | `warning` | `info` (default `warning`).
    pub level: Option<Level>,
    /// Notifier names from `[notifiers.<name>]`.
    #[serde(default)]
    pub notify: Vec<toml::Spanned<String>>,
    /// Evaluations in a row the condition must hold before the alert fires (default 1).
    pub failure_threshold: Option<NonZeroU32>,
    /// Evaluations in a row it must not hold before the alert resolves (default 1).
    pub success_threshold: Option<NonZeroU32>,
    /// Notify again while the alert stays firing, this often (default: never).
    pub reminder: Option<DurationValue>,
    /// Notify when the alert resolves (default true).
    pub notify_resolved: Option<bool>,
    /// When the rule's notifications are held back (days, hours, IANA zone),
    /// on top of the environment's `maintenance` windows.
    #[serde(default)]
    pub mute: Vec<MaintenanceConfig>,
    /// Probe rules with locations: the condition must hold at this many
    /// distinct locations (each judged over its own runs) for the rule to
    /// hold (default: the runs of every location judged together).
    pub quorum: Option<toml::Spanned<NonZeroU32>>,
}

pub const DEFAULT_WINDOW: Duration = Duration::from_secs(10 * 60);

/// Where an `[[alerts]]` rule reads what it judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertSource {
    /// The monitor's own runs (`when`).
    Probe,
    /// The server's own `/metrics`, scraped at each run (`condition`).
    Metrics,
    /// A Prometheus query at each run (`condition`).
    Prometheus,
    /// The server's output, read through the environment's deploy target
    /// (`condition`: ERROR lines a minute).
    Logs,
    /// Memory and CPU of the server's process group or container, read
    /// through the environment's deploy target (`condition`).
    Resources,
}

impl AlertSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertSource::Probe => "probe",
            AlertSource::Metrics => "metrics",
            AlertSource::Prometheus => "prometheus",
            AlertSource::Logs => "logs",
            AlertSource::Resources => "resources",
        }
    }

    /// The analysis source a `metrics`/`prometheus` rule reads.
    pub fn traffic(self) -> Option<crate::sources::SourceKind> {
        match self {
            AlertSource::Probe => None,
            AlertSource::Metrics => Some(crate::sources::SourceKind::Metrics),
            AlertSource::Prometheus => Some(crate::sources::SourceKind::Prometheus),
            AlertSource::Logs => Some(crate::sources::SourceKind::Logs),
            AlertSource::Resources => Some(crate::sources::SourceKind::Resources),
        }
    }
}

impl AlertConfig {
    pub fn source(&self) -> AlertSource {
        self.source
            .as_ref()
            .map(|s| *s.get_ref())
            .unwrap_or(AlertSource::Probe)
    }
    pub fn window(&self) -> Duration {
        self.window.map(|d| d.get()).unwrap_or(DEFAULT_WINDOW)
    }
    pub fn level(&self) -> Level {
        self.level.unwrap_or(Level::Warning)
    }
    pub fn failure_threshold(&self) -> u32 {
        self.failure_threshold.map(|n| n.get()).unwrap_or(1)
    }
    pub fn success_threshold(&self) -> u32 {
        self.success_threshold.map(|n| n.get()).unwrap_or(1)
    }
    pub fn notify_resolved(&self) -> bool {
        self.notify_resolved.unwrap_or(true)
    }
}

/// What kind of endpoint a notifier posts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifierKind {
    /// A generic JSON webhook (Runway's own payload).
    Webhook,
    /// A Slack-compatible incoming webhook (`{"text": ...}`).
    Slack,
    /// Alertmanager's v2 API (`POST /api/v2/alerts`).
    Alertmanager,
}

impl NotifierKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifierKind::Webhook => "webhook",
            NotifierKind::Slack => "slack",
            NotifierKind::Alertmanager => "alertmanager",
        }
    }
}

/// `[notifiers.<name>]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifierConfig {
    #[serde(rename = "type")]
    pub kind: NotifierKind,
    /// Where to post; `${VAR}` is interpolated (a Slack URL is itself a secret).
    /// For `alertmanager`, the server's base URL (`http://127.0.0.1:9093`).
    pub url: String,
    /// Variable holding a bearer token sent as `Authorization`.
    pub token_env: Option<String>,
    /// Per-request timeout (default `10s`).
    pub timeout: Option<DurationValue>,
    /// Attempts before a notification waits in the outbox for the next round (default 3).
    pub retries: Option<NonZeroU32>,
    /// Extra request headers; values are `${VAR}`-interpolated and never printed.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// `alertmanager`: the `generatorURL` of each alert (default: Runway's
    /// dashboard at `http://127.0.0.1:8787/`).
    pub generator_url: Option<String>,
    /// `alertmanager`: how long a firing alert stays open in Alertmanager
    /// without news from Runway (`endsAt`; default `24h`). A rule's `reminder`
    /// re-posts it.
    pub ttl: Option<DurationValue>,
}

impl NotifierConfig {
    pub fn timeout(&self) -> Duration {
        self.timeout
            .map(|d| d.get())
            .unwrap_or(Duration::from_secs(10))
    }
    pub fn retries(&self) -> u32 {
        self.retries.map(|n| n.get()).unwrap_or(3)
    }
    pub fn ttl(&self) -> Duration {
        self.ttl
            .map(|d| d.get())
            .unwrap_or(Duration::from_secs(24 * 3600))
    }

    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        if !self.url.contains("${") {
            match url::Url::parse(&self.url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                _ => {
                    return Err((
                        "url".into(),
                        // The URL itself is not shown: a Slack webhook URL is a secret.
                        "the value is not an http or https URL (write `https://host/path`, or `${VAR}` to read it from the environment)".into(),
                    ));
                }
            }
        }
        for name in self.headers.keys() {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err((
                    "headers".into(),
                    format!("`{name}` is not an HTTP header name: use letters, digits and `-`"),
                ));
            }
        }
        if self.kind != NotifierKind::Alertmanager {
            if self.generator_url.is_some() {
                return Err((
                    "generator_url".into(),
                    format!(
                        "only an `alertmanager` notifier takes `generator_url`, this one is `{}`",
                        self.kind.as_str()
                    ),
                ));
            }
            if self.ttl.is_some() {
                return Err((
                    "ttl".into(),
                    format!(
                        "only an `alertmanager` notifier takes `ttl`, this one is `{}`",
                        self.kind.as_str()
                    ),
                ));
            }
        }
        if let Some(g) = &self.generator_url
            && !matches!(url::Url::parse(g), Ok(u) if matches!(u.scheme(), "http" | "https"))
        {
            return Err((
                "generator_url".into(),
                format!("`{g}` is not an http or https URL"),
            ));
        }
        Ok(())
    }
}

/// Alerts and notifiers, checked against each other and the environments.
pub(crate) fn validate(
    config: &crate::Config,
) -> Result<(), (Option<std::ops::Range<usize>>, String)> {
    let mut names = std::collections::BTreeSet::new();
    for a in &config.alerts {
        if !names.insert(a.name.as_str()) {
            return Err((
                Some(a.environment.span()),
                format!(
                    "two alerts are named `{}`: give each `[[alerts]]` its own `name`",
                    a.name
                ),
            ));
        }
        let env = a.environment.get_ref();
        match config.environments.get(env) {
            None => {
                return Err((
                    Some(a.environment.span()),
                    format!(
                        "alert `{}` watches `{env}`, which is not an environment (known: {})",
                        a.name,
                        list(config.environments.keys())
                    ),
                ));
            }
            Some(e) if e.monitor.is_none() => {
                return Err((
                    Some(a.environment.span()),
                    format!(
                        "alert `{}` watches `{env}`, which is not monitored: add `[environments.{env}.monitor]`",
                        a.name
                    ),
                ));
            }
            Some(_) => {}
        }
        validate_what(a, config)?;
        location::validate_quorum(a, config)?;
        for n in &a.notify {
            if !config.notifiers.contains_key(n.get_ref()) {
                return Err((
                    Some(n.span()),
                    format!(
                        "alert `{}` notifies `{}`, which is not a notifier (known: {})",
                        a.name,
                        n.get_ref(),
                        list(config.notifiers.keys())
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A rule's `source` with `when` or `condition`: the one its source takes,
/// and a `condition` that names an analysis condition of that source.
fn validate_what(
    a: &AlertConfig,
    config: &crate::Config,
) -> Result<(), (Option<std::ops::Range<usize>>, String)> {
    let source_span = a
        .source
        .as_ref()
        .map(|s| s.span())
        .unwrap_or_else(|| a.environment.span());
    let Some(kind) = a.source().traffic() else {
        if let Some(c) = &a.condition {
            return Err((
                Some(c.span()),
                format!(
                    "alert `{}` judges the probe's runs, which take `when`; `condition` names an analysis condition: add `source = \"metrics\"` or `source = \"prometheus\"`",
                    a.name
                ),
            ));
        }
        if a.when.is_none() {
            return Err((
                Some(a.environment.span()),
                format!(
                    "alert `{}` has no `when`: write e.g. `when = \"error_rate > 0.05\"`, or `source = \"metrics\"` with a `condition`",
                    a.name
                ),
            ));
        }
        return Ok(());
    };
    let src = kind.as_str();
    if let Some(w) = &a.when {
        return Err((
            Some(w.span()),
            format!(
                "alert `{}` reads `{src}`: it judges the analysis condition named by `condition`, not a `when`",
                a.name
            ),
        ));
    }
    if a.window.is_some() {
        return Err((
            Some(source_span),
            format!(
                "alert `{}` reads `{src}`: `window` is for probe rules; the condition's own `window` (in `[[analysis.conditions]]`) sets how far back it looks",
                a.name
            ),
        ));
    }
    let env = a.environment.get_ref();
    let conditions: Vec<&crate::sources::ConditionConfig> = config
        .environments
        .get(env)
        .and_then(|e| e.analysis.as_ref())
        .map(|an| an.conditions.iter().collect())
        .unwrap_or_default();
    let Some(name) = &a.condition else {
        return Err((
            Some(source_span),
            format!(
                "alert `{}` reads `{src}` but names no `condition`: set `condition` to one of the `[[environments.{env}.analysis.conditions]]` names ({})",
                a.name,
                list(
                    conditions
                        .iter()
                        .filter(|c| c.source() == kind)
                        .map(|c| &c.name)
                )
            ),
        ));
    };
    let wanted = name.get_ref().trim();
    let Some(c) = conditions.iter().find(|c| c.name.trim() == wanted) else {
        return Err((
            Some(name.span()),
            format!(
                "alert `{}` names condition `{wanted}`, which is not in `[[environments.{env}.analysis.conditions]]` (known `{src}` conditions: {})",
                a.name,
                list(
                    conditions
                        .iter()
                        .filter(|c| c.source() == kind)
                        .map(|c| &c.name)
                )
            ),
        ));
    };
    if c.source() != kind {
        return Err((
            Some(source_span),
            format!(
                "alert `{}` reads `{src}`, but condition `{wanted}` reads `{}`: make them agree",
                a.name,
                c.source().as_str()
            ),
        ));
    }
    let bounded = c.max.is_some()
        || c.min.is_some()
        || c.max_per_minute.is_some()
        || c.memory_max_mb.is_some()
        || c.memory_max_ratio.is_some()
        || c.cpu_max_ratio.is_some();
    if !bounded {
        return Err((
            Some(name.span()),
            format!(
                "condition `{wanted}` has only `baseline_factor`, which the monitor cannot judge (there is no previous version to compare with): give it `max` or `min` (`max_per_minute` for `logs`) to use it in alert `{}`",
                a.name
            ),
        ));
    }
    Ok(())
}

fn list<'a>(it: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<String> = it.map(|k| format!("`{k}`")).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// Notifier names are plain words, so they can be metric labels and file names.
pub(crate) fn check_notifier_name(name: &str) -> Result<(), String> {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a notifier name: use letters, digits, `-` and `_`"
        ))
    }
}

/// The notifiers table, for the top-level config.
pub type Notifiers = BTreeMap<String, NotifierConfig>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use std::path::Path;

    const GOOD: &str = r#"
[environments.production]
url = "http://127.0.0.1:9/mcp"

[environments.production.monitor]
interval = "15m"
suite = "smoke"
maintenance = [{ when = ["Sun 02:00-04:00"], timezone = "Australia/Sydney" }]

[[alerts]]
name = "error-rate"
environment = "production"
when = "error_rate > 0.05"
window = "10m"
level = "critical"
notify = ["oncall"]

[[alerts]]
name = "slow"
environment = "production"
when = "p95 > 3s"

[notifiers.oncall]
type = "webhook"
url = "http://127.0.0.1:9093/hook"
"#;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new("/p/runway.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn the_issue_example_parses_with_its_defaults() {
        let c = parse(GOOD).unwrap();
        let m = c.environments["production"].monitor.as_ref().unwrap();
        assert_eq!(m.interval(), Duration::from_secs(900));
        assert_eq!(m.jitter(), Duration::from_secs(30));
        assert_eq!(m.timeout(), Duration::from_secs(300));
        assert_eq!(c.alerts.len(), 2);
        let a = &c.alerts[0];
        let when = a.when.as_ref().unwrap().get_ref();
        assert_eq!(when.metric, Metric::ErrorRate);
        assert_eq!(when.compare, Some((Op::Gt, 0.05)));
        assert_eq!(a.source(), AlertSource::Probe);
        assert_eq!(a.level(), Level::Critical);
        assert_eq!(a.window(), Duration::from_secs(600));
        assert_eq!(
            c.alerts[1].when.as_ref().unwrap().get_ref().compare,
            Some((Op::Gt, 3000.0))
        );
        assert_eq!(c.notifiers["oncall"].kind, NotifierKind::Webhook);
    }

    #[test]
    fn mute_windows_headers_and_alertmanager_keys_parse_and_are_checked() {
        let text = GOOD
            .replace(
                "when = \"p95 > 3s\"",
                "when = \"p95 > 3s\"\nmute = [{ when = [\"Mon-Fri 23:00-24:00\"], timezone = \"Europe/Berlin\" }]",
            )
            .replace(
                "url = \"http://127.0.0.1:9093/hook\"",
                "url = \"http://127.0.0.1:9093/hook\"\nheaders = { X-Key = \"${HOOK_KEY}\" }",
            );
        let c = parse(&text).unwrap();
        assert_eq!(c.alerts[1].mute.len(), 1);
        assert_eq!(c.notifiers["oncall"].headers["X-Key"], "${HOOK_KEY}");
        let am = format!(
            "{GOOD}\n[notifiers.am]\ntype = \"alertmanager\"\nurl = \"http://127.0.0.1:9093\"\nttl = \"2h\"\ngenerator_url = \"http://127.0.0.1:8787/\"\n"
        );
        let c = parse(&am).unwrap();
        assert_eq!(c.notifiers["am"].ttl(), Duration::from_secs(7200));
        let e = parse(&GOOD.replace(
            "url = \"http://127.0.0.1:9093/hook\"",
            "url = \"http://127.0.0.1:9093/hook\"\nttl = \"1h\"",
        ))
        .unwrap_err();
        assert!(
            e.contains("only an `alertmanager` notifier takes `ttl`"),
            "{e}"
        );
        let e = parse(&GOOD.replace(
            "url = \"http://127.0.0.1:9093/hook\"",
            "url = \"http://127.0.0.1:9093/hook\"\nheaders = { \"bad header\" = \"x\" }",
        ))
        .unwrap_err();
        assert!(e.contains("not an HTTP header name"), "{e}");
    }

    #[test]
    fn a_bad_condition_names_its_line_and_column() {
        let text = GOOD.replace("error_rate > 0.05", "error_rate >> 0.05");
        let e = parse(&text).unwrap_err();
        let line = text
            .lines()
            .position(|l| l.contains("error_rate >>"))
            .unwrap()
            + 1;
        assert!(e.starts_with(&format!("/p/runway.toml:{line}:")), "{e}");
    }

    #[test]
    fn a_dangling_reference_names_its_line() {
        let text = GOOD.replace("notify = [\"oncall\"]", "notify = [\"pager\"]");
        let e = parse(&text).unwrap_err();
        let line = text.lines().position(|l| l.contains("\"pager\"")).unwrap() + 1;
        assert!(e.starts_with(&format!("/p/runway.toml:{line}:")), "{e}");
        assert!(e.contains("notifies `pager`"), "{e}");
        assert!(e.contains("known: `oncall`"), "{e}");

        let text = GOOD.replace(
            "name = \"slow\"\nenvironment = \"production\"",
            "name = \"slow\"\nenvironment = \"staging\"",
        );
        let e = parse(&text).unwrap_err();
        assert!(
            e.contains("watches `staging`, which is not an environment"),
            "{e}"
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let e = parse(&GOOD.replace("interval = \"15m\"", "intervall = \"15m\"")).unwrap_err();
        assert!(e.contains("intervall"), "{e}");
        let e = parse(&GOOD.replace("type = \"webhook\"", "type = \"pagerduty\"")).unwrap_err();
        assert!(e.contains("pagerduty"), "{e}");
        let e = parse(&GOOD.replace("level = \"critical\"", "level = \"p1\"")).unwrap_err();
        assert!(e.contains("p1"), "{e}");
        let e = parse(&GOOD.replace("\"Sun 02:00-04:00\"", "\"Sun 02:00\"")).unwrap_err();
        assert!(e.contains("HH:MM-HH:MM"), "{e}");
        let e = parse(&GOOD.replace("suite = \"smoke\"", "suite = \"smoke\"\njitter = \"20m\""))
            .unwrap_err();
        assert!(e.contains("shorter than the interval"), "{e}");
        let e = parse(&GOOD.replace("http://127.0.0.1:9093/hook", "ftp://x")).unwrap_err();
        assert!(e.contains("not an http or https URL"), "{e}");
    }

    const TRAFFIC: &str = r#"
[environments.production]
url = "http://127.0.0.1:9/mcp"

[environments.production.monitor]
interval = "1m"

[environments.production.analysis.prometheus]
url = "http://127.0.0.1:9090"

[[environments.production.analysis.conditions]]
name = "auth-denied"
numerator = 'dynamic_mcp_http_auth_denied_total'
denominator = 'http_requests_total{path="/mcp"}'
max = 0.10

[[environments.production.analysis.conditions]]
name = "error-rate"
source = "prometheus"
query = 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))'
max = 0.05

[[environments.production.analysis.conditions]]
name = "vs-previous"
query = 'sum(rate(http_requests_total{code=~"5.."}[5m]))'
baseline_factor = 1.5

[[alerts]]
name = "auth-denied"
environment = "production"
source = "metrics"
condition = "auth-denied"
level = "critical"
failure_threshold = 2

[[alerts]]
name = "errors"
environment = "production"
source = "prometheus"
condition = "error-rate"

[[alerts]]
name = "down"
environment = "production"
when = "down"
"#;

    #[test]
    fn an_alert_names_an_analysis_condition_of_its_source() {
        let c = parse(TRAFFIC).unwrap();
        assert_eq!(c.alerts[0].source(), AlertSource::Metrics);
        assert_eq!(
            c.alerts[0].condition.as_ref().unwrap().get_ref(),
            "auth-denied"
        );
        assert!(c.alerts[0].when.is_none());
        assert_eq!(c.alerts[1].source(), AlertSource::Prometheus);
        assert_eq!(c.alerts[2].source(), AlertSource::Probe);
    }

    #[test]
    fn a_bad_source_alert_names_its_line_and_says_what_to_write() {
        let line_of =
            |text: &str, needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
        // An unknown condition: the line of `condition`, with the known names.
        let text = TRAFFIC.replace("condition = \"auth-denied\"", "condition = \"auth-denid\"");
        let e = parse(&text).unwrap_err();
        let line = line_of(&text, "auth-denid");
        assert!(e.starts_with(&format!("/p/runway.toml:{line}:")), "{e}");
        assert!(e.contains("condition `auth-denid`, which is not in"), "{e}");
        assert!(e.contains("`auth-denied`"), "{e}");
        for (from, to, needle) in [
            (
                "source = \"prometheus\"\ncondition = \"error-rate\"",
                "source = \"metrics\"\ncondition = \"error-rate\"",
                "make them agree",
            ),
            (
                "condition = \"error-rate\"",
                "condition = \"vs-previous\"",
                "only `baseline_factor`",
            ),
            (
                "condition = \"error-rate\"",
                "condition = \"error-rate\"\nwhen = \"down\"",
                "not a `when`",
            ),
            (
                "condition = \"error-rate\"",
                "condition = \"error-rate\"\nwindow = \"5m\"",
                "`window` is for probe rules",
            ),
            ("condition = \"error-rate\"\n", "\n", "names no `condition`"),
            (
                "when = \"down\"",
                "condition = \"error-rate\"",
                "add `source = \"metrics\"`",
            ),
            ("when = \"down\"", "", "has no `when`"),
            ("source = \"metrics\"", "source = \"logs\"", "logs"),
        ] {
            assert!(TRAFFIC.contains(from), "{from}");
            let e = parse(&TRAFFIC.replacen(from, to, 1)).unwrap_err();
            assert!(e.contains(needle), "{from} -> {to}: {e}");
            assert!(e.starts_with("/p/runway.toml:"), "{e}");
        }
    }

    #[test]
    fn maintenance_is_judged_in_its_time_zone() {
        let c = parse(GOOD).unwrap();
        let m = &c.environments["production"]
            .monitor
            .as_ref()
            .unwrap()
            .maintenance[0];
        // Sunday 03:00 in Sydney (AEDT, +11) is Saturday 16:00 UTC.
        let inside: jiff::Timestamp = "2026-11-28T16:00:00Z".parse().unwrap();
        let outside: jiff::Timestamp = "2026-11-29T03:00:00Z".parse().unwrap();
        assert!(m.contains(inside));
        assert!(!m.contains(outside));
    }
}
