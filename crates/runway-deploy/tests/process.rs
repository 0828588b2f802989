//! The process target against real processes: a small Python HTTP server
//! (`fixtures/health_server.py`) that answers `/health` with its version.

use std::{net::TcpListener, path::Path, time::Duration};

use runway_core::Secret;
use runway_deploy::{
    DeployError, DeployRequest, HealthWait, Target, child,
    process::{ProcessSettings, ProcessTarget},
};

fn python() -> String {
    for p in ["python3", "python"] {
        if child::runnable(p, Path::new(".")).is_some() {
            return p.into();
        }
    }
    panic!("python3 is needed by the process target's tests: install Debian's `python3`");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn target(root: &Path, command: Vec<String>, port: u16) -> ProcessTarget {
    ProcessTarget::new(ProcessSettings {
        environment: "staging".into(),
        root: root.to_owned(),
        command,
        port: Some(port),
        workdir: root.to_owned(),
        log_max_bytes: 4096,
        stop_grace: Duration::from_secs(2),
    })
}

fn server_command() -> Vec<String> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/health_server.py"
    );
    vec![python(), script.into(), "{version}".into(), "{port}".into()]
}

fn request(version: &str, port: u16) -> DeployRequest {
    DeployRequest {
        environment: "staging".into(),
        version: version.into(),
        port: Some(port),
        env: vec![("RUNWAY_TEST_SECRET".into(), Secret::new("hunter2-hunter2"))],
        health: HealthWait {
            url: Some(format!("http://127.0.0.1:{port}/health").parse().unwrap()),
            timeout: Duration::from_secs(20),
            interval: Duration::from_millis(100),
            ..HealthWait::default()
        },
        ..DeployRequest::default()
    }
}

async fn health_version(port: u16) -> serde_json::Value {
    let body = runway_verify::http::client(Default::default())
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn deploys_replaces_and_rolls_back_to_the_exact_previous_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let t = target(dir.path(), server_command(), port);
    assert_eq!(t.current().await.unwrap(), None);

    let v1 = t.deploy(&request("1.0.0", port)).await.unwrap();
    assert_eq!(v1.version, "1.0.0");
    let health = health_version(port).await;
    assert_eq!(health["version"], "1.0.0");
    assert_eq!(health["secret_seen"], true, "env vars reach the server");
    let pid1: u32 = std::fs::read_to_string(t.pid_path())
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(child::alive(pid1));
    assert_eq!(t.current().await.unwrap().unwrap().version, "1.0.0");

    let v2 = t.deploy(&request("2.0.0", port)).await.unwrap();
    assert_eq!(health_version(port).await["version"], "2.0.0");
    assert!(!child::alive(pid1), "the old version was stopped");
    let previous = t.previous().unwrap().unwrap();
    assert_eq!(previous.version, "1.0.0");
    assert_eq!(
        previous.detail["command"][2], "1.0.0",
        "the previous command line is kept, substituted"
    );
    assert!(t.check_artifact(&previous).await.ok);

    let back = t
        .rollback(&previous, &request("1.0.0", port))
        .await
        .unwrap();
    assert_eq!(back.version, "1.0.0");
    assert_eq!(health_version(port).await["version"], "1.0.0");
    assert_eq!(t.previous().unwrap().unwrap().version, v2.version);

    // A fresh target (another `runway`) sees what runs from the state file.
    let other = target(dir.path(), server_command(), port);
    assert_eq!(other.current().await.unwrap().unwrap().version, "1.0.0");
    let logs = other.logs(10_000).await.unwrap();
    assert!(logs.text.contains("serving 1.0.0"), "{}", logs.text);
    assert!(!logs.text.contains("hunter2"));

    other.stop().await.unwrap();
    assert_eq!(t.current().await.unwrap(), None);
}

#[tokio::test]
async fn the_server_outlives_the_target_that_started_it() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let pid = {
        let t = target(dir.path(), server_command(), port);
        let d = t.deploy(&request("1.0.0", port)).await.unwrap();
        d.revision.unwrap().parse::<u32>().unwrap()
    };
    assert!(child::alive(pid));
    assert_eq!(health_version(port).await["version"], "1.0.0");
    let t = target(dir.path(), server_command(), port);
    t.stop().await.unwrap();
    assert!(!child::alive(pid));
}

#[tokio::test]
async fn a_server_that_exits_fails_fast_with_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let command = vec![
        "sh".into(),
        "-c".into(),
        "echo cannot bind {port}; exit 4".into(),
    ];
    let t = target(dir.path(), command, port);
    let started = std::time::Instant::now();
    let e = t.deploy(&request("1.0.0", port)).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    match e {
        DeployError::Exited { status, log } => {
            assert_eq!(status, "exit status 4");
            assert!(log.contains(&format!("cannot bind {port}")), "{log}");
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn a_server_that_never_answers_is_unhealthy_within_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let t = target(dir.path(), vec!["sleep".into(), "30".into()], port);
    let mut req = request("1.0.0", port);
    req.health.timeout = Duration::from_millis(800);
    let started = std::time::Instant::now();
    let e = t.deploy(&req).await.unwrap_err();
    assert!(matches!(e, DeployError::Unhealthy { .. }), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // Stopping kills it.
    let pid: u32 = std::fs::read_to_string(t.pid_path())
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    t.stop().await.unwrap();
    assert!(!child::alive(pid));
}

#[tokio::test]
async fn stop_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let pidfile = dir.path().join("grandchild.pid");
    let command = vec![
        "sh".into(),
        "-c".into(),
        format!("sleep 60 & echo $! > {}; wait", pidfile.display()),
    ];
    let t = target(dir.path(), command, port);
    let mut req = request("1.0.0", port);
    req.health.url = None;
    t.deploy(&req).await.unwrap();
    let mut grandchild = None;
    for _ in 0..100 {
        if let Ok(s) = std::fs::read_to_string(&pidfile)
            && let Ok(p) = s.trim().parse::<u32>()
        {
            grandchild = Some(p);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let grandchild = grandchild.expect("the script wrote its child's pid");
    assert!(child::alive(grandchild));
    t.stop().await.unwrap();
    assert!(!child::alive(grandchild), "the server's own child survived");
}

#[tokio::test]
async fn the_log_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let command = vec![
        "sh".into(),
        "-c".into(),
        "head -c 100000 /dev/zero | tr '\\0' y; sleep 30".into(),
    ];
    let t = target(dir.path(), command, port);
    let mut req = request("1.0.0", port);
    req.health.url = None;
    t.deploy(&req).await.unwrap();
    for _ in 0..100 {
        if std::fs::metadata(t.log_path())
            .map(|m| m.len())
            .unwrap_or(0)
            >= 100_000
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let logs = t.logs(1000).await.unwrap();
    assert!(logs.truncated);
    assert_eq!(logs.text.len(), 1000);
    assert!(std::fs::metadata(t.log_path()).unwrap().len() <= 4096);
    t.stop().await.unwrap();
}

#[tokio::test]
async fn a_missing_previous_program_fails_the_artifact_check() {
    let dir = tempfile::tempdir().unwrap();
    let t = target(dir.path(), server_command(), 1);
    let previous = runway_deploy::Deployed {
        version: "0.9.0".into(),
        image: None,
        digest: None,
        revision: None,
        since: None,
        detail: serde_json::json!({ "command": ["/nonexistent/server", "0.9.0"] }),
    };
    let a = t.check_artifact(&previous).await;
    assert!(!a.ok);
    assert!(a.what.contains("/nonexistent/server"), "{}", a.what);
}
