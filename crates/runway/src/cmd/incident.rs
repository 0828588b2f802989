//! `runway incident` (being built; see the issue that owns it).

use runway_core::Exit;

use super::Ctx;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Placeholder until the subcommands land.
    Status,
}

pub async fn run(_ctx: &Ctx, _cmd: Command) -> anyhow::Result<Exit> {
    Err(crate::error::usage(
        "`runway incident` is not available in this build yet",
    ))
}
