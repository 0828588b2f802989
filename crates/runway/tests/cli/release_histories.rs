//! `runway release` on the histories release-please users have (issue 11):
//! each case is a fixture repository under `tests/fixtures/release/` (its
//! next version and changelog are checked by `release_fixtures.rs`); these
//! tests check what `bump` and `check` then do with it.

use crate::release_support;

use std::path::Path;

use release_support::{fixture, git_pinned, runway_pinned, text};

/// Commits a `VERSION` file saying `v`, named in `runway.toml`, so a bump has a file to write.
fn with_version_file(dir: &Path, v: &str) {
    std::fs::write(dir.join("VERSION"), format!("{v}\n")).unwrap();
    std::fs::write(
        dir.join("runway.toml"),
        "[release]\nfiles = [{ path = \"VERSION\" }]\n",
    )
    .unwrap();
    git_pinned(dir, &["add", "VERSION", "runway.toml"]);
    git_pinned(dir, &["commit", "-q", "-m", "chore: add VERSION"]);
}

#[test]
fn release_as_footer_is_what_bump_releases() {
    let d = fixture("release_as");
    // No version file: the bump fails and says so, and changes nothing.
    let out = runway_pinned(d.path(), &["release", "bump", "auto", "--no-git"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("no version file found"), "{err}");
    assert!(err.contains("[[release.files]]"), "{err}");
    assert!(!d.path().join("CHANGELOG.md").exists());
    // With a version file, it is written and tagged.
    with_version_file(d.path(), "1.0.0");
    let out = runway_pinned(d.path(), &["release", "bump", "auto"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("`1.0.0` → `2.0.0`"), "{err}");
    assert!(err.contains("decided by `Release-As: 2.0.0`"), "{err}");
    assert_eq!(
        std::fs::read_to_string(d.path().join("VERSION")).unwrap(),
        "2.0.0\n"
    );
    assert!(git_pinned(d.path(), &["tag"]).contains("v2.0.0"));
}

#[test]
fn bump_to_a_version_tagged_on_another_branch_names_the_tag_and_offers_to_delete_it_when_unpushed()
{
    let d = fixture("tag_exists");
    with_version_file(d.path(), "1.0.0");
    let out = runway_pinned(d.path(), &["release", "bump", "auto"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("tag `v1.1.0` already exists"), "{err}");
    assert!(
        err.contains("git tag -d v1.1.0") && err.contains("not been pushed"),
        "{err}"
    );
}

#[test]
fn a_pushed_tag_is_never_offered_for_deletion() {
    let d = fixture("tag_exists");
    with_version_file(d.path(), "1.0.0");
    let origin = tempfile::tempdir().unwrap();
    git_pinned(origin.path(), &["init", "-q", "--bare"]);
    let url = origin.path().to_str().unwrap();
    git_pinned(d.path(), &["remote", "add", "origin", url]);
    git_pinned(d.path(), &["push", "-q", "origin", "v1.1.0"]);
    let out = runway_pinned(d.path(), &["release", "bump", "auto"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("already pushed to `origin`"), "{err}");
    assert!(!err.contains("git tag -d"), "{err}");
}

#[test]
fn a_pep440_tag_is_the_same_release_as_its_semver_spelling() {
    let d = fixture("pep440_tags");
    let out = runway_pinned(d.path(), &["release", "status", "--format", "json"]);
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(st["last_tag"]["name"], "v1.1.0rc1", "{st}");
    assert_eq!(st["current"], "1.1.0-rc.1");
    with_version_file(d.path(), "1.1.0-rc.1");
    let out = runway_pinned(
        d.path(),
        &[
            "release",
            "bump",
            "--version",
            "1.1.0-rc.1",
            "--allow-dirty",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("not greater than the current version `1.1.0-rc.1`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_version_in_the_tags_is_released_by_tagging_and_no_file_is_edited() {
    let d = fixture("hatch_vcs");
    let before = std::fs::read_to_string(d.path().join("pyproject.toml")).unwrap();
    let out = runway_pinned(d.path(), &["release", "bump", "auto"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(git_pinned(d.path(), &["tag"]).contains("v0.2.0"));
    assert_eq!(
        std::fs::read_to_string(d.path().join("pyproject.toml")).unwrap(),
        before
    );
    // `check` on that tag agrees: the tag is the version.
    let out = runway_pinned(
        d.path(),
        &[
            "release",
            "check",
            "--tag",
            "v0.2.0",
            "--no-gates",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "tag matches version")
        .unwrap()
        .clone();
    assert_eq!(row["status"], "pass", "{v}");
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap()
}

#[test]
fn a_pre_release_line_numbered_from_zero() {
    let d = fixture("prerelease_zero");
    let out = runway_pinned(d.path(), &["release", "bump", "minor", "--pre", "rc"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(read(d.path(), "pyproject.toml").contains("version = \"1.1.0rc0\""));
    assert!(git_pinned(d.path(), &["tag"]).contains("v1.1.0-rc.0"));
    let out = runway_pinned(d.path(), &["release", "bump", "minor", "--pre", "rc"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(read(d.path(), "pyproject.toml").contains("version = \"1.1.0rc1\""));
}

#[test]
fn server_json_is_bumped_in_every_field_beside_package_json() {
    let d = fixture("server_json");
    let out = runway_pinned(d.path(), &["release", "bump", "auto"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let server = read(d.path(), "server.json");
    assert_eq!(
        server.matches("\"version\": \"0.3.1\"").count(),
        3,
        "{server}"
    );
    assert!(!server.contains("0.3.0"), "{server}");
    assert!(read(d.path(), "package.json").contains("\"version\": \"0.3.1\""));
}

#[test]
fn json_fields_by_path_and_one_file_listed_twice() {
    let d = fixture("server_json");
    std::fs::write(
        d.path().join("manifest.json"),
        "{\"version\": \"0.3.0\", \"meta\": {\"build\": {\"version\": \"0.3.0\"}}, \"deps\": {\"version\": \"7\"}}\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("runway.toml"),
        "[release]\nfiles = [\n  { path = \"manifest.json\", fields = [\"$.version\"] },\n  { path = \"manifest.json\", fields = [\"$.meta.build.version\"] },\n  { path = \"server.json\" },\n]\n",
    )
    .unwrap();
    git_pinned(d.path(), &["add", "-A"]);
    git_pinned(d.path(), &["commit", "-q", "-m", "chore: manifest"]);
    let out = runway_pinned(d.path(), &["release", "bump", "auto"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        read(d.path(), "manifest.json"),
        "{\"version\": \"0.3.1\", \"meta\": {\"build\": {\"version\": \"0.3.1\"}}, \"deps\": {\"version\": \"7\"}}\n"
    );
    // A path that is not one says so, with the file.
    std::fs::write(
        d.path().join("runway.toml"),
        "[release]\nfiles = [{ path = \"manifest.json\", fields = [\"version\"] }]\n",
    )
    .unwrap();
    let out = runway_pinned(d.path(), &["release", "status"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("`version` for `manifest.json`") && err.contains("starts with `$`"),
        "{err}"
    );
}

#[test]
fn one_excluded_file_is_left_alone_and_a_typo_is_refused() {
    let d = fixture("exclude_one");
    let lock = read(d.path(), "uv.lock");
    let out = runway_pinned(d.path(), &["release", "bump", "auto"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(read(d.path(), "uv.lock"), lock);
    assert!(read(d.path(), "pyproject.toml").contains("2.1.1"));
    assert!(read(d.path(), "src/ex/__init__.py").contains("2.1.1"));
    std::fs::write(
        d.path().join("runway.toml"),
        "[release]\nexclude = [\"uv.lok\"]\n",
    )
    .unwrap();
    let out = runway_pinned(d.path(), &["release", "status"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("`uv.lok`") && err.contains("`uv.lock`"),
        "{err}"
    );
}

/// The `release check --tag TAG --format json` rows, by name.
fn check_rows(dir: &Path, tag: &str) -> Vec<serde_json::Value> {
    let out = runway_pinned(
        dir,
        &[
            "release",
            "check",
            "--tag",
            tag,
            "--no-gates",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["checks"].as_array().unwrap().clone()
}

fn hints(rows: &[serde_json::Value], name: &str) -> Vec<String> {
    let row = rows.iter().find(|r| r["name"] == name).unwrap();
    assert_eq!(row["status"], "fail", "{row}");
    row["hints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_stale_uv_lock_is_named_with_the_command_that_fixes_it() {
    let d = fixture("stale_uv_lock");
    let rows = check_rows(d.path(), "v1.1.0");
    let agree = hints(&rows, "version files agree");
    assert!(
        agree[0].contains("`uv.lock`")
            && agree[0].contains("`1.0.0`")
            && agree[0].contains("run `uv lock`"),
        "{agree:?}"
    );
    let tag = hints(&rows, "tag matches version");
    assert!(
        tag[0].contains("`uv.lock` is stale: run `uv lock`"),
        "{tag:?}"
    );
    // Not pushed: deleting and re-creating the tag is offered.
    assert!(tag[1].contains("git tag -d v1.1.0"), "{tag:?}");
}

#[test]
fn a_pushed_tag_gets_no_advice_to_delete_it() {
    let d = fixture("stale_uv_lock");
    let origin = tempfile::tempdir().unwrap();
    git_pinned(origin.path(), &["init", "-q", "--bare"]);
    git_pinned(
        d.path(),
        &["remote", "add", "origin", origin.path().to_str().unwrap()],
    );
    git_pinned(d.path(), &["push", "-q", "origin", "main", "v1.1.0"]);
    let rows = check_rows(d.path(), "v1.1.0");
    let tag = hints(&rows, "tag matches version");
    assert!(tag.iter().all(|h| !h.contains("git tag -d")), "{tag:?}");
    assert!(tag[1].contains("already pushed to `origin`"), "{tag:?}");
}

#[test]
fn a_cargo_workspace_bumps_its_version_requirements_and_lock_but_not_a_member_with_its_own() {
    let d = fixture("cargo_workspace");
    let macros = read(d.path(), "crates/macros/Cargo.toml");
    let out = runway_pinned(d.path(), &["release", "bump", "auto"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let root = read(d.path(), "Cargo.toml");
    assert!(root.contains("version = \"0.5.0\"\nedition"), "{root}");
    assert!(
        root.contains("wx-core = { path = \"crates/core\", version = \"0.5.0\" }"),
        "{root}"
    );
    let lock = read(d.path(), "Cargo.lock");
    assert!(
        lock.contains("name = \"wx-core\"\nversion = \"0.5.0\""),
        "{lock}"
    );
    assert!(
        lock.contains("name = \"wx-server\"\nversion = \"0.5.0\""),
        "{lock}"
    );
    assert!(
        lock.contains("name = \"wx-macros\"\nversion = \"0.1.3\""),
        "{lock}"
    );
    assert_eq!(read(d.path(), "crates/macros/Cargo.toml"), macros);
}

#[test]
fn a_monorepo_package_is_bumped_and_tagged_alone() {
    let d = fixture("monorepo");
    let client = read(d.path(), "packages/client/package.json");
    let out = runway_pinned(
        d.path(),
        &["release", "bump", "auto", "--package", "server"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(read(d.path(), "packages/server/pyproject.toml").contains("version = \"1.5.0\""));
    let log = read(d.path(), "packages/server/CHANGELOG.md");
    assert!(
        log.contains("search tool") && !log.contains("retry on 503"),
        "{log}"
    );
    assert!(!log.contains("outside both packages"), "{log}");
    assert_eq!(read(d.path(), "packages/client/package.json"), client);
    assert!(git_pinned(d.path(), &["tag"]).contains("server-v1.5.0"));
    // The other package still has its own fix to release.
    let out = runway_pinned(
        d.path(),
        &[
            "release",
            "status",
            "--package",
            "client",
            "--format",
            "json",
        ],
    );
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(st["next"], "0.2.1", "{st}");
    assert_eq!(st["commits"], 1, "{st}");
    // Without `--package` the command says which packages there are.
    let out = runway_pinned(d.path(), &["release", "bump", "auto"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("`server`, `client`"));
    let out = runway_pinned(d.path(), &["release", "status", "--package", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no package `nope`"));
}
