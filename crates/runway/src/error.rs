//! How errors reach the user: `error:`, `Caused by:` and `hint:` on stderr, and an exit code.
//!
//! Every library error implements [`runway_core::Diagnostic`]. The reporter
//! walks an error's `source()` chain, finds the links that are one of the
//! known error types ([`diagnostic`], the one list), prints each link and every
//! hint, and exits 2 when a Diagnostic says the user caused it, 3 otherwise.
//! A closed stdout is not an error at all: the program ends quietly with 0.

use std::fmt;

use runway_core::{Diagnostic, Exit};

/// An error the user caused and can fix (bad flag combination, missing file).
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

impl Diagnostic for UsageError {
    fn hint(&self) -> Option<String> {
        self.hint.clone()
    }

    fn exit(&self) -> Exit {
        Exit::Usage
    }
}

/// Shorthand for returning a usage error from a command.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError::new(message).into()
}

/// The one list of error types that know their hints and exit codes. A
/// library whose error implements `Diagnostic` adds its type here.
pub fn diagnostic<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a dyn Diagnostic> {
    macro_rules! known {
        ($($t:ty),* $(,)?) => {
            $(if let Some(d) = e.downcast_ref::<$t>() {
                return Some(d);
            })*
        };
    }
    known!(
        UsageError,
        runway_config::ConfigError,
        runway_config::TokenError,
        runway_deploy::DeployError,
        runway_ledger::LedgerError,
        runway_mcp::ServeError,
        runway_mcp::OpError,
        runway_monitor::MonitorError,
        runway_reference::ReferenceError,
        runway_release::ReleaseError,
        runway_runbook::RunbookError,
        runway_verify::EnvironmentError,
        runway_verify::SurfaceSourceError,
        runway_verify::context::SettingsError,
        runway_verify::http::FetchError,
        runway_verify::mcp::wire::DecodeError,
        runway_verify::mcp::SurfaceError,
    );
    None
}

/// Whether the error is only that stdout was closed (`runway ... | head`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    let pipe = Some(std::io::ErrorKind::BrokenPipe);
    err.chain().any(|e| {
        // serde_json's writers wrap the I/O error and do not give it as a source.
        e.downcast_ref::<std::io::Error>().map(std::io::Error::kind) == pipe
            || e.downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == pipe
    })
}

/// What the user sees of `err`: its message, its causes and every hint.
pub fn render(err: &anyhow::Error) -> (String, Exit) {
    let mut text = format!("{} {err}\n", crate::term::error_label());
    for cause in err.chain().skip(1) {
        text.push_str(&format!("  Caused by: {cause}\n"));
    }
    let mut exit = Exit::Internal;
    for d in err.chain().filter_map(diagnostic) {
        if let Some(hint) = d.hint() {
            text.push_str(&format!("{} {hint}\n", crate::term::hint_label()));
        }
        if d.exit() == Exit::Usage {
            exit = Exit::Usage;
        }
    }
    (text, exit)
}

/// Prints `err` on stderr and picks its exit code; a closed stdout is success.
pub fn report(err: &anyhow::Error) -> Exit {
    use std::io::Write;
    if is_broken_pipe(err) {
        return Exit::Success;
    }
    let (text, exit) = render(err);
    let _ = anstream::stderr().write_all(text.as_bytes());
    exit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(err: &anyhow::Error) -> (String, Exit) {
        let (text, exit) = render(err);
        (anstream::adapter::strip_str(&text).to_string(), exit)
    }

    #[test]
    fn a_config_error_under_context_keeps_its_location_hint_and_exit_2() {
        let e = runway_config::ConfigError::MissingEnv {
            path: "/p/runway.toml".into(),
            field: "ledger.url".into(),
            var: "DB".into(),
        };
        let err = anyhow::Error::new(e).context("cannot open the ledger");
        let (text, exit) = plain(&err);
        assert_eq!(exit, Exit::Usage);
        assert!(
            text.starts_with("error: cannot open the ledger\n"),
            "{text}"
        );
        assert!(
            text.contains("  Caused by: /p/runway.toml: environment variable `DB`"),
            "{text}"
        );
        assert!(
            text.contains("hint: export `DB`, or remove the reference"),
            "{text}"
        );
    }

    #[test]
    fn a_database_failure_is_internal_and_a_missing_record_is_usage() {
        let db = runway_ledger::LedgerError::Database {
            url: "sqlite://x".into(),
            action: "reading",
            message: "disk I/O error".into(),
        };
        assert_eq!(plain(&db.into()).1, Exit::Internal);
        let nf = runway_ledger::LedgerError::NotFound { id: "rel_1".into() };
        let (text, exit) = plain(&nf.into());
        assert_eq!(exit, Exit::Usage);
        assert!(
            text.contains("hint: `runway ledger list` shows the ids"),
            "{text}"
        );
    }

    #[test]
    fn every_hint_in_the_chain_is_printed() {
        let inner = runway_config::TokenError::Empty {
            var: "T".into(),
            origin: "`--token-env`".into(),
        };
        let outer = runway_verify::EnvironmentError::from(inner);
        let err = anyhow::Error::new(outer).context(format!("verifying `{}`", "prod"));
        let (text, exit) = plain(&err);
        assert_eq!(exit, Exit::Usage);
        assert!(text.starts_with("error: verifying `prod`\n"), "{text}");
        assert!(
            text.contains("hint: export `T` with the bearer token"),
            "{text}"
        );
    }

    #[test]
    fn an_unknown_error_is_internal() {
        let (text, exit) = plain(&anyhow::anyhow!("boom"));
        assert_eq!((text.as_str(), exit), ("error: boom\n", Exit::Internal));
    }

    struct BrokenWriter;

    impl std::io::Write for BrokenWriter {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn only_a_broken_pipe_counts_as_a_closed_stdout() {
        let pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(is_broken_pipe(&anyhow::Error::new(pipe).context("writing")));
        let json = serde_json::to_writer(BrokenWriter, &[1, 2, 3]).unwrap_err();
        assert!(is_broken_pipe(&anyhow::Error::new(json)));
        let other = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert!(!is_broken_pipe(&anyhow::Error::new(other)));
    }
}
