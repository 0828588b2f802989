//! The schedule: each environment's suite on its interval, with jitter,
//! bounded by its timeout, drained on shutdown.
//!
//! Time is read only through tokio's clock (timers) and a [`Clock`]
//! (timestamps), and shutdown is a future the caller passes in (SIGTERM in
//! the binary, a timer in tests), so a test drives a day of schedule under
//! `tokio::time::pause()`. On shutdown no new run starts; the runs under way
//! finish or are cut at their timeout, and each is handed to the [`Sink`]
//! whole before [`Scheduler::run`] returns, so nothing is half-written.

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BinaryHeap, HashMap},
    future::Future,
    sync::Arc,
    time::Duration,
};

use async_trait::async_trait;
use runway_config::{MonitorConfig, monitor::MaintenanceConfig};
use runway_core::Report;
use tokio::{task::JoinSet, time::Instant};

use crate::{clock::Clock, outcome::Outcome};

/// The fastest the first runs of a schedule start: one every 10 ms.
pub const START_PACE: Duration = Duration::from_millis(10);

/// Runs due this soon after the one the schedule wakes for start with it.
pub const BATCH_WINDOW: Duration = Duration::from_millis(250);

/// When job `i` of `n` first runs, after the schedule starts: the jobs'
/// first runs are paced [`START_PACE`] apart, or evenly over the interval
/// when that is too slow to fit, so that each later tick (a whole interval
/// on) finds the others spread too. A handful of environments all run at
/// once; 1,000 every 10 s start 10 ms apart (in batches of about 25, see
/// [`BATCH_WINDOW`]) instead of together within the jitter's second, each
/// tick, which held hundreds of runs in flight at once (their memory, and
/// the dashboard's answers behind them).
pub(crate) fn phase(i: usize, n: usize, interval: Duration) -> Duration {
    let n = n.max(1) as u32;
    let step = (interval / n).min(START_PACE);
    step * (i.min(u32::MAX as usize) as u32)
}

/// One environment's schedule.
#[derive(Debug, Clone)]
pub struct Job {
    pub environment: String,
    pub interval: Duration,
    /// At most this much random delay before each run.
    pub jitter: Duration,
    /// A run still going after this is cut and recorded as a timeout.
    pub timeout: Duration,
    pub maintenance: Vec<MaintenanceConfig>,
    /// When the environment's bearer token expires (a JWT's `exp`), so each
    /// run records the time left (`token_expiry` rules).
    pub token_expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Where this worker probes from (`--location`): stored with each run,
    /// and part of the job's key in the shared schedule.
    pub location: Option<String>,
}

impl Job {
    pub fn from_config(environment: &str, m: &MonitorConfig) -> Job {
        Job {
            environment: environment.to_owned(),
            interval: m.interval(),
            jitter: m.jitter(),
            timeout: m.timeout(),
            maintenance: m.maintenance.clone(),
            token_expires_at: None,
            location: None,
        }
    }

    /// The job's key in the shared schedule: the environment, or
    /// `environment@location` for a worker with a location (each location
    /// runs every environment once per interval).
    pub fn key(&self) -> String {
        match &self.location {
            Some(l) => format!("{}@{l}", self.environment),
            None => self.environment.clone(),
        }
    }

    /// Whether a maintenance window of this environment is open at `at`.
    pub fn in_maintenance(&self, at: chrono::DateTime<chrono::Utc>) -> bool {
        let Ok(ts) = jiff::Timestamp::from_microsecond(at.timestamp_micros()) else {
            return false;
        };
        self.maintenance.iter().any(|m| m.contains(ts))
    }
}

/// Runs an environment's suite. The real one is [`EngineProber`]; tests
/// pass fakes that sleep, hang or fail on cue.
#[async_trait]
pub trait Prober: Send + Sync {
    async fn probe(&self, environment: &str) -> Report;
}

/// Receives every finished run (the binary's writes the ledger and the read model).
#[async_trait]
pub trait Sink: Send + Sync {
    async fn record(&self, outcome: &Outcome);

    /// A run of the shared schedule, already stored in the ledger with its
    /// slot (`shared.rs`): everything [`Sink::record`] does but the
    /// store. A sink that stores nothing itself needs only `record`.
    async fn record_stored(&self, outcome: &Outcome) {
        self.record(outcome).await;
    }
}

/// What a scheduler run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Runs started.
    pub started: u64,
    /// Runs handed to the sink.
    pub recorded: u64,
    /// Ticks not started because the previous run of the same environment
    /// was still going (missed deadlines).
    pub overlapped: u64,
    /// Ticks that passed while the scheduler could not keep up (skipped, not bunched).
    pub skipped: u64,
    /// Runs that were still going at shutdown and were waited for.
    pub drained: u64,
    /// Shared schedule: slots claimed after another worker's lease lapsed.
    pub taken_over: u64,
    /// Shared schedule: runs not stored because their lease lapsed first
    /// (another worker ran that slot).
    pub lost: u64,
    /// Shared schedule: claims or completions the ledger refused.
    pub ledger_errors: u64,
    /// Runs that started more than [`LATE_START`] after their tick (the
    /// scheduler's own loop was behind).
    pub late: u64,
    /// The latest start after its tick, in milliseconds.
    pub max_late_ms: u64,
}

/// A run that starts later than this after its tick counts as [`RunStats::late`].
pub const LATE_START: Duration = Duration::from_secs(1);

/// The scheduler.
pub struct Scheduler {
    jobs: Vec<Job>,
    prober: Arc<dyn Prober>,
    sink: Arc<dyn Sink>,
    clock: Arc<dyn Clock>,
    rng: u64,
}

impl Scheduler {
    pub fn new(
        jobs: Vec<Job>,
        prober: Arc<dyn Prober>,
        sink: Arc<dyn Sink>,
        clock: Arc<dyn Clock>,
    ) -> Scheduler {
        Scheduler {
            jobs,
            prober,
            sink,
            clock,
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// Seeds the jitter, so a test can predict it.
    pub fn with_seed(mut self, seed: u64) -> Scheduler {
        self.rng = seed;
        self
    }

    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    pub(crate) fn parts(&self) -> (Arc<dyn Prober>, Arc<dyn Sink>, Arc<dyn Clock>) {
        (self.prober.clone(), self.sink.clone(), self.clock.clone())
    }

    /// A delay in `[0, max)`: splitmix64, enough to spread runs apart.
    pub(crate) fn jitter(&mut self, max: Duration) -> Duration {
        if max.is_zero() {
            return Duration::ZERO;
        }
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let nanos = max.as_nanos().min(u64::MAX as u128) as u64;
        Duration::from_nanos(z % nanos)
    }

    /// Runs every job now (each under its timeout, all at once) and returns
    /// their outcomes in job order, after the sink has them. `due` says which
    /// jobs run: `runway monitor --once` passes the ones whose last result is
    /// older than their interval.
    pub async fn run_once(&self, due: impl Fn(&Job) -> bool) -> Vec<Outcome> {
        let mut set = JoinSet::new();
        let mut order = HashMap::new();
        for (i, job) in self.jobs.iter().enumerate() {
            if !due(job) {
                continue;
            }
            let h = set.spawn(run_job(
                job.clone(),
                self.prober.clone(),
                self.sink.clone(),
                self.clock.clone(),
            ));
            order.insert(h.id(), i);
        }
        let mut out = BTreeMap::new();
        while let Some(r) = set.join_next_with_id().await {
            match r {
                Ok((id, o)) => {
                    out.insert(order[&id], o);
                }
                Err(e) => tracing::error!("a monitor run panicked: {e}"),
            }
        }
        out.into_values().collect()
    }

    /// Runs the schedule until `shutdown` completes, then drains.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> RunStats {
        let mut stats = RunStats::default();
        if self.jobs.is_empty() {
            shutdown.await;
            return stats;
        }
        let start = Instant::now();
        // Each job's next tick (without jitter) and when it fires (with).
        let n = self.jobs.len();
        let mut base: Vec<Instant> = (0..n)
            .map(|i| start + phase(i, n, self.jobs[i].interval))
            .collect();
        // When each job fires next, soonest first (ties: the first job): one
        // entry per job, so finding the next tick costs log N, not N (at
        // 10,000 environments a scan per event was a measurable share).
        let mut queue: BinaryHeap<Reverse<(Instant, usize)>> =
            BinaryHeap::with_capacity(self.jobs.len());
        for (i, b) in base.iter().enumerate() {
            let j = self.jitter(self.jobs[i].jitter);
            queue.push(Reverse((*b + j, i)));
        }
        let mut running: HashMap<tokio::task::Id, usize> = HashMap::new();
        let mut busy = vec![false; self.jobs.len()];
        let mut set: JoinSet<Outcome> = JoinSet::new();
        tokio::pin!(shutdown);
        while let Some(&Reverse((when, _))) = queue.peek() {
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                Some(done) = set.join_next_with_id(), if !set.is_empty() => {
                    let id = match &done {
                        Ok((id, _)) => *id,
                        Err(e) => {
                            tracing::error!("a monitor run panicked: {e}");
                            e.id()
                        }
                    };
                    if let Some(i) = running.remove(&id) {
                        busy[i] = false;
                    }
                    if done.is_ok() {
                        stats.recorded += 1;
                    }
                }
                _ = tokio::time::sleep_until(when) => {
                    // Every job due within the batch window starts now, with
                    // this one: runs paced 10 ms apart each woke the runtime's
                    // idle threads on their own, which cost more CPU than the
                    // probe (1.05 ms a run against 0.61 ms when they came
                    // together, at 1,000 environments every 10 s).
                    let horizon = Instant::now() + BATCH_WINDOW;
                    let mut batch = Vec::new();
                    while let Some(&Reverse((at, i))) = queue.peek()
                        && at <= horizon
                    {
                        queue.pop();
                        batch.push((at, i));
                    }
                    for (when, next) in batch {
                        let job = &self.jobs[next];
                        let behind = Instant::now().saturating_duration_since(when);
                        stats.max_late_ms = stats.max_late_ms.max(behind.as_millis() as u64);
                        if behind > LATE_START {
                            stats.late += 1;
                        }
                        if busy[next] {
                            stats.overlapped += 1;
                        } else {
                            let h = set.spawn(run_job(
                                job.clone(),
                                self.prober.clone(),
                                self.sink.clone(),
                                self.clock.clone(),
                            ));
                            running.insert(h.id(), next);
                            busy[next] = true;
                            stats.started += 1;
                        }
                        let interval = job.interval.max(Duration::from_millis(1));
                        let now = Instant::now();
                        base[next] += interval;
                        while base[next] + interval <= now {
                            base[next] += interval;
                            stats.skipped += 1;
                        }
                        let j = self.jitter(self.jobs[next].jitter);
                        queue.push(Reverse((base[next] + j, next)));
                    }
                }
            }
        }
        // Drain: every run under way is bounded by its timeout.
        stats.drained = set.len() as u64;
        while let Some(r) = set.join_next().await {
            match r {
                Ok(_) => stats.recorded += 1,
                Err(e) => tracing::error!("a monitor run panicked: {e}"),
            }
        }
        stats
    }
}

async fn run_job(
    job: Job,
    prober: Arc<dyn Prober>,
    sink: Arc<dyn Sink>,
    clock: Arc<dyn Clock>,
) -> Outcome {
    let outcome = probe_job(&job, prober.as_ref(), clock.as_ref()).await;
    sink.record(&outcome).await;
    outcome
}

/// One run of `job`'s suite, cut at its timeout.
pub(crate) async fn probe_job(job: &Job, prober: &dyn Prober, clock: &dyn Clock) -> Outcome {
    let at = clock.now();
    let maintenance = job.in_maintenance(at);
    let mut outcome = match tokio::time::timeout(job.timeout, prober.probe(&job.environment)).await
    {
        Ok(report) => Outcome::from_report(&job.environment, at, &report, maintenance),
        Err(_) => Outcome::timed_out(&job.environment, at, job.timeout, maintenance),
    };
    if let Some(exp) = job.token_expires_at {
        outcome.token_expiry_secs = Some((exp - at).num_milliseconds() as f64 / 1000.0);
    }
    outcome.location = job.location.clone();
    outcome
}

/// The real prober: runway-verify's engine over each environment's context.
pub struct EngineProber {
    contexts: BTreeMap<String, runway_verify::Context>,
}

impl EngineProber {
    /// `contexts` by environment name, each with its suite and run budget set.
    pub fn new(contexts: BTreeMap<String, runway_verify::Context>) -> EngineProber {
        EngineProber { contexts }
    }
}

#[async_trait]
impl Prober for EngineProber {
    async fn probe(&self, environment: &str) -> Report {
        match self.contexts.get(environment) {
            Some(ctx) => runway_verify::engine::run(ctx).await,
            None => Report::new(
                environment,
                runway_core::Era::Unknown,
                "smoke",
                chrono::Utc::now(),
                0.0,
                vec![runway_core::CheckResult::fail(
                    "monitor.environment",
                    format!("no check context for `{environment}`"),
                    "add `[environments.<name>.monitor]` with a `url`",
                )],
            ),
        }
    }
}
