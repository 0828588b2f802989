//! `Notifier::announce` (`runway release announce`) against a webhook
//! receiver on 127.0.0.1: a webhook gets Runway's release JSON with the
//! notifier's headers, Slack a `text`, and a refusal comes back as an error
//! that names the status and never the URL.

use std::sync::{Arc, Mutex};

use axum::{Router, extract::State, http::StatusCode, routing::post};
use runway_config::monitor::NotifierConfig;
use runway_monitor::{Notifier, notify::Announcement};

type Seen = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

async fn receiver(status: StatusCode) -> (Seen, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route(
            "/hook/{secret}",
            post(
                |State((seen, status)): State<(Seen, StatusCode)>,
                 headers: axum::http::HeaderMap,
                 body: axum::Json<serde_json::Value>| async move {
                    let key = headers
                        .get("x-hook-key")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    seen.lock().unwrap().push((key, body.0));
                    (status, "receiver says no")
                },
            ),
        )
        .with_state((seen.clone(), status));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (seen, format!("http://{addr}/hook/s3cret-path-77"))
}

fn notifier(kind: &str, url: &str) -> Notifier {
    let c: NotifierConfig = toml::from_str(&format!(
        "type = \"{kind}\"\nurl = \"{url}\"\nheaders = {{ x-hook-key = \"${{HOOK_KEY}}\" }}\n"
    ))
    .unwrap();
    Notifier::from_config("team", &c, |k| {
        (k == "HOOK_KEY").then(|| "key-4411".to_owned())
    })
    .unwrap()
}

const NOTES: &str = "### Features\n\n- **api:** streaming results (abc1234)\n";

fn announcement() -> Announcement<'static> {
    Announcement {
        project: Some("demo"),
        version: "1.2.0",
        tag: "v1.2.0",
        notes: NOTES,
    }
}

#[tokio::test]
async fn a_webhook_gets_the_release_json_and_slack_a_text() {
    let (seen, url) = receiver(StatusCode::OK).await;
    let client = runway_monitor::notify::client();
    let now = chrono::Utc::now();
    notifier("webhook", &url)
        .announce(&client, &announcement(), now)
        .await
        .unwrap();
    notifier("slack", &url)
        .announce(&client, &announcement(), now)
        .await
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    let (key, hook) = &seen[0];
    assert_eq!(key, "key-4411");
    assert_eq!(hook["event"], "release");
    assert_eq!(hook["project"], "demo");
    assert_eq!(hook["version"], "1.2.0");
    assert_eq!(hook["tag"], "v1.2.0");
    assert_eq!(hook["title"], "demo v1.2.0 released");
    assert_eq!(hook["notes"], NOTES);
    assert_eq!(hook["notifier"], "team");
    assert_eq!(
        seen[1].1["text"],
        format!(":rocket: *demo v1.2.0 released*\n\n{}", NOTES.trim_end())
    );
}

#[tokio::test]
async fn a_refusal_names_the_status_and_never_the_url() {
    let (seen, url) = receiver(StatusCode::INTERNAL_SERVER_ERROR).await;
    let e = notifier("webhook", &url)
        .announce(
            &runway_monitor::notify::client(),
            &announcement(),
            chrono::Utc::now(),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("webhook answered HTTP 500: receiver says no"),
        "{e}"
    );
    assert!(!e.contains("s3cret-path-77"), "{e}");
    assert_eq!(seen.lock().unwrap().len(), 1);
    // Nothing listens: the error names no URL either.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let e = notifier(
        "webhook",
        &format!("http://127.0.0.1:{closed}/hook/s3cret-path-77"),
    )
    .announce(
        &runway_monitor::notify::client(),
        &announcement(),
        chrono::Utc::now(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(!e.contains("s3cret-path-77"), "{e}");
    assert!(!e.contains("127.0.0.1"), "{e}");
}
