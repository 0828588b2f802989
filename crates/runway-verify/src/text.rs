//! How numbers, durations and a server's own words read in a report line.
//!
//! `docs/report-schema.md` promises that a check's `message` is one line of
//! English: "1 tool", not "1 tools"; "40 ms", not "0.0 s"; and a server's
//! multi-line error folded onto one line, its whole text kept in evidence.

use runway_core::CheckResult;

/// `n` and the noun, singular for one: `count(1, "tool")` is `1 tool`.
/// Nouns here take a plain `s` (tool, schema, page, request, resource, prompt).
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A duration for a message: milliseconds below a second, else seconds with
/// one decimal (`40 ms`, `1.5 s`).
pub fn duration(d: std::time::Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// `text` on one line: every line trimmed, blank ones dropped, the rest joined with ` / `.
pub fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ")
}

/// The longest message a check shows, in characters: a server's error text
/// quoted in it (a pydantic validation dump runs to kilobytes) is cut, and
/// kept whole in the evidence.
pub const MAX_MESSAGE_CHARS: usize = 300;

/// Folds a multi-line `message` onto one line and cuts one longer than
/// [`MAX_MESSAGE_CHARS`]; the whole text goes to `evidence.details.message`
/// (kept there if a check already put it there).
pub fn fold_message(c: &mut CheckResult) {
    if !c.message.contains(['\n', '\r']) && c.message.chars().count() <= MAX_MESSAGE_CHARS {
        return;
    }
    let whole = std::mem::take(&mut c.message);
    let line = one_line(&whole);
    // The head and the tail: what the check saw starts it, what it expected
    // ends it (`..., expected -32600`).
    let chars: Vec<char> = line.chars().collect();
    c.message = if chars.len() > MAX_MESSAGE_CHARS {
        let head: String = chars[..MAX_MESSAGE_CHARS - 80].iter().collect();
        let tail: String = chars[chars.len() - 80..].iter().collect();
        format!("{head} …[cut; whole in the evidence]… {tail}")
    } else {
        line
    };
    match &mut c.evidence.details {
        serde_json::Value::Object(m) => {
            m.entry("message")
                .or_insert(serde_json::Value::String(whole));
        }
        serde_json::Value::Null => {
            c.evidence.details = serde_json::json!({ "message": whole });
        }
        other => {
            let kept = other.take();
            c.evidence.details = serde_json::json!({ "message": whole, "details": kept });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_message_is_cut_and_kept_whole_in_the_evidence() {
        let long = format!(
            "JSON-RPC error -32602 ({}), expected -32600",
            "x".repeat(2000)
        );
        let mut c = CheckResult::warn("mcp.errors.invalid_request", long.clone(), "h");
        fold_message(&mut c);
        assert!(
            c.message.chars().count() < MAX_MESSAGE_CHARS + 80,
            "{}",
            c.message
        );
        assert!(c.message.contains("cut"), "{}", c.message);
        assert!(c.message.ends_with("expected -32600"), "{}", c.message);
        assert_eq!(c.evidence.details["message"], long.as_str());
    }

    #[test]
    fn counts_durations_and_lines_read_as_english() {
        assert_eq!(count(1, "tool"), "1 tool");
        assert_eq!(count(0, "tool"), "0 tools");
        assert_eq!(count(16, "schema"), "16 schemas");
        assert_eq!(duration(std::time::Duration::from_millis(40)), "40 ms");
        assert_eq!(duration(std::time::Duration::from_millis(1500)), "1.5 s");
        let mut c = CheckResult::fail("mcp.call.x", "failed: line one\n  line two\r\n", "h");
        fold_message(&mut c);
        assert_eq!(c.message, "failed: line one / line two");
        assert_eq!(
            c.evidence.details["message"],
            "failed: line one\n  line two\r\n"
        );
    }
}
