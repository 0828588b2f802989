//! Clients nobody here wrote drive `runway mcp`: the MCP Inspector CLI (npm
//! `@modelcontextprotocol/inspector`) and the Python `mcp` SDK's client, over
//! stdio and streamable HTTP. They list the tools, call them, and (with
//! `[mcp] allow_writes`) open an incident in two steps, recorded under their
//! own client name. The clients come from `scripts/setup.d/20-interop.sh`;
//! when one is missing these tests fail and say how to install it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use runway_testkit::Test;
use serde_json::Value;

const TOKEN: &str = "mcp-clients-test-token-5150-qrst";

fn installed(var: &str) -> PathBuf {
    let path = std::env::var(var).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| {
        panic!(
            "`{var}` is not set: run `scripts/setup.d/20-interop.sh` with RUNWAY_TEST_ENV=target/test-env.sh \
             and `. target/test-env.sh` (scripts/test does both) to install the MCP clients"
        )
    });
    let path = PathBuf::from(path);
    assert!(
        path.exists(),
        "`{var}` names `{}`, which does not exist: run `scripts/setup.d/20-interop.sh` again",
        path.display()
    );
    path
}

fn client_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop/mcp_client.py")
}

/// A project whose `runway.toml` allows writes; the ledger is its default one.
fn project(writes: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runway.toml"),
        format!("[project]\nname = \"clients\"\n[mcp]\nallow_writes = {writes}\n"),
    )
    .unwrap();
    dir
}

fn json_out(out: &runway_testkit::cli::Output) -> Value {
    assert_eq!(
        out.exit_code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        out.stdout_text(),
        out.stderr_text()
    );
    json_of(out)
}

/// The JSON a client printed, whatever its exit code (the Inspector exits
/// non-zero when a tool result is an error, and prints the result).
fn json_of(out: &runway_testkit::cli::Output) -> Value {
    let stdout = out.stdout_text();
    // The Inspector prints a banner line first on stdio; the JSON is the rest.
    let start = stdout
        .find('{')
        .unwrap_or_else(|| panic!("no JSON in {stdout}"));
    serde_json::from_str(&stdout[start..]).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

async fn http_server(dir: &Path) -> runway_mcp::Running {
    runway_mcp::spawn_http(
        runway_mcp::Workspace::at(dir).unwrap(),
        runway_mcp::HttpOptions::loopback(Some(TOKEN.into())),
    )
    .await
    .unwrap()
}

async fn incidents(dir: &Path) -> Vec<runway_ledger::Record> {
    let url = runway_ledger::LedgerUrl::default_for(dir);
    runway_ledger::testing::records_of(&url, runway_ledger::Kind::Incident)
        .await
        .unwrap()
}

fn python(name: &str, transport: &str) -> Test {
    let mut t = Test::program(installed("RUNWAY_INTEROP_PY_MCP2"));
    t.arg(client_script())
        .args([name, transport])
        .env("RUNWAY_MCP_CLIENT_TOKEN", TOKEN)
        .env_remove("RUNWAY_LEDGER_URL")
        .timeout(Duration::from_secs(120));
    t
}

fn check_python_run(v: &Value, name: &str) {
    let tools: Vec<&str> = v["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for t in runway_mcp::TOOL_NAMES.iter().chain(runway_mcp::WRITE_TOOLS) {
        assert!(tools.contains(t), "{t} not in {tools:?}");
    }
    assert_eq!(
        v["output_schemas"].as_array().unwrap().len(),
        tools.len(),
        "{v}"
    );
    assert_eq!(v["incident_list"]["is_error"], Value::Bool(false), "{v}");
    assert!(
        v["incident_list"]["structured"]["incidents"].is_array(),
        "{v}"
    );
    assert!(
        v["config"]
            .as_str()
            .unwrap()
            .contains("allow_writes = true"),
        "{v}"
    );
    assert_eq!(v["opened"]["is_error"], Value::Bool(false), "{v}");
    assert_eq!(
        v["opened"]["structured"]["operator"],
        Value::from(name),
        "{v}"
    );
    assert_eq!(v["reused"]["is_error"], Value::Bool(true), "{v}");
    assert!(
        v["reused"]["text"]
            .as_str()
            .unwrap()
            .contains("already used"),
        "{v}"
    );
}

#[test]
fn the_python_sdk_lists_calls_and_writes_over_stdio() {
    let dir = project(true);
    let out = python("python-sdk-stdio", "stdio")
        .arg(runway_testkit::cli::runway_bin())
        .args(["mcp", "-C"])
        .arg(dir.path())
        .run();
    let v = json_out(&out);
    check_python_run(&v, "python-sdk-stdio");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let recorded = rt.block_on(incidents(dir.path()));
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0].operator, "python-sdk-stdio");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_lists_calls_and_writes_over_streamable_http() {
    let dir = project(true);
    let server = http_server(dir.path()).await;
    let mut cmd = python("python-sdk-http", "http");
    cmd.arg(&server.mcp_url);
    let out = tokio::task::spawn_blocking(move || cmd.run())
        .await
        .unwrap();
    let v = json_out(&out);
    check_python_run(&v, "python-sdk-http");
    let recorded = incidents(dir.path()).await;
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0].operator, "python-sdk-http");
    server.shutdown().await;
}

fn inspector(catalog: &Path) -> Test {
    let mut t = Test::program(installed("RUNWAY_INTEROP_INSPECTOR"));
    t.arg("--cli")
        // Its server catalogue would otherwise go to ~/.mcp-inspector.
        .env("MCP_CATALOG_PATH", catalog.join("catalog.json"))
        .env_remove("RUNWAY_LEDGER_URL")
        .timeout(Duration::from_secs(120));
    t
}

#[test]
fn the_inspector_cli_lists_and_calls_the_tools_over_stdio() {
    let dir = project(false);
    let bin = runway_testkit::cli::runway_bin();
    let listed = json_out(
        &inspector(dir.path())
            .arg("--cwd")
            .arg(dir.path())
            .arg(&bin)
            .arg("mcp")
            .args(["--method", "tools/list"])
            .run(),
    );
    let names: Vec<&str> = listed["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    // Writes are off in this project: only the reading tools.
    assert_eq!(names, runway_mcp::TOOL_NAMES);
    assert!(listed["tools"][0]["outputSchema"].is_object(), "{listed}");

    let called = json_out(
        &inspector(dir.path())
            .arg("--cwd")
            .arg(dir.path())
            .arg(&bin)
            .arg("mcp")
            .args(["--method", "tools/call", "--tool-name", "ledger_list"])
            .args(["--tool-arg", "kind=incident"])
            .run(),
    );
    assert_eq!(
        called["structuredContent"]["records"],
        Value::Array(Vec::new()),
        "{called}"
    );
    assert_ne!(called["isError"], Value::Bool(true), "{called}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inspector_cli_plans_over_streamable_http_and_a_second_process_cannot_redeem_it() {
    let dir = project(true);
    let server = http_server(dir.path()).await;
    let run_as = |args: Vec<String>, tool_error: bool| {
        let mut cmd = inspector(dir.path());
        cmd.arg(&server.mcp_url)
            .args(["--transport", "http", "--header"])
            .arg(format!("Authorization: Bearer {TOKEN}"))
            .args(args);
        async move {
            let out = tokio::task::spawn_blocking(move || cmd.run())
                .await
                .unwrap();
            if tool_error {
                assert_ne!(out.exit_code(), Some(0), "{}", out.stdout_text());
                json_of(&out)
            } else {
                json_out(&out)
            }
        }
    };
    let run = |args: Vec<String>| run_as(args, false);
    let listed = run(vec!["--method".into(), "tools/list".into()]).await;
    let names: Vec<&str> = listed["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"incident_open_plan"), "{names:?}");
    assert!(names.contains(&"incident_open"), "{names:?}");

    let call = |tool: &str, extra: &[String]| {
        let mut a: Vec<String> = ["--method", "tools/call", "--tool-name", tool, "--tool-arg"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        a.push("severity=P1".into());
        a.push("title=inspector says hello".into());
        a.extend_from_slice(extra);
        a
    };
    // Two Inspector processes are two sessions with the same `clientInfo.name`:
    // a plan is bound to the session that asked for it, so the second process
    // cannot redeem the first one's plan, and nothing is written. (The Python
    // SDK test writes over HTTP within one session.)
    let plan = run(call("incident_open_plan", &[])).await;
    let plan_id = plan["structuredContent"]["plan_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{plan}"))
        .to_owned();
    let borrowed = run_as(call("incident_open", &[format!("plan_id={plan_id}")]), true).await;
    assert_eq!(borrowed["isError"], Value::Bool(true), "{borrowed}");
    assert!(
        borrowed.to_string().contains("another MCP session"),
        "{borrowed}"
    );
    assert!(incidents(dir.path()).await.is_empty());
    server.shutdown().await;
}

/// `structuredContent` is what `--format json` prints: a deployment's
/// `ledger show` (record plus view) and `release status` with the tool surface
/// captured from `[release.surface_source]`.
#[test]
fn results_are_the_json_the_cli_prints_for_the_same_question() {
    let bin = runway_testkit::cli::runway_bin();
    let repo = runway_testkit::git::Repo::new();
    repo.pyproject("1.0.0");
    repo.write(
        "runway.toml",
        &format!(
            "[project]\nname = \"parity\"\n[release.surface_source]\ncommand = [{:?}, \"serve-reference\", \"--stdio\"]\n",
            bin.display().to_string()
        ),
    );
    // The surface committed at the last release had no tools: every tool now is new.
    repo.write(".runway/tool-surface.json", "{\"tools\": []}\n");
    repo.commit_all("chore: start");
    repo.tag("v1.0.0");
    repo.commit("feat: a new tool");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let dep = rt.block_on(async {
        let l = runway_ledger::open(&runway_ledger::LedgerUrl::default_for(repo.path()))
            .await
            .unwrap();
        let mut d = runway_ledger::Deployment::new("production", "1.0.0");
        d.git_sha = Some(repo.head());
        d.window = runway_ledger::WindowDecision::NoWindow;
        let id = l.record_deployment(&d).await.unwrap();
        l.finish_deployment(
            &id,
            &runway_ledger::DeploymentEnd::new(runway_ledger::Outcome::Verified),
        )
        .await
        .unwrap();
        l.close().await;
        id
    });

    let cli = |args: &[&str]| -> Value {
        let out = Test::new()
            .env_remove("RUNWAY_LEDGER_URL")
            .arg("-C")
            .arg(repo.path())
            .args(args)
            .timeout(Duration::from_secs(120))
            .run();
        assert_eq!(out.exit_code(), Some(0), "{}", out.stderr_text());
        serde_json::from_str(&out.stdout_text()).unwrap()
    };
    let show = cli(&["ledger", "show", &dep, "--format", "json"]);
    let status = cli(&["release", "status", "--format", "json"]);
    assert!(show["deployment_view"].is_object(), "{show}");
    assert!(
        !status["surface"].is_null(),
        "the CLI captured no surface: {status}"
    );

    let calls = serde_json::json!([
        ["ledger_show", {"id": dep}],
        ["release_status", {}],
        ["release_status", {"no_surface": true}],
    ]);
    let out = python("parity", "stdio")
        .env("RUNWAY_MCP_CLIENT_CALLS", calls.to_string())
        .arg(&bin)
        .args(["mcp", "-C"])
        .arg(repo.path())
        .run();
    let v = json_out(&out);
    let calls = v["calls"].as_array().unwrap();
    assert_eq!(calls[0]["structured"], show, "{v}");
    assert_eq!(calls[1]["structured"], status, "{v}");
    assert!(calls[2]["structured"]["surface"].is_null(), "{v}");
}
