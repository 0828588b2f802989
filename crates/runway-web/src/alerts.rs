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

/// The alert engine's state as the ledger holds it (migration 0004): open
/// instances, notifier health, and the acknowledge and silence writes.
pub struct LedgerAlerts {
    ledger: std::sync::Arc<dyn runway_ledger::Ledger>,
    /// Every configured notifier's name and type; one never attempted is
    /// shown healthy with nothing pending.
    notifiers: std::collections::BTreeMap<String, String>,
}

impl LedgerAlerts {
    pub fn new(
        ledger: std::sync::Arc<dyn runway_ledger::Ledger>,
        notifiers: std::collections::BTreeMap<String, String>,
    ) -> LedgerAlerts {
        LedgerAlerts { ledger, notifiers }
    }

    fn store(e: runway_ledger::LedgerError) -> AlertError {
        AlertError::Store(e.to_string())
    }

    /// The open instance `id`, or `NotFound` (an unknown, malformed or resolved id).
    async fn open_one(&self, id: &str) -> Result<runway_ledger::AlertRecord, AlertError> {
        let not_found = || AlertError::NotFound { id: id.to_owned() };
        let n: i64 = id.trim().parse().map_err(|_| not_found())?;
        match self.ledger.alert(n).await {
            Ok(a) if a.is_open() => Ok(a),
            Ok(_) | Err(runway_ledger::LedgerError::NotFound { .. }) => Err(not_found()),
            Err(e) => Err(Self::store(e)),
        }
    }
}

fn level_rank(level: &str) -> u8 {
    match level {
        "critical" => 0,
        "warning" => 1,
        "info" => 2,
        _ => 3,
    }
}

/// What the pages show of a stored alert instance.
pub fn view(a: &runway_ledger::AlertRecord) -> AlertView {
    AlertView {
        id: a.id.to_string(),
        name: a.rule.clone(),
        environment: a.environment.clone(),
        level: a.level.clone(),
        state: a.state.as_str().to_owned(),
        since: a.fired_at.unwrap_or(a.started_at),
        value: Some(match a.last_value {
            Some(v) => format!("{} (value {})", a.condition, (v * 1000.0).round() / 1000.0),
            None => a.condition.clone(),
        }),
        acknowledged_by: a.acknowledged_by.clone(),
        silenced_until: a.silenced_until,
    }
}

#[async_trait]
impl AlertSource for LedgerAlerts {
    async fn open_alerts(&self) -> Result<Vec<AlertView>, AlertError> {
        let mut open: Vec<AlertView> = self
            .ledger
            .open_alerts()
            .await
            .map_err(Self::store)?
            .iter()
            .map(view)
            .collect();
        open.sort_by(|a, b| {
            level_rank(&a.level)
                .cmp(&level_rank(&b.level))
                .then(a.since.cmp(&b.since))
        });
        Ok(open)
    }

    async fn notifiers(&self) -> Result<Vec<NotifierView>, AlertError> {
        let states = self.ledger.notifier_states().await.map_err(Self::store)?;
        let mut out: Vec<NotifierView> = states
            .iter()
            .map(|s| NotifierView {
                name: s.notifier.clone(),
                kind: self
                    .notifiers
                    .get(&s.notifier)
                    .cloned()
                    .unwrap_or_else(|| "unknown".to_owned()),
                pending: u64::try_from(s.pending).unwrap_or(0),
                failures: u64::try_from(s.consecutive_failures).unwrap_or(0),
                last_error: s.is_failing().then(|| s.last_error.clone()).flatten(),
                last_success: s.last_success_at,
            })
            .collect();
        for (name, kind) in &self.notifiers {
            if !out.iter().any(|n| &n.name == name) {
                out.push(NotifierView {
                    name: name.clone(),
                    kind: kind.clone(),
                    pending: 0,
                    failures: 0,
                    last_error: None,
                    last_success: None,
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn acknowledge(&self, id: &str, by: &str) -> Result<AlertView, AlertError> {
        let a = self.open_one(id).await?;
        self.ledger
            .acknowledge_alert(a.id, by)
            .await
            .map_err(Self::store)?;
        let a = self.ledger.alert(a.id).await.map_err(Self::store)?;
        Ok(view(&a))
    }

    async fn silence(
        &self,
        id: &str,
        until: DateTime<Utc>,
        _by: &str,
    ) -> Result<AlertView, AlertError> {
        let a = self.open_one(id).await?;
        self.ledger
            .silence_alert(a.id, Some(until))
            .await
            .map_err(Self::store)?;
        let a = self.ledger.alert(a.id).await.map_err(Self::store)?;
        Ok(view(&a))
    }
}
