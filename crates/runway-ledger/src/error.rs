//! [`LedgerError`]: everything that can go wrong with a ledger, and how the
//! CLI renders it (a hint, and whether it is the user's mistake).

use chrono::{DateTime, Utc};

use crate::{IncidentStatus, Kind};

/// Everything that can go wrong with a ledger. Messages name the ledger by its
/// URL without the password.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("invalid ledger URL `{url}`: {reason}")]
    Url { url: String, reason: String },
    #[error("cannot open the ledger at `{url}`: {message}")]
    Connect { url: String, message: String },
    /// A SQLite ledger that does not exist, named somewhere other than the
    /// project's own `.runway/ledger.db`: most likely a typo, so it is not
    /// created behind the user's back.
    #[error("there is no ledger at `{}`", path.display())]
    Missing { path: std::path::PathBuf },
    /// No space left where the ledger is written.
    #[error(
        "disk full: the ledger at `{url}` could not be written while {action}; {place} has no space left"
    )]
    DiskFull {
        url: String,
        action: &'static str,
        place: String,
    },
    #[error("the ledger at `{url}` failed while {action}: {message}")]
    Database {
        url: String,
        action: &'static str,
        message: String,
    },
    #[error(
        "the ledger at `{url}` has schema version {found}, but this Runway ({runway}) knows only up to {known}: it was written by a newer Runway; upgrade `runway` to use it"
    )]
    NewerSchema {
        url: String,
        found: i64,
        known: i64,
        runway: &'static str,
    },
    #[error("no record `{id}` in the ledger")]
    NotFound { id: String },
    #[error("`{prefix}` matches more than one record ({matches}); give more of the id")]
    Ambiguous { prefix: String, matches: String },
    #[error("record `{id}` is a {found}, not a {expected}")]
    WrongKind {
        id: String,
        expected: Kind,
        found: Kind,
    },
    #[error(
        "incident `{id}` is `{from}`; it cannot become `{to}` (the timeline only moves forward: detected → acknowledged → mitigated → resolved → closed, and only a resolved incident can be closed)"
    )]
    IllegalTransition {
        id: String,
        from: IncidentStatus,
        to: IncidentStatus,
    },
    #[error("deployment `{id}` already ended as `{outcome}`")]
    AlreadyEnded { id: String, outcome: String },
    #[error(
        "`{environment}` is being deployed by {holder} (since {acquired_at}); its lock expires at {expires_at} unless renewed"
    )]
    Locked {
        environment: String,
        holder: String,
        acquired_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    },
    #[error(
        "the deploy lock on `{environment}` held by {holder} was lost: it expired and was taken over"
    )]
    LockLost { environment: String, holder: String },
    #[error("record `{id}` is already in the ledger")]
    Duplicate { id: String },
    #[error("{what}")]
    Invalid { what: String },
    #[error("the ledger holds unreadable data: {what}")]
    Corrupt { what: String },
}

impl runway_core::Diagnostic for LedgerError {
    fn hint(&self) -> Option<String> {
        match self {
            LedgerError::NotFound { .. } => Some("`runway ledger list` shows the ids".into()),
            LedgerError::NewerSchema { .. } => {
                Some("install the newer `runway` that wrote this ledger".into())
            }
            LedgerError::Url { .. } => Some(
                "pass `--ledger sqlite://PATH` or `--ledger postgres://USER@HOST:PORT/DB`".into(),
            ),
            LedgerError::Locked { environment, .. } => Some(format!(
                "wait for that deployment to finish (`runway status {environment}` shows it); a crashed holder's lock lapses at its expiry"
            )),
            LedgerError::DiskFull { place, .. } => Some(format!(
                "free space on {place}; what was written before stays readable (`runway ledger show`, `runway status ENV`)"
            )),
            LedgerError::Missing { path } => Some(format!(
                "check `--ledger`, `RUNWAY_LEDGER_URL` or `[ledger] url`; to start a new ledger there, run `runway ledger init sqlite://{}`",
                path.display()
            )),
            LedgerError::LockLost { .. } => Some(
                "the deployment paused longer than its lock's time to live; check what now runs there before deploying again".into(),
            ),
            _ => None,
        }
    }

    /// The user's mistakes (an unknown id, an illegal move, bad input, a newer
    /// ledger) are usage errors; a database that fails is not.
    fn exit(&self) -> runway_core::Exit {
        match self {
            LedgerError::Connect { .. }
            | LedgerError::DiskFull { .. }
            | LedgerError::Database { .. }
            | LedgerError::Corrupt { .. } => runway_core::Exit::Internal,
            _ => runway_core::Exit::Usage,
        }
    }
}
