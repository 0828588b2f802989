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
