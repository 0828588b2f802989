//! `[environments.<name>.analysis]` and `[environments.<name>.rollback]`:
//! the watch after a deploy and what a failed one does.

use std::{num::NonZeroU32, time::Duration};

use runway_core::Severity;
use serde::Deserialize;

use crate::duration::DurationValue;

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
    /// Severities at which `runway incident open --env <name>` rolls the
    /// environment back at once (Tabcorp: `["P0"]`, "P0 → immediate
    /// rollback"). Default none: the other seeds do not roll back on an
    /// incident (a P0 may be a data loss or a breach that an older version
    /// does not fix), so it is the operator's choice.
    #[serde(default)]
    pub on_incident: Vec<Severity>,
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
    /// Whether opening an incident of `severity` rolls the environment back.
    pub fn rolls_back_on(&self, severity: Severity) -> bool {
        self.on_incident.contains(&severity)
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
