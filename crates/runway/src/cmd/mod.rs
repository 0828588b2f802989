//! One module per subcommand; [`dispatch`] routes to them.

pub mod completions;
pub mod demo;
pub mod deploy;
pub mod dora;
pub mod incident;
pub mod init;
pub mod ledger;
mod ledger_deployment;
pub mod mcp;
pub mod monitor;
pub mod process_log;
pub mod release;
mod release_artifacts;
pub mod serve_reference;
pub mod verify;

pub use crate::ctx::{Ctx, LedgerOpt};
use runway_core::Exit;

use crate::cli::{Cli, Command};

pub async fn dispatch(cli: Cli) -> anyhow::Result<Exit> {
    let ctx = Ctx {
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
        Command::Verify(args) => verify::run(&ctx, *args).await,
        Command::Demo(args) => demo::run(&ctx, args).await,
        Command::Plan(args) => deploy::plan(&ctx, args).await,
        Command::Deploy(args) => deploy::deploy(&ctx, args).await,
        Command::Ship(args) => deploy::ship(&ctx, args).await,
        Command::Watch(args) => deploy::watch(&ctx, args).await,
        Command::Rollback(args) => deploy::rollback(&ctx, args).await,
        Command::Status(args) => deploy::status(&ctx, args).await,
        Command::Init(args) => init::run(&ctx, args).await,
        Command::Release(c) => release::run(&ctx, c).await,
        Command::Ledger(c) => ledger::run(&ctx, c).await,
        Command::Incident(c) => incident::run(&ctx, c).await,
        Command::Dora(args) => dora::run(&ctx, args).await,
        Command::Mcp(args) => mcp::run(&ctx, args).await,
        Command::Monitor(args) => monitor::run(&ctx, args).await,
        Command::Completions(args) => completions::run(args),
        Command::Man => completions::man(),
        Command::ServeReference(args) => serve_reference::run(&ctx, args).await,
        Command::ProcessLog(args) => process_log::run(args),
    }
}
