//! Server-side pages: the dashboard and the public status page.
//!
//! Written out as strings, not through a template engine: there are two
//! pages, and one rule keeps them safe: every value that did not come from
//! this file goes through [`esc`] (environment and check names, messages,
//! versions, incident titles and alert names come from the config, the
//! servers and the operators).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

pub use crate::escape::esc;
use crate::escape::path_segment;
use crate::model::{EnvironmentView, LATENCY_HOURS, Overview};
use crate::svg;

/// The stylesheet, served at `/style.css` (the CSP allows `'self'` styles only).
pub const STYLE: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f8f9fa;color:#212529}
header{background:#212529;color:#f8f9fa;padding:12px 24px}
header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;font-size:12px;color:#adb5bd}
main{padding:16px 24px;max-width:1100px}
section{background:#fff;border:1px solid #dee2e6;border-radius:6px;padding:12px 16px;margin-bottom:16px}
h2{font-size:17px;margin:0 0 8px}
h3{font-size:13px;margin:12px 0 4px;color:#495057}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #f1f3f5;vertical-align:top}
.status{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;color:#fff;background:#868e96}
.status-up{background:#2f9e44}.status-degraded{background:#f59f00}.status-down{background:#e03131}.status-maintenance{background:#1c7ed6}
.muted{color:#868e96;font-size:12px}
.problem{color:#c92a2a;font-size:13px;word-break:break-word}
.legend span{margin-right:12px;font-size:12px}
.l50{color:#1971c2}.l95{color:#e8590c}.ldep{color:#1c7ed6}
.num{text-align:right;font-variant-numeric:tabular-nums}
"#;

/// Above this many environments the pages list every environment on one
/// row and give the full section (uptime bars, latency chart, deployments)
/// only to those not up, at most this many; each environment's full section
/// is its own page at `/environments/NAME`. A page of 1,000 environments
/// with 90 bars each would be megabytes.
pub use crate::model::COMPACT_ABOVE;

fn head(s: &mut String, title: &str) {
    let _ = write!(
        s,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{t}</title><link rel="stylesheet" href="/style.css"></head><body>"#,
        t = esc(title)
    );
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn status_badge(status: &str) -> String {
    let known = ["up", "degraded", "down", "maintenance"];
    let class = if known.contains(&status) {
        status
    } else {
        "unknown"
    };
    format!(
        r#"<span class="status status-{class}">{}</span>"#,
        esc(status)
    )
}

fn uptime_text(u: Option<f64>) -> String {
    u.map_or_else(|| "no runs".to_owned(), |u| format!("{:.3}%", u * 100.0))
}

/// The operator's dashboard: alerts, notifiers, incidents, then each
/// environment with its uptime bars, latency chart and deployments (above
/// [`COMPACT_ABOVE`] environments, those not up, then a row for each).
pub fn dashboard(o: &Overview) -> String {
    let mut s = String::new();
    head(&mut s, "Runway monitor");
    let _ = write!(
        s,
        r#"<header><h1>Runway monitor</h1><p>{} environments · generated {}</p></header><main>"#,
        o.environments.len(),
        when(o.generated_at)
    );

    s.push_str(r#"<section id="alerts"><h2>Open alerts</h2>"#);
    if o.alerts.is_empty() {
        s.push_str(r#"<p class="muted">No open alerts.</p>"#);
    } else {
        s.push_str("<table><tr><th>alert</th><th>environment</th><th>level</th><th>state</th><th>since</th><th>value</th><th>id</th></tr>");
        for a in &o.alerts {
            let mut state = esc(&a.state);
            if let Some(by) = &a.acknowledged_by {
                let _ = write!(state, " (acknowledged by {})", esc(by));
            }
            if let Some(u) = a.silenced_until {
                let _ = write!(state, " (silenced until {})", when(u));
            }
            let _ = write!(
                s,
                r#"<tr class="alert level-{lvl}"><td>{n}</td><td>{e}</td><td>{l}</td><td>{st}</td><td>{since}</td><td>{v}</td><td><code>{id}</code></td></tr>"#,
                lvl = if ["critical", "warning", "info"].contains(&a.level.as_str()) {
                    a.level.as_str()
                } else {
                    "other"
                },
                n = esc(&a.name),
                e = esc(&a.environment),
                l = esc(&a.level),
                st = state,
                since = when(a.since),
                v = esc(a.value.as_deref().unwrap_or("")),
                id = esc(&a.id),
            );
        }
        s.push_str("</table>");
    }
    s.push_str("</section>");

    s.push_str(r#"<section id="notifiers"><h2>Notifiers</h2>"#);
    if o.notifiers.is_empty() {
        s.push_str(r#"<p class="muted">No notifiers configured.</p>"#);
    } else {
        s.push_str("<table><tr><th>notifier</th><th>type</th><th>state</th><th>pending</th><th>last error</th><th>last delivery</th></tr>");
        for n in &o.notifiers {
            let failing = n.failures > 0;
            let _ = write!(
                s,
                r#"<tr class="notifier{f}"><td>{name}</td><td>{k}</td><td>{state}</td><td>{p}</td><td class="problem">{err}</td><td>{ok}</td></tr>"#,
                f = if failing { " failing" } else { "" },
                name = esc(&n.name),
                k = esc(&n.kind),
                state = if failing {
                    format!("failing ({} attempts)", n.failures)
                } else {
                    "ok".to_owned()
                },
                p = n.pending,
                err = esc(n.last_error.as_deref().unwrap_or("")),
                ok = n.last_success.map(when).unwrap_or_default(),
            );
        }
        s.push_str("</table>");
    }
    s.push_str("</section>");

    s.push_str(r#"<section id="incidents"><h2>Open incidents</h2>"#);
    if o.incidents.is_empty() {
        s.push_str(r#"<p class="muted">No open incidents.</p>"#);
    } else {
        s.push_str("<table><tr><th>severity</th><th>title</th><th>environment</th><th>status</th><th>detected</th><th>id</th></tr>");
        for i in &o.incidents {
            let _ = write!(
                s,
                r#"<tr class="incident"><td>{sev}</td><td>{t}</td><td>{e}</td><td>{st}</td><td>{d}</td><td><code>{id}</code></td></tr>"#,
                sev = esc(&i.severity),
                t = esc(&i.title),
                e = esc(i.environment.as_deref().unwrap_or("")),
                st = esc(&i.status),
                d = when(i.detected_at),
                id = esc(&i.id),
            );
        }
        s.push_str("</table>");
    }
    s.push_str("</section>");

    if o.environments.len() <= COMPACT_ABOVE {
        for (idx, e) in o.environments.iter().enumerate() {
            environment_section(&mut s, idx, e, o.generated_at);
        }
    } else {
        for (idx, e) in not_up(o).take(COMPACT_ABOVE) {
            environment_section(&mut s, idx, e, o.generated_at);
        }
        environments_table(&mut s, o, true);
    }
    s.push_str("</main></body></html>");
    s
}

/// The environments not up (down, degraded, in maintenance or never run),
/// with their index in the overview.
fn not_up(o: &Overview) -> impl Iterator<Item = (usize, &EnvironmentView)> {
    o.environments
        .iter()
        .enumerate()
        .filter(|(_, e)| e.status != "up")
}

/// One row per environment: its status, uptime and, on the dashboard
/// (`detail`), its last run, last hour's p95 and newest deployment, with a
/// link to its own page.
fn environments_table(s: &mut String, o: &Overview, detail: bool) {
    let up = o.environments.len() - not_up(o).count();
    let _ = write!(
        s,
        r#"<section id="environments"><h2>Environments</h2><p class="muted">{up} of {n} up</p><table><tr><th>environment</th><th>status</th><th class="num">uptime, {d} days</th>"#,
        n = o.environments.len(),
        d = o.environments.first().map_or(0, |e| e.days.len()),
    );
    if detail {
        s.push_str(r#"<th>last run</th><th class="num">latency</th><th class="num">p95, this hour</th><th>deployed</th>"#);
    }
    s.push_str("</tr>");
    for e in &o.environments {
        let n = esc(&e.name);
        let name = if detail {
            format!(
                r#"<a href="/environments/{}">{n}</a>"#,
                path_segment(&e.name)
            )
        } else {
            n.clone()
        };
        let _ = write!(
            s,
            r#"<tr class="env-row" data-environment="{n}" data-status="{st}"><td>{name}</td><td>{badge}</td><td class="num">{u}</td>"#,
            st = esc(&e.status),
            badge = status_badge(&e.status),
            u = uptime_text(e.uptime),
        );
        if detail {
            let (at, ms) = e
                .last_run
                .as_ref()
                .map_or((String::new(), String::new()), |r| {
                    (when(r.at), format!("{:.0} ms", r.latency_ms))
                });
            let p95 = e
                .latency
                .last()
                .map_or(String::new(), |p| format!("{:.0} ms", p.p95_ms));
            let deployed = e.deployments.first().map_or(String::new(), |d| {
                format!("{} ({})", esc(&d.version), esc(&d.status))
            });
            let _ = write!(
                s,
                r#"<td>{at}</td><td class="num">{ms}</td><td class="num">{p95}</td><td>{deployed}</td>"#
            );
        }
        s.push_str("</tr>");
    }
    s.push_str("</table></section>");
}

/// One environment's own page: its full section.
pub fn environment_page(e: &EnvironmentView, now: DateTime<Utc>) -> String {
    let mut s = String::new();
    head(&mut s, &format!("{} · Runway monitor", e.name));
    let _ = write!(
        s,
        r#"<header><h1>{n}</h1><p><a href="/">all environments</a> · generated {g}</p></header><main>"#,
        n = esc(&e.name),
        g = when(now)
    );
    environment_section(&mut s, 0, e, now);
    s.push_str("</main></body></html>");
    s
}

fn environment_section(s: &mut String, idx: usize, e: &EnvironmentView, now: DateTime<Utc>) {
    let _ = write!(
        s,
        r#"<section class="env" id="env-{idx}" data-environment="{n}" data-status="{st}"><h2>{n} {badge}</h2>"#,
        n = esc(&e.name),
        st = esc(&e.status),
        badge = status_badge(&e.status),
    );
    match &e.last_run {
        Some(r) => {
            let _ = write!(
                s,
                r#"<p class="muted">last run {} · {:.0} ms · {}</p>"#,
                when(r.at),
                r.latency_ms,
                if r.ok { "passed" } else { "failed" }
            );
            if !r.ok {
                let _ = write!(
                    s,
                    r#"<p class="problem">{reason} · <code>{check}</code>: {msg}</p>"#,
                    reason = esc(r.reason.as_deref().unwrap_or("failed")),
                    check = esc(r.check.as_deref().unwrap_or("")),
                    msg = esc(r.message.as_deref().unwrap_or("")),
                );
            }
        }
        None => s.push_str(r#"<p class="muted">No run recorded yet.</p>"#),
    }
    s.push_str(&crate::locations::card(&e.locations, now));
    let _ = write!(
        s,
        "<h3>Uptime, {} days: {}</h3>{}",
        e.days.len(),
        uptime_text(e.uptime),
        svg::uptime_bars(&e.days, &e.deployments, false)
    );
    let _ = write!(
        s,
        r#"<h3>Latency, last {LATENCY_HOURS} hours</h3><p class="legend"><span class="l50">— p50</span><span class="l95">— p95</span><span class="ldep">┆ deployment</span></p>{}"#,
        svg::latency_chart(&e.latency, &e.deployments, now, LATENCY_HOURS)
    );
    if e.deployments.is_empty() {
        s.push_str(r#"<h3>Deployments</h3><p class="muted">No deployments in this span.</p>"#);
    } else {
        s.push_str(
            "<h3>Deployments</h3><table><tr><th>version</th><th>started</th><th>outcome</th><th>id</th></tr>",
        );
        for d in e.deployments.iter().take(10) {
            let _ = write!(
                s,
                r#"<tr class="deployment"><td>{v}</td><td>{at}</td><td>{st}</td><td><code>{id}</code></td></tr>"#,
                v = esc(&d.version),
                at = when(d.at),
                st = esc(&d.status),
                id = esc(&d.id),
            );
        }
        s.push_str("</table>");
    }
    s.push_str("</section>");
}

/// The public status page: each environment's status and uptime bars, and
/// whether an incident is open. No messages, check ids, versions, alert
/// names or incident titles: nothing about how the service is built.
pub fn status_page(o: &Overview, title: &str) -> String {
    let mut s = String::new();
    head(&mut s, title);
    let down = o.environments.iter().filter(|e| e.status == "down").count();
    let degraded = o
        .environments
        .iter()
        .filter(|e| e.status == "degraded")
        .count();
    let summary = if down > 0 {
        "Some systems are down"
    } else if degraded > 0 {
        "Some systems are degraded"
    } else {
        "All systems operational"
    };
    let _ = write!(
        s,
        r#"<header><h1>{t}</h1><p>updated {u}</p></header><main><section id="summary"><h2>{summary}</h2>"#,
        t = esc(title),
        u = when(o.generated_at),
    );
    if !o.incidents.is_empty() {
        let _ = write!(
            s,
            r#"<p class="problem">{} open incident(s); the newest since {}.</p>"#,
            o.incidents.len(),
            when(o.incidents[0].detected_at)
        );
    }
    s.push_str("</section>");
    let compact = o.environments.len() > COMPACT_ABOVE;
    let sections: Vec<&EnvironmentView> = if compact {
        not_up(o).take(COMPACT_ABOVE).map(|(_, e)| e).collect()
    } else {
        o.environments.iter().collect()
    };
    for e in sections {
        let _ = write!(
            s,
            r#"<section class="env" data-status="{st}"><h2>{n} {badge}</h2><h3>Uptime, {d} days: {u}</h3>{bars}</section>"#,
            st = esc(&e.status),
            n = esc(&e.name),
            badge = status_badge(&e.status),
            d = e.days.len(),
            u = uptime_text(e.uptime),
            bars = svg::uptime_bars(&e.days, &[], true),
        );
    }
    if compact {
        environments_table(&mut s, o, false);
    }
    s.push_str("</main></body></html>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }
}
