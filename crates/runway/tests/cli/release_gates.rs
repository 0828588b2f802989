//! `[[release.gates]]` through the real binary: what a gate starts dies with
//! it, and what it prints is redacted before it is cut.

use crate::release_support;

use std::path::Path;
use std::time::{Duration, Instant};

use release_support::{git, repo, runway, text};

/// A committed project whose only gate runs `run` with `timeout_secs`.
fn project(run: &str, timeout_secs: u64) -> tempfile::TempDir {
    let d = repo();
    let p = d.path();
    std::fs::write(
        p.join("runway.toml"),
        format!(
            "[release]\n\n[[release.gates]]\nname = \"tests\"\nrun = {}\ntimeout_secs = {timeout_secs}\n",
            serde_json::to_string(run).unwrap()
        ),
    )
    .unwrap();
    git(p, &["add", "-A"]);
    git(p, &["commit", "-q", "-m", "feat: first"]);
    d
}

/// The gate's row of `release check --format json`.
fn gate_row(dir: &Path, env: &[(&str, &str)]) -> (Option<i32>, serde_json::Value, String) {
    let out = runway(dir, &["release", "check", "--format", "json"], env);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)));
    let row = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "gate: tests")
        .cloned()
        .unwrap();
    (out.status.code(), row, text(&out.stderr))
}

/// True while `pid` is a live process (a zombie waiting for its reaper is not).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X')),
        Err(_) => false,
    }
}

/// Kills the process the gate left behind if a test fails before it checks.
struct Reap(u32);

impl Drop for Reap {
    fn drop(&mut self) {
        if alive(self.0) {
            let _ = std::process::Command::new("kill")
                .args(["-9", &self.0.to_string()])
                .status();
        }
    }
}

/// The pid a gate wrote, waiting a bounded time for the file.
fn read_pid(file: &Path) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(t) = std::fs::read_to_string(file)
            && let Ok(pid) = t.trim().parse()
        {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "the gate never wrote {}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn assert_gone(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) {
        assert!(
            Instant::now() < deadline,
            "process {pid} that the gate started is still running after `release check` returned"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_timed_out_gate_is_killed_with_the_test_runner_it_started() {
    let pids = tempfile::tempdir().unwrap();
    let pid_file = pids.path().join("runner.pid");
    // The runner is a grandchild: `sh` starts it and waits; only `sh` is the gate's child.
    let d = project(
        &format!("sleep 300 & echo $! > '{}'; wait", pid_file.display()),
        1,
    );
    let start = Instant::now();
    let (code, row, stderr) = gate_row(d.path(), &[]);
    let took = start.elapsed();
    let pid = read_pid(&pid_file);
    let _reap = Reap(pid);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(row["status"], "fail", "{row}");
    assert!(
        row["detail"]
            .as_str()
            .unwrap()
            .contains("was stopped after 1s"),
        "{row}"
    );
    assert!(took < Duration::from_secs(30), "check took {took:?}");
    assert_gone(pid);
}

#[test]
fn a_gate_that_passes_leaves_nothing_running_behind_it() {
    let pids = tempfile::tempdir().unwrap();
    let pid_file = pids.path().join("daemon.pid");
    let d = project(
        &format!("sleep 300 & echo $! > '{}'; exit 0", pid_file.display()),
        60,
    );
    let start = Instant::now();
    let (code, row, stderr) = gate_row(d.path(), &[]);
    let pid = read_pid(&pid_file);
    let _reap = Reap(pid);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(row["status"], "pass", "{row}");
    // The background `sleep` holds the output pipe open: waiting for it would hang.
    assert!(start.elapsed() < Duration::from_secs(30));
    assert_gone(pid);
}

#[test]
fn a_secret_across_the_4_kib_cut_is_redacted_whole() {
    let token = "pypi-AgEIcHlwaS5vcmcCJDAxMjM0NTY3ODlhYmNkZWY";
    // 15 + 44 + 4070 bytes: the last 4 KiB start inside the token.
    let d = project(
        "printf 'uploading with %s' \"$PYPI_API_TOKEN\"; head -c 4070 /dev/zero | tr '\\0' x; exit 1",
        60,
    );
    let (code, row, stderr) = gate_row(d.path(), &[("PYPI_API_TOKEN", token)]);
    assert_eq!(code, Some(1), "{stderr}");
    let detail = row["detail"].as_str().unwrap();
    for part in token.as_bytes().windows(6) {
        let part = std::str::from_utf8(part).unwrap();
        assert!(
            !detail.contains(part),
            "`{part}` of the token is shown: {detail}"
        );
    }
    assert!(detail.ends_with(&"x".repeat(100)), "{detail}");
    assert!(!stderr.contains("AgEI"), "{stderr}");
}

#[test]
fn a_gate_that_prints_megabytes_reports_only_its_last_lines() {
    let d = project(
        "head -c 20000000 /dev/zero | tr '\\0' y; echo; echo the-last-line; exit 2",
        120,
    );
    let (code, row, stderr) = gate_row(d.path(), &[]);
    assert_eq!(code, Some(1), "{stderr}");
    let detail = row["detail"].as_str().unwrap();
    assert!(detail.contains("exited with code 2"), "{}", &detail[..200]);
    assert!(
        detail.ends_with("the-last-line"),
        "{}",
        &detail[detail.len() - 200..]
    );
    assert!(detail.len() < 4096 + 200, "{} bytes shown", detail.len());
}
