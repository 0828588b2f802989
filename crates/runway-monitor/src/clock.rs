//! Wall-clock time for the monitor, derived from tokio's clock.
//!
//! Timers use `tokio::time`; timestamps (what a result records, whether a
//! maintenance window is open) come from a [`Clock`]. [`TokioClock`] moves
//! with tokio's clock, so under `tokio::time::pause()` the timestamps advance
//! exactly as far as the timers did and a test of a day's schedule is instant.

use chrono::{DateTime, Utc};

/// Where the monitor reads the time of day.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall time at creation plus tokio's elapsed time since.
#[derive(Debug, Clone)]
pub struct TokioClock {
    wall: DateTime<Utc>,
    base: tokio::time::Instant,
}

impl TokioClock {
    /// A clock that starts at the current wall time.
    pub fn new() -> TokioClock {
        TokioClock::starting_at(Utc::now())
    }

    /// A clock that reads `wall` now (tests pick a Sunday, a Friday...).
    pub fn starting_at(wall: DateTime<Utc>) -> TokioClock {
        TokioClock {
            wall,
            base: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        TokioClock::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = tokio::time::Instant::now().saturating_duration_since(self.base);
        self.wall + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::zero())
    }
}
