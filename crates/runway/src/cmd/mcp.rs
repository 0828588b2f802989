//! `runway mcp`: Runway's operations as an MCP server (the library is `runway-mcp`).
//!
//! Parses the flags, finds the project and its ledger the way every other
//! command does, and starts the stdio or HTTP transport.

use std::net::SocketAddr;

use runway_core::Exit;

use super::{Ctx, LedgerOpt};
use crate::error::UsageError;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Serve streamable HTTP on this address (`127.0.0.1:PORT`; port 0 picks a free one) instead of stdio.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// With `--listen`: the bearer token `/mcp` requires, read from this variable.
    #[arg(long, value_name = "VAR", conflicts_with = "token_file")]
    pub token_env: Option<String>,

    /// With `--listen`: the bearer token, read from this file.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<std::path::PathBuf>,

    /// With `--listen`: an `Origin` browsers may call from (repeatable; default: the server's own).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origin: Vec<String>,

    /// With `--listen`: a name the server answers to besides its address and `localhost` (repeatable; behind a proxy). Other `Host`s are refused.
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_host: Vec<String>,

    /// With `--listen`: allow a non-loopback address (put TLS in front of it).
    #[arg(long)]
    pub allow_remote: bool,

    #[command(flatten)]
    pub ledger: LedgerOpt,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Exit> {
    let project = ctx.project()?;
    let root = project.root();
    let ws = runway_mcp::Workspace {
        root: root.canonicalize().unwrap_or(root),
        ledger: project.ledger_url(args.ledger.ledger.as_deref())?,
        config: project.loaded,
    };
    let Some(bind) = args.listen else {
        if args.token_env.is_some()
            || args.token_file.is_some()
            || !args.allow_origin.is_empty()
            || !args.allow_host.is_empty()
        {
            return Err(UsageError::new(
                "`--token-env`, `--token-file`, `--allow-origin` and `--allow-host` apply to `--listen` only",
            )
            .with_hint("over stdio the client that starts `runway mcp` is trusted; add `--listen 127.0.0.1:PORT` to serve HTTP")
            .into());
        }
        runway_mcp::serve_stdio(ws).await?;
        return Ok(Exit::Success);
    };
    let token = match (&args.token_env, &args.token_file) {
        (Some(var), _) => runway_config::token::from_env(var, "`--token-env`")?,
        (None, Some(path)) => runway_config::token::from_file(path, "`--token-file`")?,
        (None, None) => {
            return Err(UsageError::new("`--listen` needs a bearer token")
                .with_hint("pass `--token-env VAR` (or `--token-file FILE`) naming where the token is; clients send it as `Authorization: Bearer <token>`")
                .into());
        }
    };
    let server = runway_mcp::spawn_http(
        ws,
        runway_mcp::HttpOptions {
            bind,
            token: Some(token),
            allowed_origins: args.allow_origin,
            allowed_hosts: args.allow_host,
            allow_remote: args.allow_remote,
        },
    )
    .await?;
    eprintln!("listening on {}", server.mcp_url);
    runway_core::Shutdown::on_signals().fired().await;
    server.shutdown().await;
    Ok(Exit::Success)
}
