//! Names, versions, placeholders and every variable a runbook needs are
//! checked before anything runs: each bad input exits 2 through the real
//! binary, and the project, the process target's files and the ledger are
//! read back to show that nothing was started, written or recorded.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use runway_ledger::{Kind, Ledger, LedgerUrl};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A project whose environment `name` runs the reference server through
/// `serve.sh`, which first leaves a `started` file behind: its absence is the
/// proof that nothing ran.
struct Project {
    dir: tempfile::TempDir,
    port: u16,
    env: String,
}

impl Project {
    fn new(name: &str, deploy_extra: &str, env_extra: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let bin = runway_testkit::runway_bin();
        let bin = bin.display();
        std::fs::write(
            dir.path().join("serve.sh"),
            format!(
                "#!/bin/sh\necho \"$$\" >> started\nexec {bin} serve-reference --port \"$2\" --version \"$1\"\n"
            ),
        )
        .unwrap();
        let table = if name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            name.to_owned()
        } else {
            format!("{name:?}")
        };
        let toml = format!(
            r#"[environments.{table}]
url = "http://127.0.0.1:{port}/mcp"
health_path = "/health"
{env_extra}

[environments.{table}.deploy]
target = "process"
command = ["sh", "serve.sh", "{{version}}", "{{port}}"]
port = {port}
health_timeout = "20s"
{deploy_extra}

[environments.{table}.analysis]
bake = "1s"
interval = "250ms"
min_samples = 2

[environments.{table}.gates]
release_check = false
"#
        );
        std::fs::write(dir.path().join("runway.toml"), toml).unwrap();
        Project {
            dir,
            port,
            env: name.to_owned(),
        }
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

    fn ledger_path(&self) -> PathBuf {
        self.path().join(".runway/ledger.db")
    }

    async fn ledger(&self) -> Box<dyn Ledger> {
        let url = LedgerUrl::parse(".runway/ledger.db", self.path()).unwrap();
        runway_ledger::open(&url).await.unwrap()
    }

    fn pid_file(&self) -> PathBuf {
        self.path()
            .join(format!(".runway/process/{}.pid", self.env))
    }

    /// Nothing was started: `serve.sh` never ran, the process target kept no
    /// pid, log or state.
    fn assert_nothing_started(&self) {
        assert!(
            !self.path().join("started").exists(),
            "serve.sh ran: {:?}",
            std::fs::read_to_string(self.path().join("started"))
        );
        assert!(
            !self.path().join(".runway/process").exists()
                || std::fs::read_dir(self.path().join(".runway/process"))
                    .unwrap()
                    .next()
                    .is_none(),
            "the process target wrote files"
        );
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.pid_file()) {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", pid.trim())])
                .stderr(Stdio::null())
                .status();
        }
        if let Ok(pids) = std::fs::read_to_string(self.path().join("started")) {
            for pid in pids.lines() {
                let _ = Command::new("kill")
                    .args(["-KILL", pid.trim()])
                    .stderr(Stdio::null())
                    .status();
            }
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

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

async fn deployment_statuses(l: &dyn Ledger) -> Vec<String> {
    let f = runway_ledger::Filter {
        kind: Some(Kind::Deployment),
        ..Default::default()
    };
    l.query(&f, false)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.status().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn an_environment_named_like_a_path_is_refused_at_load_and_package_json_is_untouched() {
    let p = Project::new("../../package", "", "");
    let package = p.path().join("package.json");
    let original = "{\"name\": \"demo\", \"version\": \"1.0.0\"}\n";
    std::fs::write(&package, original).unwrap();
    for args in [
        vec!["deploy", "../../package", "--version", "1.0.0"],
        vec!["ship", "../../package", "--version", "1.0.0"],
        vec!["plan", "../../package", "--version", "1.0.0"],
        vec!["status", "../../package"],
    ] {
        let o = p.run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        let err = stderr(&o);
        let toml = p.path().join("runway.toml");
        assert!(
            err.contains(&format!("{}:1:1:", toml.display())),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("\"../../package\" is not an environment name"),
            "{err}"
        );
    }
    assert_eq!(std::fs::read_to_string(&package).unwrap(), original);
    p.assert_nothing_started();
    assert!(!p.ledger_path().exists(), "a ledger was created");
}

/// Each bad version, as the shell would pass it.
const BAD_VERSIONS: [&str; 5] = ["1.0.0\n", "\u{1b}[31m1.0.0", "../../x", "1.0.0 x", "1.0"];

#[tokio::test]
async fn a_bad_version_is_a_usage_error_naming_the_flag_before_anything_runs() {
    let p = Project::new("staging", "", "");
    // `release verify-artifacts` needs something to verify to reach its version.
    let toml = p.path().join("runway.toml");
    let mut config = std::fs::read_to_string(&toml).unwrap();
    config.push_str(
        "\n[release.artifacts.docker]\nregistry = \"http://127.0.0.1:9\"\nimage = \"demo\"\n",
    );
    std::fs::write(&toml, config).unwrap();
    for bad in BAD_VERSIONS {
        for (flag, args) in [
            ("--version", vec!["deploy", "staging", "--version", bad]),
            ("--version", vec!["ship", "staging", "--version", bad]),
            ("--version", vec!["plan", "staging", "--version", bad]),
            ("--to", vec!["rollback", "staging", "--to", bad]),
            (
                "--version",
                vec!["release", "verify-artifacts", "--version", bad],
            ),
        ] {
            let o = p.run(&args);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
            let err = stderr(&o);
            assert!(
                err.contains(&format!("`{flag}` {bad:?} is not a version")),
                "{args:?}: {err}"
            );
            // The value is shown escaped: no raw escape or newline reaches the terminal.
            assert!(!err.contains('\u{1b}'), "{err:?}");
        }
    }
    p.assert_nothing_started();
    assert!(!p.ledger_path().exists(), "a ledger was created");
    // A leading `v` is dropped, as a tag reads: `v1.0.0` is 1.0.0.
    let o = p.run(&["plan", "staging", "--version", "v1.0.0", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(plan["version"], "1.0.0");
    assert_eq!(
        deployment_statuses(p.ledger().await.as_ref()).await.len(),
        0
    );
}

#[test]
fn a_python_project_takes_pep_440_versions_and_still_refuses_paths() {
    let p = Project::new("staging", "", "");
    std::fs::write(
        p.path().join("pyproject.toml"),
        "[project]\nname = \"demo\"\nversion = \"1.0.0\"\n",
    )
    .unwrap();
    let o = p.run(&["plan", "staging", "--version", "1.1.0rc1"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = p.run(&["plan", "staging", "--version", "../../x"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(stderr(&o).contains("SemVer or PEP 440"), "{}", text(&o));
}

/// `runway mcp` over stdio, spoken to in raw JSON-RPC lines; answers by id.
fn mcp_answers(p: &Project, calls: &[serde_json::Value]) -> Vec<serde_json::Value> {
    use std::io::{BufRead, BufReader, Write};
    let mut child = p
        .cmd(&["mcp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<serde_json::Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str(&line)
                && tx.send(v).is_err()
            {
                break;
            }
        }
    });
    let send = |stdin: &mut std::process::ChildStdin, v: serde_json::Value| {
        writeln!(stdin, "{v}").unwrap();
        stdin.flush().unwrap();
    };
    send(
        &mut stdin,
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "preflight-test", "version": "1"}}}),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let wait_for = |id: u64| loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let v = rx.recv_timeout(left).expect("runway mcp answered in time");
        if v["id"] == id {
            return v;
        }
    };
    wait_for(1);
    send(
        &mut stdin,
        serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    let mut out = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        let id = 10 + i as u64;
        send(
            &mut stdin,
            serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": call}),
        );
        out.push(wait_for(id));
    }
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    out
}

#[test]
fn a_bad_version_over_mcp_is_invalid_params_before_anything_runs() {
    let p = Project::new("staging", "", "");
    let toml = p.path().join("runway.toml");
    let text_before = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(
        &toml,
        format!("[mcp]\nallow_writes = true\n\n{text_before}"),
    )
    .unwrap();
    let mut calls = Vec::new();
    for bad in BAD_VERSIONS {
        calls.push(serde_json::json!({"name": "deploy_plan", "arguments": {"environment": "staging", "version": bad}}));
        calls.push(serde_json::json!({"name": "deploy", "arguments": {"environment": "staging", "version": bad, "plan_id": "plan-x"}}));
        calls.push(serde_json::json!({"name": "rollback_plan", "arguments": {"environment": "staging", "to": bad}}));
        calls.push(serde_json::json!({"name": "rollback", "arguments": {"environment": "staging", "to": bad, "plan_id": "plan-x"}}));
    }
    let answers = mcp_answers(&p, &calls);
    for (call, a) in calls.iter().zip(&answers) {
        assert_eq!(a["error"]["code"], -32602, "{call}: {a}");
        let field = if call["arguments"].get("to").is_some() {
            "to"
        } else {
            "version"
        };
        let bad = call["arguments"][field].as_str().unwrap();
        let msg = a["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains(&format!("`{field}` {bad:?} is not a version")),
            "{msg}"
        );
    }
    p.assert_nothing_started();
}

#[test]
fn an_unknown_placeholder_or_an_unterminated_reference_is_refused_at_load() {
    let p = Project::new(
        "staging",
        "env = { MCP_PORT = \"{port}\", MODE = \"{nope}\" }",
        "",
    );
    let o = p.run(&["deploy", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = stderr(&o);
    let toml = p.path().join("runway.toml");
    let line = std::fs::read_to_string(&toml)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("env = "))
        .unwrap()
        + 1;
    assert!(
        err.contains(&format!("{}:{line}:1: `environments.staging.deploy.env.MODE`: `{{nope}}` is not a placeholder; the known ones are `{{version}}`, `{{port}}`, `{{image}}`, `{{sha}}`", toml.display())),
        "{err}"
    );
    p.assert_nothing_started();

    let p = Project::new("staging", "", "");
    let text_before = std::fs::read_to_string(p.path().join("runway.toml")).unwrap();
    std::fs::write(
        p.path().join("runway.toml"),
        text_before.replacen("url = \"http://127.0.0.1:", "url = \"http://${NOPE/", 1),
    )
    .unwrap();
    for args in [
        vec!["deploy", "staging", "--version", "1.0.0"],
        vec!["verify", "staging"],
    ] {
        let o = p.run(&args);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&format!(
                "{}:2:1: `environments.staging.url`: unterminated `${{`",
                p.path().join("runway.toml").display()
            )),
            "{err}"
        );
    }
    p.assert_nothing_started();
}

#[tokio::test]
async fn deploy_env_placeholders_are_filled_in_as_the_command_s_are() {
    let p = Project::new(
        "staging",
        "env = { MCP_PORT = \"{port}\", RELEASE = \"v{version}\", MIXED = '{\"json\": true} {port}' }",
        "",
    );
    let o = p.run(&["deploy", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let started = std::fs::read_to_string(p.path().join("started")).unwrap();
    let pid = started.lines().last().unwrap().trim();
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let vars: Vec<String> = environ
        .split(|b| *b == 0)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect();
    let port = p.port;
    for want in [
        format!("MCP_PORT={port}"),
        "RELEASE=v1.0.0".to_owned(),
        format!("MIXED={{\"json\": true}} {port}"),
    ] {
        assert!(vars.contains(&want), "{want} not in {vars:?}");
    }
}

#[tokio::test]
async fn every_unresolved_variable_is_listed_before_anything_starts_or_is_recorded() {
    let p = Project::new(
        "staging",
        "env = { UPSTREAM = \"${PREFLIGHT_TEST_UPSTREAM}\" }",
        "expect_version = \"${RELEASE_VERSION}\"\ntoken_env = \"PREFLIGHT_TEST_TOKEN\"",
    );
    let run = |args: &[&str], upstream: bool| {
        let mut c = p.cmd(args);
        c.env_remove("RELEASE_VERSION")
            .env_remove("PREFLIGHT_TEST_TOKEN");
        if upstream {
            c.env("PREFLIGHT_TEST_UPSTREAM", "http://127.0.0.1:9");
        } else {
            c.env_remove("PREFLIGHT_TEST_UPSTREAM");
        }
        c.output().unwrap()
    };
    // Nothing can be opened without the server's environment: all three named at once.
    for args in [
        vec!["ship", "staging", "--version", "1.0.0"],
        vec!["plan", "staging", "--version", "1.0.0"],
    ] {
        let o = run(&args, false);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let err = stderr(&o);
        for want in [
            "`environments.staging.expect_version`: environment variable `RELEASE_VERSION` is not set",
            "`environments.staging.token_env`",
            "PREFLIGHT_TEST_TOKEN",
            "`environments.staging.deploy.env.UPSTREAM`: environment variable `PREFLIGHT_TEST_UPSTREAM` is not set",
        ] {
            assert!(err.contains(want), "{args:?} lacks {want}: {err}");
        }
    }
    // The target opens, the verify's needs are still missing: the same refusal.
    for args in [
        vec!["ship", "staging", "--version", "1.0.0"],
        vec!["deploy", "staging", "--version", "1.0.0"],
        vec!["rollback", "staging", "--to", "1.0.0"],
        vec!["watch", "staging"],
        vec!["plan", "staging", "--version", "1.0.0"],
    ] {
        let o = run(&args, true);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let err = stderr(&o);
        assert!(err.contains("`environments.staging.expect_version`: environment variable `RELEASE_VERSION` is not set"), "{args:?}: {err}");
        assert!(err.contains("PREFLIGHT_TEST_TOKEN"), "{args:?}: {err}");
        assert!(!err.contains("UPSTREAM"), "{args:?}: {err}");
        assert!(
            err.contains("export `RELEASE_VERSION`, `PREFLIGHT_TEST_TOKEN`"),
            "{args:?}: {err}"
        );
    }
    p.assert_nothing_started();
    if p.ledger_path().exists() {
        let l = p.ledger().await;
        assert_eq!(deployment_statuses(l.as_ref()).await, Vec::<String>::new());
        assert!(l.deploy_lock("staging").await.unwrap().is_none());
    }
    // `status` still answers: it needs none of them.
    let o = run(&["status", "staging"], true);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// The hex SHA-256 of `s`, as `sha256sum` prints it.
fn sha256_hex(s: &str) -> String {
    use std::io::Write;
    let mut c = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    let out = c.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

#[tokio::test]
async fn a_secret_setting_is_kept_as_a_keyed_digest_that_no_ledger_file_or_export_can_confirm() {
    let p = Project::new(
        "staging",
        "env = { API_KEY = \"${PREFLIGHT_TEST_API_KEY}\" }",
        "",
    );
    let secret = "weak-password-1";
    let o = p
        .cmd(&["deploy", "staging", "--version", "1.0.0"])
        .env("PREFLIGHT_TEST_API_KEY", secret)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let l = p.ledger().await;
    let f = runway_ledger::Filter {
        kind: Some(Kind::Deployment),
        ..Default::default()
    };
    let records = l.query(&f, false).await.unwrap();
    let kept = records[0].deployment().unwrap().settings["deploy.env.API_KEY"].clone();
    assert!(kept.starts_with("hmac:"), "{kept}");
    assert_eq!(kept, l.settings_digest(secret).await.unwrap());
    // Another ledger keeps the same secret under another digest.
    let other = tempfile::tempdir().unwrap();
    let other = runway_ledger::open(&LedgerUrl::parse(".runway/ledger.db", other.path()).unwrap())
        .await
        .unwrap();
    assert_ne!(other.settings_digest(secret).await.unwrap(), kept);
    l.close().await;

    let export = p.run(&["ledger", "export"]);
    assert_eq!(export.status.code(), Some(0), "{}", text(&export));
    let sha = sha256_hex(secret);
    let mut texts = vec![(
        "ledger export".to_owned(),
        String::from_utf8_lossy(&export.stdout).into_owned(),
    )];
    for entry in std::fs::read_dir(p.path().join(".runway")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            texts.push((
                path.display().to_string(),
                String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned(),
            ));
        }
    }
    assert!(texts[0].1.contains(&kept), "{}", texts[0].1);
    for (what, t) in &texts {
        assert!(!t.contains(secret), "the secret is in {what}");
        assert!(!t.contains(&sha[..16]), "its SHA-256 is in {what}");
    }
}

#[test]
fn a_missing_ledger_is_created_only_in_the_project_or_by_ledger_init() {
    let p = Project::new("staging", "", "");
    let elsewhere = tempfile::tempdir().unwrap();
    let typo = elsewhere.path().join("no/such/dir/x.db");
    let url = format!("sqlite://{}", typo.display());
    for args in [
        vec!["ledger", "list", "--ledger", &url],
        vec!["dora", "--ledger", &url],
        vec!["status", "staging", "--ledger", &url],
        vec!["deploy", "staging", "--version", "1.0.0", "--ledger", &url],
    ] {
        let o = p.run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&format!("there is no ledger at `{}`", typo.display())),
            "{args:?}: {err}"
        );
        assert!(
            err.contains(&format!("runway ledger init sqlite://{}", typo.display())),
            "{err}"
        );
    }
    assert!(
        !elsewhere.path().join("no").exists(),
        "a directory was made"
    );
    p.assert_nothing_started();

    // `[ledger] url` to a missing place: the same refusal.
    let toml = p.path().join("runway.toml");
    let text_before = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, format!("[ledger]\nurl = \"{url}\"\n\n{text_before}")).unwrap();
    let o = p.run(&["ledger", "list"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(stderr(&o).contains("there is no ledger at"), "{}", text(&o));

    // Asked for, it is made, and then read.
    let o = p.run(&["ledger", "init", &url]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("a new ledger at"),
        "{}",
        text(&o)
    );
    assert!(typo.is_file());
    let o = p.run(&["ledger", "list"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // The project's own ledger is made on first use, as before.
    std::fs::write(&toml, &text_before).unwrap();
    assert!(!p.ledger_path().exists());
    let o = p.run(&["ledger", "list"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(p.ledger_path().is_file());
}

/// A small tmpfs, unmounted (lazily, so a busy file cannot keep it) on drop.
mod resources;
