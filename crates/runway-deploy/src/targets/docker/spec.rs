//! What a new container is made from: the old one's configuration carried
//! over, image references, tags and bounded log text. No engine calls.

use super::*;

pub(super) fn image_ref(reference: &str, image: &ImageInspect) -> ImageRef {
    ImageRef {
        reference: reference.to_owned(),
        id: image.id.clone().unwrap_or_default(),
        repo_digests: image.repo_digests.clone().unwrap_or_default(),
    }
}

/// `sha256:abc` and `abc` (or a unique prefix of it) name the same image.
pub(super) fn same_image(a: &str, b: &str) -> bool {
    let a = a.strip_prefix("sha256:").unwrap_or(a);
    let b = b.strip_prefix("sha256:").unwrap_or(b);
    !a.is_empty() && !b.is_empty() && (a.starts_with(b) || b.starts_with(a))
}

/// `registry:5000/repo:tag` → (`registry:5000/repo`, `tag`). A digest
/// reference cannot be a tag's target.
pub(super) fn split_tag(reference: &str) -> Result<(&str, &str), DockerError> {
    let bad = |reason: &str| DockerError::BadReference {
        reference: reference.to_owned(),
        reason: reason.to_owned(),
    };
    if reference.contains('@') {
        return Err(bad("a digest names an image, not a tag"));
    }
    let slash = reference.rfind('/').map(|i| i + 1).unwrap_or(0);
    match reference[slash..].rfind(':') {
        Some(i) => {
            let (repo, tag) = (&reference[..slash + i], &reference[slash + i + 1..]);
            if repo.is_empty() || tag.is_empty() {
                Err(bad("the repository and the tag must both be named"))
            } else {
                Ok((repo, tag))
            }
        }
        None => Err(bad("it has no `:tag`")),
    }
}

/// The digest in a push's final status line (`latest: digest: sha256:... size: 528`).
pub(super) fn pushed_digest(status: &str) -> Option<String> {
    let rest = status.split("digest: ").nth(1)?;
    let digest = rest.split_whitespace().next()?;
    digest.starts_with("sha256:").then(|| digest.to_owned())
}

/// The end of `bytes`, at most `max` of them, starting at a line when it was cut.
pub(super) fn tail_bytes(bytes: &[u8], max: usize) -> String {
    if bytes.len() <= max {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut start = bytes.len() - max;
    if let Some(nl) = bytes[start..].iter().position(|&b| b == b'\n') {
        start += nl + 1;
    }
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

/// What was set on the container rather than inherited from its image: the
/// container's value when it differs from the image's, else `None` so the new
/// image's own default applies.
pub(super) fn override_of<T: PartialEq + Clone>(
    container: &Option<T>,
    image: Option<&T>,
) -> Option<T> {
    match (container, image) {
        (Some(c), Some(i)) if c == i => None,
        (c, _) => c.clone(),
    }
}

/// The create request for a container from `new_image` configured as `old`
/// was: the operator's env, command, labels, mounts and host settings carry
/// over; what `old_image` supplied is left to the new image. Anonymous volumes
/// of the old container are mounted by name so their data carries over too.
pub fn carry_over(
    old: &ContainerInspectResponse,
    old_image: Option<&ImageInspect>,
    new_image: &ImageRef,
    version: &str,
) -> ContainerCreateBody {
    let cfg = old.config.clone().unwrap_or_default();
    let img = old_image.and_then(|i| i.config.clone()).unwrap_or_default();

    // Env: drop entries the old image set (exactly), keep the rest.
    let image_env: Vec<String> = img.env.clone().unwrap_or_default();
    let env: Vec<String> = cfg
        .env
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| !image_env.contains(e))
        .collect();

    // Labels: drop the old image's own, keep the operator's, stamp the version.
    let image_labels: HashMap<String, String> = img.labels.clone().unwrap_or_default();
    let mut labels: HashMap<String, String> = cfg
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, v)| image_labels.get(k) != Some(v))
        .collect();
    labels.insert(VERSION_LABEL.to_owned(), version.to_owned());
    labels.insert(IMAGE_LABEL.to_owned(), new_image.reference.clone());

    let mut host_config = old.host_config.clone().unwrap_or_default();
    // Volumes the image declared are anonymous: name them so the data follows.
    let mut binds = host_config.binds.clone().unwrap_or_default();
    let covered = |dest: &str, binds: &[String]| {
        binds.iter().any(|b| b.split(':').nth(1) == Some(dest))
            || host_config
                .mounts
                .as_ref()
                .is_some_and(|ms| ms.iter().any(|m| m.target.as_deref() == Some(dest)))
    };
    for m in old.mounts.clone().unwrap_or_default() {
        let is_volume = m.typ.as_deref() == Some("volume");
        if let (true, Some(name), Some(dest)) =
            (is_volume, m.name.as_deref(), m.destination.as_deref())
            && !covered(dest, &binds)
        {
            let mode = if m.rw == Some(false) { ":ro" } else { "" };
            binds.push(format!("{name}:{dest}{mode}"));
        }
    }
    if !binds.is_empty() {
        host_config.binds = Some(binds);
    }

    ContainerCreateBody {
        // The id, not the tag: the tag may move between this call and the next.
        image: Some(new_image.id.clone()),
        user: override_of(&cfg.user, img.user.as_ref()),
        env: Some(env),
        cmd: override_of(&cfg.cmd, img.cmd.as_ref()),
        entrypoint: override_of(&cfg.entrypoint, img.entrypoint.as_ref()),
        working_dir: override_of(&cfg.working_dir, img.working_dir.as_ref()),
        healthcheck: override_of(&cfg.healthcheck, img.healthcheck.as_ref()),
        stop_signal: override_of(&cfg.stop_signal, img.stop_signal.as_ref()),
        exposed_ports: override_of(&cfg.exposed_ports, img.exposed_ports.as_ref()),
        labels: Some(labels),
        tty: cfg.tty,
        open_stdin: cfg.open_stdin,
        stdin_once: cfg.stdin_once,
        attach_stdin: cfg.attach_stdin,
        attach_stdout: cfg.attach_stdout,
        attach_stderr: cfg.attach_stderr,
        stop_timeout: cfg.stop_timeout,
        host_config: Some(host_config),
        ..ContainerCreateBody::default()
    }
}

/// A first container for `image`: host network, restarted unless stopped.
pub(super) fn fresh(image: &ImageRef, version: &str) -> ContainerCreateBody {
    ContainerCreateBody {
        image: Some(image.id.clone()),
        labels: Some(HashMap::from([
            (VERSION_LABEL.to_owned(), version.to_owned()),
            (IMAGE_LABEL.to_owned(), image.reference.clone()),
        ])),
        host_config: Some(HostConfig {
            network_mode: Some("host".into()),
            restart_policy: Some(bollard::models::RestartPolicy {
                name: Some(bollard::models::RestartPolicyNameEnum::UNLESS_STOPPED),
                maximum_retry_count: None,
            }),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    }
}

/// Sets `env` on top of what the body carries (same name: replaced).
pub(super) fn set_env(body: &mut ContainerCreateBody, env: ContainerEnv<'_>) {
    // The record goes on the container whatever it holds (an empty one
    // says "deployed with no settings", which differs from a container
    // deployed with some).
    if let Ok(json) = serde_json::to_string(env.record) {
        body.labels
            .get_or_insert_with(HashMap::new)
            .insert(ENV_LABEL.to_owned(), json);
    }
    if env.vars.is_empty() {
        return;
    }
    let mut all = body.env.take().unwrap_or_default();
    for (k, v) in env.vars {
        let prefix = format!("{k}=");
        all.retain(|e| !e.starts_with(&prefix) && e != k);
        all.push(format!("{k}={}", v.expose()));
    }
    body.env = Some(all);
}

/// `` container `mcp` (1.0.0) ``: a container and the version it runs, for the journal.
pub(super) fn label(name: &str, version: Option<&str>) -> String {
    format!(
        "container `{name}` ({})",
        version.unwrap_or("version unknown")
    )
}

/// `sha256:0123456789ab` for people.
pub(super) fn short(id: &str) -> &str {
    let end = id.find(':').map(|i| i + 13).unwrap_or(12).min(id.len());
    &id[..end]
}
