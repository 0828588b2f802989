//! `runway monitor`: scheduled checks, the status of each environment, alert
//! rules and notifiers.
//!
//! The crate owns no storage and serves nothing: the scheduler hands each
//! result to a [`scheduler::Sink`] (the binary's, which writes the ledger and
//! feeds the web read model), and reads time only through tokio's clock and a
//! [`clock::Clock`], so tests run hours of schedule under `tokio::time::pause()`.

pub mod alerts;
pub mod clock;
pub mod notify;
pub mod outcome;
pub mod rules;
pub mod scheduler;
pub mod shared;
pub mod token;

pub use alerts::{AlertEngine, AlertRunner, Rule};
pub use clock::{Clock, TokioClock};
pub use notify::{Notifier, Outbox};
pub use outcome::{EnvStatus, Outcome, Reason};
pub use scheduler::{EngineProber, Job, Prober, RunStats, Scheduler, Sink};
pub use shared::SharedOptions;
