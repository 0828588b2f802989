//! A check turned off sends nothing: `runway monitor`'s health suite with
//! `livez`, `readyz` and `metrics` off is one request a run, not four.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use runway_core::Status;
use runway_verify::{Context, Suite, Transport, engine};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server on 127.0.0.1 that answers every request with a healthy JSON
/// body and records each request's path (a bounded number of connections).
async fn recording_server() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        for _ in 0..100 {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let mut buf = vec![0u8; 8192];
            let mut len = 0;
            while len < buf.len() && !buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                match tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf[len..])).await
                {
                    Ok(Ok(n)) if n > 0 => len += n,
                    _ => break,
                }
            }
            let head = String::from_utf8_lossy(&buf[..len]);
            // A connection that sends no request (a reachability probe) is not one.
            let Some(path) = head.split_whitespace().nth(1) else {
                continue;
            };
            log.lock().unwrap().push(path.to_owned());
            let body = r#"{"status":"ok"}"#;
            let res = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(res.as_bytes()).await;
        }
    });
    (format!("http://{addr}/mcp"), seen)
}

fn health_only(url: &str, off: &[&str]) -> Context {
    let mut c = Context::new(
        Transport::Http {
            url: url::Url::parse(url).unwrap(),
        },
        None,
        Suite::Smoke,
    );
    c.limits.timeout = Duration::from_secs(5);
    c.toggles.disabled = ["mcp", "auth", "tls"]
        .iter()
        .chain(off)
        .map(|s| s.to_string())
        .collect();
    c
}

#[tokio::test]
async fn a_check_turned_off_sends_no_request() {
    let (url, seen) = recording_server().await;
    let off = ["http.livez", "http.readyz", "http.metrics"];
    let r = engine::run(&health_only(&url, &off)).await;
    assert_eq!(
        r.check("http.health").unwrap().status,
        Status::Pass,
        "{r:#?}"
    );
    assert!(r.check("http.metrics").is_none());
    assert_eq!(*seen.lock().unwrap(), ["/health"]);

    // On again, each is asked for.
    seen.lock().unwrap().clear();
    let r = engine::run(&health_only(&url, &[])).await;
    assert!(r.check("http.livez").is_some(), "{r:#?}");
    let mut paths = seen.lock().unwrap().clone();
    paths.sort();
    assert_eq!(paths, ["/health", "/livez", "/metrics", "/readyz"]);
}
