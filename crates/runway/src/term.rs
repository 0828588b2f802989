//! Terminal styling. Colour only when the stream is a terminal and `NO_COLOR` is unset
//! (anstream strips the escapes otherwise).

use owo_colors::OwoColorize;

pub fn error_label() -> String {
    "error:".red().bold().to_string()
}

pub fn hint_label() -> String {
    "hint:".cyan().bold().to_string()
}

/// True when stderr is a terminal and colour is wanted, for progress bars.
pub fn stderr_is_interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}
