//! `runway monitor`'s alert state and notification outbox.
//!
//! An [`AlertRecord`] is one alert instance: a rule on an environment, from
//! the first evaluation its condition held (`pending`) through `firing` to
//! `resolved`. The database keeps at most one open instance per fingerprint
//! (a partial unique index), so a restarted or second monitor cannot open a
//! duplicate. Every notification goes through the outbox first, written in
//! the same transaction as the state change that caused it
//! ([`crate::Ledger::save_alert`]): a notifier that is down delays a
//! notification, a crash between deciding and sending cannot lose one, and
//! its `dedup_key` makes enqueueing it twice a no-op. Delivery is recorded
//! per attempt ([`crate::Ledger::record_delivery`]), with the notifier's
//! health in `notifier_state` ([`crate::Ledger::notifier_states`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::monitor::{from_us, to_us};

/// Where an alert instance is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// The condition holds, but not yet for `failure_threshold` evaluations.
    Pending,
    /// The alert fired (and stays so until `success_threshold` clear evaluations).
    Firing,
    /// Closed: it cleared, or it never fired.
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<AlertState> {
        [
            AlertState::Pending,
            AlertState::Firing,
            AlertState::Resolved,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

impl std::fmt::Display for AlertState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// 0 until stored; [`crate::Ledger::save_alert`] returns the id.
    pub id: i64,
    /// The dedup key: the same rule on the same environment.
    pub fingerprint: String,
    /// The rule's `name`.
    pub rule: String,
    pub environment: String,
    /// `critical`, `warning` or `info`.
    pub level: String,
    pub state: AlertState,
    /// The rule's `when`, as written.
    pub condition: String,
    /// The first evaluation the condition held.
    pub started_at: DateTime<Utc>,
    pub fired_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The latest evaluation.
    pub evaluated_at: DateTime<Utc>,
    /// The measure's value at the latest evaluation (a ratio, ms, days, seconds).
    pub last_value: Option<f64>,
    /// Evaluations in a row the condition held.
    pub hits: i64,
    /// Evaluations in a row it did not hold (while firing).
    pub clears: i64,
    /// When a firing or reminder notification was last queued.
    pub notified_at: Option<DateTime<Utc>>,
    /// A maintenance window, a rule's mute or a silence holds its notifications back.
    pub muted: bool,
    /// What broke, as the last evaluation saw it (redacted).
    pub message: Option<String>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// No notification is sent for it before this time.
    pub silenced_until: Option<DateTime<Utc>>,
}

impl AlertRecord {
    pub fn is_open(&self) -> bool {
        self.state != AlertState::Resolved
    }
}

/// Why a notification is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyEvent {
    Firing,
    /// Still firing: the rule's `reminder` passed.
    Reminder,
    Resolved,
}

impl NotifyEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyEvent::Firing => "firing",
            NotifyEvent::Reminder => "reminder",
            NotifyEvent::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<NotifyEvent> {
        [
            NotifyEvent::Firing,
            NotifyEvent::Reminder,
            NotifyEvent::Resolved,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// A notification to queue with a state change.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub notifier: String,
    pub event: NotifyEvent,
    /// Unique per notification: queueing the same key again does nothing.
    pub dedup_key: String,
    /// What the notifier renders (the alert as it was), redacted on the way in.
    pub payload: serde_json::Value,
}

/// A queued notification.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: i64,
    pub alert_id: i64,
    pub notifier: String,
    pub event: NotifyEvent,
    pub dedup_key: String,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The result of one delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    Sent {
        at: DateTime<Utc>,
    },
    /// Failed at `at` (the error redacted on the way in); try again at `retry_at`.
    Failed {
        at: DateTime<Utc>,
        error: String,
        retry_at: DateTime<Utc>,
    },
}

/// A notifier's delivery health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotifierState {
    pub notifier: String,
    /// Notifications queued and not yet delivered.
    pub pending: i64,
    /// The oldest of those, when it was queued.
    pub oldest_pending_at: Option<DateTime<Utc>>,
    pub attempts: i64,
    pub sent: i64,
    pub failures: i64,
    /// Failed attempts since the last success; 0 means healthy.
    pub consecutive_failures: i64,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// The latest failure's message (redacted; never a URL with its secret).
    pub last_error: Option<String>,
}

impl NotifierState {
    /// The last attempt failed.
    pub fn is_failing(&self) -> bool {
        self.consecutive_failures > 0
    }
}

/// What [`crate::Ledger::prune_alerts`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertPruneStats {
    pub notifications: u64,
    pub alerts: u64,
}

const COLUMNS: &str = "id, fingerprint, rule, environment, level, state, condition, started_us, \
    fired_us, resolved_us, evaluated_us, last_value, hits, clears, notified_us, muted, message, \
    acked_by, acked_us, silenced_until_us";

pub(crate) const INSERT_ALERT: &str = "INSERT INTO alerts (fingerprint, rule, environment, level, \
    state, condition, started_us, fired_us, resolved_us, evaluated_us, last_value, hits, clears, \
    notified_us, muted, message, acked_by, acked_us, silenced_until_us) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
    RETURNING id";

/// Acknowledgement and silence are the web's to set: the engine's update leaves them alone.
pub(crate) const UPDATE_ALERT: &str = "UPDATE alerts SET fingerprint = $1, rule = $2, \
    environment = $3, level = $4, state = $5, condition = $6, started_us = $7, fired_us = $8, \
    resolved_us = $9, evaluated_us = $10, last_value = $11, hits = $12, clears = $13, \
    notified_us = $14, muted = $15, message = $16 WHERE id = $17";

pub(crate) fn select_open() -> String {
    format!("SELECT {COLUMNS} FROM alerts WHERE state <> 'resolved' ORDER BY started_us, id")
}

pub(crate) fn select_since() -> String {
    format!(
        "SELECT {COLUMNS} FROM alerts WHERE state <> 'resolved' OR resolved_us >= $1 \
         ORDER BY started_us, id"
    )
}

pub(crate) fn select_one() -> String {
    format!("SELECT {COLUMNS} FROM alerts WHERE id = $1")
}

pub(crate) const ACK_ALERT: &str = "UPDATE alerts SET acked_by = $1, acked_us = $2 WHERE id = $3";

pub(crate) const SILENCE_ALERT: &str = "UPDATE alerts SET silenced_until_us = $1 WHERE id = $2";

pub(crate) const INSERT_NOTIFICATION: &str = "INSERT INTO alert_outbox (alert_id, notifier, \
    event, dedup_key, payload, created_us, attempts, next_attempt_us) \
    VALUES ($1, $2, $3, $4, $5, $6, 0, $6) ON CONFLICT (dedup_key) DO NOTHING";

const OUTBOX_COLUMNS: &str = "id, alert_id, notifier, event, dedup_key, payload, created_us, \
    attempts, next_attempt_us, last_error, sent_us";

pub(crate) fn select_due() -> String {
    format!(
        "SELECT {OUTBOX_COLUMNS} FROM alert_outbox WHERE sent_us IS NULL AND next_attempt_us <= $1 \
         ORDER BY id LIMIT $2"
    )
}

/// Claims due rows (`$1` now, `$2` the limit) for `$3` microseconds by
/// moving their next attempt past the claim, so another worker skips them;
/// `{skip_locked}` is `FOR UPDATE SKIP LOCKED` on PostgreSQL.
pub(crate) fn claim_due() -> String {
    format!(
        "UPDATE alert_outbox SET next_attempt_us = $1 + $3 WHERE id IN (\
         SELECT id FROM alert_outbox WHERE sent_us IS NULL AND next_attempt_us <= $1 \
         ORDER BY id LIMIT $2 {{skip_locked}}) RETURNING {OUTBOX_COLUMNS}"
    )
}

/// Hands a claimed row back, due at `$2`.
pub(crate) const UNCLAIM: &str =
    "UPDATE alert_outbox SET next_attempt_us = $2 WHERE id = $1 AND sent_us IS NULL";

pub(crate) fn select_outbox() -> String {
    format!("SELECT {OUTBOX_COLUMNS} FROM alert_outbox WHERE alert_id = $1 ORDER BY id")
}

pub(crate) const MARK_SENT: &str = "UPDATE alert_outbox SET attempts = attempts + 1, sent_us = $1, last_error = NULL \
     WHERE id = $2 AND sent_us IS NULL";

pub(crate) const MARK_FAILED: &str = "UPDATE alert_outbox SET attempts = attempts + 1, last_error = $1, next_attempt_us = $2 \
     WHERE id = $3 AND sent_us IS NULL";

pub(crate) const NOTIFIER_SENT: &str = "INSERT INTO notifier_state (notifier, attempts, sent, \
    failures, consecutive_failures, last_attempt_us, last_success_us, last_error) \
    VALUES ($1, 1, 1, 0, 0, $2, $2, NULL) ON CONFLICT (notifier) DO UPDATE SET \
    attempts = notifier_state.attempts + 1, sent = notifier_state.sent + 1, \
    consecutive_failures = 0, last_attempt_us = excluded.last_attempt_us, \
    last_success_us = excluded.last_success_us";

pub(crate) const NOTIFIER_FAILED: &str = "INSERT INTO notifier_state (notifier, attempts, sent, \
    failures, consecutive_failures, last_attempt_us, last_success_us, last_error) \
    VALUES ($1, 1, 0, 1, 1, $2, NULL, $3) ON CONFLICT (notifier) DO UPDATE SET \
    attempts = notifier_state.attempts + 1, failures = notifier_state.failures + 1, \
    consecutive_failures = notifier_state.consecutive_failures + 1, \
    last_attempt_us = excluded.last_attempt_us, last_error = excluded.last_error";

pub(crate) const SELECT_NOTIFIERS: &str = "SELECT notifier, attempts, sent, failures, \
    consecutive_failures, last_attempt_us, last_success_us, last_error FROM notifier_state";

pub(crate) const SELECT_PENDING: &str = "SELECT notifier, COUNT(*), MIN(created_us) \
    FROM alert_outbox WHERE sent_us IS NULL GROUP BY notifier";

pub(crate) const PRUNE_OUTBOX: &str =
    "DELETE FROM alert_outbox WHERE sent_us IS NOT NULL AND sent_us < $1";

pub(crate) const PRUNE_ALERTS: &str = "DELETE FROM alerts WHERE state = 'resolved' \
    AND resolved_us < $1 AND NOT EXISTS (SELECT 1 FROM alert_outbox o WHERE o.alert_id = alerts.id)";

/// An `alerts` row as read.
pub(crate) type AlertRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    Option<f64>,
    i64,
    i64,
    Option<i64>,
    i64,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

pub(crate) fn decode_alert(r: AlertRow) -> crate::Result<AlertRecord> {
    let state = AlertState::parse(&r.5).ok_or_else(|| crate::LedgerError::Corrupt {
        what: format!("alert {} has an unknown state `{}`", r.0, r.5),
    })?;
    Ok(AlertRecord {
        id: r.0,
        fingerprint: r.1,
        rule: r.2,
        environment: r.3,
        level: r.4,
        state,
        condition: r.6,
        started_at: from_us(r.7),
        fired_at: r.8.map(from_us),
        resolved_at: r.9.map(from_us),
        evaluated_at: from_us(r.10),
        last_value: r.11,
        hits: r.12,
        clears: r.13,
        notified_at: r.14.map(from_us),
        muted: r.15 != 0,
        message: r.16,
        acknowledged_by: r.17,
        acknowledged_at: r.18.map(from_us),
        silenced_until: r.19.map(from_us),
    })
}

/// An `alert_outbox` row as read.
pub(crate) type OutboxRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<String>,
    Option<i64>,
);

pub(crate) fn decode_notification(r: OutboxRow) -> crate::Result<Notification> {
    let event = NotifyEvent::parse(&r.3).ok_or_else(|| crate::LedgerError::Corrupt {
        what: format!("notification {} has an unknown event `{}`", r.0, r.3),
    })?;
    let payload = serde_json::from_str(&r.5).map_err(|e| crate::LedgerError::Corrupt {
        what: format!("notification {} has a bad payload: {e}", r.0),
    })?;
    Ok(Notification {
        id: r.0,
        alert_id: r.1,
        notifier: r.2,
        event,
        dedup_key: r.4,
        payload,
        created_at: from_us(r.6),
        attempts: r.7,
        next_attempt_at: from_us(r.8),
        last_error: r.9,
        sent_at: r.10.map(from_us),
    })
}

pub(crate) type NotifierRow = (
    String,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

/// Merges the delivery counters with the pending counts (a notifier may have
/// pending notifications and no attempt yet), sorted by name.
pub(crate) fn merge_states(
    rows: Vec<NotifierRow>,
    pending: Vec<(String, i64, Option<i64>)>,
) -> Vec<NotifierState> {
    let mut out: std::collections::BTreeMap<String, NotifierState> = rows
        .into_iter()
        .map(|r| {
            (
                r.0.clone(),
                NotifierState {
                    notifier: r.0,
                    pending: 0,
                    oldest_pending_at: None,
                    attempts: r.1,
                    sent: r.2,
                    failures: r.3,
                    consecutive_failures: r.4,
                    last_attempt_at: r.5.map(from_us),
                    last_success_at: r.6.map(from_us),
                    last_error: r.7,
                },
            )
        })
        .collect();
    for (name, n, oldest) in pending {
        let s = out.entry(name.clone()).or_insert_with(|| NotifierState {
            notifier: name,
            pending: 0,
            oldest_pending_at: None,
            attempts: 0,
            sent: 0,
            failures: 0,
            consecutive_failures: 0,
            last_attempt_at: None,
            last_success_at: None,
            last_error: None,
        });
        s.pending = n;
        s.oldest_pending_at = oldest.map(from_us);
    }
    out.into_values().collect()
}

pub(crate) fn opt_us(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(to_us)
}
