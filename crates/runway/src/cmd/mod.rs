//! One module per subcommand; `Cli::dispatch` (in `cli.rs`) routes to them.

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
mod release_post;
mod release_steps;
pub mod serve_reference;
pub mod triage;
pub mod verify;

pub use crate::ctx::{Ctx, LedgerOpt};
