//! How errors reach the user: `error:`, `Caused by:` and `hint:` on stderr, and an exit code.
//!
//! Usage and configuration problems exit 2; anything unexpected exits 3.

use std::fmt;

use runway_core::Exit;

/// An error the user caused and can fix (bad flag combination, missing file, bad config).
#[derive(Debug)]
pub struct UsageError {
    pub message: String,
    pub hint: Option<String>,
}

impl UsageError {
    pub fn new(message: impl Into<String>) -> Self {
        UsageError {
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UsageError {}

/// Shorthand for returning a usage error from a command.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError::new(message).into()
}

/// Prints `err` and picks its exit code.
pub fn report(err: &anyhow::Error) -> Exit {
    use std::io::Write;
    let mut out = anstream::stderr();
    let _ = writeln!(out, "{} {}", crate::term::error_label(), err);
    for cause in err.chain().skip(1) {
        let _ = writeln!(out, "  Caused by: {cause}");
    }
    let usage = err.chain().find_map(|e| e.downcast_ref::<UsageError>());
    if let Some(hint) = usage.and_then(|u| u.hint.as_deref()) {
        let _ = writeln!(out, "{} {hint}", crate::term::hint_label());
    }
    let is_config = err
        .chain()
        .any(|e| e.downcast_ref::<runway_config::ConfigError>().is_some());
    if usage.is_some() || is_config {
        Exit::Usage
    } else {
        Exit::Internal
    }
}
