//! `[environments.<name>.gates]`: what must be true before a deploy.

use std::time::Duration;

use serde::Deserialize;

use crate::duration::DurationValue;

/// `[environments.<name>.gates]`: what must be true before a deploy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatesConfig {
    /// Run `release check` for the version at its tag (default true).
    pub release_check: Option<bool>,
    /// How many distinct `--approver` names a deploy needs (default 0).
    #[serde(default)]
    pub approvals: u32,
    /// Who may approve (default: anyone but the operator).
    #[serde(default)]
    pub approvers: Vec<String>,
    /// Environment variables that must be set (their names are printed, never their values).
    #[serde(default)]
    pub required_env: Vec<String>,
    /// Files that must exist and be readable (secrets, certificates), relative to the project root.
    #[serde(default)]
    pub secret_files: Vec<String>,
    /// `host:port` dependencies that must accept a TCP connection before a
    /// deploy (dynamic-mcp: "Confirm PostgreSQL connectivity"); `${VAR}` is
    /// interpolated when the gate runs.
    #[serde(default)]
    pub tcp: Vec<String>,
    /// The variable holding a PostgreSQL URL (`postgres://user:pass@host/db`)
    /// the server needs: before a deploy Runway connects and runs `SELECT 1`
    /// (bounded by `tcp_timeout`). The URL is a secret: only its
    /// `host:port/db` is ever shown.
    pub postgres_url_env: Option<String>,
    /// How long each `tcp` dependency may take to accept (default 3s).
    pub tcp_timeout: Option<DurationValue>,
    /// An example environment file (`.env.example`), relative to the project
    /// root: every variable it names must be set for the server (in
    /// `deploy.env` or in Runway's own environment).
    pub env_example: Option<String>,
    /// Paths whose file system must have room (dynamic-mcp: "audit log
    /// capacity"): free space and free inodes.
    #[serde(default)]
    pub disk: Vec<DiskGate>,
    /// The server's token settings (dynamic-mcp pre-deploy 3-4: JWKS URL,
    /// issuer, audience, scopes): the key set must be served and sound, and
    /// a test token, when one is given, must verify against it.
    pub jwks: Option<JwksGate>,
}

/// The signing algorithms the `jwks` gate knows (asymmetric only: a key set
/// served over HTTP holds public keys).
pub const JWKS_ALGORITHMS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// `[environments.<name>.gates.jwks]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwksGate {
    /// Where the key set is served (`https://auth.example.com/.well-known/jwks.json`);
    /// `${VAR}` is interpolated when the gate runs.
    pub url: String,
    /// The `iss` a token must carry; `${VAR}` is interpolated.
    pub issuer: Option<String>,
    /// The `aud` a token must carry (one of its values); `${VAR}` is interpolated.
    pub audience: Option<String>,
    /// The `alg` values allowed, on keys and on the token (default `["RS256"]`).
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// Scopes the test token must grant (`scope`, space-separated, or `scp`).
    #[serde(default)]
    pub required_scopes: Vec<String>,
    /// The variable holding a test token to verify (never printed).
    pub test_token_env: Option<String>,
    /// How long fetching the key set may take (default 5s).
    pub timeout: Option<DurationValue>,
}

fn default_algorithms() -> Vec<String> {
    vec!["RS256".to_owned()]
}

impl JwksGate {
    /// The bound on fetching the key set.
    pub fn timeout(&self) -> Duration {
        self.timeout
            .map_or(Duration::from_secs(5), DurationValue::get)
    }
}

/// One `[[environments.<name>.gates.disk]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiskGate {
    /// A path on the file system to check, relative to the project root.
    pub path: String,
    /// Free space it needs, in MiB.
    #[serde(default)]
    pub min_free_mb: u64,
    /// Free inodes it needs.
    #[serde(default)]
    pub min_free_inodes: u64,
}

impl GatesConfig {
    pub fn release_check(&self) -> bool {
        self.release_check.unwrap_or(true)
    }

    /// The `tcp` gate's bound on each connection.
    pub fn tcp_timeout(&self) -> Duration {
        self.tcp_timeout
            .map_or(Duration::from_secs(3), DurationValue::get)
    }

    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        for t in &self.tcp {
            let ok = t.contains("${")
                || t.rsplit_once(':')
                    .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
            if !ok {
                return Err((
                    "tcp".into(),
                    format!("`{t}` is not `host:port` (e.g. `db.internal:5432`)"),
                ));
            }
        }
        if let Some(j) = &self.jwks {
            let url = j.url.trim();
            if !(url.contains("${") || url.starts_with("https://") || url.starts_with("http://")) {
                return Err((
                    "jwks.url".into(),
                    format!(
                        "`{url}` is not an http(s) URL (e.g. `https://auth.example.com/.well-known/jwks.json`)"
                    ),
                ));
            }
            if j.algorithms.is_empty() {
                return Err((
                    "jwks.algorithms".into(),
                    "is empty: list the `alg` values your issuer signs with (e.g. `[\"RS256\"]`)"
                        .into(),
                ));
            }
            for a in &j.algorithms {
                if !JWKS_ALGORITHMS.contains(&a.as_str()) {
                    return Err((
                        "jwks.algorithms".into(),
                        format!("`{a}` is not one of {}", JWKS_ALGORITHMS.join(", ")),
                    ));
                }
            }
        }
        if self.approvals as usize > self.approvers.len() && !self.approvers.is_empty() {
            return Err((
                "approvals".into(),
                format!(
                    "{} approvals are required but only {} approvers are listed",
                    self.approvals,
                    self.approvers.len()
                ),
            ));
        }
        Ok(())
    }
}
