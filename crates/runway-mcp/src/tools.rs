//! The call of each tool: arguments checked against the catalogue's
//! schemas ([`crate::catalogue`]), the operation run, its result returned
//! as `structuredContent`.

use std::sync::Arc;

use rmcp::model::{CallToolResult, JsonObject};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub use crate::catalogue::{TOOL_NAMES, catalogue, definition, is_write_tool};
use crate::error::OpError;
use crate::ops::{Running, Workspace, parse_when};
use crate::plans::Plans;
use crate::writes;

/// Arguments that do not match a tool's `inputSchema`.
#[derive(Debug)]
pub struct BadArguments {
    pub tool: String,
    pub message: String,
}

fn args<T: DeserializeOwned>(tool: &str, arguments: Option<JsonObject>) -> Result<T, BadArguments> {
    serde_json::from_value(Value::Object(arguments.unwrap_or_default())).map_err(|e| BadArguments {
        tool: tool.to_owned(),
        message: e.to_string(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseStatusArgs {
    package: Option<String>,
    pre: Option<String>,
    #[serde(default)]
    no_surface: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangelogArgs {
    package: Option<String>,
    version: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportArgs {
    package: Option<String>,
    version: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyArgs {
    target: String,
    suite: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LedgerListArgs {
    kind: Option<String>,
    environment: Option<String>,
    version: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdArgs {
    id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DoraArgs {
    environment: Option<String>,
    since: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentListArgs {
    #[serde(default)]
    all: bool,
    environment: Option<String>,
    since: Option<String>,
}

/// Who is calling: the plans of this server, what binds a plan to this
/// caller, and the client's name.
pub struct Caller<'a> {
    pub plans: &'a Plans,
    /// What the client cannot choose; a plan is redeemed only by the same.
    pub binding: crate::plans::Binding,
    /// The operator writes are recorded under ([`writes::operator_name`]):
    /// the client's self-declared name, shown, never trusted.
    pub operator: String,
}

/// A writing tool or its plan: refused unless writes are allowed.
async fn call_write(
    ws: &Workspace,
    name: &str,
    arguments: Option<JsonObject>,
    running: &Running<'_>,
    caller: &Caller<'_>,
) -> Result<Result<Value, OpError>, BadArguments> {
    if !ws.writes_allowed() {
        return Err(BadArguments {
            tool: name.to_owned(),
            message: format!(
                "no tool `{name}`: the writing tools are off; `[mcp] allow_writes = true` in `runway.toml` turns them on"
            ),
        });
    }
    let mut arguments = arguments.unwrap_or_default();
    let bad = |message: String| BadArguments {
        tool: name.to_owned(),
        message,
    };
    if let Some(base) = name.strip_suffix("_plan") {
        writes::check_shape(base, &arguments).map_err(|e| bad(e.to_string()))?;
        crate::runbook::check_versions(ws, base, &arguments).map_err(|e| bad(e.to_string()))?;
        let prepared = match writes::prepare(ws, base, &arguments).await {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let planned = Value::Object(arguments.clone());
        return Ok(caller
            .plans
            .issue(base, planned.clone(), &caller.binding, prepared.keep)
            .map(|issued| {
                let mut with_id = arguments;
                with_id.insert("plan_id".into(), Value::String(issued.plan_id.clone()));
                json!({
                    "plan_id": issued.plan_id,
                    "tool": base,
                    "arguments": with_id,
                    "expires_at": issued.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "summary": prepared.summary,
                    "would": prepared.would,
                })
            }));
    }
    let plan_id = match arguments.remove("plan_id") {
        None => None,
        Some(Value::String(p)) => Some(p),
        Some(other) => return Err(bad(format!("`plan_id` must be a string, not {other}"))),
    };
    writes::check_shape(name, &arguments).map_err(|e| bad(e.to_string()))?;
    crate::runbook::check_versions(ws, name, &arguments).map_err(|e| bad(e.to_string()))?;
    let kept = match caller.plans.redeem(
        plan_id.as_deref(),
        name,
        &Value::Object(arguments.clone()),
        &caller.binding,
    ) {
        Ok(k) => k,
        Err(e) => return Ok(Err(e)),
    };
    let done = writes::execute(ws, name, &arguments, kept, caller.operator.clone(), running).await;
    match &done {
        Ok(_) => tracing::info!(tool = name, operator = %caller.operator, "MCP write done"),
        Err(e) => tracing::warn!(tool = name, operator = %caller.operator, "MCP write failed: {e}"),
    }
    Ok(done)
}

/// Runs tool `name`. `Err` is a protocol error (unknown tool, bad arguments);
/// a failed operation is a tool result with `isError: true`, so the client reads why.
pub async fn call(
    ws: &Workspace,
    name: &str,
    arguments: Option<JsonObject>,
    running: Running<'_>,
    caller: &Caller<'_>,
) -> Result<CallToolResult, BadArguments> {
    let result: Result<Value, OpError> = match name {
        w if is_write_tool(w) => call_write(ws, w, arguments, &running, caller).await?,
        "deploy_plan" => {
            let planned = Value::Object(arguments.clone().unwrap_or_default());
            if let Some(a) = &arguments {
                crate::runbook::check_versions(ws, name, a).map_err(|e| BadArguments {
                    tool: name.to_owned(),
                    message: e.to_string(),
                })?;
            }
            let a: crate::runbook::DeployArgs = args(name, arguments)?;
            match crate::runbook::deploy_plan(ws, &a).await {
                // With writes on, a plan no gate refuses is also the plan `deploy` needs.
                Ok(mut plan) if ws.writes_allowed() && plan["refused"] == json!(false) => caller
                    .plans
                    .issue("deploy", planned, &caller.binding, Value::Null)
                    .map(|issued| {
                        plan["plan_id"] = json!(issued.plan_id);
                        plan["expires_at"] = json!(
                            issued
                                .expires_at
                                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                        );
                        plan
                    }),
                other => other,
            }
        }
        "environment_status" => {
            let a: crate::runbook::EnvironmentArgs = args(name, arguments)?;
            crate::runbook::status(ws, &a).await
        }
        "triage" => {
            let a: crate::runbook::TriageArgs = args(name, arguments)?;
            crate::runbook::triage(ws, &a).await
        }
        "release_status" => {
            let a: ReleaseStatusArgs = args(name, arguments)?;
            ws.release_status(a.package.as_deref(), a.pre.as_deref(), a.no_surface)
                .await
        }
        "changelog_preview" => {
            let a: ChangelogArgs = args(name, arguments)?;
            ws.changelog_preview(a.package.as_deref(), a.version).await
        }
        "release_notes" => {
            let a: ChangelogArgs = args(name, arguments)?;
            ws.release_notes(a.package.as_deref(), a.version).await
        }
        "release_report" => {
            let a: ReportArgs = args(name, arguments)?;
            ws.release_report(a.package.as_deref(), a.version).await
        }
        "verify" => {
            let a: VerifyArgs = args(name, arguments)?;
            verify(ws, a, running).await
        }
        "ledger_list" => {
            let a: LedgerListArgs = args(name, arguments)?;
            match ledger_filter(a) {
                Ok(f) => ws.ledger_list(f).await,
                Err(e) => Err(e),
            }
        }
        "ledger_show" => {
            let a: IdArgs = args(name, arguments)?;
            ws.ledger_show(&a.id).await
        }
        "dora" => {
            let a: DoraArgs = args(name, arguments)?;
            match parse_when("since", a.since.as_deref().unwrap_or("90d")) {
                Ok(since) => {
                    ws.dora(runway_runbook::records::DoraQuery {
                        environment: a.environment,
                        since,
                        until: chrono::Utc::now(),
                    })
                    .await
                }
                Err(e) => Err(e),
            }
        }
        "incident_list" => {
            let a: IncidentListArgs = args(name, arguments)?;
            match a
                .since
                .as_deref()
                .map(|s| parse_when("since", s))
                .transpose()
            {
                Ok(since) => {
                    ws.incident_list(runway_runbook::records::IncidentQuery {
                        all: a.all,
                        environment: a.environment,
                        since,
                    })
                    .await
                }
                Err(e) => Err(e),
            }
        }
        "incident_show" => {
            let a: IdArgs = args(name, arguments)?;
            ws.incident_show(&a.id).await
        }
        other => {
            return Err(BadArguments {
                tool: other.to_owned(),
                message: format!(
                    "no tool `{other}`: the tools are {}",
                    catalogue(ws.writes_allowed())
                        .iter()
                        .map(|t| t.name.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    };
    Ok(match result {
        Ok(value) => CallToolResult::structured(value),
        Err(e) => CallToolResult::error(vec![rmcp::model::ContentBlock::text(e.to_text())]),
    })
}

fn ledger_filter(a: LedgerListArgs) -> Result<runway_ledger::Filter, OpError> {
    Ok(runway_ledger::Filter {
        kind: a
            .kind
            .as_deref()
            .map(|k| {
                k.parse::<runway_ledger::Kind>()
                    .map_err(|e| OpError::Argument {
                        field: "kind",
                        message: e.to_string(),
                    })
            })
            .transpose()?,
        environment: a.environment,
        version: a.version,
        since: a
            .since
            .as_deref()
            .map(|s| parse_when("since", s))
            .transpose()?,
        until: a
            .until
            .as_deref()
            .map(|s| parse_when("until", s))
            .transpose()?,
        ..runway_ledger::Filter::default()
    })
}

async fn verify(ws: &Workspace, a: VerifyArgs, running: Running<'_>) -> Result<Value, OpError> {
    let suite = match a.suite.as_deref() {
        None => None,
        Some("smoke") => Some(runway_verify::Suite::Smoke),
        Some("full") => Some(runway_verify::Suite::Full),
        Some("conformance") => Some(runway_verify::Suite::Conformance),
        Some(other) => {
            return Err(OpError::Argument {
                field: "suite",
                message: format!("unknown suite `{other}`: use smoke, full or conformance"),
            });
        }
    };
    let mut ctx = ws.verify_context(&a.target, suite)?;
    let progress = running.progress;
    let started = format!("verifying `{}`", ctx.display);
    progress(0.0, 1.0, started);
    // The load stage reports its requests; pass them on as MCP progress.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, u64)>();
    ctx.progress = Some(runway_verify::Progress(Arc::new(move |done, total| {
        let _ = tx.send((done, total));
    })));
    let redactor = ctx.redactor.clone();
    let run = runway_verify::engine::run(&ctx);
    tokio::pin!(run);
    let mut report = loop {
        tokio::select! {
            report = &mut run => break report,
            () = running.cancel.cancelled() => return Err(OpError::Cancelled),
            Some((done, total)) = rx.recv() => {
                if total > 0 {
                    progress(done as f64, total as f64, format!("load: {done}/{total} requests"));
                }
            }
        }
    };
    if let Some(loaded) = &ws.config {
        runway_runbook::logcheck::add_to_report(&mut report, &ctx, loaded).await;
    }
    progress(1.0, 1.0, "done".to_owned());
    let text = runway_verify::report::render(
        &report,
        runway_verify::report::Format::Json,
        false,
        &redactor,
    );
    Ok(serde_json::from_str(&text)?)
}
