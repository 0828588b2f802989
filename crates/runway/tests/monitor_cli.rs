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
