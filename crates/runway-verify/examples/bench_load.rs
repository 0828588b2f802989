//! The load check's engine from the command line, for `bench/load.sh`:
//! `bench_load <mcp-url> <concurrency> <requests> [path|tool=<json>]` prints
//! `throughput_rps p50_ms p95_ms errors`. It calls the same `load::run` that
//! `runway verify --only load` does, without building the whole binary.

use runway_core::{Era, Secret};
use runway_verify::{Context, LoadSettings, LoadTarget, Suite, Transport};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        args.len() == 5,
        "usage: bench_load <mcp-url> <concurrency> <requests> </path | tool={{json}}>"
    );
    let url = url::Url::parse(&args[1])?;
    let token = std::env::var("RUNWAY_BENCH_TOKEN").ok().map(Secret::new);
    let ctx = Context::new(Transport::Http { url }, token, Suite::Full);
    let target = match args[4].split_once('=') {
        Some((tool, json)) if !args[4].starts_with('/') => LoadTarget::ToolCall {
            tool: tool.to_owned(),
            arguments: serde_json::from_str(json)?,
        },
        _ => LoadTarget::Http {
            path: args[4].clone(),
        },
    };
    let settings = LoadSettings {
        target,
        concurrency: args[2].parse()?,
        requests: Some(args[3].parse()?),
        duration: None,
        rate: None,
    };
    let client = runway_verify::http::client(ctx.limits);
    // Stateless by default: every request stands alone, as oha's do.
    let era = match std::env::var("RUNWAY_BENCH_ERA").as_deref() {
        Ok("session") => Era::Session {
            version: "2025-06-18".into(),
        },
        _ => Era::Stateless {
            version: "2026-07-28".into(),
        },
    };
    let s = runway_verify::load::run(&ctx, &client, &settings, &era)
        .await
        .map_err(anyhow::Error::msg)?;
    println!(
        "{:.1} {:.3} {:.3} {}",
        s.throughput_rps, s.p50_ms, s.p95_ms, s.errors
    );
    Ok(())
}
