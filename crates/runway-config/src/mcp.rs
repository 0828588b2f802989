//! `[mcp]`: what `runway mcp` lets an MCP client do. Owned by runway-mcp.
//!
//! Reading is always allowed; writing (incident open/ack/resolve, changelog
//! write, deploy, rollback) only with `allow_writes = true`, and then in two
//! steps: a plan call returns a plan id, valid for `plan_ttl`, that the write
//! call must name.

use std::time::Duration;

use serde::Deserialize;

use crate::duration::DurationValue;

/// How long a plan id stays valid when `plan_ttl` is not set.
pub const DEFAULT_PLAN_TTL: Duration = Duration::from_secs(5 * 60);

/// The longest `plan_ttl` accepted: a plan describes the project as it was.
pub const MAX_PLAN_TTL: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpConfig {
    /// List and accept the writing tools (default `false`: read-only).
    #[serde(default)]
    pub allow_writes: bool,
    /// How long a plan id from a `*_plan` tool stays valid (default `5m`, at most `1h`).
    pub plan_ttl: Option<DurationValue>,
}

impl McpConfig {
    pub fn plan_ttl(&self) -> Duration {
        self.plan_ttl.map(|d| d.get()).unwrap_or(DEFAULT_PLAN_TTL)
    }

    /// Cross-field rules: `(field, message)` of the first broken one.
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        if let Some(t) = self.plan_ttl
            && t.get() > MAX_PLAN_TTL
        {
            return Err((
                "mcp.plan_ttl".into(),
                format!(
                    "`{t}` is longer than `1h`: a plan describes the project as it was, so it must be used soon"
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::Config;

    #[test]
    fn writes_are_off_unless_allowed_and_a_bad_ttl_names_its_line() {
        let c = Config::parse("", Path::new("runway.toml")).unwrap();
        assert!(!c.mcp.allow_writes);
        assert_eq!(c.mcp.plan_ttl(), super::DEFAULT_PLAN_TTL);

        let c = Config::parse(
            "[mcp]\nallow_writes = true\nplan_ttl = \"90s\"\n",
            Path::new("runway.toml"),
        )
        .unwrap();
        assert!(c.mcp.allow_writes);
        assert_eq!(c.mcp.plan_ttl().as_secs(), 90);

        let err = Config::parse(
            "[project]\nname = \"x\"\n[mcp]\nplan_ttl = \"2h\"\n",
            Path::new("/p/runway.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("/p/runway.toml:4:"), "{err}");
        assert!(err.contains("longer than `1h`"), "{err}");

        let err = Config::parse("[mcp]\nallow_write = true\n", Path::new("/p/runway.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/p/runway.toml:2:"), "{err}");
        assert!(err.contains("allow_write"), "{err}");

        let err = Config::parse(
            "[mcp]\nallow_writes = \"yes\"\n",
            Path::new("/p/runway.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("/p/runway.toml:2:"), "{err}");
    }
}
