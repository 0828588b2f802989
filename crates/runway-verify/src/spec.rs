//! What each finding rests on: a rule of the MCP specification (with the
//! revision, file and heading it comes from), a policy of Runway's (its
//! seeded numbers and hardening advice, which an environment may switch off
//! with `policies = false`), or an expectation the operator configured
//! (`expect_version`, `calls`, `min_tools`...).
//!
//! [`annotate`] writes `kind`, and for spec rules `spec` and `spec_era`,
//! into every check's `evidence.details`; `docs/checks.md` lists the same
//! table for people. Sections are the headings of the specification's own
//! files (`docs/specification/<revision>/...` of the specification
//! repository), never a paraphrase.

use runway_core::{CheckResult, Era, Status};
use serde_json::{Value, json};

/// Where a check's verdict comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A MUST/SHOULD of the MCP specification.
    Spec,
    /// Runway's advice: hardening, seeded thresholds. Off with `policies = false`.
    Policy,
    /// What the operator asked for (`--expect-version`, `calls`, `min_tools`, declared auth).
    Expectation,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Spec => "spec",
            Kind::Policy => "policy",
            Kind::Expectation => "expectation",
        }
    }
}

/// A rule's source: the revision that states it and the file and heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    /// `2026-07-28`, `2025-11-25`, or `both` when the two say the same.
    pub era: &'static str,
    /// `basic/transports/streamable-http.mdx § Server Validation`.
    pub at: &'static str,
}

const fn s(era: &'static str, at: &'static str) -> Section {
    Section { era, at }
}

const NEW: &str = "2026-07-28";
const OLD: &str = "2025-11-25";

/// One row of the table: a check id (or an id prefix ending in `.`), and the
/// sections for the stateless (2026-07-28) and session (2025-11-25) eras.
struct Row {
    id: &'static str,
    kind: Kind,
    stateless: Option<Section>,
    session: Option<Section>,
}

const fn spec(id: &'static str, stateless: Option<Section>, session: Option<Section>) -> Row {
    Row {
        id,
        kind: Kind::Spec,
        stateless,
        session,
    }
}

const fn policy(id: &'static str) -> Row {
    Row {
        id,
        kind: Kind::Policy,
        stateless: None,
        session: None,
    }
}

const fn expectation(id: &'static str) -> Row {
    Row {
        id,
        kind: Kind::Expectation,
        stateless: None,
        session: None,
    }
}

/// The table. An id ending in `.` is a prefix (`mcp.call.` covers every smoke call).
const ROWS: &[Row] = &[
    spec(
        "mcp.handshake",
        Some(s(NEW, "server/discover.mdx § Response")),
        Some(s(OLD, "basic/lifecycle.mdx § Initialization")),
    ),
    spec(
        "mcp.transport.legacy_sse",
        Some(s(
            NEW,
            "basic/transports/streamable-http.mdx § HTTP+SSE Transport (2024-11-05)",
        )),
        Some(s(OLD, "basic/transports.mdx § Backwards Compatibility")),
    ),
    spec(
        "mcp.discover.result",
        Some(s(
            NEW,
            "server/discover.mdx § DiscoverResult; basic/index.mdx § Result Responses; server/utilities/caching.mdx § Cacheable Results",
        )),
        None,
    ),
    expectation("mcp.version"),
    spec(
        "mcp.ping",
        Some(s(NEW, "changelog.mdx § Major changes (5: `ping` removed)")),
        Some(s(OLD, "basic/utilities/ping.mdx")),
    ),
    spec(
        "mcp.tools.list",
        Some(s(
            NEW,
            "server/tools.mdx § Listing Tools; server/utilities/pagination.mdx",
        )),
        Some(s(
            OLD,
            "server/tools.mdx § Listing Tools; server/utilities/pagination.mdx",
        )),
    ),
    spec(
        "mcp.tools.order",
        Some(s(
            NEW,
            "server/tools.mdx § Capabilities (deterministic order, SHOULD)",
        )),
        None,
    ),
    expectation("mcp.tools.count"),
    expectation("mcp.tools.required"),
    spec(
        "mcp.tools.schemas",
        Some(s(
            NEW,
            "basic/index.mdx § JSON Schema Usage; server/tools.mdx § Tool",
        )),
        Some(s(
            OLD,
            "basic/index.mdx § JSON Schema Usage; server/tools.mdx § Tool",
        )),
    ),
    spec(
        "mcp.tools.annotations",
        Some(s(NEW, "schema.mdx § ToolAnnotations")),
        Some(s(OLD, "schema.mdx § ToolAnnotations")),
    ),
    spec(
        "mcp.tools.unknown",
        Some(s(NEW, "server/tools.mdx § Error Handling")),
        Some(s(OLD, "server/tools.mdx § Error Handling")),
    ),
    expectation("mcp.call"),
    // `[environments.X.logs]`: the operator's format for the server's output.
    expectation("logs."),
    expectation("mcp.call."),
    spec(
        "mcp.resources.list",
        Some(s(NEW, "server/resources.mdx § Listing Resources")),
        Some(s(OLD, "server/resources.mdx § Listing Resources")),
    ),
    spec(
        "mcp.resources.read",
        Some(s(NEW, "server/resources.mdx § Reading Resources")),
        Some(s(OLD, "server/resources.mdx § Reading Resources")),
    ),
    spec(
        "mcp.resources.not_found",
        Some(s(
            NEW,
            "server/resources.mdx § Error Handling; basic/index.mdx § Error Codes",
        )),
        Some(s(OLD, "server/resources.mdx § Error Handling")),
    ),
    spec(
        "mcp.resources.templates",
        Some(s(NEW, "server/resources.mdx § Resource Templates")),
        Some(s(OLD, "server/resources.mdx § Resource Templates")),
    ),
    spec(
        "mcp.resources.subscribe",
        None,
        Some(s(OLD, "server/resources.mdx § Subscriptions")),
    ),
    spec(
        "mcp.subscriptions.listen",
        Some(s(NEW, "basic/patterns/subscriptions.mdx § Acknowledgment")),
        None,
    ),
    spec(
        "mcp.prompts.list",
        Some(s(NEW, "server/prompts.mdx § Listing Prompts")),
        Some(s(OLD, "server/prompts.mdx § Listing Prompts")),
    ),
    spec(
        "mcp.prompts.get",
        Some(s(
            NEW,
            "server/prompts.mdx § Getting a Prompt; § PromptMessage",
        )),
        Some(s(
            OLD,
            "server/prompts.mdx § Getting a Prompt; § PromptMessage",
        )),
    ),
    spec(
        "mcp.prompts.unknown",
        Some(s(NEW, "server/prompts.mdx § Error Handling")),
        Some(s(OLD, "server/prompts.mdx § Error Handling")),
    ),
    spec(
        "mcp.logging.set_level",
        Some(s(
            NEW,
            "changelog.mdx § Major changes (5: `logging/setLevel` removed)",
        )),
        Some(s(OLD, "server/utilities/logging.mdx § Setting Log Level")),
    ),
    spec(
        "mcp.logging.level",
        Some(s(NEW, "server/utilities/logging.mdx § Error Handling")),
        None,
    ),
    spec(
        "mcp.logging.silent",
        Some(s(
            NEW,
            "server/utilities/logging.mdx § Per-request log level",
        )),
        None,
    ),
    spec(
        "mcp.completion.complete",
        Some(s(
            NEW,
            "server/utilities/completion.mdx § Requesting Completions",
        )),
        Some(s(
            OLD,
            "server/utilities/completion.mdx § Requesting Completions",
        )),
    ),
    spec(
        "mcp.errors.parse",
        Some(s(
            NEW,
            "basic/index.mdx § Error Codes (JSON-RPC 2.0 -32700)",
        )),
        Some(s(OLD, "basic/index.mdx § Responses (JSON-RPC 2.0 -32700)")),
    ),
    spec(
        "mcp.errors.invalid_request",
        Some(s(NEW, "basic/index.mdx § Requests (JSON-RPC 2.0 -32600)")),
        Some(s(OLD, "basic/index.mdx § Requests (JSON-RPC 2.0 -32600)")),
    ),
    spec(
        "mcp.errors.method_not_found",
        Some(s(
            NEW,
            "basic/transports/streamable-http.mdx § Protocol Version Header (404 with -32601)",
        )),
        Some(s(OLD, "basic/index.mdx § Responses (JSON-RPC 2.0 -32601)")),
    ),
    spec(
        "mcp.errors.invalid_params",
        Some(s(NEW, "server/tools.mdx § Error Handling")),
        Some(s(OLD, "server/tools.mdx § Error Handling")),
    ),
    spec(
        "mcp.protocol_version_header",
        Some(s(
            NEW,
            "basic/transports/streamable-http.mdx § Protocol Version Header",
        )),
        Some(s(OLD, "basic/transports.mdx § Protocol Version Header")),
    ),
    spec(
        "mcp.stateless.version",
        Some(s(
            NEW,
            "basic/versioning.mdx § Protocol Version Negotiation; basic/transports/streamable-http.mdx § Protocol Version Header",
        )),
        None,
    ),
    spec(
        "mcp.stateless.headers",
        Some(s(
            NEW,
            "basic/transports/streamable-http.mdx § Server Validation",
        )),
        None,
    ),
    spec(
        "mcp.stateless.meta",
        Some(s(
            NEW,
            "basic/index.mdx § `_meta` (Per-request protocol fields)",
        )),
        None,
    ),
    spec(
        "mcp.stateless.result_type",
        Some(s(NEW, "basic/index.mdx § Result Responses")),
        None,
    ),
    spec(
        "mcp.stateless.server_info",
        Some(s(
            NEW,
            "basic/index.mdx § `_meta` (Per-response protocol fields)",
        )),
        None,
    ),
    spec(
        "mcp.stateless.cache",
        Some(s(
            NEW,
            "server/utilities/caching.mdx § Cacheable Results; § Time-to-Live (TTL) Field; § Cache Scope Field",
        )),
        None,
    ),
    spec(
        "mcp.stateless.get",
        Some(s(
            NEW,
            "basic/transports/streamable-http.mdx § Earlier Streamable HTTP Revisions",
        )),
        None,
    ),
    spec(
        "mcp.stateless.name_encoding",
        Some(s(
            NEW,
            "basic/transports/streamable-http.mdx § Value Encoding; § Server Validation",
        )),
        None,
    ),
    spec(
        "mcp.capability.required",
        Some(s(
            NEW,
            "basic/index.mdx § `_meta` (Per-request protocol fields); schema.mdx § MissingRequiredClientCapabilityError",
        )),
        None,
    ),
    spec(
        "mcp.mrtr.input_required",
        Some(s(
            NEW,
            "basic/patterns/mrtr.mdx § Server Requirements (Basic Workflow)",
        )),
        None,
    ),
    spec(
        "mcp.mrtr.retry",
        Some(s(
            NEW,
            "basic/patterns/mrtr.mdx § Basic Workflow; § Error Handling",
        )),
        None,
    ),
    spec(
        "mcp.mrtr.auth",
        Some(s(
            NEW,
            "basic/patterns/mrtr.mdx § Security Considerations; basic/authorization/index.mdx § Token Requirements",
        )),
        None,
    ),
    spec(
        "mcp.tasks.capability",
        Some(s(
            NEW,
            "ext-tasks specification/draft/tasks.md § Error Handling (Protocol Errors); basic/index.mdx § `_meta` (Per-request protocol fields)",
        )),
        None,
    ),
    spec(
        "mcp.tasks.unknown",
        Some(s(
            NEW,
            "ext-tasks specification/draft/tasks.md § Error Handling (Protocol Errors); § Task Polling",
        )),
        None,
    ),
    spec(
        "mcp.stateless.delete",
        Some(s(
            NEW,
            "basic/transports/streamable-http.mdx § Earlier Streamable HTTP Revisions",
        )),
        None,
    ),
    spec(
        "mcp.stateless.session_id",
        Some(s(
            NEW,
            "basic/transports/streamable-http.mdx § Earlier Streamable HTTP Revisions",
        )),
        None,
    ),
    spec(
        "mcp.stateless.last_event_id",
        Some(s(
            NEW,
            "basic/transports/streamable-http.mdx § Earlier Streamable HTTP Revisions",
        )),
        None,
    ),
    spec(
        "mcp.stateless.initialize",
        Some(s(
            NEW,
            "basic/versioning.mdx § Backward Compatibility with Initialization-Based Versions",
        )),
        None,
    ),
    spec(
        "mcp.sse.accel_buffering",
        Some(s(
            NEW,
            "basic/transports/streamable-http.mdx § Receiving Messages",
        )),
        None,
    ),
    spec(
        "mcp.sse.priming",
        None,
        Some(s(
            OLD,
            "basic/transports.mdx § Sending Messages to the Server",
        )),
    ),
    spec(
        "mcp.session.delete",
        None,
        Some(s(OLD, "basic/transports.mdx § Session Management")),
    ),
    spec(
        "mcp.session.unknown",
        None,
        Some(s(OLD, "basic/transports.mdx § Session Management")),
    ),
    spec(
        "mcp.crash",
        Some(s(NEW, "basic/index.mdx § Messages")),
        Some(s(OLD, "basic/index.mdx § Messages")),
    ),
    spec(
        "mcp.sdk",
        Some(s(
            NEW,
            "basic/versioning.mdx § Backward Compatibility with Initialization-Based Versions",
        )),
        Some(s(OLD, "basic/lifecycle.mdx § Initialization")),
    ),
    spec(
        "mcp.stdio.stdout",
        Some(s(NEW, "basic/transports/stdio.mdx")),
        Some(s(OLD, "basic/transports.mdx § stdio")),
    ),
    spec(
        "origin.",
        Some(s(
            NEW,
            "basic/transports/streamable-http.mdx § Security & Endpoint",
        )),
        Some(s(OLD, "basic/transports.mdx § Security Warning")),
    ),
    spec(
        "auth.www_authenticate",
        Some(s(NEW, "basic/authorization/index.mdx")),
        Some(s(OLD, "basic/authorization.mdx")),
    ),
    spec(
        "auth.resource_metadata",
        Some(s(NEW, "basic/authorization/index.mdx")),
        Some(s(OLD, "basic/authorization.mdx")),
    ),
    spec(
        "auth.query_token",
        Some(s(NEW, "basic/authorization/index.mdx")),
        Some(s(OLD, "basic/authorization.mdx")),
    ),
    // An open endpoint is a policy, unless the environment declares auth
    // (then [`annotate`] makes it an expectation).
    policy("auth."),
    policy("headers."),
    policy("cors."),
    policy("ratelimit."),
    policy("exposure."),
    policy("load."),
    policy("http."),
    policy("tls."),
    policy("engine."),
];

fn row(id: &str) -> Option<&'static Row> {
    let id = id.strip_suffix(".session").unwrap_or(id);
    ROWS.iter()
        .filter(|r| {
            if let Some(prefix) = r.id.strip_suffix('.') {
                id.starts_with(r.id) || id == prefix
            } else {
                id == r.id
            }
        })
        .max_by_key(|r| r.id.len())
}

/// The kind of a check id (`Spec` when the table does not know it: every MCP
/// check not listed is a protocol rule).
pub fn kind(id: &str) -> Kind {
    match row(id) {
        Some(r) => r.kind,
        None if id.starts_with("mcp.") => Kind::Spec,
        None => Kind::Policy,
    }
}

/// The section a check rests on in `era` (the session era's for a `.session` id).
pub fn section(id: &str, era: &Era) -> Option<Section> {
    let r = row(id)?;
    let session = id.ends_with(".session") || matches!(era, Era::Session { .. });
    if session {
        r.session.or(r.stateless)
    } else {
        r.stateless.or(r.session)
    }
}

/// Writes `kind` (and `spec`, `spec_era` for a spec rule) into the details of `c`.
pub fn annotate(c: &mut CheckResult, era: &Era, auth_declared: bool) {
    let mut k = kind(&c.id);
    if auth_declared && c.id.starts_with("auth.") && k == Kind::Policy {
        k = Kind::Expectation;
    }
    let mut add = serde_json::Map::new();
    add.insert("kind".into(), json!(k.as_str()));
    if k == Kind::Spec
        && let Some(sec) = section(&c.id, era)
    {
        add.insert("spec".into(), json!(format!("{} {}", sec.era, sec.at)));
        add.insert("spec_era".into(), json!(sec.era));
    }
    match &mut c.evidence.details {
        Value::Object(m) => {
            for (key, v) in add {
                m.entry(key).or_insert(v);
            }
        }
        Value::Null => c.evidence.details = Value::Object(add),
        // Details of another shape are left as they are.
        _ => {}
    }
}

/// With `policies = false`: a policy finding is not reported as a problem.
pub fn silence_policy(c: &mut CheckResult, auth_declared: bool) {
    let k = kind(&c.id);
    let policy = k == Kind::Policy && !(auth_declared && c.id.starts_with("auth."));
    if policy && matches!(c.status, Status::Warn | Status::Fail) && c.id != "engine.deadline" {
        c.message = format!(
            "policy check off for this environment (`policies = false`): {}",
            c.message
        );
        c.status = Status::Skip;
        c.hint = None;
    }
}

/// The groups that hold only policies: not run at all when policies are off.
pub const POLICY_GROUPS: &[&str] = &[
    "headers",
    "cors",
    "ratelimit",
    "load",
    "http",
    "tls",
    "exposure",
];

/// Every row, for `docs/checks.md` and its test: `(id, kind, stateless, session)`.
pub fn table() -> impl Iterator<Item = (&'static str, Kind, Option<Section>, Option<Section>)> {
    ROWS.iter().map(|r| (r.id, r.kind, r.stateless, r.session))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_suffixes_and_eras_pick_the_right_row() {
        assert_eq!(kind("mcp.call.echo"), Kind::Expectation);
        assert_eq!(kind("headers.csp"), Kind::Policy);
        assert_eq!(kind("origin.foreign"), Kind::Spec);
        assert_eq!(kind("auth.www_authenticate"), Kind::Spec);
        assert_eq!(kind("auth.no_token"), Kind::Policy);
        let stateless = Era::Stateless {
            version: "2026-07-28".into(),
        };
        let s = section("mcp.errors.method_not_found", &stateless).unwrap();
        assert_eq!(s.era, "2026-07-28");
        let s = section("mcp.errors.method_not_found.session", &stateless).unwrap();
        assert_eq!(s.era, "2025-11-25");
        let mut c = CheckResult::fail("mcp.stateless.headers", "x", "y");
        annotate(&mut c, &stateless, false);
        assert_eq!(c.evidence.details["kind"], "spec");
        assert!(
            c.evidence.details["spec"]
                .as_str()
                .unwrap()
                .contains("§ Server Validation")
        );
        let mut c = CheckResult::warn("auth.no_token", "open", "h");
        annotate(&mut c, &stateless, true);
        assert_eq!(c.evidence.details["kind"], "expectation");
    }

    #[test]
    fn docs_checks_md_lists_every_row_with_its_sections() {
        let doc = include_str!("../../../docs/checks.md");
        for (id, k, stateless, session) in table() {
            let name = match id.strip_suffix('.') {
                Some(prefix) => format!("`{prefix}.*`"),
                None => format!("`{id}`"),
            };
            let row = match k {
                Kind::Spec => format!(
                    "| {name} | {} | {} |",
                    stateless.map_or("—", |s| s.at),
                    session.map_or("—", |s| s.at)
                ),
                _ => format!("| {name} | {} |", k.as_str()),
            };
            assert!(doc.contains(&row), "docs/checks.md lacks the row\n{row}");
        }
    }

    #[test]
    fn every_spec_row_names_a_section_of_an_era() {
        for (id, k, a, b) in table() {
            if k == Kind::Spec {
                assert!(a.is_some() || b.is_some(), "{id}");
            }
        }
    }
}
