//! Secrets that cannot leak by accident.
//!
//! A [`Secret`] prints as `[redacted]` through `Debug` and `Display`; the only
//! way to the value is [`Secret::expose`], which is easy to grep for. A
//! [`Redactor`] scrubs known secret values (and `Authorization` headers) from
//! any text that is about to leave the process: reports, logs, the ledger.

use std::fmt;

/// A token, password or key.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The raw value, for putting on the wire. Never format it into output.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Replaces every known secret value in a piece of text with `[redacted]`.
#[derive(Clone, Default)]
pub struct Redactor {
    values: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.values.len())
    }
}

/// Header names whose values are always hidden, whatever they hold.
pub const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

impl Redactor {
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Registers a secret. Values shorter than 4 characters are ignored: hiding
    /// every `a` in a report would make it unreadable and protect nothing.
    pub fn add(&mut self, secret: &Secret) {
        let v = secret.expose();
        if v.len() >= 4 && !self.values.iter().any(|x| x == v) {
            self.values.push(v.to_owned());
            // Longest first, so a secret that contains another is replaced whole.
            self.values.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "[redacted]");
            }
        }
        out
    }

    /// Redacts a header value, hiding sensitive headers entirely.
    pub fn redact_header(&self, name: &str, value: &str) -> String {
        if SENSITIVE_HEADERS
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name))
        {
            "[redacted]".to_owned()
        } else {
            self.redact(value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats_its_value() {
        let s = Secret::new("s3cr3t-token");
        assert_eq!(format!("{s}"), "[redacted]");
        assert!(!format!("{s:?}").contains("s3cr3t"));
        assert_eq!(s.expose(), "s3cr3t-token");
    }

    #[test]
    fn redactor_scrubs_values_and_sensitive_headers() {
        let mut r = Redactor::new();
        r.add(&Secret::new("abcd"));
        r.add(&Secret::new("abcdef"));
        r.add(&Secret::new("xy"));
        assert_eq!(
            r.redact("token=abcdef and abcd, xy"),
            "token=[redacted] and [redacted], xy"
        );
        assert_eq!(r.redact_header("Authorization", "Bearer zzz"), "[redacted]");
        assert_eq!(r.redact_header("x-echo", "abcd"), "[redacted]");
        assert_eq!(r.redact_header("content-type", "text/plain"), "text/plain");
    }
}
