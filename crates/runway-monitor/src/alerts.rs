//! Alert rules: when an `[[alerts]]` rule fires, reminds, resolves or stays
//! quiet, and which notifications that queues.
//!
//! [`AlertEngine`] is pure: it keeps each environment's recent runs
//! ([`History`]) and the open alert instances, and [`AlertEngine::evaluate`]
//! turns one evaluation (after each run of an environment) into
//! [`Change`]s: the instance as it now stands and the notifications to queue
//! with it. The caller stores each change in the ledger in one transaction
//! ([`runway_ledger::Ledger::save_alert`]), so the decision and its
//! notifications are never split; [`crate::notify`] delivers them.
//!
//! An instance opens `pending` the first evaluation its condition holds,
//! fires after `failure_threshold` evaluations in a row, and resolves after
//! `success_threshold` evaluations in a row that do not hold (a pending one
//! that clears just closes, silently). An evaluation with nothing to judge
//! (no run in the window) changes nothing. While a mute window (the rule's
//! `mute`, the environment's `maintenance`) or a silence is open the state
//! still moves, but no firing or reminder notification is queued; a firing
//! alert that was never announced is announced when the mute ends, and a
//! resolve is announced only when its firing was. Dedup: one open instance
//! per fingerprint (rule and environment), and every notification carries a
//! key unique to its instance, notifier and event.

use std::{
    collections::{BTreeMap, HashMap},
    time::Duration,
};

use chrono::{DateTime, Utc};
use runway_config::monitor::{AlertConfig, Condition, Level, MaintenanceConfig, Metric};
use runway_config::sources::SourceKind;
use runway_ledger::{AlertRecord, AlertState, NewNotification, NotifyEvent};
use runway_signals::{Evaluation, Verdict};

use crate::{
    outcome::Outcome,
    rules::{ByLocation, WindowStats},
};

/// Runs kept per environment at most, whatever the windows say (bounded memory).
pub const MAX_RUNS_PER_ENVIRONMENT: usize = 20_000;

/// What a rule judges.
#[derive(Debug, Clone, PartialEq)]
pub enum When {
    /// A condition over the monitor's runs in the window (`source = "probe"`).
    Probe(Condition),
    /// An `[[analysis.conditions]]` entry, read at each run of the
    /// environment (`source = "metrics"` or `"prometheus"`).
    Traffic {
        source: SourceKind,
        /// The condition's name.
        condition: String,
        /// What it reads and its bounds, in one line.
        describe: String,
    },
}

impl From<Condition> for When {
    fn from(c: Condition) -> When {
        When::Probe(c)
    }
}

impl When {
    /// As stored in the alert record and its notifications.
    pub fn text(&self) -> String {
        match self {
            When::Probe(c) => c.text.clone(),
            When::Traffic {
                source,
                condition,
                describe,
            } => format!("{} condition `{condition}`: {describe}", source.as_str()),
        }
    }
}

/// One `[[alerts]]` rule, resolved against its environment.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub environment: String,
    pub when: When,
    pub window: Duration,
    pub level: Level,
    pub notify: Vec<String>,
    pub failure_threshold: u32,
    pub success_threshold: u32,
    pub reminder: Option<Duration>,
    pub notify_resolved: bool,
    /// The rule's `mute` windows and its environment's `maintenance` windows.
    pub mute: Vec<MaintenanceConfig>,
    /// Probe rules: the condition must hold at this many locations (each
    /// judged over its own runs); `None` judges every run together.
    pub quorum: Option<u32>,
    /// A location whose newest run is older than this is not counted by a
    /// quorum (two of the environment's intervals; see [`Rule::with_interval`]).
    pub fresh: Duration,
}

impl Rule {
    /// The rule as configured; `maintenance` is its environment's.
    /// `analysis` is the environment's `[analysis]` (where a `metrics` or
    /// `prometheus` rule's condition is described; validation made sure it is).
    pub fn from_config(a: &AlertConfig, maintenance: &[MaintenanceConfig]) -> Rule {
        Rule::from_config_with(a, maintenance, None)
    }

    /// [`Rule::from_config`] with the environment's `[analysis]`, which
    /// describes a `metrics`/`prometheus` rule's condition.
    pub fn from_config_with(
        a: &AlertConfig,
        maintenance: &[MaintenanceConfig],
        analysis: Option<&runway_config::AnalysisConfig>,
    ) -> Rule {
        let mut mute = a.mute.clone();
        mute.extend(maintenance.iter().cloned());
        let when = match (a.source().traffic(), &a.when, &a.condition) {
            (Some(source), _, Some(name)) => {
                let name = name.get_ref().trim().to_owned();
                let describe = analysis
                    .and_then(|an| an.conditions.iter().find(|c| c.name.trim() == name))
                    .map(|c| runway_signals::Condition::from_config(c).describe())
                    .unwrap_or_default();
                When::Traffic {
                    source,
                    condition: name,
                    describe,
                }
            }
            (_, Some(w), _) => When::Probe(w.get_ref().clone()),
            // Validation refuses a rule with neither; `down` is harmless.
            _ => When::Probe(Condition::parse("down").expect("`down` parses")),
        };
        Rule {
            name: a.name.clone(),
            environment: a.environment.get_ref().clone(),
            when,
            window: a.window(),
            level: a.level(),
            notify: a.notify.iter().map(|n| n.get_ref().clone()).collect(),
            failure_threshold: a.failure_threshold(),
            success_threshold: a.success_threshold(),
            reminder: a.reminder.map(|d| d.get()),
            notify_resolved: a.notify_resolved(),
            mute,
            quorum: a.quorum(),
            fresh: 2 * runway_config::monitor::DEFAULT_INTERVAL,
        }
    }

    /// The environment's monitor `interval`: a quorum counts the locations
    /// with a run in the last two of them.
    pub fn with_interval(mut self, interval: Duration) -> Rule {
        self.fresh = 2 * interval;
        self
    }

    /// The dedup key: the same rule on the same environment.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.name, &self.environment)
    }

    /// Whether a mute or maintenance window is open at `at`.
    pub fn muted_at(&self, at: DateTime<Utc>) -> bool {
        let Ok(ts) = jiff::Timestamp::from_microsecond(at.timestamp_micros()) else {
            return false;
        };
        self.mute.iter().any(|m| m.contains(ts))
    }
}

/// FNV-1a of the rule name and environment, as 16 hex digits: stable across
/// runs and machines, and free of whatever characters a name holds.
pub fn fingerprint(rule: &str, environment: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in rule.bytes().chain([0u8]).chain(environment.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Each environment's recent runs, as long as its longest window needs.
#[derive(Debug, Default)]
pub struct History {
    runs: HashMap<String, Vec<Outcome>>,
    keep: HashMap<String, Duration>,
}

impl History {
    pub fn new(rules: &[Rule]) -> History {
        let mut keep: HashMap<String, Duration> = HashMap::new();
        for r in rules {
            if !matches!(r.when, When::Probe(_)) {
                continue;
            }
            let k = keep.entry(r.environment.clone()).or_default();
            *k = (*k).max(r.window);
        }
        History {
            runs: HashMap::new(),
            keep,
        }
    }

    /// Adds a run (in time order, also when it arrives late) and forgets what
    /// no window reaches any more.
    pub fn push(&mut self, o: Outcome) {
        let Some(keep) = self.keep.get(&o.environment).copied() else {
            return;
        };
        let v = self.runs.entry(o.environment.clone()).or_default();
        let at = v.partition_point(|x| x.at <= o.at);
        v.insert(at, o);
        if let Some(newest) = v.last().map(|x| x.at) {
            let from = newest - chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
            let old = v.partition_point(|x| x.at <= from);
            let over = v.len().saturating_sub(MAX_RUNS_PER_ENVIRONMENT);
            v.drain(..old.max(over));
        }
    }

    /// Replaces `environment`'s runs (oldest first) with `runs`.
    pub fn replace(&mut self, environment: &str, runs: Vec<Outcome>) {
        self.runs.remove(environment);
        for o in runs {
            self.push(o);
        }
    }

    /// How far back `environment`'s longest window reaches.
    pub fn reach(&self, environment: &str) -> Option<Duration> {
        self.keep.get(environment).copied()
    }

    pub fn runs(&self, environment: &str) -> &[Outcome] {
        self.runs.get(environment).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// What happened to an instance in one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The condition held for the first time: a pending instance opened.
    Opened,
    /// Still pending, or still firing: counters and value moved.
    Updated,
    Fired,
    /// A firing alert announced late: its mute window closed.
    Announced,
    Reminded,
    Resolved,
}

/// An instance as it now stands, and what to queue with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub transition: Transition,
    pub alert: AlertRecord,
    pub notify: Vec<NewNotification>,
}

/// The rules and their open instances.
#[derive(Debug)]
pub struct AlertEngine {
    rules: Vec<Rule>,
    open: BTreeMap<String, AlertRecord>,
    history: History,
    /// Each environment's traffic readings since its last evaluation, by condition.
    readings: HashMap<String, HashMap<String, Evaluation>>,
}

impl AlertEngine {
    pub fn new(rules: Vec<Rule>) -> AlertEngine {
        AlertEngine {
            history: History::new(&rules),
            rules,
            open: BTreeMap::new(),
            readings: HashMap::new(),
        }
    }

    /// Adds the traffic conditions read at a run of `environment`; the next
    /// [`AlertEngine::evaluate`] of it judges them (once).
    pub fn observe_readings(&mut self, environment: &str, evaluations: Vec<Evaluation>) {
        let r = self.readings.entry(environment.to_owned()).or_default();
        for e in evaluations {
            r.insert(e.condition.clone(), e);
        }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Takes over the open instances stored in the ledger (after a restart).
    /// Those whose rule is gone from `runway.toml` are closed and returned,
    /// for the caller to store.
    pub fn restore(&mut self, open: Vec<AlertRecord>, now: DateTime<Utc>) -> Vec<Change> {
        let mut closed = Vec::new();
        for mut a in open {
            if self.rules.iter().any(|r| r.fingerprint() == a.fingerprint) {
                self.open.insert(a.fingerprint.clone(), a);
            } else {
                a.state = AlertState::Resolved;
                a.resolved_at = Some(now);
                a.evaluated_at = now;
                a.message = Some("its rule is no longer in runway.toml".into());
                closed.push(Change {
                    transition: Transition::Resolved,
                    alert: a,
                    notify: Vec::new(),
                });
            }
        }
        closed
    }

    /// Records the id the ledger gave a newly opened instance.
    pub fn stored(&mut self, fingerprint: &str, id: i64) {
        if let Some(a) = self.open.get_mut(fingerprint) {
            a.id = id;
        }
    }

    /// Forgets an open instance (its save failed): the next evaluation
    /// starts from what the ledger says.
    pub fn forget(&mut self, fingerprint: &str) {
        self.open.remove(fingerprint);
    }

    /// Takes an open instance as the ledger holds it (another process opened it).
    pub fn adopt(&mut self, alert: AlertRecord) {
        if alert.is_open() {
            self.open.insert(alert.fingerprint.clone(), alert);
        }
    }

    /// The open instances, oldest first.
    pub fn open_alerts(&self) -> Vec<&AlertRecord> {
        let mut v: Vec<&AlertRecord> = self.open.values().collect();
        v.sort_by_key(|a| (a.started_at, a.id));
        v
    }

    /// Starts `environment` over from the ledger: its stored runs and the
    /// open instances of its rules. With a shared schedule another worker
    /// may have run it, and moved its alerts, since this one last did.
    pub fn resync(&mut self, environment: &str, runs: Vec<Outcome>, open: Vec<AlertRecord>) {
        self.history.replace(environment, runs);
        let fps: Vec<String> = self
            .rules
            .iter()
            .filter(|r| r.environment == environment)
            .map(Rule::fingerprint)
            .collect();
        for fp in &fps {
            self.open.remove(fp);
        }
        for a in open {
            if a.is_open() && fps.contains(&a.fingerprint) {
                self.open.insert(a.fingerprint.clone(), a);
            }
        }
    }

    /// Takes the open instances of every rule as the ledger holds them.
    pub fn replace_open(&mut self, open: Vec<AlertRecord>) {
        let fps: Vec<String> = self.rules.iter().map(Rule::fingerprint).collect();
        self.open.retain(|fp, _| !fps.contains(fp));
        for a in open {
            if a.is_open() && fps.contains(&a.fingerprint) {
                self.open.insert(a.fingerprint.clone(), a);
            }
        }
    }

    /// The announcements and reminders due at `now` on the firing
    /// instances, between evaluations: nothing is judged, no counter moves.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<Change> {
        let mut out = Vec::new();
        for rule in &self.rules {
            let fp = rule.fingerprint();
            let Some(a) = self.open.get_mut(&fp) else {
                continue;
            };
            if a.state != AlertState::Firing {
                continue;
            }
            let silenced = a.silenced_until.is_some_and(|t| t > now);
            let muted = silenced || rule.muted_at(now);
            let (transition, event) = match (muted, a.notified_at) {
                (true, _) => continue,
                (false, None) => {
                    a.notified_at = Some(now);
                    (Transition::Announced, NotifyEvent::Firing)
                }
                (false, Some(last)) => {
                    let Some(slot) = rule
                        .reminder
                        .and_then(|every| reminder_slot(last, every, now))
                    else {
                        continue;
                    };
                    a.notified_at = Some(slot);
                    (Transition::Reminded, NotifyEvent::Reminder)
                }
            };
            a.muted = false;
            let a = a.clone();
            let at = a.notified_at.unwrap_or(now);
            let notify = rule
                .notify
                .iter()
                .map(|n| notification(rule, &a, n, event, at))
                .collect();
            out.push(Change {
                transition,
                alert: a,
                notify,
            });
        }
        out
    }

    /// Adds a finished run to its environment's history.
    pub fn observe(&mut self, outcome: &Outcome) {
        self.history.push(outcome.clone());
    }

    /// Evaluates every rule of `environment` at `now`.
    pub fn evaluate(&mut self, environment: &str, now: DateTime<Utc>) -> Vec<Change> {
        let readings = self.readings.remove(environment).unwrap_or_default();
        let mut out = Vec::new();
        for i in 0..self.rules.len() {
            if self.rules[i].environment != environment {
                continue;
            }
            if let Some(c) = self.evaluate_rule(i, now, &readings) {
                out.push(c);
            }
        }
        out
    }

    fn evaluate_rule(
        &mut self,
        i: usize,
        now: DateTime<Utc>,
        readings: &HashMap<String, Evaluation>,
    ) -> Option<Change> {
        let rule = &self.rules[i];
        let fp = rule.fingerprint();
        let (holds, value, message) = match &rule.when {
            When::Probe(when) => {
                let runs = self.history.runs(&rule.environment);
                match rule.quorum {
                    Some(q) => {
                        let b = ByLocation::of(runs, now, rule.window, rule.fresh, when)?;
                        let holds = b.holding.len() >= q as usize;
                        let value = Some(b.holding.len() as f64);
                        (holds, value, describe_quorum(rule, when, q, &b))
                    }
                    None => {
                        let stats = WindowStats::of(runs, now, rule.window);
                        let holds = stats.holds(when)?;
                        let value = stats.value_of(when);
                        (holds, value, describe(rule, when, &stats, value, runs, now))
                    }
                }
            }
            When::Traffic {
                source, condition, ..
            } => {
                // No reading this run, or an inconclusive one (nothing to
                // judge, or the source failed): the alert neither fires nor
                // resolves.
                let e = readings.get(condition)?;
                let holds = match e.verdict {
                    Verdict::Fail => true,
                    Verdict::Pass => false,
                    Verdict::Inconclusive => return None,
                };
                (
                    holds,
                    e.value,
                    format!("{} condition {}", source.as_str(), e.message),
                )
            }
        };
        let open = self.open.get(&fp).cloned();
        let silenced = open
            .as_ref()
            .and_then(|a| a.silenced_until)
            .is_some_and(|t| t > now);
        let muted = silenced || rule.muted_at(now);
        let (transition, mut a) = match (open, holds) {
            (None, false) => return None,
            (None, true) => (
                Transition::Opened,
                AlertRecord {
                    id: 0,
                    fingerprint: fp.clone(),
                    rule: rule.name.clone(),
                    environment: rule.environment.clone(),
                    level: rule.level.as_str().to_owned(),
                    state: AlertState::Pending,
                    condition: rule.when.text(),
                    started_at: now,
                    fired_at: None,
                    resolved_at: None,
                    evaluated_at: now,
                    last_value: value,
                    hits: 1,
                    clears: 0,
                    notified_at: None,
                    muted,
                    message: Some(message.clone()),
                    acknowledged_by: None,
                    acknowledged_at: None,
                    silenced_until: None,
                },
            ),
            (Some(mut a), true) => {
                a.hits += 1;
                a.clears = 0;
                (Transition::Updated, a)
            }
            (Some(mut a), false) => {
                a.clears += 1;
                a.hits = 0;
                if a.state == AlertState::Pending || a.clears >= i64::from(rule.success_threshold) {
                    a.state = AlertState::Resolved;
                    a.resolved_at = Some(now);
                    (Transition::Resolved, a)
                } else {
                    (Transition::Updated, a)
                }
            }
        };
        a.evaluated_at = now;
        a.last_value = value;
        a.muted = muted;
        a.message = Some(message);
        let mut transition = transition;
        if a.state == AlertState::Pending && a.hits >= i64::from(rule.failure_threshold) {
            a.state = AlertState::Firing;
            a.fired_at = Some(now);
            transition = Transition::Fired;
        }
        let mut events = Vec::new();
        match a.state {
            AlertState::Firing if !muted => match a.notified_at {
                None => {
                    if transition != Transition::Fired {
                        transition = Transition::Announced;
                    }
                    events.push(NotifyEvent::Firing);
                    a.notified_at = Some(now);
                }
                Some(last) => {
                    if let Some(slot) = rule
                        .reminder
                        .and_then(|every| reminder_slot(last, every, now))
                    {
                        transition = Transition::Reminded;
                        events.push(NotifyEvent::Reminder);
                        a.notified_at = Some(slot);
                    }
                }
            },
            AlertState::Resolved if rule.notify_resolved && a.notified_at.is_some() => {
                events.push(NotifyEvent::Resolved);
            }
            _ => {}
        }
        let notify = events
            .iter()
            .flat_map(|e| {
                rule.notify
                    .iter()
                    .map(|n| notification(rule, &a, n, *e, now))
            })
            .collect();
        if a.state == AlertState::Resolved {
            self.open.remove(&fp);
        } else {
            self.open.insert(fp, a.clone());
        }
        Some(Change {
            transition,
            alert: a,
            notify,
        })
    }
}

/// How often the running monitor calls [`AlertRunner::tick`].
pub const TICK_EVERY: Duration = Duration::from_secs(15);

/// The reminder due at `now` after one sent at `last`: the latest whole
/// `every` since `last`, so reminders keep their cadence and two workers
/// that see the same `last` pick the same one. `None` before the first is due.
fn reminder_slot(
    last: DateTime<Utc>,
    every: Duration,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let every = chrono::Duration::from_std(every).ok()?;
    let every_us = every.num_microseconds()?.max(1);
    let since = (now - last).num_microseconds()?;
    if since < every_us {
        return None;
    }
    Some(last + chrono::Duration::microseconds(since / every_us * every_us))
}

fn notification(
    rule: &Rule,
    a: &AlertRecord,
    notifier: &str,
    event: NotifyEvent,
    now: DateTime<Utc>,
) -> NewNotification {
    let seq = match event {
        // A reminder is keyed by its slot: two workers queue the same one once.
        NotifyEvent::Reminder => a.notified_at.unwrap_or(now).timestamp_micros(),
        _ => 0,
    };
    NewNotification {
        notifier: notifier.to_owned(),
        event,
        dedup_key: format!(
            "{}:{}:{notifier}:{}:{seq}",
            a.fingerprint,
            a.started_at.timestamp_micros(),
            event.as_str()
        ),
        payload: payload(rule, a, event),
    }
}

/// What a notifier renders: the alert as it stood when the notification was
/// queued (schema `runway.alert/v1`, also the generic webhook's body).
pub fn payload(rule: &Rule, a: &AlertRecord, event: NotifyEvent) -> serde_json::Value {
    serde_json::json!({
        "schema": "runway.alert/v1",
        "event": event.as_str(),
        "alert": a.rule,
        "environment": a.environment,
        "level": a.level,
        "state": a.state.as_str(),
        "condition": a.condition,
        "window": humantime::format_duration(rule.window).to_string(),
        "value": a.last_value,
        "fingerprint": a.fingerprint,
        "started_at": a.started_at,
        "fired_at": a.fired_at,
        "resolved_at": a.resolved_at,
        "message": a.message,
    })
}

/// One line on what the rule sees: the measure, the condition, the window and
/// the newest failure in it.
fn describe(
    rule: &Rule,
    when: &Condition,
    stats: &WindowStats,
    value: Option<f64>,
    runs: &[Outcome],
    now: DateTime<Utc>,
) -> String {
    let shown = match (when.metric, value) {
        (_, None) => "unknown".to_owned(),
        (Metric::Down, Some(v)) => if v > 0.0 { "down" } else { "up" }.to_owned(),
        (Metric::CheckFailing, Some(v)) => if v > 0.0 { "failing" } else { "passing" }.to_owned(),
        (m, Some(v)) => format_value(m, v),
    };
    let what = match when.metric {
        Metric::CheckFailing => format!(
            "check `{}` is {shown}",
            when.check.as_deref().unwrap_or("?")
        ),
        Metric::Down => format!("`{}` is {shown}", rule.environment),
        m => format!(
            "{} is {shown} (alert when {}) over {} ({} runs)",
            m.as_str(),
            when.text,
            humantime::format_duration(rule.window),
            stats.runs
        ),
    };
    let from = now - chrono::Duration::from_std(rule.window).unwrap_or(chrono::Duration::MAX);
    let failure = runs
        .iter()
        .rev()
        .filter(|o| o.at > from && o.at <= now)
        .find(|o| !o.ok);
    match failure {
        Some(o) => format!(
            "{what}; last failure: {} at {}: {}",
            o.reason.map(|r| r.as_str()).unwrap_or("unknown"),
            o.failed_check.as_deref().unwrap_or("?"),
            o.message.as_deref().unwrap_or("")
        ),
        None => what,
    }
}

/// A quorum rule's line: where the condition holds, out of the locations
/// judged, against the quorum.
fn describe_quorum(rule: &Rule, when: &Condition, quorum: u32, b: &ByLocation) -> String {
    let what = match when.metric {
        Metric::Down => format!("`{}` is down", rule.environment),
        _ => format!("`{}` holds", when.text),
    };
    let at = if b.holding.is_empty() {
        String::new()
    } else {
        format!(" ({})", b.holding.join(", "))
    };
    format!(
        "{what} from {} of {} locations{at}; quorum {quorum}",
        b.holding.len(),
        b.judged.len()
    )
}

/// A measure's value as a person reads it: `12.5%`, `3.2 s`, `9.5 days`, `4m 10s`.
pub fn format_value(metric: Metric, v: f64) -> String {
    match metric {
        Metric::Availability | Metric::ErrorRate | Metric::AuthFailureRate => {
            format!("{:.1}%", v * 100.0)
        }
        Metric::P50 | Metric::P95 | Metric::P99 => {
            if v >= 1000.0 {
                format!("{:.2} s", v / 1000.0)
            } else {
                format!("{v:.0} ms")
            }
        }
        Metric::CertDays => format!("{v:.1} days"),
        Metric::TokenExpiry => {
            if v <= 0.0 {
                "expired".to_owned()
            } else {
                humantime::format_duration(Duration::from_secs(v as u64)).to_string()
            }
        }
        Metric::Down | Metric::CheckFailing => format!("{v}"),
    }
}

mod runner;
pub use runner::{AlertRunner, TRAFFIC_READ_BOUND, TrafficSetupError, traffic_sources};

#[cfg(test)]
mod tests;
