//! Bumps across several files, checks before bumping, gates and checks at a tag.

use super::*;

#[test]
fn a_cargo_and_npm_project_bumps_every_file_in_one_commit() {
    let r = Repo::new();
    r.write(
        "Cargo.toml",
        "[package]\nname = \"srv\"\nversion = \"2.1.0\" # the version\nedition = \"2021\"\n",
    );
    r.write(
        "Cargo.lock",
        "# generated\nversion = 4\n\n[[package]]\nname = \"srv\"\nversion = \"2.1.0\"\n",
    );
    r.write(
        "package.json",
        "{\n  \"name\": \"srv\",\n  \"version\": \"2.1.0\"\n}\n",
    );
    r.write("package-lock.json", "{\n  \"name\": \"srv\",\n  \"version\": \"2.1.0\",\n  \"packages\": {\n    \"\": {\n      \"version\": \"2.1.0\"\n    }\n  }\n}\n");
    r.commit("feat: first");
    r.tag("v2.1.0");
    r.commit("perf: faster listing");
    let BumpResult::Bumped(b) = plan::bump(
        r.path(),
        &cfg(),
        &Requested::Auto,
        &PlanOptions::default(),
        &opts(),
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(b.to, "2.1.1");
    assert_eq!(b.changes.len(), 5);
    assert!(
        r.read("Cargo.toml")
            .contains("version = \"2.1.1\" # the version")
    );
    assert!(r.read("Cargo.lock").starts_with("# generated\n"));
    assert_eq!(r.read("package-lock.json").matches("2.1.1").count(), 2);
    let files = r.git(&["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(files.lines().count(), 5, "{files}");
}

#[test]
fn check_before_bumping_says_the_files_version_is_already_released() {
    let r = project_at_1_0_0();
    r.commit("fix: not released yet");
    let rows = plan::check(
        r.path(),
        &cfg(),
        &PlanOptions::default(),
        &CheckOptions::default(),
    )
    .unwrap();
    let row = rows.iter().find(|r| r.name == "tag target").unwrap();
    assert_eq!(row.status, RowStatus::Fail);
    assert!(
        row.hints[0].contains("already released as `v1.0.0`")
            && row.hints[0].contains("runway release bump auto"),
        "{:?}",
        row.hints
    );
}

#[test]
fn gate_output_hides_secret_values_and_url_credentials() {
    let r = project_at_1_0_0();
    let mut c = cfg();
    c.gates.push(runway_config::release::GateConfig {
        name: "publish".into(),
        // PATH is never a secret; HOME neither: only names that look like secrets are hidden.
        run: "echo \"token=$RUNWAY_TEST_GATE_TOKEN url=https://bot:hunter22@pypi.example/simple home=$HOME\"; exit 1".into(),
        timeout_secs: 30,
    });
    // The variable is set for the child only, through the command itself.
    c.gates[0].run = format!(
        "RUNWAY_TEST_GATE_TOKEN=s3cr3t-value; export RUNWAY_TEST_GATE_TOKEN; {}",
        c.gates[0].run
    );
    let rows = plan::check(
        r.path(),
        &c,
        &PlanOptions::default(),
        &CheckOptions {
            tag: None,
            run_gates: true,
        },
    )
    .unwrap();
    let gate = rows.iter().find(|r| r.name == "gate: publish").unwrap();
    assert!(
        gate.detail
            .contains("url=https://[redacted]@pypi.example/simple"),
        "{}",
        gate.detail
    );
    assert!(!gate.detail.contains("hunter22"), "{}", gate.detail);
}

#[test]
fn redaction_keeps_ordinary_values_and_hides_url_credentials() {
    let path = std::env::var("PATH").unwrap();
    assert!(runway_release::redact::redact_output(&path).contains(&path[..path.len().min(4)]));
    let text = "https://user:pw@github.com/o/r.git";
    assert_eq!(
        runway_release::redact::redact_output(text),
        "https://[redacted]@github.com/o/r.git"
    );
}

#[test]
fn check_at_tag_judges_the_tree_at_the_tag_not_the_working_tree() {
    let r = project_at_1_0_0();
    // The working tree has moved on (and is dirty): 1.0.0 is still deployable.
    r.pyproject("1.1.0-dev");
    let rows = plan::check_at_tag(r.path(), &cfg(), "1.0.0").unwrap();
    assert!(
        rows.iter().all(|row| row.status == RowStatus::Pass),
        "{rows:#?}"
    );
    assert_eq!(rows.len(), 3);

    // No tag at all.
    let rows = plan::check_at_tag(r.path(), &cfg(), "2.0.0").unwrap();
    assert_eq!(rows[0].status, RowStatus::Fail);
    assert!(rows[0].detail.contains("no tag `v2.0.0`"), "{rows:#?}");

    // A tag on a commit whose files and changelog were not bumped.
    r.pyproject("1.0.0");
    r.commit("chore: nothing");
    r.tag("v1.2.0");
    let rows = plan::check_at_tag(r.path(), &cfg(), "1.2.0").unwrap();
    let failed: Vec<&str> = rows
        .iter()
        .filter(|row| row.status == RowStatus::Fail)
        .map(|row| row.name.as_str())
        .collect();
    assert_eq!(
        failed,
        ["version files at tag", "changelog at tag"],
        "{rows:#?}"
    );
    assert!(rows[1].detail.contains("says 1.0.0"), "{rows:#?}");
}
