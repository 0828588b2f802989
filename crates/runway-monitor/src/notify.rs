//! Notifiers and the outbox: how a queued notification reaches a webhook,
//! Slack or Alertmanager, and what happens when it cannot.
//!
//! Every notification is in the ledger's outbox before anything is sent
//! (queued with the state change that caused it). [`Outbox::flush`] reads
//! what is due, renders it for its notifier at send time (so a resolve sent
//! late still carries its real `endsAt`) and posts it, bounded in time and in
//! bytes read back. A failure is recorded with the attempt (the notifier's
//! last error and consecutive failures are what the dashboard and `/metrics`
//! show) and retried: up to the notifier's `retries` attempts in one round,
//! then after an exponential, capped backoff. Nothing is ever dropped, so a
//! notifier that was down gets everything when it comes back, also after a
//! restart. Once a notifier fails in a round, its other notifications wait
//! for the next one, so they keep their order (a resolve never overtakes its
//! firing) and a dead endpoint is not hammered.
//!
//! A notifier's URL, headers and token are secrets (a Slack webhook URL is
//! one): they live in [`Secret`]s, and an error message never contains them.

use std::{
    collections::{BTreeMap, HashSet},
    sync::Arc,
    time::Duration,
};

use chrono::{DateTime, Utc};
use runway_config::monitor::{NotifierConfig, NotifierKind};
use runway_core::{Redactor, Secret};
use runway_ledger::{Delivery, Ledger, Notification, NotifyEvent};
use tokio::sync::Notify;

use crate::clock::Clock;

/// Bytes of a notifier's answer read back (for the error message); the rest is dropped.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Notifications read from the outbox per round.
pub const FLUSH_BATCH: i64 = 200;

/// How long a flush holds the notifications it took from the outbox: several
/// monitor workers on one ledger never send one twice, and what a worker that
/// died had taken is due again after this.
pub const CLAIM_LEASE: Duration = Duration::from_secs(120);

/// A notifier ready to post: its secrets resolved.
#[derive(Clone)]
pub struct Notifier {
    pub name: String,
    pub kind: NotifierKind,
    url: Secret,
    headers: Vec<(String, Secret)>,
    token: Option<Secret>,
    pub timeout: Duration,
    pub retries: u32,
    generator_url: String,
    pub ttl: Duration,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// The default `generatorURL`: Runway's dashboard (`runway monitor --listen`'s default address).
pub const DEFAULT_GENERATOR_URL: &str = "http://127.0.0.1:8787/";

impl Notifier {
    /// Resolves `[notifiers.<name>]`: `${VAR}` in the URL and headers, the
    /// token from `token_env`. `lookup` reads a variable (the process
    /// environment in the binary). Errors name the notifier and the key,
    /// never a value.
    pub fn from_config(
        name: &str,
        c: &NotifierConfig,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Notifier, NotifierError> {
        let expand = |key: &str, value: &str| {
            runway_config::interpolate::interpolate(value, &lookup).map_err(|var| {
                if var.to_string().starts_with("unterminated") {
                    NotifierError::Unterminated {
                        name: name.to_owned(),
                        key: key.to_owned(),
                    }
                } else {
                    NotifierError::UnsetVariable {
                        name: name.to_owned(),
                        key: key.to_owned(),
                        var: var.to_string(),
                    }
                }
            })
        };
        let url = expand("url", &c.url)?;
        match url::Url::parse(&url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => {
                return Err(NotifierError::NotHttp {
                    name: name.to_owned(),
                });
            }
        }
        let mut headers = Vec::new();
        for (k, v) in &c.headers {
            headers.push((k.clone(), Secret::new(expand(&format!("headers.{k}"), v)?)));
        }
        let token = match &c.token_env {
            Some(var) => Some(
                runway_config::token::from_value(
                    var,
                    &format!("notifier `{name}`'s `token_env`"),
                    lookup(var).map(Into::into),
                )
                .map_err(|e| NotifierError::Token {
                    name: name.to_owned(),
                    message: e.to_string(),
                })?,
            ),
            None => None,
        };
        Ok(Notifier {
            name: name.to_owned(),
            kind: c.kind,
            url: Secret::new(url),
            headers,
            token,
            timeout: c.timeout(),
            retries: c.retries(),
            generator_url: c
                .generator_url
                .clone()
                .unwrap_or_else(|| DEFAULT_GENERATOR_URL.to_owned()),
            ttl: c.ttl(),
        })
    }

    /// Everything of this notifier that must never be printed: add these to
    /// every redactor on the way out (the ledger's, the log's).
    pub fn secrets(&self) -> Vec<Secret> {
        let mut v = vec![self.url.clone()];
        // A Slack or chat webhook URL's secret is its path; an error may show
        // it without the scheme and host.
        if let Ok(u) = url::Url::parse(self.url.expose()) {
            if u.path().len() > 8 {
                v.push(Secret::new(u.path()));
            }
            if let Some(q) = u.query() {
                v.push(Secret::new(q));
            }
            if !u.password().unwrap_or("").is_empty() {
                v.push(Secret::new(u.password().unwrap_or("")));
            }
        }
        v.extend(self.headers.iter().map(|(_, s)| s.clone()));
        v.extend(self.token.clone());
        v
    }

    /// Where a notification goes and what it carries, rendered at `now`.
    pub fn render(&self, n: &Notification, now: DateTime<Utc>) -> (String, serde_json::Value) {
        let p = &n.payload;
        match self.kind {
            NotifierKind::Webhook => {
                let mut body = p.clone();
                body["notifier"] = self.name.clone().into();
                body["sent_at"] = serde_json::to_value(now).unwrap_or_default();
                (self.url.expose().to_owned(), body)
            }
            NotifierKind::Slack => (
                self.url.expose().to_owned(),
                serde_json::json!({ "text": slack_text(n) }),
            ),
            NotifierKind::Alertmanager => {
                let url = format!("{}/api/v2/alerts", self.url.expose().trim_end_matches('/'));
                (url, serde_json::json!([self.alertmanager_alert(n, now)]))
            }
        }
    }

    fn alertmanager_alert(&self, n: &Notification, now: DateTime<Utc>) -> serde_json::Value {
        let p = &n.payload;
        let text = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
        let time = |k: &str| {
            p.get(k)
                .and_then(|v| serde_json::from_value::<DateTime<Utc>>(v.clone()).ok())
        };
        let starts = time("fired_at")
            .or_else(|| time("started_at"))
            .unwrap_or(now);
        let ends = match n.event {
            NotifyEvent::Resolved => time("resolved_at").unwrap_or(now),
            _ => now + chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::days(1)),
        };
        let mut generator = url::Url::parse(&self.generator_url)
            .unwrap_or_else(|_| url::Url::parse(DEFAULT_GENERATOR_URL).expect("a valid URL"));
        generator
            .query_pairs_mut()
            .append_pair("environment", &text("environment"))
            .append_pair("alert", &text("alert"));
        serde_json::json!({
            "labels": {
                "alertname": text("alert"),
                "environment": text("environment"),
                "severity": text("level"),
                "source": "runway",
            },
            "annotations": {
                "summary": format!("{} on {}: {}", text("alert"), text("environment"), text("condition")),
                "description": text("message"),
                "condition": text("condition"),
                "runway_fingerprint": text("fingerprint"),
            },
            "startsAt": starts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "endsAt": ends.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "generatorURL": generator.as_str(),
        })
    }

    /// Posts one notification: `Ok` on a 2xx answer, else why not (redacted by the caller).
    pub async fn send(
        &self,
        client: &reqwest::Client,
        n: &Notification,
        now: DateTime<Utc>,
    ) -> Result<(), SendError> {
        let (url, body) = self.render(n, now);
        self.post(client, &url, &body).await
    }

    /// Posts a release announcement (`runway release announce`): a webhook
    /// gets Runway's JSON (`event: "release"`, project, version, tag, the
    /// notes as Markdown, `sent_at`), Slack a `text` with the heading and the
    /// notes. Alertmanager takes alerts, not announcements (`runway.toml` is
    /// refused when `[release] announce` names one).
    pub async fn announce(
        &self,
        client: &reqwest::Client,
        a: &Announcement<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), SendError> {
        let heading = match a.project {
            Some(p) => format!("{p} {} released", a.tag),
            None => format!("{} released", a.tag),
        };
        let body = match self.kind {
            NotifierKind::Webhook => serde_json::json!({
                "event": "release",
                "project": a.project,
                "version": a.version,
                "tag": a.tag,
                "title": heading,
                "notes": a.notes,
                "notifier": self.name,
                "sent_at": now,
            }),
            NotifierKind::Slack => serde_json::json!({
                "text": format!(":rocket: *{heading}*\n\n{}", a.notes.trim_end()),
            }),
            NotifierKind::Alertmanager => {
                return Err(SendError::NotAnnounceable(self.name.clone()));
            }
        };
        self.post(client, self.url.expose(), &body).await
    }

    /// POSTs `body` as JSON with the notifier's headers and token: `Ok` on a
    /// 2xx answer, else why not (URLs stripped; redacted by the caller).
    async fn post(
        &self,
        client: &reqwest::Client,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<(), SendError> {
        let mut req = client
            .post(url)
            .timeout(self.timeout)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(body).unwrap_or_default());
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.expose());
        }
        if let Some(t) = &self.token {
            req = req.bearer_auth(t.expose());
        }
        let req = req
            .build()
            .map_err(|e| SendError::Transport(strip_urls(&runway_verify::http::error_chain(&e))))?;
        let limits = runway_verify::http::Limits {
            timeout: self.timeout,
            max_body: MAX_ANSWER_BYTES,
        };
        match runway_verify::http::fetch(client, req, limits).await {
            Ok(o) if (200..300).contains(&o.status) => Ok(()),
            Ok(o) => Err(SendError::Status {
                kind: self.kind.as_str(),
                status: o.status,
                excerpt: runway_verify::text::one_line(&runway_verify::http::excerpt(&o.body, 300)),
            }),
            Err(e) => Err(SendError::Transport(strip_urls(&e.to_string()))),
        }
    }
}

/// Why a `[notifiers.<name>]` table cannot be used. Names the notifier and
/// the key, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifierError {
    #[error("notifier `{name}`: `{key}` has an unterminated `${{`")]
    Unterminated { name: String, key: String },
    #[error(
        "notifier `{name}`: `{key}` uses `${{{var}}}`, which is not set: export it before `runway monitor`"
    )]
    UnsetVariable {
        name: String,
        key: String,
        var: String,
    },
    #[error(
        "notifier `{name}`: `url` is not an http or https URL once its variables are filled in (the value is not shown: it may hold a secret)"
    )]
    NotHttp { name: String },
    #[error("notifier `{name}`: {message}")]
    Token { name: String, message: String },
}

/// Why one notification was not delivered; URLs are cut out (they may hold a secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("{kind} answered HTTP {status}: {excerpt}")]
    Status {
        kind: &'static str,
        status: u16,
        excerpt: String,
    },
    #[error("{0}")]
    Transport(String),
    /// An alertmanager takes alerts, not release announcements.
    #[error("notifier `{0}` is an alertmanager, which takes alerts, not announcements")]
    NotAnnounceable(String),
}

/// The HTTP client notifiers post with: no redirects (a notifier's URL is
/// where it goes), a 5 s connect timeout, Runway's user agent.
pub fn client() -> reqwest::Client {
    runway_verify::http::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("runway/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// What `runway release announce` posts.
#[derive(Debug, Clone, Copy)]
pub struct Announcement<'a> {
    /// `[project] name`, when set.
    pub project: Option<&'a str>,
    pub version: &'a str,
    pub tag: &'a str,
    /// The release notes, Markdown.
    pub notes: &'a str,
}

/// Slack's `text`: one line a person reads in a channel.
fn slack_text(n: &Notification) -> String {
    let p = &n.payload;
    let text = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("");
    let (icon, what) = match n.event {
        NotifyEvent::Firing => (":red_circle:", "firing"),
        NotifyEvent::Reminder => (":red_circle:", "still firing"),
        NotifyEvent::Resolved => (":large_green_circle:", "resolved"),
    };
    format!(
        "{icon} *[{}] {}* on `{}` is {what}: {}",
        text("level").to_ascii_uppercase(),
        text("alert"),
        text("environment"),
        text("message")
    )
}

/// reqwest names the URL in its errors (`error sending request for url
/// (https://hooks.slack.com/services/T0/B0/secret)`): cut every URL out.
pub fn strip_urls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("for url (") {
        out.push_str(&rest[..i]);
        out.push_str("to the notifier");
        let after = &rest[i + "for url (".len()..];
        rest = match after.find(')') {
            Some(j) => &after[j + 1..],
            None => "",
        };
    }
    out.push_str(rest);
    // Anything still shaped like a URL goes too.
    out.split(' ')
        .map(|w| if w.contains("://") { "[url]" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

/// How long a notification waits after a failed round.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// After the first failed round.
    pub base: Duration,
    /// Never longer than this.
    pub max: Duration,
    /// Between two attempts in one round.
    pub pause: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(5),
            max: Duration::from_secs(600),
            pause: Duration::from_millis(250),
        }
    }
}

impl Backoff {
    /// The wait after `round` failed rounds (1 = the first): base, 2×base, 4×base... capped.
    pub fn delay(&self, round: u32) -> Duration {
        let factor = 1u32 << round.saturating_sub(1).min(20);
        self.base.saturating_mul(factor).min(self.max)
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushStats {
    pub sent: u64,
    /// Attempts that failed.
    pub failed: u64,
    /// Notifications that stay in the outbox for a later round.
    pub waiting: u64,
}

/// Delivers the outbox.
pub struct Outbox {
    ledger: Arc<dyn Ledger>,
    notifiers: BTreeMap<String, Notifier>,
    client: reqwest::Client,
    redactor: Redactor,
    backoff: Backoff,
    wake: Arc<Notify>,
}

impl Outbox {
    pub fn new(ledger: Arc<dyn Ledger>, notifiers: Vec<Notifier>) -> Outbox {
        let mut redactor = Redactor::new();
        for n in &notifiers {
            for s in n.secrets() {
                redactor.add(&s);
            }
        }
        let client = client();
        Outbox {
            ledger,
            notifiers: notifiers.into_iter().map(|n| (n.name.clone(), n)).collect(),
            client,
            redactor,
            backoff: Backoff::default(),
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn with_backoff(mut self, backoff: Backoff) -> Outbox {
        self.backoff = backoff;
        self
    }

    /// Wakes [`Outbox::run`] now (something was queued).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// One round: every due notification, in queue order, each notifier
    /// stopping at its first notification that still fails.
    pub async fn flush(&self, clock: &dyn Clock) -> FlushStats {
        let mut stats = FlushStats::default();
        let due = match self
            .ledger
            .claim_notifications(clock.now(), FLUSH_BATCH, CLAIM_LEASE)
            .await
        {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!("cannot read the notification outbox: {e}");
                return stats;
            }
        };
        let mut blocked: HashSet<String> = HashSet::new();
        for n in &due {
            if blocked.contains(&n.notifier) {
                // Its notifier failed just now: hand it back, due with the rest.
                if let Err(e) = self.ledger.unclaim_notification(n.id, clock.now()).await {
                    tracing::warn!("cannot hand a notification back to the outbox: {e}");
                }
                stats.waiting += 1;
                continue;
            }
            let Some(notifier) = self.notifiers.get(&n.notifier) else {
                // Its notifier left runway.toml: keep it (never lost), try rarely.
                let now = clock.now();
                let delivery = Delivery::Failed {
                    at: now,
                    error: format!(
                        "notifier `{}` is not in runway.toml any more; add it back to deliver this",
                        n.notifier
                    ),
                    retry_at: now
                        + chrono::Duration::from_std(self.backoff.max).unwrap_or_default(),
                };
                self.record(n, &delivery).await;
                blocked.insert(n.notifier.clone());
                stats.failed += 1;
                stats.waiting += 1;
                continue;
            };
            let round = (n.attempts.max(0) as u32) / notifier.retries.max(1) + 1;
            let mut ok = false;
            for attempt in 0..notifier.retries.max(1) {
                if attempt > 0 {
                    tokio::time::sleep(self.backoff.pause.saturating_mul(1 << attempt.min(4)))
                        .await;
                }
                let now = clock.now();
                match notifier.send(&self.client, n, now).await {
                    Ok(()) => {
                        self.record(n, &Delivery::Sent { at: clock.now() }).await;
                        stats.sent += 1;
                        ok = true;
                        break;
                    }
                    Err(e) => {
                        stats.failed += 1;
                        let last = attempt + 1 == notifier.retries.max(1);
                        let wait = if last {
                            self.backoff.delay(round)
                        } else {
                            Duration::ZERO
                        };
                        let now = clock.now();
                        let delivery = Delivery::Failed {
                            at: now,
                            error: self.redactor.redact(&e.to_string()),
                            retry_at: now + chrono::Duration::from_std(wait).unwrap_or_default(),
                        };
                        tracing::warn!(
                            notifier = %notifier.name,
                            attempt = n.attempts + i64::from(attempt) + 1,
                            "notification failed: {}",
                            self.redactor.redact(&e.to_string())
                        );
                        self.record(n, &delivery).await;
                    }
                }
            }
            if !ok {
                blocked.insert(n.notifier.clone());
                stats.waiting += 1;
            }
        }
        stats
    }

    async fn record(&self, n: &Notification, d: &Delivery) {
        if let Err(e) = self.ledger.record_delivery(n.id, &n.notifier, d).await {
            tracing::error!("cannot record a notification attempt: {e}");
        }
    }

    /// Flushes until `shutdown`: at once when woken, else every `every`
    /// (due retries are picked up then).
    pub async fn run(
        &self,
        clock: Arc<dyn Clock>,
        every: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            self.flush(clock.as_ref()).await;
            tokio::select! {
                biased;
                _ = &mut shutdown => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(every) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(kind: &str, extra: &str) -> NotifierConfig {
        toml::from_str(&format!(
            "type = \"{kind}\"\nurl = \"https://hooks.example/services/${{HOOK_PATH}}\"\n{extra}"
        ))
        .unwrap()
    }

    fn lookup(k: &str) -> Option<String> {
        match k {
            "HOOK_PATH" => Some("T000/B000/sekrit-slack-token".into()),
            "HOOK_TOKEN" => Some("tok-notifier-9981".into()),
            "HOOK_KEY" => Some("key-notifier-4411".into()),
            _ => None,
        }
    }

    fn note(event: NotifyEvent) -> Notification {
        let at: DateTime<Utc> = "2026-11-30T10:00:00Z".parse().unwrap();
        Notification {
            id: 1,
            alert_id: 1,
            notifier: "n".into(),
            event,
            dedup_key: "k".into(),
            payload: serde_json::json!({
                "alert": "api-down", "environment": "prod", "level": "critical",
                "condition": "down", "message": "`prod` is down",
                "fingerprint": "f", "started_at": at, "fired_at": at,
                "resolved_at": (event == NotifyEvent::Resolved).then(|| at + chrono::Duration::minutes(5)),
            }),
            created_at: at,
            attempts: 0,
            next_attempt_at: at,
            last_error: None,
            sent_at: None,
        }
    }

    #[test]
    fn secrets_are_resolved_and_never_in_debug_or_errors() {
        let n = Notifier::from_config(
            "chat",
            &config(
                "slack",
                "token_env = \"HOOK_TOKEN\"\nheaders = { X-Key = \"${HOOK_KEY}\" }",
            ),
            lookup,
        )
        .unwrap();
        let shown = format!("{n:?}");
        assert!(!shown.contains("sekrit"), "{shown}");
        let secrets: Vec<String> = n.secrets().iter().map(|s| s.expose().to_owned()).collect();
        assert!(secrets.iter().any(|s| s.contains("sekrit-slack-token")));
        assert!(secrets.contains(&"tok-notifier-9981".to_owned()));
        assert!(secrets.contains(&"key-notifier-4411".to_owned()));
        let e = Notifier::from_config("chat", &config("slack", "token_env = \"NOPE\""), lookup)
            .unwrap_err();
        assert!(e.to_string().contains("NOPE"), "{e}");
        let bad = NotifierConfig {
            url: "${MISSING_URL}".into(),
            ..config("webhook", "")
        };
        let e = Notifier::from_config("hook", &bad, lookup).unwrap_err();
        assert!(
            e.to_string().contains("`${MISSING_URL}`, which is not set"),
            "{e}"
        );
        let e = strip_urls(
            "error sending request for url (https://hooks.example/services/T000/B000/sekrit-slack-token): connection refused",
        );
        assert_eq!(
            e,
            "error sending request to the notifier: connection refused"
        );
        assert_eq!(strip_urls("see https://x.example/a/b now"), "see [url] now");
    }

    #[test]
    fn each_kind_renders_its_payload() {
        let now: DateTime<Utc> = "2026-11-30T10:10:00Z".parse().unwrap();
        let slack = Notifier::from_config("chat", &config("slack", ""), lookup).unwrap();
        let (url, body) = slack.render(&note(NotifyEvent::Firing), now);
        assert!(url.ends_with("/sekrit-slack-token"));
        let text = body["text"].as_str().unwrap();
        assert!(
            text.contains("*[CRITICAL] api-down* on `prod` is firing"),
            "{text}"
        );

        let hook = Notifier::from_config("hook", &config("webhook", ""), lookup).unwrap();
        let (_, body) = hook.render(&note(NotifyEvent::Firing), now);
        assert_eq!(body["alert"], "api-down");
        assert_eq!(body["notifier"], "hook");

        let am = Notifier::from_config(
            "am",
            &toml::from_str(
                "type = \"alertmanager\"\nurl = \"http://127.0.0.1:9093/\"\nttl = \"1h\"",
            )
            .unwrap(),
            lookup,
        )
        .unwrap();
        let (url, body) = am.render(&note(NotifyEvent::Firing), now);
        assert_eq!(url, "http://127.0.0.1:9093/api/v2/alerts");
        let a = &body[0];
        assert_eq!(a["labels"]["alertname"], "api-down");
        assert_eq!(a["labels"]["environment"], "prod");
        assert_eq!(a["labels"]["severity"], "critical");
        assert_eq!(a["startsAt"], "2026-11-30T10:00:00.000Z");
        assert_eq!(a["endsAt"], "2026-11-30T11:10:00.000Z", "now + ttl");
        assert_eq!(
            a["generatorURL"],
            "http://127.0.0.1:8787/?environment=prod&alert=api-down"
        );
        let (_, body) = am.render(&note(NotifyEvent::Resolved), now);
        assert_eq!(
            body[0]["endsAt"], "2026-11-30T10:05:00.000Z",
            "its real end"
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let b = Backoff::default();
        let d: Vec<u64> = (1..=10).map(|r| b.delay(r).as_secs()).collect();
        assert_eq!(d, vec![5, 10, 20, 40, 80, 160, 320, 600, 600, 600]);
        assert_eq!(b.delay(u32::MAX).as_secs(), 600);
    }
}
