//! `[ledger]`: where the append-only record lives. Owned by runway-ledger.

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerConfig {
    /// `sqlite://path` or `postgres://...`; `${VAR}` is interpolated. Defaults to `.runway/ledger.db`.
    pub url: Option<String>,
}
