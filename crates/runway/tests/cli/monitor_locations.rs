//! Probes from several places: three `runway monitor` processes, one per
//! location (`eu-west`, `us-east`, `ap-south`), share one PostgreSQL ledger
//! and check the reference server. `ap-south`'s network path is broken (its
//! HTTP proxy is a closed 127.0.0.1 port), so its runs are down while the
//! others are up; a `quorum = 2` rule stays quiet at 1 of 3, fires once when
//! the server stops (3 of 3), and resolves when it is back (1 of 3 again).
//! The dashboard and `/api/status` show each location's newest run.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    process::{Child, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use runway_ledger::testing::{ScratchDb, pg_url_or_skip};
use runway_ledger::{Ledger, MonitorResult, NotifyEvent};
use runway_testkit::Test;

const TOKEN: &str = "tok-locations-4f81c2";
const LOCATIONS: [&str; 3] = ["eu-west", "us-east", "ap-south"];

fn config(mcp_url: &str, hook_port: u16) -> String {
    format!(
        r#"
[environments.production]
url = "{mcp_url}"
token_env = "RUNWAY_TEST_TOKEN"
[environments.production.monitor]
interval = "2s"
jitter = "0s"
timeout = "5s"
suite = "smoke"
locations = ["eu-west", "us-east", "ap-south"]

[notifiers.hook]
type = "webhook"
url = "http://127.0.0.1:{hook_port}/hook"
retries = 1

[[alerts]]
name = "down-from-two"
environment = "production"
when = "down"
window = "1m"
quorum = 2
level = "critical"
notify = ["hook"]
"#
    )
}

/// The three workers; killed if the test fails before it stops them.
struct Workers(Vec<Started>);

impl Drop for Workers {
    fn drop(&mut self) {
        for w in &mut self.0 {
            if matches!(w.child.try_wait(), Ok(None)) {
                let _ = w.child.kill();
                let _ = w.child.wait();
            }
        }
    }
}

/// Collects a child's output lines on a thread (a full pipe never blocks it).
fn lines(r: impl std::io::Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let out = Arc::new(Mutex::new(Vec::new()));
    let o = out.clone();
    std::thread::spawn(move || {
        for l in BufReader::new(r).lines().map_while(Result::ok) {
            o.lock().unwrap().push(l);
        }
    });
    out
}

struct Started {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

fn start(dir: &std::path::Path, db_url: &str, location: &str, proxy: Option<&str>) -> Started {
    let mut cmd = Test::new().into_command();
    cmd.args(["monitor", "--worker", location, "--location", location])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn,sqlx=error")
        .env("RUNWAY_TEST_TOKEN", TOKEN)
        .env("RUNWAY_LEDGER_URL", db_url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for v in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
    ] {
        cmd.env_remove(v);
    }
    if location == "eu-west" {
        cmd.args(["--listen", "127.0.0.1:0"]);
    }
    if let Some(p) = proxy {
        cmd.env("HTTP_PROXY", p).env("http_proxy", p);
    }
    let mut child = cmd.spawn().expect("start runway monitor");
    let stdout = lines(child.stdout.take().unwrap());
    let stderr = lines(child.stderr.take().unwrap());
    Started {
        child,
        stdout,
        stderr,
    }
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The runs stored since `t0`, by location.
async fn runs_by_location(
    ledger: &dyn Ledger,
    t0: chrono::DateTime<chrono::Utc>,
) -> BTreeMap<String, Vec<MonitorResult>> {
    let mut out: BTreeMap<String, Vec<MonitorResult>> = BTreeMap::new();
    for r in ledger.monitor_results("production", t0).await.unwrap() {
        out.entry(r.location.clone().unwrap_or_default())
            .or_default()
            .push(r);
    }
    out
}

async fn alerts(
    ledger: &dyn Ledger,
    t0: chrono::DateTime<chrono::Utc>,
) -> Vec<runway_ledger::AlertRecord> {
    ledger
        .alerts_since(t0)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.rule == "down-from-two")
        .collect()
}

fn tails(ws: &[Started]) -> String {
    ws.iter()
        .map(|w| {
            let e = w.stderr.lock().unwrap();
            let o = w.stdout.lock().unwrap();
            format!(
                "stdout:\n{}\nstderr:\n{}",
                o.iter()
                    .rev()
                    .take(8)
                    .rev()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n"),
                e.iter()
                    .rev()
                    .take(8)
                    .rev()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })
        .collect::<Vec<_>>()
        .join("\n---\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_locations_store_their_runs_and_a_quorum_alert_fires_once_from_two() {
    let Some(base) =
        pg_url_or_skip("three_locations_store_their_runs_and_a_quorum_alert_fires_once_from_two")
    else {
        return;
    };
    let db = ScratchDb::create(&base).await.unwrap();
    let db_url = db.url_with_password();
    let options = || runway_reference::Options {
        token: Some(TOKEN.into()),
        anonymous_rate_limit: None,
        token_rate_limit: None,
        ..Default::default()
    };
    let server = runway_reference::spawn(options()).await.unwrap();
    let server_addr = server.addr;
    let hook = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hook_port = hook.local_addr().unwrap().port();
    let received = super::monitor_cli::receiver(hook);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runway.toml"),
        config(&server.mcp_url, hook_port),
    )
    .unwrap();
    runway_ledger::open(&db.url).await.unwrap().close().await;
    let ledger = runway_ledger::open(&db.url).await.unwrap();
    let t0 = chrono::Utc::now() - chrono::Duration::seconds(1);

    // ap-south reaches nothing: its HTTP proxy is a port where nothing listens.
    let proxy = format!("http://127.0.0.1:{}", closed_port());
    let mut ws = Workers(
        LOCATIONS
            .iter()
            .map(|l| {
                let p = (*l == "ap-south").then_some(proxy.as_str());
                start(dir.path(), &db_url, l, p)
            })
            .collect(),
    );

    // 1. Each location stores its own runs: two up, ap-south down.
    let deadline = Instant::now() + Duration::from_secs(60);
    let by_loc = loop {
        let by_loc = runs_by_location(ledger.as_ref(), t0).await;
        if LOCATIONS
            .iter()
            .all(|l| by_loc.get(*l).is_some_and(|v| v.len() >= 3))
        {
            break by_loc;
        }
        assert!(
            Instant::now() < deadline,
            "not every location ran 3 times in 60 s: {:?}\n{}",
            by_loc.iter().map(|(k, v)| (k, v.len())).collect::<Vec<_>>(),
            tails(&ws.0)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(
        by_loc.keys().map(String::as_str).collect::<Vec<_>>(),
        vec!["ap-south", "eu-west", "us-east"],
        "every run carries its location"
    );
    for l in ["eu-west", "us-east"] {
        for r in &by_loc[l] {
            assert!(r.ok && r.status == "up", "{l}: {r:?}\n{}", tails(&ws.0));
        }
    }
    for r in &by_loc["ap-south"] {
        assert!(!r.ok, "{r:?}");
        assert_eq!(r.status, "down", "{r:?}");
        assert_eq!(r.reason.as_deref(), Some("connect"), "{r:?}");
    }
    // Each location runs its own slots: no slot of a location stored twice.
    let runs = ledger.scheduled_runs(t0).await.unwrap();
    let mut slots = std::collections::BTreeSet::new();
    for r in &runs {
        assert_eq!(r.worker, r.location.clone().unwrap(), "{r:?}");
        assert!(
            slots.insert((r.location.clone(), r.slot)),
            "stored twice: {r:?}"
        );
    }
    let state = ledger.schedule_state().await.unwrap();
    let jobs: Vec<&str> = state.iter().map(|r| r.job.as_str()).collect();
    assert_eq!(
        jobs,
        vec![
            "production@ap-south",
            "production@eu-west",
            "production@us-east"
        ]
    );

    // 2. One location of three sees it down: below the quorum, nothing opens.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        alerts(ledger.as_ref(), t0).await,
        vec![],
        "{}",
        tails(&ws.0)
    );

    // 3. The dashboard and the API show each location's newest run.
    let base = {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = ws.0[0].stderr.lock().unwrap().iter().find_map(|l| {
                l.split("serving the dashboard on ")
                    .nth(1)
                    .map(str::to_owned)
            });
            if let Some(u) = found {
                break u.trim().trim_end_matches('/').to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "no dashboard address:\n{}",
                tails(&ws.0)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    runway_verify::http::install_crypto_provider();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let status: serde_json::Value = client
        .get(format!("{base}/api/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let locs = &status["environments"][0]["locations"];
    let seen: Vec<(String, String)> = locs
        .as_array()
        .unwrap_or_else(|| panic!("no locations in {status}"))
        .iter()
        .map(|l| {
            (
                l["location"].as_str().unwrap().to_owned(),
                l["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("ap-south".to_owned(), "down".to_owned()),
            ("eu-west".to_owned(), "up".to_owned()),
            ("us-east".to_owned(), "up".to_owned()),
        ],
        "{status}"
    );
    assert_eq!(locs[0]["reason"], "connect", "{status}");
    // The environment is what most locations see: never down while only
    // ap-south fails, whichever location ran last.
    let mut seen_up = false;
    for _ in 0..5 {
        let j: serde_json::Value = client
            .get(format!("{base}/api/status"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let st = j["environments"][0]["status"].as_str().unwrap().to_owned();
        assert_ne!(st, "down", "{j}");
        seen_up |= st == "up";
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    assert!(seen_up);
    let page = client
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"data-location="ap-south" data-status="down""#)
            && page.contains(r#"data-location="eu-west" data-status="up""#)
            && page.contains(r#"data-location="us-east" data-status="up""#),
        "the dashboard shows no per-location status"
    );

    // 4. The server stops: every location sees it down, the rule fires once.
    server.shutdown().await;
    let stopped_at = chrono::Utc::now();
    let deadline = Instant::now() + Duration::from_secs(40);
    let fired = loop {
        let a = alerts(ledger.as_ref(), t0).await;
        if let Some(f) = a.iter().find(|a| a.fired_at.is_some()) {
            break f.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the quorum rule did not fire within 40 s of the server stopping: {a:?}\n{}",
            tails(&ws.0)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(fired.fired_at.unwrap() > stopped_at, "{fired:?}");
    assert!(fired.last_value.unwrap() >= 2.0, "{fired:?}");
    let msg = fired.message.clone().unwrap_or_default();
    assert!(
        msg.contains("`production` is down from ") && msg.contains("quorum 2"),
        "{msg}"
    );
    // A few more runs from each location: still one instance, one firing queued.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let a = alerts(ledger.as_ref(), t0).await;
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].state.as_str(), "firing", "{a:?}");
    let queued = ledger.notifications_of(a[0].id).await.unwrap();
    let firing: Vec<_> = queued
        .iter()
        .filter(|n| n.event == NotifyEvent::Firing)
        .collect();
    assert_eq!(firing.len(), 1, "{queued:?}");
    let printed: usize =
        ws.0.iter()
            .map(|o| {
                o.stdout
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|l| l.contains("ALERT down-from-two [critical] production firing"))
                    .count()
            })
            .sum();
    assert_eq!(printed, 1, "{}", tails(&ws.0));

    // 5. The server is back on its port: 1 of 3 again, the alert resolves.
    let mut again = options();
    again.bind = server_addr;
    let server = runway_reference::spawn(again).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let a = alerts(ledger.as_ref(), t0).await;
        if a.len() == 1 && a[0].resolved_at.is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the quorum rule did not resolve within 40 s of the server coming back: {a:?}\n{}",
            tails(&ws.0)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let late = runs_by_location(
        ledger.as_ref(),
        chrono::Utc::now() - chrono::Duration::seconds(3),
    )
    .await;
    assert!(late.get("ap-south").is_none_or(|v| v.iter().all(|r| !r.ok)));

    // SIGTERM: each worker drains and exits 0; one line per run shows its location.
    for w in &ws.0 {
        let ok = std::process::Command::new("kill")
            .args(["-TERM", &w.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    for i in 0..ws.0.len() {
        let code = loop {
            if let Some(s) = ws.0[i].child.try_wait().unwrap() {
                break s.code();
            }
            assert!(
                Instant::now() < deadline,
                "worker {i} did not stop:\n{}",
                tails(&ws.0)
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(code, Some(0), "{}", tails(&ws.0));
    }
    for (o, l) in ws.0.iter().zip(LOCATIONS) {
        let out = o.stdout.lock().unwrap();
        assert!(
            out.iter().any(|x| x.contains(&format!(" production@{l} "))),
            "{l}: {out:?}"
        );
        let err = o.stderr.lock().unwrap().join("\n");
        assert!(!err.contains(TOKEN), "{err}");
    }
    let got = received.lock().unwrap().clone();
    assert!(
        got.iter()
            .filter(|b| b.contains(r#""event":"firing""#))
            .count()
            <= 1,
        "{got:?}"
    );
    ledger.close().await;
    server.shutdown().await;
    db.drop().await.unwrap();
}

#[test]
fn a_bad_location_and_one_no_environment_lists_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runway.toml"),
        config("http://127.0.0.1:9/mcp", 9),
    )
    .unwrap();
    let run = |location: &str| {
        Test::new()
            .args(["monitor", "--once", "--location", location])
            .current_dir(dir.path())
            .env("RUNWAY_TEST_TOKEN", TOKEN)
            .env_remove("RUNWAY_LEDGER_URL")
            .run()
    };
    run("EU West")
        .code(2)
        .stderr_contains("`--location`: `EU West` is not a location name");
    run(&"x".repeat(41))
        .code(2)
        .stderr_contains("`--location`")
        .stderr_contains("at most 40");
    run("sa-east")
        .code(2)
        .stderr_contains("no monitored environment")
        .stderr_contains("location `sa-east`")
        .stderr_contains("locations");
    // A listed location runs (the server is down: exit 1) and says where from.
    let out = run("us-east");
    out.code(1).stdout_contains(" production@us-east down ");
}
