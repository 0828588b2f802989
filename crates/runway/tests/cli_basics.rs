//! The command line's own behaviour: help, version, completions, man page, exit codes for usage errors.

use assert_cmd::Command;
use predicates::prelude::*;

fn runway() -> Command {
    Command::new(env!("CARGO_BIN_EXE_runway"))
}

#[test]
fn unknown_subcommand_is_a_usage_error_exit_2() {
    runway()
        .arg("frobnicate")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("frobnicate"));
}

#[test]
fn version_prints_the_crate_version() {
    runway()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn bash_completions_name_the_subcommands() {
    runway()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("verify").and(predicate::str::contains("release")));
}

#[test]
fn man_page_is_roff_with_the_name_section() {
    runway()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH runway").and(predicate::str::contains("verify")));
}
#[test]
fn a_bad_runway_toml_is_exit_2_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runway.toml"),
        "[project]\nname = \"x\"\nnmae = \"y\"\n",
    )
    .unwrap();
    // `verify <env>` reads the config; any command that loads it must report the location.
    let out = runway()
        .current_dir(dir.path())
        .args(["verify", "staging"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("runway.toml:3:"), "{err}");
}
