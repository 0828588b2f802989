//! What the web reads and changes about alerts, behind a trait.
//!
//! The alert engine (runway-monitor) and its state in the ledger belong to
//! the monitor; the pages only need a view of the open alerts and the
//! notifiers, and two writes (acknowledge, silence). The binary wires the
//! real source in; [`NoAlerts`] stands in where none is configured.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One open (pending or firing) alert, as the pages show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertView {
    /// The id the write endpoints take.
    pub id: String,
    /// The rule's name (`error-rate`).
    pub name: String,
    pub environment: String,
    /// `critical`, `warning` or `info`.
    pub level: String,
    /// `pending` or `firing`.
    pub state: String,
    pub since: DateTime<Utc>,
    /// The value that made it fire (`error_rate 0.12`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silenced_until: Option<DateTime<Utc>>,
}

/// A notifier's delivery state: a failing one must be visible.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotifierView {
    pub name: String,
    /// `webhook`, `slack` or `alertmanager`.
    pub kind: String,
    /// Notifications stored and not yet delivered.
    pub pending: u64,
    /// Failed attempts since the last success.
    pub failures: u64,
    /// The last delivery error (redacted), while it is failing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_success: Option<DateTime<Utc>>,
}

/// Why a write on an alert did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("no open alert `{id}`")]
    NotFound { id: String },
    /// The store failed; the message is logged, never sent to a client.
    #[error("{0}")]
    Store(String),
}

#[async_trait]
pub trait AlertSource: Send + Sync {
    /// The pending and firing alerts, most severe first.
    async fn open_alerts(&self) -> Result<Vec<AlertView>, AlertError>;
    /// Every configured notifier's delivery state.
    async fn notifiers(&self) -> Result<Vec<NotifierView>, AlertError>;
    /// Marks an open alert acknowledged by `by`: it stays open, reminders stop.
    async fn acknowledge(&self, id: &str, by: &str) -> Result<AlertView, AlertError>;
    /// Mutes an open alert's notifications until `until`.
    async fn silence(
        &self,
        id: &str,
        until: DateTime<Utc>,
        by: &str,
    ) -> Result<AlertView, AlertError>;
}

/// No alert engine: nothing open, no notifier, every write a 404.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoAlerts;

#[async_trait]
impl AlertSource for NoAlerts {
    async fn open_alerts(&self) -> Result<Vec<AlertView>, AlertError> {
        Ok(Vec::new())
    }
    async fn notifiers(&self) -> Result<Vec<NotifierView>, AlertError> {
        Ok(Vec::new())
    }
    async fn acknowledge(&self, id: &str, _by: &str) -> Result<AlertView, AlertError> {
        Err(AlertError::NotFound { id: id.to_owned() })
    }
    async fn silence(
        &self,
        id: &str,
        _until: DateTime<Utc>,
        _by: &str,
    ) -> Result<AlertView, AlertError> {
        Err(AlertError::NotFound { id: id.to_owned() })
    }
}
