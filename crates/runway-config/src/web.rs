//! `[web]`: how `runway monitor --listen` serves its dashboard, status page,
//! JSON API and `/metrics`. Owned by runway-web.

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// The address to serve on when `--listen` is not given (`127.0.0.1:8787`).
    /// Without it (and without `--listen`) `runway monitor` serves nothing.
    pub listen: Option<String>,
    /// The environment variable holding the bearer token that the write
    /// endpoints (acknowledge, silence) require. Unset: writes are refused.
    pub token_env: Option<String>,
    /// The public status page's heading (default: the project's name, else `Status`).
    pub title: Option<String>,
    /// Names the server answers to besides its listen address and
    /// `localhost` (`["status.example.com"]`, behind a proxy); a request
    /// with any other `Host` is refused (DNS rebinding).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Requests per second each client address may send without the token
    /// (default 50; past it, 429 with `Retry-After`); `0` turns it off.
    pub rate_limit: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_table_is_strict() {
        let c: WebConfig =
            toml::from_str("listen = \"127.0.0.1:8787\"\ntoken_env = \"T\"").unwrap();
        assert_eq!(c.listen.as_deref(), Some("127.0.0.1:8787"));
        assert_eq!(c.token_env.as_deref(), Some("T"));
        assert!(c.hosts.is_empty());
        let c: WebConfig = toml::from_str("hosts = [\"status.example.com\"]").unwrap();
        assert_eq!(c.hosts, ["status.example.com"]);
        let e = toml::from_str::<WebConfig>("token = \"x\"").unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
    }
}
