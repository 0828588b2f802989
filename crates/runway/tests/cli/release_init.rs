//! `runway init` against real project layouts: a Python package released by
//! release-please, a TypeScript server with a version constant and a
//! Dockerfile, a compose project with Kubernetes manifests, a Rust crate with
//! component tags, a release-please monorepo. Each is initialised, then
//! planned; the process-target one is shipped.

use std::path::Path;

use runway_testkit::{Repo, Test};

fn runway(dir: &Path) -> Test {
    let mut c = Test::new();
    c.current_dir(dir)
        .env("RUNWAY_OPERATOR", "alice")
        .env_remove("RUNWAY_LEDGER_URL");
    c
}

fn load(dir: &Path) -> runway_config::Config {
    runway_config::Config::load(&dir.join("runway.toml"))
        .unwrap()
        .config
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
    let cfg = load(d.path());
    let paths: Vec<&str> = cfg.release.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["pyproject.toml", "hangar/__init__.py"]);
    assert_eq!(cfg.project.name.as_deref(), Some("hangar"));
    // The release criteria are offered commented, with the seeds' numbers,
    // and parse once uncommented.
    let text = std::fs::read_to_string(d.path().join("runway.toml")).unwrap();
    let criteria = "# [release.criteria]\n# max_rollbacks = 0\n# max_incidents_p0_p1 = 0\n# min_verify_pass_rate = 0.99\n";
    assert!(text.contains(criteria), "{text}");
    let on = text.replace(criteria, &criteria.replace("# ", ""));
    let parsed = runway_config::Config::parse(&on, &d.path().join("runway.toml")).unwrap();
    assert_eq!(parsed.release.criteria.min_verify_pass_rate, 0.99);
    // Nothing says how the server starts: the one line to fill in is named,
    // and planning works all the same (exit 1: nothing is released yet).
    assert!(
        stderr.contains("FILL IN: the command that starts the server"),
        "{stderr}"
    );
    let out = runway(d.path()).args(["plan", "staging"]).run();
    out.code(1)
        .stdout_contains("plan: 0.4.0 to staging (process target)");

    // A second run changes nothing; `--force` rewrites.
    let before = std::fs::read_to_string(d.path().join("runway.toml")).unwrap();
    std::fs::write(d.path().join("runway.toml"), format!("{before}# mine\n")).unwrap();
    let out = runway(d.path()).arg("init").run();
    out.success().stderr_contains("nothing changed");
    let kept = std::fs::read_to_string(d.path().join("runway.toml")).unwrap();
    assert!(kept.ends_with("# mine\n"));
    runway(d.path()).args(["init", "--force"]).run().success();
    let again = std::fs::read_to_string(d.path().join("runway.toml")).unwrap();
    assert_eq!(again, before);
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

/// A Python MCP server released by release-please, run with compose.
fn python_release_please() -> Repo {
    let r = Repo::new();
    r.write(
        "pyproject.toml",
        "[project]\nname = \"mcp-demo\"\nversion = \"1.4.0\"\n\n[project.scripts]\nmcp-demo = \"mcp_demo.cli:main\"\n",
    );
    r.write(
        "release-please-config.json",
        r#"{"release-type":"python","packages":{".":{"package-name":"mcp-demo","include-component-in-tag":false,"skip-changelog":true,"draft":false,
           "extra-files":[{"type":"json","path":"server.json","jsonpath":"$.version"}],
           "changelog-sections":[{"type":"feat","section":"Added"},{"type":"fix","section":"Fixed"},{"type":"chore","section":"Changed","hidden":true}]}}}"#,
    );
    r.write(".release-please-manifest.json", r#"{".": "1.4.0"}"#);
    r.write(
        "server.json",
        "{\n  \"name\": \"io.github.acme/mcp-demo\",\n  \"version\": \"1.4.0\"\n}\n",
    );
    r.write(
        "src/mcp_demo/server.py",
        "from mcp.server.fastmcp import FastMCP\n\nmcp = FastMCP(\"demo\")\napp = mcp.streamable_http_app()\n\n@mcp.custom_route(\"/health\", methods=[\"GET\"])\nasync def health(request):\n    return JSONResponse({\"status\": \"ok\", \"version\": \"1.4.0\"})\n",
    );
    r.write(
        ".env.example",
        "# the API the tools call\nDEMO_API_KEY=changeme\nexport DEMO_REGION=eu\n# OPTIONAL_FLAG=1\nDEMO_TRANSPORT=stdio\nDEMO_PORT=8000\nDEMO_REQUIRE_TOKEN=true\n",
    );
    r.write(
        "docker-compose.yml",
        "services:\n  demo:\n    build: .\n    ports:\n      - \"8765:8765\"\n    command: [\"serve\", \"--host\", \"0.0.0.0\", \"--port\", \"8765\"]\n",
    );
    r.commit_all("feat: first release");
    r.tag("v1.4.0");
    r
}

#[test]
fn a_release_please_python_project_is_taken_over() {
    let r = python_release_please();
    let out = runway(r.path()).arg("init").run();
    out.success();
    let stderr = out.stderr_text();
    for needle in [
        "took over from release-please-config.json: bump-minor-pre-major = false (release-please's default)",
        "could not take over: `draft`",
        "found `src/mcp_demo/server.py`:8",
        "added `.runway/` to `.gitignore`",
        "git add runway.toml .gitignore",
        "fill in: runway.toml:",
    ] {
        assert!(stderr.contains(needle), "{needle}\n{stderr}");
    }
    let cfg = load(r.path());
    assert_eq!(cfg.project.name.as_deref(), Some("mcp-demo"));
    let rel = &cfg.release;
    assert_eq!(rel.tag_prefix, "v");
    assert!(
        !rel.bump_minor_pre_major,
        "release-please's default is false"
    );
    assert_eq!(rel.changelog.sections[0].section, "Added");
    assert_eq!(
        rel.checks.get("changelog"),
        Some(&runway_config::release::CheckLevel::Off)
    );
    let server = rel.files.iter().find(|f| f.path == "server.json").unwrap();
    assert_eq!(
        server.fields.as_deref(),
        Some(&["$.version".to_owned()][..])
    );
    let health = rel
        .files
        .iter()
        .find(|f| f.path == "src/mcp_demo/server.py")
        .unwrap();
    assert!(health.regex.is_some());

    let staging = &cfg.environments["staging"];
    assert_eq!(staging.url.as_deref(), Some("http://127.0.0.1:8765/mcp"));
    assert_eq!(staging.health_path.as_deref(), Some("/health"));
    let deploy = staging.deploy.as_ref().unwrap();
    assert_eq!(
        deploy.command.as_ref().unwrap().join(" "),
        "mcp-demo serve --host 127.0.0.1 --port {port}"
    );
    let analysis = staging.analysis.as_ref().unwrap();
    assert_eq!(analysis.availability_min, Some(0.95));
    assert_eq!(analysis.auth_failure_max, Some(0.10));
    let production = &cfg.environments["production"];
    let gates = production.gates.as_ref().unwrap();
    // Secrets and placeholders are required; values with defaults are not.
    assert_eq!(gates.required_env, ["DEMO_API_KEY"]);
    // The example's own switches start the server on HTTP, on `{port}`.
    let env = &deploy.env;
    assert_eq!(env["DEMO_TRANSPORT"], "http");
    assert_eq!(env["DEMO_PORT"], "{port}");
    assert!(production.window.is_some());
    let gitignore = r.read(".gitignore");
    assert!(gitignore.contains(".runway/"), "{gitignore}");

    // Planning works without `--version` (the files' version).
    let out = runway(r.path()).args(["plan", "staging"]).run();
    assert!(
        matches!(out.exit_code(), Some(0 | 1)),
        "{}",
        out.stderr_text()
    );
    out.stdout_contains("plan: 1.4.0 to staging (process target)");

    // Before the commit, the clean-tree check says to commit init's files.
    let out = runway(r.path())
        .args(["release", "check", "--no-gates"])
        .run();
    out.code(1)
        .stderr_contains("git add runway.toml .gitignore");
    r.commit_all("chore: add runway.toml");
    let out = runway(r.path())
        .args(["release", "check", "--no-gates"])
        .run();
    // The column is as wide as the longest row name (`server.json description`).
    let stdout = out.stdout_text();
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("clean tree ") && l.contains(" pass ")),
        "{stdout}"
    );
    out.stdout_contains("turned off in `[release.checks]`");

    // Twice changes nothing, not even `.gitignore`.
    runway(r.path()).arg("init").run().success();
    assert_eq!(r.git(&["status", "--porcelain"]).trim(), "");
}

#[test]
fn a_typescript_server_with_a_version_constant_and_a_dockerfile() {
    let r = Repo::new();
    r.write(
        "package.json",
        "{\n  \"name\": \"@acme/weather-mcp\",\n  \"version\": \"0.1.0\",\n  \"scripts\": { \"start\": \"node dist/index.js\" }\n}\n",
    );
    r.write("src/version.ts", "export const serviceVersion = '0.1.0';\n");
    r.write(
        "src/index.ts",
        "import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';\nconst port = process.env.PORT || 3100;\napp.post('/mcp', handler);\napp.get('/healthz', (_req, res) => res.json({ ok: true }));\nconst ua = `weather/0.1.0`;\n",
    );
    r.write(
        "Dockerfile",
        "FROM node:22\nEXPOSE 3100\nCMD [\"node\", \"dist/index.js\"]\n",
    );
    r.write("CHANGELOG.md", "# Changelog\n");
    r.commit_all("feat: weather");
    let out = runway(r.path()).arg("init").run();
    out.success();
    let stderr = out.stderr_text();
    assert!(stderr.contains("found `src/version.ts`:1"), "{stderr}");
    assert!(
        stderr.contains("could not classify `src/index.ts`:5"),
        "{stderr}"
    );
    assert!(
        stderr.contains("production: the docker (Dockerfile) target"),
        "{stderr}"
    );
    let cfg = load(r.path());
    assert_eq!(cfg.project.name.as_deref(), Some("@acme/weather-mcp"));
    let staging = &cfg.environments["staging"];
    assert_eq!(staging.url.as_deref(), Some("http://127.0.0.1:3100/mcp"));
    assert_eq!(staging.health_path.as_deref(), Some("/healthz"));
    assert_eq!(
        staging.deploy.as_ref().unwrap().command.as_ref().unwrap(),
        &["npm", "start", "--silent"]
    );
    let prod = cfg.environments["production"].deploy.as_ref().unwrap();
    assert_eq!(prod.target.to_string(), "docker");
    assert_eq!(prod.image.as_deref(), Some("weather-mcp:{version}"));
    // The constant moves with a release.
    r.commit_all("chore: add runway.toml");
    runway(r.path())
        .args(["release", "bump", "minor", "--no-git"])
        .run()
        .success();
    assert_eq!(
        r.read("src/version.ts"),
        "export const serviceVersion = '0.2.0';\n"
    );
    assert!(r.read("package.json").contains("\"version\": \"0.2.0\""));
}

/// dynamic-mcp 0.4.1 as found: `src/version.ts` still says 0.1.0 (no
/// release moved it) and the server reports 0.1.0, so every verify after a
/// deploy failed `mcp.version`. Init offers the constant, marks it to fill
/// in, and `release check` names the disagreement; a bump to an explicit
/// version makes them agree.
#[test]
fn a_version_constant_left_behind_by_earlier_releases_is_offered_and_checked() {
    let r = Repo::new();
    r.write(
        "package.json",
        "{\n  \"name\": \"dynamic-mcp\",\n  \"version\": \"0.4.1\",\n  \"bin\": { \"dynamic-mcp\": \"./dist/index.js\" }\n}\n",
    );
    r.write("src/version.ts", "export const serviceVersion = '0.1.0';\n");
    r.write("CHANGELOG.md", "# Changelog\n");
    r.commit_all("feat: dynamic tools");
    r.tag("v0.4.1");
    let out = runway(r.path()).arg("init").run();
    out.success();
    let stderr = out.stderr_text();
    assert!(
        stderr.contains("found `src/version.ts`:1") && stderr.contains("says `0.1.0`, not `0.4.1`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("fill in: runway.toml:") && stderr.contains("says 0.1.0, not 0.4.1"),
        "{stderr}"
    );
    let cfg = load(r.path());
    assert!(
        cfg.release.files.iter().any(|f| f.path == "src/version.ts"),
        "{:?}",
        cfg.release.files
    );
    r.commit_all("chore: add runway.toml");
    let check = runway(r.path()).args(["release", "check"]).run();
    check.code(1);
    let text = check.stdout_text();
    assert!(text.contains("src/version.ts: 0.1.0"), "{text}");
    runway(r.path())
        .args(["release", "bump", "--version", "0.4.2", "--no-git"])
        .run()
        .success();
    assert_eq!(
        r.read("src/version.ts"),
        "export const serviceVersion = '0.4.2';\n"
    );
    assert!(r.read("package.json").contains("\"version\": \"0.4.2\""));
}

/// A semantic-release project: `0.0.0-development` in package.json, the
/// version in the tags. Init writes no version file and nothing to fill in
/// for it; a bump tags the release and leaves package.json as it is.
#[test]
fn a_semantic_release_placeholder_leaves_the_version_to_the_tags() {
    let r = Repo::new();
    r.write(
        "package.json",
        "{\n  \"name\": \"mcp-srv\",\n  \"version\": \"0.0.0-development\"\n}\n",
    );
    r.commit_all("feat: start");
    r.tag("v1.2.0");
    r.write("src/a.ts", "export const a = 1;\n");
    r.commit_all("feat: a tool");
    let out = runway(r.path()).arg("init").run();
    out.success();
    let stderr = out.stderr_text();
    assert!(
        stderr.contains("semantic-release's placeholder"),
        "{stderr}"
    );
    assert!(!stderr.contains("no version file found"), "{stderr}");
    assert!(
        r.read("runway.toml")
            .contains("files = []  # the git tag is the version")
    );
    r.commit_all("chore: add runway.toml");
    let out = runway(r.path()).args(["release", "bump", "auto"]).run();
    out.success();
    assert!(
        out.stderr_text().contains("released `1.2.0` → `1.3.0`"),
        "{}",
        out.stderr_text()
    );
    assert!(r.read("package.json").contains("0.0.0-development"));
    assert!(r.git(&["tag", "--list"]).contains("v1.3.0"));
    runway(r.path()).args(["release", "check"]).run().success();
}

#[test]
fn compose_and_kubernetes_manifests_make_the_two_environments() {
    let r = Repo::new();
    r.write("VERSION", "2.0.0\n");
    r.write(
        "compose.yaml",
        "services:\n  api:\n    build:\n      context: .\n    ports:\n      - \"9000:9000\"\n",
    );
    r.write(
        "k8s/deployment.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: api-svc\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: mcp-api\n  namespace: tools\nspec:\n  template:\n    spec:\n      containers:\n        - name: server\n          image: x\n",
    );
    r.commit_all("feat: api");
    r.tag("2.0.0");
    r.commit("fix: a bug");
    r.git(&[
        "remote",
        "add",
        "origin",
        "https://github.com/Acme/MCP-API.git",
    ]);
    runway(r.path()).arg("init").run().success();
    let cfg = load(r.path());
    assert_eq!(cfg.release.tag_prefix, "", "bare tags");
    let staging = cfg.environments["staging"].deploy.as_ref().unwrap();
    assert_eq!(staging.target.to_string(), "command");
    assert_eq!(
        staging.deploy.as_ref().unwrap().join(" "),
        "docker compose -f compose.yaml up -d --build api"
    );
    let prod = cfg.environments["production"].deploy.as_ref().unwrap();
    assert_eq!(prod.target.to_string(), "kubernetes");
    assert_eq!(prod.kubernetes.deployment.as_deref(), Some("mcp-api"));
    // The image is the one GitHub's registry holds for `origin`.
    assert_eq!(
        prod.image.as_deref(),
        Some("ghcr.io/acme/mcp-api:{version}")
    );
    assert_eq!(prod.kubernetes.namespace.as_deref(), Some("tools"));
    assert_eq!(prod.kubernetes.container.as_deref(), Some("server"));
    let out = runway(r.path()).args(["release", "status"]).run();
    out.success().stdout_contains("next version:  2.0.1");
    let out = runway(r.path()).args(["plan", "staging"]).run();
    assert!(
        matches!(out.exit_code(), Some(0 | 1)),
        "{}",
        out.stderr_text()
    );
}

#[test]
fn a_rust_crate_with_component_tags_keeps_its_scheme() {
    let r = Repo::new();
    r.write(
        "Cargo.toml",
        "[package]\nname = \"my-srv\"\nversion = \"0.2.0\"\nedition = \"2021\"\n",
    );
    r.write("src/main.rs", "fn main() {}\n");
    r.commit_all("feat: one");
    r.tag("my-srv-v0.1.0");
    r.commit("feat: two");
    r.tag("my-srv-v0.2.0");
    r.commit("fix: three");
    let out = runway(r.path()).arg("init").run();
    out.success()
        .stderr_contains("tags: `my-srv-vX.Y.Z` (2 tag(s) read `my-srv-vX.Y.Z`");
    assert_eq!(load(r.path()).release.tag_prefix, "my-srv-v");
    let out = runway(r.path()).args(["release", "status"]).run();
    out.success()
        .stdout_contains("last release:  my-srv-v0.2.0")
        .stdout_contains("next version:  0.2.1 (patch)");
}

#[test]
fn a_release_please_monorepo_becomes_packages() {
    let r = Repo::new();
    r.write(
        "release-please-config.json",
        r#"{"packages":{"packages/server":{"component":"server"},"packages/client":{"component":"client"}}}"#,
    );
    r.write(
        ".release-please-manifest.json",
        r#"{"packages/server":"1.2.0","packages/client":"0.3.0"}"#,
    );
    r.write(
        "packages/server/package.json",
        "{\n  \"name\": \"server\",\n  \"version\": \"1.2.0\"\n}\n",
    );
    r.write(
        "packages/client/package.json",
        "{\n  \"name\": \"client\",\n  \"version\": \"0.3.0\"\n}\n",
    );
    r.commit_all("feat: both");
    r.tag("server-v1.2.0");
    r.tag("client-v0.3.0");
    r.write("packages/server/x.txt", "x");
    r.commit_all("feat(server): more");
    runway(r.path()).arg("init").run().success();
    let cfg = load(r.path());
    let pk: Vec<(&str, &str, Option<&str>)> = cfg
        .release
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.path.as_str(), p.tag_prefix.as_deref()))
        .collect();
    assert_eq!(
        pk,
        [
            ("client", "packages/client", Some("client-v")),
            ("server", "packages/server", Some("server-v"))
        ]
    );
    let out = runway(r.path())
        .args(["release", "status", "--package", "server"])
        .run();
    out.success().stdout_contains("next version:  1.3.0");
    let out = runway(r.path())
        .args(["release", "status", "--package", "client"])
        .run();
    out.success().stdout_contains("nothing to release");
}

/// Kills what the process target left running, whatever the test did.
struct StopServer<'a>(&'a Path);

impl Drop for StopServer<'_> {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.0.join(".runway/process/staging.pid")) {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", pid.trim())])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

#[test]
fn init_then_plan_then_ship_on_the_process_target() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = Repo::new();
    r.write(
        "package.json",
        "{\n  \"name\": \"ship-demo\",\n  \"version\": \"1.0.0\",\n  \"scripts\": { \"start\": \"node server.js\" }\n}\n",
    );
    // The server: Runway's reference MCP server, started the way a Node
    // project starts its own (`npm start`, the port from `PORT`).
    r.write(
        "server.js",
        &format!(
            "const {{ spawn }} = require('node:child_process');\nconst port = process.env.PORT || {port};\nconst pkg = require('./package.json');\nconst child = spawn(process.env.SHIP_DEMO_SERVER, ['serve-reference', '--port', String(port), '--version', pkg.version], {{ stdio: 'inherit' }});\nchild.on('exit', (code) => process.exit(code ?? 1));\nprocess.on('SIGTERM', () => child.kill('SIGTERM'));\n"
        ),
    );
    r.write(
        "CHANGELOG.md",
        "# Changelog\n\n## [1.0.0] - 2026-01-12\n\n- first\n",
    );
    r.commit_all("feat: first release");
    let _stop = StopServer(r.path());
    runway(r.path()).arg("init").run().success();
    let cfg = load(r.path());
    let staging = &cfg.environments["staging"];
    assert_eq!(
        staging.url.as_deref(),
        Some(format!("http://127.0.0.1:{port}/mcp").as_str())
    );
    // The one hand edit: a test cannot watch for ten minutes.
    let text = r
        .read("runway.toml")
        .replacen("bake = \"10m\"", "bake = \"3s\"", 1)
        .replacen("interval = \"60s\"", "interval = \"500ms\"", 1)
        .replacen("min_samples = 5", "min_samples = 3", 1);
    r.write("runway.toml", &text);
    r.commit_all("chore: add runway.toml");
    // Not released yet: the gate refuses, and its hint is a command that works.
    let out = runway(r.path()).args(["plan", "staging"]).run();
    out.code(1)
        .stdout_contains("release_check      refuse")
        .stdout_contains("`runway release bump auto`");
    let out = runway(r.path()).args(["release", "bump", "auto"]).run();
    out.success();
    assert!(
        out.stderr_text()
            .contains("released `1.0.0` (the first release: the version in the files)"),
        "{}",
        out.stderr_text()
    );
    assert_eq!(r.git(&["tag", "--list"]).trim(), "v1.0.0");
    let bin = runway_testkit::runway_bin();

    let out = runway(r.path()).args(["plan", "staging"]).run();
    out.success()
        .stdout_contains("plan: 1.0.0 to staging (process target)")
        .stdout_contains("release_check      pass");
    let out = runway(r.path())
        .args(["ship", "staging"])
        .env("SHIP_DEMO_SERVER", &bin)
        .timeout(std::time::Duration::from_secs(120))
        .run();
    assert_eq!(
        out.exit_code(),
        Some(0),
        "{}\n{}",
        out.stdout_text(),
        out.stderr_text()
    );
    let out = runway(r.path()).args(["status", "staging"]).run();
    out.success().stdout_contains("1.0.0");
}

#[test]
fn without_a_runway_toml_the_existing_tag_scheme_is_used() {
    let r = Repo::new();
    r.write(
        "package.json",
        "{\n  \"name\": \"x\",\n  \"version\": \"2.2.0\"\n}\n",
    );
    r.commit_all("feat: one");
    r.tag("2.2.0");
    r.commit("fix: two");
    let out = runway(r.path()).args(["release", "status"]).run();
    out.success()
        .stdout_contains("last release:  2.2.0")
        .stdout_contains("next version:  2.2.1 (patch)");
}
