//! `runway serve-reference` (being built; see the issue that owns it).

use runway_core::Exit;

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(_ctx: &Ctx, _args: Args) -> anyhow::Result<Exit> {
    Err(crate::error::usage(
        "`runway serve-reference` is not available in this build yet",
    ))
}
