//! Docker: registry v2 manifest `HEAD` (tags list when missing), `docker
//! pull`, `docker run --rm --network host IMAGE --version`, then `docker rm
//! --force` of its named container.

use std::time::Duration;

use runway_config::artifacts::DockerArtifact;
use runway_verify::http::{self, FetchError};

use crate::{
    ArtifactOutcome, Listing, Outcome, Problem, Settings, Source, Spec, SpecError, Wanted,
    hide_credentials, interpolate, last_lines, listing, quote, run_child,
};

pub(crate) fn spec(d: &DockerArtifact, version: &str) -> Result<Spec, SpecError> {
    let registry = interpolate("release.artifacts.docker.registry", &d.registry)?;
    let tag = d
        .tag
        .as_deref()
        .unwrap_or("{version}")
        .replace("{version}", version);
    Ok(Spec::Docker {
        registry,
        image: d.image.trim().to_owned(),
        tag,
    })
}

/// `HOST[:PORT]` of a registry URL, as an image reference spells it.
fn registry_host(registry: &str) -> Option<String> {
    let u = url::Url::parse(registry).ok()?;
    let host = u.host_str()?;
    Some(match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    })
}

const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

pub(crate) async fn check(
    client: &reqwest::Client,
    settings: &Settings,
    wanted: &Wanted,
    registry: &str,
    image: &str,
    tag: &str,
) -> ArtifactOutcome {
    let host = registry_host(registry).unwrap_or_else(|| registry.to_owned());
    let reference = format!("{host}/{image}:{tag}");
    let mut o = Outcome::new(Source::Docker, reference.clone(), registry, &wanted.version);
    let check = "`release.artifacts.docker.registry`";
    let manifest = format!("{registry}/v2/{image}/manifests/{tag}");
    let shown = hide_credentials(&manifest);
    let req = match client
        .head(&manifest)
        .header(reqwest::header::ACCEPT, MANIFEST_TYPES)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return o.fail(
                Problem::Unreachable,
                format!("`{shown}` is not a usable URL: {e}"),
                format!("check {check} and `release.artifacts.docker.image`"),
            );
        }
    };
    match http::fetch(client, req, settings.limits(64 * 1024)).await {
        Ok(r) if (200..300).contains(&r.status) => {
            o.base.digest = r.header("docker-content-digest").map(str::to_owned);
        }
        Ok(r) if r.status == 404 => {
            let tags_url = format!("{registry}/v2/{image}/tags/list");
            return match listing(client, settings, &tags_url, "application/json", &o, check)
                .await
            {
                Ok(Listing::Body(b, _)) => {
                    let tags: Vec<String> = serde_json::from_slice::<serde_json::Value>(&b)
                        .ok()
                        .and_then(|v| v.get("tags").and_then(|t| t.as_array()).cloned())
                        .map(|a| {
                            a.iter()
                                .filter_map(|t| t.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    o.missing(
                        &format!("the tag `{tag}` of `{image}`"),
                        tags,
                        "check that the release pipeline pushed this tag (`release.artifacts.docker.tag` says how a version is tagged)",
                    )
                }
                Ok(Listing::NotFound) => o.fail(
                    Problem::MissingVersion,
                    format!(
                        "`{image}` is not in the registry `{}` at all",
                        o.base.index
                    ),
                    "check `release.artifacts.docker.image` and that the release pipeline pushed it",
                ),
                Err(e) => e,
            };
        }
        Ok(r) => {
            return o.fail(
                Problem::Unreachable,
                format!(
                    "`HEAD {shown}` answered HTTP {}{}",
                    r.status,
                    if r.status == 401 {
                        " (the registry wants credentials; verify-artifacts reads it anonymously)"
                    } else {
                        ""
                    }
                ),
                format!("check {check} and that the registry speaks the v2 API"),
            );
        }
        Err(e) => {
            let why = match &e {
                FetchError::Timeout(t) => format!("timed out after {}s", t.as_secs_f64()),
                FetchError::Connect(_) => "could not connect".to_owned(),
                FetchError::Other(m) => m.clone(),
            };
            return o.fail(
                Problem::Unreachable,
                format!("cannot reach `{}`: {why}", o.base.index),
                format!(
                    "check {check} in `runway.toml` (host, port, scheme) and that the registry is up and reachable from here"
                ),
            );
        }
    }
    let dir = match settings.tempdir("runway-docker-") {
        Ok(d) => d,
        Err(e) => return o.fail(Problem::InstallFailed, e, "check the temporary directory"),
    };
    // The registry's image, not a local one of the same name: pulled first,
    // on its own, so only the program's own output is judged.
    let pull = vec![
        settings.docker.clone(),
        "pull".into(),
        "--quiet".into(),
        reference.clone(),
    ];
    match run_child(settings, &pull, dir.path(), &[]).await {
        Ok(f) if f.success => {}
        Ok(f) => {
            return o.fail(
                Problem::InstallFailed,
                format!(
                    "`docker pull {reference}` exited with {}: {}",
                    f.status,
                    last_lines(&f.output, 3)
                ),
                "check that the Docker engine is up (`DOCKER_HOST`) and can pull from the registry (a plain-HTTP registry other than 127.0.0.1 must be in the engine's `insecure-registries`)",
            );
        }
        Err(e) => {
            return o.fail(
                Problem::InstallFailed,
                format!("`docker pull {reference}`: {e}"),
                "install the Docker CLI and check `DOCKER_HOST`, or raise `release.artifacts.timeout`",
            );
        }
    }
    let name = format!(
        "runway-artifacts-{}-{}",
        std::process::id(),
        dir.path()
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("x")
            .trim_start_matches("runway-docker-")
            .to_ascii_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "")
    );
    let argv = vec![
        settings.docker.clone(),
        "run".into(),
        "--rm".into(),
        "--pull".into(),
        "never".into(),
        "--network".into(),
        "host".into(),
        "--name".into(),
        name.clone(),
        reference.clone(),
        "--version".into(),
    ];
    let result = run_child(settings, &argv, dir.path(), &[]).await;
    // A killed `docker run` leaves its container behind: remove it (bounded).
    let rm = vec![
        settings.docker.clone(),
        "rm".into(),
        "--force".into(),
        name.clone(),
    ];
    let cleanup = Settings {
        timeout: Duration::from_secs(30),
        ..settings.clone()
    };
    let _ = run_child(&cleanup, &rm, dir.path(), &[]).await;
    let f = match result {
        Ok(f) => f,
        Err(e) => {
            return o.fail(
                Problem::RunFailed,
                format!("`docker run {reference} --version` did not finish: {e}"),
                "check that the Docker engine is up (`DOCKER_HOST`) and that the image's entrypoint exits after `--version`",
            );
        }
    };
    let printed = f.output.trim().to_owned();
    if !f.success {
        let mut r = o.fail(
            Problem::RunFailed,
            format!(
                "`docker run {reference} --version` exited with {}: {}",
                f.status,
                quote(&printed)
            ),
            "the image does not start: fix its entrypoint and push a new version",
        );
        r.printed = Some(printed);
        return r;
    }
    if !wanted.printed_in(&printed) {
        let mut r = o.fail(
            Problem::WrongVersion,
            format!(
                "`docker run {reference} --version` printed {}, which does not name `{}`",
                quote(&printed),
                wanted.version
            ),
            "the image was built from another version: check that the build reads the released version, then push again",
        );
        r.printed = Some(printed);
        return r;
    }
    o.passed(
        format!(
            "`{reference}` is in the registry{} and `--version` printed {}",
            o.base
                .digest
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default(),
            quote(&printed)
        ),
        Some(printed),
    )
}

/// What `HEAD {registry}/v2/{image}/manifests/{tag}` says the manifest digest
/// of `reference` (`host[:port]/image:tag`, as verify-artifacts records it)
/// is now: `Ok(None)` when the registry has no such tag. For the deploy
/// gate that compares it with the digest verified for the release.
pub async fn registry_digest(
    registry: &str,
    reference: &str,
    settings: &Settings,
) -> Result<Option<String>, String> {
    let path = reference
        .split_once('/')
        .map(|(_, rest)| rest)
        .ok_or_else(|| format!("`{reference}` names no registry host"))?;
    let (image, tag) = match path.rsplit_once(':') {
        Some((i, t)) if !t.contains('/') => (i, t),
        _ => (path, "latest"),
    };
    http::install_crypto_provider();
    let client = http::client(settings.limits(64 * 1024));
    let manifest = format!(
        "{}/v2/{image}/manifests/{tag}",
        registry.trim_end_matches('/')
    );
    let shown = hide_credentials(&manifest);
    let req = client
        .head(&manifest)
        .header(reqwest::header::ACCEPT, MANIFEST_TYPES)
        .build()
        .map_err(|e| format!("`{shown}` is not a usable URL: {e}"))?;
    match http::fetch(&client, req, settings.limits(64 * 1024)).await {
        Ok(r) if (200..300).contains(&r.status) => {
            Ok(r.header("docker-content-digest").map(str::to_owned))
        }
        Ok(r) if r.status == 404 => Ok(None),
        Ok(r) => Err(format!("`HEAD {shown}` answered HTTP {}", r.status)),
        Err(e) => Err(format!("`HEAD {shown}`: {e}")),
    }
}
