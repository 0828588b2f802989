//! The record filter and small helpers of the provided [`crate::Ledger`] methods.

use chrono::{DateTime, Utc};

use crate::{Kind, LedgerError, Result};

/// Which records to read. Every field narrows the selection; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub id: Option<String>,
    pub kind: Option<Kind>,
    pub environment: Option<String>,
    pub version: Option<String>,
    pub ref_id: Option<String>,
    /// Created at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Created before this time.
    pub until: Option<DateTime<Utc>>,
}

/// A new record id: the kind's prefix and 12 hex digits.
pub(crate) fn new_id(kind: Kind) -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("{}-{}", kind.id_prefix(), &hex[..12])
}

/// A record's body as JSON.
pub(crate) fn to_body<T: serde::Serialize>(value: &T) -> Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| LedgerError::Invalid {
        what: format!("cannot encode a ledger record: {e}"),
    })
}
