//! The pages of many environments: above `COMPACT_ABOVE` the dashboard and
//! the status page list each environment on one row and give the full
//! section only to those not up; each environment has its own page.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{Duration, Utc};
use http_body_util::BodyExt;
use runway_ledger::{Deployment, Ledger, LedgerUrl, MonitorResult};
use runway_web::{Web, html::COMPACT_ABOVE};
use tower::ServiceExt;

const N: usize = 120;
const _: () = assert!(N > COMPACT_ABOVE);
const ODD: &str = "eu \"west\"/<b>";

fn name(i: usize) -> String {
    if i == 5 {
        ODD.to_owned()
    } else {
        format!("env-{i:03}")
    }
}

async fn get(web: &Arc<Web>, path: &str) -> (StatusCode, String) {
    let res = runway_web::app(web.clone())
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn many_environments_get_a_row_each_and_full_sections_only_when_not_up() {
    let dir = tempfile::tempdir().unwrap();
    let url = LedgerUrl::parse(
        &format!("sqlite://{}", dir.path().join("ledger.db").display()),
        dir.path(),
    )
    .unwrap();
    let ledger: Arc<dyn Ledger> = Arc::from(runway_ledger::open(&url).await.unwrap());
    let now = Utc::now();
    // Every environment ran three times in the last 20 minutes (once this
    // hour, whatever the time); env-007 is down now,
    // env-008 never ran; env-009 was deployed.
    for i in (0..N).filter(|&i| i != 8) {
        for (ago, ok) in [(20, true), (2, i != 7), (0, i != 7)] {
            let ok_status = if ok { "up" } else { "down" };
            let r = MonitorResult {
                environment: name(i),
                at: now - Duration::minutes(ago),
                ok,
                status: ok_status.into(),
                reason: (!ok).then(|| "connect".to_owned()),
                check_id: (!ok).then(|| "http.health".to_owned()),
                message: (!ok).then(|| "connection refused".to_owned()),
                latency_ms: 10.0 + i as f64,
                location: None,
            };
            ledger.record_monitor_result(&r).await.unwrap();
        }
    }
    let mut d = Deployment::new("env-009", "2.3.4");
    d.started_at = now - Duration::hours(1);
    ledger.record_deployment(&d).await.unwrap();
    let web = Web::new(ledger.clone(), (0..N).map(name).collect());
    web.set_ready();
    let web = Arc::new(web);

    let (status, page) = get(&web, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.matches(r#"class="env-row""#).count(), N, "{page}");
    // Full sections for the two not up only.
    assert_eq!(page.matches(r#"<section class="env""#).count(), 2);
    assert!(page.contains(r#"data-environment="env-007" data-status="down"><h2>"#));
    assert!(page.contains(r#"data-environment="env-008" data-status="unknown"><h2>"#));
    assert!(page.contains(&format!("{} of {N} up", N - 2)));
    // Each row links to the environment's page, its name escaped in the
    // text and percent-encoded in the link.
    assert!(page.contains(r#"<a href="/environments/env-042">env-042</a>"#));
    assert!(page.contains(
        r#"<a href="/environments/eu%20%22west%22%2F%3Cb%3E">eu &quot;west&quot;/&lt;b&gt;</a>"#
    ));
    assert!(!page.contains("<b>"));
    assert!(page.contains("2.3.4 (in_progress)"));
    // A row's p95 is this hour's, read from the summary (env-042 ran at 52 ms);
    // the full section of the one down has its latency chart's points.
    let row = page.split(r#"data-environment="env-042""#).nth(1).unwrap();
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains(r#"<td class="num">52 ms</td><td class="num">52 ms</td>"#),
        "{row}"
    );
    let down = page
        .split(r#"data-environment="env-007" data-status="down"><h2>"#)
        .nth(1)
        .unwrap();
    let down = &down[..down.find("</section>").unwrap()];
    assert!(down.contains("p50: 17 ms over"), "{down}");
    // A row is some 400 bytes: the page stays small whatever N is.
    assert!(page.len() < 10_000 + N * 700, "{} bytes", page.len());

    let (status, own) = get(&web, "/environments/env-042").await;
    assert_eq!(status, StatusCode::OK);
    assert!(own.contains(r#"data-environment="env-042" data-status="up"><h2>"#));
    assert!(own.contains("Latency, last 24 hours"));
    assert!(own.contains("<svg"));
    let (status, odd) = get(&web, "/environments/eu%20%22west%22%2F%3Cb%3E").await;
    assert_eq!(status, StatusCode::OK, "{odd}");
    assert!(odd.contains("eu &quot;west&quot;/&lt;b&gt;"));
    let (status, _) = get(&web, "/environments/env-999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The public status page: rows without links or run details.
    let (status, public) = get(&web, "/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(public.matches(r#"class="env-row""#).count(), N);
    assert_eq!(public.matches(r#"<section class="env""#).count(), 2);
    assert!(!public.contains("/environments/"));
    assert!(!public.contains("connection refused"));
    assert!(public.contains("Some systems are down"));
}
