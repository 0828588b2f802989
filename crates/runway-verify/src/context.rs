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

/// What a smoke tool call must produce.
#[derive(Debug, Clone, PartialEq)]
pub struct CallExpect {
    /// The result must not have `isError: true` (default).
    pub not_error: bool,
    /// Some text content must contain this.
    pub text_contains: Option<String>,
    /// Some text content must match this regular expression.
    pub text_matches: Option<String>,
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

/// Everything a check may read.
#[derive(Debug, Clone)]
pub struct Context {
    pub transport: Transport,
    /// Shown in reports: the URL or command line, never a secret.
    pub display: String,
    pub token: Option<Secret>,
    pub redactor: Redactor,
    pub limits: Limits,
    pub suite: Suite,
    pub expect: Expectations,
    /// Which MCP era to verify on a server that speaks both.
    pub era: EraChoice,
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
            redactor,
            limits: Limits::default(),
            suite,
            expect: Expectations::default(),
            era: EraChoice::default(),
        }
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
