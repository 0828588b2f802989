//! `runway release ...` through the real binary: exit codes, stdout/stderr split, messages.

use crate::release_support;

use release_support::{git, repo, runway, text};

fn project() -> tempfile::TempDir {
    let d = repo();
    let p = d.path();
    std::fs::write(
        p.join("pyproject.toml"),
        "[project]\nname = \"hangar\"\nversion = \"1.2.0\"  # keep\n",
    )
    .unwrap();
    std::fs::write(
        p.join("CHANGELOG.md"),
        "# Changelog\n\n## [1.2.0] - 2026-01-01\n\n- first\n",
    )
    .unwrap();
    git(p, &["add", "-A"]);
    git(p, &["commit", "-q", "-m", "feat: first"]);
    git(p, &["tag", "-a", "v1.2.0", "-m", "v1.2.0"]);
    d
}

#[test]
fn check_with_a_mismatched_tag_from_github_ref_exits_1_with_the_seed_message() {
    let d = project();
    let out = runway(
        d.path(),
        &["release", "check", "--no-gates"],
        &[("GITHUB_REF", "refs/tags/v1.2.1")],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error: Version mismatch! pyproject.toml: 1.2.0, Git tag: 1.2.1\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: either update `pyproject.toml`"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: or delete the tag"), "{stderr}");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("tag matches version") && stdout.contains("FAIL"),
        "{stdout}"
    );

    let ok = runway(
        d.path(),
        &[
            "release",
            "check",
            "--no-gates",
            "--tag",
            "v1.2.0",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stdout));
    let v: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(v["passed"], true);
}

#[test]
fn a_failing_gate_makes_check_exit_1_and_shows_in_the_table() {
    let d = project();
    std::fs::write(
        d.path().join("runway.toml"),
        "[release]\n\n[[release.gates]]\nname = \"unit tests\"\nrun = \"exit 3\"\n\n[[release.gates]]\nname = \"lint\"\nrun = \"true\"\n",
    )
    .unwrap();
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "chore: config"]);
    let out = runway(d.path(), &["release", "check"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let gate_line = stdout
        .lines()
        .find(|l| l.contains("gate: unit tests"))
        .unwrap();
    assert!(
        gate_line.contains("FAIL") && gate_line.contains("code 3"),
        "{stdout}"
    );
    let lint = stdout.lines().find(|l| l.contains("gate: lint")).unwrap();
    assert!(lint.contains("pass"), "{stdout}");
}

#[test]
fn bump_dry_run_prints_the_diff_and_changes_nothing() {
    let d = project();
    std::fs::write(d.path().join("x.txt"), "x").unwrap();
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "fix: x"]);
    let out = runway(
        d.path(),
        &["release", "bump", "auto", "--dry-run"],
        &[("SOURCE_DATE_EPOCH", "1768176000")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("-version = \"1.2.0\"  # keep\n+version = \"1.2.1\"  # keep\n"),
        "{stdout}"
    );
    assert!(stdout.contains("+## [1.2.1] - 2026-01-12\n"), "{stdout}");
    assert!(text(&out.stderr).contains("nothing was written"));
    assert!(
        std::fs::read_to_string(d.path().join("pyproject.toml"))
            .unwrap()
            .contains("1.2.0")
    );
}

#[test]
fn bump_writes_commits_tags_and_prints_the_push_command_on_stdout() {
    let d = project();
    std::fs::write(d.path().join("x.txt"), "x").unwrap();
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "feat: x"]);
    let out = runway(d.path(), &["release", "bump", "auto"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "git push --atomic origin main v1.3.0\n");
    assert!(
        std::fs::read_to_string(d.path().join("pyproject.toml"))
            .unwrap()
            .contains("version = \"1.3.0\"  # keep")
    );
    let again = runway(d.path(), &["release", "bump", "auto"], &[]);
    assert_eq!(again.status.code(), Some(0));
    assert!(
        text(&again.stderr).contains("nothing to release"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn status_json_names_files_tag_next_version_and_decider() {
    let d = project();
    std::fs::write(d.path().join("x.txt"), "x").unwrap();
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "fix(api): y"]);
    let out = runway(d.path(), &["release", "status", "--format", "json"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"][0]["path"], "pyproject.toml");
    assert_eq!(v["files"][0]["locations"][0]["line"], 3);
    assert_eq!(v["files_agree"], true);
    assert_eq!(v["last_tag"]["name"], "v1.2.0");
    assert_eq!(v["next"], "1.2.1");
    assert_eq!(v["next_tag"], "v1.2.1");
    assert!(v["decided_by"].as_str().unwrap().ends_with("fix(api): y"));
    assert_eq!(v["groups"][0]["type"], "fix");
    assert_eq!(v["changelog_has_next"], false);
    let human = runway(d.path(), &["release", "status"], &[]);
    let stdout = text(&human.stdout);
    assert!(
        stdout.contains("next version:  1.2.1 (patch), decided by"),
        "{stdout}"
    );
}

#[test]
fn a_malformed_version_file_exits_2_naming_file_and_line() {
    let d = project();
    std::fs::write(
        d.path().join("pyproject.toml"),
        "[project]\nname = \"hangar\"\nversion = 1.2.0\n",
    )
    .unwrap();
    let out = runway(d.path(), &["release", "status"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("pyproject.toml:3:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_dirty_tree_exits_2_with_a_hint() {
    let d = project();
    std::fs::write(d.path().join("wip.txt"), "x").unwrap();
    let out = runway(d.path(), &["release", "bump", "patch"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("`wip.txt`") && stderr.contains("hint: commit or stash"),
        "{stderr}"
    );
}

#[test]
fn bump_needs_a_level_or_a_version() {
    let d = project();
    let out = runway(d.path(), &["release", "bump"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let out = runway(
        d.path(),
        &["release", "bump", "--version", "1.2.0", "--no-git"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not greater than"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn changelog_prints_the_entry_and_write_prepends_it_once() {
    let d = project();
    std::fs::write(d.path().join("x.txt"), "x").unwrap();
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "feat(tools): fetch"]);
    let env = [("SOURCE_DATE_EPOCH", "1768176000")];
    let out = runway(d.path(), &["release", "changelog"], &env);
    let entry = text(&out.stdout);
    assert!(
        entry.starts_with("## [1.3.0] - 2026-01-12\n\n### Features\n\n- **tools:** fetch ("),
        "{entry}"
    );
    let out = runway(d.path(), &["release", "changelog", "--write"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let log = std::fs::read_to_string(d.path().join("CHANGELOG.md")).unwrap();
    assert_eq!(
        log,
        format!("# Changelog\n\n{entry}\n## [1.2.0] - 2026-01-01\n\n- first\n")
    );
    let again = runway(d.path(), &["release", "changelog", "--write"], &env);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("already has an entry for `1.3.0`"));
}

#[test]
fn gate_output_never_shows_a_secret_from_the_environment() {
    let d = project();
    std::fs::write(
        d.path().join("runway.toml"),
        "[release]\n\n[[release.gates]]\nname = \"publish\"\nrun = \"echo uploading with $PYPI_API_TOKEN; exit 1\"\n",
    )
    .unwrap();
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "chore: config"]);
    let out = runway(
        d.path(),
        &["release", "check", "--format", "json"],
        &[("PYPI_API_TOKEN", "pypi-AgEIcHlwaS5vcmc")],
    );
    assert_eq!(out.status.code(), Some(1));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!all.contains("pypi-AgEIcHlwaS5vcmc"), "{all}");
    assert!(all.contains("uploading with [redacted]"), "{all}");
}

#[test]
fn a_commit_subject_with_terminal_escapes_is_shown_escaped() {
    let d = project();
    let p = d.path();
    std::fs::write(p.join("a.txt"), "x").unwrap();
    git(p, &["add", "-A"]);
    git(
        p,
        &[
            "commit",
            "-q",
            "-m",
            "feat: evil \u{1b}[2J\u{1b}]0;pwned\u{7} subject",
        ],
    );
    let out = runway(p, &["release", "status"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(all.contains("decided by"), "{all}");
    assert!(!all.contains('\u{1b}'), "{all:?}");
    assert!(!all.contains('\u{7}'), "{all:?}");
    assert!(all.contains("evil \\u{1b}[2J"), "{all}");
}

/// `project()` with a `server.json` for the MCP Registry (and the README
/// line that proves the PyPI package is this server's), committed.
fn registry_project(server_json: &serde_json::Value) -> tempfile::TempDir {
    let d = project();
    let p = d.path();
    std::fs::write(
        p.join("server.json"),
        serde_json::to_string_pretty(server_json).unwrap(),
    )
    .unwrap();
    std::fs::write(
        p.join("README.md"),
        "# Hangar\n\n<!-- mcp-name: io.github.runway-test/hangar -->\n",
    )
    .unwrap();
    git(p, &["add", "-A"]);
    git(p, &["commit", "-q", "-m", "chore: server.json"]);
    git(p, &["tag", "-f", "-a", "v1.2.0", "-m", "v1.2.0"]);
    d
}

fn good_server_json() -> serde_json::Value {
    serde_json::json!({
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": "io.github.runway-test/hangar",
        "description": "Hangar: aircraft maintenance records over MCP",
        "version": "1.2.0",
        "packages": [{
            "registryType": "pypi",
            "identifier": "hangar",
            "version": "1.2.0",
            "transport": {"type": "stdio"}
        }],
        "remotes": [{"type": "streamable-http", "url": "https://hangar.example.com/mcp"}]
    })
}

fn rows(out: &runway_testkit::Output) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)));
    v["checks"].as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no row `{name}` in {rows:#?}"))
}

#[test]
fn release_check_passes_a_server_json_that_keeps_the_registry_rules() {
    let d = registry_project(&good_server_json());
    let args = ["release", "check", "--no-gates", "--format", "json"];
    let out = runway(d.path(), &args, &[]);
    let got = rows(&out);
    assert_eq!(out.status.code(), Some(0), "{got:#?}");
    for name in [
        "server.json name",
        "server.json description",
        "server.json version",
        "server.json packages",
        "server.json remotes",
        "server.json ownership",
        "server.json size",
    ] {
        assert_eq!(row(&got, name)["status"], "pass", "{name}: {got:#?}");
    }
    assert!(
        row(&got, "server.json version")["detail"]
            .as_str()
            .unwrap()
            .contains("the release version `1.2.0`")
    );

    // Without a server.json there are no registry rows at all.
    let plain = project();
    let out = runway(plain.path(), &args, &[]);
    assert!(
        !rows(&out)
            .iter()
            .any(|r| r["name"].as_str().unwrap().starts_with("server.json")),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn release_check_fails_each_broken_registry_rule_naming_the_field() {
    let mut doc = good_server_json();
    doc["name"] = "hangar".into();
    doc["description"] = "x".repeat(101).into();
    doc["packages"][0]
        .as_object_mut()
        .unwrap()
        .remove("transport");
    doc["remotes"][0]["url"] = "http://hangar.example.com/mcp".into();
    let d = registry_project(&doc);
    let out = runway(
        d.path(),
        &["release", "check", "--no-gates", "--format", "json"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let got = rows(&out);
    for (name, needle) in [
        ("server.json name", "`name` `hangar` has 0 `/`"),
        (
            "server.json description",
            "`description` is 101 characters, over the registry's 100",
        ),
        (
            "server.json packages",
            "`packages[0].transport` is missing (required)",
        ),
        (
            "server.json remotes",
            "`remotes[0].url` `http://hangar.example.com/mcp` is not HTTPS",
        ),
    ] {
        let r = row(&got, name);
        assert_eq!(r["status"], "fail", "{r:#}");
        assert!(r["detail"].as_str().unwrap().contains(needle), "{r:#}");
        assert!(
            r["hints"][0]
                .as_str()
                .unwrap()
                .contains("github.com/modelcontextprotocol/registry"),
            "{r:#}"
        );
    }
    // The human table shows the same rows.
    let out = runway(d.path(), &["release", "check", "--no-gates"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains("server.json remotes"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("FAIL"), "{stdout}");

    // `[release.checks] server_json = "warn"` keeps the rows and passes.
    std::fs::write(
        d.path().join("runway.toml"),
        "[release.checks]\nserver_json = \"warn\"\n",
    )
    .unwrap();
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "chore: warn"]);
    git(d.path(), &["tag", "-f", "-a", "v1.2.0", "-m", "v1.2.0"]);
    let out = runway(
        d.path(),
        &["release", "check", "--no-gates", "--format", "json"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(row(&rows(&out), "server.json remotes")["status"], "warn");
}

#[test]
fn a_server_json_version_that_is_not_one_version_stops_release_check_naming_the_line() {
    // `server.json` is a version file too: `latest` is refused before any row.
    let mut doc = good_server_json();
    doc["packages"][0]["version"] = "latest".into();
    let d = registry_project(&doc);
    let out = runway(d.path(), &["release", "check", "--no-gates"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("`server.json`:"), "{stderr}");
    assert!(stderr.contains("`latest` is not a SemVer"), "{stderr}");
}
