//! Reading and rewriting each kind of version file, on files written the way
//! real projects write them.

use std::path::{Path, PathBuf};

use runway_config::release::VersionFileConfig;

use super::*;

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn rewrite(root: &Path, f: &VersionFile, new: &str) -> String {
    let text = std::fs::read_to_string(root.join(&f.path)).unwrap();
    write_version(f, &text, new).unwrap()
}

#[test]
fn cargo_toml_keeps_comments_and_edits_the_lock_entry_only() {
    let d = tempfile::tempdir().unwrap();
    let manifest = "# top comment\n[package]\nname = \"srv\"\nversion = \"0.3.1\"   # keep me\nedition = \"2021\"\n\n[dependencies]\nserde = { version = \"0.3.1\" }\n";
    write(d.path(), "Cargo.toml", manifest);
    let lock = "version = 4\n\n[[package]]\nname = \"serde\"\nversion = \"0.3.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"srv\"\nversion = \"0.3.1\"\ndependencies = [\n \"serde\",\n]\n";
    write(d.path(), "Cargo.lock", lock);
    let det = detect(d.path()).unwrap();
    assert_eq!(det.files.len(), 2);
    assert_eq!(det.files[0].version(), "0.3.1");
    assert_eq!(det.files[0].locations[0].line, 4);
    let out = rewrite(d.path(), &det.files[0], "0.4.0");
    assert_eq!(out, manifest.replacen("0.3.1\"   #", "0.4.0\"   #", 1));
    let out = rewrite(d.path(), &det.files[1], "0.4.0");
    assert!(
        out.contains("name = \"serde\"\nversion = \"0.3.1\""),
        "{out}"
    );
    assert!(out.contains("name = \"srv\"\nversion = \"0.4.0\""), "{out}");
    assert_eq!(out.len(), lock.len());
}

#[test]
fn cargo_workspace_package_version_and_inheriting_members() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\"]\n\n[workspace.package]\nversion = \"1.0.0\"\n",
    );
    write(
        d.path(),
        "crates/a/Cargo.toml",
        "[package]\nname = \"a\"\nversion.workspace = true\n",
    );
    write(
        d.path(),
        "Cargo.lock",
        "version = 4\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n",
    );
    let det = detect(d.path()).unwrap();
    assert_eq!(
        det.files[0].locations[0].field,
        "[workspace.package].version"
    );
    assert_eq!(
        det.files[1].kind,
        Kind::CargoLock {
            names: vec!["a".into()]
        }
    );
    assert!(rewrite(d.path(), &det.files[0], "1.1.0").contains("version = \"1.1.0\""));
}

#[test]
fn workspace_path_dependency_requirements_follow_the_workspace_version() {
    let d = tempfile::tempdir().unwrap();
    let text = "[workspace]\nmembers = []\n\n[workspace.package]\nversion = \"0.1.0\"\n\n[workspace.dependencies]\ncore = { path = \"crates/core\", version = \"0.1.0\" }\nserde = { version = \"0.1.0\" }\n";
    write(d.path(), "Cargo.toml", text);
    let det = detect(d.path()).unwrap();
    let out = rewrite(d.path(), &det.files[0], "0.2.0");
    assert!(
        out.contains("core = { path = \"crates/core\", version = \"0.2.0\" }"),
        "{out}"
    );
    assert!(out.contains("serde = { version = \"0.1.0\" }"), "{out}");
}

#[test]
fn pyproject_project_and_poetry() {
    let d = tempfile::tempdir().unwrap();
    let text = "[project]\nname = \"hangar\"\n# the version\nversion = '0.9.0'\n\n[tool.poetry]\nversion = \"0.9.0\"\n";
    write(d.path(), "pyproject.toml", text);
    let det = detect(d.path()).unwrap();
    let f = &det.files[0];
    assert_eq!(f.locations.len(), 2);
    let out = rewrite(d.path(), f, "1.0.0rc1");
    assert!(
        out.contains("# the version\nversion = \"1.0.0rc1\"\n"),
        "{out}"
    );
    assert!(
        out.contains("[tool.poetry]\nversion = \"1.0.0rc1\""),
        "{out}"
    );
}

#[test]
fn uv_lock_entry_of_the_project_follows_pyproject() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "pyproject.toml",
        "[project]\nname = \"MCP_Hangar\"\nversion = \"0.9.0\"\n",
    );
    let lock = "version = 1\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"anyio\"\nversion = \"0.9.0\"\nsource = { registry = \"https://pypi.org/simple\" }\n\n[[package]]\nname = \"mcp-hangar\"\nversion = \"0.9.0\"\nsource = { editable = \".\" }\ndependencies = [\n    { name = \"anyio\" },\n]\n";
    write(d.path(), "uv.lock", lock);
    let det = detect(d.path()).unwrap();
    assert_eq!(det.files.len(), 2);
    assert_eq!(
        det.files[1].kind,
        Kind::UvLock {
            name: "MCP_Hangar".into()
        }
    );
    assert_eq!(det.files[1].locations[0].line, 11);
    let out = rewrite(d.path(), &det.files[1], "0.10.0");
    assert_eq!(
        out,
        lock.replacen(
            "version = \"0.9.0\"\nsource = { editable",
            "version = \"0.10.0\"\nsource = { editable",
            1
        )
    );
    let cfg = vec![VersionFileConfig {
        path: "uv.lock".into(),
        regex: None,
        fields: None,
    }];
    assert_eq!(load(d.path(), &cfg).unwrap().files[0].version(), "0.9.0");
}

#[test]
fn package_json_and_lock_are_edited_in_place() {
    let d = tempfile::tempdir().unwrap();
    let pkg = "{\n  \"name\": \"srv\",\n  \"version\": \"2.0.0\",\n  \"dependencies\": {\"x\": {\"version\": \"9\"}},\n    \"odd\":   [\"version\"]\n}\n";
    write(d.path(), "package.json", pkg);
    let lock = "{\n  \"name\": \"srv\",\n  \"version\": \"2.0.0\",\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"\": {\n      \"name\": \"srv\",\n      \"version\": \"2.0.0\"\n    },\n    \"node_modules/x\": {\n      \"version\": \"2.0.0\"\n    }\n  }\n}\n";
    write(d.path(), "package-lock.json", lock);
    let det = detect(d.path()).unwrap();
    assert_eq!(det.files.len(), 2);
    assert_eq!(det.files[0].locations[0].line, 3);
    let out = rewrite(d.path(), &det.files[0], "2.1.0");
    assert_eq!(out, pkg.replacen("2.0.0", "2.1.0", 1));
    assert_eq!(det.files[1].locations.len(), 2);
    let out = rewrite(d.path(), &det.files[1], "2.1.0");
    assert_eq!(out.matches("2.1.0").count(), 2, "{out}");
    assert!(out.contains("\"node_modules/x\": {\n      \"version\": \"2.0.0\""));
}

#[test]
fn python_module_version_is_found_and_edited() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "src/hangar/__init__.py",
        "\"\"\"Hangar.\"\"\"\n\n__version__: str = \"0.2.0\"  # bumped by runway\n",
    );
    let det = detect(d.path()).unwrap();
    assert_eq!(det.files[0].path, PathBuf::from("src/hangar/__init__.py"));
    assert_eq!(det.files[0].locations[0].line, 3);
    let out = rewrite(d.path(), &det.files[0], "0.3.0");
    assert!(out.contains("__version__: str = \"0.3.0\"  # bumped by runway"));
}

#[test]
fn setuptools_attr_points_at_the_module() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "pyproject.toml",
        "[project]\nname = \"p\"\ndynamic = [\"version\"]\n\n[tool.setuptools.dynamic]\nversion = {attr = \"pkg.__version__\"}\n",
    );
    write(d.path(), "src/pkg/__init__.py", "__version__ = '1.4.2'\n");
    let det = detect(d.path()).unwrap();
    assert_eq!(det.dynamic.len(), 1);
    assert!(det.dynamic[0].lives_in.contains("src/pkg/__init__.py"));
    assert_eq!(det.dynamic[0].line, 3);
    assert_eq!(det.files.len(), 1);
    assert_eq!(det.files[0].version(), "1.4.2");
}

#[test]
fn scm_versions_live_in_git_tags() {
    for tool in [
        "[build-system]\nrequires = [\"setuptools>=64\", \"setuptools-scm>=8\"]\n",
        "[tool.hatch.version]\nsource = \"vcs\"\n",
    ] {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "pyproject.toml",
            &format!("[project]\nname = \"p\"\ndynamic = [\"version\"]\n\n{tool}"),
        );
        let det = detect(d.path()).unwrap();
        assert!(det.tag_is_version(), "{tool}: {det:?}");
        assert!(det.dynamic[0].lives_in.contains("git tags"));
    }
}

/// semantic-release keeps `0.0.0-development` in package.json and the
/// version in the tags: package.json is not a version file to write.
#[test]
fn a_semantic_release_placeholder_means_the_tags_hold_the_version() {
    for placeholder in ["0.0.0-development", "0.0.0-semantically-released"] {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "package.json",
            &format!("{{\n  \"name\": \"srv\",\n  \"version\": \"{placeholder}\"\n}}\n"),
        );
        write(
            d.path(),
            "package-lock.json",
            &format!("{{\"version\": \"{placeholder}\"}}\n"),
        );
        let det = detect(d.path()).unwrap();
        assert!(det.files.is_empty(), "{placeholder}: {det:?}");
        assert!(det.tag_is_version(), "{placeholder}: {det:?}");
        assert!(det.dynamic[0].lives_in.contains(placeholder));
    }
    // A real version is a version file, as before.
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "package.json",
        "{\"name\": \"srv\", \"version\": \"0.0.0\"}\n",
    );
    assert_eq!(detect(d.path()).unwrap().files.len(), 1);
}

#[test]
fn malformed_files_name_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "pyproject.toml",
        "[project]\nname = \"p\"\nversion = \"1.0\n",
    );
    let err = detect(d.path()).unwrap_err().to_string();
    assert!(err.starts_with("pyproject.toml:3:"), "{err}");

    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "package.json",
        "{\n  \"version\": \"1.0.0\",\n}\n",
    );
    let err = detect(d.path()).unwrap_err().to_string();
    assert!(err.starts_with("package.json:3:"), "{err}");
}

#[test]
fn configured_regex_file() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "chart/Chart.yaml",
        "name: srv\nappVersion: \"1.2.3\"\n",
    );
    let cfg = vec![VersionFileConfig {
        path: "chart/Chart.yaml".into(),
        regex: Some(r#"appVersion: "(?P<version>[^"]+)""#.into()),
        fields: None,
    }];
    let det = load(d.path(), &cfg).unwrap();
    assert_eq!(det.files[0].version(), "1.2.3");
    assert_eq!(det.files[0].locations[0].line, 2);
    let out = rewrite(d.path(), &det.files[0], "1.3.0");
    assert_eq!(out, "name: srv\nappVersion: \"1.3.0\"\n");

    let bad = vec![VersionFileConfig {
        path: "chart/Chart.yaml".into(),
        regex: Some("appVersion".into()),
        fields: None,
    }];
    assert!(
        load(d.path(), &bad)
            .unwrap_err()
            .to_string()
            .contains("capture group")
    );
    let nomatch = vec![VersionFileConfig {
        path: "chart/Chart.yaml".into(),
        regex: Some("nope: (.*)".into()),
        fields: None,
    }];
    assert!(
        load(d.path(), &nomatch)
            .unwrap_err()
            .to_string()
            .contains("does not match")
    );
}

#[test]
fn workspace_member_globs_honour_exclude() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\", \"tools/gen-*\"]\nexclude = [\"crates/scratch\"]\n\n[workspace.package]\nversion = \"1.0.0\"\n",
    );
    for (dir, name) in [
        ("crates/a", "a"),
        ("crates/scratch", "scratch"),
        ("tools/gen-x", "gen-x"),
        ("tools/other", "other"),
    ] {
        write(
            d.path(),
            &format!("{dir}/Cargo.toml"),
            &format!("[package]\nname = \"{name}\"\nversion.workspace = true\n"),
        );
    }
    let lock = ["a", "scratch", "gen-x", "other"]
        .iter()
        .map(|n| format!("[[package]]\nname = \"{n}\"\nversion = \"1.0.0\"\n\n"))
        .collect::<String>();
    write(d.path(), "Cargo.lock", &format!("version = 4\n\n{lock}"));
    let det = detect(d.path()).unwrap();
    assert_eq!(
        det.files[1].kind,
        Kind::CargoLock {
            names: vec!["a".into(), "gen-x".into()]
        }
    );
}

#[test]
fn a_virtual_workspace_is_released_through_its_members_versions() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "Cargo.toml",
        "[workspace]\nmembers = [\"a\", \"b\"]\n",
    );
    write(
        d.path(),
        "a/Cargo.toml",
        "[package]\nname = \"a\"\nversion = \"1.0.0\"\n",
    );
    write(
        d.path(),
        "b/Cargo.toml",
        "[package]\nname = \"b\"\nversion = \"1.0.0\"\n",
    );
    write(
        d.path(),
        "Cargo.lock",
        "version = 4\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\n[[package]]\nname = \"b\"\nversion = \"1.0.0\"\n",
    );
    let det = detect(d.path()).unwrap();
    let paths: Vec<String> = det
        .files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    assert_eq!(paths, ["a/Cargo.toml", "b/Cargo.toml", "Cargo.lock"]);
    assert_eq!(det.files[2].locations.len(), 2);
}
