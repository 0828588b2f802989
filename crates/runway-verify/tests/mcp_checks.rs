//! Each MCP check against the reference server: it passes the good server and
//! fails the fault that breaks it, in both protocol eras.

use std::time::Duration;

use runway_core::{CheckResult, Era, Secret, Status};
use runway_reference::{EraSupport, Faults, Options};
use runway_verify::{
    CallExpect, Context, SmokeCall, Suite, Transport,
    context::EraChoice,
    http::Limits,
    mcp::{self, McpOutcome},
};
use serde_json::json;

const TOKEN: &str = "reference-token-7c1e";

fn calls() -> Vec<SmokeCall> {
    let budget = Some(Duration::from_millis(1000));
    vec![
        SmokeCall {
            tool: "echo".into(),
            arguments: json!({"message": "hello"}),
            expect: CallExpect {
                text_contains: Some("hello".into()),
                max_latency: budget,
                ..CallExpect::default()
            },
        },
        SmokeCall {
            tool: "add".into(),
            arguments: json!({"a": 2, "b": 3}),
            expect: CallExpect {
                json_at: Some(("/sum".into(), json!(5.0))),
                max_latency: budget,
                ..CallExpect::default()
            },
        },
        // Asks for input in the stateless era (refused with -32021 to a
        // smoke call, which declares nothing): what `mcp.mrtr.*` drive.
        SmokeCall {
            tool: "confirm".into(),
            arguments: json!({"action": "deploy"}),
            expect: CallExpect::default(),
        },
        SmokeCall {
            tool: "slow".into(),
            arguments: json!({"ms": 10}),
            expect: CallExpect {
                text_matches: Some("^done$".into()),
                max_latency: budget,
                ..CallExpect::default()
            },
        },
    ]
}

/// Spawns a reference server with `faults` in `support` mode and runs the MCP checks.
async fn verify(faults: &str, support: EraSupport, era: EraChoice, suite: Suite) -> McpOutcome {
    let server = runway_reference::spawn(Options {
        token: Some(TOKEN.into()),
        era: support,
        faults: Faults::parse(faults).unwrap(),
        ..Options::default()
    })
    .await
    .unwrap();
    let url = server.mcp_url.parse().unwrap();
    let mut ctx = Context::new(Transport::Http { url }, Some(Secret::new(TOKEN)), suite);
    ctx.era = era;
    ctx.limits = Limits {
        timeout: Duration::from_millis(2500),
        max_body: 1 << 20,
    };
    ctx.expect.version = Some(env!("CARGO_PKG_VERSION").into());
    ctx.expect.min_tools = Some(16);
    ctx.expect.required_tools = vec!["echo".into(), "add".into(), "slow".into(), "fail".into()];
    ctx.expect.calls = calls();
    let o = mcp::run(&ctx).await;
    server.shutdown().await;
    let all = serde_json::to_string(&o.checks).unwrap();
    assert!(!all.contains(TOKEN), "the token leaked into the report");
    o
}

fn check<'a>(o: &'a McpOutcome, id: &str) -> &'a CheckResult {
    o.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check `{id}` in {:#?}", o.checks))
}

const ERAS: [(EraChoice, &str); 2] = [
    (EraChoice::Session, "session"),
    (EraChoice::Stateless, "stateless"),
];

#[tokio::test]
async fn the_good_reference_server_passes_every_check_in_both_eras() {
    for (era, kind) in ERAS {
        let o = verify("", EraSupport::Both, era, Suite::Conformance).await;
        match (&o.era, kind) {
            (Era::Session { version }, "session") => assert_eq!(version, "2025-11-25"),
            (Era::Stateless { version }, "stateless") => assert_eq!(version, "2026-07-28"),
            other => panic!("wrong era {other:?}"),
        }
        for c in &o.checks {
            assert!(
                matches!(c.status, Status::Pass | Status::Skip),
                "{kind}: {c:#?}"
            );
        }
        assert_eq!(
            check(&o, "mcp.tools.list").evidence.details["pages"],
            json!(4),
            "{kind}"
        );
        if kind == "stateless" {
            for id in [
                "mcp.stateless.name_encoding",
                "mcp.mrtr.input_required",
                "mcp.mrtr.retry",
                "mcp.mrtr.auth",
                "mcp.capability.required",
                "mcp.tasks.capability",
                "mcp.tasks.unknown",
                "mcp.logging.silent",
            ] {
                let c = check(&o, id);
                assert_eq!(c.status, Status::Pass, "{kind} {id}: {c:#?}");
            }
            assert_eq!(check(&o, "mcp.call.confirm").status, Status::Skip);
        }
        for id in [
            "mcp.call.echo",
            "mcp.call.add",
            "mcp.call.slow",
            "mcp.tools.schemas",
            "mcp.errors.parse",
            "mcp.sdk",
            "mcp.protocol_version_header",
        ] {
            assert_eq!(check(&o, id).status, Status::Pass, "{kind} {id}");
        }
    }
}

/// Runs `faults` in both eras and asserts `id` gets `want`, with a hint and a message containing `needle`.
async fn fault_fails(faults: &str, id: &str, needle: &str, suite: Suite) {
    for (era, kind) in ERAS {
        let o = verify(faults, EraSupport::Both, era, suite).await;
        let c = check(&o, id);
        assert_eq!(c.status, Status::Fail, "{faults} ({kind}): {c:#?}");
        assert!(c.hint.is_some(), "{faults} ({kind}): no hint");
        assert!(
            c.message.contains(needle),
            "{faults} ({kind}): `{}` lacks `{needle}`",
            c.message
        );
        assert_eq!(
            check(&o, "mcp.handshake").status,
            Status::Pass,
            "{faults} ({kind})"
        );
    }
}

#[tokio::test]
async fn wrong_version_fails_the_version_check() {
    fault_fails("wrong-version", "mcp.version", "0.0.0-wrong", Suite::Smoke).await;
}

#[tokio::test]
async fn failing_tool_fails_its_smoke_call() {
    fault_fails("failing-tool", "mcp.call.echo", "isError", Suite::Smoke).await;
}

#[tokio::test]
async fn slow_tool_blows_the_latency_budget() {
    fault_fails("slow-tool=1200", "mcp.call.echo", "budget", Suite::Smoke).await;
}

#[tokio::test]
async fn broken_pagination_is_caught() {
    fault_fails("broken-pagination", "mcp.tools.list", "loops", Suite::Smoke).await;
}

#[tokio::test]
async fn bad_input_schema_is_caught() {
    fault_fails(
        "bad-input-schema",
        "mcp.tools.schemas",
        runway_reference::BAD_SCHEMA_TOOL,
        Suite::Full,
    )
    .await;
}

#[tokio::test]
async fn bad_output_violates_the_output_schema() {
    fault_fails("bad-output", "mcp.call.add", "outputSchema", Suite::Smoke).await;
}

#[tokio::test]
async fn few_tools_fails_the_count_and_required_tools() {
    fault_fails(
        "few-tools",
        "mcp.tools.count",
        "expected at least 16",
        Suite::Smoke,
    )
    .await;
    fault_fails("few-tools", "mcp.tools.required", "`slow`", Suite::Smoke).await;
}

#[tokio::test]
async fn wrong_error_codes_fail_in_conformance_and_a_5xx_fails_everywhere() {
    fault_fails(
        "wrong-error-codes",
        "mcp.errors.method_not_found",
        "-32603",
        Suite::Conformance,
    )
    .await;
    fault_fails(
        "wrong-error-codes",
        "mcp.errors.parse",
        "HTTP 500",
        Suite::Full,
    )
    .await;
    // In `full` a wrong (but non-5xx) code is a warning.
    let o = verify(
        "wrong-error-codes",
        EraSupport::Both,
        EraChoice::Session,
        Suite::Full,
    )
    .await;
    assert_eq!(
        check(&o, "mcp.errors.method_not_found").status,
        Status::Warn
    );
}

#[tokio::test]
async fn no_session_delete_fails_in_the_session_era_only() {
    let o = verify(
        "no-session-delete",
        EraSupport::Both,
        EraChoice::Session,
        Suite::Full,
    )
    .await;
    let c = check(&o, "mcp.session.delete");
    assert_eq!(c.status, Status::Fail, "{c:#?}");
    assert!(c.message.contains("still answers"), "{}", c.message);
    let o = verify(
        "no-session-delete",
        EraSupport::Both,
        EraChoice::Stateless,
        Suite::Full,
    )
    .await;
    assert_eq!(check(&o, "mcp.session.delete").status, Status::Skip);
    let o = verify("", EraSupport::Both, EraChoice::Session, Suite::Full).await;
    assert_eq!(check(&o, "mcp.session.delete").status, Status::Pass);
}

#[tokio::test]
async fn a_hanging_tool_call_fails_within_the_time_limit() {
    let start = std::time::Instant::now();
    fault_fails("hang", "mcp.call.echo", "no answer within", Suite::Smoke).await;
    // Four calls per era, each bounded by the 2.5 s limit.
    assert!(
        start.elapsed() < Duration::from_secs(26),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn garbage_in_tools_list_fails_the_listing() {
    fault_fails("garbage", "mcp.tools.list", "tools/list", Suite::Smoke).await;
}

#[tokio::test]
async fn single_era_servers_are_detected() {
    let o = verify("", EraSupport::SessionOnly, EraChoice::Auto, Suite::Full).await;
    assert!(matches!(o.era, Era::Session { .. }), "{:?}", o.era);
    assert!(
        o.checks
            .iter()
            .all(|c| matches!(c.status, Status::Pass | Status::Skip)),
        "{:#?}",
        o.checks
    );
    let o = verify("", EraSupport::StatelessOnly, EraChoice::Auto, Suite::Full).await;
    assert!(matches!(o.era, Era::Stateless { .. }), "{:?}", o.era);
    // Asking a stateless-only server for the session era is a clean handshake failure.
    let o = verify(
        "",
        EraSupport::StatelessOnly,
        EraChoice::Session,
        Suite::Smoke,
    )
    .await;
    assert_eq!(check(&o, "mcp.handshake").status, Status::Fail);
}

#[tokio::test]
async fn a_listed_resource_that_cannot_be_read_is_caught() {
    fault_fails(
        "broken-resource-read",
        "mcp.resources.read",
        "runway://reference/readme",
        Suite::Full,
    )
    .await;
}

#[tokio::test]
async fn resource_templates_that_are_not_served_are_caught() {
    fault_fails(
        "broken-resource-templates",
        "mcp.resources.templates",
        "resources/templates/list",
        Suite::Full,
    )
    .await;
}

#[tokio::test]
async fn a_prompt_that_fails_with_its_declared_arguments_is_caught() {
    fault_fails(
        "broken-prompt-get",
        "mcp.prompts.get",
        "`status` with no arguments (it requires none)",
        Suite::Full,
    )
    .await;
}

#[tokio::test]
async fn a_mistyped_tool_annotation_is_caught() {
    fault_fails(
        "bad-annotations",
        "mcp.tools.annotations",
        "`echo`: `annotations.readOnlyHint` is a string",
        Suite::Full,
    )
    .await;
}

#[tokio::test]
async fn a_get_stream_in_the_stateless_era_is_caught() {
    let o = verify(
        "stateless-get-stream",
        EraSupport::Both,
        EraChoice::Stateless,
        Suite::Full,
    )
    .await;
    // A SHOULD of a stateless-only server: a warning in `full`.
    let c = check(&o, "mcp.stateless.get");
    assert_eq!(c.status, Status::Warn, "{c:#?}");
    assert!(c.message.contains("`GET` → 200"), "{}", c.message);
    assert_eq!(c.evidence.status, Some(200));
    // The session era has a GET stream: the check does not apply there.
    let o = verify(
        "stateless-get-stream",
        EraSupport::Both,
        EraChoice::Session,
        Suite::Full,
    )
    .await;
    assert_eq!(check(&o, "mcp.stateless.get").status, Status::Skip);
}
