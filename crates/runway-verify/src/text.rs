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

/// Folds a multi-line `message` onto one line; the whole text goes to
/// `evidence.details.message` (kept there if a check already put it there).
pub fn fold_message(c: &mut CheckResult) {
    if !c.message.contains(['\n', '\r']) {
        return;
    }
    let whole = std::mem::take(&mut c.message);
    c.message = one_line(&whole);
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
