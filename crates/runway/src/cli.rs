//! The command-line definition (clap derive). Completions and the man page come from here too.

use clap::{Parser, Subcommand};

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
    /// Detect the project's version files and write `runway.toml`.
    Init(cmd::init::Args),
    /// Versions, changelog, tags and the pre-release gate.
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
    /// Print shell completions for bash, zsh, fish, elvish or powershell.
    Completions(cmd::completions::Args),
    /// Print the man page (roff) on stdout.
    Man,
    /// Run the reference MCP server (for tests, demos and `verify --stdio`).
    // Its `--version` sets the version the server reports, not Runway's.
    #[command(hide = true, disable_version_flag = true)]
    ServeReference(cmd::serve_reference::Args),
}
