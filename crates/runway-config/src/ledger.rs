//! `[ledger]`: where the append-only record lives. Owned by runway-ledger.

use std::path::Path;

use serde::Deserialize;

use crate::ConfigError;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerConfig {
    /// `sqlite://path` or `postgres://...`; `${VAR}` is interpolated. Defaults to `.runway/ledger.db`.
    pub url: Option<String>,
}

impl LedgerConfig {
    /// `url` with `${VAR}` interpolated from the environment; `config_path`
    /// names the file in the error when a variable is unset. A password belongs
    /// in a variable (`postgres://runway:${RUNWAY_PG_PASSWORD}@db/runway`), not
    /// in the file.
    pub fn resolved_url(&self, config_path: &Path) -> Result<Option<String>, ConfigError> {
        let Some(raw) = &self.url else {
            return Ok(None);
        };
        crate::interpolate::interpolate(raw, |name| std::env::var(name).ok())
            .map(Some)
            .map_err(|var| ConfigError::MissingEnv {
                path: config_path.to_owned(),
                field: "ledger.url".to_owned(),
                var: var.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_interpolates_and_names_a_missing_variable() {
        let c = LedgerConfig {
            url: Some("postgres://u:${RUNWAY_TEST_SURELY_UNSET_PW}@h/db".into()),
        };
        let err = c.resolved_url(Path::new("/p/runway.toml")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("RUNWAY_TEST_SURELY_UNSET_PW"), "{msg}");
        assert!(msg.contains("ledger.url"), "{msg}");
        let c = LedgerConfig {
            url: Some("sqlite://${RUNWAY_TEST_SURELY_UNSET_DIR:-.runway}/l.db".into()),
        };
        assert_eq!(
            c.resolved_url(Path::new("runway.toml")).unwrap().as_deref(),
            Some("sqlite://.runway/l.db")
        );
        assert_eq!(
            LedgerConfig::default()
                .resolved_url(Path::new("x"))
                .unwrap(),
            None
        );
    }
}
