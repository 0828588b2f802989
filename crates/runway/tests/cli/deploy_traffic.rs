//! The watch on real traffic: `runway ship` of a release that rejects 30% of
//! the users' valid tokens, while a load generator (Runway's own load engine)
//! plays ten users and the probe's own token keeps passing. The `metrics`
//! source (Runway scraping the server) and the `prometheus` source (a real
//! Prometheus scraping it every second) each fail the watch; the release is
//! rolled back and the incident names the condition and its value.

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Output, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use runway_ledger::{Kind, Ledger, LedgerUrl, Outcome};

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

struct Project {
    dir: tempfile::TempDir,
    port: u16,
    token: String,
    users: Vec<String>,
}

impl Project {
    fn new(port: u16, conditions: &str, extra_analysis: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        // The probe's token passes `reject-tokens=30`; 3 of the 10 users' do not.
        let token = tokens("probe", false, 1).remove(0);
        let mut users = tokens("user", true, 3);
        users.extend(tokens("user", false, 7));
        let bin = runway_testkit::runway_bin();
        std::fs::write(
            dir.path().join("serve.sh"),
            format!(
                "#!/bin/sh\nfaults=\"\"\nif [ \"$1\" = 2.0.0 ]; then faults=reject-tokens=30; fi\n\
                 exec {} serve-reference --port \"$2\" --version \"$1\" --token-env RUNWAY_TRAFFIC_TOKEN \
                 --user-tokens-env RUNWAY_TRAFFIC_USERS --faults \"$faults\"\n",
                bin.display()
            ),
        )
        .unwrap();
        let toml = format!(
            r#"[environments.staging]
url = "http://127.0.0.1:{port}/mcp"
health_path = "/health"
token_env = "RUNWAY_TRAFFIC_TOKEN"

[environments.staging.deploy]
target = "process"
command = ["sh", "serve.sh", "{{version}}", "{{port}}"]
port = {port}
health_timeout = "20s"

[environments.staging.analysis]
bake = "8s"
interval = "1s"
min_samples = 3
consecutive_failures = 3
{extra_analysis}

{conditions}

[environments.staging.rollback]
auto = true
incident = "P1"

[environments.staging.gates]
release_check = false
"#
        );
        std::fs::write(dir.path().join("runway.toml"), toml).unwrap();
        Project {
            dir,
            port,
            token,
            users,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut c = runway_testkit::Test::new().into_command();
        c.args(["-C", self.path().to_str().unwrap()])
            .args(args)
            .env("RUNWAY_OPERATOR", "alice")
            .env("RUNWAY_TRAFFIC_TOKEN", &self.token)
            .env("RUNWAY_TRAFFIC_USERS", self.users.join(","))
            .env_remove("RUNWAY_LEDGER_URL")
            .stdin(Stdio::null());
        c.output().unwrap()
    }

    async fn ledger(&self) -> Box<dyn Ledger> {
        let url = LedgerUrl::parse(".runway/ledger.db", self.path()).unwrap();
        runway_ledger::open(&url).await.unwrap()
    }

    /// Ten users, 4 requests a second each, calling `echo` with their own token
    /// in the stateless era (no session to lose when the process is replaced).
    fn users(&self, stop: Arc<AtomicBool>) -> Vec<tokio::task::JoinHandle<u64>> {
        let url: runway_verify::url::Url = format!("http://127.0.0.1:{}/mcp", self.port)
            .parse()
            .unwrap();
        self.users
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
                        duration: Some(Duration::from_secs(1)),
                        rate: Some(4.0),
                    };
                    let mut sent = 0;
                    // Bounded: at most 10 minutes of one-second runs.
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
}

impl Drop for Project {
    fn drop(&mut self) {
        let pid_file = self.path().join(".runway/process/staging.pid");
        if let Ok(pid) = std::fs::read_to_string(pid_file) {
            let _ = Command::new("kill")
                // procps' `kill`: dash's builtin refuses `--` before a group.
                .args(["-KILL", "--", &format!("-{}", pid.trim())])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
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

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn deployments(l: &dyn Ledger) -> Vec<runway_ledger::DeploymentView> {
    let f = runway_ledger::Filter {
        kind: Some(Kind::Deployment),
        ..Default::default()
    };
    let mut out = Vec::new();
    for r in l.query(&f, false).await.unwrap() {
        out.push(l.deployment_view(&r.id).await.unwrap());
    }
    out
}

/// Ships 1.0.0 (passes) then 2.0.0 (rejects 30% of tokens) under load, and
/// checks that 2.0.0 passed every probe, failed on `condition`, was rolled
/// back, and that the incident names the condition and a value near 0.3.
async fn ships_and_rolls_back(p: &Project, condition: &str, source: &str) {
    let stop = Arc::new(AtomicBool::new(false));
    let users = p.users(stop.clone());

    let o = p.run(&["ship", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.contains(&format!("condition `{condition}` ({source}): pass")),
        "{err}"
    );

    let o = p.run(&["ship", "staging", "--version", "2.0.0"]);
    stop.store(true, Ordering::SeqCst);
    let mut sent = 0;
    for u in users {
        sent += u.await.unwrap();
    }
    assert!(sent > 100, "the users sent only {sent} requests");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("verify passed"), "{err}");
    // Every probe passed: the probe's token is not in a refused bucket.
    let v2_watch = err.split("watching staging").nth(1).unwrap_or_default();
    assert!(v2_watch.contains("sample 1: ok"), "{err}");
    assert!(!v2_watch.contains(": FAIL"), "a probe failed: {err}");
    assert!(err.contains("watch failed"), "{err}");
    assert!(err.contains(&format!("condition `{condition}`")), "{err}");
    assert!(err.contains("rolled back to 1.0.0"), "{err}");

    let l = p.ledger().await;
    let deps = deployments(l.as_ref()).await;
    assert_eq!(deps.len(), 2);
    let v2 = &deps[1];
    assert_eq!(v2.deployment.release, "2.0.0");
    assert_eq!(v2.status, Outcome::RolledBack.as_str());
    assert_eq!(v2.analyses[0].verdict.as_str(), "fail");
    assert_eq!(v2.incidents.len(), 1);
    let title = &v2.incidents[0].title;
    assert!(
        title.contains(&format!("condition `{condition}`")),
        "{title}"
    );
    // The value: the share of /mcp requests refused, about 3 users of 10.
    let value: f64 = title
        .split(&format!("{condition} = "))
        .nth(1)
        .and_then(|rest| rest.split([',', ' ']).next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no value in the incident: {title}"));
    assert!((0.15..0.4).contains(&value), "{value} in {title}");
    assert!(title.contains("above the maximum 0.1"), "{title}");

    // The record keeps each condition structured: what it read, its bounds,
    // its verdict and each evaluation with its value.
    let c = &v2.analyses[0].conditions;
    assert_eq!(c.len(), 1, "{c:?}");
    let c = &c[0];
    assert_eq!((c.name.as_str(), c.source.as_str()), (condition, source));
    assert_eq!(c.max, Some(0.10));
    assert_eq!(c.verdict.as_str(), "fail");
    assert!(
        c.failed >= 1 && c.failed as usize <= c.evaluations.len(),
        "{c:?}"
    );
    let failed: Vec<f64> = c
        .evaluations
        .iter()
        .filter(|e| e.verdict.as_str() == "fail")
        .filter_map(|e| e.value)
        .collect();
    assert!(
        !failed.is_empty() && failed.iter().all(|v| *v > 0.10),
        "{c:?}"
    );
    assert!(
        c.expression
            .contains("reference_mcp_http_auth_denied_total"),
        "{c:?}"
    );
    let v1 = &deps[0].analyses[0].conditions[0];
    assert_eq!(v1.verdict.as_str(), "pass", "{v1:?}");
    // `runway ledger show` prints them.
    let o = p.run(&["ledger", "show", &v2.id]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("condition    `{condition}` ({source}): fail: ")),
        "{out}"
    );
    assert!(out.contains("bounds: at most 0.1"), "{out}");
    assert!(
        out.contains(" fail 0."),
        "an evaluation with its value: {out}"
    );
}

#[test]
fn an_analysis_recorded_before_conditions_were_stored_still_reads() {
    let old = r#"{"verdict":"fail","samples":8,"availability":0.75,"failing":"availability 75.0% < 95.0%"}"#;
    let a: runway_ledger::Analysis = serde_json::from_str(old).unwrap();
    assert!(a.conditions.is_empty());
    assert_eq!(a.failing.as_deref(), Some("availability 75.0% < 95.0%"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_metrics_source_fails_a_release_that_rejects_a_third_of_the_users() {
    let p = Project::new(
        free_port(),
        r#"[[environments.staging.analysis.conditions]]
name = "auth denied"
source = "metrics"
numerator = 'reference_mcp_http_auth_denied_total{reason="invalid_token"}'
denominator = 'http_requests_total{path="/mcp"}'
max = 0.10
"#,
        "",
    );
    ships_and_rolls_back(&p, "auth denied", "metrics").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_prometheus_source_fails_a_release_that_rejects_a_third_of_the_users() {
    let port = free_port();
    let prom = Prometheus::start(port).await;
    let p = Project::new(
        port,
        r#"[[environments.staging.analysis.conditions]]
name = "auth denied"
source = "prometheus"
query = '(sum(increase(reference_mcp_http_auth_denied_total{reason="invalid_token"}[4s])) or vector(0)) / sum(increase(http_requests_total{path="/mcp"}[4s])) and on() reference_build_info{version="{version}"}'
max = 0.10
"#,
        &format!(
            "\n[environments.staging.analysis.prometheus]\nurl = \"{}\"\ntimeout = \"5s\"\n",
            prom.url
        ),
    );
    ships_and_rolls_back(&p, "auth denied", "prometheus").await;
}

#[test]
fn plan_shows_each_condition_with_its_source_and_detection_delay() {
    let p = Project::new(
        free_port(),
        r#"[[environments.staging.analysis.conditions]]
name = "auth denied"
numerator = 'reference_mcp_http_auth_denied_total{reason="invalid_token"}'
denominator = 'http_requests_total{path="/mcp"}'
max = 0.10

[[environments.staging.analysis.conditions]]
name = "errors vs previous"
query = 'sum(rate(http_requests_total{code=~"5..",version="{version}"}[1m]))'
baseline_factor = 1.5
"#,
        "\n[environments.staging.analysis.prometheus]\nurl = \"http://127.0.0.1:9\"\n",
    );
    let o = p.run(&["plan", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(
            "condition `auth denied` (metrics): increase of reference_mcp_http_auth_denied_total{reason=\"invalid_token\"} / increase of http_requests_total{path=\"/mcp\"}: at most 0.1; detection delay 3s"
        ),
        "{out}"
    );
    assert!(
        out.contains("condition `errors vs previous` (prometheus): sum(rate(")
            && out.contains(
                "at most 1.5x the previous version's; detection delay 3s plus the query's range"
            ),
        "{out}"
    );
}
