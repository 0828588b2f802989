//! `[environments.<name>]`: a place to run and how to verify it. Owned by runway-verify.

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// The MCP endpoint (`https://host/mcp`); `${VAR}` is interpolated.
    pub url: Option<String>,
    /// Name of the environment variable holding the bearer token.
    pub token_env: Option<String>,
    /// Path of a file holding the bearer token.
    pub token_file: Option<String>,
}

impl EnvironmentConfig {
    /// Cross-field validation; the error is `(dotted field, message)`.
    pub(crate) fn validate(&self, name: &str) -> Result<(), (String, String)> {
        if let Some(url) = &self.url
            && !url.contains("${")
            && url::Url::parse(url).is_err()
        {
            return Err((
                format!("environments.{name}.url"),
                format!("`{url}` is not a valid URL (expected `https://host/mcp`)"),
            ));
        }
        if self.token_env.is_some() && self.token_file.is_some() {
            return Err((
                format!("environments.{name}.token_file"),
                "set either `token_env` or `token_file`, not both".into(),
            ));
        }
        Ok(())
    }
}
