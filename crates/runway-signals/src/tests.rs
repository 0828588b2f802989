use std::collections::BTreeMap;
use std::time::Duration;

use runway_config::sources::{Selector, SourceKind};

use super::metrics::{self, MetricsSource, Scrape};
use super::prometheus::{self, PrometheusSource, Vars};
use super::*;

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

/// An exposition with `requests` 200s, `denied` 401s and their denials.
fn page(ok: u64, denied: u64) -> String {
    format!(
        "# TYPE http_requests_total counter\n\
         http_requests_total{{path=\"/mcp\",code=\"200\"}} {ok}\n\
         http_requests_total{{path=\"/mcp\",code=\"401\"}} {denied}\n\
         http_requests_total{{path=\"/health\",code=\"200\"}} 999\n\
         denied_total{{reason=\"invalid_token\"}} {denied}\n"
    )
}

fn scrape(text: &str) -> Scrape {
    Scrape::parse(text).unwrap()
}

fn value(r: &Reading) -> f64 {
    match r {
        Reading::Value(v) => *v,
        other => panic!("not a value: {other:?}"),
    }
}

#[test]
fn a_ratio_is_the_increase_over_the_window_not_the_total() {
    let c = auth_ratio(Some(0.1), None);
    // Before: 1000 good requests, no denials. Then 70 good, 30 denied.
    let a = scrape(&page(1000, 0));
    let b = scrape(&page(1070, 30));
    let r = metrics::read(&c, &[&a, &b]);
    assert!((value(&r) - 0.3).abs() < 1e-9, "{r:?}");
    let e = c.judge(&r, None);
    assert_eq!(e.verdict, Verdict::Fail);
    assert!(
        e.message
            .contains("auth denied = 0.3, above the maximum 0.1"),
        "{}",
        e.message
    );
    // One scrape: nothing to compare yet.
    assert!(matches!(metrics::read(&c, &[&b]), Reading::Empty(_)));
}

#[test]
fn a_counter_reset_mid_window_counts_as_prometheus_does() {
    let c = auth_ratio(Some(0.1), None);
    let s1 = scrape(&page(1000, 10));
    let s2 = scrape(&page(1090, 20));
    // The process restarted: every counter starts again.
    let s3 = scrape(&page(45, 5));
    let s4 = scrape(&page(90, 10));
    // Increases: (90 + 10) + (45 + 5) + (45 + 5) requests, 10 + 5 + 5 denied.
    let r = metrics::read(&c, &[&s1, &s2, &s3, &s4]);
    assert!((value(&r) - 20.0 / 200.0).abs() < 1e-9, "{r:?}");
    assert_eq!(c.judge(&r, None).verdict, Verdict::Pass);
    // Read naively (last minus first) the window would be negative.
    let naive = (90.0 + 10.0) - (1000.0 + 10.0);
    assert!(naive < 0.0);
    // A series that appears after the first scrape counts from zero.
    let fresh = scrape("http_requests_total{path=\"/mcp\",code=\"200\"} 1000\n");
    let r = metrics::read(&c, &[&fresh, &scrape(&page(1010, 10))]);
    assert!((value(&r) - 0.5).abs() < 1e-9, "{r:?}");
}

#[test]
fn no_requests_in_the_window_is_inconclusive_not_a_pass() {
    let c = auth_ratio(Some(0.1), None);
    let a = scrape(&page(50, 0));
    let r = metrics::read(&c, &[&a, &a.clone()]);
    assert!(
        matches!(&r, Reading::Empty(m) if m.contains("fewer than the 1 needed")),
        "{r:?}"
    );
    let e = c.judge(&r, None);
    assert_eq!(e.verdict, Verdict::Inconclusive);
    assert!(!e.error);
}

#[test]
fn a_quantile_interpolates_inside_its_bucket() {
    let mut b = BTreeMap::new();
    for (le, n) in [("0.1", 50.0), ("0.5", 90.0), ("1", 100.0), ("+Inf", 100.0)] {
        b.insert(le.to_owned(), n);
    }
    // p95: rank 95, between 90 (0.5 s) and 100 (1 s): 0.75 s.
    let (v, total) = metrics::quantile(0.95, &b).unwrap();
    assert!((v - 0.75).abs() < 1e-9, "{v}");
    assert_eq!(total, 100.0);
    // p50 is the top of the first bucket.
    assert!((metrics::quantile(0.5, &b).unwrap().0 - 0.1).abs() < 1e-9);
    // Past the last finite bound: that bound.
    b.insert("+Inf".into(), 200.0);
    assert_eq!(metrics::quantile(0.99, &b).unwrap().0, 1.0);
    assert_eq!(metrics::quantile(0.5, &BTreeMap::new()), None);

    let c = Condition {
        name: "p95".into(),
        source: SourceKind::Metrics,
        expr: Expr::Quantile {
            histogram: sel(r#"lat_seconds{path="/mcp"}"#),
            q: 0.95,
        },
        window: None,
        min_requests: 10,
        max: Some(0.5),
        min: None,
        baseline_factor: None,
    };
    let hist = |fast: u64, slow: u64| {
        format!(
            "lat_seconds_bucket{{path=\"/mcp\",le=\"0.1\"}} {fast}\n\
             lat_seconds_bucket{{path=\"/mcp\",le=\"1\"}} {}\n\
             lat_seconds_bucket{{path=\"/mcp\",le=\"+Inf\"}} {}\n\
             lat_seconds_bucket{{path=\"/health\",le=\"+Inf\"}} 5000\n",
            fast + slow,
            fast + slow
        )
    };
    let r = metrics::read(&c, &[&scrape(&hist(0, 0)), &scrape(&hist(80, 20))]);
    // Rank 95 of 100: 15/20 of the way through (0.1, 1].
    assert!((value(&r) - 0.775).abs() < 1e-9, "{r:?}");
    assert_eq!(c.judge(&r, None).verdict, Verdict::Fail);
    let few = metrics::read(&c, &[&scrape(&hist(0, 0)), &scrape(&hist(5, 0))]);
    assert!(
        matches!(&few, Reading::Empty(m) if m.contains("5 observations")),
        "{few:?}"
    );
}

#[test]
fn a_missing_baseline_is_inconclusive_unless_an_absolute_bound_judges() {
    let relative = auth_ratio(None, Some(1.5));
    let r = Reading::Value(0.04);
    let e = relative.judge(&r, None);
    assert_eq!(e.verdict, Verdict::Inconclusive);
    assert!(e.message.contains("no baseline"), "{}", e.message);
    let e = relative.judge(&r, Some(&Reading::Empty("no series".into())));
    assert_eq!(e.verdict, Verdict::Inconclusive);
    // With a baseline: 0.04 is within 1.5x 0.03, not within 1.5x 0.02.
    assert_eq!(
        relative.judge(&r, Some(&Reading::Value(0.03))).verdict,
        Verdict::Pass
    );
    let e = relative.judge(&r, Some(&Reading::Value(0.02)));
    assert_eq!(e.verdict, Verdict::Fail);
    assert!(
        e.message
            .contains("above 1.5x the previous version's 0.02 (= 0.03)"),
        "{}",
        e.message
    );
    // A maximum as well: judged on it alone, and the message says so.
    let both = auth_ratio(Some(0.05), Some(1.5));
    let e = both.judge(&r, None);
    assert_eq!(e.verdict, Verdict::Pass);
    assert!(e.message.contains("no baseline"), "{}", e.message);
}

#[test]
fn prometheus_answers_are_read_in_three_ways() {
    let ok = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.1,"0.3"]}]}}"#;
    assert_eq!(prometheus::reading_of(200, ok), Reading::Value(0.3));
    let scalar =
        br#"{"status":"success","data":{"resultType":"scalar","result":[1700000000.1,"7"]}}"#;
    assert_eq!(prometheus::reading_of(200, scalar), Reading::Value(7.0));
    let empty = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
    assert!(
        matches!(prometheus::reading_of(200, empty), Reading::Empty(m) if m.contains("no series"))
    );
    let nan = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}}"#;
    assert!(matches!(prometheus::reading_of(200, nan), Reading::Empty(m) if m.contains("NaN")));
    let two = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"2"]}]}}"#;
    assert!(
        matches!(prometheus::reading_of(200, two), Reading::Error(m) if m.contains("2 series"))
    );
    let bad =
        br#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected"}"#;
    assert!(
        matches!(prometheus::reading_of(400, bad), Reading::Error(m) if m.contains("bad_data") && m.contains("parse error"))
    );
    assert!(
        matches!(prometheus::reading_of(502, b"<html>bad gateway</html>"), Reading::Error(m) if m.contains("HTTP 502"))
    );
    let matrix = br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
    assert!(
        matches!(prometheus::reading_of(200, matrix), Reading::Error(m) if m.contains("matrix"))
    );
}

#[test]
fn versions_are_substituted_and_escaped() {
    let q = prometheus::substitute(
        r#"x{version="{version}",env="{environment}"} / x{version="{previous_version}"}"#,
        "2.0.0",
        Some("1.9\"x"),
        "prod",
    );
    assert_eq!(q, r#"x{version="2.0.0",env="prod"} / x{version="1.9\"x"}"#);
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

#[tokio::test]
async fn failures_in_a_row_fail_and_empty_ticks_neither_count_nor_break_the_run() {
    use Reading::*;
    let mut s = scripted(
        vec![
            Value(0.3),
            Empty("x".into()),
            Value(0.3),
            Value(0.01),
            Value(0.3),
            Value(0.3),
            Empty("y".into()),
            Value(0.3),
        ],
        3,
        4,
    );
    for _ in 0..7 {
        s.tick().await;
        assert!(!s.failed_early());
    }
    s.tick().await;
    assert!(s.failed_early());
    let sum = &s.summaries()[0];
    assert_eq!(sum.verdict, Verdict::Fail);
    assert_eq!(
        (sum.passed, sum.failed, sum.empty, sum.errors),
        (1, 5, 2, 0)
    );
    assert!(
        sum.reason
            .contains("condition `auth denied` (metrics) failed 3 times in a row"),
        "{}",
        sum.reason
    );
    assert!(sum.reason.contains("0.3"), "{}", sum.reason);
}

#[tokio::test]
async fn errors_past_the_limit_leave_the_condition_inconclusive() {
    use Reading::*;
    let mut s = scripted(
        vec![
            Value(0.01),
            Error("timed out".into()),
            Error("timed out".into()),
            Error("timed out".into()),
        ],
        3,
        3,
    );
    for _ in 0..4 {
        s.tick().await;
    }
    assert!(!s.failed_early());
    let sum = &s.summaries()[0];
    assert_eq!(sum.verdict, Verdict::Inconclusive);
    assert_eq!(sum.errors, 3);
    assert!(
        sum.reason.contains("3 errors in a row (limit 3)"),
        "{}",
        sum.reason
    );
    assert!(sum.reason.contains("timed out"), "{}", sum.reason);
    // Two errors under a limit of three, then values: a pass.
    let mut s = scripted(
        vec![Error("x".into()), Error("x".into()), Value(0.01)],
        3,
        3,
    );
    for _ in 0..3 {
        s.tick().await;
    }
    assert_eq!(s.summaries()[0].verdict, Verdict::Pass);
}

#[tokio::test]
async fn a_condition_never_judged_is_inconclusive() {
    let mut s = scripted(
        vec![Reading::Empty("the query returned no series".into()); 3],
        3,
        3,
    );
    for _ in 0..3 {
        s.tick().await;
    }
    let sum = &s.summaries()[0];
    assert_eq!(sum.verdict, Verdict::Inconclusive);
    assert!(
        sum.reason.contains("never judged") && sum.reason.contains("no series"),
        "{}",
        sum.reason
    );
}

/// Accepts connections and never answers.
async fn silent_server() -> (url::Url, tokio::task::JoinHandle<()>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        for _ in 0..16 {
            match l.accept().await {
                Ok((s, _)) => held.push(s),
                Err(_) => break,
            }
        }
    });
    (format!("http://{addr}/metrics").parse().unwrap(), task)
}

#[tokio::test]
async fn a_scrape_that_times_out_is_an_error_reading() {
    let (url, task) = silent_server().await;
    let c = auth_ratio(Some(0.1), None);
    let mut m = MetricsSource::new(
        url,
        Duration::from_millis(200),
        1 << 20,
        Duration::from_secs(1),
    );
    let started = std::time::Instant::now();
    let got = m.read(&[&c]).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    match &got[0] {
        Reading::Error(e) => assert!(e.contains("/metrics") && e.contains("200"), "{e}"),
        other => panic!("{other:?}"),
    }
    let e = c.judge(&got[0], None);
    assert_eq!(e.verdict, Verdict::Inconclusive);
    assert!(e.error);
    task.abort();
}

/// A fake Prometheus: `/api/v1/query` answers `body` and records the queries.
async fn fake_prometheus(
    body: &'static str,
) -> (
    url::Url,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    tokio::task::JoinHandle<()>,
) {
    use axum::{extract::Query, routing::get};
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let app = axum::Router::new().route(
        "/api/v1/query",
        get(move |Query(q): Query<BTreeMap<String, String>>| {
            let s2 = s2.clone();
            async move {
                s2.lock()
                    .unwrap()
                    .push(q.get("query").cloned().unwrap_or_default());
                ([("content-type", "application/json")], body)
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (format!("http://{addr}").parse().unwrap(), seen, task)
}

#[tokio::test]
async fn a_query_that_returns_nothing_is_empty_and_the_baseline_asks_for_the_previous_version() {
    let (url, seen, task) =
        fake_prometheus(r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#).await;
    let c = Condition {
        name: "errors".into(),
        source: SourceKind::Prometheus,
        expr: Expr::Query(r#"sum(rate(x{version="{version}"}[1m]))"#.into()),
        window: None,
        min_requests: 1,
        max: Some(0.05),
        min: None,
        baseline_factor: Some(1.5),
    };
    let vars = Vars {
        version: "2.0.0".into(),
        previous_version: Some("1.0.0".into()),
        environment: "prod".into(),
    };
    let mut s = Sources::new(vec![c], 3).with_source(
        SourceKind::Prometheus,
        Box::new(PrometheusSource::new(
            url,
            Duration::from_secs(5),
            1 << 20,
            vars,
        )),
        4,
    );
    s.capture_baseline().await;
    let e = s.tick().await;
    assert_eq!(e[0].verdict, Verdict::Inconclusive);
    assert!(!e[0].error);
    assert!(e[0].message.contains("no series"), "{}", e[0].message);
    let q = seen.lock().unwrap().clone();
    assert_eq!(
        q,
        vec![
            r#"sum(rate(x{version="1.0.0"}[1m]))"#.to_owned(),
            r#"sum(rate(x{version="2.0.0"}[1m]))"#.to_owned()
        ]
    );
    assert_eq!(s.summaries()[0].verdict, Verdict::Inconclusive);
    task.abort();
}

#[test]
fn linked_scrapes_give_the_same_increases_as_computed_ones() {
    let c = auth_ratio(Some(0.1), None);
    let s1 = scrape(&page(1000, 10));
    let mut s2 = scrape(&page(1090, 20));
    let mut s3 = scrape(&page(45, 5));
    let plain = metrics::read(&c, &[&s1, &s2, &s3]);
    let mut s1 = s1;
    s1.seq = 1;
    metrics::link(&s1, &mut s2);
    metrics::link(&s2, &mut s3);
    assert_eq!(metrics::read(&c, &[&s1, &s2, &s3]), plain);
    assert!((value(&plain) - 15.0 / 150.0).abs() < 1e-9, "{plain:?}");
}

/// A fake Prometheus whose every query takes `delay` and answers `0.5`;
/// counts the requests, the most in flight at once, and the bearer tokens
/// it was sent (`require`: anything else is a 401).
struct SlowPrometheus {
    url: url::Url,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    max_in_flight: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

async fn slow_prometheus(delay: Duration, require: Option<&'static str>) -> SlowPrometheus {
    use axum::{extract::Query, http::HeaderMap, http::StatusCode, routing::get};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let requests = std::sync::Arc::new(AtomicUsize::new(0));
    let in_flight = std::sync::Arc::new(AtomicUsize::new(0));
    let max_in_flight = std::sync::Arc::new(AtomicUsize::new(0));
    let (r, i, m) = (requests.clone(), in_flight.clone(), max_in_flight.clone());
    struct Leave(std::sync::Arc<AtomicUsize>);
    impl Drop for Leave {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let app = axum::Router::new().route(
        "/api/v1/query",
        get(move |headers: HeaderMap, Query(query): Query<BTreeMap<String, String>>| {
            let (r, i, m) = (r.clone(), i.clone(), m.clone());
            async move {
                r.fetch_add(1, Ordering::SeqCst);
                if let Some(want) = require {
                    let got = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    if got != format!("Bearer {want}") {
                        return (StatusCode::UNAUTHORIZED, "unauthorized\n".to_owned());
                    }
                    if query.get("query").is_some_and(|q| q.contains("echo")) {
                        // A server that echoes the credentials into its error.
                        return (
                            StatusCode::BAD_REQUEST,
                            format!(
                                r#"{{"status":"error","errorType":"bad_data","error":"bad query from {got}"}}"#
                            ),
                        );
                    }
                }
                let now = i.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                let _leave = Leave(i.clone());
                tokio::time::sleep(delay).await;
                (
                    StatusCode::OK,
                    r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"0.5"]}]}}"#
                        .to_owned(),
                )
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    SlowPrometheus {
        url: format!("http://{addr}").parse().unwrap(),
        requests,
        max_in_flight,
        task,
    }
}

fn queries(n: usize) -> Vec<Condition> {
    (0..n)
        .map(|i| Condition {
            name: format!("q{i}"),
            source: SourceKind::Prometheus,
            expr: Expr::Query(format!("sum(x{{i=\"{i}\"}})")),
            window: None,
            min_requests: 1,
            max: Some(1.0),
            min: None,
            baseline_factor: None,
        })
        .collect()
}

fn prometheus_sources(
    url: url::Url,
    n: usize,
    timeout: Duration,
    concurrency: usize,
    token: Option<&str>,
) -> Sources {
    let source = PrometheusSource::new(url, timeout, 1 << 20, Vars::default())
        .with_token(
            token.map(runway_core::Secret::from),
            "`analysis.prometheus.token_env` (`PROM_TOKEN`)",
        )
        .with_concurrency(concurrency);
    Sources::new(queries(n), 1).with_source(SourceKind::Prometheus, Box::new(source), 4)
}

#[tokio::test]
async fn slow_queries_run_at_once_each_bounded_by_its_own_timeout() {
    use std::sync::atomic::Ordering;
    // Each query would take 3 s; the timeout is 300 ms. One after the other,
    // one would be in flight at a time; together, all six are.
    let p = slow_prometheus(Duration::from_secs(3), None).await;
    let mut s = prometheus_sources(p.url.clone(), 6, Duration::from_millis(300), 8, None);
    let e = s.tick().await;
    assert_eq!(e.len(), 6);
    for (i, e) in e.iter().enumerate() {
        assert_eq!(
            e.condition,
            format!("q{i}"),
            "in the order of the conditions"
        );
        assert!(e.error, "{e:?}");
        assert_eq!(e.verdict, Verdict::Inconclusive);
    }
    assert_eq!(p.requests.load(Ordering::SeqCst), 6);
    assert_eq!(p.max_in_flight.load(Ordering::SeqCst), 6);
    p.task.abort();
}

#[tokio::test]
async fn queries_in_flight_are_bounded_by_the_concurrency() {
    use std::sync::atomic::Ordering;
    let p = slow_prometheus(Duration::from_millis(150), None).await;
    let mut s = prometheus_sources(p.url.clone(), 7, Duration::from_secs(10), 2, None);
    let e = s.tick().await;
    assert!(
        e.iter()
            .all(|e| e.verdict == Verdict::Pass && e.value == Some(0.5)),
        "{e:?}"
    );
    assert_eq!(p.requests.load(Ordering::SeqCst), 7);
    assert_eq!(p.max_in_flight.load(Ordering::SeqCst), 2);
    p.task.abort();
}

#[tokio::test]
async fn a_prometheus_that_wants_a_token_gets_it_and_a_401_names_the_setting() {
    let secret = "s3cret-prom-token";
    let p = slow_prometheus(Duration::from_millis(1), Some("s3cret-prom-token")).await;

    let mut without = prometheus_sources(p.url.clone(), 1, Duration::from_secs(5), 8, None);
    let e = without.tick().await.remove(0);
    assert!(e.error, "a 401 is an error reading, not empty: {e:?}");
    assert_eq!(e.verdict, Verdict::Inconclusive);
    assert!(e.message.contains("HTTP 401"), "{}", e.message);
    assert!(
        e.message.contains("`analysis.prometheus.token_env`"),
        "{}",
        e.message
    );

    let mut wrong = prometheus_sources(p.url.clone(), 1, Duration::from_secs(5), 8, Some("nope"));
    let e = wrong.tick().await.remove(0);
    assert!(
        e.error && e.message.contains("refused the token"),
        "{}",
        e.message
    );
    assert!(e.message.contains("PROM_TOKEN"), "{}", e.message);
    assert!(
        !e.message.contains("nope"),
        "the token is never shown: {}",
        e.message
    );

    let mut with = prometheus_sources(p.url.clone(), 1, Duration::from_secs(5), 8, Some(secret));
    let e = with.tick().await.remove(0);
    assert_eq!((e.verdict, e.value), (Verdict::Pass, Some(0.5)), "{e:?}");
    assert!(!format!("{e:?}").contains(secret));
    assert!(!format!("{:?}", with.summaries()).contains(secret));
    // Echoed back by the server, it is still never shown.
    let echo = PrometheusSource::new(
        p.url.clone(),
        Duration::from_secs(5),
        1 << 20,
        Vars::default(),
    )
    .with_token(Some(secret.into()), "`analysis.prometheus.token_env`");
    match echo.query("echo(x)").await {
        Reading::Error(m) => {
            assert!(m.contains("bad query from Bearer [redacted]"), "{m}");
            assert!(!m.contains(secret), "{m}");
        }
        other => panic!("{other:?}"),
    }
    p.task.abort();
}

#[test]
fn the_prometheus_token_is_read_at_start_from_its_file_and_a_missing_one_names_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let text = |token: &str| {
        format!(
            r#"[environments.p]
url = "http://127.0.0.1:9/mcp"

[environments.p.analysis.prometheus]
url = "http://127.0.0.1:9090"
{token}

[[environments.p.analysis.conditions]]
name = "errors"
query = "sum(x)"
max = 0.05
"#
        )
    };
    let file = dir.path().join("prom-token");
    let c = runway_config::Config::parse(
        &text(&format!("token_file = {:?}", file.display().to_string())),
        std::path::Path::new("runway.toml"),
    )
    .unwrap();
    let a = c.environments["p"].analysis.clone().unwrap();
    let e = Sources::from_config(&a, None, Vars::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("analysis.prometheus.token_file"), "{e}");
    std::fs::write(&file, "tok\n").unwrap();
    assert!(Sources::from_config(&a, None, Vars::default()).is_ok());

    let both = runway_config::Config::parse(
        &text("token_env = \"A\"\ntoken_file = \"b\""),
        std::path::Path::new("runway.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        both.contains("either `token_env` or `token_file`"),
        "{both}"
    );
}

#[test]
fn a_ratio_over_a_series_the_server_does_not_export_says_so() {
    let c = auth_ratio(Some(0.1), None);
    // The server exports requests under another name: nothing to divide by.
    let other = "mcp_requests_total{path=\"/mcp\",code=\"200\"} 10\n";
    let r = metrics::read(&c, &[&scrape(other), &scrape(other)]);
    let Reading::Empty(m) = &r else {
        panic!("not empty: {r:?}")
    };
    assert!(m.contains("no series matches `http_requests_total"), "{m}");
    assert!(m.contains("exports no metric `http_requests_total`"), "{m}");
    assert!(!m.contains("-0"), "{m}");
    // The name is right but no series has the labels.
    let wrong = "http_requests_total{path=\"/other\",code=\"200\"} 10\n";
    let r = metrics::read(&c, &[&scrape(wrong), &scrape(wrong)]);
    let Reading::Empty(m) = &r else {
        panic!("not empty: {r:?}")
    };
    assert!(m.contains("none with these labels"), "{m}");
    assert_eq!(signals_num(-0.0), "0");
}

fn signals_num(v: f64) -> String {
    crate::num(v)
}

/// dynamic-mcp's own series (its `/metrics` as served by 0.4.x): the share
/// of denied authentications is denied over denied + succeeded, the second
/// summed by a name matcher.
#[test]
fn the_dynamic_mcp_auth_share_reads_the_series_it_exports() {
    let c = Condition {
        expr: Expr::Ratio {
            numerator: sel("dynamic_mcp_http_auth_denied_total"),
            denominator: sel(r#"{__name__=~"dynamic_mcp_http_auth_(denied|success)_total"}"#),
        },
        ..auth_ratio(Some(0.10), None)
    };
    let page = |ok: u64, denied: u64| {
        format!(
            "# TYPE dynamic_mcp_http_sessions_created_total counter\n\
             dynamic_mcp_http_sessions_created_total 8\n\
             # TYPE dynamic_mcp_http_auth_success_total counter\n\
             dynamic_mcp_http_auth_success_total {ok}\n\
             # TYPE dynamic_mcp_http_auth_denied_total counter\n\
             dynamic_mcp_http_auth_denied_total {denied}\n"
        )
    };
    let r = metrics::read(&c, &[&scrape(&page(100, 5)), &scrape(&page(160, 25))]);
    // 20 denied of 80 attempts in the window.
    assert!((value(&r) - 0.25).abs() < 1e-9, "{r:?}");
    let none = "other_total 1\n";
    let r = metrics::read(&c, &[&scrape(none), &scrape(none)]);
    assert!(
        matches!(&r, Reading::Empty(m) if m.contains("no series matches")),
        "{r:?}"
    );
}
