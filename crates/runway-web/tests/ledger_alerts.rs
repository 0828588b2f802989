//! The dashboard, API and `/metrics` over the alert state the ledger holds
//! (migration 0004) through `LedgerAlerts`: an open alert with its value,
//! a notifier with a queued notification, and the acknowledge and silence
//! writes landing in the ledger.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, Utc};
use http_body_util::BodyExt;
use runway_ledger::{AlertRecord, AlertState, Ledger, LedgerUrl, NewNotification, NotifyEvent};
use runway_web::{LedgerAlerts, Web};
use tower::ServiceExt;

const TOKEN: &str = "ledger-alerts-token-93";

async fn send(web: &Arc<Web>, req: Request<Body>) -> (StatusCode, String) {
    let res = runway_web::app(web.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let b = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&b).into_owned())
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

fn post(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn open_alerts_and_notifiers_come_from_the_ledger_and_writes_go_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = LedgerUrl::parse(
        &format!("sqlite://{}", dir.path().join("l.db").display()),
        dir.path(),
    )
    .unwrap();
    let ledger: Arc<dyn Ledger> = Arc::from(runway_ledger::open(&url).await.unwrap());
    let now = Utc::now();
    let firing = AlertRecord {
        id: 0,
        fingerprint: "error-rate@production".into(),
        rule: "error-rate".into(),
        environment: "production".into(),
        level: "critical".into(),
        state: AlertState::Firing,
        condition: "error_rate > 0.05".into(),
        started_at: now - Duration::minutes(3),
        fired_at: Some(now - Duration::minutes(2)),
        resolved_at: None,
        evaluated_at: now,
        last_value: Some(0.25),
        hits: 2,
        clears: 0,
        notified_at: Some(now - Duration::minutes(2)),
        muted: false,
        message: Some("connect: nothing listens".into()),
        acknowledged_by: None,
        acknowledged_at: None,
        silenced_until: None,
    };
    let id = ledger
        .save_alert(
            &firing,
            &[NewNotification {
                notifier: "oncall".into(),
                event: NotifyEvent::Firing,
                dedup_key: "k1".into(),
                payload: serde_json::json!({ "alert": "error-rate" }),
            }],
        )
        .await
        .unwrap();
    let kinds = [
        ("oncall".to_owned(), "webhook".to_owned()),
        ("am".to_owned(), "alertmanager".to_owned()),
    ]
    .into_iter()
    .collect();
    let web = Web::new(ledger.clone(), vec!["production".into()])
        .with_alerts(Arc::new(LedgerAlerts::new(ledger.clone(), kinds)))
        .with_token(Some(TOKEN.into()));
    let web = Arc::new(web);

    let (s, body) = send(&web, get("/api/status")).await;
    assert_eq!(s, StatusCode::OK);
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    let open = &j["environments"][0]["open_alerts"];
    assert_eq!(open[0]["id"], id.to_string(), "{j}");
    assert_eq!(open[0]["name"], "error-rate");
    assert_eq!(open[0]["state"], "firing");
    assert_eq!(open[0]["value"], "error_rate > 0.05 (value 0.25)");

    let (_, body) = send(&web, get("/api/notifiers")).await;
    let n: serde_json::Value = serde_json::from_str(&body).unwrap();
    let names: Vec<(&str, &str, u64)> = n["notifiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["name"].as_str().unwrap(),
                x["kind"].as_str().unwrap(),
                x["pending"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![("am", "alertmanager", 0), ("oncall", "webhook", 1)]
    );

    let (_, m) = send(&web, get("/metrics")).await;
    assert!(m.contains(r#"runway_alerts_open{environment="production",alert="error-rate",level="critical",state="firing"} 1"#), "{m}");
    assert!(
        m.contains(r#"runway_notifier_pending{notifier="oncall",type="webhook"} 1"#),
        "{m}"
    );

    let (s, body) = send(
        &web,
        post(
            &format!("/api/alerts/{id}/acknowledge"),
            r#"{"by":"alice"}"#,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        ledger.alert(id).await.unwrap().acknowledged_by.as_deref(),
        Some("alice")
    );
    let (s, _) = send(
        &web,
        post(&format!("/api/alerts/{id}/silence"), r#"{"for":"1h"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let until = ledger.alert(id).await.unwrap().silenced_until.unwrap();
    assert!(until > now + Duration::minutes(59));
    let dash = send(&web, get("/")).await.1;
    assert!(dash.contains("acknowledged by alice"));
    assert!(dash.contains("silenced until"));

    for bad in ["nope", "999999"] {
        let (s, _) = send(&web, post(&format!("/api/alerts/{bad}/acknowledge"), "")).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{bad}");
    }
    // A resolved alert can no longer be acknowledged.
    let mut done = ledger.alert(id).await.unwrap();
    done.state = AlertState::Resolved;
    done.resolved_at = Some(Utc::now());
    ledger.save_alert(&done, &[]).await.unwrap();
    let (s, _) = send(&web, post(&format!("/api/alerts/{id}/acknowledge"), "")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(send(&web, get("/api/alerts")).await.1, r#"{"alerts":[]}"#);
}
