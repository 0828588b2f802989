//! Text that came from a user or a server, made safe for a terminal line.

use std::borrow::Cow;

fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A value that came from a user or a server (a version, title, operator,
/// a tool name, a server's message), made safe for a human-readable line:
/// control characters (ANSI escapes, newlines, carriage returns, tabs) and
/// the bidirectional-text controls are written as escapes (`\n`,
/// `\u{1b}`), so a value cannot recolour the terminal, move the cursor or
/// split a row. JSON, JUnit and CSV output quote their own way and do not
/// need it.
pub fn shown(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
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
    Cow::Owned(out)
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
