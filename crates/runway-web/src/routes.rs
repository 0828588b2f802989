//! The routes: thin handlers over [`crate::model`], rendered as HTML, JSON
//! or Prometheus text. A failure of the ledger is logged and answered with a
//! bare 500: internal details never reach a client.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use crate::model::{self, Overview, UPTIME_DAYS};
use crate::security::{Reject, authorize, error, harden, throttle, typed};
use crate::{AlertError, Web, html, locations};

type Shared = State<Arc<Web>>;

pub fn router(web: Arc<Web>) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/status", get(status_page))
        .route("/environments/{name}", get(environment_page))
        .route("/style.css", get(style))
        .route("/api/status", get(api_status))
        .route("/api/environments", get(api_environments))
        .route("/api/environments/{name}/history", get(api_history))
        .route("/api/incidents", get(api_incidents))
        .route("/api/alerts", get(api_alerts))
        .route("/api/notifiers", get(api_notifiers))
        .route("/api/alerts/{id}/acknowledge", post(acknowledge))
        .route("/api/alerts/{id}/silence", post(silence))
        .route("/metrics", get(metrics))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/health", get(health))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(crate::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(harden))
        .layer(axum::middleware::from_fn_with_state(web.clone(), throttle))
        .with_state(web)
}

fn internal(what: &str, e: impl std::fmt::Display) -> Response {
    tracing::error!("web: {what}: {e}");
    error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not found")
}

async fn method_not_allowed() -> Response {
    error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
}

/// What the pages show; `latency`: with the hourly latencies (the public
/// status page shows none, so it does not read them).
async fn overview(web: &Web, latency: bool) -> Result<Overview, Response> {
    let now = Utc::now();
    // Above `COMPACT_ABOVE` environments the dashboard shows a row each: the
    // latency is read after the statuses, for the ones it shows in full.
    let compact = web.environments.len() > model::COMPACT_ABOVE;
    let read = if compact {
        model::environments_compact(web.ledger.as_ref(), &web.environments, now, UPTIME_DAYS).await
    } else {
        model::environments(
            web.ledger.as_ref(),
            &web.environments,
            now,
            UPTIME_DAYS,
            latency,
        )
        .await
    };
    let mut environments = read.map_err(|e| internal("reading the ledger", e))?;
    locations::attach(web, &mut environments, now)
        .await
        .map_err(|e| internal("reading the ledger", e))?;
    if compact {
        model::compact_details(
            web.ledger.as_ref(),
            &mut environments,
            now,
            UPTIME_DAYS,
            latency,
        )
        .await
        .map_err(|e| internal("reading the ledger", e))?;
    }
    let incidents = model::open_incidents(web.ledger.as_ref())
        .await
        .map_err(|e| internal("reading incidents", e))?;
    let alerts = web
        .alerts
        .open_alerts()
        .await
        .map_err(|e| internal("reading alerts", e))?;
    let notifiers = web
        .alerts
        .notifiers()
        .await
        .map_err(|e| internal("reading notifiers", e))?;
    Ok(Overview {
        generated_at: now,
        environments,
        incidents,
        alerts,
        notifiers,
    })
}

async fn dashboard(State(web): Shared) -> Response {
    match overview(&web, true).await {
        Ok(o) => typed("text/html; charset=utf-8", html::dashboard(&o)),
        Err(r) => r,
    }
}

async fn status_page(State(web): Shared) -> Response {
    match overview(&web, false).await {
        Ok(o) => typed(
            "text/html; charset=utf-8",
            html::status_page(&o, &web.title),
        ),
        Err(r) => r,
    }
}

/// One environment's full section (the dashboard links each row to it).
async fn environment_page(State(web): Shared, Path(name): Path<String>) -> Response {
    if !web.environments.contains(&name) {
        return error(StatusCode::NOT_FOUND, "no such monitored environment");
    }
    let now = Utc::now();
    let mut v = match model::environment(web.ledger.as_ref(), &name, now, UPTIME_DAYS).await {
        Ok(v) => [v],
        Err(e) => return internal("reading the ledger", e),
    };
    if let Err(e) = locations::attach(&web, &mut v, now).await {
        return internal("reading the ledger", e);
    }
    typed(
        "text/html; charset=utf-8",
        html::environment_page(&v[0], now),
    )
}

async fn style() -> Response {
    typed("text/css; charset=utf-8", html::STYLE)
}

/// Each environment's status and open alerts.
async fn api_status(State(web): Shared) -> Response {
    let alerts = match web.alerts.open_alerts().await {
        Ok(a) => a,
        Err(e) => return internal("reading alerts", e),
    };
    let mut latest_of: std::collections::HashMap<String, _> =
        match web.ledger.monitor_latest_many(&web.environments).await {
            Ok(l) => l.into_iter().map(|r| (r.environment.clone(), r)).collect(),
            Err(e) => return internal("reading the ledger", e),
        };
    let mut located =
        match locations::latest(web.ledger.as_ref(), &web.environments, Utc::now()).await {
            Ok(l) => l,
            Err(e) => return internal("reading the ledger", e),
        };
    let mut envs = Vec::with_capacity(web.environments.len());
    for name in &web.environments {
        let latest = latest_of.remove(name);
        let open: Vec<_> = alerts.iter().filter(|a| &a.environment == name).collect();
        let mut env = json!({
            "name": name,
            "status": located
                .get(name)
                .and_then(|l| locations::consensus(l, Utc::now(), web.fresh(name)))
                .unwrap_or_else(|| latest.as_ref().map_or("unknown", |l| l.status.as_str()).to_owned()),
            "last_run": latest.as_ref().map(|l| json!({
                "at": l.at,
                "ok": l.ok,
                "reason": l.reason,
                "check": l.check_id,
                "latency_ms": l.latency_ms,
            })),
            "open_alerts": open,
        });
        if let Some(l) = located.remove(name) {
            env["locations"] = json!(l);
        }
        envs.push(env);
    }
    axum::Json(json!({
        "generated_at": Utc::now(),
        "environments": envs,
        "alerts": alerts,
    }))
    .into_response()
}

async fn api_environments(State(web): Shared) -> Response {
    axum::Json(json!({ "environments": web.environments })).into_response()
}

#[derive(Deserialize)]
struct HistoryQuery {
    days: Option<i64>,
}

/// Daily uptime, hourly p50/p95 and deployments of one environment.
async fn api_history(
    State(web): Shared,
    Path(name): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Response {
    if !web.environments.contains(&name) {
        return error(StatusCode::NOT_FOUND, "no such monitored environment");
    }
    let days = q.days.unwrap_or(UPTIME_DAYS);
    if !(1..=UPTIME_DAYS).contains(&days) {
        return error(
            StatusCode::BAD_REQUEST,
            "`days` must be a whole number from 1 to 90",
        );
    }
    match model::environment(web.ledger.as_ref(), &name, Utc::now(), days).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => internal("reading the ledger", e),
    }
}

async fn api_incidents(State(web): Shared) -> Response {
    match model::open_incidents(web.ledger.as_ref()).await {
        Ok(i) => axum::Json(json!({ "incidents": i })).into_response(),
        Err(e) => internal("reading incidents", e),
    }
}

async fn api_alerts(State(web): Shared) -> Response {
    match web.alerts.open_alerts().await {
        Ok(a) => axum::Json(json!({ "alerts": a })).into_response(),
        Err(e) => internal("reading alerts", e),
    }
}

async fn api_notifiers(State(web): Shared) -> Response {
    match web.alerts.notifiers().await {
        Ok(n) => axum::Json(json!({ "notifiers": n })).into_response(),
        Err(e) => internal("reading notifiers", e),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct WriteBody {
    /// Who acts (default `api`).
    by: Option<String>,
    /// For a silence: how long (`30m`, `2h`).
    #[serde(rename = "for")]
    duration: Option<String>,
}

/// The longest silence one request may set.
const MAX_SILENCE: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

fn parse_body(body: &Bytes) -> Result<WriteBody, Reject> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(WriteBody::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            &format!(
                "the body must be a JSON object like {{\"by\": \"alice\", \"for\": \"1h\"}}: {e}"
            ),
        )
        .into()
    })
}

fn actor(b: &WriteBody) -> Result<String, Reject> {
    let by = b.by.as_deref().unwrap_or("api").trim();
    if by.is_empty() || by.chars().count() > 100 || by.chars().any(char::is_control) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "`by` must be 1 to 100 printable characters",
        )
        .into());
    }
    Ok(by.to_owned())
}

fn alert_error(e: AlertError) -> Response {
    match e {
        AlertError::NotFound { .. } => error(StatusCode::NOT_FOUND, "no such open alert"),
        AlertError::Store(m) => internal("writing an alert", m),
    }
}

async fn acknowledge(
    State(web): Shared,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = authorize(&web, &headers) {
        return r.into_response();
    }
    let b = match parse_body(&body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let by = match actor(&b) {
        Ok(by) => by,
        Err(r) => return r.into_response(),
    };
    match web.alerts.acknowledge(&id, &by).await {
        Ok(a) => axum::Json(json!({ "alert": a })).into_response(),
        Err(e) => alert_error(e),
    }
}

async fn silence(
    State(web): Shared,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = authorize(&web, &headers) {
        return r.into_response();
    }
    let b = match parse_body(&body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let by = match actor(&b) {
        Ok(by) => by,
        Err(r) => return r.into_response(),
    };
    let Some(d) = b.duration.as_deref() else {
        return error(
            StatusCode::BAD_REQUEST,
            "a silence needs `for`: a duration such as \"30m\" or \"2h\"",
        );
    };
    let d = match humantime::parse_duration(d) {
        Ok(d) if !d.is_zero() && d <= MAX_SILENCE => d,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "`for` must be a duration from 1s to 30 days, such as \"30m\" or \"2h\"",
            );
        }
    };
    let until = Utc::now() + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::zero());
    match web.alerts.silence(&id, until, &by).await {
        Ok(a) => axum::Json(json!({ "alert": a })).into_response(),
        Err(e) => alert_error(e),
    }
}

async fn metrics(State(web): Shared) -> Response {
    // A failing alert store must not hide the run metrics: scrape what there is.
    let alerts = web.alerts.open_alerts().await.unwrap_or_else(|e| {
        tracing::warn!("web: /metrics without alerts: {e}");
        Vec::new()
    });
    let notifiers = web.alerts.notifiers().await.unwrap_or_else(|e| {
        tracing::warn!("web: /metrics without notifiers: {e}");
        Vec::new()
    });
    typed(
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
        web.metrics.render(&alerts, &notifiers),
    )
}

async fn livez() -> Response {
    axum::Json(json!({ "status": "ok" })).into_response()
}

async fn health() -> Response {
    axum::Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") })).into_response()
}

/// Ready once the scheduler runs and while the ledger answers.
async fn readyz(State(web): Shared) -> Response {
    if !web.is_ready() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "status": "starting", "reason": "the scheduler has not started" })),
        )
            .into_response();
    }
    let probe = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        web.ledger.schema_version(),
    )
    .await;
    match probe {
        Ok(Ok(_)) => axum::Json(json!({ "status": "ready" })).into_response(),
        Ok(Err(e)) => {
            tracing::warn!("web: /readyz: the ledger fails: {e}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(
                    json!({ "status": "not_ready", "reason": "the ledger does not answer" }),
                ),
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "status": "not_ready", "reason": "the ledger does not answer" })),
        )
            .into_response(),
    }
}
