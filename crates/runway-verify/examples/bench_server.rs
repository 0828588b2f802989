//! The reference MCP server for `bench/load.sh`: serves on 127.0.0.1 with the
//! token from `RUNWAY_BENCH_TOKEN` and no anonymous rate limit, prints its MCP
//! URL on stdout, and runs until interrupted. Benchmarks need one long-lived
//! server that both load generators hit, which the test helpers do not give.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let token = std::env::var("RUNWAY_BENCH_TOKEN").ok();
    let server = runway_reference::spawn(runway_reference::Options {
        token: token.map(Into::into),
        anonymous_rate_limit: None,
        ..runway_reference::Options::default()
    })
    .await?;
    println!("{}", server.mcp_url);
    tokio::signal::ctrl_c().await?;
    server.shutdown().await;
    Ok(())
}
