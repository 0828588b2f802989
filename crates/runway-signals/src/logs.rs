//! The `logs` source: lines of the deployed version's output that match a
//! pattern, per minute (Tabcorp: "watch logs for the first 15-30 minutes for
//! error patterns").
//!
//! The output comes from a [`LogFeed`] (runway-deploy reads it through the
//! target: the process target's log file after the version's start marker,
//! the docker target's container logs), always as a bounded tail. Each tick
//! counts the complete lines that are new since the previous tick: by their
//! number while the whole of the version's output fits in the tail, and past
//! that by finding the last lines seen before (an anchor) in the new tail.
//! When the anchor is gone too (more than the bound was printed in one
//! interval), every line of the tail is counted and the reading says it is a
//! lower bound.
//!
//! The baseline is the previous version's average rate over its life: its
//! matching lines (in the bounded tail, read before the deploy) divided by
//! how long it ran. It is read while the previous version still serves.

use std::time::Duration;

use async_trait::async_trait;

use crate::{Condition, Expr, Reading, Source};

/// The largest tail read at each tick, by default (1 MiB).
pub const DEFAULT_MAX_BYTES: usize = 1024 * 1024;

/// Lines of the anchor that finds where the previous read ended.
const ANCHOR_LINES: usize = 3;

/// The running version's output, bounded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tail {
    /// The newest output of the version that runs now, at most the bound.
    pub text: String,
    /// Whether older output of this version was left out.
    pub truncated: bool,
}

/// Where a `logs` source reads the output.
#[async_trait]
pub trait LogFeed: Send + Sync {
    /// The running version's output, its last `max_bytes` at most.
    async fn tail(&self, max_bytes: usize) -> Result<Tail, String>;
    /// How long the running version has run, when the target knows.
    async fn running_for(&self) -> Option<Duration>;
}

/// The complete lines of `tail` (a first line cut by the bound is left out,
/// and so is a last line not yet ended by a newline).
pub fn complete_lines(tail: &Tail) -> Vec<&str> {
    let mut lines: Vec<&str> = tail
        .text
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| l.trim_end_matches(['\n', '\r']))
        .collect();
    if tail.truncated && !lines.is_empty() {
        lines.remove(0);
    }
    lines
}

/// Which lines of a tail are new since the previous read.
#[derive(Debug, Clone, Default)]
pub struct LineCounter {
    /// Complete lines of the version's output seen so far, while all of it fit.
    seen: Option<usize>,
    /// The last lines seen.
    anchor: Vec<String>,
}

/// The new lines of one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLines<'a> {
    pub lines: Vec<&'a str>,
    /// Every new line is there (false: more than the bound was printed since
    /// the previous read, so the count is a lower bound).
    pub exact: bool,
}

impl LineCounter {
    /// The lines of `tail` not seen before, and remembers where it ended.
    pub fn advance<'a>(&mut self, tail: &'a Tail) -> NewLines<'a> {
        let lines = complete_lines(tail);
        let (start, exact) = if !tail.truncated {
            match self.seen {
                Some(seen) if lines.len() >= seen => (seen, true),
                // Fewer lines than seen: the output started over (a new version).
                Some(_) => (0, true),
                None => (self.find_anchor(&lines).unwrap_or(0), true),
            }
        } else {
            match self.find_anchor(&lines) {
                Some(i) => (i, true),
                // Older output was cut and nothing read before is in the tail.
                None => (0, false),
            }
        };
        self.seen = (!tail.truncated).then_some(lines.len());
        if !lines.is_empty() {
            let keep = lines.len().saturating_sub(ANCHOR_LINES);
            self.anchor = lines[keep..].iter().map(|l| (*l).to_owned()).collect();
        }
        NewLines {
            lines: lines[start..].to_vec(),
            exact,
        }
    }

    /// The index just after the last occurrence of the anchor in `lines`.
    fn find_anchor(&self, lines: &[&str]) -> Option<usize> {
        let n = self.anchor.len();
        if n == 0 || lines.len() < n {
            return None;
        }
        (n..=lines.len()).rev().find(|&end| {
            lines[end - n..end]
                .iter()
                .zip(&self.anchor)
                .all(|(a, b)| a == b)
        })
    }
}

/// The `logs` source over a feed.
pub struct LogsSource {
    feed: Box<dyn LogFeed>,
    max_bytes: usize,
    counter: LineCounter,
    /// When the previous read was taken (at first, when the source was made:
    /// before the deploy, so the new version's first lines are counted).
    last: tokio::time::Instant,
}

impl LogsSource {
    pub fn new(feed: Box<dyn LogFeed>, max_bytes: usize) -> LogsSource {
        LogsSource {
            feed,
            max_bytes: max_bytes.max(1024),
            counter: LineCounter::default(),
            last: tokio::time::Instant::now(),
        }
    }
}

fn pattern_of(c: &Condition) -> Option<&runway_config::sources::LogPattern> {
    match &c.expr {
        Expr::LogRate(p) => Some(p),
        _ => None,
    }
}

/// Matching lines of each condition, per minute over `minutes`.
fn rates(conditions: &[&Condition], lines: &[&str], minutes: f64) -> Vec<f64> {
    conditions
        .iter()
        .map(|c| match pattern_of(c) {
            Some(p) => lines.iter().filter(|l| p.is_match(l)).count() as f64 / minutes,
            None => f64::NAN,
        })
        .collect()
}

#[async_trait]
impl Source for LogsSource {
    async fn read(&mut self, conditions: &[&Condition]) -> Vec<Reading> {
        let tail = match self.feed.tail(self.max_bytes).await {
            Ok(t) => t,
            Err(why) => return vec![Reading::Error(why); conditions.len()],
        };
        let now = tokio::time::Instant::now();
        let elapsed = now.duration_since(self.last);
        if elapsed < Duration::from_secs(1) {
            return vec![
                Reading::Empty("less than a second since the previous read".into());
                conditions.len()
            ];
        }
        self.last = now;
        let new = self.counter.advance(&tail);
        let minutes = elapsed.as_secs_f64() / 60.0;
        rates(conditions, &new.lines, minutes)
            .into_iter()
            .map(|r| {
                if r.is_nan() {
                    Reading::Error("not a `logs` condition".into())
                } else if !new.exact && r == 0.0 {
                    Reading::Empty(format!(
                        "more than {} bytes of output since the previous read: nothing matched in the part read",
                        self.max_bytes
                    ))
                } else {
                    Reading::Value(r)
                }
            })
            .collect()
    }

    async fn baseline(&mut self, conditions: &[&Condition]) -> Vec<Option<Reading>> {
        let Some(age) = self.feed.running_for().await else {
            return vec![None; conditions.len()];
        };
        if age < Duration::from_secs(60) {
            return vec![None; conditions.len()];
        }
        let Ok(tail) = self.feed.tail(self.max_bytes).await else {
            return vec![None; conditions.len()];
        };
        let lines = complete_lines(&tail);
        rates(conditions, &lines, age.as_secs_f64() / 60.0)
            .into_iter()
            .map(|r| (!r.is_nan()).then_some(Reading::Value(r)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use runway_config::sources::{LogPattern, SourceKind};

    use super::*;

    fn tail(text: &str, truncated: bool) -> Tail {
        Tail {
            text: text.to_owned(),
            truncated,
        }
    }

    impl Tail {
        /// A tail that lives for the test, so the lines borrowed from it do.
        fn leak(self) -> &'static Tail {
            Box::leak(Box::new(self))
        }
    }

    #[test]
    fn the_default_pattern_matches_error_and_critical_in_json_and_text() {
        let p = LogPattern::default_pattern();
        for line in [
            r#"{"timestamp":"2026-12-05T13:00:00Z","level":"ERROR","message":"db down"}"#,
            r#"{"level": "critical", "message": "x"}"#,
            r#"{"severity":"error"}"#,
            "2026-12-05 13:00:00 ERROR db down",
            "ERROR:root:boom",
            "CRITICAL: out of memory",
        ] {
            assert!(p.is_match(line), "{line}");
        }
        for line in [
            r#"{"level":"INFO","message":"no errors today"}"#,
            "INFO request served",
            "WARNING: slow",
            "errors_total 3",
        ] {
            assert!(!p.is_match(line), "{line}");
        }
    }

    #[test]
    fn new_lines_are_counted_once_whole_or_cut() {
        let mut c = LineCounter::default();
        let n = c.advance(tail("a\nb\nc", false).leak());
        assert_eq!((n.lines, n.exact), (vec!["a", "b"], true));
        // The unfinished line is counted once it ends.
        let n = c.advance(tail("a\nb\nc\nd\n", false).leak());
        assert_eq!(n.lines, vec!["c", "d"]);
        assert_eq!(c.advance(tail("a\nb\nc\nd\n", false).leak()).lines.len(), 0);
        // The tail slid past its bound: the anchor (c, d) finds the new lines.
        let n = c.advance(tail("xa\nb\nc\nd\ne\nf\n", true).leak());
        assert_eq!((n.lines, n.exact), (vec!["e", "f"], true));
        // The anchor scrolled out: everything is new, and the count says it is a bound.
        let n = c.advance(tail("xx\ng\nh\n", true).leak());
        assert_eq!((n.lines, n.exact), (vec!["g", "h"], false));
        // A shorter whole output is a new version's: all of it is new.
        let mut c = LineCounter::default();
        c.advance(tail("a\nb\nc\n", false).leak());
        let n = c.advance(tail("z\n", false).leak());
        assert_eq!((n.lines, n.exact), (vec!["z"], true));
    }

    /// A feed whose output a test appends to.
    #[derive(Clone, Default)]
    struct Feed(Arc<Mutex<(String, Option<Duration>)>>);

    impl Feed {
        fn print(&self, s: &str) {
            self.0.lock().unwrap().0.push_str(s);
        }
    }

    #[async_trait]
    impl LogFeed for Feed {
        async fn tail(&self, max_bytes: usize) -> Result<Tail, String> {
            let text = self.0.lock().unwrap().0.clone();
            let cut = text.len().saturating_sub(max_bytes);
            Ok(Tail {
                text: text[cut..].to_owned(),
                truncated: cut > 0,
            })
        }
        async fn running_for(&self) -> Option<Duration> {
            self.0.lock().unwrap().1
        }
    }

    fn errors(max: Option<f64>, factor: Option<f64>) -> Condition {
        Condition {
            name: "errors in logs".into(),
            source: SourceKind::Logs,
            expr: Expr::LogRate(LogPattern::default_pattern()),
            window: None,
            min_requests: 1,
            max,
            min: None,
            baseline_factor: factor,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn errors_per_minute_against_the_bound_and_the_previous_version() {
        let feed = Feed::default();
        // The previous version ran 10 minutes and logged 5 errors: 0.5 a minute.
        {
            let mut g = feed.0.lock().unwrap();
            g.0 = "INFO ok\nERROR a\n".repeat(5);
            g.1 = Some(Duration::from_secs(600));
        }
        let mut s = LogsSource::new(Box::new(feed.clone()), DEFAULT_MAX_BYTES);
        let c = errors(Some(5.0), Some(2.0));
        let base = s.baseline(&[&c]).await;
        assert_eq!(base, vec![Some(Reading::Value(0.5))]);
        // The new version's output starts over.
        feed.0.lock().unwrap().0.clear();
        tokio::time::advance(Duration::from_secs(60)).await;
        feed.print("INFO started\nERROR one\nERROR two\n");
        let r = s.read(&[&c]).await;
        assert_eq!(r, vec![Reading::Value(2.0)]);
        let e = c.judge(&r[0], base[0].as_ref());
        assert_eq!(e.verdict, crate::Verdict::Fail, "{}", e.message);
        assert!(e.message.contains("above 2x"), "{}", e.message);
        // Half a minute later, 3 more errors: 6 a minute, over `max_per_minute`.
        tokio::time::advance(Duration::from_secs(30)).await;
        feed.print(&"ERROR again\n".repeat(3));
        let r = s.read(&[&c]).await;
        assert_eq!(r, vec![Reading::Value(6.0)]);
        assert!(c.judge(&r[0], None).message.contains("above the maximum 5"));
        // A quiet minute passes.
        tokio::time::advance(Duration::from_secs(60)).await;
        feed.print("INFO fine\n");
        let r = s.read(&[&c]).await;
        assert_eq!(r, vec![Reading::Value(0.0)]);
        assert_eq!(
            c.judge(&r[0], base[0].as_ref()).verdict,
            crate::Verdict::Pass
        );
        // A previous version that ran under a minute gives no baseline.
        feed.0.lock().unwrap().1 = Some(Duration::from_secs(10));
        assert_eq!(s.baseline(&[&c]).await, vec![None]);
    }
}
