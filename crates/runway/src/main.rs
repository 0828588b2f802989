//! The `runway` binary: everything lives in the library; this only maps the outcome to a process exit code.

fn main() -> std::process::ExitCode {
    runway::main_entry()
}
