//! `runway init` against real project layouts.

use runway_testkit::Test;

fn runway(dir: &std::path::Path) -> Test {
    let mut c = Test::new();
    c.current_dir(dir);
    c
}

#[test]
fn init_writes_a_config_naming_every_version_file() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("pyproject.toml"),
        "[project]\nname = \"hangar\"\nversion = \"0.4.0\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(d.path().join("hangar")).unwrap();
    std::fs::write(
        d.path().join("hangar/__init__.py"),
        "__version__ = \"0.4.0\"\n",
    )
    .unwrap();
    let out = runway(d.path()).arg("init").run();
    out.success();
    let stderr = out.stderr_text();
    assert!(
        stderr.contains("found `pyproject.toml` [project].version = `0.4.0`"),
        "{stderr}"
    );
    let cfg = runway_config::Config::load(&d.path().join("runway.toml")).unwrap();
    let paths: Vec<&str> = cfg
        .config
        .release
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(paths, ["pyproject.toml", "hangar/__init__.py"]);

    // A second run refuses to overwrite it.
    let out = runway(d.path()).arg("init").run();
    out.code(2);
    let stderr = out.stderr_text();
    assert!(stderr.contains("--force"), "{stderr}");
}

#[test]
fn init_reports_a_malformed_file_with_its_line() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("package.json"),
        "{\n  \"version\": 1.0.0\n}\n",
    )
    .unwrap();
    let out = runway(d.path()).arg("init").run();
    out.code(2);
    let stderr = out.stderr_text();
    assert!(stderr.contains("package.json:2:"), "{stderr}");
    assert!(!d.path().join("runway.toml").exists());
}
