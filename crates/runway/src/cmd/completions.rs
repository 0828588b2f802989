//! `runway completions <shell>` and `runway man`: generated from the same clap
//! definition as the parser, so they cannot drift from it.

use std::io::Write;

use clap::CommandFactory;
use runway_core::Exit;

use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to generate completions for.
    pub shell: clap_complete::Shell,
}

pub fn run(args: Args) -> anyhow::Result<Exit> {
    let mut cmd = Cli::command();
    // Generated into memory: clap_complete panics on a write error, and stdout may be a closed pipe.
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "runway", &mut out);
    std::io::stdout().lock().write_all(&out)?;
    Ok(Exit::Success)
}

pub fn man() -> anyhow::Result<Exit> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    std::io::stdout().lock().write_all(&out)?;
    Ok(Exit::Success)
}
