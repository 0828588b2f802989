//! `runway demo`: the deploy runbook with nothing set up. In a scratch project
//! whose `staging` runs `runway serve-reference` on the process target, 1.0.0
//! ships and passes; 2.0.0, whose tool calls fail once it takes traffic,
//! passes its first verify, fails the watch, is rolled back and an incident
//! is recorded. `runway demo --verify` is the quick one: the reference server
//! in-process on 127.0.0.1 with a token it makes up, the full suite against
//! it, the human report.

use runway_core::{Exit, Secret};
use runway_verify::{Context, LoadSettings, Suite, Transport, report::Format};

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only verify the reference server (in-process, the full suite) instead
    /// of running the deploy runbook.
    #[arg(long)]
    pub verify: bool,

    /// Output format of `--verify`.
    #[arg(long, value_name = "FORMAT", default_value = "human", requires = "verify", value_parser = crate::args::Choice::<crate::args::ReportFormat>::new())]
    pub format: crate::args::ReportFormat,

    /// Inject reference-server faults to see checks fail (`no-auth,cors-echo`), with `--verify`.
    #[arg(long, value_name = "LIST", requires = "verify")]
    pub faults: Option<String>,
}

pub async fn run(_ctx: &Ctx, args: Args) -> anyhow::Result<Exit> {
    if !args.verify {
        return runbook().await;
    }
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

/// The deploy runbook with no set-up: a scratch project under the temp
/// directory whose `staging` runs `runway serve-reference` as a process.
async fn runbook() -> anyhow::Result<Exit> {
    use runway_core::Shutdown;
    use runway_runbook::{GateInput, Run};
    let dir = std::env::temp_dir().join(format!("runway-demo-{}", uuid_like()));
    std::fs::create_dir_all(&dir)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let exe = std::env::current_exe()?;
    std::fs::write(
        dir.join("serve.sh"),
        format!(
            "#!/bin/sh\nfaults=\"\"\nif [ \"$1\" = 2.0.0 ]; then faults=fail-after=1; fi\nexec '{}' serve-reference --port \"$2\" --version \"$1\" --faults \"$faults\"\n",
            exe.display()
        ),
    )?;
    std::fs::write(
        dir.join("runway.toml"),
        format!(
            r#"[environments.staging]
url = "http://127.0.0.1:{port}/mcp"
health_path = "/health"

[[environments.staging.calls]]
tool = "echo"
arguments = {{ message = "smoke" }}
expect_text = "smoke"

[environments.staging.deploy]
target = "process"
command = ["sh", "serve.sh", "{{version}}", "{{port}}"]
port = {port}

[environments.staging.analysis]
bake = "4s"
interval = "500ms"
min_samples = 5
consecutive_failures = 2
call = {{ tool = "echo", arguments = {{ message = "watch" }} }}

[environments.staging.rollback]
auto = true
incident = "P1"

[environments.staging.gates]
release_check = false  # the scratch project has no git history to check
"#
        ),
    )?;
    eprintln!("demo project: {}", dir.display());
    let ctx = Ctx {
        project_dir: Some(dir.clone()),
    };
    let env = super::deploy::open(&ctx, "staging", &super::LedgerOpt { ledger: None }).await?;
    let abort = Shutdown::on_signals();
    let ship = |version: &str| Run {
        gates: GateInput {
            version: version.to_owned(),
            ..GateInput::default()
        },
        confirm: runway_deploy::Confirm::Assume,
        watch: true,
        bake: None,
        abort: abort.clone(),
    };
    eprintln!("\n== ship 1.0.0");
    let first = runway_runbook::deploy(&env, &ship("1.0.0"))
        .await
        .map(|f| super::deploy::render(&f));
    eprintln!("\n== ship 2.0.0 (its tool calls fail under traffic)");
    let second = runway_runbook::deploy(&env, &ship("2.0.0"))
        .await
        .map(|f| super::deploy::render(&f));
    let history = env.history().await;
    // Stop the demo's server whatever happened.
    if let Some(config) = &env.config.deploy
        && let Ok(s) = runway_deploy::process::ProcessSettings::from_config("staging", config, &dir)
    {
        let _ = runway_deploy::process::ProcessTarget::new(s).stop().await;
    }
    let (first, second, history) = (first??, second??, history?);
    let rolled_back = history.first().is_some_and(|d| {
        d.deployment.release == "2.0.0" && d.status == "rolled_back" && !d.incidents.is_empty()
    });
    outln!(
        "\n1.0.0: {}; 2.0.0: {}; ledger: {}",
        if first == Exit::Success {
            "shipped and verified"
        } else {
            "FAILED"
        },
        if rolled_back {
            "failed its watch, rolled back to 1.0.0, incident opened"
        } else {
            "did not end as expected"
        },
        dir.join(".runway/ledger.db").display()
    )?;
    Ok(
        if first == Exit::Success && second == Exit::Failed && rolled_back {
            Exit::Success
        } else {
            Exit::Failed
        },
    )
}
