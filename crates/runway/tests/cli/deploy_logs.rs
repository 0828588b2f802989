//! The deployed version's output, read through the process target: the
//! `logs` analysis source (Tabcorp: "watch logs for the first 15-30 minutes
//! for error patterns") fails the watch of a release that logs ERROR lines
//! (the reference server's `log-errors` fault) though every probe passes,
//! and the release is rolled back.

use std::{
    net::TcpListener,
    path::Path,
    process::{Command, Output, Stdio},
};

use runway_ledger::{Kind, Ledger, LedgerUrl, Outcome};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// 2.0.0 runs with `faults`; every version logs its requests as `format`.
    fn new(faults: &str, format: &str, extra: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let bin = runway_testkit::runway_bin();
        std::fs::write(
            dir.path().join("serve.sh"),
            format!(
                "#!/bin/sh\nfaults=\"\"\nif [ \"$1\" = 2.0.0 ]; then faults={faults}; fi\n\
                 exec {} serve-reference --port \"$2\" --version \"$1\" --log-requests {format} --faults \"$faults\"\n",
                bin.display()
            ),
        )
        .unwrap();
        let toml = format!(
            r#"[environments.staging]
url = "http://127.0.0.1:{port}/mcp"
health_path = "/health"

[environments.staging.deploy]
target = "process"
command = ["sh", "serve.sh", "{{version}}", "{{port}}"]
port = {port}
health_timeout = "20s"

[environments.staging.analysis]
bake = "6s"
interval = "1s"
min_samples = 3
consecutive_failures = 3

[[environments.staging.analysis.conditions]]
name = "errors in logs"
source = "logs"
max_per_minute = 10
baseline_factor = 2.0

{extra}

[environments.staging.rollback]
auto = true
incident = "P1"

[environments.staging.gates]
release_check = false
"#
        );
        std::fs::write(dir.path().join("runway.toml"), toml).unwrap();
        Project { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut c = runway_testkit::Test::new().into_command();
        c.args(["-C", self.path().to_str().unwrap()])
            .args(args)
            .env("RUNWAY_OPERATOR", "alice")
            .env_remove("RUNWAY_LEDGER_URL")
            .env_remove("RUNWAY_REFERENCE_FAULTS")
            .stdin(Stdio::null());
        c.output().unwrap()
    }

    async fn ledger(&self) -> Box<dyn Ledger> {
        let url = LedgerUrl::parse(".runway/ledger.db", self.path()).unwrap();
        runway_ledger::open(&url).await.unwrap()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let pid_file = self.path().join(".runway/process/staging.pid");
        if let Ok(pid) = std::fs::read_to_string(pid_file) {
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
async fn a_release_that_logs_errors_fails_the_watch_on_its_logs_and_is_rolled_back() {
    let p = Project::new("log-errors", "text", "");
    let o = p.run(&["ship", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    // 1.0.0 logs INFO lines only: 0 a minute.
    assert!(
        err.contains("condition `errors in logs` (logs): pass: errors in logs = 0"),
        "{err}"
    );

    let o = p.run(&["ship", "staging", "--version", "2.0.0"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let v2_watch = err.split("watching staging").nth(1).unwrap_or_default();
    // The probe sees a healthy server: only its output says otherwise.
    assert!(v2_watch.contains("sample 1: ok"), "{err}");
    assert!(!v2_watch.contains(": FAIL"), "a probe failed: {err}");
    assert!(
        v2_watch.contains("condition `errors in logs` (logs): fail"),
        "{err}"
    );
    assert!(err.contains("above the maximum 10"), "{err}");
    assert!(err.contains("rolled back to 1.0.0"), "{err}");

    let l = p.ledger().await;
    let deps = deployments(l.as_ref()).await;
    assert_eq!(deps.len(), 2);
    assert_eq!(deps[1].status, Outcome::RolledBack.as_str());
    assert!(
        deps[1].incidents[0]
            .title
            .contains("condition `errors in logs`"),
        "{}",
        deps[1].incidents[0].title
    );
    // The process target's log holds 2.0.0's ERROR lines after its start marker.
    let log = std::fs::read_to_string(p.path().join(".runway/process/staging.log")).unwrap();
    assert!(log.contains("ERROR req-"), "{log}");
}

/// Hostaway 6: JSON logs with timestamp, level, correlation_id, message.
const HOSTAWAY_LOGS: &str = r#"[environments.staging.logs]
format = "json"
fields = ["timestamp", "level", "correlation_id", "message"]
lines = 200
"#;

#[tokio::test]
async fn the_logs_check_passes_json_lines_and_fails_a_text_logging_server_at_its_first_line() {
    let p = Project::new("log-errors", "json", HOSTAWAY_LOGS);
    let o = p.run(&["ship", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("logs check passed: the last "), "{err}");
    assert!(err.contains("are JSON with the required fields"), "{err}");
    let v1 = err.split("watching staging").next().unwrap_or_default();
    assert!(v1.contains("verify passed"), "{err}");

    // The same server logging text: refused after verify, and stopped
    // (a first deployment has nothing to roll back to).
    let p = Project::new("", "text", HOSTAWAY_LOGS);
    let o = p.run(&["ship", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("verify passed"), "{err}");
    assert!(
        err.contains("logs check failed: line 1 of the last "),
        "{err}"
    );
    assert!(
        err.contains("is not JSON: listening on http://127.0.0.1:"),
        "{err}"
    );
    assert!(!err.contains("watching staging"), "{err}");
}

/// Hostaway: "memory > 80%, CPU < 70%", as `resources` conditions on the
/// process target's process group (the server and Runway's log keeper).
const RESOURCES: &str = r#"[[environments.staging.analysis.conditions]]
name = "memory"
source = "resources"
memory_max_mb = 200

[[environments.staging.analysis.conditions]]
name = "cpu"
source = "resources"
cpu_max_ratio = 0.7
"#;

/// The monitor judges the same conditions between deploys: a `resources`
/// alert rule reads the server's process group through the deploy target.
#[tokio::test]
async fn a_resources_alert_rule_fires_in_the_monitor_on_a_server_over_its_memory() {
    let monitored = format!(
        "{RESOURCES}\n[environments.staging.monitor]\ninterval = \"2s\"\n\n\
         [[alerts]]\nname = \"memory\"\nenvironment = \"staging\"\nsource = \"resources\"\n\
         condition = \"memory\"\nlevel = \"critical\"\n"
    );
    let p = Project::new("hog-memory=300", "text", &monitored);
    // 2.0.0 holds 300 MB from its start; `deploy` does not watch it.
    let o = p.run(&["deploy", "staging", "--version", "2.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = p.run(&["monitor", "--once"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("ALERT memory [critical] staging firing"),
        "{}",
        text(&o)
    );
    let l = p.ledger().await;
    let open = l.open_alerts().await.unwrap();
    let a = open
        .iter()
        .find(|a| a.rule == "memory")
        .unwrap_or_else(|| panic!("`memory` is not open: {open:?}"));
    assert_eq!(a.state, runway_ledger::AlertState::Firing);

    // 1.0.0 is within the limit: the next run (one interval later) resolves it.
    let o = p.run(&["deploy", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let o = p.run(&["monitor", "--once"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("ALERT memory [critical] staging resolved"),
        "{}",
        text(&o)
    );
}

/// `runway verify ENV` runs the `[logs]` policy too, as the check
/// `logs.format`, on what the environment's target runs now.
#[tokio::test]
async fn verify_of_an_environment_checks_its_output_against_the_logs_policy() {
    let p = Project::new("", "json", HOSTAWAY_LOGS);
    let o = p.run(&["deploy", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = p.run(&["verify", "staging", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "logs.format")
        .unwrap_or_else(|| panic!("no logs.format: {report}"))
        .clone();
    assert_eq!(check["status"], "pass", "{check}");
    assert_eq!(
        check["evidence"]["details"]["kind"], "expectation",
        "{check}"
    );
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .contains("are JSON with the required fields"),
        "{check}"
    );

    // A field the server never logs: the check fails, naming the line.
    let toml = std::fs::read_to_string(p.path().join("runway.toml"))
        .unwrap()
        .replace("\"message\"]", "\"message\", \"tenant\"]");
    std::fs::write(p.path().join("runway.toml"), toml).unwrap();
    let o = p.run(&["verify", "staging"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains("logs.format"), "{out}");
    assert!(out.contains("tenant"), "{out}");
    // `--only mcp` leaves it out; a URL has no target to read.
    let o = p.run(&["verify", "staging", "--only", "mcp", "--format", "json"]);
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("logs.format"),
        "{}",
        text(&o)
    );
    // Nothing runs: the last run's output is not judged.
    let pid = std::fs::read_to_string(p.path().join(".runway/process/staging.pid")).unwrap();
    Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", pid.trim())])
        .status()
        .unwrap();
    let gone = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let o = loop {
        let o = p.run(&["verify", "staging", "--only", "logs", "--format", "json"]);
        if String::from_utf8_lossy(&o.stdout).contains("no server runs")
            || std::time::Instant::now() > gone
        {
            break o;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // The only check: `--only logs` ran it, so the engine's "no check ran" is gone.
    assert_eq!(report["checks"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["checks"][0]["id"], "logs.format", "{report}");
    assert_eq!(report["checks"][0]["status"], "skip", "{report}");
}

#[tokio::test]
async fn a_release_that_holds_too_much_memory_fails_the_watch_on_resources() {
    let p = Project::new("hog-memory=300", "text", RESOURCES);
    let o = p.run(&["ship", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.contains("condition `memory` (resources): pass: memory = "),
        "{err}"
    );
    // CPU is judged from the second reading on: an idle server is well under 0.7.
    assert!(
        err.contains("condition `cpu` (resources): pass: cpu = "),
        "{err}"
    );

    let o = p.run(&["ship", "staging", "--version", "2.0.0"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let v2_watch = err.split("watching staging").nth(1).unwrap_or_default();
    assert!(!v2_watch.contains(": FAIL"), "a probe failed: {err}");
    assert!(
        v2_watch.contains("condition `memory` (resources): fail"),
        "{err}"
    );
    assert!(err.contains("above the maximum 200"), "{err}");
    assert!(err.contains("rolled back to 1.0.0"), "{err}");
    let l = p.ledger().await;
    let deps = deployments(l.as_ref()).await;
    assert_eq!(deps[1].status, Outcome::RolledBack.as_str());
}

#[test]
fn resources_conditions_are_refused_for_a_command_target() {
    let p = Project::new("", "text", RESOURCES);
    let toml = std::fs::read_to_string(p.path().join("runway.toml"))
        .unwrap()
        .replace("target = \"process\"", "target = \"command\"")
        .replace(
            "command = [\"sh\", \"serve.sh\", \"{version}\", \"{port}\"]\n",
            "deploy = [\"sh\", \"serve.sh\", \"{version}\"]\n",
        );
    let toml = toml
        .lines()
        .filter(|l| !l.starts_with("port = "))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(p.path().join("runway.toml"), toml).unwrap();
    let o = p.run(&["plan", "staging", "--version", "1.0.0"]);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.contains("condition `memory` reads `resources`")
            && err.contains("only the `process` and `docker` targets have"),
        "{err}"
    );
}

/// `runway triage` reads the same output: the `[logs]` policy (a problem
/// when the server logs text) and the `logs` and `resources` conditions
/// over its window.
#[tokio::test]
async fn triage_shows_the_logs_policy_and_the_output_conditions() {
    let p = Project::new("", "text", RESOURCES);
    let o = p.run(&["ship", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // The policy set afterwards: the running server logs text.
    let toml = std::fs::read_to_string(p.path().join("runway.toml")).unwrap();
    std::fs::write(
        p.path().join("runway.toml"),
        format!("{toml}\n{HOSTAWAY_LOGS}"),
    )
    .unwrap();
    let o = p.run(&["triage", "staging", "--window", "2s", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(t["logs"]["status"], "failed", "{t}");
    let message = t["logs"]["message"].as_str().unwrap();
    assert!(message.contains("is not JSON"), "{message}");
    assert!(
        t["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().starts_with("logs: line ")),
        "{t}"
    );
    let conditions = t["traffic"]["conditions"].as_array().unwrap();
    let by = |n: &str| {
        conditions
            .iter()
            .find(|c| c["condition"] == n)
            .unwrap_or_else(|| panic!("no `{n}` in {t}"))
    };
    assert_eq!(by("errors in logs")["verdict"], "pass", "{t}");
    assert_eq!(by("errors in logs")["value"], 0.0, "{t}");
    assert_eq!(by("memory")["verdict"], "pass", "{t}");
    assert!(by("memory")["value"].as_f64().unwrap() > 1.0, "{t}");
    assert_eq!(by("cpu")["verdict"], "pass", "{t}");
}
