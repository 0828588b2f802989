//! `runway release`: status, bump, changelog, check and hotfix.

use runway_core::Exit;
use runway_release::ReleaseError;

use super::Ctx;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Placeholder until the subcommands land.
    Status,
}

/// Turns a library error into what the binary reports: the user's problems
/// (bad file, repository state) exit 2 with their hint; the rest exit 3.
pub(crate) fn lift(e: ReleaseError) -> anyhow::Error {
    if e.is_user_error() {
        let mut u = crate::error::UsageError::new(e.to_string());
        if let Some(h) = e.hint() {
            u = u.with_hint(h);
        }
        u.into()
    } else {
        e.into()
    }
}

pub async fn run(_ctx: &Ctx, _cmd: Command) -> anyhow::Result<Exit> {
    Err(crate::error::usage(
        "`runway release` is not available in this build yet",
    ))
}
