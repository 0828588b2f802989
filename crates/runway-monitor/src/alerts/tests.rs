//! The alert state machine under tokio's paused clock: a day of evaluations
//! runs instantly, and the timestamps move exactly as far as the timers did.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use runway_config::monitor::{Condition, Level, MaintenanceConfig};
use runway_core::Summary;
use runway_ledger::{AlertState, NotifyEvent};

use super::*;
use crate::{
    clock::{Clock, TokioClock},
    outcome::{EnvStatus, Reason},
};

fn rule(when: &str) -> Rule {
    Rule {
        name: "api-down".into(),
        environment: "prod".into(),
        when: Condition::parse(when).unwrap().into(),
        window: Duration::from_secs(600),
        level: Level::Critical,
        notify: vec!["oncall".into(), "slack".into()],
        failure_threshold: 1,
        success_threshold: 1,
        reminder: None,
        notify_resolved: true,
        mute: Vec::new(),
        quorum: None,
        fresh: Duration::from_secs(1800),
    }
}

fn run(at: DateTime<Utc>, ok: bool) -> Outcome {
    Outcome {
        environment: "prod".into(),
        at,
        ok,
        status: if ok { EnvStatus::Up } else { EnvStatus::Down },
        reason: (!ok).then_some(Reason::Connect),
        failed_check: (!ok).then(|| "http.health".to_owned()),
        message: (!ok).then(|| "could not connect: nothing listens".to_owned()),
        latency_ms: 10.0,
        cert_days: None,
        token_expiry_secs: None,
        summary: Summary::default(),
        failed_checks: if ok {
            Vec::new()
        } else {
            vec!["http.health".to_owned()]
        },
        location: None,
    }
}

/// Drives an engine one run a minute (or as told) on the paused clock.
struct Drive {
    engine: AlertEngine,
    clock: TokioClock,
}

impl Drive {
    fn new(rules: Vec<Rule>, start: DateTime<Utc>) -> Drive {
        Drive {
            engine: AlertEngine::new(rules),
            clock: TokioClock::starting_at(start),
        }
    }

    /// Waits `after`, records a run, evaluates, and gives the change (ids assigned).
    async fn step(&mut self, after: Duration, ok: bool) -> Option<Change> {
        tokio::time::sleep(after).await;
        let now = self.clock.now();
        self.engine.observe(&run(now, ok));
        let mut changes = self.engine.evaluate("prod", now);
        assert!(changes.len() <= 1, "one rule, one change: {changes:?}");
        let c = changes.pop()?;
        if c.alert.id == 0 && c.alert.is_open() {
            self.engine.stored(&c.alert.fingerprint, 7);
        }
        Some(c)
    }
}

fn events(c: &Change) -> Vec<(String, NotifyEvent)> {
    c.notify
        .iter()
        .map(|n| (n.notifier.clone(), n.event))
        .collect()
}

const MIN: Duration = Duration::from_secs(60);

fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap()
}

#[tokio::test(start_paused = true)]
async fn thresholds_hold_back_firing_and_resolving() {
    let mut r = rule("down");
    r.failure_threshold = 3;
    r.success_threshold = 2;
    let mut d = Drive::new(vec![r], monday());
    assert_eq!(d.step(MIN, true).await, None, "nothing to report");
    let c = d.step(MIN, false).await.unwrap();
    assert_eq!(c.transition, Transition::Opened);
    assert_eq!((c.alert.state, c.alert.hits), (AlertState::Pending, 1));
    assert!(c.notify.is_empty());
    let c = d.step(MIN, false).await.unwrap();
    assert_eq!((c.alert.state, c.alert.hits), (AlertState::Pending, 2));
    assert!(c.notify.is_empty());
    let c = d.step(MIN, false).await.unwrap();
    assert_eq!(c.transition, Transition::Fired);
    assert_eq!(c.alert.state, AlertState::Firing);
    assert_eq!(c.alert.id, 7, "the stored id is kept");
    assert_eq!(
        c.alert.fired_at,
        Some(monday() + chrono::Duration::minutes(4))
    );
    assert_eq!(
        events(&c),
        vec![
            ("oncall".to_owned(), NotifyEvent::Firing),
            ("slack".to_owned(), NotifyEvent::Firing)
        ]
    );
    assert_eq!(c.notify[0].payload["alert"], "api-down");
    assert_eq!(c.notify[0].payload["state"], "firing");
    let m = c.alert.message.as_deref().unwrap();
    assert!(m.contains("connect at http.health"), "{m}");
    // One good run is not enough to resolve.
    let c = d.step(MIN, true).await.unwrap();
    assert_eq!((c.alert.state, c.alert.clears), (AlertState::Firing, 1));
    assert!(c.notify.is_empty());
    // A failure in between starts the count again.
    let c = d.step(MIN, false).await.unwrap();
    assert_eq!((c.alert.state, c.alert.clears), (AlertState::Firing, 0));
    assert!(
        c.notify.is_empty(),
        "still the same alert: no second firing"
    );
    d.step(MIN, true).await.unwrap();
    let c = d.step(MIN, true).await.unwrap();
    assert_eq!(c.transition, Transition::Resolved);
    assert_eq!(c.alert.state, AlertState::Resolved);
    assert_eq!(
        c.alert.resolved_at,
        Some(monday() + chrono::Duration::minutes(8))
    );
    assert_eq!(c.notify.len(), 2);
    assert!(c.notify.iter().all(|n| n.event == NotifyEvent::Resolved));
    assert!(d.engine.open_alerts().is_empty());
    assert_eq!(d.step(MIN, true).await, None);
}

#[tokio::test(start_paused = true)]
async fn a_pending_alert_that_clears_closes_silently() {
    let mut r = rule("down");
    r.failure_threshold = 2;
    let mut d = Drive::new(vec![r], monday());
    d.step(MIN, false).await.unwrap();
    let c = d.step(MIN, true).await.unwrap();
    assert_eq!(c.alert.state, AlertState::Resolved);
    assert!(c.notify.is_empty(), "it never fired: nothing to resolve");
}

#[tokio::test(start_paused = true)]
async fn reminders_repeat_while_firing_and_stop_on_resolve() {
    let mut r = rule("error_rate > 0.5");
    r.reminder = Some(Duration::from_secs(30 * 60));
    r.notify = vec!["oncall".into()];
    let mut d = Drive::new(vec![r], monday());
    let mut sent = Vec::new();
    // Two hours of failures, one run every 10 minutes.
    for _ in 0..12 {
        let c = d.step(10 * MIN, false).await.unwrap();
        for n in &c.notify {
            sent.push((d.clock.now(), n.event, n.dedup_key.clone()));
        }
    }
    let kinds: Vec<NotifyEvent> = sent.iter().map(|s| s.1).collect();
    assert_eq!(
        kinds,
        vec![
            NotifyEvent::Firing,
            NotifyEvent::Reminder,
            NotifyEvent::Reminder,
            NotifyEvent::Reminder
        ]
    );
    let at: Vec<i64> = sent
        .iter()
        .map(|s| (s.0 - monday()).num_minutes())
        .collect();
    assert_eq!(at, vec![10, 40, 70, 100]);
    let mut keys: Vec<&String> = sent.iter().map(|s| &s.2).collect();
    keys.dedup();
    assert_eq!(keys.len(), 4, "every reminder has its own dedup key");
    // Recovery: the error rate falls below 50% once enough good runs are in the window.
    let mut resolved = None;
    for _ in 0..6 {
        if let Some(c) = d.step(10 * MIN, true).await
            && c.alert.state == AlertState::Resolved
        {
            resolved = Some(c);
            break;
        }
    }
    let c = resolved.expect("resolves once the window is clean");
    assert_eq!(
        events(&c),
        vec![("oncall".to_owned(), NotifyEvent::Resolved)]
    );
}

#[tokio::test(start_paused = true)]
async fn no_resolve_notification_when_asked_not_to() {
    let mut r = rule("down");
    r.notify_resolved = false;
    let mut d = Drive::new(vec![r], monday());
    assert_eq!(d.step(MIN, false).await.unwrap().notify.len(), 2);
    let c = d.step(MIN, true).await.unwrap();
    assert_eq!(c.alert.state, AlertState::Resolved);
    assert!(c.notify.is_empty());
}

fn saturday_mute() -> MaintenanceConfig {
    toml::from_str::<MaintenanceConfig>("when = [\"Sat\"]\ntimezone = \"Europe/Berlin\"").unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_mute_window_holds_notifications_back_and_announces_after() {
    let mut r = rule("down");
    r.mute = vec![saturday_mute()];
    // Saturday 23:40 in Berlin (UTC+1) is 22:40 UTC.
    let start = Utc.with_ymd_and_hms(2026, 11, 28, 22, 40, 0).unwrap();
    let mut d = Drive::new(vec![r], start);
    let c = d.step(MIN, false).await.unwrap();
    assert_eq!(c.alert.state, AlertState::Firing);
    assert!(c.alert.muted);
    assert!(c.notify.is_empty(), "muted: {c:?}");
    let c = d.step(10 * MIN, false).await.unwrap();
    assert!(c.notify.is_empty());
    // 23:01 UTC is Sunday 00:01 in Berlin: the window closed, the alert is announced.
    let c = d.step(10 * MIN, false).await.unwrap();
    assert_eq!(c.transition, Transition::Announced);
    assert!(!c.alert.muted);
    assert_eq!(c.notify.len(), 2);
    assert!(c.notify.iter().all(|n| n.event == NotifyEvent::Firing));
    let c = d.step(MIN, true).await.unwrap();
    assert_eq!(
        c.notify.len(),
        2,
        "its firing was announced, so is its resolve"
    );
}

#[tokio::test(start_paused = true)]
async fn an_alert_that_resolves_inside_its_mute_is_never_announced() {
    let mut r = rule("down");
    r.mute = vec![saturday_mute()];
    let start = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
    let mut d = Drive::new(vec![r], start);
    assert!(d.step(MIN, false).await.unwrap().notify.is_empty());
    let c = d.step(MIN, true).await.unwrap();
    assert_eq!(c.alert.state, AlertState::Resolved);
    assert!(c.notify.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_silence_from_the_dashboard_mutes_until_it_ends() {
    let mut d = Drive::new(vec![rule("down")], monday());
    assert_eq!(d.step(MIN, false).await.unwrap().notify.len(), 2);
    let mut open: Vec<AlertRecord> = d.engine.open_alerts().into_iter().cloned().collect();
    // Someone silenced it for an hour (in the ledger); a restart reads it back.
    open[0].silenced_until = Some(d.clock.now() + chrono::Duration::hours(1));
    open[0].notified_at = None;
    let mut e = AlertEngine::new(vec![rule("down")]);
    assert!(e.restore(open, d.clock.now()).is_empty());
    d.engine = e;
    let c = d.step(10 * MIN, false).await.unwrap();
    assert!(c.alert.muted && c.notify.is_empty());
    let c = d.step(60 * MIN, false).await.unwrap();
    assert_eq!(c.transition, Transition::Announced);
    assert_eq!(c.notify.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_restart_takes_over_open_alerts_without_notifying_again() {
    let mut d = Drive::new(vec![rule("down")], monday());
    let fired = d.step(MIN, false).await.unwrap();
    assert_eq!(fired.notify.len(), 2);
    let open: Vec<AlertRecord> = d.engine.open_alerts().into_iter().cloned().collect();
    // A new process with the same rules and one it no longer has.
    let mut stale = open[0].clone();
    stale.fingerprint = fingerprint("gone", "prod");
    stale.rule = "gone".into();
    let mut e = AlertEngine::new(vec![rule("down")]);
    let closed = e.restore(vec![open[0].clone(), stale], d.clock.now());
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].alert.rule, "gone");
    assert_eq!(closed[0].alert.state, AlertState::Resolved);
    d.engine = e;
    for _ in 0..5 {
        let c = d.step(MIN, false).await.unwrap();
        assert_eq!(c.alert.id, 7, "the stored instance, not a new one");
        assert!(c.notify.is_empty(), "deduplicated: {c:?}");
    }
    let c = d.step(MIN, true).await.unwrap();
    assert_eq!(c.notify.len(), 2);
    // The resolve's keys belong to the same instance as the firing's.
    let prefix = format!(
        "{}:{}:",
        fired.alert.fingerprint,
        fired.alert.started_at.timestamp_micros()
    );
    assert!(c.notify.iter().all(|n| n.dedup_key.starts_with(&prefix)));
}

#[tokio::test(start_paused = true)]
async fn nothing_to_judge_changes_nothing() {
    let mut d = Drive::new(vec![rule("down")], monday());
    d.step(MIN, false).await.unwrap();
    // No run for an hour: the window is empty, the alert stays as it was.
    tokio::time::sleep(60 * MIN).await;
    assert!(d.engine.evaluate("prod", d.clock.now()).is_empty());
    assert_eq!(d.engine.open_alerts().len(), 1);
    assert!(d.engine.evaluate("staging", d.clock.now()).is_empty());
}

#[tokio::test(start_paused = true)]
async fn token_expiry_and_named_checks_are_judged() {
    let mut d = Drive::new(
        vec![rule("token_expiry < 5m"), {
            let mut r = rule("failing(http.health)");
            r.name = "health".into();
            r
        }],
        monday(),
    );
    tokio::time::sleep(MIN).await;
    let now = d.clock.now();
    let mut o = run(now, true);
    o.token_expiry_secs = Some(240.0);
    d.engine.observe(&o);
    let c = d.engine.evaluate("prod", now);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].alert.rule, "api-down");
    assert_eq!(c[0].alert.state, AlertState::Firing);
    let m = c[0].alert.message.as_deref().unwrap();
    assert!(m.contains("token_expiry is 4m"), "{m}");
    d.engine.stored(&c[0].alert.fingerprint, 1);
    tokio::time::sleep(MIN).await;
    let now = d.clock.now();
    d.engine.observe(&run(now, false));
    let c = d.engine.evaluate("prod", now);
    let health = c.iter().find(|c| c.alert.rule == "health").unwrap();
    assert_eq!(health.alert.state, AlertState::Firing);
    assert!(
        health
            .alert
            .message
            .as_deref()
            .unwrap()
            .starts_with("check `http.health` is failing")
    );
}

#[test]
fn history_is_bounded_by_the_longest_window() {
    let mut h = History::new(&[rule("down")]);
    let t = monday();
    for i in 0..100 {
        h.push(run(t + chrono::Duration::minutes(i), true));
    }
    // Late arrival lands in order.
    h.push(run(t + chrono::Duration::seconds(95 * 60 + 30), false));
    let runs = h.runs("prod");
    assert_eq!(
        runs.len(),
        11,
        "ten minutes of one-minute runs, plus the late one"
    );
    assert!(runs.windows(2).all(|w| w[0].at <= w[1].at));
    h.push(Outcome {
        environment: "unwatched".into(),
        ..run(t, true)
    });
    assert!(h.runs("unwatched").is_empty());
}

#[test]
fn fingerprints_are_stable_and_distinct() {
    assert_eq!(fingerprint("a", "prod"), fingerprint("a", "prod"));
    assert_ne!(fingerprint("a", "prod"), fingerprint("a", "staging"));
    assert_ne!(fingerprint("ab", "c"), fingerprint("a", "bc"));
    assert_eq!(fingerprint("a", "prod").len(), 16);
}

fn traffic_rule() -> Rule {
    let mut r = rule("down");
    r.name = "auth-denied".into();
    r.when = When::Traffic {
        source: SourceKind::Metrics,
        condition: "auth-denied".into(),
        describe: "increase of a / increase of b: at most 0.1".into(),
    };
    r.failure_threshold = 2;
    r
}

fn reading(verdict: Verdict, value: Option<f64>, error: bool) -> Evaluation {
    Evaluation {
        condition: "auth-denied".into(),
        source: SourceKind::Metrics,
        verdict,
        value,
        baseline: None,
        error,
        message: match value {
            Some(v) => format!("auth-denied = {v}"),
            None => "nothing to judge".into(),
        },
    }
}

#[test]
fn a_traffic_rule_fires_on_failed_readings_and_an_inconclusive_one_changes_nothing() {
    let now = monday();
    let at = |m: i64| now + chrono::Duration::minutes(m);
    let mut e = AlertEngine::new(vec![traffic_rule(), rule("down")]);
    let mut step = |m: i64, r: Option<Evaluation>, ok: bool| {
        e.observe(&run(at(m), ok));
        if let Some(r) = r {
            e.observe_readings("prod", vec![r]);
        }
        e.evaluate("prod", at(m))
            .into_iter()
            .filter(|c| c.alert.rule == "auth-denied")
            .collect::<Vec<_>>()
    };
    // Passing: nothing.
    assert!(step(1, Some(reading(Verdict::Pass, Some(0.01), false)), true).is_empty());
    // A failed reading opens it (threshold 2), while the probe passes.
    let c = step(2, Some(reading(Verdict::Fail, Some(0.3), false)), true);
    assert_eq!(c[0].transition, Transition::Opened);
    assert_eq!(c[0].alert.last_value, Some(0.3));
    assert!(
        c[0].alert
            .condition
            .starts_with("metrics condition `auth-denied`: increase of a"),
        "{}",
        c[0].alert.condition
    );
    // Empty, an error, and a run with no reading at all: no change.
    assert!(step(3, Some(reading(Verdict::Inconclusive, None, false)), true).is_empty());
    assert!(step(4, Some(reading(Verdict::Inconclusive, None, true)), true).is_empty());
    assert!(step(5, None, true).is_empty());
    // The reading is judged once: the next evaluation without one is no change.
    let c = step(6, Some(reading(Verdict::Fail, Some(0.31), false)), true);
    assert_eq!(c[0].transition, Transition::Fired);
    assert_eq!(c[0].alert.state, AlertState::Firing);
    assert_eq!(c[0].notify.len(), 2);
    assert!(
        c[0].alert
            .message
            .as_deref()
            .unwrap()
            .contains("auth-denied = 0.31"),
        "{:?}",
        c[0].alert.message
    );
    assert!(step(7, None, true).is_empty());
    assert!(step(8, Some(reading(Verdict::Inconclusive, None, true)), true).is_empty());
    // A passing reading resolves it.
    let c = step(9, Some(reading(Verdict::Pass, Some(0.0), false)), true);
    assert_eq!(c[0].transition, Transition::Resolved);
    assert_eq!(
        c[0].notify.iter().map(|n| n.event).collect::<Vec<_>>(),
        vec![NotifyEvent::Resolved, NotifyEvent::Resolved]
    );
}

#[test]
fn traffic_sources_read_only_the_named_conditions_with_their_settings_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let text = |prom_url: &str| {
        format!(
            r#"[environments.prod]
url = "http://127.0.0.1:9/mcp"
[environments.prod.monitor]
interval = "30s"

[environments.prod.analysis.prometheus]
url = "{prom_url}"
token_file = "prom-token"

[[environments.prod.analysis.conditions]]
name = "errors"
query = "sum(x)"
max = 0.05

[[environments.prod.analysis.conditions]]
name = "unused"
query = "sum(y)"
max = 1

[[alerts]]
name = "errors"
environment = "prod"
source = "prometheus"
condition = "errors"
"#
        )
    };
    let path = dir.path().join("runway.toml");
    let rules_of = |loaded: &runway_config::Loaded| -> Vec<Rule> {
        loaded
            .config
            .alerts
            .iter()
            .map(|a| {
                Rule::from_config_with(a, &[], loaded.config.environments["prod"].analysis.as_ref())
            })
            .collect()
    };
    std::fs::write(&path, text("http://127.0.0.1:9090")).unwrap();
    let loaded = runway_config::Config::load(&path).unwrap();
    let rules = rules_of(&loaded);
    assert!(
        matches!(&rules[0].when, When::Traffic { describe, .. } if describe == "sum(x): at most 0.05"),
        "{:?}",
        rules[0].when
    );
    // The token file is relative to runway.toml, and read at start.
    let e = traffic_sources(&loaded, &rules, &BTreeMap::new(), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("token_file") && e.contains("`prod`"), "{e}");
    std::fs::write(dir.path().join("prom-token"), "t0k\n").unwrap();
    let s = traffic_sources(&loaded, &rules, &BTreeMap::new(), None).unwrap();
    let names: Vec<&str> = s["prod"]
        .conditions
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, vec!["errors"], "only the conditions a rule names");
    // An unset variable in the URL names the setting.
    std::fs::write(&path, text("${RUNWAY_TEST_UNSET_PROM_URL_3f1}")).unwrap();
    let loaded = runway_config::Config::load(&path).unwrap();
    let e = traffic_sources(&loaded, &rules_of(&loaded), &BTreeMap::new(), None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`environments.prod.analysis.prometheus.url`")
            && e.contains("RUNWAY_TEST_UNSET_PROM_URL_3f1"),
        "{e}"
    );
}

#[tokio::test(start_paused = true)]
async fn ticks_send_reminders_on_their_cadence_between_runs_without_judging() {
    let mut r = rule("down");
    r.reminder = Some(Duration::from_secs(30 * 60));
    r.notify = vec!["oncall".into()];
    // Runs every 2 hours: the reminders come from the ticks between them.
    let mut d = Drive::new(vec![r], monday());
    let fired = d.step(MIN, false).await.unwrap();
    assert_eq!(fired.transition, Transition::Fired);
    let fired_at = d.clock.now();
    let mut sent = Vec::new();
    for _ in 0..(100 / 5) {
        tokio::time::sleep(5 * MIN).await;
        for c in d.engine.tick(d.clock.now()) {
            assert_eq!(c.transition, Transition::Reminded);
            assert_eq!(
                (c.alert.hits, c.alert.clears),
                (1, 0),
                "ticks judge nothing"
            );
            for n in &c.notify {
                sent.push((n.event, n.dedup_key.clone(), c.alert.notified_at.unwrap()));
            }
        }
    }
    // 100 minutes after firing: reminders at 30, 60 and 90, on the cadence
    // (each at the tick after it fell due, recorded at its slot).
    let slots: Vec<i64> = sent
        .iter()
        .map(|s| (s.2 - fired_at).num_minutes())
        .collect();
    assert_eq!(slots, vec![30, 60, 90]);
    assert!(sent.iter().all(|s| s.0 == NotifyEvent::Reminder));
    // The key is the slot: a second worker ticking at another moment of the
    // same period queues the same key (a no-op in the outbox).
    let a = d.engine.open_alerts()[0].clone();
    let mut other = AlertEngine::new(d.engine.rules().to_vec());
    let mut before = a.clone();
    before.notified_at = Some(fired_at + chrono::Duration::minutes(60));
    other.adopt(before);
    let late = other.tick(fired_at + chrono::Duration::minutes(97));
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].notify[0].dedup_key, sent[2].1);
    // Nothing more is due until the next slot.
    assert!(d.engine.tick(d.clock.now()).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_tick_announces_a_firing_alert_when_its_mute_ends() {
    let mut r = rule("down");
    r.mute = vec![saturday_mute()];
    // Saturday 23:40 in Berlin (22:40 UTC): fires muted.
    let start = Utc.with_ymd_and_hms(2026, 11, 28, 22, 40, 0).unwrap();
    let mut d = Drive::new(vec![r], start);
    let c = d.step(MIN, false).await.unwrap();
    assert_eq!(c.alert.state, AlertState::Firing);
    assert!(c.notify.is_empty());
    // Still Saturday: a tick sends nothing.
    tokio::time::sleep(10 * MIN).await;
    assert!(d.engine.tick(d.clock.now()).is_empty());
    // Past midnight in Berlin, with no run since: the tick announces it.
    tokio::time::sleep(15 * MIN).await;
    let t = d.engine.tick(d.clock.now());
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(t[0].transition, Transition::Announced);
    assert!(!t[0].alert.muted);
    assert_eq!(
        events(&t[0]),
        vec![
            ("oncall".to_owned(), NotifyEvent::Firing),
            ("slack".to_owned(), NotifyEvent::Firing)
        ]
    );
    // Once.
    tokio::time::sleep(MIN).await;
    assert!(d.engine.tick(d.clock.now()).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_tick_leaves_pending_and_muted_alerts_alone() {
    let mut r = rule("down");
    r.failure_threshold = 3;
    let mut d = Drive::new(vec![r], monday());
    let c = d.step(MIN, false).await.unwrap();
    assert_eq!(c.alert.state, AlertState::Pending);
    for _ in 0..10 {
        tokio::time::sleep(MIN).await;
        assert!(d.engine.tick(d.clock.now()).is_empty());
    }
    assert_eq!(
        d.engine.open_alerts()[0].hits,
        1,
        "ticks are not evaluations"
    );
    // The next two runs fire it, as if no tick had happened.
    assert_eq!(
        d.step(MIN, false).await.unwrap().alert.state,
        AlertState::Pending
    );
    assert_eq!(
        d.step(MIN, false).await.unwrap().transition,
        Transition::Fired
    );
}
