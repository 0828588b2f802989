//! The command line's own behaviour: help, version, completions, man page, exit codes for usage errors.

use runway_testkit::Test;

fn runway() -> Test {
    Test::new()
}

#[test]
fn unknown_subcommand_is_a_usage_error_exit_2() {
    runway()
        .arg("frobnicate")
        .run()
        .code(2)
        .stderr_contains("frobnicate");
}

#[test]
fn version_prints_the_crate_version() {
    runway()
        .arg("--version")
        .run()
        .success()
        .stdout_contains(env!("CARGO_PKG_VERSION"));
}

#[test]
fn bash_completions_name_the_subcommands() {
    runway()
        .args(["completions", "bash"])
        .run()
        .success()
        .stdout_contains("verify")
        .stdout_contains("release");
}

#[test]
fn man_page_is_roff_with_the_name_section() {
    runway()
        .arg("man")
        .run()
        .success()
        .stdout_contains(".TH runway")
        .stdout_contains("verify");
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
        .run();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("runway.toml:3:"), "{err}");
}

#[test]
fn completions_and_help_list_the_values_of_suite_era_and_format() {
    for shell in ["bash", "zsh", "fish"] {
        let out = runway().args(["completions", shell]).run();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        for value in [
            "smoke",
            "full",
            "conformance",
            "auto",
            "session",
            "stateless",
            "human",
            "json",
            "junit",
            "github",
        ] {
            assert!(text.contains(value), "{shell} completions lack `{value}`");
        }
    }
    let bash = runway().args(["completions", "bash"]).run();
    let bash = String::from_utf8_lossy(&bash.stdout);
    assert!(bash.contains("smoke full conformance"), "{bash}");
    assert!(bash.contains("auto session stateless"), "{bash}");
    assert!(bash.contains("human json junit github"), "{bash}");
    let help = runway().args(["verify", "--help"]).run();
    let help = String::from_utf8_lossy(&help.stdout);
    for value in [
        "smoke",
        "full",
        "conformance",
        "auto",
        "session",
        "stateless",
        "human",
        "json",
        "junit",
        "github",
    ] {
        assert!(
            help.contains(&format!("- {value}:")),
            "`verify --help` lacks `{value}`: {help}"
        );
    }
    runway()
        .args(["demo", "--help"])
        .run()
        .success()
        .stdout_contains("- junit:");
}

/// `runway ... | head -c 1`: the reader goes away; the command must end quietly with 0.
#[test]
fn a_closed_stdout_ends_every_command_quietly_with_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = format!("sqlite://{}", dir.path().join("ledger.db").display());
    runway().args(["ledger", "init", &ledger]).run().success();
    let commands: Vec<Vec<&str>> = vec![
        vec!["incident", "list", "--format", "json", "--ledger", &ledger],
        vec!["incident", "list", "--ledger", &ledger, "--all"],
        vec!["ledger", "list", "--format", "csv", "--ledger", &ledger],
        vec!["ledger", "export", "--ledger", &ledger],
        vec!["completions", "bash"],
        vec!["man"],
    ];
    for args in commands {
        let mut child = Test::new()
            .into_command()
            .args(&args)
            .current_dir(dir.path())
            .env_remove("RUNWAY_LEDGER_URL")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Close the only read end before the command writes: every write meets EPIPE.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.starts_with("exported 0 record(s)"))
            .collect();
        assert_eq!(
            out.status.code(),
            Some(0),
            "`runway {}`: {stderr:?}",
            args.join(" ")
        );
        assert!(stderr.is_empty(), "`runway {}`: {stderr:?}", args.join(" "));
    }
}

#[test]
fn a_shell_pipe_into_head_exits_0_with_nothing_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let bin = runway_testkit::runway_bin();
    let bin = bin.display();
    let ledger = format!("sqlite://{}", dir.path().join("ledger.db").display());
    runway().args(["ledger", "init", &ledger]).run().success();
    // Enough incidents that the JSON is larger than a pipe's buffer, so the
    // writer is still writing when `head` has gone: one real record, copied.
    let title = format!("the pipe test {}", "x".repeat(200));
    let open = runway()
        .args([
            "incident", "open", "--sev", "P2", "--title", &title, "--ledger", &ledger,
        ])
        .run();
    assert!(open.status.success(), "{open:?}");
    let one = runway()
        .args(["ledger", "export", "--ledger", &ledger])
        .run();
    let mut export: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    let record = export["records"][0].clone();
    let id = record["id"].as_str().unwrap().to_owned();
    let copies: Vec<serde_json::Value> = (0..400)
        .map(|i| {
            let mut r = record.clone();
            r["id"] = format!("{id}{i:04}").into();
            r
        })
        .collect();
    export["records"] = copies.into();
    let file = dir.path().join("export.json");
    std::fs::write(&file, serde_json::to_vec(&export).unwrap()).unwrap();
    let import = runway()
        .args([
            "ledger",
            "import",
            file.to_str().unwrap(),
            "--ledger",
            &ledger,
        ])
        .run();
    assert!(import.status.success(), "{import:?}");
    let out = Test::program("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; '{bin}' incident list --format json --ledger '{ledger}' | head -c 1 >/dev/null"
        ))
        .current_dir(dir.path())
        .run();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn a_misspelt_runway_toml_key_suggests_the_valid_one_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runway.toml"),
        "[environments.staging]\nurl = \"http://127.0.0.1:9/mcp\"\nmin_tool = 3\n",
    )
    .unwrap();
    for args in [["plan", "staging"], ["verify", "staging"]] {
        let out = runway().current_dir(dir.path()).args(args).run();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("runway.toml:3:1: unknown field `min_tool` in `[environments.staging]`"),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("hint: did you mean `min_tools`?"),
            "{args:?}: {err}"
        );
    }
}
