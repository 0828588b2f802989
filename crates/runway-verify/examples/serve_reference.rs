//! Starts the reference MCP server in the foreground for `bench/smoke.sh`.
//!
//! Prints `listening on <mcp url>` on stderr and serves until killed. The
//! bearer token, if any, comes from `RUNWAY_TOKEN`; with a token, traffic is
//! not rate limited, so repeated benchmark runs measure the checks, not 429s.
//! `runway serve-reference` is the user-facing command; this exists so the
//! benchmark does not depend on the CLI being wired.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let opts = runway_reference::Options {
        token: std::env::var("RUNWAY_TOKEN").ok().map(Into::into),
        ..runway_reference::Options::default()
    };
    let running = runway_reference::spawn(opts).await?;
    eprintln!("listening on {}", running.mcp_url);
    tokio::signal::ctrl_c().await?;
    running.shutdown().await;
    Ok(())
}
