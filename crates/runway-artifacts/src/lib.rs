//! What a release published, checked for real: `runway release verify-artifacts`.
//!
//! The release pipeline's last step says "the package is on PyPI, the npm
//! package is on the registry, the image is pushed". This module checks that
//! each one is really there *and works*: the PyPI package installs into a
//! fresh virtual environment and its console script prints the version, the
//! npm package installs into a fresh prefix and its executable prints the
//! version, the image's tag is in the registry and `docker run IMAGE
//! --version` prints the version. Each source is asked for the versions it
//! has first, so a missing version names them.
//!
//! Every child (`python3 -m venv`, `pip`, `npm`, `docker`, the installed
//! program) runs through [`runway_process::run`]: its own process group, a
//! bounded tail of output, the whole group killed at the timeout. Every
//! registry answer is read through `runway_verify::http::fetch` (bounded in
//! bytes and time, no redirects). It returns results and never records
//! them: the binary writes them to the ledger.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use runway_config::artifacts::ArtifactsConfig;
use runway_core::Secret;
use runway_verify::http::{self, FetchError, Limits};
use serde::Serialize;

use runway_process::{self as child, ChildError, Run};

mod docker;
mod npm;
mod pypi;
mod yank;

pub use docker::registry_digest;
pub use pypi::{normalize_python_name, simple_index_versions};
pub use yank::{YankState, YankStep, check_yanked, simple_index_yanked, yank_steps};

/// The default time one step may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// The tail of a child's output that is kept.
const MAX_OUTPUT: usize = 64 * 1024;
/// The most a registry listing may be (npm packuments of big packages are large).
const MAX_LISTING: usize = 32 * 1024 * 1024;
/// How many of the versions a source has are named when the wanted one is missing.
const NAMED_VERSIONS: usize = 20;
/// How much of what a program printed is quoted in a message.
const QUOTED: usize = 300;

pub const PYPI_DEFAULT_INDEX: &str = "https://pypi.org/simple";
pub const NPM_DEFAULT_REGISTRY: &str = "https://registry.npmjs.org";

/// Which kind of source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Pypi,
    Npm,
    Docker,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Pypi => "pypi",
            Source::Npm => "npm",
            Source::Docker => "docker",
        }
    }
}

/// Why an artifact failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// The index, registry or engine could not be reached (or answered an error).
    Unreachable,
    /// The package or image is there, but not at this version.
    MissingVersion,
    /// It was there but did not install (or pull).
    InstallFailed,
    /// The installed program is missing, failed, or timed out.
    RunFailed,
    /// `--version` printed something without the version.
    WrongVersion,
    /// The project does not say enough to know what to check.
    Config,
}

/// One artifact's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct ArtifactOutcome {
    pub source: Source,
    /// What was checked, as it would be typed: `demo==1.2.0`, `demo@1.2.0`,
    /// `127.0.0.1:5000/acme/demo:1.2.0`.
    pub artifact: String,
    /// The index, registry URL (credentials hidden).
    pub index: String,
    pub version: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// What `--version` printed (bounded, redacted), when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub printed: Option<String>,
    /// The versions the source has, newest last, when the wanted one is missing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub available: Vec<String>,
    /// What the index says the artifact is: the image's manifest digest
    /// (Docker), the preferred file's `sha256:HEX` (PyPI, a wheel before an
    /// sdist), the tarball's integrity (`sha512-...`, npm).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    pub duration_ms: u64,
}

/// The version to check and how each ecosystem spells it.
#[derive(Debug, Clone)]
pub struct Wanted {
    /// SemVer spelling (`1.2.0-rc.1`): npm, Docker tags.
    pub version: String,
    /// PEP 440 spelling (`1.2.0rc1`): what pip installs.
    pub python: String,
}

impl Wanted {
    /// Whether `printed` names this version (in either spelling) as a word,
    /// so `demo 1.2.0` and `v1.2.0` pass and `1.2.0-dev` or `11.2.0` do not.
    pub fn printed_in(&self, printed: &str) -> bool {
        printed
            .split(|c: char| c.is_whitespace() || "(),;:'\"=@/".contains(c))
            .map(|w| w.strip_prefix('v').unwrap_or(w))
            .any(|w| w == self.version || w == self.python)
    }
}

/// Programs and bounds; the defaults are `python3`, `npm`, `docker` from `PATH`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub timeout: Duration,
    pub python: String,
    pub npm: String,
    pub docker: String,
    /// Where temp dirs go (default: the system's).
    pub temp_dir: Option<PathBuf>,
}

impl Settings {
    pub fn from_config(cfg: &ArtifactsConfig) -> Settings {
        Settings {
            timeout: cfg.timeout.map(|t| t.get()).unwrap_or(DEFAULT_TIMEOUT),
            python: "python3".into(),
            npm: "npm".into(),
            docker: "docker".into(),
            temp_dir: None,
        }
    }

    fn limits(&self, max_body: usize) -> Limits {
        Limits {
            timeout: self.timeout.min(Duration::from_secs(60)),
            max_body,
        }
    }

    fn tempdir(&self, prefix: &str) -> Result<tempfile::TempDir, String> {
        let mut b = tempfile::Builder::new();
        b.prefix(prefix);
        match &self.temp_dir {
            Some(d) => b.tempdir_in(d),
            None => b.tempdir(),
        }
        .map_err(|e| format!("cannot create a temporary directory: {e}"))
    }
}

/// A source resolved against the project: every name known, URLs interpolated.
#[derive(Debug, Clone)]
pub enum Spec {
    Pypi {
        index_url: String,
        package: String,
        script: String,
    },
    Npm {
        registry: String,
        package: String,
        bin: String,
    },
    Docker {
        registry: String,
        image: String,
        tag: String,
    },
}

/// A source that cannot be resolved: the `runway.toml` field and why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("`{field}`: {message}")]
pub struct SpecError {
    pub field: String,
    pub message: String,
}

/// The sources `[release.artifacts]` configures, in the order PyPI, npm,
/// Docker, with names defaulted from `pyproject.toml` and `package.json` in
/// `root` and `${VAR}` interpolated in URLs.
pub fn specs(cfg: &ArtifactsConfig, root: &Path, version: &str) -> Result<Vec<Spec>, SpecError> {
    let mut out = Vec::new();
    if let Some(p) = &cfg.pypi {
        out.push(pypi::spec(p, root)?);
    }
    if let Some(n) = &cfg.npm {
        out.push(npm::spec(n, root)?);
    }
    if let Some(d) = &cfg.docker {
        out.push(docker::spec(d, version)?);
    }
    Ok(out)
}

fn interpolate(field: &str, value: &str) -> Result<String, SpecError> {
    runway_config::interpolate::interpolate_env(value)
        .map(|v| v.trim_end_matches('/').to_owned())
        .map_err(|var| SpecError {
            field: field.to_owned(),
            message: format!("environment variable `{var}` is not set"),
        })
}

/// A package name is put in index URLs and install commands: only the
/// characters `ok` allows, and never a leading `.` or `-`.
fn check_name(field: &str, name: &str, ok: impl Fn(char) -> bool) -> Result<(), SpecError> {
    if !name.is_empty() && !name.starts_with(['.', '-']) && name.chars().all(ok) {
        Ok(())
    } else {
        Err(SpecError {
            field: field.to_owned(),
            message: format!("{name:?} is not a package name (letters, digits, `.`, `_`, `-`)"),
        })
    }
}

/// A console script or bin is looked up as a file in the install's `bin`
/// directory: one plain file name, never a path.
fn check_program(field: &str, name: &str) -> Result<(), SpecError> {
    if !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && !name.chars().any(char::is_control)
    {
        Ok(())
    } else {
        Err(SpecError {
            field: field.to_owned(),
            message: format!("{name:?} is not a program name: give the file name alone"),
        })
    }
}

/// Checks every source, one after the other (each install is heavy on a small machine).
pub async fn verify(specs: &[Spec], wanted: &Wanted, settings: &Settings) -> Vec<ArtifactOutcome> {
    http::install_crypto_provider();
    let client = http::client(settings.limits(MAX_LISTING));
    let mut out = Vec::with_capacity(specs.len());
    for s in specs {
        let started = Instant::now();
        let mut o = match s {
            Spec::Pypi {
                index_url,
                package,
                script,
            } => pypi::check(&client, settings, wanted, index_url, package, script).await,
            Spec::Npm {
                registry,
                package,
                bin,
            } => npm::check(&client, settings, wanted, registry, package, bin).await,
            Spec::Docker {
                registry,
                image,
                tag,
            } => docker::check(&client, settings, wanted, registry, image, tag).await,
        };
        o.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        out.push(o);
    }
    out
}

/// Builds outcomes of one source.
struct Outcome {
    base: ArtifactOutcome,
}

impl Outcome {
    fn new(source: Source, artifact: String, index: &str, version: &str) -> Outcome {
        Outcome {
            base: ArtifactOutcome {
                source,
                artifact,
                index: hide_credentials(index),
                version: version.to_owned(),
                ok: false,
                problem: None,
                message: String::new(),
                hint: None,
                printed: None,
                available: Vec::new(),
                digest: None,
                duration_ms: 0,
            },
        }
    }

    fn fail(&self, problem: Problem, message: String, hint: impl Into<String>) -> ArtifactOutcome {
        ArtifactOutcome {
            problem: Some(problem),
            message,
            hint: Some(hint.into()),
            ..self.base.clone()
        }
    }

    fn missing(&self, what: &str, available: Vec<String>, hint: &str) -> ArtifactOutcome {
        let has = if available.is_empty() {
            "it has no versions".to_owned()
        } else {
            let shown: Vec<&str> = available
                .iter()
                .rev()
                .take(NAMED_VERSIONS)
                .map(String::as_str)
                .collect();
            let more = available.len().saturating_sub(NAMED_VERSIONS);
            format!(
                "it has {}{}",
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} older")
                } else {
                    String::new()
                }
            )
        };
        let mut o = self.fail(
            Problem::MissingVersion,
            format!("{what} is not on `{}`: {has}", self.base.index),
            hint,
        );
        o.available = available;
        o
    }

    fn passed(&self, message: String, printed: Option<String>) -> ArtifactOutcome {
        ArtifactOutcome {
            ok: true,
            message,
            printed,
            ..self.base.clone()
        }
    }
}

/// `https://user:pw@host/x` → `https://[redacted]@host/x`.
pub fn hide_credentials(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("redacted");
            let _ = u.set_password(None);
            u.to_string().replace("redacted@", "[redacted]@")
        }
        _ => url.to_owned(),
    }
}

fn quote(s: &str) -> String {
    let t = s.trim();
    if t.is_empty() {
        return "nothing".to_owned();
    }
    let one: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > QUOTED {
        format!("`{}…`", one.chars().take(QUOTED).collect::<String>())
    } else {
        format!("`{one}`")
    }
}

/// The last lines of a child's output, for a message.
fn last_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = &lines[lines.len().saturating_sub(n)..];
    quote(&tail.join(" / "))
}

enum Listing {
    /// The body and its `Content-Type` (empty when none was sent).
    Body(Vec<u8>, String),
    NotFound,
}

/// GET `url` for a source's listing; a failure is an `unreachable` outcome.
async fn listing(
    client: &reqwest::Client,
    settings: &Settings,
    url: &str,
    accept: &str,
    o: &Outcome,
    check: &str,
) -> Result<Listing, ArtifactOutcome> {
    let shown = hide_credentials(url);
    let req = client
        .get(url)
        .header(reqwest::header::ACCEPT, accept)
        .build()
        .map_err(|e| {
            o.fail(
                Problem::Unreachable,
                format!("`{shown}` is not a usable URL: {e}"),
                format!("check {check} in `runway.toml`"),
            )
        })?;
    match http::fetch(client, req, settings.limits(MAX_LISTING)).await {
        Ok(r) if (200..300).contains(&r.status) => {
            if r.truncated {
                return Err(o.fail(
                    Problem::Unreachable,
                    format!("`{shown}` sent more than {MAX_LISTING} bytes"),
                    format!("check that {check} points at the index itself"),
                ));
            }
            let content_type = r.header("content-type").unwrap_or("").to_owned();
            Ok(Listing::Body(r.body, content_type))
        }
        Ok(r) if r.status == 404 => Ok(Listing::NotFound),
        Ok(r) if r.status == 401 || r.status == 403 => Err(o.fail(
            Problem::Unreachable,
            format!(
                "`{shown}` answered HTTP {} (it wants credentials{})",
                r.status,
                r.header("www-authenticate")
                    .map(|w| format!(": `{}`", w.split(',').next().unwrap_or(w)))
                    .unwrap_or_default()
            ),
            format!(
                "verify-artifacts reads {check} anonymously, or with credentials in its URL through `${{VAR}}`"
            ),
        )),
        Ok(r) => Err(o.fail(
            Problem::Unreachable,
            format!(
                "`{shown}` answered HTTP {}: {}",
                r.status,
                quote(&http::excerpt(&r.body, 200))
            ),
            format!("check {check} in `runway.toml` and that the index is healthy"),
        )),
        Err(e) => {
            let why = match &e {
                FetchError::Timeout(t) => format!("timed out after {}s", t.as_secs_f64()),
                FetchError::Connect(_) => "could not connect".to_owned(),
                FetchError::Other(m) => m.clone(),
            };
            Err(o.fail(
                Problem::Unreachable,
                format!("cannot reach `{shown}`: {why}"),
                format!(
                    "check {check} in `runway.toml` (host, port, scheme) and that the index is up and reachable from here"
                ),
            ))
        }
    }
}

async fn run_child(
    settings: &Settings,
    argv: &[String],
    cwd: &Path,
    env: &[(String, Secret)],
) -> Result<child::Finished, String> {
    match child::run(Run {
        argv,
        cwd,
        env,
        timeout: settings.timeout,
        max_output: MAX_OUTPUT,
        redactor: &child::redactor_for(env),
    })
    .await
    {
        Ok(f) => Ok(f),
        Err(ChildError::Timeout { what, after }) => Err(format!(
            "{what} did not finish within {}s and was stopped",
            after.as_secs_f64()
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs `program --version` and judges what it printed.
async fn judge_version(
    settings: &Settings,
    wanted: &Wanted,
    program: &Path,
    cwd: &Path,
    env: &[(String, Secret)],
    o: &Outcome,
    label: &str,
) -> ArtifactOutcome {
    let argv = vec![program.display().to_string(), "--version".to_owned()];
    let f = match run_child(settings, &argv, cwd, env).await {
        Ok(f) => f,
        Err(e) => {
            return o.fail(
                Problem::RunFailed,
                format!("`{label} --version` did not run: {e}"),
                "run it by hand in a fresh environment to see why",
            );
        }
    };
    let printed = f.output.trim().to_owned();
    if !f.success {
        let mut r = o.fail(
            Problem::RunFailed,
            format!(
                "`{label} --version` exited with {} and printed {}",
                f.status,
                quote(&printed)
            ),
            "the published artifact does not start: fix it and publish a new version",
        );
        r.printed = Some(printed);
        return r;
    }
    if !wanted.printed_in(&printed) {
        let spellings = if wanted.python != wanted.version {
            format!("`{}` or `{}`", wanted.version, wanted.python)
        } else {
            format!("`{}`", wanted.version)
        };
        let mut r = o.fail(
            Problem::WrongVersion,
            format!(
                "`{label} --version` printed {}, which does not name {spellings}",
                quote(&printed)
            ),
            "the artifact was built from another version: check that the build reads the released version, then publish again",
        );
        r.printed = Some(printed);
        return r;
    }
    o.passed(
        format!("`{label} --version` printed {}", quote(&printed)),
        Some(printed),
    )
}

/// `url` (with its credentials) replaced by its shown form in `text`.
fn hide_in(text: &str, url: &str) -> String {
    let shown = hide_credentials(url);
    if shown == url {
        text.to_owned()
    } else {
        text.replace(url, &shown)
    }
}

/// The programs in `bin`, without those whose names start with one of `skip`.
fn installed_programs(bin: &Path, skip: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(bin)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .filter(|n| !skip.iter().any(|s| n.starts_with(s)) && !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names.truncate(50);
    names
}

#[cfg(test)]
mod tests {
    use runway_config::artifacts::{DockerArtifact, NpmArtifact, PypiArtifact};

    use super::*;

    fn wanted(v: &str, py: &str) -> Wanted {
        Wanted {
            version: v.into(),
            python: py.into(),
        }
    }

    #[test]
    fn the_version_must_be_printed_as_a_word() {
        let w = wanted("1.2.0", "1.2.0");
        assert!(w.printed_in("demo 1.2.0"));
        assert!(w.printed_in("demo v1.2.0\n"));
        assert!(w.printed_in("demo-server, version 1.2.0 (python 3.11)"));
        assert!(!w.printed_in("demo 1.2.0-dev"));
        assert!(!w.printed_in("demo 11.2.0"));
        assert!(!w.printed_in(""));
        let rc = wanted("1.2.0-rc.1", "1.2.0rc1");
        assert!(rc.printed_in("demo 1.2.0rc1"));
        assert!(rc.printed_in("demo 1.2.0-rc.1"));
        assert!(!rc.printed_in("demo 1.2.0"));
    }

    #[tokio::test]
    async fn a_version_run_that_hangs_is_stopped_with_its_whole_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        let script = dir.path().join("demo");
        // The program starts a grandchild and both hang; both must go.
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh
sleep 300 &
echo $! > {pids}
echo $$ >> {pids}
wait
",
                pids = pids.display()
            ),
        )
        .unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let settings = Settings {
            timeout: Duration::from_secs(1),
            ..Settings::from_config(&ArtifactsConfig::default())
        };
        let o = Outcome::new(
            Source::Pypi,
            "demo==1.0.0".into(),
            "http://127.0.0.1:1",
            "1.0.0",
        );
        let started = Instant::now();
        let r = judge_version(
            &settings,
            &wanted("1.0.0", "1.0.0"),
            &script,
            dir.path(),
            &[],
            &o,
            "demo",
        )
        .await;
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(r.problem, Some(Problem::RunFailed), "{r:?}");
        assert!(
            r.message
                .contains("did not finish within 1s and was stopped"),
            "{}",
            r.message
        );
        let text = std::fs::read_to_string(&pids).unwrap();
        for pid in text.split_whitespace() {
            let pid: u32 = pid.parse().unwrap();
            assert!(!child::alive(pid), "process {pid} outlived the timeout");
        }
    }

    #[test]
    fn a_simple_index_page_lists_versions_from_its_file_names() {
        let page = r#"<html><body><h1>Links for demo-cli</h1>
<a href="/packages/demo_cli-1.2.0-py3-none-any.whl#sha256=ab">demo_cli-1.2.0-py3-none-any.whl</a><br>
<a href="/packages/demo-cli-1.2.0.tar.gz#sha256=cd">demo-cli-1.2.0.tar.gz</a><br>
<a href="/packages/demo_cli-1.3.0rc1-py3-none-any.whl">demo_cli-1.3.0rc1-py3-none-any.whl</a>
<a href="/packages/other-9.0.tar.gz">other-9.0.tar.gz</a>
</body></html>"#;
        assert_eq!(
            simple_index_versions(page, "Demo.CLI"),
            ["1.2.0", "1.3.0rc1"]
        );
        assert_eq!(normalize_python_name("Demo__CLI.x"), "demo-cli-x");
    }

    #[test]
    fn the_index_digest_of_the_version_is_the_wheels_and_npm_gives_its_integrity() {
        let a = "a".repeat(64);
        let b = "B".repeat(64);
        let page = format!(
            r#"<a href="/p/demo-cli-1.2.0.tar.gz#sha256={b}">demo-cli-1.2.0.tar.gz</a>
<a href="/p/demo_cli-1.2.0-py3-none-any.whl#sha256={a}">demo_cli-1.2.0-py3-none-any.whl</a>
<a href="/p/demo_cli-1.3.0-py3-none-any.whl#sha256={a}">demo_cli-1.3.0-py3-none-any.whl</a>
<a href="/p/demo_cli-1.4.0-py3-none-any.whl">demo_cli-1.4.0-py3-none-any.whl</a>"#
        );
        let d = pypi::simple_index_digests(&page, "demo-cli", "1.2.0");
        assert_eq!(
            d,
            [
                (
                    "demo_cli-1.2.0-py3-none-any.whl".to_owned(),
                    format!("sha256:{a}")
                ),
                (
                    "demo-cli-1.2.0.tar.gz".to_owned(),
                    format!("sha256:{}", b.to_ascii_lowercase())
                ),
            ]
        );
        assert!(pypi::simple_index_digests(&page, "demo-cli", "1.4.0").is_empty());
        let packument = serde_json::json!({"versions": {
            "1.2.0": {"dist": {"integrity": "sha512-AAAA", "shasum": "ff"}},
            "1.1.0": {"dist": {"shasum": "ee"}},
        }});
        assert_eq!(
            npm::tarball_digest(&packument, "1.2.0").as_deref(),
            Some("sha512-AAAA")
        );
        assert_eq!(
            npm::tarball_digest(&packument, "1.1.0").as_deref(),
            Some("sha1:ee")
        );
        assert_eq!(npm::tarball_digest(&packument, "9.9.9"), None);
    }

    #[test]
    fn credentials_in_an_index_url_are_never_shown() {
        assert_eq!(
            hide_credentials("https://user:s3cret@pypi.example/simple"),
            "https://[redacted]@pypi.example/simple"
        );
        assert_eq!(
            hide_credentials("http://127.0.0.1:8080/simple"),
            "http://127.0.0.1:8080/simple"
        );
        let text = hide_in(
            "GET https://user:s3cret@pypi.example/simple failed",
            "https://user:s3cret@pypi.example/simple",
        );
        assert!(!text.contains("s3cret"), "{text}");
    }

    #[test]
    fn names_default_from_pyproject_and_package_json() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"demo-server\"\nversion = \"1.0.0\"\n[project.scripts]\ndemo-serve = \"demo:main\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"name": "@acme/demo", "version": "1.0.0", "bin": {"demo-js": "cli.js"}}"#,
        )
        .unwrap();
        let cfg = ArtifactsConfig {
            pypi: Some(PypiArtifact::default()),
            npm: Some(NpmArtifact::default()),
            docker: Some(DockerArtifact {
                image: "acme/demo".into(),
                registry: "http://127.0.0.1:5000/".into(),
                tag: Some("v{version}".into()),
            }),
            ..ArtifactsConfig::default()
        };
        let specs = specs(&cfg, dir.path(), "1.0.0").unwrap();
        match &specs[0] {
            Spec::Pypi {
                index_url,
                package,
                script,
            } => {
                assert_eq!(index_url, PYPI_DEFAULT_INDEX);
                assert_eq!(package, "demo-server");
                assert_eq!(script, "demo-serve");
            }
            other => panic!("{other:?}"),
        }
        match &specs[1] {
            Spec::Npm { package, bin, .. } => {
                assert_eq!(package, "@acme/demo");
                assert_eq!(bin, "demo-js");
            }
            other => panic!("{other:?}"),
        }
        match &specs[2] {
            Spec::Docker { registry, tag, .. } => {
                assert_eq!(registry, "http://127.0.0.1:5000");
                assert_eq!(tag, "v1.0.0");
            }
            other => panic!("{other:?}"),
        }

        let empty = tempfile::tempdir().unwrap();
        let e = super::specs(&cfg, empty.path(), "1.0.0").unwrap_err();
        assert_eq!(e.field, "release.artifacts.pypi.package");
        assert!(e.message.contains("pyproject.toml"), "{e}");
    }
}
