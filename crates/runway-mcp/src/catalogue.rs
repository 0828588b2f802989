//! The tool catalogue: names and hand-written schemas.
//!
//! Schemas are written out (not derived) so what a client sees is exactly
//! what this file says, and each `outputSchema` describes the JSON the
//! matching `--format json` prints. The reading tools are always listed; the
//! writing tools (and their `*_plan` halves) only with `[mcp] allow_writes`.

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{Value, json};

use crate::writes::WRITE_TOOLS;

/// Tool names in list order.
pub const TOOL_NAMES: &[&str] = &[
    "release_status",
    "changelog_preview",
    "release_notes",
    "release_report",
    "verify",
    "ledger_list",
    "ledger_show",
    "dora",
    "incident_list",
    "incident_show",
    "deploy_plan",
    "environment_status",
    "triage",
];

fn object(value: Value) -> Arc<JsonObject> {
    match value {
        Value::Object(map) => Arc::new(map),
        // Every schema below is an object literal; this arm only keeps the function total.
        other => Arc::new(JsonObject::from_iter([("const".to_owned(), other)])),
    }
}

fn input(properties: Value, required: &[&str]) -> Arc<JsonObject> {
    object(json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    }))
}

fn output(properties: Value, required: &[&str]) -> Arc<JsonObject> {
    object(json!({
        "type": "object",
        "properties": properties,
        "required": required,
    }))
}

fn text(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn records_of(what: &str) -> Value {
    json!({"type": "array", "description": what, "items": {"type": "object", "required": ["id", "kind", "created_at"]}})
}

fn read_only() -> ToolAnnotations {
    ToolAnnotations::new()
        .read_only(true)
        .destructive(false)
        .idempotent(true)
        .open_world(false)
}

/// Every tool, in list order: the reading ones, then (when `writes`) each
/// writing tool after its plan tool.
pub fn catalogue(writes: bool) -> Vec<Tool> {
    let mut names: Vec<String> = TOOL_NAMES.iter().map(|n| (*n).to_owned()).collect();
    if writes {
        for w in WRITE_TOOLS {
            // `deploy`'s plan is the reading tool `deploy_plan`.
            if *w != "deploy" {
                names.push(format!("{w}_plan"));
            }
            names.push((*w).to_owned());
        }
    }
    names.iter().filter_map(|n| definition(n, writes)).collect()
}

/// Whether `name` is a writing tool or a writing tool's plan.
pub fn is_write_tool(name: &str) -> bool {
    name != "deploy_plan" && WRITE_TOOLS.contains(&name.strip_suffix("_plan").unwrap_or(name))
}

fn deploy_input() -> Value {
    json!({
        "environment": text("an environment of `runway.toml` with a `deploy` table"),
        "version": text("the release version to deploy (`1.4.0`)"),
        "approvers": {"type": "array", "items": {"type": "string"}, "description": "who approved, for the approval gate"},
        "emergency": text("deploy outside the window, with this reason (recorded)"),
    })
}

fn finished_schema() -> Arc<JsonObject> {
    output(
        json!({
            "environment": {"type": "string"},
            "version": {"type": "string"},
            "deployment": {"type": "string", "description": "the ledger's deployment record"},
            "outcome": {"type": "string", "description": "verified, held, rolled_back, failed, aborted, refused, locked"},
            "verification": {"type": "string"},
            "incident": {"type": "string"},
            "message": {"type": "string"},
            "hint": {"type": "string"},
            "ok": {"type": "boolean"},
        }),
        &["environment", "outcome", "message", "ok"],
    )
}

fn write_input(tool: &str) -> (Value, Vec<&'static str>) {
    match tool {
        "deploy" => (deploy_input(), vec!["environment", "version"]),
        "rollback" => (
            json!({
                "environment": text("an environment of `runway.toml` with a `deploy` table"),
                "to": text("the version to go back to (default: the newest verified one before what runs)"),
            }),
            vec!["environment"],
        ),
        "incident_open" => (
            json!({
                "severity": {"type": "string", "enum": ["P0", "P1", "P2", "P3"], "description": "P0 (respond < 15 min), P1 (< 1 h), P2 (< 4 h), P3 (next business day)"},
                "title": text("what is wrong, in a line"),
                "deployment": text("the deployment that caused it (id or unique prefix)"),
            }),
            vec!["severity", "title"],
        ),
        "incident_ack" | "incident_resolve" => (
            json!({
                "id": text("the incident's id, or a unique prefix"),
                "note": text("a note to record with the change"),
            }),
            vec!["id"],
        ),
        _ => (
            json!({
                "package": text("the monorepo package (`[[release.packages]]` `name`); required when the project has several (`--package`)"),
                "version": text("the version of the entry (default: the next one)"),
            }),
            vec![],
        ),
    }
}

fn write_description(tool: &str) -> &'static str {
    match tool {
        "incident_open" => "Open an incident (status `detected`), as `runway incident open`",
        "incident_ack" => "Acknowledge an incident: someone is on it (`runway incident ack`)",
        "incident_resolve" => "Resolve an incident: the cause is fixed (`runway incident resolve`)",
        "deploy" => {
            "Deploy a version to an environment: gates, record, deploy, verify, then (when the environment has an `analysis` table) the watch over its bake window, and on failure roll back and open an incident (`runway deploy ENV VERSION`, `runway ship` with a watch); sends progress (each watch interval with its availability), and cancelling it aborts the deployment"
        }
        "rollback" => {
            "Roll an environment back to the planned version and verify it (`runway rollback ENV`); sends progress"
        }
        _ => {
            "Prepend the next release's changelog entry to the changelog file (`runway release changelog --write`)"
        }
    }
}

fn write_definition(name: &str) -> Option<Tool> {
    if let Some(base) = name
        .strip_suffix("_plan")
        .filter(|b| WRITE_TOOLS.contains(b))
    {
        let (properties, required) = write_input(base);
        let tool = Tool::new(
            name.to_owned(),
            format!(
                "Plan `{base}` without doing it: checks it can happen, says what it would do, and returns the `plan_id` that `{base}` needs (valid for a few minutes, once). {}",
                write_description(base)
            ),
            input(properties, &required),
        )
        .with_raw_output_schema(output(
            json!({
                "plan_id": {"type": "string"},
                "tool": {"type": "string", "const": base},
                "arguments": {"type": "object", "description": "the arguments the write must be called with, with `plan_id` added"},
                "expires_at": {"type": "string", "description": "RFC 3339; the plan is refused after it"},
                "summary": {"type": "string"},
                "would": {"type": "object"},
            }),
            &["plan_id", "tool", "arguments", "expires_at", "summary", "would"],
        ))
        .with_annotations(
            ToolAnnotations::new()
                .read_only(true)
                .destructive(false)
                .idempotent(false)
                .open_world(false),
        );
        return Some(tool);
    }
    if !WRITE_TOOLS.contains(&name) {
        return None;
    }
    let (mut properties, mut required) = write_input(name);
    let destructive = matches!(name, "deploy" | "rollback");
    let plan_from = if name == "deploy" {
        "deploy_plan".to_owned()
    } else {
        format!("{name}_plan")
    };
    properties["plan_id"] = text(&format!(
        "the `plan_id` `{plan_from}` returned for these same arguments"
    ));
    required.push("plan_id");
    let out = match name {
        "deploy" | "rollback" => finished_schema(),
        "changelog_write" => output(
            json!({
                "version": {"type": "string"},
                "path": {"type": "string"},
                "text": {"type": "string"},
                "warnings": {"type": "array", "items": {"type": "string"}},
                "ledger_id": {"type": "string", "description": "the release record that notes the write"},
            }),
            &["version", "path", "text", "ledger_id"],
        ),
        _ => output(
            json!({
                "id": {"type": "string"},
                "kind": {"type": "string", "const": "incident"},
                "operator": {"type": "string"},
                "body": {"type": "object"},
                "events": {"type": "array"},
            }),
            &["id", "kind", "body"],
        ),
    };
    Some(
        Tool::new(
            name.to_owned(),
            format!(
                "{} Writes: needs the `plan_id` of a `{plan_from}` call with the same arguments; recorded in the ledger with this client's name as the operator.",
                write_description(name)
            ),
            input(properties, &required),
        )
        .with_raw_output_schema(out)
        .with_annotations(
            ToolAnnotations::new()
                .read_only(false)
                .destructive(destructive)
                .idempotent(false)
                .open_world(destructive),
        ),
    )
}

/// One tool's definition, if the name is in the catalogue (`writes`: with the writing tools).
pub fn definition(name: &str, writes: bool) -> Option<Tool> {
    if is_write_tool(name) {
        return if writes { write_definition(name) } else { None };
    }
    let when = "a duration back from now (`7d`, `12h`) or an RFC 3339 time";
    let tool = match name {
        "release_status" => Tool::new(
            "release_status",
            "What the next release would be: version files, last tag, commits since it by type, the bump and the commit that decided it (`runway release status --format json`)",
            input(
                json!({
                    "package": text("the monorepo package (`[[release.packages]]` `name`); required when the project has several (`--package`)"),
                    "pre": {"type": "string", "enum": ["alpha", "beta", "rc"], "description": "compute a pre-release on this line"},
                    "no_surface": {"type": "boolean", "description": "do not capture the live tool surface from `[release.surface_source]` (`--no-surface`)"},
                }),
                &[],
            ),
        )
        .with_raw_output_schema(output(
            json!({
                "current": {"type": "string"},
                "next": {"type": ["string", "null"]},
                "next_tag": {"type": ["string", "null"]},
                "level": {"type": ["string", "null"]},
                "commits": {"type": "integer"},
                "decided_by": {"type": ["string", "null"]},
                "files_agree": {"type": "boolean"},
                "notes": {"type": "array", "items": {"type": "string"}},
            }),
            &["current", "commits", "files_agree", "notes"],
        )),
        "changelog_preview" => Tool::new(
            "changelog_preview",
            "The changelog entry the next release would prepend, without writing it (`runway release changelog`)",
            input(
                json!({
                    "package": text("the monorepo package (`[[release.packages]]` `name`); required when the project has several (`--package`)"),
                    "version": text("the version to render the entry for (default: the next one)"),
                }),
                &[],
            ),
        )
        .with_raw_output_schema(output(
            json!({
                "version": {"type": ["string", "null"]},
                "text": {"type": "string", "description": "the entry, in Markdown"},
                "warnings": {"type": "array", "items": {"type": "string"}},
                "reason": {"type": ["string", "null"], "description": "why there is nothing to release"},
            }),
            &["version", "text", "warnings"],
        )),
        "release_notes" => Tool::new(
            "release_notes",
            "A release's notes in Markdown, grouped like the changelog, for a GitHub or GitLab release (`runway release notes --format json`)",
            input(
                json!({
                    "package": text("the monorepo package (`[[release.packages]]` `name`); required when the project has several (`--package`)"),
                    "version": text("the release (`1.2.0` or `v1.2.0`); default: the next version when there is one, else the last release tag"),
                }),
                &[],
            ),
        )
        .with_raw_output_schema(output(
            json!({
                "version": {"type": "string"},
                "tag": {"type": "string"},
                "tagged": {"type": "boolean", "description": "false for the next version, not tagged yet"},
                "previous_tag": {"type": ["string", "null"]},
                "commits": {"type": "integer"},
                "markdown": {"type": "string"},
                "warnings": {"type": "array", "items": {"type": "string"}},
            }),
            &["version", "tag", "tagged", "markdown"],
        )),
        "release_report" => Tool::new(
            "release_report",
            "What happened since a release, from the ledger: deployments per environment, rollbacks, incidents, verification pass rate, each `[release.criteria]` met or not (`runway release report VERSION --format json`)",
            input(
                json!({
                    "package": text("the monorepo package (`[[release.packages]]` `name`); required when the project has several (`--package`)"),
                    "version": text("the release (`1.2.0` or `v1.2.0`)"),
                }),
                &["version"],
            ),
        )
        .with_raw_output_schema(output(
            json!({
                "version": {"type": "string"},
                "passed": {"type": "boolean", "description": "no criterion is unmet"},
                "environments": {"type": "array"},
                "rollbacks": {"type": "array"},
                "incidents": {"type": "array"},
                "verification": {"type": "object"},
                "criteria": {"type": "array", "items": {"type": "object", "required": ["name", "threshold", "value", "met"]}},
            }),
            &["version", "passed", "criteria"],
        )),
        "verify" => Tool::new(
            "verify",
            "Verify an MCP server (a URL, or an environment of `runway.toml`): health, auth, protocol, tools, headers; the `runway.report/v1` report (`runway verify --format json`)",
            input(
                json!({
                    "target": text("an `http(s)://` MCP endpoint URL, or an environment name from `runway.toml`"),
                    "suite": {"type": "string", "enum": ["smoke", "full", "conformance"], "description": "which checks run (default: the environment's, else smoke)"},
                }),
                &["target"],
            ),
        )
        .with_raw_output_schema(output(
            json!({
                "schema": {"type": "string", "const": "runway.report/v1"},
                "target": {"type": "string"},
                "suite": {"type": "string"},
                "era": {"type": "object"},
                "started_at": {"type": "string"},
                "duration_ms": {"type": "number"},
                "summary": {
                    "type": "object",
                    "properties": {
                        "passed": {"type": "integer"},
                        "failed": {"type": "integer"},
                        "warned": {"type": "integer"},
                        "skipped": {"type": "integer"},
                    },
                    "required": ["passed", "failed"],
                },
                "checks": {"type": "array", "items": {"type": "object", "required": ["id", "status"]}},
            }),
            &["schema", "target", "suite", "summary", "checks"],
        )),
        "ledger_list" => Tool::new(
            "ledger_list",
            "Ledger records (releases, deployments, verifications, incidents), oldest first, each with its history (`runway ledger list --format json`, under `records`)",
            input(
                json!({
                    "kind": {"type": "string", "enum": ["release", "deployment", "verification", "incident"]},
                    "environment": text("only records of this environment"),
                    "version": text("only records of this release version"),
                    "since": text(&format!("only records created since: {when}")),
                    "until": text(&format!("only records created before: {when}")),
                }),
                &[],
            ),
        )
        .with_raw_output_schema(output(
            json!({"records": records_of("the matching records")}),
            &["records"],
        )),
        "ledger_show" => Tool::new(
            "ledger_show",
            "One ledger record with its whole history; a deployment also gets its `deployment_view` (`runway ledger show ID --format json`)",
            input(json!({"id": text("a record id, or a unique prefix of one")}), &["id"]),
        )
        .with_raw_output_schema(output(
            json!({
                "id": {"type": "string"},
                "kind": {"type": "string"},
                "created_at": {"type": "string"},
                "events": {"type": "array"},
            }),
            &["id", "kind", "created_at"],
        )),
        "dora" => Tool::new(
            "dora",
            "The four DORA metrics from the ledger and git: deployment frequency, lead time, change failure rate, recovery time (`runway dora --format json`)",
            input(
                json!({
                    "environment": text("only this environment (default: every one)"),
                    "since": text(&format!("the window's start (default `90d`): {when}")),
                }),
                &[],
            ),
        )
        .with_raw_output_schema(output(
            json!({
                "deployments": {"type": "integer"},
                "failed_deployments": {"type": "integer"},
                "deployment_frequency": {"type": "object"},
                "lead_time_for_changes": {"type": "object"},
                "change_failure_rate": {"type": "object"},
                "failed_deployment_recovery_time": {"type": "object"},
            }),
            &["deployments", "failed_deployments"],
        )),
        "incident_list" => Tool::new(
            "incident_list",
            "Incidents, open ones unless `all` (`runway incident list --format json`, under `incidents`)",
            input(
                json!({
                    "all": {"type": "boolean", "description": "include resolved and closed incidents"},
                    "environment": text("only incidents in this environment"),
                    "since": text(&format!("only incidents detected since: {when}")),
                }),
                &[],
            ),
        )
        .with_raw_output_schema(output(
            json!({"incidents": records_of("the matching incidents")}),
            &["incidents"],
        )),
        "incident_show" => Tool::new(
            "incident_show",
            "One incident's record: severity, title, timeline, the deployment that caused it",
            input(json!({"id": text("the incident's id, or a unique prefix")}), &["id"]),
        )
        .with_raw_output_schema(output(
            json!({
                "id": {"type": "string"},
                "kind": {"type": "string", "const": "incident"},
                "body": {"type": "object"},
                "events": {"type": "array"},
            }),
            &["id", "kind", "body"],
        )),
        "deploy_plan" => Tool::new(
            "deploy_plan",
            "What deploying a version to an environment would do, judged now and changing nothing: what runs, the rollback point, every gate's verdict, the verify and the failure policy (`runway plan ENV VERSION --format json`). With `[mcp] allow_writes`, a plan no gate refuses also carries the `plan_id` that `deploy` needs",
            input(deploy_input(), &["environment", "version"]),
        )
        .with_raw_output_schema(output(
            json!({
                "environment": {"type": "string"},
                "version": {"type": "string"},
                "target": {"type": "string"},
                "running": {"type": ["object", "null"]},
                "rollback_to": {"type": ["object", "null"]},
                "gates": {"type": "array", "items": {"type": "object"}},
                "refused": {"type": "boolean"},
                "deploy": {"type": "object"},
                "verify": {"type": "object"},
                "on_failure": {"type": "object"},
                "plan_id": {"type": "string", "description": "with writes on: name it in `deploy`"},
                "expires_at": {"type": "string"},
            }),
            &["environment", "version", "target", "gates", "refused"],
        )),
        "environment_status" => Tool::new(
            "environment_status",
            "What runs in an environment, from its target and the ledger, with any drift between them and who holds the deploy lock (`runway status ENV --format json`)",
            input(
                json!({"environment": text("an environment of `runway.toml` with a `deploy` table")}),
                &["environment"],
            ),
        )
        .with_raw_output_schema(output(
            json!({
                "environment": {"type": "string"},
                "target": {"type": "string"},
                "running": {"type": ["object", "null"]},
                "last_deployment": {"type": ["object", "null"]},
                "deploying": {"type": ["string", "null"]},
                "drift": {"type": ["string", "null"]},
            }),
            &["environment", "target"],
        )),
        "triage" => Tool::new(
            "triage",
            "Incident triage of an environment on one screen, in the dynamic-mcp runbook's order: readiness (health, `/readyz`, an MCP handshake and call), auth denials and errors from its `[[analysis.conditions]]` over a short window, its last deployments, open incidents against their response times, the deploy lock holder; `healthy` and `problems` say what is wrong. Reads only (`runway triage ENV --format json`)",
            input(
                json!({
                    "environment": text("an environment of `runway.toml` with a `url`"),
                    "window": text("how long the `/metrics` conditions watch the server's counters (default `10s`, at most `10m`)"),
                }),
                &["environment"],
            ),
        )
        .with_raw_output_schema(output(
            json!({
                "environment": {"type": "string"},
                "at": {"type": "string"},
                "healthy": {"type": "boolean"},
                "problems": {"type": "array", "items": {"type": "string"}},
                "readiness": {"type": "object", "required": ["ok", "health", "readyz", "mcp"]},
                "traffic": {"type": "object", "required": ["configured", "conditions", "message"]},
                "deployments": {"type": "array", "items": {"type": "object"}},
                "incidents": {"type": "array", "items": {"type": "object"}},
                "lock": {"type": ["object", "null"]},
            }),
            &["environment", "healthy", "problems", "readiness", "traffic", "deployments", "incidents"],
        )),
        _ => return None,
    };
    Some(tool.with_annotations(read_only()))
}
