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

/// A value parser for a [`clap::ValueEnum`] that lists the values in `--help`
/// and the completions, and says `` `--suite`: unknown suite `quick`: use smoke, full or conformance ``
/// for anything else.
#[derive(Clone)]
pub struct Choice<T>(std::marker::PhantomData<T>);

impl<T> Choice<T> {
    pub fn new() -> Self {
        Choice(std::marker::PhantomData)
    }
}

impl<T> Default for Choice<T> {
    fn default() -> Self {
        Choice::new()
    }
}

impl<T: clap::ValueEnum + Clone + Send + Sync + 'static> clap::builder::TypedValueParser
    for Choice<T>
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let text = value.to_string_lossy();
        if let Ok(v) = T::from_str(&text, false) {
            return Ok(v);
        }
        let flag = arg.and_then(clap::Arg::get_long).unwrap_or("value");
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|p| p.get_name().to_owned())
            .collect();
        let list = match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        let message = format!("`--{flag}`: unknown {flag} `{text}`: use {list}");
        Err(
            clap::Error::raw(clap::error::ErrorKind::InvalidValue, message)
                .format(&mut cmd.clone()),
        )
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            T::value_variants()
                .iter()
                .filter_map(|v| v.to_possible_value()),
        ))
    }
}

/// `--format` of `verify` and `demo`: how the report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Grouped by stage, with hints and evidence under each problem.
    Human,
    /// `runway.report/v1`.
    Json,
    /// JUnit XML for CI test reports.
    Junit,
    /// GitHub Actions annotations and a step summary.
    Github,
}

impl From<ReportFormat> for runway_verify::report::Format {
    fn from(f: ReportFormat) -> Self {
        use runway_verify::report::Format;
        match f {
            ReportFormat::Human => Format::Human,
            ReportFormat::Json => Format::Json,
            ReportFormat::Junit => Format::Junit,
            ReportFormat::Github => Format::Github,
        }
    }
}

/// `--suite`: which checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SuiteArg {
    /// Health, auth boundary, handshake, tools and smoke calls: for every deploy.
    Smoke,
    /// Everything: adds headers, CORS, Origin, JSON-RPC errors, load and rate limits.
    Full,
    /// The MCP protocol rules, SHOULD-level warnings as failures.
    Conformance,
}

impl From<SuiteArg> for runway_verify::Suite {
    fn from(s: SuiteArg) -> Self {
        match s {
            SuiteArg::Smoke => runway_verify::Suite::Smoke,
            SuiteArg::Full => runway_verify::Suite::Full,
            SuiteArg::Conformance => runway_verify::Suite::Conformance,
        }
    }
}

/// `--era`: which MCP era to verify on a server that speaks both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EraArg {
    /// Discover first, then fall back to `initialize`, as a current client does.
    Auto,
    /// The `initialize` (session-era) path.
    Session,
    /// The stateless era (`server/discover`) only.
    Stateless,
}

impl From<EraArg> for runway_verify::EraChoice {
    fn from(e: EraArg) -> Self {
        match e {
            EraArg::Auto => runway_verify::EraChoice::Auto,
            EraArg::Session => runway_verify::EraChoice::Session,
            EraArg::Stateless => runway_verify::EraChoice::Stateless,
        }
    }
}
