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
    /// The release started locally on a free port and measured before it
    /// ships (Hostaway step 4, MockLoop's performance criteria): time to
    /// healthy, peak memory, and latency, throughput and errors under load.
    pub performance: Option<PerformanceGate>,
    /// Whether the image a deploy runs must be the one `release
    /// verify-artifacts` verified for the version (its manifest digest):
    /// `check` (the default: refuse a different digest, skip when none is
    /// recorded), `require` (also refuse when none is recorded) or `off`.
    #[serde(default)]
    pub provenance: ProvenanceMode,
}

/// `gates.provenance`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProvenanceMode {
    #[default]
    Check,
    Require,
    Off,
}

/// `[environments.<name>.gates.performance]`: the release started locally
/// (a process or a container, on a free port of 127.0.0.1) and measured
/// before a deploy. Defaults are MockLoop's criteria: healthy within 10 s,
/// at most 512 MB, p95 at most 100 ms at 100 concurrent requests, no errors.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerformanceGate {
    /// Starts the release with this command line (`{version}`, `{port}`)
    /// instead of the environment's own `process` deploy.
    pub command: Option<Vec<String>>,
    /// Or runs this image (`registry/mcp:{version}`) on the host network,
    /// instead of the environment's own `docker` deploy.
    pub image: Option<String>,
    /// Time from start to healthy (default 10s).
    pub startup_max: Option<DurationValue>,
    /// Peak resident memory of the server (its process group, or its
    /// container), in MB (default 512).
    pub max_rss_mb: Option<u64>,
    /// Requests in flight at once (default 100).
    pub concurrency: Option<usize>,
    /// Requests sent in all (default 2000), unless `duration` is set.
    pub requests: Option<u64>,
    /// Or send for this long.
    pub duration: Option<DurationValue>,
    /// Highest p95 latency allowed (default 100ms).
    pub p95_max: Option<DurationValue>,
    /// Lowest throughput allowed, in requests per second (unset: not judged).
    pub min_rps: Option<f64>,
    /// Share of requests that may fail, 0 to 1 (default 0: none).
    pub max_error_rate: Option<f64>,
    /// `GET` this path on the server; with neither `path` nor `tool`, the
    /// health endpoint (else `tools/list`).
    pub path: Option<String>,
    /// Or call this tool, in one MCP session.
    pub tool: Option<String>,
    /// The tool's arguments.
    pub arguments: Option<serde_json::Value>,
    /// The port to start the server on (default: a free one). Only for a
    /// server whose port cannot be set by `{port}`.
    pub port: Option<u16>,
}

impl PerformanceGate {
    pub fn startup_max(&self) -> Duration {
        self.startup_max
            .map_or(Duration::from_secs(10), DurationValue::get)
    }

    pub fn max_rss_bytes(&self) -> u64 {
        self.max_rss_mb.unwrap_or(512).saturating_mul(1024 * 1024)
    }

    pub fn concurrency(&self) -> usize {
        self.concurrency.unwrap_or(100)
    }

    /// The load's bound on requests: `requests`, else 2000 unless `duration` bounds it.
    pub fn requests(&self) -> Option<u64> {
        match (self.requests, self.duration) {
            (Some(n), _) => Some(n),
            (None, Some(_)) => None,
            (None, None) => Some(2000),
        }
    }

    pub fn p95_max(&self) -> Duration {
        self.p95_max
            .map_or(Duration::from_millis(100), DurationValue::get)
    }

    pub fn max_error_rate(&self) -> f64 {
        self.max_error_rate.unwrap_or(0.0)
    }

    fn validate(&self) -> Result<(), (String, String)> {
        let e = |f: &str, m: String| Err((format!("performance.{f}"), m));
        if self.command.is_some() && self.image.is_some() {
            return e(
                "image",
                "set `command` (a local process) or `image` (a container), not both".into(),
            );
        }
        if self.command.as_ref().is_some_and(|c| c.is_empty()) {
            return e(
                "command",
                "is empty: give the server's command line, e.g. `[\"python\", \"-m\", \"server\", \"--port\", \"{port}\"]`".into(),
            );
        }
        if self.path.is_some() && self.tool.is_some() {
            return e(
                "tool",
                "set `path` (a GET) or `tool` (a tool call), not both".into(),
            );
        }
        if self.arguments.is_some() && self.tool.is_none() {
            return e(
                "arguments",
                "needs `tool`: the tool they are given to".into(),
            );
        }
        if let Some(c) = self.concurrency
            && !(1..=1024).contains(&c)
        {
            return e("concurrency", format!("{c} is not between 1 and 1024"));
        }
        if self.requests == Some(0) {
            return e("requests", "is 0: send at least one request".into());
        }
        if let Some(r) = self.max_error_rate
            && !(0.0..=1.0).contains(&r)
        {
            return e(
                "max_error_rate",
                format!("{r} is not a share between 0 and 1 (0.01 is 1%)"),
            );
        }
        if let Some(r) = self.min_rps
            && !(r.is_finite() && r >= 0.0)
        {
            return e(
                "min_rps",
                format!("{r} is not a number of requests per second"),
            );
        }
        Ok(())
    }
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
        if let Some(p) = &self.performance {
            p.validate()?;
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
