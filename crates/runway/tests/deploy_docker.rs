//! The docker target against a real engine (`scripts/setup.d/30-docker.sh`):
//! a deploy carries the operator's container configuration over to the new
//! image, a failed verify rolls back to the recorded digest, a container that
//! dies or never gets healthy fails the deploy with its logs while the old one
//! is kept, and a rollback moves the registry's `latest` back and pushes it.

mod docker_support;

use std::time::Duration;

use docker_support::{
    Cleanup, Registry, engine, free_port, image_id, operator_container, unique, version_image,
    wire_version,
};
use runway_deploy::{
    DeployError, DeployRequest, Deployed, HealthWait, Target,
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
    let pushed = t.move_tag(&v2_id, &latest, true).await.unwrap();
    let (config, digest) = registry.manifest("runway-reference", "latest").await;
    assert_eq!(config, v2_id);
    assert_eq!(pushed.pushed_digest.as_deref(), Some(digest.as_str()));

    t.deploy(&request("2.0.0", &v2, port, HEALTH))
        .await
        .unwrap();
    let back = t
        .rollback(&before, &request("2.0.0", &v2, port, HEALTH))
        .await
        .unwrap();
    assert_eq!(wire_version(port).await, "1.0.0");
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
