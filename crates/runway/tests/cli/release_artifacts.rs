//! `runway release verify-artifacts` against real indexes on 127.0.0.1: a
//! PyPI index (`pypiserver`) serving wheels the test builds, Debian's
//! `docker-registry` with images the test builds `FROM scratch` and pushes
//! through the private engine, and an npm registry (`verdaccio`) the test
//! publishes to. Each source is checked at a version that works, one whose
//! `--version` prints another version, one that is missing, and behind a
//! closed port; every verdict lands on the release record in the ledger.
//!
//! `scripts/setup.d/60-artifacts.sh` installs pypiserver and verdaccio and
//! exports `RUNWAY_TEST_PYPISERVER`, `RUNWAY_TEST_ARTIFACTS_PYTHON` and
//! `RUNWAY_TEST_VERDACCIO`; `30-docker.sh` the engine and the registry.
//! Without them these tests fail and name the step.

use crate::docker_support;

use std::{
    io::Read,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use runway_testkit::{Output, Test};

const INSTALL: Duration = Duration::from_secs(300);

fn env_path(var: &str, step: &str) -> PathBuf {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() && Path::new(&v).exists() => PathBuf::from(v),
        Ok(v) if !v.is_empty() => panic!("{var}={v} does not exist: run `scripts/setup.d/{step}`"),
        _ => panic!(
            "{var} is not set: these tests need what `scripts/setup.d/{step}` installs \
             (`./scripts/test` runs it; or run it with RUNWAY_TEST_ENV=/tmp/env.sh and source that file)"
        ),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A port nothing listens on (bound, then closed).
fn closed_port() -> u16 {
    free_port()
}

/// Polls `url` until it answers 2xx (bounded); panics with the server's log.
fn wait_until_up(url: &str, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "the server for {url} exited ({status}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if http_get_ok(url) {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!(
        "{url} did not answer within 30 s: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// A plain HTTP/1.0 GET over TCP: true on a 2xx status line.
fn http_get_ok(url: &str) -> bool {
    use std::io::Write;
    let rest = url.strip_prefix("http://").unwrap();
    let (addr, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(s, "GET /{path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 16];
    let n = s.read(&mut head).unwrap_or(0);
    String::from_utf8_lossy(&head[..n])
        .split_whitespace()
        .nth(1)
        .is_some_and(|c| c.starts_with('2'))
}

/// A server process we started; killed (by its handle) on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `pypi-server` on 127.0.0.1 serving `packages`.
pub(crate) fn pypi_index(packages: &Path) -> Server {
    let bin = env_path("RUNWAY_TEST_PYPISERVER", "60-artifacts.sh");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = dir.path().join("pypiserver.log");
    let mut child = Command::new(&bin)
        .args(["run", "-i", "127.0.0.1", "-p", &port.to_string()])
        .arg(packages)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(dir.path().join("pypiserver.err")).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let url = format!("http://127.0.0.1:{port}/simple");
    wait_until_up(
        &format!("{url}/"),
        &mut child,
        &dir.path().join("pypiserver.err"),
    );
    Server {
        child,
        url,
        _dir: dir,
    }
}

/// A wheel of `demo-cli` at `version` whose `demo-cli` script prints `prints`,
/// built offline with the setup step's setuptools, into `out`.
pub(crate) fn build_wheel(out: &Path, version: &str, prints: &str) {
    let python = env_path("RUNWAY_TEST_ARTIFACTS_PYTHON", "60-artifacts.sh");
    let src = tempfile::tempdir().unwrap();
    let p = src.path();
    std::fs::create_dir_all(p.join("demo_cli")).unwrap();
    std::fs::write(
        p.join("pyproject.toml"),
        format!(
            "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"demo-cli\"\nversion = \"{version}\"\n\n[project.scripts]\ndemo-cli = \"demo_cli:main\"\n"
        ),
    )
    .unwrap();
    std::fs::write(
        p.join("demo_cli/__init__.py"),
        format!("def main():\n    print({prints:?})\n"),
    )
    .unwrap();
    Test::program(&python)
        .args([
            "-m",
            "pip",
            "wheel",
            "--isolated",
            "--disable-pip-version-check",
        ])
        .args([
            "--no-build-isolation",
            "--no-deps",
            "--no-index",
            "-q",
            "-w",
        ])
        .arg(out)
        .arg(p)
        .timeout(INSTALL)
        .run()
        .success();
}

fn project(toml: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("runway.toml"), toml).unwrap();
    d
}

fn verify(dir: &Path, args: &[&str]) -> Output {
    Test::new()
        .current_dir(dir)
        .env("RUNWAY_OPERATOR", "tester")
        .env_remove("RUNWAY_LEDGER_URL")
        .args(["release", "verify-artifacts"])
        .args(args)
        .timeout(Duration::from_secs(600))
        .run()
}

fn ledger_show(dir: &Path, id: &str) -> Output {
    Test::new()
        .current_dir(dir)
        .env_remove("RUNWAY_LEDGER_URL")
        .args(["ledger", "show", id])
        .run()
}

/// The `release_id` of a `--format json` run.
fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_str(&out.stdout_text())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", out.stdout_text()))
}

#[test]
fn a_pypi_package_installs_into_a_fresh_venv_and_prints_its_version_or_fails_clearly() {
    let packages = tempfile::tempdir().unwrap();
    build_wheel(packages.path(), "1.2.0", "demo-cli 1.2.0");
    // Built from a stale version string: installs, but says 1.2.0.
    build_wheel(packages.path(), "1.3.0", "demo-cli 1.2.0");
    let index = pypi_index(packages.path());
    // The names come from pyproject.toml: package `demo-cli`, script `demo-cli`.
    let d = project(&format!(
        "[release.artifacts.pypi]\nindex_url = \"{}\"\n",
        index.url
    ));
    std::fs::write(
        d.path().join("pyproject.toml"),
        "[project]\nname = \"demo-cli\"\nversion = \"1.2.0\"\n\n[project.scripts]\ndemo-cli = \"demo_cli:main\"\n",
    )
    .unwrap();

    // The current version (from pyproject.toml, no git needed): it works.
    let ok = verify(d.path(), &["--format", "json"]);
    ok.success();
    let doc = json_of(&ok);
    assert_eq!(doc["version"], "1.2.0");
    assert_eq!(doc["passed"], true);
    let a = &doc["artifacts"][0];
    assert_eq!(a["source"], "pypi");
    assert_eq!(a["artifact"], "demo-cli==1.2.0");
    assert_eq!(a["printed"], "demo-cli 1.2.0");
    // The wheel's digest as the index gives it: the file's own sha256.
    let wheel = std::fs::read_dir(packages.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-1.2.0-py3-none-any.whl"))
        .expect("the 1.2.0 wheel");
    let sum = Command::new("sha256sum").arg(&wheel).output().unwrap();
    let hex = String::from_utf8_lossy(&sum.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(a["digest"], format!("sha256:{hex}"), "{a}");
    let release = doc["release_id"].as_str().unwrap().to_owned();

    // The wrong output is quoted.
    let wrong = verify(d.path(), &["--version", "v1.3.0"]);
    wrong
        .code(1)
        .stdout_contains("FAIL  pypi    demo-cli==1.3.0")
        .stdout_contains(
            "`demo-cli --version` printed `demo-cli 1.2.0`, which does not name `1.3.0`",
        );
    wrong.stderr_contains("1 of 1 artifact(s) failed");

    // A missing version names the index and the versions it has.
    let missing = verify(d.path(), &["--version", "2.0.0"]);
    missing.code(1).stdout_contains(format!(
        "`demo-cli` 2.0.0 is not on `{}`: it has ",
        index.url
    ));
    let text = missing.stdout_text();
    assert!(text.contains("1.2.0") && text.contains("1.3.0"), "{text}");

    // The verdicts are on the release records.
    let shown = ledger_show(d.path(), &release);
    shown
        .success()
        .stdout_contains("release ")
        .stdout_contains("artifacts (")
        .stdout_contains("pass  pypi    demo-cli==1.2.0")
        .stdout_contains("`demo-cli --version` printed `demo-cli 1.2.0`");
    let list = Test::new()
        .current_dir(d.path())
        .env_remove("RUNWAY_LEDGER_URL")
        .args(["ledger", "list", "--kind", "release", "--format", "json"])
        .run();
    list.success();
    let records: serde_json::Value = serde_json::from_str(&list.stdout_text()).unwrap();
    let versions: Vec<&str> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["1.2.0", "1.3.0", "2.0.0"]);
    let wrong_record = &records[1];
    let fact = wrong_record["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["data"]["fact"] == "artifacts")
        .expect("an artifacts fact on the 1.3.0 release");
    assert_eq!(fact["data"]["passed"], false);
    assert_eq!(fact["data"]["artifacts"][0]["problem"], "wrong_version");
}

#[test]
fn an_unreachable_index_names_its_url_and_what_to_check() {
    let (p, n, r) = (closed_port(), closed_port(), closed_port());
    let d = project(&format!(
        "[release.artifacts.pypi]\nindex_url = \"http://127.0.0.1:{p}/simple\"\npackage = \"demo-cli\"\n\n\
         [release.artifacts.npm]\nregistry = \"http://127.0.0.1:{n}\"\npackage = \"@acme/demo-cli\"\n\n\
         [release.artifacts.docker]\nregistry = \"http://127.0.0.1:{r}\"\nimage = \"acme/demo-cli\"\n"
    ));
    let out = verify(d.path(), &["--version", "1.2.0"]);
    out.code(1)
        .stdout_contains(format!(
            "cannot reach `http://127.0.0.1:{p}/simple/demo-cli/`: could not connect"
        ))
        .stdout_contains(format!(
            "cannot reach `http://127.0.0.1:{n}/@acme%2fdemo-cli`: could not connect"
        ))
        .stdout_contains(format!(
            "cannot reach `http://127.0.0.1:{r}`: could not connect"
        ))
        .stderr_contains("check `release.artifacts.pypi.index_url` in `runway.toml`")
        .stderr_contains("check `release.artifacts.npm.registry` in `runway.toml`")
        .stderr_contains("check `release.artifacts.docker.registry` in `runway.toml`")
        .stderr_contains("3 of 3 artifact(s) failed");
}

#[test]
fn bad_artifact_configuration_exits_2_naming_the_line() {
    let d = project("[release.artifacts.npm]\nregistry = \"127.0.0.1:4873\"\n");
    verify(d.path(), &["--version", "1.0.0"])
        .code(2)
        .stderr_contains("runway.toml:2:1: `release.artifacts.npm.registry`")
        .stderr_contains("not an http:// or https:// URL");

    // No package name anywhere: the field and the file it would come from.
    let d = project("[release]\ntag_prefix = \"v\"\n\n[release.artifacts.pypi]\n");
    verify(d.path(), &["--version", "1.0.0"])
        .code(2)
        .stderr_contains("runway.toml:4:")
        .stderr_contains("`release.artifacts.pypi.package`: no package name")
        .stderr_contains("pyproject.toml");

    let d = project("[release]\n");
    verify(d.path(), &["--version", "1.0.0"])
        .code(2)
        .stderr_contains("names no artifacts")
        .stderr_contains("[release.artifacts.pypi]");

    let d =
        project("[release.artifacts.docker]\nimage = \"a/b\"\nregistry = \"http://127.0.0.1:1\"\n");
    verify(d.path(), &["--version", "not-a-version"])
        .code(2)
        .stderr_contains("`--version` \"not-a-version\" is not a version");
}

// ---- Docker --------------------------------------------------------------

/// The shared libraries `ldd` says `binary` loads.
fn libraries(binary: &Path) -> Vec<PathBuf> {
    let out = Command::new("ldd")
        .arg(binary)
        .output()
        .expect("`ldd` runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let path = match l.split_once("=>") {
                Some((_, right)) => right.split_whitespace().next(),
                None => l.split_whitespace().next(),
            }?;
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

fn docker(args: &[&str]) -> Output {
    docker_support::docker_host();
    let out = Test::program("docker").args(args).timeout(INSTALL).run();
    out.success();
    out
}

/// An image `FROM scratch` holding `/bin/sh` and its libraries whose
/// entrypoint prints `prints` (and ignores `--version`), pushed as `reference`.
async fn push_image(engine: &bollard::Docker, reference: &str, prints: &str) {
    let ctx = tempfile::tempdir().unwrap();
    let root = ctx.path().join("rootfs");
    let sh = std::fs::canonicalize("/bin/sh").unwrap();
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy(&sh, root.join("bin/sh")).unwrap();
    for lib in libraries(&sh) {
        let dest = root.join(lib.strip_prefix("/").unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&lib, &dest).unwrap();
    }
    let entry = serde_json::to_string(&["/bin/sh", "-c", &format!("echo {prints}"), "sh"]).unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        format!("FROM scratch\nCOPY rootfs/ /\nENTRYPOINT {entry}\n"),
    )
    .unwrap();
    docker_support::build(engine, ctx.path(), reference).await;
    docker(&["push", "-q", reference]);
    // Only the registry's copy: verify-artifacts must pull it.
    docker(&["image", "rm", "-f", reference]);
}

#[tokio::test]
async fn a_docker_image_in_the_registry_runs_and_prints_its_version_or_fails_clearly() {
    let engine = docker_support::engine().await;
    let registry = docker_support::Registry::start();
    let repo = format!("runway-test/artifacts-{}", std::process::id());
    let base = format!("{}/{repo}", registry.addr);
    push_image(&engine, &format!("{base}:v1.2.0"), "demo-server 1.2.0").await;
    push_image(&engine, &format!("{base}:v1.3.0"), "demo-server 1.2.0").await;
    let d = project(&format!(
        "[release.artifacts.docker]\nregistry = \"http://{}\"\nimage = \"{repo}\"\ntag = \"v{{version}}\"\n",
        registry.addr
    ));

    let ok = verify(d.path(), &["--version", "1.2.0", "--format", "json"]);
    ok.success();
    let doc = json_of(&ok);
    let a = &doc["artifacts"][0];
    assert_eq!(a["artifact"], format!("{base}:v1.2.0"));
    assert_eq!(a["printed"], "demo-server 1.2.0");
    assert!(a["digest"].as_str().unwrap().starts_with("sha256:"), "{a}");

    verify(d.path(), &["--version", "1.3.0"]).code(1).stdout_contains(format!(
        "`docker run {base}:v1.3.0 --version` printed `demo-server 1.2.0`, which does not name `1.3.0`"
    ));

    let missing = verify(d.path(), &["--version", "2.0.0"]);
    missing.code(1).stdout_contains(format!(
        "the tag `v2.0.0` of `{repo}` is not on `http://{}`: it has ",
        registry.addr
    ));
    let text = missing.stdout_text();
    assert!(text.contains("v1.2.0") && text.contains("v1.3.0"), "{text}");

    // No container is left behind by the runs.
    let ps = docker(&["ps", "-a", "--format", "{{.Names}}"]);
    assert!(
        !ps.stdout_text().contains("runway-artifacts-"),
        "{}",
        ps.stdout_text()
    );

    let shown = ledger_show(d.path(), doc["release_id"].as_str().unwrap());
    shown
        .success()
        .stdout_contains(format!("pass  docker  {base}:v1.2.0"));
}

// ---- npm -----------------------------------------------------------------

/// verdaccio on 127.0.0.1 with its own storage and users file.
fn npm_registry() -> Server {
    let bin = env_path("RUNWAY_TEST_VERDACCIO", "60-artifacts.sh");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "storage: {}\nauth:\n  htpasswd:\n    file: {}\n    max_users: 10\nuplinks: {{}}\npackages:\n  '**':\n    access: $all\n    publish: $authenticated\nlisten: 127.0.0.1:{port}\nlog: {{ type: stdout, format: pretty, level: warn }}\n",
            dir.path().join("storage").display(),
            dir.path().join("htpasswd").display()
        ),
    )
    .unwrap();
    let log = dir.path().join("verdaccio.log");
    let mut child = Command::new("node")
        .arg(&bin)
        .arg("--config")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(dir.path().join("verdaccio.err")).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start verdaccio with `node`: {e}"));
    let url = format!("http://127.0.0.1:{port}");
    wait_until_up(&format!("{url}/-/ping"), &mut child, &log);
    Server {
        child,
        url,
        _dir: dir,
    }
}

/// Adds a user to the registry and returns an `.npmrc` with its token.
fn npm_login(registry: &Server, dir: &Path) -> PathBuf {
    let body = r#"{"name":"runway","password":"runway-test-password"}"#;
    let out = Test::program("curl")
        .args([
            "-sS",
            "--fail",
            "-X",
            "PUT",
            "-H",
            "content-type: application/json",
        ])
        .args(["-d", body])
        .arg(format!("{}/-/user/org.couchdb.user:runway", registry.url))
        .run();
    out.success();
    let v: serde_json::Value = serde_json::from_str(&out.stdout_text()).unwrap();
    let token = v["token"].as_str().expect("verdaccio gave a token");
    let host = registry.url.trim_start_matches("http:");
    let npmrc = dir.join("npmrc");
    std::fs::write(&npmrc, format!("{host}/:_authToken={token}\n")).unwrap();
    npmrc
}

/// Publishes `@acme/demo-cli` at `version` with a `demo-cli` bin printing `prints`.
fn npm_publish(registry: &Server, npmrc: &Path, version: &str, prints: &str) {
    let pkg = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(pkg.path().join("bin")).unwrap();
    std::fs::write(
        pkg.path().join("package.json"),
        format!(
            r#"{{"name": "@acme/demo-cli", "version": "{version}", "files": ["bin"], "bin": {{"demo-cli": "bin/cli.js"}}}}"#
        ),
    )
    .unwrap();
    std::fs::write(
        pkg.path().join("bin/cli.js"),
        format!("#!/usr/bin/env node\nconsole.log({prints:?});\n"),
    )
    .unwrap();
    Test::program("npm")
        .current_dir(pkg.path())
        .args(["publish", "--access", "public", "--registry", &registry.url])
        .arg("--userconfig")
        .arg(npmrc)
        // Outside the package: npm would pack its own growing log otherwise.
        .arg("--cache")
        .arg(npmrc.with_file_name("npm-cache"))
        .timeout(INSTALL)
        .run()
        .success();
}

#[test]
fn an_npm_package_installs_into_a_fresh_prefix_and_prints_its_version_or_fails_clearly() {
    let registry = npm_registry();
    let home = tempfile::tempdir().unwrap();
    let npmrc = npm_login(&registry, home.path());
    npm_publish(&registry, &npmrc, "1.2.0", "demo-cli 1.2.0");
    npm_publish(&registry, &npmrc, "1.3.0", "demo-cli 1.2.0");
    // The names come from package.json: `@acme/demo-cli`, bin `demo-cli`.
    let d = project(&format!(
        "[release.artifacts.npm]\nregistry = \"{}\"\n",
        registry.url
    ));
    std::fs::write(
        d.path().join("package.json"),
        r#"{"name": "@acme/demo-cli", "version": "1.2.0", "bin": {"demo-cli": "bin/cli.js"}}"#,
    )
    .unwrap();

    let ok = verify(d.path(), &["--format", "json"]);
    ok.success();
    let doc = json_of(&ok);
    assert_eq!(doc["version"], "1.2.0");
    assert_eq!(doc["artifacts"][0]["artifact"], "@acme/demo-cli@1.2.0");
    assert_eq!(doc["artifacts"][0]["printed"], "demo-cli 1.2.0");
    // The tarball's integrity as the registry gives it.
    let digest = doc["artifacts"][0]["digest"].as_str().unwrap_or_default();
    assert!(digest.starts_with("sha512-") && digest.len() > 80, "{doc}");

    verify(d.path(), &["--version", "1.3.0"])
        .code(1)
        .stdout_contains("FAIL  npm     @acme/demo-cli@1.3.0")
        .stdout_contains(
            "`demo-cli --version` printed `demo-cli 1.2.0`, which does not name `1.3.0`",
        );

    let missing = verify(d.path(), &["--version", "2.0.0"]);
    missing.code(1).stdout_contains(format!(
        "`@acme/demo-cli` 2.0.0 is not on `{}`: it has ",
        registry.url
    ));
    let text = missing.stdout_text();
    assert!(text.contains("1.2.0") && text.contains("1.3.0"), "{text}");

    ledger_show(d.path(), doc["release_id"].as_str().unwrap())
        .success()
        .stdout_contains("pass  npm     @acme/demo-cli@1.2.0");
}
