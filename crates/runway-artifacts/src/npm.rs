//! npm: the packument lists the version, `npm install` into a fresh prefix
//! and cache, the bin's `--version`.

use std::path::Path;

use runway_config::artifacts::NpmArtifact;

use crate::{
    ArtifactOutcome, Listing, NPM_DEFAULT_REGISTRY, Outcome, Problem, Settings, Source, Spec,
    SpecError, Wanted, check_program, hide_in, installed_programs, interpolate, judge_version,
    last_lines, listing, run_child,
};

pub(crate) fn spec(n: &NpmArtifact, root: &Path) -> Result<Spec, SpecError> {
    let registry = interpolate(
        "release.artifacts.npm.registry",
        n.registry.as_deref().unwrap_or(NPM_DEFAULT_REGISTRY),
    )?;
    let manifest = std::fs::read_to_string(root.join("package.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
    let package = match (
        &n.package,
        manifest.as_ref().and_then(|m| m["name"].as_str()),
    ) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => p.to_owned(),
        _ => {
            return Err(SpecError {
                field: "release.artifacts.npm.package".into(),
                message: format!(
                    "no package name: set it, or give `{}` a `name`",
                    root.join("package.json").display()
                ),
            });
        }
    };
    let unscoped = package.rsplit('/').next().unwrap_or(&package).to_owned();
    let bin = n.bin.clone().unwrap_or_else(|| {
        match manifest.as_ref().map(|m| &m["bin"]) {
            Some(serde_json::Value::Object(o)) => o.keys().next().cloned(),
            _ => None,
        }
        .unwrap_or(unscoped)
    });
    let unscoped_ok = |p: &str| {
        !p.is_empty()
            && !p.starts_with('.')
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '~'))
    };
    let package_ok = match package.strip_prefix('@').map(|s| s.split_once('/')) {
        Some(Some((scope, name))) => unscoped_ok(scope) && unscoped_ok(name),
        Some(None) => false,
        None => unscoped_ok(&package),
    };
    if !package_ok {
        return Err(SpecError {
            field: "release.artifacts.npm.package".into(),
            message: format!("{package:?} is not an npm package name (`name` or `@scope/name`)"),
        });
    }
    check_program("release.artifacts.npm.bin", &bin)?;
    Ok(Spec::Npm {
        registry,
        package,
        bin,
    })
}

/// The tarball digest the registry gives for `version`: its Subresource
/// Integrity string (`sha512-BASE64`), else its `shasum` as `sha1:HEX`.
pub(crate) fn tarball_digest(packument: &serde_json::Value, version: &str) -> Option<String> {
    let dist = packument.get("versions")?.get(version)?.get("dist")?;
    if let Some(i) = dist.get("integrity").and_then(|i| i.as_str()) {
        return Some(i.to_owned());
    }
    dist.get("shasum")
        .and_then(|s| s.as_str())
        .map(|s| format!("sha1:{s}"))
}

pub(crate) async fn check(
    client: &reqwest::Client,
    settings: &Settings,
    wanted: &Wanted,
    registry: &str,
    package: &str,
    bin: &str,
) -> ArtifactOutcome {
    let mut o = Outcome::new(
        Source::Npm,
        format!("{package}@{}", wanted.version),
        registry,
        &wanted.version,
    );
    let check = "`release.artifacts.npm.registry`";
    // A scoped name keeps its `@` and encodes its `/` in the packument URL.
    let url = format!("{registry}/{}", package.replace('/', "%2f"));
    let body = match listing(
        client,
        settings,
        &url,
        "application/vnd.npm.install-v1+json, application/json",
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
                "check `release.artifacts.npm.package` and that the release pipeline published it",
            );
        }
        Err(e) => return e,
    };
    let packument = serde_json::from_slice::<serde_json::Value>(&body).ok();
    let versions: Vec<String> = packument
        .as_ref()
        .and_then(|v| v.get("versions").and_then(|v| v.as_object()))
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    if !versions.contains(&wanted.version) {
        return o.missing(
            &format!("`{package}` {}", wanted.version),
            versions,
            "check that the release pipeline published this version (and that `--version` names it)",
        );
    }
    o.base.digest = packument
        .as_ref()
        .and_then(|p| tarball_digest(p, &wanted.version));
    let dir = match settings.tempdir("runway-npm-") {
        Ok(d) => d,
        Err(e) => return o.fail(Problem::InstallFailed, e, "check the temporary directory"),
    };
    let prefix = dir.path().join("prefix");
    let cache = dir.path().join("cache");
    if let Err(e) = std::fs::create_dir_all(&prefix) {
        return o.fail(
            Problem::InstallFailed,
            format!("cannot create `{}`: {e}", prefix.display()),
            "check the temporary directory",
        );
    }
    let mut argv = vec![
        settings.npm.clone(),
        "install".into(),
        "--prefix".into(),
        prefix.display().to_string(),
        "--cache".into(),
        cache.display().to_string(),
        "--registry".into(),
        registry.to_owned(),
        "--no-audit".into(),
        "--no-fund".into(),
        "--no-update-notifier".into(),
        "--no-package-lock".into(),
    ];
    // A scope of the user's `.npmrc` may point elsewhere: pin it to this registry too.
    if let Some((scope, _)) = package.split_once('/')
        && scope.starts_with('@')
    {
        argv.push(format!("--{scope}:registry={registry}"));
    }
    argv.push(format!("{package}@{}", wanted.version));
    match run_child(settings, &argv, &prefix, &[]).await {
        Ok(f) if f.success => {}
        Ok(f) => {
            return o.fail(
                Problem::InstallFailed,
                format!(
                    "`npm install {}` exited with {}: {}",
                    o.base.artifact,
                    f.status,
                    last_lines(&hide_in(&f.output, registry), 3)
                ),
                "the version is listed but does not install into a fresh prefix: check its tarball and its dependencies on that registry",
            );
        }
        Err(e) => {
            return o.fail(
                Problem::InstallFailed,
                hide_in(&format!("`npm install {}`: {e}", o.base.artifact), registry),
                "install Node.js and npm, or raise `release.artifacts.timeout`",
            );
        }
    }
    let bin_dir = prefix.join("node_modules/.bin");
    let program = bin_dir.join(bin);
    if !program.exists() {
        let bins = installed_programs(&bin_dir, &[]);
        return o.fail(
            Problem::RunFailed,
            format!(
                "`{}` installed no executable `{bin}`; it installed {}",
                o.base.artifact,
                if bins.is_empty() {
                    "none".to_owned()
                } else {
                    bins.iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            "set `release.artifacts.npm.bin`, or add it to `bin` in `package.json`",
        );
    }
    judge_version(settings, wanted, &program, &prefix, &[], &o, bin).await
}
