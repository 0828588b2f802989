//! `runway monitor` end to end: `--once` against the reference server and a
//! closed port, a bad alert rule, and SIGTERM draining the running schedule.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use runway_testkit::{Output, Test};
use std::time::{Duration, Instant};

const TOKEN: &str = "tok-monitor-8c41d2";

fn runway(dir: &Path, args: &[&str]) -> Output {
    Test::new()
        .args(args)
        .current_dir(dir)
        .env("RUNWAY_TEST_TOKEN", TOKEN)
        .env_remove("RUNWAY_LEDGER_URL")
        .run()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn config(mcp_url: &str, dead_port: u16) -> String {
    format!(
        r#"
[environments.production]
url = "{mcp_url}"
token_env = "RUNWAY_TEST_TOKEN"
[environments.production.monitor]
interval = "2s"
jitter = "0s"
suite = "smoke"

[environments.gone]
url = "http://127.0.0.1:{dead_port}/mcp"
[environments.gone.monitor]
interval = "1m"

[[alerts]]
name = "down"
environment = "production"
when = "down"
notify = ["hook"]

[notifiers.hook]
type = "webhook"
url = "http://127.0.0.1:9/hook"
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn once_reports_each_environment_with_its_status_and_reason() {
    let server = runway_reference::spawn(runway_reference::Options {
        token: Some(TOKEN.into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runway.toml"),
        config(&server.mcp_url, closed_port()).replace("interval = \"2s\"", "interval = \"1h\""),
    )
    .unwrap();
    let d = dir.path().to_owned();
    let up = tokio::task::spawn_blocking(move || {
        runway(&d, &["monitor", "--once", "--json", "--env", "production"])
    })
    .await
    .unwrap();
    assert_eq!(up.status.code(), Some(0), "{}", text(&up.stderr));
    let o: serde_json::Value = serde_json::from_str(text(&up.stdout).trim()).unwrap();
    assert_eq!(o["environment"], "production");
    assert_eq!(o["status"], "up");
    assert_eq!(o["ok"], true);
    assert!(!text(&up.stdout).contains(TOKEN));

    let d = dir.path().to_owned();
    let all = tokio::task::spawn_blocking(move || runway(&d, &["monitor", "--once", "--json"]))
        .await
        .unwrap();
    assert_eq!(all.status.code(), Some(1), "{}", text(&all.stderr));
    let lines: Vec<serde_json::Value> = text(&all.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // `production` ran moments ago (within its interval, in the ledger), so
    // only `gone` is due.
    assert_eq!(lines.len(), 1, "{}", text(&all.stdout));
    let gone = lines.iter().find(|o| o["environment"] == "gone").unwrap();
    assert_eq!(gone["status"], "down");
    assert_eq!(gone["reason"], "connect");

    let db = std::fs::read(dir.path().join(".runway/ledger.db")).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains(TOKEN));
    server.shutdown().await;
}

#[test]
fn a_bad_rule_names_its_line_and_an_unmonitored_env_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text_cfg =
        config("http://127.0.0.1:9/mcp", 9).replace("when = \"down\"", "when = \"p95 > fast\"");
    std::fs::write(dir.path().join("runway.toml"), &text_cfg).unwrap();
    let out = runway(dir.path(), &["monitor", "--once"]);
    assert_eq!(out.status.code(), Some(2));
    let line = text_cfg
        .lines()
        .position(|l| l.contains("p95 > fast"))
        .unwrap()
        + 1;
    let err = text(&out.stderr);
    assert!(err.contains(&format!("runway.toml:{line}:")), "{err}");
    assert!(err.contains("not a duration"), "{err}");

    std::fs::write(
        dir.path().join("runway.toml"),
        config("http://127.0.0.1:9/mcp", 9),
    )
    .unwrap();
    let out = runway(dir.path(), &["monitor", "--once", "--env", "staging"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("`staging` is not a monitored environment"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_the_schedule_after_the_running_checks() {
    let server = runway_reference::spawn(runway_reference::Options {
        token: Some(TOKEN.into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runway.toml"),
        config(&server.mcp_url, closed_port()),
    )
    .unwrap();
    let d = dir.path().to_owned();
    let (lines, code, took) = tokio::task::spawn_blocking(move || {
        let mut child = Test::new()
            .into_command()
            .args(["monitor", "--env", "production"])
            .current_dir(&d)
            .env("NO_COLOR", "1")
            .env("RUNWAY_TEST_TOKEN", TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        // Two runs, 2 s apart, then SIGTERM.
        for _ in 0..2 {
            let mut l = String::new();
            out.read_line(&mut l).unwrap();
            lines.push(l);
        }
        let t = Instant::now();
        let killed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let code = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s.code();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("runway monitor did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        (lines, code, t.elapsed())
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(15), "{took:?}");
    for l in &lines {
        assert!(l.contains(" production up "), "{l}");
    }
    server.shutdown().await;
}

/// A webhook receiver on `port`: records each POST body, answers 200. Its
/// thread ends when the test process does; every read has a timeout.
pub(super) fn receiver(
    listener: std::net::TcpListener,
) -> std::sync::Arc<std::sync::Mutex<Vec<String>>> {
    use std::io::{Read, Write};
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let out = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut s) = conn else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body = loop {
                let Ok(n) = s.read(&mut chunk) else {
                    break None;
                };
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).into_owned();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break Some(text[end + 4..].to_owned());
                    }
                }
                if buf.len() > 1 << 20 {
                    break None;
                }
            };
            if let Some(b) = body {
                out.lock().unwrap().push(b);
            }
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    seen
}

#[test]
fn an_alert_fires_and_reaches_its_webhook_once_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let hook_port = closed_port();
    let secret = "sekrit-hook-3141";
    let cfg = format!(
        r#"
[environments.gone]
url = "http://127.0.0.1:{dead}/mcp"
[environments.gone.monitor]
interval = "1h"

[[alerts]]
name = "gone-down"
environment = "gone"
when = "down"
level = "critical"
notify = ["hook"]

[notifiers.hook]
type = "webhook"
url = "http://127.0.0.1:{hook_port}/hook/${{HOOK_SECRET}}"
retries = 1
"#,
        dead = closed_port()
    );
    std::fs::write(dir.path().join("runway.toml"), &cfg).unwrap();
    let run = |args: &[&str]| {
        Test::new()
            .args(args)
            .current_dir(dir.path())
            .env("HOOK_SECRET", secret)
            .env_remove("RUNWAY_LEDGER_URL")
            .run()
    };
    // The webhook is down: the alert fires, the notification waits.
    let out = run(&["monitor", "--once", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let alert = lines
        .iter()
        .find(|l| l["type"] == "alert")
        .unwrap_or_else(|| panic!("no alert line: {stdout}"));
    assert_eq!(alert["alert"], "gone-down");
    assert_eq!(alert["event"], "firing");
    assert_eq!(alert["notified"], serde_json::json!(["hook"]));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("could not be delivered"), "{stderr}");
    for t in [&stdout, &stderr] {
        assert!(!t.contains(secret), "{t}");
    }

    // It comes back; the next `--once` (nothing due) delivers what waited.
    let listener = std::net::TcpListener::bind(("127.0.0.1", hook_port)).unwrap();
    let seen = receiver(listener);
    // The first retry waits for its backoff (5s after the failed round).
    std::thread::sleep(Duration::from_millis(5200));
    let out = run(&["monitor", "--once", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).trim().is_empty(), "nothing was due");
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    let body: serde_json::Value = serde_json::from_str(&got[0]).unwrap();
    assert_eq!(body["alert"], "gone-down");
    assert_eq!(body["event"], "firing");
    assert_eq!(body["environment"], "gone");
    assert_eq!(body["schema"], "runway.alert/v1");
    // Delivered once: a third run sends nothing more.
    let out = run(&["monitor", "--once"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(seen.lock().unwrap().len(), 1);
    // The database and its write-ahead log.
    for f in std::fs::read_dir(dir.path().join(".runway")).unwrap() {
        let bytes = std::fs::read(f.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(secret));
    }
}
