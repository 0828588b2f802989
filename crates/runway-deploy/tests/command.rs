//! The command target with real shell commands.

use std::{
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use runway_core::{Diagnostic, Exit, Secret};
use runway_deploy::{
    Confirm, DeployError, DeployRequest, Deployed, Target,
    command::{CommandSettings, CommandTarget},
};

fn sh(script: &str) -> Option<Vec<String>> {
    Some(vec!["sh".into(), "-c".into(), script.into()])
}

fn settings(root: &Path) -> CommandSettings {
    CommandSettings {
        environment: "production".into(),
        deploy: sh(
            "echo deploying {version} {image} {sha} >> deploys.txt; echo {version} > current.txt",
        ),
        rollback: sh(
            "echo rolling back to {version} {image} >> deploys.txt; echo {version} > current.txt",
        ),
        status: sh("cat current.txt"),
        manual: None,
        image: Some("registry.local/mcp:{version}".into()),
        workdir: root.to_owned(),
        timeout: Duration::from_secs(10),
    }
}

fn request(version: &str) -> DeployRequest {
    DeployRequest {
        environment: "production".into(),
        version: version.into(),
        sha: Some("abc1234".into()),
        ..DeployRequest::default()
    }
}

#[tokio::test]
async fn deploy_status_and_rollback_run_the_operators_commands() {
    let dir = tempfile::tempdir().unwrap();
    let t = CommandTarget::new(settings(dir.path()));
    let d = t.deploy(&request("1.2.0")).await.unwrap();
    assert_eq!(d.image.as_deref(), Some("registry.local/mcp:1.2.0"));
    assert_eq!(t.current().await.unwrap().unwrap().version, "1.2.0");
    let previous = Deployed {
        version: "1.1.0".into(),
        image: Some("registry.local/mcp:1.1.0@sha256:00ff".into()),
        digest: Some("sha256:00ff".into()),
        revision: None,
        since: None,
        detail: serde_json::Value::Null,
    };
    assert!(t.check_artifact(&previous).await.ok);
    t.rollback(&previous, &request("1.1.0")).await.unwrap();
    assert_eq!(t.current().await.unwrap().unwrap().version, "1.1.0");
    let log = std::fs::read_to_string(dir.path().join("deploys.txt")).unwrap();
    assert_eq!(
        log,
        "deploying 1.2.0 registry.local/mcp:1.2.0 abc1234\n\
         rolling back to 1.1.0 registry.local/mcp:1.1.0@sha256:00ff\n"
    );
}

#[tokio::test]
async fn a_failing_command_is_an_error_with_its_redacted_output() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path());
    s.deploy = sh("echo using $DEPLOY_TOKEN in $REGION; echo no such cluster >&2; exit 2");
    let t = CommandTarget::new(s);
    let mut req = request("1.2.0");
    req.env = vec![
        ("DEPLOY_TOKEN".into(), Secret::new("tok-1234567")),
        ("REGION".into(), Secret::new("eu-west-1")),
    ];
    // The request's redactor holds the secrets; a plain setting is not one.
    req.redactor = runway_deploy::child::redactor_for(&req.env[..1]);
    let e = t.deploy(&req).await.unwrap_err();
    match &e {
        DeployError::CommandFailed { status, output, .. } => {
            assert_eq!(status, "exit status 2");
            assert!(output.contains("no such cluster"), "{output}");
            assert!(!output.contains("tok-1234567"), "{output}");
            assert!(
                output.contains("in eu-west-1"),
                "plain values stay: {output}"
            );
        }
        other => panic!("{other}"),
    }
    assert_eq!(e.exit(), Exit::Failed);
    let logs = t.logs(10_000).await.unwrap();
    assert!(logs.text.contains("no such cluster"));
}

#[tokio::test]
async fn a_command_that_hangs_is_killed_at_its_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path());
    s.deploy = sh("sleep 30");
    s.timeout = Duration::from_millis(300);
    let t = CommandTarget::new(s);
    let started = std::time::Instant::now();
    let e = t.deploy(&request("1.2.0")).await.unwrap_err();
    assert!(matches!(e, DeployError::Timeout { .. }), "{e}");
    assert!(started.elapsed() < Duration::from_secs(6));
}

#[tokio::test]
async fn a_manual_step_needs_a_terminal_or_yes() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path());
    s.deploy = None;
    s.manual = Some("Press Deploy for {version} in the console".into());
    let t = CommandTarget::new(s);

    let e = t.deploy(&request("1.2.0")).await.unwrap_err();
    match &e {
        DeployError::NeedsConfirmation { instructions } => {
            assert_eq!(instructions, "Press Deploy for 1.2.0 in the console")
        }
        other => panic!("{other}"),
    }
    assert_eq!(e.exit(), Exit::Usage);
    assert!(e.hint().unwrap().contains("--yes"));

    let mut yes = request("1.2.0");
    yes.confirm = Confirm::Assume;
    assert_eq!(t.deploy(&yes).await.unwrap().version, "1.2.0");

    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    let mut no = request("1.3.0");
    no.confirm = Confirm::Ask(Arc::new(move |text: &str| {
        seen.lock().unwrap().push(text.to_owned());
        false
    }));
    let e = t.deploy(&no).await.unwrap_err();
    assert!(matches!(e, DeployError::Declined { .. }), "{e}");
    assert_eq!(
        asked.lock().unwrap().as_slice(),
        ["Press Deploy for 1.3.0 in the console"]
    );
}

#[tokio::test]
async fn a_placeholder_without_a_value_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path());
    s.image = None;
    let t = CommandTarget::new(s);
    let e = t.deploy(&request("1.2.0")).await.unwrap_err();
    assert!(
        matches!(e, DeployError::Config { ref field, .. } if field == "deploy.deploy"),
        "{e}"
    );
    assert!(!dir.path().join("deploys.txt").exists(), "nothing ran");
}
