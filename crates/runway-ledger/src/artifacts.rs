//! What `runway release verify-artifacts` found, kept with the release.
//!
//! A run is a `fact` event (`"fact": "artifacts"`) on the release record of
//! its version, so the release's history says when its published packages
//! and images were checked and what each check saw. The record is the newest
//! release record of that version; when the release was never recorded, one
//! is created first. No new table: events already hold JSON.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{EventKind, Record};

/// The `fact` value of an artifacts event.
pub const ARTIFACTS_FACT: &str = "artifacts";

/// One artifact's verdict as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactResult {
    /// `pypi`, `npm`, `docker`.
    pub source: String,
    /// What was checked: `demo==1.2.0`, `demo@1.2.0`, `registry/acme/demo:1.2.0`.
    pub artifact: String,
    /// The index or registry URL (credentials hidden).
    pub index: String,
    pub ok: bool,
    /// `unreachable`, `missing_version`, `install_failed`, `run_failed`, `wrong_version`, `config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    pub message: String,
    /// What `--version` printed, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printed: Option<String>,
    /// The image's manifest digest (docker), the preferred file's
    /// `sha256:HEX` (pypi), the tarball's integrity (npm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    pub duration_ms: u64,
}

/// One verify-artifacts run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactsRun {
    pub version: String,
    /// Every artifact passed.
    pub passed: bool,
    pub artifacts: Vec<ArtifactResult>,
}

/// The artifact runs recorded on a release, oldest first, with their times.
pub fn artifact_runs(record: &Record) -> Vec<(DateTime<Utc>, ArtifactsRun)> {
    record
        .events
        .iter()
        .filter(|e| {
            e.kind == EventKind::Fact
                && e.data.get("fact").and_then(|f| f.as_str()) == Some(ARTIFACTS_FACT)
        })
        .filter_map(|e| {
            ArtifactsRun::deserialize(&e.data)
                .ok()
                .map(|run| (e.at, run))
        })
        .collect()
}
