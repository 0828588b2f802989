//! Terminal styling. Colour only when stderr is a terminal and `NO_COLOR` is
//! unset (`CLICOLOR_FORCE=1` forces it, `NO_COLOR` still wins): the labels
//! are plain text otherwise, whichever writer prints them.

use owo_colors::OwoColorize;

/// Whether stderr wants colour, by anstream's rules (`NO_COLOR`, `CLICOLOR`,
/// `CLICOLOR_FORCE`, `TERM`, a terminal).
pub fn stderr_colour() -> bool {
    !matches!(
        anstream::AutoStream::choice(&std::io::stderr()),
        anstream::ColorChoice::Never
    )
}

pub fn error_label() -> String {
    if stderr_colour() {
        "error:".red().bold().to_string()
    } else {
        "error:".to_owned()
    }
}

pub fn hint_label() -> String {
    if stderr_colour() {
        "hint:".cyan().bold().to_string()
    } else {
        "hint:".to_owned()
    }
}

/// True when stderr is a terminal and colour is wanted, for progress bars.
pub fn stderr_is_interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

pub use runway_core::shown::{shown, shown_text};
