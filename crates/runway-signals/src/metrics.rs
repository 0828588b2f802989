//! The `metrics` source: the server's own Prometheus exposition, scraped by
//! Runway once per tick, bounded in bytes and time.
//!
//! A condition reads the *increase* of counters over its window, computed
//! the way Prometheus' `increase()` treats counters: per series, between
//! consecutive scrapes, and a value lower than the one before is a reset
//! (the process restarted), after which the new value is all increase. A
//! series absent from the scrape before counts from zero. Quantiles come
//! from the histogram buckets' increases, interpolated linearly inside the
//! bucket as `histogram_quantile` does.
//!
//! The baseline is the previous version's last scrape before the deploy:
//! its counters since it started.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use runway_config::sources::Selector;
use runway_verify::checks::prometheus as expo;
use runway_verify::http::{self, Limits};

use super::{Condition, Expr, ParseError, Reading, ScrapeError, Source};

/// Scrapes kept, whatever the windows ask (bounds memory).
const MAX_SCRAPES: usize = 1024;

/// One series: name and labels, and its value.
type SeriesKey = (String, BTreeMap<String, String>);

/// One scrape: every sample, by series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scrape {
    pub at: Option<tokio::time::Instant>,
    pub series: BTreeMap<SeriesKey, f64>,
    /// Its number in a [`MetricsSource`] (0: not numbered).
    pub seq: u64,
    /// Each series' increase since scrape `.0`, in `series` order ([`link`]).
    pub deltas: Option<(u64, Vec<f64>)>,
}

/// Numbers `cur` after `prev` and computes each of its series' increase since
/// `prev` once, so every condition over the pair only sums.
pub fn link(prev: &Scrape, cur: &mut Scrape) {
    if cur.seq == 0 {
        cur.seq = prev.seq + 1;
    }
    cur.deltas = Some((prev.seq, pair_deltas(prev, cur)));
}

impl Scrape {
    /// Parses an exposition. A line a scraper would reject makes the whole
    /// scrape an error: numbers from half a page would mislead.
    pub fn parse(text: &str) -> Result<Scrape, ParseError> {
        let e = expo::parse(text);
        if let Some(bad) = e.errors.first() {
            return Err(ParseError {
                line: bad.line,
                message: bad.message.clone(),
                bad_lines: e.errors.len(),
            });
        }
        let mut series = BTreeMap::new();
        for s in e.samples {
            if s.value.is_finite() || s.value == f64::INFINITY {
                series.insert((s.name, s.labels), s.value);
            }
        }
        Ok(Scrape {
            series,
            ..Scrape::default()
        })
    }
}

/// Increase of one series between two scrapes, with resets handled.
fn delta(prev: Option<f64>, cur: f64) -> f64 {
    match prev {
        Some(p) if cur >= p => cur - p,
        // A reset: the counter started again from zero.
        Some(_) => cur,
        None => cur,
    }
}

/// The increase of every series `keep` selects, summed over consecutive
/// scrapes, grouped by `group` (e.g. the `le` label); `None` group is one sum.
fn increases(
    scrapes: &[&Scrape],
    keep: impl Fn(&str, &BTreeMap<String, String>) -> bool,
    group: Option<&str>,
) -> BTreeMap<String, f64> {
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    for pair in scrapes.windows(2) {
        let (prev, cur) = (pair[0], pair[1]);
        let computed;
        let deltas: &[f64] = match &cur.deltas {
            Some((p, d)) if prev.seq != 0 && *p == prev.seq && d.len() == cur.series.len() => d,
            _ => {
                computed = pair_deltas(prev, cur);
                &computed
            }
        };
        for (((name, labels), _), d) in cur.series.iter().zip(deltas) {
            if !keep(name, labels) {
                continue;
            }
            let key = group
                .and_then(|g| labels.get(g).map(String::as_str))
                .unwrap_or_default();
            match out.get_mut(key) {
                Some(total) => *total += d,
                None => {
                    out.insert(key.to_owned(), *d);
                }
            }
        }
    }
    out
}

/// Each series of `cur`'s increase since `prev`, in `cur.series` order. Both
/// are sorted by series: walk them side by side, no lookups.
fn pair_deltas(prev: &Scrape, cur: &Scrape) -> Vec<f64> {
    let mut out = Vec::with_capacity(cur.series.len());
    let mut before = prev.series.iter().peekable();
    for (k, v) in &cur.series {
        let mut p = None;
        while let Some((pk, pv)) = before.peek() {
            match (*pk).cmp(k) {
                std::cmp::Ordering::Less => {
                    before.next();
                }
                std::cmp::Ordering::Equal => {
                    p = Some(**pv);
                    before.next();
                    break;
                }
                std::cmp::Ordering::Greater => break,
            }
        }
        out.push(delta(p, *v));
    }
    out
}

/// Why `sel` cannot be judged when the newest scrape has no series it
/// selects: a typo in the name or a label the server does not export, not
/// an idle server (that would be a series standing still). `None` when one exists.
fn absent(scrapes: &[&Scrape], sel: &Selector) -> Option<Reading> {
    let newest = scrapes.last()?;
    if newest.series.keys().any(|(n, l)| sel.matches(n, l)) {
        return None;
    }
    if sel.name.is_empty() {
        return Some(Reading::Empty(format!(
            "no series matches `{sel}`: the server exports no metric whose name and labels match (check the names in `/metrics`)"
        )));
    }
    let same_name = newest.series.keys().filter(|(n, _)| *n == sel.name).count();
    Some(Reading::Empty(if same_name > 0 {
        format!(
            "no series matches `{sel}`: the server exports {same_name} `{}` series, none with these labels (check the label values)",
            sel.name
        )
    } else {
        format!(
            "no series matches `{sel}`: the server exports no metric `{}` (check the name in `/metrics`)",
            sel.name
        )
    }))
}

fn sum_of(scrapes: &[&Scrape], sel: &Selector) -> f64 {
    // `+ 0.0`: the sum of no series is 0, not the `-0` an empty float sum gives.
    increases(scrapes, |n, l| sel.matches(n, l), None)
        .values()
        .sum::<f64>()
        + 0.0
}

/// `histogram_quantile(q, ...)` over cumulative bucket counts by `le`.
/// `None` when there are no observations.
pub fn quantile(q: f64, buckets: &BTreeMap<String, f64>) -> Option<(f64, f64)> {
    let mut b: Vec<(f64, f64)> = buckets
        .iter()
        .filter_map(|(le, n)| {
            let bound = match le.as_str() {
                "+Inf" | "Inf" => f64::INFINITY,
                other => other.parse().ok()?,
            };
            Some((bound, *n))
        })
        .collect();
    b.sort_by(|x, y| x.0.total_cmp(&y.0));
    let total = b.iter().find(|(le, _)| le.is_infinite()).map(|x| x.1)?;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut lower = 0.0;
    let mut below = 0.0;
    for (le, count) in &b {
        if *count >= rank {
            if le.is_infinite() {
                // Above the highest finite bound: that bound, as Prometheus says.
                return Some((lower, total));
            }
            let inside = count - below;
            let frac = if inside > 0.0 {
                (rank - below) / inside
            } else {
                1.0
            };
            return Some((lower + (le - lower) * frac, total));
        }
        lower = *le;
        below = *count;
    }
    Some((lower, total))
}

/// What one condition reads over `scrapes` (oldest first).
pub fn read(c: &Condition, scrapes: &[&Scrape]) -> Reading {
    if scrapes.len() < 2 {
        return Reading::Empty("one scrape so far: nothing to compare with yet".into());
    }
    match &c.expr {
        Expr::Ratio {
            numerator,
            denominator,
        } => {
            if let Some(empty) = absent(scrapes, denominator) {
                return empty;
            }
            let den = sum_of(scrapes, denominator);
            if den < c.min_requests as f64 || den <= 0.0 {
                return Reading::Empty(format!(
                    "{} of {denominator} in the window, fewer than the {} needed",
                    super::num(den),
                    c.min_requests
                ));
            }
            Reading::Value(sum_of(scrapes, numerator) / den)
        }
        // A counter with labels often appears only at its first increment:
        // no series yet is an increase of 0, not a wrong name.
        Expr::Increase(sel) => Reading::Value(sum_of(scrapes, sel)),
        Expr::Quantile { histogram, q } => {
            let bucket = format!("{}_bucket", histogram.name);
            let by_le = increases(
                scrapes,
                |n, l| {
                    n == bucket
                        && histogram
                            .matchers
                            .iter()
                            .all(|m| m.matches(l.get(&m.label).map(String::as_str).unwrap_or("")))
                },
                Some("le"),
            );
            match quantile(*q, &by_le) {
                Some((v, total)) if total >= c.min_requests as f64 => Reading::Value(v),
                Some((_, total)) => Reading::Empty(format!(
                    "{} observations of {histogram} in the window, fewer than the {} needed",
                    super::num(total),
                    c.min_requests
                )),
                None => Reading::Empty(format!("no observations of {histogram} in the window")),
            }
        }
        Expr::Query(_) => Reading::Error("a PromQL query needs the `prometheus` source".into()),
        Expr::LogRate(_) => Reading::Error("a log pattern needs the `logs` source".into()),
        Expr::Resource(_) => Reading::Error("memory and CPU need the `resources` source".into()),
    }
}

/// Scrapes one URL each tick and keeps enough scrapes for the longest window.
pub struct MetricsSource {
    url: url::Url,
    limits: Limits,
    interval: Duration,
    scrapes: VecDeque<Scrape>,
    /// Why the last scrape failed, if it did.
    last_error: Option<String>,
}

impl MetricsSource {
    pub fn new(url: url::Url, timeout: Duration, max_bytes: u64, interval: Duration) -> Self {
        MetricsSource {
            url,
            limits: Limits {
                timeout,
                max_body: usize::try_from(max_bytes).unwrap_or(usize::MAX),
            },
            interval,
            scrapes: VecDeque::new(),
            last_error: None,
        }
    }

    /// One bounded scrape.
    pub async fn scrape(&self) -> Result<Scrape, ScrapeError> {
        let client = http::client(self.limits);
        let req = client
            .get(self.url.clone())
            .header("accept", "text/plain; version=0.0.4")
            .build()
            .map_err(|e| ScrapeError::Request(e.to_string()))?;
        let got = http::fetch(&client, req, self.limits)
            .await
            .map_err(|source| ScrapeError::Fetch {
                url: self.url.clone(),
                source,
            })?;
        if !(200..300).contains(&got.status) {
            return Err(ScrapeError::Status {
                url: self.url.clone(),
                status: got.status,
            });
        }
        if got.truncated {
            return Err(ScrapeError::TooLarge {
                url: self.url.clone(),
                max_bytes: self.limits.max_body,
            });
        }
        let text = String::from_utf8_lossy(&got.body);
        let mut s = Scrape::parse(&text).map_err(|source| ScrapeError::Parse {
            url: self.url.clone(),
            source,
        })?;
        s.at = Some(tokio::time::Instant::now());
        Ok(s)
    }

    /// The scrapes a condition's window covers, oldest first (the latest and
    /// every one up to `window` before it; one interval by default).
    fn window(&self, c: &Condition) -> Vec<&Scrape> {
        let span = c.window.unwrap_or(self.interval);
        let Some(latest) = self.scrapes.back().and_then(|s| s.at) else {
            return Vec::new();
        };
        // Half an interval of slack: ticks drift a little.
        let from = latest.checked_sub(span + self.interval / 2);
        let mut out: Vec<&Scrape> = self
            .scrapes
            .iter()
            .filter(|s| match (from, s.at) {
                (Some(f), Some(at)) => at >= f,
                _ => true,
            })
            .collect();
        if out.len() < 2 && self.scrapes.len() >= 2 {
            out = self.scrapes.iter().skip(self.scrapes.len() - 2).collect();
        }
        out
    }

    /// How many scrapes the longest window needs.
    fn keep(&self, conditions: &[&Condition]) -> usize {
        let longest = conditions
            .iter()
            .filter_map(|c| c.window)
            .max()
            .unwrap_or(self.interval);
        let n = longest.as_nanos() / self.interval.as_nanos().max(1);
        (n as usize + 3).min(MAX_SCRAPES)
    }

    /// Adds a scrape taken elsewhere (tests and benchmarks).
    pub fn push(&mut self, mut s: Scrape, keep: usize) {
        match self.scrapes.back() {
            Some(prev) => link(prev, &mut s),
            None => s.seq = 1,
        }
        self.scrapes.push_back(s);
        while self.scrapes.len() > keep.max(2) {
            self.scrapes.pop_front();
        }
    }
}

#[async_trait::async_trait]
impl Source for MetricsSource {
    async fn read(&mut self, conditions: &[&Condition]) -> Vec<Reading> {
        match self.scrape().await {
            Ok(s) => {
                self.last_error = None;
                let keep = self.keep(conditions);
                self.push(s, keep);
            }
            Err(e) => {
                let e = e.to_string();
                self.last_error = Some(e.clone());
                return conditions
                    .iter()
                    .map(|_| Reading::Error(e.clone()))
                    .collect();
            }
        }
        conditions
            .iter()
            .map(|c| read(c, &self.window(c)))
            .collect()
    }

    async fn baseline(&mut self, conditions: &[&Condition]) -> Vec<Option<Reading>> {
        match self.scrape().await {
            // The previous version's counters since it started: from zero.
            Ok(s) => {
                let zero = Scrape::default();
                conditions
                    .iter()
                    .map(|c| match read(c, &[&zero, &s]) {
                        r @ Reading::Value(_) => Some(r),
                        _ => None,
                    })
                    .collect()
            }
            Err(_) => conditions.iter().map(|_| None).collect(),
        }
    }
}
