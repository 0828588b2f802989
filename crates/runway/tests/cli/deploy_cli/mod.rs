//! `runway ship|deploy|rollback|plan|status` end to end on the process target,
//! with the reference server (`runway serve-reference`) as the deployed server.
//! Results are asserted from the ledger and from the wire.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
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

/// A project whose `staging` runs the reference server: 2.0.0 is the bad
/// release (its tool calls fail after the first verify's).
struct Project {
    dir: tempfile::TempDir,
    port: u16,
}

impl Project {
    fn new(extra: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let script = dir.path().join("serve.sh");
        let bin = runway_testkit::runway_bin();
        let bin = bin.display();
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nfaults=\"\"\nif [ \"$1\" = 2.0.0 ]; then faults=fail-after=1; fi\nexec {bin} serve-reference --port \"$2\" --version \"$1\" --faults \"$faults\"\n"
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
{extra}
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
}

/// Stops whatever the process target left running, whatever the test did.
impl Drop for Project {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.pid_file()) {
            let _ = Command::new("kill")
                // procps' `kill`: dash's builtin refuses `--` before a group.
                .args(["-KILL", "--", &format!("-{}", pid.trim())])
                .stderr(std::process::Stdio::null())
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

#[tokio::test]
async fn v1_ships_v2_fails_its_watch_is_rolled_back_and_an_incident_is_opened() {
    let p = Project::new("");
    let o = p.run(&["ship", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(p.health_version().await.as_deref(), Some("1.0.0"));

    let o = p.run(&["ship", "staging", "--version", "2.0.0"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("verify passed"), "{err}");
    assert!(err.contains("watch failed"), "{err}");
    assert!(err.contains("rolled back to 1.0.0"), "{err}");
    // The wire says 1.0.0 again.
    assert_eq!(p.health_version().await.as_deref(), Some("1.0.0"));

    let l = p.ledger().await;
    let deps = deployments(l.as_ref()).await;
    assert_eq!(deps.len(), 2);
    let (v1, v2) = (&deps[0], &deps[1]);
    assert_eq!(v1.deployment.release, "1.0.0");
    assert_eq!(v1.status, "verified");
    assert_eq!(v1.analyses.len(), 1);
    assert_eq!(v1.analyses[0].verdict.as_str(), "pass");
    assert_eq!(v1.operator, "alice");
    assert_eq!(v2.deployment.release, "2.0.0");
    assert_eq!(v2.status, Outcome::RolledBack.as_str());
    assert_eq!(v2.analyses[0].verdict.as_str(), "fail");
    assert!(
        v2.analyses[0]
            .failing
            .as_deref()
            .unwrap()
            .contains("in a row")
    );
    assert_eq!(v2.rollbacks.len(), 1);
    let rb = &v2.rollbacks[0];
    assert_eq!(rb.to_version.as_deref(), Some("1.0.0"));
    assert!(rb.ok, "{rb:?}");
    assert!(rb.automatic);
    assert!(
        rb.to_artifact
            .as_deref()
            .unwrap()
            .contains("serve.sh 1.0.0"),
        "{rb:?}"
    );
    assert!(rb.back_to_baseline.is_some(), "{rb:?}");
    assert_eq!(
        v2.verifications.len(),
        2,
        "the first verify, and the one after the rollback"
    );
    assert_eq!(v2.incidents.len(), 1);
    assert_eq!(v2.incidents[0].severity.to_string(), "P1");
    assert!(!v2.logs.is_empty(), "the failed version's output is kept");
    assert!(
        v2.logs[0].text.contains("starting staging 2.0.0"),
        "{:?}",
        v2.logs[0]
    );
    assert_eq!(
        v2.deployment
            .changes
            .as_ref()
            .unwrap()
            .previous_version
            .as_deref(),
        Some("1.0.0")
    );

    // status agrees with the wire and the ledger: 1.0.0, no drift.
    let o = p.run(&["status", "staging", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["running"]["version"], "1.0.0");
    assert_eq!(doc["drift"], serde_json::Value::Null);
}

#[tokio::test]
async fn rollback_goes_back_to_the_previous_verified_version_and_verifies_it() {
    let p = Project::new("");
    for v in ["1.0.0", "1.1.0"] {
        let o = p.run(&["deploy", "staging", "--version", v]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    assert_eq!(p.health_version().await.as_deref(), Some("1.1.0"));
    let o = p.run(&["rollback", "staging"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(p.health_version().await.as_deref(), Some("1.0.0"));
    let l = p.ledger().await;
    let deps = deployments(l.as_ref()).await;
    let back = deps.last().unwrap();
    assert_eq!(back.deployment.release, "1.0.0");
    assert_eq!(
        back.deployment.rollback_of.as_deref(),
        Some(deps[1].id.as_str())
    );
    assert_eq!(back.status, "verified");
    assert_eq!(back.verifications.len(), 1);
}

#[tokio::test]
async fn a_second_deploy_is_refused_and_a_signal_aborts_the_first() {
    let p = Project::new("");
    // 3.0.0 never answers its health endpoint: the deploy sits in its health wait.
    std::fs::write(p.path().join("serve.sh"), "#!/bin/sh\nexec sleep 60\n").unwrap();
    let mut first = p
        .cmd(&["deploy", "staging", "--version", "3.0.0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !p.pid_file().exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the first deploy never started"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let o = p.run(&["deploy", "staging", "--version", "3.0.1"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is being deployed by alice"),
        "{}",
        text(&o)
    );

    let status = Command::new("kill")
        .args(["-TERM", &first.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let waited = Instant::now();
    let code = loop {
        if let Some(s) = first.try_wait().unwrap() {
            break s.code();
        }
        assert!(
            waited.elapsed() < Duration::from_secs(15),
            "SIGTERM did not stop the deploy"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(code, Some(1));

    let l = p.ledger().await;
    let deps = deployments(l.as_ref()).await;
    assert_eq!(deps.len(), 1, "the refused deploy left no record");
    assert_eq!(deps[0].status, Outcome::Aborted.as_str());
    let end = deps[0].end.as_ref().unwrap();
    let reason = end.reason.as_deref().unwrap();
    assert!(reason.starts_with("interrupted by SIGTERM; "), "{reason}");
    assert!(reason.contains("`runway rollback staging`"), "{reason}");
    // The target's steps are in the list, from its journal.
    assert_eq!(end.done[0], "gates passed");
    assert!(
        end.done[1].starts_with("started 3.0.0 (pid "),
        "{:?}",
        end.done
    );
    assert!(
        deps[0]
            .steps
            .iter()
            .any(|s| s.intent && s.step.starts_with("start 3.0.0")),
        "the intent was journaled before the start: {:?}",
        deps[0].steps
    );
    // The lock went with it: the next deploy may go.
    assert!(l.deploy_lock("staging").await.unwrap().is_none());
}

fn plan(p: &Project, extra: &[&str]) -> Output {
    let mut args = vec!["plan", "staging", "--version", "1.0.0"];
    args.extend_from_slice(extra);
    p.run(&args)
}

fn gate_line(o: &Output, gate: &str) -> String {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .find(|l| l.trim_start().starts_with(gate))
        .unwrap_or_else(|| panic!("no `{gate}` line in {}", text(o)))
        .to_owned()
}

#[tokio::test]
async fn each_gate_refuses_and_is_then_satisfied_or_overridden() {
    // Approvals: none given, the operator, then someone else.
    let p = Project::new(
        "approvals = 1\nrequired_env = [\"RUNWAY_TEST_DEPLOY_KEY\"]\nsecret_files = [\"secrets/key.pem\"]",
    );
    let o = plan(&p, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(gate_line(&o, "approvals").contains("refuse"));
    assert!(gate_line(&o, "env").contains("not set: RUNWAY_TEST_DEPLOY_KEY"));
    assert!(gate_line(&o, "secret_files").contains("missing: secrets/key.pem"));
    let o = plan(&p, &["--approver", "alice"]);
    assert!(
        gate_line(&o, "approvals").contains("alice is the operator"),
        "{}",
        text(&o)
    );

    std::fs::create_dir_all(p.path().join("secrets")).unwrap();
    std::fs::write(p.path().join("secrets/key.pem"), "not really a key").unwrap();
    let o = p
        .cmd(&["plan", "staging", "--version", "1.0.0", "--approver", "bob"])
        .env("RUNWAY_TEST_DEPLOY_KEY", "value-never-printed")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(gate_line(&o, "approvals").contains("pass"));
    assert!(gate_line(&o, "env").contains("set: RUNWAY_TEST_DEPLOY_KEY"));
    assert!(!text(&o).contains("value-never-printed"));

    // The window: no allowed span at all refuses; an emergency for an open P1 with an approver overrides.
    let p = Project::new("");
    let toml = std::fs::read_to_string(p.path().join("runway.toml")).unwrap()
        + "\n[environments.staging.window]\nallow = []\nblock = []\n";
    std::fs::write(p.path().join("runway.toml"), toml).unwrap();
    let o = plan(&p, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(gate_line(&o, "window").contains("outside every allowed span"));
    let inc = p.run(&[
        "incident",
        "open",
        "--sev",
        "P1",
        "--title",
        "checkout is down",
    ]);
    assert!(inc.status.success(), "{}", text(&inc));
    let id = String::from_utf8_lossy(&inc.stdout)
        .split_whitespace()
        .last()
        .unwrap()
        .trim_matches('`')
        .to_owned();
    let o = plan(&p, &["--emergency", &id]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "an emergency without an approver: {}",
        text(&o)
    );
    let o = plan(&p, &["--emergency", &id, "--approver", "bob"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        gate_line(&o, "window").contains("overridden"),
        "{}",
        text(&o)
    );
    // Deploying under the emergency records it.
    let o = p.run(&[
        "deploy",
        "staging",
        "--version",
        "1.0.0",
        "--emergency",
        &id,
        "--approver",
        "bob",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let l = p.ledger().await;
    let deps = deployments(l.as_ref()).await;
    match &deps[0].deployment.window {
        runway_ledger::WindowDecision::Emergency {
            incident, approver, ..
        } => {
            assert_eq!(incident, &id);
            assert_eq!(approver, "bob");
        }
        other => panic!("{other:?}"),
    }
    // A P3 incident does not allow it.
    let inc = p.run(&["incident", "open", "--sev", "P3", "--title", "typo"]);
    let p3 = String::from_utf8_lossy(&inc.stdout)
        .split_whitespace()
        .last()
        .unwrap()
        .trim_matches('`')
        .to_owned();
    let o = plan(&p, &["--emergency", &p3, "--approver", "bob"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        gate_line(&o, "window").contains("only a P0 or P1"),
        "{}",
        text(&o)
    );

    // The rollback artifact: the previous command line must still be runnable.
    let o = p.run(&[
        "plan",
        "staging",
        "--version",
        "1.1.0",
        "--emergency",
        &id,
        "--approver",
        "bob",
    ]);
    assert!(
        gate_line(&o, "rollback_artifact").contains("pass"),
        "{}",
        text(&o)
    );
}

#[tokio::test]
async fn the_release_check_is_judged_at_the_tag() {
    let p = Project::new("");
    let toml = std::fs::read_to_string(p.path().join("runway.toml"))
        .unwrap()
        .replace("release_check = false", "release_check = true");
    std::fs::write(p.path().join("runway.toml"), toml).unwrap();
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .args(args)
            .current_dir(p.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(o.status.success(), "git {args:?}: {}", text(&o));
    };
    git(&["init", "-q", "-b", "main"]);
    std::fs::write(p.path().join("VERSION"), "1.0.0\n").unwrap();
    std::fs::write(
        p.path().join("CHANGELOG.md"),
        "# Changelog\n\n## [1.0.0] - 2026-12-01\n\n- first\n",
    )
    .unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "feat: first"]);
    let o = plan(&p, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        gate_line(&o, "release_check").contains("no tag `v1.0.0`"),
        "{}",
        text(&o)
    );
    git(&["tag", "v1.0.0"]);
    // The working tree moves on; 1.0.0 is still judged at its tag.
    std::fs::write(p.path().join("VERSION"), "1.1.0-dev\n").unwrap();
    let o = plan(&p, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        gate_line(&o, "release_check").contains("pass"),
        "{}",
        text(&o)
    );
}

#[tokio::test]
async fn the_demo_runs_the_whole_runbook_with_no_set_up() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let o = Command::new(runway_testkit::runway_bin())
        .arg("demo")
        .env("TMPDIR", dir.path())
        .env("RUNWAY_OPERATOR", "demo")
        .env_remove("RUNWAY_LEDGER_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(started.elapsed() < Duration::from_secs(60));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("1.0.0: shipped and verified"), "{}", text(&o));
    assert!(
        out.contains("rolled back to 1.0.0, incident opened"),
        "{}",
        text(&o)
    );
    // The ledger the demo wrote in its scratch project.
    let project = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("runway-demo-"))
        })
        .expect("the demo's scratch project");
    let url = LedgerUrl::parse(".runway/ledger.db", &project).unwrap();
    let ledger = runway_ledger::open(&url).await.unwrap();
    let d = deployments(ledger.as_ref()).await;
    assert_eq!(d.len(), 2, "{d:#?}");
    let (v1, v2) = (&d[0], &d[1]);
    assert_eq!(v1.deployment.release, "1.0.0");
    assert_eq!(v1.status, Outcome::Verified.as_str());
    assert_eq!(v2.deployment.release, "2.0.0");
    assert_eq!(v2.status, Outcome::RolledBack.as_str());
    // 2.0.0 passed its first verify (the version it reported on the wire was
    // 2.0.0) and failed only under the watch's traffic.
    assert_eq!(
        v2.verifications.first().map(|v| v.status.as_str()),
        Some("passed")
    );
    // After the rollback, the verify (which expects 1.0.0 on the wire) passed.
    let after = v2.rollbacks[0].verification_id.as_deref().unwrap();
    assert!(
        v2.verifications
            .iter()
            .any(|v| v.id == after && v.status == "passed"),
        "{v2:#?}"
    );
    assert_eq!(
        v2.analyses.last().map(|a| a.verdict),
        Some(runway_ledger::AnalysisVerdict::Fail)
    );
    assert_eq!(v2.rollbacks.len(), 1);
    assert!(v2.rollbacks[0].ok, "{:?}", v2.rollbacks[0]);
    assert_eq!(v2.rollbacks[0].to_version.as_deref(), Some("1.0.0"));
    assert_eq!(v2.incidents.len(), 1);
    assert!(
        v2.logs.iter().any(|l| l.text.contains("2.0.0")),
        "the failed version's output is kept: {:?}",
        v2.logs
    );
    // Nothing is left running (a zombie waiting for init to reap it is not running).
    let pid =
        std::fs::read_to_string(project.join(".runway/process/staging.pid")).unwrap_or_default();
    let running = || {
        std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
            .ok()
            .and_then(|s| s.rsplit(')').next().map(|r| r.trim().to_owned()))
            .is_some_and(|r| !r.starts_with('Z') && !r.starts_with('X'))
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pid.trim().is_empty() && running() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        pid.trim().is_empty() || !running(),
        "the demo left its server (pid {pid}) running"
    );
}

#[test]
fn error_labels_are_plain_text_unless_colour_is_wanted() {
    let p = Project::new("");
    let escapes = |o: &Output| o.stderr.contains(&0x1b);
    // stderr is a pipe and `NO_COLOR` is unset: no escape codes.
    let mut c = p.cmd(&["rollback", "staging"]);
    c.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("error: nothing to roll back to"),
        "{}",
        text(&o)
    );
    assert!(!escapes(&o), "{}", text(&o));
    // Forced colour shows the labels are styled when colour is wanted...
    let mut c = p.cmd(&["rollback", "staging"]);
    c.env_remove("NO_COLOR").env("CLICOLOR_FORCE", "1");
    assert!(escapes(&c.output().unwrap()));
    // ...and `NO_COLOR` wins over it.
    let mut c = p.cmd(&["rollback", "staging"]);
    c.env("NO_COLOR", "1").env("CLICOLOR_FORCE", "1");
    let o = c.output().unwrap();
    assert!(!escapes(&o), "{}", text(&o));
}

mod incident;
mod performance;
mod records;
