//! Runway's own pages: the monitor dashboard, the public status page, the
//! JSON API, `/metrics`, `/livez` and `/readyz`.
//!
//! The only crate that serves Runway's pages. It reads the ledger through
//! [`model`] (no SQL here), the alert engine through [`AlertSource`], and
//! takes its shutdown as a future, so tests run it on `127.0.0.1:0` and stop
//! it. Every response carries the security headers `runway verify` checks;
//! bodies are bounded, requests time out, slow headers are cut, connections
//! are capped, a foreign `Host` is refused (all through `runway-serve`), and the write endpoints need the
//! bearer token from `[web] token_env`.

pub mod alerts;
mod escape;
pub mod html;
pub mod locations;
pub mod metrics;
pub mod model;
mod routes;
mod security;
pub mod svg;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use runway_core::Secret;
use runway_ledger::Ledger;

pub use alerts::{AlertError, AlertSource, AlertView, LedgerAlerts, NoAlerts, NotifierView};
pub use metrics::Metrics;
/// The connection limits of [`serve_with`] (`runway_serve::Limits`).
pub use runway_serve::Limits as ServeLimits;
pub use runway_serve::{HEADER_READ_TIMEOUT, MAX_CONNECTIONS};

/// Largest request body accepted (the write endpoints take a small JSON object).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// A request that takes longer is answered 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What the server reads and serves. Built once by the binary.
pub struct Web {
    pub ledger: Arc<dyn Ledger>,
    /// The monitored environments, in the order the pages list them.
    pub environments: Vec<String>,
    pub alerts: Arc<dyn AlertSource>,
    pub metrics: Arc<Metrics>,
    /// The write endpoints' bearer token; `None` turns writes off.
    pub token: Option<Secret>,
    /// The public status page's heading.
    pub title: String,
    /// Names the server answers to beside its listen address and `localhost`
    /// (`[web] hosts`); any other `Host` is refused (DNS rebinding).
    pub hosts: Vec<String>,
    /// The budget of a client without the token, per address (`[web]
    /// rate_limit`); past it, 429 with `Retry-After`. `None`: unlimited.
    pub anonymous: Option<runway_serve::Limiter>,
    /// Each environment's monitor interval: a location counts towards the
    /// environment's status while its newest run is within two of them
    /// ([`locations::consensus`]).
    pub intervals: std::collections::HashMap<String, Duration>,
    ready: AtomicBool,
}

/// Requests per second a client without the token may send by default: a
/// browser loads a page and its stylesheet, Prometheus scrapes `/metrics`
/// every few seconds; a scraper of the whole API, or a guesser of the write
/// token, is slowed down. Above `runway mcp`'s 20: a proxy in front puts many
/// readers behind one address.
pub const ANONYMOUS_PER_SECOND: u32 = 50;

impl Web {
    pub fn new(ledger: Arc<dyn Ledger>, environments: Vec<String>) -> Web {
        Web {
            ledger,
            environments,
            alerts: Arc::new(NoAlerts),
            metrics: Arc::new(Metrics::new()),
            token: None,
            title: "Status".to_owned(),
            hosts: Vec::new(),
            anonymous: Some(runway_serve::Limiter::new(runway_serve::RateLimit {
                requests: ANONYMOUS_PER_SECOND,
                window: Duration::from_secs(1),
            })),
            intervals: Default::default(),
            ready: AtomicBool::new(false),
        }
    }

    /// Each environment's monitor interval (see [`Web::intervals`]).
    pub fn with_intervals(mut self, intervals: std::collections::HashMap<String, Duration>) -> Web {
        self.intervals = intervals;
        self
    }

    pub fn with_alerts(mut self, alerts: Arc<dyn AlertSource>) -> Web {
        self.alerts = alerts;
        self
    }

    pub fn with_token(mut self, token: Option<Secret>) -> Web {
        self.token = token;
        self
    }

    pub fn with_title(mut self, title: impl Into<String>) -> Web {
        self.title = title.into();
        self
    }

    pub fn with_hosts(mut self, hosts: Vec<String>) -> Web {
        self.hosts = hosts;
        self
    }

    /// At most `per_second` requests a second from each client address that
    /// does not carry the write token; `0` turns the limit off.
    pub fn with_rate_limit(mut self, per_second: u32) -> Web {
        self.anonymous = (per_second > 0).then(|| {
            runway_serve::Limiter::new(runway_serve::RateLimit {
                requests: per_second,
                window: Duration::from_secs(1),
            })
        });
        self
    }

    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Web {
        self.metrics = metrics;
        self
    }

    /// Called once the scheduler runs: `/readyz` answers 200 from then on
    /// (while the ledger answers).
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// Sets each environment's status gauge from its latest stored run, so
    /// `/metrics` is right before the first run of this process finishes.
    pub async fn load_statuses(&self) {
        let mut latest: std::collections::HashMap<String, String> =
            match self.ledger.monitor_latest_many(&self.environments).await {
                Ok(runs) => runs
                    .into_iter()
                    .map(|r| (r.environment, r.status))
                    .collect(),
                Err(e) => {
                    tracing::warn!("reading the latest runs: {e}");
                    Default::default()
                }
            };
        for env in &self.environments {
            let status = latest.remove(env).unwrap_or_else(|| "unknown".to_owned());
            self.metrics.set_status(env, &status);
        }
    }
}

/// The router (`oneshot` in tests).
pub fn app(web: Arc<Web>) -> axum::Router {
    routes::router(web)
}

/// Serves until `shutdown` completes, then lets requests under way finish,
/// with the default [`ServeLimits`] (headers within 5 s, 128 connections),
/// through `runway_serve`'s accept loop: a request whose `Host` is not the
/// listen address, `localhost` or one of [`Web::hosts`] is refused.
pub async fn serve(
    listener: tokio::net::TcpListener,
    web: Arc<Web>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, web, shutdown, ServeLimits::default()).await
}

/// [`serve`] with other connection limits.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    web: Arc<Web>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ServeLimits,
) -> std::io::Result<()> {
    let hosts = runway_serve::Hosts::for_listener(listener.local_addr()?, &web.hosts);
    let limits = ServeLimits {
        shutdown_grace: REQUEST_TIMEOUT,
        ..limits
    };
    runway_serve::serve(listener, app(web), hosts, shutdown, limits).await
}
