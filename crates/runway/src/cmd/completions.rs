//! `runway completions <shell>` and `runway man`: generated from the same clap
//! definition as the parser, so they cannot drift from it.

use std::io::Write;

use runway_core::Exit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to generate completions for.
    pub shell: clap_complete::Shell,
}

/// `cli` is the whole command line's definition (`Cli::command()`).
pub fn run(args: Args, mut cmd: clap::Command) -> anyhow::Result<Exit> {
    // Generated into memory: clap_complete panics on a write error, and stdout may be a closed pipe.
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "runway", &mut out);
    std::io::stdout().lock().write_all(&out)?;
    Ok(Exit::Success)
}

pub fn man(cli: clap::Command) -> anyhow::Result<Exit> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cli).render(&mut out)?;
    std::io::stdout().lock().write_all(&out)?;
    Ok(Exit::Success)
}
