//! Inline SVG charts: no script, no image requests, nothing for the CSP to allow.
//!
//! Colours are presentation attributes rather than `style`, so the pages
//! need no `'unsafe-inline'`. Every text that came from outside (a version,
//! a name) is escaped by [`crate::escape::esc`].

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};

use crate::escape::esc;
use crate::model::{Day, DeploymentMark, LatencyPoint};

const BAR_W: f64 = 6.0;
const BAR_GAP: f64 = 1.0;
const BARS_H: f64 = 34.0;

fn day_colour(d: &Day) -> &'static str {
    match d.uptime() {
        None => "#d0d4d9",
        Some(u) if u >= 0.999 => "#2f9e44",
        Some(u) if u >= 0.99 => "#94d82d",
        Some(u) if u >= 0.95 => "#f59f00",
        Some(_) => "#e03131",
    }
}

/// One bar per day, coloured by the share of runs that passed, with the
/// deployments of those days as ticks above the bars (hover: the version).
pub fn uptime_bars(days: &[Day], deployments: &[DeploymentMark], public: bool) -> String {
    let width = days.len() as f64 * (BAR_W + BAR_GAP);
    let height = BARS_H + 10.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="uptime" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="uptime per day, {n} days">"#,
        n = days.len()
    );
    // Written in place (a dashboard of 1,000 environments has 90,000 bars):
    // the title holds only digits, a date and fixed words, nothing to escape.
    s.reserve(days.len() * 150);
    for (i, d) in days.iter().enumerate() {
        let x = i as f64 * (BAR_W + BAR_GAP);
        let day = d.day.date_naive();
        let _ = write!(
            s,
            r#"<rect class="day" x="{x}" y="10" width="{BAR_W}" height="{BARS_H}" rx="1" fill="{c}"><title>{y:04}-{m:02}-{dd:02}: "#,
            c = day_colour(d),
            y = day.year(),
            m = day.month(),
            dd = day.day(),
        );
        let _ = match d.uptime() {
            Some(u) => write!(
                s,
                "{:.2}% up ({} of {} runs failed)",
                u * 100.0,
                d.failures,
                d.runs
            ),
            None => write!(s, "no runs"),
        };
        s.push_str("</title></rect>");
    }
    if !public && let (Some(first), Some(_)) = (days.first(), days.last()) {
        for dep in deployments {
            let idx = (dep.at - first.day).num_days();
            if idx < 0 || idx as usize >= days.len() {
                continue;
            }
            let x = idx as f64 * (BAR_W + BAR_GAP) + BAR_W / 2.0;
            let _ = write!(
                s,
                r##"<path class="deploy" d="M{l} 0 L{r} 0 L{x} 8 Z" fill="#1c7ed6"><title>{t}</title></path>"##,
                l = x - 3.0,
                r = x + 3.0,
                t = esc(&format!(
                    "deployed {} at {} ({})",
                    dep.version,
                    dep.at.format("%Y-%m-%d %H:%M UTC"),
                    dep.status
                ))
            );
        }
    }
    s.push_str("</svg>");
    s
}

const CHART_W: f64 = 630.0;
const CHART_H: f64 = 140.0;
const PAD_L: f64 = 48.0;
const PAD_B: f64 = 18.0;
const PAD_T: f64 = 8.0;

/// p50 and p95 per hour over `hours` hours ending at `now`'s hour, with the
/// deployments of that span as labelled vertical lines.
pub fn latency_chart(
    points: &[LatencyPoint],
    deployments: &[DeploymentMark],
    now: DateTime<Utc>,
    hours: i64,
) -> String {
    let end = now;
    let start = now - Duration::hours(hours);
    let span = (end - start).num_seconds().max(1) as f64;
    let max = points
        .iter()
        .map(|p| p.p95_ms.max(p.p50_ms))
        .fold(1.0_f64, f64::max)
        * 1.1;
    let x_of = |t: DateTime<Utc>| {
        let f = ((t - start).num_seconds() as f64 / span).clamp(0.0, 1.0);
        PAD_L + f * (CHART_W - PAD_L - 4.0)
    };
    let y_of = |ms: f64| PAD_T + (1.0 - (ms / max).clamp(0.0, 1.0)) * (CHART_H - PAD_T - PAD_B);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="latency" xmlns="http://www.w3.org/2000/svg" width="{CHART_W}" height="{CHART_H}" viewBox="0 0 {CHART_W} {CHART_H}" role="img" aria-label="p50 and p95 latency per hour, {hours} hours">"#
    );
    // Axes and the top value.
    let base = CHART_H - PAD_B;
    let _ = write!(
        s,
        r##"<line class="axis" x1="{PAD_L}" y1="{PAD_T}" x2="{PAD_L}" y2="{base}" stroke="#868e96"/><line class="axis" x1="{PAD_L}" y1="{base}" x2="{r}" y2="{base}" stroke="#868e96"/><text x="{tx}" y="{ty}" font-size="10" text-anchor="end" fill="#495057">{top} ms</text><text x="{tx}" y="{base}" font-size="10" text-anchor="end" fill="#495057">0</text><text x="{PAD_L}" y="{by}" font-size="10" fill="#495057">{from}</text><text x="{r}" y="{by}" font-size="10" text-anchor="end" fill="#495057">{to}</text>"##,
        r = CHART_W - 4.0,
        tx = PAD_L - 4.0,
        ty = PAD_T + 8.0,
        top = (max / 1.1).round(),
        by = CHART_H - 4.0,
        from = start.format("%m-%d %H:%M"),
        to = end.format("%m-%d %H:%M"),
    );
    for dep in deployments {
        if dep.at < start || dep.at > end {
            continue;
        }
        let x = x_of(dep.at);
        let _ = write!(
            s,
            r##"<g class="deploy"><line x1="{x}" y1="{PAD_T}" x2="{x}" y2="{base}" stroke="#1c7ed6" stroke-dasharray="3 2"/><text x="{tx}" y="{ty}" font-size="10" fill="#1c7ed6">{v}</text><title>{t}</title></g>"##,
            tx = x + 2.0,
            ty = PAD_T + 18.0,
            v = esc(&dep.version),
            t = esc(&format!(
                "deployed {} at {} ({})",
                dep.version,
                dep.at.format("%Y-%m-%d %H:%M UTC"),
                dep.status
            ))
        );
    }
    // Each point sits at the middle of its hour.
    let mid = |p: &LatencyPoint| x_of(p.hour + Duration::minutes(30));
    for (class, colour, pick) in [
        (
            "p50",
            "#1971c2",
            (|p: &LatencyPoint| p.p50_ms) as fn(&LatencyPoint) -> f64,
        ),
        ("p95", "#e8590c", |p: &LatencyPoint| p.p95_ms),
    ] {
        let pts: Vec<String> = points
            .iter()
            .map(|p| format!("{:.1},{:.1}", mid(p), y_of(pick(p))))
            .collect();
        let _ = write!(
            s,
            r#"<polyline class="{class}" fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            pts.join(" ")
        );
        // In place, like the bars: the title has nothing to escape.
        for p in points {
            let (day, h) = (p.hour.date_naive(), p.hour.hour());
            let _ = write!(
                s,
                r#"<circle class="{class}" cx="{:.1}" cy="{:.1}" r="2.5" fill="{colour}"><title>{:04}-{:02}-{:02} {h:02}:00 {class}: {:.0} ms over {} runs</title></circle>"#,
                mid(p),
                y_of(pick(p)),
                day.year(),
                day.month(),
                day.day(),
                pick(p),
                p.runs
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn bar_and_point_titles_read_as_before() {
        let day = |d| Utc.with_ymd_and_hms(2026, 11, d, 0, 0, 0).unwrap();
        let days = [
            Day {
                day: day(8),
                runs: 0,
                failures: 0,
            },
            Day {
                day: day(9),
                runs: 10,
                failures: 1,
            },
            Day {
                day: day(10),
                runs: 3,
                failures: 0,
            },
        ];
        let s = uptime_bars(&days, &[], true);
        assert!(
            s.contains(r##"fill="#d0d4d9"><title>2026-11-08: no runs</title></rect>"##),
            "{s}"
        );
        assert!(
            s.contains("<title>2026-11-09: 90.00% up (1 of 10 runs failed)</title></rect>"),
            "{s}"
        );
        assert!(s.contains(r##"x="14" y="10" width="6" height="34" rx="1" fill="#2f9e44"><title>2026-11-10: 100.00% up (0 of 3 runs failed)</title>"##), "{s}");
        let hour = Utc.with_ymd_and_hms(2026, 11, 10, 7, 0, 0).unwrap();
        let points = [LatencyPoint {
            hour,
            runs: 12,
            p50_ms: 41.4,
            p95_ms: 99.5,
            max_ms: 120.0,
        }];
        let c = latency_chart(&points, &[], hour + Duration::hours(2), 24);
        assert!(
            c.contains("<title>2026-11-10 07:00 p50: 41 ms over 12 runs</title></circle>"),
            "{c}"
        );
        assert!(
            c.contains("<title>2026-11-10 07:00 p95: 100 ms over 12 runs</title></circle>"),
            "{c}"
        );
    }
}
