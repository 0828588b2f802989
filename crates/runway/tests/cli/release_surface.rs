//! The MCP tool surface is part of the version: `runway release` captures it from
//! the server named in `[release.surface_source]`, records it with the release,
//! and demands a major bump when a later commit removes tools.
//!
//! The server is Runway's own reference server over stdio; between the two
//! commits its config switches on `few-tools`, which drops 13 of its 16 tools.

use crate::release_support;

use runway_testkit::Output;
use std::path::Path;

use release_support::{git, repo, text};

fn runway(dir: &Path, args: &[&str]) -> Output {
    release_support::runway(dir, args, &[])
}

/// `runway.toml` whose surface source is the reference server with `faults`.
fn config(faults: Option<&str>) -> String {
    let bin = runway_testkit::runway_bin();
    let bin = bin.display();
    let mut cmd = format!("\"{bin}\", \"serve-reference\", \"--stdio\"");
    if let Some(f) = faults {
        cmd.push_str(&format!(", \"--faults\", \"{f}\""));
    }
    format!("[release.surface_source]\ncommand = [{cmd}]\n")
}

fn project() -> tempfile::TempDir {
    let d = repo();
    let p = d.path();
    std::fs::write(
        p.join("pyproject.toml"),
        "[project]\nname = \"srv\"\nversion = \"0.9.0\"\n",
    )
    .unwrap();
    std::fs::write(p.join("CHANGELOG.md"), "# Changelog\n").unwrap();
    std::fs::write(p.join("runway.toml"), config(None)).unwrap();
    git(p, &["add", "-A"]);
    git(p, &["commit", "-q", "-m", "feat: the first tools"]);
    d
}

#[test]
fn removing_tools_after_a_release_requires_a_major_bump_naming_each_tool() {
    let d = project();
    let p = d.path();

    // Release 1.0.0: the surface is captured live and committed with the release.
    let out = runway(p, &["release", "bump", "--version", "1.0.0"]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("capturing the tool surface"),
        "{}",
        text(&out.stderr)
    );
    let recorded: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(p.join(".runway/tool-surface.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        recorded["tools"].as_array().unwrap().len(),
        runway_reference::TOOL_NAMES.len()
    );
    let tracked = runway_testkit::git::git(p, &["ls-files", ".runway/tool-surface.json"]);
    assert!(
        !tracked.is_empty(),
        "the surface file is committed with the release"
    );

    // A later commit that only claims a fix, but the server lost most of its tools.
    std::fs::write(p.join("runway.toml"), config(Some("few-tools"))).unwrap();
    git(p, &["commit", "-q", "-am", "fix: trim the tool list"]);

    let out = runway(p, &["release", "status", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(st["next"], "2.0.0", "{st:#}");
    let changes = st["surface"]["changes"].as_array().unwrap();
    let removed: Vec<&str> = changes
        .iter()
        .map(|c| c["tool"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = runway_reference::TOOL_NAMES
        .iter()
        .copied()
        .filter(|t| !runway_reference::FEW_TOOLS.contains(t))
        .collect();
    assert_eq!(removed.len(), expected.len(), "{removed:?}");
    for t in expected {
        assert!(
            removed.contains(&t),
            "`{t}` not reported as removed: {removed:?}"
        );
    }

    // A patch release is refused: the surface needs a major one.
    let out = runway(p, &["release", "bump", "patch", "--no-git"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("major"), "{}", text(&out.stderr));
    assert!(
        std::fs::read_to_string(p.join("pyproject.toml"))
            .unwrap()
            .contains("\"1.0.0\""),
        "nothing written"
    );

    // `--no-surface` skips the capture (and so the comparison).
    let out = runway(
        p,
        &["release", "status", "--format", "json", "--no-surface"],
    );
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(st["next"], "1.0.1", "{st:#}");
}

#[test]
fn an_unreachable_surface_source_is_a_usage_error_with_the_fix() {
    let d = project();
    let p = d.path();
    std::fs::write(
        p.join("runway.toml"),
        "[release.surface_source]\ncommand = [\"./no-such-server\"]\n",
    )
    .unwrap();
    let out = runway(p, &["release", "status"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("could not capture the tool surface"), "{err}");
    assert!(err.contains("--no-surface"), "{err}");
}

#[test]
fn an_empty_surface_source_token_is_an_error_naming_the_variable() {
    let d = project();
    let p = d.path();
    std::fs::write(
        p.join("runway.toml"),
        "[release.surface_source]\nurl = \"http://127.0.0.1:9/mcp\"\ntoken_env = \"RUNWAY_BLANK_SURFACE_TOKEN\"\n",
    )
    .unwrap();
    let out = release_support::runway(
        p,
        &["release", "status"],
        &[("RUNWAY_BLANK_SURFACE_TOKEN", " ")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("environment variable `RUNWAY_BLANK_SURFACE_TOKEN` (`release.surface_source.token_env`) is empty"),
        "{err}"
    );
}

/// The Python interpreter of the `mcp` 2.x venv that `scripts/setup.d/20-interop.sh` builds.
fn python_mcp2() -> Option<String> {
    match std::env::var("RUNWAY_INTEROP_PY_MCP2") {
        Ok(p) if !p.is_empty() => Some(p),
        _ if std::env::var("RUNWAY_SKIP_INTEROP").as_deref() == Ok("1") => {
            eprintln!("python surface test skipped: RUNWAY_SKIP_INTEROP=1");
            None
        }
        _ => panic!(
            "RUNWAY_INTEROP_PY_MCP2 is not set: run `scripts/test` (it installs the Python `mcp` SDK), \
             or set RUNWAY_SKIP_INTEROP=1 to skip this test"
        ),
    }
}

/// A Python server on the `mcp` SDK whose `search` tool takes `params`.
fn python_server(params: &str) -> String {
    format!(
        "from mcp.server.mcpserver import MCPServer\n\
         mcp = MCPServer(name=\"py-surface\", version=\"1.0.0\")\n\n\
         @mcp.tool()\n\
         def search({params}) -> str:\n    \"\"\"Search the catalogue.\"\"\"\n    return query\n\n\
         @mcp.tool()\n\
         def ping_backend() -> str:\n    \"\"\"Check the backend.\"\"\"\n    return \"ok\"\n\n\
         if __name__ == \"__main__\":\n    mcp.run(\"stdio\")\n"
    )
}

#[test]
fn a_python_server_that_gains_a_required_parameter_needs_a_major_release() {
    let Some(py) = python_mcp2() else { return };
    let d = project();
    let p = d.path();
    std::fs::write(p.join("server.py"), python_server("query: str")).unwrap();
    std::fs::write(
        p.join("runway.toml"),
        format!("[release.surface_source]\ncommand = [\"{py}\", \"server.py\"]\n"),
    )
    .unwrap();
    git(p, &["add", "-A"]);
    git(p, &["commit", "-q", "-m", "feat: search"]);
    let out = runway(p, &["release", "bump", "--version", "1.0.0"]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let recorded = std::fs::read_to_string(p.join(".runway/tool-surface.json")).unwrap();
    assert!(
        recorded.contains("\"search\"") && recorded.contains("\"ping_backend\""),
        "{recorded}"
    );

    // Adding an optional parameter is a feature: at least minor.
    std::fs::write(
        p.join("server.py"),
        python_server("query: str, page: int = 1"),
    )
    .unwrap();
    git(p, &["commit", "-q", "-am", "chore: paging"]);
    let out = runway(p, &["release", "status", "--format", "json"]);
    let st: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out.stderr)));
    assert_eq!(st["next"], "1.1.0", "{st:#}");

    // A new required parameter breaks every existing caller: major.
    std::fs::write(
        p.join("server.py"),
        python_server("query: str, tenant: str"),
    )
    .unwrap();
    git(
        p,
        &["commit", "-q", "-am", "fix: scope searches to a tenant"],
    );
    let out = runway(p, &["release", "status", "--format", "json"]);
    let st: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out.stderr)));
    assert_eq!(st["next"], "2.0.0", "{st:#}");
    let changes = st["surface"]["changes"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c["tool"] == "search" && c["path"].as_str().unwrap_or("").contains("tenant")),
        "{changes:#?}"
    );
}
