//! The verify suite an environment or its monitor runs.

use serde::Deserialize;

/// Which checks run, as in `runway verify --suite`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SuiteName {
    Smoke,
    Full,
    Conformance,
}

impl SuiteName {
    pub fn as_str(self) -> &'static str {
        match self {
            SuiteName::Smoke => "smoke",
            SuiteName::Full => "full",
            SuiteName::Conformance => "conformance",
        }
    }
}
