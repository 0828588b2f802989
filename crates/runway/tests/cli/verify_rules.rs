//! `runway verify` and the rules of #19 as a user meets them: `--only` names
//! checks and groups (a name that matches nothing is exit 2), an environment
//! can turn Runway's policies off and declare auth, and every 2026-07-28 rule
//! that applies over stdio catches its fault in `runway serve-reference --stdio`.

use std::time::Duration;

use runway_testkit::{Output, Test};
use serde_json::Value;

const TOKEN: &str = "rules-test-token-7e3a";

fn runway() -> Test {
    let mut c = Test::new();
    c.env("RULES_TOKEN", TOKEN)
        .timeout(Duration::from_secs(120));
    c
}

async fn reference(token: Option<&str>, faults: &str) -> runway_reference::Running {
    runway_reference::spawn(runway_reference::Options {
        token: token.map(Into::into),
        faults: runway_reference::Faults::parse(faults).unwrap(),
        ..Default::default()
    })
    .await
    .unwrap()
}

async fn run(cmd: Test) -> Output {
    cmd.run_async().await
}

fn json(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn ids(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

fn find<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no `{id}` in {report:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_takes_a_check_id_and_a_name_that_matches_nothing_is_exit_2() {
    let s = reference(Some(TOKEN), "").await;
    let mut cmd = runway();
    cmd.args(["verify", &s.mcp_url, "--token-env", "RULES_TOKEN"])
        .args(["--only", "http.health", "--format", "json"]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr_text());
    assert_eq!(ids(&json(&out)), ["http.health"]);

    let mut cmd = runway();
    cmd.args(["verify", &s.mcp_url, "--token-env", "RULES_TOKEN"])
        .args(["--only", "http.helth"]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stderr_text()
            .contains("`--only http.helth` matched no check"),
        "{}",
        out.stderr_text()
    );

    // A group and an id of another group together.
    let mut cmd = runway();
    cmd.args(["verify", &s.mcp_url, "--token-env", "RULES_TOKEN"])
        .args([
            "--only",
            "origin",
            "--only",
            "mcp.tools.list",
            "--format",
            "json",
        ]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr_text());
    assert_eq!(ids(&json(&out)), ["mcp.tools.list", "origin.foreign"]);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_can_be_turned_off_and_declared_auth_makes_an_open_endpoint_fail() {
    // An open server that sends no security headers and has no rate limit.
    let s = reference(None, "missing-headers,no-rate-limit").await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runway.toml"),
        format!(
            "[environments.lab]\nurl = \"{url}\"\nsuite = \"full\"\npolicies = false\n\n[environments.prod]\nurl = \"{url}\"\nauth = \"bearer\"\n",
            url = s.mcp_url
        ),
    )
    .unwrap();
    let mut cmd = runway();
    cmd.current_dir(dir.path())
        .args(["verify", "lab", "--format", "json"]);
    let out = run(cmd).await;
    let report = json(&out);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    for c in report["checks"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        for group in ["headers.", "cors.", "ratelimit.", "load.", "http."] {
            assert!(!id.starts_with(group), "{id} ran with policies = false");
        }
        let kind = c["evidence"]["details"]["kind"]
            .as_str()
            .unwrap_or_default();
        assert!(
            ["spec", "policy", "expectation"].contains(&kind),
            "{id} has no kind: {c:#}"
        );
        if kind == "policy" {
            assert_eq!(c["status"], "skip", "{c:#}");
        }
        if kind == "spec" && c["status"] != "skip" {
            let spec = c["evidence"]["details"]["spec"]
                .as_str()
                .unwrap_or_default();
            // The spec's pages (`.mdx`), or an extension's (`tasks.md`).
            assert!(spec.contains(".md"), "{id} cites no section: {c:#}");
        }
    }

    let mut cmd = runway();
    cmd.current_dir(dir.path())
        .args(["verify", "prod", "--format", "json"]);
    let out = run(cmd).await;
    let report = json(&out);
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    let open = find(&report, "auth.no_token");
    assert_eq!(open["status"], "fail", "{open:#}");
    assert!(
        open["message"]
            .as_str()
            .unwrap()
            .contains("the environment declares `environments.prod.auth`"),
        "{open:#}"
    );
    assert_eq!(open["evidence"]["details"]["kind"], "expectation");
    s.shutdown().await;
}

/// `runway verify --suite conformance --format json --stdio -- runway serve-reference --stdio --faults F`.
fn verify_stdio(faults: &str) -> Value {
    let bin = runway_testkit::runway_bin();
    let out = runway()
        .args([
            "verify",
            "--suite",
            "conformance",
            "--format",
            "json",
            "--stdio",
            "--",
        ])
        .arg(&bin)
        .args(["serve-reference", "--stdio", "--faults", faults])
        .run();
    json(&out)
}

#[test]
fn every_stdio_rule_of_2026_07_28_catches_its_fault() {
    let cases = [
        ("no-result-type", "mcp.stateless.result_type"),
        ("no-cache-hints", "mcp.discover.result"),
        ("bad-discover", "mcp.discover.result"),
        ("no-server-info-meta", "mcp.stateless.server_info"),
        ("unsupported-version-accepted", "mcp.stateless.version"),
        ("meta-not-validated", "mcp.stateless.meta"),
        ("old-resource-not-found", "mcp.resources.not_found"),
        ("unknown-tool-result", "mcp.tools.unknown"),
        ("shuffled-tools", "mcp.tools.order"),
        ("system-role-prompt", "mcp.prompts.get"),
        ("log-without-level", "mcp.logging.silent"),
        ("crash-on-unknown-method", "mcp.crash"),
    ];
    let good = verify_stdio("");
    assert_eq!(good["era"]["kind"], "stateless", "{good:#}");
    // Over stdio a malformed discovery result also stops rmcp's handshake: the
    // diagnosis names the field instead of the SDK's opaque error.
    for (_, id) in cases
        .iter()
        .filter(|(f, id)| *id != "mcp.crash" && !matches!(*f, "no-cache-hints" | "bad-discover"))
    {
        assert_eq!(find(&good, id)["status"], "pass", "{id}: {good:#}");
    }
    let mut wrong = Vec::new();
    for (fault, id) in cases {
        let bad = verify_stdio(fault);
        if !ids(&bad).iter().any(|i| i == id) {
            wrong.push(format!(
                "{fault}: no {id}; handshake: {}",
                find(&bad, "mcp.handshake")["message"]
            ));
            continue;
        }
        let c = find(&bad, id);
        if c["status"] != "fail" {
            wrong.push(format!(
                "{fault}: {id} is {} ({})",
                c["status"], c["message"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
