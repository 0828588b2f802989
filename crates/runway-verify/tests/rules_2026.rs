//! The server rules of 2026-07-28 (and the session-era rules of #19), each
//! against the reference server: the good server passes (see
//! `mcp_checks.rs`), and the fault that breaks the rule fails its check, with
//! a hint, a message naming what is wrong, and the rule's section in
//! `details.spec`. The stdio half is in `crates/runway/tests/cli/verify_stdio.rs`.

use std::time::Duration;

use runway_core::{CheckResult, Era, Secret, Status};
use runway_reference::{EraSupport, Faults, Options};
use runway_verify::{
    Context, Suite, Transport,
    context::EraChoice,
    engine,
    http::Limits,
    mcp::{self, McpOutcome},
};

const TOKEN: &str = "reference-token-2026";

fn context(url: &str, era: EraChoice, suite: Suite) -> Context {
    let mut ctx = Context::new(
        Transport::Http {
            url: url.parse().unwrap(),
        },
        Some(Secret::new(TOKEN)),
        suite,
    );
    ctx.era = era;
    ctx.limits = Limits {
        timeout: Duration::from_millis(2500),
        max_body: 1 << 20,
    };
    ctx
}

async fn verify(faults: &str, era: EraChoice) -> McpOutcome {
    let server = runway_reference::spawn(Options {
        token: Some(TOKEN.into()),
        era: EraSupport::Both,
        faults: Faults::parse(faults).unwrap(),
        ..Options::default()
    })
    .await
    .unwrap();
    let mut ctx = context(&server.mcp_url, era, Suite::Conformance);
    // `confirm` asks for input (multi round-trip requests): the one request
    // through which Runway meets `mcp.mrtr.*` and `mcp.capability.required`.
    ctx.expect.calls = vec![confirm_call()];
    let o = mcp::run(&ctx).await;
    server.shutdown().await;
    o
}

fn confirm_call() -> runway_verify::SmokeCall {
    runway_verify::SmokeCall {
        tool: "confirm".into(),
        arguments: serde_json::json!({"action": "deploy"}),
        expect: Default::default(),
    }
}

fn check<'a>(o: &'a McpOutcome, id: &str) -> &'a CheckResult {
    o.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check `{id}` in {:#?}", o.checks))
}

/// `(fault, era, check, words of the message)`.
const CASES: &[(&str, EraChoice, &str, &str)] = &[
    (
        "ack-without-subscription-id",
        EraChoice::Stateless,
        "mcp.subscriptions.listen",
        "no `_meta` `io.modelcontextprotocol/subscriptionId`",
    ),
    (
        "no-server-info-meta",
        EraChoice::Stateless,
        "mcp.stateless.server_info",
        "serverInfo",
    ),
    (
        "no-result-type",
        EraChoice::Stateless,
        "mcp.stateless.result_type",
        "`resultType` is missing",
    ),
    (
        "no-cache-hints",
        EraChoice::Stateless,
        "mcp.stateless.cache",
        "`ttlMs` is missing",
    ),
    (
        "no-cache-hints",
        EraChoice::Stateless,
        "mcp.discover.result",
        "`cacheScope` is missing",
    ),
    (
        "bad-discover",
        EraChoice::Stateless,
        "mcp.discover.result",
        "`capabilities` is an array",
    ),
    (
        "header-mismatch-accepted",
        EraChoice::Stateless,
        "mcp.stateless.headers",
        "`Mcp-Method`",
    ),
    (
        "unsupported-version-accepted",
        EraChoice::Stateless,
        "mcp.stateless.version",
        "was served",
    ),
    (
        "meta-not-validated",
        EraChoice::Stateless,
        "mcp.stateless.meta",
        "clientCapabilities",
    ),
    (
        "unknown-method-400",
        EraChoice::Stateless,
        "mcp.errors.method_not_found",
        "HTTP 400",
    ),
    (
        "old-resource-not-found",
        EraChoice::Stateless,
        "mcp.resources.not_found",
        "-32002",
    ),
    (
        "unknown-tool-result",
        EraChoice::Stateless,
        "mcp.tools.unknown",
        "isError",
    ),
    (
        "unknown-tool-result",
        EraChoice::Session,
        "mcp.tools.unknown",
        "isError",
    ),
    (
        "session-id-echoed",
        EraChoice::Stateless,
        "mcp.stateless.session_id",
        "Mcp-Session-Id",
    ),
    (
        "stateless-delete-accepted",
        EraChoice::Stateless,
        "mcp.stateless.delete",
        "`DELETE` → 200",
    ),
    (
        "unknown-session-400",
        EraChoice::Session,
        "mcp.session.unknown",
        "HTTP 400, not 404",
    ),
    (
        "shuffled-tools",
        EraChoice::Stateless,
        "mcp.tools.order",
        "two listings differ",
    ),
    (
        "system-role-prompt",
        EraChoice::Stateless,
        "mcp.prompts.get",
        "`user` or `assistant`",
    ),
    (
        "system-role-prompt",
        EraChoice::Session,
        "mcp.prompts.get",
        "`user` or `assistant`",
    ),
    (
        "log-without-level",
        EraChoice::Stateless,
        "mcp.logging.silent",
        "`notifications/message`",
    ),
    (
        "mcp-name-base64-rejected",
        EraChoice::Stateless,
        "mcp.stateless.name_encoding",
        "refused as a header mismatch",
    ),
    (
        "missing-capability-wrong-code",
        EraChoice::Stateless,
        "mcp.capability.required",
        "not -32021",
    ),
    (
        "request-state-rejected",
        EraChoice::Stateless,
        "mcp.mrtr.retry",
        "`requestState` echoed exactly was refused",
    ),
    (
        "request-state-auth",
        EraChoice::Stateless,
        "mcp.mrtr.auth",
        "served without a token",
    ),
    (
        "tasks-capability-unchecked",
        EraChoice::Stateless,
        "mcp.tasks.capability",
        "not -32021",
    ),
    (
        "unknown-task-served",
        EraChoice::Stateless,
        "mcp.tasks.unknown",
        "answered a task",
    ),
];

#[tokio::test]
async fn each_fault_fails_the_rule_it_breaks_with_its_section() {
    let mut wrong = Vec::new();
    for (fault, era, id, needle) in CASES {
        let o = verify(fault, *era).await;
        let c = check(&o, id);
        let spec = c.evidence.details["spec"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let ok = c.status == Status::Fail
            && c.hint.is_some()
            && c.message.contains(needle)
            && (spec.starts_with("2026-07-28 ") || spec.starts_with("2025-11-25 "))
            && c.evidence.details["kind"] == "spec";
        if !ok {
            wrong.push(format!(
                "{fault} ({era:?}) {id}: {:?} `{}` spec `{spec}`",
                c.status, c.message
            ));
        }
        assert_eq!(check(&o, "mcp.handshake").status, Status::Pass, "{fault}");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn a_malformed_discover_result_names_the_field_and_the_handshake_still_works() {
    let o = verify("bad-discover", EraChoice::Stateless).await;
    assert!(matches!(o.era, Era::Stateless { .. }), "{:?}", o.era);
    let d = check(&o, "mcp.discover.result");
    assert!(
        d.message
            .contains("`capabilities` is an array, not an object"),
        "{}",
        d.message
    );
    assert!(
        d.evidence.details["spec"]
            .as_str()
            .unwrap()
            .contains("server/discover.mdx § DiscoverResult")
    );
    // The SDK's own failure points at the field instead of quoting rmcp.
    let sdk = check(&o, "mcp.sdk");
    if sdk.status == Status::Fail {
        assert!(
            sdk.message.contains("`mcp.discover.result`"),
            "{}",
            sdk.message
        );
    }
}

#[tokio::test]
async fn a_probe_that_kills_the_server_is_one_failure_and_the_rest_is_skipped() {
    let server = runway_reference::spawn(Options {
        token: Some(TOKEN.into()),
        faults: Faults::parse("crash-on-unknown-method").unwrap(),
        ..Options::default()
    })
    .await
    .unwrap();
    let report = engine::run(&context(&server.mcp_url, EraChoice::Auto, Suite::Full)).await;
    server.shutdown().await;
    let failed: Vec<&CheckResult> = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0].id, "mcp.crash");
    assert!(
        failed[0].message.contains("nothing listens on 127.0.0.1"),
        "{}",
        failed[0].message
    );
    let probe = failed[0].evidence.details["probe"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(check_report(&report, &probe).status, Status::Skip);
    // The groups after the MCP stage are skipped with the crash as reason.
    let auth = report.check("auth").expect("auth skipped as a group");
    assert!(auth.message.contains("crashed"), "{}", auth.message);
}

fn check_report<'a>(r: &'a runway_core::Report, id: &str) -> &'a CheckResult {
    r.check(id)
        .unwrap_or_else(|| panic!("no `{id}` in {:#?}", r.checks))
}

#[tokio::test]
async fn a_dual_era_server_is_not_held_to_the_stateless_only_rules_under_auto() {
    let server = runway_reference::spawn(Options {
        token: Some(TOKEN.into()),
        era: EraSupport::Both,
        faults: Faults::parse("stateless-delete-accepted").unwrap(),
        ..Options::default()
    })
    .await
    .unwrap();
    let o = mcp::run(&context(
        &server.mcp_url,
        EraChoice::Auto,
        Suite::Conformance,
    ))
    .await;
    server.shutdown().await;
    let d = check(&o, "mcp.stateless.delete");
    assert_eq!(d.status, Status::Pass, "{d:#?}");
    assert!(
        d.message.contains("not demanded of a dual-era server"),
        "{}",
        d.message
    );
}

#[tokio::test]
async fn a_stateless_only_server_refuses_initialize_naming_its_versions() {
    let server = runway_reference::spawn(Options {
        token: Some(TOKEN.into()),
        era: EraSupport::StatelessOnly,
        ..Options::default()
    })
    .await
    .unwrap();
    let o = mcp::run(&context(&server.mcp_url, EraChoice::Auto, Suite::Full)).await;
    server.shutdown().await;
    assert_eq!(check(&o, "mcp.handshake.session").status, Status::Skip);
    let i = check(&o, "mcp.stateless.initialize");
    assert!(matches!(i.status, Status::Pass | Status::Warn), "{i:#?}");
}

#[tokio::test]
async fn a_server_that_rate_limits_runway_draws_no_false_failure_and_no_era_verdict() {
    // An open server allowing 4 anonymous requests a second: Runway's own
    // traffic draws 429s (#19). They are retried once after `Retry-After`,
    // or reported as inconclusive; never a failure, never an era decision.
    let server = runway_reference::spawn(Options {
        token: None,
        anonymous_rate_limit: Some(runway_reference::RateLimit {
            requests: 4,
            window: Duration::from_secs(1),
        }),
        ..Options::default()
    })
    .await
    .unwrap();
    let mut ctx = context(&server.mcp_url, EraChoice::Auto, Suite::Full);
    ctx.token = None;
    ctx.load = None;
    ctx.toggles.disabled = vec!["load".into(), "ratelimit".into()];
    let report = engine::run(&ctx).await;
    server.shutdown().await;
    let wrong: Vec<String> = report
        .checks
        .iter()
        .filter(|c| matches!(c.status, Status::Fail | Status::Warn))
        .filter(|c| c.evidence.status == Some(429) || c.message.contains("429"))
        .map(|c| format!("{} {:?}: {}", c.id, c.status, c.message))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    if let Some(s) = report.check("mcp.handshake.session") {
        assert!(
            !s.message.contains("speaks only the stateless era"),
            "{}",
            s.message
        );
    }
}

#[tokio::test]
async fn a_tool_asking_for_input_the_client_never_declared_fails_its_smoke_call() {
    let server = runway_reference::spawn(Options {
        token: Some(TOKEN.into()),
        faults: Faults::parse("input-required-undeclared").unwrap(),
        ..Options::default()
    })
    .await
    .unwrap();
    let mut c = context(&server.mcp_url, EraChoice::Stateless, Suite::Smoke);
    c.expect.calls = vec![runway_verify::SmokeCall {
        tool: "echo".into(),
        arguments: serde_json::json!({"message": "hi"}),
        expect: Default::default(),
    }];
    let o = mcp::run(&c).await;
    server.shutdown().await;
    let call = check(&o, "mcp.call.echo");
    assert_eq!(call.status, Status::Fail, "{call:#?}");
    assert!(
        call.message.contains("asking for elicitation/create"),
        "{}",
        call.message
    );
    assert_eq!(call.evidence.details["kind"], "spec");
    assert!(
        call.evidence.details["spec"]
            .as_str()
            .unwrap()
            .contains("mrtr.mdx")
    );
}

#[tokio::test]
async fn nothing_that_asks_for_input_leaves_the_mrtr_and_capability_checks_not_applicable() {
    // No smoke call of `confirm`: the first resource and the argument-free
    // prompt ask for nothing, so no rule of multi round-trip requests or of
    // required client capabilities can be seen, and none is failed.
    let server = runway_reference::spawn(Options {
        token: Some(TOKEN.into()),
        ..Options::default()
    })
    .await
    .unwrap();
    let o = mcp::run(&context(
        &server.mcp_url,
        EraChoice::Stateless,
        Suite::Conformance,
    ))
    .await;
    server.shutdown().await;
    for id in [
        "mcp.mrtr.input_required",
        "mcp.mrtr.retry",
        "mcp.mrtr.auth",
        "mcp.capability.required",
    ] {
        let c = check(&o, id);
        assert_eq!(c.status, Status::Skip, "{c:#?}");
        assert!(c.message.contains("asked for input"), "{}", c.message);
    }
    // The Tasks extension is declared, so its checks run all the same.
    assert_eq!(check(&o, "mcp.tasks.unknown").status, Status::Pass);
    // The Base64 `Mcp-Name` goes on `resources/read` of the first resource.
    let n = check(&o, "mcp.stateless.name_encoding");
    assert_eq!(n.status, Status::Pass, "{n:#?}");
    assert!(n.message.contains("resources/read"), "{}", n.message);
}

#[tokio::test]
async fn a_smoke_call_of_a_tool_that_needs_elicitation_is_skipped_naming_it() {
    let server = runway_reference::spawn(Options {
        token: Some(TOKEN.into()),
        ..Options::default()
    })
    .await
    .unwrap();
    let mut c = context(&server.mcp_url, EraChoice::Stateless, Suite::Smoke);
    c.expect.calls = vec![confirm_call()];
    let o = mcp::run(&c).await;
    server.shutdown().await;
    // `confirm` refuses a client without `elicitation` with -32021: the smoke
    // call cannot complete it and says why, without failing the server.
    let call = check(&o, "mcp.call.confirm");
    assert_eq!(call.status, Status::Skip, "{call:#?}");
    assert!(call.message.contains("`elicitation`"), "{}", call.message);
}

#[tokio::test]
async fn a_task_handed_to_a_smoke_call_that_declared_nothing_fails_it() {
    let server = runway_reference::spawn(Options {
        token: Some(TOKEN.into()),
        faults: Faults::parse("task-undeclared").unwrap(),
        ..Options::default()
    })
    .await
    .unwrap();
    let mut c = context(&server.mcp_url, EraChoice::Stateless, Suite::Smoke);
    c.expect.calls = vec![runway_verify::SmokeCall {
        tool: "echo".into(),
        arguments: serde_json::json!({"message": "hi"}),
        expect: Default::default(),
    }];
    let o = mcp::run(&c).await;
    server.shutdown().await;
    let call = check(&o, "mcp.call.echo");
    assert_eq!(call.status, Status::Fail, "{call:#?}");
    assert!(call.message.contains("answered a task"), "{}", call.message);
    assert_eq!(call.evidence.details["kind"], "spec");
    assert!(
        call.evidence.details["spec"]
            .as_str()
            .unwrap()
            .contains("tasks.md § Capability Negotiation")
    );
}

#[tokio::test]
async fn a_wrong_code_for_a_missing_capability_only_warns_outside_conformance() {
    // Whether the error came from the missing capability is inferred (the
    // declaring request was asked for input), so in `full` it is a warning
    // naming the section, never a failure.
    let server = runway_reference::spawn(Options {
        token: Some(TOKEN.into()),
        faults: Faults::parse("missing-capability-wrong-code").unwrap(),
        ..Options::default()
    })
    .await
    .unwrap();
    let mut c = context(&server.mcp_url, EraChoice::Stateless, Suite::Full);
    c.expect.calls = vec![confirm_call()];
    let o = mcp::run(&c).await;
    server.shutdown().await;
    let r = check(&o, "mcp.capability.required");
    assert_eq!(r.status, Status::Warn, "{r:#?}");
    assert!(r.hint.is_some());
    assert!(
        r.evidence.details["spec"]
            .as_str()
            .unwrap()
            .contains("MissingRequiredClientCapabilityError"),
        "{r:#?}"
    );
}
