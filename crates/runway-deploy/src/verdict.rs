//! What a gate says: its status and the verdict `plan` prints and the
//! record keeps. Every gate returns one ([`crate::gates`], [`crate::jwks`]).

use std::fmt;

use serde::{Deserialize, Serialize};

/// How a gate judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateStatus {
    Pass,
    /// Allowed, with something the operator should know.
    Warn,
    /// Refused, but an explicit override (an emergency) let it through.
    Overridden,
    Refuse,
    /// Not configured for this environment.
    Skipped,
}

impl GateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            GateStatus::Pass => "pass",
            GateStatus::Warn => "warn",
            GateStatus::Overridden => "overridden",
            GateStatus::Refuse => "refuse",
            GateStatus::Skipped => "skipped",
        }
    }
}

impl fmt::Display for GateStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One gate's verdict, as `plan` prints it and the record keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// `window`, `approvals`, `env`, `secret_files`, `rollback_artifact`, `release_check`.
    pub gate: String,
    pub status: GateStatus,
    /// What was found, in one sentence (names, never values).
    pub detail: String,
    /// What to do when it refuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Verdict {
    pub(crate) fn new(gate: &str, status: GateStatus, detail: impl Into<String>) -> Verdict {
        Verdict {
            gate: gate.to_owned(),
            status,
            detail: detail.into(),
            hint: None,
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Verdict {
        self.hint = Some(hint.into());
        self
    }

    pub fn refuses(&self) -> bool {
        self.status == GateStatus::Refuse
    }
}

/// Whether any verdict refuses the deploy.
pub fn refused(verdicts: &[Verdict]) -> bool {
    verdicts.iter().any(Verdict::refuses)
}
