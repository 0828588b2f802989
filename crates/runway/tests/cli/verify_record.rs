//! `runway verify --record`: the run lands in the ledger with every check and its
//! evidence, under the right environment, and no secret reaches the ledger even
//! when the server echoes it back.

use std::path::Path;
use std::time::Duration;

use runway_testkit::{Output, Test};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "tok-record-5f2e9a41c7";

fn runway(dir: &Path, args: &[&str]) -> Output {
    Test::new()
        .args(args)
        .current_dir(dir)
        .env("RUNWAY_TEST_TOKEN", TOKEN)
        .env("RUNWAY_OPERATOR", "ci-bot")
        .env_remove("RUNWAY_LEDGER_URL")
        .run()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn export(dir: &Path, ledger: &str) -> serde_json::Value {
    let out = runway(dir, &["ledger", "export", "--ledger", ledger]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_run_keeps_every_check_under_its_environment() {
    let server = runway_reference::spawn(runway_reference::Options {
        token: Some(TOKEN.into()),
        faults: runway_reference::Faults::parse("failing-tool").unwrap(),
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ledger = format!("sqlite://{}", dir.path().join("ledger.db").display());
    assert!(
        runway(dir.path(), &["ledger", "init", &ledger])
            .status
            .success()
    );
    let url = server.mcp_url.clone();
    let d = dir.path().to_owned();
    let l = ledger.clone();
    let out = tokio::task::spawn_blocking(move || {
        runway(
            &d,
            &[
                "verify",
                &url,
                "--token-env",
                "RUNWAY_TEST_TOKEN",
                "--suite",
                "smoke",
                "--call",
                r#"echo={"message":"hi"}"#,
                "--format",
                "json",
                "--record",
                "--env",
                "staging",
                "--ledger",
                &l,
            ],
        )
    })
    .await
    .unwrap();
    server.shutdown().await;
    // The failing tool fails the run, and the run is still recorded.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        text(&out.stderr).contains("recorded verification `ver-"),
        "{}",
        text(&out.stderr)
    );

    let all = export(dir.path(), &ledger);
    let records = all["records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r["kind"], "verification");
    assert_eq!(r["environment"], "staging");
    assert_eq!(r["operator"], "ci-bot");
    let checks = r["checks"].as_array().unwrap();
    assert_eq!(checks.len(), report["checks"].as_array().unwrap().len());
    let call = checks
        .iter()
        .find(|c| c["id"] == "mcp.call.echo")
        .expect("the smoke call is recorded");
    assert_eq!(call["status"], "fail");
    assert!(call["hint"].as_str().is_some_and(|h| !h.is_empty()));
    assert!(!all.to_string().contains(TOKEN));
}

/// A server that answers every request with 200 and the request itself (the
/// `Authorization` header included) as the body.
async fn echo_server() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        for _ in 0..500 {
            let Ok(Ok((mut s, _))) =
                tokio::time::timeout(Duration::from_secs(30), listener.accept()).await
            else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or(0);
                let body = String::from_utf8_lossy(&buf[..n]).replace('\r', "");
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-echo: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.lines()
                        .find(|l| l.to_ascii_lowercase().starts_with("authorization"))
                        .unwrap_or("none"),
                    body.len()
                );
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(body.as_bytes()).await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_echoes_the_token_cannot_put_it_in_the_ledger() {
    let addr = echo_server().await;
    let dir = tempfile::tempdir().unwrap();
    let ledger = format!("sqlite://{}", dir.path().join("ledger.db").display());
    assert!(
        runway(dir.path(), &["ledger", "init", &ledger])
            .status
            .success()
    );
    let url = format!("http://{addr}/mcp");
    let d = dir.path().to_owned();
    let l = ledger.clone();
    let out = tokio::task::spawn_blocking(move || {
        runway(
            &d,
            &[
                "verify",
                &url,
                "--token-env",
                "RUNWAY_TEST_TOKEN",
                "--suite",
                "full",
                "--timeout",
                "3",
                "--record",
                "--ledger",
                &l,
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains(TOKEN) && !text(&out.stderr).contains(TOKEN));
    let all = export(dir.path(), &ledger);
    let dump = all.to_string();
    assert_eq!(all["records"][0]["environment"], "adhoc");
    assert!(
        dump.contains("[redacted]"),
        "the echoed token was seen and redacted"
    );
    assert!(!dump.contains(TOKEN), "the token reached the ledger");
    // The raw SQLite files (the database and its WAL, if any) hold no trace of it either.
    let mut scanned = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("ledger.db")
        {
            let raw = std::fs::read(&path).unwrap();
            scanned += raw.len();
            assert!(
                !raw.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
                "{}",
                path.display()
            );
        }
    }
    assert!(scanned > 0);
}

#[test]
fn a_bad_ledger_url_fails_before_any_check_runs() {
    let dir = tempfile::tempdir().unwrap();
    // Port 9 on loopback: nothing is contacted, because the ledger is opened first.
    let out = runway(
        dir.path(),
        &[
            "verify",
            "http://127.0.0.1:9/mcp",
            "--record",
            "--ledger",
            "ftp://nowhere/x",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("ftp://nowhere/x"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "no report was printed");
}
