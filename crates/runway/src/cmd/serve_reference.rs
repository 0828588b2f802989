//! `runway serve-reference`: the reference MCP server as a process, for tests, demos
//! and `verify --stdio`. Hidden from `--help`; the library is `runway-reference`.

use std::net::{Ipv4Addr, SocketAddr};

use runway_core::Exit;
use runway_reference::{EraSupport, Faults, Options};

use super::Ctx;
use crate::error::UsageError;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Era {
    /// `initialize` sessions and 2026-07-28 `server/discover`.
    Both,
    /// Only `initialize` with `Mcp-Session-Id`.
    Session,
    /// Only 2026-07-28 (no `initialize`).
    Stateless,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogRequests {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port on 127.0.0.1 (0 picks a free one); `PORT` when not given, as a
    /// container is told its port.
    #[arg(long, env = "PORT", default_value_t = 0, value_name = "N")]
    pub port: u16,

    /// Require `Authorization: Bearer <token>` on `/mcp`, the token read from this variable.
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,

    /// More accepted tokens (the users'), comma-separated in this variable; needs `--token-env`.
    #[arg(long, value_name = "VAR", requires = "token_env")]
    pub user_tokens_env: Option<String>,

    /// Faults to inject, comma-separated (e.g. `no-auth,slow-tool=1500`); a
    /// deployment's settings can set them through the variable.
    #[arg(
        long,
        value_name = "LIST",
        default_value = "",
        env = "RUNWAY_REFERENCE_FAULTS"
    )]
    pub faults: String,

    /// Which protocol eras to speak.
    #[arg(long, value_enum, default_value_t = Era::Both)]
    pub era: Era,

    /// The version the server reports (`serverInfo.version` and `/health`); default Runway's.
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,

    /// Log one line per `tools/list` and tool call on stdout, as text or
    /// JSON lines (timestamp, level, correlation_id, message); with `json`
    /// the start-up line is JSON too.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub log_requests: Option<LogRequests>,

    /// Speak MCP on stdin/stdout instead of HTTP.
    #[arg(long)]
    pub stdio: bool,
}

fn options(args: &Args) -> anyhow::Result<Options> {
    let faults = Faults::parse(&args.faults).map_err(|e| {
        UsageError::new(format!("bad `--faults`: {e}"))
            .with_hint("list faults separated by commas, e.g. `--faults no-auth,slow-tool=1500`")
    })?;
    let token = match &args.token_env {
        None => None,
        Some(var) => Some(runway_config::token::from_env(var, "`--token-env`")?),
    };
    let user_tokens = match &args.user_tokens_env {
        None => Vec::new(),
        Some(var) => runway_config::token::from_env(var, "`--user-tokens-env`")?
            .expose()
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(runway_core::Secret::new)
            .collect(),
    };
    Ok(Options {
        bind: SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)),
        token,
        user_tokens,
        era: match args.era {
            Era::Both => EraSupport::Both,
            Era::Session => EraSupport::SessionOnly,
            Era::Stateless => EraSupport::StatelessOnly,
        },
        faults,
        log_requests: args.log_requests.map(|f| match f {
            LogRequests::Text => runway_reference::LogFormat::Text,
            LogRequests::Json => runway_reference::LogFormat::Json,
        }),
        version: args
            .version
            .clone()
            .unwrap_or_else(|| Options::default().version),
        ..Options::default()
    })
}

pub async fn run(_ctx: &Ctx, args: Args) -> anyhow::Result<Exit> {
    let opts = options(&args)?;
    if args.stdio {
        runway_reference::serve_stdio(opts).await?;
        return Ok(Exit::Success);
    }
    let faults = opts.faults.clone();
    let json = opts.log_requests == Some(runway_reference::LogFormat::Json);
    let server = runway_reference::spawn(opts).await?;
    if json {
        // Every line of a JSON-logging server is JSON, its start-up line too.
        let mut message = format!("listening on {}", server.mcp_url);
        if !faults.is_empty() {
            message.push_str(&format!(", faults on: `{faults}`"));
        }
        eprintln!(
            "{}",
            runway_reference::log_line(
                runway_reference::LogFormat::Json,
                "INFO",
                "start",
                &message
            )
        );
    } else {
        eprintln!("listening on {}", server.mcp_url);
        if !faults.is_empty() {
            eprintln!("faults on: `{faults}`");
        }
    }
    runway_core::Shutdown::on_signals().fired().await;
    server.shutdown().await;
    Ok(Exit::Success)
}
