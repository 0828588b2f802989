//! The `provenance` gate on a real engine and registry: the image a deploy
//! runs must have the manifest digest `release verify-artifacts` recorded for
//! the version; a tag moved after the check is refused, whether the engine
//! already holds the moved image or would pull it from the registry.

use super::*;

/// Records, as verify-artifacts does, that `reference` was verified for
/// `version` with manifest `digest`.
async fn record_verified(
    dir: &std::path::Path,
    version: &str,
    reference: &str,
    index: &str,
    digest: &str,
) {
    let url = runway_ledger::LedgerUrl::parse(".runway/ledger.db", dir).unwrap();
    let l = runway_ledger::open(&url).await.unwrap();
    let release = runway_ledger::Release {
        version: version.into(),
        tag: Some(format!("v{version}")),
        ..Default::default()
    };
    let run = runway_ledger::ArtifactsRun {
        version: version.into(),
        passed: true,
        artifacts: vec![runway_ledger::ArtifactResult {
            source: "docker".into(),
            artifact: reference.into(),
            index: index.into(),
            ok: true,
            problem: None,
            message: "pulled and ran".into(),
            printed: Some(version.into()),
            digest: Some(digest.into()),
            duration_ms: 1,
        }],
    };
    l.record_artifacts(&release, &run).await.unwrap();
    l.close().await;
}

fn provenance(d: &runway_ledger::DeploymentView) -> runway_ledger::GateRecord {
    crate::ledger_support::gate_of(d, "provenance")
}

#[tokio::test]
async fn an_image_whose_tag_moved_after_it_was_verified_is_refused_from_the_engine_and_the_registry()
 {
    let docker = engine().await;
    let registry = Registry::start();
    let v1 = version_image(&docker, "prov-1.0.0", "1.0.0", &[]).await;
    // Another build under the same version: what a re-push would bring.
    let other = version_image(
        &docker,
        "prov-other",
        "1.0.0",
        &["--faults", "no-rate-limit"],
    )
    .await;
    let (v1_id, other_id) = (
        image_id(&docker, &v1).await,
        image_id(&docker, &other).await,
    );
    let repo = format!("{}/acme/prov", registry.addr);
    let index = format!("http://{}", registry.addr);
    let name = unique("prov");
    let port = free_port();
    let pusher = target(&unique("prov-pusher"));
    let mut digests = Vec::new();
    for v in ["1.0.0", "1.1.0"] {
        let moved = pusher
            .move_tag(&v1_id, v, &format!("{repo}:{v}"), true, &Steps::none())
            .await
            .unwrap();
        digests.push(moved.pushed_digest.expect("pushed"));
    }
    let p = Cli::new(&name, port, &format!("{repo}:{{version}}"), "");
    p.port_by_env(port);
    let o = p.run(&["plan", "staging", "--version", "1.0.0"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("no image digest is recorded for 1.0.0"),
        "{}",
        text(&o)
    );
    for (v, d) in ["1.0.0", "1.1.0"].iter().zip(&digests) {
        record_verified(p.dir.path(), v, &format!("{repo}:{v}"), &index, d).await;
    }

    // The verified image: it ships.
    let o = p.run(&["deploy", "staging", "--version", "1.0.0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let g = provenance(&p.deployments().await[0]);
    assert_eq!(g.verdict.as_str(), "pass", "{g:?}");
    assert!(g.detail.contains("(the engine's image)"), "{}", g.detail);
    // `ledger show` prints the chain: release, the verified digest, the
    // image deployed with that same registry digest, its verification.
    let id = p.deployments().await[0].id.clone();
    let o = p.run(&["ledger", "show", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let shown = String::from_utf8_lossy(&o.stdout).into_owned();
    let chain = shown.split("  provenance\n").nth(1).expect(&shown);
    for part in [
        "    release   rel-".to_owned(),
        "1.0.0 (tag v1.0.0)".to_owned(),
        "    artifacts verified".to_owned(),
        format!("ok   docker {repo}:1.0.0  {}", digests[0]),
        format!("    deployed  {repo}:1.0.0, id {v1_id}"),
        format!("{repo}@{}", digests[0]),
        "    verified  ver-".to_owned(),
    ] {
        assert!(chain.contains(&part), "{part}: {chain}");
    }
    assert!(!chain.contains("broken"), "{chain}");
    let o = p.run(&["ledger", "show", &id, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        doc["chain"]["artifacts"]["artifacts"][0]["digest"],
        digests[0].as_str()
    );
    assert_eq!(doc["chain"]["breaks"], serde_json::json!([]));

    // 1.1.0's tag is moved to another build and pushed after its check.
    let moved = pusher
        .move_tag(
            &other_id,
            "1.1.0",
            &format!("{repo}:1.1.0"),
            true,
            &Steps::none(),
        )
        .await
        .unwrap();
    let new_digest = moved.pushed_digest.unwrap();
    assert_ne!(new_digest, digests[1]);
    let short = |d: &str| d[..19].to_owned();
    let o = p.run(&["deploy", "staging", "--version", "1.1.0"]);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    let g = provenance(&p.deployments().await[1]);
    assert_eq!(g.verdict.as_str(), "refused", "{g:?}");
    assert!(
        g.detail.contains(&format!(
            "is {} (the engine's image), not {}",
            short(&new_digest),
            short(&digests[1])
        )),
        "{}",
        g.detail
    );
    assert_eq!(wire_version(port).await, "1.0.0", "1.0.0 still serves");

    // Not on the engine any more: the registry's manifest is what a pull would run.
    docker
        .remove_image(
            &format!("{repo}:1.1.0"),
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await
        .unwrap();
    let o = p.run(&["deploy", "staging", "--version", "1.1.0"]);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    let g = provenance(&p.deployments().await[2]);
    assert_eq!(g.verdict.as_str(), "refused", "{g:?}");
    assert!(
        g.detail
            .contains(&format!("is {} (the registry)", short(&new_digest))),
        "{}",
        g.detail
    );
    assert_eq!(wire_version(port).await, "1.0.0");
}
