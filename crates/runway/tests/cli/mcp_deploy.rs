//! The deploy runbook over MCP, driven by the Python `mcp` SDK's client over
//! stdio: `environment_status` and `deploy_plan` read; with `[mcp]
//! allow_writes`, `deploy` (named by the plan id `deploy_plan` returned) runs
//! the runbook on the process target with the reference server, sending
//! progress, and `rollback` goes back in two steps. The ledger records the
//! deployments under the client's name. With an `[analysis]` table the
//! deploy watches the bake window as `runway ship` does, and a client that
//! cancels the call during the watch aborts the deployment.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use runway_testkit::Test;
use serde_json::{Value, json};

const CLIENT: &str = "deploy-agent";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Project {
    dir: tempfile::TempDir,
    port: u16,
}

impl Project {
    fn new() -> Project {
        Project::with("")
    }

    /// The project, with `extra` appended to its `runway.toml`.
    fn with(extra: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let bin = runway_testkit::cli::runway_bin();
        std::fs::write(
            dir.path().join("serve.sh"),
            format!(
                "#!/bin/sh\nexec {} serve-reference --port \"$2\" --version \"$1\"\n",
                bin.display()
            ),
        )
        .unwrap();
        let toml = format!(
            r#"[mcp]
allow_writes = true

[environments.staging]
url = "http://127.0.0.1:{port}/mcp"
health_path = "/health"

[environments.staging.deploy]
target = "process"
command = ["sh", "serve.sh", "{{version}}", "{{port}}"]
port = {port}
health_timeout = "20s"

[environments.staging.rollback]
auto = true
incident = "P2"

[environments.staging.gates]
release_check = false
{extra}"#
        );
        std::fs::write(dir.path().join("runway.toml"), toml).unwrap();
        Project { dir, port }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Stops whatever the process target left running, whatever the test did:
/// the whole process group the pid file names (the server and its log keeper).
impl Drop for Project {
    fn drop(&mut self) {
        let pid_file = self.path().join(".runway/process/staging.pid");
        if let Ok(pid) = std::fs::read_to_string(pid_file) {
            // procps' `kill` (a shell's builtin may not take `--` before a group).
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", pid.trim())])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

fn python() -> PathBuf {
    let p = std::env::var("RUNWAY_INTEROP_PY_MCP2")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "`RUNWAY_INTEROP_PY_MCP2` is not set: run `scripts/setup.d/20-interop.sh` with \
                 RUNWAY_TEST_ENV=target/test-env.sh and `. target/test-env.sh` (scripts/test does both)"
            )
        });
    PathBuf::from(p)
}

fn run_calls(project: &Project, calls: Value) -> Vec<Value> {
    let out = Test::program(python())
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop/mcp_client.py"))
        .args([CLIENT, "stdio"])
        .arg(runway_testkit::cli::runway_bin())
        .args(["mcp", "-C"])
        .arg(project.path())
        .env("RUNWAY_MCP_CLIENT_CALLS", calls.to_string())
        .env_remove("RUNWAY_LEDGER_URL")
        .timeout(Duration::from_secs(240))
        .run();
    let stdout = out.stdout_text();
    assert_eq!(
        out.exit_code(),
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        out.stderr_text()
    );
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    v["calls"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_plans_deploys_and_rolls_back_in_two_steps() {
    let p = Project::new();
    let env = "staging";
    let deploy = |v: &str| json!({"environment": env, "version": v});
    let with = |mut a: Value| {
        a["plan_id"] = json!("$plan");
        a
    };
    let calls = json!([
        ["environment_status", {"environment": env}],
        // A deploy without a plan id is refused before anything runs.
        ["deploy", {"environment": env, "version": "1.0.0"}],
        ["deploy_plan", deploy("1.0.0")],
        ["deploy", with(deploy("1.0.0"))],
        ["deploy", with(deploy("1.0.0"))],
        ["deploy_plan", deploy("1.1.0")],
        ["deploy", with(deploy("1.1.0"))],
        ["rollback_plan", {"environment": env}],
        ["rollback", {"environment": env, "plan_id": "$plan"}],
        ["environment_status", {"environment": env}],
    ]);
    let r = run_calls(&p, calls.clone());
    let all = serde_json::to_string_pretty(&r).unwrap();

    assert_eq!(r[0]["is_error"], json!(false), "{all}");
    assert_eq!(r[0]["structured"]["running"], Value::Null, "{all}");
    assert_eq!(r[1]["is_error"], json!(true), "{all}");
    assert!(
        r[1]["text"]
            .as_str()
            .unwrap()
            .contains("needs a `plan_id` from `deploy_plan`"),
        "{all}"
    );

    let plan = &r[2]["structured"];
    assert_eq!(plan["refused"], json!(false), "{all}");
    assert_eq!(plan["target"], json!("process"), "{all}");
    assert!(
        plan["plan_id"].as_str().unwrap().starts_with("plan-"),
        "{all}"
    );

    let first = &r[3]["structured"];
    assert_eq!(first["outcome"], json!("verified"), "{all}");
    assert_eq!(first["ok"], json!(true), "{all}");
    assert!(
        !r[3]["progress"].as_array().unwrap().is_empty(),
        "the deploy sent no progress: {all}"
    );
    // The plan was used up by the deploy.
    assert_eq!(r[4]["is_error"], json!(true), "{all}");
    assert!(
        r[4]["text"].as_str().unwrap().contains("already used"),
        "{all}"
    );

    assert_eq!(r[6]["structured"]["outcome"], json!("verified"), "{all}");
    let rb_plan = &r[7]["structured"];
    assert_eq!(rb_plan["would"]["from"], json!("1.1.0"), "{all}");
    assert_eq!(rb_plan["would"]["to"], json!("1.0.0"), "{all}");
    let rolled = &r[8]["structured"];
    assert_eq!(rolled["ok"], json!(true), "{all}");
    assert_eq!(rolled["version"], json!("1.0.0"), "{all}");
    let status = &r[9]["structured"];
    assert_eq!(status["running"]["version"], json!("1.0.0"), "{all}");
    assert_eq!(
        status["last_deployment"]["operator"],
        json!(CLIENT),
        "{all}"
    );

    let url = runway_ledger::LedgerUrl::parse(".runway/ledger.db", p.path()).unwrap();
    let ledger = runway_ledger::open(&url).await.unwrap();
    let filter = runway_ledger::Filter {
        kind: Some(runway_ledger::Kind::Deployment),
        ..Default::default()
    };
    let deployments = ledger.query(&filter, false).await.unwrap();
    ledger.close().await;
    let versions: Vec<&str> = deployments
        .iter()
        .filter_map(|d| d.version.as_deref())
        .collect();
    assert_eq!(versions, ["1.0.0", "1.1.0", "1.0.0"], "{deployments:?}");
    assert!(
        deployments.iter().all(|d| d.operator == CLIENT),
        "{deployments:?}"
    );
}

/// The client for the cancellation test: it names itself and passes every
/// progress notification on.
#[derive(Clone)]
struct Watching(tokio::sync::mpsc::UnboundedSender<rmcp::model::ProgressNotificationParam>);

const CANCELLING_CLIENT: &str = "cancel-agent";

impl rmcp::ClientHandler for Watching {
    async fn on_progress(
        &self,
        params: rmcp::model::ProgressNotificationParam,
        _context: rmcp::service::NotificationContext<rmcp::RoleClient>,
    ) {
        let _ = self.0.send(params);
    }

    fn get_info(&self) -> rmcp::model::ClientConfig {
        rmcp::model::ClientConfig::new(
            rmcp::model::ClientCapabilities::default(),
            rmcp::model::Implementation::new(CANCELLING_CLIENT, "1.0.0"),
        )
    }
}

/// `/health` requests the server has answered, from its `/metrics`.
async fn health_requests(port: u16) -> u64 {
    let body = runway_verify::http::client(Default::default())
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .expect("the deployed server answers /metrics")
        .text()
        .await
        .unwrap();
    body.lines()
        .filter(|l| l.starts_with("http_requests_total{") && l.contains("path=\"/health\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

async fn health_version(port: u16) -> Option<String> {
    let body = runway_verify::http::client(Default::default())
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let v: Value = serde_json::from_str(&body).ok()?;
    v["version"].as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_cancels_during_the_watch_aborts_the_deployment() {
    use rmcp::ServiceExt as _;
    use rmcp::model::{CallToolRequest, CallToolRequestParams, ClientRequest};

    // A watch of ten minutes, a sample every half second: it runs until cancelled.
    let p = Project::with(
        r#"
[environments.staging.analysis]
bake = "10m"
interval = "500ms"
min_samples = 3
consecutive_failures = 3
"#,
    );
    let mut test = Test::new();
    test.args(["mcp", "-C"])
        .arg(p.path())
        .env_remove("RUNWAY_LEDGER_URL");
    let mut server = tokio::process::Command::from(test.into_command());
    server
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let mut child = server.spawn().expect("`runway mcp` starts");
    let (stdin, stdout) = (child.stdin.take().unwrap(), child.stdout.take().unwrap());
    let (tx, mut progress) = tokio::sync::mpsc::unbounded_channel();
    let client = Watching(tx).serve((stdout, stdin)).await.unwrap();

    let args = json!({"environment": "staging", "version": "1.0.0"});
    let mut plan = CallToolRequestParams::new("deploy_plan");
    plan.arguments = args.as_object().cloned();
    let planned = client.call_tool(plan).await.unwrap();
    let planned = planned.structured_content.expect("the plan is structured");
    assert_eq!(planned["refused"], json!(false), "{planned}");
    // The plan says what the deploy will watch.
    assert_eq!(planned["watch"]["bake_secs"], json!(600.0), "{planned}");

    let mut with_plan = args.clone();
    with_plan["plan_id"] = planned["plan_id"].clone();
    let mut call = CallToolRequestParams::new("deploy");
    call.arguments = with_plan.as_object().cloned();
    let handle = client
        .peer()
        .send_cancellable_request(
            ClientRequest::CallToolRequest(CallToolRequest::new(call)),
            rmcp::service::PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    let token = handle.progress_token.clone();

    // Deploy, verify, then the watch's intervals, each with its availability.
    let mut messages = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while messages
        .iter()
        .filter(|m: &&String| m.starts_with("watch: "))
        .count()
        < 3
    {
        let next = tokio::time::timeout_at(deadline, progress.recv())
            .await
            .unwrap_or_else(|_| panic!("fewer than 3 watch intervals within 120 s: {messages:#?}"))
            .expect("the client is still connected");
        assert_eq!(next.progress_token, token);
        messages.push(next.message.unwrap_or_default());
    }
    let watch: Vec<&String> = messages
        .iter()
        .filter(|m| m.starts_with("watch: "))
        .collect();
    assert_eq!(
        watch[..3],
        [
            "watch: 1/1201 intervals, availability 100%",
            "watch: 2/1201 intervals, availability 100%",
            "watch: 3/1201 intervals, availability 100%",
        ],
        "{messages:#?}"
    );
    let deployed = messages
        .iter()
        .position(|m| m == "1.0.0 deployed and healthy")
        .unwrap_or_else(|| panic!("{messages:#?}"));
    let verified = messages
        .iter()
        .position(|m| m.starts_with("verify passed"))
        .unwrap_or_else(|| panic!("{messages:#?}"));
    let first_watch = messages
        .iter()
        .position(|m| m.starts_with("watch: "))
        .unwrap();
    assert!(
        deployed < verified && verified < first_watch,
        "{messages:#?}"
    );

    handle
        .cancel(Some("the agent changed its mind".into()))
        .await
        .unwrap();

    // The call ends: the deployment is recorded `aborted` and the lock is free.
    let url = runway_ledger::LedgerUrl::parse(".runway/ledger.db", p.path()).unwrap();
    let ledger = runway_ledger::open(&url).await.unwrap();
    let filter = runway_ledger::Filter {
        kind: Some(runway_ledger::Kind::Deployment),
        ..Default::default()
    };
    let ended = tokio::time::Instant::now() + Duration::from_secs(20);
    let record = loop {
        let records = ledger.query(&filter, false).await.unwrap();
        assert_eq!(records.len(), 1, "{records:?}");
        if records[0].status() == Some("aborted") {
            break records[0].clone();
        }
        assert!(
            tokio::time::Instant::now() < ended,
            "the cancelled deploy did not end within 20 s: {records:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(record.operator, CANCELLING_CLIENT);
    let view = ledger.deployment_view(&record.id).await.unwrap();
    let end = view.end.as_ref().expect("an aborted deployment has an end");
    let reason = end.reason.as_deref().unwrap();
    assert!(
        reason.starts_with("interrupted by the MCP client's cancellation; 1.0.0 runs unjudged"),
        "{reason}"
    );
    assert_eq!(end.done[0], "gates passed", "{:?}", end.done);
    assert!(
        end.done[1].starts_with("started 1.0.0 (pid "),
        "{:?}",
        end.done
    );
    assert_eq!(end.done[2], "1.0.0 deployed and healthy", "{:?}", end.done);
    assert!(end.done[3].starts_with("verify passed"), "{:?}", end.done);
    assert_eq!(end.done.len(), 4, "{:?}", end.done);
    assert!(ledger.deploy_lock("staging").await.unwrap().is_none());
    ledger.close().await;

    // The watch stopped: no more samples reach the server...
    let before = health_requests(p.port).await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let after = health_requests(p.port).await;
    assert_eq!(before, after, "the watch kept sampling after the cancel");
    // ...and what was deployed keeps running, as after `runway ship` gets SIGTERM:
    // the process target's one server, the one its pid file names.
    assert_eq!(health_version(p.port).await.as_deref(), Some("1.0.0"));
    let pid: i32 = std::fs::read_to_string(p.path().join(".runway/process/staging.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let status = Command::new("kill")
        .args(["-0", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "the recorded server {pid} is gone");

    // The server goes on serving the session, and says the same.
    let mut st = CallToolRequestParams::new("environment_status");
    st.arguments = json!({"environment": "staging"}).as_object().cloned();
    let st = client
        .call_tool(st)
        .await
        .unwrap()
        .structured_content
        .unwrap();
    assert_eq!(st["last_deployment"]["status"], json!("aborted"), "{st}");
    assert_eq!(
        st["last_deployment"]["operator"],
        json!(CANCELLING_CLIENT),
        "{st}"
    );
    assert_eq!(st["running"]["version"], json!("1.0.0"), "{st}");
    assert_eq!(st["deploying"], Value::Null, "{st}");

    // Closing the session ends `runway mcp`: nothing of it is left running.
    client.cancel().await.unwrap();
    let exited = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("`runway mcp` still runs 10 s after its client left")
        .unwrap();
    assert!(exited.success(), "{exited:?}");
}
