//! `[environments.<name>]`: a place to run and how to verify it. Owned by runway-verify.
//!
//! Values are typed so that a bad one is rejected by the TOML reader itself,
//! which knows its exact line and column; only rules that span several fields
//! are checked afterwards in [`EnvironmentConfig::validate`].

use std::{
    collections::BTreeMap,
    num::{NonZeroU32, NonZeroU64, NonZeroUsize},
};

use serde::{Deserialize, Deserializer, de::Error as _};

/// Check groups a `checks` key may name (alone or as `group.id`).
pub const CHECK_GROUPS: &[&str] = &[
    "http",
    "tls",
    "mcp",
    "auth",
    "headers",
    "cors",
    "origin",
    "load",
    "ratelimit",
    "exposure",
];

/// The longest environment name.
pub const MAX_NAME_LEN: usize = 64;

/// Checks an environment name: 1 to 64 of `A-Z a-z 0-9 _ -`. A name is used
/// in file names under `.runway/` (the process target's state, pid and log),
/// in lock keys and in URLs, so a name such as `../../package` must never get
/// that far.
pub fn check_name(name: &str) -> Result<(), NameError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(NameError {
            name: name.to_owned(),
        })
    }
}

/// A name [`check_name`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{name:?} is not an environment name: use 1 to {} letters, digits, `-` and `_` (`staging`, `prod-eu_1`)",
    MAX_NAME_LEN
)]
pub struct NameError {
    pub name: String,
}

pub use crate::suite::SuiteName;

/// Which MCP era to verify on a server that speaks both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EraName {
    Auto,
    Session,
    Stateless,
}

impl EraName {
    pub fn as_str(self) -> &'static str {
        match self {
            EraName::Auto => "auto",
            EraName::Session => "session",
            EraName::Stateless => "stateless",
        }
    }
}

/// How the server authenticates clients (`auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthName {
    /// A static bearer token: no OAuth metadata is expected.
    Bearer,
    /// MCP authorization with OAuth: RFC 9728 protected resource metadata is required.
    Oauth,
}

/// A key of the `checks` table: a known group (`auth`) or an id in one (`auth.query_token`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CheckName(pub String);

impl<'de> Deserialize<'de> for CheckName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let group = s.split('.').next().unwrap_or("");
        if CHECK_GROUPS.contains(&group) {
            Ok(CheckName(s))
        } else {
            let near = crate::suggest::nearest(group, CHECK_GROUPS.iter().copied())
                .map(|g| format!(" (did you mean `{g}`?)"))
                .unwrap_or_default();
            Err(D::Error::custom(format!(
                "unknown check `{s}`{near}: a key must be one of {} or `group.check_id`",
                CHECK_GROUPS
                    .iter()
                    .map(|g| format!("`{g}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }
}

/// Latency and error budgets.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdsConfig {
    /// p95 of MCP tool calls, in milliseconds (default 1000).
    pub tool_p95_ms: Option<NonZeroU64>,
    /// p95 of plain HTTP endpoints, in milliseconds (default 2000).
    pub api_p95_ms: Option<NonZeroU64>,
    /// Warn when the TLS certificate expires in fewer days (default 14).
    pub tls_min_days: Option<NonZeroU32>,
    /// Largest error rate of a load run, 0-1 (default 0.01).
    #[serde(default, deserialize_with = "crate::validate::ratio")]
    pub max_error_rate: Option<f64>,
}

/// A tool call as a load target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadCallConfig {
    pub tool: String,
    #[serde(
        default = "crate::validate::empty_object",
        deserialize_with = "crate::validate::object"
    )]
    pub arguments: serde_json::Value,
}

/// `[environments.X.load]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadConfig {
    pub concurrency: Option<NonZeroUsize>,
    pub requests: Option<NonZeroU64>,
    #[serde(default, deserialize_with = "crate::validate::positive_f64")]
    pub duration_secs: Option<f64>,
    /// Requests per second across all workers (enables coordinated-omission correction).
    #[serde(default, deserialize_with = "crate::validate::positive_f64")]
    pub rate: Option<f64>,
    /// `GET` this path...
    #[serde(default, deserialize_with = "crate::validate::path")]
    pub path: Option<String>,
    /// ...or call this tool.
    pub call: Option<LoadCallConfig>,
}

/// `[environments.X.rate_limit]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// No 429 fails the run instead of warning.
    pub required: Option<bool>,
    /// Anonymous requests in the burst (at most 1000).
    #[serde(default, deserialize_with = "crate::validate::burst")]
    pub burst: Option<NonZeroU32>,
}

/// The operational paths kept off the public edge when none are listed
/// (dynamic-mcp step 7).
pub const EXPOSURE_DEFAULT_PATHS: &[&str] = &["/livez", "/readyz", "/metrics"];

/// `[environments.X.exposure]`: operational endpoints that must be closed
/// at the public edge and open on the internal network (dynamic-mcp step 7).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExposureConfig {
    /// Where the same server answers from inside the network
    /// (`http://10.0.4.12:8788/`); `${VAR}` is interpolated. Unset, only the
    /// public side is checked.
    pub internal_url: Option<String>,
    /// Paths that must answer 401, 403 or 404 at the environment's `url`
    /// origin and 2xx at `internal_url` (default `/livez`, `/readyz`, `/metrics`).
    #[serde(default = "exposure_default_paths")]
    pub internal_paths: Vec<String>,
}

fn exposure_default_paths() -> Vec<String> {
    EXPOSURE_DEFAULT_PATHS
        .iter()
        .map(|p| (*p).to_owned())
        .collect()
}

impl Default for ExposureConfig {
    fn default() -> Self {
        ExposureConfig {
            internal_url: None,
            internal_paths: exposure_default_paths(),
        }
    }
}

/// `[[environments.X.calls]]`: a smoke tool call and what it must return.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallConfig {
    pub tool: String,
    #[serde(
        default = "crate::validate::empty_object",
        deserialize_with = "crate::validate::object"
    )]
    pub arguments: serde_json::Value,
    /// The result may have `isError: true` (default false).
    #[serde(default)]
    pub expect_error: bool,
    /// Some text content contains this.
    pub expect_text: Option<String>,
    /// Some text content matches this regular expression.
    pub expect_match: Option<String>,
    /// A JSON pointer into the structured content (or text parsed as JSON)...
    pub expect_json_pointer: Option<String>,
    /// ...and the value it must hold there.
    pub expect_json_value: Option<serde_json::Value>,
    /// Validate `structuredContent` against the tool's `outputSchema` (default true).
    pub output_schema: Option<bool>,
    /// Latency budget of this call, in milliseconds.
    pub max_latency_ms: Option<NonZeroU64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// The MCP endpoint (`https://host/mcp`); `${VAR}` is interpolated.
    pub url: Option<String>,
    /// Name of the environment variable holding the bearer token.
    pub token_env: Option<String>,
    /// Path of a file holding the bearer token.
    pub token_file: Option<String>,
    /// The header that carries the token as is (`X-API-Key`), instead of
    /// `Authorization: Bearer <token>`.
    #[serde(default, deserialize_with = "crate::validate::auth_header")]
    pub auth_header: Option<String>,
    /// How the server authenticates: `bearer` (a static token) or `oauth`
    /// (RFC 9728 metadata required). Unset, the server's 401 decides.
    pub auth: Option<AuthName>,
    /// The check suite `runway verify <env>` runs (default `smoke`).
    pub suite: Option<SuiteName>,
    /// The MCP era to verify: `auto` (default), `session` or `stateless`.
    pub era: Option<EraName>,
    #[serde(default, deserialize_with = "crate::validate::path")]
    pub health_path: Option<String>,
    #[serde(default, deserialize_with = "crate::validate::path")]
    pub livez_path: Option<String>,
    #[serde(default, deserialize_with = "crate::validate::path")]
    pub readyz_path: Option<String>,
    #[serde(default, deserialize_with = "crate::validate::path")]
    pub metrics_path: Option<String>,
    /// Series `/metrics` must expose.
    #[serde(default)]
    pub required_metrics: Vec<String>,
    /// `serverInfo.version` and the health `version` must equal this; `${VAR}`
    /// is interpolated, and `{version}` is the version a deploy, ship or
    /// rollback puts out (their default is `{version}` itself). Empty (`""`)
    /// turns the check off, for a server whose `serverInfo.version` is not its
    /// release version (server-everything reports `2.0.0` in every release).
    pub expect_version: Option<String>,
    /// At least this many tools.
    pub min_tools: Option<usize>,
    /// Tools that must be listed.
    #[serde(default)]
    pub required_tools: Vec<String>,
    /// Per-request timeout in seconds (default 10).
    #[serde(default, deserialize_with = "crate::validate::positive_f64")]
    pub timeout_secs: Option<f64>,
    /// Switch checks on or off by group (`ratelimit = true`) or id (`"auth.query_token" = false`).
    #[serde(default)]
    pub checks: BTreeMap<CheckName, bool>,
    /// Run Runway's policies (security headers, CORS, rate limit, load,
    /// health endpoints, TLS expiry, an open endpoint) besides the MCP
    /// specification's rules and the expectations set here (default `true`).
    pub policies: Option<bool>,
    #[serde(default)]
    pub thresholds: ThresholdsConfig,
    pub load: Option<LoadConfig>,
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    #[serde(default)]
    pub calls: Vec<CallConfig>,
    /// The `exposure` check: operational paths closed at the public edge.
    pub exposure: Option<ExposureConfig>,
    /// How the environment is changed (`runway deploy`).
    pub deploy: Option<crate::deploy::DeployConfig>,
    /// When it may be changed.
    pub window: Option<crate::deploy::WindowConfig>,
    /// The watch after a deploy.
    pub analysis: Option<crate::deploy::AnalysisConfig>,
    /// What a failed verify or watch leads to.
    pub rollback: Option<crate::deploy::RollbackConfig>,
    /// What must be true before a deploy.
    pub gates: Option<crate::deploy::GatesConfig>,
    /// Scheduled checks (`runway monitor`).
    pub monitor: Option<crate::monitor::MonitorConfig>,
    /// The server's output policy (`[environments.<name>.logs]`), checked
    /// after a deploy's verify and shown by `runway triage`.
    pub logs: Option<crate::sources::LogsPolicyConfig>,
}

impl EnvironmentConfig {
    /// Cross-field validation; the error is `(dotted field, message)`.
    pub(crate) fn validate(&self, name: &str) -> Result<(), (String, String)> {
        let at = |f: &str| format!("environments.{name}.{f}");
        if let Some(url) = &self.url
            && !url.contains("${")
            && url::Url::parse(url).is_err()
        {
            return Err((
                at("url"),
                format!("`{url}` is not a valid URL (expected `https://host/mcp`)"),
            ));
        }
        if self.token_env.is_some() && self.token_file.is_some() {
            return Err((
                at("token_file"),
                "set either `token_env` or `token_file`, not both".into(),
            ));
        }
        if self.auth_header.is_some() && self.auth == Some(AuthName::Oauth) {
            return Err((
                at("auth_header"),
                "OAuth tokens travel in `Authorization: Bearer`: set either `auth = \"oauth\"` or `auth_header`, not both".into(),
            ));
        }
        if let Some(load) = &self.load
            && load.path.is_some()
            && load.call.is_some()
        {
            return Err((
                format!("environments.{name}.load.call"),
                "set either `path` or `call`, not both".into(),
            ));
        }
        if let Some(x) = &self.exposure {
            if let Some(u) = &x.internal_url
                && !u.contains("${")
                && !url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
            {
                return Err((
                    at("exposure.internal_url"),
                    format!("`{u}` is not an http(s) URL (e.g. `http://10.0.4.12:8788/`)"),
                ));
            }
            if x.internal_paths.is_empty() {
                return Err((
                    at("exposure.internal_paths"),
                    "is empty: list the paths to keep off the public edge, or remove the table"
                        .into(),
                ));
            }
            if let Some(p) = x.internal_paths.iter().find(|p| !p.starts_with('/')) {
                return Err((
                    at("exposure.internal_paths"),
                    format!("`{p}` is not a path: write it as `/metrics`"),
                ));
            }
        }
        let sub = |table: &str, r: Result<(), (String, String)>| {
            r.map_err(|(key, message)| (format!("environments.{name}.{table}.{key}"), message))
        };
        if let Some(m) = &self.monitor {
            sub("monitor", m.validate())?;
        }
        if let Some(d) = &self.deploy {
            sub("deploy", d.validate())?;
        }
        if let Some(l) = &self.logs {
            sub("logs", l.validate())?;
        }
        if let Some(a) = &self.analysis
            && let Some(c) = a
                .conditions
                .iter()
                .find(|c| c.source() == crate::sources::SourceKind::Resources)
            && !matches!(
                self.deploy.as_ref().map(|d| d.target),
                Some(crate::TargetKind::Process | crate::TargetKind::Docker)
            )
        {
            return Err((
                at("analysis.conditions.source"),
                format!(
                    "condition `{}` reads `resources` (memory and CPU of the server's process group, or of its container), which only the `process` and `docker` targets have; on Kubernetes, use a `prometheus` condition on cAdvisor's container_memory_working_set_bytes",
                    c.name.trim()
                ),
            ));
        }
        if let Some(a) = &self.analysis {
            sub("analysis", a.validate())?;
        }
        if let Some(r) = &self.rollback {
            sub("rollback", r.validate())?;
        }
        if let Some(g) = &self.gates {
            sub("gates", g.validate())?;
        }
        for call in &self.calls {
            if call.tool.trim().is_empty() {
                return Err((at("calls.tool"), "a call needs a tool name".into()));
            }
            if call.expect_json_value.is_some() != call.expect_json_pointer.is_some() {
                return Err((
                    at("calls.expect_json_pointer"),
                    format!(
                        "call of `{}`: set `expect_json_pointer` and `expect_json_value` together",
                        call.tool
                    ),
                ));
            }
            if let Some(p) = &call.expect_json_pointer
                && !p.is_empty()
                && !p.starts_with('/')
            {
                return Err((
                    at("calls.expect_json_pointer"),
                    format!("`{p}` is not a JSON pointer (it starts with `/`, e.g. `/sum`)"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::Config;

    const FULL: &str = r#"
[environments.prod]
url = "https://mcp.example.com/mcp"
token_env = "PROD_MCP_TOKEN"
suite = "full"
era = "session"
health_path = "/healthz"
metrics_path = "/internal/metrics"
required_metrics = ["mcp_requests_total"]
expect_version = "1.4.0"
min_tools = 16
required_tools = ["echo", "add"]
timeout_secs = 5
checks = { ratelimit = true, "auth.query_token" = false }

[environments.prod.thresholds]
tool_p95_ms = 800
api_p95_ms = 1500
max_error_rate = 0.02

[environments.prod.load]
concurrency = 16
requests = 500
rate = 100.0
call = { tool = "echo", arguments = { message = "load" } }

[environments.prod.rate_limit]
required = true
burst = 100

[[environments.prod.calls]]
tool = "add"
arguments = { a = 2, b = 3 }
expect_json_pointer = "/sum"
expect_json_value = 5
max_latency_ms = 500

[[environments.prod.calls]]
tool = "echo"
arguments = { message = "hi" }
expect_text = "hi"
"#;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new("/p/runway.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_full_environment_parses() {
        let c = parse(FULL).unwrap();
        let e = c.environment("prod").unwrap();
        assert_eq!(e.suite, Some(super::SuiteName::Full));
        assert_eq!(e.era, Some(super::EraName::Session));
        assert_eq!(e.thresholds.tool_p95_ms.unwrap().get(), 800);
        assert_eq!(e.thresholds.max_error_rate, Some(0.02));
        let load = e.load.as_ref().unwrap();
        assert_eq!(load.concurrency.unwrap().get(), 16);
        assert_eq!(load.call.as_ref().unwrap().arguments["message"], "load");
        assert_eq!(e.rate_limit.burst.unwrap().get(), 100);
        assert_eq!(e.calls.len(), 2);
        assert_eq!(e.calls[0].arguments, serde_json::json!({"a": 2, "b": 3}));
        assert_eq!(e.calls[0].expect_json_value, Some(serde_json::json!(5)));
        assert_eq!(e.checks.len(), 2);
        assert_eq!(e.timeout_secs, Some(5.0));
    }

    #[test]
    fn the_documented_example_parses() {
        let doc = include_str!("../../../docs/environments.md");
        let start = doc.find("```toml\n").unwrap() + "```toml\n".len();
        let end = start + doc[start..].find("```").unwrap();
        let text = &doc[start..end];
        let c = parse(text).unwrap();
        let e = c.environment("production").unwrap();
        assert_eq!(e.calls[0].expect_match.as_deref(), Some("^\\d+$"));
        assert_eq!(e.load.as_ref().unwrap().path.as_deref(), Some("/health"));
    }

    #[test]
    fn unknown_keys_and_bad_values_name_file_line_and_column() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "[environments.p]\nurl = \"http://x/mcp\"\nsuit = \"full\"\n",
                "/p/runway.toml:3:1",
                "suit",
            ),
            (
                "[environments.p]\nsuite = \"smok\"\n",
                "/p/runway.toml:2:9",
                "smok",
            ),
            (
                "[environments.p.load]\nconcurrency = 0\n",
                "/p/runway.toml:2:15",
                "",
            ),
            (
                "[environments.p.thresholds]\nmax_error_rate = 5.0\n",
                "/p/runway.toml:2:18",
                "between 0 and 1",
            ),
            (
                "[environments.p]\nchecks = { ratelimt = true }\n",
                "/p/runway.toml:2:",
                "unknown check `ratelimt`",
            ),
            (
                "[environments.p]\nhealth_path = \"health\"\n",
                "/p/runway.toml:2:15",
                "absolute path",
            ),
            (
                "[environments.p]\n\n[[environments.p.calls]]\ntool = \"echo\"\narguments = \"hi\"\n",
                "/p/runway.toml:5:",
                "must be a table",
            ),
            (
                "[environments.p]\n\n[[environments.p.calls]]\ntool = \"echo\"\nexpect_txt = \"hi\"\n",
                "/p/runway.toml:5:1",
                "expect_txt",
            ),
            (
                "[environments.p.rate_limit]\nburst = 5000\n",
                "/p/runway.toml:2:9",
                "maximum burst",
            ),
            (
                "[environments.p.load]\nrate = -1.0\n",
                "/p/runway.toml:2:8",
                "greater than 0",
            ),
        ];
        for (text, location, needle) in cases {
            let e = parse(text).unwrap_err();
            assert!(e.starts_with(location), "{text:?}: {e}");
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn auth_header_is_a_header_name_runway_does_not_set_itself() {
        let c = parse("[environments.p]\nauth_header = \"X-API-Key\"\n").unwrap();
        assert_eq!(
            c.environment("p").unwrap().auth_header.as_deref(),
            Some("X-API-Key")
        );
        for (value, needle) in [
            ("X API Key", "not an HTTP header name"),
            ("", "not an HTTP header name"),
            ("authorization", "is the default"),
            ("Mcp-Session-Id", "sets itself"),
        ] {
            let e = parse(&format!("[environments.p]\nauth_header = {value:?}\n")).unwrap_err();
            assert!(e.starts_with("/p/runway.toml:2:15"), "{value:?}: {e}");
            assert!(e.contains(needle), "{value:?}: {e}");
        }
        let e =
            parse("[environments.p]\nauth = \"oauth\"\nauth_header = \"X-API-Key\"\n").unwrap_err();
        assert!(e.starts_with("/p/runway.toml:3:1"), "{e}");
        assert!(e.contains("not both"), "{e}");
    }

    #[test]
    fn cross_field_rules_point_at_the_field() {
        let e = parse("[environments.p.load]\npath = \"/health\"\ncall = { tool = \"echo\" }\n")
            .unwrap_err();
        assert!(e.starts_with("/p/runway.toml:3:1"), "{e}");
        assert!(e.contains("either `path` or `call`"), "{e}");
        let e = parse("[environments.p]\n[[environments.p.calls]]\ntool = \"add\"\nexpect_json_pointer = \"/sum\"\n").unwrap_err();
        assert!(e.contains("together"), "{e}");
        assert!(e.starts_with("/p/runway.toml:4:1"), "{e}");
    }
}
