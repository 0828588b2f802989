//! The export document (`runway ledger export`/`import`) and what an
//! imported record must be.

use crate::{EventKind, Kind, LedgerError, Record, Result};

/// The export document: every record with its full history.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Export {
    /// Always [`EXPORT_SCHEMA`].
    pub schema: String,
    pub records: Vec<Record>,
}

/// The identifier of the export format; bump the suffix on a breaking change.
pub const EXPORT_SCHEMA: &str = "runway.ledger/v1";

/// Records per transaction when importing: large enough that a commit's
/// fsync is amortised, small enough that a transaction stays short.
pub const IMPORT_BATCH: usize = 200;

/// An imported record must be whole: a `created` event first and, for a
/// verification, exactly as many check results as its summary counts.
pub(crate) fn validate_import(r: &Record) -> Result<()> {
    let bad = |why: &str| {
        Err(LedgerError::Invalid {
            what: format!("cannot import record `{}`: {why}", r.id),
        })
    };
    if !r.id.starts_with(r.kind.id_prefix())
        || !r.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return bad("its id does not match its kind");
    }
    if r.events.first().map(|e| e.kind) != Some(EventKind::Created) {
        return bad("its history does not start with a `created` event");
    }
    if r.kind == Kind::Verification {
        let v = r.verification()?;
        if v.summary.total() != r.checks.len() {
            return bad("its check results do not match its summary");
        }
    }
    Ok(())
}
