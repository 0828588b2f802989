//! The command-line definition (clap derive). Completions and the man page come from here too.

use clap::{CommandFactory, Parser, Subcommand};
use runway_core::Exit;

use crate::cmd;

/// Release, ship, verify, watch and roll back MCP servers, and keep the record.
#[derive(Debug, Parser)]
#[command(name = "runway", version, about, propagate_version = true)]
pub struct Cli {
    /// More log output on stderr (-v, -vv). `RUNWAY_LOG` takes a tracing filter too.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Project directory (where `runway.toml` is looked for).
    #[arg(short = 'C', long = "project-dir", global = true, value_name = "DIR")]
    pub project_dir: Option<std::path::PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Prove a deployed MCP server works: health, auth, protocol, tools, headers, load.
    Verify(Box<cmd::verify::Args>),
    /// Start the reference MCP server on 127.0.0.1 and verify it, with no set-up.
    Demo(cmd::demo::Args),
    /// Every gate's verdict, the target's state and the steps a deploy would take; changes nothing.
    Plan(cmd::deploy::PlanArgs),
    /// Gates, deploy, wait for health, verify; roll back on failure.
    Deploy(cmd::deploy::DeployArgs),
    /// The whole runbook: release check, gates, deploy, verify, watch, record; roll back on failure.
    Ship(cmd::deploy::ShipArgs),
    /// Watch what is deployed now for the bake window.
    Watch(cmd::deploy::WatchArgs),
    /// Back to the recorded previous (or named) version, verified again.
    Rollback(cmd::deploy::RollbackArgs),
    /// What runs in an environment, from the target and the ledger, with any drift.
    Status(cmd::deploy::StatusArgs),
    /// Incident triage on one screen: readiness, auth denials and errors, last deployments, open incidents, the deploy lock.
    Triage(cmd::triage::Args),
    /// Detect the project's version files and write `runway.toml`.
    Init(cmd::init::Args),
    /// Versions, changelog, tags, the pre-release gate, and after the release: notes, report, yank, announce.
    #[command(subcommand)]
    Release(cmd::release::Command),
    /// Read and move the append-only ledger.
    #[command(subcommand)]
    Ledger(cmd::ledger::Command),
    /// Open, move and write up incidents.
    #[command(subcommand)]
    Incident(cmd::incident::Command),
    /// DORA metrics from the ledger and git.
    Dora(cmd::dora::Args),
    /// Serve Runway's operations to an MCP client (stdio, or `--listen` for streamable HTTP).
    Mcp(cmd::mcp::Args),
    /// Run each environment's checks on a schedule and keep its status.
    Monitor(cmd::monitor::Args),
    /// Print shell completions for bash, zsh, fish, elvish or powershell.
    Completions(cmd::completions::Args),
    /// Print the man page (roff) on stdout.
    Man,
    /// Run the reference MCP server (for tests, demos and `verify --stdio`).
    // Its `--version` sets the version the server reports, not Runway's.
    #[command(hide = true, disable_version_flag = true)]
    ServeReference(cmd::serve_reference::Args),
    /// Keep a process target's log bounded: stdin appended to `--file`, at most `--max-bytes`.
    #[command(hide = true)]
    ProcessLog(cmd::process_log::Args),
}

impl Cli {
    /// Runs the command the arguments name.
    pub async fn dispatch(self) -> anyhow::Result<Exit> {
        let cli = self;
        let ctx = cmd::Ctx {
            project_dir: cli.project_dir.clone(),
        };
        // The process target's servers write their output through `runway process-log`.
        if let Ok(exe) = std::env::current_exe() {
            runway_deploy::process::set_log_keeper(vec![
                exe.display().to_string(),
                "process-log".to_owned(),
            ]);
        }
        match cli.command {
            Command::Verify(args) => cmd::verify::run(&ctx, *args).await,
            Command::Demo(args) => cmd::demo::run(&ctx, args).await,
            Command::Plan(args) => cmd::deploy::plan(&ctx, args).await,
            Command::Deploy(args) => cmd::deploy::deploy(&ctx, args).await,
            Command::Ship(args) => cmd::deploy::ship(&ctx, args).await,
            Command::Watch(args) => cmd::deploy::watch(&ctx, args).await,
            Command::Rollback(args) => cmd::deploy::rollback(&ctx, args).await,
            Command::Status(args) => cmd::deploy::status(&ctx, args).await,
            Command::Triage(args) => cmd::triage::run(&ctx, args).await,
            Command::Init(args) => cmd::init::run(&ctx, args).await,
            Command::Release(c) => cmd::release::run(&ctx, c).await,
            Command::Ledger(c) => cmd::ledger::run(&ctx, c).await,
            Command::Incident(c) => cmd::incident::run(&ctx, c).await,
            Command::Dora(args) => cmd::dora::run(&ctx, args).await,
            Command::Mcp(args) => cmd::mcp::run(&ctx, args).await,
            Command::Monitor(args) => cmd::monitor::run(&ctx, args).await,
            Command::Completions(args) => cmd::completions::run(args, Cli::command()),
            Command::Man => cmd::completions::man(Cli::command()),
            Command::ServeReference(args) => cmd::serve_reference::run(&ctx, args).await,
            Command::ProcessLog(args) => cmd::process_log::run(args),
        }
    }
}
