//! JUnit XML for CI test tabs: one test suite per check group, one test case
//! per check; a failure carries the hint and the evidence.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report as Junit, TestCase, TestCaseStatus, TestSuite};
use runway_core::{Report, Status};

use super::{evidence_line, grouped};

fn describe(c: &runway_core::CheckResult) -> String {
    let mut d = c.message.clone();
    if let Some(h) = &c.hint {
        d.push_str("\nhint: ");
        d.push_str(h);
    }
    if let Some(e) = evidence_line(&c.evidence) {
        d.push_str("\nsaw: ");
        d.push_str(&e);
    }
    if let Some(b) = &c.evidence.body_excerpt {
        d.push_str("\nbody: ");
        d.push_str(b);
    }
    if !c.evidence.details.is_null() {
        d.push_str("\ndetails: ");
        d.push_str(&c.evidence.details.to_string());
    }
    d
}

/// Strips characters XML 1.0 cannot carry (servers send anything).
fn xml_safe(s: &str) -> String {
    s.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
        })
        .collect()
}

pub fn render(report: &Report) -> String {
    let mut junit = Junit::new("runway verify");
    junit.set_time(Duration::from_secs_f64(
        report.duration_ms.max(0.0) / 1000.0,
    ));
    for (group, checks) in grouped(&report.checks) {
        let mut suite = TestSuite::new(group);
        for c in checks {
            let status = match c.status {
                Status::Pass => TestCaseStatus::success(),
                Status::Skip => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(xml_safe(&c.message));
                    s
                }
                Status::Fail => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(xml_safe(&c.message));
                    s.set_type("check failed");
                    s.set_description(xml_safe(&describe(c)));
                    s
                }
                // A warning does not fail the run: a passing case that says why in its output.
                Status::Warn => TestCaseStatus::success(),
            };
            let mut case = TestCase::new(c.id.clone(), status);
            case.set_classname(format!("runway.{group}"));
            case.set_time(Duration::from_secs_f64(c.duration_ms.max(0.0) / 1000.0));
            if c.status == Status::Warn {
                case.set_system_out(xml_safe(&format!("warning: {}", describe(c))));
            }
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .unwrap_or_else(|e| format!("<!-- the JUnit report could not be written: {e} -->\n"))
}
