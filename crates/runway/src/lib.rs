//! The `runway` command line: argument parsing, wiring and output.
//!
//! This is the only crate that knows about argv, the terminal and exit codes.
//! Each subcommand lives in `cmd/<name>.rs` with its own `Args` and `run`.

/// `print!` that returns the I/O error instead of panicking when stdout is
/// closed; [`main_entry`] turns a broken pipe into a quiet exit 0.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)
    }};
}

/// `println!` that returns the I/O error instead of panicking (see [`out!`]).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

pub mod args;
pub mod cli;
pub mod cmd;
pub mod ctx;
pub mod error;
pub mod render;
pub mod term;

use std::process::ExitCode;

use clap::Parser;
use runway_core::Exit;

/// Parses argv, runs the command, prints any error, and returns the exit code.
/// This is the one place where a closed stdout (`runway ... | head`) becomes
/// success: [`error::report`] maps a broken pipe anywhere in the chain to 0.
pub fn main_entry() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                Exit::Usage.code()
            } else {
                Exit::Success.code()
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_tracing(cli.verbose);
    runway_verify::http::install_crypto_provider();
    let exit = match run(cli) {
        Ok(exit) => exit,
        Err(err) => error::report(&err),
    };
    ExitCode::from(exit.code())
}

fn run(cli: cli::Cli) -> anyhow::Result<Exit> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(cli.dispatch())
}

fn init_tracing(verbose: u8) {
    // rmcp logs every JSON-RPC error it sends or receives at warn; Runway provokes
    // those errors on purpose and reports them itself, so they stay quiet by default.
    let default = match verbose {
        0 => "warn,rmcp=error",
        1 => "info,runway=debug",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUNWAY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}
