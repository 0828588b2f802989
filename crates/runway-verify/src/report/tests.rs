//! Every renderer on a real report from a real run, and the JSON output
//! against the published schema.

use runway_core::{Report, Secret, Status};

use super::{Format, github, human, junit, render};
use crate::{context::Suite, engine, testkit};

async fn real_report() -> Report {
    let s = testkit::spawn(testkit::Fake {
        security_headers: false,
        query_token_ok: true,
        ..testkit::Fake::default()
    })
    .await;
    let mut ctx = s.context(Suite::Full);
    ctx.load = Some(crate::LoadSettings {
        requests: Some(10),
        ..crate::LoadSettings::default()
    });
    engine::run(&ctx).await
}

fn schema() -> serde_json::Value {
    let text = include_str!("../../../../docs/report.schema.json");
    serde_json::from_str(text).expect("docs/report.schema.json is JSON")
}

#[tokio::test]
async fn json_output_validates_against_the_published_schema() {
    let report = real_report().await;
    assert!(report.summary.failed > 0 && report.summary.passed > 0);
    let out = render(&report, Format::Json, false, &Default::default());
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    let v = jsonschema::validator_for(&schema()).unwrap();
    let errors: Vec<String> = v.iter_errors(&value).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // And the schema is not vacuous: a broken report is rejected.
    let mut broken = value.clone();
    broken["checks"][0]["status"] = "maybe".into();
    assert!(!v.is_valid(&broken));
    let mut no_hint = value;
    let i = report
        .checks
        .iter()
        .position(|c| c.status == Status::Fail)
        .unwrap();
    no_hint["checks"][i].as_object_mut().unwrap().remove("hint");
    assert!(!v.is_valid(&no_hint));
}

#[tokio::test]
async fn human_output_groups_checks_hints_failures_and_obeys_color() {
    let report = real_report().await;
    let plain = human::render(&report, false);
    assert!(!plain.contains('\x1b'));
    assert!(plain.contains("\nauth\n") && plain.contains("\nheaders\n"));
    assert!(plain.contains("FAIL auth.query_token"), "{plain}");
    assert!(plain.contains("hint: accept tokens only"));
    // The unit-test fake runs without the MCP stage, so the era is whatever the
    // engine found; the header must say it either way.
    assert!(
        plain.contains(&format!("era {}", report.era.label())),
        "{plain}"
    );
    assert!(plain.lines().last().unwrap().starts_with("FAILED: "));
    let coloured = human::render(&report, true);
    assert!(coloured.contains("\x1b[31;1mFAIL\x1b[0m"));
}

#[tokio::test]
async fn junit_has_one_case_per_check_and_failures_carry_hint_and_evidence() {
    let report = real_report().await;
    let xml = junit::render(&report);
    assert_eq!(xml.matches("<testcase ").count(), report.checks.len());
    assert_eq!(xml.matches("<failure").count(), report.summary.failed);
    assert!(xml.contains("name=\"auth.query_token\""));
    assert!(xml.contains("hint: accept tokens only"));
    assert!(xml.contains("saw: POST http://127.0.0.1:"));
}

#[tokio::test]
async fn github_output_annotates_failures_and_summarises_in_markdown() {
    let report = real_report().await;
    let ann = github::annotations(&report);
    let errors = ann.lines().filter(|l| l.starts_with("::error ")).count();
    assert_eq!(errors, report.summary.failed);
    assert!(ann.contains("::error title=runway auth.query_token::"));
    // Multi-line messages are escaped onto one line.
    assert!(
        ann.lines()
            .filter(|l| l.starts_with("::"))
            .all(|l| l.contains("%0Ahint%3A") || l.contains("%0Ahint: "))
    );
    let md = github::step_summary(&report);
    assert!(md.starts_with("### ❌ runway verify"));
    assert_eq!(md.matches("\n| ").count(), report.checks.len() + 1);
}

#[test]
fn renderers_redact_a_secret_that_reached_a_report() {
    let mut r = runway_core::Redactor::new();
    r.add(&Secret::new("sekret-value-42"));
    let report = Report::new(
        "http://x/mcp",
        runway_core::Era::Unknown,
        "smoke",
        chrono::Utc::now(),
        1.0,
        vec![runway_core::CheckResult::fail(
            "auth.x",
            "echoed sekret-value-42",
            "h\nsekret-value-42",
        )],
    );
    for f in [Format::Human, Format::Json, Format::Junit, Format::Github] {
        assert!(
            !render(&report, f, false, &r).contains("sekret-value-42"),
            "{f:?}"
        );
    }
}

#[tokio::test]
async fn the_human_report_escapes_what_a_server_said() {
    let mut report = real_report().await;
    // A hostile server's words in a check's message, hint and evidence.
    let c = report
        .checks
        .iter_mut()
        .find(|c| c.status == Status::Fail)
        .unwrap();
    c.message = "tool `x\u{1b}[2J\nFAKE PASS`".to_owned();
    c.hint = Some("call\rhome\u{202e}".to_owned());
    c.evidence.request = Some("POST /mcp\u{1b}]0;title\u{7}".to_owned());
    let out = human::render(&report, false);
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(!out.contains('\r'), "{out}");
    assert!(!out.contains('\u{202e}'), "{out}");
    assert!(out.contains("tool `x\\u{1b}[2J\\nFAKE PASS`"), "{out}");
    assert!(!out.lines().any(|l| l.starts_with("FAKE PASS")), "{out}");
}

#[tokio::test]
async fn every_problem_says_whether_it_is_a_spec_rule_a_policy_or_an_expectation() {
    let report = real_report().await;
    let out = human::render(&report, false);
    // The fake sends no security headers: a policy, with how to turn it off.
    assert!(
        out.contains("rule: Runway policy (off with `policies = false`"),
        "{out}"
    );
    for c in &report.checks {
        let kind = c.evidence.details["kind"].as_str().unwrap_or_default();
        assert!(
            ["spec", "policy", "expectation"].contains(&kind),
            "{} has no kind: {:?}",
            c.id,
            c.evidence.details
        );
    }
}
