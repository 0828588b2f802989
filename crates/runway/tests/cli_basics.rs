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
