//! Unit tests of every HTTP check against the switchable fake in `testkit`:
//! each check passes the good server and fails the variant that breaks it.

use std::time::Duration;

use runway_core::{Era, Status};

use crate::{
    checks::{auth, cors, endpoints, headers, ratelimit},
    context::{Endpoint, LoadSettings, LoadTarget, Suite},
    engine, http, load,
    testkit::{Fake, spawn},
};

fn client() -> reqwest::Client {
    http::client(http::Limits::default())
}

fn status_of(results: &[runway_core::CheckResult], id: &str) -> Status {
    results
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no `{id}` in {results:#?}"))
        .status
}

fn assert_hinted(results: &[runway_core::CheckResult]) {
    for r in results {
        if matches!(r.status, Status::Warn | Status::Fail) {
            assert!(r.hint.is_some(), "{} has no hint", r.id);
        }
    }
}

#[tokio::test]
async fn health_passes_and_compares_the_version() {
    let s = spawn(Fake::default()).await;
    let mut ctx = s.context(Suite::Smoke);
    ctx.expect.version = Some("1.2.3".into());
    let r = endpoints::health(&ctx, &client()).await;
    assert_eq!(status_of(&r, "http.health"), Status::Pass);
    assert_eq!(status_of(&r, "http.version"), Status::Pass);
    assert_eq!(r[0].evidence.status, Some(200));
    assert!(
        r[0].evidence
            .body_excerpt
            .as_deref()
            .unwrap()
            .contains("ok")
    );

    ctx.expect.version = Some("2.0.0".into());
    let r = endpoints::health(&ctx, &client()).await;
    assert_eq!(status_of(&r, "http.version"), Status::Fail);
    assert!(r[1].message.contains("2.0.0") && r[1].message.contains("1.2.3"));
}

#[tokio::test]
async fn an_unhealthy_or_non_json_health_endpoint_is_caught() {
    let s = spawn(Fake {
        health: (503, r#"{"status":"unhealthy"}"#.into()),
        ..Fake::default()
    })
    .await;
    let r = endpoints::health(&s.context(Suite::Smoke), &client()).await;
    assert_eq!(status_of(&r, "http.health"), Status::Fail);
    assert!(r[0].message.contains("503") && r[0].message.contains("unhealthy"));

    let s = spawn(Fake {
        health: (200, r#"{"status":"degraded"}"#.into()),
        ..Fake::default()
    })
    .await;
    let r = endpoints::health(&s.context(Suite::Smoke), &client()).await;
    assert_eq!(status_of(&r, "http.health"), Status::Fail);

    let s = spawn(Fake {
        health: (200, "{not json".into()),
        ..Fake::default()
    })
    .await;
    let r = endpoints::health(&s.context(Suite::Smoke), &client()).await;
    assert_eq!(status_of(&r, "http.health"), Status::Warn);
    assert_hinted(&r);
}

#[tokio::test]
async fn liveness_and_readiness_fail_on_non_2xx() {
    let good = spawn(Fake::default()).await;
    let ctx = good.context(Suite::Smoke);
    let c = client();
    let live = endpoints::probe(
        &ctx,
        &c,
        "http.livez",
        ctx.paths.livez.as_ref(),
        "livez_path",
    )
    .await;
    assert_eq!(live.unwrap().status, Status::Pass);

    let bad = spawn(Fake {
        livez: 500,
        readyz: 503,
        ..Fake::default()
    })
    .await;
    let ctx = bad.context(Suite::Smoke);
    let live = endpoints::probe(
        &ctx,
        &c,
        "http.livez",
        ctx.paths.livez.as_ref(),
        "livez_path",
    )
    .await
    .unwrap();
    let ready = endpoints::probe(
        &ctx,
        &c,
        "http.readyz",
        ctx.paths.readyz.as_ref(),
        "readyz_path",
    )
    .await
    .unwrap();
    assert_eq!(live.status, Status::Fail);
    assert_eq!(ready.status, Status::Fail);
    assert!(ready.hint.unwrap().contains("not ready"));
}

#[tokio::test]
async fn metrics_must_parse_and_hold_required_series() {
    let s = spawn(Fake::default()).await;
    let mut ctx = s.context(Suite::Smoke);
    ctx.required_metrics = vec![
        "mcp_requests_total".into(),
        "process_start_time_seconds".into(),
    ];
    let r = endpoints::metrics(&ctx, &client()).await.unwrap();
    assert_eq!(r.status, Status::Pass, "{r:?}");

    ctx.required_metrics
        .push("mcp_request_duration_seconds".into());
    let r = endpoints::metrics(&ctx, &client()).await.unwrap();
    assert_eq!(r.status, Status::Fail);
    assert!(r.message.contains("mcp_request_duration_seconds"));

    let s = spawn(Fake {
        metrics: Some("<html>metrics moved</html>\n".into()),
        ..Fake::default()
    })
    .await;
    let r = endpoints::metrics(&s.context(Suite::Smoke), &client())
        .await
        .unwrap();
    assert_eq!(r.status, Status::Fail);
    assert!(r.message.contains("line 1"), "{}", r.message);
}

#[tokio::test]
async fn a_missing_endpoint_is_skipped_unless_configured() {
    let s = spawn(Fake {
        metrics: None,
        ..Fake::default()
    })
    .await;
    let mut ctx = s.context(Suite::Smoke);
    let r = endpoints::metrics(&ctx, &client()).await.unwrap();
    assert_eq!(r.status, Status::Skip);
    ctx.paths.metrics = Some(Endpoint::required_at("/metrics"));
    let r = endpoints::metrics(&ctx, &client()).await.unwrap();
    assert_eq!(r.status, Status::Fail);
    assert_eq!(r.evidence.status, Some(404));
}

#[tokio::test]
async fn the_auth_boundary_passes_a_good_server() {
    let s = spawn(Fake::default()).await;
    let r = auth::run(&s.context(Suite::Smoke), &client(), &Era::Unknown).await;
    for id in [
        "auth.no_token",
        "auth.www_authenticate",
        "auth.resource_metadata",
        "auth.wrong_token",
        "auth.valid_token",
        "auth.query_token",
        "auth.session_without_token",
    ] {
        assert_eq!(status_of(&r, id), Status::Pass, "{id}: {r:#?}");
    }
}

#[tokio::test]
async fn each_auth_fault_fails_its_own_check() {
    let cases: Vec<(Fake, &str)> = vec![
        (
            Fake {
                token: None,
                ..Fake::default()
            },
            "auth.no_token",
        ),
        (
            Fake {
                www_authenticate: false,
                ..Fake::default()
            },
            "auth.www_authenticate",
        ),
        (
            Fake {
                prm: false,
                ..Fake::default()
            },
            "auth.resource_metadata",
        ),
        (
            Fake {
                wrong_token_ok: true,
                ..Fake::default()
            },
            "auth.wrong_token",
        ),
        (
            Fake {
                query_token_ok: true,
                ..Fake::default()
            },
            "auth.query_token",
        ),
        (
            Fake {
                session_without_token_ok: true,
                ..Fake::default()
            },
            "auth.session_without_token",
        ),
    ];
    for (fake, id) in cases {
        let s = spawn(fake).await;
        let r = auth::run(&s.context(Suite::Smoke), &client(), &Era::Unknown).await;
        assert_eq!(status_of(&r, id), Status::Fail, "{id}: {r:#?}");
        assert_hinted(&r);
    }
    // A server expecting another token rejects ours.
    let s = spawn(Fake {
        token: Some("another-token-xyz".into()),
        ..Fake::default()
    })
    .await;
    let r = auth::run(&s.context(Suite::Smoke), &client(), &Era::Unknown).await;
    assert_eq!(status_of(&r, "auth.valid_token"), Status::Fail);
}

#[tokio::test]
async fn without_a_token_an_open_server_is_a_warning_and_token_checks_skip() {
    let s = spawn(Fake {
        token: None,
        ..Fake::default()
    })
    .await;
    let mut ctx = s.context(Suite::Smoke);
    ctx.token = None;
    let r = auth::run(&ctx, &client(), &Era::Unknown).await;
    assert_eq!(status_of(&r, "auth.no_token"), Status::Warn);
    assert_eq!(status_of(&r, "auth.valid_token"), Status::Skip);
}

#[tokio::test]
async fn security_headers_are_required_and_hsts_only_on_https() {
    let s = spawn(Fake::default()).await;
    let r = headers::run(&s.context(Suite::Full), &client(), &Era::Unknown).await;
    for id in [
        "headers.frame_options",
        "headers.content_type_options",
        "headers.csp",
    ] {
        assert_eq!(status_of(&r, id), Status::Pass, "{id}");
    }
    assert_eq!(status_of(&r, "headers.hsts"), Status::Skip);

    let s = spawn(Fake {
        security_headers: false,
        ..Fake::default()
    })
    .await;
    let r = headers::run(&s.context(Suite::Full), &client(), &Era::Unknown).await;
    for id in [
        "headers.frame_options",
        "headers.content_type_options",
        "headers.csp",
    ] {
        // A JSON-only API: the headers protect pages, so their absence is advice.
        assert_eq!(status_of(&r, id), Status::Warn, "{id}");
        let c = r.iter().find(|c| c.id == id).unwrap();
        assert!(c.message.contains("not HTML"), "{}", c.message);
    }
    assert_hinted(&r);

    let s = spawn(Fake {
        security_headers: false,
        html: true,
        ..Fake::default()
    })
    .await;
    let r = headers::run(&s.context(Suite::Full), &client(), &Era::Unknown).await;
    for id in [
        "headers.frame_options",
        "headers.content_type_options",
        "headers.csp",
    ] {
        assert_eq!(status_of(&r, id), Status::Fail, "{id} on an HTML answer");
    }
}

#[tokio::test]
async fn cors_must_not_echo_foreign_origins_or_mix_wildcard_and_credentials() {
    let s = spawn(Fake::default()).await;
    let r = cors::cors(&s.context(Suite::Full), &client()).await;
    assert_eq!(status_of(&r, "cors.foreign_origin"), Status::Pass);
    assert_eq!(status_of(&r, "cors.credentials"), Status::Pass);

    let s = spawn(Fake {
        cors_echo: true,
        ..Fake::default()
    })
    .await;
    let r = cors::cors(&s.context(Suite::Full), &client()).await;
    assert_eq!(status_of(&r, "cors.foreign_origin"), Status::Fail);

    let s = spawn(Fake {
        cors_wildcard: true,
        ..Fake::default()
    })
    .await;
    let r = cors::cors(&s.context(Suite::Full), &client()).await;
    assert_eq!(status_of(&r, "cors.credentials"), Status::Fail);
    assert_eq!(status_of(&r, "cors.foreign_origin"), Status::Pass);
}

#[tokio::test]
async fn a_foreign_origin_must_get_403() {
    let s = spawn(Fake::default()).await;
    let r = cors::origin(&s.context(Suite::Full), &client(), &Era::Unknown).await;
    assert_eq!(r.status, Status::Pass, "{r:?}");
    let s = spawn(Fake {
        origin_check: false,
        ..Fake::default()
    })
    .await;
    let r = cors::origin(&s.context(Suite::Full), &client(), &Era::Unknown).await;
    assert_eq!(r.status, Status::Fail);
    assert_eq!(r.evidence.status, Some(200));
}

#[tokio::test]
async fn rate_limit_wants_429_with_retry_after() {
    let s = spawn(Fake::default()).await;
    let r = ratelimit::run(&s.context(Suite::Full), &client(), &Era::Unknown).await;
    assert_eq!(r.status, Status::Pass, "{r:?}");
    assert_eq!(r.evidence.status, Some(429));

    let s = spawn(Fake {
        retry_after: false,
        ..Fake::default()
    })
    .await;
    let r = ratelimit::run(&s.context(Suite::Full), &client(), &Era::Unknown).await;
    assert_eq!(r.status, Status::Warn);

    let s = spawn(Fake {
        rate_limit: None,
        ..Fake::default()
    })
    .await;
    let mut ctx = s.context(Suite::Full);
    ctx.rate_limit.burst = 30;
    let r = ratelimit::run(&ctx, &client(), &Era::Unknown).await;
    assert_eq!(r.status, Status::Warn);
    assert_eq!(r.evidence.details["sent"], 30);
    ctx.rate_limit.required = true;
    let r = ratelimit::run(&ctx, &client(), &Era::Unknown).await;
    assert_eq!(r.status, Status::Fail);
}

#[tokio::test]
async fn load_counts_every_request_and_reports_percentiles() {
    let s = spawn(Fake::default()).await;
    let ctx = s.context(Suite::Full);
    let settings = LoadSettings {
        target: LoadTarget::Http {
            path: "/health".into(),
        },
        concurrency: 4,
        requests: Some(60),
        duration: None,
        rate: None,
    };
    let stats = load::run(&ctx, &client(), &settings, &Era::Unknown)
        .await
        .unwrap();
    assert_eq!(stats.requests, 60);
    assert_eq!(stats.errors, 0);
    assert!(
        stats.p50_ms <= stats.p95_ms
            && stats.p95_ms <= stats.p99_ms
            && stats.p99_ms <= stats.max_ms
    );
    assert!(stats.throughput_rps > 0.0);
    assert_eq!(stats.statuses["200"], 60);

    let calls = LoadSettings {
        target: LoadTarget::ToolCall {
            tool: "echo".into(),
            arguments: serde_json::json!({"message": "hi"}),
        },
        concurrency: 2,
        // Enough for the JSON-RPC ids to grow from two to three digits.
        requests: Some(120),
        ..settings
    };
    let stats = load::run(&ctx, &client(), &calls, &Era::Unknown)
        .await
        .unwrap();
    assert_eq!((stats.requests, stats.errors), (120, 0));
}

#[tokio::test]
async fn a_slow_tool_fails_the_latency_budget_and_garbage_fails_errors() {
    let s = spawn(Fake {
        tool_delay_ms: 120,
        ..Fake::default()
    })
    .await;
    let mut ctx = s.context(Suite::Full);
    ctx.thresholds.tool_p95 = Duration::from_millis(50);
    ctx.load = Some(LoadSettings {
        target: LoadTarget::ToolCall {
            tool: "echo".into(),
            arguments: serde_json::json!({"message": "x"}),
        },
        concurrency: 4,
        requests: Some(8),
        duration: None,
        rate: None,
    });
    let r = load::check(&ctx, &client(), &Era::Unknown).await;
    assert_eq!(status_of(&r, "load.latency"), Status::Fail);
    assert_eq!(status_of(&r, "load.errors"), Status::Pass);
    assert!(r[0].evidence.details["p95_ms"].as_f64().unwrap() >= 100.0);

    let s = spawn(Fake {
        mcp_garbage: true,
        ..Fake::default()
    })
    .await;
    let mut ctx = s.context(Suite::Full);
    ctx.load = Some(LoadSettings {
        target: LoadTarget::ToolCall {
            tool: "echo".into(),
            arguments: serde_json::json!({}),
        },
        concurrency: 2,
        requests: Some(6),
        duration: None,
        rate: None,
    });
    let r = load::check(&ctx, &client(), &Era::Unknown).await;
    assert_eq!(status_of(&r, "load.errors"), Status::Fail);
}

#[tokio::test]
async fn a_paced_run_measures_from_the_intended_send_time() {
    // One worker, 100 req/s, each request takes 40 ms: requests fall behind
    // schedule, and the corrected latency must include that queueing.
    let s = spawn(Fake {
        tool_delay_ms: 40,
        ..Fake::default()
    })
    .await;
    let ctx = s.context(Suite::Full);
    let settings = LoadSettings {
        target: LoadTarget::ToolCall {
            tool: "echo".into(),
            arguments: serde_json::json!({"message": "x"}),
        },
        concurrency: 1,
        requests: Some(10),
        duration: None,
        rate: Some(100.0),
    };
    let stats = load::run(&ctx, &client(), &settings, &Era::Unknown)
        .await
        .unwrap();
    assert!(stats.corrected);
    // The tenth request was due at 90 ms and finished at about 400 ms.
    assert!(stats.max_ms >= 250.0, "{stats:?}");
}

#[tokio::test]
async fn load_stops_at_its_duration() {
    let s = spawn(Fake::default()).await;
    let ctx = s.context(Suite::Full);
    let settings = LoadSettings {
        target: LoadTarget::Http {
            path: "/health".into(),
        },
        concurrency: 2,
        requests: None,
        duration: Some(Duration::from_millis(300)),
        rate: Some(50.0),
    };
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut ctx = ctx;
    let s2 = seen.clone();
    ctx.progress = Some(crate::Progress(std::sync::Arc::new(move |done, _| {
        s2.store(done, std::sync::atomic::Ordering::SeqCst);
    })));
    let stats = load::run(&ctx, &client(), &settings, &Era::Unknown)
        .await
        .unwrap();
    assert!(stats.elapsed_s < 2.0);
    assert!((10..=20).contains(&stats.requests), "{stats:?}");
    assert_eq!(
        seen.load(std::sync::atomic::Ordering::SeqCst),
        stats.requests
    );
}

#[tokio::test]
async fn the_full_suite_passes_a_good_server_with_rate_limit_last() {
    let s = spawn(Fake::default()).await;
    let mut ctx = s.context(Suite::Full);
    ctx.load = Some(LoadSettings {
        requests: Some(20),
        ..LoadSettings::default()
    });
    let report = engine::run(&ctx).await;
    let failed: Vec<_> = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(report.checks.last().unwrap().id, "ratelimit.burst");
    let groups: Vec<&str> = report.checks.iter().map(|c| c.group()).collect();
    let pos = |g: &str| groups.iter().position(|x| *x == g).unwrap();
    assert!(
        pos("http") < pos("auth") && pos("auth") < pos("load") && pos("load") < pos("ratelimit")
    );
    assert_eq!(report.suite, "full");
}

#[tokio::test]
async fn the_smoke_suite_leaves_out_headers_load_and_rate_limits() {
    let s = spawn(Fake {
        security_headers: false,
        ..Fake::default()
    })
    .await;
    let report = engine::run(&s.context(Suite::Smoke)).await;
    assert!(report.ok(), "{:#?}", report.checks);
    for g in ["headers", "cors", "load", "ratelimit"] {
        assert!(
            report.checks.iter().all(|c| c.group() != g),
            "{g} ran in smoke"
        );
    }
    let mut ctx = s.context(Suite::Smoke);
    ctx.toggles.enabled = vec!["headers".into()];
    ctx.toggles.disabled = vec!["auth.query_token".into()];
    let report = engine::run(&ctx).await;
    assert_eq!(report.check("headers.csp").unwrap().status, Status::Warn);
    assert!(report.check("auth.query_token").is_none());
}

#[tokio::test]
async fn the_run_budget_bounds_a_hanging_server() {
    // Accepts connections and never answers.
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let keep = tokio::spawn(async move {
        let mut held = Vec::new();
        for _ in 0..200 {
            match l.accept().await {
                Ok((s, _)) => held.push(s),
                Err(_) => break,
            }
        }
    });
    let url = url::Url::parse(&format!("http://{addr}/mcp")).unwrap();
    let mut ctx = crate::Context::new(crate::Transport::Http { url }, None, Suite::Full);
    ctx.limits.timeout = Duration::from_secs(5);
    ctx.run_timeout = Duration::from_millis(700);
    let started = std::time::Instant::now();
    let report = engine::run(&ctx).await;
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(
        report.check("engine.deadline").unwrap().status,
        Status::Fail
    );
    keep.abort();
}

#[tokio::test]
async fn resets_and_unreachable_hosts_are_clean_failures() {
    // Accepts and immediately drops every connection.
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let task = tokio::spawn(async move {
        for _ in 0..500 {
            match l.accept().await {
                Ok((s, _)) => drop(s),
                Err(_) => break,
            }
        }
    });
    let url = url::Url::parse(&format!("http://{addr}/mcp")).unwrap();
    let mut ctx = crate::Context::new(crate::Transport::Http { url }, None, Suite::Full);
    ctx.limits.timeout = Duration::from_secs(2);
    ctx.rate_limit.burst = 10;
    ctx.load = Some(LoadSettings {
        requests: Some(10),
        ..LoadSettings::default()
    });
    let report = engine::run(&ctx).await;
    let health = report.check("http.health").unwrap();
    assert_eq!(health.status, Status::Fail);
    assert!(
        health
            .evidence
            .request
            .as_deref()
            .unwrap()
            .contains("/health")
    );
    assert!(health.hint.is_some());
    assert_eq!(report.check("auth.no_token").unwrap().status, Status::Fail);
    task.abort();

    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = gone.local_addr().unwrap();
    drop(gone);
    let url = url::Url::parse(&format!("http://{addr}/mcp")).unwrap();
    let ctx = crate::Context::new(crate::Transport::Http { url }, None, Suite::Smoke);
    let report = engine::run(&ctx).await;
    assert!(!report.ok());
    let h = report.check("http.health").unwrap();
    assert!(h.message.contains("could not connect"), "{}", h.message);
}

#[tokio::test]
async fn a_slow_drip_and_garbage_bytes_end_as_clean_results_within_the_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Answers every request with a 200 whose body drips one garbage byte per 50 ms.
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let task = tokio::spawn(async move {
        for _ in 0..50 {
            let Ok((mut s, _)) = l.accept().await else {
                break;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n")
                    .await;
                for _ in 0..400 {
                    if s.write_all(b"\xff").await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            });
        }
    });
    let url = url::Url::parse(&format!("http://{addr}/mcp")).unwrap();
    let mut ctx = crate::Context::new(crate::Transport::Http { url }, None, Suite::Smoke);
    ctx.limits.timeout = Duration::from_millis(400);
    ctx.toggles.only = vec!["http".into()];
    let started = std::time::Instant::now();
    let report = engine::run(&ctx).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let h = report.check("http.health").unwrap();
    // A body that never ends within the timeout: a failure with the excerpt as evidence.
    assert_eq!(h.status, Status::Fail, "{h:?}");
    assert!(h.message.contains("did not end"), "{}", h.message);
    assert!(h.evidence.body_excerpt.is_some());
    assert_eq!(report.check("http.metrics").unwrap().status, Status::Fail);
    task.abort();
}

#[tokio::test]
async fn protected_resource_metadata_is_found_at_the_well_known_path_without_a_header() {
    let s = spawn(Fake {
        www_authenticate: false,
        ..Fake::default()
    })
    .await;
    let r = auth::run(&s.context(Suite::Smoke), &client(), &Era::Unknown).await;
    assert_eq!(status_of(&r, "auth.www_authenticate"), Status::Fail);
    let prm = r.iter().find(|c| c.id == "auth.resource_metadata").unwrap();
    assert_eq!(prm.status, Status::Pass, "{prm:?}");
    assert!(
        prm.evidence
            .request
            .as_deref()
            .unwrap()
            .ends_with("/.well-known/oauth-protected-resource/mcp")
    );
}

#[tokio::test]
async fn an_endpoint_configured_by_its_query_is_named_by_its_path_alone() {
    // The metadata says `{base}/mcp`; the environment's URL carries a query
    // (a profile, an API key): RFC 8707 says the resource should not.
    let s = spawn(Fake::default()).await;
    let mut ctx = s.context(Suite::Smoke);
    ctx.transport = crate::Transport::Http {
        url: url::Url::parse(&format!("{}?profile=bench&e=7", s.mcp_url)).unwrap(),
    };
    let r = auth::run(&ctx, &client(), &Era::Unknown).await;
    let prm = r.iter().find(|c| c.id == "auth.resource_metadata").unwrap();
    assert_eq!(prm.status, Status::Pass, "{prm:?}");
}

#[tokio::test]
async fn a_run_with_every_check_switched_off_says_so() {
    let s = spawn(Fake::default()).await;
    let mut ctx = s.context(Suite::Smoke);
    ctx.toggles.only = vec!["nothing_by_this_name".into()];
    let report = engine::run(&ctx).await;
    assert_eq!(report.checks.len(), 1);
    assert_eq!(report.checks[0].id, "engine.nothing");
    assert_eq!(report.checks[0].status, Status::Warn);
}

#[tokio::test]
async fn a_server_without_health_is_load_tested_on_its_mcp_endpoint() {
    let s = spawn(Fake {
        health: (404, "not found".into()),
        ..Fake::default()
    })
    .await;
    let mut ctx = s.context(Suite::Full);
    ctx.load = Some(LoadSettings {
        requests: Some(20),
        ..LoadSettings::default()
    });
    let r = load::check(&ctx, &client(), &Era::Unknown).await;
    let errors = r.iter().find(|c| c.id == "load.errors").unwrap();
    assert_eq!(errors.status, Status::Pass, "{errors:#?}");
    assert!(
        errors.message.starts_with("tools/list"),
        "{}",
        errors.message
    );
    assert_eq!(r[0].evidence.details["statuses"]["200"], 20);

    // A path the user named that the server does not serve measures nothing:
    // a configuration problem, not the server failing under load.
    ctx.load = Some(LoadSettings {
        target: LoadTarget::Http {
            path: "/nope".into(),
        },
        requests: Some(5),
        ..LoadSettings::default()
    });
    let r = load::check(&ctx, &client(), &Era::Unknown).await;
    assert_eq!(status_of(&r, "load.latency"), Status::Fail);
    assert!(r[0].message.contains("is not served"), "{}", r[0].message);
    assert!(r[0].hint.as_deref().unwrap().contains("`--load-path`"));
    assert_eq!(status_of(&r, "load.errors"), Status::Skip);
}

#[tokio::test]
async fn a_static_bearer_server_without_oauth_metadata_passes_the_smoke_suite() {
    let s = spawn(Fake {
        prm: false,
        www_resource_metadata: false,
        ..Fake::default()
    })
    .await;
    let mut ctx = s.context(Suite::Smoke);
    let report = engine::run(&ctx).await;
    assert!(report.ok(), "{:#?}", report.checks);
    let prm = report.check("auth.resource_metadata").unwrap();
    assert_eq!(prm.status, Status::Skip, "{prm:#?}");
    assert!(prm.message.contains("static bearer token"));
    // An environment that says the server does OAuth makes the metadata required.
    ctx.auth = crate::AuthScheme::OAuth;
    let r = auth::run(&ctx, &client(), &Era::Unknown).await;
    assert_eq!(status_of(&r, "auth.resource_metadata"), Status::Fail);
}

#[tokio::test]
async fn hints_name_the_flag_or_the_runway_toml_key_the_run_came_from() {
    let s = spawn(Fake::default()).await;
    let mut ctx = s.context(Suite::Smoke);
    ctx.token = None;
    let o = crate::mcp::run(&ctx).await;
    let h = o.checks.iter().find(|c| c.id == "mcp.handshake").unwrap();
    assert_eq!(h.evidence.status, Some(401));
    assert!(
        h.hint.as_deref().unwrap().contains("`--token-env`"),
        "{h:#?}"
    );

    let cfg = runway_config::Config::parse(
        "[environments.prod]\nurl = \"http://127.0.0.1:1/mcp\"\n",
        std::path::Path::new("runway.toml"),
    )
    .unwrap();
    ctx.apply_environment("prod", cfg.environment("prod").unwrap())
        .unwrap();
    let o = crate::mcp::run(&ctx).await;
    let h = o.checks.iter().find(|c| c.id == "mcp.handshake").unwrap();
    let hint = h.hint.as_deref().unwrap();
    assert!(
        hint.contains("`environments.prod.token_env` in `runway.toml`"),
        "{hint}"
    );
    assert!(!hint.contains("--token-env"), "{hint}");
}

#[tokio::test]
async fn counts_and_durations_read_as_english() {
    let s = spawn(Fake {
        rate_limit: None,
        ..Fake::default()
    })
    .await;
    let mut ctx = s.context(Suite::Full);
    ctx.toggles.disabled.clear();
    ctx.expect.min_tools = Some(1);
    let o = crate::mcp::run(&ctx).await;
    let msg = |id: &str| {
        o.checks
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no {id}: {:#?}", o.checks))
            .message
            .clone()
    };
    assert_eq!(msg("mcp.tools.list"), "1 tool in 1 page");
    assert_eq!(msg("mcp.tools.count"), "1 tool listed (at least 1)");
    assert_eq!(msg("mcp.tools.schemas"), "1 schema is valid JSON Schema");
    ctx.rate_limit.burst = 5;
    let r = ratelimit::run(&ctx, &client(), &Era::Unknown).await;
    assert!(
        r.message.ends_with(" ms") && !r.message.contains("0.0 s"),
        "{}",
        r.message
    );
}
