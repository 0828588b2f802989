//! The shared schedule: several `runway monitor` workers pointed at one
//! ledger run each due check exactly once per interval.
//!
//! A worker registers its jobs, then loops: claim what is due
//! ([`Ledger::schedule_claim`], a lease per slot), run each claim under its
//! timeout, and complete it ([`Ledger::schedule_complete`]: the result is
//! stored as that slot's run and the job moves to its next slot, only while
//! the lease holds). Between claims it sleeps until the earliest moment a
//! row can be claimed (a due time, a lapsing lease), at most `poll`. A
//! worker that dies stops completing; its leases lapse and the others take
//! its slots within one lease period. On shutdown no new claim is made; the
//! runs under way finish or are cut at their timeout and are completed.
//!
//! A job is known to the schedule by [`Job::key`]: its environment, or
//! `environment@location` when the worker has a location, so each location
//! runs every environment once per interval and the workers of one location
//! share (and take over) that location's rows.

use std::{collections::HashMap, future::Future, sync::Arc, time::Duration};

use runway_ledger::{Ledger, LedgerError, ScheduleClaim, ScheduledJob};
use tokio::{task::JoinSet, time::Instant};

use crate::{
    outcome::Outcome,
    scheduler::{Job, RunStats, Scheduler, probe_job},
};

/// Added to the longest timeout to make the lease: a run is cut at its
/// timeout, and storing it must still fall inside the lease.
pub const LEASE_MARGIN: Duration = Duration::from_secs(5);

/// The shortest sleep between two claims (a busy schedule is claimed in batches).
const MIN_WAIT: Duration = Duration::from_millis(10);

/// Runs under way in one worker at most, by default: a worker that claims
/// more than it can run in time only lets its leases lapse; the rest wait
/// in the schedule for another worker (or this one's next round).
pub const MAX_RUNNING: usize = 128;

/// Claims made at once at most.
const CLAIM_BATCH: usize = 256;

/// How one worker takes part in the shared schedule.
#[derive(Debug, Clone)]
pub struct SharedOptions {
    /// This worker's name, stored with every run it makes (`host:pid`).
    pub worker: String,
    /// How long a claim holds; when it lapses another worker may take the slot.
    pub lease: Duration,
    /// The longest sleep between two claims.
    pub poll: Duration,
    /// Runs under way at most.
    pub max_running: usize,
}

impl SharedOptions {
    /// A lease of the longest job timeout plus [`LEASE_MARGIN`], polling at
    /// most every second.
    pub fn for_jobs(worker: impl Into<String>, jobs: &[Job]) -> SharedOptions {
        let longest = jobs.iter().map(|j| j.timeout).max().unwrap_or_default();
        SharedOptions {
            worker: worker.into(),
            lease: longest + LEASE_MARGIN,
            poll: Duration::from_secs(1),
            max_running: jobs.len().clamp(1, MAX_RUNNING),
        }
    }
}

/// What one claimed run came to.
struct Done {
    outcome: Outcome,
    stored: bool,
    /// Until the job's next slot, when it was stored.
    next: Option<Duration>,
    error: bool,
}

impl Scheduler {
    fn registrations(&mut self, jitter: bool) -> Vec<ScheduledJob> {
        let n = self.jobs().len();
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let (name, interval, max) = {
                let j = &self.jobs()[i];
                (j.key(), j.interval, j.jitter)
            };
            let first_delay = if jitter {
                crate::scheduler::phase(i, n, interval) + self.jitter(max)
            } else {
                Duration::ZERO
            };
            out.push(ScheduledJob {
                job: name,
                interval,
                first_delay,
            });
        }
        out
    }

    /// `runway monitor --once` on a shared schedule: claims every check of
    /// this worker's that is due now (a new one is), runs them all at once,
    /// and returns the runs it stored, in job order.
    pub async fn run_shared_once(
        mut self,
        ledger: Arc<dyn Ledger>,
        opts: SharedOptions,
    ) -> Result<Vec<Outcome>, LedgerError> {
        let register = self.registrations(false);
        ledger.schedule_register(&register).await?;
        let names: Vec<String> = self.jobs().iter().map(Job::key).collect();
        let claims = ledger
            .schedule_claim(&opts.worker, &names, opts.lease, names.len() as i64)
            .await?;
        let (prober, sink, clock) = self.parts();
        let parts = Arc::new(Parts {
            prober,
            sink,
            clock,
            ledger: ledger.clone(),
        });
        let mut set = JoinSet::new();
        for claim in claims {
            let Some(job) = self.jobs().iter().find(|j| j.key() == claim.job).cloned() else {
                let _ = ledger.schedule_release(&claim).await;
                continue;
            };
            let next_jitter = self.jitter(job.jitter);
            set.spawn(run_claimed(job, claim, next_jitter, parts.clone()));
        }
        let mut out = Vec::new();
        while let Some(done) = set.join_next().await {
            match done {
                Ok(d) if d.stored => out.push(d.outcome),
                Ok(_) => {}
                Err(e) => tracing::error!("a monitor run panicked: {e}"),
            }
        }
        out.sort_by_key(|o| {
            self.jobs()
                .iter()
                .position(|j| j.environment == o.environment)
        });
        Ok(out)
    }

    /// Runs this worker's part of the shared schedule in `ledger` until
    /// `shutdown` completes, then drains. Fails only when the jobs cannot
    /// be registered.
    pub async fn run_shared(
        mut self,
        ledger: Arc<dyn Ledger>,
        opts: SharedOptions,
        shutdown: impl Future<Output = ()>,
    ) -> Result<RunStats, LedgerError> {
        let mut stats = RunStats::default();
        let register = self.registrations(true);
        ledger.schedule_register(&register).await?;
        let jobs: HashMap<String, Job> = self.jobs().iter().map(|j| (j.key(), j.clone())).collect();
        let names: Vec<String> = self.jobs().iter().map(Job::key).collect();
        let (prober, sink, clock) = self.parts();
        let parts = Arc::new(Parts {
            prober,
            sink,
            clock,
            ledger: ledger.clone(),
        });
        let mut set: JoinSet<Done> = JoinSet::new();
        let mut wake = Instant::now();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                Some(done) = set.join_next(), if !set.is_empty() => {
                    match done {
                        Ok(d) => {
                            if d.stored {
                                stats.recorded += 1;
                            } else if d.error {
                                stats.ledger_errors += 1;
                            } else {
                                stats.lost += 1;
                            }
                            if let Some(next) = d.next {
                                wake = wake.min(Instant::now() + next);
                            }
                        }
                        Err(e) => tracing::error!("a monitor run panicked: {e}"),
                    }
                }
                _ = tokio::time::sleep_until(wake) => {
                    let free = opts.max_running.saturating_sub(set.len()).min(CLAIM_BATCH);
                    let claims = match ledger
                        .schedule_claim(&opts.worker, &names, opts.lease, free as i64)
                        .await
                    {
                        Ok(c) => c,
                        Err(e) => {
                            stats.ledger_errors += 1;
                            tracing::warn!("cannot claim due monitor checks: {e}");
                            Vec::new()
                        }
                    };
                    let full = claims.len() >= free;
                    for claim in claims {
                        let Some(job) = jobs.get(&claim.job).cloned() else {
                            // Not ours (only ours are asked for); give it back.
                            let _ = ledger.schedule_release(&claim).await;
                            continue;
                        };
                        if let Some(from) = &claim.took_over_from {
                            stats.taken_over += 1;
                            tracing::warn!(
                                environment = %claim.job,
                                from = %from,
                                "took over a check whose worker's lease lapsed"
                            );
                        }
                        let next_jitter = self.jitter(job.jitter);
                        stats.started += 1;
                        set.spawn(run_claimed(job, claim, next_jitter, parts.clone()));
                    }
                    let wait = if full {
                        // More may be due than one batch took.
                        MIN_WAIT
                    } else {
                        match ledger.schedule_next_wake(&names, &opts.worker).await {
                            Ok(Some(w)) => w.clamp(MIN_WAIT, opts.poll),
                            Ok(None) => opts.poll,
                            Err(e) => {
                                stats.ledger_errors += 1;
                                tracing::warn!("cannot read the monitor schedule: {e}");
                                opts.poll
                            }
                        }
                    };
                    wake = Instant::now() + wait;
                }
            }
        }
        stats.drained = set.len() as u64;
        while let Some(done) = set.join_next().await {
            match done {
                Ok(d) if d.stored => stats.recorded += 1,
                Ok(d) if d.error => stats.ledger_errors += 1,
                Ok(_) => stats.lost += 1,
                Err(e) => tracing::error!("a monitor run panicked: {e}"),
            }
        }
        Ok(stats)
    }
}

/// What every claimed run needs, shared by a worker's runs.
struct Parts {
    prober: Arc<dyn crate::Prober>,
    sink: Arc<dyn crate::Sink>,
    clock: Arc<dyn crate::Clock>,
    ledger: Arc<dyn Ledger>,
}

async fn run_claimed(
    job: Job,
    claim: ScheduleClaim,
    next_jitter: Duration,
    parts: Arc<Parts>,
) -> Done {
    let Parts {
        prober,
        sink,
        clock,
        ledger,
    } = parts.as_ref();
    let outcome = probe_job(&job, prober.as_ref(), clock.as_ref()).await;
    match ledger
        .schedule_complete(&claim, &outcome.to_stored(), next_jitter)
        .await
    {
        Ok(Some(next)) => {
            sink.record_stored(&outcome).await;
            Done {
                outcome: outcome.clone(),
                stored: true,
                next: Some(next),
                error: false,
            }
        }
        Ok(None) => {
            tracing::warn!(
                environment = %claim.job,
                "this worker's lease on a check lapsed before its run was stored; another worker ran that slot, so this run is discarded"
            );
            Done {
                outcome: outcome.clone(),
                stored: false,
                next: None,
                error: false,
            }
        }
        Err(e) => {
            tracing::error!(environment = %claim.job, "could not store a monitor run: {e}");
            Done {
                outcome: outcome.clone(),
                stored: false,
                next: None,
                error: true,
            }
        }
    }
}
