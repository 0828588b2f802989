//! A deploy cut off mid-swap, and a config-only change rolled back, on a real engine.

use super::*;

#[tokio::test]
async fn a_deploy_killed_between_stop_and_start_leaves_a_version_serving_at_the_next_status() {
    let docker = engine().await;
    let v1 = version_image(&docker, "kill-1.0.0", "1.0.0", &[]).await;
    version_image(&docker, "kill-2.0.0", "2.0.0", &[]).await;
    let name = unique("cli-kill");
    let port = free_port();
    let p = Cli::new(&name, port, "runway-test/reference:kill-{version}", "");
    // The server ignores SIGWINCH: `docker stop` takes its whole grace period.
    let toml = std::fs::read_to_string(p.dir.path().join("runway.toml"))
        .unwrap()
        .replace("stop_timeout = \"1s\"", "stop_timeout = \"3s\"");
    std::fs::write(p.dir.path().join("runway.toml"), toml).unwrap();
    let data = tempfile::tempdir().unwrap();
    docker_support::operator_container_with(
        &docker,
        &name,
        &v1,
        port,
        data.path(),
        Some("SIGWINCH"),
    )
    .await;
    let o = p.run(&["deploy", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let mut deploy = p
        .cmd(&["deploy", "staging", "--version", "2.0.0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The new container is created before the old one stops: once it
    // exists, the stop (3 s) is under way; kill in the middle of it.
    let next = format!("{name}{}", runway_deploy::docker::NEXT_SUFFIX);
    let started = std::time::Instant::now();
    while docker.inspect_container(&next, None).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the deploy never created its container"
        );
        assert!(
            deploy.try_wait().unwrap().is_none(),
            "the deploy ended early"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    deploy.kill().unwrap();
    deploy.wait().unwrap();
    // The engine finishes the stop it was asked for: nothing serves.
    let stopped = std::time::Instant::now();
    while container(&docker, &name).await.2 {
        assert!(stopped.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let o = p.run(&["status", "staging", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["running"]["version"], "1.0.0", "{}", text(&o));
    assert_eq!(wire_version(port).await, "1.0.0");
    // The killed deployment is ended; none stays in progress (the recovery
    // may add a record of its own for putting 1.0.0 back).
    let deps = p.deployments().await;
    let killed = deps
        .iter()
        .find(|d| d.deployment.release == "2.0.0")
        .unwrap();
    assert_eq!(killed.status, "interrupted", "{killed:?}");
    assert!(
        deps.iter().all(|d| d.status != runway_ledger::IN_PROGRESS),
        "{deps:#?}"
    );
}

#[tokio::test]
async fn a_config_only_change_that_fails_puts_the_same_image_back_with_its_old_environment() {
    let docker = engine().await;
    let v1 = version_image(&docker, "cfg-1.0.0", "1.0.0", &[]).await;
    let v1_id = image_id(&docker, &v1).await;
    version_image(&docker, "cfg-0.9.0", "0.9.0", &[]).await;
    let name = unique("cli-cfg");
    let port = free_port();
    let p = Cli::new(&name, port, "runway-test/reference:cfg-{version}", "");
    let data = tempfile::tempdir().unwrap();
    operator_container(&docker, &name, &v1, port, data.path()).await;
    let config = p.dir.path().join("runway.toml");
    let base = std::fs::read_to_string(&config).unwrap();
    let faults = |f: &str| {
        let toml = base.replace(
            "health_timeout = \"15s\"",
            &format!("health_timeout = \"15s\"\nenv = {{ RUNWAY_REFERENCE_FAULTS = \"{f}\" }}"),
        );
        std::fs::write(&config, toml).unwrap();
    };
    faults("");
    for v in ["0.9.0", "1.0.0"] {
        let o = p.run(&["deploy", "staging", "--version", v]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    let (v1_container, _, _) = container(&docker, &name).await;

    // Only the environment changes: the same image, now unhealthy.
    faults("unhealthy");
    let o = p.run(&["deploy", "staging", "--version", "1.0.0"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("rolling back staging to 1.0.0"), "{out}");
    // The container that ran before, with its environment, started again.
    assert_eq!(wire_version(port).await, "1.0.0");
    assert_eq!(
        container(&docker, &name).await,
        (v1_container, v1_id.clone(), true)
    );
    let env = docker_env(&name);
    assert!(
        env.contains(&"RUNWAY_REFERENCE_FAULTS=".to_owned()),
        "{env:?}"
    );
}

#[tokio::test]
async fn a_first_deployment_that_fails_its_verify_is_stopped_not_left_serving() {
    let docker = engine().await;
    // `echo` answers `isError`: the smoke verify's call fails.
    version_image(
        &docker,
        "first-1.0.0",
        "1.0.0",
        &["--faults", "failing-tool"],
    )
    .await;
    let name = unique("cli-first");
    let port = free_port();
    let p = Cli::new(&name, port, "runway-test/reference:first-{version}", "");
    p.port_by_env(port);
    let o = p.run(&["deploy", "staging", "--version", "1.0.0"]);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("verify failed"), "{err}");
    assert!(err.contains("stopped the failed 1.0.0"), "{err}");
    // Kept, stopped, for `docker logs`; nothing answers on its port.
    let (_, _, running) = container(&docker, &name).await;
    assert!(!running, "the failed first deployment is left serving");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}
