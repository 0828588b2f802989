//! `/metrics`: the monitor's runs, latencies, statuses, alerts and notifiers
//! in the OpenMetrics text format (which Prometheus scrapes natively).
//!
//! Counters and histograms are fed by the binary's sink as runs finish
//! ([`Metrics::observe`]); statuses start from the ledger's latest runs; the
//! alert and notifier gauges are read from the [`crate::AlertSource`] at
//! each scrape, so they never drift from the alert engine's own state.

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use runway_monitor::{EnvStatus, Outcome};

use crate::alerts::{AlertView, NotifierView};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    environment: String,
    /// The first failing check, or `suite` for a run that passed.
    check: String,
    /// `pass` or `fail`.
    outcome: String,
    /// The failure's reason class, `none` for a pass.
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EnvLabels {
    environment: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    environment: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AlertLabels {
    environment: String,
    alert: String,
    level: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NotifierLabels {
    notifier: String,
    r#type: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// Escapes a label value as the text format requires (`\\`, `\"`, `\n`).
/// prometheus-client writes label values as given, and an environment or
/// rule name is the operator's: a quote in it must not end the value early.
fn lv(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The registry and its families. One per process; cheap to share (`Arc`).
pub struct Metrics {
    registry: Registry,
    runs: Family<RunLabels, Counter>,
    latency: Family<EnvLabels, Histogram, fn() -> Histogram>,
    status: Family<StatusLabels, Gauge>,
    last_run: Family<EnvLabels, FloatGauge>,
    alerts: Family<AlertLabels, Gauge>,
    notifier_up: Family<NotifierLabels, Gauge>,
    notifier_pending: Family<NotifierLabels, Gauge>,
    notifier_failures: Family<NotifierLabels, Gauge>,
    /// Scrapes rebuild the alert gauges; one at a time.
    scrape: Mutex<()>,
}

fn latency_histogram() -> Histogram {
    // 5 ms to about 20 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 13))
}

const STATUSES: [EnvStatus; 5] = [
    EnvStatus::Up,
    EnvStatus::Degraded,
    EnvStatus::Down,
    EnvStatus::Maintenance,
    EnvStatus::Unknown,
];

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let runs = Family::<RunLabels, Counter>::default();
        registry.register(
            "runway_monitor_runs",
            "Monitor runs by environment, first failing check, outcome and reason class",
            runs.clone(),
        );
        let latency: Family<EnvLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "runway_monitor_run_duration_seconds",
            "How long each environment's check suite took",
            latency.clone(),
        );
        let status = Family::<StatusLabels, Gauge>::default();
        registry.register(
            "runway_environment_status",
            "1 for the environment's current status (up, degraded, down, maintenance, unknown), 0 for the others",
            status.clone(),
        );
        let last_run = Family::<EnvLabels, FloatGauge>::default();
        registry.register(
            "runway_monitor_last_run_timestamp_seconds",
            "When the environment's latest run started (Unix time)",
            last_run.clone(),
        );
        let alerts = Family::<AlertLabels, Gauge>::default();
        registry.register(
            "runway_alerts_open",
            "1 per open alert, by environment, rule, level and state (pending, firing)",
            alerts.clone(),
        );
        let notifier_up = Family::<NotifierLabels, Gauge>::default();
        registry.register(
            "runway_notifier_up",
            "1 while the notifier's last delivery succeeded, 0 while it is failing",
            notifier_up.clone(),
        );
        let notifier_pending = Family::<NotifierLabels, Gauge>::default();
        registry.register(
            "runway_notifier_pending",
            "Notifications stored and not yet delivered",
            notifier_pending.clone(),
        );
        let notifier_failures = Family::<NotifierLabels, Gauge>::default();
        registry.register(
            "runway_notifier_failures",
            "Failed delivery attempts since the notifier's last success",
            notifier_failures.clone(),
        );
        Metrics {
            registry,
            runs,
            latency,
            status,
            last_run,
            alerts,
            notifier_up,
            notifier_pending,
            notifier_failures,
            scrape: Mutex::new(()),
        }
    }

    /// Counts one finished run and moves the environment's status.
    pub fn observe(&self, o: &Outcome) {
        let labels = RunLabels {
            environment: lv(&o.environment),
            check: lv(o.failed_check.as_deref().unwrap_or("suite")),
            outcome: if o.ok { "pass" } else { "fail" }.to_owned(),
            reason: o.reason.map_or("none", |r| r.as_str()).to_owned(),
        };
        self.runs.get_or_create(&labels).inc();
        let env = EnvLabels {
            environment: lv(&o.environment),
        };
        self.latency
            .get_or_create(&env)
            .observe(o.latency_ms.max(0.0) / 1000.0);
        self.last_run
            .get_or_create(&env)
            .set(o.at.timestamp_millis() as f64 / 1000.0);
        self.set_status(&o.environment, o.status.as_str());
    }

    /// Sets the environment's status gauge (1 for `status`, 0 for the others).
    pub fn set_status(&self, environment: &str, status: &str) {
        for s in STATUSES {
            self.status
                .get_or_create(&StatusLabels {
                    environment: lv(environment),
                    status: s.as_str().to_owned(),
                })
                .set(i64::from(s.as_str() == status));
        }
    }

    /// The exposition, with the alert and notifier gauges set from what the
    /// alert engine holds now.
    pub fn render(&self, alerts: &[AlertView], notifiers: &[NotifierView]) -> String {
        let _one = self.scrape.lock().unwrap_or_else(|p| p.into_inner());
        self.alerts.clear();
        for a in alerts {
            self.alerts
                .get_or_create(&AlertLabels {
                    environment: lv(&a.environment),
                    alert: lv(&a.name),
                    level: lv(&a.level),
                    state: lv(&a.state),
                })
                .inc();
        }
        self.notifier_up.clear();
        self.notifier_pending.clear();
        self.notifier_failures.clear();
        for n in notifiers {
            let l = NotifierLabels {
                notifier: lv(&n.name),
                r#type: lv(&n.kind),
            };
            self.notifier_up
                .get_or_create(&l)
                .set(i64::from(n.failures == 0));
            self.notifier_pending
                .get_or_create(&l)
                .set(i64::try_from(n.pending).unwrap_or(i64::MAX));
            self.notifier_failures
                .get_or_create(&l)
                .set(i64::try_from(n.failures).unwrap_or(i64::MAX));
        }
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!("encoding /metrics failed: {e}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn label_values_are_escaped() {
        assert_eq!(super::lv("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(super::lv("plain"), "plain");
    }
}
