//! Alert state and the notification outbox on both backends: one open
//! instance per fingerprint, notifications queued with the state change and
//! deduplicated, delivery attempts and notifier health, retention, redaction.

use chrono::{DateTime, Duration, TimeZone, Utc};
use runway_core::{Redactor, Secret};
use runway_ledger::{
    AlertPruneStats, AlertRecord, AlertState, Delivery, LedgerError, NewNotification, NotifyEvent,
};

#[macro_use]
mod support;
use support::Fresh;

both_backends!(
    an_alert_moves_through_its_states_and_reads_back,
    one_open_instance_per_fingerprint,
    notifications_are_queued_once_and_retried_until_sent,
    acknowledge_silence_and_retention,
    secrets_never_reach_the_alert_tables,
);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap()
}

fn pending(rule: &str, at: DateTime<Utc>) -> AlertRecord {
    AlertRecord {
        id: 0,
        fingerprint: format!("{rule}@prod"),
        rule: rule.into(),
        environment: "prod".into(),
        level: "critical".into(),
        state: AlertState::Pending,
        condition: "error_rate > 0.05".into(),
        started_at: at,
        fired_at: None,
        resolved_at: None,
        evaluated_at: at,
        last_value: Some(0.5),
        hits: 1,
        clears: 0,
        notified_at: None,
        muted: false,
        message: Some("connect: nothing listens".into()),
        acknowledged_by: None,
        acknowledged_at: None,
        silenced_until: None,
    }
}

fn note(notifier: &str, event: NotifyEvent, key: &str) -> NewNotification {
    NewNotification {
        notifier: notifier.into(),
        event,
        dedup_key: key.into(),
        payload: serde_json::json!({ "alert": "error-rate", "event": event.as_str() }),
    }
}

async fn an_alert_moves_through_its_states_and_reads_back(f: &Fresh) {
    let l = f.open().await;
    let mut a = pending("error-rate", t0());
    a.id = l.save_alert(&a, &[]).await.unwrap();
    assert!(a.id > 0);
    assert_eq!(l.open_alerts().await.unwrap(), vec![a.clone()]);
    a.state = AlertState::Firing;
    a.hits = 2;
    a.fired_at = Some(t0() + Duration::minutes(1));
    a.notified_at = a.fired_at;
    a.evaluated_at = t0() + Duration::minutes(1);
    assert_eq!(
        l.save_alert(&a, &[note("oncall", NotifyEvent::Firing, "k1")])
            .await
            .unwrap(),
        a.id
    );
    assert_eq!(l.alert(a.id).await.unwrap(), a);
    a.state = AlertState::Resolved;
    a.resolved_at = Some(t0() + Duration::minutes(5));
    a.clears = 1;
    l.save_alert(&a, &[note("oncall", NotifyEvent::Resolved, "k2")])
        .await
        .unwrap();
    assert!(l.open_alerts().await.unwrap().is_empty());
    let since = l.alerts_since(t0()).await.unwrap();
    assert_eq!(since, vec![a.clone()]);
    assert!(
        l.alerts_since(t0() + Duration::hours(1))
            .await
            .unwrap()
            .is_empty()
    );
    let queued = l.notifications_of(a.id).await.unwrap();
    let events: Vec<NotifyEvent> = queued.iter().map(|n| n.event).collect();
    assert_eq!(events, vec![NotifyEvent::Firing, NotifyEvent::Resolved]);
    assert_eq!(queued[0].payload["alert"], "error-rate");
    // An update of an id that does not exist is an error, not an insert.
    let mut ghost = a.clone();
    ghost.id = 999_999;
    assert!(matches!(
        l.save_alert(&ghost, &[]).await,
        Err(LedgerError::NotFound { .. })
    ));
    assert!(matches!(
        l.alert(999_999).await,
        Err(LedgerError::NotFound { .. })
    ));
    l.close().await;
}

async fn one_open_instance_per_fingerprint(f: &Fresh) {
    let l = f.open().await;
    let a = pending("down", t0());
    let first = l.save_alert(&a, &[]).await.unwrap();
    // A second monitor (or a restarted one that forgot) cannot open a duplicate.
    let e = l.save_alert(&a, &[]).await.unwrap_err();
    assert!(matches!(e, LedgerError::Duplicate { .. }), "{e}");
    // Once resolved, the next incident of the same rule opens a new instance.
    let mut closed = l.alert(first).await.unwrap();
    closed.state = AlertState::Resolved;
    closed.resolved_at = Some(t0() + Duration::minutes(2));
    l.save_alert(&closed, &[]).await.unwrap();
    let second = l
        .save_alert(&pending("down", t0() + Duration::minutes(3)), &[])
        .await
        .unwrap();
    assert_ne!(first, second);
    assert_eq!(l.open_alerts().await.unwrap().len(), 1);
    l.close().await;
}

async fn notifications_are_queued_once_and_retried_until_sent(f: &Fresh) {
    let l = f.open().await;
    let a = pending("error-rate", t0());
    let id = l
        .save_alert(
            &a,
            &[
                note("oncall", NotifyEvent::Firing, "1:oncall:firing"),
                note("slack", NotifyEvent::Firing, "1:slack:firing"),
            ],
        )
        .await
        .unwrap();
    let mut again = l.alert(id).await.unwrap();
    again.hits = 2;
    // The same key again (a retried evaluation) queues nothing new.
    l.save_alert(
        &again,
        &[note("oncall", NotifyEvent::Firing, "1:oncall:firing")],
    )
    .await
    .unwrap();
    // The ledger keeps microseconds.
    let now = DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap();
    let due = l.due_notifications(now, 100).await.unwrap();
    assert_eq!(due.len(), 2);
    assert_eq!(l.due_notifications(now, 1).await.unwrap().len(), 1);
    let states = l.notifier_states().await.unwrap();
    assert_eq!(
        states
            .iter()
            .map(|s| (s.notifier.as_str(), s.pending))
            .collect::<Vec<_>>(),
        vec![("oncall", 1), ("slack", 1)]
    );
    assert!(states.iter().all(|s| s.attempts == 0 && !s.is_failing()));

    // The webhook is down: the failure is recorded, the notification waits.
    let oncall = due.iter().find(|n| n.notifier == "oncall").unwrap();
    let retry_at = now + Duration::seconds(30);
    l.record_delivery(
        oncall.id,
        "oncall",
        &Delivery::Failed {
            at: now,
            error: "could not connect: nothing listens on 127.0.0.1:9".into(),
            retry_at,
        },
    )
    .await
    .unwrap();
    let due_now = l.due_notifications(now, 100).await.unwrap();
    assert_eq!(due_now.len(), 1, "the failed one waits for its retry time");
    let later = l.due_notifications(retry_at, 100).await.unwrap();
    let retried = later.iter().find(|n| n.id == oncall.id).unwrap();
    assert_eq!(retried.attempts, 1);
    assert!(
        retried
            .last_error
            .as_deref()
            .unwrap()
            .contains("nothing listens")
    );
    let s = l.notifier_states().await.unwrap();
    let o = s.iter().find(|s| s.notifier == "oncall").unwrap();
    assert!(o.is_failing());
    assert_eq!((o.pending, o.attempts, o.failures, o.sent), (1, 1, 1, 0));
    assert!(o.last_error.as_deref().unwrap().contains("nothing listens"));

    // It comes back: sent once, and never due again.
    l.record_delivery(oncall.id, "oncall", &Delivery::Sent { at: retry_at })
        .await
        .unwrap();
    // A late duplicate "sent" for the same row changes nothing.
    l.record_delivery(oncall.id, "oncall", &Delivery::Sent { at: retry_at })
        .await
        .unwrap();
    let after = l.due_notifications(retry_at, 100).await.unwrap();
    assert!(after.iter().all(|n| n.id != oncall.id));
    let s = l.notifier_states().await.unwrap();
    let o = s.iter().find(|s| s.notifier == "oncall").unwrap();
    assert!(!o.is_failing());
    assert_eq!(o.pending, 0);
    assert_eq!(o.last_success_at, Some(retry_at));
    let row = l
        .notifications_of(id)
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.id == oncall.id)
        .unwrap();
    assert_eq!(row.sent_at, Some(retry_at));
    assert_eq!(row.attempts, 2);
    assert_eq!((o.attempts, o.sent, o.failures), (2, 1, 1));
    l.close().await;
}

async fn acknowledge_silence_and_retention(f: &Fresh) {
    let l = f.open().await;
    let mut a = pending("slow", t0());
    a.id = l
        .save_alert(&a, &[note("oncall", NotifyEvent::Firing, "s1")])
        .await
        .unwrap();
    l.acknowledge_alert(a.id, "alice").await.unwrap();
    let until = t0() + Duration::hours(2);
    l.silence_alert(a.id, Some(until)).await.unwrap();
    // The engine's next save keeps the web's acknowledgement and silence.
    a.hits = 3;
    l.save_alert(&a, &[]).await.unwrap();
    let got = l.alert(a.id).await.unwrap();
    assert_eq!(got.acknowledged_by.as_deref(), Some("alice"));
    assert!(got.acknowledged_at.is_some());
    assert_eq!(got.silenced_until, Some(until));
    assert_eq!(got.hits, 3);
    assert!(matches!(
        l.acknowledge_alert(424_242, "bob").await,
        Err(LedgerError::NotFound { .. })
    ));

    // Resolved and delivered long ago: pruned. Undelivered: kept, whatever its age.
    let mut old = got.clone();
    old.state = AlertState::Resolved;
    old.resolved_at = Some(t0() + Duration::minutes(10));
    l.save_alert(&old, &[]).await.unwrap();
    let stuck = l
        .save_alert(
            &AlertRecord {
                state: AlertState::Resolved,
                resolved_at: Some(t0()),
                ..pending("stuck", t0())
            },
            &[note("oncall", NotifyEvent::Resolved, "stuck")],
        )
        .await
        .unwrap();
    let cutoff = t0() + Duration::days(1);
    // Nothing is delivered yet: nothing can go.
    assert_eq!(
        l.prune_alerts(cutoff).await.unwrap(),
        AlertPruneStats::default()
    );
    let n = l.notifications_of(a.id).await.unwrap();
    l.record_delivery(n[0].id, "oncall", &Delivery::Sent { at: t0() })
        .await
        .unwrap();
    assert_eq!(
        l.prune_alerts(cutoff).await.unwrap(),
        AlertPruneStats {
            notifications: 1,
            alerts: 1
        }
    );
    assert!(l.alert(a.id).await.is_err());
    assert!(l.alert(stuck).await.is_ok());
    assert_eq!(l.notifications_of(stuck).await.unwrap().len(), 1);
    l.close().await;
}

async fn secrets_never_reach_the_alert_tables(f: &Fresh) {
    let mut l = f.open().await;
    let secret = "xoxb-alert-secret-5150";
    let mut r = Redactor::new();
    r.add(&Secret::new(secret));
    l.set_redactor(r);
    let mut a = pending("auth", t0());
    a.message = Some(format!("401 for Bearer {secret}"));
    let id = l
        .save_alert(
            &a,
            &[NewNotification {
                notifier: "oncall".into(),
                event: NotifyEvent::Firing,
                dedup_key: "x".into(),
                payload: serde_json::json!({ "message": format!("token {secret}") }),
            }],
        )
        .await
        .unwrap();
    let n = l.due_notifications(Utc::now(), 10).await.unwrap();
    l.record_delivery(
        n[0].id,
        "oncall",
        &Delivery::Failed {
            at: t0(),
            error: format!("POST https://hooks.example/{secret} failed"),
            retry_at: t0(),
        },
    )
    .await
    .unwrap();
    let got = l.alert(id).await.unwrap();
    let out = format!(
        "{:?} {:?} {:?}",
        got,
        l.notifications_of(id).await.unwrap(),
        l.notifier_states().await.unwrap()
    );
    assert!(!out.contains(secret), "{out}");
    assert!(got.message.unwrap().starts_with("401 for Bearer "));
    l.close().await;
}
