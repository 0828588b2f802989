//! What happened to a release after it was cut: yanked, the yank confirmed
//! by the index, announced, a step done by hand (`[[release.steps]]`).
//!
//! Like a `verify-artifacts` run ([`crate::artifacts`]), each is a `fact`
//! event on the newest release record of its version (`"fact": "yanked"`,
//! `"yank_confirmed"`, `"announced"`), recorded with
//! [`crate::Ledger::record_release_fact`]: append-only, redacted on the way
//! in, in the events table both backends already share. No migration.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{EventKind, Record};

/// One fact about a release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub enum ReleaseFact {
    /// `runway release yank X --reason`: the operator was given the steps.
    Yanked(Yank),
    /// `runway release yank X --confirm`: what each index reported.
    YankConfirmed(YankConfirmation),
    /// `runway release announce`: the notes posted to the notifiers.
    Announced(Announcement),
    /// `runway release step NAME`: a `[[release.steps]]` step done by hand.
    StepDone(StepDone),
}

/// A step done by hand in a vendor's product, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepDone {
    pub version: String,
    /// The step's name in `[[release.steps]]`.
    pub name: String,
    /// What it said to do, with the release's data filled in.
    pub text: String,
    /// `before` or `after` the release was cut.
    pub when: String,
    /// What the operator added (`--note`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ReleaseFact {
    /// The `fact` value it is stored under.
    pub fn name(&self) -> &'static str {
        match self {
            ReleaseFact::Yanked(_) => "yanked",
            ReleaseFact::YankConfirmed(_) => "yank_confirmed",
            ReleaseFact::Announced(_) => "announced",
            ReleaseFact::StepDone(_) => "step_done",
        }
    }
}

/// A yank, as decided: why, and what to do where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Yank {
    pub version: String,
    pub reason: String,
    /// One step per published artifact.
    pub steps: Vec<YankStep>,
}

/// The step that yanks one artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YankStep {
    /// `pypi`, `npm`, `docker`.
    pub source: String,
    /// `demo==1.2.0`, `demo@1.2.0`.
    pub artifact: String,
    /// The page to open (PyPI) or the command to run (npm); for Docker, what to re-tag.
    pub action: String,
    /// What to do with it, in a sentence.
    #[serde(default)]
    pub note: String,
    /// Whether `--confirm` can read the index to check it.
    pub checkable: bool,
}

/// What `--confirm` read from the indexes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YankConfirmation {
    pub version: String,
    /// Every checked index reports the version yanked.
    pub confirmed: bool,
    pub checks: Vec<YankCheck>,
}

/// One index's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YankCheck {
    pub source: String,
    pub artifact: String,
    /// The index or registry URL (credentials hidden).
    pub index: String,
    pub yanked: bool,
    /// The reason the index gives (PEP 592's `data-yanked`, npm's `deprecated`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_reason: Option<String>,
    pub message: String,
}

/// The notes posted to the notifiers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Announcement {
    pub version: String,
    pub tag: String,
    /// Every notifier took it.
    pub sent: bool,
    pub deliveries: Vec<AnnounceDelivery>,
}

/// One notifier's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnounceDelivery {
    pub notifier: String,
    /// `webhook`, `slack`.
    pub kind: String,
    pub ok: bool,
    /// Why it failed (URLs removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The release facts recorded on a release record, oldest first, with their times.
pub fn release_facts(record: &Record) -> Vec<(DateTime<Utc>, ReleaseFact)> {
    record
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Fact)
        .filter(|e| {
            matches!(
                e.data.get("fact").and_then(|f| f.as_str()),
                Some("yanked" | "yank_confirmed" | "announced" | "step_done")
            )
        })
        .filter_map(|e| {
            ReleaseFact::deserialize(&e.data)
                .ok()
                .map(|fact| (e.at, fact))
        })
        .collect()
}

/// The last yank recorded on a release record, if any.
pub fn last_yank(record: &Record) -> Option<(DateTime<Utc>, Yank)> {
    release_facts(record)
        .into_iter()
        .rev()
        .find_map(|(at, f)| match f {
            ReleaseFact::Yanked(y) => Some((at, y)),
            _ => None,
        })
}
