//! Deploys an operator can trust. A `runway` killed at any instant of a deployment leaves a version serving
//! and a true record: the next command (`status` here) ends the cut-off
//! deployment and puts the last verified version back where nothing serves.
//! Driven through the real binary with SIGKILL at instants read from the
//! ledger's journal (between stopping the old server and starting the new
//! one, during the watch, during the automatic rollback) and at fixed
//! delays, then asserted from the outside: the wire, `status`, the ledger
//! and `dora`.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use runway_ledger::{DeploymentView, Kind, Ledger, LedgerUrl};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The lease of the deploy lock (`runway_runbook::LOCK_TTL`) plus 15 s: the
/// longest an environment may go without a version serving after a kill.
const RECOVERY_BOUND: Duration = Duration::from_secs(45);

/// `staging` runs the reference server through a wrapper that takes a second
/// to stop (the server itself dies at once), so "the old version is stopped
/// and the new one not yet started" lasts long enough to be hit on purpose.
/// 2.0.0 is the bad release: its tool calls fail after the first verify's.
struct Project {
    dir: tempfile::TempDir,
    port: u16,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let bin = runway_testkit::runway_bin();
        std::fs::write(
            dir.path().join("serve.sh"),
            format!(
                "#!/bin/sh\nfaults=\"\"\nif [ \"$1\" = 2.0.0 ]; then faults=fail-after=1; fi\n\
                 if [ \"$MODE\" = broken ]; then echo \"fatal: unknown MODE broken\" >&2; exit 3; fi\n\
                 {} serve-reference --port \"$2\" --version \"$1\" --faults \"$faults\" &\n\
                 child=$!\ntrap 'kill -TERM $child 2>/dev/null; sleep 1; exit 0' TERM\n\
                 wait $child\n",
                bin.display()
            ),
        )
        .unwrap();
        let toml = format!(
            r#"[environments.staging]
url = "http://127.0.0.1:{port}/mcp"
health_path = "/health"

[[environments.staging.calls]]
tool = "echo"
arguments = {{ message = "smoke" }}
expect_text = "smoke"

[environments.staging.deploy]
target = "process"
command = ["sh", "serve.sh", "{{version}}", "{{port}}"]
port = {port}
health_timeout = "20s"

[environments.staging.analysis]
bake = "3s"
interval = "500ms"
min_samples = 3
consecutive_failures = 2
call = {{ tool = "echo", arguments = {{ message = "watch" }} }}

[environments.staging.rollback]
auto = true
incident = "P1"

[environments.staging.gates]
release_check = false
"#
        );
        std::fs::write(dir.path().join("runway.toml"), toml).unwrap();
        Project { dir, port }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = runway_testkit::Test::new().into_command();
        c.args(["-C", self.path().to_str().unwrap()])
            .args(args)
            .env("RUNWAY_OPERATOR", "alice")
            .env_remove("RUNWAY_LEDGER_URL")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.cmd(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    async fn ledger(&self) -> Box<dyn Ledger> {
        let url = LedgerUrl::parse(".runway/ledger.db", self.path()).unwrap();
        runway_ledger::open(&url).await.unwrap()
    }

    fn pid_file(&self) -> PathBuf {
        self.path().join(".runway/process/staging.pid")
    }

    async fn health_version(&self) -> Option<String> {
        let body = runway_verify::http::client(Default::default())
            .get(format!("http://127.0.0.1:{}/health", self.port))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        v["version"].as_str().map(str::to_owned)
    }

    /// Every deployment, oldest first.
    async fn deployments(&self) -> Vec<DeploymentView> {
        let l = self.ledger().await;
        let f = runway_ledger::Filter {
            kind: Some(Kind::Deployment),
            ..Default::default()
        };
        let mut out = Vec::new();
        for r in l.query(&f, false).await.unwrap() {
            out.push(l.deployment_view(&r.id).await.unwrap());
        }
        l.close().await;
        out
    }

    /// Waits (bounded) until the newest deployment satisfies `ready`.
    async fn wait_for(&self, what: &str, ready: impl Fn(&DeploymentView) -> bool) {
        let started = Instant::now();
        loop {
            if self.deployments().await.last().is_some_and(&ready) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "never saw {what}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Stops whatever the process target left running, whatever the test did.
impl Drop for Project {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.pid_file()) {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", pid.trim())])
                .stderr(Stdio::null())
                .status();
        }
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

fn sigkill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// After a kill: `status` recovers within the bound, names what serves, and
/// the wire agrees; no record is left `in_progress`. Returns the version.
async fn assert_recovered(p: &Project, context: &str) -> String {
    let started = Instant::now();
    let o = p.run(&["status", "staging", "--format", "json"]);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{context}: {}",
        text(&o)
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let running = doc["running"]["version"]
        .as_str()
        .unwrap_or_else(|| panic!("{context}: nothing serves after status: {}", text(&o)))
        .to_owned();
    assert!(
        doc["deploying"].is_null(),
        "{context}: a dead process is not `deploying now`: {doc}"
    );
    assert!(
        started.elapsed() < RECOVERY_BOUND,
        "{context}: recovery took {:?}",
        started.elapsed()
    );
    assert_eq!(
        p.health_version().await.as_deref(),
        Some(running.as_str()),
        "{context}: the wire and status disagree"
    );
    let deps = p.deployments().await;
    for d in &deps {
        assert_ne!(
            d.status, "in_progress",
            "{context}: `{}` ({}) stayed in progress",
            d.id, d.deployment.release
        );
        if d.failing.is_some() {
            assert!(
                d.status == "failed" || d.status == "rolled_back",
                "{context}: `{}` had failed but ended `{}`",
                d.id,
                d.status
            );
        }
    }
    running
}

/// DORA counts every deployment that failed (verify, watch) as a failed change.
fn assert_dora_counts_failures(p: &Project, deps: &[DeploymentView]) {
    let failed = deps
        .iter()
        .filter(|d| d.deployment.rollback_of.is_none())
        .filter(|d| d.status == "failed" || d.status == "rolled_back")
        .count();
    let o = p.run(&["dora", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let counted = doc["outcomes"]["failed"].as_u64().unwrap() as usize
        + doc["outcomes"]["rolled_back"].as_u64().unwrap() as usize;
    assert_eq!(counted, failed, "{doc}");
    assert!(failed > 0, "the scenario has failed changes");
}

#[tokio::test]
async fn a_kill_between_stopping_the_old_server_and_starting_the_new_one_is_recovered() {
    let p = Project::new();
    let o = p.run(&["deploy", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let mut ship = p.spawn(&["ship", "staging", "--version", "2.0.0"]);
    // The journal says the old server is being stopped: the wrapper takes a
    // second, and the server itself is already gone.
    p.wait_for("the intent to stop 1.0.0", |d| {
        d.deployment.release == "2.0.0"
            && d.steps
                .last()
                .is_some_and(|s| s.intent && s.step.starts_with("stop 1.0.0"))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    sigkill(&mut ship);
    assert_eq!(p.health_version().await, None, "nothing serves in the gap");

    // The lock of the dead process does not block a fix-forward deploy either:
    // `status` first recovers; then a deploy goes at once.
    let running = assert_recovered(&p, "kill between stop and start").await;
    assert_eq!(running, "1.0.0", "the last verified version is back");
    let deps = p.deployments().await;
    let cut = deps
        .iter()
        .find(|d| d.deployment.release == "2.0.0")
        .unwrap();
    assert_eq!(cut.status, "interrupted");
    let end = cut.end.as_ref().unwrap();
    assert!(
        end.done
            .iter()
            .any(|s| s.starts_with("about to stop 1.0.0")),
        "{end:?}"
    );
    let back = deps.last().unwrap();
    assert_eq!(back.deployment.release, "1.0.0");
    assert_eq!(
        back.deployment.rollback_of.as_deref(),
        Some(cut.id.as_str())
    );
    assert_eq!(back.status, "verified");

    let started = Instant::now();
    let o = p.run(&["deploy", "staging", "--version", "1.1.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "not blocked by a lease"
    );
    assert_eq!(p.health_version().await.as_deref(), Some("1.1.0"));
}

/// 1.0.0 shipped, then 1.1.0 (good) whose 3 s watch is cut off by SIGKILL
/// after its verify passed; recovered. Returns the project and what runs.
async fn shipped_then_killed_during_the_watch() -> (Project, String) {
    let p = Project::new();
    let o = p.run(&["ship", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mut ship = p.spawn(&["ship", "staging", "--version", "1.1.0"]);
    p.wait_for("the verify of 1.1.0", |d| {
        d.deployment.release == "1.1.0" && !d.verifications.is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    sigkill(&mut ship);
    let running = assert_recovered(&p, "kill during the watch").await;
    (p, running)
}

#[tokio::test]
async fn a_kill_during_the_watch_holds_the_new_version_for_a_human_and_a_watch_judges_it() {
    let (p, running) = shipped_then_killed_during_the_watch().await;
    assert_eq!(running, "1.1.0", "the new version still serves");
    let deps = p.deployments().await;
    let cut = deps.last().unwrap();
    assert_eq!(cut.deployment.release, "1.1.0");
    assert_eq!(cut.status, "held", "{:?}", cut.end);
    let o = p.run(&["status", "staging"]);
    let shown = String::from_utf8_lossy(&o.stdout);
    assert!(shown.contains("held:"), "{shown}");

    // A later watch judges it: it passes, and the deployment is verified.
    let o = p.run(&["watch", "staging", "--for", "2s"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let deps = p.deployments().await;
    assert_eq!(deps.last().unwrap().status, "verified");
    assert_eq!(p.health_version().await.as_deref(), Some("1.1.0"));
}

#[tokio::test]
async fn a_kill_during_the_automatic_rollback_ends_the_deployment_failed_and_puts_v1_back() {
    let p = Project::new();
    let o = p.run(&["ship", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let mut ship = p.spawn(&["ship", "staging", "--version", "2.0.0"]);
    // The watch failed and the rollback began: kill while it stops 2.0.0.
    p.wait_for("the intent to stop 2.0.0 in the rollback", |d| {
        d.failing.is_some()
            && d.steps
                .last()
                .is_some_and(|s| s.intent && s.step.starts_with("stop 2.0.0"))
    })
    .await;
    sigkill(&mut ship);

    let running = assert_recovered(&p, "kill during the rollback").await;
    assert_eq!(running, "1.0.0");
    let deps = p.deployments().await;
    let cut = deps
        .iter()
        .find(|d| d.deployment.release == "2.0.0")
        .unwrap();
    assert_eq!(cut.status, "failed", "{:?}", cut.end);
    assert_dora_counts_failures(&p, &deps);
}

#[tokio::test]
async fn sigkill_at_many_instants_always_leaves_a_version_serving_and_no_record_open() {
    let p = Project::new();
    let o = p.run(&["ship", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mut serving = Vec::new();
    for delay_ms in [15u64, 60, 150, 400, 900, 1600, 2600, 4200] {
        let mut ship = p.spawn(&["ship", "staging", "--version", "2.0.0"]);
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        sigkill(&mut ship);
        let running = assert_recovered(&p, &format!("kill after {delay_ms} ms")).await;
        // A held 2.0.0 is resolved before the next round, as an operator would.
        if running == "2.0.0" {
            let o = p.run(&["rollback", "staging", "--to", "1.0.0"]);
            assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        }
        serving.push((delay_ms, running));
    }
    eprintln!("serving after each kill: {serving:?}");
    let deps = p.deployments().await;
    assert!(deps.iter().all(|d| d.status != "in_progress"));
}

/// The environment of the process listening on the project's port: the
/// wrapper's child (the wrapper starts the server in the background).
fn listener_environ(p: &Project) -> (Vec<String>, String) {
    let pid = std::fs::read_to_string(p.pid_file()).unwrap();
    let pid = pid.trim();
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap();
    let child = children
        .split_whitespace()
        .next()
        .expect("the wrapper has a child");
    let environ = std::fs::read(format!("/proc/{child}/environ")).unwrap();
    let cmdline = std::fs::read(format!("/proc/{child}/cmdline")).unwrap();
    (
        environ
            .split(|b| *b == 0)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect(),
        String::from_utf8_lossy(&cmdline).replace('\0', " "),
    )
}

const SECRET: &str = "s3cr3t-rollback-value-4242";

#[tokio::test]
async fn a_rollback_gives_the_previous_version_its_own_environment_and_records_it_unredacted() {
    let p = Project::new();
    let toml = std::fs::read_to_string(p.path().join("runway.toml")).unwrap();
    let with_env = |aud: &str| {
        toml.replace(
            "health_timeout = \"20s\"",
            &format!(
                "health_timeout = \"20s\"\nenv = {{ MCP_TRANSPORT = \"http\", MCP_HOST = \"127.0.0.1\", MCP_AUTH_AUDIENCE = \"{aud}\", API_KEY = \"${{TEST_API_KEY}}\" }}"
            ),
        )
    };
    let run = |args: &[&str]| p.cmd(args).env("TEST_API_KEY", SECRET).output().unwrap();
    std::fs::write(p.path().join("runway.toml"), with_env("aud-v1")).unwrap();
    let o = run(&["ship", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // v2 changes only the audience, and fails its watch: the automatic
    // rollback must give 1.0.0 its own audience back, not v2's.
    std::fs::write(p.path().join("runway.toml"), with_env("aud-v2")).unwrap();
    let o = run(&["ship", "staging", "--version", "2.0.0"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(p.health_version().await.as_deref(), Some("1.0.0"));
    let (environ, cmdline) = listener_environ(&p);
    assert!(
        environ.contains(&"MCP_AUTH_AUDIENCE=aud-v1".to_owned()),
        "{environ:?}"
    );
    assert!(
        environ.contains(&format!("API_KEY={SECRET}")),
        "the secret is read again"
    );
    assert!(environ.contains(&"MCP_HOST=127.0.0.1".to_owned()));
    assert!(cmdline.contains("--version 1.0.0"), "{cmdline}");

    let deps = p.deployments().await;
    let v2 = deps
        .iter()
        .find(|d| d.deployment.release == "2.0.0")
        .unwrap();
    let o = run(&["ledger", "show", &v2.id]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let shown = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        shown.contains("restored  env MCP_AUTH_AUDIENCE = \"aud-v1\""),
        "{shown}"
    );
    assert!(
        shown.contains("restored  env API_KEY from ${TEST_API_KEY} (secret)"),
        "{shown}"
    );
    assert!(
        shown.contains("restored  command `sh serve.sh 1.0.0"),
        "{shown}"
    );
    assert!(
        !shown.contains("[redacted]"),
        "nothing plain is redacted: {shown}"
    );

    // By hand too: a good 1.1.0 with v2's audience, then `rollback --to 1.0.0`.
    let o = run(&["deploy", "staging", "--version", "1.1.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        listener_environ(&p)
            .0
            .contains(&"MCP_AUTH_AUDIENCE=aud-v2".to_owned())
    );
    let o = run(&["rollback", "staging", "--to", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let (environ, _) = listener_environ(&p);
    assert!(
        environ.contains(&"MCP_AUTH_AUDIENCE=aud-v1".to_owned()),
        "{environ:?}"
    );
    let back = p.deployments().await.pop().unwrap();
    assert_eq!(
        back.deployment.settings["deploy.env.MCP_AUTH_AUDIENCE"],
        "\"aud-v1\""
    );

    // The secret appears nowhere: output, export, the ledger's files.
    let export = run(&["ledger", "export"]);
    assert_eq!(export.status.code(), Some(0), "{}", text(&export));
    let mut everything = export.stdout.clone();
    everything.extend_from_slice(&o.stdout);
    everything.extend_from_slice(&o.stderr);
    everything.extend_from_slice(shown.as_bytes());
    for f in std::fs::read_dir(p.path().join(".runway")).unwrap() {
        let f = f.unwrap().path();
        if f.is_file() && f.to_string_lossy().contains("ledger") {
            everything.extend_from_slice(&std::fs::read(&f).unwrap());
        }
    }
    let hay = String::from_utf8_lossy(&everything);
    assert!(!hay.contains(SECRET), "the secret leaked");
    assert!(
        hay.contains("aud-v1") && hay.contains("127.0.0.1"),
        "plain values are kept"
    );
}

#[tokio::test]
async fn a_failed_first_deployment_is_stopped_not_left_serving() {
    let p = Project::new();
    let o = p.run(&["ship", "staging", "--version", "2.0.0"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(
        p.health_version().await,
        None,
        "the failed version was stopped"
    );
    let deps = p.deployments().await;
    let end = deps[0].end.as_ref().unwrap();
    assert_eq!(deps[0].status, "failed");
    assert!(
        end.done
            .iter()
            .any(|s| s.starts_with("stopped the failed 2.0.0")),
        "{end:?}"
    );
    let o = p.run(&["status", "staging", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(doc["running"].is_null(), "{doc}");
}

/// A real FastMCP server (the `mcp` 1.x Python SDK) serves no `/health`:
/// with no `health_path` configured, readiness is the MCP handshake, and the
/// watch samples it without failing on the missing endpoint.
#[tokio::test]
async fn a_server_without_a_health_endpoint_is_ready_when_it_answers_the_handshake() {
    let python = std::env::var("RUNWAY_INTEROP_PY_MCP1").expect(
        "RUNWAY_INTEROP_PY_MCP1 is not set: run ./scripts/test (scripts/setup.d/20-interop.sh installs it)",
    );
    let server =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop/fastmcp1_server.py");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let toml = format!(
        r#"[environments.staging]
url = "http://127.0.0.1:{port}/mcp"
# FastMCP reports the SDK's version, not the release's.
checks = {{ "mcp.version" = false }}

[environments.staging.deploy]
target = "process"
command = [{python:?}, {server:?}, "--port", "{{port}}"]
port = {port}
health_timeout = "30s"

[environments.staging.analysis]
bake = "2s"
interval = "500ms"
min_samples = 2

[environments.staging.gates]
release_check = false
"#,
        server = server.display().to_string()
    );
    std::fs::write(dir.path().join("runway.toml"), toml).unwrap();
    let o = runway_testkit::Test::new()
        .args([
            "-C",
            dir.path().to_str().unwrap(),
            "ship",
            "staging",
            "--version",
            "1.0.0",
        ])
        .env("RUNWAY_OPERATOR", "alice")
        .timeout(Duration::from_secs(120))
        .run();
    let pid = std::fs::read_to_string(dir.path().join(".runway/process/staging.pid"));
    let shown = format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.exit_code(),
        o.stdout_text(),
        o.stderr_text()
    );
    if let Ok(pid) = pid {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", pid.trim())])
            .stderr(Stdio::null())
            .status();
    }
    assert_eq!(o.exit_code(), Some(0), "{shown}");
    assert!(o.stderr_text().contains("watch passed"), "{shown}");
}

#[tokio::test]
async fn a_config_only_change_that_fails_rolls_back_to_the_same_version_with_its_old_environment() {
    let p = Project::new();
    let toml = std::fs::read_to_string(p.path().join("runway.toml")).unwrap();
    let with_mode = |mode: &str| {
        toml.replace(
            "health_timeout = \"20s\"",
            &format!("health_timeout = \"20s\"\nenv = {{ MODE = \"{mode}\" }}"),
        )
    };
    std::fs::write(p.path().join("runway.toml"), with_mode("calm")).unwrap();
    for v in ["0.9.0", "1.0.0"] {
        let o = p.run(&["ship", "staging", "--version", v]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    // Only the environment changes, and the server refuses it at start.
    std::fs::write(p.path().join("runway.toml"), with_mode("broken")).unwrap();
    let o = p.run(&["ship", "staging", "--version", "1.0.0"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    // The operator sees why without opening the ledger.
    assert!(out.contains("last lines of 1.0.0's output"), "{out}");
    assert!(out.contains("| fatal: unknown MODE broken"), "{out}");
    // Only the failed start's own output, not the earlier starts' in the same log.
    assert_eq!(out.matches("| --- runway: starting").count(), 1, "{out}");
    // Back to 1.0.0 as it ran before (not to 0.9.0), with its own MODE.
    assert!(out.contains("rolling back staging to 1.0.0"), "{out}");
    assert_eq!(p.health_version().await.as_deref(), Some("1.0.0"));
    let (environ, _) = listener_environ(&p);
    assert!(environ.contains(&"MODE=calm".to_owned()), "{environ:?}");

    // A manual rollback from there goes to the newest verified state that
    // differs from what runs: 0.9.0 (1.0.0 with `calm` is what runs).
    std::fs::write(p.path().join("runway.toml"), with_mode("calm")).unwrap();
    let o = p.run(&["rollback", "staging"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(p.health_version().await.as_deref(), Some("0.9.0"));
}

#[tokio::test]
async fn a_server_with_a_fixed_server_info_version_ships_once_expect_version_is_off() {
    let p = Project::new();
    let config = p.path().join("runway.toml");
    // The server reports 7.7.7 whatever is deployed (as server-everything
    // reports 2.0.0 in every release).
    let toml = std::fs::read_to_string(&config)
        .unwrap()
        .replace(r#""serve.sh", "{version}""#, r#""serve.sh", "7.7.7""#);
    std::fs::write(&config, &toml).unwrap();
    let o = p.run(&["ship", "staging", "--version", "1.0.0"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("serverInfo.version is `7.7.7`, expected `1.0.0`"),
        "{out}"
    );
    assert!(
        out.contains("expect_version = \"\""),
        "the way out is named: {out}"
    );

    let toml = toml.replace(
        "health_path = \"/health\"",
        "health_path = \"/health\"\nexpect_version = \"\"",
    );
    std::fs::write(&config, toml).unwrap();
    let o = p.run(&["ship", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(p.health_version().await.as_deref(), Some("7.7.7"));
}

#[tokio::test]
async fn a_held_deployment_replaced_by_a_verified_one_does_not_stay_held() {
    let (p, _) = shipped_then_killed_during_the_watch().await;
    assert_eq!(p.deployments().await.last().unwrap().status, "held");

    // 1.2.0 goes out and is verified: 1.1.0 no longer runs and cannot be
    // judged any more, so its record ends, naming what replaced it.
    let o = p.run(&["ship", "staging", "--version", "1.2.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let deps = p.deployments().await;
    let v11 = deps
        .iter()
        .find(|d| d.deployment.release == "1.1.0")
        .unwrap();
    assert_eq!(v11.status, "interrupted", "{:?}", v11.end);
    let reason = v11.end.as_ref().and_then(|e| e.reason.clone()).unwrap();
    assert!(reason.contains("replaced by 1.2.0"), "{reason}");
    assert!(
        deps.iter().all(|d| d.status != "held"),
        "nothing stays held"
    );
}
