//! The `performance` gate's verdict: the release was started locally and
//! measured (see `runway-runbook`'s trial); this judges what was measured
//! against `[environments.<name>.gates.performance]`.
//!
//! The defaults are MockLoop's release criteria (healthy within 10 s, peak
//! memory under 512 MB, p95 under 100 ms) and Hostaway's "100 concurrent
//! requests: no errors".

use std::time::Duration;

use runway_config::deploy::PerformanceGate;

use crate::verdict::{GateStatus, Verdict};

const GATE: &str = "performance";

/// What a load against the started release measured.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadFigures {
    /// What was sent (`GET /health`, `tools/call echo`).
    pub target: String,
    pub concurrency: usize,
    pub requests: u64,
    pub errors: u64,
    pub p95_ms: f64,
    pub throughput_rps: f64,
    /// How many requests got each HTTP status (`error`: no response).
    pub statuses: std::collections::BTreeMap<String, u64>,
}

/// What the trial of a release found, step by step: a step that could not
/// be taken leaves the later ones `None`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrialOutcome {
    /// How it was started (`process `sh serve.sh 1.2.0 40123``, `container mcp-runway-trial`).
    pub started_as: String,
    /// Time from start to healthy, or why it never was.
    pub startup: Option<Result<Duration, String>>,
    /// The highest resident memory seen while it started and under load.
    pub peak_rss_bytes: Option<u64>,
    /// Why memory could not be read (the gate refuses: a limit it cannot check is no limit).
    pub rss_error: Option<String>,
    /// The load, or why it could not run.
    pub load: Option<Result<LoadFigures, String>>,
    /// Whether the trial server was stopped afterwards (with what it started).
    pub cleanup: Option<String>,
}

fn mb(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / (1024.0 * 1024.0))
}

/// The gate's verdict. `None` with a configured gate: it was not run (a plan).
pub fn judge(cfg: Option<&PerformanceGate>, outcome: Option<&TrialOutcome>) -> Verdict {
    let Some(cfg) = cfg else {
        return Verdict::new(GATE, GateStatus::Skipped, "no performance criteria");
    };
    let criteria = describe(cfg);
    let Some(o) = outcome else {
        return Verdict::new(
            GATE,
            GateStatus::Skipped,
            format!("runs when deploying: the release is started locally and must meet {criteria}"),
        );
    };
    let mut short = Vec::new();
    let mut met = Vec::new();
    let mut rate_limited = false;
    match &o.startup {
        None => short.push("it was not started".to_owned()),
        Some(Err(why)) => short.push(format!("it did not become healthy: {why}")),
        Some(Ok(d)) if *d > cfg.startup_max() => short.push(format!(
            "healthy after {:.1} s, over {:.1} s",
            d.as_secs_f64(),
            cfg.startup_max().as_secs_f64()
        )),
        Some(Ok(d)) => met.push(format!("healthy in {:.1} s", d.as_secs_f64())),
    }
    match (o.peak_rss_bytes, &o.rss_error) {
        (Some(b), _) if b > cfg.max_rss_bytes() => short.push(format!(
            "peak memory {}, over {}",
            mb(b),
            mb(cfg.max_rss_bytes())
        )),
        (Some(b), _) => met.push(format!("peak memory {}", mb(b))),
        (None, Some(why)) => short.push(format!("its memory could not be read: {why}")),
        (None, None) if o.startup.as_ref().is_some_and(Result::is_ok) => {
            short.push("its memory was never read".to_owned())
        }
        (None, None) => {}
    }
    match &o.load {
        None if o.startup.as_ref().is_some_and(Result::is_ok) => {
            short.push("no load was run".to_owned())
        }
        None => {}
        Some(Err(why)) => short.push(format!("the load could not run: {why}")),
        Some(Ok(l)) => {
            let rate = if l.requests == 0 {
                1.0
            } else {
                l.errors as f64 / l.requests as f64
            };
            let p95 = cfg.p95_max().as_secs_f64() * 1000.0;
            let load = format!("{} x{}", l.target, l.concurrency);
            if l.requests == 0 {
                short.push(format!("{load}: no request was answered"));
            } else if rate > cfg.max_error_rate() {
                let seen: Vec<String> = l
                    .statuses
                    .iter()
                    .map(|(status, n)| format!("{status} x{n}"))
                    .collect();
                short.push(format!(
                    "{load}: {} of {} requests failed ({:.1}%, budget {:.1}%; statuses {})",
                    l.errors,
                    l.requests,
                    rate * 100.0,
                    cfg.max_error_rate() * 100.0,
                    seen.join(", ")
                ));
                if l.statuses.get("429").is_some_and(|n| *n * 2 >= l.errors) {
                    rate_limited = true;
                }
            } else {
                met.push(format!(
                    "{load}: {} requests, {} failed",
                    l.requests, l.errors
                ));
            }
            if l.p95_ms > p95 {
                short.push(format!("p95 {:.1} ms, over {p95:.0} ms", l.p95_ms));
            } else {
                met.push(format!("p95 {:.1} ms", l.p95_ms));
            }
            match cfg.min_rps {
                Some(min) if l.throughput_rps < min => short.push(format!(
                    "{:.0} requests/s, under {min:.0}",
                    l.throughput_rps
                )),
                _ => met.push(format!("{:.0} requests/s", l.throughput_rps)),
            }
        }
    }
    let mut detail = if short.is_empty() {
        format!("{}: {}", o.started_as, met.join(", "))
    } else if met.is_empty() {
        format!("{}: {}", o.started_as, short.join("; "))
    } else {
        // What passed too: a refusal is read beside the figures that did not move.
        format!(
            "{}: {}; within: {}",
            o.started_as,
            short.join("; "),
            met.join(", ")
        )
    };
    if let Some(c) = &o.cleanup {
        detail.push_str(&format!(" ({c})"));
    }
    if short.is_empty() {
        Verdict::new(GATE, GateStatus::Pass, detail)
    } else {
        let hint = if rate_limited {
            format!(
                "the server's rate limit answered most of the load with 429: raise it for the trial (a setting in `deploy.env`) or lower `gates.performance.concurrency`; the criteria are {criteria}"
            )
        } else {
            format!(
                "this release misses {criteria}: fix the regression, or change `gates.performance` if the criteria moved"
            )
        };
        Verdict::new(GATE, GateStatus::Refuse, detail).hint(hint)
    }
}

/// The criteria in one line: `healthy within 10 s, under 512 MB, p95 under 100 ms at 100 concurrent, no errors`.
pub fn describe(cfg: &PerformanceGate) -> String {
    let mut out = format!(
        "healthy within {:.0} s, at most {}, p95 at most {:.0} ms at {} concurrent",
        cfg.startup_max().as_secs_f64(),
        mb(cfg.max_rss_bytes()),
        cfg.p95_max().as_secs_f64() * 1000.0,
        cfg.concurrency()
    );
    if let Some(r) = cfg.min_rps {
        out.push_str(&format!(", at least {r:.0} requests/s"));
    }
    if cfg.max_error_rate() == 0.0 {
        out.push_str(", no errors");
    } else {
        out.push_str(&format!(
            ", at most {:.1}% errors",
            cfg.max_error_rate() * 100.0
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(toml_text: &str) -> PerformanceGate {
        toml::from_str(toml_text).unwrap()
    }

    fn good() -> TrialOutcome {
        TrialOutcome {
            started_as: "process `serve 1.2.0`".into(),
            startup: Some(Ok(Duration::from_millis(1200))),
            peak_rss_bytes: Some(40 * 1024 * 1024),
            rss_error: None,
            load: Some(Ok(LoadFigures {
                target: "GET /health".into(),
                concurrency: 100,
                requests: 2000,
                errors: 0,
                p95_ms: 12.5,
                throughput_rps: 3100.0,
                statuses: [("200".to_owned(), 2000)].into(),
            })),
            cleanup: Some("stopped".into()),
        }
    }

    #[test]
    fn a_release_within_every_criterion_passes_and_says_what_it_measured() {
        let v = judge(Some(&cfg("min_rps = 1000")), Some(&good()));
        assert_eq!(v.status, GateStatus::Pass, "{v:?}");
        for part in [
            "healthy in 1.2 s",
            "peak memory 40 MB",
            "GET /health x100: 2000 requests, 0 failed",
            "p95 12.5 ms",
            "3100 requests/s",
            "(stopped)",
        ] {
            assert!(v.detail.contains(part), "{part}: {}", v.detail);
        }
    }

    #[test]
    fn each_criterion_missed_refuses_with_the_figure_and_the_limit() {
        let c = cfg("min_rps = 1000\nmax_rss_mb = 32\nstartup_max = \"1s\"");
        let mut o = good();
        o.load = Some(Ok(LoadFigures {
            errors: 3,
            statuses: [("200".to_owned(), 1997), ("500".to_owned(), 3)].into(),
            p95_ms: 180.0,
            throughput_rps: 400.0,
            ..match good().load {
                Some(Ok(l)) => l,
                _ => unreachable!(),
            }
        }));
        let v = judge(Some(&c), Some(&o));
        assert_eq!(v.status, GateStatus::Refuse);
        for part in [
            "healthy after 1.2 s, over 1.0 s",
            "peak memory 40 MB, over 32 MB",
            "3 of 2000 requests failed (0.1%, budget 0.0%; statuses 200 x1997, 500 x3)",
            "p95 180.0 ms, over 100 ms",
            "400 requests/s, under 1000",
        ] {
            assert!(v.detail.contains(part), "{part}: {}", v.detail);
        }
        assert!(v.hint.unwrap().contains("at least 1000 requests/s"));
    }

    #[test]
    fn a_load_refused_by_the_servers_rate_limit_says_so() {
        let mut o = good();
        if let Some(Ok(l)) = &mut o.load {
            l.errors = 1900;
            l.statuses = [("200".to_owned(), 100), ("429".to_owned(), 1900)].into();
        }
        let v = judge(Some(&cfg("")), Some(&o));
        assert_eq!(v.status, GateStatus::Refuse);
        assert!(
            v.detail.contains("statuses 200 x100, 429 x1900"),
            "{}",
            v.detail
        );
        assert!(
            v.hint
                .unwrap()
                .contains("rate limit answered most of the load with 429")
        );
    }

    #[test]
    fn an_error_budget_lets_a_few_failures_through() {
        let c = cfg("max_error_rate = 0.01");
        let mut o = good();
        if let Some(Ok(l)) = &mut o.load {
            l.errors = 20;
        }
        assert_eq!(judge(Some(&c), Some(&o)).status, GateStatus::Pass);
        if let Some(Ok(l)) = &mut o.load {
            l.errors = 21;
        }
        assert_eq!(judge(Some(&c), Some(&o)).status, GateStatus::Refuse);
    }

    #[test]
    fn a_server_that_never_became_healthy_or_whose_memory_is_unknown_refuses() {
        let c = cfg("");
        let o = TrialOutcome {
            started_as: "process `serve`".into(),
            startup: Some(Err("exited with status 3".into())),
            ..TrialOutcome::default()
        };
        let v = judge(Some(&c), Some(&o));
        assert_eq!(v.status, GateStatus::Refuse);
        assert!(
            v.detail
                .contains("did not become healthy: exited with status 3")
        );
        let mut o = good();
        o.peak_rss_bytes = None;
        o.rss_error = Some("no such container".into());
        let v = judge(Some(&c), Some(&o));
        assert_eq!(v.status, GateStatus::Refuse);
        assert!(
            v.detail
                .contains("memory could not be read: no such container")
        );
    }

    #[test]
    fn unconfigured_skips_and_a_plan_says_when_it_runs_and_against_what() {
        assert_eq!(judge(None, Some(&good())).status, GateStatus::Skipped);
        let v = judge(Some(&cfg("")), None);
        assert_eq!(v.status, GateStatus::Skipped);
        assert!(
            v.detail.contains(
                "healthy within 10 s, at most 512 MB, p95 at most 100 ms at 100 concurrent, no errors"
            ),
            "{}",
            v.detail
        );
    }

    #[test]
    fn unknown_keys_are_refused_and_the_load_is_bounded_by_requests_or_duration() {
        let bad: Result<PerformanceGate, _> = toml::from_str("concurency = 5");
        assert!(bad.is_err());
        let c = cfg("requests = 0");
        assert_eq!(c.requests(), Some(0));
        assert_eq!(cfg("duration = \"5s\"").requests(), None);
        assert_eq!(cfg("").requests(), Some(2000));
    }
}
