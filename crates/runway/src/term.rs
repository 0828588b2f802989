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

/// A value that came from a user or a server (a version, title, operator,
/// message), made safe for a human-readable line: control characters (ANSI
/// escapes, newlines, carriage returns, tabs) and the bidirectional-text
/// controls are written as escapes (`\n`, `\u{1b}`), so a value cannot
/// recolour the terminal, move the cursor or split a row. Every renderer
/// under `cmd/` passes such values through here; JSON and CSV output do not
/// need it (they quote their own way).
pub fn shown(s: &str) -> std::borrow::Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// [`shown`] for a text that is several lines by design (a run's message):
/// its line breaks stay, every other control character is escaped.
pub fn shown_text(s: &str) -> String {
    s.split('\n').map(shown).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::{shown, shown_text};

    #[test]
    fn a_multi_line_text_keeps_its_lines_only() {
        assert_eq!(shown_text("a\u{1b}[2J\nb\r"), "a\\u{1b}[2J\nb\\r");
    }

    #[test]
    fn control_characters_are_escaped_and_plain_text_is_untouched() {
        assert_eq!(shown("1.2.3 ünïcode ✓"), "1.2.3 ünïcode ✓");
        assert!(matches!(shown("plain"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(
            shown("v1\u{1b}[31mred\nnext\r\tx\u{7f}\u{9b}"),
            "v1\\u{1b}[31mred\\nnext\\r\\tx\\u{7f}\\u{9b}"
        );
        assert_eq!(shown("a\u{202e}b"), "a\\u{202e}b");
    }
}
