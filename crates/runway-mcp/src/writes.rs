//! The writing tools, each in two halves: `prepare` (the `*_plan` tool:
//! checks the write can happen, says what it would do, and keeps what the
//! write needs) and `execute` (the write itself, as the MCP client). They
//! call the same library functions as `runway incident ...` and
//! `runway release changelog --write`.

use rmcp::model::JsonObject;
use runway_core::Severity;
use runway_ledger::{IncidentStatus, Kind, Ledger};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::OpError;
use crate::ops::Workspace;

/// Writing tools in list order; each has a `<name>_plan` tool.
pub const WRITE_TOOLS: &[&str] = &[
    "incident_open",
    "incident_ack",
    "incident_resolve",
    "changelog_write",
    "deploy",
    "rollback",
];

/// The longest operator name kept from a client's `clientInfo.name`.
pub const MAX_OPERATOR_CHARS: usize = 64;

/// The operator a write is recorded under: the client's `clientInfo.name`,
/// on one line and bounded; a client that gave none is `mcp-client`.
pub fn operator_name(client: Option<&str>) -> String {
    let name: String = client
        .unwrap_or("")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_OPERATOR_CHARS)
        .collect();
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        "mcp-client".to_owned()
    } else {
        name
    }
}

/// What a plan call found: a sentence, the details, and what the write needs.
pub struct Prepared {
    pub summary: String,
    pub would: Value,
    pub keep: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenArgs {
    severity: String,
    title: String,
    deployment: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveArgs {
    id: String,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangelogArgs {
    package: Option<String>,
    version: Option<String>,
}

/// Arguments that do not fit the tool's `inputSchema`.
#[derive(Debug, thiserror::Error)]
pub enum ShapeError {
    #[error(transparent)]
    Arguments(#[from] serde_json::Error),
    #[error("`{0}` is not a writing tool")]
    NotAWriteTool(String),
}

/// The arguments as the tool's own type.
pub fn parse<T: serde::de::DeserializeOwned>(arguments: &JsonObject) -> Result<T, ShapeError> {
    Ok(serde_json::from_value(Value::Object(arguments.clone()))?)
}

/// Checks the arguments' shape without doing anything (so a malformed call
/// is `-32602` before any plan lookup).
pub fn check_shape(tool: &str, arguments: &JsonObject) -> Result<(), ShapeError> {
    match tool {
        "incident_open" => parse::<OpenArgs>(arguments).map(drop),
        "incident_ack" | "incident_resolve" => parse::<MoveArgs>(arguments).map(drop),
        "changelog_write" => parse::<ChangelogArgs>(arguments).map(drop),
        "deploy" => parse::<crate::runbook::DeployArgs>(arguments).map(drop),
        "rollback" => parse::<crate::runbook::RollbackArgs>(arguments).map(drop),
        other => Err(ShapeError::NotAWriteTool(other.to_owned())),
    }
}

fn severity(s: &str) -> Result<Severity, OpError> {
    s.parse().map_err(|_| OpError::Argument {
        field: "severity",
        message: format!("`{s}` is not a severity: use P0, P1, P2 or P3"),
    })
}

fn target_status(tool: &str) -> IncidentStatus {
    if tool == "incident_ack" {
        IncidentStatus::Acknowledged
    } else {
        IncidentStatus::Resolved
    }
}

async fn incident(ledger: &dyn Ledger, id: &str) -> Result<runway_ledger::Record, OpError> {
    let record = ledger.get(id).await?;
    if record.kind != Kind::Incident {
        return Err(OpError::Argument {
            field: "id",
            message: format!("`{}` is a {}, not an incident", record.id, record.kind),
        });
    }
    Ok(record)
}

/// The plan half of `tool`: checks that the write can happen now.
pub async fn prepare(
    ws: &Workspace,
    tool: &str,
    arguments: &JsonObject,
) -> Result<Prepared, OpError> {
    let bad = |e: ShapeError| OpError::Internal(e.to_string());
    match tool {
        "incident_open" => {
            let a: OpenArgs = parse(arguments).map_err(bad)?;
            let sev = severity(&a.severity)?;
            let title = a.title.trim().to_owned();
            if title.is_empty() {
                return Err(OpError::Argument {
                    field: "title",
                    message: "an incident needs a title".into(),
                });
            }
            let deployment = match a.deployment {
                Some(d) => Some(
                    ws.with_ledger(move |l| {
                        Box::pin(async move {
                            let r = l.get(&d).await?;
                            if r.kind != Kind::Deployment {
                                return Err(OpError::Argument {
                                    field: "deployment",
                                    message: format!(
                                        "`{}` is a {}, not a deployment",
                                        r.id, r.kind
                                    ),
                                });
                            }
                            Ok(r.id)
                        })
                    })
                    .await?,
                ),
                None => None,
            };
            let within = humantime::format_duration(sev.response_time()).to_string();
            Ok(Prepared {
                summary: format!(
                    "open a {sev} incident \"{title}\"{}: respond within {within}",
                    deployment
                        .as_deref()
                        .map(|d| format!(" blamed on deployment `{d}`"))
                        .unwrap_or_default()
                ),
                would: json!({
                    "severity": sev.to_string(),
                    "title": title,
                    "deployment_id": deployment,
                    "status": "detected",
                    "respond_within": within,
                }),
                keep: json!({"deployment_id": deployment}),
            })
        }
        "incident_ack" | "incident_resolve" => {
            let a: MoveArgs = parse(arguments).map_err(bad)?;
            let to = target_status(tool);
            let record = ws
                .with_ledger(move |l| Box::pin(async move { incident(l, &a.id).await }))
                .await?;
            let from: IncidentStatus = record.status().unwrap_or("detected").parse()?;
            if !from.can_move_to(to) {
                return Err(runway_ledger::LedgerError::IllegalTransition {
                    id: record.id.clone(),
                    from,
                    to,
                }
                .into());
            }
            let body = record.incident()?;
            Ok(Prepared {
                summary: format!(
                    "move {} incident `{}` (\"{}\") from {from} to {to}",
                    body.severity, record.id, body.title
                ),
                would: json!({
                    "id": record.id,
                    "severity": body.severity.to_string(),
                    "title": body.title,
                    "from": from.as_str(),
                    "to": to.as_str(),
                }),
                keep: json!({"id": record.id}),
            })
        }
        "changelog_write" => {
            let a: ChangelogArgs = parse(arguments).map_err(bad)?;
            let scope = ws.release_scope(a.package.as_deref())?;
            let entry = scope.changelog_entry(a.version).await?;
            let Some(version) = entry.version.clone() else {
                return Err(OpError::Argument {
                    field: "version",
                    message: format!(
                        "nothing to write: {} (name a `version` to write its entry anyway)",
                        entry.reason.as_deref().unwrap_or("nothing to release")
                    ),
                });
            };
            let path = entry.path.clone();
            if entry.exists {
                return Err(runway_release::ReleaseError::EntryExists {
                    path: path.clone().into(),
                    version,
                }
                .into());
            }
            Ok(Prepared {
                summary: format!("prepend the `{version}` entry to `{path}`"),
                would: json!({
                    "version": version,
                    "path": path,
                    "text": entry.text,
                    "warnings": entry.warnings,
                }),
                keep: json!({
                    "package": a.package,
                    "version": version,
                    "text": entry.text,
                    "warnings": entry.warnings,
                }),
            })
        }
        "rollback" => {
            let a: crate::runbook::RollbackArgs = parse(arguments).map_err(bad)?;
            let (summary, would) = crate::runbook::rollback_plan(ws, &a).await?;
            Ok(Prepared {
                summary,
                keep: json!({"to": would["to"]}),
                would,
            })
        }
        other => Err(OpError::Internal(format!(
            "`{other}` is not a writing tool"
        ))),
    }
}

/// The write half: carries out what `prepare` planned, as `operator`.
pub async fn execute(
    ws: &Workspace,
    tool: &str,
    arguments: &JsonObject,
    kept: Value,
    operator: String,
    running: &crate::ops::Running<'_>,
) -> Result<Value, OpError> {
    let bad = |e: ShapeError| OpError::Internal(e.to_string());
    let kept_str = |key: &str| kept.get(key).and_then(Value::as_str).map(str::to_owned);
    match tool {
        "incident_open" => {
            let a: OpenArgs = parse(arguments).map_err(bad)?;
            let sev = severity(&a.severity)?;
            let deployment = kept_str("deployment_id");
            ws.with_ledger_as(Some(operator), move |l| {
                Box::pin(async move {
                    let id = l
                        .open_incident(sev, &a.title, deployment.as_deref())
                        .await?;
                    Ok(serde_json::to_value(l.get(&id).await?)?)
                })
            })
            .await
        }
        "incident_ack" | "incident_resolve" => {
            let a: MoveArgs = parse(arguments).map_err(bad)?;
            let id = kept_str("id").unwrap_or(a.id);
            let to = target_status(tool);
            ws.with_ledger_as(Some(operator), move |l| {
                Box::pin(async move {
                    l.move_incident(&id, to, a.note.as_deref()).await?;
                    Ok(serde_json::to_value(l.get(&id).await?)?)
                })
            })
            .await
        }
        "changelog_write" => {
            let version = kept_str("version").unwrap_or_default();
            let entry = runway_runbook::release::ChangelogEntry {
                version: Some(version.clone()),
                text: kept_str("text").unwrap_or_default(),
                warnings: kept
                    .get("warnings")
                    .and_then(Value::as_array)
                    .map(|w| {
                        w.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                reason: None,
                path: String::new(),
                exists: false,
            };
            let scope = ws.release_scope(kept_str("package").as_deref())?;
            let path = scope.cfg.changelog.path.clone();
            scope.write_changelog(&entry).await?;
            let rendered = entry;
            let text = rendered.text.clone();
            let v = version.clone();
            let ledger_id = ws
                .with_ledger_as(Some(operator), move |l| {
                    Box::pin(async move {
                        let body = runway_ledger::Release {
                            version: v.clone(),
                            changelog: Some(text),
                            ..Default::default()
                        };
                        let record = l.new_record(
                            Kind::Release,
                            None,
                            Some(v),
                            None,
                            serde_json::to_value(&body)?,
                        );
                        Ok(
                            l.insert_redacted(record, Some(CHANGELOG_WRITTEN.to_owned()))
                                .await?,
                        )
                    })
                })
                .await?;
            Ok(json!({
                "version": version,
                "path": path,
                "text": rendered.text,
                "warnings": rendered.warnings,
                "ledger_id": ledger_id,
            }))
        }
        "deploy" => {
            let a: crate::runbook::DeployArgs = parse(arguments).map_err(bad)?;
            crate::runbook::deploy(ws, a, operator, running).await
        }
        "rollback" => {
            let a: crate::runbook::RollbackArgs = parse(arguments).map_err(bad)?;
            let to = kept_str("to").or(a.to).unwrap_or_default();
            crate::runbook::rollback(ws, &a.environment, to, operator, running).await
        }
        other => Err(OpError::Internal(format!(
            "`{other}` is not a writing tool"
        ))),
    }
}

/// The status of the release record a changelog write leaves in the ledger.
pub const CHANGELOG_WRITTEN: &str = "changelog_written";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operator_is_the_client_name_on_one_bounded_line() {
        assert_eq!(operator_name(Some("claude-ai")), "claude-ai");
        assert_eq!(operator_name(Some("  a\nb\u{7}c  ")), "a b c");
        assert_eq!(operator_name(Some("")), "mcp-client");
        assert_eq!(operator_name(None), "mcp-client");
        assert_eq!(
            operator_name(Some(&"x".repeat(500))).chars().count(),
            MAX_OPERATOR_CHARS
        );
    }
}
