use std::path::Path;

use runway_config::Config;

use super::*;

fn window_config(text: &str) -> WindowConfig {
    let c = Config::parse(
        &format!("[environments.p.window]\n{text}"),
        Path::new("runway.toml"),
    )
    .unwrap();
    c.environments["p"].window.clone().unwrap()
}

fn at(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

fn open_p1() -> Emergency {
    Emergency {
        incident: "inc-1".into(),
        facts: Some(IncidentFacts {
            severity: Severity::P1,
            open: true,
        }),
    }
}

#[test]
fn the_tabcorp_defaults_allow_tuesday_and_wednesday_daytime_only() {
    let w = window_config("");
    // 2026-12-01 is a Tuesday.
    let v = window(Some(&w), at("2026-12-01T10:00:00Z"), None, &[], "op");
    assert_eq!(v.status, GateStatus::Pass, "{}", v.detail);
    assert!(v.detail.contains("Tue 10:00-16:00"), "{}", v.detail);
    let v = window(Some(&w), at("2026-12-02T15:59:00Z"), None, &[], "op");
    assert_eq!(v.status, GateStatus::Pass);
    for (t, why) in [
        ("2026-12-01T16:00:00Z", "outside"),
        ("2026-12-01T09:59:00Z", "outside"),
        ("2026-12-03T12:00:00Z", "outside"), // Thursday
        ("2026-12-04T12:00:00Z", "blocked"), // Friday
        ("2026-12-05T12:00:00Z", "blocked"), // Saturday
        ("2026-12-06T12:00:00Z", "blocked"), // Sunday
    ] {
        let v = window(Some(&w), at(t), None, &[], "op");
        assert_eq!(v.status, GateStatus::Refuse, "{t}");
        assert!(v.detail.contains(why), "{t}: {}", v.detail);
        assert!(v.hint.as_ref().unwrap().contains("--emergency"));
    }
}

#[test]
fn freeze_dates_refuse_even_inside_the_window() {
    let w = window_config("freeze = [\"2026-12-22..2026-12-23\"]\n");
    let v = window(Some(&w), at("2026-12-22T11:00:00Z"), None, &[], "op");
    assert_eq!(v.status, GateStatus::Refuse);
    assert!(
        v.detail.contains("freeze `2026-12-22..2026-12-23`"),
        "{}",
        v.detail
    );
    let v = window(Some(&w), at("2026-12-29T11:00:00Z"), None, &[], "op");
    assert_eq!(v.status, GateStatus::Pass);
}

#[test]
fn the_window_is_judged_in_its_time_zone() {
    let w = window_config(
        "timezone = \"Australia/Sydney\"\nallow = [\"Tue 10:00-16:00\"]\nblock = []\n",
    );
    // Tuesday 10:30 in Sydney (UTC+11 in December) is Monday 23:30 UTC.
    let v = window(Some(&w), at("2026-11-30T23:30:00Z"), None, &[], "op");
    assert_eq!(v.status, GateStatus::Pass, "{}", v.detail);
    assert!(v.detail.contains("Australia/Sydney"));
    let v = window(Some(&w), at("2026-12-01T10:30:00Z"), None, &[], "op");
    assert_eq!(v.status, GateStatus::Refuse, "{}", v.detail);
}

#[test]
fn outside_can_warn_instead_of_refusing_but_blocks_still_refuse() {
    let w = window_config("outside = \"warn\"\n");
    let v = window(Some(&w), at("2026-12-03T12:00:00Z"), None, &[], "op");
    assert_eq!(v.status, GateStatus::Warn);
    let v = window(Some(&w), at("2026-12-04T12:00:00Z"), None, &[], "op");
    assert_eq!(v.status, GateStatus::Refuse);
}

#[test]
fn no_window_table_means_no_window() {
    let v = window(None, at("2026-12-04T12:00:00Z"), None, &[], "op");
    assert_eq!(v.status, GateStatus::Skipped);
}

#[test]
fn an_emergency_overrides_only_for_an_open_p0_or_p1_with_an_approver() {
    let w = window_config("");
    let friday = at("2026-12-04T12:00:00Z");
    let bob = vec!["bob".to_string()];
    let v = window(Some(&w), friday, Some(&open_p1()), &bob, "alice");
    assert_eq!(v.status, GateStatus::Overridden, "{}", v.detail);
    assert!(v.detail.contains("approved by bob"), "{}", v.detail);
    assert!(v.detail.contains("P1 incident `inc-1`"), "{}", v.detail);

    let refuses = |e: Emergency, approvers: &[String], needle: &str| {
        let v = window(Some(&w), friday, Some(&e), approvers, "alice");
        assert_eq!(v.status, GateStatus::Refuse, "{}", v.detail);
        assert!(v.detail.contains(needle), "{}", v.detail);
    };
    refuses(open_p1(), &[], "--approver");
    refuses(open_p1(), &["Alice".to_string()], "--approver");
    let mut p2 = open_p1();
    p2.facts.as_mut().unwrap().severity = Severity::P2;
    refuses(p2, &bob, "only a P0 or P1");
    let mut closed = open_p1();
    closed.facts.as_mut().unwrap().open = false;
    refuses(closed, &bob, "not open");
    refuses(
        Emergency {
            incident: "inc-x".into(),
            facts: None,
        },
        &bob,
        "no incident `inc-x`",
    );
}

fn gates(text: &str) -> GatesConfig {
    let c = Config::parse(
        &format!("[environments.p.gates]\n{text}"),
        Path::new("runway.toml"),
    )
    .unwrap();
    c.environments["p"].gates.clone().unwrap()
}

#[test]
fn approvals_need_distinct_people_other_than_the_operator() {
    let g = gates("approvals = 2\n");
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let v = approvals(Some(&g), &names(&["bob", "carol"]), "alice");
    assert_eq!(v.status, GateStatus::Pass, "{}", v.detail);
    let v = approvals(Some(&g), &names(&["bob", "BOB"]), "alice");
    assert_eq!(v.status, GateStatus::Refuse, "{}", v.detail);
    assert!(v.detail.contains("1 of 2"), "{}", v.detail);
    let v = approvals(Some(&g), &names(&["bob", "alice"]), "alice");
    assert_eq!(v.status, GateStatus::Refuse);
    assert!(v.detail.contains("alice is the operator"), "{}", v.detail);
    let g = gates("approvals = 1\napprovers = [\"bob\"]\n");
    let v = approvals(Some(&g), &names(&["mallory"]), "alice");
    assert_eq!(v.status, GateStatus::Refuse);
    assert!(
        v.detail.contains("not in `gates.approvers`"),
        "{}",
        v.detail
    );
    assert_eq!(approvals(None, &[], "alice").status, GateStatus::Skipped);
}

#[test]
fn required_env_and_secret_files_name_what_is_missing_never_values() {
    let g = gates(
        "required_env = [\"A_TOKEN\", \"B_URL\"]\nsecret_files = [\"s/key.pem\", \"s/ca.pem\"]\n",
    );
    let v = required_env(Some(&g), |n| n == "A_TOKEN");
    assert_eq!(v.status, GateStatus::Refuse);
    assert_eq!(v.detail, "not set: B_URL");
    assert_eq!(required_env(Some(&g), |_| true).status, GateStatus::Pass);
    let v = secret_files(Some(&g), |f| {
        if f == "s/ca.pem" {
            Err("not found".into())
        } else {
            Ok(())
        }
    });
    assert_eq!(v.status, GateStatus::Refuse);
    assert_eq!(v.detail, "missing: s/ca.pem (not found)");
    assert_eq!(secret_files(Some(&g), |_| Ok(())).status, GateStatus::Pass);
    assert_eq!(required_env(None, |_| false).status, GateStatus::Skipped);
}

#[test]
fn the_rollback_artifact_and_release_check_verdicts() {
    let ok = ArtifactCheck {
        ok: true,
        what: "previous command `x` is runnable".into(),
        hint: None,
    };
    let bad = ArtifactCheck {
        ok: false,
        what: "image sha256:aa is gone".into(),
        hint: Some("pull it".into()),
    };
    assert_eq!(rollback_artifact(None, None).status, GateStatus::Warn);
    assert_eq!(
        rollback_artifact(Some("1.0.0"), Some(&ok)).status,
        GateStatus::Pass
    );
    let v = rollback_artifact(Some("1.0.0"), Some(&bad));
    assert_eq!(v.status, GateStatus::Refuse);
    assert_eq!(v.hint.as_deref(), Some("pull it"));

    assert_eq!(
        release_check(None, "1.0.0", Some(&[])).status,
        GateStatus::Pass
    );
    let p = vec![ReleaseProblem::from("no tag `v1.0.0`")];
    let v = release_check(None, "1.0.0", Some(&p));
    assert_eq!(v.status, GateStatus::Refuse);
    assert!(v.detail.contains("no tag `v1.0.0`"));
    assert!(v.hint.as_deref().unwrap().contains("release 1.0.0 first"));
    // A row that knows its cause names it, and the generic advice is left out.
    let stale = vec![ReleaseProblem {
        detail: "`uv.lock` says 2.12.0, the files 2.13.0".into(),
        hints: vec!["run `uv lock` and commit it".into()],
        warning: false,
    }];
    let v = release_check(None, "2.13.0", Some(&stale));
    assert_eq!(v.hint.as_deref(), Some("run `uv lock` and commit it"));
    // A warning row only (a lock file not refreshed at the tag): the
    // release is real, the gate warns and says why, never "agree".
    let warned = vec![ReleaseProblem {
        detail: "at `v2.13.0`, uv.lock says 2.11.0 (a stale lock file)".into(),
        hints: vec!["run `uv lock` and commit `uv.lock`".into()],
        warning: true,
    }];
    let w = release_check(None, "2.13.0", Some(&warned));
    assert_eq!(w.status, GateStatus::Warn, "{w:?}");
    assert!(w.detail.contains("uv.lock says 2.11.0"), "{}", w.detail);
    assert!(!w.detail.contains("agree"), "{}", w.detail);
    assert!(!refused(std::slice::from_ref(&w)));
    // Beside a failure, a warning row does not soften the refusal.
    let both = vec![warned[0].clone(), p[0].clone()];
    let r = release_check(None, "2.13.0", Some(&both));
    assert_eq!(r.status, GateStatus::Refuse);
    assert!(!r.detail.contains("uv.lock"), "{}", r.detail);
    let off = gates("release_check = false\n");
    assert_eq!(
        release_check(Some(&off), "1.0.0", Some(&p)).status,
        GateStatus::Skipped
    );
    assert!(refused(&[v]));
}
