//! The `performance` gate on a docker environment: the release runs first as
//! a container of its own beside the environment's (`<container>-runway-trial`,
//! host network, its port by `PORT`), measured from the engine's stats, and
//! removed; a release over its memory limit is refused and never deployed.

use super::*;

const CRITERIA: &str = r#"
[environments.staging.gates.performance]
startup_max = "15s"
max_rss_mb = 200
concurrency = 10
requests = 200
p95_max = "5s"
tool = "echo"
arguments = { message = "load" }
"#;

async fn exists(docker: &bollard::Docker, name: &str) -> bool {
    docker.inspect_container(name, None).await.is_ok()
}

fn performance(d: &runway_ledger::DeploymentView) -> runway_ledger::GateRecord {
    crate::ledger_support::gate_of(d, "performance")
}

#[tokio::test]
async fn a_container_over_its_memory_limit_is_refused_and_one_within_it_ships_after_its_trial() {
    let docker = engine().await;
    // Without the rate limit: one client's load is the point.
    version_image(
        &docker,
        "trial-1.0.0",
        "1.0.0",
        &["--faults", "no-rate-limit"],
    )
    .await;
    // Holds 300 MB of anonymous memory from its start.
    version_image(
        &docker,
        "trial-3.0.0",
        "3.0.0",
        &["--faults", "hog-memory=300,no-rate-limit"],
    )
    .await;
    let name = unique("trial");
    let trial = format!("{name}-runway-trial");
    let _cleanup = Cleanup(vec![trial.clone()]);
    let port = free_port();
    let p = Cli::new(&name, port, "runway-test/reference:trial-{version}", "");
    p.port_by_env(port);
    let config = p.dir.path().join("runway.toml");
    let toml = std::fs::read_to_string(&config).unwrap() + CRITERIA;
    std::fs::write(&config, toml).unwrap();

    let o = p.run(&["deploy", "staging", "--version", "3.0.0"]);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    let deps = p.deployments().await;
    let g = performance(&deps[0]);
    assert_eq!(g.verdict.as_str(), "refused", "{g:?}");
    assert!(
        g.detail.contains(&format!("container `{trial}`")) && g.detail.contains("over 200 MB"),
        "{}",
        g.detail
    );
    assert!(
        g.detail.contains("the trial container was removed"),
        "{}",
        g.detail
    );
    assert!(
        !exists(&docker, &trial).await,
        "the trial container is gone"
    );
    assert!(!exists(&docker, &name).await, "3.0.0 was never deployed");

    let o = p.run(&["deploy", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let deps = p.deployments().await;
    let g = performance(&deps[1]);
    assert_eq!(g.verdict.as_str(), "pass", "{g:?}");
    assert!(
        g.detail
            .contains("tools/call echo x10: 200 requests, 0 failed"),
        "{}",
        g.detail
    );
    assert!(
        !exists(&docker, &trial).await,
        "the trial container is gone"
    );
    // The environment's own container runs 1.0.0 on its own port.
    assert_eq!(wire_version(port).await, "1.0.0");
    let (_, _, running) = container(&docker, &name).await;
    assert!(running);
}

/// Hostaway's "Memory usage > 80%" on a container: the watch reads the
/// container's memory from the engine's stats, fails on a release that holds
/// too much, and rolls back to the previous one.
#[tokio::test]
async fn a_container_over_its_memory_condition_fails_the_watch_and_is_rolled_back() {
    let docker = engine().await;
    version_image(&docker, "res-1.0.0", "1.0.0", &[]).await;
    version_image(
        &docker,
        "res-2.0.0",
        "2.0.0",
        &["--faults", "hog-memory=300"],
    )
    .await;
    let name = unique("res");
    let port = free_port();
    let p = Cli::new(&name, port, "runway-test/reference:res-{version}", "");
    p.port_by_env(port);
    let config = p.dir.path().join("runway.toml");
    let toml = std::fs::read_to_string(&config).unwrap()
        + "\n[[environments.staging.analysis.conditions]]\nname = \"memory\"\nsource = \"resources\"\nmemory_max_ratio = 0.8\nmemory_limit_mb = 250\n";
    std::fs::write(&config, toml).unwrap();

    let o = p.run(&["ship", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = p.run(&["ship", "staging", "--version", "2.0.0"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let watch = err.split("watching staging").nth(1).unwrap_or_default();
    assert!(
        watch.contains("condition `memory` (resources): fail"),
        "{err}"
    );
    assert!(err.contains("rolled back to 1.0.0"), "{err}");
    assert_eq!(wire_version(port).await, "1.0.0");
}
