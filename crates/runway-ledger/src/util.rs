//! Small helpers of the provided [`crate::Ledger`] methods.

use crate::{Kind, LedgerError, Result};

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
