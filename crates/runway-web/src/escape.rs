//! The one escape every page and chart uses for text that did not come from Runway.

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes text for one path segment of a link (every byte but
/// the unreserved ones of RFC 3986), so a name cannot leave its segment.
pub fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_segment_keeps_unreserved_bytes_only() {
        assert_eq!(path_segment("eu-west_1.prod~x"), "eu-west_1.prod~x");
        assert_eq!(
            path_segment("a/b?c#d \"é\""),
            "a%2Fb%3Fc%23d%20%22%C3%A9%22"
        );
    }
}
