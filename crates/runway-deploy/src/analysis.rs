//! The watch after a deploy: samples in, pass / fail / inconclusive out.
//!
//! [`evaluate`] is pure over the samples, so every threshold is tested with
//! made-up numbers. [`watch`] takes a sample every interval for the bake
//! window and stops early after `consecutive_failures` failing samples in a
//! row (the detection delay is `interval × consecutive_failures`); it reads
//! time only through tokio's clock and stops on the `shutdown` future it is
//! given, so a test runs an hour's watch in milliseconds under
//! `tokio::time::pause()` and can interrupt it.

use std::{future::Future, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use runway_config::AnalysisConfig;
use serde::{Deserialize, Serialize};

/// One probe of the environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub at: DateTime<Utc>,
    /// The health endpoint answered 2xx.
    pub healthy: bool,
    /// The MCP call succeeded; `None` when none was made (health failed first).
    pub mcp_ok: Option<bool>,
    /// An authenticated request was refused (401/403).
    pub auth_refused: bool,
    /// Time of the whole sample, in milliseconds.
    pub latency_ms: f64,
    /// The version the server reported, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// What went wrong, in a few words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Sample {
    /// A sample counts against availability when the server did not answer
    /// health or its MCP call failed.
    pub fn failed(&self) -> bool {
        !self.healthy || self.mcp_ok == Some(false) || self.auth_refused
    }
}

/// The shortest time between two samples of a watch.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The conditions, from `[environments.<name>.analysis]` and its defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criteria {
    pub bake: Duration,
    pub interval: Duration,
    pub min_samples: u32,
    pub consecutive_failures: u32,
    pub availability_min: f64,
    pub error_rate_max: f64,
    pub auth_failure_max: f64,
    pub p95_max_ms: u64,
}

impl Criteria {
    pub fn from_config(c: Option<&AnalysisConfig>) -> Criteria {
        let d = AnalysisConfig::default();
        let c = c.unwrap_or(&d);
        Criteria {
            bake: c.bake(),
            interval: c.interval(),
            min_samples: c.min_samples(),
            consecutive_failures: c.consecutive_failures(),
            availability_min: c.availability_min(),
            error_rate_max: c.error_rate_max(),
            auth_failure_max: c.auth_failure_max(),
            p95_max_ms: c.p95_max_ms(),
        }
    }

    /// How long a fault takes to fail the watch: interval × consecutive failures.
    pub fn detection_delay(&self) -> Duration {
        self.interval * self.consecutive_failures
    }

    /// The same criteria over another window (`--for`). When the window is
    /// too short for `min_samples` samples at the configured interval, the
    /// interval shrinks so that it holds them (never below
    /// [`MIN_INTERVAL`]): a shortened watch still reaches a verdict, where it
    /// would otherwise end "inconclusive" every time.
    pub fn with_bake(mut self, bake: Duration) -> Criteria {
        self.bake = bake;
        let n = self.min_samples.max(1);
        if self.interval * n > bake {
            self.interval = (bake / n).max(MIN_INTERVAL).min(self.interval);
        }
        self
    }
}

/// What the samples add up to (recorded with the deployment).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Aggregates {
    pub samples: u32,
    /// Share of samples that did not fail, 0-1.
    pub availability: f64,
    /// Share of MCP calls that failed, 0-1.
    pub error_rate: f64,
    /// Share of authenticated requests refused, 0-1.
    pub auth_failure_rate: f64,
    pub p95_ms: f64,
    pub max_consecutive_failures: u32,
}

/// The watch's verdict (the same three as a traffic condition's).
pub use runway_signals::Verdict;

/// A verdict with its numbers and the reasons for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub verdict: Verdict,
    pub aggregates: Aggregates,
    /// Each breached condition (or why it is inconclusive), as a sentence.
    pub reasons: Vec<String>,
}

/// Nearest-rank percentile of `values` (0 when empty).
fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

pub fn aggregate(samples: &[Sample]) -> Aggregates {
    let n = samples.len();
    if n == 0 {
        return Aggregates::default();
    }
    let failed = samples.iter().filter(|s| s.failed()).count();
    let calls: Vec<bool> = samples.iter().filter_map(|s| s.mcp_ok).collect();
    let call_failures = calls.iter().filter(|ok| !**ok).count();
    let auth = samples.iter().filter(|s| s.auth_refused).count();
    let latencies: Vec<f64> = samples.iter().map(|s| s.latency_ms).collect();
    let mut run = 0u32;
    let mut max_run = 0u32;
    for s in samples {
        run = if s.failed() { run + 1 } else { 0 };
        max_run = max_run.max(run);
    }
    Aggregates {
        samples: n as u32,
        availability: (n - failed) as f64 / n as f64,
        error_rate: if calls.is_empty() {
            0.0
        } else {
            call_failures as f64 / calls.len() as f64
        },
        auth_failure_rate: auth as f64 / n as f64,
        p95_ms: percentile(&latencies, 95.0),
        max_consecutive_failures: max_run,
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Judges the samples. A breached threshold fails even with few samples
/// (a run of failures is not made acceptable by being short); passing needs
/// `min_samples`.
pub fn evaluate(samples: &[Sample], c: &Criteria) -> Analysis {
    let a = aggregate(samples);
    let mut reasons = Vec::new();
    if a.max_consecutive_failures >= c.consecutive_failures {
        reasons.push(format!(
            "{} failing samples in a row (limit {})",
            a.max_consecutive_failures, c.consecutive_failures
        ));
    }
    if a.samples >= c.min_samples || !reasons.is_empty() {
        if a.availability < c.availability_min {
            reasons.push(format!(
                "availability {} is below {}",
                pct(a.availability),
                pct(c.availability_min)
            ));
        }
        if a.error_rate > c.error_rate_max {
            reasons.push(format!(
                "error rate {} is above {}",
                pct(a.error_rate),
                pct(c.error_rate_max)
            ));
        }
        if a.auth_failure_rate > c.auth_failure_max {
            reasons.push(format!(
                "auth failures {} are above {}",
                pct(a.auth_failure_rate),
                pct(c.auth_failure_max)
            ));
        }
        if a.p95_ms > c.p95_max_ms as f64 {
            reasons.push(format!(
                "p95 latency {:.0} ms is above {} ms",
                a.p95_ms, c.p95_max_ms
            ));
        }
    }
    if !reasons.is_empty() {
        return Analysis {
            verdict: Verdict::Fail,
            aggregates: a,
            reasons,
        };
    }
    if a.samples < c.min_samples {
        return Analysis {
            verdict: Verdict::Inconclusive,
            reasons: vec![format!(
                "{} samples, fewer than the {} needed",
                a.samples, c.min_samples
            )],
            aggregates: a,
        };
    }
    Analysis {
        verdict: Verdict::Pass,
        aggregates: a,
        reasons: Vec::new(),
    }
}

/// Takes one sample of the environment.
#[async_trait]
pub trait Sampler: Send + Sync {
    async fn sample(&self) -> Sample;
}

/// How a watch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    /// The whole bake window was watched.
    Completed,
    /// Too many failures in a row: stopped before the window's end.
    FailedEarly,
    /// The shutdown future fired (Ctrl-C, SIGTERM).
    Interrupted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchOutcome {
    pub analysis: Analysis,
    pub ended: Ended,
    pub samples: Vec<Sample>,
    /// Each traffic condition over the watch (`[[analysis.conditions]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<runway_signals::ConditionSummary>,
}

/// Folds the conditions' verdicts into the probe's: any failed condition
/// fails the watch; an inconclusive one holds a passing watch for a human.
pub fn combine(analysis: &mut Analysis, conditions: &[runway_signals::ConditionSummary]) {
    let failed: Vec<&str> = conditions
        .iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .map(|c| c.reason.as_str())
        .collect();
    if !failed.is_empty() {
        if analysis.verdict != Verdict::Fail {
            analysis.reasons.clear();
        }
        analysis.verdict = Verdict::Fail;
        analysis
            .reasons
            .extend(failed.into_iter().map(str::to_owned));
        return;
    }
    if analysis.verdict == Verdict::Fail {
        return;
    }
    let unsure: Vec<String> = conditions
        .iter()
        .filter(|c| c.verdict == Verdict::Inconclusive)
        .map(|c| c.reason.clone())
        .collect();
    if !unsure.is_empty() {
        analysis.verdict = Verdict::Inconclusive;
        analysis.reasons.extend(unsure);
    }
}

/// Samples every `interval` for `bake` (the first sample at once), then judges.
/// `on_sample` sees each sample as it is taken (for progress output).
pub async fn watch(
    sampler: &dyn Sampler,
    criteria: &Criteria,
    shutdown: impl Future<Output = ()>,
    on_sample: impl FnMut(&Sample, usize) + Send,
) -> WatchOutcome {
    watch_with(sampler, None, criteria, shutdown, on_sample, |_| {}).await
}

/// [`watch`] with traffic conditions: at each tick, after the probe's
/// sample, every condition is read and judged once (`on_evaluations` sees
/// them); a condition failing `consecutive_failures` ticks in a row stops
/// the watch early, like the probe. The verdict folds both ([`combine`]).
pub async fn watch_with(
    sampler: &dyn Sampler,
    mut sources: Option<&mut runway_signals::Sources>,
    criteria: &Criteria,
    shutdown: impl Future<Output = ()>,
    mut on_sample: impl FnMut(&Sample, usize) + Send,
    mut on_evaluations: impl FnMut(&[runway_signals::Evaluation]) + Send,
) -> WatchOutcome {
    let start = tokio::time::Instant::now();
    let end = start + criteria.bake;
    // The number of samples is bounded by the window, whatever the clock does.
    let max = (criteria.bake.as_nanos() / criteria.interval.as_nanos().max(1)) as usize + 1;
    let mut samples = Vec::new();
    let mut run = 0u32;
    tokio::pin!(shutdown);
    let mut next = start;
    let ended = loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break Ended::Interrupted,
            () = tokio::time::sleep_until(next) => {}
        }
        let s = tokio::select! {
            biased;
            () = &mut shutdown => break Ended::Interrupted,
            s = sampler.sample() => s,
        };
        run = if s.failed() { run + 1 } else { 0 };
        samples.push(s);
        on_sample(samples.last().expect("just pushed"), samples.len());
        if let Some(src) = sources.as_deref_mut()
            && !src.is_empty()
        {
            let evals = tokio::select! {
                biased;
                () = &mut shutdown => break Ended::Interrupted,
                e = src.tick() => e,
            };
            on_evaluations(&evals);
            if src.failed_early() {
                break Ended::FailedEarly;
            }
        }
        if run >= criteria.consecutive_failures {
            break Ended::FailedEarly;
        }
        next += criteria.interval;
        if next > end || samples.len() >= max {
            break Ended::Completed;
        }
    };
    let mut analysis = evaluate(&samples, criteria);
    let conditions = sources.map(|s| s.summaries()).unwrap_or_default();
    combine(&mut analysis, &conditions);
    WatchOutcome {
        analysis,
        ended,
        samples,
        conditions,
    }
}

/// Latency differences smaller than this are noise, not a regression: a
/// freshly restarted process answers its first calls slower (imports, JIT,
/// connection pools), and a p95 of a few samples is nearly their maximum.
/// Without it, 19 ms before and 66 ms just after a restart read as "not back
/// to baseline" on a healthy Python server.
pub const BASELINE_LATENCY_SLACK_MS: f64 = 50.0;

/// A rolled-back version's health compared with its recorded baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineCheck {
    /// Error rate and p95 both back within bounds.
    pub back: bool,
    /// Both figures, now and at the baseline, for the operator.
    pub summary: String,
}

/// Whether a rolled-back version is back to its baseline: its error rate no
/// higher than before (plus one sample's worth) and its p95 within
/// `tolerance`× (plus [`BASELINE_LATENCY_SLACK_MS`]).
pub fn back_to_baseline(baseline: &Aggregates, now: &Aggregates, tolerance: f64) -> BaselineCheck {
    let slack = if now.samples > 0 {
        1.0 / f64::from(now.samples)
    } else {
        0.0
    };
    let latency_ok = baseline.p95_ms <= 0.0
        || now.p95_ms <= baseline.p95_ms * tolerance + BASELINE_LATENCY_SLACK_MS;
    let errors_ok = now.error_rate <= baseline.error_rate + slack
        && now.availability + slack >= baseline.availability;
    let summary = format!(
        "error rate {} (baseline {}), p95 {:.0} ms (baseline {:.0} ms)",
        pct(now.error_rate),
        pct(baseline.error_rate),
        now.p95_ms,
        baseline.p95_ms
    );
    BaselineCheck {
        back: latency_ok && errors_ok,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    };

    use super::*;

    fn ok(ms: f64) -> Sample {
        Sample {
            at: Utc::now(),
            healthy: true,
            mcp_ok: Some(true),
            auth_refused: false,
            latency_ms: ms,
            version: None,
            error: None,
        }
    }

    fn down() -> Sample {
        Sample {
            healthy: false,
            mcp_ok: None,
            error: Some("connection refused".into()),
            ..ok(5.0)
        }
    }

    fn criteria() -> Criteria {
        Criteria::from_config(None)
    }

    #[test]
    fn the_seeds_thresholds_are_the_defaults() {
        let c = criteria();
        assert_eq!(c.availability_min, 0.95);
        assert_eq!(c.auth_failure_max, 0.10);
        assert_eq!(c.p95_max_ms, 2000);
        assert_eq!(c.detection_delay(), Duration::from_secs(180));
    }

    #[test]
    fn a_shorter_window_shrinks_the_interval_to_hold_the_samples_it_needs() {
        // The default: a sample every 60 s, 10 needed.
        let c = criteria();
        assert_eq!((c.interval, c.min_samples), (Duration::from_secs(60), 10));
        let short = c.clone().with_bake(Duration::from_secs(30));
        assert_eq!(short.bake, Duration::from_secs(30));
        assert_eq!(short.interval, Duration::from_secs(3));
        assert!(short.interval * short.min_samples <= short.bake);
        // Never below a second a sample: 5 s holds 5 samples, not 10.
        let tiny = c.clone().with_bake(Duration::from_secs(5));
        assert_eq!(tiny.interval, MIN_INTERVAL);
        // A window long enough keeps the configured interval.
        let long = c.clone().with_bake(Duration::from_secs(3600));
        assert_eq!(long.interval, Duration::from_secs(60));
    }

    #[test]
    fn healthy_samples_pass_and_too_few_are_inconclusive() {
        let c = criteria();
        let a = evaluate(&vec![ok(10.0); 10], &c);
        assert_eq!(a.verdict, Verdict::Pass, "{:?}", a.reasons);
        assert_eq!(a.aggregates.availability, 1.0);
        let a = evaluate(&vec![ok(10.0); 9], &c);
        assert_eq!(a.verdict, Verdict::Inconclusive);
        assert!(a.reasons[0].contains("9 samples"), "{:?}", a.reasons);
        assert_eq!(evaluate(&[], &c).verdict, Verdict::Inconclusive);
    }

    #[test]
    fn availability_below_95_percent_fails() {
        let c = criteria();
        // 19 of 20 is exactly 95%: passes. 18 of 20 is 90%: fails.
        let mut s = vec![ok(10.0); 19];
        s.insert(5, down());
        assert_eq!(evaluate(&s, &c).verdict, Verdict::Pass);
        s.insert(12, down());
        let a = evaluate(&s, &c);
        assert_eq!(a.verdict, Verdict::Fail);
        assert!(
            a.reasons[0].contains("availability 90.5%"),
            "{:?}",
            a.reasons
        );
    }

    #[test]
    fn auth_failures_above_10_percent_fail() {
        let mut c = criteria();
        c.availability_min = 0.0;
        c.consecutive_failures = 100;
        let refused = Sample {
            auth_refused: true,
            mcp_ok: Some(false),
            ..ok(10.0)
        };
        let mut s = vec![ok(10.0); 18];
        s.extend([refused.clone(), refused.clone()]);
        let a = evaluate(&s, &c);
        assert_eq!(a.aggregates.auth_failure_rate, 0.10);
        assert!(
            !a.reasons.iter().any(|r| r.contains("auth")),
            "{:?}",
            a.reasons
        );
        s.push(refused);
        let a = evaluate(&s, &c);
        assert!(
            a.reasons.iter().any(|r| r.contains("auth failures 14.3%")),
            "{:?}",
            a.reasons
        );
        assert_eq!(a.verdict, Verdict::Fail);
    }

    #[test]
    fn p95_above_two_seconds_fails_and_error_rate_counts_calls() {
        let c = criteria();
        let mut s = vec![ok(100.0); 18];
        s.extend([ok(2500.0), ok(2600.0)]);
        // Nearest-rank p95 of 20 samples is the 19th smallest.
        let a = evaluate(&s, &c);
        assert_eq!(a.aggregates.p95_ms, 2500.0);
        assert!(
            a.reasons.iter().any(|r| r.contains("p95 latency 2500 ms")),
            "{:?}",
            a.reasons
        );

        let bad_call = Sample {
            mcp_ok: Some(false),
            ..ok(10.0)
        };
        let mut c = criteria();
        c.availability_min = 0.0;
        c.consecutive_failures = 100;
        let mut s = vec![ok(10.0); 9];
        s.push(bad_call);
        let a = evaluate(&s, &c);
        assert_eq!(a.aggregates.error_rate, 0.1);
        assert!(
            a.reasons.iter().any(|r| r.contains("error rate 10.0%")),
            "{:?}",
            a.reasons
        );
    }

    #[test]
    fn a_run_of_failures_fails_even_with_few_samples() {
        let a = evaluate(&[ok(1.0), down(), down(), down()], &criteria());
        assert_eq!(a.verdict, Verdict::Fail);
        assert_eq!(a.aggregates.max_consecutive_failures, 3);
    }

    #[test]
    fn baseline_comparison_allows_tolerance() {
        let base = aggregate(&vec![ok(100.0); 10]);
        let same = aggregate(&vec![ok(140.0); 10]);
        assert!(back_to_baseline(&base, &same, 1.5).back);
        let slow = aggregate(&vec![ok(400.0); 10]);
        assert!(!back_to_baseline(&base, &slow, 1.5).back);
        let mut errs = vec![ok(100.0); 8];
        errs.extend([down(), down()]);
        assert!(!back_to_baseline(&base, &aggregate(&errs), 1.5).back);
        // A restarted server's first calls: slower, but by milliseconds.
        let fast = aggregate(&vec![ok(19.0); 10]);
        let warming = aggregate(&vec![ok(66.0); 5]);
        assert!(back_to_baseline(&fast, &warming, 1.5).back);
        let really_slow = aggregate(&vec![ok(19.0 * 1.5 + 60.0); 5]);
        assert!(!back_to_baseline(&fast, &really_slow, 1.5).back);
    }

    /// Plays back a script of samples and counts calls.
    struct Script {
        fail_from: usize,
        calls: AtomicUsize,
    }

    #[async_trait]
    impl Sampler for Script {
        async fn sample(&self) -> Sample {
            let i = self.calls.fetch_add(1, Ordering::SeqCst);
            if i >= self.fail_from {
                down()
            } else {
                ok(20.0)
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_hour_watch_takes_61_samples_in_simulated_time() {
        let s = Script {
            fail_from: usize::MAX,
            calls: AtomicUsize::new(0),
        };
        let started = tokio::time::Instant::now();
        let seen = Arc::new(Mutex::new(0));
        let seen2 = seen.clone();
        let out = watch(&s, &criteria(), std::future::pending(), move |_, n| {
            *seen2.lock().unwrap() = n;
        })
        .await;
        assert_eq!(out.ended, Ended::Completed);
        assert_eq!(out.samples.len(), 61);
        assert_eq!(*seen.lock().unwrap(), 61);
        assert_eq!(out.analysis.verdict, Verdict::Pass);
        assert_eq!(started.elapsed(), Duration::from_secs(3600));
    }

    #[tokio::test(start_paused = true)]
    async fn consecutive_failures_stop_the_watch_after_the_detection_delay() {
        let s = Script {
            fail_from: 5,
            calls: AtomicUsize::new(0),
        };
        let c = criteria();
        let started = tokio::time::Instant::now();
        let out = watch(&s, &c, std::future::pending(), |_, _| {}).await;
        assert_eq!(out.ended, Ended::FailedEarly);
        assert_eq!(out.samples.len(), 8);
        assert_eq!(out.analysis.verdict, Verdict::Fail);
        // The first failing sample is at 5 min; the watch fails 2 intervals later.
        assert_eq!(started.elapsed(), Duration::from_secs(7 * 60));
        assert_eq!(
            started.elapsed() - Duration::from_secs(5 * 60) + c.interval,
            c.detection_delay()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_interrupts_the_watch() {
        let s = Script {
            fail_from: usize::MAX,
            calls: AtomicUsize::new(0),
        };
        let shutdown = tokio::time::sleep(Duration::from_secs(150));
        let out = watch(&s, &criteria(), shutdown, |_, _| {}).await;
        assert_eq!(out.ended, Ended::Interrupted);
        assert_eq!(out.samples.len(), 3);
        assert_eq!(out.analysis.verdict, Verdict::Inconclusive);
    }

    /// The watch with traffic conditions (moved from the sources' tests).
    mod conditions {
        use std::time::Duration;

        use super::*;

        use runway_config::sources::{Selector, SourceKind};
        use runway_signals::{Condition, Expr, Reading, Source, Sources};

        fn sel(s: &str) -> Selector {
            Selector::parse(s).unwrap()
        }

        fn auth_ratio(max: Option<f64>, factor: Option<f64>) -> Condition {
            Condition {
                name: "auth denied".into(),
                source: SourceKind::Metrics,
                expr: Expr::Ratio {
                    numerator: sel(r#"denied_total{reason="invalid_token"}"#),
                    denominator: sel(r#"http_requests_total{path="/mcp"}"#),
                },
                window: None,
                min_requests: 1,
                max,
                min: None,
                baseline_factor: factor,
            }
        }

        /// A source that plays back a script of readings.
        struct Script(std::collections::VecDeque<Reading>);

        #[async_trait::async_trait]
        impl Source for Script {
            async fn read(&mut self, conditions: &[&Condition]) -> Vec<Reading> {
                let r = self
                    .0
                    .pop_front()
                    .unwrap_or(Reading::Empty("script over".into()));
                conditions.iter().map(|_| r.clone()).collect()
            }
            async fn baseline(&mut self, conditions: &[&Condition]) -> Vec<Option<Reading>> {
                conditions.iter().map(|_| None).collect()
            }
        }

        fn scripted(readings: Vec<Reading>, consecutive: u32, error_limit: u32) -> Sources {
            Sources::new(vec![auth_ratio(Some(0.1), None)], consecutive).with_source(
                SourceKind::Metrics,
                Box::new(Script(readings.into())),
                error_limit,
            )
        }

        struct Healthy;

        #[async_trait::async_trait]
        impl crate::analysis::Sampler for Healthy {
            async fn sample(&self) -> crate::analysis::Sample {
                crate::analysis::Sample {
                    at: chrono::Utc::now(),
                    healthy: true,
                    mcp_ok: Some(true),
                    auth_refused: false,
                    latency_ms: 5.0,
                    version: None,
                    error: None,
                }
            }
        }

        #[tokio::test(start_paused = true)]
        async fn a_watch_whose_probe_passes_fails_on_a_traffic_condition_after_the_detection_delay()
        {
            let criteria = crate::analysis::Criteria::from_config(None);
            // The first reading is the first scrape (nothing to compare), then 30% denied.
            let mut readings = vec![Reading::Empty("one scrape so far".into())];
            readings.extend(vec![Reading::Value(0.3); 100]);
            let mut s = scripted(readings, criteria.consecutive_failures, 4);
            let started = tokio::time::Instant::now();
            let mut seen = 0;
            let out = crate::analysis::watch_with(
                &Healthy,
                Some(&mut s),
                &criteria,
                std::future::pending(),
                |_, _| {},
                |e| seen += e.len(),
            )
            .await;
            assert_eq!(out.ended, crate::analysis::Ended::FailedEarly);
            assert_eq!(out.analysis.verdict, Verdict::Fail);
            assert!(out.samples.iter().all(|s| !s.failed()));
            assert_eq!(seen, 4);
            // Three failing readings after the first scrape: 3 intervals.
            assert_eq!(started.elapsed(), criteria.detection_delay());
            let why = out.analysis.reasons.join("; ");
            assert!(
                why.contains("condition `auth denied` (metrics)") && why.contains("0.3"),
                "{why}"
            );
            assert_eq!(out.conditions.len(), 1);
            assert_eq!(out.conditions[0].last_value, Some(0.3));

            // The same watch with a condition never judged: the probe passes, the watch is held.
            let mut s = scripted(
                vec![Reading::Empty("the query returned no series".into()); 100],
                3,
                4,
            );
            let out = crate::analysis::watch_with(
                &Healthy,
                Some(&mut s),
                &criteria.clone().with_bake(Duration::from_secs(600)),
                std::future::pending(),
                |_, _| {},
                |_| {},
            )
            .await;
            assert_eq!(out.ended, crate::analysis::Ended::Completed);
            assert_eq!(out.analysis.verdict, Verdict::Inconclusive);
            assert!(
                out.analysis.reasons.join(" ").contains("never judged"),
                "{:?}",
                out.analysis.reasons
            );
        }
    }
}
