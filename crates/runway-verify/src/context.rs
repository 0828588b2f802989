//! What a check run is pointed at and what it expects.
//!
//! [`Context`] is built once by the caller (the CLI from flags or `runway.toml`)
//! and shared read-only by every check.

use std::time::Duration;

use runway_core::{Redactor, Secret};

use crate::http::Limits;

/// How to reach the server.
#[derive(Debug, Clone)]
pub enum Transport {
    /// Streamable HTTP at this MCP endpoint URL (`http://host:port/mcp`).
    Http { url: url::Url },
    /// A child process speaking MCP on stdin/stdout.
    Stdio {
        program: String,
        args: Vec<String>,
        env: Vec<(String, String)>,
        /// Directory the server runs in; `None` is the current directory.
        cwd: Option<std::path::PathBuf>,
    },
}

/// Which checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Suite {
    /// Health, auth boundary, handshake, tools list, smoke calls: fast, for every deploy.
    Smoke,
    /// Everything, including headers, CORS, Origin, rate limits, JSON-RPC errors and load.
    Full,
    /// The MCP protocol rules only (MUST-level behaviour of the spec), as strictly as possible.
    Conformance,
}

impl Suite {
    pub fn as_str(self) -> &'static str {
        match self {
            Suite::Smoke => "smoke",
            Suite::Full => "full",
            Suite::Conformance => "conformance",
        }
    }
}

impl std::str::FromStr for Suite {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "smoke" => Ok(Suite::Smoke),
            "full" => Ok(Suite::Full),
            "conformance" => Ok(Suite::Conformance),
            other => Err(format!(
                "unknown suite `{other}`: use smoke, full or conformance"
            )),
        }
    }
}

/// Which MCP protocol era to speak to a server that offers both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EraChoice {
    /// Discover first and fall back to `initialize`, as a current client does.
    #[default]
    Auto,
    /// Skip discovery: verify the `initialize` (session-era) path of the server.
    Session,
    /// Require the stateless era (`server/discover`); no fallback.
    Stateless,
}

impl std::str::FromStr for EraChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(EraChoice::Auto),
            "session" => Ok(EraChoice::Session),
            "stateless" => Ok(EraChoice::Stateless),
            other => Err(format!(
                "unknown era `{other}`: use auto, session or stateless"
            )),
        }
    }
}

/// A regular expression compiled once, when the expectation is made, and
/// kept with its source text (for messages and equality).
#[derive(Clone)]
pub struct Pattern {
    source: String,
    compiled: Result<regex::Regex, String>,
}

impl Pattern {
    /// Compiles `source`; an invalid pattern is kept and reported when used.
    pub fn new(source: &str) -> Pattern {
        Pattern {
            source: source.to_owned(),
            compiled: regex::Regex::new(source).map_err(|e| e.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The compiled expression, or why `source` is not one.
    pub fn regex(&self) -> Result<&regex::Regex, &str> {
        self.compiled.as_ref().map_err(String::as_str)
    }
}

impl From<&str> for Pattern {
    fn from(source: &str) -> Pattern {
        Pattern::new(source)
    }
}

impl From<String> for Pattern {
    fn from(source: String) -> Pattern {
        Pattern::new(&source)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.source == other.source
    }
}

impl std::fmt::Debug for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pattern({:?})", self.source)
    }
}

/// What a smoke tool call must produce.
#[derive(Debug, Clone, PartialEq)]
pub struct CallExpect {
    /// The result must not have `isError: true` (default).
    pub not_error: bool,
    /// Some text content must contain this.
    pub text_contains: Option<String>,
    /// Some text content must match this regular expression.
    pub text_matches: Option<Pattern>,
    /// `(JSON pointer, value)`: the structured content (or text parsed as JSON) has this value there.
    pub json_at: Option<(String, serde_json::Value)>,
    /// Validate `structuredContent` against the tool's `outputSchema` when it has one (default).
    pub output_schema: bool,
    /// Latency budget for the call.
    pub max_latency: Option<Duration>,
}

impl Default for CallExpect {
    fn default() -> Self {
        CallExpect {
            not_error: true,
            text_contains: None,
            text_matches: None,
            json_at: None,
            output_schema: true,
            max_latency: None,
        }
    }
}

/// One tool call to make as a smoke test.
#[derive(Debug, Clone, PartialEq)]
pub struct SmokeCall {
    pub tool: String,
    pub arguments: serde_json::Value,
    pub expect: CallExpect,
}

/// What the server must look like.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    /// `serverInfo.version` must equal this.
    pub version: Option<String>,
    /// At least this many tools.
    pub min_tools: Option<usize>,
    /// Tools that must be listed.
    pub required_tools: Vec<String>,
    pub calls: Vec<SmokeCall>,
}

/// An HTTP path next to the MCP endpoint (`/health`) and whether it must exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Absolute path on the MCP endpoint's origin, or a full URL.
    pub path: String,
    /// Configured explicitly: a 404 fails instead of being noted and skipped.
    pub required: bool,
}

impl Endpoint {
    pub fn default_at(path: &str) -> Endpoint {
        Endpoint {
            path: path.to_owned(),
            required: false,
        }
    }

    pub fn required_at(path: &str) -> Endpoint {
        Endpoint {
            path: path.to_owned(),
            required: true,
        }
    }
}

/// The operational HTTP endpoints; `None` switches a check off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpPaths {
    pub health: Option<Endpoint>,
    pub livez: Option<Endpoint>,
    pub readyz: Option<Endpoint>,
    pub metrics: Option<Endpoint>,
}

impl Default for HttpPaths {
    fn default() -> Self {
        HttpPaths {
            health: Some(Endpoint::default_at("/health")),
            livez: Some(Endpoint::default_at("/livez")),
            readyz: Some(Endpoint::default_at("/readyz")),
            metrics: Some(Endpoint::default_at("/metrics")),
        }
    }
}

/// Limits a run is judged against.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// p95 of MCP tool calls.
    pub tool_p95: Duration,
    /// p95 of plain HTTP requests (health and friends).
    pub api_p95: Duration,
    /// Fewer days than this before the TLS certificate expires is a warning (half of it a failure).
    pub tls_min_days: i64,
    /// Largest error rate (0.0-1.0) a load run may have.
    pub max_error_rate: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            tool_p95: Duration::from_secs(1),
            api_p95: Duration::from_secs(2),
            tls_min_days: 14,
            max_error_rate: 0.01,
        }
    }
}

/// What a load run sends.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadTarget {
    /// The default: `GET` the health endpoint when the server serves it, else
    /// `tools/list` on the MCP endpoint itself (in a session where the era
    /// needs one), so a server without `/health` is still measured, not failed.
    Auto,
    /// `GET` this path (or URL) on the server.
    Http { path: String },
    /// `tools/call` of this tool with these arguments, in one MCP session.
    ToolCall {
        tool: String,
        arguments: serde_json::Value,
    },
}

/// The shape of a load run: `concurrency` workers until `requests` are sent or `duration` passes.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSettings {
    pub target: LoadTarget,
    pub concurrency: usize,
    /// Stop after this many requests (the default when neither bound is set: 200).
    pub requests: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Requests per second across all workers; latency is then measured from the
    /// intended send time, so a stalled server cannot hide its queueing.
    pub rate: Option<f64>,
}

impl Default for LoadSettings {
    fn default() -> Self {
        LoadSettings {
            target: LoadTarget::Auto,
            concurrency: 8,
            requests: Some(200),
            duration: None,
            rate: None,
        }
    }
}

/// How the rate-limit probe behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitSettings {
    /// No 429 is a failure instead of a warning.
    pub required: bool,
    /// Anonymous requests sent in the burst (bounded; at most 1000).
    pub burst: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            required: false,
            burst: 60,
        }
    }
}

/// Check groups (`auth`, `metrics`) or ids (`auth.query_token`) switched on or off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Toggles {
    /// Run these even when the suite would not.
    pub enabled: Vec<String>,
    /// Never run these.
    pub disabled: Vec<String>,
    /// When not empty, run only these (`--only auth`).
    pub only: Vec<String>,
}

impl Toggles {
    /// Whether `id` is one of `list` or inside one of them (`auth` holds `auth.no_token`).
    pub fn matches(list: &[String], id: &str) -> bool {
        list.iter().any(|t| {
            t == id || (id.starts_with(t.as_str()) && id.as_bytes().get(t.len()) == Some(&b'.'))
        })
    }

    /// Whether `group` holds one of `list` (`http` holds `http.health`).
    fn holds(list: &[String], group: &str) -> bool {
        list.iter()
            .any(|t| t.starts_with(group) && t.as_bytes().get(group.len()) == Some(&b'.'))
    }

    /// `Some(true)`/`Some(false)` when `id` (or its group) was switched explicitly.
    /// With `--only http.health` the group `http` runs (its other checks are
    /// dropped from the report afterwards).
    pub fn state(&self, id: &str) -> Option<bool> {
        if !self.only.is_empty() {
            let wanted = Self::matches(&self.only, id) || Self::holds(&self.only, id);
            return Some(wanted && !Self::matches(&self.disabled, id));
        }
        if Self::matches(&self.disabled, id) {
            Some(false)
        } else if Self::matches(&self.enabled, id) {
            Some(true)
        } else {
            None
        }
    }
}

/// How the server authenticates clients, when the environment says so.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AuthScheme {
    /// Not said: judged from what the server answers (a `WWW-Authenticate`
    /// naming `resource_metadata` means OAuth).
    #[default]
    Unknown,
    /// A static bearer token: no OAuth metadata is expected.
    Bearer,
    /// MCP authorization with OAuth: RFC 9728 metadata is required.
    OAuth,
}

/// Where the run's settings came from, so a hint names the knob the user
/// actually turns: a command-line flag, or a key of `runway.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Origin {
    /// Flags only (`runway verify URL ...`).
    #[default]
    Flags,
    /// `[environments.<name>]` of `runway.toml` (flags may still override it).
    Environment(String),
}

/// Called with `(done, total)` while a load run progresses; `total` is 0 when the run is bounded by time.
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<dyn Fn(u64, u64) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress(..)")
    }
}

/// Everything a check may read.
#[derive(Debug, Clone)]
pub struct Context {
    pub transport: Transport,
    /// Shown in reports: the URL or command line, never a secret.
    pub display: String,
    pub token: Option<Secret>,
    /// The header that carries `token` as is (`X-API-Key`); `None` sends
    /// `Authorization: Bearer <token>`. A name, never a secret.
    pub auth_header: Option<String>,
    pub redactor: Redactor,
    pub limits: Limits,
    pub suite: Suite,
    pub expect: Expectations,
    /// Which MCP era to verify on a server that speaks both.
    pub era: EraChoice,
    pub paths: HttpPaths,
    /// Series `/metrics` must expose (family names: `mcp_requests_total`).
    pub required_metrics: Vec<String>,
    pub thresholds: Thresholds,
    /// `Some` runs the load check (always in the full suite, with defaults).
    pub load: Option<LoadSettings>,
    pub rate_limit: RateLimitSettings,
    pub toggles: Toggles,
    /// An `Origin` no server should trust, for the CORS and Origin checks.
    pub foreign_origin: String,
    /// Extra trusted roots (DER) for the TLS check, besides the web PKI.
    pub extra_roots: Vec<Vec<u8>>,
    /// The whole run's time budget; checks still pending when it runs out fail.
    pub run_timeout: Duration,
    pub progress: Option<Progress>,
    /// How the server authenticates (`auth` of the environment).
    pub auth: AuthScheme,
    /// Where the settings came from; set by [`Context::apply_environment`].
    pub origin: Origin,
    /// Run and report Runway's policies (hardening headers, rate limit, thresholds,
    /// an open endpoint): `policies = false` in an environment turns them off,
    /// leaving the specification's rules and the operator's expectations.
    pub policies: bool,
    /// The `exposure` check's settings (`[environments.X.exposure]`); set, the
    /// check runs in every suite.
    pub exposure: Option<Exposure>,
}

/// Operational paths that must be closed at the public edge and served on
/// the internal network (dynamic-mcp step 7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure {
    /// Where the server answers from inside the network; `None` checks the
    /// public side only.
    pub internal_url: Option<url::Url>,
    /// The paths (`/livez`, `/readyz`, `/metrics`).
    pub paths: Vec<String>,
}

impl Default for Exposure {
    fn default() -> Self {
        Exposure {
            internal_url: None,
            paths: runway_config::environment::EXPOSURE_DEFAULT_PATHS
                .iter()
                .map(|p| (*p).to_owned())
                .collect(),
        }
    }
}

impl Context {
    /// A context for `transport` with defaults; `token` is registered with the redactor.
    pub fn new(transport: Transport, token: Option<Secret>, suite: Suite) -> Context {
        let display = match &transport {
            Transport::Http { url } => url.to_string(),
            Transport::Stdio { program, args, .. } => std::iter::once(program.as_str())
                .chain(args.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" "),
        };
        let mut redactor = Redactor::new();
        if let Some(t) = &token {
            redactor.add(t);
        }
        let display = redactor.redact(&display);
        Context {
            transport,
            display,
            token,
            auth_header: None,
            redactor,
            limits: Limits::default(),
            suite,
            expect: Expectations::default(),
            era: EraChoice::default(),
            paths: HttpPaths::default(),
            required_metrics: Vec::new(),
            thresholds: Thresholds::default(),
            load: None,
            rate_limit: RateLimitSettings::default(),
            toggles: Toggles::default(),
            foreign_origin: "https://runway-foreign-origin.example".to_owned(),
            extra_roots: Vec::new(),
            run_timeout: Duration::from_secs(300),
            progress: None,
            auth: AuthScheme::default(),
            origin: Origin::default(),
            policies: true,
            exposure: None,
        }
    }

    /// How a hint names a setting: `flag` (`--timeout`) for a run from flags,
    /// `key` of the environment (`environments.prod.timeout_secs` in
    /// `runway.toml`) for a run from `runway.toml`. A setting with no flag
    /// passes `None` and is always named by its key.
    pub fn setting(&self, flag: Option<&str>, key: &str) -> String {
        match (&self.origin, flag) {
            (Origin::Flags, Some(f)) => format!("`{f}`"),
            (Origin::Flags, None) => format!("`{key}` in the environment's `runway.toml` table"),
            (Origin::Environment(name), _) => {
                format!("`environments.{name}.{key}` in `runway.toml`")
            }
        }
    }

    /// How hints name the header the token goes in: `` `Authorization: Bearer` ``
    /// or `` `X-API-Key` ``.
    pub fn token_header_label(&self) -> String {
        match &self.auth_header {
            None => "`Authorization: Bearer`".to_owned(),
            Some(h) => format!("`{h}`"),
        }
    }

    /// Whether check `id` runs: explicit toggles win, then the suite decides.
    pub fn wants(&self, id: &str, in_suite: bool) -> bool {
        self.toggles.state(id).unwrap_or(in_suite)
    }

    /// The MCP endpoint URL, for HTTP targets.
    pub fn url(&self) -> Option<&url::Url> {
        match &self.transport {
            Transport::Http { url } => Some(url),
            Transport::Stdio { .. } => None,
        }
    }

    /// A sibling path on the MCP endpoint's origin (`/health` next to `/mcp`).
    pub fn origin_url(&self, path: &str) -> Option<url::Url> {
        self.url().and_then(|u| u.join(path).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toggles_match_groups_and_ids_and_disable_wins() {
        let t = Toggles {
            enabled: vec!["ratelimit".into()],
            disabled: vec!["auth.query_token".into(), "metrics".into()],
            only: vec![],
        };
        assert_eq!(t.state("ratelimit.burst"), Some(true));
        assert_eq!(t.state("auth.query_token"), Some(false));
        assert_eq!(t.state("auth.no_token"), None);
        assert_eq!(t.state("metrics"), Some(false));
        // A prefix that is not a whole group does not match.
        assert_eq!(t.state("metricsx.a"), None);
        let only = Toggles {
            only: vec!["load".into()],
            ..Toggles::default()
        };
        assert_eq!(only.state("load.latency"), Some(true));
        let one = Toggles {
            only: vec!["http.health".into()],
            ..Toggles::default()
        };
        assert_eq!(
            one.state("http"),
            Some(true),
            "the group of an --only id runs"
        );
        assert_eq!(one.state("http.health"), Some(true));
        assert_eq!(one.state("http.livez"), Some(false));
        assert_eq!(one.state("mcp"), Some(false));
        assert_eq!(only.state("auth.no_token"), Some(false));
    }

    #[test]
    fn the_token_never_shows_in_the_display() {
        let url = url::Url::parse("http://127.0.0.1:1/mcp?k=tok-abcdef").unwrap();
        let ctx = Context::new(
            Transport::Http { url },
            Some(Secret::new("tok-abcdef")),
            Suite::Smoke,
        );
        assert!(!ctx.display.contains("tok-abcdef"));
        assert_eq!(
            ctx.origin_url("/health").unwrap().as_str(),
            "http://127.0.0.1:1/health"
        );
    }
}

/// Why an environment's settings could not be applied.
#[derive(Debug, thiserror::Error)]
#[error("`{field}`: {message}")]
pub struct SettingsError {
    pub field: String,
    pub message: String,
}

impl runway_core::Diagnostic for SettingsError {
    fn hint(&self) -> Option<String> {
        Some(format!("fix `{}` in `runway.toml`", self.field))
    }

    fn exit(&self) -> runway_core::Exit {
        runway_core::Exit::Usage
    }
}

impl Context {
    /// Applies `[environments.<name>]` settings (everything but the URL and the token,
    /// which the caller resolves because they involve the process environment).
    pub fn apply_environment(
        &mut self,
        name: &str,
        env: &runway_config::EnvironmentConfig,
    ) -> Result<(), SettingsError> {
        let field = |f: &str| format!("environments.{name}.{f}");
        self.origin = Origin::Environment(name.to_owned());
        self.auth = match env.auth {
            None => AuthScheme::Unknown,
            Some(runway_config::environment::AuthName::Bearer) => AuthScheme::Bearer,
            Some(runway_config::environment::AuthName::Oauth) => AuthScheme::OAuth,
        };
        if let Some(s) = env.suite {
            self.suite = s.as_str().parse().unwrap_or(Suite::Smoke);
        }
        if let Some(h) = &env.auth_header {
            self.auth_header = Some(h.clone());
        }
        if let Some(p) = env.policies {
            self.policies = p;
        }
        if let Some(e) = env.era {
            self.era = e.as_str().parse().unwrap_or_default();
        }
        for (slot, value) in [
            (&mut self.paths.health, &env.health_path),
            (&mut self.paths.livez, &env.livez_path),
            (&mut self.paths.readyz, &env.readyz_path),
            (&mut self.paths.metrics, &env.metrics_path),
        ] {
            if let Some(p) = value {
                *slot = Some(Endpoint::required_at(p));
            }
        }
        self.required_metrics = env.required_metrics.clone();
        // Empty: the check is off; `{version}`: only a deploy knows it.
        if let Some(v) = env
            .expect_version
            .as_ref()
            .filter(|v| !v.trim().is_empty() && !v.contains("{version}"))
        {
            let v =
                runway_config::interpolate::interpolate_env(v).map_err(|var| SettingsError {
                    field: field("expect_version"),
                    message: format!("environment variable `{var}` is not set"),
                })?;
            self.expect.version = Some(v);
        }
        self.expect.min_tools = env.min_tools;
        self.expect.required_tools = env.required_tools.clone();
        for c in &env.calls {
            let text_matches = c.expect_match.as_deref().map(Pattern::new);
            if let Some(Err(e)) = text_matches.as_ref().map(Pattern::regex) {
                return Err(SettingsError {
                    field: field("calls.expect_match"),
                    message: format!(
                        "`{}` is not a valid regular expression: {e}",
                        c.expect_match.as_deref().unwrap_or_default()
                    ),
                });
            }
            self.expect.calls.push(SmokeCall {
                tool: c.tool.clone(),
                arguments: c.arguments.clone(),
                expect: CallExpect {
                    not_error: !c.expect_error,
                    text_contains: c.expect_text.clone(),
                    text_matches,
                    json_at: c
                        .expect_json_pointer
                        .clone()
                        .zip(c.expect_json_value.clone()),
                    output_schema: c.output_schema.unwrap_or(true),
                    max_latency: c.max_latency_ms.map(|m| Duration::from_millis(m.get())),
                },
            });
        }
        if let Some(t) = env.timeout_secs {
            self.limits.timeout = Duration::from_secs_f64(t);
        }
        if let Some(x) = &env.exposure {
            let internal_url = match &x.internal_url {
                None => None,
                Some(raw) => {
                    let fail = |message: String| SettingsError {
                        field: field("exposure.internal_url"),
                        message,
                    };
                    let u = runway_config::interpolate::interpolate_env(raw)
                        .map_err(|var| fail(format!("environment variable `{var}` is not set")))?;
                    Some(
                        url::Url::parse(&u)
                            .map_err(|e| fail(format!("`{u}` is not a URL: {e}")))?,
                    )
                }
            };
            self.exposure = Some(Exposure {
                internal_url,
                paths: x.internal_paths.clone(),
            });
        }
        for (k, on) in &env.checks {
            let list = if *on {
                &mut self.toggles.enabled
            } else {
                &mut self.toggles.disabled
            };
            list.push(k.0.clone());
        }
        let t = &env.thresholds;
        if let Some(v) = t.tool_p95_ms {
            self.thresholds.tool_p95 = Duration::from_millis(v.get());
        }
        if let Some(v) = t.api_p95_ms {
            self.thresholds.api_p95 = Duration::from_millis(v.get());
        }
        if let Some(v) = t.tls_min_days {
            self.thresholds.tls_min_days = i64::from(v.get());
        }
        if let Some(v) = t.max_error_rate {
            self.thresholds.max_error_rate = v;
        }
        if let Some(l) = &env.load {
            let mut s = LoadSettings::default();
            if let Some(c) = l.concurrency {
                s.concurrency = c.get();
            }
            s.requests = l.requests.map(|n| n.get());
            s.duration = l.duration_secs.map(Duration::from_secs_f64);
            if s.requests.is_none() && s.duration.is_none() {
                s.requests = LoadSettings::default().requests;
            }
            s.rate = l.rate;
            if let Some(p) = &l.path {
                s.target = LoadTarget::Http { path: p.clone() };
            }
            if let Some(c) = &l.call {
                s.target = LoadTarget::ToolCall {
                    tool: c.tool.clone(),
                    arguments: c.arguments.clone(),
                };
            }
            self.load = Some(s);
        }
        if let Some(r) = env.rate_limit.required {
            self.rate_limit.required = r;
        }
        if let Some(b) = env.rate_limit.burst {
            self.rate_limit.burst = b.get();
        }
        Ok(())
    }
}

#[cfg(test)]
mod environment_tests {
    use super::*;

    #[test]
    fn an_environment_fills_the_context() {
        let text = r#"
[environments.prod]
url = "http://127.0.0.1:1/mcp"
suite = "full"
auth = "oauth"
metrics_path = "/m"
required_metrics = ["a_total"]
expect_version = "${RUNWAY_TEST_SURELY_UNSET:-9.9.9}"
min_tools = 3
checks = { ratelimit = false, "auth.query_token" = true }
[environments.prod.thresholds]
tool_p95_ms = 250
[environments.prod.load]
duration_secs = 2.5
call = { tool = "echo", arguments = { message = "x" } }
[[environments.prod.calls]]
tool = "add"
arguments = { a = 1, b = 2 }
expect_json_pointer = "/sum"
expect_json_value = 3
max_latency_ms = 100
"#;
        let cfg = runway_config::Config::parse(text, std::path::Path::new("runway.toml")).unwrap();
        let url = url::Url::parse("http://127.0.0.1:1/mcp").unwrap();
        let mut ctx = Context::new(Transport::Http { url }, None, Suite::Smoke);
        ctx.apply_environment("prod", cfg.environment("prod").unwrap())
            .unwrap();
        assert_eq!(ctx.suite, Suite::Full);
        assert_eq!(ctx.auth, AuthScheme::OAuth);
        assert_eq!(ctx.origin, Origin::Environment("prod".into()));
        assert_eq!(
            ctx.setting(Some("--timeout"), "timeout_secs"),
            "`environments.prod.timeout_secs` in `runway.toml`"
        );
        assert_eq!(ctx.paths.metrics, Some(Endpoint::required_at("/m")));
        assert!(!ctx.paths.health.as_ref().unwrap().required);
        assert_eq!(ctx.expect.version.as_deref(), Some("9.9.9"));
        assert_eq!(ctx.thresholds.tool_p95, Duration::from_millis(250));
        let load = ctx.load.unwrap();
        assert_eq!(load.duration, Some(Duration::from_millis(2500)));
        assert_eq!(load.requests, None);
        assert!(matches!(load.target, LoadTarget::ToolCall { ref tool, .. } if tool == "echo"));
        assert_eq!(
            ctx.expect.calls[0].expect.json_at,
            Some(("/sum".into(), serde_json::json!(3)))
        );
        assert_eq!(ctx.toggles.state("ratelimit.burst"), Some(false));
        assert_eq!(ctx.toggles.state("auth.query_token"), Some(true));
    }

    #[test]
    fn a_bad_regex_names_its_field() {
        let text =
            "[environments.p]\n[[environments.p.calls]]\ntool = \"echo\"\nexpect_match = \"(\"\n";
        let cfg = runway_config::Config::parse(text, std::path::Path::new("runway.toml")).unwrap();
        let url = url::Url::parse("http://127.0.0.1:1/mcp").unwrap();
        let mut ctx = Context::new(Transport::Http { url }, None, Suite::Smoke);
        let e = ctx
            .apply_environment("p", cfg.environment("p").unwrap())
            .unwrap_err();
        assert_eq!(e.field, "environments.p.calls.expect_match");
    }
}
