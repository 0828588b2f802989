//! The provenance chain of a deployment, as `runway ledger show` prints it:
//! the commit, the release recorded for that version, what `release
//! verify-artifacts` verified of it (with digests), what was deployed (the
//! image and its registry digests), and the verification that decided the
//! outcome; with every link that does not hold named.
//!
//! Built from records the ledger already has: the deployment's view and the
//! newest release record of its version. Nothing is looked up outside.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{DeploymentView, Record, artifact_runs};

/// The release a deployment's version was cut as.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainRelease {
    pub id: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_sha: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// One artifact as verified.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainArtifact {
    pub source: String,
    pub artifact: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// The newest verify-artifacts run of the release.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainArtifacts {
    pub checked_at: DateTime<Utc>,
    pub passed: bool,
    pub artifacts: Vec<ChainArtifact>,
}

/// What the deployment put in place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainDeployed {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The image id (the digest of its configuration) or the target's own digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The image's registry digests (`repo@sha256:...`), when the target reported them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repo_digests: Vec<String>,
    /// A process id, a Kubernetes revision, a container id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
}

/// The verification that decided the deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainVerification {
    pub id: String,
    pub status: String,
}

/// commit → release → artifacts → deployment → verification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chain {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<ChainRelease>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<ChainArtifacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployed: Option<ChainDeployed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<ChainVerification>,
    /// The links that do not hold, in words.
    pub breaks: Vec<String>,
}

fn repo_digests(detail: Option<&str>) -> Vec<String> {
    let Some(v) = detail.and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok()) else {
        return Vec::new();
    };
    v.pointer("/detail/repo_digests")
        .and_then(|a| a.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|d| d.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

impl Chain {
    /// The chain of deployment `view`; `release` is the newest release
    /// record of its version, when there is one.
    pub fn build(view: &DeploymentView, release: Option<&Record>) -> Chain {
        let d = &view.deployment;
        let version = &d.release;
        let mut breaks = Vec::new();
        let release_body = release.and_then(|r| r.release().ok().map(|b| (r, b)));
        let release_link = release_body.as_ref().map(|(r, b)| ChainRelease {
            id: r.id.clone(),
            version: b.version.clone(),
            tag: b.tag.clone(),
            git_sha: b.git_sha.clone(),
            recorded_at: r.created_at,
        });
        match &release_link {
            None => breaks.push(format!(
                "no release record of {version} (`runway release` records one)"
            )),
            Some(r) => {
                if let (Some(a), Some(b)) = (&d.git_sha, &r.git_sha)
                    && a != b
                {
                    breaks.push(format!(
                        "the deployment's commit {a} is not the release's {b}"
                    ));
                }
            }
        }
        let artifacts = release.and_then(|r| {
            artifact_runs(r)
                .into_iter()
                .next_back()
                .map(|(at, run)| ChainArtifacts {
                    checked_at: at,
                    passed: run.passed,
                    artifacts: run
                        .artifacts
                        .into_iter()
                        .map(|a| ChainArtifact {
                            source: a.source,
                            artifact: a.artifact,
                            ok: a.ok,
                            digest: a.digest,
                        })
                        .collect(),
                })
        });
        match &artifacts {
            None => breaks.push(format!(
                "the artifacts of {version} were never verified (`runway release verify-artifacts --version {version}`)"
            )),
            Some(a) if !a.passed => breaks.push(format!(
                "the newest verify-artifacts run of {version} failed"
            )),
            Some(_) => {}
        }
        let deployed = view.deployed.as_ref().map(|x| ChainDeployed {
            image: x.image.clone(),
            digest: x.digest.clone(),
            repo_digests: repo_digests(x.detail.as_deref()),
            revision: x.revision.clone(),
        });
        if let (Some(dep), Some(a)) = (&deployed, &artifacts) {
            let verified: Vec<&str> = a
                .artifacts
                .iter()
                .filter(|x| x.source == "docker" && x.ok)
                .filter_map(|x| x.digest.as_deref())
                .collect();
            let ran: Vec<&str> = dep
                .repo_digests
                .iter()
                .filter_map(|r| r.split_once('@').map(|(_, d)| d))
                .collect();
            if !verified.is_empty() && !ran.is_empty() && !ran.iter().any(|r| verified.contains(r))
            {
                breaks.push(format!(
                    "the deployed image ({}) is not the verified one ({})",
                    ran.join(", "),
                    verified.join(", ")
                ));
            }
        }
        let deciding = view.end.as_ref().and_then(|e| e.verification_id.clone());
        let verification = view
            .verifications
            .iter()
            .find(|v| Some(&v.id) == deciding.as_ref())
            .or(view.verifications.last())
            .map(|v| ChainVerification {
                id: v.id.clone(),
                status: v.status.clone(),
            });
        if verification.is_none() && view.deployed.is_some() {
            breaks.push("the deployment was never verified".to_owned());
        }
        Chain {
            commit: d.git_sha.clone(),
            release: release_link,
            artifacts,
            deployed,
            verification,
            breaks,
        }
    }
}
