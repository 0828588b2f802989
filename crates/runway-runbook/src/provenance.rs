//! The facts of the `provenance` gate: which image digests `release
//! verify-artifacts` verified for the version (the ledger's newest artifact
//! run with a docker digest), and which digest the image the deploy runs has
//! now: the engine's image for the docker target when it has it (its
//! registry digests), else the registry's manifest for the verified artifact.

use runway_config::{TargetKind, deploy::ProvenanceMode};
use runway_deploy::provenance::ProvenanceFacts;

use crate::Env;

/// A verified docker artifact: reference, registry URL, manifest digest.
struct Verified {
    artifact: String,
    index: String,
    digest: String,
}

pub(crate) async fn facts(env: &Env, version: &str, mode: ProvenanceMode) -> ProvenanceFacts {
    let mut f = ProvenanceFacts {
        version: version.to_owned(),
        image: env.image(version),
        ..ProvenanceFacts::default()
    };
    let Some(image) = f.image.clone() else {
        return f;
    };
    if mode == ProvenanceMode::Off {
        return f;
    }
    let record = match env.ledger.release_record(version).await {
        Ok(r) => r,
        Err(e) => {
            f.verified = Some(("?".into(), Vec::new()));
            f.now = Some(Err(format!("the ledger could not be read: {e}")));
            return f;
        }
    };
    let runs = record
        .map(|r| runway_ledger::artifact_runs(&r))
        .unwrap_or_default();
    let newest = runs.into_iter().rev().find_map(|(at, run)| {
        let v: Vec<Verified> = run
            .artifacts
            .into_iter()
            .filter(|a| a.source == "docker" && a.ok)
            .filter_map(|a| {
                Some(Verified {
                    digest: a.digest?,
                    artifact: a.artifact,
                    index: a.index,
                })
            })
            .collect();
        (!v.is_empty()).then_some((at, v))
    });
    let Some((at, verified)) = newest else {
        return f;
    };
    f.verified = Some((
        at.format("%Y-%m-%d %H:%M UTC").to_string(),
        verified
            .iter()
            .map(|v| (v.artifact.clone(), v.digest.clone()))
            .collect(),
    ));
    f.now = Some(now(env, &image, &verified).await);
    f
}

/// The digests `image` has now, and where they were read.
async fn now(
    env: &Env,
    image: &str,
    verified: &[Verified],
) -> Result<(String, Vec<String>), String> {
    if env.deploy.target == TargetKind::Docker {
        let target = runway_deploy::docker::DockerSettings::from_config(&env.name, &env.deploy)
            .map(runway_deploy::docker::DockerTarget::new)
            .map_err(|e| e.to_string())?;
        match target.image_present(image).await {
            Ok(Some(i)) => {
                let digests = i
                    .repo_digests
                    .iter()
                    .filter_map(|d| d.split_once('@').map(|(_, d)| d.to_owned()))
                    .collect();
                return Ok(("the engine's image".into(), digests));
            }
            // Not on the engine: the deploy pulls it from the registry.
            Ok(None) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    let Some(v) = verified.iter().find(|v| v.artifact == image) else {
        let checked: Vec<&str> = verified.iter().map(|v| v.artifact.as_str()).collect();
        return Err(format!(
            "it is not an image verify-artifacts checked ({})",
            checked.join(", ")
        ));
    };
    let settings = runway_artifacts::Settings::from_config(&env.loaded.config.release.artifacts);
    match runway_artifacts::registry_digest(&v.index, image, &settings).await? {
        Some(d) => Ok(("the registry".into(), vec![d])),
        None => Err(format!("the registry `{}` has no such tag now", v.index)),
    }
}
