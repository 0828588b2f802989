//! PyPI: the PEP 503 page lists the version, `pip install --isolated
//! --index-url` into a fresh venv, the console script's `--version`.

use std::path::Path;

use runway_config::artifacts::PypiArtifact;

use crate::{
    ArtifactOutcome, Listing, Outcome, PYPI_DEFAULT_INDEX, Problem, Settings, Source, Spec,
    SpecError, Wanted, check_name, check_program, hide_in, installed_programs, interpolate,
    judge_version, last_lines, listing, run_child,
};

pub(crate) fn spec(p: &PypiArtifact, root: &Path) -> Result<Spec, SpecError> {
    let index_url = interpolate(
        "release.artifacts.pypi.index_url",
        p.index_url.as_deref().unwrap_or(PYPI_DEFAULT_INDEX),
    )?;
    let pyproject = std::fs::read_to_string(root.join("pyproject.toml"))
        .ok()
        .and_then(|t| toml::from_str::<toml::Table>(&t).ok());
    let project = pyproject
        .as_ref()
        .and_then(|t| t.get("project"))
        .and_then(|p| p.as_table());
    let package = match (&p.package, project.and_then(|p| p.get("name"))) {
        (Some(n), _) => n.clone(),
        (None, Some(toml::Value::String(n))) => n.clone(),
        _ => {
            return Err(SpecError {
                field: "release.artifacts.pypi.package".into(),
                message: format!(
                    "no package name: set it, or give `{}` a `[project].name`",
                    root.join("pyproject.toml").display()
                ),
            });
        }
    };
    let script = p.script.clone().unwrap_or_else(|| {
        project
            .and_then(|p| p.get("scripts"))
            .and_then(|s| s.as_table())
            .and_then(|s| s.keys().next().cloned())
            .unwrap_or_else(|| package.clone())
    });
    check_name("release.artifacts.pypi.package", &package, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
    })?;
    check_program("release.artifacts.pypi.script", &script)?;
    Ok(Spec::Pypi {
        index_url,
        package,
        script,
    })
}

/// PEP 503 normalisation: runs of `-_.` become `-`, lower case.
pub fn normalize_python_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if "-_.".contains(c) {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The versions a PEP 503 project page lists, from its file names
/// (`name-1.2.0-py3-none-any.whl`, `name-1.2.0.tar.gz`), in page order, once each.
pub fn simple_index_versions(page: &str, package: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for chunk in page.split("</a>") {
        let Some(text) = chunk.rsplit('>').next() else {
            continue;
        };
        if let Some(v) = file_version(text.trim(), package)
            && !out.iter().any(|o| o == v)
        {
            out.push(v.to_owned());
        }
    }
    out
}

/// The `sha256` digests a simple index page gives for `package`'s files of
/// version `version` (PEP 503: a `#sha256=HEX` fragment on each link), as
/// `(file, "sha256:HEX")`, wheels first: what `pip install` prefers.
pub fn simple_index_digests(page: &str, package: &str, version: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for chunk in page.split("</a>") {
        let Some((tag, text)) = chunk.rsplit_once('>') else {
            continue;
        };
        let file = text.trim();
        if file_version(file, package) != Some(version) {
            continue;
        }
        let Some(hex) = tag.split("#sha256=").nth(1).map(|h| {
            h.chars()
                .take_while(char::is_ascii_hexdigit)
                .collect::<String>()
                .to_ascii_lowercase()
        }) else {
            continue;
        };
        if hex.len() == 64 && !out.iter().any(|(f, _)| f == file) {
            out.push((file.to_owned(), format!("sha256:{hex}")));
        }
    }
    out.sort_by_key(|(f, _)| !f.ends_with(".whl"));
    out
}

/// The version of a distribution file of `package` (`name-1.2.0-py3-none-any.whl`,
/// `name-1.2.0.tar.gz`), or `None` for another package's file or another kind.
pub(crate) fn file_version<'a>(file: &'a str, package: &str) -> Option<&'a str> {
    let want = normalize_python_name(package);
    if let Some(stem) = file.strip_suffix(".whl") {
        let mut parts = stem.split('-');
        match (parts.next(), parts.next()) {
            (Some(n), Some(v)) if normalize_python_name(n) == want => Some(v),
            _ => None,
        }
    } else {
        [".tar.gz", ".zip", ".tar.bz2", ".tgz"]
            .iter()
            .find_map(|ext| file.strip_suffix(ext))
            .and_then(|stem| stem.rsplit_once('-'))
            .filter(|(n, _)| normalize_python_name(n) == want)
            .map(|(_, v)| v)
    }
}

pub(crate) async fn check(
    client: &reqwest::Client,
    settings: &Settings,
    wanted: &Wanted,
    index_url: &str,
    package: &str,
    script: &str,
) -> ArtifactOutcome {
    let mut o = Outcome::new(
        Source::Pypi,
        format!("{package}=={}", wanted.python),
        index_url,
        &wanted.python,
    );
    let check = "`release.artifacts.pypi.index_url`";
    let page = format!("{index_url}/{}/", normalize_python_name(package));
    let body = match listing(
        client,
        settings,
        &page,
        "text/html, application/vnd.pypi.simple.v1+html",
        &o,
        check,
    )
    .await
    {
        Ok(Listing::Body(b, _)) => b,
        Ok(Listing::NotFound) => {
            return o.fail(
                Problem::MissingVersion,
                format!("`{package}` is not on `{}` at all", o.base.index),
                "check `release.artifacts.pypi.package` and that the release pipeline uploaded it",
            );
        }
        Err(e) => return e,
    };
    let page_text = String::from_utf8_lossy(&body);
    let versions = simple_index_versions(&page_text, package);
    if !versions
        .iter()
        .any(|v| *v == wanted.python || *v == wanted.version)
    {
        return o.missing(
            &format!("`{package}` {}", wanted.python),
            versions,
            "check that the release pipeline uploaded this version (and that `--version` names it)",
        );
    }
    // The file pip prefers (a wheel), as the index hashes it: the release's provenance.
    let digests = [&wanted.python, &wanted.version]
        .iter()
        .map(|v| simple_index_digests(&page_text, package, v))
        .find(|d| !d.is_empty())
        .unwrap_or_default();
    o.base.digest = digests.into_iter().next().map(|(_, d)| d);
    let dir = match settings.tempdir("runway-pypi-") {
        Ok(d) => d,
        Err(e) => return o.fail(Problem::InstallFailed, e, "check the temporary directory"),
    };
    let venv = dir.path().join("venv");
    let argv = vec![
        settings.python.clone(),
        "-m".into(),
        "venv".into(),
        venv.display().to_string(),
    ];
    match run_child(settings, &argv, dir.path(), &[]).await {
        Ok(f) if f.success => {}
        Ok(f) => {
            return o.fail(
                Problem::InstallFailed,
                format!(
                    "`{} -m venv` exited with {}: {}",
                    settings.python,
                    f.status,
                    last_lines(&f.output, 3)
                ),
                "install Python's venv module (Debian: `python3-venv`)",
            );
        }
        Err(e) => {
            return o.fail(
                Problem::InstallFailed,
                format!("cannot create a virtual environment: {e}"),
                "install Python 3 with its venv module (Debian: `python3-venv`)",
            );
        }
    }
    // `--isolated` ignores pip's configuration files and `PIP_*` variables,
    // so no other index or local wheel directory can satisfy the install.
    let argv = vec![
        venv.join("bin/python").display().to_string(),
        "-m".into(),
        "pip".into(),
        "install".into(),
        "--isolated".into(),
        "--disable-pip-version-check".into(),
        "--no-input".into(),
        "--no-cache-dir".into(),
        "--index-url".into(),
        index_url.to_owned(),
        format!("{package}=={}", wanted.python),
    ];
    match run_child(settings, &argv, dir.path(), &[]).await {
        Ok(f) if f.success => {}
        Ok(f) => {
            return o.fail(
                Problem::InstallFailed,
                format!(
                    "`pip install {}` exited with {}: {}",
                    o.base.artifact,
                    f.status,
                    last_lines(&hide_in(&f.output, index_url), 3)
                ),
                "the version is listed but does not install into a fresh environment: check its wheels, its Python requirement and its dependencies on that index",
            );
        }
        Err(e) => {
            return o.fail(
                Problem::InstallFailed,
                hide_in(
                    &format!("`pip install {}`: {e}", o.base.artifact),
                    index_url,
                ),
                "raise `release.artifacts.timeout`, or check that the index serves the files",
            );
        }
    }
    let program = venv.join("bin").join(script);
    if !program.exists() {
        let scripts = installed_programs(&venv.join("bin"), &["python", "pip", "activate"]);
        return o.fail(
            Problem::RunFailed,
            format!(
                "`{}` installed no console script `{script}`; it installed {}",
                o.base.artifact,
                if scripts.is_empty() {
                    "none".to_owned()
                } else {
                    scripts
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            "set `release.artifacts.pypi.script`, or add the script to `[project.scripts]`",
        );
    }
    judge_version(settings, wanted, &program, dir.path(), &[], &o, script).await
}
