//! `[[alerts]]` on real traffic: the reference server rejects 30% of the
//! users' valid tokens (`reject-tokens=30`) while ten users call it and the
//! monitor's own probe token keeps passing. `runway monitor`, running a
//! check a second for a short while, fires the alert that reads the
//! `metrics` source (Runway
//! scraping the server's `/metrics`) and the one that reads the `prometheus`
//! source (a real Prometheus scraping it every second), while the rules on
//! the probe's runs stay quiet.

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use runway_ledger::{AlertState, Ledger, LedgerUrl};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Tokens `prefix-N` in a `reject-tokens=30` refused bucket (`true`) or not.
fn tokens(prefix: &str, refused: bool, n: usize) -> Vec<String> {
    (0..100_000)
        .map(|i| format!("{prefix}-{i}"))
        .filter(|t| (runway_reference::token_bucket(t) < 30) == refused)
        .take(n)
        .collect()
}

/// The reference server with `reject-tokens=30`, ten users calling it, and a
/// project whose monitor reads its traffic.
struct Scene {
    dir: tempfile::TempDir,
    server: runway_reference::Running,
    token: String,
    stop: Arc<AtomicBool>,
    users: Vec<tokio::task::JoinHandle<u64>>,
}

impl Scene {
    async fn start(port: u16) -> Scene {
        // The probe's token passes `reject-tokens=30`; 3 of the 10 users' do not.
        let token = tokens("probe", false, 1).remove(0);
        let mut users = tokens("user", true, 3);
        users.extend(tokens("user", false, 7));
        let server = runway_reference::spawn(runway_reference::Options {
            bind: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            token: Some(token.as_str().into()),
            user_tokens: users.iter().map(|t| t.as_str().into()).collect(),
            faults: runway_reference::Faults::parse("reject-tokens=30").unwrap(),
            // The refused users would spend the anonymous budget the probe's
            // own no-token checks need.
            anonymous_rate_limit: None,
            ..Default::default()
        })
        .await
        .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let handles = play_users(&server.mcp_url, &users, stop.clone());
        Scene {
            dir: tempfile::tempdir().unwrap(),
            server,
            token,
            stop,
            users: handles,
        }
    }

    fn write_config(&self, analysis: &str, alerts: &str) {
        let toml = format!(
            r#"[environments.production]
url = "{url}"
token_env = "RUNWAY_TRAFFIC_TOKEN"

[environments.production.monitor]
interval = "1s"
jitter = "0s"
# On a busy machine a run may take longer than the interval: not a failure here.
timeout = "20s"
suite = "smoke"

{analysis}

[[alerts]]
name = "probe-errors"
environment = "production"
when = "error_rate > 0"
window = "1h"
level = "critical"

[[alerts]]
name = "probe-auth"
environment = "production"
when = "auth_failure_rate > 0"
window = "1h"

{alerts}
"#,
            url = self.server.mcp_url
        );
        std::fs::write(self.path().join("runway.toml"), toml).unwrap();
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    async fn ledger(&self) -> Box<dyn Ledger> {
        let url = LedgerUrl::parse(".runway/ledger.db", self.path()).unwrap();
        runway_ledger::open(&url).await.unwrap()
    }

    /// Runs `runway monitor` (a run a second) until `alert` fires, at most
    /// 40 s, then stops it with SIGTERM; returns its stdout lines. Fails
    /// when a probe rule raises an alert or a run is not `up`.
    async fn monitor_until_firing(&self, alert: &str) -> Vec<String> {
        let dir = self.path().to_owned();
        let token = self.token.clone();
        let wanted = format!("ALERT {alert} [critical] production firing");
        let (lines, code, fired) = tokio::task::spawn_blocking(move || {
            let mut child = runway_testkit::Test::new()
                .into_command()
                .args(["-C", dir.to_str().unwrap(), "monitor"])
                .env("NO_COLOR", "1")
                .env("RUNWAY_TRAFFIC_TOKEN", &token)
                .env_remove("RUNWAY_LEDGER_URL")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let out = child.stdout.take().unwrap();
            let (tx, rx) = std::sync::mpsc::channel::<String>();
            let reader = std::thread::spawn(move || {
                for l in BufReader::new(out).lines().map_while(Result::ok) {
                    if tx.send(l).is_err() {
                        break;
                    }
                }
            });
            let deadline = Instant::now() + Duration::from_secs(40);
            let mut lines = Vec::new();
            let mut fired = false;
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                match rx.recv_timeout(left) {
                    Ok(l) => {
                        fired |= l.contains(&wanted);
                        lines.push(l);
                        if fired {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let stop = Instant::now() + Duration::from_secs(30);
            let code = loop {
                if let Some(s) = child.try_wait().unwrap() {
                    break s.code();
                }
                if Instant::now() > stop {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            let _ = reader.join();
            lines.extend(rx.try_iter());
            (lines, code, fired)
        })
        .await
        .unwrap();
        let all = lines.join("\n");
        assert!(fired, "`{alert}` did not fire within 40 s:\n{all}");
        assert_eq!(code, Some(0), "SIGTERM ends the monitor cleanly:\n{all}");
        for l in &lines {
            assert!(
                !l.contains("ALERT probe-"),
                "a probe rule raised an alert:\n{all}"
            );
            if !l.contains(" ALERT ") {
                assert!(l.contains(" production up "), "the probe passes:\n{all}");
            }
        }
        lines
    }

    async fn stop_users(&mut self) -> u64 {
        self.stop.store(true, Ordering::SeqCst);
        let mut sent = 0;
        for u in self.users.drain(..) {
            sent += u.await.unwrap();
        }
        sent
    }
}

/// Ten users, 8 requests a second each, calling `echo` with their own token.
fn play_users(
    mcp_url: &str,
    users: &[String],
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<u64>> {
    let url: runway_verify::url::Url = mcp_url.parse().unwrap();
    users
        .iter()
        .map(|t| {
            let mut ctx = runway_verify::Context::new(
                runway_verify::Transport::Http { url: url.clone() },
                Some(t.as_str().into()),
                runway_verify::Suite::Smoke,
            );
            ctx.limits.timeout = Duration::from_secs(2);
            let stop = stop.clone();
            tokio::spawn(async move {
                let client = runway_verify::http::client(ctx.limits);
                let era = runway_core::Era::Stateless {
                    version: "2026-07-28".into(),
                };
                let settings = runway_verify::LoadSettings {
                    target: runway_verify::LoadTarget::ToolCall {
                        tool: "echo".into(),
                        arguments: serde_json::json!({"message": "user"}),
                    },
                    concurrency: 1,
                    requests: None,
                    duration: Some(Duration::from_millis(500)),
                    rate: Some(8.0),
                };
                let mut sent = 0;
                // Bounded: at most 5 minutes of half-second runs.
                for _ in 0..600 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    match runway_verify::load::run(&ctx, &client, &settings, &era).await {
                        Ok(s) => sent += s.requests,
                        Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                    }
                }
                sent
            })
        })
        .collect()
}

/// The firing alert as the ledger holds it, and that no probe rule is open.
async fn firing(scene: &Scene, alert: &str) -> runway_ledger::AlertRecord {
    let l = scene.ledger().await;
    let open = l.open_alerts().await.unwrap();
    assert!(
        open.iter().all(|a| !a.rule.starts_with("probe-")),
        "a probe rule is open: {open:?}"
    );
    let a = open
        .into_iter()
        .find(|a| a.rule == alert)
        .unwrap_or_else(|| panic!("`{alert}` is not open in the ledger"));
    assert_eq!(a.state, AlertState::Firing);
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_metrics_alert_fires_on_rejected_users_while_the_probe_rules_stay_quiet() {
    let mut scene = Scene::start(free_port()).await;
    scene.write_config(
        r#"[[environments.production.analysis.conditions]]
name = "auth-denied"
numerator = 'reference_mcp_http_auth_denied_total{reason="invalid_token"}'
denominator = 'http_requests_total{path="/mcp"}'
min_requests = 5
max = 0.10
"#,
        r#"[[alerts]]
name = "auth-denied"
environment = "production"
source = "metrics"
condition = "auth-denied"
level = "critical"
failure_threshold = 2
"#,
    );
    let lines = scene.monitor_until_firing("auth-denied").await;
    let sent = scene.stop_users().await;
    assert!(sent > 20, "the users sent only {sent} requests");
    let runs = lines.iter().filter(|l| !l.contains(" ALERT ")).count();
    assert!(runs >= 2, "failure_threshold 2 needs two runs: {lines:?}");
    let line = lines
        .iter()
        .find(|l| l.contains("ALERT auth-denied [critical] production firing"))
        .unwrap();
    assert!(line.contains("metrics condition auth-denied = "), "{line}");
    assert!(line.contains("above the maximum 0.1"), "{line}");
    let a = firing(&scene, "auth-denied").await;
    let v = a.last_value.expect("the alert keeps the value read");
    assert!((0.1..0.6).contains(&v), "{v}: {a:?}");
    assert!(
        a.condition.starts_with(
            "metrics condition `auth-denied`: increase of reference_mcp_http_auth_denied_total"
        ),
        "{}",
        a.condition
    );
}

/// A Prometheus on 127.0.0.1 scraping `target` every second, killed with its group on drop.
struct Prometheus {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    async fn start(target_port: u16) -> Prometheus {
        let bin = std::env::var("RUNWAY_TEST_PROMETHEUS").unwrap_or_else(|_| {
            panic!(
                "RUNWAY_TEST_PROMETHEUS is not set: run scripts/setup.d/40-prometheus.sh (Debian's `prometheus`) and source $RUNWAY_TEST_ENV"
            )
        });
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: reference\n    scrape_interval: 1s\n    scrape_timeout: 900ms\n    static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n"
            ),
        )
        .unwrap();
        let port = free_port();
        let mut cmd = Command::new(&bin);
        cmd.arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("prometheus.log")).unwrap());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{bin}`: {e}"));
        let p = Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let started = Instant::now();
        let client = runway_verify::http::client(Default::default());
        loop {
            let ready = client
                .get(format!("{}/-/ready", p.url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "Prometheus did not become ready in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        p
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_prometheus_alert_fires_on_rejected_users_while_the_probe_rules_stay_quiet() {
    let port = free_port();
    let prom = Prometheus::start(port).await;
    let mut scene = Scene::start(port).await;
    // Prometheus needs a few scrapes of traffic before `increase` has two points.
    tokio::time::sleep(Duration::from_secs(4)).await;
    scene.write_config(
        &format!(
            r#"[environments.production.analysis.prometheus]
url = "{}"
timeout = "5s"

[[environments.production.analysis.conditions]]
name = "auth-denied"
source = "prometheus"
query = '(sum(increase(reference_mcp_http_auth_denied_total{{reason="invalid_token"}}[10s])) or vector(0)) / sum(increase(http_requests_total{{path="/mcp"}}[10s]))'
max = 0.10
"#,
            prom.url
        ),
        r#"[[alerts]]
name = "auth-denied"
environment = "production"
source = "prometheus"
condition = "auth-denied"
level = "critical"
failure_threshold = 2
"#,
    );
    let lines = scene.monitor_until_firing("auth-denied").await;
    scene.stop_users().await;
    let line = lines
        .iter()
        .find(|l| l.contains("ALERT auth-denied [critical] production firing"))
        .unwrap();
    assert!(
        line.contains("prometheus condition auth-denied = "),
        "{line}"
    );
    let a = firing(&scene, "auth-denied").await;
    let v = a.last_value.expect("the alert keeps the value read");
    assert!((0.1..0.6).contains(&v), "{v}: {a:?}");
}
