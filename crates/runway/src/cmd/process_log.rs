//! `runway process-log --file PATH --max-bytes N` (hidden): what the process
//! target runs beside a server, reading the server's stdout and stderr on
//! stdin, so its log under `.runway/process/` stays bounded after the
//! `runway` that deployed it has exited. It ends when the server closes its
//! output (it exits); it is in the server's process group, so stopping the
//! server stops it.

use std::path::PathBuf;

use runway_core::Exit;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, value_name = "PATH")]
    pub file: PathBuf,
    #[arg(long, value_name = "BYTES")]
    pub max_bytes: u64,
}

pub fn run(args: Args) -> anyhow::Result<Exit> {
    runway_deploy::process::keep_log(&args.file, args.max_bytes, std::io::stdin().lock())?;
    Ok(Exit::Success)
}
