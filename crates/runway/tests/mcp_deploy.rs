//! The deploy runbook over MCP, driven by the Python `mcp` SDK's client over
//! stdio: `environment_status` and `deploy_plan` read; with `[mcp]
//! allow_writes`, `deploy` (named by the plan id `deploy_plan` returned) runs
//! the runbook on the process target with the reference server, sending
//! progress, and `rollback` goes back in two steps. The ledger records the
//! deployments under the client's name.

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
}

impl Project {
    fn new() -> Project {
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
"#
        );
        std::fs::write(dir.path().join("runway.toml"), toml).unwrap();
        Project { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Stops whatever the process target left running, whatever the test did.
impl Drop for Project {
    fn drop(&mut self) {
        let pid_file = self.path().join(".runway/process/staging.pid");
        if let Ok(pid) = std::fs::read_to_string(pid_file) {
            let _ = Command::new("sh")
                .args(["-c", &format!("kill -KILL -- -{} 2>/dev/null", pid.trim())])
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
