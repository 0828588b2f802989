//! The docker target against a real engine (`scripts/setup.d/30-docker.sh`):
//! a deploy carries the operator's container configuration over to the new
//! image, a failed verify rolls back to the recorded digest, a container that
//! dies or never gets healthy fails the deploy with its logs while the old one
//! is kept, and a rollback moves the registry's `latest` back and pushes it.

use crate::docker_support;

use std::time::Duration;

use docker_support::{
    Cleanup, Registry, engine, free_port, image_id, operator_container, unique, version_image,
    wire_version,
};
use runway_deploy::{
    DeployError, DeployRequest, Deployed, HealthWait, Steps, Target,
    docker::{DockerSettings, DockerTarget, PREVIOUS_SUFFIX, VERSION_LABEL},
};

fn target(name: &str) -> DockerTarget {
    let mut s = DockerSettings::new("test", name);
    s.host = Some(docker_support::docker_host());
    s.stop_timeout = Duration::from_secs(2);
    DockerTarget::new(s)
}

fn request(version: &str, image: &str, port: u16, timeout: Duration) -> DeployRequest {
    DeployRequest {
        environment: "test".into(),
        version: version.into(),
        image: Some(image.into()),
        health: HealthWait {
            url: Some(format!("http://127.0.0.1:{port}/health").parse().unwrap()),
            timeout,
            interval: Duration::from_millis(200),
            ..HealthWait::default()
        },
        ..DeployRequest::default()
    }
}

const HEALTH: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_deploy_keeps_the_containers_configuration_and_a_failed_verify_rolls_back_to_the_digest()
{
    let docker = engine().await;
    let v1 = version_image(&docker, "cfg-1.0.0", "1.0.0", &[]).await;
    let v2 = version_image(&docker, "cfg-2.0.0", "2.0.0", &[]).await;
    let (v1_id, v2_id) = (image_id(&docker, &v1).await, image_id(&docker, &v2).await);
    let name = unique("config");
    let _cleanup = Cleanup(vec![name.clone(), format!("{name}{PREVIOUS_SUFFIX}")]);
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    operator_container(&docker, &name, &v1, port, data.path()).await;
    assert_eq!(wire_version(port).await, "1.0.0");

    let t = target(&name);
    let before = t
        .current()
        .await
        .unwrap()
        .expect("the operator's container runs");
    assert_eq!(before.digest.as_deref(), Some(v1_id.as_str()));

    let deployed = t
        .deploy(&request("2.0.0", &v2, port, HEALTH))
        .await
        .unwrap();
    assert_eq!(deployed.version, "2.0.0");
    assert_eq!(deployed.digest.as_deref(), Some(v2_id.as_str()));
    assert_eq!(deployed.image.as_deref(), Some(v2.as_str()));
    // The new image's entrypoint took effect: the wire says 2.0.0 ...
    assert_eq!(wire_version(port).await, "2.0.0");
    // ... and everything the operator set on the old container carried over.
    let new = docker.inspect_container(&name, None).await.unwrap();
    let cfg = new.config.unwrap();
    assert_eq!(cfg.cmd, Some(vec!["--port".to_owned(), port.to_string()]));
    let env = cfg.env.unwrap();
    assert!(env.contains(&"TEAM=mcp".to_owned()), "{env:?}");
    assert!(
        env.contains(&"RUNWAY_IMAGE_VERSION=2.0.0".to_owned()),
        "{env:?}"
    );
    assert!(
        !env.contains(&"RUNWAY_IMAGE_VERSION=1.0.0".to_owned()),
        "{env:?}"
    );
    let labels = cfg.labels.unwrap();
    assert_eq!(labels["team"], "mcp");
    assert_eq!(labels[VERSION_LABEL], "2.0.0");
    assert_eq!(labels["org.opencontainers.image.version"], "2.0.0");
    let host = new.host_config.unwrap();
    assert_eq!(host.network_mode.as_deref(), Some("host"));
    assert_eq!(
        host.binds,
        Some(vec![format!("{}:/data:ro", data.path().display())])
    );
    // The old container is kept, stopped, until the new one is verified.
    let kept = docker
        .inspect_container(&format!("{name}{PREVIOUS_SUFFIX}"), None)
        .await
        .expect("the previous container is kept");
    assert_eq!(kept.image.as_deref(), Some(v1_id.as_str()));
    assert_eq!(kept.state.unwrap().running, Some(false));

    // The verify failed: back to exactly the recorded digest.
    let back = t
        .rollback(&before, &request("2.0.0", &v2, port, HEALTH))
        .await
        .unwrap();
    assert_eq!(back.digest.as_deref(), Some(v1_id.as_str()));
    assert_eq!(back.version, "1.0.0");
    assert_eq!(wire_version(port).await, "1.0.0");
    let now = docker.inspect_container(&name, None).await.unwrap();
    assert_eq!(now.image.as_deref(), Some(v1_id.as_str()));
    // The kept container came back: it is the same container as before.
    assert_eq!(
        now.id,
        before.detail["container_id"].as_str().map(str::to_owned)
    );
    assert!(
        docker
            .inspect_container(&format!("{name}{PREVIOUS_SUFFIX}"), None)
            .await
            .is_err(),
        "the failed container is gone after the rollback"
    );
}

#[tokio::test]
async fn after_retiring_the_old_container_a_rollback_runs_the_digest_even_without_its_tag() {
    let docker = engine().await;
    let v1 = version_image(&docker, "digest-1.0.0", "1.0.0", &[]).await;
    let v2 = version_image(&docker, "digest-2.0.0", "2.0.0", &[]).await;
    let v1_id = image_id(&docker, &v1).await;
    let name = unique("digest");
    let _cleanup = Cleanup(vec![name.clone(), format!("{name}{PREVIOUS_SUFFIX}")]);
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    operator_container(&docker, &name, &v1, port, data.path()).await;

    let t = target(&name);
    let before = t.current().await.unwrap().unwrap();
    t.deploy(&request("2.0.0", &v2, port, HEALTH))
        .await
        .unwrap();
    t.retire_previous().await.unwrap();
    assert!(
        docker
            .inspect_container(&format!("{name}{PREVIOUS_SUFFIX}"), None)
            .await
            .is_err()
    );

    // The tag moves on (or is deleted); the image stays under another name.
    let keep = format!("runway-test/keep:{}", std::process::id());
    let (repo, tag) = keep.split_once(':').unwrap();
    docker
        .tag_image(
            &v1_id,
            Some(
                bollard::query_parameters::TagImageOptionsBuilder::default()
                    .repo(repo)
                    .tag(tag)
                    .build(),
            ),
        )
        .await
        .unwrap();
    docker
        .remove_image(
            &v1,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await
        .unwrap();
    assert!(t.check_artifact(&before).await.ok);

    let back = t
        .rollback(&before, &request("2.0.0", &v2, port, HEALTH))
        .await
        .unwrap();
    assert_eq!(back.digest.as_deref(), Some(v1_id.as_str()));
    assert_eq!(wire_version(port).await, "1.0.0");
    let now = docker.inspect_container(&name, None).await.unwrap();
    assert_ne!(
        now.id,
        before.detail["container_id"].as_str().map(str::to_owned)
    );
    assert!(
        now.config
            .unwrap()
            .env
            .unwrap()
            .contains(&"TEAM=mcp".to_owned())
    );

    // An image that is gone is reported before anyone relies on it.
    let missing = Deployed {
        digest: Some(format!("sha256:{}", "0".repeat(64))),
        ..before.clone()
    };
    let check = t.check_artifact(&missing).await;
    assert!(!check.ok, "{check:?}");
    assert!(check.what.contains("not on the engine"), "{check:?}");
    let _ = docker
        .remove_image(
            &keep,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await;
}

#[tokio::test]
async fn a_container_that_dies_fails_the_deploy_with_its_logs_and_the_old_one_comes_back() {
    let docker = engine().await;
    let v1 = version_image(&docker, "dies-1.0.0", "1.0.0", &[]).await;
    // A bad flag: the server exits at once with a usage error.
    let broken = version_image(
        &docker,
        "dies-2.0.0",
        "2.0.0",
        &["--faults", "no-such-fault"],
    )
    .await;
    let v1_id = image_id(&docker, &v1).await;
    let name = unique("dies");
    let _cleanup = Cleanup(vec![name.clone(), format!("{name}{PREVIOUS_SUFFIX}")]);
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    operator_container(&docker, &name, &v1, port, data.path()).await;
    let t = target(&name);
    let before = t.current().await.unwrap().unwrap();

    let err = t
        .deploy(&request("2.0.0", &broken, port, HEALTH))
        .await
        .unwrap_err();
    match &err {
        DeployError::Exited { status, log } => {
            assert!(status.contains("exit code 2"), "{status}");
            assert!(log.contains("no-such-fault"), "{log}");
        }
        other => panic!("expected Exited, got {other:?}"),
    }
    let logs = t.logs(4096).await.unwrap();
    assert!(logs.text.contains("no-such-fault"), "{logs:?}");
    assert!(logs.source.contains(&name));

    t.rollback(&before, &request("2.0.0", &broken, port, HEALTH))
        .await
        .unwrap();
    assert_eq!(wire_version(port).await, "1.0.0");
    let now = docker.inspect_container(&name, None).await.unwrap();
    assert_eq!(now.image.as_deref(), Some(v1_id.as_str()));
}

#[tokio::test]
async fn a_container_that_never_gets_healthy_fails_the_deploy_within_the_health_timeout() {
    let docker = engine().await;
    let v1 = version_image(&docker, "sick-1.0.0", "1.0.0", &[]).await;
    let sick = version_image(&docker, "sick-2.0.0", "2.0.0", &["--faults", "unhealthy"]).await;
    let name = unique("sick");
    let _cleanup = Cleanup(vec![name.clone(), format!("{name}{PREVIOUS_SUFFIX}")]);
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    operator_container(&docker, &name, &v1, port, data.path()).await;
    let t = target(&name);
    let before = t.current().await.unwrap().unwrap();

    let started = std::time::Instant::now();
    let err = t
        .deploy(&request("2.0.0", &sick, port, Duration::from_secs(3)))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(30));
    match &err {
        DeployError::Unhealthy { last, .. } => assert!(last.contains("503"), "{last}"),
        other => panic!("expected Unhealthy, got {other:?}"),
    }
    assert!(
        t.previous().await.unwrap().is_some(),
        "the old container is kept"
    );
    t.rollback(&before, &request("2.0.0", &sick, port, HEALTH))
        .await
        .unwrap();
    assert_eq!(wire_version(port).await, "1.0.0");
}

#[tokio::test]
async fn a_rollback_moves_the_registry_tag_back_and_pushes_it() {
    let docker = engine().await;
    let registry = Registry::start();
    let v1 = version_image(&docker, "tag-1.0.0", "1.0.0", &[]).await;
    let v2 = version_image(&docker, "tag-2.0.0", "2.0.0", &[]).await;
    let (v1_id, v2_id) = (image_id(&docker, &v1).await, image_id(&docker, &v2).await);
    let latest = format!("{}/runway-reference:latest", registry.addr);
    let name = unique("tag");
    let _cleanup = Cleanup(vec![name.clone(), format!("{name}{PREVIOUS_SUFFIX}")]);
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    operator_container(&docker, &name, &v1, port, data.path()).await;

    let mut settings = DockerSettings::new("test", &name);
    settings.host = Some(docker_support::docker_host());
    settings.stop_timeout = Duration::from_secs(2);
    settings.rollback_tag = Some(latest.clone());
    let t = DockerTarget::new(settings);
    let before = t.current().await.unwrap().unwrap();

    // The release pipeline pushed 2.0.0 as `latest`.
    let pushed = t
        .move_tag(&v2_id, "2.0.0", &latest, true, &Steps::none())
        .await
        .unwrap();
    let (config, digest) = registry.manifest("runway-reference", "latest").await;
    assert_eq!(config, v2_id);
    assert_eq!(pushed.pushed_digest.as_deref(), Some(digest.as_str()));

    t.deploy(&request("2.0.0", &v2, port, HEALTH))
        .await
        .unwrap();
    let journal = std::sync::Arc::new(Recorded::default());
    let mut r = request("1.0.0", &v1, port, HEALTH);
    r.steps = Steps::to(journal.clone());
    let back = t.rollback(&before, &r).await.unwrap();
    assert_eq!(wire_version(port).await, "1.0.0");
    // The tag's move and its push are journaled, after the containers' steps.
    let short = &v1_id[..19];
    let lines = journal.lines();
    assert_eq!(
        lines[lines.len() - 4..],
        [
            format!("intend move tag `{latest}` to {short} (1.0.0)"),
            format!("did moved tag `{latest}` to {short} (1.0.0)"),
            format!("intend push `{latest}` (1.0.0)"),
            format!("did pushed `{latest}` (1.0.0)"),
        ],
        "{lines:#?}"
    );
    // `latest` names 1.0.0 again, in the registry too.
    let (config, digest) = registry.manifest("runway-reference", "latest").await;
    assert_eq!(config, v1_id);
    let moved = &back.detail["tag_moved"];
    assert_eq!(moved["reference"], latest.as_str());
    assert_eq!(moved["image_id"], v1_id.as_str());
    assert_eq!(moved["pushed_digest"], digest.as_str());
    let _ = docker
        .remove_image(
            &latest,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await;
}

/// What a target journaled, in order: `intend ...` before a step, `did ...`
/// after it. Refuses to journal (so the step must not be taken) any intent
/// that starts with `refuse`.
#[derive(Default)]
struct Recorded {
    lines: std::sync::Mutex<Vec<String>>,
    refuse: Option<String>,
}

#[async_trait::async_trait]
impl runway_deploy::Journal for Recorded {
    async fn intend(&self, step: &str) -> Result<(), String> {
        if self.refuse.as_deref().is_some_and(|r| step.starts_with(r)) {
            return Err("the ledger is full".into());
        }
        self.lines.lock().unwrap().push(format!("intend {step}"));
        Ok(())
    }

    async fn did(&self, step: &str) {
        self.lines.lock().unwrap().push(format!("did {step}"));
    }
}

impl Recorded {
    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn every_step_that_changes_a_container_is_journaled_first_with_its_name_and_version() {
    let docker = engine().await;
    let v1 = version_image(&docker, "journal-1.0.0", "1.0.0", &[]).await;
    let v2 = version_image(&docker, "journal-2.0.0", "2.0.0", &[]).await;
    let name = unique("journal");
    let (prev, next) = (
        format!("{name}{PREVIOUS_SUFFIX}"),
        format!("{name}{}", runway_deploy::docker::NEXT_SUFFIX),
    );
    let _cleanup = Cleanup(vec![name.clone(), prev.clone(), next.clone()]);
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    operator_container(&docker, &name, &v1, port, data.path()).await;
    let t = target(&name);
    let before = t.current().await.unwrap().unwrap();
    let old_id = before.detail["container_id"].as_str().unwrap().to_owned();

    // A journal that cannot record the stop: the stop is not taken.
    let refusing = std::sync::Arc::new(Recorded {
        refuse: Some("stop".into()),
        ..Recorded::default()
    });
    let mut r = request("2.0.0", &v2, port, HEALTH);
    r.steps = Steps::to(refusing.clone());
    let err = t.deploy(&r).await.unwrap_err();
    assert!(matches!(err, DeployError::Journal { .. }), "{err:?}");
    assert!(!err.is_before_change(), "{err:?}");
    let now = docker.inspect_container(&name, None).await.unwrap();
    assert_eq!(now.id.as_deref(), Some(old_id.as_str()));
    assert_eq!(now.state.unwrap().running, Some(true));
    assert_eq!(wire_version(port).await, "1.0.0");

    let journal = std::sync::Arc::new(Recorded::default());
    let mut r = request("2.0.0", &v2, port, HEALTH);
    r.steps = Steps::to(journal.clone());
    t.deploy(&r).await.unwrap();
    assert_eq!(wire_version(port).await, "2.0.0");
    let lines = journal.lines();
    let create = lines
        .iter()
        .position(|l| {
            l.starts_with(&format!(
                "intend create container `{next}` (2.0.0) from `{v2}`"
            ))
        })
        .unwrap_or_else(|| panic!("{lines:#?}"));
    let tail: Vec<&str> = lines[create + 1..].iter().map(String::as_str).collect();
    assert_eq!(
        tail,
        [
            format!("did created container `{next}` (2.0.0)"),
            format!("intend stop container `{name}` (1.0.0)"),
            format!("did stopped container `{name}` (1.0.0)"),
            format!("intend rename container `{name}` (1.0.0) to `{prev}`"),
            format!("did renamed container `{name}` (1.0.0) to `{prev}`"),
            format!("intend rename container `{next}` (2.0.0) to `{name}`"),
            format!("did renamed container `{next}` (2.0.0) to `{name}`"),
            format!("intend start container `{name}` (2.0.0)"),
            format!("did started container `{name}` (2.0.0)"),
        ]
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>(),
        "{lines:#?}"
    );

    let journal = std::sync::Arc::new(Recorded::default());
    let mut r = request("1.0.0", &v1, port, HEALTH);
    r.steps = Steps::to(journal.clone());
    t.rollback(&before, &r).await.unwrap();
    assert_eq!(wire_version(port).await, "1.0.0");
    assert_eq!(
        journal.lines(),
        [
            format!("intend stop container `{name}` (2.0.0)"),
            format!("did stopped container `{name}` (2.0.0)"),
            format!("intend remove container `{name}` (2.0.0)"),
            format!("did removed container `{name}` (2.0.0)"),
            format!("intend rename container `{prev}` (1.0.0) to `{name}`"),
            format!("did renamed container `{prev}` (1.0.0) to `{name}`"),
            format!("intend start container `{name}` (1.0.0)"),
            format!("did started container `{name}` (1.0.0)"),
        ]
    );
}

// Through the binary: `runway ship|deploy|rollback|status` on a docker
// environment, results read from the engine, the wire and the ledger.

/// A project whose `staging` is the container `name` on `port`, deployed
/// from `image` (a template with `{version}`).
struct Cli {
    dir: tempfile::TempDir,
    _cleanup: Cleanup,
}

impl Cli {
    fn new(name: &str, port: u16, image: &str, extra: &str) -> Cli {
        let dir = tempfile::tempdir().unwrap();
        let toml = format!(
            r#"[environments.staging]
url = "http://127.0.0.1:{port}/mcp"
health_path = "/health"
{extra}

[[environments.staging.calls]]
tool = "echo"
arguments = {{ message = "smoke" }}
expect_text = "smoke"

[environments.staging.deploy]
target = "docker"
image = "{image}"
health_timeout = "15s"

[environments.staging.deploy.docker]
container = "{name}"
stop_timeout = "1s"
api_timeout = "30s"

[environments.staging.analysis]
bake = "2s"
interval = "300ms"
min_samples = 2
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
        Cli {
            dir,
            _cleanup: Cleanup(vec![
                name.to_owned(),
                format!("{name}{PREVIOUS_SUFFIX}"),
                format!("{name}{}", runway_deploy::docker::NEXT_SUFFIX),
            ]),
        }
    }

    /// Deploys on `port`, told to the server as `PORT = "{port}"` (a fresh
    /// container on the host network gets no `--port`).
    fn port_by_env(&self, port: u16) {
        let config = self.dir.path().join("runway.toml");
        let toml = std::fs::read_to_string(&config).unwrap().replace(
            "health_timeout = \"15s\"",
            &format!("health_timeout = \"15s\"\nport = {port}\nenv = {{ PORT = \"{{port}}\" }}"),
        );
        std::fs::write(&config, toml).unwrap();
    }

    fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = runway_testkit::Test::new().into_command();
        c.args(["-C", self.dir.path().to_str().unwrap()])
            .args(args)
            .env("RUNWAY_OPERATOR", "alice")
            .env("DOCKER_HOST", docker_support::docker_host())
            .env_remove("RUNWAY_LEDGER_URL")
            .stdin(std::process::Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        self.cmd(args).output().unwrap()
    }

    async fn deployments(&self) -> Vec<runway_ledger::DeploymentView> {
        let url = runway_ledger::LedgerUrl::parse(".runway/ledger.db", self.dir.path()).unwrap();
        let l = runway_ledger::open(&url).await.unwrap();
        let f = runway_ledger::Filter {
            kind: Some(runway_ledger::Kind::Deployment),
            ..Default::default()
        };
        let mut out = Vec::new();
        for r in l.query(&f, false).await.unwrap() {
            out.push(l.deployment_view(&r.id).await.unwrap());
        }
        out
    }
}

fn text(o: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The container's id, image id and whether it runs.
async fn container(docker: &bollard::Docker, name: &str) -> (String, String, bool) {
    let c = docker
        .inspect_container(name, None)
        .await
        .unwrap_or_else(|e| panic!("inspect {name}: {e}"));
    (
        c.id.unwrap(),
        c.image.unwrap(),
        c.state.and_then(|s| s.running).unwrap_or(false),
    )
}

#[tokio::test]
async fn ship_a_failed_watch_rolls_back_to_the_exact_digest_and_rollback_goes_further_back() {
    let docker = engine().await;
    let v1 = version_image(&docker, "cli-1.0.0", "1.0.0", &[]).await;
    version_image(&docker, "cli-1.1.0", "1.1.0", &[]).await;
    // Its tool calls fail after the verify's: the watch fails.
    version_image(&docker, "cli-2.0.0", "2.0.0", &["--faults", "fail-after=1"]).await;
    let v1_id = image_id(&docker, &v1).await;
    let v11_id = image_id(&docker, "runway-test/reference:cli-1.1.0").await;
    let name = unique("cli-ship");
    let port = free_port();
    let p = Cli::new(&name, port, "runway-test/reference:cli-{version}", "");
    let data = tempfile::tempdir().unwrap();
    operator_container(&docker, &name, &v1, port, data.path()).await;

    // Each version is deployed with its own audience: a rollback gives the
    // earlier version its own, not the failed version's.
    let config = p.dir.path().join("runway.toml");
    let base = std::fs::read_to_string(&config).unwrap();
    let audience = |v: &str| {
        let toml = base.replace(
            "health_timeout = \"15s\"",
            &format!("health_timeout = \"15s\"\nenv = {{ MCP_AUDIENCE = \"aud-{v}\" }}"),
        );
        std::fs::write(&config, toml).unwrap();
    };
    audience("1.0.0");
    let o = p.run(&["ship", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    audience("1.1.0");
    let o = p.run(&["deploy", "staging", "--version", "1.1.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(wire_version(port).await, "1.1.0");
    audience("2.0.0");
    let (v11_container, image, running) = container(&docker, &name).await;
    assert_eq!((image.as_str(), running), (v11_id.as_str(), true));

    let o = p.run(&["ship", "staging", "--version", "2.0.0"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("watch failed"), "{err}");
    assert!(err.contains("rolled back to 1.1.0"), "{err}");
    // Back on exactly 1.1.0's digest: the same container, running again.
    assert_eq!(wire_version(port).await, "1.1.0");
    assert_eq!(
        container(&docker, &name).await,
        (v11_container, v11_id.clone(), true)
    );

    let deps = p.deployments().await;
    assert_eq!(deps.len(), 3);
    let v2 = &deps[2];
    assert_eq!(v2.deployment.release, "2.0.0");
    assert_eq!(v2.status, "rolled_back");
    assert_eq!(v2.incidents.len(), 1);
    // Each fact names what it is about: 2.0.0's image as deployed, 1.1.0's
    // as rolled back to, the verify after the rollback as 1.1.0's, the logs as 2.0.0's.
    let deployed = v2.deployed.as_ref().unwrap();
    assert_eq!(deployed.version.as_deref(), Some("2.0.0"));
    assert_eq!(
        deployed.image.as_deref(),
        Some("runway-test/reference:cli-2.0.0")
    );
    let restored = v2.rolled_back_to.as_ref().unwrap();
    assert_eq!(restored.version.as_deref(), Some("1.1.0"));
    assert_eq!(restored.digest.as_deref(), Some(v11_id.as_str()));
    let versions: Vec<Option<&str>> = v2
        .verifications
        .iter()
        .map(|v| v.version.as_deref())
        .collect();
    assert_eq!(versions, [Some("2.0.0"), Some("1.1.0")]);
    assert_eq!(v2.logs.len(), 1);
    assert_eq!(v2.logs[0].version.as_deref(), Some("2.0.0"));
    let rb = &v2.rollbacks[0];
    assert!(rb.ok, "{rb:?}");
    assert_eq!(rb.to_version.as_deref(), Some("1.1.0"));
    let show = p.run(&["ledger", "show", &v2.id]);
    assert_eq!(show.status.code(), Some(0), "{}", text(&show));
    let shown = String::from_utf8_lossy(&show.stdout);
    assert!(
        shown.contains("deployed  2.0.0: image runway-test/reference:cli-2.0.0"),
        "{shown}"
    );
    assert!(shown.contains("back to   1.1.0: image"), "{shown}");

    // `runway rollback`: back to 1.0.0, whose container is long gone: its
    // digest runs again with the container's configuration.
    let o = p.run(&["rollback", "staging"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(wire_version(port).await, "1.0.0");
    let (_, image, running) = container(&docker, &name).await;
    assert_eq!((image.as_str(), running), (v1_id.as_str(), true));
    let env = docker_env(&name);
    assert!(
        env.contains(&"MCP_AUDIENCE=aud-1.0.0".to_owned()),
        "{env:?}"
    );
    let o = p.run(&["status", "staging", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["running"]["version"], "1.0.0", "{doc}");
}

/// The environment of container `name`, from `docker inspect`.
fn docker_env(name: &str) -> Vec<String> {
    let o = std::process::Command::new("docker")
        .args(["inspect", "-f", "{{json .Config.Env}}", name])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[tokio::test]
async fn a_missing_image_is_refused_with_the_running_container_untouched_and_no_incident() {
    let docker = engine().await;
    let registry = Registry::start();
    let v1 = version_image(&docker, "missing-1.0.0", "1.0.0", &[]).await;
    let name = unique("cli-missing");
    let port = free_port();
    let latest = format!("{}/runway-missing:latest", registry.addr);
    let p = Cli::new(
        &name,
        port,
        &format!("{}/runway-missing:{{version}}", registry.addr),
        "",
    );
    // With a `latest` to move back on a rollback: a refusal must not push it.
    let toml = std::fs::read_to_string(p.dir.path().join("runway.toml"))
        .unwrap()
        .replace(
            "api_timeout = \"30s\"",
            &format!("api_timeout = \"30s\"\nrollback_tag = \"{latest}\""),
        );
    std::fs::write(p.dir.path().join("runway.toml"), toml).unwrap();
    let data = tempfile::tempdir().unwrap();
    operator_container(&docker, &name, &v1, port, data.path()).await;
    let before = container(&docker, &name).await;

    let o = p.run(&["deploy", "staging", "--version", "4.0.0"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("runway-missing:4.0.0"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(err.contains("push"), "the hint says what to do: {err}");
    assert!(!err.contains("rolling back"), "{err}");
    // The same container, still running, never stopped.
    assert_eq!(container(&docker, &name).await, before);
    assert_eq!(wire_version(port).await, "1.0.0");
    for leftover in [PREVIOUS_SUFFIX, runway_deploy::docker::NEXT_SUFFIX] {
        assert!(
            docker
                .inspect_container(&format!("{name}{leftover}"), None)
                .await
                .is_err()
        );
    }
    let deps = p.deployments().await;
    assert_eq!(deps.len(), 1);
    assert_eq!(deps[0].status, "refused");
    assert!(deps[0].incidents.is_empty());
    assert!(deps[0].rollbacks.is_empty());
    assert!(deps[0].logs.is_empty());
    assert!(deps[0].deployed.is_none());
    // `latest` was never pushed.
    runway_verify::http::install_crypto_provider();
    let tags = reqwest::get(format!(
        "http://{}/v2/runway-missing/tags/list",
        registry.addr
    ))
    .await
    .unwrap();
    assert_eq!(tags.status(), reqwest::StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_unset_variable_is_refused_with_exit_2_before_the_container_is_touched() {
    let docker = engine().await;
    let v1 = version_image(&docker, "unset-1.0.0", "1.0.0", &[]).await;
    version_image(&docker, "unset-2.0.0", "2.0.0", &[]).await;
    let name = unique("cli-unset");
    let port = free_port();
    let p = Cli::new(
        &name,
        port,
        "runway-test/reference:unset-{version}",
        "expect_version = \"${RUNWAY_TEST_DOCKER_NEVER_SET}\"",
    );
    let data = tempfile::tempdir().unwrap();
    operator_container(&docker, &name, &v1, port, data.path()).await;
    let before = container(&docker, &name).await;

    let o = p
        .cmd(&["ship", "staging", "--version", "2.0.0"])
        .env_remove("RUNWAY_TEST_DOCKER_NEVER_SET")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("RUNWAY_TEST_DOCKER_NEVER_SET"),
        "{}",
        text(&o)
    );
    assert_eq!(container(&docker, &name).await, before);
    assert_eq!(wire_version(port).await, "1.0.0");
    assert!(
        p.deployments()
            .await
            .iter()
            .all(|d| d.status != runway_ledger::IN_PROGRESS),
        "no record is left in progress"
    );
}

mod provenance;
mod recovery;
mod trial;
