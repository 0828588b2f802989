//! The watch's own cost per interval with 50 traffic conditions (`bench/watch.sh`).
//!
//! A local server exposes a realistic exposition (about 700 series: request
//! counters by method, route, code and MCP method, three latency histograms by
//! route) whose counters grow at every scrape, and a fake Prometheus answers
//! `/api/v1/query`. Three figures, each over many ticks run back to back:
//!
//! 1. `metrics`: one tick = one bounded scrape, the parse, and 50 conditions
//!    (20 ratios, 15 increases, 15 p95s) judged over a 5-interval window;
//! 2. the same 50 conditions judged on scrapes already in memory (no I/O):
//!    what the evaluation itself costs;
//! 3. `prometheus`: one tick = 50 instant queries, read and judged.
//!
//! Usage: `cargo run --release -p runway-signals --example bench_watch [TICKS]`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use runway_config::sources::{Selector, SourceKind};
use runway_signals::metrics::{self, MetricsSource, Scrape};
use runway_signals::prometheus::{PrometheusSource, Vars};
use runway_signals::{Condition, Expr, Sources};

const METHODS: &[&str] = &["GET", "POST", "DELETE"];
const PATHS: &[&str] = &["/mcp", "/health", "/metrics", "/readyz", "/livez"];
const CODES: &[&str] = &["200", "202", "400", "401", "404", "429", "500", "503"];
const MCP: &[&str] = &[
    "initialize",
    "tools/list",
    "tools/call",
    "resources/list",
    "prompts/list",
    "ping",
];
const BUCKETS: &[&str] = &[
    "0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
];

/// The exposition after `n` scrapes' worth of traffic.
fn exposition(n: u64) -> String {
    let mut out = String::with_capacity(96 * 1024);
    out.push_str("# TYPE http_requests_total counter\n");
    let mut k = 1u64;
    for m in METHODS {
        for p in PATHS {
            for c in CODES {
                for mcp in MCP {
                    k += 1;
                    let v = n * (k % 7 + 1) + k;
                    out.push_str(&format!(
                        "http_requests_total{{method=\"{m}\",path=\"{p}\",code=\"{c}\",mcp_method=\"{mcp}\"}} {v}\n"
                    ));
                }
            }
        }
    }
    out.push_str("# TYPE denied_total counter\n");
    for r in ["missing_token", "invalid_token", "expired"] {
        out.push_str(&format!("denied_total{{reason=\"{r}\"}} {}\n", n * 3));
    }
    for h in [
        "http_request_duration_seconds",
        "tool_seconds",
        "db_seconds",
    ] {
        out.push_str(&format!("# TYPE {h} histogram\n"));
        for p in PATHS {
            for (i, le) in BUCKETS.iter().enumerate() {
                let v = n * (i as u64 + 1) * 5;
                out.push_str(&format!("{h}_bucket{{path=\"{p}\",le=\"{le}\"}} {v}\n"));
            }
            out.push_str(&format!("{h}_sum{{path=\"{p}\"}} {}\n", n * 3));
            out.push_str(&format!("{h}_count{{path=\"{p}\"}} {}\n", n * 65));
        }
    }
    out
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("the benchmark's selectors parse")
}

fn conditions() -> Vec<Condition> {
    let mut out = Vec::new();
    let base = |name: String, expr: Expr| Condition {
        name,
        source: SourceKind::Metrics,
        expr,
        window: Some(Duration::from_secs(5)),
        min_requests: 1,
        max: Some(1e12),
        min: None,
        baseline_factor: None,
    };
    for i in 0..20 {
        let path = PATHS[i % PATHS.len()];
        out.push(base(
            format!("ratio {i}"),
            Expr::Ratio {
                numerator: sel(&format!(
                    r#"http_requests_total{{path="{path}",code=~"5.."}}"#
                )),
                denominator: sel(&format!(r#"http_requests_total{{path="{path}"}}"#)),
            },
        ));
    }
    for i in 0..15 {
        let mcp = MCP[i % MCP.len()];
        out.push(base(
            format!("increase {i}"),
            Expr::Increase(sel(&format!(
                r#"http_requests_total{{mcp_method="{mcp}",code!="200"}}"#
            ))),
        ));
    }
    for i in 0..15 {
        let path = PATHS[i % PATHS.len()];
        out.push(base(
            format!("p95 {i}"),
            Expr::Quantile {
                histogram: sel(&format!(
                    r#"http_request_duration_seconds{{path="{path}"}}"#
                )),
                q: 0.95,
            },
        ));
    }
    out
}

fn stats(label: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    let n = ms.len();
    let mean = ms.iter().sum::<f64>() / n as f64;
    let at = |p: f64| ms[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
    println!(
        "{label:<58} n={n:<5} mean {mean:>8.3} ms  p50 {:>8.3} ms  p95 {:>8.3} ms  max {:>8.3} ms",
        at(0.5),
        at(0.95),
        ms[n - 1]
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let ticks: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200)
        .clamp(10, 100_000);
    let scrapes = Arc::new(AtomicU64::new(0));
    let s2 = scrapes.clone();
    let app = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(move || {
                let n = s2.fetch_add(1, Ordering::Relaxed);
                async move { exposition(n) }
            }),
        )
        .route(
            "/api/v1/query",
            axum::routing::get(|| async {
                (
                    [("content-type", "application/json")],
                    r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.5,"0.0125"]}]}}"#,
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let page = exposition(1);
    println!(
        "exposition: {} series, {} bytes; 50 conditions (20 ratios, 15 increases, 15 p95s), 5-interval windows",
        page.lines().filter(|l| !l.starts_with('#')).count(),
        page.len()
    );

    // 1. metrics: scrape + parse + judge 50, per tick.
    let url: url::Url = format!("http://{addr}/metrics").parse().expect("url");
    let interval = Duration::from_secs(1);
    let mut sources = Sources::new(conditions(), 3).with_source(
        SourceKind::Metrics,
        Box::new(MetricsSource::new(
            url,
            Duration::from_secs(5),
            4 << 20,
            interval,
        )),
        4,
    );
    let mut per_tick = Vec::with_capacity(ticks);
    for _ in 0..ticks {
        let t = Instant::now();
        let evals = sources.tick().await;
        per_tick.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(evals.len(), 50);
    }
    stats("metrics tick: scrape + parse + 50 conditions", per_tick);

    // 2. The evaluation alone, over 6 scrapes in memory.
    let mut parsed = Vec::new();
    let mut parse_ms = Vec::new();
    for n in 0..6 {
        let text = exposition(n);
        let t = Instant::now();
        let mut scrape = Scrape::parse(&text).expect("the exposition parses");
        match parsed.last() {
            Some(prev) => metrics::link(prev, &mut scrape),
            None => scrape.seq = 1,
        }
        parsed.push(scrape);
        parse_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    stats("parse one exposition (and its increases)", parse_ms);
    let refs: Vec<&Scrape> = parsed.iter().collect();
    let conds = conditions();
    let mut eval = Vec::with_capacity(ticks);
    for _ in 0..ticks {
        let t = Instant::now();
        for c in &conds {
            std::hint::black_box(metrics::read(c, &refs));
        }
        eval.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    stats("judge 50 conditions over 6 scrapes (no I/O)", eval);

    // 3. prometheus: 50 queries per tick.
    let base: url::Url = format!("http://{addr}").parse().expect("url");
    let prom_conditions: Vec<Condition> = (0..50)
        .map(|i| Condition {
            name: format!("query {i}"),
            source: SourceKind::Prometheus,
            expr: Expr::Query(format!(
                r#"sum(rate(http_requests_total{{code=~"5..",version="{{version}}"}}[1m])) / {}"#,
                i + 1
            )),
            window: None,
            min_requests: 1,
            max: Some(1.0),
            min: None,
            baseline_factor: None,
        })
        .collect();
    let vars = Vars {
        version: "2.0.0".into(),
        previous_version: Some("1.0.0".into()),
        environment: "bench".into(),
    };
    let mut prom = Sources::new(prom_conditions, 3).with_source(
        SourceKind::Prometheus,
        Box::new(PrometheusSource::new(
            base,
            Duration::from_secs(5),
            1 << 20,
            vars,
        )),
        4,
    );
    let prom_ticks = (ticks / 4).max(10);
    let mut per_tick = Vec::with_capacity(prom_ticks);
    for _ in 0..prom_ticks {
        let t = Instant::now();
        let evals = prom.tick().await;
        per_tick.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(evals.iter().all(|e| e.value.is_some()));
    }
    stats("prometheus tick: 50 queries, read and judged", per_tick);
    server.abort();
}
