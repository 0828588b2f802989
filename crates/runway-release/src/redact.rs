//! What a gate prints and what git says on failure leave the process through
//! here: gate commands run with the user's environment, and test or publish
//! tools sometimes echo it.
//!
//! Its own module because both `git` and `plan` need it and neither should
//! import the other for it.

use std::sync::LazyLock;

use runway_core::{Redactor, Secret};

/// Names of environment variables whose values are treated as secrets.
const SECRET_NAME_PARTS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
    // Not bare `AUTH`: it would hide `GIT_AUTHOR_NAME` and friends.
    "AUTH_TOKEN",
    "_AUTH",
];

/// The user part of a URL: `https://user:token@host`.
static URL_CREDENTIALS: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"://[^/@\s]+@").expect("static regex"));

/// The secrets of this process's environment, read once per use.
#[derive(Debug)]
pub struct OutputRedactor {
    redactor: Redactor,
    longest: usize,
}

impl OutputRedactor {
    /// Every value of a secret-looking environment variable.
    pub fn from_env() -> OutputRedactor {
        let mut r = OutputRedactor::empty();
        for (k, v) in std::env::vars_os() {
            let k = k.to_string_lossy().to_ascii_uppercase();
            if SECRET_NAME_PARTS.iter().any(|p| k.contains(p)) {
                r.add(&v.to_string_lossy());
            }
        }
        r
    }

    /// No secrets known yet (URL credentials are still hidden).
    pub fn empty() -> OutputRedactor {
        OutputRedactor {
            redactor: Redactor::new(),
            longest: 0,
        }
    }

    /// Hides `value` too.
    pub fn add(&mut self, value: &str) {
        self.longest = self.longest.max(value.len());
        self.redactor.add(&Secret::new(value));
    }

    /// Hides every secret value and every URL's user part.
    pub fn redact(&self, text: &str) -> String {
        let text = self.redactor.redact(text);
        URL_CREDENTIALS
            .replace_all(&text, "://[redacted]@")
            .into_owned()
    }

    /// The longest secret, in bytes: how much of a cut-off text's start may be
    /// part of a secret that the cut made unrecognisable.
    pub fn longest_secret(&self) -> usize {
        self.longest
    }
}

/// Hides the values of secret-looking environment variables and the user
/// part of any URL (`https://user:token@host`) in `text`.
pub fn redact_output(text: &str) -> String {
    OutputRedactor::from_env().redact(text)
}
