//! `runway monitor`: scheduled checks, the status of each environment, alert
//! rules and notifiers.
//!
//! [`Monitor`] is the service a front end runs: it reads the environments,
//! rules and notifiers of `runway.toml`, keeps the ledger's retention, runs
//! the local or shared schedule and its background loops, and tells a
//! [`Report`] what happened. The crate serves nothing (the dashboard is
//! runway-web's) and reads time only through tokio's clock and a
//! [`clock::Clock`], so tests run hours of schedule under `tokio::time::pause()`.

pub mod alerts;
pub mod clock;
pub mod notify;
pub mod outcome;
pub mod rules;
pub mod scheduler;
pub mod service;
pub mod shared;
pub mod token;

pub use alerts::{AlertEngine, AlertRunner, Rule};
pub use clock::{Clock, TokioClock};
pub use notify::{Announcement, Notifier, Outbox};
pub use outcome::{EnvStatus, Outcome, Reason};
pub use scheduler::{EngineProber, Job, Prober, RunStats, Scheduler, Sink};
pub use service::{
    Monitor, MonitorError, MonitorOptions, Report, ScheduleMode, Setup, TargetSources,
};
pub use shared::SharedOptions;
