//! Errors of the release library, each carrying what a user needs to fix it:
//! the file and line, the git state, or the two ways out.

use std::path::PathBuf;

/// Something stopped a release operation.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("failed to read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to write `{}`: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A version file that does not parse; line and column are 1-based.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Malformed {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A version file that parses but has no version where one was expected.
    #[error("`{}`: {message}", path.display())]
    NoVersion { path: PathBuf, message: String },
    /// A version string that is not SemVer 2.0.0.
    #[error("`{}`{}: `{version}` is not a SemVer 2.0.0 version ({reason})", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    BadVersion {
        path: PathBuf,
        line: Option<usize>,
        version: String,
        reason: String,
    },
    /// A bump that cannot be made (going backwards, leaving a pre-release line for an earlier one).
    #[error("{0}")]
    Bump(String),
    /// The repository is in a state the operation refuses (shallow, dirty, detached...).
    #[error("{message}")]
    Git {
        message: String,
        hint: Option<String>,
    },
    /// Reading the repository with gix failed.
    #[error("reading the git repository failed: {0}")]
    Repo(String),
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A bump found nothing to write the version into.
    #[error("no version file found{}", dynamic.as_ref().map(|d| format!(" (the version is dynamic: it lives in {d})")).unwrap_or_default())]
    NoVersionFile { dynamic: Option<String> },
    /// The changelog already has an entry for the version being written.
    #[error("`{}` already has an entry for `{version}`", path.display())]
    EntryExists { path: PathBuf, version: String },
}

impl ReleaseError {
    pub fn git(message: impl Into<String>) -> ReleaseError {
        ReleaseError::Git {
            message: message.into(),
            hint: None,
        }
    }

    pub fn git_hint(message: impl Into<String>, hint: impl Into<String>) -> ReleaseError {
        ReleaseError::Git {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
}

impl runway_core::Diagnostic for ReleaseError {
    fn hint(&self) -> Option<String> {
        match self {
            ReleaseError::Git { hint, .. } => hint.clone(),
            ReleaseError::NoVersionFile { .. } => Some(
                "name the file in `runway.toml`: `[[release.files]]` with `path` (and `regex` for a file Runway does not know)".into(),
            ),
            ReleaseError::EntryExists { .. } => {
                Some("edit it by hand, or remove it to have it written again".into())
            }
            _ => None,
        }
    }

    /// The user's files, flags or repository caused everything but a failure
    /// to read the repository at all.
    fn exit(&self) -> runway_core::Exit {
        match self {
            ReleaseError::Repo(_) => runway_core::Exit::Internal,
            _ => runway_core::Exit::Usage,
        }
    }
}

pub type Result<T, E = ReleaseError> = std::result::Result<T, E>;

/// 1-based line and column of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
