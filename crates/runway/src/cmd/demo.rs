//! `runway demo`: the whole verify experience with nothing set up. It starts
//! the reference MCP server in-process on 127.0.0.1 with a token it makes up,
//! runs the full suite against it and prints the human report.

use runway_core::{Exit, Secret};
use runway_verify::{Context, LoadSettings, Suite, Transport, report::Format};

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(long, value_name = "FORMAT", default_value = "human", value_parser = crate::cli::Choice::<crate::cli::ReportFormat>::new())]
    pub format: crate::cli::ReportFormat,

    /// Inject reference-server faults to see checks fail (`no-auth,cors-echo`).
    #[arg(long, value_name = "LIST")]
    pub faults: Option<String>,
}

pub async fn run(_ctx: &Ctx, args: Args) -> anyhow::Result<Exit> {
    let format: Format = args.format.into();
    let faults = match &args.faults {
        Some(list) => runway_reference::Faults::parse(list)
            .map_err(|e| crate::error::usage(format!("`--faults`: {e}")))?,
        None => runway_reference::Faults::default(),
    };
    let token = format!("demo-{}", uuid_like());
    let server = runway_reference::spawn(runway_reference::Options {
        token: Some(Secret::new(token.clone())),
        faults,
        ..runway_reference::Options::default()
    })
    .await?;
    eprintln!("reference MCP server listening on {}", server.mcp_url);
    let url = runway_verify::url::Url::parse(&server.mcp_url)?;
    let mut c = Context::new(
        Transport::Http { url },
        Some(Secret::new(token)),
        Suite::Full,
    );
    // What the reference server is known to offer: its version, its tools, its series.
    c.expect.version = Some(runway_reference::Options::default().version);
    c.expect.min_tools = Some(runway_reference::TOOL_NAMES.len());
    c.required_metrics = runway_reference::METRIC_SERIES
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    c.expect.calls = vec![
        runway_verify::SmokeCall {
            tool: "echo".into(),
            arguments: serde_json::json!({"message": "hello from runway demo"}),
            expect: runway_verify::CallExpect {
                text_contains: Some("hello from runway demo".into()),
                ..Default::default()
            },
        },
        runway_verify::SmokeCall {
            tool: "add".into(),
            arguments: serde_json::json!({"a": 2, "b": 3}),
            expect: runway_verify::CallExpect {
                json_at: Some(("/sum".into(), serde_json::json!(5.0))),
                ..Default::default()
            },
        },
    ];
    c.expect.required_tools = c.expect.calls.iter().map(|s| s.tool.clone()).collect();
    c.load = Some(LoadSettings {
        target: runway_verify::LoadTarget::ToolCall {
            tool: "echo".into(),
            arguments: serde_json::json!({"message": "load"}),
        },
        concurrency: 8,
        requests: Some(200),
        duration: None,
        rate: None,
    });
    let report = runway_verify::engine::run(&c).await;
    super::verify::emit(&report, format, &c.redactor)?;
    server.shutdown().await;
    Ok(if report.ok() {
        Exit::Success
    } else {
        Exit::Failed
    })
}

/// A random-enough token without pulling a RNG into the binary: time and address entropy.
fn uuid_like() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    format!("{:016x}", h.finish())
}
