//! Runs the MCP checks against one target and prints the verdicts as JSON.
//!
//! A small driver for trying the checks by hand and for `bench/smoke.sh`
//! while the `runway verify` CLI is wired up elsewhere:
//! `cargo run --example mcp_verify -- <url> [smoke|full|conformance] [--era session|stateless]`
//! or `cargo run --example mcp_verify -- --stdio <program> [args...]`.
//! The token, if any, comes from `RUNWAY_TOKEN`.

use runway_core::Secret;
use runway_verify::{Context, Suite, Transport, context::EraChoice, mcp};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let token = std::env::var("RUNWAY_TOKEN").ok().map(Secret::new);
    let mut ctx = if args.first().map(String::as_str) == Some("--stdio") {
        let Some(program) = args.get(1) else {
            eprintln!("usage: mcp_verify --stdio <program> [args...]");
            return std::process::ExitCode::from(2);
        };
        Context::new(
            Transport::Stdio {
                program: program.clone(),
                args: args[2..].to_vec(),
                env: Vec::new(),
                cwd: None,
            },
            token,
            Suite::Full,
        )
    } else {
        let Some(url) = args.first().and_then(|u| u.parse().ok()) else {
            eprintln!("usage: mcp_verify <url> [smoke|full|conformance] [--era session|stateless]");
            return std::process::ExitCode::from(2);
        };
        let suite = args
            .get(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(Suite::Smoke);
        Context::new(Transport::Http { url }, token, suite)
    };
    if let Some(i) = args.iter().position(|a| a == "--era") {
        ctx.era = match args.get(i + 1).map(String::as_str) {
            Some("session") => EraChoice::Session,
            Some("stateless") => EraChoice::Stateless,
            _ => EraChoice::Auto,
        };
    }
    let outcome = mcp::run(&ctx).await;
    let failed = outcome
        .checks
        .iter()
        .any(|c| c.status == runway_core::Status::Fail);
    let out = serde_json::json!({
        "era": outcome.era,
        "server_name": outcome.server_name,
        "server_version": outcome.server_version,
        "checks": outcome.checks,
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    if failed {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    }
}
